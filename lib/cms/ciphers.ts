import { createCipheriv, createDecipheriv, getCiphers, randomBytes } from 'node:crypto';
import forge from 'node-forge';

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
 * Single DES is only in OpenSSL 3's legacy provider, which Node does not load by default
 * (and Azure's Node workers don't either). micromdm scepclient 2.1.0 encrypts every request
 * with DES-CBC, so requests are decrypted with node-forge's DES when the provider is absent.
 * Single DES is only ever used to READ a request: replies are never encrypted with it.
 */
const nodeHasDes = getCiphers().includes('des-cbc') && probeNodeDes();

function probeNodeDes(): boolean {
  try {
    createDecipheriv('des-cbc', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
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
  if (cipher === 'DES-CBC' && !nodeHasDes) return forgeDesDecrypt(key, iv, data);
  const d = createDecipheriv(spec.node, key, iv);
  return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
}

function forgeDesDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const d = forge.cipher.createDecipher(
    'DES-CBC',
    forge.util.createBuffer(Buffer.from(key).toString('binary')),
  );
  d.start({ iv: forge.util.createBuffer(Buffer.from(iv).toString('binary')) });
  d.update(forge.util.createBuffer(Buffer.from(data).toString('binary')));
  if (!d.finish()) throw new Error('DES-CBC: bad padding');
  return new Uint8Array(Buffer.from(d.output.getBytes(), 'binary'));
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
