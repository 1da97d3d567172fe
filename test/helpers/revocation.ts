import 'reflect-metadata';
import { createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import {
  BasicOCSPResponse,
  CertID,
  OCSPRequest,
  OCSPResponse,
  Request,
  TBSRequest,
  id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { AlgorithmIdentifier, Extension, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { createRootCertificate } from '../../lib/ca/root.js';
import { DIGEST_OID, NODE_HASH } from '../../lib/cms/algorithms.js';
import { LocalKey } from '../../lib/keys/local.js';
import type { CaKeys, HashAlgorithm } from '../../lib/keys/types.js';
import { serialContent } from '../../lib/revocation/reasons.js';
import { certView } from '../../lib/x509/cert-view.js';
import { rsaKey } from './pki.js';

/** A self-signed test CA (RSA 2048, one key per process) as the composition root would load it. */
export async function testCaKeys(subject = 'CN=Revocation Test CA, O=Test'): Promise<CaKeys> {
  const key = new LocalKey(rsaKey(2048, 'revocation-ca'), 'test:ca');
  const der = await createRootCertificate({ signer: key, subject, days: 365 });
  return { certificateDer: der, chainDer: [], signer: key, decrypter: key };
}

/** An OCSPRequest for `serials` (hex) of `caDer`, built independently of the responder. */
export function ocspRequest(
  caDer: Uint8Array,
  serials: readonly string[],
  o: { hash?: HashAlgorithm; nonce?: Uint8Array; hashOid?: string } = {},
): Uint8Array {
  const hash = o.hash ?? 'SHA-1';
  const ca = certView(caDer);
  const keyBits = new Uint8Array(AsnParser.parse(ca.spki, SubjectPublicKeyInfo).subjectPublicKey);
  const h = (b: Uint8Array): ArrayBuffer =>
    new Uint8Array(createHash(NODE_HASH[hash]).update(b).digest()).buffer;
  const requestList = serials.map(
    (s) =>
      new Request({
        reqCert: new CertID({
          hashAlgorithm: new AlgorithmIdentifier({
            algorithm: o.hashOid ?? DIGEST_OID[hash],
            parameters: null,
          }),
          issuerNameHash: new OctetString(h(ca.subject)),
          issuerKeyHash: new OctetString(h(keyBits)),
          serialNumber: serialContent(s).buffer as ArrayBuffer,
        }),
      }),
  );
  const requestExtensions = o.nonce
    ? [
        new Extension({
          extnID: id_pkix_ocsp_nonce,
          extnValue: new OctetString(AsnConvert.serialize(new OctetString(o.nonce))),
        }),
      ]
    : undefined;
  const tbs = new TBSRequest({ requestList, ...(requestExtensions ? { requestExtensions } : {}) });
  return new Uint8Array(AsnConvert.serialize(new OCSPRequest({ tbsRequest: tbs })));
}

export interface OcspSummary {
  readonly status: number;
  readonly basic?: BasicOCSPResponse;
  readonly answers: readonly {
    serial: string;
    state: 'good' | 'revoked' | 'unknown';
    reason?: number;
    time?: Date;
  }[];
  readonly nonce?: Uint8Array;
  /** The responder certificate in the response verifies the response signature. */
  readonly signatureValid?: boolean;
  readonly responder?: X509Certificate;
}

/** Read an OCSPResponse the way a relying party would. */
export function readOcspResponse(der: Uint8Array): OcspSummary {
  const r = AsnParser.parse(der, OCSPResponse);
  if (!r.responseBytes) return { status: r.responseStatus, answers: [] };
  const basicDer = new Uint8Array(r.responseBytes.response.buffer);
  const basic = AsnParser.parse(basicDer, BasicOCSPResponse);
  const certDer = basic.certs?.[0] ? new Uint8Array(AsnConvert.serialize(basic.certs[0])) : undefined;
  const responder = certDer ? new X509Certificate(certDer) : undefined;
  const tbs = rawFirstElement(basicDer);
  const signatureValid = responder
    ? cryptoVerify('sha256', tbs, responder.publicKey, Buffer.from(basic.signature))
    : undefined;
  const nonceExt = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  return {
    status: r.responseStatus,
    basic,
    responder,
    signatureValid,
    ...(nonceExt
      ? { nonce: new Uint8Array(AsnParser.parse(nonceExt.extnValue.buffer, OctetString).buffer) }
      : {}),
    answers: basic.tbsResponseData.responses.map((s) => ({
      serial: Buffer.from(s.certID.serialNumber).toString('hex'),
      state: s.certStatus.revoked ? 'revoked' : s.certStatus.unknown !== undefined ? 'unknown' : 'good',
      ...(s.certStatus.revoked
        ? {
            time: s.certStatus.revoked.revocationTime,
            ...(s.certStatus.revoked.revocationReason
              ? { reason: s.certStatus.revoked.revocationReason.reason }
              : {}),
          }
        : {}),
    })),
  };
}

/** The encoded first element of a DER SEQUENCE (the signed part). */
export function rawFirstElement(der: Uint8Array): Uint8Array {
  let i = 1;
  const len0 = der[i++]!;
  if (len0 & 0x80) i += len0 & 0x7f;
  const start = i;
  i += 1;
  let len = der[i++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + der[i++]!;
  }
  return der.subarray(start, i + len);
}
