/**
 * CA rollover seen by real clients, with the CA keys as local files and in the Key Vault stand-in
 * (through the real SDK): an administrator creates the next CA and activates it; the instance
 * that activated answers GetCACert with the new CA at once and scepclient enrolls under it; a
 * second instance started on the same data folder and store (what a restart does) answers
 * GetCACert with the new CA, micromdm `scepclient` enrolls under it, a certificate the previous
 * CA issued renews (scepclient's RenewalReq signed by it) into one of the new CA, and
 * `openssl ocsp` with the previous CA as issuer answers for the old certificate. On an RA
 * endpoint, GetCACert after the activation carries an RA certificate of the new CA (the one the
 * previous CA issued is replaced on first use) and scepclient enrolls through it. Each CA's
 * certificates carry its own CDP and caIssuers URLs (the configured CA `/crl` and `/ca.cer`,
 * the activated one `/crl/<CA id>` and `/ca/<CA id>.cer`): `openssl verify -crl_check` with the
 * CRL from a certificate's CDP passes, then fails once it is revoked, for both CAs.
 */
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { caIdOf } from '../../lib/ca/urls.js';
import { runCa } from '../../scripts/ca.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { getCaCertificates } from '../helpers/get-ca-cert.js';
import { manageClient } from '../helpers/manage.js';
import { checkOpenssl, checkScepclient, runClient } from './helpers/clients.js';
import { describeWithClient } from './helpers/suite.js';

const TIMEOUT_MS = 30_000;
const CHALLENGE = 'rollover-secret-1';
/** AppConfig__BaseUrl: the prefix of the URLs in issued certificates (mapped to the host below). */
const BASE = 'https://scep.rollover.test';
/** A stored endpoint in RA mode (the default for new endpoints). */
const RA_ENDPOINT = 'rollover-ra';

const clients = {
  available: checkScepclient().available && checkOpenssl().available,
  reason: [checkScepclient().reason, checkOpenssl().reason].filter((s) => s !== '').join('; '),
};

