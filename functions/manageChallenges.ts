import { app } from '@azure/functions';
import { manageHandler, serveResource } from '../lib/http/manage.js';

/** `POST api/manage/endpoints/{endpoint}/challenges`: a one-time challenge (`{ "minutes": 60 }`). */
export const manageChallenges = manageHandler((c) =>
  serveResource(c, undefined, {
    create: (body) => c.manage.accounts.challenge(c.actor, c.request.params.endpoint ?? '', body),
  }),
);

app.http('manageChallenges', {
  route: 'api/manage/endpoints/{endpoint}/challenges',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: manageChallenges,
});
