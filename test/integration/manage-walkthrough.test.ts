import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient } from '../helpers/manage.js';
import { docSection, shellBlocks } from '../helpers/docs.js';
import { requireTools } from '../helpers/tools.js';

/**
 * The "Many endpoints" worked example of docs/management.md, run as written with curl against the local host
 * (its URL put in place of 127.0.0.1:7071, its data folder as .data), then checked through the API.
 */
const haveCurl = requireTools('curl').available;

const example = shellBlocks(
  docSection('docs/management.md', '### Worked example: an organization, an endpoint'),
)[0];

describe.skipIf(!haveCurl)('docs walk-through: Many endpoints (curl against the management API)', () => {
  let host: TestHost;
  let dir: string;

  beforeAll(async () => {
    host = await startTestHost();
    dir = mkdtempSync(join(tmpdir(), 'manage-walkthrough-'));
    symlinkSync(host.dataDir, join(dir, '.data'));
  });
  afterAll(async () => {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ok/creates the organization, the delegated endpoint and an account whose challenge is shown once', async () => {
    if (example === undefined) throw new Error('docs/management.md: the worked example has no sh block');
    const script = example.replaceAll('http://127.0.0.1:7071', host.baseUrl);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      timeout: 20_000,
    });
    const answers = stdout.split(/(?<=})(?={)/).map((s) => JSON.parse(s) as Record<string, unknown>);
    expect(answers).toHaveLength(3);
    expect(answers[0]).toMatchObject({ id: 'contoso', departments: [{ id: 'retail' }] });
    expect(answers[1]).toMatchObject({
      name: 'kiosks',
      type: 'device-scep',
      delegatedTo: [{ organization: 'contoso', department: 'retail' }],
    });
    expect(answers[2]).toMatchObject({ name: 'kandji', challenge: expect.stringMatching(/^[0-9A-F]{48}$/) });
    const admin = manageClient(host.baseUrl, host.adminKey);
    const accounts = await admin('GET', 'endpoints/kiosks/accounts');
    expect(accounts.body.value?.map((a) => a.name)).toEqual(['kandji']);
    expect(JSON.stringify(accounts.body)).not.toContain(String(answers[2]?.challenge).slice(16));
    expect((await fetch(`${host.baseUrl}/scep/kiosks?operation=GetCACaps`)).status).toBe(200);
  });
});
