import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Actor } from '../admin/roles.js';
import type { App } from '../app.js';
import { AppError } from '../errors.js';
import { isRevocationReason, REVOCATION_REASONS } from '../revocation/reasons.js';
import type { CertificateRecord } from '../store/types.js';
import { readBody } from './body.js';

/**
 * `POST api/manage/certificates/{serial}/revoke` `{"reason": "<RFC 5280 CRLReason>"}` and
 * `…/unrevoke`: 200 with the record, 404 unknown serial, 409 already revoked / not on hold.
 * Authorized like the rest of the management API: CA.Admin, or CA.Operator within scope; a
 * certificate outside the caller's scope answers 404, as an unknown one does.
 */
export async function handleManageRevoke(
  app: App,
  request: HttpRequest,
  actor: Actor,
  action: 'revoke' | 'unrevoke',
): Promise<HttpResponseInit> {
  const serial = request.params.serial ?? '';
  const before = await app.admin.certificates.forRevocation(actor, serial);
  // The revocation use case records the audit event (actor, organization, before and after).
  const who = { serial: before.serialNumber, actor: actor.id };
  const after =
    action === 'unrevoke'
      ? await app.revocation.service.unrevoke(who)
      : await app.revocation.service.revoke({ ...who, reason: reasonOf(await readBody(request, 4096)) });
  return ok(after);
}

function reasonOf(body: Uint8Array): ReturnType<typeof parseReason> {
  if (body.length === 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (e) {
    throw new AppError('BAD_REQUEST', 'the body is not JSON', { cause: e });
  }
  return parseReason(json);
}

function parseReason(json: unknown): (typeof REVOCATION_REASONS)[number] | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new AppError('BAD_REQUEST', 'expected a JSON object: {"reason": "<RFC 5280 CRLReason>"}');
  }
  // A misspelt field must not revoke with the default reason: revocation cannot be undone.
  const unknown = Object.keys(json).filter((k) => k !== 'reason');
  if (unknown.length > 0) {
    throw new AppError('BAD_REQUEST', `unknown field ${unknown.join(', ')}: only reason is accepted`);
  }
  const reason = (json as { reason?: unknown }).reason;
  if (reason === undefined || reason === null) return undefined;
  if (!isRevocationReason(reason)) {
    throw new AppError('BAD_REQUEST', `reason must be one of ${REVOCATION_REASONS.join(', ')}`);
  }
  return reason;
}

/** The record as the management API shows it: no certificate bytes, no store internals. */
function ok(r: CertificateRecord): HttpResponseInit {
  const hidden = new Set(['der', 'etag', 'notification']);
  return { status: 200, jsonBody: Object.fromEntries(Object.entries(r).filter(([k]) => !hidden.has(k))) };
}
