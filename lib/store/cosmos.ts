import { randomUUID } from 'node:crypto';
import { type Container, type CosmosClient, ErrorResponse, type ItemDefinition } from '@azure/cosmos';
import { ZodError } from 'zod';
import { AppError, dependencyUnavailable, isAppError } from '../errors.js';
import {
  CERTIFICATES_INDEXING_POLICY,
  CERTIFICATES_PARTITION_KEY,
  type ClaimDocument,
  REVOCATION_EPOCH_ID,
  STATE_INDEXING_POLICY,
  STATE_PARTITION_KEY,
  TRANSACTIONS_INDEXING_POLICY,
  TRANSACTIONS_PARTITION_KEY,
  certificateDocument,
  claimId,
  fromCertificateDocument,
  fromClaimDocument,
  toCertificateDocument,
  toClaimDocument,
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
 * Write protocol for a record with a transactionKey (two documents, no transactional batch,
 * which the local server lacks and which cannot span partitions anyway):
 *
 * 1. Create the claim {id, transactionKey, serialNumber, record}: a copy of the whole record,
 *    so the claim alone is enough to finish the write ("roll forward").
 *    409 Conflict: another request holds the transaction; read its claim and continue with it.
 * 2. Create the certificate document from the claim's record, create-if-absent. 409 with the
 *    same SHA-256 thumbprint means it is already there (an earlier attempt or a concurrent
 *    replay finished it); with another thumbprint it is a serial collision (CONFLICT).
 * 3. Resolve `created: true` only when the claim holds the caller's certificate, otherwise
 *    `created: false` with the claimed one.
 *
 * Any failure, timeout included, rejects with DEPENDENCY_UNAVAILABLE, and the caller returns no
 * certificate. What a half-failed attempt leaves behind is a claim without its certificate
 * document (the claim may even have landed while the client saw an error). The claim is the
 * commit point: every later create or getByTransactionKey for that transaction rolls the
 * claimed record forward into `certificates` before answering, so whatever is returned is
 * findable by serial AND transactionKey, and a retry gets the claimed certificate instead of
 * a second one. A certificate document is only ever written from a claim, so there is never a
 * second recorded certificate for one transaction. Records without a transactionKey are a
 * single create-if-absent. The price: a transactional certificate is stored twice (the claim's
 * copy is never updated; it only matters while no certificate document exists, and then
 * nothing can have updated it), and a first create costs two writes.
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
  private init: Promise<void> | undefined;
  private verified: Promise<void> | undefined;

  constructor(private readonly options: CosmosStoreOptions) {
    const db = options.client.database(options.databaseName);
    this.certificates = db.container(options.certificatesContainer);
    this.transactions = db.container(options.transactionsContainer);
    this.state = db.container(options.stateContainer);
  }

  create(record: CertificateRecord): Promise<CreateResult> {
    return this.run('create', async (signal) => {
      if (record.transactionKey === undefined) {
        return { created: true, record: await this.putCertificate(record, signal) };
      }
      const { claim, ours } = await this.claim(record, record.transactionKey, signal);
      const stored = ours
        ? await this.putCertificate(claim.record, signal)
        : await this.certificateOf(claim, signal);
      return stored.thumbprintSha256 === record.thumbprintSha256
        ? { created: true, record: stored }
        : { created: false, existing: stored };
    });
  }

  getBySerial(serialNumber: string): Promise<CertificateRecord | undefined> {
    // Not a serial this store can hold (Cosmos DB ids: at most 255 characters, none of / \ ? #).
    if (!isStorableId(serialNumber)) return Promise.resolve(undefined);
    return this.run('read', (signal) => this.readCertificate(serialNumber, signal));
  }

  getByTransactionKey(transactionKey: string): Promise<CertificateRecord | undefined> {
    return this.run('read', async (signal) => {
      const claim = await this.readClaim(transactionKey, signal);
      return claim && (await this.certificateOf(claim, signal));
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
      await this.readCertificate('probe', signal);
    });
  }

  /** Step 1 of the protocol: the caller's claim, or the claim that already holds the transaction. */
  private async claim(
    record: CertificateRecord,
    transactionKey: string,
    signal: AbortSignal,
  ): Promise<{ claim: ClaimDocument; ours: boolean }> {
    await this.ready(signal);
    const ours = toClaimDocument(transactionKey, record);
    try {
      await this.transactions.items.create(ours, { abortSignal: signal });
      return { claim: ours, ours: true };
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
    }
    const existing = await this.readClaim(transactionKey, signal);
    if (!existing)
      throw dependencyUnavailable('Cosmos DB reported a transaction claim that cannot be read back');
    return { claim: existing, ours: false };
  }

  /** The certificate document a claim is bound to; a claim without one is rolled forward first. */
  private async certificateOf(claim: ClaimDocument, signal: AbortSignal): Promise<CertificateRecord> {
    const stored = await this.readCertificate(claim.serialNumber, signal);
    if (!stored) return this.putCertificate(claim.record, signal);
    if (stored.thumbprintSha256 !== claim.record.thumbprintSha256) {
      throw new AppError('INTERNAL', 'the claimed serial number holds another certificate', {
        detail: { serialNumber: claim.serialNumber },
      });
    }
    return stored;
  }

  private async readClaim(transactionKey: string, signal: AbortSignal): Promise<ClaimDocument | undefined> {
    await this.ready(signal);
    const id = claimId(transactionKey);
    const response = await this.transactions.item(id, id).read({ abortSignal: signal });
    const resource: unknown = absentUnlessOwnerMissing(response);
    if (resource === undefined) return undefined;
    const claim = fromClaimDocument(resource);
    if (claim.transactionKey !== transactionKey) {
      throw new AppError('INTERNAL', 'transaction claim id collision', { detail: { claimId: id } });
    }
    return claim;
  }

  private async readCertificate(
    serialNumber: string,
    signal: AbortSignal,
  ): Promise<CertificateRecord | undefined> {
    await this.ready(signal);
    const response = await this.certificates.item(serialNumber, serialNumber).read({ abortSignal: signal });
    const resource: unknown = absentUnlessOwnerMissing(response);
    return resource === undefined ? undefined : fromCertificateDocument(resource);
  }

  /** Step 2: create-if-absent; an identical certificate already stored counts as written. */
  private async putCertificate(record: CertificateRecord, signal: AbortSignal): Promise<CertificateRecord> {
    await this.ready(signal);
    try {
      const { resource } = await this.certificates.items.create(toCertificateDocument(record), {
        abortSignal: signal,
      });
      return fromCertificateDocument(resource);
    } catch (e) {
      if (statusOf(e) !== 409) throw e;
    }
    const existing = await this.readCertificate(record.serialNumber, signal);
    if (existing?.thumbprintSha256 === record.thumbprintSha256) return existing;
    throw new AppError('CONFLICT', 'the serial number is already used by another certificate', {
      detail: { serialNumber: record.serialNumber },
    });
  }

  private ready(signal: AbortSignal): Promise<void> {
    if (!this.options.createIfNotExists) return Promise.resolve();
    this.init ??= this.createContainers(signal).catch((e: unknown) => {
      this.init = undefined;
      throw e;
    });
    return this.init;
  }

  private async createContainers(signal: AbortSignal): Promise<void> {
    const { client, databaseName, certificatesContainer, transactionsContainer, stateContainer } =
      this.options;
    const { database } = await client.databases.createIfNotExists(
      { id: databaseName },
      { abortSignal: signal },
    );
    await database.containers.createIfNotExists(
      {
        id: certificatesContainer,
        partitionKey: CERTIFICATES_PARTITION_KEY,
        indexingPolicy: CERTIFICATES_INDEXING_POLICY,
      },
      { abortSignal: signal },
    );
    await database.containers.createIfNotExists(
      {
        id: transactionsContainer,
        partitionKey: TRANSACTIONS_PARTITION_KEY,
        indexingPolicy: TRANSACTIONS_INDEXING_POLICY,
      },
      { abortSignal: signal },
    );
    await database.containers.createIfNotExists(
      { id: stateContainer, partitionKey: STATE_PARTITION_KEY, indexingPolicy: STATE_INDEXING_POLICY },
      { abortSignal: signal },
    );
  }

  /** One deadline per store call; every failure leaves as an AppError. */
  private async run<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const ms = this.options.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(dependencyUnavailable(`Cosmos DB ${what} did not complete within ${ms} ms`));
      }, ms);
    });
    try {
      return await Promise.race([fn(controller.signal), deadline]);
    } catch (e) {
      throw toAppError(what, e);
    } finally {
      clearTimeout(timer);
    }
  }
}

