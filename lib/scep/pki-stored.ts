import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { IssuerAndSerialNumber } from '@peculiar/asn1-cms';
import type { AuditLog } from '../audit/sink.js';
import { serialHex } from '../ca/sign.js';
import type { RenewalRule } from '../enroll/renewal-rule.js';
import { describeError } from '../errors.js';
import type { Responder } from '../ra/responder.js';
import { hasStoredCertificate } from '../store/storage-policy.js';
import { nameDerToString } from '../x509/names.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import type { ScepEndpoint } from './endpoint.js';
import { envelopeCipher } from './envelope.js';
import type { PkiMessage } from './message.js';
import { openRequest, refuseOpen } from './pki-open.js';
import { fail, success, UNREADABLE, type Delivery, type Refuse, type Reply } from './pki-reply.js';
import { checkSigner, signedByOwner, transactionRef } from './pki-request.js';
import { signerSerial } from './renewal.js';
import { FailInfo, MessageType } from './types.js';

export interface StoredDeps {
  readonly caResponder: () => Responder;
  readonly store: CertificateStore;
  readonly renewal: RenewalRule;
  /** Its endpoint's delivery hook; a rejection withholds the certificate. */
  readonly deliver: (record: CertificateRecord) => Promise<void>;
  readonly audit: AuditLog;
}

/** CertPoll (RFC 8894 §3.3.3): the certificate issued for this transaction, if any. */
export async function poll(
  d: StoredDeps,
  endpoint: ScepEndpoint,
  msg: PkiMessage,
  refuse: Refuse,
): Promise<Reply | Delivery> {
  const signer = signerSerial(await checkSigner(d.renewal, endpoint, msg));
  for (const type of [MessageType.PKCSReq, MessageType.RenewalReq]) {
    const record = await d.store.getByTransactionKey(
      transactionRef(endpoint.name, msg.transactionId, type, signer),
    );
    if (record && record.status === 'issued' && hasStoredCertificate(record)) {
      // A transaction keyed by a renewal signer is already bound to that certificate; any
      // other poll must be signed by the key the certificate certifies (RFC 8894 §3.3.3: the
      // CertPoll is signed like the original request).
      if (signer === undefined && !signedByOwner(msg, record)) return notOwner(refuse);
      const cipher = envelopeCipher(msg.envelope) ?? 'DES-EDE3-CBC';
      const der = new Uint8Array(Buffer.from(record.der, 'base64'));
      return redeliver(d, endpoint, msg, record, success(endpoint, der, msg, cipher));
    }
  }
  return refuse(
    'transaction-unknown',
    'no certificate was issued for this transactionID',
    FailInfo.badCertId,
  );
}

/** GetCert (RFC 8894 §3.3.4): a stored certificate by issuer and serial number. */
export async function getCert(
  d: StoredDeps,
  endpoint: ScepEndpoint,
  msg: PkiMessage,
  refuse: Refuse,
): Promise<Reply | Delivery> {
  const opened = await openRequest(endpoint, msg, d.caResponder);
  if ('error' in opened) return refuseOpen(refuse, opened);
  let serial: string;
  let issuer: string;
  try {
    const ias = AsnParser.parse(opened.content, IssuerAndSerialNumber);
    serial = serialHex(ias.serialNumber);
    issuer = nameDerToString(new Uint8Array(AsnConvert.serialize(ias.issuer)));
  } catch (e) {
    return refuse(UNREADABLE.reason, UNREADABLE.error, UNREADABLE.failInfo, describeError(e));
  }
  const record = await d.store.getBySerial(serial);
  // The serial alone is not the certificate: RFC 8894 §3.3.4 names it by issuer and serial.
  if (!record || record.issuer !== issuer)
    return refuse('certificate-unknown', `no certificate ${serial} of issuer ${issuer}`, FailInfo.badCertId);
  if (!hasStoredCertificate(record)) {
    return refuse('certificate-not-stored', `the certificate ${serial} is not stored`, FailInfo.badCertId);
  }
  // Only the holder of the certificate's key gets it (signed by the certificate itself, or by
  // any certificate for the same key).
  if (!signedByOwner(msg, record)) return notOwner(refuse);
  // Like CertPoll: a revoked certificate (on hold too) is not handed out again, nor reported
  // to the endpoint's delivery hook (Intune's success notification).
  if (record.status !== 'issued')
    return refuse(
      'certificate-not-issued',
      `the certificate ${serial} is ${record.status}`,
      FailInfo.badCertId,
    );
  const der = new Uint8Array(Buffer.from(record.der, 'base64'));
  return redeliver(d, endpoint, msg, record, success(endpoint, der, msg, opened.cipher));
}

/** A stored certificate handed out again (CertPoll, GetCert): delivered like a new one. */
function redeliver(
  d: StoredDeps,
  endpoint: ScepEndpoint,
  msg: PkiMessage,
  record: CertificateRecord,
  outcome: Reply,
): Delivery {
  return {
    outcome,
    afterSigned: async () => {
      try {
        await d.deliver(record);
        return undefined;
      } catch (e) {
        d.audit.record({
          kind: 'enrollment',
          endpoint: endpoint.name,
          ...endpoint.owner,
          operation: MessageType[msg.messageType] ?? 'PKIOperation',
          transactionId: msg.transactionId,
          actor: msg.signerSubject,
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

function notOwner(refuse: Refuse): Reply {
  return refuse(
    'requester-not-owner',
    'the request is not signed by the key of the requested certificate',
    FailInfo.badRequest,
  );
}
