import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scanBicep } from '../helpers/bicep.js';

/**
 * Keeps infra/ (Bicep) and the code in step. The Bicep compiler is not available here, so this
 * reads the .bicep text and the code at run time: a setting, container or queue added to the
 * code fails this test until the template provides it (or, for a setting, until it is
 * allowlisted below with the reason it may stay unset in Azure). Roles for the Azure services
 * the code calls: test/infra/roles.test.ts.
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
  AppConfig__Console__Scope:
    'default: api://<AppConfig__Console__ClientId>/.default (the console app registration exposes the API; docs/console.md)',
  AppConfig__StaticValidation__ValidityPeriodDays: 'default: AppConfig__ValidityPeriodDays',
  AppConfig__StaticValidation__DefaultKeyUsage: 'default: DigitalSignature, KeyEncipherment',
  AppConfig__StaticValidation__DefaultEkus: 'default: client authentication',
  AppConfig__StaticValidation__AllowRenewals: 'default: true',
  AppConfig__StaticValidation__RevokeSupersededOnRenewal: 'default: false (renewed certificates stay valid)',
  AppConfig__ConcurrentSCEPRequestLimit: 'default: 50 PKIOperations in flight per endpoint (SCEPman default)',
  AppConfig__RequestBudgetSeconds: 'default: 25 s per request, every Key Vault call included',
  AppConfig__StaticValidation__EnableCertificateStorage: 'default: true',
  AppConfig__ValidityPeriodDays: 'default: 730',
  AppConfig__ValidityClockSkewMinutes: 'default: 1440 (Autopilot clocks)',
  AppConfig__SCEPResponseEncryptionAlgorithm: "default: the client's cipher",
  AppConfig__MaxRequestBytes: 'default: 256 KiB',
  AppConfig__EndpointCacheSeconds: 'default: 30 (the longest a change may take to apply)',
  AppConfig__StaticValidation__RaEnabled: 'default: false (the CA answers; RA mode is opt-in)',
  AppConfig__IntuneValidation__RaEnabled: 'default: false (the CA answers; RA mode is opt-in)',
  AppConfig__RA__ValidityDays: 'default: 365',
  AppConfig__RA__RenewBeforeDays: 'default: 30',
  AppConfig__RA__KeyType: 'default: RSA (RSA-HSM needs a Premium vault)',
  AppConfig__IntuneValidation__ValidityPeriodDays: 'default: AppConfig__ValidityPeriodDays',
  AppConfig__IntuneValidation__DefaultKeyUsage: 'default: DigitalSignature, KeyEncipherment',
  AppConfig__IntuneValidation__DefaultEkus: 'default: client authentication',
  AppConfig__DbCSRValidation__DefaultKeyUsage: 'default: DigitalSignature, KeyEncipherment',
  AppConfig__DbCSRValidation__DefaultEkus: 'default: server and client authentication',
  AppConfig__IntuneValidation__CopyRequestedExtensions: 'default: true',
  AppConfig__IntuneValidation__EnableCertificateStorage: 'default: true',
  AppConfig__IntuneValidation__AllowRenewals: 'default: true',
  AppConfig__IntuneValidation__RevokeSupersededOnRenewal: 'default: false (renewed certificates stay valid)',
  AppConfig__IntuneValidation__WaitForSuccessNotificationResponse: 'default: false (queue, decision 5)',
  AppConfig__IntuneValidation__RequestTimeoutSeconds: 'default: 30',
  AppConfig__IntuneValidation__NotificationMaxAttempts: 'default: 8',
  AppConfig__IntuneValidation__NotificationRedriveAfterMinutes: 'default: 60',
  AppConfig__IntuneValidation__ProviderNameAndVersion: 'default: azure-scep-ca/<version>',
  AppConfig__DbCSRValidation__ValidityPeriodDays: 'default: AppConfig__ValidityPeriodDays',
  AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes: 'default: DbCSR, Renewal',
  AppConfig__DbCSRValidation__RequiredRole: 'default: CSR.Request.Db',
  AppConfig__DbCSRValidation__RevokeSupersededOnRenewal: 'default: false (renewed certificates stay valid)',
  AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName:
    'default: scep-ca (bootstrap CLI uses the same)',
  AppConfig__KeyVaultConfig__RootCertificateConfig__Subject: 'read by the bootstrap CLI, not by the app',
  AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize: 'read by the bootstrap CLI, not by the app',
  AppConfig__KeyVaultConfig__RootCertificateConfig__DaysExpiresIn:
    'read by the bootstrap CLI, not by the app',
  AppConfig__KeyVaultConfig__RootCertificateConfig__ChainPem:
    'subordinate CA only: value printed by `npm run ca -- import`',
  AppConfig__KeyVaultConfig__RootCertificateConfig__NextChainPem:
    'next CA signed by an external parent only: value printed by `npm run ca -- next-import`',
  AppConfig__CosmosDb__TimeoutSeconds: 'default: 10',
  AppConfig__CosmosDb__MaxThrottleRetries: 'default: 5',
  AppConfig__CosmosDb__CertificatesContainerName:
    'default equals the container Bicep creates (checked below)',
  AppConfig__CosmosDb__TransactionsContainerName:
    'default equals the container Bicep creates (checked below)',
  AppConfig__CosmosDb__StateContainerName: 'default equals the container Bicep creates (checked below)',
  AppConfig__Revocation__CrlValidityDays: 'default: 7',
  AppConfig__Revocation__OcspMaxAgeSeconds: 'default: 600 (SCEPman)',
  AppConfig__Revocation__ResponderValidityHours: 'default: 48',
  AppConfig__IntuneValidation__RevocationEnabled: 'default: false (opt-in, needs the Intune app permission)',
  AppConfig__IntuneValidation__RevocationBatchSize: 'default: 100',
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
  AppConfig__LocalStore: 'store without Cosmos DB (local only); Azure requires Cosmos DB',
  AppConfig__LocalCA__: 'local CA of the embedded default; Azure uses Key Vault',
  AppConfig__CosmosDb__Key: 'local emulator key; Azure uses Entra ID (local auth is disabled)',
  AppConfig__CosmosDb__CreateIfNotExists: 'local only; Bicep creates the database and containers',
  AppConfig__CosmosDb__AuditContainerName: "Bicep creates the container under its default name, 'audit'",
  // Set by the platform.
  IDENTITY_ENDPOINT: 'set by App Service / Functions when the app has a managed identity',
  WEBSITE_SITE_NAME: 'set by App Service / Functions: the app knows it runs in Azure',
};

/**
 * Settings Bicep sets for features whose code is not in lib/ yet, each with the reason. Once the
 * code reads one, the entry is stale and the test below says to remove it.
 */
