import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { caFile, raFile, statusPage } from '../lib/status/http.js';

/**
 * The public status page at `/`. The Functions host does not bind an empty route, even with
 * routePrefix "": an optional parameter limited to zero characters matches only the site root
 * (AzureWebJobsDisableHomepage turns the host's own page off).
 */
export const status = httpHandler((a, request) => statusPage(a, request));

/** The CA certificate as PEM: `ca.pem`, `ca-chain.pem` (CA first). `ca.cer` (DER) is functions/crl.ts. */
export const caCertificatePem = httpHandler((a, request) =>
  caFile(a, new URL(request.url).pathname.split('/').pop() ?? ''),
);

app.http('status', {
  route: '{root:maxlength(0)?}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: status,
});
for (const [name, route] of [
  ['caCertificatePem', 'ca.pem'],
  ['caChainPem', 'ca-chain.pem'],
] as const) {
  app.http(name, { route, methods: ['GET'], authLevel: 'anonymous', handler: caCertificatePem });
}

/** `ra/{endpoint}.pem`: the live RA certificates of an endpoint in RA mode. */
export const raCertificatePem = httpHandler((a, request) => raFile(a, request.params.file ?? ''));

app.http('raCertificatePem', {
  route: 'ra/{file}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: raCertificatePem,
});
