import type { Container } from '@azure/cosmos';
import { AppError, dependencyUnavailable } from '../errors.js';
import { absentUnlessOwnerMissing, statusOf } from './cosmos-calls.js';
import {
  claimId,
  fromCertificateDocument,
  fromClaimDocument,
  toCertificateDocument,
  toClaimDocument,
  type ClaimDocument,
} from './cosmos-schema.js';
import type { CertificateRecord } from './types.js';

/**
 * Certificate documents and their transaction claims (lib/store/cosmos.ts describes the
 * containers). Write protocol for a record with a transactionKey (two documents, no
 * transactional batch, which the local server lacks and which cannot span partitions anyway):
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
 */
export class ClaimedCertificates {
  constructor(
    private readonly certificates: Container,
    private readonly transactions: Container,
    /** Resolves once the containers exist (created on first use where configured). */
    private readonly ready: (signal: AbortSignal) => Promise<void>,
  ) {}

  /** Step 1 of the protocol: the caller's claim, or the claim that already holds the transaction. */
  async claim(
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
  async certificateOf(claim: ClaimDocument, signal: AbortSignal): Promise<CertificateRecord> {
    const stored = await this.readCertificate(claim.serialNumber, signal);
    if (!stored) return this.putCertificate(claim.record, signal);
    if (stored.thumbprintSha256 !== claim.record.thumbprintSha256) {
      throw new AppError('INTERNAL', 'the claimed serial number holds another certificate', {
        detail: { serialNumber: claim.serialNumber },
      });
    }
    return stored;
  }

  async readClaim(transactionKey: string, signal: AbortSignal): Promise<ClaimDocument | undefined> {
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

  async readCertificate(serialNumber: string, signal: AbortSignal): Promise<CertificateRecord | undefined> {
    await this.ready(signal);
    const response = await this.certificates.item(serialNumber, serialNumber).read({ abortSignal: signal });
    const resource: unknown = absentUnlessOwnerMissing(response);
    return resource === undefined ? undefined : fromCertificateDocument(resource);
  }

  /** Step 2: create-if-absent; an identical certificate already stored counts as written. */
  async putCertificate(record: CertificateRecord, signal: AbortSignal): Promise<CertificateRecord> {
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
}
