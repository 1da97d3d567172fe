import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { certificateRequestBase64, IntuneChallengeValidator } from '../../lib/challenge/intune.js';
import type { ChallengeContext } from '../../lib/challenge/types.js';
import { IntuneClient } from '../../lib/intune/client.js';
import type { Logger } from '../../lib/intune/types.js';
import { makeIntuneCsr } from '../fakes/intune-csr.js';
import { type FakeIntune, startFakeIntune } from '../fakes/intune-server.js';

let fake: FakeIntune;
let lines: string[];
const log: Logger = {
  info: (m: unknown) => void lines.push(`info ${String(m)}`),
  warn: (m: unknown) => void lines.push(`warn ${String(m)}`),
  error: (m: unknown) => void lines.push(`error ${String(m)}`),
};

async function ctx(challenge: string | undefined, transactionId = 'tx-1'): Promise<ChallengeContext> {
  const csr = await makeIntuneCsr(challenge === undefined ? {} : { challenge });
  return {
    endpoint: 'intune',
    transactionId,
    csr: csr.parsed,
    challengePassword: csr.parsed.challengePassword,
  };
}

function validator(timeoutMs = 2000): IntuneChallengeValidator {
  return new IntuneChallengeValidator(new IntuneClient({ ...fake.clientOptions(), timeoutMs }), log);
}

beforeAll(async () => {
  fake = await startFakeIntune();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  lines = [];
});

describe('IntuneChallengeValidator', () => {
  it('ok/Success allows issuance, authorized as intune', async () => {
    const c = await ctx('a-real-looking-challenge', 'tx-ok');
    expect(await validator().validate(c)).toEqual({ ok: true, authorization: 'intune' });
    const call = fake.calls.find((k) => k.fields.transactionId === 'tx-ok')!;
    expect(call.fields.certificateRequest).toBe(Buffer.from(c.csr.der).toString('base64'));
    expect(call.challenge).toBe('a-real-looking-challenge');
    expect(lines).toEqual(['info intune validateRequest: Success']);
  });

  it.each([
    ['fake:ChallengeExpired', 'intune:ChallengeExpired'],
    ['fake:SubjectNameMismatch', 'intune:SubjectNameMismatch'],
    ['fake:ScepProfileNoLongerTargetedToTheClient', 'intune:ScepProfileNoLongerTargetedToTheClient'],
    ['fake:http-500', 'intune:http-500'],
    ['fake:http-500-text', 'intune:http-500'],
    ['fake:http-401', 'intune:http-401'],
  ])(
    'fail/challenge %s is refused with reason %s, and the log names it (matrix rows 22, 23)',
    async (challenge, reason) => {
      const r = await validator().validate(await ctx(challenge));
      expect(r).toMatchObject({ ok: false, reason });
      expect(lines).toEqual([`warn intune validateRequest refused: ${reason}`]);
    },
  );

  it('fail/the description Intune gives is kept in the detail', async () => {
    const r = await validator().validate(await ctx('fake:KeyUsageMismatch'));
    expect(r).toMatchObject({
      ok: false,
      detail: 'validateRequest answered KeyUsageMismatch: scripted KeyUsageMismatch',
    });
  });

  it('fail/no answer in time is intune:timeout', async () => {
    expect(await validator(300).validate(await ctx('fake:hang'))).toMatchObject({
      ok: false,
      reason: 'intune:timeout',
    });
  });

  it('fail/token failure is intune:token', async () => {
    fake.tokenFault = { status: 401, error: 'invalid_client', aadsts: 7000215 };
    try {
      expect(await validator().validate(await ctx('x'))).toMatchObject({ ok: false, reason: 'intune:token' });
    } finally {
      fake.tokenFault = undefined;
    }
  });

  it('fail/a CSR without challengePassword is refused without calling Intune', async () => {
    const before = fake.calls.length;
    expect(await validator().validate(await ctx(undefined))).toMatchObject({
      ok: false,
      reason: 'intune:challenge-missing',
    });
    expect(fake.calls).toHaveLength(before);
  });

  it('ok/certificateRequestBase64 is standard padded base64 of exactly the DER bytes', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 9]);
    expect(certificateRequestBase64(backing.subarray(2, 6))).toBe('AQIDBA==');
  });

  it('has seen no contract violation', () => {
    expect(fake.violations).toEqual([]);
  });
});
