import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stage } from '../../scripts/bundle.js';
import { bicepParams, propertyExpression, scanBicep, statements, unbalanced } from '../helpers/bicep.js';

/**
 * Keeps infra/ (Bicep) and the code in step. The Bicep compiler is not available here, so this
 * reads the .bicep text and the code at run time: a setting, container, queue or Azure SDK added
 * to the code fails this test until the template provides it (or, for a setting, until it is
 * allowlisted below with the reason it may stay unset in Azure).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const filesUnder = (dir: string, ext: string): string[] =>
  existsSync(join(ROOT, dir))
    ? readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith(ext))
        .map((f) => join(dir, f))
    : [];

/**
 * Settings the code reads that Bicep leaves unset on purpose, each with the reason. A name
 * ending in `__` stands for every setting under that prefix.
 */
const LEFT_TO_DEFAULTS: Readonly<Record<string, string>> = {
  // Certificate profiles and CA behaviour: the code's defaults are the documented defaults;
  // operators tune them in the portal or by adding them to main.bicep.
  AppConfig__StaticValidation__ValidityPeriodDays: 'default: AppConfig__ValidityPeriodDays',
  AppConfig__StaticValidation__DefaultKeyUsage: 'default: DigitalSignature, KeyEncipherment',
  AppConfig__StaticValidation__DefaultEkus: 'default: client authentication',
  AppConfig__StaticValidation__AllowRenewals: 'default: true',
  AppConfig__StaticValidation__EnableCertificateStorage: 'default: true',
  AppConfig__ValidityPeriodDays: 'default: 730',
  AppConfig__ValidityClockSkewMinutes: 'default: 1440 (Autopilot clocks)',
  AppConfig__SCEPResponseEncryptionAlgorithm: "default: the client's cipher",
  AppConfig__MaxRequestBytes: 'default: 256 KiB',
  AppConfig__IntuneValidation__ValidityPeriodDays: 'default: AppConfig__ValidityPeriodDays',
  AppConfig__IntuneValidation__DefaultKeyUsage: 'default: DigitalSignature, KeyEncipherment',
  AppConfig__IntuneValidation__DefaultEkus: 'default: client authentication',
  AppConfig__DbCSRValidation__DefaultKeyUsage: 'default: DigitalSignature, KeyEncipherment',
  AppConfig__DbCSRValidation__DefaultEkus: 'default: server and client authentication',
  AppConfig__IntuneValidation__CopyRequestedExtensions: 'default: true',
  AppConfig__IntuneValidation__EnableCertificateStorage: 'default: true',
  AppConfig__IntuneValidation__AllowRenewals: 'default: true',
  AppConfig__IntuneValidation__WaitForSuccessNotificationResponse: 'default: false (queue, decision 5)',
  AppConfig__IntuneValidation__RequestTimeoutSeconds: 'default: 30',
  AppConfig__IntuneValidation__NotificationMaxAttempts: 'default: 8',
  AppConfig__IntuneValidation__NotificationRedriveAfterMinutes: 'default: 60',
  AppConfig__IntuneValidation__ProviderNameAndVersion: 'default: azure-scep-ca/<version>',
  AppConfig__DbCSRValidation__ValidityPeriodDays: 'default: AppConfig__ValidityPeriodDays',
  AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes: 'default: DbCSR, Renewal',
  AppConfig__DbCSRValidation__RequiredRole: 'default: CSR.Request.Db',
  AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName:
    'default: scep-ca (bootstrap CLI uses the same)',
  AppConfig__KeyVaultConfig__RootCertificateConfig__Subject: 'read by the bootstrap CLI, not by the app',
  AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize: 'read by the bootstrap CLI, not by the app',
  AppConfig__KeyVaultConfig__RootCertificateConfig__DaysExpiresIn:
    'read by the bootstrap CLI, not by the app',
  AppConfig__KeyVaultConfig__RootCertificateConfig__ChainPem:
    'subordinate CA only: value printed by `npm run ca -- import`',
  AppConfig__CosmosDb__TimeoutSeconds: 'default: 10',
  AppConfig__CosmosDb__MaxThrottleRetries: 'default: 5',
  AppConfig__CosmosDb__CertificatesContainerName:
    'default equals the container Bicep creates (checked below)',
  AppConfig__CosmosDb__TransactionsContainerName:
    'default equals the container Bicep creates (checked below)',
  // Public-cloud endpoints of Microsoft Graph / Intune; sovereign clouds override them.
  AppConfig__IntuneValidation__GraphBaseUrl: 'default: public cloud',
  AppConfig__IntuneValidation__GraphApiVersion: 'default: 1.0',
  AppConfig__IntuneValidation__IntuneResourceUrl: 'default: public cloud',
  AppConfig__IntuneValidation__IntuneAppId: 'default: the Intune service principal (public cloud)',
  AppConfig__IntuneValidation__ApiVersion: 'default: 2018-02-20',
  AppConfig__DbCSRValidation__JwksUrl: 'default: derived from the authority and tenant',
  AppConfig__Management__JwksUrl: 'default: derived from the authority and tenant',
  AppConfig__Management__Audiences: 'default: the app registration of AppConfig__AuthConfig__*',
  // Alternatives to what Bicep sets.
  AppConfig__IntuneValidation__NotificationQueueConnection: 'default: AzureWebJobsStorage, which Bicep sets',
  AzureWebJobsStorage__queueServiceUri: 'Bicep sets AzureWebJobsStorage__accountName instead',
  AppConfig__AuthConfig__ApplicationCertificatePem:
    'alternative to the secret; Bicep offers secret or managed identity',
  AppConfig__AuthConfig__FederatedTokenAudience: 'default: api://AzureADTokenExchange (public cloud)',
  // Local runs only (embedded default, emulators).
  AppConfig__DataDir: 'local key/data folder; Azure uses Key Vault and Cosmos DB',
  AppConfig__LocalCA__: 'local CA of the embedded default; Azure uses Key Vault',
  AppConfig__CosmosDb__Key: 'local emulator key; Azure uses Entra ID (local auth is disabled)',
  AppConfig__CosmosDb__CreateIfNotExists: 'local only; Bicep creates the database and containers',
  // Set by the platform.
  IDENTITY_ENDPOINT: 'set by App Service / Functions when the app has a managed identity',
  WEBSITE_SITE_NAME: 'set by App Service / Functions: the app knows it runs in Azure',
};

