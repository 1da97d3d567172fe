import { execFileSync } from 'node:child_process';

/** Whether a command-line tool runs (`openssl version`, `<tool> --version` otherwise). */
export function toolRuns(tool: string): boolean {
  try {
    execFileSync(tool, [tool === 'openssl' ? 'version' : '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The tools a test file needs: locally a missing one lets the file skip its block (with the
 * reason in the title); with CI=true it fails the file, because CI installs them and a silent
 * skip would hide a broken setup.
 */
export function requireTools(...tools: string[]): { available: boolean; reason: string } {
  const missing = tools.filter((t) => !toolRuns(t));
  const reason = missing.length === 0 ? '' : `${missing.join(' and ')} not on PATH`;
  if (missing.length > 0 && process.env.CI === 'true') throw new Error(`${reason}; CI=true requires them`);
  return { available: missing.length === 0, reason };
}
