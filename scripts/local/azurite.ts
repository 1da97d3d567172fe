import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Local Storage queues for the embedded default and the tests (Intune notifications):
 * Azurite's queue service as a child process, in memory, on 127.0.0.1 and a free port
 * (`--queuePort 0`; the port is read from its "listens on" line). Ready in about 0.3 s.
 * `--skipApiVersionCheck` is required: the queue SDK's API version is newer than Azurite's.
 */

/** The well-known development storage account key (public, documented by Microsoft). */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  readonly queueUrl: string;
  readonly connectionString: string;
  stop(): Promise<void>;
}

export async function startAzurite(timeoutMs = 15_000): Promise<Azurite> {
  const pkg = createRequire(import.meta.url).resolve('azurite/package.json');
  const main = join(dirname(pkg), 'dist', 'src', 'queue', 'main.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // The child ends with this process, however this process ends (even kill -9): its IPC
      // channel closes then, and the preload exits on 'disconnect'. The channel itself must not
      // keep the child alive after Azurite closes on SIGTERM.
      '--import',
      `data:text/javascript,${encodeURIComponent("process.on('disconnect',()=>process.exit(0));process.channel?.unref()")}`,
      main,
      '--inMemoryPersistence',
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      '0',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  // Nothing is sent over the channel; it must not keep this process alive.
  child.channel?.unref();
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`azurite did not start within ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /listens on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite exited with ${String(code)}: ${out}`));
    });
  });
  const queueUrl = `http://127.0.0.1:${port}/${DEV_ACCOUNT}`;
  return {
    queueUrl,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};QueueEndpoint=${queueUrl};`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => {
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