const AHEAD_OF_CODE: Readonly<Record<string, string>> = {};

const bicep = (f: string): string => scanBicep(read(f));
const MAIN = bicep('infra/main.bicep');
const FUNCTION_APP = bicep('infra/modules/functionapp.bicep');

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
    readonly defaultTtl?: number;
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
// Tests
// ---------------------------------------------------------------------------------------------

describe('infra and code: settings', () => {
  it('sets in Bicep, or allowlists with a reason, every setting the code reads', async () => {
    const missing = (await settingsTheCodeReads()).filter((n) => !setInBicep(n) && !allowlisted(n));
    expect(missing, 'add these to infra/main.bicep (or to LEFT_TO_DEFAULTS with the reason)').toEqual([]);
  });

  it('reads in code every AppConfig__ / AZURE_ setting Bicep sets (no typo, no leftover)', async () => {
    const read = new Set(await settingsTheCodeReads());
    const unread = [...BICEP_SETTINGS].filter(
      (s) => /^(AppConfig__|AZURE_)/.test(s) && !read.has(s) && !(s in AHEAD_OF_CODE),
    );
    expect(unread).toEqual([]);
  });

  it('keeps the ahead-of-code list honest: each entry is set in Bicep and not read by the code yet', async () => {
    const read = new Set(await settingsTheCodeReads());
    const stale = Object.keys(AHEAD_OF_CODE).filter((s) => read.has(s) || !BICEP_SETTINGS.has(s));
    expect(stale, 'the code reads these now (or Bicep dropped them): remove them from AHEAD_OF_CODE').toEqual(
      [],
    );
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
    const expected: {
      name: string;
      partitionKeyPaths: string[];
      indexingPolicy: unknown;
      uniqueKeyPaths?: string[] | undefined;
      defaultTtl?: unknown;
    }[] = prefixes.map((p) => ({
      name: store[`DEFAULT_${p}_CONTAINER`] as string,
      partitionKeyPaths: (store[`${p}_PARTITION_KEY`] as { paths?: string[] } | undefined)?.paths ?? [
        store[`${p}_PARTITION_KEY_PATH`] as string,
      ],
      indexingPolicy: store[`${p}_INDEXING_POLICY`],
      uniqueKeyPaths: (store[`${p}_UNIQUE_KEY_POLICY`] as { uniqueKeys: { paths: string[] }[] } | undefined)
        ?.uniqueKeys[0]?.paths,
      defaultTtl: store[`${p}_DEFAULT_TTL`],
    }));
    // The management plane's document collections (lib/store/documents.ts COLLECTIONS).
    const docs = store.DOCUMENT_CONTAINERS as Record<
      string,
      { partitionKey: { paths: string[] }; indexingPolicy: unknown }
    >;
    const { COLLECTIONS } = await import('../../lib/store/documents.js');
    expect(Object.keys(docs).sort()).toEqual(Object.keys(COLLECTIONS).sort());
    for (const [name, c] of Object.entries(docs)) {
      expect(c.partitionKey.paths).toEqual([
        `/${COLLECTIONS[name as keyof typeof COLLECTIONS].partitionKey}`,
      ]);
      expected.push({
        name,
        partitionKeyPaths: c.partitionKey.paths,
        indexingPolicy: c.indexingPolicy,
      });
    }
    // A container may be named by both sources (e.g. `state`): they must agree on it.
    for (const e of expected) {
      const same = expected.filter((x) => x.name === e.name);
      expect(
        same.map((x) => [x.partitionKeyPaths, x.indexingPolicy]),
        `${e.name}: one definition`,
      ).toEqual(same.map(() => [e.partitionKeyPaths, e.indexingPolicy]));
    }
    for (const e of expected) {
      const c = COSMOS_LAYOUT.containers.find((x) => x.name === e.name);
      expect(c, `container ${e.name} in infra/cosmos-layout.json`).toBeDefined();
      expect(c?.partitionKeyPaths, `${e.name}: partition key`).toEqual(e.partitionKeyPaths);
      expect(c?.indexingPolicy, `${e.name}: indexing policy`).toEqual(e.indexingPolicy);
      expect(c?.uniqueKeyPaths, `${e.name}: unique keys`).toEqual(e.uniqueKeyPaths);
      expect(c?.defaultTtl, `${e.name}: time to live`).toEqual(e.defaultTtl);
    }
    expect(COSMOS_LAYOUT.containers.map((c) => c.name).sort(), 'no container the store does not use').toEqual(
      [...new Set(expected.map((e) => e.name))].sort(),
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
    expect(names).toContain(r.value.stateContainer);
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
