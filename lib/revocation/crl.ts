import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLReasons, id_ce_cRLNumber, id_ce_cRLReasons } from '@peculiar/asn1-x509';
import { authorityKeyIdentifier, issuerKeyIdentifier } from '../ca/extensions.js';
import { signatureAlgorithm } from '../ca/sign.js';
import {
  bitString,
  explicit,
  integer,
  objectIdentifier,
  octetString,
  seq,
  tlv,
  x509Time,
} from '../cms/der.js';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import type { RevokedEntry } from '../store/types.js';
import { certView } from '../x509/cert-view.js';
import { CRL_REASON_CODE, serialContent } from './reasons.js';

export interface CrlParams {
  readonly caCertificateDer: Uint8Array;
  readonly signer: Signer;
  readonly hash?: HashAlgorithm;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** RFC 5280 §5.2.3: monotonically increasing for this CA. */
  readonly crlNumber: bigint;
  readonly entries: AsyncIterable<RevokedEntry>;
}

/**
 * A full X.509 v2 CRL (RFC 5280 §5) signed by the CA: issuer, thisUpdate, nextUpdate, one entry
 * per revoked certificate that has not expired (§3.3: an expired certificate's entry may be
 * dropped), with a reasonCode entry extension unless the reason is unspecified (§5.3.1), and
 * the authorityKeyIdentifier and cRLNumber CRL extensions (§5.2.1, §5.2.3, both required).
 *
 * Entries are written straight to DER (a few byte arrays each) rather than through schema
 * objects: 100,000 entries encode in well under a second, and the only signature is the CA's.
 */
export async function buildCrl(p: CrlParams): Promise<Uint8Array> {
  const hash = p.hash ?? 'SHA-256';
  const ca = certView(p.caCertificateDer);
  const sigAlg = new Uint8Array(AsnConvert.serialize(signatureAlgorithm(p.signer.keyType, hash)));
  const reasonExt = new Map<number, Uint8Array>();
  const entries: Uint8Array[] = [];
  const cutoff = p.thisUpdate.toISOString();
  for await (const e of p.entries) {
    if (e.notAfter < cutoff) continue;
    const code = CRL_REASON_CODE[e.revocation.reason];
    let ext = reasonExt.get(code);
    if (!ext && code !== CRLReasons.unspecified) {
      ext = seq(seq(objectIdentifier(id_ce_cRLReasons), octetString(tlv(0x0a, Uint8Array.of(code)))));
      reasonExt.set(code, ext);
    }
    const date = x509Time(new Date(Math.floor(Date.parse(e.revocation.date) / 1000) * 1000));
    entries.push(
      ext
        ? seq(integer(serialContent(e.serialNumber)), date, ext)
        : seq(integer(serialContent(e.serialNumber)), date),
    );
  }
  const number = p.crlNumber.toString(16);
  const extensions = explicit(
    0,
    seq(
      new Uint8Array(AsnConvert.serialize(authorityKeyIdentifier(issuerKeyIdentifier(p.caCertificateDer)))),
      seq(
        objectIdentifier(id_ce_cRLNumber),
        octetString(integer(serialContent(number.length % 2 ? `0${number}` : number))),
      ),
    ),
  );
  const tbs = seq(
    integer(1), // v2
    sigAlg,
    ca.subject,
    x509Time(p.thisUpdate),
    x509Time(p.nextUpdate),
    // RFC 5280 §5.1.2.6: absent, not empty, when nothing is revoked.
    ...(entries.length > 0 ? [seq(Buffer.concat(entries))] : []),
    extensions,
  );
  const signature = await p.signer.sign(tbs, hash);
  return seq(tbs, sigAlg, bitString(signature));
}
