import type { HttpResponseInit } from '@azure/functions';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConsoleAssets } from '../../lib/console/assets.js';
import { consoleConfig, consoleCsp } from '../../lib/console/config.js';
import { loadSettings } from '../../lib/config/index.js';
import { renderStatusPage } from '../../lib/status/html.js';
import { statusModel, type StatusSources } from '../../lib/status/model.js';
import { compileRoute } from '../../scripts/local/routes.js';
import { makeCert, rsaKey } from '../helpers/pki.js';

describe('status page', () => {
  let der: Uint8Array;
  beforeAll(async () => {
    const c = await makeCert({ key: rsaKey(2048, 'status'), subject: 'CN=Status <Test> CA, O=Test' });
    der = new Uint8Array(Buffer.from(c.x509.raw));
  });
  const sources = (o: Partial<StatusSources> = {}): StatusSources => ({
    baseUrl: 'https://ca.example/',
    caDer: der,
    chainDer: [],
    endpoints: () =>
      Promise.resolve([
        { name: 'static', displayName: 'Static', type: 'device-scep' },
        { name: 'kiosks', displayName: 'Kiosks <retail>', type: 'client-scep' },
      ]),
    checks: () => Promise.resolve({ settings: 'ok', caCertificate: 'ok', store: 'ok' }),
    raCertificates: () => Promise.resolve([]),
    revocation: true,
    intuneEnabled: false,
    ...o,
  });

  it('ok/shows both fingerprints, every enabled endpoint URL, CRL and OCSP, escaped', async () => {
    const html = renderStatusPage(await statusModel(sources()));
    const x = new (await import('node:crypto')).X509Certificate(der);
    expect(html).toContain(x.fingerprint256);
    expect(html).toContain(x.fingerprint);
    expect(html).toContain('https://ca.example/scep/static');
    expect(html).toContain('https://ca.example/scep/kiosks');
    expect(html).toContain('https://ca.example/crl');
    expect(html).toContain('https://ca.example/ocsp');
    expect(html).toContain('Kiosks &#60;retail&#62;');
    expect(html).not.toContain('<retail>');
    expect(html).toContain('&#60;Test');
    expect(html).not.toContain('<Test>');
    for (const mdm of ['Microsoft Intune', 'Kandji', 'Addigy', 'Jamf Pro']) expect(html).toContain(mdm);
  });

  it('ok/RA-mode endpoints list their RA certificates with a PEM download link', async () => {
    const m = await statusModel(
      sources({
        endpoints: () =>
          Promise.resolve([
            { name: 'static', displayName: 'Static', type: 'device-scep', ra: false },
            { name: 'kiosks', displayName: 'Kiosks', type: 'client-scep', ra: true },
          ]),
        raCertificates: (eps) =>
          Promise.resolve(
            eps
              .filter((e) => e.ra === true)
              .map((e) => ({
                endpoint: e.name,
                subject: 'CN=RA kiosks',
                notAfter: '2027-12-01T00:00:00.000Z',
                sha256: 'AB'.repeat(32),
              })),
          ),
      }),
    );
    const html = renderStatusPage(m);
    expect(html).toContain('RA certificates');
    expect(html).toContain('href="https://ca.example/ra/kiosks.pem"');
    expect(html).not.toContain('ra/static.pem');
  });

  it('ok/no RA section when no endpoint is in RA mode', async () => {
    expect(renderStatusPage(await statusModel(sources()))).not.toContain('RA certificates');
  });

  it('fail/a failing store shows the word "unavailable", never the error text', async () => {
    const m = await statusModel(
      sources({
        checks: () =>
          Promise.resolve({ settings: 'ok', caCertificate: 'ok', store: 'ECONNREFUSED 10.0.0.4:443' }),
      }),
    );
    expect(m.health).toEqual({
      settings: 'ok',
      'CA key': 'ok',
      store: 'unavailable',
      Intune: 'not configured',
    });
    expect(renderStatusPage(m)).not.toContain('ECONNREFUSED');
  });

  it('fail/endpoints that cannot be listed leave the page up, with the store unavailable', async () => {
    const m = await statusModel(sources({ endpoints: () => Promise.reject(new Error('store down')) }));
    expect(m.endpoints).toEqual([]);
    expect(m.health.store).toBe('unavailable');
  });
});

describe('site root route', () => {
  it('ok/{root:maxlength(0)?} with routePrefix "" matches only /', () => {
    const r = compileRoute('', '{root:maxlength(0)?}');
    expect(r.match('/')).toEqual({});
    expect(r.match('/admin')).toBeUndefined();
    expect(r.match('/scep/static')).toBeUndefined();
  });
});

const bodyText = (r: HttpResponseInit): string =>
  r.body instanceof Uint8Array
    ? Buffer.from(r.body).toString('utf8')
    : typeof r.body === 'string'
      ? r.body
      : '';

describe('console assets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'console-assets-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(join(tmpdir(), 'console-secret.txt'), 'secret');
  });
  const assets = () => new ConsoleAssets(dir, "default-src 'self'");

  it('ok/hashed files are cached for a year, index.html is revalidated and carries the CSP', async () => {
    const js = await assets().serve('assets/index-abc.js');
    expect(js.headers).toMatchObject({ 'cache-control': 'public, max-age=31536000, immutable' });
    expect(String((js.headers as Record<string, string>)['content-type'])).toMatch(/^text\/javascript/);
    const html = await assets().serve(undefined);
    expect(html.headers).toMatchObject({
      'cache-control': 'no-cache',
      'content-security-policy': "default-src 'self'",
    });
  });

  it('ok/a client-side route answers index.html', async () => {
    const r = await assets().serve('certificates');
    expect(bodyText(r)).toContain('<title>console</title>');
  });

  it('fail/a missing hashed file is 404, and no path leaves the folder', async () => {
    expect((await assets().serve('assets/missing.js')).status).toBe(404);
    for (const p of ['../console-secret.txt', '..%2fconsole-secret.txt', 'assets/../../console-secret.txt']) {
      expect(bodyText(await assets().serve(p))).not.toContain('secret');
    }
  });

  it('ok/locate finds the built folder, not the source one', () => {
    expect(ConsoleAssets.locate([join(dir, 'nope'), dir])).toBe(dir);
  });
});

const BASE = { AppConfig__StaticValidation__Enabled: 'false' };

describe('console sign-in config', () => {
  it('ok/without an app registration the console asks for the local admin key', () => {
    expect(consoleConfig(loadSettings(BASE).console)).toEqual({ signIn: 'key' });
    expect(consoleCsp(loadSettings(BASE).console)).toContain("frame-src 'none'");
  });

  it('ok/with AppConfig__Console__ClientId the console signs in with Entra ID', () => {
    const s = loadSettings({
      ...BASE,
      AppConfig__Console__ClientId: '11111111-2222-3333-4444-555555555555',
      AppConfig__Console__TenantId: 'contoso.onmicrosoft.com',
    }).console;
    expect(consoleConfig(s)).toEqual({
      signIn: 'entra',
      clientId: '11111111-2222-3333-4444-555555555555',
      authority: 'https://login.microsoftonline.com/contoso.onmicrosoft.com',
      scopes: ['api://11111111-2222-3333-4444-555555555555/.default'],
    });
    expect(consoleCsp(s)).toContain("connect-src 'self' https://login.microsoftonline.com");
  });

  it('fail/a client id without any tenant is a settings error', () => {
    expect(() => loadSettings({ ...BASE, AppConfig__Console__ClientId: 'x' })).toThrow(
      /AppConfig__Console__TenantId/,
    );
  });
});
