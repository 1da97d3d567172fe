import { randomUUID } from 'node:crypto';
import type { Container, CosmosClient, ItemDefinition } from '@azure/cosmos';
import {
  absentUnlessOwnerMissing,
  continuationOf,
  invalidToken,
  isStorableId,
  statusOf,
  withDeadline,
} from './cosmos-calls.js';
import { ClaimedCertificates } from './cosmos-claims.js';
import { createContainers } from './cosmos-containers.js';
import {
  REVOCATION_EPOCH_ID,
  certificateDocument,
  fromCertificateDocument,
  toCertificateDocument,
} from './cosmos-schema.js';
import { buildSearchQuery, clampLimit, decodeContinuation, encodeContinuation } from './cosmos-query.js';
import type {
  CertificateQuery,
  CertificateRecord,
  CertificateStore,
  CreateResult,
  RevokedEntry,
} from './types.js';

export * from './cosmos-schema.js';

/**
 * Certificate store on Azure Cosmos DB for NoSQL: every certificate recorded before it is
 * returned, one record per transaction.
 *
 * Containers and partition keys, chosen for the access paths:
 *
 * - `certificates`, partition key `/serialNumber`, id = serialNumber. Revocation and OCSP know
 *   only the serial, so a lookup is a point read (about 1 RU, no query). Every certificate is its own
 *   logical partition: writes spread evenly and no logical partition comes near the 20 GB limit
 *   (a document is a few KB). Management search (endpoint, subject, status, date) and the Intune
 *   re-drive timer (notification.state = 'pending') are cross-partition queries; they are rare,
 *   use only the indexed paths (CERTIFICATES_INDEXING_POLICY) and page with continuation
 *   tokens, because OFFSET/LIMIT costs grow with the offset (and the local server lacks it).
 *   Partitioning by endpoint would make a busy endpoint a hot (and, over years, huge) partition
 *   and would turn the OCSP lookup into a query.
 * - `transactions`, partition key `/id`, id = SHA-256(transactionKey). A unique key cannot make
 *   transactionKey unique across the store: "the value of partition key is implicitly a part of
 *   each unique key" (Cosmos DB UniqueKey reference), i.e. uniqueness is per logical partition.
 *   An id is unique within its partition, and here the partition IS the id, so create-if-absent
 *   on the claim is a store-wide uniqueness check. Nothing is queried there: nothing is indexed.
 *
 * Certificates with a transactionKey are written claim first (the write protocol, and what a
 * half-failed attempt leaves behind: lib/store/cosmos-claims.ts).
 *
 * - `state`, partition key `/id`: small CA-wide documents. `revocation-epoch` holds a random token
 *   replaced after every status/revocation update; instances point-read it (1 RU) to invalidate
 *   their OCSP and CRL caches. A token, not a counter: concurrent revocations need no
 *   read-modify-write, and any change of the value is all a reader needs to see.
 *
 * Updates are etag-conditional replaces (IfMatch); 412 resolves undefined. Every store call has
 * one deadline covering all its requests and the SDK's 429 retries (bounded by the client's
 * retryOptions, which honour x-ms-retry-after-ms).
 */
export interface CosmosStoreOptions {
  readonly client: CosmosClient;
  readonly databaseName: string;
  readonly certificatesContainer: string;
  readonly transactionsContainer: string;
  readonly stateContainer: string;
  /** Deadline for one store call, all requests and retries included. */
  readonly timeoutMs: number;
  /** Create the database and containers on first use (local only; Bicep creates them in Azure). */
  readonly createIfNotExists: boolean;
}

export class CosmosCertificateStore implements CertificateStore {
  private readonly certificates: Container;
  private readonly transactions: Container;
  private readonly state: Container;
  private readonly claims: ClaimedCertificates;
  private init: Promise<void> | undefined;
  private verified: Promise<void> | undefined;

  constructor(private readonly options: CosmosStoreOptions) {
    const db = options.client.database(options.databaseName);
    this.certificates = db.container(options.certificatesContainer);
    this.transactions = db.container(options.transactionsContainer);
    this.state = db.container(options.stateContainer);
    this.claims = new ClaimedCertificates(this.certificates, this.transactions, (signal) =>
      this.ready(signal),
    );
  }

  create(record: CertificateRecord): Promise<CreateResult> {
    return this.run('create', async (signal) => {
      if (record.transactionKey === undefined) {
        return { created: true, record: await this.claims.putCertificate(record, signal) };
      }
      const { claim, ours } = await this.claims.claim(record, record.transactionKey, signal);
      const stored = ours
        ? await this.claims.putCertificate(claim.record, signal)
        : await this.claims.certificateOf(claim, signal);
      return stored.thumbprintSha256 === record.thumbprintSha256
        ? { created: true, record: stored }
        : { created: false, existing: stored };
    });
  }

  getBySerial(serialNumber: string): Promise<CertificateRecord | undefined> {
    // Not a serial this store can hold (Cosmos DB ids: at most 255 characters, none of / \ ? #).
    if (!isStorableId(serialNumber)) return Promise.resolve(undefined);
    return this.run('read', (signal) => this.claims.readCertificate(serialNumber, signal));
  }

