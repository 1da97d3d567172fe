import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import {
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  SignedData,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { Certificate } from '@peculiar/asn1-x509';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';

/**
 * A degenerate certificates-only CMS SignedData (RFC 8894 §3.4): no content, no signers,
 * just certificates. Used for GetCACert with a chain and for the CertRep payload.
 */
export function certsOnly(certsDer: readonly Uint8Array[]): Uint8Array {
  const sd = new SignedData({
    version: 1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: DATA }),
    certificates: new CertificateSet(
      certsDer.map((d) => new CertificateChoices({ certificate: AsnParser.parse(d, Certificate) })),
    ),
    signerInfos: new SignerInfos([]),
  });
  return new Uint8Array(
    AsnConvert.serialize(new ContentInfo({ contentType: SIGNED_DATA, content: AsnConvert.serialize(sd) })),
  );
}
