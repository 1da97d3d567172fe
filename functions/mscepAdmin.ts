import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleNdesPage } from '../lib/http/ndes.js';

/**
 * NDES's challenge page at its own path (`certsrv/mscep_admin/`), for MDMs' "NDES dynamic
 * challenge" integrations; the username names the endpoint (`<endpoint>.<account id>`).
 */
export const mscepAdmin = httpHandler((a, request) => handleNdesPage(a, request, undefined));

app.http('mscepAdmin', {
  route: 'certsrv/mscep_admin/{*rest}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: mscepAdmin,
});
