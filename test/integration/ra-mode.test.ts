import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { Certificate, KeyUsage, KeyUsageFlags, id_ce_keyUsage } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MessageType, PKIStatus } from '../../lib/scep/types.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient, type ManageClient } from '../helpers/manage.js';
import { ecKey, makeCsr } from '../helpers/pki.js';
import { buildPkiMessage, readCertRep } from '../helpers/scep-client.js';
import { selfSignedClient, type ScepClientIdentity } from '../helpers/scep-flow.js';

/**
 * RA mode (RFC 8894 §2.2) with the CA key and the RA keys in the Key Vault stand-in, through the
 * real SDK and the real HTTP host: an endpoint created through the management API runs in RA
 * mode; GetCACert publishes [RA, CA]; one enrollment costs 1 operation on the CA key and 2 on
 * the RA key, a refused one none on the CA key.
 */

const CA_NAME = 'scep-ca-ra';
let vault: FakeKeyVault;
let host: TestHost;
let admin: ManageClient;
let client: ScepClientIdentity;
let caDer: Buffer;
let challenge: string;

beforeAll(async () => {
  vault = await startFakeKeyVault();
  const kv = await vault.initCa({
    certificateName: CA_NAME,
    subject: 'CN=RA Test CA, O=azure-scep-ca tests',
  });
  host = await startTestHost(
    {
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
    },
    { credential: vault.credential },
  );
  admin = manageClient(host.baseUrl, host.adminKey);
  caDer = Buffer.from(AsnConvert.serialize(host.ca));
  client = await selfSignedClient('ra-mode');
  expect((await admin('POST', 'endpoints', { name: 'ra-lab', type: 'device-scep' })).status).toBe(201);
  expect(
    (await admin('POST', 'endpoints', { name: 'ca-lab', type: 'device-scep', ra: { enabled: false } }))
      .status,
  ).toBe(201);
  const account = await admin('POST', 'endpoints/ra-lab/accounts', { name: 'lab' });
  expect(account.status).toBe(201);
  challenge = String(account.body.challenge);
});

afterAll(async () => {
  await host.close();
  await vault.close();
});

beforeEach(() => {
  vault.resetCounts();
});

async function getCaCert(endpoint: string): Promise<{ type: string | null; certs: X509Certificate[] }> {
  const res = await fetch(`${host.baseUrl}/scep/${endpoint}?operation=GetCACert`);
  expect(res.status).toBe(200);
  const body = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get('content-type');
  if (type === 'application/x-x509-ca-cert') return { type, certs: [new X509Certificate(body)] };
  const sd = AsnConvert.parse(AsnConvert.parse(body, ContentInfo).content, SignedData);
  const certs = Array.from(
    sd.certificates ?? [],
    (c) => new X509Certificate(Buffer.from(AsnConvert.serialize(c.certificate as Certificate))),
  );
  return { type, certs };
}

function keyUsageOf(cert: X509Certificate): number {
  const parsed = AsnConvert.parse(cert.raw, Certificate);
  const ext = parsed.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_keyUsage);
  if (!ext) return 0;
  return AsnConvert.parse(ext.extnValue, KeyUsage).toNumber();
}

let tx = 0;
async function enroll(
  endpoint: string,
  recipient: X509Certificate,
  password: string,
): Promise<Awaited<ReturnType<typeof readCertRep>>> {
  const transactionId = `ra-${++tx}`;
  const csr = await makeCsr({ key: ecKey('P-256'), subject: `CN=ra-device-${tx}`, challenge: password });
  const msg = buildPkiMessage({
    messageType: MessageType.PKCSReq,
    transactionId,
    content: csr,
    recipients: [AsnConvert.parse(recipient.raw, Certificate)],
    signerKey: client.key,
    signerCert: client.signer.cert,
  });
  const res = await host.post(`/scep/${endpoint}?operation=PKIOperation`, msg);
  expect(res.status).toBe(200);
  return readCertRep(new Uint8Array(await res.arrayBuffer()), client.key, client.signer.cert);
}

