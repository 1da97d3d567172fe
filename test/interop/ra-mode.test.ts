/**
 * RA mode with real clients: micromdm scepclient and strongSwan pki against the static endpoint
 * with AppConfig__StaticValidation__RaEnabled=true. Both take the RA certificate from GetCACert
 * (RFC 8894 §2.2): scepclient encrypts to the certificates with keyEncipherment, pki to
 * `--cacert-enc`; both accept a CertRep signed by the RA. After an RA rotation they enroll and
 * renew against the new RA, and a request still encrypted to the old RA is opened by its key.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import { firstPemCertificate, inspectIssued } from './helpers/certs.js';
import { checkScepclient, checkStrongswanPki, clientLog, runClient } from './helpers/clients.js';
import { startInteropEnv, type InteropEnv } from './helpers/env.js';
import { outcome, type Outcome } from './helpers/outcome.js';
import { normalizeSerial } from './helpers/pkimessage.js';
import { describeWithClient } from './helpers/suite.js';

const TIMEOUT_MS = 30_000;
const generateRsa = promisify(generateKeyPair);
const both = ((): ReturnType<typeof checkScepclient> => {
  const a = checkScepclient();
  return a.available ? checkStrongswanPki() : a;
})();

describeWithClient('RA mode: micromdm scepclient and strongSwan pki', both, () => {
  let env: InteropEnv | undefined;
  const ctx = (): InteropEnv => {
    if (!env) throw new Error('local host did not start');
    return env;
  };
  beforeAll(async () => {
    env = await startInteropEnv('ra', { env: { AppConfig__StaticValidation__RaEnabled: 'true' } });
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  /** The current RA certificate's serial (lower-case hex), as the app lists it. */
  async function currentRaSerial(): Promise<string> {
    const ra = (await getApp()).ra;
    await ra.responder('static'); // issued on first use
    const [c] = await ra.list('static');
    if (!c) throw new Error('the static endpoint has no RA certificate');
    // Compared with serials read off the wire, which drop a leading zero nibble (0b97… → b97…).
    return normalizeSerial(c.serialNumber);
  }

  async function scepclient(dir: string, cn: string): Promise<Outcome> {
    const mark = ctx().recorder.exchanges.length;
    // prettier-ignore
    const args = [
      '-server-url', ctx().scepUrl, '-private-key', join(dir, 'key.pem'),
      '-certificate', join(dir, 'cert.pem'), '-cn', cn, '-organization', 'azure-scep-ca tests',
      '-keySize', '2048', '-challenge', ctx().challenge, '-debug',
    ];
    const run = await runClient('scepclient', args, {
      cwd: dir,
      timeoutMs: TIMEOUT_MS,
      secrets: [ctx().challenge],
    });
    return outcome(run, ctx().recorder.since(mark));
  }

  async function scepclientIssued(dir: string, cn: string, diag: string): Promise<string> {
    const facts = inspectIssued(await readFile(join(dir, 'cert.pem'), 'utf8'), {
      caPem: ctx().caPem,
      keyPem: await readFile(join(dir, 'key.pem'), 'utf8'),
      cn,
    });
    expect(facts.problems, diag).toEqual([]);
    return facts.serial;
  }

  /** `pki --scepca`: the CA and RA files pki writes. */
  async function scepca(label: string): Promise<{ ca: string; ra: string }> {
    const dir = await ctx().workDir(label);
    const args = ['--scepca', '--url', ctx().scepUrl, '--caout', join(dir, 'ca.der')];
    const run = await runClient('pki', [...args, '--raout', join(dir, 'ra.der'), '--force'], {
      cwd: dir,
      timeoutMs: TIMEOUT_MS,
    });
    const files = (await readdir(dir)).sort();
    const ca = files.find((f) => /^ca.*\.der$/.test(f));
    const ra = files.find((f) => /^ra.*\.der$/.test(f));
    if (run.code !== 0 || !ca || !ra) throw new Error(`pki --scepca found no RA\n${clientLog(run)}`);
    return { ca: join(dir, ca), ra: join(dir, ra) };
  }

  async function pki(
    label: string,
    files: { ca: string; enc: string; sig: string },
    renew?: { certPath: string; keyPath: string; cn: string },
  ): Promise<Outcome & { certPath: string; keyPath: string; cn: string }> {
    const dir = await ctx().workDir(label);
    const cn = renew?.cn ?? `${label}-${randomBytes(4).toString('hex')}`;
    const { privateKey } = await generateRsa('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const keyPath = join(dir, 'key.pem');
    await writeFile(keyPath, privateKey);
    const args = ['--scep', '--url', ctx().scepUrl, '--in', keyPath, '--dn', `C=US, O=Interop, CN=${cn}`];
    args.push('--cacert-enc', files.enc, '--cacert-sig', files.sig, '--cacert', files.ca);
    if (renew) args.push('--cert', renew.certPath, '--key', renew.keyPath);
    else args.push('--password', ctx().challenge);
    args.push('--cipher', 'aes', '--digest', 'sha256', '--interval', '1', '--maxpolltime', '15');
    args.push('--outform', 'pem');
    const mark = ctx().recorder.exchanges.length;
    const run = await runClient('pki', args, { cwd: dir, timeoutMs: TIMEOUT_MS, secrets: [ctx().challenge] });
    const out = outcome(run, ctx().recorder.since(mark));
    const pem = firstPemCertificate(run.stdout);
    expect(run.code, out.diag).toBe(0);
    expect(pem, out.diag).toBeDefined();
    const facts = inspectIssued(pem ?? '', { caPem: ctx().caPem, keyPem: privateKey, cn });
    expect(facts.problems, out.diag).toEqual([]);
    const certPath = join(dir, 'cert.pem');
    await writeFile(certPath, pem ?? '');
    return { ...out, certPath, keyPath, cn };
  }

  it('ok/scepclient enrolls and renews through the RA, before and after an RA rotation', async () => {
    const ra = await currentRaSerial();
    const dir = await ctx().workDir('mm-ra');
    const cn = `mm-ra-${randomBytes(4).toString('hex')}`;
    const first = await scepclient(dir, cn);
    expect(first.run.code, first.diag).toBe(0);
    const serial = await scepclientIssued(dir, cn, first.diag);
    const [x] = first.pki;
    // scepclient encrypts to every certificate with keyEncipherment: the RA and (in this CA's
    // default profile, which keeps CA-mode clients working) the CA; the RA's key opens it.
    expect(x?.request.envelope?.recipientSerials, first.diag).toContain(ra);
    expect(x?.reply?.signerSerial, first.diag).toBe(ra);

    await (await getApp()).ra.renew('static');
    const next = await currentRaSerial();
    expect(next).not.toBe(ra);
    const renewed = await scepclient(dir, cn);
    expect(renewed.run.code, renewed.diag).toBe(0);
    expect(await scepclientIssued(dir, cn, renewed.diag), renewed.diag).not.toBe(serial);
    const [y] = renewed.pki;
    expect(y?.request.messageType, renewed.diag).toBe('17');
    expect(y?.request.envelope?.recipientSerials, renewed.diag).toContain(next);
    expect(y?.request.envelope?.recipientSerials, renewed.diag).not.toContain(ra);
    expect(y?.reply?.signerSerial, renewed.diag).toBe(next);
  });

  it('ok/pki enrolls and renews through the RA; after a rotation a request encrypted to the old RA still opens', async () => {
    const before = await scepca('ss-scepca-1');
    const oldRa = await currentRaSerial();
    const first = await pki('ss-ra', { ca: before.ca, enc: before.ra, sig: before.ra });
    expect(first.pki.at(-1)?.request.envelope?.recipientSerials, first.diag).toEqual([oldRa]);
    expect(first.pki.at(-1)?.reply?.signerSerial, first.diag).toBe(oldRa);

    await (await getApp()).ra.renew('static');
    const after = await scepca('ss-scepca-2');
    const newRa = await currentRaSerial();
    const renewed = await pki('ss-ra-renew', { ca: after.ca, enc: after.ra, sig: after.ra }, first);
    expect(renewed.pki.at(-1)?.request.messageType, renewed.diag).toBe('17');
    expect(renewed.pki.at(-1)?.request.envelope?.recipientSerials, renewed.diag).toEqual([newRa]);

    // Overlap: encrypted to the old RA (a client that fetched GetCACert before the rotation).
    const overlap = await pki('ss-ra-overlap', { ca: after.ca, enc: before.ra, sig: after.ra });
    expect(overlap.pki.at(-1)?.request.envelope?.recipientSerials, overlap.diag).toEqual([oldRa]);
    expect(overlap.pki.at(-1)?.reply?.pkiStatus, overlap.diag).toBe('0');
    expect(overlap.pki.at(-1)?.reply?.signerSerial, overlap.diag).toBe(newRa);
  });
});
