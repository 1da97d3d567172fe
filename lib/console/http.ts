import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { fileURLToPath } from 'node:url';
import { httpHandler } from '../http/handler.js';
import { ConsoleAssets } from './assets.js';
import { consoleConfig, consoleCsp } from './config.js';

/** `admin/{*path}`: `config.json`, else the built console's files (see ConsoleAssets). */
export function consoleHandler(candidates: readonly URL[]): HttpHandler {
  let assets: ConsoleAssets | undefined;
  return httpHandler(async (app, request): Promise<HttpResponseInit> => {
    const path = request.params.path ?? '';
    if (path === 'config.json') {
      return {
        headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
        jsonBody: consoleConfig(app.settings.console),
      };
    }
    if (!assets) {
      const dir = ConsoleAssets.locate(candidates.map((u) => fileURLToPath(u)));
      if (dir === undefined)
        return {
          status: 503,
          headers: { 'content-type': 'text/plain' },
          body: 'console not built: npm run build',
        };
      assets = new ConsoleAssets(dir, consoleCsp(app.settings.console));
    }
    return assets.serve(path);
  });
}
