import { app } from '@azure/functions';
import { handleEstRequest } from '../lib/http/est.js';
import { httpHandler } from '../lib/http/handler.js';

/**
 * EST (RFC 7030) at `/.well-known/est/[label/]{operation}`: cacerts, simpleenroll,
 * simplereenroll (mutual TLS) and csrattrs, over the REST enrollment API's authorization, so
 * SCEPman's enrollment scripts (scepman/csr-request) work unchanged.
 */
export const est = httpHandler((a, request) => handleEstRequest(a, request));

app.http('est', {
  route: '.well-known/est/{*rest}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: est,
});
