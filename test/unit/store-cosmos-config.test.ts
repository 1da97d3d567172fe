import { describe, expect, it } from 'vitest';
import { cosmosSection } from '../../lib/config/cosmos.js';
import { createCosmosStore } from '../../lib/store/cosmos-factory.js';
import type { CosmosCredential } from '../../lib/store/cosmos-factory.js';

const core = { static: { enableCertificateStorage: true } };

describe('AppConfig__CosmosDb__* settings', () => {
  it('ok/defaults: no endpoint (in-memory store), database scepca, containers certificates and transactions', () => {
    const r = cosmosSection({});
    expect(r).toEqual({
      ok: true,
      value: {
        endpoint: undefined,
        databaseName: 'scepca',
        certificatesContainer: 'certificates',
        transactionsContainer: 'transactions',
        stateContainer: 'state',
        key: undefined,
        createIfNotExists: false,
        timeoutMs: 10_000,
        maxThrottleRetries: 5,
      },
    });
  });

  it('ok/a key (local) turns create-if-not-exists on unless it is set explicitly', () => {
    const env = { AppConfig__CosmosDb__Endpoint: 'http://127.0.0.1:8081/', AppConfig__CosmosDb__Key: 'a2V5' };
    const on = cosmosSection(env);
    expect(on.ok && on.value.createIfNotExists).toBe(true);
    const off = cosmosSection({ ...env, AppConfig__CosmosDb__CreateIfNotExists: 'false' });
    expect(off.ok && off.value.createIfNotExists).toBe(false);
  });

  it('ok/names, timeout and retries are read', () => {
    const r = cosmosSection({
      AppConfig__CosmosDb__Endpoint: 'https://acct.documents.azure.com:443/',
      AppConfig__CosmosDb__DatabaseName: 'pki',
      AppConfig__CosmosDb__CertificatesContainerName: 'certs',
      AppConfig__CosmosDb__TransactionsContainerName: 'tx',
      AppConfig__CosmosDb__TimeoutSeconds: '4',
      AppConfig__CosmosDb__MaxThrottleRetries: '2',
    });
    expect(r.ok && r.value).toMatchObject({
      databaseName: 'pki',
      certificatesContainer: 'certs',
      transactionsContainer: 'tx',
      timeoutMs: 4000,
      maxThrottleRetries: 2,
      createIfNotExists: false,
    });
  });

  it('fail/every bad setting is named at once', () => {
    const r = cosmosSection({
      AppConfig__CosmosDb__Endpoint: 'not a url',
      AppConfig__CosmosDb__DatabaseName: 'a/b',
      AppConfig__CosmosDb__CreateIfNotExists: 'maybe',
      AppConfig__CosmosDb__TimeoutSeconds: '0',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.problems.join('\n');
    for (const name of ['Endpoint', 'DatabaseName', 'CreateIfNotExists', 'TimeoutSeconds']) {
      expect(text).toContain(`AppConfig__CosmosDb__${name}`);
    }
  });

  it('fail/the two containers must differ', () => {
    const r = cosmosSection({ AppConfig__CosmosDb__TransactionsContainerName: 'certificates' });
    expect(r.ok).toBe(false);
  });
});

describe('createCosmosStore', () => {
  const settings = (over: Record<string, string>) => {
    const r = cosmosSection({ AppConfig__CosmosDb__Endpoint: 'https://acct.documents.azure.com/', ...over });
    if (!r.ok) throw new Error(r.problems.join());
    return r.value;
  };

  it('fail/without an endpoint is CONFIG_INVALID (the caller uses the in-memory store)', () => {
    expect(() =>
      createCosmosStore({ cosmos: settings({ AppConfig__CosmosDb__Endpoint: '' }), core }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('fail/neither key nor Entra ID credential is CONFIG_INVALID', () => {
    expect(() => createCosmosStore({ cosmos: settings({}), core })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('ok/an Entra ID credential is enough in Azure', () => {
    const credential: CosmosCredential = {
      getToken: () => Promise.resolve({ token: 'unused', expiresOnTimestamp: 0 }),
    };
    expect(createCosmosStore({ cosmos: settings({}), core }, credential)).toBeDefined();
  });
});
