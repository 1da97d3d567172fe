import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleOcsp } from '../lib/http/revocation.js';

/** OCSP (RFC 6960): POST `ocsp` with application/ocsp-request, or GET `ocsp/{base64 request}`. */
export const ocsp = httpHandler((a, request) => handleOcsp(a, request));

app.http('ocsp', {
  route: 'ocsp/{*request}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: ocsp,
});
