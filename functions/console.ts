import { app } from '@azure/functions';
import { consoleHandler } from '../lib/console/http.js';

/**
 * The admin console (`/admin`, a single-page app) and `/admin/config.json` (how it signs in).
 * The built files sit in dist/web: next to dist/functions when compiled or bundled, under
 * dist/ when the sources run directly.
 */
export const adminConsole = consoleHandler([
  new URL('../web/', import.meta.url),
  new URL('../dist/web/', import.meta.url),
]);

app.http('adminConsole', {
  route: 'admin/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: adminConsole,
});
