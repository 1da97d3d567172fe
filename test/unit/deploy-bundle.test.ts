import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateLocalCa } from '../../lib/keys/local-ca.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { projectRoot, stage, type StageResult } from '../../scripts/bundle.js';
import { makeCert, makeCsr, rsaKey } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';

/**
 * The deploy package (scripts/bundle.ts) is what Azure runs: bundle it from the sources, load
 * it in a fresh Node process the way the Functions worker does (with @azure/functions-core
 * provided from outside), and enroll through the bundled `scep` function.
 */
const SECRET = 'bundle-test-secret';
let dir: string;
let staged: StageResult;

// Runs inside the child: load every entry point, report registrations, answer one PKIOperation.
const CHILD = `
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
const Module = require('node:module');
const regs = [];
const shim = { registerFunction(m, h) { regs.push({ m, h }); return { dispose() {} }; }, setProgrammingModel() {},
  getProgrammingModel() {}, registerHook() { return { dispose() {} }; }, log() {}, Disposable: class { dispose() {} } };
const load = Module._load;
Module._load = function (r, ...a) { return r === '@azure/functions-core' ? shim : load.call(this, r, ...a); };
const [pkg, azf, work] = process.argv.slice(2);
for (const f of readdirSync(pkg + '/dist/functions').filter((f) => f.endsWith('.js'))) await import(pkg + '/dist/functions/' + f);
const { HttpRequest, InvocationContext } = (await import(azf)).default;
const scep = regs.find((r) => r.m.name === 'scep');
const req = new HttpRequest({ method: 'POST', url: 'http://127.0.0.1/scep/static?operation=PKIOperation',
  params: { endpoint: 'static' }, body: { bytes: readFileSync(work + '/request.der') } });
const res = await scep.h(req, new InvocationContext({ functionName: 'scep' }));
writeFileSync(work + '/reply.der', res.body);
const routes = regs.map((r) => ({ name: r.m.name, trigger: Object.values(r.m.bindings).find((b) => b.direction === 'in' && b.type.endsWith('Trigger')) }));
console.log(JSON.stringify({ status: res.status, contentType: res.headers['content-type'], routes }));
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scep-bundle-'));
  staged = await stage(projectRoot(), join(dir, 'deploy'));
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy package', () => {
  it('ok/is small and carries no node_modules', () => {
    expect(readdirSync(staged.dir).sort()).toEqual(['dist', 'host.json', 'package.json']);
    // The admin console beside the functions (functions/console.ts serves dist/web).
    expect(readdirSync(join(staged.dir, 'dist', 'web'))).toEqual(
      expect.arrayContaining(['index.html', 'assets']),
    );
    expect(staged.bytes).toBeLessThan(15 * 1024 * 1024);
    const pkg = JSON.parse(readFileSync(join(staged.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({ type: 'module', main: 'dist/functions/*.js' });
    expect(pkg.dependencies).toBeUndefined();
  });

  it('ok/registers every function and enrolls through the bundled scep function', async () => {
    const dataDir = join(dir, 'data');
    const ca = await loadOrCreateLocalCa({
      dataDir,
      subject: 'CN=Bundle Test CA',
      keySize: 2048,
      validityDays: 30,
    });
    const key = rsaKey(2048, 'bundle');
    const signer = await makeCert({ key, subject: 'CN=SCEP SIGNER' });
    const csr = await makeCsr({ key, subject: 'CN=bundled', challenge: SECRET });
    const message = buildPkiMessage({
      messageType: MessageType.PKCSReq,
      transactionId: 'tx-bundle',
      content: csr,
      recipients: [AsnParser.parse(ca.certificateDer, Certificate)],
      signerKey: key,
      signerCert: signer.cert,
    });
    writeFileSync(join(dir, 'request.der'), message);
    writeFileSync(join(dir, 'child.mjs'), CHILD);
    const azf = join(projectRoot(), 'node_modules', '@azure', 'functions', 'dist', 'azure-functions.js');
    const out = execFileSync(process.execPath, [join(dir, 'child.mjs'), staged.dir, azf, dir], {
      env: {
        PATH: process.env.PATH ?? '',
        AppConfig__DataDir: dataDir,
        AppConfig__StaticValidation__RequestPassword: SECRET,
        // The package is for Azure (Cosmos DB); it carries no embedded database (libsql is native).
        AppConfig__LocalStore: 'memory',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const last = out.trim().split('\n').pop() ?? '';
    const result = JSON.parse(last) as {
      status: number;
      contentType: string;
      routes: { name: string; trigger?: { type: string; route?: string } }[];
    };
    expect(result.status).toBe(200);
    expect(result.contentType).toBe('application/x-pki-message');
    expect(result.routes.map((r) => r.name).sort()).toEqual(
      [
        'auditOutbox',
        'caCertificate',
        'caCertificateById',
        'crl',
        'csr',
        'est',
        'intuneNotifications',
        'intuneRedrive',
        'intuneRevocation',
        'manageAccounts',
        'manageAdministrators',
        'manageAudit',
        'manageCa',
        'manageCaActivate',
        'manageCaNextCertificate',
        'manageCaNextRequest',
        'manageCertificates',
        'manageChallenges',
        'manageDepartments',
        'manageEndpoints',
        'manageExplain',
        'manageOrganizations',
        'manageRevoke',
        'manageUnrevoke',
        'manageRaCertificates',
        'mscep',
        'mscepAdmin',
        'ocsp',
        'probe',
        'scep',
        'status',
        'warmup',
        'caCertificatePem',
        'caChainPem',
        'raCertificatePem',
        'adminConsole',
      ].sort(),
    );
    expect(result.routes.find((r) => r.name === 'scep')?.trigger?.route).toBe('scep/{endpoint}/{*rest}');
    const rep = await readCertRep(new Uint8Array(readFileSync(join(dir, 'reply.der'))), key, signer.cert);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.certificates[0]?.subject).toContain('CN=bundled');
  }, 90_000);
});
