import 'reflect-metadata';
import {
  constants,
  createPublicKey,
  publicEncrypt,
  randomBytes,
  webcrypto,
  X509Certificate as NodeX509,
} from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCsr } from '../../lib/csr/parse.js';
import { silentLogger } from '../../lib/log.js';
import { KeyVaultCounter } from '../../lib/keys/keyvault-call.js';
import { getKey, loadKeyVaultCa, vaultContext } from '../../lib/keys/keyvault-ca.js';
import { sdkClientOptions } from '../../lib/keys/keyvault.js';
import { KeyVaultRaKeyStore } from '../../lib/ra/keys-keyvault.js';
import { FakeKeyVault, startFakeKeyVault } from '../fakes/keyvault-server.js';
import { runCaCli } from '../helpers/ca-cli.js';
import { runCa } from '../../scripts/ca.js';

let vault: FakeKeyVault;
beforeAll(async () => {
  vault = await startFakeKeyVault();
});
afterAll(() => vault.close());
beforeEach(() => {
  vault.clearFaults();
  vault.resetCounts();
});

const quiet = { log: silentLogger };

let seq = 0;
const nextName = (): string => `ca-${++seq}`;

function env(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AppConfig__KeyVaultConfig__KeyVaultURL: vault.url,
    AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: name,
    AppConfig__KeyVaultConfig__RootCertificateConfig__Subject: 'CN=Contoso SCEP CA, O=Contoso',
    AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize: '2048',
    AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType: 'RSA',
    ...extra,
  };
}

const cli = (argv: string[], name: string, files: Record<string, Uint8Array | string> = {}) =>
  runCaCli(vault, env(name), argv, files);

