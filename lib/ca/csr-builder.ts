import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { ExtensionRequest, id_pkcs9_at_extensionRequest } from '@peculiar/asn1-pkcs9';
import { Attribute, Extensions, SubjectPublicKeyInfo, type Extension } from '@peculiar/asn1-x509';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import { basicConstraints, keyUsage, subjectKeyIdentifier } from './extensions.js';
import { parseName } from './root.js';
import { signatureAlgorithm } from './sign.js';

export interface CaCsrOptions {
  readonly signer: Signer;
  /** RFC 4514 subject, e.g. `CN=Contoso SCEP Issuing CA, O=Contoso`. */
  readonly subject: string;
  readonly hash?: HashAlgorithm;
}

/**
 * A PKCS#10 request (RFC 2986) for a subordinate CA certificate, signed through `signer` (the
 * CA key in Key Vault), for an existing enterprise root to sign. It asks, in an
 * extensionRequest attribute (RFC 2985 §5.4.2), for the extensions the CA needs: cA=TRUE,
 * keyCertSign + cRLSign + digitalSignature, and keyEncipherment because in CA mode SCEP
 * clients encrypt their requests to the CA certificate (micromdm scepclient encrypts to the certificates with keyEncipherment). The issuing root
 * decides what it grants; `import` checks the result.
 */
export function createCaCsr(o: CaCsrOptions): Promise<Uint8Array> {
  return createCsr({
    ...o,
    extensions: [
      basicConstraints(true),
      keyUsage(['DigitalSignature', 'KeyEncipherment', 'KeyCertSign', 'CrlSign']),
      subjectKeyIdentifier(o.signer.publicKeySpki),
    ],
  });
}

/** A PKCS#10 request signed through `signer`, asking for `extensions` (RFC 2985 §5.4.2). */
export async function createCsr(o: CaCsrOptions & { readonly extensions: Extension[] }): Promise<Uint8Array> {
  const hash = o.hash ?? 'SHA-256';
  const extensions = new Extensions(o.extensions);
  const info = new CertificationRequestInfo({
    subject: parseName(o.subject),
    subjectPKInfo: AsnParser.parse(o.signer.publicKeySpki, SubjectPublicKeyInfo),
    attributes: new Attributes([
      new Attribute({
        type: id_pkcs9_at_extensionRequest,
        values: [AsnConvert.serialize(new ExtensionRequest(extensions))],
      }),
    ]),
  });
  const infoDer = new Uint8Array(AsnConvert.serialize(info));
  const signature = await o.signer.sign(infoDer, hash);
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: signatureAlgorithm(o.signer.keyType, hash),
    signature: signature.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(csr));
}
