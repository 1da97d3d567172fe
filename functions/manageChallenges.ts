import { app } from '@azure/functions';
import { manageHandler, serveResource, MANAGE_METHODS } from '../lib/http/manage.js';

/** `POST api/manage/endpoints/{endpoint}/challenges`: a one-time challenge (`{ "minutes": 60 }`). */
export const manageChallenges = manageHandler((c) =>
  serveResource(c, undefined, {
    create: (body) => c.manage.accounts.challenge(c.actor, c.request.params.endpoint ?? '', body),
  }),
);

app.http('manageChallenges', {
  route: 'api/manage/endpoints/{endpoint}/challenges',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageChallenges,
});
