import 'reflect-metadata';
import {
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  privateEncrypt,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { createCaCsr } from '../../lib/ca/csr-builder.js';
import { LocalKey } from '../../lib/keys/local.js';
import { signPrehashed } from './ecdsa-prehashed.js';

/**
 * The objects of the fake Key Vault (test/fakes/keyvault-server.ts) and what Key Vault does with
 * them: key bundles, sign / decrypt / unwrapkey with key_ops and enabled checks, and certificate
 * objects (create with issuer Unknown → pending with a CSR, merge, get), in the JSON shapes of
 * api-version 2025-07-01. Errors are HttpError with Key Vault's status and error code.
 */
export interface FakeKeyOptions {
  readonly kty?: 'RSA' | 'RSA-HSM' | 'EC' | 'EC-HSM';
  readonly size?: number;
  readonly crv?: 'P-256' | 'P-384';
  readonly keyOps?: readonly string[];
  readonly managed?: boolean;
}

interface StoredKey {
  readonly name: string;
  readonly version: string;
  readonly kty: string;
  readonly keyOps: string[];
  readonly privateKey: KeyObject;
  readonly managed: boolean;
  enabled: boolean;
  readonly created: number;
}

interface StoredCert {
  readonly name: string;
  readonly version: string;
  readonly policy: Record<string, unknown>;
  readonly tags: Record<string, string> | undefined;
  readonly created: number;
  pendingCsr: Buffer | undefined;
  cer: Buffer | undefined;
  chain: Buffer[];
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ALL_KEY_OPS = ['sign', 'verify', 'encrypt', 'decrypt', 'wrapKey', 'unwrapKey'];
// RFC 8017 §9.2 note 1: DER DigestInfo prefixes, and the digest length each algorithm takes.
const RSA_ALG: Record<string, { prefix: string; len: number }> = {
  RS256: { prefix: '3031300d060960864801650304020105000420', len: 32 },
  RS384: { prefix: '3041300d060960864801650304020205000430', len: 48 },
  RS512: { prefix: '3051300d060960864801650304020305000440', len: 64 },
};
const EC_ALG: Record<string, { crv: string; len: number }> = {
  ES256: { crv: 'P-256', len: 32 },
  ES384: { crv: 'P-384', len: 48 },
};

const str = (v: unknown, fallback: string): string => (typeof v === 'string' ? v : fallback);

export class VaultModel {
  private readonly keys = new Map<string, StoredKey[]>();
  private readonly certs = new Map<string, StoredCert[]>();
  private readonly now = Math.floor(Date.UTC(2025, 0, 1) / 1000);

  constructor(private readonly url: string) {}

  addKey(name: string, o: FakeKeyOptions = {}): string {
    const kty = o.kty ?? 'RSA';
    const privateKey = kty.startsWith('EC')
      ? generateKeyPairSync('ec', { namedCurve: o.crv ?? 'P-256' }).privateKey
      : generateKeyPairSync('rsa', { modulusLength: o.size ?? 2048 }).privateKey;
    const key: StoredKey = {
      name,
      version: randomBytes(16).toString('hex'),
      kty,
      keyOps: [...(o.keyOps ?? ALL_KEY_OPS)],
      privateKey,
      managed: o.managed ?? false,
      enabled: true,
      created: this.now,
    };
    this.keys.set(name, [...(this.keys.get(name) ?? []), key]);
    return this.kid(key);
  }

  /** Disable the latest version of a key (Key Vault then refuses crypto operations with 403). */
  disableKey(name: string): void {
    const k = this.keys.get(name)?.at(-1);
    if (k) k.enabled = false;
  }

  // ---- keys ---------------------------------------------------------------------------------

  kid(k: StoredKey): string {
    return `${this.url}/keys/${k.name}/${k.version}`;
  }

  key(name: string, version: string | undefined): StoredKey {
    const versions = this.keys.get(name) ?? [];
    const k =
      version === undefined || version === '' ? versions.at(-1) : versions.find((v) => v.version === version);
    if (k === undefined)
      throw new HttpError(
        404,
        'KeyNotFound',
        `A key with (name/id) ${name}/${version ?? ''} was not found in this key vault.`,
      );
    return k;
  }

  keyBundle(k: StoredKey): unknown {
    const jwk = k.privateKey.export({ format: 'jwk' });
    const pub = k.kty.startsWith('EC') ? { crv: jwk.crv, x: jwk.x, y: jwk.y } : { n: jwk.n, e: jwk.e };
    return {
      key: { kid: this.kid(k), kty: k.kty, key_ops: k.keyOps, ...pub },
      attributes: {
        enabled: k.enabled,
        created: k.created,
        updated: k.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
        exportable: false,
      },
      ...(k.managed ? { managed: true } : {}),
    };
  }

  createKey(name: string, j: Record<string, unknown>): unknown {
    const kty = str(j.kty, 'RSA') as FakeKeyOptions['kty'];
    const keyOps = Array.isArray(j.key_ops) ? j.key_ops.map(String) : undefined;
    this.addKey(name, {
      kty,
      size: Number(j.key_size ?? 2048),
      crv: j.crv === 'P-384' ? 'P-384' : 'P-256',
      ...(keyOps ? { keyOps } : {}),
    });
    return this.keyBundle(this.key(name, undefined));
  }

  private allow(k: StoredKey, op: string): void {
    if (!k.enabled)
      throw new HttpError(403, 'Forbidden', `Operation ${op} is not allowed on a disabled key.`);
    if (!k.keyOps.includes(op))
      throw new HttpError(403, 'Forbidden', `Operation ${op} is not permitted on this key.`);
  }

  sign(k: StoredKey, j: Record<string, unknown>): unknown {
    this.allow(k, 'sign');
    const alg = String(j.alg);
    const digest = Buffer.from(String(j.value), 'base64url');
    let sig: Buffer;
    const rsa = RSA_ALG[alg];
    const ec = EC_ALG[alg];
    if (rsa !== undefined && !k.kty.startsWith('EC')) {
      if (digest.length !== rsa.len)
        throw new HttpError(400, 'BadParameter', 'Invalid digest length for the algorithm.');
      const digestInfo = Buffer.concat([Buffer.from(rsa.prefix, 'hex'), digest]);
      sig = privateEncrypt({ key: k.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
    } else if (
      ec !== undefined &&
      k.privateKey.asymmetricKeyDetails?.namedCurve === (ec.crv === 'P-256' ? 'prime256v1' : 'secp384r1')
    ) {
      if (digest.length !== ec.len)
        throw new HttpError(400, 'BadParameter', 'Invalid digest length for the algorithm.');
      sig = signPrehashed(k.privateKey, digest);
    } else {
      throw new HttpError(400, 'BadParameter', `Algorithm ${alg} is not valid for this key.`);
    }
    return { kid: this.kid(k), value: sig.toString('base64url') };
  }

  decrypt(k: StoredKey, op: 'decrypt' | 'unwrapKey', j: Record<string, unknown>): unknown {
    this.allow(k, op);
    const alg = String(j.alg);
    const ct = Buffer.from(String(j.value), 'base64url');
    const size = (k.privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    if (k.kty.startsWith('EC') || ct.length !== size)
      throw new HttpError(400, 'BadParameter', 'Invalid ciphertext.');
    let plain: Buffer;
    if (alg === 'RSA1_5') {
      let em: Buffer;
      try {
        em = privateDecrypt({ key: k.privateKey, padding: constants.RSA_NO_PADDING }, ct);
      } catch {
        throw new HttpError(400, 'BadParameter', 'Invalid ciphertext.'); // value >= modulus
      }
      const sep = em.indexOf(0, 2);
      if (em[0] !== 0 || em[1] !== 2 || sep < 10) {
        throw new HttpError(400, 'BadParameter', 'Error occurred while decoding PKCS1 padding.');
      }
      plain = em.subarray(sep + 1);
    } else if (alg === 'RSA-OAEP' || alg === 'RSA-OAEP-256') {
      try {
        plain = privateDecrypt(
          {
            key: k.privateKey,
            padding: constants.RSA_PKCS1_OAEP_PADDING,
            oaepHash: alg === 'RSA-OAEP' ? 'sha1' : 'sha256',
          },
          ct,
        );
      } catch {
        // What Key Vault answers (azure-sdk-for-net#18947): 400 BadParameter.
        throw new HttpError(400, 'BadParameter', 'Error occurred while decoding OAEP padding.');
      }
    } else {
      throw new HttpError(400, 'BadParameter', `Algorithm ${alg} is not valid for ${op}.`);
    }
    return { kid: this.kid(k), value: plain.toString('base64url') };
  }

  // ---- certificates -------------------------------------------------------------------------

  cert(name: string, version: string | undefined): StoredCert {
    const versions = this.certs.get(name) ?? [];
    const c = version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    if (c === undefined)
      throw new HttpError(
        404,
        'CertificateNotFound',
        `A certificate with (name/id) ${name} was not found in this key vault.`,
      );
    return c;
  }

  pending(name: string): StoredCert {
    const c = this.certs.get(name)?.at(-1);
    if (c?.pendingCsr === undefined)
      throw new HttpError(404, 'PendingCertificateNotFound', `Pending certificate not found: ${name}`);
    return c;
  }

  async createCert(name: string, j: Record<string, unknown>): Promise<unknown> {
    if (this.certs.get(name)?.at(-1)?.pendingCsr !== undefined) {
      throw new HttpError(409, 'Conflict', `Certificate ${name} is currently being created.`);
    }
    const policy = (j.policy ?? {}) as Record<string, Record<string, unknown> | undefined>;
    const keyProps = policy.key_props ?? {};
    const x509 = policy.x509_props ?? {};
    const issuer = str(policy.issuer?.name, '');
    if (issuer !== 'Unknown')
      throw new HttpError(400, 'BadParameter', 'This test vault only supports issuer "Unknown".');
    if (keyProps.exportable !== false)
      throw new HttpError(400, 'BadParameter', 'This test vault expects exportable: false.');
    // Certificate keys get key_ops from the policy's X.509 key usage.
    const usage = Array.isArray(x509.key_usage) ? x509.key_usage.map(String) : [];
    const keyOps = [
      ...(usage.some((u) => ['digitalSignature', 'keyCertSign', 'cRLSign', 'nonRepudiation'].includes(u))
        ? ['sign', 'verify']
        : []),
      ...(usage.includes('keyEncipherment') ? ['wrapKey', 'unwrapKey'] : []),
      ...(usage.includes('dataEncipherment') ? ['encrypt', 'decrypt'] : []),
    ];
    const kty = str(keyProps.kty, 'RSA') as FakeKeyOptions['kty'];
    this.addKey(name, { kty, size: Number(keyProps.key_size ?? 2048), keyOps, managed: true });
    const key = this.key(name, undefined);
    const tags = (j.tags ?? undefined) as Record<string, string> | undefined;
    const c: StoredCert = {
      name,
      version: key.version,
      policy: { ...policy },
      tags,
      created: this.now,
      pendingCsr: undefined,
      cer: undefined,
      chain: [],
    };
    this.certs.set(name, [...(this.certs.get(name) ?? []), c]);
    // Key Vault's own CSR for the pending key (the bootstrap builds its own; this one is for show).
    const csr = await createCaCsr({
      signer: new LocalKey(key.privateKey, this.kid(key)),
      subject: str(x509.subject, 'CN=pending'),
    });
    c.pendingCsr = Buffer.from(csr);
    return this.operation(c);
  }

  operation(c: StoredCert): unknown {
    return {
      id: `${this.url}/certificates/${c.name}/pending`,
      issuer: { name: 'Unknown' },
      csr: c.pendingCsr?.toString('base64'),
      cancellation_requested: false,
      status: 'inProgress',
      status_details: 'Pending certificate created. Please Perform Merge to complete the request.',
      request_id: c.version,
    };
  }

  merge(name: string, j: Record<string, unknown>): unknown {
    const c = this.pending(name);
    const x5c = (Array.isArray(j.x5c) ? j.x5c : []).map((s) => Buffer.from(String(s), 'base64'));
    const leaf = x5c[0];
    if (leaf === undefined) throw new HttpError(400, 'BadParameter', 'x5c is required.');
    const spki = new X509Certificate(leaf).publicKey.export({ format: 'der', type: 'spki' });
    const keySpki = createPublicKey(this.key(name, c.version).privateKey).export({
      format: 'der',
      type: 'spki',
    });
    if (!spki.equals(keySpki))
      throw new HttpError(
        400,
        'BadParameter',
        "Public key from x509 certificate and key of this instance doesn't match",
      );
    c.cer = leaf;
    c.chain = x5c.slice(1);
    c.pendingCsr = undefined;
    return this.certBundle(c);
  }

  certBundle(c: StoredCert): unknown {
    const ready = c.cer !== undefined;
    const x = ready && c.cer ? new X509Certificate(c.cer) : undefined;
    return {
      id: `${this.url}/certificates/${c.name}/${c.version}`,
      kid: `${this.url}/keys/${c.name}/${c.version}`,
      sid: `${this.url}/secrets/${c.name}/${c.version}`,
      ...(c.cer
        ? { cer: c.cer.toString('base64'), x5t: createHash('sha1').update(c.cer).digest('base64url') }
        : {}),
      attributes: {
        enabled: ready,
        ...(x ? { nbf: Date.parse(x.validFrom) / 1000, exp: Date.parse(x.validTo) / 1000 } : {}),
        created: c.created,
        updated: c.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      policy: { id: `${this.url}/certificates/${c.name}/policy`, ...c.policy },
      ...(c.tags ? { tags: c.tags } : {}),
    };
  }
}