// Role definition ids and data actions of the built-in roles the template may use
// (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
const KV = 'Microsoft.KeyVault/vaults';
const QUEUE_MSG = 'Microsoft.Storage/storageAccounts/queueServices/queues/messages';
const BUILT_IN_ROLES: Readonly<
  Record<string, { readonly id: string; readonly dataActions: readonly string[] }>
> = {
  'Key Vault Crypto User': {
    id: '12338af0-0e69-4776-bea7-57ae8d297424',
    dataActions: ['read', 'update/action', 'backup/action', 'encrypt/action', 'decrypt/action', 'wrap/action']
      .concat(['unwrap/action', 'sign/action', 'verify/action'])
      .map((a) => `${KV}/keys/${a}`),
  },
  'Key Vault Reader': {
    id: '21090545-7ca7-4776-b22c-e363652d74d2',
    dataActions: [`${KV}/*/read`, `${KV}/secrets/readMetadata/action`],
  },
  'Key Vault Secrets User': {
    id: '4633458b-17de-408a-b874-0445c86b69e6',
    dataActions: [`${KV}/secrets/getSecret/action`, `${KV}/secrets/readMetadata/action`],
  },
  'Key Vault Crypto Officer': {
    id: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
    dataActions: [`${KV}/keys/*`, `${KV}/keyrotationpolicies/*`],
  },
  'Key Vault Certificates Officer': {
    id: 'a4417e6f-fecd-4de8-b567-7b0420556985',
    dataActions: [`${KV}/certificatecas/*`, `${KV}/certificates/*`, `${KV}/certificatecontacts/write`],
  },
  'Storage Blob Data Owner': {
    id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
  },
  'Storage Queue Data Contributor': {
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
    dataActions: ['delete', 'read', 'write', 'process/action', 'add/action'].map((a) => `${QUEUE_MSG}/${a}`),
  },
  'Storage Queue Data Message Processor': {
    id: '8a0f0c08-91a1-4084-bc3d-661d67233fed',
    dataActions: [`${QUEUE_MSG}/read`, `${QUEUE_MSG}/process/action`],
  },
  'Storage Queue Data Message Sender': {
    id: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
    dataActions: [`${QUEUE_MSG}/add/action`],
  },
  'Monitoring Metrics Publisher': {
    id: '3913510d-42f4-4e42-8a64-420c390055eb',
    dataActions: ['Microsoft.Insights/Metrics/Write', 'Microsoft.Insights/Telemetry/Write'],
  },
  // A Cosmos DB SQL role definition (sqlRoleDefinitions), not an Azure RBAC role.
  'Cosmos DB Built-in Data Contributor': {
    id: '00000000-0000-0000-0000-000000000002',
    dataActions: ['Microsoft.DocumentDB/databaseAccounts/readMetadata'].concat(
      ['containers/*', 'containers/items/*'].map(
        (a) => `Microsoft.DocumentDB/databaseAccounts/sqlDatabases/${a}`,
      ),
    ),
  },
};

