import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { parseCsr, type ParsedCsr } from '../../lib/csr/parse.js';

/**
 * PKCS#10 requests as an Intune-managed device sends them: subject, challengePassword (the
 * Intune challenge), and extensionRequest with key usage and EKUs from the SCEP profile.
 */

const alg = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
let keys: Promise<webcrypto.CryptoKeyPair> | undefined;

export interface TestCsr {
  readonly der: Uint8Array;
  readonly base64: string;
  readonly parsed: ParsedCsr;
}

export async function makeIntuneCsr(
  options: { challenge?: string; subject?: string; ekus?: string[] } = {},
): Promise<TestCsr> {
  keys ??= webcrypto.subtle.generateKey(alg, false, ['sign', 'verify']);
  const attributes =
    options.challenge === undefined ? [] : [new x509.ChallengePasswordAttribute(options.challenge)];
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    name: options.subject ?? 'CN=device-1234',
    keys: await keys,
    signingAlgorithm: alg,
    attributes,
    extensions: [
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(options.ekus ?? ['1.3.6.1.5.5.7.3.2']),
    ],
  });
  const der = new Uint8Array(req.rawData);
  return { der, base64: Buffer.from(der).toString('base64'), parsed: parseCsr(der) };
}
