import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { keyEvent, recordKeyEvent } from '../../lib/audit/keys.js';
import { ResponderCertificates } from '../../lib/revocation/responder.js';
import { recordingAudit } from '../helpers/audit-log.js';
import { testCaKeys } from '../helpers/revocation.js';

const sha256 = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex').toUpperCase();

describe('key lifecycle audit events', () => {
  it('ok/a CA certificate loaded at start: fingerprint, serial, subject, expiry and key location', async () => {
    const ca = await testCaKeys();
    const audit = recordingAudit();
    recordKeyEvent(audit, {
      role: 'ca',
      action: 'loaded',
      certificateDer: ca.certificateDer,
      key: 'local:ca.key.pem',
    });
    expect(audit.events).toHaveLength(1);
    const e = audit.events[0]!;
    expect(e).toMatchObject({
      kind: 'key',
      operation: 'ca.loaded',
      outcome: 'loaded',
      reason: 'key-lifecycle',
      partition: '_management',
      actor: 'azure-scep-ca',
    });
    expect(e.message).toContain(sha256(ca.certificateDer));
    const after = e.changes?.[0]?.after as Record<string, unknown>;
    expect(after).toMatchObject({ thumbprintSha256: sha256(ca.certificateDer), key: 'local:ca.key.pem' });
    expect(after.serialNumber).toBe(e.serialNumber);
    expect(e.subject).toMatch(/CN=/);
  });

  it('ok/a rotation names the certificate it replaces and who asked; an RA key is in its endpoint partition', async () => {
    const ca = await testCaKeys();
    const e = keyEvent({
      role: 'ra',
      action: 'rotated',
      certificateDer: ca.certificateDer,
      previous: 'ab'.repeat(32),
      endpoint: 'lab',
      actor: 'admin-key',
    });
    expect(e).toMatchObject({
      operation: 'ra.rotated',
      outcome: 'changed',
      endpoint: 'lab',
      actor: 'admin-key',
    });
    expect(e.changes?.[0]?.before).toEqual({ thumbprintSha256: 'AB'.repeat(32) });
    expect(e.message).toContain(`replaces ${'AB'.repeat(32)}`);
  });

  it('fail/a certificate that cannot be read still gives an event, never an exception', () => {
    const audit = recordingAudit();
    recordKeyEvent(audit, { role: 'ca', action: 'rollover', certificateDer: new Uint8Array([1, 2, 3]) });
    expect(audit.events.map((e) => [e.operation, e.reason])).toEqual([['ca.rollover', 'key-lifecycle']]);
  });

  it('ok/the OCSP responder reports each certificate it has issued, once, and its renewal with the previous one', async () => {
    const ca = await testCaKeys();
    let now = new Date('2026-06-01T00:00:00Z');
    const issued: [Uint8Array, Uint8Array | undefined][] = [];
    const responder = new ResponderCertificates(ca, {
      validityHours: 2,
      now: () => now,
      onIssued: (der, previous) => issued.push([der, previous]),
    });
    const first = await responder.get();
    await responder.get();
    expect(issued).toHaveLength(1);
    expect(issued[0]).toEqual([first.certificateDer, undefined]);
    now = new Date(now.getTime() + 90 * 60_000); // three quarters of its life: renewed
    await responder.get(); // still valid: answered with the old one while the new one is made
    await vi.waitFor(
      () => {
        expect(issued).toHaveLength(2);
      },
      { timeout: 20_000 },
    );
    const renewed = await responder.get();
    expect(issued[1]).toEqual([renewed.certificateDer, first.certificateDer]);
  });
});