const INFRA_FILES = filesUnder('infra', '.bicep');
const bicep = (f: string): string => scanBicep(read(f));
const MAIN = bicep('infra/main.bicep');
const FUNCTION_APP = bicep('infra/modules/functionapp.bicep');
const RBAC = bicep('infra/modules/rbac.bicep');
const ALL_INFRA = INFRA_FILES.map(bicep).join('\n');

const SETTING_KEY =
  /^(AppConfig__\w+|AZURE_[A-Z0-9_]+|AzureWebJobs\w+|APPLICATIONINSIGHTS_\w+|FUNCTIONS_\w+|WEBSITE_\w+|SCM_\w+)$/;
/** Keys of object literals in main.bicep and functionapp.bicep that are app setting names. */
const BICEP_SETTINGS = new Set(
  [MAIN, FUNCTION_APP].flatMap((c) =>
    [...c.matchAll(/(?:^|[{,])\s*'?([A-Za-z_]\w*)'?\s*:/gm)]
      .map((m) => m[1]!)
      .filter((k) => SETTING_KEY.test(k)),
  ),
);

/** Set in Bicep itself, as a prefix (`X__…`), or (for a connection name) through `X__…` settings. */
const setInBicep = (name: string): boolean =>
  BICEP_SETTINGS.has(name) ||
  [...BICEP_SETTINGS].some((s) => s.startsWith(name.endsWith('__') ? name : `${name}__`));
const allowlisted = (name: string): boolean =>
  name in LEFT_TO_DEFAULTS ||
  Object.keys(LEFT_TO_DEFAULTS).some((p) => p.endsWith('__') && name.startsWith(p));

/** main.bicep string vars without interpolation, to resolve `${name}` in the queue list. */
const MAIN_VARS = new Map(
  [...MAIN.matchAll(/^var\s+(\w+)\s*=\s*'([^'$]*)'\s*$/gm)].map((m) => [m[1]!, m[2]!]),
);
const BICEP_QUEUES = (/^var\s+queueNames\s*=\s*\[([^\]]*)\]/m.exec(MAIN)?.[1] ?? '')
  .split(/[,\n]/)
  .map((s) => s.trim())
  .filter((s) => s !== '')
  .map((s) =>
    s.startsWith("'")
      ? s.slice(1, -1).replace(/\$\{(\w+)\}/g, (_, v: string) => MAIN_VARS.get(v) ?? `\${${v}}`)
      : (MAIN_VARS.get(s) ?? s),
  );

interface CosmosLayout {
  readonly databaseName: string;
  readonly containers: readonly {
    readonly name: string;
    readonly partitionKeyPaths: readonly string[];
    readonly indexingPolicy?: unknown;
    readonly uniqueKeyPaths?: readonly string[];
  }[];
}
const COSMOS_LAYOUT = JSON.parse(read('infra/cosmos-layout.json')) as CosmosLayout;

// ---------------------------------------------------------------------------------------------
// Code helpers
// ---------------------------------------------------------------------------------------------

