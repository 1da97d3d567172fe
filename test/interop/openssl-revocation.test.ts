import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { makeCert, makeCsr, rsaKey } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { checkOpenssl } from './helpers/clients.js';
import { describeWithClient } from './helpers/suite.js';

const run = promisify(execFile);

/** `openssl …` without throwing on a non-zero exit: relying parties' verdicts are the output. */
async function openssl(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('openssl', args, { timeout: 30_000 });
    return { code: 0, out: `${r.stdout}${r.stderr}` };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, out: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

let host: TestHost;
let dir: string;
let adminKey: string;
const BASE = 'http://127.0.0.1:7071';

async function enroll(cn: string): Promise<{ pem: string; file: string; serial: string }> {
  const key = rsaKey(2048, cn);
  const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
  const csr = await makeCsr({ key, subject: `CN=${cn}`, challenge: 'test-challenge-1' });
  const msg = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId: `tx-${cn}`,
    content: csr,
    recipients: [host.ca],
    signerKey: key,
    signerCert: signer.cert,
    cipher: 'AES-128-CBC',
  });
  const res = await host.post('/scep/static?operation=PKIOperation', msg);
  const rep = await readCertRep(new Uint8Array(await res.arrayBuffer()), key, signer.cert);
  expect(rep.status).toBe(PKIStatus.SUCCESS);
  const cert = rep.certificates[0]!;
  const file = join(dir, `${cn}.pem`);
  await writeFile(file, cert.toString());
  return { pem: cert.toString(), file, serial: cert.serialNumber.toLowerCase() };
}

