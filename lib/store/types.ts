import type { Authorization } from '../challenge/types.js';

/**
 * The certificate store: every issued certificate is recorded here BEFORE it is returned to
 * a client (DESIGN decision 3). The in-memory implementation serves tests and the embedded
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
  readonly authorization: Authorization;
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
  readonly status?: CertificateStatus;
  readonly notificationState?: NotificationState;
  readonly issuedAfter?: string;
  readonly issuedBefore?: string;
  readonly limit?: number;
  readonly continuationToken?: string;
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
  /** A cheap call that proves the store answers (probe). */
  ping(): Promise<void>;
}