/** Application code that runs in Azure: lib/ and functions/ (scripts/ are local tools). */
const APP_CODE = [...filesUnder('lib', '.ts'), ...filesUnder('functions', '.ts')].map((f) => ({
  f,
  text: read(f),
}));
const usesPackage = (pkg: string): boolean => APP_CODE.some(({ text }) => text.includes(`'${pkg}'`));

/** TypeScript without block comments and whole-line comments (URLs in strings stay intact). */
const withoutComments = (ts: string): string =>
  ts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/** Setting names in the config sections (zod schema keys, defaults such as 'AzureWebJobsStorage'). */
function namesInConfigSections(): Set<string> {
  const names = new Set<string>();
  for (const f of filesUnder('lib/config', '.ts')) {
    for (const m of withoutComments(read(f)).matchAll(
      /\b(AppConfig__\w+|AZURE_[A-Z0-9_]+|AzureWebJobsStorage\w*)\b/g,
    ))
      names.add(m[1]!);
  }
  return names;
}

/** Environment reads in the app code: `env.NAME` / `env['NAME']` with an upper-case or `__` name. */
function envReadsInCode(): Set<string> {
  const names = new Set<string>();
  for (const { text } of APP_CODE) {
    for (const m of withoutComments(text).matchAll(/\benv(?:\.([A-Za-z_]\w*)|\[\s*'([^']+)'\s*\])/g)) {
      const name = (m[1] ?? m[2])!;
      if (/^[A-Z][A-Z0-9_]*$|__/.test(name)) names.add(name);
    }
  }
  return names;
}

/** Every name loadSettings reads from an (empty) environment, dynamic names included. */
async function namesReadByLoadSettings(): Promise<Set<string>> {
  const { loadSettings } = await import('../../lib/config/index.js');
  const names = new Set<string>();
  const env = new Proxy<Record<string, string | undefined>>(
    {},
    {
      get: (_t, p) => {
        if (typeof p === 'string') names.add(p);
        return undefined;
      },
    },
  );
  try {
    loadSettings(env);
  } catch {
    // An empty environment is invalid (e.g. no static challenge); only the names matter here.
  }
  return names;
}

async function settingsTheCodeReads(): Promise<string[]> {
  const all = new Set([
    ...namesInConfigSections(),
    ...envReadsInCode(),
    ...(await namesReadByLoadSettings()),
  ]);
  return [...all].sort();
}

// ---------------------------------------------------------------------------------------------
// Roles: which data actions the app identity is granted, per value of useCustomCryptoRole
// ---------------------------------------------------------------------------------------------

const RBAC_STATEMENTS = statements(RBAC);
const ROLE_VARS = new Map(
  [
    ...read('infra/modules/rbac.bicep').matchAll(/^var\s+(\w+RoleId)\s*=\s*'([^']*)'\s*(?:\/\/\s*(.*))?$/gm),
  ].map((m) => [m[1]!, { guid: m[2]!, comment: (m[3] ?? '').trim() }]),
);

function dataActionsOf(expression: string, customRole: boolean, seen = new Set<string>()): string[] {
  const branch = /useCustomCryptoRole\s*\?\s*([\s\S]+?)\s*:\s*([\s\S]+)$/.exec(expression);
  const expr = branch === null ? expression : customRole ? branch[1]! : branch[2]!;
  const out: string[] = [];
  for (const id of new Set(expr.match(/\b[A-Za-z_]\w*\b/g) ?? [])) {
    if (seen.has(id)) continue;
    seen.add(id);
    const roleVar = ROLE_VARS.get(id);
    const builtIn = Object.values(BUILT_IN_ROLES).find((r) => r.id === roleVar?.guid);
    if (builtIn !== undefined) out.push(...builtIn.dataActions);
    // A custom role, named by its symbol or by the var holding its `name`.
    const customRoles = RBAC_STATEMENTS.filter(
      (s) =>
        s.type.startsWith('Microsoft.Authorization/roleDefinitions') &&
        (s.name === id || propertyExpression(s.body, 'name') === id),
    );
    for (const role of customRoles) {
      const actions = /dataActions\s*:\s*\[([^\]]*)\]/.exec(role.body)?.[1] ?? '';
      out.push(...[...actions.matchAll(/'([^']+)'/g)].map((m) => m[1]!));
    }
    const v = RBAC_STATEMENTS.find((s) => s.kind === 'var' && s.name === id);
    if (v !== undefined) out.push(...dataActionsOf(v.body.replace(/^var\s+\w+\s*=/, ''), customRole, seen));
  }
  return out;
}

