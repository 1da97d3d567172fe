import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/log.js';
import { KeyVaultCounter } from '../../lib/keys/keyvault-call.js';
import { keyVaultSecretReader } from '../../lib/keys/secrets.js';
import { FakeKeyVault, startFakeKeyVault } from '../fakes/keyvault-server.js';

/**
 * The secrets of stored Intune connections, read through the real SecretClient from the fake
 * vault: a Key Vault that hangs or throttles is met with the same time boxes and bounded retries
 * as every other vault call, so a token request (and the enrollment waiting on it) cannot hang.
 */

let vault: FakeKeyVault;
beforeAll(async () => {
  vault = await startFakeKeyVault();
});
afterAll(() => vault.close());
beforeEach(() => {
  vault.clearFaults();
  vault.resetCounts();
});

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
