/**
 * micromdm `scepclient` 2.1.0 (Debian package `scep`) against the local host's static endpoint.
 * What this client does (measured): PKCSReq encrypted with single DES-CBC, signed SHA-1 by a
 * self-signed "SCEP SIGNER" certificate, sent by POST when GetCACaps lists POSTPKIOperation; a
 * RenewalReq whenever `-certificate` already exists, signed by that certificate, with the SAME key,
 * the SAME csr.pem and therefore the SAME transactionID as the first enrollment.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inspectIssued } from './helpers/certs.js';
import { checkScepclient, runClient } from './helpers/clients.js';
import { startInteropEnv, type InteropEnv } from './helpers/env.js';
import { cipherName } from './helpers/pkimessage.js';
import { outcome, type Outcome } from './helpers/outcome.js';
import { describeWithClient } from './helpers/suite.js';

const CLIENT_TIMEOUT_MS = 30_000;
const STRONG_CIPHERS = ['DES-EDE3-CBC', 'AES-128-CBC', 'AES-192-CBC', 'AES-256-CBC'];

describeWithClient('micromdm scepclient', checkScepclient(), () => {
  let env: InteropEnv | undefined;
  const ctx = (): InteropEnv => {
    if (!env) throw new Error('local host did not start');
    return env;
  };

  beforeAll(async () => {
    env = await startInteropEnv('micromdm');
  }, 60_000);
  afterAll(async () => {
    await env?.close();
  });

  /** scepclient keeps key.pem, csr.pem, self.pem and cert.pem in `dir`. */
  async function scepclient(
    dir: string,
    cn: string,
    challenge: string,
    url = ctx().scepUrl,
  ): Promise<Outcome> {
    const mark = ctx().recorder.exchanges.length;
    // prettier-ignore
    const args = [
      '-server-url', url,
      '-private-key', join(dir, 'key.pem'),
      '-certificate', join(dir, 'cert.pem'),
      '-cn', cn,
      '-ou', 'Interop',
      '-organization', 'azure-scep-ca tests',
      '-country', 'US',
      '-keySize', '2048',
      '-challenge', challenge,
      '-debug',
    ];
    const run = await runClient('scepclient', args, {
      cwd: dir,
      timeoutMs: CLIENT_TIMEOUT_MS,
      secrets: [challenge],
    });
    return outcome(run, ctx().recorder.since(mark));
  }

  async function issued(dir: string, cn: string, diag: string) {
    const certPath = join(dir, 'cert.pem');
    expect(existsSync(certPath), `no cert.pem written\n${diag}`).toBe(true);
    const facts = inspectIssued(await readFile(certPath, 'utf8'), {
      caPem: ctx().caPem,
      keyPem: await readFile(join(dir, 'key.pem'), 'utf8'),
      cn,
    });
    expect(facts.problems, diag).toEqual([]);
    return facts;
  }

  const name = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

  it('enrolls with a single-DES PKCSReq over POST and gets a certificate chained to the CA', async () => {
    const dir = await ctx().workDir('mm-enroll');
    const cn = name('mm-enroll');
    const out = await scepclient(dir, cn, ctx().challenge);
    expect(out.run.code, out.diag).toBe(0);
    await issued(dir, cn, out.diag);

    expect(
      out.pki.map((p) => p.exchange.method),
      out.diag,
    ).toEqual(['POST']);
    const [x] = out.pki;
    expect(x?.request.messageType, out.diag).toBe('19');
    expect(cipherName(x?.request.envelope?.cipher ?? ''), out.diag).toBe('DES-CBC');
    expect(x?.exchange.responseContentType, out.diag).toMatch(/^application\/x-pki-message/);
    const reply = x?.reply;
    expect(reply?.messageType, out.diag).toBe('3');
    expect(reply?.pkiStatus, out.diag).toBe('0');
    // RFC 8894 §3.3.2: transactionID echoed, recipientNonce = the request's senderNonce.
    expect(reply?.transactionID, out.diag).toBe(x?.request.transactionID);
    expect(reply?.recipientNonce, out.diag).toBe(x?.request.senderNonce);
    expect(reply?.senderNonce, out.diag).not.toBe(x?.request.senderNonce);
    // Never answer with single DES; the reply is encrypted to the request's signer certificate.
    expect(STRONG_CIPHERS, out.diag).toContain(cipherName(reply?.envelope?.cipher ?? ''));
    expect(reply?.envelope?.recipientSerials, out.diag).toEqual([x?.request.signerSerial]);
  });

  it('enrolls through the Windows-style /pkiclient.exe sub-path', async () => {
    const dir = await ctx().workDir('mm-windows-path');
    const cn = name('mm-winpath');
    const out = await scepclient(dir, cn, ctx().challenge, ctx().windowsScepUrl);
    expect(out.run.code, out.diag).toBe(0);
    await issued(dir, cn, out.diag);
    expect(
      out.pki.map((p) => p.exchange.path),
      out.diag,
    ).toEqual(['/scep/static/pkiclient.exe']);
  });

  it('is refused with a wrong challenge: exits non-zero, logs the failure, writes no certificate', async () => {
    const dir = await ctx().workDir('mm-wrong-challenge');
    const out = await scepclient(dir, name('mm-wrong'), 'not-the-challenge');
    expect(out.run.timedOut, out.diag).toBe(false);
    expect(out.run.code, out.diag).not.toBe(0);
    expect(existsSync(join(dir, 'cert.pem')), out.diag).toBe(false);
    expect(`${out.run.stdout}\n${out.run.stderr}`, out.diag).toMatch(/request failed.*failInfo/);
    // RFC 8894 §3.3.2.2: a signed CertRep FAILURE with a failInfo, and no certificate in it.
    const reply = out.pki.at(-1)?.reply;
    expect(reply?.pkiStatus, out.diag).toBe('2');
    expect(reply?.failInfo, out.diag).toBeDefined();
    expect(reply?.envelope, out.diag).toBeUndefined();
  });

  it('gets the same certificate back when it re-sends an enrollment (same key and transactionID)', async () => {
    const dir = await ctx().workDir('mm-resend');
    const cn = name('mm-resend');
    const first = await scepclient(dir, cn, ctx().challenge);
    expect(first.run.code, first.diag).toBe(0);
    const before = await issued(dir, cn, first.diag);
    // Without cert.pem, scepclient sends a PKCSReq again from the kept key.pem and csr.pem.
    await rm(join(dir, 'cert.pem'));
    const again = await scepclient(dir, cn, ctx().challenge);
    expect(again.run.code, again.diag).toBe(0);
    const after = await issued(dir, cn, again.diag);
    expect(again.pki[0]?.request.messageType, again.diag).toBe('19');
    expect(again.pki[0]?.request.transactionID, again.diag).toBe(first.pki[0]?.request.transactionID);
    expect(after.serial, `a second certificate was issued\n${again.diag}`).toBe(before.serial);
  });

  it('renews with a RenewalReq signed by its earlier certificate, same key, and gets a new serial', async () => {
    const dir = await ctx().workDir('mm-renew');
    const cn = name('mm-renew');
    const first = await scepclient(dir, cn, ctx().challenge);
    expect(first.run.code, first.diag).toBe(0);
    const before = await issued(dir, cn, first.diag);
    await copyFile(join(dir, 'cert.pem'), join(dir, 'cert-enrolled.pem'));

    const out = await scepclient(dir, cn, ctx().challenge);
    expect(out.run.code, out.diag).toBe(0);
    const after = await issued(dir, cn, out.diag);
    expect(after.serial, `serial unchanged: nothing was re-issued\n${out.diag}`).not.toBe(before.serial);
    expect(after.keySha256, out.diag).toBe(before.keySha256);

    const [x] = out.pki;
    expect(x?.request.messageType, out.diag).toBe('17');
    expect(x?.request.signerSerial, out.diag).toBe(before.serial);
    // scepclient derives the transactionID from the key: a renewal reuses the enrollment's ID.
    // The server must not answer it as a retry of that enrollment (which would repeat the old cert).
    expect(x?.request.transactionID, out.diag).toBe(first.pki[0]?.request.transactionID);
    expect(x?.reply?.pkiStatus, out.diag).toBe('0');
    expect(x?.reply?.envelope?.recipientSerials, out.diag).toEqual([before.serial]);
  });
});
