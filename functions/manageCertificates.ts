import { app } from '@azure/functions';
import { manageHandler, queryFilters, serveResource, MANAGE_METHODS } from '../lib/http/manage.js';

/**
 * `GET api/manage/certificates?search=&subject=&san=&serial=&thumbprint=&endpoint=&account=
 * &organization=&department=&status=&expiringBefore=` and `GET api/manage/certificates/{serial}`.
 */
export const manageCertificates = manageHandler((c) => {
  const certs = c.manage.certificates;
  return serveResource(c, c.request.params.serial, {
    list: () => certs.search(c.actor, queryFilters(c.request), c.page),
    get: async (serial) => ({ value: await certs.get(c.actor, serial) }),
  });
});

app.http('manageCertificates', {
  route: 'api/manage/certificates/{serial?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageCertificates,
});
