import { app } from '@azure/functions';
import { bytesBody, manageHandler, MANAGE_METHODS } from '../lib/http/manage.js';

/**
 * `POST api/manage/ca-certificates/next/certificate`: install the certificate an external
 * parent CA signed for the pending next CA (PEM, DER or PKCS#7, with its chain; CA.Admin over
 * the whole CA; logged as `ca.next.install`).
 */
export const manageCaNextCertificate = manageHandler(
  async (c) => ({
    status: 200,
    jsonBody: await c.manage.ca.installNext(c.actor, await bytesBody(c.request)),
  }),
  ['POST'],
);

app.http('manageCaNextCertificate', {
  route: 'api/manage/ca-certificates/next/certificate',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageCaNextCertificate,
});
