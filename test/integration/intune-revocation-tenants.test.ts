import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApp } from '../../lib/app.js';
import type { AuditEvent } from '../../lib/audit/event.js';
import { canonicalSerial } from '../../lib/revocation/reasons.js';
import { PKIStatus } from '../../lib/scep/types.js';
import { startFakeIntune, type FakeIntune } from '../fakes/intune-server.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { storedEvents } from '../helpers/audit.js';
import type { TestHost } from '../helpers/host.js';
import { enrollIntune, INTUNE_PATH, intuneEnv, startIsolatedHost } from '../helpers/intune-flow.js';
import { manageClient, type ManageClient } from '../helpers/manage.js';
import { ocspRequest, readOcspResponse } from '../helpers/revocation.js';

/**
 * Intune revocation with several tenants: every tenant whose revocation is on (the
 * settings-defined connection, stored Intune endpoints with `intune.revocationEnabled`) is pulled
 * through its own connection — the real token, Graph discovery, Key Vault and PkiConnectorFEService
 * clients against the fakes, where each tenant has its own revocation queue — and may revoke
 * only what its own endpoints issued. The timer function itself runs each tick.
 */

let fake: FakeIntune;
let vault: FakeKeyVault;
let host: TestHost;
let api: ManageClient;
let caDer: Uint8Array;
/** One tick of the timer function (loaded once the host has set up the Functions runtime). */
let tick: () => Promise<void>;
type Tenant = { tenantId: string; clientId: string; clientSecret: string };
let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  fake = await startFakeIntune();
  vault = await startFakeKeyVault();
  const kv = await vault.initCa({ certificateName: 'revoke-ca', subject: 'CN=Revoke Tenants CA' });
  a = fake.addTenant();
  b = fake.addTenant();
  host = await startIsolatedHost(
    {
      ...intuneEnv(fake),
      AppConfig__IntuneValidation__RevocationEnabled: 'true',
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
    },
    { credential: vault.credential },
  );
  api = manageClient(host.baseUrl, host.adminKey);
  caDer = (await getApp()).ca.certificateDer;
  const { intuneRevocation } = await import('../../functions/intuneRevocation.js');
  const { InvocationContext } = (await import('@azure/functions')).default;
  tick = () => intuneRevocation({} as Timer, new InvocationContext({ functionName: 'intuneRevocation' }));
  for (const [name, t] of [
    ['tenant-a', a],
    ['tenant-b', b],
  ] as const)
    await createEndpoint(name, t, t.clientSecret);
}, 120_000);
afterAll(async () => {
  await host.close();
  await fake.close();
  await vault.close();
});

