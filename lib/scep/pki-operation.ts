import type { AuditLog } from '../audit/sink.js';
import type { EnrollmentService } from '../enroll/service.js';
import type { RenewalRule } from '../enroll/renewal-rule.js';
import { describeError, isAppError } from '../errors.js';
import type { Responder } from '../ra/responder.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import { buildCertRep } from './certrep.js';
import type { ScepEndpoint } from './endpoint.js';
import { isKnownMessageType, parsePkiMessage, type PkiMessage } from './message.js';
import { enroll } from './pki-enroll.js';
import { responderFor } from './pki-open.js';
import { fail, refuser, replyHash, type Delivery, type Reply } from './pki-reply.js';
import { checkSigner, isRsaKey } from './pki-request.js';
import { getCert, poll } from './pki-stored.js';
import { signerIsOurs } from './renewal.js';
import { FailInfo, MessageType } from './types.js';

export interface PkiOperationDeps {
  /**
   * Signs CertReps and opens envelopes for an endpoint resolved without a responder: the
   * issuing CA's (lib/ra/responder.ts).
   */
  readonly caResponder: () => Responder;
  readonly store: CertificateStore;
  readonly enrollment: EnrollmentService;
  /** The shared renewal rule (lib/enroll/renewal-rule.ts). */
  readonly renewal: RenewalRule;
  /**
   * Before a stored certificate is handed out again (CertPoll, GetCert): its endpoint's delivery
   * hook (Intune: announce it, or confirm it under WaitForSuccessNotificationResponse). A
   * rejection withholds the certificate.
   */
  readonly deliver: (record: CertificateRecord) => Promise<void>;
  readonly audit: AuditLog;
  readonly clock: () => Date;
}

/** What the HTTP adapter saw, for the audit event of a message that does not parse. */
export interface TransportFacts {
  readonly contentType?: string | undefined;
  readonly method?: string | undefined;
}

/**
 * PKIOperation (RFC 8894 §3.3): everything after the HTTP layer. A message that cannot be
 * parsed throws AppError BAD_REQUEST (→ HTTP 400); once it parses, every refusal is a signed
 * CertRep FAILURE with a failInfo and a failInfoText that says why. The phases: the envelope is
 * opened in pki-open.ts, PKCSReq/RenewalReq are answered in pki-enroll.ts, CertPoll/GetCert in
 * pki-stored.ts, and CertRep outcomes are built in pki-reply.ts.
 */
export class PkiOperation {
  constructor(private readonly d: PkiOperationDeps) {}

  async handle(endpoint: ScepEndpoint, der: Uint8Array, seen: TransportFacts = {}): Promise<Uint8Array> {
    const msg = this.parse(endpoint, der, seen);
    const responder = responderFor(endpoint, this.d.caResponder);
    let answer: Reply | Delivery;
    try {
      answer = await this.outcome(endpoint, msg);
    } catch (e) {
      // Anything unexpected after parsing (a store read failing, …) is still answered in-band.
      this.d.audit.record({
        ...pkiEvent(endpoint),
        transactionId: msg.transactionId,
        actor: msg.signerSubject,
        outcome: 'failed',
        reason: 'internal',
        message: describeError(e),
      });
      answer = fail(FailInfo.badRequest, 'the request could not be processed now; retry later');
    }
    return this.reply(msg, responder, answer);
  }

  /** The pkiMessage; one that does not parse is recorded with what the parser saw and thrown. */
  private parse(endpoint: ScepEndpoint, der: Uint8Array, seen: TransportFacts): PkiMessage {
    try {
      return parsePkiMessage(der);
    } catch (e) {
      // Answered with HTTP 400 by the adapter; recorded here with what the parser saw.
      this.d.audit.record({
        ...pkiEvent(endpoint),
        outcome: 'refused',
        reason: 'message-unparseable',
        message: `endpoint '${endpoint.name}': ${isAppError(e) ? e.message : 'the SCEP message cannot be parsed'}`,
        compared: [
          {
            name: 'contentType',
            actual: seen.contentType ?? '(none)',
            required: 'application/x-pki-message',
          },
          { name: 'method', actual: seen.method },
          { name: 'bytes', actual: der.length },
          { name: 'firstBytes', actual: Buffer.from(der.subarray(0, 8)).toString('hex') },
        ],
      });
      throw e;
    }
  }

