import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installFunctionsCoreShim, registrations } from './local/functions-core.js';
import { printBanner, printLanWarning } from './local/banner.js';
import { dispatcher } from './local/dispatch.js';
import { compileRoute } from './local/routes.js';

export interface LocalHostOptions {
  /** 7071 like `func start`; 0 for any free port. */
  readonly port?: number;
  /**
   * Bind address: 127.0.0.1 by default. `HOST=0.0.0.0 npm start` opts into the LAN so a phone,
   * a Mac or an MDM's SCEP proxy can reach the CA before it is deployed (printed with a warning).
   */
  readonly host?: string;
  /** Settings on top of process.env (and local.settings.json when `loadLocalSettings`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly dataDir?: string;
  /** No banner and no logs (set SCEP_HOST_LOGS=1 to see the logs anyway). */
  readonly quiet?: boolean;
  readonly loadLocalSettings?: boolean;
  /**
   * Store when AppConfig__CosmosDb__Endpoint is not set: 'sqlite' keeps records in the embedded
   * database `<dataDir>/ca.db` (what `npm start` does); 'memory' keeps them in this process only
   * (default here, for tests); 'cosmos' runs the Cosmos-compatible server in process, persisted
   * to `<dataDir>/cosmos.json` (tests of the Cosmos DB store through the host).
   */
  readonly store?: 'memory' | 'sqlite' | 'cosmos';
  /** Azure credential for Key Vault / Cosmos DB (tests pass one for their local fakes). */
  readonly credential?: import('@azure/identity').TokenCredential;
  /** Also serve HTTPS with optional client certificates (local/local-https.ts); default: HTTPS_PORT. */
  readonly httpsPort?: number;
}

export interface LocalHost {
  readonly baseUrl: string;
  readonly staticChallenge: string | undefined;
  /** The management API's local admin key (`Authorization: Bearer <key>`). */
  readonly adminKey: string | undefined;
  readonly caCertificatePem: string;
  /** The HTTPS front end's address when one was asked for. */
  readonly httpsUrl?: string;
  readonly routes: readonly { name: string; route: string; methods: readonly string[] }[];
  /** Run any registered function now (queue, timer) with these trigger arguments. */
  invoke(functionName: string, args: unknown[], triggerMetadata?: Record<string, unknown>): Promise<unknown>;
  /** Settles when the warmup functions, run once after start as on a new instance, have finished. */
  readonly warmedUp: Promise<void>;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, existsSync(join(here, '..', 'host.json')) ? '..' : '../..');

/**
 * The embedded default: serves every HTTP function of functions/ on 127.0.0.1 with the route
 * templates the Functions host would use (host.json routePrefix + each function's route), no
 * Azure, no Docker, no Core Tools.
 */
export async function startLocalHost(o: LocalHostOptions = {}): Promise<LocalHost> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (o.loadLocalSettings) Object.assign(env, localSettings(), { ...pick(process.env) });
  Object.assign(env, o.env ?? {});
  const dataDir = o.dataDir ?? env.AppConfig__DataDir ?? join(root, '.data');
  env.AppConfig__DataDir = dataDir;
  const staticChallenge = await ensureStaticChallenge(env, dataDir);
  const services: { close(): Promise<void> }[] = [];
  try {
    return await start(o, env, dataDir, staticChallenge, services);
  } catch (e) {
    // A failed start leaves nothing running: no child process, no open port, no open database.
    for (const s of services.splice(0).reverse()) await s.close().catch(() => undefined);
    throw e;
  }
}

