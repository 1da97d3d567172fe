import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as x509 from '@peculiar/x509';
import type { IssuanceProfile } from '../../lib/ca/issue.js';
import { parseCsr } from '../../lib/csr/parse.js';
import { RenewalRule, type RenewalReceiver } from '../../lib/enroll/renewal-rule.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';
import { issue, makeCa, makeCsr, recordFor, type San, type TestCa } from '../fakes/rest-pki.js';

/**
 * The shared renewal rule (SCEP and REST mTLS): same endpoint or an allowed type, same subject
 * and the same SANs on their full values, and the original endpoint's profile, never the CSR's
 * extensions.
 */

const NOW = new Date('2025-06-01T00:00:00Z');
const SUBJECT = 'CN=laptop-17, O=Contoso';
const STATIC_PROFILE: IssuanceProfile = {
  validityDays: 90,
  keyUsage: ['DigitalSignature'],
  ekus: ['1.3.6.1.5.5.7.3.2'],
};
const INTUNE_PROFILE: IssuanceProfile = { ...STATIC_PROFILE, copyRequestedExtensions: true };
const PROFILES: Record<string, IssuanceProfile> = { static: STATIC_PROFILE, intune: INTUNE_PROFILE };
const SCEP_STATIC: RenewalReceiver = { kind: 'scep', endpoint: 'static' };

let ca: TestCa;
let store: MemoryCertificateStore;
let rule: RenewalRule;

beforeAll(async () => {
  ca = await makeCa('CN=Rule CA');
  store = new MemoryCertificateStore();
  rule = new RenewalRule({
    caCertificates: [ca.der],
    store,
    profileOf: (name) => (PROFILES[name] ? { issuance: PROFILES[name], policy: [] } : undefined),
    now: () => NOW,
  });
});

async function held(endpoint: string, sans: San[] = []): Promise<Uint8Array> {
  const cert: x509.X509Certificate = await issue(ca, { subject: SUBJECT, sans });
  await store.create({ ...recordFor(cert, endpoint === 'intune' ? 'intune' : 'static'), endpoint });
  return new Uint8Array(cert.rawData);
}

describe('RenewalRule', () => {
  it('ok/grants the original endpoint profile with copyRequestedExtensions off, and names the renewed serial', async () => {
    const der = await held('intune');
    const d = await rule.decide(der, parseCsr(await makeCsr(SUBJECT)), { kind: 'scep', endpoint: 'intune' });
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.grant.endpoint).toBe('intune');
    expect(d.grant.profile.copyRequestedExtensions).toBe(false);
    expect(d.grant.profile.ekus).toEqual(STATIC_PROFILE.ekus);
    expect(d.grant.renewalOf).toBe(d.record.serialNumber);
  });

  it('fail/a scep/static certificate is not renewed on the Intune endpoint (other_endpoint)', async () => {
    const der = await held('static');
    const d = await rule.decide(der, parseCsr(await makeCsr(SUBJECT)), { kind: 'scep', endpoint: 'intune' });
    expect(d.ok || d.reason).toBe('other_endpoint');
  });

  it('ok/mTLS renewal of a static certificate gets the static profile, not the receiver profile', async () => {
    const der = await held('static');
    const d = await rule.decide(der, parseCsr(await makeCsr(SUBJECT)), {
      kind: 'mtls',
      allowedTypes: ['static'],
    });
    expect(d.ok && d.grant.profile.ekus).toEqual(STATIC_PROFILE.ekus);
    const refused = await rule.decide(der, parseCsr(await makeCsr(SUBJECT)), {
      kind: 'mtls',
      allowedTypes: ['api'],
    });
    expect(refused.ok || refused.reason).toBe('type_not_allowed');
  });

  it('fail/otherName SANs with the same type but another value do not match (compared on full values)', async () => {
    const der = await held('static', [{ type: 'guid', value: '00000000-0000-0000-0000-000000000001' }]);
    const other = parseCsr(
      await makeCsr(SUBJECT, [{ type: 'guid', value: '00000000-0000-0000-0000-000000000002' }]),
    );
    const d = await rule.decide(der, other, SCEP_STATIC);
    expect(d.ok || d.reason).toBe('san_mismatch');
    const same = parseCsr(
      await makeCsr(SUBJECT, [{ type: 'guid', value: '00000000-0000-0000-0000-000000000001' }]),
    );
    expect((await rule.decide(der, same, SCEP_STATIC)).ok).toBe(true);
  });

  it('fail/a directoryName or registeredID SAN that differs is a san_mismatch', async () => {
    const der = await held('static', [{ type: 'dn', value: 'CN=alice' }]);
    const d = await rule.decide(
      der,
      parseCsr(await makeCsr(SUBJECT, [{ type: 'dn', value: 'CN=bob' }])),
      SCEP_STATIC,
    );
    expect(d.ok || d.reason).toBe('san_mismatch');
    const rid = await rule.decide(
      der,
      parseCsr(await makeCsr(SUBJECT, [{ type: 'id', value: '1.2.3.4' }])),
      SCEP_STATIC,
    );
    expect(rid.ok || rid.reason).toBe('san_mismatch');
  });

  it('fail/another subject is a subject_mismatch', async () => {
    const der = await held('static');
    const d = await rule.decide(der, parseCsr(await makeCsr('CN=laptop-18, O=Contoso')), SCEP_STATIC);
    expect(d.ok || d.reason).toBe('subject_mismatch');
  });

  it('fail/a certificate whose endpoint no longer exists is not renewed (profile_unavailable)', async () => {
    const der = await held('retired');
    const d = await rule.decide(der, parseCsr(await makeCsr(SUBJECT)), {
      kind: 'mtls',
      allowedTypes: ['static'],
    });
    expect(d.ok || d.reason).toBe('profile_unavailable');
  });
  it('ok/a self-signed SCEP signer with its own key is not ours, without a store read', async () => {
    const other = await makeCa('CN=device self-signed');
    let reads = 0;
    const counting = new RenewalRule({
      caCertificates: [ca.der],
      store: { getBySerial: (s) => ((reads += 1), store.getBySerial(s)) },
      profileOf: (name) => (PROFILES[name] ? { issuance: PROFILES[name], policy: [] } : undefined),
      now: () => NOW,
    });
    const spki = new Uint8Array(other.cert.publicKey.rawData);
    const d = await counting.checkSigner({ der: other.der, spki, selfSigned: true }, SCEP_STATIC);
    expect(d.ok || d.reason).toBe('foreign_issuer');
    expect(reads).toBe(0);
  });

  it('ok/a SCEP signer that carries the CA key, or is not self-signed, goes through the full check', async () => {
    const caSpki = new Uint8Array(ca.cert.publicKey.rawData);
    const asCa = await rule.checkSigner({ der: ca.der, spki: caSpki, selfSigned: true }, SCEP_STATIC);
    expect(asCa).toEqual(await rule.check(ca.der, SCEP_STATIC));
    expect(asCa.ok || asCa.reason).toBe('unknown_certificate');
    const der = await held('static');
    const ours = await rule.checkSigner({ der, spki: new Uint8Array(), selfSigned: false }, SCEP_STATIC);
    expect(ours.ok).toBe(true);
  });
});
