import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminEnvironment, runAdmin, toCall } from '../../scripts/admin.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { startParentCa, SUBORDINATE_CA } from '../helpers/parent-ca.js';
import { requireTools } from '../helpers/tools.js';

const tools = requireTools('openssl');

/** `npm run admin -- …` against the local host, with the admin key read from the data folder. */
describe('admin CLI', () => {
  let host: TestHost;
  const run = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    // The host's URL first: a test's own --url comes later and wins.
    const code = await runAdmin(['--url', host.baseUrl, ...argv], {
      env: { AppConfig__DataDir: host.dataDir },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(async () => {
    await host.close();
  });

  it('ok/creates an organization, an endpoint delegated to it, an account and a one-time challenge', async () => {
    expect((await run('organizations', 'create', 'contoso', '--display-name', 'Contoso')).code).toBe(0);
    const e = await run(
      'endpoints',
      'create',
      'kiosks',
      '--type',
      'device-scep',
      '--org',
      'contoso',
      '--json',
    );
    expect(e.code).toBe(0);
    expect(JSON.parse(e.out)).toMatchObject({ name: 'kiosks', delegatedTo: [{ organization: 'contoso' }] });
    const a = await run('accounts', 'create', 'kiosks', 'kandji', '--org', 'contoso', '--json');
    expect(a.code).toBe(0);
    const account = JSON.parse(a.out) as { id: string; challenge: string };
    expect(account.challenge).toMatch(/^[0-9A-F]{48}$/);
    expect((await run('accounts', 'disable', 'kiosks', account.id, '--json')).out).toContain(
      '"enabled":false',
    );
    expect((await run('accounts', 'list', 'kiosks')).out).toContain(`id=${account.id}`);
    const c = await run('challenge', 'kiosks', '--minutes', '5', '--json');
    expect(JSON.parse(c.out)).toMatchObject({ challenge: expect.stringMatching(/^[0-9A-F]{48}$/) });
    expect((await run('endpoints', 'update', 'kiosks', '--disable', '--json')).out).toContain(
      '"enabled":false',
    );
    expect((await run('endpoints', 'list')).out).toContain('name=kiosks');
    expect((await run('certificates', 'search', 'nothing-like-this', '--json')).out).toBe(
      '{"value":[],"continuationToken":null}',
    );
    expect((await run('accounts', 'delete', 'kiosks', account.id)).code).toBe(0);
    expect((await run('endpoints', 'delete', 'kiosks')).code).toBe(0);
  });

  it('fail/an API refusal exits 1 and prints every problem', async () => {
    const r = await run('endpoints', 'create', 'Bad Name', '--type', 'nope');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error 400 BAD_REQUEST/);
    expect(r.err).toMatch(/\/name/);
    expect(r.err).toMatch(/\/type/);
  });

  it('fail/a wrong key exits 1 with 401', async () => {
    const r = await run('endpoints', 'list', '--key', 'wrong');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error 401/);
  });

  it('fail/a --url that is not the app (text answer) exits 1 with the status, not a JSON parse stack', async () => {
    const r = await run('endpoints', 'list', '--url', `${host.baseUrl}/nothing`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error 404: .*not found.*is --url the app's base URL\?/s);
    expect(r.err).not.toMatch(/SyntaxError|at JSON\.parse/);
  });

  it("fail/a --url that answers a web page (such as the console's URL) exits 1 instead of printing the page", async () => {
    // A page of its own: whether the console is built (dist/web) must not decide this test.
    const page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>azure-scep-ca</title><div id="app"></div>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = page.address() as AddressInfo;
      const r = await run('endpoints', 'list', '--url', `http://127.0.0.1:${port}/admin`);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^error 200: text\/html.*is --url the app's base URL\?/s);
    } finally {
      page.close();
    }
  });

  it('ok/--help (what the npm start banner suggests) prints the usage on stdout and exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: npm run -s admin -- <command>/);
    expect(r.err).toBe('');
  });

  it('fail/without --key and without an admin key in the data folder, the 401 says where the key was looked for', async () => {
    const err: string[] = [];
    const empty = mkdtempSync(join(tmpdir(), 'admin-nokey-'));
    try {
      const code = await runAdmin(['endpoints', 'list', '--url', host.baseUrl], {
        env: { AppConfig__DataDir: empty },
        out: () => undefined,
        err: (l) => err.push(l),
      });
      expect(code).toBe(1);
      expect(err.join('\n')).toMatch(/^error 401/);
      expect(err.join('\n')).toContain(
        `no admin key: none given with --key, none in ${join(empty, 'admin-key.txt')}`,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('ok/without --url and --key, it finds the host by PORT and the key by AppConfig__DataDir from local.settings.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'admin-settings-'));
    try {
      const file = join(dir, 'local.settings.json');
      writeFileSync(file, JSON.stringify({ Values: { AppConfig__DataDir: host.dataDir } }));
      const port = new URL(host.baseUrl).port;
      const env = adminEnvironment({ PORT: port }, file);
      expect(env.AppConfig__DataDir).toBe(host.dataDir);
      const out: string[] = [];
      const code = await runAdmin(['organizations', 'list'], {
        env,
        out: (l) => out.push(l),
        err: () => undefined,
      });
      expect(code).toBe(0);
      expect(out.join('\n')).toContain('contoso');
      // The environment wins over local.settings.json, as for npm start.
      expect(adminEnvironment({ AppConfig__DataDir: dir }, file).AppConfig__DataDir).toBe(dir);
      writeFileSync(file, '{ not json');
      expect(() => adminEnvironment({}, file)).toThrow(`${file}: not valid JSON`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fail/usage errors exit 2', async () => {
    expect((await run('endpoints', 'create', 'x')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    expect((await run('endpoints', 'list', '--bogus')).code).toBe(2);
  });

  it('ok/ca next-create and ca next-activate post to the CA rollover routes of the management API', () => {
    expect(toCall(['ca', 'next-create', 'CN=Contoso CA 2'], {})).toEqual({
      method: 'POST',
      path: 'ca-certificates/next',
      body: { subject: 'CN=Contoso CA 2' },
    });
    expect(toCall(['ca', 'next-activate'], {})).toEqual({
      method: 'POST',
      path: 'ca-certificates/next/activate',
    });
    expect(toCall(['ca', 'list'], {})).toEqual({ method: 'GET', path: 'ca-certificates' });
    expect(toCall(['ca', 'next-create', 'CN=Contoso CA 2'], { parent: 'external' })).toEqual({
      method: 'POST',
      path: 'ca-certificates/next',
      body: { subject: 'CN=Contoso CA 2', parent: 'external' },
    });
    expect(toCall(['ca', 'next-install'], {})).toBeUndefined();
  });

  it.runIf(tools.available)(
    `ok/ca next-create --parent external, next-request and next-install make a next CA an openssl parent signed${tools.available ? '' : ` — skipped: ${tools.reason}`}`,
    async () => {
      const parent = startParentCa();
      const dir = mkdtempSync(join(tmpdir(), 'admin-next-'));
      try {
        const created = await run(
          'ca',
          'next-create',
          'CN=Admin CLI CA 2, O=tests',
          '--parent',
          'external',
          '--json',
        );
        expect(created.code, created.err).toBe(0);
        const { csr } = JSON.parse(created.out) as { csr: string };
        const request = await run('ca', 'next-request');
        expect(request.code).toBe(0);
        expect(`${request.out}\n`).toBe(csr);
        expect((await run('ca', 'list')).out).toContain('subject=CN=Admin CLI CA 2, O=tests  status=pending');
        writeFileSync(join(dir, 'wrong.pem'), parent.unrelatedPem);
        const wrong = await run('ca', 'next-install', join(dir, 'wrong.pem'));
        expect(wrong.code).toBe(1);
        expect(wrong.err).toMatch(/^error 400 BAD_REQUEST: none of the certificates is for the pending key/);
        // The signed certificate as DER and the root as PEM, as two files.
        writeFileSync(join(dir, 'next.cer'), new X509Certificate(parent.sign(csr, SUBORDINATE_CA)).raw);
        writeFileSync(join(dir, 'root.pem'), parent.pem);
        const installed = await run('ca', 'next-install', join(dir, 'next.cer'), join(dir, 'root.pem'));
        expect(installed.code, installed.err).toBe(0);
        expect(installed.out).toContain('status: next');
        expect((await run('ca', 'list')).out).toContain('subject=CN=Admin CLI CA 2, O=tests  status=next');
      } finally {
        parent.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('ok/revoke posts to the revocation route of the management API', () => {
    expect(toCall(['revoke', '0a1b'], { reason: 'keyCompromise' })).toEqual({
      method: 'POST',
      path: 'certificates/0a1b/revoke',
      body: { reason: 'keyCompromise' },
    });
  });
});
