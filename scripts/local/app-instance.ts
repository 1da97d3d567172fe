import type { LocalHostOptions } from '../host.js';
import type { Service } from './backing.js';
import { loadFunctions } from './function-table.js';
import { installFunctionsCoreShim } from './functions-core.js';

/**
 * The app the functions run against, built from the local settings and installed as the
 * process's app (lib/app.ts setApp), then the functions of functions/ loaded so they register
 * with the functions-core shim. The service pushed uninstalls and closes the app.
 */
export async function startAppInstance(
  o: Pick<LocalHostOptions, 'quiet' | 'credential'>,
  env: Record<string, string | undefined>,
  services: Service[],
) {
  installFunctionsCoreShim();
  // The package is CommonJS; Node's ESM loader does not see HttpRequest & co. as named exports.
  const functionsModule = await import('@azure/functions');
  const appModule = await import('../../lib/app.js');
  const { jsonLogger, silentLogger } = await import('../../lib/log.js');
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
  return { app, functions: functionsModule.default };
}
