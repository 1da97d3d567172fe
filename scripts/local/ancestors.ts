import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Who started the local host, so that it can stop when they are gone. `npm start` runs it as
 * npm → `sh -c` → node: a SIGKILL of npm (never forwarded) leaves the shell waiting on the host,
 * so the host's own parent does not change; npm's process, its grandparent, does disappear.
 */

/** The parent of process `pid`: /proc on Linux, `ps` on macOS and the BSDs; undefined on Windows. */
export function parentOf(pid: number): number | undefined {
  try {
    if (process.platform === 'win32') return undefined;
    if (process.platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which may itself hold spaces and parentheses: state, ppid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
    }
    const out = execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const ppid = Number(out);
    return out !== '' && Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` exists (signal 0 probes without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `gone` once the parent has changed (this process was re-parented) or the grandparent no
 * longer exists; checks every `everyMs`, without keeping the process alive.
 */
export function watchAncestors(gone: () => void, everyMs = 500): void {
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const watched = grandparent !== undefined && grandparent > 1 ? grandparent : undefined;
  const timer = setInterval(() => {
    if (process.ppid !== parent || (watched !== undefined && !alive(watched))) {
      clearInterval(timer);
      gone();
    }
  }, everyMs);
  timer.unref();
}