describe('RA mode', () => {
  it('ok/an endpoint created through the management API is in RA mode; GetCACert answers [RA, CA]', async () => {
    const e = await admin('GET', 'endpoints/ra-lab');
    expect(e.body.ra).toEqual({ enabled: true });
    const { type, certs } = await getCaCert('ra-lab');
    expect(type).toBe('application/x-x509-ca-ra-cert');
    const [ra, ca] = certs;
    if (!ra || !ca) throw new Error('GetCACert returned fewer than two certificates');
    expect(ca.raw.equals(caDer)).toBe(true);
    expect(ra.subject).toContain('ra-lab');
    expect(ra.checkIssued(ca) && ra.verify(ca.publicKey)).toBe(true);
    expect(ra.ca).toBe(false);
    expect(keyUsageOf(ra)).toBe(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment);
    expect(new Date(ra.validTo).getTime()).toBeLessThan(new Date(ca.validTo).getTime());
  });

  it('ok/an endpoint created with ra.enabled=false answers GetCACert with the CA certificate alone', async () => {
    const { type, certs } = await getCaCert('ca-lab');
    expect(type).toBe('application/x-x509-ca-cert');
    expect(certs[0]?.raw.equals(caDer)).toBe(true);
  });

  it('ok/one enrollment encrypted to the RA costs 1 CA-key operation and 2 RA-key operations', async () => {
    const [ra] = (await getCaCert('ra-lab')).certs;
    if (!ra) throw new Error('no RA certificate');
    vault.resetCounts();
    const rep = await enroll('ra-lab', ra, challenge);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.signatureValid).toBe(true);
    expect(rep.signerCertificates.map((c) => c.raw.equals(ra.raw))).toEqual([true]);
    const issued = rep.certificates[0];
    if (!issued) throw new Error('no certificate');
    expect(new X509Certificate(issued.raw).verify(new X509Certificate(caDer).publicKey)).toBe(true);
    expect(vault.keyOperations(CA_NAME)).toBe(1);
    expect(vault.keyOperations('ra-ra-lab')).toBe(2);
  });

  it('fail/a refused enrollment costs no CA-key operation', async () => {
    const [ra] = (await getCaCert('ra-lab')).certs;
    if (!ra) throw new Error('no RA certificate');
    vault.resetCounts();
    const rep = await enroll('ra-lab', ra, 'wrong-challenge-value');
    expect(rep.status).toBe(PKIStatus.FAILURE);
    expect(rep.certificates).toHaveLength(0);
    expect(vault.keyOperations(CA_NAME)).toBe(0);
  });

  it('ok/a client that encrypts to the CA certificate still enrolls (the CA key decrypts)', async () => {
    const rep = await enroll('ra-lab', new X509Certificate(caDer), challenge);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.certificates).toHaveLength(1);
  });

  it('ok/the RA certificates are listed with validity and status, and download as DER and PEM', async () => {
    const [ra] = (await getCaCert('ra-lab')).certs;
    if (!ra) throw new Error('no RA certificate');
    const list = await admin('GET', 'endpoints/ra-lab/ra-certificates');
    expect(list.status).toBe(200);
    expect(list.body.value).toEqual([
      expect.objectContaining({
        thumbprintSha256: ra.fingerprint256.replaceAll(':', ''),
        notAfter: new Date(ra.validTo).toISOString(),
        status: 'current',
      }),
    ]);
    const thumb = String(list.body.value?.[0]?.thumbprintSha256);
    const auth = { authorization: `Bearer ${host.adminKey ?? ''}` };
    const der = await fetch(`${host.baseUrl}/api/manage/endpoints/ra-lab/ra-certificates/${thumb}`, {
      headers: auth,
    });
    expect(der.status).toBe(200);
    expect(der.headers.get('content-type')).toBe('application/pkix-cert');
    expect(Buffer.from(await der.arrayBuffer()).equals(ra.raw)).toBe(true);
    const pem = await fetch(
      `${host.baseUrl}/api/manage/endpoints/ra-lab/ra-certificates/${thumb}?format=pem`,
      { headers: auth },
    );
    expect(new X509Certificate(await pem.text()).raw.equals(ra.raw)).toBe(true);
    const anonymous = await fetch(`${host.baseUrl}/api/manage/endpoints/ra-lab/ra-certificates`);
    expect(anonymous.status).toBe(401);
    expect((await admin('GET', 'endpoints/ra-lab/ra-certificates/00FF')).status).toBe(404);
  });

  it('ok/after an RA rotation GetCACert publishes the new RA; requests encrypted to the old one still decrypt', async () => {
    const [old] = (await getCaCert('ra-lab')).certs;
    if (!old) throw new Error('no RA certificate');
    const rotated = await admin('POST', 'endpoints/ra-lab/ra-certificates');
    expect(rotated.status).toBe(201);
    const [fresh] = (await getCaCert('ra-lab')).certs;
    if (!fresh) throw new Error('no RA certificate after the rotation');
    expect(fresh.raw.equals(old.raw)).toBe(false);
    expect(fresh.fingerprint256.replaceAll(':', '')).toBe(rotated.body.thumbprintSha256);
    const rep = await enroll('ra-lab', old, challenge);
    expect(rep.status).toBe(PKIStatus.SUCCESS);
    expect(rep.signerCertificates.map((c) => c.raw.equals(fresh.raw))).toEqual([true]);
    const list = await admin('GET', 'endpoints/ra-lab/ra-certificates');
    expect(list.body.value?.map((c) => c.status)).toEqual(['current', 'previous']);
  });
});
