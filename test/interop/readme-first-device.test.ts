/**
 * The README's "Enroll your first device in 5 minutes", run as written: its shell blocks, with
 * the local host's address in place of 127.0.0.1:7071 and the host's data folder as `.data`
 * (static challenge and admin key generated there, as `npm start` does), with micromdm
 * scepclient enrolling and curl finding the certificate and its explanation.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalHost, type LocalHost } from '../../scripts/host.js';
import { docSection, shellBlocks } from '../helpers/docs.js';
import { checkScepclient } from './helpers/clients.js';
import { describeWithClient } from './helpers/suite.js';

const [enroll, find] = shellBlocks(docSection('README.md', '## Enroll your first device in 5 minutes'));

describeWithClient(
  'README: enroll your first device (scepclient + curl, as written)',
  checkScepclient(),
  () => {
    let host: LocalHost | undefined;
    let root: string;
    let dir: string;

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'readme-first-device-'));
      host = await startLocalHost({ port: 0, dataDir: join(root, 'data'), store: 'sqlite', quiet: true });
      dir = join(root, 'work');
      mkdirSync(dir);
      symlinkSync(join(root, 'data'), join(dir, '.data'));
    }, 60_000);
    afterAll(async () => {
      await host?.close();
      rmSync(root, { recursive: true, force: true });
    });

    const run = async (block: string | undefined): Promise<string> => {
      if (block === undefined || host === undefined)
        throw new Error('README.md: a first-device block is missing');
      const script = block.replaceAll('http://127.0.0.1:7071', host.baseUrl);
      const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: dir,
        timeout: 40_000,
      });
      return stdout;
    };

    it('ok/step 2 enrolls dev-1 with the generated static challenge; step 3 finds it and explains it', async () => {
      expect(enroll).toContain('scepclient');
      const issued = await run(enroll);
      expect(issued).toMatch(/^subject=.*CN ?= ?dev-1$/m);
      expect(issued).toMatch(/^issuer=CN ?= ?azure-scep-ca Local Root CA/m);

      const [search, explain] = (await run(find))
        .split(/(?<=})\n?(?={)/)
        .map((s) => JSON.parse(s) as unknown);
      const serial = /^serial=([0-9A-F]+)$/m.exec(issued)?.[1]?.toLowerCase();
      expect(search).toMatchObject({ value: [{ serialNumber: serial }] });
      expect(explain).toMatchObject({
        attempts: [{ endpoint: 'static', outcome: 'issued', serialNumber: serial }],
      });
    });
  },
);
