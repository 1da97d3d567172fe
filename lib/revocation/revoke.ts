import type { AuditLog } from '../audit/sink.js';
import { AppError } from '../errors.js';
import type { CertificateRecord, CertificateStore, RevocationReason } from '../store/types.js';
import { canonicalSerial } from './reasons.js';

export interface RevokeRequest {
  readonly serial: string;
  /** RFC 5280 CRLReason; default unspecified. */
  readonly reason?: RevocationReason;
  /** Who asked (administrator id, `intune`, `renewal`, …): recorded in the audit event. */
  readonly actor: string;
  /** What asked, for the audit event's operation (default `certificate.revoke` / `.release`). */
  readonly operation?: string;
  /** The caller's scope: a record it may not see is answered NOT_FOUND, like an unknown one. */
  readonly visible?: (record: CertificateRecord) => boolean;
}

export interface RevocationDeps {
  readonly store: CertificateStore;
  /** Every revocation and release is an audit event (kind `revocation`). */
  readonly audit: AuditLog;
  /** Called after every change, so this instance's OCSP and CRL caches drop at once. */
  readonly changed: () => void;
  readonly now?: () => Date;
}

/** Optimistic update attempts before a concurrently changing record is reported as unavailable. */
const ATTEMPTS = 3;

/**
 * Revoke and release (unrevoke) certificates: the one place that changes a record's revocation
 * state. Typed errors: NOT_FOUND (unknown serial, or outside the caller's scope), CONFLICT
 * (already revoked, unless on hold and now revoked for good; release of anything but
 * certificateHold, RFC 5280 §5.3.1), BAD_REQUEST (not a serial), DEPENDENCY_UNAVAILABLE (the
 * record kept changing; nothing was changed). Every change is one audit event, whoever asked (API, Intune, a renewal).
 */
export class RevocationService {
  private readonly now: () => Date;

  constructor(private readonly deps: RevocationDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  revoke(r: RevokeRequest): Promise<CertificateRecord> {
    const reason = r.reason ?? 'unspecified';
    return this.change(r, 'revoked', (record) => {
      const held = record.revocation?.reason === 'certificateHold';
      if (record.status === 'revoked' && !(held && reason !== 'certificateHold')) {
        throw new AppError('CONFLICT', 'the certificate is already revoked', {
          detail: { serialNumber: record.serialNumber, reason: record.revocation?.reason },
        });
      }
      // RFC 5280 §3.3: a certificate on hold may be revoked for good; it has not been trusted
      // since the hold, so its revocation date stays that of the hold.
      const date = held ? record.revocation.date : this.now().toISOString();
      return { status: 'revoked', revocation: { reason, date } };
    });
  }

  /** Release a certificate on hold (certificateHold is the only reversible reason). */
  unrevoke(r: Omit<RevokeRequest, 'reason'>): Promise<CertificateRecord> {
    return this.change(r, 'released', (record) => {
      if (record.status !== 'revoked') throw new AppError('CONFLICT', 'the certificate is not revoked');
      if (record.revocation?.reason !== 'certificateHold') {
        throw new AppError('CONFLICT', 'only a certificate on hold (certificateHold) can be released');
      }
      return { status: 'issued', revocation: undefined };
    });
  }

  private async change(
    r: Omit<RevokeRequest, 'reason'>,
    outcome: 'revoked' | 'released',
    next: (record: CertificateRecord) => Pick<CertificateRecord, 'status' | 'revocation'>,
  ): Promise<CertificateRecord> {
    const serial = canonicalSerial(r.serial);
    if (serial === undefined) throw new AppError('BAD_REQUEST', 'the serial number is not hexadecimal');
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const record = await this.deps.store.getBySerial(serial);
      if (!record || (r.visible && !r.visible(record))) {
        throw new AppError('NOT_FOUND', 'no such certificate', { detail: { serialNumber: serial } });
      }
      const change = next(record);
      const updated = await this.deps.store.update(record, change);
      if (!updated) continue; // changed since it was read: read again
      this.deps.changed();
      this.record(r, outcome, record, updated);
      return updated;
    }
    // Not CONFLICT: callers read CONFLICT as "already revoked" (Intune's pull reports it done,
    // a superseded renewal stops there); a record that kept changing was not revoked at all.
    throw new AppError(
      'DEPENDENCY_UNAVAILABLE',
      'the certificate changed while it was being updated; try again',
    );
  }

  private record(
    r: Omit<RevokeRequest, 'reason'>,
    outcome: 'revoked' | 'released',
    before: CertificateRecord,
    after: CertificateRecord,
  ): void {
    const reason = after.revocation?.reason ?? before.revocation?.reason;
    this.deps.audit.record({
      kind: 'revocation',
      operation: r.operation ?? (outcome === 'revoked' ? 'certificate.revoke' : 'certificate.release'),
      actor: r.actor,
      endpoint: before.endpoint,
      account: before.accountId,
      organization: before.organization,
      department: before.department,
      subject: before.subject,
      serialNumber: before.serialNumber,
      outcome,
      reason: outcome === 'revoked' ? 'certificate-revoked' : 'certificate-released',
      message: `certificate ${before.serialNumber} ${outcome} (${reason ?? 'unspecified'}) by ${r.actor}`,
      changes: [
        { field: 'status', before: before.status, after: after.status },
        { field: 'revocation', before: before.revocation ?? null, after: after.revocation ?? null },
      ],
    });
  }
}
