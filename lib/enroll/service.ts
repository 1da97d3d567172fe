import type { ReasonCode } from '../audit/reasons.js';
import type { AuditLog } from '../audit/sink.js';
import type { CertificateIssuer, IssuedCertificate } from '../ca/issue.js';
import type { ChallengeResult } from '../challenge/types.js';
import { checkPolicy } from '../csr/policy.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { KEEP_SUPERSEDED, type SupersedeOnDelivery } from '../revocation/supersede.js';
import type { CertificateStore } from '../store/types.js';
import { draftRecord } from './draft-record.js';
import { auditBase, deliveredEvent } from './events.js';
import type { EnrollmentRequest, EnrollmentResult, Refuse } from './request.js';
import { replay, Transactions } from './transactions.js';

/**
 * The one issuance path for every front door (SCEP endpoints, REST): policy → idempotency
 * (lib/enroll/transactions.ts) → authorization → sign → record → deliver. Every decision is
 * audited; nothing is returned that is not recorded. The request and result types are in
 * lib/enroll/request.ts.
 */
export class EnrollmentService {
  private readonly transactions: Transactions;

  constructor(
    /** Issues with one snapshot of the issuing CA per certificate (lib/ca/holder.ts). */
    private readonly issuer: Pick<CertificateIssuer, 'issue'>,
    store: CertificateStore,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    /** A delivered renewal may revoke the certificate it renews (per the endpoint's profile). */
    private readonly supersede: SupersedeOnDelivery = KEEP_SUPERSEDED,
  ) {
    this.transactions = new Transactions(store);
  }

  enroll(req: EnrollmentRequest): Promise<EnrollmentResult> {
    return this.transactions.oneAtATime(req, () => this.enrollNow(req));
  }

  private async enrollNow(req: EnrollmentRequest): Promise<EnrollmentResult> {
    const refuse = this.refuser(req);
    const refusal = checkPolicy(req.csr, req.profile.policy);
    if (refusal) return refuse('policy', refusal.reason, refusal.message, undefined, refusal.compared);

    const claim = await this.transactions.claim(req, refuse);
    if ('ok' in claim) return claim;
    const { transactionKey } = claim;

    const authorized = await this.authorize(req, refuse);
    if ('ok' in authorized) return authorized;
    const { auth } = authorized;

    const now = this.clock();
    // A renewal re-issues the original certificate: its endpoint's profile, whatever the
    // receiving front door's profile is (lib/enroll/renewal-rule.ts).
    const profile = auth.renewal?.profile ?? req.profile.issuance;
    let issued: IssuedCertificate;
    try {
      issued = await this.issuer.issue(req.csr, profile, now);
    } catch (e) {
      const refused = refuse(
        'unavailable',
        'signing-unavailable',
        'the CA could not sign the certificate; retry later',
        describeError(e),
      );
      if (refused.ok) return refused;
      const announce = () =>
        this.issueFailed(req, 'signing-unavailable', 'the CA could not sign the certificate');
      return { ...refused, announce };
    }
    const draft = draftRecord({ req, issued, auth, profile, transactionKey, now });
    const created = await this.transactions.record(draft, req, refuse);
    if ('ok' in created) return created;
    // A concurrent identical request won the race: answer with its certificate, never a second one.
    if (!created.created) return replay(created.existing, req, refuse);

    return { ok: true, issued, record: created.record, replayed: false };
  }

  /**
   * The request's authorization, or its refusal: authorization unavailable, not authorized, or
   * a renewal whose request fails the CSR policy of the endpoint that issued the certificate
   * (a REST renewal of a stored endpoint's certificate gets that endpoint's profile).
   */
  private async authorize(
    req: EnrollmentRequest,
    refuse: Refuse,
  ): Promise<{ auth: Extract<ChallengeResult, { ok: true }> } | EnrollmentResult> {
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
    const renewalPolicy = auth.renewal?.policy;
    const renewalRefusal =
      renewalPolicy && renewalPolicy !== req.profile.policy ? checkPolicy(req.csr, renewalPolicy) : undefined;
    if (renewalRefusal)
      return refuse(
        'policy',
        renewalRefusal.reason,
        renewalRefusal.message,
        undefined,
        renewalRefusal.compared,
      );

    return { auth };
  }

  /** Refusals of `req`: each one an audit event and the answer. */
  private refuser(req: EnrollmentRequest): Refuse {
    const base = auditBase(req);
    return (kind, reason, message, detail, compared) => {
      this.audit.record({
        ...base,
        outcome: kind === 'unavailable' ? 'failed' : 'refused',
        reason,
        message: `endpoint '${req.endpoint}': ${detail ?? message}`,
        compared,
      });
      return { ok: false, kind, reason, message };
    };
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
