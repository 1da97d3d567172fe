import { describe, expect, it } from 'vitest';
import { intuneSection } from '../../lib/config/intune.js';
import { loadSettings } from '../../lib/config/index.js';
import { createIntuneClient } from '../../lib/intune/factory.js';
import { defaultBackoffSeconds } from '../../lib/intune/notification-settle.js';

const enabled = {
  AppConfig__IntuneValidation__Enabled: 'true',
  AppConfig__AuthConfig__ApplicationId: '66666666-7777-8888-9999-000000000000',
  AppConfig__AuthConfig__ApplicationKey: 'app-secret',
  AppConfig__AuthConfig__TenantId: 'contoso.onmicrosoft.com',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

describe('Intune settings', () => {
  it('ok/disabled by default, public cloud defaults', () => {
    const r = intuneSection({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      enabled: false,
      auth: undefined,
      waitForSuccessNotificationResponse: false,
      graphBaseUrl: 'https://graph.microsoft.com/',
      graphApiVersion: '1.0',
      intuneResourceUrl: 'https://api.manage.microsoft.com/',
      intuneAppId: '0000000a-0000-0000-c000-000000000000',
      scepApiVersion: '2018-02-20',
      timeoutMs: 30_000,
      queue: {
        name: 'intune-notifications',
        poisonName: 'intune-notifications-poison',
        connectionSetting: 'AzureWebJobsStorage',
      },
      notifications: { maxAttempts: 8, redriveAfterMinutes: 60 },
      profile: {
        validityDays: 730,
        keyUsage: ['DigitalSignature', 'KeyEncipherment'],
        ekus: ['1.3.6.1.5.5.7.3.2'],
        allowRenewals: true,
        revokeSuperseded: false,
        enableCertificateStorage: true,
        copyRequestedExtensions: true,
      },
    });
  });

  it('fail/enabled without app id, tenant, credential and queue lists every missing setting', () => {
    const r = intuneSection({ AppConfig__IntuneValidation__Enabled: 'true' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.join('\n')).toMatch(/ApplicationId[\s\S]*TenantId[\s\S]*ApplicationKey/);
    const q = intuneSection({ ...enabled, AzureWebJobsStorage: undefined });
    expect(q.ok ? [] : q.problems).toEqual([expect.stringMatching(/^AzureWebJobsStorage: required/)]);
  });

  it('ok/enabled with a secret', () => {
    const r = intuneSection(enabled);
    expect(r.ok && r.value.auth).toEqual({
      applicationId: '66666666-7777-8888-9999-000000000000',
      tenantId: 'contoso.onmicrosoft.com',
      credential: { kind: 'secret', secret: 'app-secret' },
      authority: 'https://login.microsoftonline.com/',
    });
    expect(r.ok && r.value.queue.connection).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
  });

  it('ok/sovereign cloud URLs, managed identity federation and an identity-based queue', () => {
    const r = intuneSection({
      ...enabled,
      AppConfig__AuthConfig__ApplicationKey: undefined,
      AppConfig__AuthConfig__UseManagedIdentity: 'true',
      AppConfig__AuthConfig__ManagedIdentityClientId: 'mi-client',
      AppConfig__AuthConfig__FederatedTokenAudience: 'api://AzureADTokenExchangeUSGov',
      AppConfig__AuthConfig__Authority: 'https://login.microsoftonline.us',
      AppConfig__IntuneValidation__GraphBaseUrl: 'https://graph.microsoft.us',
      AppConfig__IntuneValidation__IntuneResourceUrl: 'https://api.manage.microsoft.us',
      AzureWebJobsStorage: undefined,
      AzureWebJobsStorage__accountName: 'scepstore',
      AzureWebJobsStorage__clientId: 'mi-client',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.auth?.authority).toBe('https://login.microsoftonline.us/');
    expect(r.value.auth?.credential).toEqual({
      kind: 'managedIdentity',
      clientId: 'mi-client',
      audience: 'api://AzureADTokenExchangeUSGov',
    });
    expect(r.value.graphBaseUrl).toBe('https://graph.microsoft.us/');
    expect(r.value.intuneResourceUrl).toBe('https://api.manage.microsoft.us/');
    expect(r.value.queue.connection).toEqual({
      kind: 'accountUrl',
      url: 'https://scepstore.queue.core.windows.net',
      managedIdentityClientId: 'mi-client',
    });
  });

  it('fail/an unreadable ApplicationCertificatePem stops the start naming the setting (a PFX in base64, as a certificate secret can hold)', () => {
    const r = intuneSection({
      ...enabled,
      AppConfig__AuthConfig__ApplicationKey: undefined,
      AppConfig__AuthConfig__ApplicationCertificatePem:
        'MIIKXAIBAzCCChgGCSqGSIb3DQEHAaCCCgkEggoFMIIKATCCBg8GCSqGSIb3DQEHAaCC',
    });
    if (!r.ok) throw new Error(r.problems.join('; '));
    let err: unknown;
    try {
      createIntuneClient(r.value);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/^AppConfig__AuthConfig__ApplicationCertificatePem: /),
    });
  });

  it('ok/validity is capped by AppConfig__ValidityPeriodDays', () => {
    const r = intuneSection({
      AppConfig__IntuneValidation__ValidityPeriodDays: '900',
      AppConfig__ValidityPeriodDays: '365',
    });
    expect(r.ok && r.value.profile.validityDays).toBe(365);
    const s = intuneSection({ AppConfig__IntuneValidation__ValidityPeriodDays: '30' });
    expect(s.ok && s.value.profile.validityDays).toBe(30);
  });

  it.each([
    ['AppConfig__IntuneValidation__NotificationQueueName', 'Intune_Notifications'],
    ['AppConfig__IntuneValidation__DefaultKeyUsage', 'DigitalSignature,Sparkle'],
    ['AppConfig__IntuneValidation__DefaultEkus', 'clientAuth'],
    ['AppConfig__AuthConfig__ApplicationId', 'not-a-guid'],
    ['AppConfig__IntuneValidation__GraphBaseUrl', 'graph'],
    ['AppConfig__IntuneValidation__WaitForSuccessNotificationResponse', 'maybe'],
    ['AppConfig__IntuneValidation__RequestTimeoutSeconds', '0'],
  ])('fail/%s=%s is named in the problem', (name, value) => {
    const r = intuneSection({ [name]: value });
    expect(r.ok ? [] : r.problems).toEqual([expect.stringContaining(name)]);
  });

  it('fail/a re-drive age within the longest retry delay is refused: the timer would queue a second copy of a notification still waiting for its retry', () => {
    // The worker marks the record when it schedules a retry, then waits up to this long.
    const longestRetryMinutes = defaultBackoffSeconds(100) / 60;
    for (const minutes of [5, longestRetryMinutes, 20]) {
      const r = intuneSection({
        ...enabled,
        AppConfig__IntuneValidation__NotificationRedriveAfterMinutes: `${minutes}`,
      });
      expect(r.ok ? [] : r.problems).toEqual([
        expect.stringMatching(/^AppConfig__IntuneValidation__NotificationRedriveAfterMinutes: expected/),
      ]);
    }
    const ok = intuneSection({
      ...enabled,
      AppConfig__IntuneValidation__NotificationRedriveAfterMinutes: '30',
    });
    expect(ok.ok && ok.value.notifications.redriveAfterMinutes).toBe(30);
  });

  it('ok/is part of loadSettings', () => {
    const s = loadSettings({ AppConfig__StaticValidation__RequestPassword: 'long-enough-secret' });
    expect(s.intune.enabled).toBe(false);
  });
});
