import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as x509 from '@peculiar/x509';
import { ClientCertificateRenewal, type ClientCertificateOptions } from '../../lib/auth/client-cert.js';
import { RenewalRule, type RenewalRuleDeps } from '../../lib/enroll/renewal-rule.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { AppError, isAppError } from '../../lib/errors.js';
import { issue, makeCa, recordFor, type San, type TestCa } from '../fakes/rest-pki.js';

const HEADER = 'x-arr-clientcert';
const NOW = new Date('2025-06-01T00:00:00Z');
const SUBJECT = 'CN=build01.contoso.com, O=Contoso';
const SANS: San[] = [
  { type: 'dns', value: 'build01.contoso.com' },
  { type: 'ip', value: '10.1.2.3' },
];

let ca: TestCa;
let otherCa: TestCa;
let sameNameCa: TestCa;
let store: MemoryCertificateStore;
let current: x509.X509Certificate;

beforeAll(async () => {
  [ca, otherCa, sameNameCa] = await Promise.all([
    makeCa('CN=Contoso Issuing CA, O=Contoso'),
    makeCa('CN=Fabrikam CA, O=Fabrikam'),
    makeCa('CN=Contoso Issuing CA, O=Contoso'),
  ]);
  store = new MemoryCertificateStore();
  current = await issue(ca, { subject: SUBJECT, sans: SANS });
  await store.create(recordFor(current, 'api'));
});

const PROFILE = { validityDays: 30, keyUsage: ['DigitalSignature'], ekus: [] } as const;

function renewal(
  o: Partial<ClientCertificateOptions & Omit<RenewalRuleDeps, 'profileOf'>> = {},
): ClientCertificateRenewal {
  const rule = new RenewalRule({
    caCertificates: o.caCertificates ?? [ca.der],
    store: o.store ?? store,
    profileOf: () => ({ issuance: PROFILE, policy: [] }),
    now: o.now ?? (() => NOW),
  });
  return new ClientCertificateRenewal({
    header: 'header' in o ? o.header : HEADER,
    rule,
    allowedAuthorizations: o.allowedAuthorizations ?? ['api', 'renewal'],
  });
}

/** App Service forwards the certificate as base64 DER without PEM armour. */
const arr = (cert: x509.X509Certificate): Headers =>
  new Headers({ 'X-ARR-ClientCert': Buffer.from(cert.rawData).toString('base64') });

async function refusal(r: ClientCertificateRenewal, headers: Headers): Promise<string> {
  const res = await r.authorize(headers);
  expect(res.ok).toBe(false);
  return res.ok ? 'ok' : res.reason;
}

describe('ClientCertificateRenewal: accepted renewals', () => {
  it('ok/accepts a certificate we issued, valid, not revoked, and hands back its DER', async () => {
    const r = await renewal().authorize(arr(current));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.serialNumber).toBe(recordFor(current, 'api').serialNumber);
      expect(r.record.authorization).toBe('api');
      expect(Buffer.from(r.certificateDer).equals(Buffer.from(current.rawData))).toBe(true);
    }
  });

  it('ok/reads the header as PEM and as URL-encoded PEM (nginx $ssl_client_escaped_cert)', async () => {
    const pem = current.toString('pem');
    expect((await renewal().authorize(new Headers({ [HEADER]: pem.replace(/\n/g, ' ') }))).ok).toBe(true);
    expect((await renewal().authorize(new Headers({ [HEADER]: encodeURIComponent(pem) }))).ok).toBe(true);
  });

  it('ok/accepts a certificate of a predecessor CA that is still trusted', async () => {
    const r = renewal({ caCertificates: [otherCa.der, ca.der] });
    expect((await r.authorize(arr(current))).ok).toBe(true);
  });
});

