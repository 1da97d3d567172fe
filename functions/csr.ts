import { app } from '@azure/functions';
import { handleCsr } from '../lib/http/csr.js';
import { httpHandler } from '../lib/http/handler.js';

/**
 * REST enrollment: POST a PKCS#10 (DER, PEM, base64 or CMS-wrapped) with an Entra ID token
 * carrying the app role CSR.Request.Db, or with a certificate this CA issued (renewal over
 * mTLS); the certificate comes back as DER, or PEM when asked for.
 */
export const csr = httpHandler((a, request) => handleCsr(a, request));

app.http('csr', { route: 'api/csr', methods: ['POST'], authLevel: 'anonymous', handler: csr });
