import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import {
  ExtensionRequest,
  id_pkcs9_at_challengePassword,
  id_pkcs9_at_extensionRequest,
} from '@peculiar/asn1-pkcs9';
import {
  Attribute,
  Extension,
  Extensions,
  GeneralName,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  id_ce_subjectAltName,
} from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { parseName } from '../ca/root.js';
import { signatureAlgorithm } from '../ca/sign.js';
import type { HashAlgorithm, Signer } from '../keys/types.js';

export type ChallengeEncoding = 'printable' | 'utf8' | 'bmp';

export interface CsrOptions {
  readonly signer: Signer;
  /** RFC 4514 subject. */
  readonly subject: string;
  readonly sans?: readonly GeneralName[];
  /** Further requested extensions (extensionRequest, RFC 2985 §5.4.2). */
  readonly extensions?: readonly Extension[];
  /** PKCS#9 challengePassword: PrintableString by default; Windows sends BMPString. */
  readonly challenge?: string;
  readonly challengeEncoding?: ChallengeEncoding;
  readonly hash?: HashAlgorithm;
}

/** A PKCS#10 request (RFC 2986) signed through `signer`. */
export async function buildCsr(o: CsrOptions): Promise<Uint8Array> {
  const attributes: Attribute[] = [];
  if (o.challenge !== undefined) {
    const enc = o.challengeEncoding ?? 'printable';
    const value =
      enc === 'utf8'
        ? new asn1js.Utf8String({ value: o.challenge })
        : enc === 'bmp'
          ? new asn1js.BmpString({ value: o.challenge })
          : new asn1js.PrintableString({ value: o.challenge });
    attributes.push(new Attribute({ type: id_pkcs9_at_challengePassword, values: [value.toBER()] }));
  }
  const extensions = [...(o.extensions ?? [])];
  if (o.sans && o.sans.length > 0) {
    extensions.push(
      new Extension({
        extnID: id_ce_subjectAltName,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(new SubjectAlternativeName([...o.sans]))),
      }),
    );
  }
  if (extensions.length > 0) {
    attributes.push(
      new Attribute({
        type: id_pkcs9_at_extensionRequest,
        values: [AsnConvert.serialize(new ExtensionRequest(new Extensions(extensions)))],
      }),
    );
  }
  const info = new CertificationRequestInfo({
    subject: parseName(o.subject),
    subjectPKInfo: AsnParser.parse(o.signer.publicKeySpki, SubjectPublicKeyInfo),
    attributes: new Attributes(attributes),
  });
  const hash = o.hash ?? 'SHA-256';
  const signature = await o.signer.sign(new Uint8Array(AsnConvert.serialize(info)), hash);
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: signatureAlgorithm(o.signer.keyType, hash),
    signature: signature.slice().buffer,
  });
  return new Uint8Array(AsnConvert.serialize(csr));
}
