import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleScep } from '../lib/http/scep.js';

/**
 * The Intune SCEP endpoint at the path NDES and SCEPman expose (`certsrv/mscep/mscep.dll`,
 * and every sub-path): an alias of `scep/intune`. GetCACert and GetCACaps answer the CA there
 * even with Intune off, as SCEPman does (its scripts fetch the root from this path).
 */
export const mscep = httpHandler((a, request) =>
  handleScep(a, request, 'intune', { caWithoutEndpoint: true }),
);

app.http('mscep', {
  route: 'certsrv/mscep/mscep.dll/{*rest}',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: mscep,
});
