import 'reflect-metadata';
import { createHash, verify, X509Certificate } from 'node:crypto';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { set } from '../../lib/cms/der.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';
const CONTENT_TYPE = '1.2.840.113549.1.9.3';
const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const DIGESTS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.3.14.3.2.26': 'sha1',
};

/**
 * A GetNextCACert client written from RFC 8894 §4.7 alone (no Debian client sends it): fetch
 * `operation=GetNextCACert`, require `application/x-x509-next-ca-cert`, and accept the reply
 * only when it is a SignedData whose one SignerInfo names `signerCert` (what GetCACert gave: the
 * CA, or the endpoint's RA certificate), whose messageDigest matches the content and whose
 * signature verifies with that certificate's key. Returns the certificates it carries.
 */
export async function getNextCaCert(
  url: string,
  signerCert: X509Certificate,
): Promise<{ certificates: X509Certificate[]; content: X509Certificate[] }> {
  const res = await fetch(`${url}?operation=GetNextCACert`);
  if (res.status !== 200) throw new Error(`GetNextCACert answered ${res.status}`);
  const type = res.headers.get('content-type');
  if (type !== 'application/x-x509-next-ca-cert') throw new Error(`GetNextCACert media type ${type}`);
  return verifyNextCaCert(new Uint8Array(await res.arrayBuffer()), signerCert);
}

export function verifyNextCaCert(
  der: Uint8Array,
  signerCert: X509Certificate,
): { certificates: X509Certificate[]; content: X509Certificate[] } {
  const ci = AsnConvert.parse(der, ContentInfo);
  if (ci.contentType !== SIGNED_DATA) throw new Error('not a SignedData');
  const sd = AsnConvert.parse(ci.content, SignedData);
  const [si, ...more] = sd.signerInfos;
  if (!si || more.length > 0) throw new Error('expected exactly one SignerInfo');
  const signer = AsnConvert.parse(signerCert.raw, Certificate).tbsCertificate;
  const sid = si.sid.issuerAndSerialNumber;
  if (
    !sid ||
    Buffer.compare(Buffer.from(sid.serialNumber), Buffer.from(signer.serialNumber)) !== 0 ||
    Buffer.compare(
      Buffer.from(AsnConvert.serialize(sid.issuer)),
      Buffer.from(AsnConvert.serialize(signer.issuer)),
    ) !== 0
  )
    throw new Error('the SignerInfo does not name the current CA/RA certificate');
  const attrs = si.signedAttrs;
  if (!attrs) throw new Error('no signed attributes');
  const hash = DIGESTS[si.digestAlgorithm.algorithm];
  if (!hash) throw new Error(`digest ${si.digestAlgorithm.algorithm}`);
  const econtent = sd.encapContentInfo.eContent?.single;
  if (sd.encapContentInfo.eContentType !== DATA || !econtent) throw new Error('no id-data content');
  const content = new Uint8Array(econtent.buffer);
  const attr = (oid: string) => attrs.find((a) => a.attrType === oid)?.attrValues[0];
  const md = attr(MESSAGE_DIGEST);
  if (
    !md ||
    !Buffer.from(AsnConvert.parse(md, OctetString).buffer).equals(createHash(hash).update(content).digest())
  )
    throw new Error('messageDigest does not match the content');
  if (!attr(CONTENT_TYPE)) throw new Error('no contentType attribute');
  // The signature covers the attributes as sent, re-tagged as a SET OF (RFC 5652 §5.4).
  const signed = set(...attrs.map((a) => new Uint8Array(AsnConvert.serialize(a))));
  const ok = verify(hash, signed, signerCert.publicKey, Buffer.from(si.signature.buffer));
  if (!ok) throw new Error('the signature does not verify with the current CA/RA certificate');
  const inner = AsnConvert.parse(AsnConvert.parse(content, ContentInfo).content, SignedData);
  return { certificates: certificatesOf(sd), content: certificatesOf(inner) };
}

function certificatesOf(sd: SignedData): X509Certificate[] {
  return Array.from(sd.certificates ?? []).flatMap((c) =>
    c.certificate ? [new X509Certificate(Buffer.from(AsnConvert.serialize(c.certificate)))] : [],
  );
}
