import { createHash } from 'node:crypto';
import {
  type IndexingPolicy,
  type PartitionKeyDefinition,
  PartitionKeyDefinitionVersion,
  PartitionKeyKind,
} from '@azure/cosmos';
import { z } from 'zod';
import { COLLECTIONS, type CollectionName } from './documents.js';
import type { CertificateRecord } from './types.js';

/**
 * The Cosmos DB (NoSQL API) layout of the certificate store. infra/ creates the same database,
 * containers, partition keys and indexing policies in Azure; the store creates them itself only
 * on a local start (AppConfig__CosmosDb__CreateIfNotExists). See lib/store/cosmos.ts for why.
 */

export const DEFAULT_DATABASE_NAME = 'scepca';
export const DEFAULT_CERTIFICATES_CONTAINER = 'certificates';
export const DEFAULT_TRANSACTIONS_CONTAINER = 'transactions';
export const DEFAULT_AUDIT_CONTAINER = 'audit';
/**
 * Small CA-wide documents: the revocation epoch here, the management plane's CA state (the
 * `state` document collection, DOCUMENT_CONTAINERS). One container, defined alike by both.
 */
export const DEFAULT_STATE_CONTAINER = 'state';

/** Certificate documents: id = serialNumber; one logical partition per certificate. */
export const CERTIFICATES_PARTITION_KEY_PATH = '/serialNumber';
/** Transaction claims: id = SHA-256 of the transactionKey; one logical partition per claim. */
export const TRANSACTIONS_PARTITION_KEY_PATH = '/id';
/** State documents: one logical partition per document, id = what it is (`revocation-epoch`). */
export const STATE_PARTITION_KEY_PATH = '/id';

/** Audit events: `partition` = the endpoint name, or "_management" for management changes. */
export const AUDIT_PARTITION_KEY_PATH = '/partition';
/**
 * Audit events expire: the container has a time to live (infra sets it from
 * auditRetentionDays; -1 here: on, with no default expiry, for a local container).
 */
export const AUDIT_DEFAULT_TTL = -1;

const hashKey = (path: string): PartitionKeyDefinition => ({
  paths: [path],
  kind: PartitionKeyKind.Hash,
  version: PartitionKeyDefinitionVersion.V2,
});
export const AUDIT_PARTITION_KEY = hashKey(AUDIT_PARTITION_KEY_PATH);

export const CERTIFICATES_PARTITION_KEY: PartitionKeyDefinition = {
  paths: [CERTIFICATES_PARTITION_KEY_PATH],
  kind: PartitionKeyKind.Hash,
  version: PartitionKeyDefinitionVersion.V2,
};
export const TRANSACTIONS_PARTITION_KEY: PartitionKeyDefinition = {
  paths: [TRANSACTIONS_PARTITION_KEY_PATH],
  kind: PartitionKeyKind.Hash,
  version: PartitionKeyDefinitionVersion.V2,
};

/**
 * Only the properties the management search and the notification re-drive filter or sort on
 * are indexed ("exclude all, include what you query"): writes cost fewer RU and the index
 * stays small. Point reads (by serial, by claim id) need no index at all.
 */
export const CERTIFICATES_INDEXING_POLICY: IndexingPolicy = {
  indexingMode: 'consistent',
  automatic: true,
  includedPaths: [
    { path: '/endpoint/?' },
    { path: '/status/?' },
    { path: '/subject/?' },
    { path: '/sans/[]/?' },
    { path: '/thumbprintSha1/?' },
    { path: '/thumbprintSha256/?' },
    { path: '/accountId/?' },
    { path: '/organization/?' },
    { path: '/department/?' },
    { path: '/createdAt/?' },
    { path: '/notification/state/?' },
    // Revocation lists (CRL, OCSP): status = 'revoked' per issuer, expired ones left out.
    { path: '/issuer/?' },
    { path: '/notAfter/?' },
  ],
  excludedPaths: [{ path: '/*' }, { path: '/"_etag"/?' }],
};

/** Claims are only ever point-read; nothing is indexed. */
export const TRANSACTIONS_INDEXING_POLICY: IndexingPolicy = {
  indexingMode: 'consistent',
  automatic: true,
  includedPaths: [],
  excludedPaths: [{ path: '/*' }, { path: '/"_etag"/?' }],
};

/**
 * The management plane's document collections (lib/store/documents.ts) and audit events are
 * listed by equality on several fields, ordered by id or time, by the management API and the
 * console: every path is indexed. The collections are small; audit events are written once.
 */
export const INDEX_EVERYTHING: IndexingPolicy = {
  indexingMode: 'consistent',
  automatic: true,
  includedPaths: [{ path: '/*' }],
  excludedPaths: [{ path: '/"_etag"/?' }],
};
/**
 * Audit events: every path, plus the composite (time, id) index that the one sort order of the
 * audit query and export needs (an ORDER BY on two properties requires one in Cosmos DB).
 */
