/**
 * Real clients against endpoints held in the store: micromdm `scepclient` 2.1.0 and strongSwan
 * `pki` 5.9.8 enroll against a stored endpoint with an account challenge, with a one-time
 * challenge (a second use is refused), and with a challenge fetched from the NDES-compatible
 * page by `curl` with HTTP Basic credentials. An endpoint's profile change is seen by the next
 * enrollment; a disabled endpoint answers 404. Endpoints and accounts are made through the
 * management use cases directly (the management API has its own tests).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { createAccount, createOneTimeChallenge } from '../../lib/endpoints/accounts.js';
import { createEndpoint, updateEndpoint } from '../../lib/endpoints/manage.js';
import { inspectIssued } from './helpers/certs.js';
import { checkScepclient, checkStrongswanPki, clientLog, findOnPath, runClient } from './helpers/clients.js';
import { startInteropEnv, type InteropEnv } from './helpers/env.js';
import { firstPemCertificate } from './helpers/certs.js';
import { describeWithClient } from './helpers/suite.js';

const TIMEOUT = 30_000;
const name = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

function hostOf(): { env: () => InteropEnv; url: (endpoint: string) => string } {
  let env: InteropEnv | undefined;
  beforeAll(async () => {
    // Every request reads its endpoint afresh, so a change shows on the very next enrollment.
    env = await startInteropEnv('endpoints', { env: { AppConfig__EndpointCacheSeconds: '0' } });
    const m = (await getApp()).manage;
    await createEndpoint(m, { name: 'lab', type: 'device-scep', displayName: 'Lab' });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });
  const ctx = (): InteropEnv => {
    if (!env) throw new Error('local host did not start');
    return env;
  };
  return { env: ctx, url: (endpoint) => ctx().scepUrl.replace(/\/scep\/static$/, `/scep/${endpoint}`) };
}

async function accountChallenge(endpoint: string): Promise<string> {
  const r = await createAccount((await getApp()).manage, endpoint, { name: 'interop' });
  if (!('challenge' in r)) throw new Error('expected a challenge');
  return r.challenge;
}

describeWithClient('micromdm scepclient against stored endpoints', checkScepclient(), () => {
  const host = hostOf();

  async function scepclient(label: string, cn: string, challenge: string, endpoint = 'lab') {
    const dir = await host.env().workDir(label);
    // prettier-ignore
    const args = [
      '-server-url', host.url(endpoint),
      '-private-key', join(dir, 'key.pem'), '-certificate', join(dir, 'cert.pem'),
      '-cn', cn, '-organization', 'azure-scep-ca tests', '-keySize', '2048', '-challenge', challenge, '-debug',
    ];
    const run = await runClient('scepclient', args, { cwd: dir, timeoutMs: TIMEOUT, secrets: [challenge] });
    const certPath = join(dir, 'cert.pem');
    const diag = clientLog(run);
    if (run.code !== 0 || !existsSync(certPath)) return { ok: false as const, run, diag };
    const facts = inspectIssued(await readFile(certPath, 'utf8'), {
      caPem: host.env().caPem,
      keyPem: await readFile(join(dir, 'key.pem'), 'utf8'),
      cn,
    });
    expect(facts.problems, diag).toEqual([]);
    return { ok: true as const, run, diag, facts };
  }

  it('enrolls with an account challenge; the record names the endpoint and the account', async () => {
    const challenge = await accountChallenge('lab');
    const r = await scepclient('mm-account', name('mm-account'), challenge);
    expect(r.ok, r.diag).toBe(true);
    const records = await (await getApp()).store.search({ endpoint: 'lab' });
    expect(records.items.some((x) => x.accountId === challenge.slice(0, 16))).toBe(true);
  });

  it('enrolls once with a one-time challenge; a second device using it is refused', async () => {
    const { challenge } = await createOneTimeChallenge((await getApp()).manage, 'lab');
    const first = await scepclient('mm-once-1', name('mm-once'), challenge);
    expect(first.ok, first.diag).toBe(true);
    const second = await scepclient('mm-once-2', name('mm-once'), challenge);
    expect(second.ok, second.diag).toBe(false);
    expect(`${second.run.stdout}\n${second.run.stderr}`, second.diag).toMatch(/failInfo/);
  });

  it('enrolls with a challenge fetched from the NDES page by curl with Basic auth', async () => {
    const curl = findOnPath('curl');
    if (curl === undefined) throw new Error('curl is required for this test');
    const r = await createAccount((await getApp()).manage, 'lab', { name: 'jamf', kind: 'ndes' });
    if (!('username' in r)) throw new Error('expected credentials');
    const dir = await host.env().workDir('mm-ndes');
    const pagePath = join(dir, 'page.html');
    const base = host.env().scepUrl.replace(/\/scep\/static$/, '');
    for (const path of ['/certsrv/mscep_admin/', '/scep/lab/mscep_admin/']) {
      const denied = await runClient(
        'curl',
        ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${base}${path}`],
        {
          cwd: dir,
          timeoutMs: TIMEOUT,
        },
      );
      expect(denied.stdout).toBe('401');
    }
    const fetched = await runClient(
      'curl',
      ['-s', '-f', '-u', `${r.username}:${r.password}`, '-o', pagePath, `${base}/certsrv/mscep_admin/`],
      { cwd: dir, timeoutMs: TIMEOUT, secrets: [`${r.username}:${r.password}`] },
    );
    expect(fetched.code, clientLog(fetched)).toBe(0);
    const html = (await readFile(pagePath)).subarray(2).toString('utf16le');
    const challenge = /The enrollment challenge password is: <B> (\S+) <\/B>/.exec(html)?.[1];
    expect(challenge, html).toMatch(/^[0-9A-F]{48}$/);
    const enrolled = await scepclient('mm-ndes-enroll', name('mm-ndes'), challenge ?? '');
    expect(enrolled.ok, enrolled.diag).toBe(true);
  });

  it('sees a profile change on the next enrollment, and a disabled endpoint as 404', async () => {
    const m = (await getApp()).manage;
    await createEndpoint(m, { name: 'policy', type: 'client-scep' });
    const challenge = await accountChallenge('policy');
    expect((await scepclient('mm-policy-1', name('laptop'), challenge, 'policy')).ok).toBe(true);
    await updateEndpoint(m, 'policy', { profile: { subject: { cnPattern: 'pc-[0-9a-f]+' } } });
    const refused = await scepclient('mm-policy-2', name('laptop'), challenge, 'policy');
    const allowed = await scepclient('mm-policy-3', name('pc'), challenge, 'policy');
    expect(allowed.ok, allowed.diag).toBe(true);
    expect(refused.ok, refused.diag).toBe(false);
    await updateEndpoint(m, 'policy', { enabled: false });
    const gone = await scepclient('mm-policy-4', name('pc'), challenge, 'policy');
    expect(gone.ok).toBe(false);
    expect(`${gone.run.stdout}\n${gone.run.stderr}`, gone.diag).toMatch(/404/);
  });
});

describeWithClient('strongSwan pki against stored endpoints', checkStrongswanPki(), () => {
  const host = hostOf();
  let cacert = '';

  beforeAll(async () => {
    const dir = await host.env().workDir('pki-ca');
    cacert = join(dir, 'ca.pem');
    await writeFile(cacert, host.env().caPem);
  });

  async function pki(label: string, challenge: string) {
    const dir = await host.env().workDir(label);
    const cn = name(label);
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const keyPath = join(dir, 'key.pem');
    await writeFile(keyPath, privateKey);
    // prettier-ignore
    const args = [
      '--scep', '--url', host.url('lab'), '--in', keyPath, '--dn', `C=US, O=Interop, CN=${cn}`,
      '--cacert-enc', cacert, '--cacert-sig', cacert, '--cipher', 'aes', '--digest', 'sha256',
      '--interval', '1', '--maxpolltime', '15', '--outform', 'pem', '--password', challenge,
    ];
    const run = await runClient('pki', args, { cwd: dir, timeoutMs: TIMEOUT, secrets: [challenge] });
    const pem = firstPemCertificate(run.stdout);
    const diag = clientLog(run);
    if (run.code !== 0 || pem === undefined) return { ok: false as const, diag };
    expect(inspectIssued(pem, { caPem: host.env().caPem, keyPem: privateKey, cn }).problems, diag).toEqual(
      [],
    );
    return { ok: true as const, diag };
  }

  it('enrolls with an account challenge', async () => {
    const r = await pki('pki-account', await accountChallenge('lab'));
    expect(r.ok, r.diag).toBe(true);
  });

  it('enrolls once with a one-time challenge; the second use is refused', async () => {
    const { challenge } = await createOneTimeChallenge((await getApp()).manage, 'lab');
    const first = await pki('pki-once-1', challenge);
    expect(first.ok, first.diag).toBe(true);
    const second = await pki('pki-once-2', challenge);
    expect(second.ok, second.diag).toBe(false);
  });
});