async function start(
  o: LocalHostOptions,
  env: Record<string, string | undefined>,
  dataDir: string,
  staticChallenge: string | undefined,
  services: { close(): Promise<void> }[],
): Promise<LocalHost> {
  const store = o.store ?? 'memory';
  if (!env.AppConfig__CosmosDb__Endpoint && store !== 'cosmos') {
    env.AppConfig__LocalStore = store;
    if (store === 'sqlite') {
      const { migrateLocalCosmos } = await import('./local-migrate.js');
      const migrated = await migrateLocalCosmos(dataDir);
      if (migrated && !o.quiet) {
        process.stdout.write(
          `Imported ${migrated.imported} certificate records from ${dataDir}/cosmos.json\n`,
        );
      }
    }
  }
  if (store === 'cosmos' && !env.AppConfig__CosmosDb__Endpoint) {
    const { startLocalCosmos } = await import('./local-cosmos.js');
    const cosmos = await startLocalCosmos({ dataFile: join(dataDir, 'cosmos.json') });
    env.AppConfig__CosmosDb__Endpoint = cosmos.endpoint;
    env.AppConfig__CosmosDb__Key = cosmos.key;
    services.push(cosmos);
  }
  const intune = /^(true|1|yes)$/i.test(env.AppConfig__IntuneValidation__Enabled ?? '');
  // The queue trigger names its queue through this setting (%…% binding expression).
  if (intune) env.AppConfig__IntuneValidation__NotificationQueueName ??= 'intune-notifications';
  // `func start`'s UseDevelopmentStorage=true means Azurite on its fixed ports; the local host
  // runs its own, in memory, on a free port.
  if (intune && (!env.AzureWebJobsStorage || env.AzureWebJobsStorage === 'UseDevelopmentStorage=true')) {
    const { startAzurite } = await import('./local/azurite.js');
    const azurite = await startAzurite();
    env.AzureWebJobsStorage = azurite.connectionString;
    services.push({ close: () => azurite.stop() });
  }
  // Code that reads the environment itself (the Azure SDKs) sees the same settings; close()
  // puts the previous environment back, so a later host in this process starts clean.
  const previousEnv = { ...process.env };
  Object.assign(process.env, env);
  services.push({
    close: () => {
      for (const k of Object.keys(process.env))
        if (!(k in previousEnv)) Reflect.deleteProperty(process.env, k);
      Object.assign(process.env, previousEnv);
      return Promise.resolve();
    },
  });

  installFunctionsCoreShim();
  // The package is CommonJS; Node's ESM loader does not see HttpRequest & co. as named exports.
  const functionsModule = await import('@azure/functions');
  const { InvocationContext } = functionsModule.default;
  const appModule = await import('../lib/app.js');
  const { jsonLogger, silentLogger } = await import('../lib/log.js');
  appModule.setApp(
    appModule.createApp(env, {
      logger: o.quiet && !process.env.SCEP_HOST_LOGS ? silentLogger : jsonLogger(),
      ...(o.credential ? { credential: o.credential } : {}),
    }),
  );
  const app = await appModule.getApp();
  services.push({
    close: () => {
      appModule.setApp(undefined);
      app.close();
      return Promise.resolve();
    },
  });
  await loadFunctions();

  const prefix = routePrefix();
  const http = registrations.flatMap((r) => {
    const trigger = Object.values(r.metadata.bindings).find((b) => b.type === 'httpTrigger');
    if (!trigger) return [];
    const route = typeof trigger.route === 'string' ? trigger.route : r.metadata.name;
    const methods = Array.isArray(trigger.methods)
      ? (trigger.methods as string[]).map((m) => m.toUpperCase())
      : [];
    return [{ reg: r, route, methods, compiled: compileRoute(prefix, route) }];
  });

  const server = createServer(
    dispatcher(http, functionsModule.default, (e) => {
      app.logger.error('local host failure', { error: String(e) });
    }),
  );

  const hostJson = readHostJson();
  const invoke = async (
    functionName: string,
    args: unknown[],
    triggerMetadata: Record<string, unknown> = {},
  ): Promise<unknown> => {
    const reg = registrations.find((r) => r.metadata.name === functionName);
    if (!reg) throw new Error(`no function ${functionName}`);
    const context = new InvocationContext({
      functionName,
      invocationId: randomUUID(),
      triggerMetadata,
    });
    // async: an unknown name or a handler that throws synchronously becomes a rejection.
    return await reg.handler(...args, context);
  };
  const onBackgroundError = (message: string): void => {
    app.logger.warn(message, { component: 'local-host' });
  };
  const { startQueueTriggers, startTimers } = await import('./local/queues.js');
  const stopQueues = await startQueueTriggers(
    registrations,
    {
      env,
      maxDequeueCount: hostJson.extensions?.queues?.maxDequeueCount ?? 5,
      visibilityTimeoutSeconds: seconds(hostJson.extensions?.queues?.visibilityTimeout) ?? 0,
      onError: onBackgroundError,
    },
    (payload, triggerMetadata, functionName) => invoke(functionName, [payload], triggerMetadata),
  );
  const stopTimers = startTimers(
    registrations,
    (name) => invoke(name, [{ isPastDue: false }]),
    onBackgroundError,
  );
  services.push({
    close: async () => {
      stopTimers();
      await stopQueues();
    },
  });

  const bind = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 7071, bind, () => {
      server.off('error', reject);
      resolve();
    });
  });
  services.push({
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  });
  // A new instance is ready for requests: the Functions host runs the warmup trigger now.
  const { runWarmups } = await import('./local/warmup.js');
  const warmedUp = runWarmups(registrations, (name) => invoke(name, [{}]), onBackgroundError);
  services.push({ close: () => warmedUp });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  const { fingerprints } = await import('../lib/ca/issue.js');
  const { X509Certificate } = await import('node:crypto');
  const caPem = new X509Certificate(app.ca.certificateDer).toString();
  if (!o.quiet)
    printBanner(
      baseUrl,
      app.endpoints.builtInNames(),
      fingerprints(app.ca.certificateDer),
      staticChallenge,
      app.adminKey,
    );
  // Opt-in HTTPS front end with optional client certificates (HTTPS_PORT / AppConfig__Local__HttpsPort).
  const https =
    o.httpsPort !== undefined || (env.AppConfig__Local__HttpsPort ?? env.HTTPS_PORT)
      ? await (
          await import('./local/local-https.js')
        ).startLocalHttps(app, { port: o.httpsPort, env, target: baseUrl, dataDir, quiet: o.quiet })
      : undefined;
  if (https) services.push(https);
  if (!o.quiet && !['127.0.0.1', 'localhost', '::1'].includes(bind)) printLanWarning(bind, port);
  return {
    baseUrl,
    ...(https ? { httpsUrl: https.url } : {}),
    staticChallenge,
    adminKey: app.adminKey,
    caCertificatePem: caPem,
    routes: http.map((h) => ({ name: h.reg.metadata.name, route: h.route, methods: h.methods })),
    invoke: (functionName, args, triggerMetadata) => invoke(functionName, args, triggerMetadata),
    warmedUp,
    close: async () => {
      for (const s of services.splice(0).reverse()) await s.close();
    },
  };
}

