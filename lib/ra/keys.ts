import { generateKeyPair, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { atomicWrite } from '../keys/local-ca.js';
import { LocalKey } from '../keys/local.js';
import type { Decrypter, Signer } from '../keys/types.js';

/** An RA key: signs CertReps and unwraps the content keys of requests encrypted to the RA. */
export type RaKey = Signer & Decrypter;

/**
 * Where RA keys live: a Key Vault key per endpoint (`ra-<endpoint>`, a new version per
 * renewal) in Azure, a key file per generation in `<data folder>/ra/` locally. A key is named
 * by a `ref` that the RA state document keeps; it is opened once per worker.
 */
export interface RaKeyStore {
  create(endpoint: string): Promise<{ readonly ref: string; readonly key: RaKey }>;
  open(ref: string): Promise<RaKey>;
}

const generateRsa = promisify(generateKeyPair);

/** Key files in `<dir>` (mode 0600), RSA-2048: the embedded default. */
export class LocalRaKeyStore implements RaKeyStore {
  constructor(private readonly dir: string) {}

  async create(endpoint: string): Promise<{ ref: string; key: RaKey }> {
    const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
    const file = `${endpoint}-${Date.now()}-${randomBytes(4).toString('hex')}.key`;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await atomicWrite(join(this.dir, file), pem, 0o600);
    const ref = `local:${file}`;
    return { ref, key: new LocalKey(privateKey, ref) };
  }

  async open(ref: string): Promise<RaKey> {
    const file = ref.replace(/^local:/, '');
    if (file.includes('/') || file.includes('\\') || file === ref)
      throw new Error(`not a local RA key: ${ref}`);
    return new LocalKey(createPrivateKey(await readFile(join(this.dir, file))), ref);
  }
}

/** Keys held in this process only (AppConfig__DataDir=memory). */
export class MemoryRaKeyStore implements RaKeyStore {
  private readonly keys = new Map<string, RaKey>();

  async create(endpoint: string): Promise<{ ref: string; key: RaKey }> {
    const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
    const ref = `memory:${endpoint}-${randomBytes(6).toString('hex')}`;
    const key = new LocalKey(privateKey, ref);
    this.keys.set(ref, key);
    return { ref, key };
  }

  open(ref: string): Promise<RaKey> {
    const key = this.keys.get(ref);
    return key ? Promise.resolve(key) : Promise.reject(new Error(`RA key ${ref} is not in this process`));
  }
}
