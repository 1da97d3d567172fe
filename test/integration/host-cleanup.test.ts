import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHost } from '../../scripts/host.js';

/**
 * `npm start` leaves nothing behind: a start that fails after Azurite (the local queue service,
 * a child process) came up stops it again, and the port stays free.
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scep-cleanup-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Child processes of this test process (Linux `ps`). */
function children(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('azurite'));
  } catch {
    return []; // ps exits 1 when there is no such process
  }
}

describe('local host start and stop', () => {
  it('fail/bad settings after the queue service started: the start fails and no child process stays', async () => {
    expect(children()).toEqual([]);
    await expect(
      startLocalHost({
        port: 0,
        quiet: true,
        dataDir: join(dir, 'bad'),
        env: {
          AppConfig__StaticValidation__RequestPassword: 'test-challenge-1',
          AppConfig__IntuneValidation__Enabled: 'true',
          AppConfig__ValidityPeriodDays: 'not-a-number',
        },
      }),
    ).rejects.toThrow(/AppConfig__ValidityPeriodDays/);
    await expect.poll(() => children(), { timeout: 5000 }).toEqual([]);
  });

  it('fail/an HTTPS port already in use: the start fails with EADDRINUSE instead of crashing the process', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      await expect(
        startLocalHost({
          port: 0,
          quiet: true,
          dataDir: join(dir, 'https-busy'),
          httpsPort: (busy.address() as AddressInfo).port,
          env: { AppConfig__StaticValidation__RequestPassword: 'test-challenge-1' },
        }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      busy.close();
    }
  });
});
