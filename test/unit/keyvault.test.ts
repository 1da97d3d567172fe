import { constants, createPublicKey, publicEncrypt, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManagedIdentityCredential } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { memoryLogger, silentLogger } from '../../lib/log.js';
import { KeyVaultCounter, KeyVaultError, type CallPolicy } from '../../lib/keys/keyvault-call.js';
import {
  KeyVaultDecrypter,
  KeyVaultKeyHandle,
  KeyVaultSigner,
  sdkClientOptions,
} from '../../lib/keys/keyvault.js';
import { keyVaultSecretReader } from '../../lib/keys/secrets.js';
import type { HashAlgorithm } from '../../lib/keys/types.js';
import { FakeKeyVault, startFakeKeyVault, type FakeKeyOptions } from '../fakes/keyvault-server.js';
import { snapshotProcessEnv } from '../helpers/process-env.js';

let vault: FakeKeyVault;
beforeAll(async () => {
  vault = await startFakeKeyVault();
});
afterAll(() => vault.close());
beforeEach(() => {
  vault.clearFaults();
  vault.resetCounts();
});

/** A clock that only moves when the code under test sleeps: retries are instant and deterministic. */
function testPolicy(over: Partial<CallPolicy> = {}): Partial<CallPolicy> & { waits: number[] } {
  const clock = { t: 0 };
  const waits: number[] = [];
  return {
    now: () => clock.t,
    sleep: (ms) => {
      waits.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
    counter: new KeyVaultCounter(),
    log: silentLogger,
    waits,
    ...over,
  };
}

let keySeq = 0;
/** Seed a key in the vault, fetch it ONCE through the real KeyClient, and open it. */
async function openKey(
  o: FakeKeyOptions = {},
  policy: Partial<CallPolicy> = testPolicy(),
): Promise<KeyVaultKeyHandle> {
  const name = `key-${++keySeq}`;
  vault.addKey(name, o);
  const client = new KeyClient(vault.url, vault.credential, sdkClientOptions(vault.clientOptions));
  const key = await client.getKey(name);
  return new KeyVaultKeyHandle(key, vault.credential, vault.clientOptions, policy);
}

function wrap(h: KeyVaultKeyHandle, cek: Uint8Array, padding: number, oaepHash?: string): Uint8Array {
  const key = createPublicKey({ key: Buffer.from(h.publicKeySpki), format: 'der', type: 'spki' });
  return new Uint8Array(publicEncrypt({ key, padding, ...(oaepHash ? { oaepHash } : {}) }, cek));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
  return 'resolved';
}

const data = new TextEncoder().encode('tbsCertificate bytes');

describe('KeyVaultSigner', () => {
  it.each<[HashAlgorithm, string]>([
    ['SHA-256', 'sha256'],
    ['SHA-384', 'sha384'],
    ['SHA-512', 'sha512'],
  ])(
    'ok/signs %s with an RSA key (RS*) and the signature verifies with the public key',
    async (hash, nodeHash) => {
      const signer = new KeyVaultSigner(await openKey());
      const sig = await signer.sign(data, hash);
      const pub = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
      expect(verify(nodeHash, data, pub, sig)).toBe(true);
      expect(signer.keyType).toBe('RSA');
      expect(vault.count('sign')).toBe(1);
    },
  );

  it.each<['P-256' | 'P-384', HashAlgorithm, string]>([
    ['P-256', 'SHA-256', 'sha256'],
    ['P-384', 'SHA-384', 'sha384'],
  ])(
    'ok/signs with an EC %s key (ES*) and returns a DER signature that verifies',
    async (crv, hash, nodeHash) => {
      const signer = new KeyVaultSigner(await openKey({ kty: 'EC', crv }));
      const sig = await signer.sign(data, hash);
      expect(sig[0]).toBe(0x30); // ECDSA-Sig-Value SEQUENCE, not raw r||s
      const pub = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
      expect(verify(nodeHash, data, { key: pub, dsaEncoding: 'der' }, sig)).toBe(true);
      expect(signer.keyType).toBe('EC');
      expect(signer.supportedHashes).toEqual([hash]);
    },
  );

  it('fail/refuses SHA-1 (Key Vault has no RS1) without calling Key Vault', async () => {
    const signer = new KeyVaultSigner(await openKey());
    expect(signer.supportedHashes).not.toContain('SHA-1');
    expect(await codeOf(signer.sign(data, 'SHA-1'))).toBe('INTERNAL');
    expect(vault.count('sign')).toBe(0);
  });

  it('fail/refuses a hash that does not match the EC curve', async () => {
    const signer = new KeyVaultSigner(await openKey({ kty: 'EC', crv: 'P-256' }));
    expect(await codeOf(signer.sign(data, 'SHA-384'))).toBe('INTERNAL');
  });

  it('fail/refuses at start a key whose key_ops lack sign', async () => {
    const h = await openKey({ keyOps: ['decrypt'] });
    expect(() => new KeyVaultSigner(h)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('ok/meets the bearer challenge once and asks for the vault scope; no key GET per operation', async () => {
    const signer = new KeyVaultSigner(await openKey());
    vault.resetCounts();
    await signer.sign(data, 'SHA-256');
    await signer.sign(data, 'SHA-256');
    expect(vault.challenges).toBe(1);
    expect(vault.tokenScopes).toContain('https://vault.azure.net/.default');
    expect(vault.counts()).toEqual({ sign: 2 });
    expect(signer.counter.snapshot()).toEqual({ sign: 2 });
  });
});

describe('KeyVaultDecrypter', () => {
  const cek = randomBytes(16);

  it('ok/unwraps a content key wrapped with RSA1_5 (Intune, Jamf)', async () => {
    const h = await openKey();
    const d = new KeyVaultDecrypter(h);
    expect(d.operation).toBe('decrypt');
    const out = await d.unwrapKey(wrap(h, cek, constants.RSA_PKCS1_PADDING), 'RSA1_5', 16);
    expect(Buffer.from(out)).toEqual(cek);
    expect(vault.count('decrypt')).toBe(1);
  });

  it.each([
    ['RSA-OAEP', 'sha1'],
    ['RSA-OAEP-256', 'sha256'],
  ] as const)('ok/unwraps a content key wrapped with %s', async (scheme, oaepHash) => {
    const h = await openKey();
    const out = await new KeyVaultDecrypter(h).unwrapKey(
      wrap(h, cek, constants.RSA_PKCS1_OAEP_PADDING, oaepHash),
      scheme,
      16,
    );
    expect(Buffer.from(out)).toEqual(cek);
  });

  it('ok/uses unwrapKey when the key allows unwrapKey but not decrypt', async () => {
    const h = await openKey({ keyOps: ['sign', 'unwrapKey'] });
    const d = new KeyVaultDecrypter(h);
    expect(d.operation).toBe('unwrapKey');
    expect(Buffer.from(await d.unwrapKey(wrap(h, cek, constants.RSA_PKCS1_PADDING), 'RSA1_5', 16))).toEqual(
      cek,
    );
    expect(vault.counts()).toMatchObject({ unwrapKey: 1 });
    expect(vault.count('decrypt')).toBe(0);
  });

  it('fail/refuses at start a key without decrypt or unwrapKey in key_ops', async () => {
    const h = await openKey({ keyOps: ['sign', 'verify'] });
    expect(() => new KeyVaultDecrypter(h)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('unwrapKey') }),
    );
  });

  it('fail/refuses an EC key: SCEP key transport needs RSA', async () => {
    const h = await openKey({ kty: 'EC', crv: 'P-256' });
    expect(() => new KeyVaultDecrypter(h)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('ok/bad RSA1_5 padding gives a substitute key of the expected length, the same for the same ciphertext, not an error (implicit rejection)', async () => {
    const h = await openKey();
    const d = new KeyVaultDecrypter(h);
    const garbage = randomBytes(256);
    garbage[0] = 0; // below the modulus, so only the padding is wrong
    garbage[1] = 0x17;
    const a = await d.unwrapKey(garbage, 'RSA1_5', 16);
    const b = await d.unwrapKey(garbage, 'RSA1_5', 16);
    expect(a).toHaveLength(16);
    expect(Buffer.from(a)).toEqual(Buffer.from(b));
    expect(vault.count('decrypt')).toBe(2); // Key Vault answered 400 both times
    const other = Buffer.from(garbage);
    other[255] = (other[255] ?? 0) ^ 1;
    expect(Buffer.from(await d.unwrapKey(other, 'RSA1_5', 16))).not.toEqual(Buffer.from(a));
    expect(await d.unwrapKey(randomBytes(100), 'RSA1_5', 16)).toHaveLength(16); // not the modulus length
  });

  it('ok/a validly padded key of the wrong length also gives random bytes', async () => {
    const h = await openKey();
    const out = await new KeyVaultDecrypter(h).unwrapKey(
      wrap(h, randomBytes(24), constants.RSA_PKCS1_PADDING),
      'RSA1_5',
      16,
    );
    expect(out).toHaveLength(16);
  });

  it('ok/bad OAEP gives random bytes too (one failure path for every scheme)', async () => {
    const h = await openKey();
    const out = await new KeyVaultDecrypter(h).unwrapKey(
      wrap(h, cek, constants.RSA_PKCS1_PADDING),
      'RSA-OAEP-256',
      16,
    );
    expect(out).toHaveLength(16);
    expect(Buffer.from(out)).not.toEqual(cek);
  });

  it('fail/a vault failure is DEPENDENCY_UNAVAILABLE, never random bytes (500, 429, disabled key, refused token)', async () => {
    const h = await openKey();
    const d = new KeyVaultDecrypter(h);
    const wrapped = wrap(h, cek, constants.RSA_PKCS1_PADDING);
    vault.fail('decrypt', { status: 500, times: Infinity });
    expect(await codeOf(d.unwrapKey(wrapped, 'RSA1_5', 16))).toBe('DEPENDENCY_UNAVAILABLE');
    vault.clearFaults();
    vault.fail('decrypt', { status: 429, retryAfter: '1', times: Infinity });
    expect(await codeOf(d.unwrapKey(wrapped, 'RSA1_5', 16))).toBe('DEPENDENCY_UNAVAILABLE');
    vault.clearFaults();
    const name = h.label.split('/')[1] ?? '';
    vault.disableKey(name);
    await expect(d.unwrapKey(wrapped, 'RSA1_5', 16)).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      status: 403,
    });
  });

  it('fail/a token the vault refuses is DEPENDENCY_UNAVAILABLE (401), not retried', async () => {
    const name = `key-${++keySeq}`;
    vault.addKey(name);
    const key = await new KeyClient(
      vault.url,
      vault.credential,
      sdkClientOptions(vault.clientOptions),
    ).getKey(name);
    const refused = {
      getToken: () => Promise.resolve({ token: 'expired', expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const d = new KeyVaultDecrypter(new KeyVaultKeyHandle(key, refused, vault.clientOptions, testPolicy()));
    await expect(d.unwrapKey(randomBytes(256), 'RSA1_5', 16)).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      status: 401,
    });
    expect(vault.count('decrypt')).toBe(0); // never got past authentication
  });
});

describe('faults: bounded retries and time boxes', () => {
  it('ok/429 is retried after the Retry-After the vault names, then succeeds', async () => {
    const policy = testPolicy();
    const signer = new KeyVaultSigner(await openKey({}, policy));
    vault.fail('sign', { status: 429, retryAfter: '2', times: 2 });
    const sig = await signer.sign(data, 'SHA-256');
    expect(sig.length).toBe(256);
    expect(policy.waits).toEqual([2000, 2000]);
    expect(vault.count('sign')).toBe(3);
    expect(signer.counter.get('throttled')).toBe(2);
  });

  it('fail/429 forever gives DEPENDENCY_UNAVAILABLE after 3 attempts', async () => {
    const policy = testPolicy();
    const signer = new KeyVaultSigner(await openKey({}, policy));
    vault.fail('sign', { status: 429, retryAfter: '1', times: Infinity });
    const err: unknown = await signer.sign(data, 'SHA-256').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyVaultError);
    expect(err).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', status: 429, vaultCode: 'Throttled' });
    expect(vault.count('sign')).toBe(3);
    expect(policy.waits).toEqual([1000, 1000]);
  });

  it('fail/a Retry-After beyond the time budget fails at once instead of holding the request', async () => {
    const policy = testPolicy({ totalTimeoutMs: 10_000 });
    const signer = new KeyVaultSigner(await openKey({}, policy));
    vault.fail('sign', { status: 429, retryAfter: '30', times: Infinity });
    expect(await codeOf(signer.sign(data, 'SHA-256'))).toBe('DEPENDENCY_UNAVAILABLE');
    expect(vault.count('sign')).toBe(1);
    expect(policy.waits).toEqual([]);
  });

  it('ok/a 500 is retried with backoff and the next answer is used', async () => {
    const policy = testPolicy();
    const signer = new KeyVaultSigner(await openKey({}, policy));
    vault.fail('sign', { status: 500 });
    await signer.sign(data, 'SHA-256');
    expect(vault.count('sign')).toBe(2);
    expect(policy.waits).toEqual([200]);
  });

  it('fail/500 every time gives DEPENDENCY_UNAVAILABLE after bounded retries', async () => {
    const policy = testPolicy();
    const signer = new KeyVaultSigner(await openKey({}, policy));
    vault.fail('sign', { status: 500, times: Infinity });
    await expect(signer.sign(data, 'SHA-256')).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      status: 500,
    });
    expect(vault.count('sign')).toBe(3);
    expect(policy.waits).toEqual([200, 400]);
  });

  it('fail/a managed identity endpoint that does not answer is abandoned within the time box too (the SDK does not abort it)', async () => {
    // App Service's managed identity endpoint, taking requests and never answering.
    const identity = createServer(() => undefined);
    await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));
    const restore = snapshotProcessEnv();
    process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(identity.address() as AddressInfo).port}/msi/token`;
    process.env.IDENTITY_HEADER = 'app-service-header';
    try {
      const name = `key-${++keySeq}`;
      vault.addKey(name);
      const client = new KeyClient(vault.url, vault.credential, sdkClientOptions(vault.clientOptions));
      const policy = testPolicy({ attemptTimeoutMs: 300 });
      const h = new KeyVaultKeyHandle(
        await client.getKey(name),
        new ManagedIdentityCredential(),
        vault.clientOptions,
        policy,
      );
      const started = performance.now();
      const err: unknown = await Promise.race([
        new KeyVaultSigner(h).sign(data, 'SHA-256').catch((e: unknown) => e),
        new Promise((resolve) => {
          setTimeout(() => {
            resolve('still waiting');
          }, 10_000);
        }),
      ]);
      expect(err).toMatchObject({
        code: 'DEPENDENCY_UNAVAILABLE',
        message: expect.stringContaining('in time'),
      });
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      restore();
      identity.closeAllConnections();
      identity.close();
    }
  }, 20_000);

  it('fail/a vault that does not answer is abandoned after each attempt time box', async () => {
    const policy = testPolicy({ attemptTimeoutMs: 500 });
    const signer = new KeyVaultSigner(await openKey({}, policy));
    await signer.sign(data, 'SHA-256'); // challenge done, so only the slow answers are timed below
    vault.fail('sign', { delayMs: 10_000, times: Infinity });
    const started = performance.now();
    const err: unknown = await signer.sign(data, 'SHA-256').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      status: undefined,
      message: expect.stringContaining('in time'),
    });
    expect(performance.now() - started).toBeLessThan(5_000); // 3 × 500 ms, not 3 × 10 s
    expect(vault.count('sign')).toBe(4);
  });

  it('ok/logs name vault, key and operation, and never key material', async () => {
    const log = memoryLogger();
    const h = await openKey({}, testPolicy({ log }));
    const wrapped = wrap(h, Buffer.from('0123456789abcdef'), constants.RSA_PKCS1_PADDING);
    vault.fail('decrypt', { status: 500, times: Infinity });
    await new KeyVaultDecrypter(h).unwrapKey(wrapped, 'RSA1_5', 16).catch(() => undefined);
    expect(log.entries.at(-1)).toMatchObject({
      level: 'error',
      fields: { vault: vault.url, object: h.label, operation: 'decrypt', status: 500, attempt: 3 },
    });
    const text = JSON.stringify(log.entries);
    expect(text).not.toContain(Buffer.from(wrapped).toString('base64url'));
    expect(text).not.toContain('0123456789abcdef');
  });
});

/**
 * The secrets of stored Intune connections, read through the real SecretClient: a vault that
 * hangs or throttles is met with the same time boxes and bounded retries as every other vault
 * call, so a token request (and the enrollment waiting on it) cannot hang.
 */
const reader = () =>
  keyVaultSecretReader(() => Promise.resolve(vault.credential), {
    attemptTimeoutMs: 300,
    totalTimeoutMs: 2_000,
    backoffMs: 10,
    log: silentLogger,
    counter: new KeyVaultCounter(),
  });

describe('Key Vault secret reader', () => {
  it('ok/reads the secret a stored connection names', async () => {
    const uri = vault.setSecret('intune-ok', 'the-client-secret');
    expect(await reader()(uri)).toBe('the-client-secret');
  });

  it('fail/a vault that does not answer is abandoned within the time box, as DEPENDENCY_UNAVAILABLE', async () => {
    const uri = vault.setSecret('intune-hang', 'the-client-secret');
    const read = reader();
    await read(uri); // bearer challenge met: only the slow answers are timed below
    vault.fail('getSecret', { delayMs: 20_000, times: Infinity });
    const started = performance.now();
    const err: unknown = await read(uri).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
      message: expect.stringContaining('in time'),
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('ok/a throttled read (429 + Retry-After) is retried, then the secret is used', async () => {
    const uri = vault.setSecret('intune-429', 'the-client-secret');
    vault.fail('getSecret', { status: 429, retryAfter: '0' });
    expect(await reader()(uri)).toBe('the-client-secret');
    expect(vault.count('getSecret')).toBe(2);
  });
});
