import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/index.js';
import { AppError } from '../../lib/errors.js';

const BASE = { AppConfig__StaticValidation__RequestPassword: 'a-long-static-secret' };

function problems(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('CONFIG_INVALID');
    return (e as AppError).detail?.problems as string[];
  }
}

describe('settings in Azure', () => {
  it('fail/refuses to start in Azure without Key Vault and Cosmos DB, naming both settings', () => {
    const p = problems({ ...BASE, WEBSITE_SITE_NAME: 'scepca-func' });
    expect(p).toHaveLength(2);
    expect(p[0]).toMatch(/^AppConfig__KeyVaultConfig__KeyVaultURL: required in Azure/);
    expect(p[1]).toMatch(/^AppConfig__CosmosDb__Endpoint: required in Azure/);
  });

  it('ok/starts in Azure with Key Vault and Cosmos DB configured', () => {
    expect(
      problems({
        ...BASE,
        WEBSITE_SITE_NAME: 'scepca-func',
        AppConfig__KeyVaultConfig__KeyVaultURL: 'https://scepca-kv.vault.azure.net/',
        AppConfig__CosmosDb__Endpoint: 'https://scepca-db.documents.azure.com:443/',
      }),
    ).toEqual([]);
  });

  it('ok/outside Azure the embedded defaults are allowed', () => {
    expect(problems(BASE)).toEqual([]);
  });
});
