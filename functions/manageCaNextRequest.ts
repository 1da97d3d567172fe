import { app } from '@azure/functions';
import { downloadFormat, fileResponse, manageHandler, MANAGE_METHODS } from '../lib/http/manage.js';

/**
 * `GET api/manage/ca-certificates/next/request`: the pending next CA's PKCS#10 request for its
 * external parent CA (DER; `?format=pem` for PEM).
 */
export const manageCaNextRequest = manageHandler(
  async (c) => fileResponse(await c.manage.ca.nextRequest(c.actor, downloadFormat(c.request))),
  ['GET'],
);

app.http('manageCaNextRequest', {
  route: 'api/manage/ca-certificates/next/request',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageCaNextRequest,
});
