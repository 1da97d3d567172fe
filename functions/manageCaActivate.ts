import { app } from '@azure/functions';
import { manageHandler, MANAGE_METHODS } from '../lib/http/manage.js';

/**
 * `POST api/manage/ca-certificates/next/activate`: the next CA becomes the issuing CA at each
 * instance's next start (CA.Admin over the whole CA; logged as `ca.activate`).
 */
export const manageCaActivate = manageHandler(
  async (c) => ({
    status: 200,
    jsonBody: await c.manage.ca.activateNext(c.actor),
  }),
  ['POST'],
);

app.http('manageCaActivate', {
  route: 'api/manage/ca-certificates/next/activate',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageCaActivate,
});