for (const where of ['local', 'keyvault'] as const) {
  describeWithClient(`CA rollover with real clients (${where})`, clients, () => {
    let root: string;
    let vault: FakeKeyVault | undefined;
    let env: Record<string, string>;
    let first: TestHost;
    let second: TestHost | undefined;
    let oldCa: X509Certificate;
    let oldDir: string;
    /** The challenge of the RA endpoint's account, and its RA certificate before the activation. */
    let raChallenge = '';
    let raBefore: X509Certificate;

    const start = async (): Promise<TestHost> =>
      startTestHost(env, {
        store: 'sqlite',
        dataDir: join(root, 'data'),
        ...(vault ? { credential: vault.credential } : {}),
      });
    const restarted = (): TestHost => {
      if (!second) throw new Error('the second instance did not start');
      return second;
    };

    /** scepclient's first run enrolls; a run with cert.pem present renews (RenewalReq). */
    /** On the built-in `static` endpoint (CA mode), or the RA endpoint with its account's challenge. */
    const scepclient = async (host: TestHost, dir: string, cn: string, at?: 'ra') => {
      const url = at === 'ra' ? `${host.baseUrl}/scep/${RA_ENDPOINT}` : host.scepUrl;
      const challenge = at === 'ra' ? raChallenge : CHALLENGE;
      // prettier-ignore
      const args = [
        '-server-url', url, '-private-key', join(dir, 'key.pem'),
        '-certificate', join(dir, 'cert.pem'), '-cn', cn, '-organization', 'rollover tests',
        '-keySize', '2048', '-challenge', challenge,
      ];
      const r = await runClient('scepclient', args, {
        cwd: dir,
        timeoutMs: TIMEOUT_MS,
        secrets: [challenge],
      });
      expect(r.code, `${r.commandLine}\n${r.stdout}${r.stderr}`).toBe(0);
      return new X509Certificate(await readFile(join(dir, 'cert.pem')));
    };

    const caCertOf = async (host: TestHost): Promise<X509Certificate> => {
      const res = await fetch(`${host.scepUrl}?operation=GetCACert`);
      expect(res.headers.get('content-type')).toBe('application/x-x509-ca-cert');
      return new X509Certificate(Buffer.from(await res.arrayBuffer()));
    };

    /** `npm run ca -- <command> --json` against `host` (its admin key from the data folder). */
    const caCli = async (
      host: TestHost,
      ...argv: string[]
    ): Promise<{ status: number; body: Record<string, unknown> }> => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCa([...argv, '--url', host.baseUrl, '--json'], {
        env: { ...env, AppConfig__DataDir: host.dataDir },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      });
      return code === 0
        ? { status: 200, body: JSON.parse(out.join('\n')) as Record<string, unknown> }
        : { status: 0, body: { code, out, err } };
    };

    /** The URL in a certificate (CDP or caIssuers) as served by `host`. */
    const served = (host: TestHost, url: string): string => {
      expect(url.startsWith(`${BASE}/`), url).toBe(true);
      return `${host.baseUrl}${url.slice(BASE.length)}`;
    };

    /** The CDP and caIssuers URLs a certificate carries (read by openssl and node). */
    const urlsOf = async (file: string): Promise<{ crl: string; caIssuers: string }> => {
      // prettier-ignore
      const r = await runClient('openssl', ['x509', '-in', file, '-noout', '-ext', 'crlDistributionPoints'], {
        cwd: root, timeoutMs: TIMEOUT_MS,
      });
      const crl = /URI:(\S+)/.exec(r.stdout)?.[1] ?? '';
      const aia = new X509Certificate(await readFile(file)).infoAccess ?? '';
      return { crl, caIssuers: /CA Issuers - URI:(\S+)/.exec(aia)?.[1] ?? '' };
    };

    /**
     * `openssl verify -crl_check` of `file` against the CA certificate at its caIssuers URL and
     * the CRL at its CDP URL, both downloaded from `host`; the exit code is the verdict.
     */
    const crlVerify = async (host: TestHost, file: string): Promise<{ code: number; out: string }> => {
      const urls = await urlsOf(file);
      const ca = await fetch(served(host, urls.caIssuers));
      expect(ca.status, urls.caIssuers).toBe(200);
      await writeFile(
        `${file}.issuer.pem`,
        new X509Certificate(Buffer.from(await ca.arrayBuffer())).toString(),
      );
      const crl = await fetch(`${served(host, urls.crl)}?format=pem`);
      expect(crl.status, urls.crl).toBe(200);
      await writeFile(`${file}.crl.pem`, await crl.text());
      // prettier-ignore
      const r = await runClient('openssl', [
        'verify', '-crl_check', '-CAfile', `${file}.issuer.pem`, '-CRLfile', `${file}.crl.pem`, file,
      ], { cwd: root, timeoutMs: TIMEOUT_MS });
      return { code: r.code ?? 1, out: `${r.stdout}${r.stderr}` };
    };

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), `scep-rollover-${where}-`));
      env = {
        AppConfig__StaticValidation__Enabled: 'true',
        AppConfig__StaticValidation__RequestPassword: CHALLENGE,
        AppConfig__StaticValidation__AllowRenewals: 'true',
        AppConfig__BaseUrl: BASE,
      };
      if (where === 'keyvault') {
        vault = await startFakeKeyVault();
        const kv = await vault.initCa({
          certificateName: 'scep-ca-rollover',
          subject: 'CN=Rollover CA 1, O=tests',
        });
        env = {
          ...env,
          ...vault.appSettings(kv),
        };
      }
      first = await start();
      oldCa = await caCertOf(first);
      oldDir = join(root, 'old-device');
      await mkdir(oldDir);
      const old = await scepclient(first, oldDir, `old-device-${where}`);
      expect(old.verify(oldCa.publicKey)).toBe(true);
      await copyFile(join(oldDir, 'cert.pem'), join(oldDir, 'old.pem'));
      // An RA endpoint: its RA certificate is issued by the CA in use on first use.
      const admin = manageClient(first.baseUrl, first.adminKey);
      expect((await admin('POST', 'endpoints', { name: RA_ENDPOINT, type: 'device-scep' })).status).toBe(201);
      const account = await admin('POST', `endpoints/${RA_ENDPOINT}/accounts`, { name: 'rollover-mdm' });
      expect(account.status, JSON.stringify(account.body)).toBe(201);
      raChallenge = String(account.body.challenge);
      const raDir = join(root, 'ra-before');
      await mkdir(raDir);
      expect((await scepclient(first, raDir, `ra-before-${where}`, 'ra')).verify(oldCa.publicKey)).toBe(true);
      const [ra, ca] = await getCaCertificates(`${first.baseUrl}/scep/${RA_ENDPOINT}`);
      if (!ra || !ca) throw new Error('GetCACert of the RA endpoint has no RA certificate');
      expect(ca.raw.equals(oldCa.raw)).toBe(true);
      expect(ra.verify(oldCa.publicKey)).toBe(true);
      raBefore = ra;
      expect(await urlsOf(join(oldDir, 'old.pem'))).toEqual({
        crl: `${BASE}/crl`,
        caIssuers: `${BASE}/ca.cer`,
      });
      const before = await crlVerify(first, join(oldDir, 'old.pem'));
      expect(before.code, before.out).toBe(0);
    }, 120_000);

    afterAll(async () => {
      await second?.close();
      await first.close();
      await vault?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('ok/activating the next CA is recorded (change and key lifecycle event) and the instance issues with it at once, without a restart', async () => {
      const admin = manageClient(first.baseUrl, first.adminKey);
      const early = await admin('POST', 'ca-certificates/next/activate');
      expect(early.status).toBe(409);
      const next = await admin('POST', 'ca-certificates/next', {
        subject: `CN=Rollover CA 2 ${where}, O=tests`,
      });
      expect(next.status).toBe(201);
      // With Key Vault the operator's tool is `npm run ca`; locally the management API itself.
      const activated =
        where === 'keyvault'
          ? await caCli(first, 'next-activate')
          : await admin('POST', 'ca-certificates/next/activate');
      expect(activated.status, JSON.stringify(activated.body)).toBe(200);
      expect(activated.body.thumbprintSha256).toBe(next.body.thumbprintSha256);
      expect(String(activated.body.effective)).toContain('at once');
      expect((await admin('POST', 'ca-certificates/next/activate')).status).toBe(409);
      // The instance that activated switched at once: GetCACert, ca.pem, GetCACaps and scepclient.
      const live = await caCertOf(first);
      expect(live.fingerprint256.replace(/:/g, '')).toBe(next.body.thumbprintSha256);
      const livePem = await (await fetch(`${first.baseUrl}/ca.pem`)).text();
      expect(new X509Certificate(livePem).raw.equals(live.raw)).toBe(true);
      expect(await (await fetch(`${first.scepUrl}?operation=GetCACaps`)).text()).not.toContain(
        'GetNextCACert',
      );
      const liveDir = join(root, 'live-device');
      await mkdir(liveDir);
      const issued = await scepclient(first, liveDir, `live-device-${where}`);
      expect(issued.verify(live.publicKey)).toBe(true);
      expect(issued.issuer).toBe(live.subject);
      // RA endpoints too: the RA certificate of the previous CA is replaced by one of the new CA.
      const [liveRa, liveRaCa] = await getCaCertificates(`${first.baseUrl}/scep/${RA_ENDPOINT}`);
      expect(liveRaCa?.raw.equals(live.raw)).toBe(true);
      expect(liveRa?.verify(live.publicKey)).toBe(true);
      // The activation is a key lifecycle event: the new CA certificate, replacing the old one, by whom.
      await vi.waitFor(async () => {
        const r = await admin('GET', 'audit?reason=key-lifecycle');
        const rollover = r.body.value?.filter((e) => e.operation === 'ca.rollover') ?? [];
        expect(rollover).toHaveLength(1);
        expect(rollover[0]).toMatchObject({ actor: 'admin-key', outcome: 'changed' });
        expect(rollover[0]?.changes).toEqual([
          {
            field: 'certificate',
            before: { thumbprintSha256: oldCa.fingerprint256.replace(/:/g, '') },
            after: expect.objectContaining({ thumbprintSha256: next.body.thumbprintSha256 }),
          },
        ]);
      });

      // An instance that starts now (a restart) reads the activation at start.
      second = await start();
      const now = await caCertOf(second);
      expect(now.fingerprint256.replace(/:/g, '')).toBe(next.body.thumbprintSha256);
      expect(now.subject).toContain(`Rollover CA 2 ${where}`);
      const caps = await (await fetch(`${second.scepUrl}?operation=GetCACaps`)).text();
      expect(caps).not.toContain('GetNextCACert');
      const pem = await (await fetch(`${second.baseUrl}/ca.pem`)).text();
      expect(new X509Certificate(pem).raw.equals(now.raw)).toBe(true);
    }, 120_000);

    it('ok/after activation the CA list shows the new CA as current and the old one as previous, still downloadable', async () => {
      const admin = manageClient(restarted().baseUrl, restarted().adminKey);
      const list = await admin('GET', 'ca-certificates');
      expect(list.body.value?.map((c) => c.status)).toEqual(['current', 'previous']);
      const previous = list.body.value?.[1];
      expect(previous?.thumbprintSha256).toBe(oldCa.fingerprint256.replace(/:/g, ''));
      const der = await fetch(
        `${restarted().baseUrl}/api/manage/ca-certificates/${String(previous?.thumbprintSha256)}`,
        { headers: { authorization: `Bearer ${restarted().adminKey ?? ''}` } },
      );
      expect(Buffer.from(await der.arrayBuffer()).equals(oldCa.raw)).toBe(true);
    });

    it('ok/scepclient enrolls under the new CA', async () => {
      const newCa = await caCertOf(restarted());
      const dir = join(root, 'new-device');
      await mkdir(dir);
      const cert = await scepclient(restarted(), dir, `new-device-${where}`);
      expect(cert.verify(newCa.publicKey)).toBe(true);
      expect(cert.verify(oldCa.publicKey)).toBe(false);
      expect(cert.issuer).toBe(newCa.subject);
      await copyFile(join(dir, 'cert.pem'), join(dir, 'new.pem'));
    });

    it('ok/a certificate of the new CA carries its own CRL and CA certificate URLs; openssl verify -crl_check passes, then fails once it is revoked', async () => {
      const file = join(root, 'new-device', 'new.pem');
      const urls = await urlsOf(file);
      const id = /\/crl\/([0-9a-f]{40})$/.exec(urls.crl)?.[1];
      expect(id, urls.crl).toBeDefined();
      expect(urls.caIssuers).toBe(`${BASE}/ca/${String(id)}.cer`);
      // The status page links the issuing CA's certificate and CRL.
      const page = await (await fetch(`${restarted().baseUrl}/`)).text();
      expect(page).toContain(`href="/ca/${String(id)}.cer"`);
      expect(page).toContain(`${BASE}/crl/${String(id)}`);
      for (const unknown of [`crl/${'0'.repeat(40)}`, `ca/${'0'.repeat(40)}.cer`, 'ca/ca.pem'])
        expect((await fetch(`${restarted().baseUrl}/${unknown}`)).status, unknown).toBe(404);
      const ok = await crlVerify(restarted(), file);
      expect(ok.code, ok.out).toBe(0);
      const admin = manageClient(restarted().baseUrl, restarted().adminKey);
      const serial = new X509Certificate(await readFile(file)).serialNumber;
      const revoked = await admin('POST', `certificates/${serial}/revoke`, { reason: 'keyCompromise' });
      expect(revoked.status, JSON.stringify(revoked.body)).toBeLessThan(300);
      const refused = await crlVerify(restarted(), file);
      expect(refused.code).not.toBe(0);
      expect(refused.out).toContain('certificate revoked');
      // The configured CA's CRL does not list it: each CA's CRL lists what that CA issued.
      const old = await crlVerify(restarted(), join(oldDir, 'old.pem'));
      expect(old.code, old.out).toBe(0);
    });

    if (where === 'keyvault')
      it("ok/downloads of both CAs' CRLs and certificates cost no Key Vault operation once built", async () => {
        const kv = vault;
        if (!kv) throw new Error('no Key Vault test server');
        const id = caIdOf((await caCertOf(restarted())).raw);
        const paths = ['crl', `crl/${id}`, 'ca.cer', `ca/${id}.cer`, 'crl?format=pem'];
        const download = async (): Promise<void> => {
          for (const p of paths) expect((await fetch(`${restarted().baseUrl}/${p}`)).status, p).toBe(200);
        };
        await download(); // builds each CA's CRL once (one signature each)
        const before = kv.counts();
        for (let i = 0; i < 5; i++) await download();
        expect(kv.counts()).toEqual(before);
      });

    it('ok/on an RA endpoint after activation GetCACert has an RA certificate of the new CA, and scepclient enrolls through it', async () => {
      const newCa = await caCertOf(restarted());
      const [ra, ca, ...more] = await getCaCertificates(`${restarted().baseUrl}/scep/${RA_ENDPOINT}`);
      expect(more).toEqual([]);
      expect(ca?.raw.equals(newCa.raw)).toBe(true);
      // The RA certificate the previous CA issued was replaced on first use by one of the new CA.
      expect(ra?.raw.equals(raBefore.raw)).toBe(false);
      expect(ra?.verify(newCa.publicKey)).toBe(true);
      expect(ra?.issuer).toBe(newCa.subject);
      expect(ra?.subject).toContain(`CN=${RA_ENDPOINT} SCEP RA`);
      const dir = join(root, 'ra-after');
      await mkdir(dir);
      const cert = await scepclient(restarted(), dir, `ra-after-${where}`, 'ra');
      expect(cert.verify(newCa.publicKey)).toBe(true);
      expect(cert.issuer).toBe(newCa.subject);
      // Listed: the new RA certificate current, the one of the previous CA still decrypting.
      const admin = manageClient(restarted().baseUrl, restarted().adminKey);
      const list = await admin('GET', `endpoints/${RA_ENDPOINT}/ra-certificates`);
      expect(list.body.value?.map((c) => [c.thumbprintSha256, c.status])).toEqual([
        [ra?.fingerprint256.replace(/:/g, ''), 'current'],
        [raBefore.fingerprint256.replace(/:/g, ''), 'previous'],
      ]);
    });

    it('ok/a certificate of the previous CA renews with scepclient into one of the new CA', async () => {
      const newCa = await caCertOf(restarted());
      const old = new X509Certificate(await readFile(join(oldDir, 'old.pem')));
      const renewed = await scepclient(restarted(), oldDir, `old-device-${where}`);
      expect(renewed.raw.equals(old.raw)).toBe(false);
      expect(renewed.verify(newCa.publicKey)).toBe(true);
      expect(renewed.subject).toBe(old.subject);
    });

    /** `openssl ocsp` for old.pem with the previous CA as issuer and trust anchor. */
    const ocspOld = async (): Promise<string> => {
      await writeFile(join(oldDir, 'old-ca.pem'), oldCa.toString());
      // prettier-ignore
      const r = await runClient('openssl', [
        'ocsp', '-issuer', 'old-ca.pem', '-CAfile', 'old-ca.pem', '-cert', 'old.pem',
        '-url', `${restarted().baseUrl}/ocsp`, '-no_nonce',
      ], { cwd: oldDir, timeoutMs: TIMEOUT_MS });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('Response verify OK');
      return r.stdout;
    };

    it('ok/after activation the previous CA still serves its CRL and certificate at /crl and /ca.cer; openssl ocsp and verify -crl_check say good, then revoked', async () => {
      expect(await ocspOld()).toMatch(/^old\.pem: good$/m);
      const oldFile = join(oldDir, 'old.pem');
      const ok = await crlVerify(restarted(), oldFile);
      expect(ok.code, ok.out).toBe(0);
      expect(await readFile(`${oldFile}.issuer.pem`, 'utf8')).toBe(oldCa.toString());
      const old = new X509Certificate(await readFile(join(oldDir, 'old.pem')));
      const admin = manageClient(restarted().baseUrl, restarted().adminKey);
      const revoked = await admin('POST', `certificates/${old.serialNumber}/revoke`, {
        reason: 'keyCompromise',
      });
      expect(revoked.status, JSON.stringify(revoked.body)).toBeLessThan(300);
      expect(await ocspOld()).toMatch(/^old\.pem: revoked$/m);
      const refused = await crlVerify(restarted(), oldFile);
      expect(refused.code).not.toBe(0);
      expect(refused.out).toContain('certificate revoked');
    });
  });
}