export const AUDIT_INDEXING_POLICY: IndexingPolicy = {
  ...INDEX_EVERYTHING,
  compositeIndexes: [
    [
      { path: '/time', order: 'ascending' },
      { path: '/id', order: 'ascending' },
    ],
  ],
};

/** One container per document collection: the collection's name, partitioned by its key field. */
export const DOCUMENT_CONTAINERS: Readonly<
  Record<
    CollectionName,
    { readonly partitionKey: PartitionKeyDefinition; readonly indexingPolicy: IndexingPolicy }
  >
> = Object.fromEntries(
  Object.entries(COLLECTIONS).map(([name, c]) => [
    name,
    { partitionKey: hashKey(`/${c.partitionKey}`), indexingPolicy: INDEX_EVERYTHING },
  ]),
) as Record<CollectionName, { partitionKey: PartitionKeyDefinition; indexingPolicy: IndexingPolicy }>;

export const STATE_PARTITION_KEY = DOCUMENT_CONTAINERS.state.partitionKey;
export const STATE_INDEXING_POLICY = DOCUMENT_CONTAINERS.state.indexingPolicy;

/**
 * The document whose `value` changes on every status or revocation change (a random token, so
 * concurrent writers need no read-modify-write): CertificateStore.revocationEpoch.
 */
export const REVOCATION_EPOCH_ID = 'revocation-epoch';

/** Claim id for a transactionKey: fixed length, and free of the characters ids may not hold (/ \ ? #). */
export function claimId(transactionKey: string): string {
  return createHash('sha256').update(transactionKey, 'utf8').digest('hex');
}

const notificationState = z.enum(['none', 'undelivered', 'pending', 'sent', 'failed']);

/** What a certificate document must hold to be read back as a CertificateRecord. */
export const certificateDocument = z.object({
  serialNumber: z.string().min(1),
  thumbprintSha1: z.string(),
  thumbprintSha256: z.string(),
  subject: z.string(),
  sans: z.array(z.string()),
  issuer: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  endpoint: z.string(),
  endpointId: z.string().optional(),
  authorization: z.enum(['static', 'intune', 'account', 'api', 'renewal']),
  accountId: z.string().optional(),
  organization: z.string().optional(),
  department: z.string().optional(),
  profile: z
    .object({ validityDays: z.number(), keyUsage: z.array(z.string()), ekus: z.array(z.string()) })
    .optional(),
  renewalOf: z.string().optional(),
  requester: z.string().optional(),
  transactionId: z.string().optional(),
  transactionKey: z.string().optional(),
  csrSha256: z.string().optional(),
  publicKeySha256: z.string(),
  status: z.enum(['issued', 'revoked']),
  revocation: z
    .object({
      reason: z.enum([
        'unspecified',
        'keyCompromise',
        'cACompromise',
        'affiliationChanged',
        'superseded',
        'cessationOfOperation',
        'certificateHold',
        'privilegeWithdrawn',
      ]),
      date: z.string(),
    })
    .optional(),
  notification: z
    .object({
      state: notificationState,
      attempts: z.number(),
      lastError: z.string().optional(),
      updatedAt: z.string(),
      certificateRequest: z.string().optional(),
    })
    .optional(),
  der: z.string(),
  createdAt: z.string(),
  _etag: z.string().optional(),
});

/** A transaction claim: the transactionKey, the serial it is bound to, and the full record. */
export interface ClaimDocument {
  readonly id: string;
  readonly transactionKey: string;
  readonly serialNumber: string;
  readonly record: CertificateRecord;
}

const claimDocument = z.object({
  id: z.string(),
  transactionKey: z.string(),
  serialNumber: z.string(),
  record: certificateDocument,
});

export function toClaimDocument(transactionKey: string, record: CertificateRecord): ClaimDocument {
  // `etag: undefined` is left out by JSON serialisation: the copy carries no etag.
  const body = { ...record, etag: undefined };
  return { id: claimId(transactionKey), transactionKey, serialNumber: record.serialNumber, record: body };
}

export function fromClaimDocument(doc: unknown): ClaimDocument {
  const { record, id, transactionKey, serialNumber } = claimDocument.parse(doc);
  const { _etag: etag, ...body } = record;
  return { id, transactionKey, serialNumber, record: { ...body, etag } };
}

/** The stored body of a record: `id` added, the read-side `etag` dropped. */
export function toCertificateDocument(record: CertificateRecord): Record<string, unknown> {
  return { id: record.serialNumber, ...record, etag: undefined };
}

/** A document read from Cosmos DB as a record; the Cosmos etag becomes `etag`. */
export function fromCertificateDocument(doc: unknown): CertificateRecord {
  const { _etag: etag, ...record } = certificateDocument.parse(doc);
  return { ...record, etag };
}
