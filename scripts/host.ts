import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { watchAncestors } from './local/ancestors.js';
import { applyEnvironment, type Service, startBackingServices } from './local/backing.js';
import { printBanner, printLanWarning } from './local/banner.js';
import { dispatcher } from './local/dispatch.js';
import { startAppInstance } from './local/app-instance.js';
import { httpRoutes, invoker } from './local/function-table.js';
import { registrations } from './local/functions-core.js';
import type { startLocalHttps } from './local/local-https.js';
import { hostEnvironment, localSettings, prepareSettings } from './local/settings.js';
import { startBackgroundTriggers } from './local/triggers.js';

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

/**
 * The embedded default: serves every HTTP function of functions/ on 127.0.0.1 with the route
 * templates the Functions host would use (host.json routePrefix + each function's route), no
 * Azure, no Docker, no Core Tools.
 */
export async function startLocalHost(o: LocalHostOptions = {}): Promise<LocalHost> {
  const { env, dataDir, staticChallenge } = await prepareSettings(o);
  const services: Service[] = [];
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
  services: Service[],
): Promise<LocalHost> {
  await startBackingServices(o, env, dataDir, services);
  applyEnvironment(env, services);

  const { app, functions } = await startAppInstance(o, env, services);
  const http = httpRoutes();
  const server = createServer(
    dispatcher(http, functions, (e) => {
      app.logger.error('local host failure', { error: String(e) });
    }),
  );

  const invoke = invoker(functions.InvocationContext);
  const onBackgroundError = (message: string): void => {
    app.logger.warn(message, { component: 'local-host' });
  };
  services.push(await startBackgroundTriggers(env, invoke, onBackgroundError));

  const bind = o.host ?? '127.0.0.1';
  await listen(server, o.port ?? 7071, bind, services);
  // A new instance: run its warmup trigger (requests are not held back meanwhile).
  const { runWarmups } = await import('./local/warmup.js');
  const warmedUp = runWarmups(registrations, (name) => invoke(name, [{}]), onBackgroundError);
  services.push({ close: () => warmedUp });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://${urlHost(address)}:${port}`;
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
  const https = await startHttps(o, app, env, { target: baseUrl, dataDir });
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

/** Opt-in HTTPS front end with optional client certificates (HTTPS_PORT / AppConfig__Local__HttpsPort). */
async function startHttps(
  o: LocalHostOptions,
  app: Parameters<typeof startLocalHttps>[0],
  env: Record<string, string | undefined>,
  at: { readonly target: string; readonly dataDir: string },
): Promise<Awaited<ReturnType<typeof startLocalHttps>> | undefined> {
  if (o.httpsPort === undefined && !(env.AppConfig__Local__HttpsPort ?? env.HTTPS_PORT)) return undefined;
  const { startLocalHttps: serveHttps } = await import('./local/local-https.js');
  return serveHttps(app, { port: o.httpsPort, env, ...at, quiet: o.quiet });
}

/**
 * Where this process reaches the server (the banner, the HTTPS front's target): 127.0.0.1 when
 * it listens on every address, else the one address it listens on (`HOST=192.168.1.20`, `::1`).
 */
function urlHost(address: ReturnType<Server['address']>): string {
  if (typeof address !== 'object' || !address || ['0.0.0.0', '::'].includes(address.address))
    return '127.0.0.1';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

/** Listen on `port` at `bind`; the service pushed drops open connections and closes the server. */
async function listen(server: Server, port: number, bind: string, services: Service[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => {
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
}

/**
 * `npm start` (scripts/start.mjs) and `node dist/scripts/host.js`: the host on PORT (7071) with
 * local.settings.json, until SIGINT/SIGTERM. Any failure at start exits with status 1 after
 * everything started so far has been stopped.
 */
export function main(): void {
  const fail = (e: unknown): void => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  };
  let local: ReturnType<typeof hostEnvironment>;
  try {
    // PORT, HOST, LOCAL_STORE (or AppConfig__LocalStore): sqlite (default, `.data/ca.db`), memory
    // (a throwaway run), cosmos (the Cosmos-compatible server persisted to `.data/cosmos.json`).
    local = hostEnvironment(process.env, localSettings());
  } catch (e) {
    fail(e);
    return;
  }
  startLocalHost({ ...local, loadLocalSettings: true }).then((host) => {
    const stop = (): void => {
      void host.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
    // `npm start` killed without passing the signal on (npm does not always forward SIGTERM,
    // and SIGKILL never is): stop rather than serve on with no one to stop it.
    watchAncestors(stop);
  }, fail);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) main();
