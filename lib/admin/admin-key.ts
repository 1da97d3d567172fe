import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The local admin key: 256 random bits kept in `<data folder>/admin-key.txt` (mode 0600),
 * created on first start. `Authorization: Bearer <key>` is CA.Admin on a local start only; the
 * composition root never loads it in Azure.
 */
export const ADMIN_KEY_FILE = 'admin-key.txt';

export async function loadOrCreateAdminKey(dataDir: string): Promise<string> {
  const file = join(dataDir, ADMIN_KEY_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // absent: create it below
  }
  const key = randomBytes(32).toString('base64url');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** Constant-time comparison of a presented secret with the expected one (lengths hidden too). */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
