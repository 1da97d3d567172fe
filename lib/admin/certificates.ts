import { z } from 'zod';
import { pemCertificates } from '../rest/response.js';
import type { CertificateQuery, CertificateRecord, CertificateStore } from '../store/types.js';
import type { Page, PageRequest } from './paging.js';
import { pageFor } from './scoped-page.js';
import { DEFAULT_SEARCH_LIMIT } from '../store/cosmos-query.js';
import { requirePermission, type Actor } from './roles.js';
import { hidden, inScope, requireWritable, soleOrganization } from './scope.js';
import { invalid, zodProblems } from '../model/problems.js';
import { canonicalSerial } from '../revocation/reasons.js';
import { instant } from '../model/instant.js';

/** What the management API shows of a certificate record (never the request or secrets). */
export type CertificateSummary = Pick<
  CertificateRecord,
  | 'serialNumber'
  | 'subject'
  | 'sans'
  | 'issuer'
  | 'notBefore'
  | 'notAfter'
  | 'thumbprintSha1'
  | 'thumbprintSha256'
  | 'endpoint'
  | 'endpointId'
  | 'accountId'
  | 'organization'
  | 'department'
  | 'authorization'
  | 'requester'
  | 'status'
  | 'revocation'
  | 'profile'
  | 'createdAt'
>;

export const summary = (r: CertificateRecord): CertificateSummary => ({
  serialNumber: r.serialNumber,
  subject: r.subject,
  sans: r.sans,
  issuer: r.issuer,
  notBefore: r.notBefore,
  notAfter: r.notAfter,
  thumbprintSha1: r.thumbprintSha1,
  thumbprintSha256: r.thumbprintSha256,
  endpoint: r.endpoint,
  endpointId: r.endpointId,
  accountId: r.accountId,
  organization: r.organization,
  department: r.department,
  authorization: r.authorization,
  requester: r.requester,
  status: r.status,
  revocation: r.revocation,
  profile: r.profile,
  createdAt: r.createdAt,
});

const text = z.string().min(1).max(256);
const HEX = /^[0-9a-fA-F]+$/;

/** Query string filters of `GET api/manage/certificates`. */
const searchParams = z.strictObject({
  search: text.optional(),
  subject: text.optional(),
  san: text.optional(),
  serial: z.string().regex(HEX, 'expected hex').max(64).optional(),
  thumbprint: z.string().regex(HEX, 'expected hex').max(64).optional(),
  endpoint: text.optional(),
  account: text.optional(),
  organization: text.optional(),
  department: text.optional(),
  status: z.enum(['issued', 'revoked']).optional(),
  expiringBefore: instant.optional(),
});

/** Certificate search and detail, limited to the actor's scope (unowned records: CA.Admin only). */
export class Certificates {
  constructor(private readonly store: CertificateStore) {}

  async search(
    actor: Actor,
    params: Record<string, string>,
    page: PageRequest,
  ): Promise<Page<CertificateSummary>> {
    requirePermission(actor, 'read');
    const parsed = searchParams.safeParse(params);
    if (!parsed.success) throw invalid('search', zodProblems(parsed.error));
    const p = parsed.data;
    const only = soleOrganization(actor);
    if (only !== undefined && p.organization !== undefined && p.organization !== only) return { value: [] };
    const query: CertificateQuery = {
      ...(p.search !== undefined ? { text: p.search } : {}),
      ...(p.subject !== undefined ? { subjectContains: p.subject } : {}),
      ...(p.san !== undefined ? { sanContains: p.san } : {}),
      ...(p.serial !== undefined ? { serialNumber: canonicalSerial(p.serial) ?? p.serial } : {}),
      ...(p.thumbprint !== undefined ? { thumbprint: p.thumbprint.toUpperCase() } : {}),
      ...(p.endpoint !== undefined ? { endpoint: p.endpoint } : {}),
      ...(p.account !== undefined ? { accountId: p.account } : {}),
      ...((p.organization ?? only) !== undefined ? { organization: p.organization ?? only } : {}),
      ...(p.department !== undefined ? { department: p.department } : {}),
      ...(p.status !== undefined ? { status: p.status } : {}),
      ...(p.expiringBefore !== undefined ? { expiringBefore: p.expiringBefore } : {}),
    };
    const r = await pageFor(
      actor,
      (p) =>
        this.store.search({
          ...query,
          limit: p.top,
          ...(p.continuationToken !== undefined ? { continuationToken: p.continuationToken } : {}),
        }),
      (c) => inScope(actor, [c]),
      page,
      DEFAULT_SEARCH_LIMIT,
    );
    return { value: r.items.map(summary), continuationToken: r.continuationToken };
  }

  /** One certificate with its PEM; NOT_FOUND when absent or out of scope. */
  async get(actor: Actor, serial: string): Promise<CertificateSummary & { certificate: string }> {
    const r = await this.find(actor, serial);
    return { ...summary(r), certificate: pem(r) };
  }

  /**
   * The record an actor may revoke or release: in scope (else NOT_FOUND), with a role that
   * operates (CA.Admin, CA.Operator; else FORBIDDEN) and owned where the actor may write (a
   * department's operator does not revoke an organization-wide certificate; else FORBIDDEN).
   * `POST certificates/{serial}/revoke` calls this, then the revocation use case.
   */
  async forRevocation(actor: Actor, serial: string): Promise<CertificateRecord> {
    const r = await this.find(actor, serial);
    requirePermission(actor, 'operate');
    requireWritable(actor, [r], 'the certificate');
    return r;
  }

  /** The record, when it exists and the actor may see it. */
  async find(actor: Actor, serial: string): Promise<CertificateRecord> {
    // Read as revocation reads it: colons (`openssl x509 -text`), `0x`, leading zeros stripped.
    const canonical = serial.length <= 128 ? canonicalSerial(serial) : undefined;
    const r = canonical === undefined ? undefined : await this.store.getBySerial(canonical);
    if (!r || !inScope(actor, [r])) throw hidden(`certificate '${serial}'`);
    requirePermission(actor, 'read');
    return r;
  }
}

const pem = (r: CertificateRecord): string =>
  Buffer.from(pemCertificates([Buffer.from(r.der, 'base64')])).toString('ascii');
