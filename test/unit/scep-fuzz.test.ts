import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBer, type Ber } from '../../lib/cms/ber.js';
import { isAppError } from '../../lib/errors.js';
import { parsePkiMessage } from '../../lib/scep/message.js';

/**
 * Strict structure, fuzzed: real pkiMessages (micromdm scepclient, strongSwan pki; see
 * test/fixtures/scep/README.md) mutated with a fixed seed: bit flips anywhere, truncations,
 * length fields and tags. For every mutant the parser either refuses it (AppError BAD_REQUEST,
 * HTTP 400) or reads it as a message that must get a FAILURE: its signature does not verify,
 * or its signer certificate is not a valid self-signed one. Nothing else: no other exception
 * (a 500), and never a message the server would answer SUCCESS although a byte differs.
 *
 * The parser runs directly (no HTTP, no decryption): whether a mutant could be answered
 * SUCCESS is decided by `signatureValid && signerSelfSigned`, which every SUCCESS needs for
 * these first-enrollment messages.
 */

const dir = join(import.meta.dirname, '..', 'fixtures', 'scep');
const ORIGINALS = [
  'micromdm-pkcsreq-des.der',
  'strongswan-pkcsreq-aes128.der',
  'strongswan-pkcsreq-3des.der',
].map((name) => ({ name, der: new Uint8Array(readFileSync(join(dir, name))) }));
const CASES = 21_000;
const SEED = 0x5ce9_2026;

/** mulberry32: a small seeded PRNG, so a failure can be replayed case by case. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offsets of every identifier octet and every first length octet in the element tree. */
function headerOffsets(root: Ber): { tags: number[]; lengths: number[] } {
  const tags: number[] = [];
  const lengths: number[] = [];
  const walk = (n: Ber): void => {
    tags.push(n.start);
    lengths.push(n.start + 1);
    n.children.forEach(walk);
  };
  walk(root);
  return { tags, lengths };
}

function mutate(
  der: Uint8Array,
  heads: { tags: number[]; lengths: number[] },
  rnd: () => number,
): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const m = der.slice();
  switch (pick(4)) {
    case 0: {
      const at = pick(m.length);
      m[at] = (m[at] ?? 0) ^ (1 << pick(8));
      return m;
    }
    case 1:
      return m.slice(0, pick(m.length));
    case 2: {
      const at = heads.lengths[pick(heads.lengths.length)] ?? 1;
      m[at] =
        [0x00, 0x7f, 0x80, 0x81, 0x84, 0xff, ((m[at] ?? 0) + 1) & 0xff, ((m[at] ?? 0) - 1) & 0xff][pick(8)] ??
        0;
      return m;
    }
    default: {
      const at = heads.tags[pick(heads.tags.length)] ?? 0;
      m[at] = [0x04, 0x05, 0x06, 0x13, 0x0c, 0x30, 0x31, 0xa0, 0xa1, 0x80, 0x02, 0x03][pick(12)] ?? 0;
      return m;
    }
  }
}

describe('pkiMessage parser fuzz', () => {
  it('ok/the originals parse, verify and have a valid self-signed signer', () => {
    for (const o of ORIGINALS) {
      const msg = parsePkiMessage(o.der);
      expect(msg.signatureValid, o.name).toBe(true);
      expect(msg.signerSelfSigned, o.name).toBe(true);
    }
  });

  it('fail/a signer certificate whose subject cannot be decoded is refused (400), not read and named later', () => {
    const original = ORIGINALS[0]!.der;
    const msg = parsePkiMessage(original);
    const cert = Buffer.from(msg.signerCertificateDer);
    const subject = Buffer.from(msg.signer.subject);
    // Self-signed: issuer, then subject, carry the same Name; break the subject's first RDN tag.
    const inCert = cert.indexOf(subject, cert.indexOf(subject) + 1);
    const header = (subject[1] ?? 0) < 0x80 ? 2 : 2 + ((subject[1] ?? 0) & 0x7f);
    const mutant = Buffer.from(original);
    mutant[mutant.indexOf(cert) + inCert + header] = 0x04;
    expect(() => parsePkiMessage(new Uint8Array(mutant))).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
  });

  it(`fail/${CASES} mutated real messages (seed ${SEED}): 0 crashes, 0 mutants that could be answered SUCCESS`, () => {
    const rnd = prng(SEED);
    const heads = ORIGINALS.map((o) => headerOffsets(parseBer(o.der)));
    const crashes: string[] = [];
    const accepted: string[] = [];
    let refused = 0;
    let failures = 0;
    let tested = 0;
    for (let i = 0; tested < CASES; i++) {
      const k = i % ORIGINALS.length;
      const original = ORIGINALS[k]!;
      const m = mutate(original.der, heads[k]!, rnd);
      if (Buffer.from(m).equals(Buffer.from(original.der))) continue;
      tested++;
      try {
        const msg = parsePkiMessage(m);
        if (msg.signatureValid && msg.signerSelfSigned) accepted.push(`case ${i} (${original.name})`);
        else failures++;
      } catch (e) {
        if (isAppError(e) && e.code === 'BAD_REQUEST') refused++;
        else crashes.push(`case ${i} (${original.name}): ${String(e)}`);
      }
    }
    expect(crashes.slice(0, 5)).toEqual([]);
    expect(accepted.slice(0, 5)).toEqual([]);
    expect(refused + failures).toBe(CASES);
    // The mutations reach past the first bytes: some parse and are refused by verification.
    expect(failures).toBeGreaterThan(100);
  });
});
