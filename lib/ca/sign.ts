import { randomBytes } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, TBSCertificate } from '@peculiar/asn1-x509';
import type { HashAlgorithm, Signer } from '../keys/types.js';
import { ECDSA_SIGNATURE_OID, RSA_SIGNATURE_OID } from '../cms/algorithms.js';

/** signatureAlgorithm identifiers for the CA's key type and hash. */
export function signatureAlgorithm(keyType: Signer['keyType'], hash: HashAlgorithm): AlgorithmIdentifier {
  // RFC 4055 §5: the parameters of the PKCS#1 v1.5 signature OIDs MUST be NULL.
  if (keyType === 'RSA')
    return new AlgorithmIdentifier({ algorithm: RSA_SIGNATURE_OID[hash], parameters: null });
  // RFC 5758 §3.2: ECDSA signature algorithm identifiers have absent parameters.
  return new AlgorithmIdentifier({ algorithm: ECDSA_SIGNATURE_OID[hash] });
}

/** Sign a TBSCertificate (whose `signature` field is already set) and return the DER certificate. */
export async function signTbs(tbs: TBSCertificate, signer: Signer, hash: HashAlgorithm): Promise<Uint8Array> {
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const sig = await signer.sign(tbsDer, hash);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: tbs.signature,
    signatureValue: new Uint8Array(sig).buffer,
  });
  // Keep the exact signed TBS bytes: re-serialising the parsed tbs must give the same DER.
  return new Uint8Array(AsnConvert.serialize(cert));
}

/**
 * A random positive serial number: 16 bytes from the CSPRNG with the top bit cleared
 * (RFC 5280 §4.1.2.2: positive, at most 20 octets), 127 bits of entropy. A zero first octet
 * is replaced so the DER encoding is always 16 bytes and the hex form is canonical.
 */
export function randomSerial(): Uint8Array {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f || 0x01;
  return new Uint8Array(b);
}

export function serialHex(serial: Uint8Array | ArrayBuffer): string {
  const b = Buffer.from(serial instanceof Uint8Array ? serial : new Uint8Array(serial));
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i).toString('hex');
}

export function parseCertificate(der: Uint8Array): Certificate {
  return AsnParser.parse(der, Certificate);
}
