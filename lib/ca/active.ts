import { X509Certificate } from 'node:crypto';
import { AppError } from '../errors.js';
import type { CaKeys } from '../keys/types.js';
import type { DocumentCollection, DocumentStore } from '../store/documents.js';

/**
 * Which CA issues: a document in the `state` collection naming the active CA certificate by its
 * SHA-256 thumbprint. Without it the configured CA (the Key Vault certificate object
 * `<CertificateName>`, or `.data/ca/`) issues. Activation writes it with If-Match, so two
 * administrators activating at once settle on one record; instances read it when they start and
 * at most once a minute while they run (lib/ca/holder.ts).
 */
export interface ActiveCaRecord {
  readonly id: typeof ACTIVE_CA_ID;
  readonly thumbprintSha256: string;
  /** The CA that issued before: it stays listed (`previous`), downloadable and trusted for renewals. */
  readonly previousThumbprintSha256: string;
  readonly activatedAt: string;
}

export const ACTIVE_CA_ID = 'ca-active';

export const thumbprintOf = (der: Uint8Array): string =>
  new X509Certificate(der).fingerprint256.replace(/:/g, '');

const collection = (docs: DocumentStore): DocumentCollection<ActiveCaRecord> =>
  docs.collection<ActiveCaRecord>('state');

export async function readActiveCa(docs: DocumentStore): Promise<ActiveCaRecord | undefined> {
  return collection(docs).get(ACTIVE_CA_ID, ACTIVE_CA_ID);
}

/** Record `next` as the issuing CA in place of `current`; CONFLICT when it already is. */
export async function recordActivation(
  docs: DocumentStore,
  current: Uint8Array,
  next: Uint8Array,
  now: Date,
): Promise<ActiveCaRecord> {
  const col = collection(docs);
  const record: ActiveCaRecord = {
    id: ACTIVE_CA_ID,
    thumbprintSha256: thumbprintOf(next),
    previousThumbprintSha256: thumbprintOf(current),
    activatedAt: now.toISOString(),
  };
  const existing = await col.get(ACTIVE_CA_ID, ACTIVE_CA_ID);
  if (existing?.thumbprintSha256 === record.thumbprintSha256)
    throw new AppError('CONFLICT', 'the next CA is already active');
  if (!existing) return col.create(record);
  return col.replace(record, existing.etag);
}

/** The CA that issues and the one before it, from the configured CA, the next CA and the record. */
export function chooseActiveCa(
  configured: CaKeys,
  next: CaKeys | undefined,
  record: ActiveCaRecord | undefined,
): { active: CaKeys; previous: CaKeys | undefined } {
  if (next && record && record.thumbprintSha256 === thumbprintOf(next.certificateDer))
    return { active: next, previous: configured };
  return { active: configured, previous: undefined };
}
