import type { Endpoint, EndpointType } from '../model/endpoint.js';
import { DEFAULT_PROFILE } from '../model/profile.js';
import type { ScepEndpoint } from '../scep/endpoint.js';

const TYPES: Record<string, EndpointType> = { static: 'device-scep', intune: 'device-intune' };

/**
 * The settings-defined endpoints as the management API shows them: read-only (`builtIn`),
 * with the profile their settings give (key and name rules are the CA-wide defaults).
 */
export function builtInEndpoints(endpoints: ReadonlyMap<string, ScepEndpoint>, now: Date): Endpoint[] {
  return [...endpoints.values()].map((e) => ({
    id: e.name,
    name: e.name,
    displayName: e.name === 'intune' ? 'Microsoft Intune (settings)' : 'Static challenge (settings)',
    type: TYPES[e.name] ?? 'device-scep',
    enabled: true,
    profile: {
      ...DEFAULT_PROFILE,
      validityDays: e.profile.issuance.validityDays,
      keyUsage: [...e.profile.issuance.keyUsage],
      ekus: [...e.profile.issuance.ekus],
      renewal: {
        allowed: e.profile.renewal.allowed,
        revokeSuperseded: e.profile.renewal.revokeSuperseded ?? false,
      },
      replyCipher: e.profile.replyCipher,
      storeCertificate: e.profile.storeCertificate,
    },
    delegatedTo: [],
    ra: { enabled: e.raEnabled ?? false },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    builtIn: true,
  }));
}
