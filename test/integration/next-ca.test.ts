import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { startTestHost, type TestHost } from '../helpers/host.js';
import { manageClient, type ManageClient } from '../helpers/manage.js';
import { getCaCertificates } from '../helpers/get-ca-cert.js';
import { getNextCaCert } from '../helpers/next-ca-client.js';

/**
 * GetNextCACert (RFC 8894 §4.7) with the next CA created through the management API, against
 * the CA key in the Key Vault stand-in (through the real SDK) and against the local key files:
 * GetCACaps lists GetNextCACert only once a next CA exists; the reply is signed by the current
 * CA on a CA-mode endpoint and by the RA key on an RA endpoint, and a client written from the RFC
 * accepts it.
 */
describe.each(['keyvault', 'local'] as const)('next CA (%s)', (where) => {
  let vault: FakeKeyVault | undefined;
  let host: TestHost;
  let admin: ManageClient;
  let caDer: Buffer;

  beforeAll(async () => {
    if (where === 'keyvault') {
      vault = await startFakeKeyVault();
      const kv = await vault.initCa({ certificateName: 'scep-ca-roll', subject: 'CN=Roll CA 1, O=tests' });
      host = await startTestHost(
        {
          ...vault.appSettings(kv),
        },
        { credential: vault.credential },
      );
    } else {
      host = await startTestHost();
    }
    admin = manageClient(host.baseUrl, host.adminKey);
    caDer = Buffer.from(AsnConvert.serialize(host.ca));
    expect((await admin('POST', 'endpoints', { name: 'roll-ra', type: 'device-scep' })).status).toBe(201);
    const caMode = { name: 'roll-ca', type: 'device-scep', ra: { enabled: false } };
    expect((await admin('POST', 'endpoints', caMode)).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await host.close();
    await vault?.close();
  });

  const caps = async (endpoint: string): Promise<string[]> => {
    const res = await fetch(`${host.baseUrl}/scep/${endpoint}?operation=GetCACaps`);
    return (await res.text()).split('\n').filter((l) => l !== '');
  };

  const caCertOf = (endpoint: string): Promise<X509Certificate[]> =>
    getCaCertificates(`${host.baseUrl}/scep/${endpoint}`);

  it('fail/without a next CA GetCACaps does not list GetNextCACert and GetNextCACert answers 404', async () => {
    for (const e of ['static', 'roll-ra', 'roll-ca']) expect(await caps(e)).not.toContain('GetNextCACert');
    const res = await fetch(`${host.baseUrl}/scep/roll-ra?operation=GetNextCACert`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('json');
    expect((await admin('GET', 'ca-certificates')).body.value?.map((c) => c.status)).toEqual(['current']);
  });

  it('fail/a CA.Admin request with a malformed subject or validity creates no next CA', async () => {
    const bad = await admin('POST', 'ca-certificates/next', { subject: 'not a name', validityDays: 5 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('subject');
    expect(JSON.stringify(bad.body)).toContain('validityDays');
    expect(await caps('roll-ca')).not.toContain('GetNextCACert');
  });

  it('ok/once created, every endpoint lists GetNextCACert and hands out the next CA signed by its current signer', async () => {
    const created = await admin('POST', 'ca-certificates/next', {
      subject: `CN=Roll CA 2 ${where}, O=tests`,
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('next');
    // In Azure the next CA's key is a Key Vault key of its own, used through Key Vault `sign`.
    if (vault) expect(vault.keyOperations('scep-ca-roll-next')).toBeGreaterThan(0);
    for (const e of ['static', 'roll-ra', 'roll-ca']) expect(await caps(e)).toContain('GetNextCACert');

    const current = new X509Certificate(caDer);
    const [ra] = await caCertOf('roll-ra');
    if (!ra || ra.raw.equals(caDer)) throw new Error('roll-ra did not publish an RA certificate');
    for (const [endpoint, signer] of [
      ['static', current],
      ['roll-ca', current],
      ['roll-ra', ra],
    ] as const) {
      const reply = await getNextCaCert(`${host.baseUrl}/scep/${endpoint}`, signer);
      const [next, ...others] = reply.certificates;
      expect(others).toHaveLength(0);
      if (!next) throw new Error('no next CA certificate');
      expect(next.subject).toContain(`Roll CA 2 ${where}`);
      expect(next.ca).toBe(true);
      expect(next.verify(next.publicKey)).toBe(true);
      expect(next.publicKey.equals(current.publicKey)).toBe(false);
      expect(next.fingerprint256.replace(/:/g, '')).toBe(created.body.thumbprintSha256);
      expect(reply.content.map((c) => c.raw.equals(next.raw))).toEqual([true]);
    }
    // The reply is not signed by the next CA: a client checks it with what it already trusts.
    await expect(getNextCaCert(`${host.baseUrl}/scep/roll-ca`, ra)).rejects.toThrow(/SignerInfo/);
  });

  it('ok/the CA certificates list shows current and next, each downloadable as DER and PEM', async () => {
    const list = await admin('GET', 'ca-certificates');
    expect(list.status).toBe(200);
    expect(list.body.value?.map((c) => c.status)).toEqual(['current', 'next']);
    const next = list.body.value?.[1];
    const pem = await fetch(
      `${host.baseUrl}/api/manage/ca-certificates/${String(next?.thumbprintSha256)}?format=pem`,
      {
        headers: { authorization: `Bearer ${host.adminKey ?? ''}` },
      },
    );
    expect(pem.status).toBe(200);
    const text = await pem.text();
    expect(new X509Certificate(text).fingerprint256.replace(/:/g, '')).toBe(next?.thumbprintSha256);
    const der = await fetch(
      `${host.baseUrl}/api/manage/ca-certificates/${String(list.body.value?.[0]?.thumbprintSha256)}`,
      {
        headers: { authorization: `Bearer ${host.adminKey ?? ''}` },
      },
    );
    expect(Buffer.from(await der.arrayBuffer()).equals(caDer)).toBe(true);
  });

  it('fail/a second next CA while one waits is refused with 409 and changes nothing', async () => {
    const before = (await admin('GET', 'ca-certificates')).body.value;
    const again = await admin('POST', 'ca-certificates/next', {});
    expect(again.status).toBe(409);
    expect((await admin('GET', 'ca-certificates')).body.value).toEqual(before);
  });
});
