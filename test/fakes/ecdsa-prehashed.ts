import { randomBytes, type KeyObject } from 'node:crypto';

/**
 * ECDSA over a digest the caller already computed (FIPS 186-4 §6.4), for the fake Key Vault:
 * Key Vault's `sign` receives only the digest, and node:crypto cannot sign a pre-hashed value
 * with an EC key (it hashes again). Test-only, not constant time. Returns r || s (Key Vault's,
 * and JWS's, raw form).
 */
interface Curve {
  readonly p: bigint;
  readonly n: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
  readonly bytes: number;
}

// SEC 2 / FIPS 186-4 D.1.2 parameters; a = p - 3 for both.
const CURVES: Record<string, Curve> = {
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    bytes: 32,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    bytes: 48,
  },
};

type Point = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

function inv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function add(c: Curve, a: Point, b: Point): Point {
  if (a === null) return b;
  if (b === null) return a;
  if (a.x === b.x && mod(a.y + b.y, c.p) === 0n) return null;
  const l =
    a.x === b.x && a.y === b.y
      ? mod((3n * a.x * a.x - 3n) * inv(2n * a.y, c.p), c.p)
      : mod((b.y - a.y) * inv(b.x - a.x, c.p), c.p);
  const x = mod(l * l - a.x - b.x, c.p);
  return { x, y: mod(l * (a.x - x) - a.y, c.p) };
}

function mul(c: Curve, k: bigint, pt: Point): Point {
  let r: Point = null;
  let q = pt;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) r = add(c, r, q);
    q = add(c, q, q);
  }
  return r;
}

const toBig = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
const toBytes = (v: bigint, len: number): Buffer => Buffer.from(v.toString(16).padStart(len * 2, '0'), 'hex');

export function signPrehashed(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const jwk = privateKey.export({ format: 'jwk' });
  const c = CURVES[jwk.crv ?? ''];
  if (c === undefined || jwk.d === undefined) throw new Error(`unsupported curve ${jwk.crv ?? '?'}`);
  const d = toBig(Buffer.from(jwk.d, 'base64url'));
  // Leftmost bits of the digest, as many as the order has (all of them for P-256/SHA-256, P-384/SHA-384).
  const e = toBig(digest.subarray(0, c.bytes));
  for (;;) {
    const k = mod(toBig(randomBytes(c.bytes + 8)), c.n - 1n) + 1n;
    const r = mod(mul(c, k, { x: c.gx, y: c.gy })?.x ?? 0n, c.n);
    const s = mod(inv(k, c.n) * (e + r * d), c.n);
    if (r !== 0n && s !== 0n) return Buffer.concat([toBytes(r, c.bytes), toBytes(s, c.bytes)]);
  }
}