async function createEndpoint(name: string, t: Tenant, secret: string): Promise<void> {
  const res = await api('POST', 'endpoints', {
    name,
    type: 'device-intune',
    ra: { enabled: false },
    intune: {
      tenantId: t.tenantId,
      applicationId: t.clientId,
      credential: { kind: 'secret', keyVaultSecretUri: vault.setSecret(`${name}-secret`, secret) },
      revocationEnabled: true,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** A certificate enrolled through `path` (a tenant's endpoint, the built-in Intune path or static). */
async function enrolled(path: string, challenge: string): Promise<{ serial: string; issuer: string }> {
  const e = await enrollIntune(host, { subject: `CN=device-${randomUUID()}`, challenge, path });
  expect(e.rep.status, e.rep.failInfoText).toBe(PKIStatus.SUCCESS);
  const [cert] = e.rep.certificates;
  if (!cert) throw new Error('no certificate');
  // As Intune hands it back: upper-case hex, the issuer as Windows prints it.
  return { serial: cert.serialNumber, issuer: cert.issuer.replace(/\n/g, ', ') };
}

const ask = (tenantId: string, c: { serial: string; issuer: string }): string => {
  const requestContext = randomUUID();
  fake.revocationFor(tenantId).pending.push({
    requestContext,
    serialNumber: c.serial,
    issuerName: c.issuer,
    caConfiguration: null,
  });
  return requestContext;
};

const resultOf = (tenantId: string, ctx: string) =>
  fake.revocationFor(tenantId).results.find((r) => r.requestContext === ctx);

async function ocspState(serial: string): Promise<string | undefined> {
  const res = await host.post('/ocsp', ocspRequest(caDer, [serial.toLowerCase()]), {
    'content-type': 'application/ocsp-request',
  });
  return readOcspResponse(new Uint8Array(await res.arrayBuffer())).answers[0]?.state;
}

const eventsFor = async (serial: string): Promise<AuditEvent[]> =>
  (await storedEvents({ serialNumber: canonicalSerial(serial) ?? serial })).filter(
    (e) => e.kind === 'revocation',
  );

describe('Intune revocation, one pull per tenant', () => {
  it('ok/each tenant revokes its own certificate, the settings-defined connection as before', async () => {
    const certA = await enrolled('/scep/tenant-a', fake.challengeFor(a.tenantId));
    const certB = await enrolled('/scep/tenant-b', fake.challengeFor(b.tenantId));
    const certBuiltIn = await enrolled(INTUNE_PATH, fake.challengeFor(fake.tenantId));
    const ctxA = ask(a.tenantId, certA);
    const ctxB = ask(b.tenantId, certB);
    const ctxBuiltIn = ask(fake.tenantId, certBuiltIn);

    await tick();

    for (const [tenantId, ctx] of [
      [a.tenantId, ctxA],
      [b.tenantId, ctxB],
      [fake.tenantId, ctxBuiltIn],
    ] as const) {
      expect(resultOf(tenantId, ctx)).toMatchObject({ succeeded: true, errorCode: 'None' });
      expect(fake.revocationFor(tenantId).pending).toEqual([]);
    }
    for (const c of [certA, certB, certBuiltIn]) expect(await ocspState(c.serial)).toBe('revoked');
    const [revokedA] = await eventsFor(certA.serial);
    expect(revokedA).toMatchObject({
      actor: `intune:${a.tenantId}`,
      endpoint: 'tenant-a',
      outcome: 'revoked',
      reason: 'certificate-revoked',
    });
    expect((await eventsFor(certB.serial))[0]).toMatchObject({
      actor: `intune:${b.tenantId}`,
      endpoint: 'tenant-b',
    });
    expect((await eventsFor(certBuiltIn.serial))[0]).toMatchObject({ actor: 'intune', endpoint: 'intune' });
    expect(fake.violations).toEqual([]);
  });

  it("fail/tenant A asking for tenant B's or a static certificate is told CertificateNotFoundError and nothing is revoked", async () => {
    const certB = await enrolled('/scep/tenant-b', fake.challengeFor(b.tenantId));
    const certStatic = await enrolled('/scep/static', 'test-challenge-1');
    const ctxB = ask(a.tenantId, certB);
    const ctxStatic = ask(a.tenantId, certStatic);

    await tick();

    for (const ctx of [ctxB, ctxStatic])
      expect(resultOf(a.tenantId, ctx)).toMatchObject({
        succeeded: false,
        errorCode: 'CertificateNotFoundError',
      });
    // Tenant B's queue never saw it; both certificates stay good.
    expect(fake.revocationFor(b.tenantId).results.some((r) => r.requestContext === ctxB)).toBe(false);
    for (const c of [certB, certStatic]) {
      expect(await ocspState(c.serial)).toBe('good');
      expect((await (await getApp()).store.getBySerial(canonicalSerial(c.serial) ?? ''))?.status).toBe(
        'issued',
      );
    }
    const [refused] = await eventsFor(certB.serial);
    expect(refused).toMatchObject({
      actor: `intune:${a.tenantId}`,
      endpoint: 'tenant-a',
      outcome: 'refused',
      reason: 'revocation-other-tenant',
    });
    expect(refused?.message).toContain(a.tenantId);
    expect(refused?.message).not.toContain('tenant-b');
    expect((await eventsFor(certStatic.serial))[0]?.reason).toBe('revocation-other-tenant');
  });

  it("fail/tenant A's Intune answering 500 and tenant C's token refused do not stop tenant B; A's request is done on the next tick", async () => {
    const c = fake.addTenant();
    await createEndpoint('tenant-c', c, 'not-the-secret');
    const certA = await enrolled('/scep/tenant-a', fake.challengeFor(a.tenantId));
    const certB = await enrolled('/scep/tenant-b', fake.challengeFor(b.tenantId));
    const ctxA = ask(a.tenantId, certA);
    const ctxB = ask(b.tenantId, certB);
    ask(c.tenantId, certB);
    fake.revocationFor(a.tenantId).fault = 'download';

    const failed = await tick().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toContain(a.tenantId);
    expect((failed as Error).message).toContain(c.tenantId);
    expect((failed as Error).message).not.toContain(b.tenantId);
    expect(resultOf(b.tenantId, ctxB)).toMatchObject({ succeeded: true });
    expect(await ocspState(certB.serial)).toBe('revoked');
    expect(await ocspState(certA.serial)).toBe('good');
    // Tenant C's pending request (B's certificate) was never answered by anyone.
    expect(fake.revocationFor(c.tenantId).pending).toHaveLength(1);

    fake.revocationFor(a.tenantId).fault = undefined;
    expect((await api('DELETE', 'endpoints/tenant-c')).status).toBe(204);
    await tick();
    expect(resultOf(a.tenantId, ctxA)).toMatchObject({ succeeded: true });
    expect(await ocspState(certA.serial)).toBe('revoked');
  });
});

describe('intune.revocationEnabled in the management API', () => {
  it('ok/shown on every Intune endpoint, false unless set', async () => {
    const created = await api('POST', 'endpoints', {
      name: 'tenant-d',
      type: 'client-intune',
      intune: {
        tenantId: randomUUID(),
        applicationId: randomUUID(),
        credential: { kind: 'managedIdentity' },
      },
    });
    expect(created.status).toBe(201);
    expect((created.body as { intune: unknown }).intune).toMatchObject({ revocationEnabled: false });
    const patched = await api('PATCH', 'endpoints/tenant-d', { intune: { revocationEnabled: true } });
    expect(patched.status).toBe(200);
    expect((patched.body as { intune: unknown }).intune).toMatchObject({ revocationEnabled: true });
  });

  it('fail/a value that is not a boolean is refused with the field named', async () => {
    const res = await api('PATCH', 'endpoints/tenant-a', { intune: { revocationEnabled: 'yes' } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('intune.revocationEnabled');
  });
});
