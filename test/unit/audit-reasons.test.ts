import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isReasonCode, REASONS, reasonEntry } from '../../lib/audit/reasons.js';
import { TABLE_BEGIN, TABLE_END } from '../../lib/audit/reasons-table.js';
import { IntuneResultCodes, intuneReasonCode } from '../../lib/intune/types.js';
import { readDoc } from '../helpers/docs.js';

const ROOT = join(import.meta.dirname, '../..');
/** Where refusals are decided: the request path, not the management API's own authentication. */
const REFUSAL_SOURCES = [
  'lib/scep',
  'lib/enroll',
  'lib/challenge',
  'lib/intune',
  'lib/rest',
  'lib/csr',
  'lib/endpoints',
  'lib/model',
  'lib/auth/client-cert.ts',
];

function files(path: string): string[] {
  const abs = join(ROOT, path);
  try {
    if (statSync(abs).isFile()) return [abs];
  } catch {
    return [];
  }
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(abs, f));
}

/**
 * Reason codes written as literals where refusals are made: `reason: '…'`, `refuse('…'`,
 * `refuse('<kind>', '…'`, `issueFailed(req, '…'`, and the renewal signer checks
 * `invalid('…'` (recorded as `renewal-…`).
 */
export function reasonLiterals(source: string): string[] {
  const out: string[] = [];
  const add = (re: RegExp, map: (m: RegExpExecArray) => string | undefined = (m) => m[1]) => {
    for (const m of source.matchAll(re)) {
      const v = map(m);
      if (v !== undefined) out.push(v);
    }
  };
  add(/\breason:\s*'([^']+)'/g);
  const kind = `'(?:unauthorized|policy|conflict|unavailable)'`;
  add(new RegExp(`\\brefuse\\(\\s*(?:${kind},\\s*'([^']+)'|(?!${kind})'([^']+)')`, 'g'), (m) => m[1] ?? m[2]);
  add(/\bissueFailed\(\s*\w+,\s*'([^']+)'/g);
  add(/\binvalid\(\s*'(signer-[^']+)'/g, (m) => `renewal-${m[1]}`);
  add(/\bnew EnvelopeError\([^)]*?,\s*'([^']+)'/g);
  return out;
}

describe('reason catalogue', () => {
  it('every reason code written in a refusal path has a catalogue entry', () => {
    const found = new Map<string, string>();
    for (const dir of REFUSAL_SOURCES) {
      for (const f of files(dir))
        for (const code of reasonLiterals(readFileSync(f, 'utf8'))) found.set(code, f);
    }
    // The scan must see the refusals it guards (a broken pattern would otherwise pass).
    expect(found.size).toBeGreaterThan(30);
    const missing = [...found].filter(([code]) => !isReasonCode(code)).map(([c, f]) => `${c} (${f})`);
    expect(missing).toEqual([]);
  });

  it('the scan recognises each way a refusal is written', () => {
    const src = `reason: 'key-too-small'; refuse('policy', 'a-b'); refuse('policy', r.reason); refuse('c-d', 'text'); issueFailed(req, 'e-f', 'm'); invalid('signer-x', 'y'); new EnvelopeError(\`m\`, 'g-h')`;
    expect(reasonLiterals(src)).toEqual(['key-too-small', 'a-b', 'c-d', 'e-f', 'renewal-signer-x', 'g-h']);
  });

  it("every code of Microsoft's Intune contract has an entry with its meaning", () => {
    for (const code of IntuneResultCodes.filter((c) => c !== 'Success')) {
      const reason = intuneReasonCode({ ok: false, kind: 'code', code, message: '' });
      expect(reason).toBe(`intune:${code}`);
      expect(reasonEntry(reason).check).toBe('intune');
    }
    expect(intuneReasonCode({ ok: false, kind: 'code', code: 'Whatever', message: '' })).toBe(
      'intune:Unknown',
    );
    expect(reasonEntry(intuneReasonCode({ ok: false, kind: 'http', httpStatus: 503, message: '' }))).toBe(
      REASONS['intune:http'],
    );
  });

  it('every entry has a meaning and a fix, written as sentences', () => {
    for (const [code, e] of Object.entries(REASONS)) {
      expect(e.meaning, code).toMatch(/^[A-Z].*\.$/);
      expect(e.fix, code).toMatch(/^[A-Z].*[.)]$/);
    }
  });

  it('the table in docs/troubleshooting.md is the catalogue (npm run reasons regenerates it)', () => {
    const page = readDoc('docs/troubleshooting.md');
    const a = page.indexOf(TABLE_BEGIN);
    const b = page.indexOf(TABLE_END);
    expect(a).toBeGreaterThan(0);
    const rows = page
      .slice(a + TABLE_BEGIN.length, b)
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) =>
        l
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((c) => c.trim().replace(/\\\|/g, '|')),
      );
    const want = Object.entries(REASONS).map(([code, e]) => [`\`${code}\``, e.check, e.meaning, e.fix]);
    expect(rows).toEqual(want);
  });
});
