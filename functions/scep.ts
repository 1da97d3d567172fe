import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleNdesPage } from '../lib/http/ndes.js';
import { handleScep } from '../lib/http/scep.js';

/**
 * SCEP (RFC 8894) for every endpoint: `scep/{endpoint}` and any sub-path (Windows appends
 * `/pkiclient.exe`). GetCACaps, GetCACert and PKIOperation share the route; the `operation`
 * query parameter selects the handler module (lib/scep/operations, lib/scep/pki-operation.ts).
 * `scep/{name}/mscep_admin/` is the endpoint's NDES-compatible challenge page.
 */
export const scep = httpHandler((a, request) => {
  const endpoint = request.params.endpoint ?? '';
  // `scep/{name}/mscep_admin/`: the endpoint's NDES-compatible challenge page.
  return /^mscep_admin(\/|$)/i.test(request.params.rest ?? '') && request.method === 'GET'
    ? handleNdesPage(a, request, endpoint)
    : handleScep(a, request, endpoint);
});

app.http('scep', {
  route: 'scep/{endpoint}/{*rest}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: scep,
});
