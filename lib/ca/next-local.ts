import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { parseCsr } from '../csr/parse.js';
import { LocalKey } from '../keys/local.js';
import { atomicWrite, createLocalCa, readIfExists, readLocalCa } from '../keys/local-ca.js';
import { createCaCsr } from './csr-builder.js';
import type {
  NextCaCertificate,
  NextCaInstalled,
  NextCaRequest,
  NextCaStore,
  PendingNextCa,
} from './next.js';
import { pemBlock, pemDer } from '../x509/pem.js';
import { chooseSubordinate } from './subordinate.js';

/**
 * The embedded default: the next CA's key and certificate in `<data folder>/ca/next/`
 * (`ca.key.pem` 0600, `ca.pem`, and for a subordinate of an external parent `request.pem`
 * while it waits and `chain.pem` once installed). `ca.pem` is written last: until it exists the
 * next CA is not offered.
 */
export class LocalNextCaStore implements NextCaStore {
  readonly location: string;
  private readonly dir: string;

  constructor(
    caDir: string,
    private readonly keySize: number,
  ) {
    this.dir = join(caDir, 'next');
    this.location = `local:${this.dir}`;
  }

  async read(): Promise<NextCaCertificate | undefined> {
    const ca = await readLocalCa(this.dir);
    return ca && { certificateDer: ca.certificateDer, chainDer: ca.chainDer };
  }

  async createRoot(r: NextCaRequest): Promise<NextCaCertificate> {
    const ca = await createLocalCa(this.dir, {
      subject: r.subject,
      keySize: this.keySize,
      validityDays: r.validityDays,
      now: r.now,
    });
    return { certificateDer: ca.certificateDer, chainDer: ca.chainDer };
  }

  async pending(): Promise<PendingNextCa | undefined> {
    if ((await this.file('ca.pem')) !== undefined) return undefined;
    const pem = await this.file('request.pem');
    return pem === undefined ? undefined : { subject: subjectOf(pem) };
  }

  async createRequest(r: { readonly subject: string }): Promise<Uint8Array> {
    if ((await this.file('ca.key.pem')) !== undefined)
      throw new AppError('CONFLICT', 'a next CA key already exists');
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: this.keySize });
    const keyPath = join(this.dir, 'ca.key.pem');
    const csr = await createCaCsr({
      signer: new LocalKey(privateKey, `local:${keyPath}`),
      subject: r.subject,
    });
    await atomicWrite(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
    await atomicWrite(join(this.dir, 'request.pem'), pemBlock('CERTIFICATE REQUEST', csr), 0o644);
    return csr;
  }

  async request(): Promise<Uint8Array> {
    const text = (await this.pending()) && (await this.file('request.pem'));
    if (text === undefined) throw new AppError('NOT_FOUND', 'no next CA request is pending');
    return pemDer(text);
  }

  async install(certs: readonly Uint8Array[], now: Date): Promise<NextCaInstalled> {
    const key = (await this.pending()) && (await this.file('ca.key.pem'));
    if (key === undefined)
      throw new AppError('CONFLICT', 'no next CA request is pending: create one with "parent": "external"');
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    const sub = chooseSubordinate(certs, spki, now);
    const certPem = (d: Uint8Array): string => new X509Certificate(d).toString();
    await atomicWrite(join(this.dir, 'chain.pem'), sub.chainDer.map(certPem).join(''), 0o644);
    await atomicWrite(join(this.dir, 'ca.pem'), certPem(sub.certificateDer), 0o644);
    return { ...sub, importedChainDer: sub.chainDer };
  }

  private file(name: string): Promise<string | undefined> {
    return readIfExists(join(this.dir, name));
  }
}

function subjectOf(text: string): string {
  // The subject as the request was made: re-read from the PKCS#10 rather than kept twice.
  return parseCsr(pemDer(text)).subjectString;
}
