import { createHash } from 'node:crypto';
import { kid, oid, parseBer } from '../cms/ber.js';
import type { RenewalDecision, RenewalRule } from '../enroll/renewal-rule.js';
import type { CertificateRecord } from '../store/types.js';
import type { ScepEndpoint } from './endpoint.js';
import type { PkiMessage } from './message.js';
import { OID } from './types.js';

/** The shared renewal rule's verdict on the request signer (lib/enroll/renewal-rule.ts). */
export function checkSigner(
  renewal: RenewalRule,
  endpoint: ScepEndpoint,
  msg: PkiMessage,
): Promise<RenewalDecision> {
  return renewal.checkSigner(
    { der: msg.signerCertificateDer, spki: msg.signer.spki, selfSigned: msg.signerSelfSigned },
    { kind: 'scep', endpoint: endpoint.name },
  );
}

/** The pkiMessage is signed with the key `record` certifies. */
export function signedByOwner(msg: PkiMessage, record: CertificateRecord): boolean {
  return createHash('sha256').update(msg.signer.spki).digest('hex') === record.publicKeySha256;
}

export function isRsaKey(spki: Uint8Array): boolean {
  try {
    return oid(kid(kid(parseBer(spki), 0), 0)) === OID.rsaEncryption;
  } catch {
    return false;
  }
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
