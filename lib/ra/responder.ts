import type { CaKeys, Decrypter, Signer } from '../keys/types.js';
import type { EnvelopeRecipient } from '../scep/envelope.js';
import { certView, type CertView } from '../x509/cert-view.js';

/**
 * Who answers an endpoint's SCEP requests (RFC 8894 §2.2): in CA mode the CA key signs CertReps
 * and opens envelopes; in RA mode the endpoint's RA key does both, and the CA key only signs
 * certificates. GetCACert publishes `published`.
 */
export interface Responder {
  readonly mode: 'ca' | 'ra';
  /** Signs CertReps, with this certificate in them. */
  readonly signer: Signer;
  readonly signerCertificate: CertView;
  /** Keys a request may be encrypted to, preferred first (picked by issuerAndSerialNumber). */
  readonly recipients: readonly EnvelopeRecipient[];
  /** GetCACert: [RA,] CA, chain above the CA (DER). */
  readonly published: readonly Uint8Array[];
}

/**
 * CA mode: the CA key does everything. After an activation the previous CA still opens requests
 * encrypted to it (a client that read GetCACert just before the switch).
 */
export function caResponder(ca: CaKeys, previous?: CaKeys): Responder {
  const caCert = certView(ca.certificateDer);
  return {
    mode: 'ca',
    signer: ca.signer,
    signerCertificate: caCert,
    recipients: [
      { certificate: caCert, decrypter: ca.decrypter },
      ...(previous
        ? [{ certificate: certView(previous.certificateDer), decrypter: previous.decrypter }]
        : []),
    ],
    published: [ca.certificateDer, ...ca.chainDer],
  };
}

/**
 * RA mode: the newest RA certificate signs and is published; every unexpired RA certificate
 * still decrypts (overlap after a renewal); the CA certificate decrypts for clients that ignore
 * the RA, when its key can (an EC CA key cannot: such requests get a clear FAILURE).
 */
export function raResponder(
  ca: CaKeys,
  ras: readonly { readonly der: Uint8Array; readonly key: Signer & Decrypter }[],
): Responder {
  const [current] = ras;
  if (!current) throw new Error('an RA responder needs an RA certificate');
  const caCert = certView(ca.certificateDer);
  const caDecrypter: Decrypter =
    ca.signer.keyType === 'RSA'
      ? ca.decrypter
      : {
          id: ca.decrypter.id,
          publicKeySpki: ca.decrypter.publicKeySpki,
          unwrapKey: () => Promise.reject(new CaCannotDecrypt()),
        };
  return {
    mode: 'ra',
    signer: current.key,
    signerCertificate: certView(current.der),
    recipients: [
      ...ras.map((r) => ({ certificate: certView(r.der), decrypter: r.key })),
      { certificate: caCert, decrypter: caDecrypter },
    ],
    published: [current.der, ca.certificateDer, ...ca.chainDer],
  };
}

/** A request encrypted to a CA certificate whose key cannot unwrap (EC). */
export class CaCannotDecrypt extends Error {
  constructor() {
    super(
      'the request is encrypted to the CA certificate, whose key cannot decrypt; encrypt it to the RA certificate from GetCACert',
    );
  }
}
