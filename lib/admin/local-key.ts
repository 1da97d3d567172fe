import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The local administrator key: a random secret in `<data folder>/admin-key.txt`, created on
 * first start, sent as `Authorization: Bearer <key>` to the management API. It stands in for
 * Entra ID app roles where there is no tenant (a local run, tests, the admin CLI on the host).
 */
export const ADMIN_KEY_FILE = 'admin-key.txt';

export async function loadOrCreateLocalAdminKey(dataDir: string): Promise<string> {
  const file = join(dataDir, ADMIN_KEY_FILE);
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length >= 16) return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = randomBytes(32).toString('base64url');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * True when `authorization` is `Bearer <key>`. Compared in constant time over SHA-256 digests,
 * so neither the key's content nor its length leaks through timing.
 */
export function isLocalAdmin(authorization: string | null | undefined, key: string | undefined): boolean {
  if (!key || !authorization) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m?.[1]) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(m[1]), digest(key));
}
