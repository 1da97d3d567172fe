import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { isLocalAdmin } from '../admin/local-key.js';
import type { App } from '../app.js';
import { AppError } from '../errors.js';
import { isRevocationReason, REVOCATION_REASONS } from '../revocation/reasons.js';
import type { CertificateRecord } from '../store/types.js';
import { readBody } from './body.js';

/**
 * `POST api/manage/certificates/{serial}/revoke` `{"reason": "<RFC 5280 CRLReason>"}` and
 * `…/unrevoke`: 200 with the record, 404 unknown serial, 409 already revoked / not on hold.
 * Authorized by the local administrator key (`Authorization: Bearer <admin-key.txt>`).
 */
export async function handleManageRevoke(
  app: App,
  request: HttpRequest,
  action: 'revoke' | 'unrevoke',
): Promise<HttpResponseInit> {
  if (!isLocalAdmin(request.headers.get('authorization'), app.adminKey)) {
    throw new AppError('UNAUTHORIZED', 'an administrator key is required', {
      detail: { wwwAuthenticate: 'Bearer realm="azure-scep-ca management"' },
    });
  }
  const serial = request.params.serial ?? '';
  const actor = 'local-admin';
  if (action === 'unrevoke') return ok(await app.revocation.service.unrevoke({ serial, actor }));
  const reason = reasonOf(await readBody(request, 4096));
  return ok(await app.revocation.service.revoke({ serial, reason, actor }));
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
  if (typeof json !== 'object' || json === null) throw new AppError('BAD_REQUEST', 'expected a JSON object');
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