/** Data actions the app identity (rbac.bicep `principalId`) holds, for one scenario. */
function grantedToApp(customRole: boolean): string[] {
  return RBAC_STATEMENTS.filter((s) => /Authorization\/roleAssignments|sqlRoleAssignments/.test(s.type))
    .filter((s) => /\bprincipalId\s*:\s*principalId\b/.test(s.body))
    .filter((s) => {
      const cond = /=\s*if\s*\((.*)\)\s*\{/.exec(s.body)?.[1]?.trim();
      if (cond === 'useCustomCryptoRole') return customRole;
      if (cond === '!useCustomCryptoRole') return !customRole;
      return true;
    })
    .flatMap((s) => dataActionsOf(propertyExpression(s.body, 'roleDefinitionId') ?? '', customRole));
}

const grants = (granted: readonly string[], action: string): boolean =>
  granted.some((g) =>
    new RegExp(
      `^${g
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('[^]*')}$`,
      'i',
    ).test(action),
  );

const SERVICES: readonly { service: string; used: () => boolean; needs: readonly string[] }[] = [
  {
    service: 'Key Vault keys: CA signatures and SCEP envelope decryption',
    used: () => usesPackage('@azure/keyvault-keys'),
    needs: ['read', 'sign/action', 'decrypt/action', 'unwrap/action'].map((a) => `${KV}/keys/${a}`),
  },
  {
    service: 'Key Vault certificates: the CA certificate',
    used: () => usesPackage('@azure/keyvault-certificates'),
    needs: [`${KV}/certificates/read`],
  },
  {
    service: 'Key Vault secrets: Key Vault references in app settings',
    used: () => MAIN.includes('@Microsoft.KeyVault('),
    needs: [`${KV}/secrets/getSecret/action`],
  },
  {
    service: 'Cosmos DB: certificate records',
    used: () => usesPackage('@azure/cosmos'),
    needs: ['create', 'read', 'replace', 'upsert', 'delete'].map(
      (a) => `Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/${a}`,
    ),
  },
  {
    service: 'Storage queues: Intune notifications (send, trigger, poison)',
    used: () =>
      usesPackage('@azure/storage-queue') || APP_CODE.some(({ text }) => text.includes('app.storageQueue(')),
    needs: ['add/action', 'read', 'process/action', 'delete'].map((a) => `${QUEUE_MSG}/${a}`),
  },
  {
    service: 'Blob storage: Flex deployment container and host storage',
    used: () =>
      FUNCTION_APP.includes("'UserAssignedIdentity'") ||
      BICEP_SETTINGS.has('AzureWebJobsStorage__credential'),
    needs: ['read', 'write', 'delete'].map(
      (a) => `Microsoft.Storage/storageAccounts/blobServices/containers/blobs/${a}`,
    ),
  },
  {
    service: 'Application Insights with Entra ID authentication',
    used: () => BICEP_SETTINGS.has('APPLICATIONINSIGHTS_AUTHENTICATION_STRING'),
    needs: ['Microsoft.Insights/Telemetry/Write'],
  },
];

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('infra and code: settings', () => {
  it('sets in Bicep, or allowlists with a reason, every setting the code reads', async () => {
    const missing = (await settingsTheCodeReads()).filter((n) => !setInBicep(n) && !allowlisted(n));
    expect(missing, 'add these to infra/main.bicep (or to LEFT_TO_DEFAULTS with the reason)').toEqual([]);
  });

  it('reads in code every AppConfig__ / AZURE_ setting Bicep sets (no typo, no leftover)', async () => {
    const read = new Set(await settingsTheCodeReads());
    const unread = [...BICEP_SETTINGS].filter((s) => /^(AppConfig__|AZURE_)/.test(s) && !read.has(s));
    expect(unread).toEqual([]);
  });

  it('keeps the allowlist honest: each entry is still read by the code and not set in Bicep', async () => {
    const read = await settingsTheCodeReads();
    const stale = Object.keys(LEFT_TO_DEFAULTS).filter(
      (a) => !read.some((n) => n === a || (a.endsWith('__') && n.startsWith(a))) || BICEP_SETTINGS.has(a),
    );
    expect(stale).toEqual([]);
  });

  it('resolves Key Vault references and Azure SDK credentials with the app identity', () => {
    expect(FUNCTION_APP).toMatch(/keyVaultReferenceIdentity\s*:\s*identityId\b/);
    expect(MAIN).toMatch(/AZURE_CLIENT_ID\s*:\s*identity\.outputs\.clientId\b/);
    expect(FUNCTION_APP).toMatch(/AzureWebJobsStorage__clientId\s*:\s*identityClientId\b/);
    expect(MAIN).toMatch(/identityId\s*:\s*identity\.outputs\.id\b/);
  });

  it('sets none of the app settings Flex Consumption rejects or ignores', () => {
    const deprecated = ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE']
      .concat([
        'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
        'WEBSITE_CONTENTSHARE',
        'WEBSITE_NODE_DEFAULT_VERSION',
      ])
      .concat(['SCM_DO_BUILD_DURING_DEPLOYMENT', 'ENABLE_ORYX_BUILD', 'AzureWebJobsStorage']);
    expect(deprecated.filter((d) => BICEP_SETTINGS.has(d))).toEqual([]);
  });
});

describe('infra and code: Cosmos DB containers and queues', () => {
  it('creates the database and every container lib/store/cosmos.ts uses, with its partition key and indexing policy', async () => {
    const store: Record<string, unknown> = await import('../../lib/store/cosmos.js');
    expect(store.DEFAULT_DATABASE_NAME).toBe(COSMOS_LAYOUT.databaseName);
    const prefixes = Object.keys(store).flatMap((k) => /^DEFAULT_(\w+)_CONTAINER$/.exec(k)?.[1] ?? []);
    expect(prefixes.length).toBeGreaterThan(0);
    for (const p of prefixes) {
      const name = store[`DEFAULT_${p}_CONTAINER`];
      const c = COSMOS_LAYOUT.containers.find((x) => x.name === name);
      expect(c, `container ${String(name)} in infra/cosmos-layout.json`).toBeDefined();
      const pk = store[`${p}_PARTITION_KEY`] as { paths?: string[] } | undefined;
      const pkPaths = pk?.paths ?? [store[`${p}_PARTITION_KEY_PATH`]];
      expect(c?.partitionKeyPaths, `${String(name)}: partition key`).toEqual(pkPaths);
      expect(c?.indexingPolicy, `${String(name)}: indexing policy`).toEqual(store[`${p}_INDEXING_POLICY`]);
      const unique = store[`${p}_UNIQUE_KEY_POLICY`] as { uniqueKeys: { paths: string[] }[] } | undefined;
      expect(c?.uniqueKeyPaths, `${String(name)}: unique keys`).toEqual(unique?.uniqueKeys[0]?.paths);
    }
    expect(COSMOS_LAYOUT.containers.map((c) => c.name).sort(), 'no container the store does not use').toEqual(
      prefixes.map((p) => store[`DEFAULT_${p}_CONTAINER`]).sort(),
    );
  });

  it('creates the database and containers the Cosmos settings default to', async () => {
    const { cosmosSection } = await import('../../lib/config/cosmos.js');
    const r = cosmosSection({});
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.value.databaseName).toBe(COSMOS_LAYOUT.databaseName);
    const names = COSMOS_LAYOUT.containers.map((c) => c.name);
    expect(names).toContain(r.value.certificatesContainer);
    expect(names).toContain(r.value.transactionsContainer);
  });

  it('creates the Intune notification queue and its poison queue under the names the app uses', async () => {
    const { intuneSection } = await import('../../lib/config/intune.js');
    const r = intuneSection({});
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(BICEP_QUEUES).toContain(r.value.queue.name);
    expect(BICEP_QUEUES).toContain(r.value.queue.poisonName);
    const setTo = /AppConfig__IntuneValidation__NotificationQueueName\s*:\s*(\w+)/.exec(MAIN)?.[1] ?? '';
    expect(BICEP_QUEUES).toContain(MAIN_VARS.get(setTo));
    expect(BICEP_QUEUES).toContain(`${MAIN_VARS.get(setTo) ?? ''}-poison`);
  });

  it('creates every queue a queue trigger listens on, and sets its connection', () => {
    for (const { f, text } of APP_CODE.filter((c) => c.f.startsWith('functions'))) {
      for (const call of text.split('app.storageQueue(').slice(1)) {
        const queue = /queueName\s*:\s*'([^']+)'/.exec(call)?.[1] ?? '';
        const setting = /^%(\w+)%$/.exec(queue)?.[1];
        if (setting !== undefined) expect(setInBicep(setting), `${f}: ${queue}`).toBe(true);
        else expect(BICEP_QUEUES, f).toContain(queue);
        const connection = /connection\s*:\s*'([^']+)'/.exec(call)?.[1] ?? 'AzureWebJobsStorage';
        expect(setInBicep(connection), `${f}: connection ${connection}`).toBe(true);
      }
    }
  });
});

