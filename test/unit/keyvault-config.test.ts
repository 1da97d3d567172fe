import { ManagedIdentityCredential, DefaultAzureCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { keyVaultSection } from '../../lib/config/keyvault.js';
import { createAzureCredential } from '../../lib/keys/credential.js';
import { vaultClientOptionsFor } from '../../lib/keys/keyvault.js';

const KV = 'AppConfig__KeyVaultConfig__';
const ROOT = `${KV}RootCertificateConfig__`;

describe('Key Vault settings', () => {
  it('ok/defaults: no vault (local CA key), SCEPman defaults for a new CA', () => {
    const r = keyVaultSection({});
    expect(r).toEqual({
      ok: true,
      value: {
        url: undefined,
        certificateName: 'scep-ca',
        subject: 'CN=azure-scep-ca Root CA, O=azure-scep-ca',
        keySize: 4096,
        keyType: 'RSA-HSM',
        daysExpiresIn: 3650,
        chainPem: undefined,
        nextChainPem: undefined,
        managedIdentityClientId: undefined,
      },
    });
  });

  it('ok/reads SCEPman-named settings and AZURE_CLIENT_ID', () => {
    const r = keyVaultSection({
      [`${KV}KeyVaultURL`]: 'https://contoso-scep.vault.azure.net/',
      [`${ROOT}CertificateName`]: 'contoso-ca',
      [`${ROOT}Subject`]: 'CN=Contoso SCEP CA, O=Contoso',
      [`${ROOT}KeySize`]: '3072',
      [`${ROOT}KeyType`]: 'rsa',
      [`${ROOT}DaysExpiresIn`]: '7300',
      AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    });
    expect(r.ok && r.value).toMatchObject({
      url: 'https://contoso-scep.vault.azure.net/',
      certificateName: 'contoso-ca',
      subject: 'CN=Contoso SCEP CA, O=Contoso',
      keySize: 3072,
      keyType: 'RSA',
      daysExpiresIn: 7300,
      managedIdentityClientId: '11111111-2222-3333-4444-555555555555',
    });
  });

  it('fail/lists every bad setting at once, by name', () => {
    const r = keyVaultSection({
      [`${KV}KeyVaultURL`]: 'http://contoso.vault.azure.net',
      [`${ROOT}CertificateName`]: 'scep ca!',
      [`${ROOT}KeySize`]: '1024',
      [`${ROOT}KeyType`]: 'EC',
      [`${ROOT}DaysExpiresIn`]: '0',
      AZURE_CLIENT_ID: 'not-a-guid',
    });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    for (const name of [
      'KeyVaultURL',
      'CertificateName',
      'KeySize',
      'KeyType',
      'DaysExpiresIn',
      'AZURE_CLIENT_ID',
    ]) {
      expect(problems.some((p) => p.includes(name))).toBe(true);
    }
  });

  it('fail/3000 is not a Key Vault RSA size', () => {
    const r = keyVaultSection({ [`${ROOT}KeySize`]: '3000' });
    expect(r.ok ? [] : r.problems).toEqual([expect.stringContaining('2048, 3072 or 4096')]);
  });

  it('ok/plain http only for a vault on this machine (the local test vault)', () => {
    expect(keyVaultSection({ [`${KV}KeyVaultURL`]: 'http://127.0.0.1:8443' }).ok).toBe(true);
    expect(keyVaultSection({ [`${KV}KeyVaultURL`]: 'http://localhost:8443' }).ok).toBe(true);
  });
});

describe('createAzureCredential', () => {
  it('ok/managed identity only, inside Azure (IDENTITY_ENDPOINT set)', () => {
    const env = { IDENTITY_ENDPOINT: 'http://localhost:42356/msi/token' };
    expect(createAzureCredential({ managedIdentityClientId: undefined }, env)).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(
      createAzureCredential({ managedIdentityClientId: '11111111-2222-3333-4444-555555555555' }, env),
    ).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('ok/DefaultAzureCredential on a developer machine', () => {
    expect(createAzureCredential({ managedIdentityClientId: undefined }, {})).toBeInstanceOf(
      DefaultAzureCredential,
    );
  });
});

describe('vaultClientOptionsFor', () => {
  it('ok/nothing special for an Azure vault; http + challenge relaxation only on loopback', () => {
    expect(vaultClientOptionsFor('https://contoso-scep.vault.azure.net/')).toEqual({});
    expect(vaultClientOptionsFor('http://127.0.0.1:4000')).toEqual({
      allowInsecureConnection: true,
      disableChallengeResourceVerification: true,
    });
  });
});
