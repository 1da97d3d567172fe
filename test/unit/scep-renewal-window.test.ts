import { describe, expect, it } from 'vitest';
import type { IssuanceProfile } from '../../lib/ca/issue.js';
import { NO_HOOKS, type RenewalPolicy } from '../../lib/enroll/endpoint.js';
import type { RenewalDecision } from '../../lib/enroll/renewal-rule.js';
import { authorizeScepRequest } from '../../lib/scep/renewal.js';
import type { ScepEndpoint } from '../../lib/scep/endpoint.js';
import type { CertificateRecord } from '../../lib/store/types.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const ISSUANCE: IssuanceProfile = {
  validityDays: 365,
  keyUsage: ['DigitalSignature'],
  ekus: ['1.3.6.1.5.5.7.3.2'],
};

function endpoint(renewal: RenewalPolicy): ScepEndpoint {
  return {
    name: 'static',
    profile: { issuance: ISSUANCE, policy: [], renewal, replyCipher: 'auto', storeCertificate: true },
    authorizer: {
      challenge: () => Promise.resolve({ ok: false, reason: 'challenge-mismatch' }),
      refusalIsFinal: false,
    },
    hooks: NO_HOOKS,
  };
}

function granted(daysLeft: number): RenewalDecision {
  const notAfter = new Date(NOW.getTime() + daysLeft * 86_400_000).toISOString();
  return {
    ok: true,
    record: { serialNumber: '0A', endpoint: 'static', notAfter } as CertificateRecord,
    grant: { renewalOf: '0A', endpoint: 'static', profile: ISSUANCE, policy: [] },
  };
}

const authorize = (policy: RenewalPolicy, daysLeft: number) =>
  authorizeScepRequest({
    endpoint: endpoint(policy),
    isRenewalReq: true,
    decision: granted(daysLeft),
    challenge: () => Promise.resolve({ ok: false, reason: 'challenge-mismatch' }),
    now: NOW,
  });

describe('SCEP renewal window', () => {
  it('ok/a RenewalReq within the endpoint renewal window renews with the original endpoint grant', async () => {
    const r = await authorize({ allowed: true, windowDays: 30 }, 10);
    expect(r).toMatchObject({ ok: true, authorization: 'renewal', renewal: { renewalOf: '0A' } });
  });

  it('fail/a RenewalReq earlier than the renewal window needs the challenge', async () => {
    const r = await authorize({ allowed: true, windowDays: 30 }, 200);
    expect(r).toMatchObject({ ok: false, reason: 'challenge-mismatch' });
  });

  it('fail/renewals switched off: the challenge decides', async () => {
    const r = await authorize({ allowed: false }, 10);
    expect(r).toMatchObject({ ok: false, reason: 'challenge-mismatch' });
  });
});
