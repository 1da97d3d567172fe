import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleCaCertificate, handleCrl } from '../lib/http/revocation.js';

/** The CA's full CRL (RFC 5280), DER; `crl?format=pem` for PEM. The CDP of issued certificates. */
export const crl = httpHandler((a, request) => handleCrl(a, request));

/** The CA certificate (DER) at the AIA caIssuers URL of issued certificates. */
export const caCertificate = httpHandler((a) => handleCaCertificate(a));

app.http('crl', { route: 'crl', methods: ['GET'], authLevel: 'anonymous', handler: crl });
app.http('caCertificate', {
  route: 'ca.cer',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: caCertificate,
});
