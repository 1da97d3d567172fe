import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alive, parentOf } from '../../scripts/local/ancestors.js';

/**
 * `npm start` leaves nothing behind when npm itself is killed with SIGKILL: npm cannot pass that
 * on, and the `sh -c` it runs the script with stays, waiting on the host.
 */

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'npm-kill-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Processes of a process group as [pid, args] (`ps` on Linux and macOS). */
function group(pgid: number): [number, string][] {
  return execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[2]) === pgid)
    .map((m) => [Number(m[1]), m[3] ?? '']);
}

// Windows has no process groups to SIGKILL and no `ps`: the only reason this file may skip, and
// never silently in CI, which runs on Linux.
const windows = process.platform === 'win32';
if (windows && process.env.CI === 'true')
  throw new Error('host-npm-kill needs Linux or macOS; CI=true runs it');

describe.skipIf(windows)(
  `npm start killed${windows ? ' (skipped: no SIGKILL of a process tree on Windows)' : ''}`,
  () => {
    it('the parent of a process is read from the system', () => {
      expect(parentOf(process.pid)).toBe(process.ppid);
    });

    it('npm killed with SIGKILL: the host stops within seconds and its port closes', async () => {
      const npm = spawn('npm', ['start'], {
        cwd: root,
        env: { ...process.env, PORT: '0', LOCAL_STORE: 'memory', AppConfig__DataDir: join(dir, 'data') },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const pgid = npm.pid!;
      try {
        let out = '';
        npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
        npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
        await expect
          .poll(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], { timeout: 120_000 })
          .toBeTruthy();
        const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
        const host = group(pgid).find(
          ([pid, args]) => pid !== pgid && /node\b.*scripts\/start\.mjs/.test(args),
        );
        expect(host, group(pgid).join('\n')).toBeDefined();
        expect((await fetch(`${url}/probe`)).status).toBe(200);
        process.kill(pgid, 'SIGKILL');
        await expect.poll(() => alive(host![0]), { timeout: 10_000 }).toBe(false);
        await expect(fetch(`${url}/probe`)).rejects.toThrow();
      } finally {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // Already gone: what the test wants.
        }
      }
    });
  },
);
