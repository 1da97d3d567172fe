import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleCaCertificate, handleCrl } from '../lib/http/revocation.js';

/**
 * A CA's full CRL (RFC 5280), DER; `?format=pem` for PEM. `crl` is the configured CA's,
 * `crl/{CA id}` another CA's (a next CA once activated): the CDP of the certificates each issues.
 */
export const crl = httpHandler((a, request) => handleCrl(a, request));

/** The configured CA's certificate (DER) at the AIA caIssuers URL `ca.cer`. */
export const caCertificate = httpHandler((a) => handleCaCertificate(a));

/** Another CA's certificate (DER) at the AIA caIssuers URL `ca/{CA id}.cer`. */
export const caCertificateById = httpHandler((a, request) =>
  handleCaCertificate(a, request.params.file ?? ''),
);

app.http('crl', { route: 'crl/{ca?}', methods: ['GET'], authLevel: 'anonymous', handler: crl });
app.http('caCertificate', {
  route: 'ca.cer',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: caCertificate,
});
app.http('caCertificateById', {
  route: 'ca/{file}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: caCertificateById,
});
