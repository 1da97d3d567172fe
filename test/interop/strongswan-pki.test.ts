/**
 * strongSwan `pki` 5.9.8 (Debian packages strongswan-pki + libstrongswan-extra-plugins for the
 * curl fetcher) against the local host's static endpoint. What this client does (measured):
 * always POST without Content-Type; SHA-256 signatures; `--cipher aes` only when its (buggy)
 * GetCACaps parsing sees SHA-384, so the server must list SHA-384; it accepts a CertRep only when
 * SignerInfo.signatureAlgorithm is rsaEncryption; renewal (`--cert/--key`) is a RenewalReq with a
 * NEW key, signed by the old certificate, and the reply must be encrypted to that old certificate.
 * `--maxpolltime` is always set: without it a PENDING answer makes pki poll forever.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { firstPemCertificate, inspectIssued, type IssuedFacts } from './helpers/certs.js';
import { checkStrongswanPki, clientLog, runClient } from './helpers/clients.js';
import { startInteropEnv, type InteropEnv } from './helpers/env.js';
import { outcome, type Outcome } from './helpers/outcome.js';
import { cipherName, RSA_ENCRYPTION } from './helpers/pkimessage.js';
import { describeWithClient } from './helpers/suite.js';

const CLIENT_TIMEOUT_MS = 30_000;
const POLL = ['--interval', '1', '--maxpolltime', '15'];
const generateRsa = promisify(generateKeyPair);

interface Party {
  dir: string;
  cn: string;
  san: string;
  keyPath: string;
  keyPem: string;
}

interface Enrolled extends Outcome {
  certPem: string | undefined;
}

describeWithClient('strongSwan pki', checkStrongswanPki(), () => {
  let env: InteropEnv | undefined;
  /** --cacert-enc / --cacert-sig files written by `pki --scepca`. */
  let caFiles: { enc: string; sig: string; extra: string[]; log: string } | undefined;
  const ctx = (): InteropEnv => {
    if (!env) throw new Error('local host did not start');
    return env;
  };
  const cas = (): NonNullable<typeof caFiles> => {
    if (!caFiles) throw new Error('pki --scepca did not run');
    return caFiles;
  };

  beforeAll(async () => {
    env = await startInteropEnv('strongswan');
    const dir = await env.workDir('scepca');
    const args = ['--scepca', '--url', env.scepUrl, '--caout', join(dir, 'ca.der')];
    const run = await runClient('pki', [...args, '--raout', join(dir, 'ra.der'), '--force'], {
      cwd: dir,
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    const files = (await readdir(dir)).sort();
    const ca = files.filter((f) => /^ca.*\.der$/.test(f)).map((f) => join(dir, f));
    const ra = files.filter((f) => /^ra.*\.der$/.test(f)).map((f) => join(dir, f));
    const [sig, ...extra] = ca;
    if (run.code !== 0 || sig === undefined) throw new Error(`pki --scepca failed\n${clientLog(run)}`);
    // RFC 8894 §3.5.1: with an RA the client encrypts to the RA certificate, else to the CA.
    caFiles = { enc: ra[0] ?? sig, sig, extra, log: clientLog(run) };
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  async function party(label: string): Promise<Party> {
    const dir = await ctx().workDir(label);
    const cn = `${label}-${randomBytes(4).toString('hex')}`;
    const { privateKey } = await generateRsa('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const keyPath = join(dir, 'key.pem');
    await writeFile(keyPath, privateKey);
    return { dir, cn, san: `${cn}.interop.test`, keyPath, keyPem: privateKey };
  }

  interface ScepOptions {
    cipher: 'aes' | 'des3';
    password?: string;
    /** Renewal: the current certificate and key (pki signs with them). */
    renew?: { certPath: string; keyPath: string };
    env?: Record<string, string>;
  }

  async function pkiScep(p: Party, o: ScepOptions): Promise<Enrolled> {
    const c = cas();
    const args = ['--scep', '--url', ctx().scepUrl, '--in', p.keyPath, '--dn', `C=US, O=Interop, CN=${p.cn}`];
    args.push('--san', p.san, '--cacert-enc', c.enc, '--cacert-sig', c.sig);
    for (const e of c.extra) args.push('--cacert', e);
    if (o.renew) args.push('--cert', o.renew.certPath, '--key', o.renew.keyPath);
    args.push('--cipher', o.cipher, '--digest', 'sha256', ...POLL, '--outform', 'pem', '--debug', '1');
    if (o.password !== undefined) args.push('--password', o.password);
    const mark = ctx().recorder.exchanges.length;
    const secrets = o.password === undefined ? [] : [o.password];
    const run = await runClient('pki', args, {
      cwd: p.dir,
      timeoutMs: CLIENT_TIMEOUT_MS,
      secrets,
      env: o.env,
    });
    return { ...outcome(run, ctx().recorder.since(mark)), certPem: firstPemCertificate(run.stdout) };
  }

  function issued(p: Party, r: Enrolled): IssuedFacts {
    expect(r.run.code, r.diag).toBe(0);
    expect(r.certPem, `no certificate on stdout\n${r.diag}`).toBeDefined();
    const facts = inspectIssued(r.certPem ?? '', {
      caPem: ctx().caPem,
      keyPem: p.keyPem,
      cn: p.cn,
      dnsSan: p.san,
    });
    expect(facts.problems, r.diag).toEqual([]);
    return facts;
  }

  /** Enroll once with AES and keep the pair on disk for the renewal tests. */
  async function enrolledParty(label: string): Promise<{ p: Party; facts: IssuedFacts; certPath: string }> {
    const p = await party(label);
    const r = await pkiScep(p, { cipher: 'aes', password: ctx().challenge });
    const facts = issued(p, r);
    const certPath = join(p.dir, 'cert.pem');
    await writeFile(certPath, r.certPem ?? '');
    return { p, facts, certPath };
  }

  it('fetches the CA certificate the host serves (pki --scepca)', async () => {
    const der = await readFile(cas().sig);
    const expected = Buffer.from(ctx().caPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(der.equals(expected), cas().log).toBe(true);
  });

  it('enrolls with AES (GetCACaps lists SHA-384, so pki 5.9.8 accepts --cipher aes)', async () => {
    const p = await party('ss-aes');
    const r = await pkiScep(p, { cipher: 'aes', password: ctx().challenge });
    const caps = r.exchanges.find((e) => e.operation === 'GetCACaps')?.response.toString('utf8') ?? '';
    expect(caps.split(/\r?\n/), `GetCACaps must list SHA-384 and AES\n${r.diag}`).toEqual(
      expect.arrayContaining(['SHA-384', 'AES']),
    );
    issued(p, r);
    const x = r.pki.at(-1);
    expect(x?.exchange.method, r.diag).toBe('POST');
    expect(x?.request.messageType, r.diag).toBe('19');
    expect(cipherName(x?.request.envelope?.cipher ?? ''), r.diag).toBe('AES-128-CBC');
    expect(x?.reply?.pkiStatus, r.diag).toBe('0');
    expect(x?.reply?.signatureAlgorithm, r.diag).toBe(RSA_ENCRYPTION);
    expect(cipherName(x?.reply?.envelope?.cipher ?? ''), r.diag).toMatch(/^AES-/);
  });

  it('enrolls with 3DES (--cipher des3)', async () => {
    const p = await party('ss-des3');
    const r = await pkiScep(p, { cipher: 'des3', password: ctx().challenge });
    issued(p, r);
    const x = r.pki.at(-1);
    expect(cipherName(x?.request.envelope?.cipher ?? ''), r.diag).toBe('DES-EDE3-CBC');
    expect(x?.reply?.pkiStatus, r.diag).toBe('0');
    expect(cipherName(x?.reply?.envelope?.cipher ?? ''), r.diag).not.toBe('DES-CBC');
  });

  it('is refused with a wrong challenge: exits non-zero, logs the failure, prints no certificate', async () => {
    const p = await party('ss-wrong');
    const r = await pkiScep(p, { cipher: 'aes', password: 'not-the-challenge' });
    expect(r.run.timedOut, r.diag).toBe(false);
    expect(r.run.code, r.diag).not.toBe(0);
    expect(r.certPem, r.diag).toBeUndefined();
    expect(r.run.stderr, r.diag).toMatch(/failInfo|not 'SUCCESS'/);
    const reply = r.pki.at(-1)?.reply;
    expect(reply?.pkiStatus, r.diag).toBe('2');
    expect(reply?.failInfo, r.diag).toBeDefined();
    expect(reply?.envelope, r.diag).toBeUndefined();
  });

  it('renews with a new key: RenewalReq signed by the old certificate, reply encrypted to it', async () => {
    const old = await enrolledParty('ss-renew');
    const next: Party = { ...(await party('ss-renew-new')), cn: old.p.cn, san: old.p.san };
    // No challenge: the old certificate authenticates the renewal (AllowRenewals=true).
    const r = await pkiScep(next, {
      cipher: 'aes',
      renew: { certPath: old.certPath, keyPath: old.p.keyPath },
    });
    const facts = issued(next, r);
    expect(facts.keySha256, r.diag).not.toBe(old.facts.keySha256);
    expect(facts.serial, r.diag).not.toBe(old.facts.serial);
    const x = r.pki.at(-1);
    expect(x?.request.messageType, r.diag).toBe('17');
    expect(x?.request.signerSerial, r.diag).toBe(old.facts.serial);
    expect(x?.reply?.pkiStatus, r.diag).toBe('0');
    expect(x?.reply?.envelope?.recipientSerials, r.diag).toEqual([old.facts.serial]);
  });

  it('renews with a PKCSReq signed by the old certificate (pki.scep.renewal_via_pkcs_req)', async () => {
    const old = await enrolledParty('ss-renew-pkcsreq');
    const next: Party = { ...(await party('ss-renew-pkcsreq-new')), cn: old.p.cn, san: old.p.san };
    const conf = join(next.dir, 'strongswan.conf');
    await writeFile(conf, 'pki {\n  scep {\n    renewal_via_pkcs_req = yes\n  }\n}\n');
    const r = await pkiScep(next, {
      cipher: 'aes',
      password: ctx().challenge,
      renew: { certPath: old.certPath, keyPath: old.p.keyPath },
      env: { STRONGSWAN_CONF: conf },
    });
    const facts = issued(next, r);
    expect(facts.keySha256, r.diag).not.toBe(old.facts.keySha256);
    const x = r.pki.at(-1);
    expect(x?.request.messageType, r.diag).toBe('19');
    expect(x?.request.signerSerial, r.diag).toBe(old.facts.serial);
    expect(x?.reply?.envelope?.recipientSerials, r.diag).toEqual([old.facts.serial]);
  });
});
