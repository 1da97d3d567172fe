import { app } from '@azure/functions';
import { manageHandler, MANAGE_METHODS } from '../lib/http/manage.js';
import { handleManageRevoke } from '../lib/http/manage-revoke.js';

/** Revoke a certificate (RFC 5280 reason in the JSON body), or release one on certificateHold. */
export const manageRevoke = manageHandler(
  (c) => handleManageRevoke(c.app, c.request, c.actor, 'revoke'),
  ['POST'],
);
export const manageUnrevoke = manageHandler(
  (c) => handleManageRevoke(c.app, c.request, c.actor, 'unrevoke'),
  ['POST'],
);

const route = (action: string): string => `api/manage/certificates/{serial}/${action}`;
app.http('manageRevoke', {
  route: route('revoke'),
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageRevoke,
});
app.http('manageUnrevoke', {
  route: route('unrevoke'),
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageUnrevoke,
});
