import { X509Certificate, createHash } from 'node:crypto';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { Authorization } from '../challenge/types.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import { serialHex } from '../ca/sign.js';

/**
 * Renewal over mutual TLS: a caller that presents a certificate we issued gets it re-issued for
 * a new key without an Entra token (SCEPman: AppConfig:DbCSRValidation:AllowRenewals,
 * "certificate renewal using mTLS"; EST simplereenroll, RFC 7030 §4.2.2). This module decides
 * whether the presented certificate may be renewed; the new certificate's identity comes from
 * that certificate, never from the request (lib/enroll/reenroll-identity.ts).
 *
 * TLS ends at the App Service front end, which proves the client holds the private key and
 * forwards the certificate to the app in `X-ARR-ClientCert` (base64 DER, no PEM armour). The
 * app only ever sees that header, so it is trusted only when configured
 * (AppConfig__DbCSRValidation__ClientCertificateHeader) and only as far as the front end
 * overwrites it: never configure it where clients can reach the app other than through a
 * front end that sets the header itself.
 */

export interface HeaderReader {
  get(name: string): string | null | undefined;
}

export type RenewalRefusalReason =
  | 'not_configured' // renewal over mTLS is off: no trusted header configured
  | 'no_client_certificate'
  | 'malformed_certificate'
  | 'foreign_issuer' // not issued by our CA
  | 'bad_signature' // names our CA, but our CA's key did not sign it
  | 'not_yet_valid'
  | 'expired'
  | 'unknown_certificate' // not in the certificate store (or the stored one differs)
  | 'revoked'
  | 'type_not_allowed'; // its authorization type is not in ReenrollmentAllowedCertificateTypes

export type RenewalResult =
  | {
      readonly ok: true;
      readonly record: CertificateRecord;
      readonly serialNumber: string;
      /** The presented certificate, DER: the identity the renewed certificate carries. */
      readonly certificateDer: Uint8Array;
    }
  | { readonly ok: false; readonly reason: RenewalRefusalReason; readonly message: string };

export interface ClientCertificateOptions {
  /** The trusted header (e.g. X-ARR-ClientCert); undefined turns renewal over mTLS off. */
  readonly header: string | undefined;
  /** Our issuing CA certificate(s), DER: the current one and any still-trusted predecessors. */
  readonly caCertificates: readonly Uint8Array[];
  readonly store: Pick<CertificateStore, 'getBySerial'>;
  /** Record authorizations that may be renewed (mapped from the SCEPman type names). */
  readonly allowedAuthorizations: readonly Authorization[];
  readonly now?: () => Date;
}

const MAX_HEADER = 16 * 1024;

const refuse = (reason: RenewalRefusalReason, message: string): RenewalResult => ({
  ok: false,
  reason,
  message,
});

export class ClientCertificateRenewal {
  private readonly cas: readonly X509Certificate[];
  private readonly now: () => Date;

  constructor(private readonly o: ClientCertificateOptions) {
    this.cas = o.caCertificates.map((d) => new X509Certificate(d));
    this.now = o.now ?? (() => new Date());
  }

  /** Whether the request carries a client certificate in the trusted header. */
  present(headers: HeaderReader): boolean {
    return this.o.header !== undefined && (headers.get(this.o.header) ?? '').trim() !== '';
  }

  /**
   * Decide whether the presented certificate may be renewed. Store failures propagate
   * (AppError DEPENDENCY_UNAVAILABLE); every refusal is a typed result.
   */
  async authorize(headers: HeaderReader): Promise<RenewalResult> {
    if (this.o.header === undefined)
      return refuse('not_configured', 'renewal with a client certificate is not enabled');
    const value = (headers.get(this.o.header) ?? '').trim();
    if (value === '') return refuse('no_client_certificate', 'no client certificate was presented');
    const der = decodeHeader(value);
    let x509: X509Certificate;
    let cert: Certificate;
    try {
      if (der === undefined) throw new Error('undecodable');
      x509 = new X509Certificate(der);
      cert = AsnParser.parse(der, Certificate);
    } catch {
      return refuse('malformed_certificate', 'the client certificate cannot be parsed');
    }
    // OpenSSL's issuer check: issuer name = CA subject, authority/subject key ids agree.
    const issuer = this.cas.find((ca) => x509.checkIssued(ca));
    if (!issuer) return refuse('foreign_issuer', 'the client certificate was not issued by this CA');
    if (!x509.verify(issuer.publicKey)) {
      return refuse('bad_signature', 'the client certificate signature does not verify with this CA');
    }
    const now = this.now().getTime();
    const { notBefore, notAfter } = cert.tbsCertificate.validity;
    if (now < notBefore.getTime().getTime())
      return refuse('not_yet_valid', 'the client certificate is not valid yet');
    if (now > notAfter.getTime().getTime()) return refuse('expired', 'the client certificate has expired');

    const serialNumber = serialHex(new Uint8Array(cert.tbsCertificate.serialNumber));
    const record = await this.o.store.getBySerial(serialNumber);
    const sha256 = createHash('sha256').update(der).digest('hex').toUpperCase();
    if (!record || record.thumbprintSha256.toUpperCase() !== sha256) {
      return refuse('unknown_certificate', 'the client certificate is not known to this CA');
    }
    if (record.status !== 'issued') return refuse('revoked', 'the client certificate has been revoked');
    if (!this.o.allowedAuthorizations.includes(record.authorization)) {
      return refuse(
        'type_not_allowed',
        `certificates of type "${record.authorization}" cannot be renewed here`,
      );
    }
    return { ok: true, record, serialNumber, certificateDer: der };
  }
}

/**
 * The header value as DER: base64 DER (App Service X-ARR-ClientCert), PEM, or URL-encoded PEM
 * (nginx `$ssl_client_escaped_cert`).
 */
function decodeHeader(value: string): Uint8Array | undefined {
  if (value.length > MAX_HEADER) return undefined;
  let text = value;
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return undefined;
    }
  }
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  const b64 = (pem ? (pem[1] ?? '') : text).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  return new Uint8Array(Buffer.from(b64, 'base64'));
}
