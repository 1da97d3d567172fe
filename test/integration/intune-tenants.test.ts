import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getApp } from '../../lib/app.js';
import { runRedrive } from '../../lib/intune/functions.js';
import { FailInfo, PKIStatus } from '../../lib/scep/types.js';
import { startFakeIntune, type FakeIntune } from '../fakes/intune-server.js';
import { startFakeKeyVault, type FakeKeyVault } from '../fakes/keyvault-server.js';
import { auditEvents } from '../helpers/audit.js';
import type { TestHost } from '../helpers/host.js';
import { callsFor, enrollIntune, intuneEnv, startIsolatedHost, waitFor } from '../helpers/intune-flow.js';
import { manageClient, type ManageClient } from '../helpers/manage.js';

/**
 * Several Intune tenants on one CA: stored client-intune/device-intune endpoints, each with its
 * own connection (tenant, app registration, secret in Key Vault). Every challenge is validated,
 * and every success/failure notification sent, through the endpoint's own tenant: the fake
 * Intune and the fake Key Vault are driven through the real token, Graph, Intune and Key Vault
 * clients, the notifications through Azurite and the queue trigger.
 */

let fake: FakeIntune;
let vault: FakeKeyVault;
let host: TestHost;
let api: ManageClient;
const tenants: Record<'a' | 'b', { tenantId: string; clientId: string; clientSecret: string }> = {
  a: { tenantId: '', clientId: '', clientSecret: '' },
  b: { tenantId: '', clientId: '', clientSecret: '' },
};