  /** The signed CertRep; a SUCCESS still to be delivered is delivered once it is signed. */
  private async reply(msg: PkiMessage, responder: Responder, answer: Reply | Delivery): Promise<Uint8Array> {
    const sign = (outcome: Reply): Promise<Uint8Array> =>
      buildCertRep({
        transactionId: msg.transactionId,
        transactionIdValue: msg.transactionIdValue,
        recipientNonce: msg.senderNonce,
        outcome,
        signerCertificate: responder.signerCertificate,
        signer: responder.signer,
        hash: replyHash(msg.digestAlgorithm),
        now: this.d.clock(),
      });
    if (!('afterSigned' in answer)) return sign(answer);
    let reply: Uint8Array;
    try {
      reply = await sign(answer.outcome);
    } catch (e) {
      answer.notSigned?.(e);
      throw e;
    }
    const instead = await answer.afterSigned();
    return instead ? sign(instead) : reply;
  }

  /** The message's signature and signer verified, then the answer to its messageType. */
  private async outcome(endpoint: ScepEndpoint, msg: PkiMessage): Promise<Reply | Delivery> {
    const refuse = refuser(this.d.audit, endpoint, msg);
    if (!msg.signatureValid)
      return refuse(
        'message-signature-invalid',
        'the pkiMessage signature does not verify',
        FailInfo.badMessageCheck,
      );
    if (!msg.signerSelfSigned) {
      // Not self-signed: it must be a certificate of this CA (RFC 8894 §2.3); one that only
      // names us, or names someone else, vouches for nothing.
      const c = await checkSigner(this.d.renewal, endpoint, msg);
      if (!signerIsOurs(c))
        return refuse(
          'signer-certificate-invalid',
          'the request signer certificate is neither self-signed nor issued by this CA',
          FailInfo.badMessageCheck,
        );
    }
    const type = isKnownMessageType(msg.messageType) ? msg.messageType : undefined;
    if (type !== undefined && ANSWERED_ENCRYPTED.includes(type) && !isRsaKey(msg.signer.spki))
      return refuse(
        'signer-key-not-rsa',
        'the request signer certificate must carry an RSA key: the reply is encrypted to it',
        FailInfo.badAlg,
      );
    switch (type) {
      case MessageType.PKCSReq:
      case MessageType.RenewalReq:
        return enroll(this.d, endpoint, msg, refuse);
      case MessageType.CertPoll:
        return poll(this.d, endpoint, msg, refuse);
      case MessageType.GetCert:
        return getCert(this.d, endpoint, msg, refuse);
      case MessageType.GetCRL:
        return refuse('crl-not-available', 'this CA does not publish CRLs over SCEP yet');
      default:
        return refuse('message-type-unsupported', `messageType ${msg.messageType} is not supported`);
    }
  }
}

/**
 * Messages whose SUCCESS carries a certificate encrypted to the request signer's key, with RSA
 * key transport (RFC 8894 §3.3.2): PKCSReq and RenewalReq, and CertPoll and GetCert, which are
 * signed by the key of the certificate they fetch.
 */
const ANSWERED_ENCRYPTED: readonly MessageType[] = [
  MessageType.PKCSReq,
  MessageType.RenewalReq,
  MessageType.CertPoll,
  MessageType.GetCert,
];

/** The fields a PKIOperation event starts with before its messageType is known. */
function pkiEvent(endpoint: ScepEndpoint) {
  return {
    kind: 'enrollment',
    endpoint: endpoint.name,
    ...endpoint.owner,
    operation: 'PKIOperation',
  } as const;
}
