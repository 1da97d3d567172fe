import { generateKeyPairSync, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createRootCertificate } from '../ca/root.js';
import { parseChain } from '../x509/pem.js';
import { LocalKey } from './local.js';
import type { CaKeys } from './types.js';

export interface LocalCaOptions {
  readonly dataDir: string;
  readonly subject: string;
  readonly keySize: number;
  readonly validityDays: number;
}

/**
 * The embedded default's CA: an RSA key and a self-signed root in `<dataDir>/ca/`, created on
 * first start and reused afterwards. The folder is git-ignored; the key file is mode 0600.
 */
export async function loadOrCreateLocalCa(o: LocalCaOptions): Promise<CaKeys & { created: boolean }> {
  const dir = join(o.dataDir, 'ca');
  const existing = await readLocalCa(dir);
  if (existing) return { ...existing, created: false };
  return { ...(await createLocalCa(dir, o)), created: true };
}

/**
 * The CA key and certificate in `dir` (`ca.key.pem`, `ca.pem`, and `chain.pem` above a CA
 * signed by an external parent), or undefined when absent.
 */
export async function readLocalCa(dir: string): Promise<CaKeys | undefined> {
  const keyPath = join(dir, 'ca.key.pem');
  const existing = await readBoth(keyPath, join(dir, 'ca.pem'));
  if (!existing) return undefined;
  const key = new LocalKey(createPrivateKey(existing.key), `local:${keyPath}`);
  const cert = new X509Certificate(existing.cert);
  const chain = (await readIfExists(join(dir, 'chain.pem'))) ?? '';
  const chainDer = parseChain(chain, cert.raw);
  return { certificateDer: new Uint8Array(cert.raw), chainDer, signer: key, decrypter: key };
}

/** A new RSA key and self-signed root in `dir`. */
export async function createLocalCa(
  dir: string,
  o: Omit<LocalCaOptions, 'dataDir'> & { readonly now?: Date },
): Promise<CaKeys> {
  const keyPath = join(dir, 'ca.key.pem');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: o.keySize });
  const key = new LocalKey(privateKey, `local:${keyPath}`);
  const der = await createRootCertificate({
    signer: key,
    subject: o.subject,
    days: o.validityDays,
    ...(o.now ? { now: o.now } : {}),
  });
  const pem = new X509Certificate(der).toString();
  await atomicWrite(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  await atomicWrite(join(dir, 'ca.pem'), pem, 0o644);
  return { certificateDer: der, chainDer: [], signer: key, decrypter: key };
}

async function readBoth(
  keyPath: string,
  certPath: string,
): Promise<{ key: string; cert: string } | undefined> {
  const key = await readIfExists(keyPath);
  const cert = key === undefined ? undefined : await readIfExists(certPath);
  return key === undefined || cert === undefined ? undefined : { key, cert };
}

/** A text file's content, or undefined when there is no such file. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function atomicWrite(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}
