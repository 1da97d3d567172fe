import { createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { IssuerAndSerialNumber } from '@peculiar/asn1-cms';
import type { ComparedValue } from '../audit/event.js';
import { clientReason, reasonEntry, type ReasonCode } from '../audit/reasons.js';
import type { AuditLog } from '../audit/sink.js';
import { serialHex } from '../ca/sign.js';
import type { ContentCipher } from '../cms/ciphers.js';
import { certsOnly } from '../cms/certs-only.js';
import type { ResponseCipher } from '../config/core.js';
import { parseCsr, type ParsedCsr } from '../csr/parse.js';
import { kid, oid, parseBer } from '../cms/ber.js';
import type { EnrollmentRequest, EnrollmentResult, EnrollmentService } from '../enroll/service.js';
import { describeError, isAppError } from '../errors.js';
import type { HashAlgorithm } from '../keys/types.js';
import { CaCannotDecrypt, type Responder } from '../ra/responder.js';
import { nameDerToString } from '../x509/names.js';
import { hasStoredCertificate } from '../store/storage-policy.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import { buildCertRep, type CertRepOutcome } from './certrep.js';
import type { ScepEndpoint } from './endpoint.js';
import {
  EnvelopeContentError,
  EnvelopeError,
  envelopeCipher,
  openEnvelopeFor,
  sealEnvelope,
} from './envelope.js';
import { isKnownMessageType, parsePkiMessage, type PkiMessage } from './message.js';
import { authorizeScepRequest, renewalReqRefusal, signerIsOurs, signerSerial } from './renewal.js';
import type { RenewalDecision, RenewalRule } from '../enroll/renewal-rule.js';
import { FailInfo, MessageType, OID, PKIStatus } from './types.js';

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

type Reply = CertRepOutcome;
type Refuse = (
  reason: ReasonCode,
  text: string,
  failInfo?: FailInfo,
  detail?: string,
  compared?: readonly ComparedValue[],
) => Reply;

interface OpenFailure {
  readonly reason: ReasonCode;
  readonly error: string;
  readonly failInfo: FailInfo;
  readonly detail?: string;
  readonly compared?: readonly ComparedValue[];
}

/** What the HTTP adapter saw, for the audit event of a message that does not parse. */
export interface TransportFacts {
  readonly contentType?: string | undefined;
  readonly method?: string | undefined;
}

/**
 * The one answer to every failure after the content key was unwrapped: bad padding (a
 * substitute key), content that does not decrypt, content that is not a CSR (or not an
 * IssuerAndSerialNumber). Same failInfo, same text, same path (RFC 3218 §2.3.2).
 */
const UNREADABLE = {
  reason: 'envelope-content-unreadable' as ReasonCode,
  error: 'the pkcsPKIEnvelope content cannot be decrypted or read',
  failInfo: FailInfo.badMessageCheck,
} as const;
const fail = (failInfo: FailInfo, failInfoText: string): Reply => ({
  status: PKIStatus.FAILURE,
  failInfo,
  failInfoText,
});

/**
 * A SUCCESS that still has to be delivered: `afterSigned` runs once its CertRep exists (the
 * Intune notification; a FAILURE it returns replaces the reply), `notSigned` when the CertRep
 * could not be signed (nothing is announced; the client's retry replays the certificate).
 */
interface Delivery {
  readonly outcome: Reply;
  readonly afterSigned: () => Promise<Reply | undefined>;
  readonly notSigned?: (error: unknown) => void;
}

/**
 * PKIOperation (RFC 8894 §3.3): everything after the HTTP layer. A message that cannot be
 * parsed throws AppError BAD_REQUEST (→ HTTP 400); once it parses, every refusal is a signed
 * CertRep FAILURE with a failInfo and a failInfoText that says why.
 */
export class PkiOperation {
  constructor(private readonly d: PkiOperationDeps) {}

  async handle(endpoint: ScepEndpoint, der: Uint8Array, seen: TransportFacts = {}): Promise<Uint8Array> {
    let msg: PkiMessage;
    try {
      msg = parsePkiMessage(der);
    } catch (e) {
      // Answered with HTTP 400 by the adapter; recorded here with what the parser saw.
      this.d.audit.record({
        kind: 'enrollment',
        endpoint: endpoint.name,
        ...endpoint.owner,
        operation: 'PKIOperation',
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
    const responder = this.responder(endpoint);
    let answer: Reply | Delivery;
    try {
      answer = await this.outcome(endpoint, msg);
    } catch (e) {
      // Anything unexpected after parsing (a store read failing, …) is still answered in-band.
      this.d.audit.record({
        kind: 'enrollment',
        endpoint: endpoint.name,
        ...endpoint.owner,
        operation: 'PKIOperation',
        transactionId: msg.transactionId,
        actor: nameDerToString(msg.signer.subject),
        outcome: 'failed',
        reason: 'internal',
        message: describeError(e),
      });
      answer = fail(FailInfo.badRequest, 'the request could not be processed now; retry later');
    }
    const sign = (outcome: Reply): Promise<Uint8Array> =>
      buildCertRep({
        transactionId: msg.transactionId,
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

  /** A stored certificate handed out again (CertPoll, GetCert): delivered like a new one. */
  private redeliver(
    endpoint: ScepEndpoint,
    msg: PkiMessage,
    record: CertificateRecord,
    outcome: Reply,
  ): Delivery {
    return {
      outcome,
      afterSigned: async () => {
        try {
          await this.d.deliver(record);
          return undefined;
        } catch (e) {
          this.d.audit.record({
            kind: 'enrollment',
            endpoint: endpoint.name,
            ...endpoint.owner,
            operation: MessageType[msg.messageType] ?? 'PKIOperation',
            transactionId: msg.transactionId,
            actor: nameDerToString(msg.signer.subject),
            subject: record.subject,
            outcome: 'failed',
            reason: 'delivery-refused',
            message: `endpoint '${endpoint.name}': certificate ${record.serialNumber} not delivered: ${describeError(e)}`,
            serialNumber: record.serialNumber,
            authorization: record.authorization,
          });
          return fail(FailInfo.badRequest, 'the certificate could not be delivered; retry later');
        }
      },
    };
  }

  private async outcome(endpoint: ScepEndpoint, msg: PkiMessage): Promise<Reply | Delivery> {
    const refuse: Refuse = (reason, text, failInfo = FailInfo.badRequest, detail, compared) => {
      this.d.audit.record({
        kind: 'enrollment',
        endpoint: endpoint.name,
        ...endpoint.owner,
        operation: MessageType[msg.messageType] ?? `messageType ${msg.messageType}`,
        transactionId: msg.transactionId,
        actor: nameDerToString(msg.signer.subject),
        subject: nameDerToString(msg.signer.subject),
        // An outage is not the device's fault: recorded as failed, like the enrollment layer does.
        outcome: reasonEntry(reason).check === 'availability' ? 'failed' : 'refused',
        reason,
        message: `endpoint '${endpoint.name}': ${detail ?? text}`,
        compared,
      });
      return fail(failInfo, text);
    };
    if (!msg.signatureValid)
      return refuse(
        'message-signature-invalid',
        'the pkiMessage signature does not verify',
        FailInfo.badMessageCheck,
      );
    if (!msg.signerSelfSigned) {
      // Not self-signed: it must be a certificate of this CA (RFC 8894 §2.3); one that only
      // names us, or names someone else, vouches for nothing.
      const c = await this.checkSigner(endpoint, msg);
      if (!signerIsOurs(c))
        return refuse(
          'signer-certificate-invalid',
          'the request signer certificate is neither self-signed nor issued by this CA',
          FailInfo.badMessageCheck,
        );
    }
    switch (isKnownMessageType(msg.messageType) ? msg.messageType : undefined) {
      case MessageType.PKCSReq:
      case MessageType.RenewalReq:
        return this.enroll(endpoint, msg, refuse);
      case MessageType.CertPoll:
        return this.poll(endpoint, msg, refuse);
      case MessageType.GetCert:
        return this.getCert(endpoint, msg, refuse);
      case MessageType.GetCRL:
        return refuse('crl-not-available', 'this CA does not publish CRLs over SCEP yet');
      default:
        return refuse('message-type-unsupported', `messageType ${msg.messageType} is not supported`);
    }
  }

  /** The shared renewal rule's verdict on the request signer (lib/enroll/renewal-rule.ts). */
  private checkSigner(endpoint: ScepEndpoint, msg: PkiMessage): Promise<RenewalDecision> {
    return this.d.renewal.checkSigner(
      { der: msg.signerCertificateDer, spki: msg.signer.spki, selfSigned: msg.signerSelfSigned },
      { kind: 'scep', endpoint: endpoint.name },
    );
  }

  /** Who signs and decrypts for `endpoint`: its RA, or the CA (lib/ra/responder.ts). */
  private responder(endpoint: ScepEndpoint): Responder {
    return endpoint.responder ?? this.d.caResponder();
  }

  private async open(
    endpoint: ScepEndpoint,
    msg: PkiMessage,
  ): Promise<{ content: Uint8Array; cipher: ContentCipher } | OpenFailure> {
    try {
      return await openEnvelopeFor(msg.envelope, this.responder(endpoint).recipients);
    } catch (e) {
      if (e instanceof CaCannotDecrypt) {
        return { reason: 'ca-cannot-decrypt', error: e.message, failInfo: FailInfo.badAlg };
      }
      // The client gets the one answer; the audit event keeps what the envelope named.
      if (e instanceof EnvelopeContentError) {
        const recipient = e.reason === 'envelope-recipient-mismatch';
        return {
          ...UNREADABLE,
          ...(recipient ? { reason: e.reason } : {}),
          detail: e.message,
          compared: e.compared,
        };
      }
      if (e instanceof EnvelopeError) {
        return {
          reason: e.reason,
          error: e.message,
          failInfo: FailInfo.badMessageCheck,
          compared: e.compared,
        };
      }
      if (isAppError(e) && e.code === 'DEPENDENCY_UNAVAILABLE')
        return {
          reason: 'ca-key-unavailable',
          error: 'the CA key is unavailable; retry later',
          failInfo: FailInfo.badRequest,
          detail: describeError(e),
        };
      if (isAppError(e) && e.code === 'BAD_REQUEST')
        return { reason: 'envelope-invalid', error: e.message, failInfo: FailInfo.badRequest };
      // Unexpected: the cause goes to the audit log, not to the client.
      return {
        reason: 'envelope-invalid',
        error: 'the pkcsPKIEnvelope cannot be opened',
        failInfo: FailInfo.badMessageCheck,
        detail: describeError(e),
      };
    }
  }

  private refuseOpen(refuse: Refuse, o: OpenFailure): Reply {
    return refuse(o.reason, o.error, o.failInfo, o.detail, o.compared);
  }

  private async enroll(endpoint: ScepEndpoint, msg: PkiMessage, refuse: Refuse): Promise<Reply | Delivery> {
    // Everything that can refuse without the CA key comes before the envelope is opened: an
    // unauthenticated request costs one private-key operation, the FAILURE's signature.
    if (!isRsaKey(msg.signer.spki)) {
      // The reply is encrypted to the request signer's key with RSA key transport.
      return refuse(
        'signer-key-not-rsa',
        'the request signer certificate must carry an RSA key: the reply is encrypted to it',
        FailInfo.badAlg,
      );
    }
    const receiver = { kind: 'scep', endpoint: endpoint.name } as const;
    const signer = await this.checkSigner(endpoint, msg);
    const isRenewalReq = isKnownMessageType(msg.messageType) && msg.messageType === MessageType.RenewalReq;
    const early = isRenewalReq ? renewalReqRefusal(signer) : undefined;
    if (early)
      return refuse(
        early.reason,
        `the request was not authorized: ${early.reason}`,
        FailInfo.badRequest,
        early.detail,
      );
    const opened = await this.open(endpoint, msg);
    if ('error' in opened) return this.refuseOpen(refuse, opened);
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
    const decision = await this.d.renewal.decide(msg.signerCertificateDer, csr, receiver, signer);
    const request: EnrollmentRequest = {
      endpoint: endpoint.name,
      operation: isRenewalReq ? 'RenewalReq' : 'PKCSReq',
      csr,
      profile: endpoint.profile,
      transactionId: msg.transactionId,
      context: endpoint.owner,
      transactionRef: transactionRef(
        endpoint.name,
        msg.transactionId,
        msg.messageType,
        signerSerial(decision),
      ),
      hooks: endpoint.hooks,
      authorize: () =>
        authorizeScepRequest({
          endpoint,
          isRenewalReq,
          decision,
          now: this.d.clock(),
          challenge: () =>
            endpoint.authorizer.challenge({
              endpoint: endpoint.name,
              transactionId: msg.transactionId,
              csr,
              challengePassword: csr.challengePassword,
            }),
        }),
    };
    const result = await this.d.enrollment.enroll(request);
    if (!result.ok) return fail(FailInfo.badRequest, refusalText(result));
    return {
      outcome: this.success(endpoint, result.issued.der, msg, opened.cipher),
      afterSigned: async () => {
        const delivered = await this.d.enrollment.deliver(request, result);
        return delivered.ok ? undefined : fail(FailInfo.badRequest, refusalText(delivered));
      },
      notSigned: (e) => {
        this.d.enrollment.undelivered(request, result, e);
      },
    };
  }

  private async poll(endpoint: ScepEndpoint, msg: PkiMessage, refuse: Refuse): Promise<Reply | Delivery> {
    const signer = signerSerial(await this.checkSigner(endpoint, msg));
    for (const type of [MessageType.PKCSReq, MessageType.RenewalReq]) {
      const record = await this.d.store.getByTransactionKey(
        transactionRef(endpoint.name, msg.transactionId, type, signer),
      );
      if (record && record.status === 'issued' && hasStoredCertificate(record)) {
        // A transaction keyed by a renewal signer is already bound to that certificate; any
        // other poll must be signed by the key the certificate certifies (RFC 8894 §3.3.3: the
        // CertPoll is signed like the original request).
        if (signer === undefined && !signedByOwner(msg, record)) return notOwner(refuse);
        const cipher = envelopeCipher(msg.envelope) ?? 'DES-EDE3-CBC';
        const der = new Uint8Array(Buffer.from(record.der, 'base64'));
        return this.redeliver(endpoint, msg, record, this.success(endpoint, der, msg, cipher));
      }
    }
    return refuse(
      'transaction-unknown',
      'no certificate was issued for this transactionID',
      FailInfo.badCertId,
    );
  }

  private async getCert(endpoint: ScepEndpoint, msg: PkiMessage, refuse: Refuse): Promise<Reply | Delivery> {
    const opened = await this.open(endpoint, msg);
    if ('error' in opened) return this.refuseOpen(refuse, opened);
    let serial: string;
    try {
      serial = serialHex(AsnParser.parse(opened.content, IssuerAndSerialNumber).serialNumber);
    } catch (e) {
      return refuse(UNREADABLE.reason, UNREADABLE.error, UNREADABLE.failInfo, describeError(e));
    }
    const record = await this.d.store.getBySerial(serial);
    if (!record)
      return refuse('certificate-unknown', `no certificate with serial ${serial}`, FailInfo.badCertId);
    if (!hasStoredCertificate(record)) {
      return refuse('certificate-not-stored', `the certificate ${serial} is not stored`, FailInfo.badCertId);
    }
    // Only the holder of the certificate's key gets it (signed by the certificate itself, or by
    // any certificate for the same key).
    if (!signedByOwner(msg, record)) return notOwner(refuse);
    const der = new Uint8Array(Buffer.from(record.der, 'base64'));
    return this.redeliver(endpoint, msg, record, this.success(endpoint, der, msg, opened.cipher));
  }

  private success(
    endpoint: ScepEndpoint,
    certDer: Uint8Array,
    msg: PkiMessage,
    requestCipher: ContentCipher,
  ): Reply {
    const envelope = sealEnvelope(
      certsOnly([certDer]),
      msg.signer,
      responseCipher(endpoint.profile.replyCipher, requestCipher),
    );
    return { status: PKIStatus.SUCCESS, envelope };
  }
}

/** An account's state is for the audit trail, not for the requester (lib/audit/reasons.ts). */
function refusalText(r: Extract<EnrollmentResult, { ok: false }>): string {
  return r.kind === 'unauthorized' ? `${r.message}: ${clientReason(r.reason)}` : r.message;
}

/** The pkiMessage is signed with the key `record` certifies. */
function signedByOwner(msg: PkiMessage, record: CertificateRecord): boolean {
  return createHash('sha256').update(msg.signer.spki).digest('hex') === record.publicKeySha256;
}

function notOwner(refuse: Refuse): Reply {
  return refuse(
    'requester-not-owner',
    'the request is not signed by the key of the requested certificate',
    FailInfo.badRequest,
  );
}

function isRsaKey(spki: Uint8Array): boolean {
  try {
    return oid(kid(kid(parseBer(spki), 0), 0)) === OID.rsaEncryption;
  } catch {
    return false;
  }
}

/**
 * The reply's content cipher: the configured one, or (auto) the request's own cipher when it
 * is AES, else 3DES. Never single DES (clients built on OpenSSL 3
 * reject it without the legacy provider).
 */
export function responseCipher(
  configured: ResponseCipher,
  request: ContentCipher,
): Exclude<ContentCipher, 'DES-CBC'> {
  if (configured !== 'auto') return configured;
  return request.startsWith('AES') ? (request as Exclude<ContentCipher, 'DES-CBC'>) : 'DES-EDE3-CBC';
}

/** CertRep digest: the request's, but never weaker than SHA-256. */
function replyHash(request: HashAlgorithm): HashAlgorithm {
  return request === 'SHA-384' || request === 'SHA-512' ? request : 'SHA-256';
}

/**
 * Idempotency key (RFC 8894: a re-sent request keeps its transactionID). micromdm scepclient re-sends the same transactionID
 * for its RenewalReq (same key, same CSR), so the message type and the renewal signer are part
 * of the key: a renewal is a new transaction, a re-sent identical request is not.
 */
export function transactionRef(
  endpoint: string,
  transactionId: string,
  messageType: number,
  signerSerial: string | undefined,
): string {
  return createHash('sha256')
    .update(`${endpoint}\n${transactionId}\n${messageType}\n${signerSerial ?? ''}`)
    .digest('hex');
}
