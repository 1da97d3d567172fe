import type { IntuneClient } from '../intune/client.js';
import { isIntuneType, soleOwner, type Endpoint, type IntuneConnection } from '../model/endpoint.js';
import { allPages, type DocumentCollection } from '../store/documents.js';

/**
 * Which certificates one Intune tenant may revoke, who it is in audit events, and where the
 * requests it was refused are recorded.
 */
export interface RevocationScope {
  readonly tenantId: string;
  /** `intune` for the settings-defined connection, `intune:<tenant id>` for a stored endpoint's. */
  readonly actor: string;
  /** Endpoints (records' `endpoint`) whose certificates this tenant may revoke. */
  readonly endpoints: ReadonlySet<string>;
  /** This tenant's endpoints with revocation off: refused with a reason of their own. */
  readonly disabled: ReadonlySet<string>;
  /** Where a refused request is recorded: the tenant's first endpoint and that endpoint's owner. */
  readonly place: { readonly endpoint: string; readonly organization?: string; readonly department?: string };
}

/** One pull per tenant: its scope and the client it pulls with. */
export interface TenantRevocation extends RevocationScope {
  readonly client: IntuneClient;
}

export interface TenantSources {
  /** The settings-defined `intune` endpoint's connection, when Intune validation is on. */
  readonly builtIn:
    | { readonly tenantId: string; readonly client: IntuneClient; readonly revocationEnabled: boolean }
    | undefined;
  readonly endpoints: DocumentCollection<Endpoint>;
  readonly clientFor: (c: IntuneConnection) => IntuneClient;
}

interface Member {
  readonly tenantId: string;
  readonly endpoint: string;
  readonly enabled: boolean;
  readonly client: () => IntuneClient;
  readonly builtIn: boolean;
  readonly owner: ReturnType<typeof soleOwner>;
}

/**
 * The tenants to pull on this timer tick, grouped by tenant id: Intune keeps one revocation queue
 * per tenant, so two connections to the same tenant (the settings-defined one and a stored
 * endpoint's, or two app registrations) must not both pull it, or each would refuse the other's
 * requests and Intune would count them as answered. A tenant is pulled when at least one of its
 * endpoints has revocation on, with the first such connection (the settings-defined one first,
 * then stored endpoints by name); it may revoke exactly the certificates issued through its
 * endpoints with revocation on. Built-in `intune` certificates include those enrolled at
 * `certsrv/mscep/mscep.dll`, which records name `intune`.
 */
export async function tenantsToPull(s: TenantSources): Promise<TenantRevocation[]> {
  const members: Member[] = [];
  if (s.builtIn) {
    const b = s.builtIn;
    members.push({
      tenantId: b.tenantId.toLowerCase(),
      endpoint: 'intune',
      enabled: b.revocationEnabled,
      client: () => b.client,
      builtIn: true,
      owner: {},
    });
  }
  for await (const items of allPages(s.endpoints)) {
    for (const e of items) {
      const c = e.intune;
      if (!isIntuneType(e.type) || !c) continue;
      members.push({
        tenantId: c.tenantId.toLowerCase(),
        endpoint: e.name,
        enabled: c.revocationEnabled === true,
        client: () => s.clientFor(c),
        builtIn: false,
        owner: soleOwner(e.delegatedTo),
      });
    }
  }
  const byTenant = new Map<string, Member[]>();
  for (const m of members) byTenant.set(m.tenantId, [...(byTenant.get(m.tenantId) ?? []), m]);
  return [...byTenant].flatMap(([tenantId, group]) => {
    const on = group.filter((m) => m.enabled);
    const lead = on[0];
    if (!lead) return [];
    return [
      {
        tenantId,
        actor: lead.builtIn ? 'intune' : `intune:${tenantId}`,
        endpoints: new Set(on.map((m) => m.endpoint)),
        disabled: new Set(group.filter((m) => !m.enabled).map((m) => m.endpoint)),
        place: { endpoint: lead.endpoint, ...lead.owner },
        client: lead.client(),
      },
    ];
  });
}
