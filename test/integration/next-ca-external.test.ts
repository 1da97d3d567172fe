import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../lib/audit/event.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { pemDer } from '../../lib/x509/pem.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient, type ManageClient } from '../helpers/manage.js';
import { getNextCaCert } from '../helpers/next-ca-client.js';
import { startParentCa, SUBORDINATE_CA, type ParentCa } from '../helpers/parent-ca.js';
import { requireTools } from '../helpers/tools.js';

/**
 * The next CA as a subordinate of an external (enterprise) parent, through the management API,
 * with the key in the Key Vault stand-in (through the real SDK: create with issuer "Unknown",
 * pending, merge) and in the local data folder. The parent is an openssl root CA that signs
 * the request the API hands out. Until its certificate is installed the next CA is `pending`:
 * GetCACaps does not list GetNextCACert and activation answers 409; certificates that do not fit
 * the pending key are refused with 400; once installed, GetNextCACert carries it with the chain
 * the operator sent, and after activation GetCACert and ca-chain.pem do too.
 */
const tools = requireTools('openssl');
const cn = (c: X509Certificate): string => c.subject.split('\n').find((l) => l.startsWith('CN=')) ?? '';

describe.each(['keyvault', 'local'] as const)(
  `next CA signed by an external parent (%s)${tools.available ? '' : ` — skipped: ${tools.reason}`}`,
  (where) => {
    let vault: FakeKeyVault | undefined;
    let env: Record<string, string> = {};
    let dataDir: string;
    let host: TestHost;
    let admin: ManageClient;
    let parent: ParentCa;
    let csrPem: string;
    const hosts: TestHost[] = [];

    const start = async (extra: Record<string, string> = {}): Promise<TestHost> => {
      const h = await startTestHost(
        { ...env, ...extra },
        { store: 'sqlite', dataDir, ...(vault ? { credential: vault.credential } : {}) },
      );
      hosts.push(h);
      return h;
    };
    const caps = async (h: TestHost): Promise<string[]> =>
      (await (await fetch(`${h.baseUrl}/scep/static?operation=GetCACaps`)).text()).split('\n');
    const install = async (body: string | Uint8Array, type = 'application/x-pem-file') => {
      const res = await fetch(`${host.baseUrl}/api/manage/ca-certificates/next/certificate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${host.adminKey ?? ''}`, 'content-type': type },
        body,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    beforeAll(async () => {
      if (!tools.available) return;
      dataDir = mkdtempSync(join(tmpdir(), `next-ca-external-${where}-`));
      env = {
        AppConfig__StaticValidation__Enabled: 'true',
        AppConfig__StaticValidation__RequestPassword: 'external-parent-1',
      };
      if (where === 'keyvault') {
        vault = await startFakeKeyVault();
        const kv = await vault.initCa({ certificateName: 'scep-ca-ext', subject: 'CN=Ext CA 1, O=tests' });
        env = {
          ...env,
          ...vault.appSettings(kv),
        };
      }
      host = await start();
      admin = manageClient(host.baseUrl, host.adminKey);
      parent = startParentCa();
    }, 60_000);

    afterAll(async () => {
      if (!tools.available) return;
      // Each host restores the environment it found: close the last started first.
      for (const h of hosts.reverse()) await h.close();
      await vault?.close();
      parent.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it.runIf(tools.available)(
      'ok/an external-parent request creates the key and answers the PKCS#10, status pending',
      async () => {
        const subject = `CN=Contoso Issuing CA 2 ${where}, O=Contoso`;
        const created = await admin('POST', 'ca-certificates/next', { parent: 'external', subject });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(created.body).toMatchObject({
          status: 'pending',
          subject,
          request: 'ca-certificates/next/request',
        });
        csrPem = String(created.body.csr);
        const csr = parseCsr(pemDer(csrPem));
        expect(csr.verifySignature()).toBe(true);
        expect(csr.subjectString).toBe(subject);
        expect(csr.extensions.map((e) => e.extnID)).toEqual(['2.5.29.19', '2.5.29.15', '2.5.29.14']);
        if (vault) {
          // Key Vault made the key (issuer "Unknown", non-exportable) and holds a pending operation.
          expect(vault.count('createCertificate')).toBeGreaterThan(0);
          expect(vault.keyOperations('scep-ca-ext-next')).toBeGreaterThan(0);
        }

        const list = await admin('GET', 'ca-certificates');
        expect(list.body.value?.map((c) => c.status)).toEqual(['current', 'pending']);
        expect(list.body.value?.[1]).toMatchObject({ subject, request: 'ca-certificates/next/request' });
        const get = (q: string) =>
          fetch(`${host.baseUrl}/api/manage/ca-certificates/next/request${q}`, {
            headers: { authorization: `Bearer ${host.adminKey ?? ''}` },
          });
        const pem = await get('?format=pem');
        expect(pem.status).toBe(200);
        expect(await pem.text()).toBe(csrPem);
        const der = await get('');
        expect(der.headers.get('content-type')).toBe('application/pkcs10');
        expect(Buffer.from(await der.arrayBuffer())).toEqual(Buffer.from(pemDer(csrPem)));
      },
    );

    it.runIf(tools.available)(
      'fail/while pending GetCACaps does not list GetNextCACert, activation and a second create answer 409',
      async () => {
        expect(await caps(host)).not.toContain('GetNextCACert');
        expect((await fetch(`${host.baseUrl}/scep/static?operation=GetNextCACert`)).status).toBe(404);
        const activate = await admin('POST', 'ca-certificates/next/activate');
        expect(activate.status).toBe(409);
        expect(String(activate.body.detail)).toContain('not installed yet');
        const again = await admin('POST', 'ca-certificates/next', { parent: 'external' });
        expect(again.status).toBe(409);
        const root = await admin('POST', 'ca-certificates/next', {});
        expect(root.status).toBe(409);
        const bad = await admin('POST', 'ca-certificates/next', { parent: 'external', validityDays: 400 });
        expect(bad.status).toBe(400);
        expect(JSON.stringify(bad.body)).toContain('validityDays');
      },
    );

    it.runIf(tools.available)(
      'fail/a certificate for another key, one that is not a CA, or garbage is refused with 400 and changes nothing',
      async () => {
        const merges = vault?.count('mergeCertificate');
        const other = await install(parent.unrelatedPem + parent.pem);
        expect(other.status).toBe(400);
        expect(String(other.body.detail)).toContain('none of the certificates is for the pending key');
        const leaf = parent.sign(csrPem, ['basicConstraints = critical, CA:FALSE']);
        const notCa = await install(leaf + parent.pem);
        expect(notCa.status).toBe(400);
        expect(String(notCa.body.detail)).toContain('not a CA certificate');
        const noCertSign = parent.sign(csrPem, [
          'basicConstraints = critical, CA:TRUE',
          'keyUsage = critical, digitalSignature',
        ]);
        expect((await install(noCertSign)).body.detail).toContain('keyCertSign');
        const garbage = await install('not a certificate', 'text/plain');
        expect(garbage.status).toBe(400);
        expect(JSON.stringify(garbage.body)).not.toMatch(/stack|at .*\.ts/);
        expect((await admin('GET', 'ca-certificates')).body.value?.map((c) => c.status)).toEqual([
          'current',
          'pending',
        ]);
        expect(await caps(host)).not.toContain('GetNextCACert');
        expect(vault?.count('mergeCertificate')).toBe(merges);
      },
    );

    it.runIf(tools.available)(
      'ok/the signed certificate installs with its chain; GetNextCACert hands out both',
      async () => {
        const merges = vault?.count('mergeCertificate') ?? 0;
        const signed = parent.sign(csrPem, SUBORDINATE_CA);
        const der = new Uint8Array(new X509Certificate(signed).raw);
        // PEM, chain first: the certificate for the pending key is found whatever the order.
        const installed = await install(parent.pem + signed);
        expect(installed.status, JSON.stringify(installed.body)).toBe(200);
        expect(installed.body).toMatchObject({
          status: 'next',
          issuer: 'O=tests, CN=Contoso Enterprise Root',
          chain: ['O=tests, CN=Contoso Enterprise Root'],
        });
        let h = host;
        if (vault) {
          // Key Vault keeps a merged chain only in the secret: the API says which setting to set.
          const setting = installed.body.chainSetting as { name: string; value: string };
          expect(setting.name).toBe('AppConfig__KeyVaultConfig__RootCertificateConfig__NextChainPem');
          expect(vault.count('mergeCertificate')).toBe(merges + 1);
          h = await start({ [setting.name]: setting.value });
        } else {
          expect(installed.body.chainSetting).toBeUndefined();
        }
        // Once installed nothing is pending: the same certificate again (DER this time) is a 409.
        const again = await install(der, 'application/pkix-cert');
        expect(again.status).toBe(409);
        expect(String(again.body.detail)).toContain('no next CA request is pending');
        const request = await admin('GET', 'ca-certificates/next/request');
        expect(request.status).toBe(404);
        expect(await caps(h)).toContain('GetNextCACert');
        const current = new X509Certificate(await (await fetch(`${h.baseUrl}/ca.pem`)).text());
        const reply = await getNextCaCert(`${h.baseUrl}/scep/static`, current);
        expect(reply.certificates.map(cn)).toEqual([
          `CN=Contoso Issuing CA 2 ${where}`,
          'CN=Contoso Enterprise Root',
        ]);
        expect(reply.certificates[0]?.raw.equals(Buffer.from(der))).toBe(true);
        // The same reply read by openssl: the signature checks against the current CA, the
        // content's certificates are the next CA and its parent, and the path verifies.
        const dir = mkdtempSync(join(tmpdir(), 'verify-'));
        const res = await fetch(`${h.baseUrl}/scep/static?operation=GetNextCACert`);
        writeFileSync(join(dir, 'reply.der'), Buffer.from(await res.arrayBuffer()));
        writeFileSync(join(dir, 'current.pem'), current.toString());
        writeFileSync(join(dir, 'root.pem'), parent.pem);
        const openssl = (...args: string[]): string =>
          execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
        // prettier-ignore
        openssl('cms', '-verify', '-inform', 'DER', '-in', 'reply.der', '-certfile', 'current.pem',
          '-CAfile', 'current.pem', '-purpose', 'any', '-binary', '-out', 'content.der');
        openssl('pkcs7', '-inform', 'DER', '-in', 'content.der', '-print_certs', '-out', 'certs.pem');
        const [next = '', root = ''] = readFileSync(join(dir, 'certs.pem'), 'utf8')
          .split(/(?<=-----END CERTIFICATE-----\n)/)
          .filter((p) => p.includes('BEGIN'));
        expect(new X509Certificate(next).raw.equals(Buffer.from(der))).toBe(true);
        expect(new X509Certificate(root).raw.equals(new X509Certificate(parent.pem).raw)).toBe(true);
        writeFileSync(join(dir, 'next.pem'), next);
        expect(openssl('verify', '-CAfile', 'root.pem', 'next.pem')).toContain('next.pem: OK');
        rmSync(dir, { recursive: true, force: true });
      },
    );

    it.runIf(tools.available)('ok/each step is a management change in the audit trail', async () => {
      await vi.waitFor(async () => {
        const r = await admin('GET', 'audit?actor=admin-key');
        const ops = (r.body.value as unknown as AuditEvent[]).map((e) => e.operation);
        expect(ops).toContain('ca.next.request');
        expect(ops).toContain('ca.next.install');
      });
    });

    it.runIf(tools.available)(
      'ok/after activation a new instance serves the next CA with its chain in GetCACert and ca-chain.pem',
      async () => {
        expect((await admin('POST', 'ca-certificates/next/activate')).status).toBe(200);
        const setting: Record<string, string> = vault
          ? {
              AppConfig__KeyVaultConfig__RootCertificateConfig__NextChainPem: parent.pem.replace(
                /\n/g,
                '\\n',
              ),
              // The configured CA's chain stays the configured CA's: the next CA has its own.
              AppConfig__KeyVaultConfig__RootCertificateConfig__ChainPem: parent.unrelatedPem,
            }
          : {};
        const h = await start(setting);
        const chain = await (await fetch(`${h.baseUrl}/ca-chain.pem`)).text();
        const certs = chain.split(/(?<=-----END CERTIFICATE-----\n)/).filter((p) => p.includes('BEGIN'));
        const expected = [`CN=Contoso Issuing CA 2 ${where}`, 'CN=Contoso Enterprise Root'];
        expect(certs.map((p) => cn(new X509Certificate(p)))).toEqual(expected);
        // GetCACert (RFC 8894 §4.2.1.2): the CA and its chain as a certs-only SignedData.
        const caCert = await fetch(`${h.baseUrl}/scep/static?operation=GetCACert`);
        expect(caCert.headers.get('content-type')).toBe('application/x-x509-ca-ra-cert');
        const sd = AsnConvert.parse(
          AsnConvert.parse(Buffer.from(await caCert.arrayBuffer()), ContentInfo).content,
          SignedData,
        );
        const published = Array.from(sd.certificates ?? [], (c) =>
          cn(new X509Certificate(Buffer.from(AsnConvert.serialize(c.certificate as Certificate)))),
        );
        expect(published).toEqual(expected);
      },
    );
  },
);