describe('ClientCertificateRenewal: refused renewals', () => {
  it('fail/refuses when no trusted header is configured, even if the client sent X-ARR-ClientCert', async () => {
    const r = renewal({ header: undefined });
    expect(r.present(arr(current))).toBe(false);
    expect(await refusal(r, arr(current))).toBe('not_configured');
  });

  it('fail/ignores a certificate in an untrusted header', async () => {
    const r = renewal({ header: 'x-client-cert' });
    expect(r.present(arr(current))).toBe(false);
    expect(await refusal(r, arr(current))).toBe('no_client_certificate');
  });

  it('fail/refuses a request without a client certificate', async () => {
    expect(renewal().present(new Headers())).toBe(false);
    expect(await refusal(renewal(), new Headers({ [HEADER]: '  ' }))).toBe('no_client_certificate');
  });

  it('fail/refuses a header that is not a certificate', async () => {
    for (const v of ['%%%', 'aGVsbG8gd29ybGQ=', 'A'.repeat(20_000)]) {
      expect(await refusal(renewal(), new Headers({ [HEADER]: v }))).toBe('malformed_certificate');
    }
  });

  it('fail/refuses a certificate from another CA', async () => {
    const foreign = await issue(otherCa, { subject: SUBJECT, sans: SANS });
    expect(await refusal(renewal(), arr(foreign))).toBe('foreign_issuer');
  });

  it('fail/refuses a certificate from another CA that has the same name as ours', async () => {
    const lookalike = await issue(sameNameCa, { subject: SUBJECT, sans: SANS });
    expect(await refusal(renewal(), arr(lookalike))).toBe('foreign_issuer');
  });

  it('fail/refuses a forged certificate naming our CA but signed with another key', async () => {
    const forged = await issue(ca, { subject: SUBJECT, sans: SANS, signingKeys: otherCa.keys });
    expect(await refusal(renewal(), arr(forged))).toBe('bad_signature');
  });

  it('fail/refuses an expired certificate', async () => {
    const r = renewal({ now: () => new Date('2026-01-01T00:00:01Z') });
    expect(await refusal(r, arr(current))).toBe('expired');
  });

  it('fail/refuses a certificate that is not valid yet', async () => {
    const r = renewal({ now: () => new Date('2024-12-31T23:59:59Z') });
    expect(await refusal(r, arr(current))).toBe('not_yet_valid');
  });

  it('fail/refuses a certificate signed by our CA but absent from the store', async () => {
    const unrecorded = await issue(ca, { subject: SUBJECT, sans: SANS });
    expect(await refusal(renewal(), arr(unrecorded))).toBe('unknown_certificate');
  });

  it('fail/refuses a certificate whose serial is recorded for a different certificate', async () => {
    const twin = await issue(ca, { subject: SUBJECT, sans: SANS, serialNumber: current.serialNumber });
    expect(await refusal(renewal(), arr(twin))).toBe('unknown_certificate');
  });

  it('fail/refuses a revoked certificate', async () => {
    const revoked = await issue(ca, { subject: SUBJECT, sans: SANS });
    await store.create(recordFor(revoked, 'api', 'revoked'));
    expect(await refusal(renewal(), arr(revoked))).toBe('revoked');
  });

  it('fail/refuses a certificate type not listed in ReenrollmentAllowedCertificateTypes', async () => {
    const fromScep = await issue(ca, { subject: SUBJECT, sans: SANS });
    await store.create(recordFor(fromScep, 'static'));
    expect(await refusal(renewal(), arr(fromScep))).toBe('type_not_allowed');
    expect((await renewal({ allowedAuthorizations: ['static'] }).authorize(arr(fromScep))).ok).toBe(true);
  });

  it('fail/passes a store failure on instead of refusing', async () => {
    const failing = {
      getBySerial: () => Promise.reject(new AppError('DEPENDENCY_UNAVAILABLE', 'store down')),
    };
    const e: unknown = await renewal({ store: failing })
      .authorize(arr(current))
      .catch((x: unknown) => x);
    expect(isAppError(e) && e.code).toBe('DEPENDENCY_UNAVAILABLE');
  });
});
