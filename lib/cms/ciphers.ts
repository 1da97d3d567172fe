import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export type ContentCipher = 'DES-CBC' | 'DES-EDE3-CBC' | 'AES-128-CBC' | 'AES-192-CBC' | 'AES-256-CBC';

interface CipherSpec {
  readonly oid: string;
  readonly node: string;
  readonly keyLength: number;
  readonly ivLength: number;
}

export const CIPHERS: Record<ContentCipher, CipherSpec> = {
  'DES-CBC': { oid: '1.3.14.3.2.7', node: 'des-cbc', keyLength: 8, ivLength: 8 },
  'DES-EDE3-CBC': { oid: '1.2.840.113549.3.7', node: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
  'AES-128-CBC': { oid: '2.16.840.1.101.3.4.1.2', node: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  'AES-192-CBC': { oid: '2.16.840.1.101.3.4.1.22', node: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  'AES-256-CBC': { oid: '2.16.840.1.101.3.4.1.42', node: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
};

export function cipherByOid(oid: string): ContentCipher | undefined {
  return (Object.keys(CIPHERS) as ContentCipher[]).find((c) => CIPHERS[c].oid === oid);
}

/**
 * Single DES is only in OpenSSL 3's legacy provider, which Node does not load by default (nor do
 * Azure's Node workers), and micromdm scepclient 2.1.0 encrypts every request with DES-CBC.
 * Triple DES with one key three times (K1 = K2 = K3) is single DES: the decryption and the
 * second encryption cancel (NIST SP 800-67, keying option 3; ANSI X9.52), and des-ede3-cbc is
 * in the default provider. Single DES is only ever used to READ a request: replies are never
 * encrypted with it.
 */
function nodeCipherOf(cipher: ContentCipher, key: Uint8Array): { name: string; key: Uint8Array } {
  return cipher === 'DES-CBC'
    ? { name: 'des-ede3-cbc', key: Buffer.concat([key, key, key]) }
    : { name: CIPHERS[cipher].node, key };
}

export function decryptContent(
  cipher: ContentCipher,
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  const spec = CIPHERS[cipher];
  if (key.length !== spec.keyLength || iv.length !== spec.ivLength) {
    throw new Error(`${cipher}: wrong key or IV length`);
  }
  const node = nodeCipherOf(cipher, key);
  const d = createDecipheriv(node.name, node.key, iv);
  return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
}

export function encryptContent(
  cipher: Exclude<ContentCipher, 'DES-CBC'>,
  data: Uint8Array,
): { key: Uint8Array; algorithmOid: string; iv: Uint8Array; ciphertext: Uint8Array } {
  const spec = CIPHERS[cipher];
  const key = randomBytes(spec.keyLength);
  const iv = randomBytes(spec.ivLength);
  const c = createCipheriv(spec.node, key, iv);
  const ciphertext = Buffer.concat([c.update(data), c.final()]);
  return {
    key: new Uint8Array(key),
    algorithmOid: spec.oid,
    iv: new Uint8Array(iv),
    ciphertext: new Uint8Array(ciphertext),
  };
}
