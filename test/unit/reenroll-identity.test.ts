import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as x509 from '@peculiar/x509';
import { parseCsr } from '../../lib/csr/parse.js';
import { checkPolicy, DEFAULT_POLICY } from '../../lib/csr/policy.js';
import { reenrollIdentity } from '../../lib/enroll/reenroll-identity.js';
import { generalNameToString } from '../../lib/x509/names.js';
import { issue, makeCa, makeCsr, type TestCa } from '../fakes/rest-pki.js';

const SUBJECT = 'CN=alice@contoso.com, O=Contoso';
let ca: TestCa;
let original: x509.X509Certificate;

beforeAll(async () => {
  ca = await makeCa('CN=Contoso Issuing CA');
  original = await issue(ca, {
    subject: SUBJECT,
    sans: [
      { type: 'upn', value: 'alice@contoso.com' },
      { type: 'dns', value: 'alice-laptop.contoso.com' },
    ],
  });
});

const der = (c: x509.X509Certificate): Uint8Array => new Uint8Array(c.rawData);

describe('re-enrollment identity: the renewed certificate is the original, with the new key', () => {
  it("ok/SCEPman's placeholder renewal (CN=Contoso, empty UPN) gets the original subject and SANs", async () => {
    const placeholder = parseCsr(await makeCsr('CN=Contoso', [{ type: 'upn', value: '' }]));
    const re = reenrollIdentity(placeholder, der(original));
    expect(re.subjectString).toBe(SUBJECT);
    expect(re.sans.map(generalNameToString)).toEqual([
      'upn:alice@contoso.com',
      'dns:alice-laptop.contoso.com',
    ]);
    expect(re.subjectEmpty).toBe(false);
    // The key, its digest and the request digest (idempotency, record) stay the request's.
    expect(Buffer.from(re.spki).equals(Buffer.from(placeholder.spki))).toBe(true);
    expect(re.publicKeySha256).toBe(placeholder.publicKeySha256);
    expect(re.sha256).toBe(placeholder.sha256);
    expect(checkPolicy(re, DEFAULT_POLICY)).toBeUndefined();
  });

  it('ok/requested extensions are dropped, so a profile that copies them cannot be steered', async () => {
    const greedy = parseCsr(await makeCsr('CN=Contoso', [{ type: 'dns', value: 'evil.example' }]));
    expect(greedy.extensions.length).toBeGreaterThan(0);
    const re = reenrollIdentity(greedy, der(original));
    expect(re.extensions).toEqual([]);
    expect(re.challengePassword).toBeUndefined();
    expect(re.sans.map(generalNameToString)).not.toContain('dns:evil.example');
  });

  it('ok/an original without subjectAltName gives a request without one', async () => {
    const plain = await issue(ca, { subject: 'CN=printer01' });
    const re = reenrollIdentity(parseCsr(await makeCsr('CN=Contoso')), der(plain));
    expect(re.subjectString).toBe('CN=printer01');
    expect(re.sans).toEqual([]);
    expect(re.sanExtensionValue).toBeUndefined();
  });

  it('fail/proof of possession is still the request’s own: a broken CSR signature fails the policy', async () => {
    const good = await makeCsr('CN=Contoso');
    const broken = Uint8Array.from(good);
    broken[broken.length - 5] = (broken[broken.length - 5] ?? 0) ^ 0xff;
    const re = reenrollIdentity(parseCsr(broken), der(original));
    expect(checkPolicy(re, DEFAULT_POLICY)?.reason).toBe('csr-signature-invalid');
  });
});
