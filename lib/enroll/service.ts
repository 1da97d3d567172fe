import { createHash } from 'node:crypto';
import type { ComparedValue } from '../audit/event.js';
import type { ReasonCode } from '../audit/reasons.js';
import type { AuditLog } from '../audit/sink.js';
import type { CertificateIssuer, IssuedCertificate } from '../ca/issue.js';
import { describe } from '../ca/issue.js';
import type { ChallengeResult } from '../challenge/types.js';
import type { ParsedCsr } from '../csr/parse.js';
import { checkPolicy } from '../csr/policy.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CertificateRecord, CertificateStore, CreateResult } from '../store/types.js';
import type { EnrollmentProfile, IssuanceHooks } from './endpoint.js';
import { hasStoredCertificate } from '../store/storage-policy.js';
import { draftRecord } from './draft-record.js';
import { auditBase, deliveredEvent } from './events.js';
import { KEEP_SUPERSEDED, type SupersedeOnDelivery } from '../revocation/supersede.js';

export interface EnrollmentRequest {
  readonly endpoint: string;
  /** For the audit log: PKCSReq, RenewalReq, api/csr, … */
  readonly operation: string;
  readonly csr: ParsedCsr;
  /** The endpoint's profile: validators, what to issue, whether to keep the DER. */
  readonly profile: EnrollmentProfile;
  readonly transactionId?: string | undefined;
  /** Who the request belongs to, for the audit trail (endpoints as data: account, organization). */
  readonly context?: EnrollmentContext | undefined;
  /**
   * Names the transaction (SCEP: endpoint + transactionID + message type + renewal signer).
   * The same transaction with the same CSR gets the same certificate again; with another
   * public key it is refused.
   */
  readonly transactionRef?: string | undefined;
  /** Runs after policy and idempotency checks, before anything is signed. */
  readonly authorize: () => Promise<ChallengeResult>;
  /** Who hears of the issuance (Intune notifications); NO_HOOKS for most endpoints. */
  readonly hooks: IssuanceHooks;
}

export interface EnrollmentContext {
  readonly account?: string | undefined;
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
  /** Intune device id, when known. */
  readonly device?: string | undefined;
}

type Resolution =
  | { readonly kind: 'new'; readonly transactionKey: string }
  | { readonly kind: 'replay'; readonly record: CertificateRecord }
  | { readonly kind: 'conflict' };

export type EnrollmentFailureKind = 'unauthorized' | 'policy' | 'conflict' | 'unavailable';

/** Audit a refusal and answer it. */
type Refuse = (
  kind: EnrollmentFailureKind,
  reason: ReasonCode,
  message: string,
  detail?: string,
  compared?: readonly ComparedValue[],
) => EnrollmentResult;

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
      /** Catalogue code (lib/audit/reasons.ts), e.g. `challenge-mismatch`, `key-too-small`. */
      readonly reason: ReasonCode;
      /** Safe to show to the requester. */
      readonly message: string;
    };

/**
 * The one issuance path for every front door (SCEP endpoints, REST): policy → idempotency →
 * authorization → sign → record → deliver. Every decision is audited; nothing is returned that
 * is not recorded.
 */
export class EnrollmentService {
  constructor(
    /** Issues with one snapshot of the issuing CA per certificate (lib/ca/holder.ts). */
    private readonly issuer: Pick<CertificateIssuer, 'issue'>,
    private readonly store: CertificateStore,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    /** A delivered renewal may revoke the certificate it renews (per the endpoint's profile). */
    private readonly supersede: SupersedeOnDelivery = KEEP_SUPERSEDED,
  ) {}

