/**
 * micromdm `scepclient` and the explainer: a device first sent with a wrong challenge, then
 * with the right one, has a two-step timeline (refused: challenge-mismatch with its fix, then
 * issued), and the wrong challenge appears nowhere in the audit trail.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REASONS } from '../../lib/audit/reasons.js';
import { auditEvents, explainAttempts, tokenAccess, useAuditAccess } from '../helpers/audit.js';
import { checkScepclient, runClient } from './helpers/clients.js';
import { startInteropEnv, type InteropEnv } from './helpers/env.js';
import { describeWithClient } from './helpers/suite.js';

describeWithClient('micromdm scepclient: audit timeline', checkScepclient(), () => {
  let env: InteropEnv | undefined;
  const ctx = (): InteropEnv => {
    if (!env) throw new Error('local host did not start');
    return env;
  };

  beforeAll(async () => {
    env = await startInteropEnv('micromdm-audit');
    await useAuditAccess(tokenAccess({ admin: { id: 'admin', scope: 'all' } }));
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  const enroll = (dir: string, cn: string, challenge: string) =>
    // prettier-ignore
    runClient('scepclient', [
      '-server-url', ctx().scepUrl,
      '-private-key', `${dir}/key.pem`,
      '-certificate', `${dir}/cert.pem`,
      '-cn', cn,
      '-organization', 'azure-scep-ca tests',
      '-keySize', '2048',
      '-challenge', challenge,
    ], { cwd: dir, timeoutMs: 30_000, secrets: [challenge] });

  it('a wrong challenge, then the right one: refused (challenge-mismatch, with the fix), then issued', async () => {
    // Separate folders: scepclient re-sends an existing csr.pem, challenge included.
    const cn = `mm-audit-${randomBytes(4).toString('hex')}`;
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const first = await enroll(await ctx().workDir('mm-audit-wrong'), cn, wrong);
    expect(first.code).not.toBe(0);
    const second = await enroll(await ctx().workDir('mm-audit-right'), cn, ctx().challenge);
    expect(second.code, second.stderr).toBe(0);

    const api = { baseUrl: new URL(ctx().scepUrl).origin };
    const attempts = await explainAttempts(api, `subject=${cn}`);
    expect(attempts.map((a) => [a.outcome, a.reason])).toEqual([
      ['refused', 'challenge-mismatch'],
      ['issued', 'issued'],
    ]);
    expect(attempts[0]!.fix).toBe(REASONS['challenge-mismatch'].fix);
    expect(attempts[0]!.endpoint).toBe('static');
    // Two keys, two transactions: the refused one explains itself by its transactionID too.
    const byTx = await explainAttempts(
      api,
      `transactionId=${encodeURIComponent(attempts[0]!.transactionId!)}`,
    );
    expect(byTx.map((a) => a.reason)).toEqual(['challenge-mismatch']);
    const recorded = JSON.stringify(await auditEvents(api, `subject=${cn}`));
    expect(recorded).not.toContain(wrong);
    expect(recorded).not.toContain(ctx().challenge);
  });
});