describe('npm run ca -- init', () => {
  it('ok/creates a non-exportable key and a self-signed root signed through Key Vault', async () => {
    const name = nextName();
    const r = await cli(['init'], name);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Created the root CA');
    expect(r.out).toMatch(/SHA-256: {2}([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(r.out).toMatch(/SHA-1: {4}([0-9A-F]{2}:){19}[0-9A-F]{2}/);
    expect(r.out).toContain('Subject:  CN=Contoso SCEP CA, O=Contoso');
    expect(vault.counts()).toMatchObject({ createCertificate: 1, sign: 1, mergeCertificate: 1 });

    const ca = await loadKeyVaultCa(
      vault.settings({ certificateName: name }),
      vault.credential,
      vault.clientOptions,
    );
    const cert = new NodeX509(ca.certificateDer);
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed by the Key Vault key
    const key = await new KeyClient(
      vault.url,
      vault.credential,
      sdkClientOptions(vault.clientOptions),
    ).getKey(name);
    expect(key.properties.exportable).toBe(false);
  });

  it('ok/a second init changes nothing and says so', async () => {
    const name = nextName();
    expect((await cli(['init'], name)).code).toBe(0);
    vault.resetCounts();
    const again = await cli(['init'], name);
    expect(again.code).toBe(0);
    expect(again.out).toContain('The CA already exists; nothing changed.');
    expect(vault.counts()).toEqual({ getCertificate: 1 });
  });

  it('ok/next-init creates the next CA beside the current one with its own key; next-show prints it', async () => {
    const name = nextName();
    expect((await cli(['init'], name)).code).toBe(0);
    expect((await cli(['next-show'], name)).code).toBe(1);
    const made = await cli(['next-init', 'CN=Contoso SCEP CA 2, O=Contoso'], name);
    expect(made.code).toBe(0);
    expect(made.out).toContain(`Created the next CA in "${name}-next"`);
    expect(made.out).toContain('CN=Contoso SCEP CA 2');
    const shown = await cli(['next-show'], name);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('CN=Contoso SCEP CA 2');
    const again = await cli(['next-init'], name);
    expect(again.out).toContain('already exists; nothing changed');
    const current = await cli(['show'], name);
    expect(current.out).toContain('CN=Contoso SCEP CA, O=Contoso');
    const keyOf = (out: string) => /Key SHA-256 \(SPKI\): (\w+)/.exec(out)?.[1];
    expect(keyOf(shown.out)).toBeDefined();
    expect(keyOf(shown.out)).not.toBe(keyOf(current.out));
  });

  it('ok/resumes a root whose first init stopped before the merge', async () => {
    const name = nextName();
    vault.fail('mergeCertificate', { status: 500, times: Infinity });
    expect((await cli(['init'], name)).code).toBe(1);
    vault.clearFaults();
    const r = await cli(['init'], name);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Created the root CA');
    expect(vault.count('createCertificate')).toBe(1); // the pending key was reused, not a second one made
  });

  it('fail/refuses to self-sign a key that is waiting for an enterprise signature', async () => {
    const name = nextName();
    expect((await cli(['csr'], name)).code).toBe(0);
    const r = await cli(['init'], name);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^CONFLICT: .*pending request for a parent CA/);
  });

  it('fail/without a vault URL the CLI names the missing setting', async () => {
    const err: string[] = [];
    const code = await runCa(['init'], { env: {}, out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('AppConfig__KeyVaultConfig__KeyVaultURL');
  });
});

describe('npm run ca -- csr / import (subordinate of an enterprise root)', () => {
  async function enterpriseRoot() {
    const alg = {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 2048,
    };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Contoso Enterprise Root, O=Contoso',
      notBefore: new Date('2024-01-01'),
      notAfter: new Date('2044-01-01'),
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    });
    const issue = async (csrPem: string, ca = true) => {
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      return x509.X509CertificateGenerator.create({
        serialNumber: '1234',
        subject: csr.subject,
        issuer: cert.subject,
        notBefore: new Date('2025-01-01'),
        notAfter: new Date('2035-01-01'),
        publicKey: csr.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: alg,
        extensions: [new x509.BasicConstraintsExtension(ca, ca ? 0 : undefined, true)],
      });
    };
    return { cert, issue };
  }

  it('ok/csr without FILE writes the request alone to stdout (status on stderr), so `> req.pem` is a clean PEM', async () => {
    const r = await cli(['csr'], nextName());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n?$/,
    );
    expect(r.err).toContain('Created the CA key');
  });

  it('ok/--help prints the usage on stdout and succeeds', async () => {
    const r = await cli(['--help'], nextName());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: npm run ca -- <command>/);
    expect(r.err).toBe('');
  });

  it('ok/csr is a PKCS#10 signed by the Key Vault key asking for a CA certificate; import merges it with its chain', async () => {
    const name = nextName();
    const files: Record<string, string | Uint8Array> = {};
    const r = await cli(['csr', 'ca.csr'], name, files);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Created the CA key "${name}" (RSA 2048)`);
    const csrPem = String(files['ca.csr']);
    const csr = parseCsr(new Uint8Array(Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
    expect(csr.verifySignature()).toBe(true);
    expect(csr.subjectString).toBe('CN=Contoso SCEP CA, O=Contoso');
    expect(csr.extensions.map((e) => e.extnID)).toEqual(['2.5.29.19', '2.5.29.15', '2.5.29.14']);

    const root = await enterpriseRoot();
    const sub = await root.issue(csrPem);
    files['sub.pem'] = sub.toString('pem');
    files['root.cer'] = new Uint8Array(root.cert.rawData);
    const imported = await cli(['import', 'root.cer', 'sub.pem'], name, files); // order does not matter
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toContain('Imported the CA certificate');
    expect(imported.out).toContain('Issuer:   CN=Contoso Enterprise Root, O=Contoso');
    const chainLine = imported.out
      .split('\n')
      .find((l) => l.startsWith('AppConfig__KeyVaultConfig__RootCertificateConfig__ChainPem='));
    expect(chainLine).toBeDefined();

    const chainPem = (chainLine ?? '').split('=').slice(1).join('=');
    const ca = await loadKeyVaultCa(
      vault.settings({ certificateName: name, chainPem }),
      vault.credential,
      vault.clientOptions,
    );
    expect(Buffer.from(ca.certificateDer)).toEqual(Buffer.from(sub.rawData));
    expect(ca.chainDer.map((c) => Buffer.from(c))).toEqual([Buffer.from(root.cert.rawData)]);

    const again = await cli(['import', 'sub.pem', 'root.cer'], name, files);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already in Key Vault; nothing changed');
  });

  it('ok/csr again while pending re-issues the request for the same key', async () => {
    const name = nextName();
    const files: Record<string, string | Uint8Array> = {};
    await cli(['csr', 'a.csr'], name, files);
    const r = await cli(['csr', 'b.csr'], name, files);
    expect(r.out).toContain('already pending');
    const spki = (pem: unknown) => new x509.Pkcs10CertificateRequest(String(pem)).publicKey.rawData;
    expect(Buffer.from(spki(files['b.csr']))).toEqual(Buffer.from(spki(files['a.csr'])));
    expect(vault.count('createCertificate')).toBe(1);
  });

  it('fail/import refuses a certificate for another key, and one that is not a CA', async () => {
    const name = nextName();
    const files: Record<string, string | Uint8Array> = {};
    await cli(['csr', 'ca.csr'], name, files);
    const root = await enterpriseRoot();
    files['root.pem'] = root.cert.toString('pem');
    const other = await cli(['import', 'root.pem'], name, files);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/^BAD_REQUEST: none of the certificates is for the pending key/);
    files['leaf.pem'] = (await root.issue(String(files['ca.csr']), false)).toString('pem');
    const leaf = await cli(['import', 'leaf.pem'], name, files);
    expect(leaf.err).toMatch(/^BAD_REQUEST: .*not a CA certificate/);
    expect(vault.count('mergeCertificate')).toBe(0);
  });

  it('fail/import without a pending request says to run csr first', async () => {
    const r = await cli(['import', 'x.pem'], nextName(), {
      'x.pem': '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----',
    });
    expect(r.code).toBe(1);
  });
});

describe('npm run ca -- show', () => {
  it('ok/prints the CA certificate; says what to do when there is none', async () => {
    const name = nextName();
    const none = await cli(['show'], name);
    expect(none.code).toBe(1);
    expect(none.out).toContain('No CA yet');
    await cli(['init'], name);
    const shown = await cli(['show'], name);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('SHA-256:');
  });
});

describe('loadKeyVaultCa', () => {
  it('ok/loads certificate and key once; each enrollment then costs only decrypt + 2 signs', async () => {
    const name = nextName();
    await cli(['init'], name);
    vault.resetCounts();
    const ca = await loadKeyVaultCa(
      vault.settings({ certificateName: name }),
      vault.credential,
      vault.clientOptions,
      { counter: new KeyVaultCounter() },
    );
    expect(vault.counts()).toEqual({ getCertificate: 1, getKey: 1 });
    const pub = createPublicKey({
      key: Buffer.from(ca.decrypter.publicKeySpki),
      format: 'der',
      type: 'spki',
    });
    for (let i = 0; i < 2; i++) {
      const cek = randomBytes(16);
      const out = await ca.decrypter.unwrapKey(
        publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, cek),
        'RSA1_5',
        16,
      );
      expect(Buffer.from(out)).toEqual(cek);
      await ca.signer.sign(new Uint8Array([1, 2, 3]), 'SHA-256'); // certificate
      await ca.signer.sign(new Uint8Array([4, 5, 6]), 'SHA-256'); // CertRep
    }
    expect(vault.counts()).toEqual({ getCertificate: 1, getKey: 1, decrypt: 2, sign: 4 });
    expect(ca.counter.snapshot()).toEqual({ getCertificate: 1, getKey: 1, decrypt: 2, sign: 4 });
    expect(ca.chainDer).toEqual([]);
  });

  it("ok/the fake vault's initCa helper + transport options derived from a loopback http URL", async () => {
    const s = await vault.initCa({ certificateName: nextName() });
    const ca = await loadKeyVaultCa(s, vault.credential, undefined, quiet); // no client options: derived from http://127.0.0.1
    expect(ca.signer.supportedHashes).toContain('SHA-256');
    expect(ca.decrypter.operation).toBe('decrypt');
  });

  it('fail/a vault without the CA certificate → CONFIG_INVALID telling to run init', async () => {
    await expect(
      loadKeyVaultCa(
        vault.settings({ certificateName: nextName() }),
        vault.credential,
        vault.clientOptions,
        quiet,
      ),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('npm run ca -- init'),
    });
  });

  it('fail/a pending CA (csr not yet imported) → CONFIG_INVALID', async () => {
    const name = nextName();
    await cli(['csr'], name);
    await expect(
      loadKeyVaultCa(vault.settings({ certificateName: name }), vault.credential, vault.clientOptions, quiet),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('pending'),
    });
  });

  it('fail/KeyNotFound is a clear CONFIG_INVALID naming the key', async () => {
    const ctx = vaultContext(vault.settings(), vault.credential, vault.clientOptions, quiet);
    await expect(getKey(ctx, `${vault.url}/keys/missing/0123`)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/missing\/0123 was not found .*KeyNotFound/),
    });
  });

  it('fail/a vault that keeps failing at start → DEPENDENCY_UNAVAILABLE', async () => {
    vault.fail('getCertificate', { status: 503, times: Infinity });
    const fast = { sleep: () => Promise.resolve(), log: silentLogger };
    await expect(
      loadKeyVaultCa(vault.settings(), vault.credential, vault.clientOptions, fast),
    ).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      status: 503,
    });
    expect(vault.count('getCertificate')).toBe(3);
  });

  it('fail/a chain setting that is not PEM certificates is refused at start', async () => {
    const name = nextName();
    await cli(['init'], name);
    const bad = '-----BEGIN CERTIFICATE-----AAAA-----END CERTIFICATE-----';
    await expect(
      loadKeyVaultCa(
        vault.settings({ certificateName: name, chainPem: bad }),
        vault.credential,
        vault.clientOptions,
      ),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

describe('RA keys in Key Vault', () => {
  it('fail/an RA key is opened by its versioned id only: an id without a version is refused, never the newest version', async () => {
    const ctx = vaultContext(vault.settings(), vault.credential, vault.clientOptions, { log: silentLogger });
    const keys = new KeyVaultRaKeyStore(ctx);
    const first = await keys.create('pinned');
    await keys.create('pinned'); // the next renewal's version
    expect((await keys.open(first.ref)).id).toBe(first.ref);
    const unversioned = first.ref.replace(/\/[^/]+$/, '');
    expect(await keys.open(unversioned).catch((e: unknown) => e)).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
