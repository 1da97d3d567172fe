import 'reflect-metadata';
import { AsnConvert, AsnParser, OctetString } from '@peculiar/asn1-schema';
import {
  Certificate,
  ExtendedKeyUsage,
  Extension,
  KeyUsage,
  KeyUsageFlags,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
} from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serialHex } from '../../lib/ca/sign.js';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startFakeIntune, type FakeIntune } from '../fakes/intune-server.js';
import type { TestHost } from '../helpers/host.js';
import {
  callsFor,
  enrollIntune,
  intuneEnv,
  recordBySerial,
  startIsolatedHost,
} from '../helpers/intune-flow.js';
import { makeCsr, rsaKey } from '../helpers/pki.js';

/**
 * A renewal re-issues the same certificate, never a better one: a certificate from scep/static
 * could be renewed on the Intune endpoint (RenewalReq, no validateRequest) with
 * CopyRequestedExtensions copying the CSR's EKUs, and over mTLS at POST /api/csr, whose profile
 * adds serverAuth.
 */

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const ANY_EKU = '2.5.29.37.0';

let fake: FakeIntune;
let host: TestHost;
beforeAll(async () => {
  fake = await startFakeIntune();
  host = await startIsolatedHost({
    ...intuneEnv(fake),
    AppConfig__DbCSRValidation__Enabled: 'true',
    AppConfig__DbCSRValidation__AllowRenewals: 'true',
    AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert',
    AppConfig__DbCSRValidation__ReenrollmentAllowedCertificateTypes: 'Static,IntuneDevice',
    // Tokens are not used here; the key set address only has to be valid.
    AppConfig__DbCSRValidation__JwksUrl: 'http://127.0.0.1:9/keys',
  });
});
afterAll(async () => {
  await host.close();
  await fake.close();
});

/** The CSR asks for everything: serverAuth, codeSigning, any EKU, and keyCertSign. */
const greedy = (): Extension[] => [
  new Extension({
    extnID: id_ce_extKeyUsage,
    critical: false,
    extnValue: new OctetString(
      AsnConvert.serialize(new ExtendedKeyUsage([SERVER_AUTH, CLIENT_AUTH, CODE_SIGNING, ANY_EKU])),
    ),
  }),
  new Extension({
    extnID: id_ce_keyUsage,
    critical: true,
    extnValue: new OctetString(
      AsnConvert.serialize(new KeyUsage(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign)),
    ),
  }),
];

function ekus(cert: Certificate): string[] {
  const e = cert.tbsCertificate.extensions?.find((x) => x.extnID === id_ce_extKeyUsage);
  return e ? [...AsnParser.parse(e.extnValue, ExtendedKeyUsage)] : [];
}

async function enrollStatic(name: string): Promise<Certificate> {
  const e = await enrollIntune(host, {
    subject: `CN=${name}`,
    keyName: name,
    challenge: 'test-challenge-1',
    path: '/scep/static',
  });
  expect(e.rep.status, e.rep.failInfoText).toBe(PKIStatus.SUCCESS);
  return AsnParser.parse(e.rep.certificates[0]!.raw, Certificate);
}

describe('renewal scope', () => {
  it('fail/a scep/static certificate is not renewed on the Intune endpoint (RenewalReq, no validateRequest)', async () => {
    const cert = await enrollStatic('scope-static-at-intune');
    const e = await enrollIntune(host, {
      subject: 'CN=scope-static-at-intune',
      keyName: 'scope-static-at-intune',
      signerCert: cert,
      messageType: MessageType.RenewalReq,
      extensions: greedy(),
    });
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.failInfoText).toMatch(/renewal-other-endpoint/);
    expect(callsFor(fake, 'validateRequest', e.transactionId)).toHaveLength(0);
  });

  it('ok/an Intune renewal gets the Intune profile, not the CSR extensions CopyRequestedExtensions would copy, and names the renewed serial', async () => {
    const first = await enrollIntune(host, { subject: 'CN=scope-intune', keyName: 'scope-intune' });
    expect(first.rep.status, first.rep.failInfoText).toBe(PKIStatus.SUCCESS);
    const original = AsnParser.parse(first.rep.certificates[0]!.raw, Certificate);
    const e = await enrollIntune(host, {
      subject: 'CN=scope-intune',
      keyName: 'scope-intune',
      signerCert: original,
      messageType: MessageType.RenewalReq,
      extensions: greedy(),
    });
    expect(e.rep.status, e.rep.failInfoText).toBe(PKIStatus.SUCCESS);
    const renewed = AsnParser.parse(e.rep.certificates[0]!.raw, Certificate);
    expect(ekus(renewed)).toEqual([CLIENT_AUTH]);
    const record = await recordBySerial(serialHex(new Uint8Array(renewed.tbsCertificate.serialNumber)));
    expect(record?.renewalOf).toBe(serialHex(new Uint8Array(original.tbsCertificate.serialNumber)));
    expect(record?.endpoint).toBe('intune');
  });

  it('ok/a static certificate renewed over mTLS at /api/csr keeps the static EKUs (no serverAuth, no codeSigning)', async () => {
    const cert = await enrollStatic('scope-static-mtls');
    const csr = await makeCsr({
      key: rsaKey(2048, 'scope-static-mtls-new'),
      subject: 'CN=scope-static-mtls',
      extensions: greedy(),
    });
    const res = await host.post('/api/csr', csr, {
      'content-type': 'application/pkcs10',
      'X-ARR-ClientCert': Buffer.from(AsnConvert.serialize(cert)).toString('base64'),
    });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(res.status, Buffer.from(body).toString('utf8').slice(0, 200)).toBe(200);
    const renewed = AsnParser.parse(body, Certificate);
    expect(ekus(renewed)).toEqual(ekus(cert));
    const record = await recordBySerial(serialHex(new Uint8Array(renewed.tbsCertificate.serialNumber)));
    expect(record?.renewalOf).toBe(serialHex(new Uint8Array(cert.tbsCertificate.serialNumber)));
    expect(record?.endpoint).toBe('static');
  });
});
