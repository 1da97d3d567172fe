import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalHost } from '../../scripts/host.js';

const dataDir = mkdtempSync(join(tmpdir(), 'scep-ca-challenge-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const start = () =>
  startLocalHost({
    port: 0,
    dataDir,
    quiet: true,
    env: { AppConfig__StaticValidation__RequestPassword: '' },
  });

describe('npm start without a configured static challenge', () => {
  it('ok/generates a 32-character challenge once, keeps it in the data folder and reuses it', async () => {
    const first = await start();
    const challenge = first.staticChallenge;
    await first.close();
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(readFileSync(join(dataDir, 'static-challenge.txt'), 'utf8').trim()).toBe(challenge);
    const second = await start();
    expect(second.staticChallenge).toBe(challenge);
    await second.close();
  });
});
