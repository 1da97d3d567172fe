import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleScep } from '../lib/http/scep.js';

/**
 * SCEP (RFC 8894) for every endpoint: `scep/{endpoint}` and any sub-path (Windows appends
 * `/pkiclient.exe`). GetCACaps, GetCACert and PKIOperation share the route; the `operation`
 * query parameter selects the handler module (lib/scep/operations, lib/scep/pki-operation.ts).
 */
export const scep = httpHandler((a, request) => handleScep(a, request, request.params.endpoint ?? ''));

app.http('scep', {
  route: 'scep/{endpoint}/{*rest}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: scep,
});
