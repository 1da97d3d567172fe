/**
 * The admin console's state after actions, in chromium against `npm start`: what one endpoint's
 * panel or form showed does not follow the user to the next endpoint, a failed download says
 * why, and a certificate on hold is revoked for good with the reason shown. Answers the console
 * must react to (a refusal, a held certificate) are served by the test through page.route.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Route } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkChromium, launch, type Browser } from '../browser/chromium.js';
import { npmStart, type NpmStart } from '../browser/npm-start.js';
import { describeWithClient } from './helpers/suite.js';

describeWithClient('admin console actions in chromium', checkChromium(), () => {
  let host: NpmStart;
  let b: Browser;
  let root: string;

  const create = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const r = await fetch(`${host.baseUrl}/api/manage/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(r.status, path).toBe(201);
    return (await r.json()) as Record<string, unknown>;
  };
  const open = async (hash: string): Promise<void> => {
    await b.page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'scep-console-actions-'));
    host = await npmStart(join(root, 'data'));
    b = await launch(root);
    await create('organizations', { id: 'contoso', displayName: 'Contoso' });
    for (const name of ['alpha', 'beta']) {
      const delegatedTo = [{ organization: 'contoso' }];
      await create('endpoints', {
        name,
        type: 'device-scep',
        displayName: name.toUpperCase(),
        delegatedTo,
      });
    }
    const p = b.page;
    await p.goto(`${host.baseUrl}/admin`);
    await p.getByLabel('Admin key').fill(host.adminKey);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { name: 'Certificates', level: 1 }).waitFor();
  }, 240_000);
  afterAll(async () => {
    await b.close();
    await host.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('shows an account challenge with its endpoint only, not on the next endpoint opened', async () => {
    const p = b.page;
    await open('#/endpoints?name=alpha');
    await p.locator('#ep-detail', { hasText: 'ALPHA' }).waitFor();
    await p.getByLabel('Account name').fill('mdm-alpha');
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.getByTestId('secret').waitFor();
    await open('#/endpoints?name=beta');
    await p.locator('#ep-detail', { hasText: 'BETA' }).waitFor();
    await p.getByText('No account: create one').waitFor();
    expect(await p.getByTestId('secret').count()).toBe(0);
  });

  it('opens another endpoint’s form with its own values, not the failed edit of the last one', async () => {
    const p = b.page;
    await open('#/endpoints');
    await p.getByRole('row', { name: /ALPHA/ }).getByRole('button', { name: 'Edit / delegate' }).click();
    await p.getByLabel('Delegated to').fill('nowhere');
    await p.getByRole('button', { name: 'Save' }).click();
    await p.getByRole('alert').filter({ hasText: 'no organization "nowhere"' }).waitFor();
    await p.getByRole('row', { name: /BETA/ }).getByRole('button', { name: 'Edit / delegate' }).click();
    const form = p.getByRole('form', { name: 'Edit beta' });
    await form.waitFor();
    expect(await form.getByLabel('Delegated to').inputValue()).toBe('contoso');
    expect(await form.getByRole('alert').count()).toBe(0);
  });

  it('says why a download failed', async () => {
    const p = b.page;
    const refuse = (route: Route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/problem+json',
        body: JSON.stringify({ status: 403, code: 'FORBIDDEN', detail: 'exports are switched off here' }),
      });
    await p.route(
      (u) => u.pathname === '/api/manage/audit' && u.searchParams.get('format') === 'csv',
      refuse,
    );
    await open('#/audit?endpoint=alpha');
    await p.getByRole('button', { name: 'Download CSV' }).click();
    await p.getByRole('alert').filter({ hasText: 'exports are switched off here' }).waitFor();
    await open('#/endpoints');
    await p.getByRole('button', { name: 'CSV', exact: true }).first().click();
    await p.getByRole('alert').filter({ hasText: 'exports are switched off here' }).waitFor();
    await p.unrouteAll();
  });

  it('revokes a held certificate for good with the reason it shows, not the hold again', async () => {
    const p = b.page;
    const subject = 'CN=<img src=x onerror="document.title=1">';
    const cert = {
      serialNumber: '0a1b2c',
      subject,
      sans: [],
      issuer: 'CN=test CA',
      notBefore: '2026-01-01T00:00:00Z',
      notAfter: '2027-01-01T00:00:00Z',
      thumbprintSha1: 'AA',
      thumbprintSha256: 'BB',
      endpoint: 'alpha',
      authorization: 'account',
      createdAt: '2026-01-01T00:00:00Z',
      status: 'issued',
    };
    let record: Record<string, unknown> = cert;
    const reasons: unknown[] = [];
    await p.route('**/api/manage/certificates/0a1b2c', (route) => route.fulfill({ json: record }));
    await p.route('**/api/manage/certificates/0a1b2c/revoke', (route) => {
      const { reason } = route.request().postDataJSON() as { reason: string };
      reasons.push(reason);
      record = { ...cert, status: 'revoked', revocation: { reason, date: '2026-06-01T00:00:00Z' } };
      return route.fulfill({ json: record });
    });
    await open('#/certificates?show=0a1b2c');
    await p.getByRole('heading', { name: subject }).waitFor();
    expect(await p.locator('main img').count()).toBe(0);
    await p.getByLabel('Reason').selectOption('certificateHold');
    p.once('dialog', (d) => void d.accept());
    await p.getByRole('button', { name: 'Revoke certificate' }).click();
    await p.getByRole('heading', { name: 'Revoke for good' }).waitFor();
    expect(await p.getByLabel('Reason').inputValue()).toBe('keyCompromise');
    let asked = '';
    p.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await p.getByRole('button', { name: 'Revoke certificate' }).click();
    await expect.poll(() => reasons).toEqual(['certificateHold', 'keyCompromise']);
    expect(asked).toContain('(keyCompromise)');
    await p.unrouteAll();
  });

  it('keeps a failed action’s error with its row when a row above it is deleted', async () => {
    const p = b.page;
    const ids = new Map<string, string>();
    for (const name of ['b1', 'b2', 'b3']) {
      ids.set(name, String((await create('endpoints/beta/accounts', { name })).id));
    }
    await open('#/endpoints?name=beta');
    const table = p.getByRole('table', { name: 'Accounts' });
    const rows = table.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    const [first = '', second = ''] = await table.locator('td[data-label="Name"]').allInnerTexts();
    await p.route(`**/api/manage/endpoints/beta/accounts/${ids.get(second) ?? ''}`, (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({
            status: 412,
            contentType: 'application/problem+json',
            body: JSON.stringify({ status: 412, code: 'PRECONDITION_FAILED', detail: 'changed meanwhile' }),
          })
        : route.fallback(),
    );
    await rows.nth(1).getByRole('button', { name: 'Disable' }).click();
    await rows.nth(1).getByRole('alert').filter({ hasText: 'changed meanwhile' }).waitFor();
    p.once('dialog', (d) => void d.accept());
    await rows.nth(0).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => table.locator('td[data-label="Name"]').allInnerTexts()).not.toContain(first);
    const withError = rows.filter({ has: p.getByRole('alert') });
    expect(await withError.locator('td[data-label="Name"]').allInnerTexts()).toEqual([second]);
    await p.unrouteAll();
  });

  it('shows a validation problem once', async () => {
    const p = b.page;
    await open('#/endpoints?name=alpha');
    await p.locator('#ep-detail', { hasText: 'ALPHA' }).waitFor();
    await p.getByLabel('Account name').fill('typo');
    await p.getByLabel('Organization/department').fill('contoso/retial');
    await p.getByRole('button', { name: 'Create account' }).click();
    const alert = p.getByRole('alert').filter({ hasText: 'retial' });
    await alert.waitFor();
    expect(await alert.innerText()).toBe(
      'the account is invalid: department: "contoso" has no department "retial"',
    );
  });

  it('shows a failed scope save under its form, and clears it when a save succeeds', async () => {
    const p = b.page;
    await open('#/organizations');
    const form = p.getByRole('form', { name: "Set an administrator's scope" });
    await form.getByLabel('Entra object id').fill('not-a-guid');
    await form.getByLabel('Scopes').fill('contoso');
    await form.getByRole('button', { name: 'Save scope' }).click();
    const refused = p.getByRole('alert').filter({ hasText: 'principalId' });
    await refused.waitFor();
    // Under the administrators' form, not under the organizations.
    expect(await form.locator('xpath=following-sibling::*[1]').innerText()).toContain('principalId');
    await form.getByLabel('Entra object id').fill('0a0a0a0a-0000-4000-8000-00000000000a');
    await form.getByRole('button', { name: 'Save scope' }).click();
    await p.getByRole('cell', { name: '0a0a0a0a-0000-4000-8000-00000000000a' }).waitFor();
    expect(await refused.count()).toBe(0);
  });

  it('shows the latest search, not an earlier one that answered later', async () => {
    const p = b.page;
    const row = (subject: string) => ({
      serialNumber: subject === 'CN=slow' ? '01' : '02',
      subject,
      endpoint: 'alpha',
      status: 'issued',
      notAfter: '2027-01-01T00:00:00Z',
    });
    await p.route('**/api/manage/certificates?*', async (route) => {
      const subject = new URL(route.request().url()).searchParams.get('subject');
      if (subject === 'slow') await new Promise((r) => setTimeout(r, 1500));
      await route.fulfill({ json: { value: [row(`CN=${subject ?? ''}`)], continuationToken: null } });
    });
    await open('#/certificates?subject=slow');
    await open('#/certificates?subject=fast');
    await p.getByRole('link', { name: 'CN=fast' }).waitFor();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await p.locator('td[data-label="Subject"]').allInnerTexts()).toEqual(['CN=fast']);
    await p.unrouteAll();
  });
});
