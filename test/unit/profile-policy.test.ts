import { describe, expect, it } from 'vitest';
import { parseCsr } from '../../lib/csr/parse.js';
import { checkPolicy } from '../../lib/csr/policy.js';
import { profileValidators } from '../../lib/endpoints/profile-policy.js';
import { certificateProfileSchema, type CertificateProfileInput } from '../../lib/model/profile.js';
import { ecKey, makeCsr, rsaKey, san } from '../helpers/pki.js';

const rsa = rsaKey(2048, 'profile-policy');

async function verdict(profile: CertificateProfileInput, csr: Parameters<typeof makeCsr>[0]) {
  const validators = profileValidators(certificateProfileSchema.parse(profile));
  return checkPolicy(parseCsr(await makeCsr(csr)), validators)?.reason;
}

describe('profile: subject rules', () => {
  it.each([
    [{ required: ['O'] }, 'CN=a, O=Contoso', undefined],
    [{ required: ['O'] }, 'CN=a', 'subject-rdn-required'],
    [{ forbidden: ['OU'] }, 'CN=a, OU=x', 'subject-rdn-forbidden'],
    [{ cnPattern: '[a-z]+-\\d+' }, 'CN=laptop-42', undefined],
    [{ cnPattern: '[a-z]+-\\d+' }, 'CN=laptop-42x', 'subject-cn-pattern'],
  ])('%j with %s → %s', async (subjectRules, subject, reason) => {
    expect(await verdict({ subject: subjectRules as never }, { key: rsa, subject })).toBe(reason);
  });
});

describe('profile: SAN rules', () => {
  it('ok/allowed types matching their patterns', async () => {
    const profile: CertificateProfileInput = {
      san: { allowedTypes: ['dns', 'email'], patterns: { dns: '.+\\.contoso\\.com' } },
    };
    expect(
      await verdict(profile, {
        key: rsa,
        subject: 'CN=a',
        sans: [san.dns('pc.contoso.com'), san.email('a@b')],
      }),
    ).toBeUndefined();
  });

  it('fail/a type not allowed → san-type-not-allowed', async () => {
    expect(
      await verdict(
        { san: { allowedTypes: ['dns'] } },
        { key: rsa, subject: 'CN=a', sans: [san.upn('a@b')] },
      ),
    ).toBe('san-type-not-allowed');
  });

  it('fail/a value outside its pattern → san-pattern', async () => {
    expect(
      await verdict(
        { san: { patterns: { dns: '.+\\.contoso\\.com' } } },
        { key: rsa, subject: 'CN=a', sans: [san.dns('evil.com')] },
      ),
    ).toBe('san-pattern');
  });
});

describe('profile: key rules', () => {
  it('fail/an RSA key below the minimum → key-too-small', async () => {
    expect(await verdict({ key: { rsaMinBits: 3072 } }, { key: rsa, subject: 'CN=a' })).toBe('key-too-small');
  });

  it('ok/an EC key on an allowed curve; fail/on another', async () => {
    expect(await verdict({}, { key: ecKey('P-256'), subject: 'CN=a' })).toBeUndefined();
    expect(await verdict({ key: { ecCurves: ['P-384'] } }, { key: ecKey('P-256'), subject: 'CN=a' })).toBe(
      'curve-not-allowed',
    );
  });

  it('fail/a forged CSR signature still fails proof of possession', async () => {
    expect(await verdict({}, { key: rsa, subject: 'CN=a', tamper: true })).toBe('csr-signature-invalid');
  });
});