  async enroll(req: EnrollmentRequest): Promise<EnrollmentResult> {
    const base = auditBase(req);
    const refuse: Refuse = (kind, reason, message, detail, compared) => {
      this.audit.record({
        ...base,
        outcome: kind === 'unavailable' ? 'failed' : 'refused',
        reason,
        message: `endpoint '${req.endpoint}': ${detail ?? message}`,
        compared,
      });
      return { ok: false, kind, reason, message };
    };

    const refusal = checkPolicy(req.csr, req.profile.policy);
    if (refusal) return refuse('policy', refusal.reason, refusal.message, undefined, refusal.compared);

    const claim = await this.claimTransaction(req, refuse);
    if ('ok' in claim) return claim;
    const { transactionKey } = claim;

    let auth: ChallengeResult;
    try {
      auth = await req.authorize();
    } catch (e) {
      return refuse(
        'unavailable',
        'authorization-unavailable',
        'the request could not be authorized now; retry later',
        describeError(e),
      );
    }
    if (!auth.ok) {
      return refuse(
        'unauthorized',
        auth.reason,
        'the request was not authorized',
        auth.detail,
        auth.compared,
      );
    }

    const now = this.clock();
    // A renewal re-issues the original certificate: its endpoint's profile, whatever the
    // receiving front door's profile is (lib/enroll/renewal-rule.ts).
    const profile = auth.renewal?.profile ?? req.profile.issuance;
    let issued: IssuedCertificate;
    try {
      issued = await this.issuer.issue(req.csr, profile, now);
    } catch (e) {
      await this.issueFailed(req, 'signing-unavailable', 'the CA could not sign the certificate');
      return refuse(
        'unavailable',
        'signing-unavailable',
        'the CA could not sign the certificate; retry later',
        describeError(e),
      );
    }
    const draft = draftRecord({ req, issued, auth, profile, transactionKey, now });
    const created = await this.record(draft, req, refuse);
    if ('ok' in created) return created;
    // A concurrent identical request won the race: answer with its certificate, never a second one.
    if (!created.created) return this.replay(created.existing, req, refuse);

    return { ok: true, issued, record: created.record, replayed: false };
  }

  /** A new transaction gets its key; a retried one is answered (replay) or refused here. */
  private async claimTransaction(
    req: EnrollmentRequest,
    refuse: Refuse,
  ): Promise<{ readonly transactionKey: string | undefined } | EnrollmentResult> {
    if (req.transactionRef === undefined) return { transactionKey: undefined };
    let resolved: Resolution;
    try {
      resolved = await this.resolveTransaction(req.transactionRef, req.csr);
    } catch (e) {
      return refuse(
        'unavailable',
        'store-unavailable',
        'the certificate store is unavailable; retry later',
        describeError(e),
      );
    }
    if (resolved.kind === 'replay') return this.replay(resolved.record, req, refuse);
    if (resolved.kind === 'conflict')
      return refuse(
        'conflict',
        'transaction-key-mismatch',
        'this transactionID was already used with another key',
      );
    return { transactionKey: resolved.transactionKey };
  }

  /**
   * Write the record; the store's unique transaction key decides between concurrent requests.
   * A request of the same transaction with the same key but another CSR that lost the race for
   * `ref` takes this CSR's own transaction key and writes again (at most three attempts).
   */
  private async record(
    draft: CertificateRecord,
    req: EnrollmentRequest,
    refuse: Refuse,
  ): Promise<CreateResult | EnrollmentResult> {
    let record = draft;
    for (let attempt = 0; attempt < 3; attempt++) {
      let result: CreateResult;
      try {
        result = await this.store.create(record);
      } catch (e) {
        // No failure notification: the write may have landed (a lost acknowledgement), and the
        // client's retry would then replay and announce that certificate. A transaction is
        // never announced as both failed and succeeded; the retry settles it.
        return refuse(
          'unavailable',
          'store-unavailable',
          'the certificate could not be recorded; retry later',
          describeError(e),
        );
      }
      const existing = result.created ? undefined : result.existing;
      const raced =
        existing !== undefined &&
        req.transactionRef !== undefined &&
        existing.publicKeySha256 === req.csr.publicKeySha256 &&
        existing.csrSha256 !== req.csr.sha256;
      if (!raced) return result;
      // Another CSR of the same transaction claimed the key first: take this CSR's own key.
      const again = await this.resolveTransaction(req.transactionRef, req.csr).catch(() => undefined);
      if (again?.kind === 'replay') return this.replay(again.record, req, refuse);
      if (again?.kind !== 'new') break;
      record = { ...record, transactionKey: again.transactionKey };
    }
    return refuse(
      'conflict',
      'transaction-busy',
      'another request of this transaction is in progress; retry',
    );
  }

