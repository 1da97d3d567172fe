import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vaultContext } from '../../lib/keys/keyvault-ca.js';
import { KeyVaultNextCaStore } from '../../lib/keys/keyvault-next-ca.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { silentLogger } from '../../lib/log.js';
import { pemDer } from '../../lib/x509/pem.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { runCaCli } from '../helpers/ca-cli.js';
import { startParentCa, SUBORDINATE_CA, type ParentCa } from '../helpers/parent-ca.js';
import { requireTools } from '../helpers/tools.js';

/**
 * `npm run ca -- next-csr` / `next-import`: the next CA as a subordinate of an external parent in
 * Key Vault, through the real SDK against the Key Vault stand-in (create `<name>-next` with
 * issuer "Unknown" and a non-exportable key → pending → merge), with an openssl root CA as the
 * parent that signs the request.
 */
const tools = requireTools('openssl');

describe.runIf(tools.available)(
  `npm run ca -- next-csr / next-import${tools.available ? '' : ` — skipped: ${tools.reason}`}`,
  () => {
    let vault: FakeKeyVault;
    let parent: ParentCa;
    let seq = 0;

    beforeAll(async () => {
      vault = await startFakeKeyVault();
      parent = startParentCa();
    });
    afterAll(async () => {
      parent.close();
      await vault.close();
    });
    beforeEach(() => {
      vault.resetCounts();
    });

    /** A vault with a current CA `name` (self-signed, as `init` makes it). */
    const withCurrentCa = async () => {
      const name = `next-cli-${++seq}`;
      const env = {
        AppConfig__KeyVaultConfig__KeyVaultURL: vault.url,
        AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: name,
        AppConfig__KeyVaultConfig__RootCertificateConfig__Subject: 'CN=Contoso SCEP CA, O=Contoso',
        AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize: '2048',
        AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType: 'RSA',
      };
      const files: Record<string, string | Uint8Array> = {};
      const cli = (...argv: string[]) => runCaCli(vault, env, argv, files);
      expect((await cli('init')).code).toBe(0);
      vault.resetCounts();
      return { name, files, cli };
    };

    it('ok/next-csr makes a pending "-next" key in Key Vault and a request; next-import merges the signed certificate', async () => {
      const { name, files, cli } = await withCurrentCa();
      const r = await cli('next-csr', '--subject', 'CN=Contoso SCEP CA 2, O=Contoso', 'next.csr');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Created the CA key "${name}-next" (RSA 2048)`);
      expect(r.out).toContain('npm run ca -- next-import');
      // Key Vault's CSR flow: one certificate created (issuer Unknown, non-exportable), left pending.
      expect(vault.count('createCertificate')).toBe(1);
      expect(vault.keyOperations(`${name}-next`)).toBe(1); // the request, signed through Key Vault
      expect(vault.keyOperations(name)).toBe(0);
      const csr = parseCsr(pemDer(String(files['next.csr'])));
      expect(csr.verifySignature()).toBe(true);
      expect(csr.subjectString).toBe('CN=Contoso SCEP CA 2, O=Contoso');
      expect((await cli('next-show')).code).toBe(1); // pending is not a next CA yet

      // The same request again, for the same key, e.g. when the file was lost.
      const again = await cli('next-csr', 'again.csr');
      expect(again.out).toContain('already pending');
      expect(parseCsr(pemDer(String(files['again.csr']))).subjectString).toBe(
        'CN=Contoso SCEP CA 2, O=Contoso',
      );

      files['next.pem'] = parent.sign(String(files['next.csr']), SUBORDINATE_CA);
      files['root.pem'] = parent.pem;
      const imported = await cli('next-import', 'root.pem', 'next.pem');
      expect(imported.err).toBe('');
      expect(imported.code).toBe(0);
      expect(imported.out).toContain(`Imported the CA certificate into Key Vault ("${name}-next")`);
      expect(imported.out).toContain('Issuer:   O=tests, CN=Contoso Enterprise Root');
      expect(vault.count('mergeCertificate')).toBe(1);
      const line = imported.out
        .split('\n')
        .find((l) => l.startsWith('AppConfig__KeyVaultConfig__RootCertificateConfig__NextChainPem='));
      const nextChainPem = (line ?? '').split('=').slice(1).join('=');
      expect(nextChainPem).toContain('-----BEGIN CERTIFICATE-----');
      expect((await cli('next-show')).out).toContain('Subject:  CN=Contoso SCEP CA 2, O=Contoso');

      // What the app then reads (GetNextCACert): the certificate, and the chain from the setting.
      const ctx = vaultContext(
        vault.settings({ certificateName: name }),
        vault.credential,
        vault.clientOptions,
        {
          log: silentLogger,
        },
      );
      const store = new KeyVaultNextCaStore(ctx, vault.settings({ certificateName: name, nextChainPem }));
      const next = await store.read();
      expect(Buffer.from(next?.certificateDer ?? [])).toEqual(new X509Certificate(files['next.pem']).raw);
      expect(next?.chainDer.map((c) => new X509Certificate(c).subject)).toEqual([
        'O=tests\nCN=Contoso Enterprise Root',
      ]);
      expect((await cli('show')).out).toContain('Subject:  CN=Contoso SCEP CA, O=Contoso'); // current untouched
    });

    it('fail/next-import refuses a certificate for another key, one that is not a CA, and keyUsage without keyCertSign', async () => {
      const { files, cli } = await withCurrentCa();
      expect((await cli('next-csr', 'next.csr')).code).toBe(0);
      const csrPem = String(files['next.csr']);
      files['other.pem'] = parent.unrelatedPem;
      files['leaf.pem'] = parent.sign(csrPem, ['basicConstraints = critical, CA:FALSE']);
      files['nosign.pem'] = parent.sign(csrPem, [
        'basicConstraints = critical, CA:TRUE',
        'keyUsage = critical, digitalSignature, cRLSign',
      ]);
      const other = await cli('next-import', 'other.pem');
      expect([other.code, other.err]).toEqual([
        1,
        'BAD_REQUEST: none of the certificates is for the pending key',
      ]);
      const leaf = await cli('next-import', 'leaf.pem');
      expect(leaf.code).toBe(1);
      expect(leaf.err).toMatch(/^BAD_REQUEST: .*not a CA certificate/);
      const noSign = await cli('next-import', 'nosign.pem');
      expect(noSign.code).toBe(1);
      expect(noSign.err).toMatch(/^BAD_REQUEST: .*keyUsage without keyCertSign/);
      expect(vault.count('mergeCertificate')).toBe(0);
      expect((await cli('next-show')).code).toBe(1);
    });

    it('fail/next-csr and next-import refuse once a next CA exists, and next-import without a request', async () => {
      const { files, cli } = await withCurrentCa();
      const none = await cli('next-import', 'missing.pem');
      expect(none.code).toBe(1);
      files['root.pem'] = parent.pem;
      const noRequest = await cli('next-import', 'root.pem');
      expect(noRequest.code).toBe(1);
      expect(noRequest.err).toMatch(/^CONFLICT: no pending request/);

      expect((await cli('next-init', 'CN=Contoso SCEP CA 2')).code).toBe(0);
      const csr = await cli('next-csr', 'next.csr');
      expect(csr.code).toBe(1);
      expect(csr.err).toMatch(/^CONFLICT: .*-next" already holds a CA certificate; nothing changed/);
      expect(files['next.csr']).toBeUndefined();
      const imported = await cli('next-import', 'root.pem');
      expect(imported.code).toBe(1);
      expect(imported.err).toMatch(/^CONFLICT: .*already holds a different CA certificate/);
      expect(vault.count('createCertificate')).toBe(1);
      expect(vault.count('mergeCertificate')).toBe(1);
    });
  },
);
