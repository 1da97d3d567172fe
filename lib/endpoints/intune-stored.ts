import type { IntuneSettings } from '../config/intune.js';
import type { EnrollmentProfile } from '../enroll/endpoint.js';
import type { IntuneConnections } from '../intune/connections.js';
import type { FailureOutbox } from '../intune/failure-outbox.js';
import type { NotifyClient } from '../intune/notification-worker.js';
import type { Logger } from '../log.js';
import { isIntuneType, type Endpoint } from '../model/endpoint.js';
import type { MessageQueue } from '../queue/types.js';
import { unavailableEndpoint, type ScepEndpoint } from '../scep/endpoint.js';
import type { DocumentCollection } from '../store/documents.js';
import type { CertificateStore } from '../store/types.js';
import { intuneEndpoint, type IntuneDeps } from './intune.js';

/** What the notification worker needs: the queues, and the Intune connection of each endpoint. */
export interface IntuneNotifications {
  readonly queue: MessageQueue;
  readonly poison: MessageQueue;
  readonly store: CertificateStore;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly clientFor: (endpoint: string | undefined) => Promise<NotifyClient | undefined>;
  readonly outbox: FailureOutbox;
}

export interface StoredIntuneDeps {
  readonly settings: IntuneSettings;
  /** The settings-defined `intune` endpoint's deps, when it is configured. */
  readonly builtIn: IntuneDeps | undefined;
  /** The notification queues; undefined when no queue connection is configured. */
  readonly queues: { readonly queue: MessageQueue; readonly poison: MessageQueue } | undefined;
  readonly connections: IntuneConnections;
  readonly outbox: FailureOutbox;
  readonly endpoints: DocumentCollection<Endpoint>;
  readonly store: CertificateStore;
  readonly logger: Logger;
  readonly clock: () => Date;
}

/**
 * Stored client-intune/device-intune endpoints: the same Intune endpoint as the settings-defined
 * one, with the stored endpoint's own connection (lib/intune/connections.ts) and the shared
 * notification queue. The worker finds a message's connection by its endpoint name.
 */
export function storedIntuneEndpoint(
  d: StoredIntuneDeps,
  e: Endpoint,
  profile: EnrollmentProfile,
): ScepEndpoint {
  const problem = !d.queues
    ? `Intune endpoints need the notification queue: set ${d.settings.queue.connectionSetting}`
    : !e.intune
      ? 'the endpoint has no Intune connection'
      : undefined;
  if (problem !== undefined || !d.queues || !e.intune)
    return unavailableEndpoint(e.name, problem ?? '', profile.issuance, profile.replyCipher);
  const deps: IntuneDeps = {
    client: d.connections.clientFor(e.intune),
    ...d.queues,
    store: d.store,
    logger: d.logger,
    clock: d.clock,
    outbox: d.outbox,
  };
  return intuneEndpoint(e.name, d.settings, deps, profile);
}

/** The worker's view; undefined when there is no queue to work on. */
export function intuneNotifications(d: StoredIntuneDeps): IntuneNotifications | undefined {
  if (!d.queues) return undefined;
  return {
    ...d.queues,
    store: d.store,
    logger: d.logger,
    clock: d.clock,
    outbox: d.outbox,
    clientFor: async (name) => {
      if (name === undefined || name === 'intune') return d.builtIn?.client ?? secretUnavailable(d.settings);
      const e = await d.endpoints.get(name, name);
      return e && isIntuneType(e.type) && e.intune ? d.connections.clientFor(e.intune) : undefined;
    },
  };
}

/**
 * The settings-defined connection whose client secret did not resolve (an unavailable Key Vault
 * reference) is still a connection: its notifications fail as a token failure does (a stored
 * endpoint's secret read from Key Vault fails so too) and are retried with back-off, not given up.
 */
function secretUnavailable(s: IntuneSettings): NotifyClient | undefined {
  if (!s.enabled || s.unavailable === undefined) return undefined;
  const result = {
    ok: false,
    kind: 'token',
    message: `could not read the client secret: ${s.unavailable}`,
  } as const;
  return {
    successNotification: () => Promise.resolve(result),
    failureNotification: () => Promise.resolve(result),
  };
}
