import { app } from '@azure/functions';
import { MANAGE_METHODS, requireMethod } from '../lib/http/manage.js';
import { handleExplain } from '../lib/http/audit.js';
import { problemResponse } from '../lib/http/errors.js';
import { httpHandler } from '../lib/http/handler.js';

/**
 * "Why did this device not get a certificate?": `GET api/manage/explain?transactionId=` (or
 * `subject=`, `serial=`, `device=` for the Intune device id) answers
 * `{ attempts: [{ time, endpoint, outcome, reason, message, fix, check, compared, … }] }`, oldest first.
 */
export const manageExplain = httpHandler((a, request) => {
  requireMethod(request, ['GET']);
  return handleExplain(a, request);
}, problemResponse);

app.http('manageExplain', {
  route: 'api/manage/explain',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageExplain,
});
