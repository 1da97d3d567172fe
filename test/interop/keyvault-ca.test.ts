/**
 * The real SCEP clients against a host whose CA key lives in the local Key Vault stand-in
 * (test/fakes/keyvault-server.ts, reached through the real @azure/keyvault-* clients): issue 3,
 * "the SCEP interop tests (micromdm scepclient, strongSwan) pass with the CA key in that test
 * vault". Every envelope is opened and every certificate and CertRep is signed by the vault.
 */
import { randomBytes, generateKeyPair, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificateClient } from '@azure/keyvault-certificates';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';
import { firstPemCertificate, inspectIssued } from './helpers/certs.js';
import { checkScepclient, checkStrongswanPki, clientLog, runClient } from './helpers/clients.js';
import { startInteropEnv, type InteropEnv } from './helpers/env.js';
import { outcome, type Outcome } from './helpers/outcome.js';
import { cipherName } from './helpers/pkimessage.js';
import { describeWithClient } from './helpers/suite.js';

const CLIENT_TIMEOUT_MS = 30_000;
const generateRsa = promisify(generateKeyPair);

interface VaultHost {
  readonly vault: FakeKeyVault;
  readonly env: InteropEnv;
  /** The CA certificate as the vault stores it. */
  readonly vaultCaPem: string;
  close(): Promise<void>;
}

async function startVaultHost(label: string): Promise<VaultHost> {
  const restoreEnv = snapshotProcessEnv();
  const vault = await startFakeKeyVault();
  try {
    const kv = await vault.initCa({
      certificateName: `interop-${label}`,
      subject: `CN=Vault Interop CA ${label}`,
    });
    const stored = await new CertificateClient(
      vault.url,
      vault.credential,
      vault.clientOptions,
    ).getCertificate(kv.certificateName);
    if (stored.cer === undefined) throw new Error('the fake vault holds no CA certificate');
    const env = await startInteropEnv(`keyvault-${label}`, {
      env: {
        AppConfig__KeyVaultConfig__KeyVaultURL: vault.url,
        AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
      },
      credential: vault.credential,
    });
    return {
      vault,
      env,
      vaultCaPem: new X509Certificate(stored.cer).toString(),
      async close() {
        await env.close();
        await vault.close();
        restoreEnv();
      },
    };
  } catch (e) {
    await vault.close();
    restoreEnv();
    throw e;
  }
}

/** The vault did the CA's work: envelope key decrypted and CertRep + certificate signed there, no key GET. */
function expectVaultDidTheWork(vault: FakeKeyVault, diag: string): void {
  const counts = JSON.stringify(vault.counts());
  expect(vault.count('decrypt') + vault.count('unwrapKey'), `${counts}\n${diag}`).toBeGreaterThanOrEqual(1);
  expect(vault.count('sign'), `${counts}\n${diag}`).toBeGreaterThanOrEqual(2);
  expect(vault.count('getKey'), `${counts}\n${diag}`).toBe(0);
}

