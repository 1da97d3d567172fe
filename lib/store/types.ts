import type { Authorization } from '../challenge/types.js';

/**
 * The certificate store: every issued certificate is recorded here BEFORE it is returned to
 * a client. The in-memory implementation serves tests and the embedded
 * default until a Cosmos DB one is configured; both must honour the same contract, which
 * test/unit/store-contract.ts checks.
 */

export type CertificateStatus = 'issued' | 'revoked';

/** RFC 5280 CRLReason names. */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'privilegeWithdrawn';

/**
 * `undelivered`: recorded, its reply not produced yet (nothing announced); `pending`: delivered,
 * the success notification queued; `sent`/`failed`: settled.
 */
export type NotificationState = 'none' | 'undelivered' | 'pending' | 'sent' | 'failed';

/** What a certificate was issued with: a snapshot, as the endpoint's profile may change later. */
export interface AppliedProfile {
  readonly validityDays: number;
  readonly keyUsage: readonly string[];
  readonly ekus: readonly string[];
}

export interface CertificateRecord {
  /** Serial number, lower-case hex without leading zeros beyond what DER needs (canonical). */
  readonly serialNumber: string;
  readonly thumbprintSha1: string; // upper-case hex
  readonly thumbprintSha256: string; // upper-case hex
  readonly subject: string; // RFC 4514 string
  readonly sans: readonly string[]; // "dns:x", "email:x", "uri:x", "ip:x", "upn:x"
  readonly issuer: string;
  readonly notBefore: string; // ISO 8601
  readonly notAfter: string; // ISO 8601
  readonly endpoint: string;
  /** The endpoint's id (stored endpoints: its name). Absent on records older than endpoints as data. */
  readonly endpointId?: string | undefined;
  readonly authorization: Authorization;
  /** The account whose challenge authorized it, and that account's organization/department. */
  readonly accountId?: string | undefined;
  readonly organization?: string | undefined;
  readonly department?: string | undefined;
  /** The profile it was issued under. */
  readonly profile?: AppliedProfile | undefined;
  /** Serial of the certificate this one renewed (same identity, same endpoint profile). */
  readonly renewalOf?: string | undefined;
  readonly requester?: string | undefined;
  /** SCEP transactionID (or a REST request id). */
  readonly transactionId?: string | undefined;
  /**
   * Idempotency key: endpoint + transactionID + message kind (+ renewal signer). Two requests
   * with the same key are the same transaction; unique across the store when present.
   */
  readonly transactionKey?: string | undefined;
  /** SHA-256 (hex) of the DER certificate request this certificate answered. */
  readonly csrSha256?: string | undefined;
  /** SHA-256 (hex) of the subjectPublicKeyInfo of the certified key. */
  readonly publicKeySha256: string;
  readonly status: CertificateStatus;
  readonly revocation?: { readonly reason: RevocationReason; readonly date: string } | undefined;
  /** Intune success/failure notification bookkeeping. */
  readonly notification?:
    | {
        readonly state: NotificationState;
        readonly attempts: number;
        readonly lastError?: string | undefined;
        readonly updatedAt: string;
        /** The base64 DER CSR sent to Intune validateRequest (the notification repeats it). */
        readonly certificateRequest?: string | undefined;
      }
    | undefined;
  /** Certificate DER, base64. */
  readonly der: string;
  readonly createdAt: string;
  /** Opaque concurrency token; set by the store on read. */
  readonly etag?: string | undefined;
}

export type CreateResult =
  | { readonly created: true; readonly record: CertificateRecord }
  /** A record with the same transactionKey already exists: the idempotent path. */
  | { readonly created: false; readonly existing: CertificateRecord };

export interface CertificateQuery {
  readonly endpoint?: string;
  readonly subjectContains?: string;
  /** Subject (RFC 4514 string) starts with this, e.g. "CN=laptop-". Indexed in every store. */
  readonly subjectPrefix?: string;
  /** Exact serial (canonical lower-case hex). */
  readonly serialNumber?: string;
  /** SHA-1 or SHA-256 thumbprint, upper-case hex. */
  readonly thumbprint?: string;
  /** Substring of any SAN entry ("dns:host.example" matches "host"). */
  readonly sanContains?: string;
  readonly accountId?: string;
  readonly organization?: string;
  readonly department?: string;
  /** notAfter < this ISO 8601 instant. */
  readonly expiringBefore?: string;
  /**
   * Free text: a case-sensitive substring of the subject, any SAN, the serial or a thumbprint
   * (serial and thumbprints are matched in their canonical case).
   */
  readonly text?: string;
  readonly status?: CertificateStatus;
  readonly notificationState?: NotificationState;
  readonly issuedAfter?: string;
  readonly issuedBefore?: string;
  readonly limit?: number;
  readonly continuationToken?: string;
}

/** One entry of a CRL (RFC 5280 §5.1.2.6): what `listRevoked` yields, not a whole record. */
export interface RevokedEntry {
  readonly serialNumber: string;
  readonly revocation: { readonly reason: RevocationReason; readonly date: string };
  readonly notAfter: string; // ISO 8601
}

export interface CertificateStore {
  /**
   * Create-if-absent. Resolves only once the record is durable. If a record with the same
   * transactionKey exists, resolves `{ created: false, existing }` and writes nothing.
   * Throws AppError DEPENDENCY_UNAVAILABLE when the store cannot be written.
   */
  create(record: CertificateRecord): Promise<CreateResult>;
  getBySerial(serialNumber: string): Promise<CertificateRecord | undefined>;
  getByTransactionKey(transactionKey: string): Promise<CertificateRecord | undefined>;
  /**
   * Optimistic update: applies `change` only if the stored etag still equals `record.etag`.
   * Resolves the updated record, or undefined on an etag mismatch (re-read and retry).
   */
  update(
    record: CertificateRecord,
    change: Partial<Pick<CertificateRecord, 'status' | 'revocation' | 'notification'>>,
  ): Promise<CertificateRecord | undefined>;
  search(query: CertificateQuery): Promise<{ items: CertificateRecord[]; continuationToken?: string }>;
  /**
   * Every revoked record of `issuer` (the record's `issuer` string), read in pages so a CRL of
   * 100,000 entries never holds 100,000 whole records. Order is unspecified.
   */
  listRevoked(issuer: string): AsyncIterable<RevokedEntry>;
  /**
   * An opaque marker that changes whenever an `update` changes a record's `status` or
   * `revocation` (advanced after the record is written). Reading it is one cheap call: every
   * instance polls it to drop cached OCSP responses and CRLs (lib/revocation).
   */
  revocationEpoch(): Promise<string>;
  /** A cheap call that proves the store answers (probe). */
  ping(): Promise<void>;
}
