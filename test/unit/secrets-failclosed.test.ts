import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import azf, { type HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scep } from '../../functions/scep.js';
import { createApp, setApp } from '../../lib/app.js';
import { loadSettings } from '../../lib/config/index.js';
import { isAppError } from '../../lib/errors.js';
import { memoryLogger } from '../../lib/log.js';

/**
 * Secrets fail closed: an unresolved Key Vault reference (App Service hands the app the
 * reference text when it cannot read the secret) never becomes a working challenge, and a
 * placeholder copied from local.settings.sample.json is refused at start.
 */

const REF = '@Microsoft.KeyVault(VaultName=contoso-ca-kv;SecretName=static-request-password)';
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'scep-secrets-'));
});
afterAll(() => {
  setApp(undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

function startProblems(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
    return [];
  } catch (e) {
    if (isAppError(e) && Array.isArray(e.detail?.problems)) return e.detail.problems as string[];
    throw e;
  }
}

/** Intune validation on, without its credential and queue. */
const INTUNE_ON = {
  AppConfig__StaticValidation__RequestPassword: 'a-static-challenge-0123456789',
  AppConfig__IntuneValidation__Enabled: 'true',
  AppConfig__AuthConfig__ApplicationId: '66666666-7777-8888-9999-000000000000',
  AppConfig__AuthConfig__TenantId: '11111111-2222-3333-4444-555555555555',
};

async function callStatic(query: string): Promise<HttpResponseInit> {
  const request = new azf.HttpRequest({
    method: 'GET',
    url: `http://127.0.0.1/scep/static${query}`,
    params: { endpoint: 'static' },
  });
  return scep(request, new azf.InvocationContext({ functionName: 'scep' }));
}

describe('unresolved Key Vault references', () => {
  it('fail/the literal reference text is never the static challenge: scep/static answers 503 and the log names the setting', async () => {
    const logger = memoryLogger();
    setApp(
      createApp(
        { AppConfig__DataDir: dataDir, AppConfig__StaticValidation__RequestPassword: REF },
        { logger },
      ),
    );
    for (const query of ['?operation=PKIOperation&message=AAAA', '?operation=GetCACaps']) {
      const r = await callStatic(query);
      expect(r.status).toBe(503);
      expect(JSON.stringify(r.jsonBody)).not.toMatch(/KeyVault|RequestPassword|contoso/);
    }
    const lines = logger.entries.map((l) => JSON.stringify(l)).join('\n');
    expect(lines).toMatch(
      /AppConfig__StaticValidation__RequestPassword: holds an unresolved Key Vault reference/,
    );
    expect(lines).not.toContain('static-request-password');
  });

  it('ok/only the feature is disabled: the static endpoint is unavailable, the settings load', () => {
    const s = loadSettings({ AppConfig__StaticValidation__RequestPassword: REF });
    expect(s.core.static.requestPassword).toBeUndefined();
    expect(s.core.static.unavailable).toMatch(/unresolved Key Vault reference/);
  });

  it('fail/an unresolved Intune client secret disables the Intune endpoint instead of sending the reference to Entra ID', () => {
    const s = loadSettings({
      ...INTUNE_ON,
      AppConfig__AuthConfig__ApplicationKey: REF,
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    });
    expect(s.intune.unavailable).toMatch(/^AppConfig__AuthConfig__ApplicationKey: holds an unresolved/);
    expect(s.intune.auth).toBeUndefined();
  });

  it('fail/an unresolved reference in any other setting stops the start and names the setting', () => {
    const p = startProblems({
      AppConfig__StaticValidation__RequestPassword: 'a-static-challenge-0123456789',
      AppConfig__CosmosDb__Endpoint: 'https://contoso.documents.azure.com:443/',
      AppConfig__CosmosDb__Key: REF,
    });
    expect(p).toContainEqual(
      expect.stringMatching(/^AppConfig__CosmosDb__Key: holds an unresolved Key Vault reference/),
    );
  });

  it('fail/an unresolved reference in the notification queue connection named by NotificationQueueConnection stops the start', () => {
    const p = startProblems({
      ...INTUNE_ON,
      AppConfig__AuthConfig__UseManagedIdentity: 'true',
      AppConfig__IntuneValidation__NotificationQueueConnection: 'IntuneQueueStorage',
      IntuneQueueStorage:
        '@Microsoft.KeyVault(SecretUri=https://contoso-ca-kv.vault.azure.net/secrets/queue/)',
    });
    expect(p).toEqual([
      expect.stringMatching(/^IntuneQueueStorage: holds an unresolved Key Vault reference/),
    ]);
    expect(p.join('\n')).not.toContain('contoso-ca-kv');
  });
});

describe('placeholders and weak static challenges', () => {
  it('fail/the sample placeholder replace-with-a-long-random-secret is refused at start, naming the setting', () => {
    const p = startProblems({
      AppConfig__StaticValidation__RequestPassword: 'replace-with-a-long-random-secret',
    });
    expect(p).toEqual([
      expect.stringMatching(
        /^AppConfig__StaticValidation__RequestPassword: still holds the sample placeholder/,
      ),
    ]);
  });

  it('fail/in Azure a static challenge shorter than 16 characters is refused', () => {
    const p = startProblems({
      WEBSITE_SITE_NAME: 'contoso-scep',
      AppConfig__KeyVaultConfig__KeyVaultURL: 'https://contoso-ca-kv.vault.azure.net/',
      AppConfig__CosmosDb__Endpoint: 'https://contoso.documents.azure.com:443/',
      AppConfig__StaticValidation__RequestPassword: 'fifteen-chars-x',
    });
    expect(p).toEqual([
      'AppConfig__StaticValidation__RequestPassword: must be at least 16 characters in Azure',
    ]);
  });

  it('ok/locally 8 characters still do; in Azure 16 do', () => {
    expect(startProblems({ AppConfig__StaticValidation__RequestPassword: 'eight-ch' })).toEqual([]);
    expect(
      startProblems({
        WEBSITE_SITE_NAME: 'contoso-scep',
        AppConfig__KeyVaultConfig__KeyVaultURL: 'https://contoso-ca-kv.vault.azure.net/',
        AppConfig__CosmosDb__Endpoint: 'https://contoso.documents.azure.com:443/',
        AppConfig__StaticValidation__RequestPassword: 'sixteen-chars-xx',
      }),
    ).toEqual([]);
  });
});
