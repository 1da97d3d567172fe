import { createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { IssuerAndSerialNumber } from '@peculiar/asn1-cms';
import type { ComparedValue } from '../audit/event.js';
import { reasonEntry, type ReasonCode } from '../audit/reasons.js';
import type { AuditLog } from '../audit/sink.js';
import type { CertificateIssuer } from '../ca/issue.js';
import { serialHex } from '../ca/sign.js';
import type { ContentCipher } from '../cms/ciphers.js';
import { certsOnly } from '../cms/certs-only.js';
import type { ResponseCipher } from '../config/core.js';
import { parseCsr, type ParsedCsr } from '../csr/parse.js';
import { kid, oid, parseBer } from '../cms/ber.js';
import { generalNameToString, nameDerToString } from '../x509/names.js';
import { withinRenewalWindow } from '../enroll/endpoint.js';
import type { EnrollmentService } from '../enroll/service.js';
import { describeError, isAppError } from '../errors.js';
import { clientReason } from '../model/reasons.js';
import type { Decrypter, HashAlgorithm, Signer } from '../keys/types.js';
import { hasStoredCertificate } from '../store/storage-policy.js';
import type { CertificateStore } from '../store/types.js';
import { buildCertRep, type CertRepOutcome } from './certrep.js';
import type { ScepEndpoint } from './endpoint.js';
import { EnvelopeError, envelopeCipher, openEnvelope, sealEnvelope } from './envelope.js';
import { isKnownMessageType, parsePkiMessage, type PkiMessage } from './message.js';
import { checkRenewalSigner, type RenewalCheck } from './renewal.js';
import { FailInfo, MessageType, OID, PKIStatus } from './types.js';

export interface PkiOperationDeps {
  readonly issuer: CertificateIssuer;
  /** Signs CertReps and opens envelopes: the CA key in CA mode. */
  readonly signer: Signer;
  readonly decrypter: Decrypter;
  readonly store: CertificateStore;
  readonly enrollment: EnrollmentService;
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
const fail = (failInfo: FailInfo, failInfoText: string): Reply => ({
  status: PKIStatus.FAILURE,
  failInfo,
  failInfoText,
});

/**
 * PKIOperation (RFC 8894 §3.3): everything after the HTTP layer. A message that cannot be
 * parsed throws AppError BAD_REQUEST (→ HTTP 400); once it parses, every refusal is a signed
 * CertRep FAILURE with a failInfo and a failInfoText that says why (DESIGN decision 6).
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
    let outcome: Reply;
    try {
      outcome = await this.outcome(endpoint, msg);
    } catch (e) {
      // Anything unexpected after parsing (a store read failing, …) is still answered in-band.
      this.d.audit.record({
        kind: 'enrollment',
        endpoint: endpoint.name,
        operation: 'PKIOperation',
        transactionId: msg.transactionId,
        actor: nameDerToString(msg.signer.subject),
        outcome: 'failed',
        reason: 'internal',
        message: describeError(e),
      });
      outcome = fail(FailInfo.badRequest, 'the request could not be processed now; retry later');
    }
    return buildCertRep({
      transactionId: msg.transactionId,
      recipientNonce: msg.senderNonce,
      outcome,
      signerCertificate: this.d.issuer.ca,
      signer: this.d.signer,
      hash: replyHash(msg.digestAlgorithm),
      now: this.d.clock(),
    });
  }

  private async outcome(endpoint: ScepEndpoint, msg: PkiMessage): Promise<Reply> {
    const refuse: Refuse = (reason, text, failInfo = FailInfo.badRequest, detail, compared) => {
      this.d.audit.record({
        kind: 'enrollment',
        endpoint: endpoint.name,
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

  private async open(msg: PkiMessage): Promise<{ content: Uint8Array; cipher: ContentCipher } | OpenFailure> {
    try {
      return await openEnvelope(msg.envelope, this.d.issuer.ca, this.d.decrypter);
    } catch (e) {
      if (e instanceof EnvelopeError) {
        return {
          reason: e.reason,
          error: e.message,
          failInfo: FailInfo.badMessageCheck,
          compared: e.compared,
        };
      }
      if (isAppError(e) && e.code === 'DEPENDENCY_UNAVAILABLE') {
        return {
          reason: 'ca-key-unavailable',
          error: 'the CA key is unavailable; retry later',
          failInfo: FailInfo.badRequest,
          detail: describeError(e),
        };
      }
      if (isAppError(e))
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

  private async enroll(endpoint: ScepEndpoint, msg: PkiMessage, refuse: Refuse): Promise<Reply> {
    const opened = await this.open(msg);
    if ('error' in opened) return this.refuseOpen(refuse, opened);
    let csr: ParsedCsr;
    try {
      csr = parseCsr(opened.content);
    } catch (e) {
      return refuse(
        'csr-invalid',
        isAppError(e) ? e.message : 'the certificate request cannot be parsed',
        FailInfo.badRequest,
        undefined,
        [
          {
            name: 'content',
            actual: `${opened.content.length} bytes, starting ${Buffer.from(opened.content.subarray(0, 4)).toString('hex')}`,
          },
        ],
      );
    }
    if (!isRsaKey(msg.signer.spki)) {
      // The reply is encrypted to the request signer's key with RSA key transport.
      return refuse(
        'signer-key-not-rsa',
        'the request signer certificate must carry an RSA key: the reply is encrypted to it',
        FailInfo.badAlg,
      );
    }
    const renewal = await checkRenewalSigner(msg.signer, this.d.issuer, this.d.store, this.d.clock());
    const isRenewalReq = isKnownMessageType(msg.messageType) && msg.messageType === MessageType.RenewalReq;
    const { profile, authorizer } = endpoint;
    const result = await this.d.enrollment.enroll({
      endpoint: endpoint.name,
      operation: isRenewalReq ? 'RenewalReq' : 'PKCSReq',
      csr,
      profile,
      transactionId: msg.transactionId,
      transactionRef: transactionRef(endpoint.name, msg.transactionId, msg.messageType, renewal),
      hooks: endpoint.hooks,
      authorize: async () => {
        // A renewal vouches only for the identity of the certificate being renewed: the same
        // subject and SANs. Anything else needs the challenge.
        const sameIdentity =
          renewal.kind === 'valid' &&
          renewal.subject === csr.subjectString &&
          sameSet(renewal.sans, csr.sans.map(generalNameToString));
        const renewable = renewal.kind === 'valid' && profile.renewal.allowed;
        const renewalOk =
          renewable &&
          sameIdentity &&
          withinRenewalWindow(profile.renewal, msg.signer.notAfter, this.d.clock());
        const renewalAuthorization = {
          ok: true,
          authorization: 'renewal',
          requester: `renewal:${renewal.kind === 'valid' ? renewal.serialNumber : ''}`,
        } as const;
        if (isRenewalReq) {
          if (renewal.kind === 'not-ours') {
            return {
              ok: false,
              reason: 'renewal-signer-not-ours',
              detail: 'a RenewalReq must be signed by a certificate this CA issued',
            };
          }
          if (renewal.kind === 'invalid')
            return {
              ok: false,
              reason: `renewal-${renewal.reason}`,
              detail: renewal.detail,
              compared: [{ name: 'signerSerial', actual: renewal.serialNumber }],
            };
          if (renewalOk) return renewalAuthorization;
        }
        const challenge = await authorizer.challenge({
          endpoint: endpoint.name,
          transactionId: msg.transactionId,
          csr,
          challengePassword: csr.challengePassword,
        });
        // Where the challenge is someone else's verdict (Intune), a refusal is final: a
        // certificate in hand does not overrule it (Intune spec §0: never issue after a failed
        // validateRequest).
        if (!challenge.ok && authorizer.refusalIsFinal) return challenge;
        if (challenge.ok || !renewalOk) {
          if (!challenge.ok && renewable && !sameIdentity) {
            return {
              ok: false,
              reason: 'renewal-identity-changed',
              detail: `the CSR subject or SANs differ from certificate ${renewal.serialNumber}, and the challenge did not pass (${challenge.reason})`,
              compared: [
                { name: 'subject', actual: csr.subjectString, required: renewal.subject },
                {
                  name: 'sans',
                  actual: csr.sans.map(generalNameToString).join(', '),
                  required: renewal.sans.join(', '),
                },
              ],
            };
          }
          return challenge;
        }
        return renewalAuthorization;
      },
    });
    if (!result.ok) {
      // An account's state is for the audit log, not for the requester.
      const text =
        result.kind === 'unauthorized' ? `${result.message}: ${clientReason(result.reason)}` : result.message;
      return fail(FailInfo.badRequest, text);
    }
    return this.success(endpoint, result.issued.der, msg, opened.cipher);
  }

  private async poll(endpoint: ScepEndpoint, msg: PkiMessage, refuse: Refuse): Promise<Reply> {
    const renewal = await checkRenewalSigner(msg.signer, this.d.issuer, this.d.store, this.d.clock());
    for (const type of [MessageType.PKCSReq, MessageType.RenewalReq]) {
      const record = await this.d.store.getByTransactionKey(
        transactionRef(endpoint.name, msg.transactionId, type, renewal),
      );
      if (record && record.status === 'issued' && hasStoredCertificate(record)) {
        const cipher = envelopeCipher(msg.envelope) ?? 'DES-EDE3-CBC';
        return this.success(endpoint, new Uint8Array(Buffer.from(record.der, 'base64')), msg, cipher);
      }
    }
    return refuse(
      'transaction-unknown',
      'no certificate was issued for this transactionID',
      FailInfo.badCertId,
    );
  }

  private async getCert(endpoint: ScepEndpoint, msg: PkiMessage, refuse: Refuse): Promise<Reply> {
    const opened = await this.open(msg);
    if ('error' in opened) return this.refuseOpen(refuse, opened);
    let serial: string;
    try {
      serial = serialHex(AsnParser.parse(opened.content, IssuerAndSerialNumber).serialNumber);
    } catch {
      return refuse('getcert-invalid', 'the GetCert request does not carry an IssuerAndSerialNumber');
    }
    const record = await this.d.store.getBySerial(serial);
    if (!record)
      return refuse('certificate-unknown', `no certificate with serial ${serial}`, FailInfo.badCertId);
    if (!hasStoredCertificate(record)) {
      return refuse('certificate-not-stored', `the certificate ${serial} is not stored`, FailInfo.badCertId);
    }
    return this.success(endpoint, new Uint8Array(Buffer.from(record.der, 'base64')), msg, opened.cipher);
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

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  return x.size === new Set(b).size && b.every((v) => x.has(v));
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
 * is AES, else 3DES. Never single DES (field notes #4: OpenSSL 3 clients reject it).
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
 * Idempotency key (DESIGN decision 4). micromdm scepclient re-sends the same transactionID
 * for its RenewalReq (same key, same CSR), so the message type and the renewal signer are part
 * of the key: a renewal is a new transaction, a re-sent identical request is not.
 */
export function transactionRef(
  endpoint: string,
  transactionId: string,
  messageType: number,
  renewal: RenewalCheck,
): string {
  const signer = renewal.kind === 'not-ours' ? '' : renewal.serialNumber;
  return createHash('sha256')
    .update(`${endpoint}\n${transactionId}\n${messageType}\n${signer}`)
    .digest('hex');
}