const revokedEntry = certificateDocument
  .pick({ serialNumber: true, notAfter: true, issuer: true })
  .extend({ revocation: certificateDocument.shape.revocation.unwrap() });

/** 404 with substatus 1003 (the database or container does not exist) is an outage, not "no such record". */
function absentUnlessOwnerMissing<T>(response: {
  statusCode: number;
  substatus?: number;
  resource?: T;
}): T | undefined {
  if (response.statusCode === 404 && response.substatus === 1003) {
    throw dependencyUnavailable('the Cosmos DB database or container does not exist');
  }
  return response.resource;
}

/** The SDK types the token as string; it is undefined (or empty) on the last page. */
function continuationOf(page: { continuationToken?: string }): string | undefined {
  return page.continuationToken === '' ? undefined : page.continuationToken;
}

function isStorableId(id: string): boolean {
  return id.length > 0 && id.length <= 255 && !/[/\\?#]/.test(id);
}

function invalidToken(cause?: unknown): AppError {
  return new AppError('BAD_REQUEST', 'the continuation token is not valid for this store', { cause });
}

function statusOf(e: unknown): number | undefined {
  return e instanceof ErrorResponse && typeof e.code === 'number' ? e.code : undefined;
}

function toAppError(what: string, e: unknown): AppError {
  if (isAppError(e)) return e;
  if (e instanceof ZodError) {
    return new AppError('INTERNAL', 'a stored document is not a certificate record', { cause: e });
  }
  const detail: Record<string, unknown> = { operation: what };
  if (e instanceof ErrorResponse) {
    detail.status = e.code;
    detail.activityId = e.activityId;
  }
  return new AppError('DEPENDENCY_UNAVAILABLE', `Cosmos DB ${what} failed`, { cause: e, detail });
}
