/**
 * CA rollover seen by real clients, with the CA keys as local files and in the Key Vault stand-in
 * (through the real SDK): an administrator creates the next CA and activates it; a second
 * instance started on the same data folder and store (what a restart of the app does) answers
 * GetCACert with the new CA, micromdm `scepclient` enrolls under it, a certificate the previous
 * CA issued renews (scepclient's RenewalReq signed by it) into one of the new CA, and
 * `openssl ocsp` with the previous CA as issuer answers for the old certificate.
 */
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient } from '../helpers/manage.js';
import { checkOpenssl, checkScepclient, runClient } from './helpers/clients.js';
import { describeWithClient } from './helpers/suite.js';

const TIMEOUT_MS = 30_000;
const CHALLENGE = 'rollover-secret-1';

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
    const scepclient = async (host: TestHost, dir: string, cn: string) => {
      // prettier-ignore
      const args = [
        '-server-url', host.scepUrl, '-private-key', join(dir, 'key.pem'),
        '-certificate', join(dir, 'cert.pem'), '-cn', cn, '-organization', 'rollover tests',
        '-keySize', '2048', '-challenge', CHALLENGE,
      ];
      const r = await runClient('scepclient', args, {
        cwd: dir,
        timeoutMs: TIMEOUT_MS,
        secrets: [CHALLENGE],
      });
      expect(r.code, `${r.commandLine}\n${r.stdout}${r.stderr}`).toBe(0);
      return new X509Certificate(await readFile(join(dir, 'cert.pem')));
    };

    const caCertOf = async (host: TestHost): Promise<X509Certificate> => {
      const res = await fetch(`${host.scepUrl}?operation=GetCACert`);
      expect(res.headers.get('content-type')).toBe('application/x-x509-ca-cert');
      return new X509Certificate(Buffer.from(await res.arrayBuffer()));
    };

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), `scep-rollover-${where}-`));
      env = {
        AppConfig__StaticValidation__Enabled: 'true',
        AppConfig__StaticValidation__RequestPassword: CHALLENGE,
        AppConfig__StaticValidation__AllowRenewals: 'true',
      };
      if (where === 'keyvault') {
        vault = await startFakeKeyVault();
        const kv = await vault.initCa({
          certificateName: 'scep-ca-rollover',
          subject: 'CN=Rollover CA 1, O=tests',
        });
        env = {
          ...env,
          AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
          AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
          AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType: 'RSA',
          AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize: '2048',
        };
      }
      first = await start();
      oldCa = await caCertOf(first);
      oldDir = join(root, 'old-device');
      await mkdir(oldDir);
      const old = await scepclient(first, oldDir, `old-device-${where}`);
      expect(old.verify(oldCa.publicKey)).toBe(true);
      await copyFile(join(oldDir, 'cert.pem'), join(oldDir, 'old.pem'));
    }, 120_000);

    afterAll(async () => {
      await second?.close();
      await first.close();
      await vault?.close();
      await rm(root, { recursive: true, force: true });
    });

    it('ok/activating the next CA is recorded and takes effect at the next instance start', async () => {
      const admin = manageClient(first.baseUrl, first.adminKey);
      const early = await admin('POST', 'ca-certificates/next/activate');
      expect(early.status).toBe(409);
      const next = await admin('POST', 'ca-certificates/next', {
        subject: `CN=Rollover CA 2 ${where}, O=tests`,
      });
      expect(next.status).toBe(201);
      const activated = await admin('POST', 'ca-certificates/next/activate');
      expect(activated.status, JSON.stringify(activated.body)).toBe(200);
      expect(activated.body.thumbprintSha256).toBe(next.body.thumbprintSha256);
      expect(String(activated.body.effective)).toContain('next start');
      // This instance keeps issuing with the CA it started with until it restarts.
      expect((await caCertOf(first)).raw.equals(oldCa.raw)).toBe(true);
      expect((await admin('POST', 'ca-certificates/next/activate')).status).toBe(409);

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

    it('ok/openssl ocsp with the previous CA as issuer answers good, then revoked once it is revoked', async () => {
      expect(await ocspOld()).toMatch(/^old\.pem: good$/m);
      const old = new X509Certificate(await readFile(join(oldDir, 'old.pem')));
      const admin = manageClient(restarted().baseUrl, restarted().adminKey);
      const revoked = await admin('POST', `certificates/${old.serialNumber}/revoke`, {
        reason: 'keyCompromise',
      });
      expect(revoked.status, JSON.stringify(revoked.body)).toBeLessThan(300);
      expect(await ocspOld()).toMatch(/^old\.pem: revoked$/m);
    });
  });
}
