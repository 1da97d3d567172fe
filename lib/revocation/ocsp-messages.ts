import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import {
  CertID,
  CertStatus,
  OCSPRequest,
  OCSPResponseStatus,
  ResponderID,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  KeyHash,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { CRLReason, CRLReasons, Extension } from '@peculiar/asn1-x509';
import { DIGEST_BY_OID } from '../cms/algorithms.js';
import { bitString, explicit, objectIdentifier, octetString, seq, tlv } from '../cms/der.js';
import type { HashAlgorithm } from '../keys/types.js';
import type { RevocationReason } from '../store/types.js';
import { canonicalSerialHex } from '../x509/cert-view.js';
import { CRL_REASON_CODE } from './reasons.js';
import type { ResponderIdentity } from './responder.js';
import { signatureAlgorithm } from '../ca/sign.js';

/** RFC 6960 §4.1: the parts of an OCSPRequest the responder acts on. */
export interface ParsedOcspRequest {
  readonly certIds: readonly {
    readonly certId: CertID;
    /** undefined: a hash algorithm this responder does not compute (answered `unknown`). */
    readonly hash: HashAlgorithm | undefined;
    readonly serialHex: string;
  }[];
  /** The nonce extension (RFC 8954), echoed unchanged in the response. */
  readonly nonce: Extension | undefined;
}

/** More certIDs than anyone sends: refusing them bounds the work one request can cause. */
export const MAX_CERT_IDS = 50;
/** RFC 8954 §2.1: nonces are at most 32 octets (plus the inner OCTET STRING header). */
const MAX_NONCE_VALUE = 34;

/** The request, or undefined when it is not a well-formed OCSPRequest (answer malformedRequest). */
export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest | undefined {
  let req: OCSPRequest;
  try {
    req = AsnParser.parse(der, OCSPRequest);
    // Each certID is echoed in the response: one the parser accepts but cannot encode again
    // (hash algorithm parameters of an unexpected type) would fail only when signing.
    for (const r of req.tbsRequest.requestList) AsnConvert.serialize(r.reqCert);
  } catch {
    return undefined;
  }
  const list = req.tbsRequest.requestList;
  if (list.length === 0 || list.length > MAX_CERT_IDS) return undefined;
  const nonce = req.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (nonce && (nonce.extnValue.byteLength === 0 || nonce.extnValue.byteLength > MAX_NONCE_VALUE))
    return undefined;
  return {
    certIds: list.map((r) => ({
      certId: r.reqCert,
      hash: DIGEST_BY_OID[r.reqCert.hashAlgorithm.algorithm],
      serialHex: canonicalSerialHex(new Uint8Array(r.reqCert.serialNumber)),
    })),
    nonce,
  };
}

export type CertState =
  | { readonly kind: 'good' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'revoked'; readonly date: Date; readonly reason: RevocationReason };

export interface SingleAnswer {
  readonly certId: CertID;
  readonly state: CertState;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

/** RFC 6960 §4.2.1: a signed, successful OCSPResponse with a BasicOCSPResponse. */
export async function signedResponse(
  responder: ResponderIdentity,
  answers: readonly SingleAnswer[],
  producedAt: Date,
  nonce: Extension | undefined,
): Promise<Uint8Array> {
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(responder.keyHash) }),
    producedAt,
    responses: answers.map(
      (a) =>
        new SingleResponse({
          certID: a.certId,
          certStatus: certStatus(a.state),
          thisUpdate: a.thisUpdate,
          ...(a.nextUpdate ? { nextUpdate: a.nextUpdate } : {}),
        }),
    ),
    ...(nonce ? { responseExtensions: [nonce] } : {}),
  });
  const tbs = new Uint8Array(AsnConvert.serialize(data));
  const signature = await responder.signer.sign(tbs, responder.hash);
  const sigAlg = new Uint8Array(
    AsnConvert.serialize(signatureAlgorithm(responder.signer.keyType, responder.hash)),
  );
  const basic = seq(tbs, sigAlg, bitString(signature), explicit(0, seq(responder.certificateDer)));
  return seq(
    enumerated(OCSPResponseStatus.successful),
    explicit(0, seq(objectIdentifier(id_pkix_ocsp_basic), octetString(basic))),
  );
}

/** An unsigned error response: malformedRequest, internalError, tryLater (RFC 6960 §4.2.1). */
export function errorResponse(status: OCSPResponseStatus): Uint8Array {
  return seq(enumerated(status));
}

function certStatus(s: CertState): CertStatus {
  if (s.kind === 'good') return new CertStatus({ good: null });
  if (s.kind === 'unknown') return new CertStatus({ unknown: null });
  // RFC 5280 §5.3.1: the reason SHOULD be absent rather than unspecified.
  const code = CRL_REASON_CODE[s.reason];
  return new CertStatus({
    revoked: new RevokedInfo({
      revocationTime: new Date(Math.floor(s.date.getTime() / 1000) * 1000),
      ...(code === CRLReasons.unspecified ? {} : { revocationReason: new CRLReason(code) }),
    }),
  });
}

const enumerated = (v: number): Uint8Array => tlv(0x0a, Uint8Array.of(v));
