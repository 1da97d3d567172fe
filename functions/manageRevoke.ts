import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { handleManageRevoke } from '../lib/http/manage-revoke.js';

/** Revoke a certificate (RFC 5280 reason in the JSON body), or release one on certificateHold. */
export const manageRevoke = httpHandler((a, request) => handleManageRevoke(a, request, 'revoke'));
export const manageUnrevoke = httpHandler((a, request) => handleManageRevoke(a, request, 'unrevoke'));

const route = (action: string): string => `api/manage/certificates/{serial}/${action}`;
app.http('manageRevoke', {
  route: route('revoke'),
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: manageRevoke,
});
app.http('manageUnrevoke', {
  route: route('unrevoke'),
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: manageUnrevoke,
});