  /**
   * The first request of a transaction claims `ref` itself; a later request of the same
   * transaction with the same key but another CSR (micromdm scepclient derives the
   * transactionID from the public key, so a re-enrollment with a new subject reuses it) gets
   * its own key, `ref` + CSR digest. An identical re-send finds its record under either.
   */
  private async resolveTransaction(ref: string, csr: ParsedCsr): Promise<Resolution> {
    const primary = await this.store.getByTransactionKey(ref);
    if (!primary) return { kind: 'new', transactionKey: ref };
    if (primary.publicKeySha256 !== csr.publicKeySha256) return { kind: 'conflict' };
    if (primary.csrSha256 === csr.sha256) return { kind: 'replay', record: primary };
    const key = createHash('sha256').update(`${ref}\n${csr.sha256}`).digest('hex');
    const secondary = await this.store.getByTransactionKey(key);
    return secondary ? { kind: 'replay', record: secondary } : { kind: 'new', transactionKey: key };
  }

  private replay(existing: CertificateRecord, req: EnrollmentRequest, refuse: Refuse): EnrollmentResult {
    if (existing.publicKeySha256 !== req.csr.publicKeySha256) {
      return refuse(
        'conflict',
        'transaction-key-mismatch',
        'this transactionID was already used with another key',
      );
    }
    if (existing.status !== 'issued') {
      return refuse(
        'conflict',
        'transaction-revoked',
        'the certificate of this transaction has been revoked',
      );
    }
    if (!hasStoredCertificate(existing)) {
      return refuse(
        'conflict',
        'certificate-not-stored',
        'this transaction was completed and its certificate is not stored; enroll with a new transactionID',
      );
    }
    const der = new Uint8Array(Buffer.from(existing.der, 'base64'));
    return { ok: true, issued: describe(der), record: existing, replayed: true };
  }

  /**
   * The reply carrying the certificate exists: run the delivery hook (Intune notification) and
   * audit the issuance. Nothing is announced before this point, so a reply that could not be
   * produced (a Key Vault fault on the CertRep signature) announces nothing; the client's retry
   * replays the same certificate and completes it. A refused delivery is an 'unavailable'
   * failure: the caller answers with it instead of the certificate.
   */
  async deliver(
    req: EnrollmentRequest,
    result: Extract<EnrollmentResult, { ok: true }>,
  ): Promise<EnrollmentResult> {
    const { record, replayed } = result;
    const event = {
      ...auditBase(req),
      ...(record.requester === undefined ? {} : { actor: record.requester }),
      ...(record.accountId === undefined
        ? {}
        : {
            account: record.accountId,
            organization: record.organization,
            department: record.department,
          }),
      serialNumber: record.serialNumber,
      authorization: record.authorization,
      ...(record.renewalOf === undefined ? {} : { renewalOf: record.renewalOf }),
    };
    try {
      await req.hooks.afterRecord(record, replayed);
    } catch (e) {
      const message = 'the certificate could not be delivered; retry later';
      this.audit.record({
        ...event,
        outcome: 'failed',
        reason: 'delivery-refused',
        message: `endpoint '${req.endpoint}': certificate ${record.serialNumber} not delivered: ${describeError(e)}`,
      });
      return { ok: false, kind: 'unavailable', reason: 'delivery-refused', message };
    }
    this.audit.record({ ...event, ...deliveredEvent(req.endpoint, result) });
    await this.supersede(record);
    return result;
  }

  /** The reply carrying the certificate could not be produced: nothing was announced. */
  undelivered(req: EnrollmentRequest, result: Extract<EnrollmentResult, { ok: true }>, error: unknown): void {
    this.audit.record({
      ...auditBase(req),
      outcome: 'failed',
      reason: 'reply-unavailable',
      message: `endpoint '${req.endpoint}': certificate ${result.record.serialNumber} recorded but not delivered: ${describeError(error)}`,
      serialNumber: result.record.serialNumber,
      authorization: result.record.authorization,
    });
  }

  private async issueFailed(req: EnrollmentRequest, reason: ReasonCode, message: string): Promise<void> {
    try {
      await req.hooks.issueFailed({ transactionId: req.transactionId, csr: req.csr }, reason, message);
    } catch (e) {
      this.logger.warn('issue-failure hook failed', { endpoint: req.endpoint, error: describeError(e) });
    }
  }
}