beforeAll(async () => {
  fake = await startFakeIntune();
  vault = await startFakeKeyVault();
  const kv = await vault.initCa({ certificateName: 'tenants-ca', subject: 'CN=Tenants CA' });
  tenants.a = fake.addTenant();
  tenants.b = fake.addTenant();
  host = await startIsolatedHost(
    {
      ...intuneEnv(fake),
      AppConfig__KeyVaultConfig__KeyVaultURL: kv.url ?? vault.url,
      AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: kv.certificateName,
    },
    { credential: vault.credential },
  );
  api = manageClient(host.baseUrl, host.adminKey);
  for (const t of ['a', 'b'] as const) {
    const res = await api('POST', 'endpoints', {
      name: `tenant-${t}`,
      type: t === 'a' ? 'device-intune' : 'client-intune',
      ra: { enabled: false },
      intune: {
        tenantId: tenants[t].tenantId,
        applicationId: tenants[t].clientId,
        credential: {
          kind: 'secret',
          keyVaultSecretUri: vault.setSecret(`intune-${t}`, tenants[t].clientSecret),
        },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
}, 120_000);
afterAll(async () => {
  await host.close();
  await fake.close();
  await vault.close();
});

/**
 * An enrollment on `tenant-<t>` that Intune validated but the CA could not sign: the vault
 * refuses the certificate signature, and the device gets a signed FAILURE.
 */
async function enrollWithSignFault(t: 'a' | 'b', transactionId: string): Promise<void> {
  vault.fail('sign', { status: 403, code: 'Forbidden', times: 1 });
  const e = await enrollIntune(host, {
    subject: `CN=${transactionId.toLowerCase()}`,
    challenge: fake.challengeFor(tenants[t].tenantId),
    path: `/scep/tenant-${t}`,
    transactionId,
  });
  expect(e.rep.status).toBe(PKIStatus.FAILURE);
  vault.clearFaults();
}

describe('stored Intune endpoints, one tenant each', () => {
  it.each(['a', 'b'] as const)(
    'ok/tenant %s: the challenge is validated and the success notification sent through its own tenant',
    async (t) => {
      const tenantId = tenants[t].tenantId;
      const e = await enrollIntune(host, {
        subject: `CN=device-${t}`,
        challenge: fake.challengeFor(tenantId),
        path: `/scep/tenant-${t}`,
      });
      expect(e.rep.status, e.rep.failInfoText).toBe(PKIStatus.SUCCESS);
      expect(callsFor(fake, 'validateRequest', e.transactionId).map((c) => c.tenantId)).toEqual([tenantId]);
      const [sent] = await waitFor('successNotification', () => {
        const calls = callsFor(fake, 'successNotification', e.transactionId);
        return calls.length > 0 ? calls : undefined;
      });
      expect(sent?.tenantId).toBe(tenantId);
      expect(sent?.status).toBe(200);
      expect(fake.violations).toEqual([]);
    },
  );

  it("fail/another tenant's challenge: SCEP FAILURE badRequest, the catalogue reason in the audit log, no certificate", async () => {
    const e = await enrollIntune(host, {
      subject: 'CN=wrong-tenant',
      challenge: fake.challengeFor(tenants.a.tenantId),
      path: '/scep/tenant-b',
    });
    expect(e.rep.status).toBe(PKIStatus.FAILURE);
    expect(e.rep.failInfo).toBe(FailInfo.badRequest);
    expect(e.rep.certificates).toHaveLength(0);
    const [validated] = callsFor(fake, 'validateRequest', e.transactionId);
    expect(validated).toMatchObject({ tenantId: tenants.b.tenantId, code: 'ChallengeDecryptionError' });
    const events = await waitFor('the refusal in the audit log', async () => {
      const v = await auditEvents(host, `transactionId=${e.transactionId}`, host.adminKey ?? '');
      return v.length > 0 ? v : undefined;
    });
    expect(events[0]).toMatchObject({
      endpoint: 'tenant-b',
      outcome: 'refused',
      reason: 'intune:ChallengeDecryptionError',
    });
    // Spec §7: never a failureNotification for a failed validateRequest.
    expect(callsFor(fake, 'failureNotification', e.transactionId)).toHaveLength(0);
  });

  it('ok/an issuance failure after validation is reported to the endpoint’s own tenant', async () => {
    const tenantId = tenants.b.tenantId;
    await enrollWithSignFault('b', 'TENANT-B-SIGN-FAULT');
    const [call] = await waitFor('failureNotification', () => {
      const calls = callsFor(fake, 'failureNotification', 'TENANT-B-SIGN-FAULT');
      return calls.length > 0 ? calls : undefined;
    });
    expect(call).toMatchObject({ tenantId, status: 200 });
    expect(callsFor(fake, 'validateRequest', 'TENANT-B-SIGN-FAULT').map((c) => c.tenantId)).toEqual([
      tenantId,
    ]);
  });

  it('fail/regression: a validated transaction whose FAILURE could not be signed (HTTP 503) is not announced as failed; the retry completes it and Intune hears only the success', async () => {
    const tx = 'TENANT-B-RETRIED';
    const request = {
      subject: `CN=${tx.toLowerCase()}`,
      challenge: fake.challengeFor(tenants.b.tenantId),
      path: '/scep/tenant-b',
      transactionId: tx,
    };
    // The vault refuses the certificate signature and the FAILURE's: HTTP 503, no CertRep.
    vault.fail('sign', { status: 403, code: 'Forbidden', times: 2 });
    await expect(enrollIntune(host, request)).rejects.toThrow(/HTTP 503/);
    vault.clearFaults();
    // The device got no CertRep, so it sends the same request again once the vault is back.
    const e = await enrollIntune(host, request);
    expect(e.rep.status, e.rep.failInfoText).toBe(PKIStatus.SUCCESS);
    const [sent] = await waitFor('successNotification', () => {
      const calls = callsFor(fake, 'successNotification', tx);
      return calls.length > 0 ? calls : undefined;
    });
    expect(sent).toMatchObject({ tenantId: tenants.b.tenantId, status: 200 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(callsFor(fake, 'failureNotification', tx)).toHaveLength(0);
  });

  it('ok/regression: a failure notification whose queue write failed is kept and, once the queue is back, delivered exactly once', async () => {
    const app = await getApp();
    const queue = app.intuneNotifications!.queue;
    // The queue is down for the failure notification's write.
    const send = vi.spyOn(queue, 'send').mockRejectedValueOnce(new Error('queue unavailable'));
    const tenantId = tenants.a.tenantId;
    await enrollWithSignFault('a', 'TENANT-A-QUEUE-OUTAGE');
    expect(send).toHaveBeenCalledTimes(1);
    send.mockRestore();
    // Nothing reached Intune (the queue worker polls every 0.5 s).
    await new Promise((r) => setTimeout(r, 1500));
    expect(callsFor(fake, 'failureNotification', 'TENANT-A-QUEUE-OUTAGE')).toHaveLength(0);

    // The queue is back: the re-drive timer queues the kept message; a second run finds nothing.
    const first = await runRedrive(app);
    expect(first).toMatchObject({ requeued: 1, failed: 0 });
    expect(await runRedrive(app)).toMatchObject({ requeued: 0, failed: 0 });
    const [call] = await waitFor('failureNotification', () => {
      const calls = callsFor(fake, 'failureNotification', 'TENANT-A-QUEUE-OUTAGE');
      return calls.length > 0 ? calls : undefined;
    });
    expect(call).toMatchObject({ tenantId, status: 200 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(callsFor(fake, 'failureNotification', 'TENANT-A-QUEUE-OUTAGE')).toHaveLength(1);
  });
});