function manage(serial: string, action: string, body: string, key = adminKey): Promise<Response> {
  return fetch(`${host.baseUrl}/api/manage/certificates/${serial}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
}

/** `openssl ocsp` against the host: POST, or GET with -reqout + curl-free fetch of /ocsp/{base64}. */
async function ocsp(cert: string, o: { nonce: boolean; get?: boolean }): Promise<string> {
  const common = ['-issuer', join(dir, 'ca.pem'), '-cert', cert, '-CAfile', join(dir, 'ca.pem')];
  if (!o.get) {
    const r = await openssl([
      'ocsp',
      ...common,
      '-url',
      `${host.baseUrl}/ocsp`,
      o.nonce ? '-nonce' : '-no_nonce',
    ]);
    return r.out;
  }
  const req = join(dir, 'req.der');
  await openssl([
    'ocsp',
    '-issuer',
    join(dir, 'ca.pem'),
    '-cert',
    cert,
    o.nonce ? '-nonce' : '-no_nonce',
    '-reqout',
    req,
  ]);
  const b64 = (await import('node:fs')).readFileSync(req).toString('base64');
  const res = await fetch(`${host.baseUrl}/ocsp/${encodeURIComponent(b64)}`);
  expect(res.headers.get('content-type')).toBe('application/ocsp-response');
  await writeFile(join(dir, 'resp.der'), new Uint8Array(await res.arrayBuffer()));
  if (!o.nonce) return (await openssl(['ocsp', '-respin', join(dir, 'resp.der'), ...common])).out;
  // With -cert openssl builds a new request (another nonce); -reqin alone checks the echoed nonce.
  const r = await openssl([
    'ocsp',
    '-reqin',
    req,
    '-respin',
    join(dir, 'resp.der'),
    '-CAfile',
    join(dir, 'ca.pem'),
    '-resp_text',
  ]);
  return r.out.replace(/Cert Status: (\w+)/, `${cert}: $1`);
}

async function crlVerify(cert: string): Promise<{ code: number; out: string }> {
  const res = await fetch(`${host.baseUrl}/crl?format=pem`);
  await writeFile(join(dir, 'crl.pem'), await res.text());
  return openssl([
    'verify',
    '-crl_check',
    '-CAfile',
    join(dir, 'ca.pem'),
    '-CRLfile',
    join(dir, 'crl.pem'),
    cert,
  ]);
}

describeWithClient(
  'openssl ocsp and openssl verify -crl_check against the running host',
  checkOpenssl(),
  () => {
    beforeAll(async () => {
      host = await startTestHost({ AppConfig__BaseUrl: BASE });
      dir = await mkdtemp(join(tmpdir(), 'revocation-openssl-'));
      await writeFile(join(dir, 'ca.pem'), host.caCertificatePem);
      adminKey = (
        await (await import('node:fs/promises')).readFile(join(host.dataDir, 'admin-key.txt'), 'utf8')
      ).trim();
    });
    afterAll(async () => {
      await host.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('ok/issued certificates carry the AIA OCSP and CA issuers URLs and the CDP', async () => {
      const c = await enroll('aia-device');
      const text = (await openssl(['x509', '-in', c.file, '-noout', '-text'])).out;
      expect(text).toContain(`OCSP - URI:${BASE}/ocsp`);
      expect(text).toContain(`CA Issuers - URI:${BASE}/ca.cer`);
      expect(text).toContain(`URI:${BASE}/crl`);
      const ca = await fetch(`${host.baseUrl}/ca.cer`);
      expect(new X509Certificate(new Uint8Array(await ca.arrayBuffer())).toString()).toBe(
        host.caCertificatePem,
      );
    });

    it('ok/a good certificate is good over POST and GET, with and without nonce, and passes the CRL check', async () => {
      const c = await enroll('good-device');
      for (const get of [false, true])
        for (const nonce of [false, true]) {
          const out = await ocsp(c.file, { get, nonce });
          expect(out, `get=${get} nonce=${nonce}`).toContain('Response verify OK');
          expect(out, `get=${get} nonce=${nonce}`).toContain(`${c.file}: good`);
          expect(out).not.toContain('Nonce Verify error');
        }
      const v = await crlVerify(c.file);
      expect(v.out).toContain(': OK');
      expect(v.code).toBe(0);
    });

    it('fail/a revoked certificate is revoked over POST and GET (with reason) and fails the CRL check', async () => {
      const c = await enroll('revoked-device');
      await ocsp(c.file, { nonce: false }); // a cached good answer that the revocation must replace
      const res = await manage(c.serial.replace(/^0+/, ''), 'revoke', '{"reason":"keyCompromise"}');
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('revoked');
      for (const get of [false, true])
        for (const nonce of [false, true]) {
          const out = await ocsp(c.file, { get, nonce });
          expect(out, `get=${get} nonce=${nonce}`).toContain(`${c.file}: revoked`);
          expect(out).toContain('Reason: keyCompromise');
        }
      const v = await crlVerify(c.file);
      expect(v.out).toContain('certificate revoked');
      expect(v.code).not.toBe(0);
      expect((await manage(c.serial, 'revoke', '{"reason":"keyCompromise"}')).status).toBe(409);
    });

    it('ok/a certificate on hold is revoked, then good again after unrevoke', async () => {
      const c = await enroll('held-device');
      expect((await manage(c.serial, 'revoke', '{"reason":"certificateHold"}')).status).toBe(200);
      expect(await ocsp(c.file, { nonce: true })).toContain('Reason: certificateHold');
      expect((await manage(c.serial, 'unrevoke', '')).status).toBe(200);
      expect(await ocsp(c.file, { nonce: false })).toContain(`${c.file}: good`);
      expect((await crlVerify(c.file)).code).toBe(0);
    });

    it('ok/a serial this CA never issued is unknown', async () => {
      const key = rsaKey(2048, 'stranger');
      const forged = await makeCert({
        key,
        subject: 'CN=stranger',
        issuer: { ...(await import('../helpers/scep-flow.js')).hostCa(host) },
      });
      const file = join(dir, 'stranger.pem');
      await writeFile(file, forged.x509.toString());
      expect(await ocsp(file, { nonce: true })).toContain(`${file}: unknown`);
      expect(await ocsp(file, { nonce: false, get: true })).toContain(`${file}: unknown`);
    });

    it('fail/the management route: unknown serial 404, bad reason 400, no or wrong key 401', async () => {
      expect((await manage('0badc0ffee', 'revoke', '{}')).status).toBe(404);
      const c = await enroll('mgmt-device');
      expect((await manage(c.serial, 'revoke', '{"reason":"stolen"}')).status).toBe(400);
      expect((await manage(c.serial, 'revoke', '{}', 'wrong-key')).status).toBe(401);
      expect((await manage(c.serial, 'unrevoke', '')).status).toBe(409);
    });

    it('fail/garbage to /ocsp is malformedRequest with HTTP 200, never a 500', async () => {
      for (const r of [
        await host.post('/ocsp', new TextEncoder().encode('not ocsp'), {
          'content-type': 'application/ocsp-request',
        }),
        await fetch(`${host.baseUrl}/ocsp/%%%`),
        await fetch(`${host.baseUrl}/ocsp/AAAA`),
      ]) {
        expect(r.status).toBe(200);
        expect(Buffer.from(await r.arrayBuffer()).toString('hex')).toBe('30030a0101');
      }
    });
  },
);
