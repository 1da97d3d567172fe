import type { AuditLog } from '../audit.js';
import type { CertificateIssuer, IssuanceProfile, IssuedCertificate } from '../ca/issue.js';
import { describe } from '../ca/issue.js';
import type { ChallengeResult } from '../challenge/types.js';
import type { ParsedCsr } from '../csr/parse.js';
import { checkPolicy, type CsrValidator } from '../csr/policy.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CertificateRecord, CertificateStore, NotificationState } from '../store/types.js';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

export interface EnrollmentRequest {
  readonly endpoint: string;
  /** For the audit log: PKCSReq, RenewalReq, api/csr, … */
  readonly operation: string;
  readonly csr: ParsedCsr;
  readonly profile: IssuanceProfile;
  readonly policy: readonly CsrValidator[];
  readonly transactionId?: string | undefined;
  /** Idempotency key; the same key with the same public key gets the same certificate. */
  readonly transactionKey?: string | undefined;
  /** Runs after policy and idempotency checks, before anything is signed. */
  readonly authorize: () => Promise<ChallengeResult>;
  /** Initial notification state of the record (Intune: 'pending'). */
  readonly notification?: NotificationState;
  /**
   * Runs after the record is durable and before the certificate is returned. A rejection
   * means the certificate must not be delivered (Intune with WaitForSuccessNotificationResponse).
   */
  readonly afterRecord?: (record: CertificateRecord, csr: ParsedCsr) => Promise<void>;
  /** Runs when issuance fails after authorization succeeded (Intune failureNotification). */
  readonly onIssueFailed?: (reason: string, message: string) => Promise<void>;
}

export type EnrollmentFailureKind = 'unauthorized' | 'policy' | 'conflict' | 'unavailable';

export type EnrollmentResult =
  | {
      readonly ok: true;
      readonly issued: IssuedCertificate;
      readonly record: CertificateRecord;
      readonly replayed: boolean;
    }
  | {
      readonly ok: false;
      readonly kind: EnrollmentFailureKind;
      /** Stable machine-readable reason, e.g. `challenge-mismatch`, `key-too-small`. */
      readonly reason: string;
      /** Safe to show to the requester. */
      readonly message: string;
    };

/**
 * The one issuance path for every front door (SCEP endpoints, REST): policy → idempotency →
 * authorization → sign → record → deliver. Every decision is audited; nothing is returned that
 * is not recorded (DESIGN decisions 3, 4, 8).
 */
export class EnrollmentService {
  constructor(
    private readonly issuer: CertificateIssuer,
    private readonly store: CertificateStore,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async enroll(req: EnrollmentRequest): Promise<EnrollmentResult> {
    const base = { endpoint: req.endpoint, operation: req.operation, transactionId: req.transactionId, requester: req.csr.subjectString };
    const refuse = (kind: EnrollmentFailureKind, reason: string, message: string, detail?: string): EnrollmentResult => {
      this.audit.record({ ...base, outcome: kind === 'unavailable' ? 'failed' : 'refused', reason, detail: detail ?? message });
      return { ok: false, kind, reason, message };
    };

    const refusal = checkPolicy(req.csr, req.policy);
    if (refusal) return refuse('policy', refusal.reason, refusal.message);

    if (req.transactionKey !== undefined) {
      let existing: CertificateRecord | undefined;
      try {
        existing = await this.store.getByTransactionKey(req.transactionKey);
      } catch (e) {
        return refuse('unavailable', 'store-unavailable', 'the certificate store is unavailable; retry later', describeError(e));
      }
      if (existing) return this.replay(existing, req, refuse);
    }

    let auth: ChallengeResult;
    try {
      auth = await req.authorize();
    } catch (e) {
      return refuse('unavailable', 'authorization-unavailable', 'the request could not be authorized now; retry later', describeError(e));
    }
    if (!auth.ok) return refuse('unauthorized', auth.reason, 'the request was not authorized', auth.detail);

    const now = this.clock();
    let issued: IssuedCertificate;
    try {
      issued = await this.issuer.issue(req.csr, req.profile, now);
    } catch (e) {
      await this.issueFailed(req, 'signing-unavailable', 'the CA could not sign the certificate');
      return refuse('unavailable', 'signing-unavailable', 'the CA could not sign the certificate; retry later', describeError(e));
    }
    const record: CertificateRecord = {
      serialNumber: issued.serialNumber,
      thumbprintSha1: issued.thumbprintSha1,
      thumbprintSha256: issued.thumbprintSha256,
      subject: issued.subject,
      sans: issued.sans,
      issuer: issued.issuer,
      notBefore: issued.notBefore.toISOString(),
      notAfter: issued.notAfter.toISOString(),
      endpoint: req.endpoint,
      authorization: auth.authorization,
      requester: auth.requester ?? req.csr.subjectString,
      transactionId: req.transactionId,
      transactionKey: req.transactionKey,
      publicKeySha256: req.csr.publicKeySha256,
      status: 'issued',
      ...(req.notification && req.notification !== 'none'
        ? { notification: { state: req.notification, attempts: 0, updatedAt: now.toISOString() } }
        : {}),
      der: Buffer.from(issued.der).toString('base64'),
      createdAt: now.toISOString(),
    };
    let created;
    try {
      created = await this.store.create(record);
    } catch (e) {
      await this.issueFailed(req, 'store-unavailable', 'the certificate could not be recorded');
      return refuse('unavailable', 'store-unavailable', 'the certificate could not be recorded; retry later', describeError(e));
    }
    // A concurrent identical request won the race: answer with its certificate, never a second one.
    if (!created.created) return this.replay(created.existing, req, refuse);

    if (req.afterRecord) {
      try {
        await req.afterRecord(created.record, req.csr);
      } catch (e) {
        return refuse('unavailable', 'delivery-refused', 'the certificate could not be delivered; retry later', describeError(e));
      }
    }
    this.audit.record({ ...base, outcome: 'issued', serialNumber: issued.serialNumber, authorization: auth.authorization });
    return { ok: true, issued, record: created.record, replayed: false };
  }

  private replay(
    existing: CertificateRecord,
    req: EnrollmentRequest,
    refuse: (kind: EnrollmentFailureKind, reason: string, message: string, detail?: string) => EnrollmentResult,
  ): EnrollmentResult {
    if (existing.publicKeySha256 !== req.csr.publicKeySha256) {
      return refuse('conflict', 'transaction-key-mismatch', 'this transactionID was already used with another key');
    }
    if (existing.status !== 'issued') {
      return refuse('conflict', 'transaction-revoked', 'the certificate of this transaction has been revoked');
    }
    const der = new Uint8Array(Buffer.from(existing.der, 'base64'));
    this.audit.record({
      endpoint: req.endpoint,
      operation: req.operation,
      transactionId: req.transactionId,
      requester: req.csr.subjectString,
      outcome: 'replayed',
      serialNumber: existing.serialNumber,
      authorization: existing.authorization,
    });
    return { ok: true, issued: describe(der, AsnParser.parse(der, Certificate)), record: existing, replayed: true };
  }

  private async issueFailed(req: EnrollmentRequest, reason: string, message: string): Promise<void> {
    if (!req.onIssueFailed) return;
    try {
      await req.onIssueFailed(reason, message);
    } catch (e) {
      this.logger.warn('issue-failure hook failed', { endpoint: req.endpoint, error: describeError(e) });
    }
  }
}