let functionsLoaded = false;
async function loadFunctions(): Promise<void> {
  if (functionsLoaded) return;
  functionsLoaded = true;
  const dir = join(here, '..', 'functions');
  const ts = import.meta.url.endsWith('.ts');
  for (const f of readdirSync(dir).sort()) {
    if ((ts && f.endsWith('.ts') && !f.endsWith('.d.ts')) || (!ts && f.endsWith('.js'))) {
      await import(pathToFileURL(join(dir, f)).href);
    }
  }
}

interface HostJson {
  extensions?: {
    http?: { routePrefix?: string };
    queues?: { maxDequeueCount?: number; visibilityTimeout?: string };
  };
}

function readHostJson(): HostJson {
  return JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as HostJson;
}

function routePrefix(): string {
  return (readHostJson().extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
}

/** host.json TimeSpan "hh:mm:ss" → seconds. */
function seconds(span: string | undefined): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(span ?? '');
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

function localSettings(): Record<string, string> {
  const file = join(root, 'local.settings.json');
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
  return parsed.Values ?? {};
}

function pick(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && /^(AppConfig__|AZURE_|AzureWebJobs)/.test(k)) out[k] = v;
  return out;
}

/** The static challenge in force: configured, or generated once and kept in the data folder. */
async function ensureStaticChallenge(
  env: Record<string, string | undefined>,
  dataDir: string,
): Promise<string | undefined> {
  if (/^(false|0|no)$/i.test(env.AppConfig__StaticValidation__Enabled ?? '')) return undefined;
  const configured = env.AppConfig__StaticValidation__RequestPassword;
  if (configured) return configured;
  const file = join(dataDir, 'static-challenge.txt');
  let secret: string;
  try {
    secret = (await readFile(file, 'utf8')).trim();
  } catch {
    secret = randomBytes(24).toString('base64url'); // 192 bits, 32 characters
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
  }
  env.AppConfig__StaticValidation__RequestPassword = secret;
  return secret;
}

/**
 * `npm start` (scripts/start.mjs) and `node dist/scripts/host.js`: the host on PORT (7071) with
 * local.settings.json, until SIGINT/SIGTERM. Any failure at start exits with status 1 after
 * everything started so far has been stopped.
 */
export function main(): void {
  // LOCAL_STORE: sqlite (default, `.data/ca.db`), memory (a throwaway run), cosmos (the
  // Cosmos-compatible server persisted to `.data/cosmos.json`, as earlier versions did).
  const store =
    (['memory', 'sqlite', 'cosmos'] as const).find((s) => s === process.env.LOCAL_STORE) ?? 'sqlite';
  const bindHost = process.env.HOST?.trim() || undefined;
  startLocalHost({
    port: Number(process.env.PORT ?? 7071),
    ...(bindHost ? { host: bindHost } : {}),
    loadLocalSettings: true,
    store,
  }).then(
    (host) => {
      const stop = (): void => {
        void host.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.once('SIGHUP', stop);
      // `npm start` killed without passing the signal on (npm does not always forward SIGTERM)
      // leaves this process re-parented: stop then rather than serve on with no one to stop it.
      const parent = process.ppid;
      setInterval(() => {
        if (process.ppid !== parent) stop();
      }, 500).unref();
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) main();
