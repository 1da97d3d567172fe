import type { ChildProcess } from 'node:child_process';
import { type Agent, request } from 'node:http';

/** Helpers the benchmarks share: one time-boxed POST, and waiting for a child's start line. */

/** POST `body` with `contentType`; the reply bytes on HTTP 200, else a rejection. */
export function postBytes(
  agent: Agent,
  url: string,
  body: Uint8Array,
  contentType: string,
): Promise<Uint8Array> {
  return new Promise((resolvePost, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode === 200) resolvePost(new Uint8Array(Buffer.concat(chunks)));
          else reject(new Error(`HTTP ${res.statusCode}`));
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Resolves when the child prints a line matching `re` (within 30 s); then drains its output unread. */
export function waitForLine(child: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((resolveWait, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      reject(new Error('the local host did not start within 30 s'));
    }, 30_000);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (!re.test(buf)) return;
      clearTimeout(timer);
      // Keeping the host's log lines would cost the load generator CPU with every request.
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolveWait();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (c) => {
      reject(new Error(`the local host exited (${c})`));
    });
  });
}
