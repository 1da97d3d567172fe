import { app } from '@azure/functions';
import {
  manageHandler,
  paged,
  downloadFormat,
  fileResponse,
  MANAGE_METHODS,
  methodNotAllowed,
} from '../lib/http/manage.js';

/**
 * `GET api/manage/endpoints/{endpoint}/ra-certificates` (validity and status),
 * `…/ra-certificates/{thumbprintSha256}` (DER; `?format=pem` for PEM) and `POST …/ra-certificates`
 * (rotate now; the previous RA certificate keeps decrypting until it expires).
 */
export const manageRaCertificates = manageHandler(async (c) => {
  const { endpoint = '', thumbprint } = c.request.params;
  const ra = c.manage.raCertificates;
  const method = c.request.method.toUpperCase();
  if (method === 'POST' && !thumbprint) return { status: 201, jsonBody: await ra.renew(c.actor, endpoint) };
  if (method !== 'GET') throw methodNotAllowed(method, thumbprint ? ['GET'] : ['GET', 'POST']);
  if (thumbprint === undefined || thumbprint === '') return paged(await ra.list(c.actor, endpoint));
  return fileResponse(await ra.download(c.actor, endpoint, thumbprint, downloadFormat(c.request)));
});

app.http('manageRaCertificates', {
  route: 'api/manage/endpoints/{endpoint}/ra-certificates/{thumbprint?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageRaCertificates,
});
