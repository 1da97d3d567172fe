import type { Settings } from '../config/index.js';
import { builtInEndpoints } from '../endpoints/built-in.js';
import { builtInIntuneEndpoint, type IntuneDeps } from '../endpoints/intune.js';
import { storedIntuneEndpoint, type StoredIntuneDeps } from '../endpoints/intune-stored.js';
import { buildEndpoint } from '../endpoints/kinds.js';
import { accountsOf, endpointsOf, type ManageDeps } from '../endpoints/manage.js';
import { EndpointRegistry } from '../endpoints/registry.js';
import { staticEndpoint } from '../endpoints/static.js';
import { unavailableEndpoint, type ScepEndpoint } from '../scep/endpoint.js';
import { createIntune, type IntuneSources } from './intune.js';

/** The SCEP endpoints: built-in ones from settings, stored ones resolved by name. */
export interface Endpoints {
  /** The settings-defined endpoints (static challenge, Intune), by name. */
  readonly builtIns: ReadonlyMap<string, ScepEndpoint>;
  /** `scep/{name}` → endpoint, cached. */
  readonly registry: EndpointRegistry;
  /** What the management use cases (lib/endpoints/manage.ts, accounts.ts) need. */
  readonly manage: ManageDeps;
  /** The settings-defined Intune connection, when it is enabled and usable. */
  readonly intune: IntuneDeps | undefined;
  /** What stored Intune endpoints need (connections, queues). */
  readonly storedIntune: StoredIntuneDeps;
}

export async function createEndpoints(
  settings: Settings,
  o: IntuneSources & {
    /** How long a resolved endpoint is reused. */
    readonly ttlMs: number;
  },
): Promise<Endpoints> {
  const { documents, clock } = o;
  const { intune, stored: storedIntune } = await createIntune(settings, o);
  const builtIns = settingsEndpoints(settings, intune);
  const registry = new EndpointRegistry({
    builtIns,
    endpoints: endpointsOf(documents),
    build: (e) =>
      buildEndpoint(
        {
          accounts: accountsOf(documents),
          clock,
          intune: (stored, profile) => storedIntuneEndpoint(storedIntune, stored, profile),
        },
        e,
      ),
    log: o.logger,
    ttlMs: o.ttlMs,
  });
  const manage: ManageDeps = {
    docs: documents,
    clock,
    maxValidityDays: settings.core.validityPeriodDays,
    builtIns: builtInEndpoints(builtIns, clock()),
  };
  return { builtIns, registry, manage, intune, storedIntune };
}

/**
 * The settings-defined endpoints: the static-challenge one, and the Intune one (answering 503
 * when its configuration cannot be used).
 */
function settingsEndpoints(settings: Settings, intune: IntuneDeps | undefined): Map<string, ScepEndpoint> {
  const c = settings.core;
  const endpoints = new Map<string, ScepEndpoint>();
  const fixed = staticEndpoint(c.static, c.responseCipher);
  if (fixed) endpoints.set(fixed.name, { ...fixed, raEnabled: c.ra.staticEnabled });
  if (settings.intune.enabled && settings.intune.unavailable !== undefined) {
    endpoints.set(
      'intune',
      unavailableEndpoint('intune', settings.intune.unavailable, settings.intune.profile, c.responseCipher),
    );
  } else if (intune) {
    const e = builtInIntuneEndpoint(settings.intune, intune, c.responseCipher);
    endpoints.set(e.name, { ...e, raEnabled: c.ra.intuneEnabled });
  }
  return endpoints;
}
