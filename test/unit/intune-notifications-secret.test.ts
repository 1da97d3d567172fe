import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/index.js';
import { intuneNotifications } from '../../lib/endpoints/intune-stored.js';
import { endpointsOf } from '../../lib/endpoints/manage.js';
import { IntuneConnections } from '../../lib/intune/connections.js';
import { FailureOutbox } from '../../lib/intune/failure-outbox.js';
import { encodeNotificationMessage } from '../../lib/intune/notification-message.js';
import { processNotification } from '../../lib/intune/notification-worker.js';
import { memoryLogger } from '../../lib/log.js';
import { MemoryMessageQueue } from '../../lib/queue/memory.js';
import { MemoryDocumentStore } from '../../lib/store/documents-memory.js';
import { MemoryCertificateStore } from '../../lib/store/memory.js';

/**
 * The settings-defined Intune connection whose client secret is an unresolved Key Vault
 * reference: its notifications wait and are retried (a dependency that is not available yet),
 * as any token failure is, instead of going to the poison queue as given up.
 */
const REF = '@Microsoft.KeyVault(VaultName=contoso-ca-kv;SecretName=intune-app-secret)';
const NOW = new Date('2026-12-01T10:00:00Z');

function worker(env: Record<string, string>) {
  const settings = loadSettings({
    AppConfig__StaticValidation__RequestPassword: 'a-static-challenge-0123456789',
    AppConfig__IntuneValidation__Enabled: 'true',
    AppConfig__AuthConfig__ApplicationId: '66666666-7777-8888-9999-000000000000',
    AppConfig__AuthConfig__TenantId: '11111111-2222-3333-4444-555555555555',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    ...env,
  });
  const documents = new MemoryDocumentStore();
  const queue = new MemoryMessageQueue('intune-notifications');
  const poison = new MemoryMessageQueue('intune-notifications-poison');
  const view = intuneNotifications({
    settings: settings.intune,
    builtIn: undefined,
    queues: { queue, poison },
    connections: new IntuneConnections(settings.intune, () => Promise.reject(new Error('unused'))),
    outbox: new FailureOutbox(documents.collection('state'), () => NOW),
    endpoints: endpointsOf(documents),
    store: new MemoryCertificateStore(),
    logger: memoryLogger(),
    clock: () => NOW,
  })!;
  const deliver = (endpoint: string | undefined) =>
    processNotification(
      encodeNotificationMessage({
        v: 1,
        kind: 'failure',
        endpoint,
        transactionId: 'tx-1',
        certificateRequest: 'MIIB',
        hResult: -2147467259,
        description: 'denied',
        attempt: 0,
      }),
      { dequeueCount: 1 },
      { ...view, now: view.clock, log: view.logger },
    );
  return { queue, poison, deliver };
}

describe('Intune notifications while the client secret is unresolved', () => {
  it('fail/the built-in endpoint’s notification is retried with back-off, not poisoned', async () => {
    for (const endpoint of ['intune', undefined]) {
      const { queue, poison, deliver } = worker({ AppConfig__AuthConfig__ApplicationKey: REF });
      expect(await deliver(endpoint)).toBe('retry-scheduled');
      expect(poison.texts).toEqual([]);
      expect(queue.texts).toHaveLength(1);
      expect(JSON.parse(queue.texts[0]!)).toMatchObject({
        attempt: 1,
        lastError: expect.stringContaining('AppConfig__AuthConfig__ApplicationKey') as unknown,
      });
    }
  });

  it('ok/with Intune validation off there is still no connection: the notification goes to the poison queue', async () => {
    const { poison, deliver } = worker({ AppConfig__IntuneValidation__Enabled: 'false' });
    expect(await deliver('intune')).toBe('failed');
    expect(poison.texts).toHaveLength(1);
  });
});
