import type { RenewalDecision, RenewalRule } from '../enroll/renewal-rule.js';
import type { EnrollmentRequest, EnrollmentResult } from '../enroll/request.js';
import type { EnrollmentService } from '../enroll/service.js';
import { parseCsr, type ParsedCsr } from '../csr/parse.js';
import { describeError } from '../errors.js';
import type { Responder } from '../ra/responder.js';
import type { ScepEndpoint } from './endpoint.js';
import { isKnownMessageType, type PkiMessage } from './message.js';
import { openRequest, refuseOpen } from './pki-open.js';
import {
  fail,
  refusalText,
  success,
  UNREADABLE,
  type Delivery,
  type Refuse,
  type Reply,
} from './pki-reply.js';
import { checkSigner, transactionRef } from './pki-request.js';
import { authorizeScepRequest, renewalReqRefusal, signerSerial } from './renewal.js';
import { FailInfo, MessageType } from './types.js';

export interface EnrollDeps {
  readonly caResponder: () => Responder;
  readonly enrollment: EnrollmentService;
  readonly renewal: RenewalRule;
  readonly clock: () => Date;
}

/** PKCSReq and RenewalReq (RFC 8894 §3.3.1): a certificate issued, delivered after its CertRep. */
export async function enroll(
  d: EnrollDeps,
  endpoint: ScepEndpoint,
  msg: PkiMessage,
  refuse: Refuse,
): Promise<Reply | Delivery> {
  // Everything that can refuse without the CA key comes before the envelope is opened: an
  // unauthenticated request costs one private-key operation, the FAILURE's signature. The
  // signer's key type is checked before this (pki-operation.ts).
  const receiver = { kind: 'scep', endpoint: endpoint.name } as const;
  const signer = await checkSigner(d.renewal, endpoint, msg);
  const isRenewalReq = isKnownMessageType(msg.messageType) && msg.messageType === MessageType.RenewalReq;
  const early = isRenewalReq ? renewalReqRefusal(signer) : undefined;
  if (early)
    return refuse(
      early.reason,
      `the request was not authorized: ${early.reason}`,
      FailInfo.badRequest,
      early.detail,
    );
  const opened = await openRequest(endpoint, msg, d.caResponder);
  if ('error' in opened) return refuseOpen(refuse, opened);
  let csr: ParsedCsr;
  try {
    csr = parseCsr(opened.content);
  } catch (e) {
    // Garbage after unwrapping is answered like undecryptable content (no padding oracle).
    return refuse(UNREADABLE.reason, UNREADABLE.error, UNREADABLE.failInfo, describeError(e), [
      {
        name: 'content',
        actual: `${opened.content.length} bytes, starting ${Buffer.from(opened.content.subarray(0, 4)).toString('hex')}`,
      },
    ]);
  }
  const decision = await d.renewal.decide(msg.signerCertificateDer, csr, receiver, signer);
  const request = enrollmentRequest(d, endpoint, msg, csr, isRenewalReq, decision);
  const result = await d.enrollment.enroll(request);
  if (!result.ok) return refusal(result);
  return {
    outcome: success(endpoint, result.issued.der, msg, opened.cipher),
    afterSigned: async () => {
      const delivered = await d.enrollment.deliver(request, result);
      return delivered.ok ? undefined : fail(FailInfo.badRequest, refusalText(delivered));
    },
    notSigned: (e) => {
      d.enrollment.undelivered(request, result, e);
    },
  };
}

/**
 * A refused enrollment's FAILURE. One that someone must hear of (Intune's failureNotification) is
 * announced once the FAILURE is signed, as a SUCCESS is: a client that got no CertRep (HTTP 503)
 * sends the transaction again, and Intune must not hear it failed and then succeeded.
 */
function refusal(result: Extract<EnrollmentResult, { ok: false }>): Reply | Delivery {
  const refused = fail(FailInfo.badRequest, refusalText(result));
  const announce = result.announce;
  if (!announce) return refused;
  return {
    outcome: refused,
    afterSigned: async () => {
      await announce();
      return undefined;
    },
  };
}

/** The enrollment use case's request: authorized by the renewal decision or the challenge. */
function enrollmentRequest(
  d: EnrollDeps,
  endpoint: ScepEndpoint,
  msg: PkiMessage,
  csr: ParsedCsr,
  isRenewalReq: boolean,
  decision: RenewalDecision,
): EnrollmentRequest {
  return {
    endpoint: endpoint.name,
    operation: isRenewalReq ? 'RenewalReq' : 'PKCSReq',
    csr,
    profile: endpoint.profile,
    transactionId: msg.transactionId,
    context: endpoint.owner,
    transactionRef: transactionRef(endpoint.name, msg.transactionId, msg.messageType, signerSerial(decision)),
    hooks: endpoint.hooks,
    authorize: () =>
      authorizeScepRequest({
        endpoint,
        isRenewalReq,
        decision,
        now: d.clock(),
        challenge: () =>
          endpoint.authorizer.challenge({
            endpoint: endpoint.name,
            transactionId: msg.transactionId,
            csr,
            challengePassword: csr.challengePassword,
          }),
      }),
  };
}
