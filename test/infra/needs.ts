import { type Deployment, type Files, render } from '../helpers/bicep-eval.js';
import { appSettings } from './checks.js';
import { APP_CODE, usesPackage } from './files.js';
import type { Need, Target } from './roles.js';

/**
 * What the app identity and the bootstrap principal must be able to do in one expanded
 * deployment, on which resources: derived from the code (which Azure SDKs it calls) and from
 * the deployment itself (which secrets its app settings reference, which queues it creates).
 * Each operation lists alternatives of data actions, as the service documents them.
 */

const KV = 'Microsoft.KeyVault/vaults';
const QUEUE_MSG = 'Microsoft.Storage/storageAccounts/queueServices/queues/messages';
const ITEMS = 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items';
const BLOBS = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs';
const one = (action: string): string[][] => [[action]];

export function needsOf(files: Files): (d: Deployment) => Need[] {
  return (d) => {
    const settings = appSettings(d, files);
    const vault: Target = { type: KV };
    const secrets = Object.values(settings)
      .map(render)
      .flatMap((v) => /@Microsoft\.KeyVault\(.*SecretName=([^;)]+)/.exec(v)?.[1] ?? []);
    const queues = d.scope.lookup('queueNames') as string[];
    const lookup = (name: string): unknown => d.scope.lookup(name);
    const needs: Need[] = [
      {
        service: 'Key Vault keys: CA and RA signatures, SCEP envelope decryption',
        principal: 'app',
        targets: usesPackage('@azure/keyvault-keys') ? [vault] : [],
        operations: {
          'read a key': one(`${KV}/keys/read`),
          sign: one(`${KV}/keys/sign/action`),
          'decrypt an envelope': [[`${KV}/keys/decrypt/action`], [`${KV}/keys/unwrap/action`]],
          ...(lookup('appCreatesKeys') === true
            ? { 'create an RA key': one(`${KV}/keys/create/action`) }
            : {}),
        },
      },
      {
        service: 'Key Vault certificates: the CA certificate',
        principal: 'app',
        targets: usesPackage('@azure/keyvault-certificates') ? [vault] : [],
        operations: { 'read the CA certificate': one(`${KV}/certificates/read`) },
      },
      {
        service: 'Key Vault references in app settings',
        principal: 'app',
        targets: secrets.map((name) => ({ type: `${KV}/secrets`, name })),
        operations: { 'get the secret': one(`${KV}/secrets/getSecret/action`) },
      },
      {
        service: 'Cosmos DB: certificate records, endpoints, audit',
        principal: 'app',
        targets: usesPackage('@azure/cosmos')
          ? [{ type: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases' }]
          : [],
        operations: Object.fromEntries(
          ['create', 'read', 'replace', 'upsert', 'delete'].map((a) => [`${a} items`, one(`${ITEMS}/${a}`)]),
        ),
      },
      {
        // https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory
        service: 'Storage queues: Intune notifications (send, trigger, poison)',
        principal: 'app',
        targets:
          usesPackage('@azure/storage-queue') ||
          APP_CODE.some(({ text }) => text.includes('app.storageQueue('))
            ? queues.map((name) => ({ type: 'Microsoft.Storage/storageAccounts/queueServices/queues', name }))
            : [],
        operations: {
          'put a message': [[`${QUEUE_MSG}/add/action`], [`${QUEUE_MSG}/write`]],
          'get messages': [[`${QUEUE_MSG}/process/action`], [`${QUEUE_MSG}/delete`, `${QUEUE_MSG}/read`]],
          'peek messages': one(`${QUEUE_MSG}/read`),
        },
      },
      {
        service: 'Blob storage: host storage (AzureWebJobsStorage) and the Flex deployment package',
        principal: 'app',
        targets: [{ type: 'Microsoft.Storage/storageAccounts' }],
        operations: Object.fromEntries(
          ['read', 'write', 'delete'].map((a) => [`${a} blobs`, one(`${BLOBS}/${a}`)]),
        ),
      },
      {
        service: 'Application Insights with Entra ID authentication',
        principal: 'app',
        targets:
          'APPLICATIONINSIGHTS_AUTHENTICATION_STRING' in settings
            ? [{ type: 'Microsoft.Insights/components' }]
            : [],
        operations: { 'send telemetry': one('Microsoft.Insights/Telemetry/Write') },
      },
      {
        service: 'CA bootstrap (npm run ca -- init / csr / import), reading the static challenge',
        principal: 'bootstrap',
        targets: lookup('bootstrapPrincipalId') === '' ? [] : [vault],
        operations: {
          'create the CA certificate and key': one(`${KV}/certificates/create/action`),
          'read the CA certificate': one(`${KV}/certificates/read`),
          'sign the root or CSR': one(`${KV}/keys/sign/action`),
          'read the key': one(`${KV}/keys/read`),
          'read the static challenge': one(`${KV}/secrets/getSecret/action`),
        },
      },
    ];
    return needs;
  };
}
