import { app } from '@azure/functions';
import {
  downloadFormat,
  fileResponse,
  jsonBody,
  manageHandler,
  MANAGE_METHODS,
  methodNotAllowed,
  paged,
} from '../lib/http/manage.js';

/**
 * `GET api/manage/ca-certificates` (current and next CA: validity, status),
 * `…/ca-certificates/{thumbprintSha256}` (DER; `?format=pem` for PEM) and
 * `POST …/ca-certificates/next` (create the next CA ahead of a rollover, a self-signed root or,
 * with `"parent": "external"`, a key and a request for an external parent CA; CA.Admin).
 */
export const manageCa = manageHandler(async (c) => {
  const { thumbprint } = c.request.params;
  const ca = c.manage.ca;
  const method = c.request.method.toUpperCase();
  if (method === 'POST' && thumbprint === 'next')
    return { status: 201, jsonBody: await ca.createNext(c.actor, await jsonBody(c.request)) };
  if (method !== 'GET') throw methodNotAllowed(method, thumbprint === 'next' ? ['POST'] : ['GET']);
  if (thumbprint === undefined || thumbprint === '') return paged(await ca.list(c.actor));
  return fileResponse(await ca.download(c.actor, thumbprint, downloadFormat(c.request)));
});

app.http('manageCa', {
  route: 'api/manage/ca-certificates/{thumbprint?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageCa,
});
