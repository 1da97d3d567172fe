import type { TokenCredential } from '@azure/identity';
import type { AuditLog } from '../audit/sink.js';
import type { LiveCa } from '../ca/holder.js';
import type { NextCa } from '../ca/next.js';
import { createNextCa } from '../ca/next-factory.js';
import type { Settings } from '../config/index.js';
import type { RenewalRule } from '../enroll/renewal-rule.js';
import type { EnrollmentService } from '../enroll/service.js';
import type { EndpointRegistry } from '../endpoints/registry.js';
import type { Logger } from '../log.js';
import type { RaCertificates } from '../ra/certificates.js';
import { createRaCertificates, withResponders } from '../ra/factory.js';
import { ConcurrencyLimit } from '../scep/limit.js';
import { PkiOperation } from '../scep/pki-operation.js';
import { ScepService } from '../scep/service.js';
import type { DocumentStore } from '../store/documents.js';
import type { CertificateStore } from '../store/types.js';

/**
 * SCEP (RFC 8894): PKIOperation on the shared enrollment and renewal rule, the per-endpoint RA
 * certificates (RA mode), the next CA (GetNextCACert) and the service with its concurrency
 * limit and request budget.
 */
export async function createScep(
  settings: Settings,
  o: {
    cas: LiveCa;
    store: CertificateStore;
    documents: DocumentStore;
    enrollment: EnrollmentService;
    renewal: RenewalRule;
    registry: EndpointRegistry;
    audit: AuditLog;
    logger: Logger;
    clock: () => Date;
    credential: () => Promise<TokenCredential>;
  },
): Promise<{ ra: RaCertificates; nextCa: NextCa; scep: ScepService }> {
  const { cas, registry, audit, logger, clock, credential } = o;
  const pki = new PkiOperation({
    caResponder: () => cas.current.responder,
    store: o.store,
    enrollment: o.enrollment,
    renewal: o.renewal,
    // CertPoll/GetCert hand a stored certificate out again: its own endpoint's delivery hook.
    deliver: async (record) => (await registry.resolve(record.endpoint))?.hooks.afterRecord(record, true),
    audit,
    clock,
  });
  const ra = await createRaCertificates(settings, {
    documents: o.documents,
    cas,
    clock,
    logger,
    audit,
    credential,
  });
  const nextCa = await createNextCa(settings, {
    credential,
    clock,
    logger,
    activeDer: () => cas.current.active.certificateDer,
  });
  const core = settings.core;
  const scep = new ScepService(
    withResponders(registry, ra, cas),
    pki,
    cas,
    new ConcurrencyLimit(core.concurrentScepRequestLimit),
    // Only Key Vault calls wait on the budget; with local keys no request opens one.
    settings.keyVault.url === undefined ? undefined : core.requestBudgetMs,
    audit,
    { nextCa, clock },
  );
  return { ra, nextCa, scep };
}
