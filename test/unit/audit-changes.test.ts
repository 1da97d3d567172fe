import { describe, expect, it } from 'vitest';
import { changeEvent, fieldChanges } from '../../lib/audit/changes.js';
import { toAuditEvent } from '../../lib/audit/event.js';

describe('management changes as audit events', () => {
  it('ok/only the changed fields, with before and after', () => {
    expect(
      fieldChanges(
        { id: 'lab', enabled: true, profile: { minRsaBits: 2048 }, etag: '1' },
        { id: 'lab', enabled: false, profile: { minRsaBits: 3072 }, etag: '2' },
      ),
    ).toEqual([
      { field: 'enabled', before: true, after: false },
      { field: 'profile', before: { minRsaBits: 2048 }, after: { minRsaBits: 3072 } },
    ]);
  });

  it('ok/a changed secret is recorded as changed, never with its value', () => {
    const changes = fieldChanges({ challengeHash: 'abc', salt: 's1' }, { challengeHash: 'def', salt: 's2' });
    expect(changes).toEqual([
      { field: 'challengeHash', before: '(set)', after: '(changed)' },
      { field: 'salt', before: '(set)', after: '(changed)' },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/abc|def|s1|s2/);
  });

  it('ok/the event names who changed what, in the organization of the object, partition _management', () => {
    const input = changeEvent(
      { id: 'entra:42' },
      'account.update',
      'lab/a1',
      { organization: 'org-a', enabled: true },
      {
        organization: 'org-a',
        enabled: false,
      },
    );
    const e = toAuditEvent(input, new Date('2026-12-01T00:00:00Z'));
    expect(e).toMatchObject({
      kind: 'management',
      actor: 'entra:42',
      organization: 'org-a',
      outcome: 'changed',
      reason: 'management-change',
      partition: '_management',
      message: 'entra:42: account.update lab/a1 (enabled)',
    });
  });

  it('ok/a delete keeps the organization of what was deleted', () => {
    const e = changeEvent(
      { id: 'admin-key' },
      'endpoint.delete',
      'lab',
      { organization: 'org-b', name: 'lab' },
      undefined,
    );
    expect(e.organization).toBe('org-b');
    expect(e.changes).toEqual([
      { field: 'name', before: 'lab', after: undefined },
      { field: 'organization', before: 'org-b', after: undefined },
    ]);
  });
});