describe('infra and code: roles of the app identity', () => {
  it.each(SERVICES.flatMap((s) => [true, false].map((custom) => ({ ...s, custom }))))(
    '$service (custom crypto role: $custom)',
    ({ used, needs, custom }) => {
      if (!used()) return;
      const granted = grantedToApp(custom);
      expect(needs.filter((a) => !grants(granted, a))).toEqual([]);
    },
  );

  it('assigns the roles to the identity the Function App runs as', () => {
    expect(MAIN).toMatch(/principalId\s*:\s*identity\.outputs\.principalId\b/);
    expect(FUNCTION_APP).toMatch(/userAssignedIdentities\s*:\s*\{\s*'\$\{identityId\}'/);
  });

  it('names every role by a well-formed GUID that matches the built-in role in its comment', () => {
    expect(ROLE_VARS.size).toBeGreaterThan(0);
    for (const [name, { guid, comment }] of ROLE_VARS) {
      expect(guid, name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(BUILT_IN_ROLES[comment]?.id, `${name}: comment "${comment}" names a known built-in role`).toBe(
        guid,
      );
    }
  });
});

describe('Bicep static checks', () => {
  it.each(INFRA_FILES)('%s: braces, brackets and parentheses pair up', (f) => {
    expect(unbalanced(scanBicep(read(f), true))).toBeUndefined();
  });

  it.each(INFRA_FILES)('%s: every module path exists', (f) => {
    for (const m of bicep(f).matchAll(/^module\s+\w+\s+'([^']+)'/gm)) {
      if (!/^(br|ts)[:/]/.test(m[1]!)) expect(existsSync(join(ROOT, dirname(f), m[1]!)), m[1]).toBe(true);
    }
  });

  it.each(INFRA_FILES)('%s: every parameter is used', (f) => {
    const c = bicep(f);
    for (const { name } of bicepParams(c)) {
      const uses = [...c.matchAll(new RegExp(`\\b${name}\\b`, 'g'))].filter((m) => {
        const before = c.slice(0, m.index);
        return !/param\s+$/.test(before) && !/(^|[{,])\s*$/.test(before.slice(-40).replace(/.*\n/s, '\n'));
      });
      expect(uses.length, `${f}: param ${name}`).toBeGreaterThan(0);
    }
  });

  it('main.parameters.json holds no secret and names only parameters of main.bicep', () => {
    const params = bicepParams(MAIN);
    const file = JSON.parse(read('infra/main.parameters.json')) as {
      parameters: Record<string, { value?: unknown }>;
    };
    for (const [name, { value }] of Object.entries(file.parameters)) {
      const p = params.find((x) => x.name === name);
      expect(p, `${name} is a parameter of main.bicep`).toBeDefined();
      const ref = /^\$\{([A-Z0-9_]+)(?::-(.*))?\}$/.exec(String(value));
      expect(ref, `${name}: an azd \${VARIABLE} reference, not a value`).not.toBeNull();
      const fallback = ref?.[2];
      if (fallback !== undefined) {
        expect(p?.decorators, `${name}: a secure parameter has no value in the file`).not.toMatch(
          /@secure\(\)/,
        );
        expect(p?.defaultValue, `${name}: the same default in main.bicep`).toBe(`'${fallback}'`);
      } else if (p?.defaultValue !== undefined && /^'.+'$/.test(p.defaultValue)) {
        // azd passes an unset variable as '' and '' replaces a non-empty string default.
        expect.fail(`${name}: write \${VARIABLE:-default} so an unset variable keeps ${p.defaultValue}`);
      }
    }
  });

  it('main.parameters.json or azd metadata supplies every parameter without a default', () => {
    const file = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, unknown> };
    const unsupplied = bicepParams(MAIN).filter(
      (p) =>
        p.defaultValue === undefined &&
        !(p.name in file.parameters) &&
        !/type\s*:\s*'generate'/.test(p.decorators),
    );
    expect(unsupplied.map((p) => p.name)).toEqual([]);
  });

  it('uses no account keys: local auth is off on Cosmos DB, Storage and Application Insights', () => {
    expect(ALL_INFRA).not.toMatch(/\b(listKeys|listConnectionStrings|listAccountSas)\s*\(|AccountKey=/);
    expect(bicep('infra/modules/cosmos.bicep')).toMatch(/disableLocalAuth\s*:\s*true/);
    expect(bicep('infra/modules/storage.bicep')).toMatch(/allowSharedKeyAccess\s*:\s*false/);
    expect(bicep('infra/modules/monitoring.bicep')).toMatch(/DisableLocalAuth\s*:\s*true/);
  });

  it('Function App: Flex Consumption, Node 22, HTTPS only, client certificate optional (never Required)', () => {
    expect(FUNCTION_APP).toMatch(/tier\s*:\s*'FlexConsumption'/);
    expect(FUNCTION_APP).toMatch(/runtime\s*:\s*\{\s*name\s*:\s*'node'\s*version\s*:\s*'22'\s*\}/);
    expect(FUNCTION_APP).toMatch(/httpsOnly\s*:\s*true/);
    expect(FUNCTION_APP).toMatch(/clientCertMode\s*:\s*'OptionalInteractiveUser'/);
    expect(ALL_INFRA).not.toMatch(/clientCertMode\s*:\s*'Required'/);
  });

  it('Key Vault: RBAC authorization, soft delete, purge protection, premium only for RSA-HSM', () => {
    const kv = bicep('infra/modules/keyvault.bicep');
    expect(kv).toMatch(/enableRbacAuthorization\s*:\s*true/);
    expect(kv).toMatch(/enableSoftDelete\s*:\s*true/);
    expect(kv).toMatch(/enablePurgeProtection\s*:\s*true/);
    expect(kv).toMatch(/keyType\s*==\s*'RSA-HSM'\s*\?\s*'premium'\s*:\s*'standard'/);
  });

  it('ok/ and fail/ cases of the checker itself', () => {
    expect(unbalanced(scanBicep("var a = { b: '}' } // }", true))).toBeUndefined();
    expect(unbalanced(scanBicep('var a = { b: [1, 2 }', true))).toMatch(/unexpected "}"/);
    expect(unbalanced(scanBicep('var a = {\n', true))).toMatch(/never closed/);
    expect(scanBicep("var a = 'x // y' // note")).toBe("var a = 'x // y'        ");
    expect(
      bicepParams('@secure()\n@metadata({\n  a: 1\n})\nparam s string\nparam t int = 1').map(
        (p) => p.defaultValue,
      ),
    ).toEqual([undefined, '1']);
  });
});

describe('deploy package (azure.yaml + scripts/bundle.ts)', () => {
  it('deploys the folder the bundle script stages, after building it', () => {
    const yaml = read('azure.yaml');
    expect(yaml).toMatch(/^\s+host:\s*function\s*$/m);
    expect(yaml).toMatch(/^\s+dist:\s*dist\/deploy\s*$/m);
    expect(yaml).toMatch(/run:\s*npm run build && node dist\/scripts\/bundle\.js/);
    expect(FUNCTION_APP).toMatch(/'azd-service-name'\s*:\s*'api'/);
    expect(yaml).toMatch(/^\s{2}api:\s*$/m);
  });

  it('refuses to stage a tree without functions/ (the bundle itself is tested in deploy-bundle.test.ts)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'scep-stage-'));
    try {
      await expect(stage(root)).rejects.toThrow(/functions/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
