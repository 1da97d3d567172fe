import { silentLogger } from '../../lib/log.js';
import { runCa, type CaCliDeps } from '../../scripts/ca.js';
import type { FakeKeyVault } from '../fakes/keyvault-server.js';

/**
 * Run `npm run ca -- …` against the Key Vault stand-in with files in memory (`files`, name →
 * content; written files land there too); returns the exit code and everything it printed.
 */
export async function runCaCli(
  vault: FakeKeyVault,
  env: Record<string, string>,
  argv: string[],
  files: Record<string, Uint8Array | string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const deps: CaCliDeps = {
    env,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    credential: vault.credential,
    clientOptions: vault.clientOptions,
    readFile: (p) => {
      const f = files[p];
      return f === undefined
        ? Promise.reject(new Error(`ENOENT ${p}`))
        : Promise.resolve(typeof f === 'string' ? Buffer.from(f) : f);
    },
    writeFile: (p, t) => {
      files[p] = t;
      return Promise.resolve();
    },
    now: new Date('2025-01-01T00:00:00Z'),
    log: silentLogger,
  };
  const code = await runCa(argv, deps);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