describeWithClient('micromdm scepclient with the CA key in Key Vault', checkScepclient(), () => {
  let h: VaultHost | undefined;
  const ctx = (): VaultHost => {
    if (!h) throw new Error('local host did not start');
    return h;
  };
  beforeAll(async () => {
    h = await startVaultHost('micromdm');
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => {
    ctx().vault.resetCounts();
  });

  async function scepclient(dir: string, cn: string): Promise<Outcome> {
    const { env } = ctx();
    const mark = env.recorder.exchanges.length;
    // prettier-ignore
    const args = [
      '-server-url', env.scepUrl,
      '-private-key', join(dir, 'key.pem'),
      '-certificate', join(dir, 'cert.pem'),
      '-cn', cn,
      '-organization', 'azure-scep-ca tests',
      '-keySize', '2048',
      '-challenge', env.challenge,
      '-debug',
    ];
    const run = await runClient('scepclient', args, {
      cwd: dir,
      timeoutMs: CLIENT_TIMEOUT_MS,
      secrets: [env.challenge],
    });
    return outcome(run, env.recorder.since(mark));
  }

  async function issued(dir: string, cn: string, diag: string) {
    const certPath = join(dir, 'cert.pem');
    expect(existsSync(certPath), `no cert.pem written\n${diag}`).toBe(true);
    const facts = inspectIssued(await readFile(certPath, 'utf8'), {
      caPem: ctx().vaultCaPem,
      keyPem: await readFile(join(dir, 'key.pem'), 'utf8'),
      cn,
    });
    expect(facts.problems, diag).toEqual([]);
    return facts;
  }

  it('serves the vault CA certificate as the CA', () => {
    expect(ctx().env.caPem.trim()).toBe(ctx().vaultCaPem.trim());
  });

  it('enrolls with a single-DES PKCSReq; the certificate chains to the vault CA', async () => {
    const dir = await ctx().env.workDir('kv-mm-enroll');
    const cn = `kv-mm-${randomBytes(4).toString('hex')}`;
    const out = await scepclient(dir, cn);
    expect(out.run.code, out.diag).toBe(0);
    await issued(dir, cn, out.diag);
    const [x] = out.pki;
    expect(cipherName(x?.request.envelope?.cipher ?? ''), out.diag).toBe('DES-CBC');
    expect(x?.reply?.pkiStatus, out.diag).toBe('0');
    expectVaultDidTheWork(ctx().vault, out.diag);
  });

  it('renews with a RenewalReq signed by its earlier certificate and gets a new serial', async () => {
    const dir = await ctx().env.workDir('kv-mm-renew');
    const cn = `kv-mm-renew-${randomBytes(4).toString('hex')}`;
    const first = await scepclient(dir, cn);
    expect(first.run.code, first.diag).toBe(0);
    const before = await issued(dir, cn, first.diag);
    await copyFile(join(dir, 'cert.pem'), join(dir, 'cert-enrolled.pem'));
    ctx().vault.resetCounts();

    const out = await scepclient(dir, cn);
    expect(out.run.code, out.diag).toBe(0);
    const after = await issued(dir, cn, out.diag);
    expect(after.serial, out.diag).not.toBe(before.serial);
    const [x] = out.pki;
    expect(x?.request.messageType, out.diag).toBe('17');
    expect(x?.request.signerSerial, out.diag).toBe(before.serial);
    expect(x?.reply?.pkiStatus, out.diag).toBe('0');
    expectVaultDidTheWork(ctx().vault, out.diag);
  });
});

describeWithClient('strongSwan pki with the CA key in Key Vault', checkStrongswanPki(), () => {
  let h: VaultHost | undefined;
  let caDer: string | undefined;
  const ctx = (): VaultHost => {
    if (!h) throw new Error('local host did not start');
    return h;
  };
  beforeAll(async () => {
    h = await startVaultHost('strongswan');
    const dir = await h.env.workDir('scepca');
    const run = await runClient(
      'pki',
      ['--scepca', '--url', h.env.scepUrl, '--caout', join(dir, 'ca.der'), '--force'],
      {
        cwd: dir,
        timeoutMs: CLIENT_TIMEOUT_MS,
      },
    );
    const ca = (await readdir(dir)).filter((f) => /^ca.*\.der$/.test(f)).sort();
    if (run.code !== 0 || ca[0] === undefined) throw new Error(`pki --scepca failed\n${clientLog(run)}`);
    caDer = join(dir, ca[0]);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('fetches the vault CA certificate (pki --scepca)', async () => {
    const der = await readFile(caDer ?? '');
    expect(new X509Certificate(der).toString().trim()).toBe(ctx().vaultCaPem.trim());
  });

  it('enrolls with AES; the certificate chains to the vault CA', async () => {
    const { env, vault } = ctx();
    const dir = await env.workDir('kv-ss-aes');
    const cn = `kv-ss-${randomBytes(4).toString('hex')}`;
    const { privateKey } = await generateRsa('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const keyPath = join(dir, 'key.pem');
    await writeFile(keyPath, privateKey);
    vault.resetCounts();
    const mark = env.recorder.exchanges.length;
    // prettier-ignore
    const args = [
      '--scep', '--url', env.scepUrl, '--in', keyPath, '--dn', `C=US, O=Interop, CN=${cn}`,
      '--san', `${cn}.interop.test`, '--cacert-enc', caDer ?? '', '--cacert-sig', caDer ?? '',
      '--cipher', 'aes', '--digest', 'sha256', '--interval', '1', '--maxpolltime', '15',
      '--outform', 'pem', '--debug', '1', '--password', env.challenge,
    ];
    const run = await runClient('pki', args, {
      cwd: dir,
      timeoutMs: CLIENT_TIMEOUT_MS,
      secrets: [env.challenge],
    });
    const out = outcome(run, env.recorder.since(mark));
    expect(run.code, out.diag).toBe(0);
    const pem = firstPemCertificate(run.stdout);
    expect(pem, `no certificate on stdout\n${out.diag}`).toBeDefined();
    const facts = inspectIssued(pem ?? '', {
      caPem: ctx().vaultCaPem,
      keyPem: privateKey,
      cn,
      dnsSan: `${cn}.interop.test`,
    });
    expect(facts.problems, out.diag).toEqual([]);
    const x = out.pki.at(-1);
    expect(cipherName(x?.request.envelope?.cipher ?? ''), out.diag).toBe('AES-128-CBC');
    expect(x?.reply?.pkiStatus, out.diag).toBe('0');
    expectVaultDidTheWork(vault, out.diag);
  });
});