  getByTransactionKey(transactionKey: string): Promise<CertificateRecord | undefined> {
    return this.run('read', async (signal) => {
      const claim = await this.claims.readClaim(transactionKey, signal);
      return claim && (await this.claims.certificateOf(claim, signal));
    });
  }

  update(
    record: CertificateRecord,
    change: Partial<Pick<CertificateRecord, 'status' | 'revocation' | 'notification'>>,
  ): Promise<CertificateRecord | undefined> {
    if (record.etag === undefined) return Promise.resolve(undefined);
    const etag = record.etag;
    return this.run('update', async (signal) => {
      await this.ready(signal);
      try {
        const { resource } = await this.certificates
          .item(record.serialNumber, record.serialNumber)
          .replace(toCertificateDocument({ ...record, ...change }), {
            accessCondition: { type: 'IfMatch', condition: etag },
            abortSignal: signal,
          });
        // After the record: a reader that sees the new epoch reads the new record.
        if ('status' in change || 'revocation' in change) {
          await this.state.items.upsert(
            { id: REVOCATION_EPOCH_ID, value: randomUUID(), updatedAt: new Date().toISOString() },
            { abortSignal: signal },
          );
        }
        return fromCertificateDocument(resource);
      } catch (e) {
        if (statusOf(e) === 412 || statusOf(e) === 404) return undefined;
        throw e;
      }
    });
  }

  async *listRevoked(issuer: string): AsyncIterable<RevokedEntry> {
    // `status` is indexed; the issuer is compared here (one CA per store today).
    const query = {
      query: "SELECT c.serialNumber, c.revocation, c.notAfter, c.issuer FROM c WHERE c.status = 'revoked'",
    };
    let token: string | undefined;
    do {
      const page = await this.run('listRevoked', async (signal) => {
        await this.ready(signal);
        return this.certificates.items
          .query<ItemDefinition>(query, { maxItemCount: 1000, continuationToken: token, abortSignal: signal })
          .fetchNext();
      });
      for (const doc of page.resources) {
        const e = revokedEntry.safeParse(doc);
        if (e.success && e.data.issuer === issuer) {
          const { serialNumber, revocation, notAfter } = e.data;
          yield { serialNumber, revocation, notAfter };
        }
      }
      token = continuationOf(page);
    } while (token !== undefined);
  }

  revocationEpoch(): Promise<string> {
    return this.run('read', async (signal) => {
      await this.ready(signal);
      const response = await this.state
        .item(REVOCATION_EPOCH_ID, REVOCATION_EPOCH_ID)
        .read<{ value?: unknown }>({ abortSignal: signal });
      const value = absentUnlessOwnerMissing(response)?.value;
      return typeof value === 'string' ? value : '0';
    });
  }

  search(query: CertificateQuery): Promise<{ items: CertificateRecord[]; continuationToken?: string }> {
    return this.run('search', async (signal) => {
      await this.ready(signal);
      const spec = buildSearchQuery(query);
      const limit = clampLimit(query.limit);
      const items: CertificateRecord[] = [];
      let token =
        query.continuationToken === undefined ? undefined : decodeContinuation(query.continuationToken);
      if (query.continuationToken !== undefined && token === undefined) throw invalidToken();
      // A page may come back short (Cosmos DB stops at its own budget); keep reading to `limit`.
      do {
        let page;
        try {
          page = await this.certificates.items
            .query<ItemDefinition>(spec, {
              maxItemCount: limit - items.length,
              continuationToken: token,
              abortSignal: signal,
            })
            .fetchNext();
        } catch (e) {
          if (token !== undefined && (statusOf(e) === 400 || e instanceof SyntaxError)) throw invalidToken(e);
          throw e;
        }
        for (const doc of page.resources) items.push(fromCertificateDocument(doc));
        token = continuationOf(page);
      } while (token !== undefined && items.length < limit);
      return token === undefined ? { items } : { items, continuationToken: encodeContinuation(token) };
    });
  }

  ping(): Promise<void> {
    return this.run('ping', async (signal) => {
      await this.ready(signal);
      // Once per instance: both containers exist (a point read alone cannot tell on every server).
      this.verified ??= Promise.all([
        this.certificates.read({ abortSignal: signal }),
        this.transactions.read({ abortSignal: signal }),
      ])
        .then(() => undefined)
        .catch((e: unknown) => {
          this.verified = undefined;
          throw e;
        });
      await this.verified;
      await this.claims.readCertificate('probe', signal);
    });
  }

  private ready(signal: AbortSignal): Promise<void> {
    if (!this.options.createIfNotExists) return Promise.resolve();
    this.init ??= createContainers(this.options, signal).catch((e: unknown) => {
      this.init = undefined;
      throw e;
    });
    return this.init;
  }

  /** One deadline per store call; every failure leaves as an AppError. */
  private run<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(what, this.options.timeoutMs, fn);
  }
}

const revokedEntry = certificateDocument
  .pick({ serialNumber: true, notAfter: true, issuer: true })
  .extend({ revocation: certificateDocument.shape.revocation.unwrap() });
