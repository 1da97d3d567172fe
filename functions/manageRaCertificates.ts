import { app } from '@azure/functions';
import { AppError } from '../lib/errors.js';
import { manageHandler, paged } from '../lib/http/manage.js';

/**
 * `GET api/manage/endpoints/{endpoint}/ra-certificates` (validity and status) and
 * `…/ra-certificates/{thumbprintSha256}` (DER; `?format=pem` for PEM).
 */
export const manageRaCertificates = manageHandler(async (c) => {
  if (c.request.method.toUpperCase() !== 'GET')
    throw new AppError('METHOD_NOT_ALLOWED', `${c.request.method} is not allowed here`);
  const { endpoint = '', thumbprint } = c.request.params;
  const ra = c.manage.raCertificates;
  if (thumbprint === undefined || thumbprint === '') return paged(await ra.list(c.actor, endpoint));
  const format = c.request.query.get('format') === 'pem' ? 'pem' : 'der';
  const file = await ra.download(c.actor, endpoint, thumbprint, format);
  return {
    status: 200,
    headers: {
      'content-type': file.contentType,
      'content-disposition': `attachment; filename="${file.fileName}"`,
    },
    body: file.body,
  };
});

app.http('manageRaCertificates', {
  route: 'api/manage/endpoints/{endpoint}/ra-certificates/{thumbprint?}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: manageRaCertificates,
});
