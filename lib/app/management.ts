import type { CaApiDeps } from '../admin/ca.js';
import type { ManageApi } from '../admin/index.js';
import type { AuditLog } from '../audit/sink.js';
import type { Settings } from '../config/index.js';
import type { ManageDeps } from '../endpoints/manage.js';
import type { RaCertificates } from '../ra/certificates.js';
import type { CertificateStore } from '../store/types.js';

/**
 * The management API: the local admin key (created in the data folder on first start, never in
 * Azure) and, when an app registration is configured, Entra ID tokens with the CA.* app roles.
 */
export async function createManagement(
  settings: Settings,
  manage: ManageDeps,
  o: {
    store: CertificateStore;
    endpointCache: { forget(name: string): void };
    /** Where every management change is recorded. */
    audit: AuditLog;
    realm: string;
    /** Absent in tools that manage without serving SCEP (the admin CLI). */
    ra?: RaCertificates;
    ca?: Omit<CaApiDeps, 'clock' | 'audit'>;
  },
): Promise<{ admin: ManageApi; adminKey: string | undefined }> {
  const [{ createManageApi }, { loadOrCreateAdminKey }] = await Promise.all([
    import('../admin/index.js'),
    import('../admin/admin-key.js'),
  ]);
  const m = settings.manage;
  const adminKey = m.inAzure ? undefined : await loadOrCreateAdminKey(settings.core.dataDir);
  let tokens: import('../auth/entra.js').EntraTokenValidator | undefined;
  if (m.entra) {
    const { EntraTokenValidator } = await import('../auth/entra.js');
    const { ROLES } = await import('../admin/roles.js');
    tokens = new EntraTokenValidator({ ...m.entra, requiredRole: ROLES, now: manage.clock });
  }
  const admin = createManageApi({
    endpoints: manage,
    endpointCache: o.endpointCache,
    certificates: o.store,
    audit: o.audit,
    adminKey,
    tokens,
    realm: o.realm,
    ...(o.ra ? { ra: o.ra } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
  });
  return { admin, adminKey };
}
