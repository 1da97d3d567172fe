import { join } from 'node:path';
import type { LocalHostOptions } from '../host.js';

/** Something the local host started and stops again on close(), in reverse order. */
export interface Service {
  close(): Promise<void>;
}

/**
 * What the app needs around it locally: the store (embedded SQLite, in memory, or the
 * Cosmos-compatible server in process) and, with Intune validation on, Azurite for the
 * notification queue. Each service started is pushed onto `services` at once, so a failure
 * part-way still stops what is running.
 */
export async function startBackingServices(
  o: Pick<LocalHostOptions, 'store' | 'quiet'>,
  env: Record<string, string | undefined>,
  dataDir: string,
  services: Service[],
): Promise<void> {
  const store = o.store ?? 'memory';
  if (!env.AppConfig__CosmosDb__Endpoint && store !== 'cosmos') {
    env.AppConfig__LocalStore = store;
    if (store === 'sqlite') {
      const { migrateLocalCosmos } = await import('../local-migrate.js');
      const migrated = await migrateLocalCosmos(dataDir);
      if (migrated && !o.quiet) {
        process.stdout.write(
          `Imported ${migrated.imported} certificate records from ${dataDir}/cosmos.json\n`,
        );
      }
    }
  }
  if (store === 'cosmos' && !env.AppConfig__CosmosDb__Endpoint) {
    const { startLocalCosmos } = await import('../local-cosmos.js');
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
    const { startAzurite } = await import('./azurite.js');
    const azurite = await startAzurite();
    env.AzureWebJobsStorage = azurite.connectionString;
    services.push({ close: () => azurite.stop() });
  }
}

/**
 * Code that reads the environment itself (the Azure SDKs) sees the same settings; the service
 * pushed puts the previous environment back, so a later host in this process starts clean.
 */
export function applyEnvironment(env: Record<string, string | undefined>, services: Service[]): void {
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
}
