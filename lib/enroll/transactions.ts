import { createHash } from 'node:crypto';
import { describe } from '../ca/issue.js';
import type { ParsedCsr } from '../csr/parse.js';
import { describeError } from '../errors.js';
import { hasStoredCertificate } from '../store/storage-policy.js';
import type { CertificateRecord, CertificateStore, CreateResult } from '../store/types.js';
import type { EnrollmentRequest, EnrollmentResult, Refuse } from './request.js';

type Resolution =
  | { readonly kind: 'new'; readonly transactionKey: string }
  | { readonly kind: 'replay'; readonly record: CertificateRecord }
  | { readonly kind: 'conflict' };

/**
 * Idempotency of enrollment: a transaction (EnrollmentRequest.transactionRef) gets one
 * certificate; a re-sent request gets that certificate again, another key is refused.
 */
export class Transactions {
  /** The enrollment of each transaction and CSR running in this instance. */
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly store: CertificateStore) {}

  /**
   * Runs `enroll` once no other enrollment of the same transaction and CSR runs in this
   * instance. A client's re-send that arrives while its first request is still being authorized and signed
   * (a timeout on the device's side) then waits and is answered from the first's record, as a
   * replay: it is not authorized a second time (a one-time challenge would refuse it, Intune
   * would validate the challenge twice) nor signed a second time. Across instances the
   * store's unique transaction key still decides (record()). Requests of one transaction with
   * other CSRs run side by side: micromdm's scepclient derives the transactionID from the key,
   * so one key's requests all share it.
   */
  async oneAtATime<T>(req: EnrollmentRequest, enroll: () => Promise<T>): Promise<T> {
    if (req.transactionRef === undefined) return enroll();
    const ref = `${req.transactionRef}\n${req.csr.sha256}`;
    for (let earlier = this.running.get(ref); earlier; earlier = this.running.get(ref))
      await earlier.catch(() => undefined);
    const current = enroll();
    this.running.set(ref, current);
    try {
      return await current;
    } finally {
      if (this.running.get(ref) === current) this.running.delete(ref);
    }
  }

  /** A new transaction gets its key; a retried one is answered (replay) or refused here. */
  async claim(
    req: EnrollmentRequest,
    refuse: Refuse,
  ): Promise<{ readonly transactionKey: string | undefined } | EnrollmentResult> {
    if (req.transactionRef === undefined) return { transactionKey: undefined };
    let resolved: Resolution;
    try {
      resolved = await this.resolve(req.transactionRef, req.csr);
    } catch (e) {
      return refuse(
        'unavailable',
        'store-unavailable',
        'the certificate store is unavailable; retry later',
        describeError(e),
      );
    }
    if (resolved.kind === 'replay') return replay(resolved.record, req, refuse);
    if (resolved.kind === 'conflict')
      return refuse(
        'conflict',
        'transaction-key-mismatch',
        'this transactionID was already used with another key',
      );
    return { transactionKey: resolved.transactionKey };
  }

  /**
   * Write the record; the store's unique transaction key decides between concurrent requests.
   * A request of the same transaction with the same key but another CSR that lost the race for
   * `ref` takes this CSR's own transaction key and writes again (at most three attempts).
   */
  async record(
    draft: CertificateRecord,
    req: EnrollmentRequest,
    refuse: Refuse,
  ): Promise<CreateResult | EnrollmentResult> {
    let record = draft;
    for (let attempt = 0; attempt < 3; attempt++) {
      let result: CreateResult;
      try {
        result = await this.store.create(record);
      } catch (e) {
        // No failure notification: the write may have landed (a lost acknowledgement), and the
        // client's retry would then replay and announce that certificate. A transaction is
        // never announced as both failed and succeeded; the retry settles it.
        return refuse(
          'unavailable',
          'store-unavailable',
          'the certificate could not be recorded; retry later',
          describeError(e),
        );
      }
      const existing = result.created ? undefined : result.existing;
      const raced =
        existing !== undefined &&
        req.transactionRef !== undefined &&
        existing.publicKeySha256 === req.csr.publicKeySha256 &&
        existing.csrSha256 !== req.csr.sha256;
      if (!raced) return result;
      // Another CSR of the same transaction claimed the key first: take this CSR's own key.
      const again = await this.resolve(req.transactionRef, req.csr).catch(() => undefined);
      if (again?.kind === 'replay') return replay(again.record, req, refuse);
      if (again?.kind !== 'new') break;
      record = { ...record, transactionKey: again.transactionKey };
    }
    return refuse(
      'conflict',
      'transaction-busy',
      'another request of this transaction is in progress; retry',
    );
  }

  /**
   * The first request of a transaction claims `ref` itself; a later request of the same
   * transaction with the same key but another CSR (micromdm scepclient derives the
   * transactionID from the public key, so a re-enrollment with a new subject reuses it) gets
   * its own key, `ref` + CSR digest. An identical re-send finds its record under either.
   */
  private async resolve(ref: string, csr: ParsedCsr): Promise<Resolution> {
    const primary = await this.store.getByTransactionKey(ref);
    if (!primary) return { kind: 'new', transactionKey: ref };
    if (primary.publicKeySha256 !== csr.publicKeySha256) return { kind: 'conflict' };
    if (primary.csrSha256 === csr.sha256) return { kind: 'replay', record: primary };
    const key = createHash('sha256').update(`${ref}\n${csr.sha256}`).digest('hex');
    const secondary = await this.store.getByTransactionKey(key);
    return secondary ? { kind: 'replay', record: secondary } : { kind: 'new', transactionKey: key };
  }
}

/** The transaction's certificate again, when it is this key's, still valid and stored. */
export function replay(
  existing: CertificateRecord,
  req: EnrollmentRequest,
  refuse: Refuse,
): EnrollmentResult {
  if (existing.publicKeySha256 !== req.csr.publicKeySha256) {
    return refuse(
      'conflict',
      'transaction-key-mismatch',
      'this transactionID was already used with another key',
    );
  }
  if (existing.status !== 'issued') {
    return refuse('conflict', 'transaction-revoked', 'the certificate of this transaction has been revoked');
  }
  if (!hasStoredCertificate(existing)) {
    return refuse(
      'conflict',
      'certificate-not-stored',
      'this transaction was completed and its certificate is not stored; enroll with a new transactionID',
    );
  }
  const der = new Uint8Array(Buffer.from(existing.der, 'base64'));
  return { ok: true, issued: describe(der), record: existing, replayed: true };
}
