/**
 * A renewal that supersedes a certificate, seen by relying parties: micromdm `scepclient` renews
 * (a RenewalReq signed by its earlier certificate, as its second run does) and `openssl ocsp`
 * asks the host about both certificates. With the endpoint's profile set
 * (AppConfig__StaticValidation__RevokeSupersededOnRenewal) the old one is `revoked` with reason
 * superseded and the new one `good`; with the default both stay good; a refused renewal revokes
 * nothing.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOpenssl, checkScepclient, runClient } from './helpers/clients.js';
import { startInteropEnv, type InteropEnv } from './helpers/env.js';
import { describeWithClient } from './helpers/suite.js';

const TIMEOUT_MS = 30_000;

function hostWith(settings: Record<string, string>) {
  let env: InteropEnv | undefined;
  beforeAll(async () => {
    env = await startInteropEnv('supersede', { env: settings });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });
  const ctx = (): InteropEnv => {
    if (!env) throw new Error('local host did not start');
    return env;
  };

  /** scepclient's first run enrolls; a run with cert.pem present renews (RenewalReq). */
  async function scepclient(
    dir: string,
    cn: string,
    challenge = ctx().challenge,
  ): Promise<{ code: number | null; log: string }> {
    // prettier-ignore
    const args = [
      '-server-url', ctx().scepUrl,
      '-private-key', join(dir, 'key.pem'),
      '-certificate', join(dir, 'cert.pem'),
      '-cn', cn, '-organization', 'azure-scep-ca tests', '-keySize', '2048',
      '-challenge', challenge,
    ];
    const r = await runClient('scepclient', args, { cwd: dir, timeoutMs: TIMEOUT_MS, secrets: [challenge] });
    return { code: r.code, log: `${r.commandLine}\n${r.stdout}${r.stderr}` };
  }

  /** Enroll, keep the first certificate as old.pem, then run the renewal. */
  async function enrollThenRenew(label: string, renewAs?: { cn: string; challenge?: string }) {
    const dir = await ctx().workDir(label);
    const cn = `${label}-${randomBytes(4).toString('hex')}`;
    const first = await scepclient(dir, cn);
    expect(first.code, first.log).toBe(0);
    await copyFile(join(dir, 'cert.pem'), join(dir, 'old.pem'));
    if (renewAs !== undefined) await rm(join(dir, 'csr.pem')); // a new CSR with another subject
    const renewal = await scepclient(dir, renewAs?.cn ?? cn, renewAs?.challenge);
    return { dir, renewal };
  }

  /** `openssl ocsp` for old.pem and cert.pem (POST, no nonce), verified against the CA. */
  async function ocsp(dir: string): Promise<string> {
    await writeFile(join(dir, 'ca.pem'), ctx().caPem);
    const base = ctx().scepUrl.replace(/\/scep\/static$/, '');
    // prettier-ignore
    const r = await runClient('openssl', [
      'ocsp', '-issuer', 'ca.pem', '-CAfile', 'ca.pem', '-cert', 'old.pem', '-cert', 'cert.pem',
      '-url', `${base}/ocsp`, '-no_nonce',
    ], { cwd: dir, timeoutMs: TIMEOUT_MS });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Response verify OK');
    return r.stdout;
  }

  return { enrollThenRenew, ocsp };
}

const clients = {
  available: checkScepclient().available && checkOpenssl().available,
  reason: [checkScepclient().reason, checkOpenssl().reason].filter((s) => s !== '').join('; '),
};

describeWithClient('renewal revokes the superseded certificate per profile', clients, () => {
  describe('profile on (RevokeSupersededOnRenewal=true)', () => {
    const h = hostWith({ AppConfig__StaticValidation__RevokeSupersededOnRenewal: 'true' });

    it('ok/after a scepclient renewal, openssl ocsp says the old certificate is revoked (superseded) and the new one good', async () => {
      const { dir, renewal } = await h.enrollThenRenew('mm-supersede');
      expect(renewal.code, renewal.log).toBe(0);
      const out = await h.ocsp(dir);
      expect(out).toMatch(/^old\.pem: revoked\n(?:\t.*\n)*?\tReason: superseded\n/m);
      expect(out).toMatch(/^cert\.pem: good$/m);
    });

    it('fail/a refused renewal (another subject, wrong challenge) leaves the old certificate good', async () => {
      const { dir, renewal } = await h.enrollThenRenew('mm-refused', {
        cn: 'someone-else',
        challenge: 'not-the-challenge',
      });
      expect(renewal.code, renewal.log).not.toBe(0);
      await copyFile(join(dir, 'old.pem'), join(dir, 'cert.pem'));
      const out = await h.ocsp(dir);
      expect(out).toMatch(/^old\.pem: good$/m);
      expect(out).not.toContain('revoked');
    });

    it('ok/a RenewalReq for another subject that its challenge enrolls is no renewal: the old certificate stays good', async () => {
      const h2 = await h.enrollThenRenew('mm-other', { cn: 'someone-else' });
      expect(h2.renewal.code, h2.renewal.log).toBe(0);
      const out = await h.ocsp(h2.dir);
      expect(out).toMatch(/^old\.pem: good$/m);
      expect(out).toMatch(/^cert\.pem: good$/m);
    });
  });

  describe('profile off (the default)', () => {
    const h = hostWith({});

    it('ok/after a scepclient renewal both the old and the new certificate are good', async () => {
      const { dir, renewal } = await h.enrollThenRenew('mm-keep');
      expect(renewal.code, renewal.log).toBe(0);
      const out = await h.ocsp(dir);
      expect(out).toMatch(/^old\.pem: good$/m);
      expect(out).toMatch(/^cert\.pem: good$/m);
    });
  });
});
