import { describe, expect, it } from 'vitest';
import { CLIENT_AUTH_EKU, coreSection, type CoreSettings } from '../../lib/config/core.js';
import { loadSettings, type Env } from '../../lib/config/index.js';
import { AppError } from '../../lib/errors.js';

/** Core settings (issue 2 §2): SCEPman names, defaults, and one error listing every problem. */

const PASSWORD = { AppConfig__StaticValidation__RequestPassword: 'a-long-secret' };

function core(env: Env): CoreSettings {
  const r = coreSection({ ...PASSWORD, ...env });
  if (!r.ok) throw new Error(r.problems.join('\n'));
  return r.value;
}

function problems(env: Env): string[] {
  const r = coreSection(env);
  return r.ok ? [] : r.problems;
}

function loadError(env: Env): AppError {
  try {
    loadSettings(env);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('loadSettings accepted the settings');
}

describe('core settings', () => {
  it('ok/defaults', () => {
    const s = core({});
    expect(s.static).toEqual({
      enabled: true,
      requestPassword: 'a-long-secret',
      validityDays: 730,
      keyUsage: ['DigitalSignature', 'KeyEncipherment'],
      ekus: [CLIENT_AUTH_EKU],
      allowRenewals: true,
      revokeSuperseded: false,
      enableCertificateStorage: true,
    });
    expect(s.validityPeriodDays).toBe(730);
    expect(s.clockSkewMinutes).toBe(1440);
    expect(s.responseCipher).toBe('auto');
    expect(s.baseUrl).toBeUndefined();
    expect(s.dataDir).toBe('.data');
    expect(s.maxBodyBytes).toBe(256 * 1024);
    expect(s.localCa).toEqual({
      subject: 'CN=azure-scep-ca Local Root CA, O=azure-scep-ca',
      keySize: 2048,
      validityDays: 3650,
    });
  });

  it('ok/every SCEPman setting is read', () => {
    const s = core({
      AppConfig__StaticValidation__Enabled: 'TRUE',
      AppConfig__StaticValidation__ValidityPeriodDays: '90',
      AppConfig__StaticValidation__DefaultKeyUsage: 'digitalsignature; NonRepudiation',
      AppConfig__StaticValidation__DefaultEkus: '1.3.6.1.5.5.7.3.2, 1.3.6.1.5.5.7.3.1',
      AppConfig__StaticValidation__AllowRenewals: 'no',
      AppConfig__StaticValidation__EnableCertificateStorage: '0',
      AppConfig__ValidityPeriodDays: '365',
      AppConfig__ValidityClockSkewMinutes: '0',
      AppConfig__SCEPResponseEncryptionAlgorithm: 'DES-EDE3-CBC',
      AppConfig__BaseUrl: 'https://scep.contoso.com',
    });
    expect(s.static.validityDays).toBe(90);
    expect(s.static.keyUsage).toEqual(['DigitalSignature', 'NonRepudiation']);
    expect(s.static.ekus).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']);
    expect(s.static.allowRenewals).toBe(false);
    expect(s.static.enableCertificateStorage).toBe(false);
    expect(s.validityPeriodDays).toBe(365);
    expect(s.clockSkewMinutes).toBe(0);
    expect(s.responseCipher).toBe('DES-EDE3-CBC');
    expect(s.baseUrl).toBe('https://scep.contoso.com');
  });

  it('ok/the static validity is capped by the global AppConfig__ValidityPeriodDays', () => {
    const s = core({
      AppConfig__StaticValidation__ValidityPeriodDays: '3650',
      AppConfig__ValidityPeriodDays: '400',
    });
    expect(s.static.validityDays).toBe(400);
  });

  it('ok/empty values fall back to the defaults', () => {
    const s = core({
      AppConfig__ValidityPeriodDays: '',
      AppConfig__StaticValidation__DefaultEkus: ' ',
      AppConfig__BaseUrl: '',
    });
    expect(s.validityPeriodDays).toBe(730);
    expect(s.static.ekus).toEqual([CLIENT_AUTH_EKU]);
    expect(s.baseUrl).toBeUndefined();
  });

  it.each([
    ['auto', 'auto'],
    ['AES-128-CBC', 'AES-128-CBC'],
    ['aes128', 'AES-128-CBC'],
    ['2.16.840.1.101.3.4.1.2', 'AES-128-CBC'],
    ['AES-192-CBC', 'AES-192-CBC'],
    ['2.16.840.1.101.3.4.1.22', 'AES-192-CBC'],
    ['AES-256-CBC', 'AES-256-CBC'],
    ['aes', 'AES-256-CBC'],
    ['2.16.840.1.101.3.4.1.42', 'AES-256-CBC'],
    ['DES-EDE3-CBC', 'DES-EDE3-CBC'],
    ['3DES', 'DES-EDE3-CBC'],
    ['des3', 'DES-EDE3-CBC'],
    ['1.2.840.113549.3.7', 'DES-EDE3-CBC'],
  ])('ok/SCEPResponseEncryptionAlgorithm %s → %s', (value, expected) => {
    expect(core({ AppConfig__SCEPResponseEncryptionAlgorithm: value }).responseCipher).toBe(expected);
  });

  it.each(['DES-CBC', '1.3.14.3.2.7', 'rc2', 'AES-128-GCM'])(
    'fail/SCEPResponseEncryptionAlgorithm %s is refused (never single DES)',
    (value) => {
      const p = problems({ ...PASSWORD, AppConfig__SCEPResponseEncryptionAlgorithm: value });
      expect(p).toHaveLength(1);
      expect(p[0]).toMatch(/^AppConfig__SCEPResponseEncryptionAlgorithm: /);
    },
  );

  it('fail/RequestPassword is required when the static endpoint is enabled', () => {
    const p = problems({});
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^AppConfig__StaticValidation__RequestPassword: required/);
  });

  it('ok/RequestPassword is not required when the static endpoint is disabled', () => {
    const r = coreSection({ AppConfig__StaticValidation__Enabled: 'false' });
    expect(r.ok).toBe(true);
  });

  it('fail/a RequestPassword shorter than 8 characters is refused, without echoing it', () => {
    const p = problems({ AppConfig__StaticValidation__RequestPassword: 'short' });
    expect(p).toEqual(['AppConfig__StaticValidation__RequestPassword: must be at least 8 characters']);
  });

  it.each([
    ['AppConfig__ValidityPeriodDays', 'abc'],
    ['AppConfig__ValidityPeriodDays', '0'],
    ['AppConfig__ValidityPeriodDays', '1.5'],
    ['AppConfig__ValidityClockSkewMinutes', '-5'],
    ['AppConfig__StaticValidation__ValidityPeriodDays', '99999'],
    ['AppConfig__StaticValidation__Enabled', 'maybe'],
    ['AppConfig__StaticValidation__AllowRenewals', 'on'],
    ['AppConfig__StaticValidation__DefaultKeyUsage', 'DigitalSignature, KeyCertSign'],
    ['AppConfig__StaticValidation__DefaultEkus', 'clientAuth'],
    ['AppConfig__BaseUrl', 'scep.contoso.com'],
    ['AppConfig__MaxRequestBytes', '100'],
    ['AppConfig__LocalCA__KeySize', '1024'],
  ])('fail/%s=%s is refused with a line naming the setting', (name, value) => {
    const p = problems({ ...PASSWORD, [name]: value });
    expect(p).toHaveLength(1);
    expect(p[0]!.startsWith(`${name}: `)).toBe(true);
  });
});

describe('loadSettings', () => {
  it('fail/three bad settings → ONE CONFIG_INVALID error with three lines, each naming its setting', () => {
    const e = loadError({
      ...PASSWORD,
      AppConfig__ValidityPeriodDays: 'abc',
      AppConfig__SCEPResponseEncryptionAlgorithm: 'DES-CBC',
      AppConfig__BaseUrl: 'not a url',
    });
    expect(e.code).toBe('CONFIG_INVALID');
    const lines = e.message.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith('  - AppConfig__ValidityPeriodDays: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('  - AppConfig__SCEPResponseEncryptionAlgorithm: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('  - AppConfig__BaseUrl: '))).toBe(true);
    expect(e.detail?.problems).toHaveLength(3);
  });

  it('fail/a missing RequestPassword is reported by loadSettings as CONFIG_INVALID', () => {
    const e = loadError({});
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/AppConfig__StaticValidation__RequestPassword/);
  });

  it('ok/a valid environment gives a typed object', () => {
    const s = loadSettings({ ...PASSWORD, AppConfig__ValidityPeriodDays: '100' });
    expect(s.core.validityPeriodDays).toBe(100);
    expect(s.core.static.validityDays).toBe(100);
  });
});
