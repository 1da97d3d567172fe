import { describe, expect, it } from 'vitest';
import { parseExplainRequest } from '../../lib/audit/explain.js';
import { parseAuditRequest } from '../../lib/audit/query.js';
import { canonicalSerialHex } from '../../lib/x509/cert-view.js';

describe('audit and explain queries', () => {
  // The store's serial of a certificate whose first serial octet is below 0x10.
  const stored = canonicalSerialHex(Buffer.from('05ab12', 'hex'));

  it('ok/a serial is matched as the store keeps it, however it was pasted', () => {
    for (const pasted of ['05ab12', '05:AB:12', '5AB12', '0x05ab12', '0005ab12']) {
      expect(parseAuditRequest(new URLSearchParams({ serial: pasted })).query.serialNumber).toBe(stored);
      expect(parseExplainRequest(new URLSearchParams({ serial: pasted })).serialNumber).toBe(stored);
    }
  });

  it('fail/a serial that is not hexadecimal is 400', () => {
    expect(() => parseAuditRequest(new URLSearchParams({ serial: 'xyz' }))).toThrow(/hexadecimal/);
  });
});
