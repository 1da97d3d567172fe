import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { SecretHash } from '../model/account.js';

/**
 * Account secrets. A challenge is `<id><secret>`: a 16-hex-digit account id (64 random bits)
 * followed by a 32-hex-digit secret (128 random bits), upper case — PrintableString-safe for
 * every SCEP client and the shape NDES's challenge page shows. The id finds the account; only
 * the secret is hashed (scrypt, RFC 7914) and compared, in constant time.
 */
export const ACCOUNT_ID_HEX = 16;
export const SECRET_HEX = 32;

const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_LEN = 32;

export const newAccountId = (): string =>
  randomBytes(ACCOUNT_ID_HEX / 2)
    .toString('hex')
    .toUpperCase();
export const newSecret = (): string =>
  randomBytes(SECRET_HEX / 2)
    .toString('hex')
    .toUpperCase();

const HEX = new RegExp(`^[0-9A-F]{${ACCOUNT_ID_HEX + SECRET_HEX}}$`);

/** Split a challenge into account id and secret; undefined when it has not our shape. */
export function splitChallenge(challenge: string): { id: string; secret: string } | undefined {
  const c = challenge.trim().toUpperCase();
  if (!HEX.test(c)) return undefined;
  return { id: c.slice(0, ACCOUNT_ID_HEX), secret: c.slice(ACCOUNT_ID_HEX) };
}

function derive(secret: string, salt: Buffer, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LEN, { ...o, maxmem: 64 * 1024 * 1024 }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt, PARAMS);
  return { alg: 'scrypt', ...PARAMS, salt: salt.toString('base64'), hash: hash.toString('base64') };
}

export async function verifySecret(secret: string, stored: SecretHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const got = await derive(secret.toUpperCase(), Buffer.from(stored.salt, 'base64'), {
    N: stored.N,
    r: stored.r,
    p: stored.p,
  });
  return got.length === expected.length && timingSafeEqual(got, expected);
}
