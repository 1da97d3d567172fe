import 'reflect-metadata';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import {
  Extensions,
  Name,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { Name as X509Name } from '@peculiar/x509';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  keyIdentifier,
  keyUsage,
  subjectKeyIdentifier,
} from './extensions.js';
import { randomSerial, signatureAlgorithm, signTbs } from './sign.js';

export interface RootOptions {
  readonly signer: Signer;
  /** RFC 4514 subject, e.g. `CN=Contoso SCEP Root CA, O=Contoso`. */
  readonly subject: string;
  readonly days: number;
  readonly hash?: HashAlgorithm;
  readonly now?: Date;
}

export function parseName(dn: string): Name {
  return AsnParser.parse(new X509Name(dn).toArrayBuffer(), Name);
}

/**
 * A self-signed CA certificate. Key usage keyCertSign + cRLSign + digitalSignature, and
 * keyEncipherment as well: in CA mode (no RA certificate) SCEP clients encrypt their request to
 * the CA certificate and some refuse one without keyEncipherment (micromdm scepclient encrypts to the certificates with keyEncipherment).
 */
export async function createRootCertificate(o: RootOptions): Promise<Uint8Array> {
  const now = o.now ?? new Date();
  const hash = o.hash ?? 'SHA-256';
  const name = parseName(o.subject);
  const ski = keyIdentifier(o.signer.publicKeySpki);
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(now.getTime() + o.days * 86400 * 1000);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: randomSerial().buffer as ArrayBuffer,
    signature: signatureAlgorithm(o.signer.keyType, hash),
    issuer: name,
    validity: new Validity({ notBefore, notAfter }),
    subject: AsnParser.parse(AsnConvert.serialize(name), Name),
    subjectPublicKeyInfo: AsnParser.parse(o.signer.publicKeySpki, SubjectPublicKeyInfo),
    extensions: new Extensions([
      basicConstraints(true),
      keyUsage(['DigitalSignature', 'KeyEncipherment', 'KeyCertSign', 'CrlSign']),
      subjectKeyIdentifier(o.signer.publicKeySpki),
      authorityKeyIdentifier(ski),
    ]),
  });
  return signTbs(tbs, o.signer, hash);
}
