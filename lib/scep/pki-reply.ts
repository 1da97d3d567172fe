import type { ComparedValue } from '../audit/event.js';
import { clientReason, reasonEntry, type ReasonCode } from '../audit/reasons.js';
import type { AuditLog } from '../audit/sink.js';
import type { ContentCipher } from '../cms/ciphers.js';
import { certsOnly } from '../cms/certs-only.js';
import type { ResponseCipher } from '../config/core.js';
import type { EnrollmentResult } from '../enroll/request.js';
import type { HashAlgorithm } from '../keys/types.js';
import type { CertRepOutcome } from './certrep.js';
import type { ScepEndpoint } from './endpoint.js';
import { sealEnvelope } from './envelope.js';
import type { PkiMessage } from './message.js';
import { FailInfo, MessageType, PKIStatus } from './types.js';

/** What a PKIOperation answers, before its CertRep is signed (lib/scep/certrep.ts). */
export type Reply = CertRepOutcome;

/** A refusal: recorded in the audit trail, answered with a CertRep FAILURE. */
export type Refuse = (
  reason: ReasonCode,
  text: string,
  failInfo?: FailInfo,
  detail?: string,
  compared?: readonly ComparedValue[],
) => Reply;

/**
 * A SUCCESS that still has to be delivered: `afterSigned` runs once its CertRep exists (the
 * Intune notification; a FAILURE it returns replaces the reply), `notSigned` when the CertRep
 * could not be signed (nothing is announced; the client's retry replays the certificate).
 */
export interface Delivery {
  readonly outcome: Reply;
  readonly afterSigned: () => Promise<Reply | undefined>;
  readonly notSigned?: (error: unknown) => void;
}

/**
 * The one answer to every failure after the content key was unwrapped: bad padding (a
 * substitute key), content that does not decrypt, content that is not a CSR (or not an
 * IssuerAndSerialNumber). Same failInfo, same text, same path (RFC 3218 §2.3.2).
 */
export const UNREADABLE = {
  reason: 'envelope-content-unreadable' as ReasonCode,
  error: 'the pkcsPKIEnvelope content cannot be decrypted or read',
  failInfo: FailInfo.badMessageCheck,
} as const;

export const fail = (failInfo: FailInfo, failInfoText: string): Reply => ({
  status: PKIStatus.FAILURE,
  failInfo,
  failInfoText,
});

/** Refusals of `msg` at `endpoint`: each one an audit event and a FAILURE saying why. */
export function refuser(audit: AuditLog, endpoint: ScepEndpoint, msg: PkiMessage): Refuse {
  return (reason, text, failInfo = FailInfo.badRequest, detail, compared) => {
    audit.record({
      kind: 'enrollment',
      endpoint: endpoint.name,
      ...endpoint.owner,
      operation: MessageType[msg.messageType] ?? `messageType ${msg.messageType}`,
      transactionId: msg.transactionId,
      actor: msg.signerSubject,
      subject: msg.signerSubject,
      // An outage is not the device's fault: recorded as failed, like the enrollment layer does.
      outcome: reasonEntry(reason).check === 'availability' ? 'failed' : 'refused',
      reason,
      message: `endpoint '${endpoint.name}': ${detail ?? text}`,
      compared,
    });
    return fail(failInfo, text);
  };
}

/** A SUCCESS: the certificate, certs-only, enveloped to the request signer's key. */
export function success(
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

/** An account's state is for the audit trail, not for the requester (lib/audit/reasons.ts). */
export function refusalText(r: Extract<EnrollmentResult, { ok: false }>): string {
  return r.kind === 'unauthorized' ? `${r.message}: ${clientReason(r.reason)}` : r.message;
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
export function replyHash(request: HashAlgorithm): HashAlgorithm {
  return request === 'SHA-384' || request === 'SHA-512' ? request : 'SHA-256';
}
