import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate, SubjectAlternativeName, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import type { ParsedCsr } from '../csr/parse.js';
import { certView } from '../x509/cert-view.js';
import { nameDerToString } from '../x509/names.js';

/**
 * Re-enrollment re-issues the certificate being renewed for a new key. RFC 7030 §4.2.2 says a
 * re-enroll request carries the same subject and subjectAltName as that certificate, but real
 * clients do not: SCEPman's own `enrollrenewcertificate.sh` renews with `/CN=Contoso` and an
 * empty UPN subjectAltName, and expects a certificate for its original identity back. So the
 * request contributes only its public key (its self-signature, the proof of possession, is
 * still checked by the CSR policy); subject and subjectAltName come from the certificate being
 * renewed, and key usage, EKU and validity from the current profile of the endpoint that issued
 * it (the renewal rule's grant, lib/enroll/renewal-rule.ts). The request's own names and
 * requested extensions are ignored, so a renewal can never carry more than the certificate it
 * renews.
 *
 * Used by every renewal with a client certificate (`POST api/csr` over mTLS and EST
 * simplereenroll), so the two cannot diverge.
 *
 * Returns `csr` with subject and subjectAltName replaced by those of the certificate `originalDer`.
 */
export function reenrollIdentity(csr: ParsedCsr, originalDer: Uint8Array): ParsedCsr {
  const view = certView(originalDer);
  const certificate = AsnParser.parse(originalDer, Certificate);
  const sanExt = certificate.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  const sanExtensionValue = sanExt ? new Uint8Array(sanExt.extnValue.buffer) : undefined;
  return {
    der: csr.der,
    sha256: csr.sha256,
    subject: certificate.tbsCertificate.subject,
    subjectDer: view.subject,
    // An empty Name encodes as SEQUENCE {} (30 00).
    subjectEmpty: view.subject.length === 2,
    subjectString: nameDerToString(view.subject),
    spki: csr.spki,
    publicKeyBits: csr.publicKeyBits,
    publicKeySha256: csr.publicKeySha256,
    key: csr.key,
    challengePassword: undefined,
    extensions: [],
    sans: sanExtensionValue ? [...AsnParser.parse(sanExtensionValue, SubjectAlternativeName)] : [],
    sanExtensionValue,
    signatureAlgorithm: csr.signatureAlgorithm,
    verifySignature: () => csr.verifySignature(),
  };
}
