import type { AuditLog } from '../audit/sink.js';
import type { EntraTokenValidator } from '../auth/entra.js';
import { accountsOf, endpointsOf, type ManageDeps } from '../endpoints/manage.js';
import type { Organization } from '../model/organization.js';
import type { CertificateStore } from '../store/types.js';
import { Accounts } from './accounts.js';
import type { AdministratorDoc } from './administrators.js';
import { Administrators } from './administrators.js';
import { auditChangeLog, type ChangeLog } from './audit.js';
import { ManageAuth } from './auth.js';
import { CaApi, type CaApiDeps } from './ca.js';
import { Certificates } from './certificates.js';
import { Departments } from './departments.js';
import type { RaCertificates } from '../ra/certificates.js';
import { RaCertificatesApi } from './ra-certificates.js';
import { Endpoints } from './endpoints.js';
import { Organizations } from './organizations.js';
import { OwnerReferences } from './references.js';

/** The management plane's use cases, as the `api/manage/` functions and the CLI reach them. */
export interface ManageApi {
  readonly auth: ManageAuth;
  readonly changes: ChangeLog;
  readonly endpoints: Endpoints;
  readonly accounts: Accounts;
  readonly organizations: Organizations;
  readonly departments: Departments;
  readonly administrators: Administrators;
  readonly certificates: Certificates;
  readonly raCertificates: RaCertificatesApi;
  readonly ca: CaApi;
}

export interface ManageApiDeps {
  /** The endpoint use cases' dependencies (documents, clock, validity cap, built-ins). */
  readonly endpoints: ManageDeps;
  /** This instance's endpoint cache, so that a change applies to its next request. */
  readonly endpointCache: { forget(name: string): void };
  readonly certificates: CertificateStore;
  /** Where every change is recorded (the audit trail). */
  readonly audit: AuditLog;
  /** Local start only; undefined in Azure, where the admin key is refused. */
  readonly adminKey: string | undefined;
  readonly tokens: EntraTokenValidator | undefined;
  readonly realm: string;
  /** Per-endpoint RA certificates (RA mode); absent in tools that do not serve SCEP. */
  readonly ra?: RaCertificates;
  /** The CA certificates and the next CA; absent in tools that do not serve SCEP. */
  readonly ca?: Omit<CaApiDeps, 'clock' | 'audit'>;
}

/** Built once per worker by the composition root. */
export function createManageApi(d: ManageApiDeps): ManageApi {
  const docs = d.endpoints.docs;
  const changes = auditChangeLog(d.audit);
  const admins = docs.collection<AdministratorDoc>('admins');
  const organizations = new Organizations(
    docs.collection<Organization>('organizations'),
    changes,
    d.endpoints.clock,
    new OwnerReferences(endpointsOf(docs), admins, accountsOf(docs)),
  );
  const endpoints = new Endpoints(d.endpoints, changes, d.endpointCache);
  return {
    auth: new ManageAuth({ adminKey: d.adminKey, tokens: d.tokens, admins, realm: d.realm }),
    changes,
    endpoints,
    accounts: new Accounts(d.endpoints, endpoints, changes, organizations),
    organizations,
    departments: new Departments(organizations),
    administrators: new Administrators(admins, organizations, changes),
    certificates: new Certificates(d.certificates),
    raCertificates: new RaCertificatesApi(endpoints, d.ra, changes),
    ca: new CaApi(d.ca && { ...d.ca, clock: d.endpoints.clock, audit: d.audit }, changes),
  };
}
