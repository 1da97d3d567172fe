/**
 * `npm start` as a user runs it, in a child process: on a free port (PORT=0), with its own data
 * directory and an in-memory store, read back from the banner it prints (URL and admin key).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface NpmStart {
  readonly baseUrl: string;
  readonly adminKey: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export async function npmStart(
  dataDir: string,
  env: Record<string, string> = {},
  timeoutMs = 180_000,
): Promise<NpmStart> {
  const child: ChildProcess = spawn('npm', ['start'], {
    env: { ...process.env, PORT: '0', LOCAL_STORE: 'memory', AppConfig__DataDir: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const pid = child.pid;
    const state = { exited: false };
    const exit = new Promise<void>((resolve) => {
      child.once('exit', () => {
        state.exited = true;
        resolve();
      });
    });
    process.kill(-pid, 'SIGTERM');
    await Promise.race([exit, new Promise((r) => setTimeout(r, 10_000))]);
    if (!state.exited) process.kill(-pid, 'SIGKILL');
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    const key = /Admin key:\s+(\S+)/.exec(out)?.[1];
    if (url && key) return { baseUrl: url, adminKey: key, output: () => out, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not come up:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
