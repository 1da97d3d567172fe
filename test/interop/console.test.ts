/**
 * The admin console and the status page in a real browser (Debian's chromium through
 * playwright-core) against the local host that `npm start` runs, with a real SCEP client
 * (micromdm scepclient) enrolling through an account created in the console.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkChromium, launch, type Browser } from '../browser/chromium.js';
import { npmStart, type NpmStart } from '../browser/npm-start.js';
import { checkScepclient, runClient } from './helpers/clients.js';
import { describeWithClient } from './helpers/suite.js';

const both = (a: { available: boolean; reason: string }, b: { available: boolean; reason: string }) =>
  a.available && b.available
    ? a
    : { available: false, reason: [a.reason, b.reason].filter(Boolean).join('; ') };

describeWithClient('admin console in chromium', both(checkChromium(), checkScepclient()), () => {
  let host: NpmStart & { caCertificatePem: string };
  let b: Browser;
  let root: string;
  const closers: (() => Promise<void>)[] = [];
  let challenge = '';
  let serial = '';
  const cn = `kiosk-${Date.now().toString(36)}`;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'scep-console-'));
    closers.push(() => rm(root, { recursive: true, force: true }));
    // `npm start` itself (it builds the console into dist/web when web/ changed).
    const started = await npmStart(join(root, 'data'));
    closers.push(() => started.stop());
    const caCertificatePem = await (await fetch(`${started.baseUrl}/ca.pem`)).text();
    host = Object.assign(started, { caCertificatePem });
    b = await launch(root);
    closers.push(() => b.close());
  }, 240_000);
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
  });

  const scepclient = async (dir: string, secret: string) =>
    runClient(
      'scepclient',
      // prettier-ignore
      ['-server-url', `${host.baseUrl}/scep/kiosks`, '-private-key', join(dir, 'key.pem'), '-certificate', join(dir, 'cert.pem'),
       '-cn', cn, '-organization', 'console test', '-keySize', '2048', '-challenge', secret],
      { cwd: dir, timeoutMs: 30_000, secrets: [secret] },
    );

  it('shows the status page without JavaScript: SHA-256 fingerprint, SCEP URL, downloads, health', async () => {
    const sha256 = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], {
      input: host.caCertificatePem,
    })
      .toString()
      .split('=')[1]
      ?.trim();
    // Scripts off (Chrome DevTools Protocol): the page must say it all without JavaScript.
    const noJs = await b.context.newPage();
    const cdp = await b.context.newCDPSession(noJs);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
    await noJs.goto(`${host.baseUrl}/`);
    const text = await noJs.locator('main').innerText();
    expect(text).toContain(sha256);
    expect(text).toContain(`${host.baseUrl}/scep/static`);
    expect(text).toMatch(/store\s+ok/);
    expect(await noJs.locator('button.copy').first().isVisible()).toBe(false);
    await noJs.close();
    await b.page.goto(`${host.baseUrl}/`);
    await expect.poll(() => b.page.locator('button.copy').first().isVisible()).toBe(true);
    await b.shot('status');
    await b.page.setViewportSize({ width: 390, height: 844 });
    await b.shot('status-phone');
    await b.page.setViewportSize({ width: 1280, height: 800 });
    const der = await (await fetch(`${host.baseUrl}/ca.cer`)).arrayBuffer();
    expect(Buffer.from(der).toString('base64')).toBe(
      host.caCertificatePem.replace(/-----[^-]+-----|\s/g, ''),
    );
  });

  it('signs in with the local admin key and creates an organization, an endpoint and an account', async () => {
    const p = b.page;
    await p.goto(`${host.baseUrl}/admin`);
    await p.getByLabel('Admin key').fill('wrong-key');
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('alert').filter({ hasText: 'Sign-in failed' }).waitFor();
    await p.getByLabel('Admin key').fill(host.adminKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Certificates', level: 1 }).waitFor();

    await p.getByRole('link', { name: 'Organizations', exact: true }).click();
    await p.getByLabel('Organization id').fill('contoso');
    await p.getByLabel('Display name').fill('Contoso');
    await p.getByLabel('Departments').fill('retail');
    await p.getByRole('button', { name: 'Add organization' }).click();
    await p.getByRole('cell', { name: 'Contoso', exact: true }).waitFor();
    await b.shot('organizations');

    await p.getByRole('link', { name: 'SCEP endpoints' }).click();
    await p.getByRole('button', { name: 'Add endpoint' }).click();
    await p.getByLabel('Name', { exact: true }).fill('kiosks');
    await p.getByLabel('Type').selectOption('device-scep');
    await p.getByLabel('Display name').fill('Retail kiosks');
    await p.getByLabel('Delegated to').fill('contoso/retail');
    await p.getByRole('button', { name: 'Add endpoint' }).last().click();
    await p.getByRole('link', { name: 'Retail kiosks' }).click();
    await p.getByLabel('Account name').fill('kandji');
    await p.getByLabel('Organization/department').fill('contoso/retail');
    await p.getByRole('button', { name: 'Create account' }).click();
    challenge = (await p.getByTestId('secret').innerText()).trim();
    expect(challenge.length).toBeGreaterThan(10);
    await p.getByRole('cell', { name: 'kandji', exact: true }).waitFor();
    await b.shot('endpoints', { fullPage: true });
    await p.setViewportSize({ width: 390, height: 844 });
    await b.shot('endpoints-phone');
    await p.setViewportSize({ width: 1280, height: 800 });
  });

  it('enrolls micromdm scepclient with the account challenge and finds the certificate', async () => {
    const dir = await mkdtemp(join(root, 'mm-'));
    const run = await scepclient(dir, challenge);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const pem = await readFile(join(dir, 'cert.pem'), 'utf8');
    const printed = execFileSync('openssl', ['x509', '-noout', '-serial'], { input: pem }).toString();
    serial = (printed.split('=')[1] ?? '').trim().toLowerCase().replace(/^0+/, '');
    const p = b.page;
    await p.getByRole('link', { name: 'Certificates', exact: true }).click();
    await p.getByLabel('Subject, SAN, serial or thumbprint').fill(cn);
    await p.getByRole('button', { name: 'Search' }).click();
    await p.getByRole('link', { name: new RegExp(cn) }).waitFor();
    await b.shot('certificates');
    // The serial filter alone finds it too (pasted with colons, as openssl prints it).
    await p.getByLabel('Subject, SAN, serial or thumbprint').fill('');
    await p.getByLabel('Serial (hex)').fill(serial.replace(/(..)(?=.)/g, '$1:'));
    await p.getByRole('button', { name: 'Search' }).click();
    await p.getByRole('link', { name: new RegExp(cn) }).click();
    await p.getByText('Authorized by').waitFor();
    const facts = await p.locator('dl.facts').first().innerText();
    expect(facts.toLowerCase()).toContain(serial);
    expect(facts).toContain('kiosks');
    // The decoded certificate: what openssl sees in the same certificate.
    const decoded = await p.locator('section[aria-labelledby="decoded"]').innerText();
    expect(decoded).toMatch(/Public key\s+RSA 2048 bits/);
    expect(decoded).toMatch(/Key usage.*\n?.*digitalSignature/);
    const [der] = await Promise.all([
      p.waitForEvent('download'),
      p.getByRole('link', { name: 'Download DER (.cer)' }).click(),
    ]);
    expect((await readFile(await der.path())).toString('base64')).toBe(
      pem.replace(/-----[^-]+-----|\s/g, ''),
    );
    await b.shot('certificate', { fullPage: true });
  });

  it('puts the certificate on hold, then revokes it for good, and OCSP answers revoked', async () => {
    const p = b.page;
    p.once('dialog', (d) => void d.accept());
    await p.getByLabel('Reason').selectOption('certificateHold');
    await p.getByRole('button', { name: 'Revoke certificate' }).click();
    await p.getByRole('heading', { name: 'Revoke for good' }).waitFor();
    expect(await p.locator('dd.st-revoked').innerText()).toContain('certificateHold');
    // On hold, only a permanent reason is offered.
    expect(await p.getByLabel('Reason').locator('option').allInnerTexts()).not.toContain('certificateHold');
    p.once('dialog', (d) => void d.accept());
    await p.getByLabel('Reason').selectOption('keyCompromise');
    await p.getByRole('button', { name: 'Revoke certificate' }).click();
    await expect.poll(() => p.locator('dd.st-revoked').innerText()).toContain('keyCompromise');
    expect(await p.getByRole('button', { name: 'Release hold' }).count()).toBe(0);
    const dir = await mkdtemp(join(root, 'ocsp-'));
    await writeFile(join(dir, 'ca.pem'), host.caCertificatePem);
    const certs = (await (
      await fetch(`${host.baseUrl}/api/manage/certificates/${serial}`, {
        headers: { authorization: `Bearer ${host.adminKey}` },
      })
    ).json()) as { certificate: string };
    await writeFile(join(dir, 'cert.pem'), certs.certificate);
    // Asynchronous: the host answers in this process, so a blocking child would deadlock.
    // prettier-ignore
    const ocsp = await runClient('openssl', ['ocsp', '-issuer', join(dir, 'ca.pem'), '-cert', join(dir, 'cert.pem'),
      '-url', `${host.baseUrl}/ocsp`, '-CAfile', join(dir, 'ca.pem'), '-no_nonce'], { cwd: dir, timeoutMs: 30_000 });
    expect(ocsp.stdout + ocsp.stderr).toMatch(/: revoked/);
    expect(ocsp.stdout + ocsp.stderr).toMatch(/Reason: keyCompromise/i);
  });

  it('explains a refused enrollment and downloads the audit CSV', async () => {
    const dir = await mkdtemp(join(root, 'mm-wrong-'));
    const run = await scepclient(dir, 'not-the-challenge');
    expect(run.code).not.toBe(0);
    const p = b.page;
    await p.getByRole('link', { name: 'Audit', exact: true }).click();
    await p.getByLabel('endpoint').fill('kiosks');
    await p.getByLabel('outcome').selectOption('refused');
    await p.getByRole('button', { name: 'Filter' }).click();
    await p.getByRole('cell', { name: 'refused' }).first().waitFor();
    await p.locator('td[data-label="Transaction"] a').first().click();
    await p.getByRole('heading', { name: /Explanation for/ }).waitFor();
    await p.locator('ol.timeline li').first().waitFor();
    expect(await p.locator('ol.timeline').innerText()).toMatch(/refused/);
    await b.shot('audit', { fullPage: true });
    const [download] = await Promise.all([
      p.waitForEvent('download'),
      p.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = await readFile(await download.path(), 'utf8');
    expect(csv.split('\n')[0]).toMatch(/time/);
    expect(csv).toContain('kiosks');
  });

  it('labels every form control on every page, and the keyboard reaches the content first', async () => {
    const p = b.page;
    for (const page of ['certificates', 'endpoints?name=kiosks', 'audit', 'organizations']) {
      await p.goto(`${host.baseUrl}/admin#/${page}`);
      await p.locator('main h1').waitFor();
      await p.locator('main input, main select').first().waitFor();
      // In the page (a string: the tests compile without the DOM library).
      const unlabelled = await p.evaluate(
        "[...document.querySelectorAll('input, select, textarea')].filter((e) => e.labels.length === 0 && !e.getAttribute('aria-label')).map((e) => e.outerHTML)",
      );
      expect(unlabelled, page).toEqual([]);
    }
    await p.reload();
    await p.locator('main h1').waitFor();
    // A page opened takes the focus to its content; the first focusable element is the skip link.
    expect(await p.locator(':focus').getAttribute('id')).toBe('main');
    await p.keyboard.press('Tab');
    expect(await p.evaluate('document.activeElement.tagName')).toMatch(/^(INPUT|SELECT|BUTTON|A)$/);
    await p.focus('a.skip');
    expect(await p.evaluate("document.querySelector('a[href], button, input, select').textContent")).toBe(
      'Skip to content',
    );
    await p.keyboard.press('Enter');
    expect(await p.locator(':focus').getAttribute('id')).toBe('main');
  });
});
