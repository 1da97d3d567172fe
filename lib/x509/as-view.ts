import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { certView, type CertView } from './cert-view.js';

/** Accept either form of a certificate: a parsed @peculiar/asn1-x509 object or a CertView. */
export function asView(c: Certificate | CertView): CertView {
  return c instanceof Certificate ? certView(new Uint8Array(AsnConvert.serialize(c))) : c;
}
