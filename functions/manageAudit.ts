import { app } from '@azure/functions';
import { MANAGE_METHODS, requireMethod } from '../lib/http/manage.js';
import { handleAudit } from '../lib/http/audit.js';
import { problemResponse } from '../lib/http/errors.js';
import { httpHandler } from '../lib/http/handler.js';

/**
 * The audit trail: `GET api/manage/audit?from=&to=&endpoint=&account=&organization=&outcome=
 * &reason=&transactionId=&subject=&serial=&actor=&device=&top=&continuationToken=`, and
 * `&format=csv|json` for a download of every match. Scoped to what the caller administers.
 */
export const manageAudit = httpHandler((a, request) => {
  requireMethod(request, ['GET']);
  return handleAudit(a, request);
}, problemResponse);

app.http('manageAudit', {
  route: 'api/manage/audit',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageAudit,
});
