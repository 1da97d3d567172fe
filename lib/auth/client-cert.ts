import type { Authorization } from '../challenge/types.js';
import type { RenewalGrant, RenewalReason, RenewalReceiver, RenewalRule } from '../enroll/renewal-rule.js';
import type { CertificateRecord } from '../store/types.js';

/**
 * Renewal over mutual TLS: a caller that presents a certificate we issued gets it re-issued for
 * a new key without an Entra token (SCEPman: AppConfig:DbCSRValidation:AllowRenewals,
 * "certificate renewal using mTLS"; EST simplereenroll, RFC 7030 §4.2.2). Whether the presented
 * certificate may be renewed, and with which profile, is the shared renewal rule's certificate
 * check (lib/enroll/renewal-rule.ts); the new certificate's identity comes from that
 * certificate, never from the request (lib/enroll/reenroll-identity.ts). This adapter only
 * reads the trusted header.
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

export type RenewalRefusalReason = RenewalReason | 'not_configured' | 'no_client_certificate';

export type RenewalResult =
  | {
      readonly ok: true;
      readonly record: CertificateRecord;
      readonly serialNumber: string;
      readonly grant: RenewalGrant;
      /** The presented certificate, DER: the identity the renewed certificate carries. */
      readonly certificateDer: Uint8Array;
    }
  | { readonly ok: false; readonly reason: RenewalRefusalReason; readonly message: string };

export interface ClientCertificateOptions {
  /** The trusted header (e.g. X-ARR-ClientCert); undefined turns renewal over mTLS off. */
  readonly header: string | undefined;
  /** The shared renewal rule (lib/enroll/renewal-rule.ts). */
  readonly rule: RenewalRule;
  /** Record authorizations that may be renewed (mapped from the SCEPman type names). */
  readonly allowedAuthorizations: readonly Authorization[];
}

const MAX_HEADER = 16 * 1024;

const refuse = (reason: RenewalRefusalReason, message: string): RenewalResult => ({
  ok: false,
  reason,
  message,
});

export class ClientCertificateRenewal {
  constructor(private readonly o: ClientCertificateOptions) {}

  /** Whether the request carries a client certificate in the trusted header. */
  present(headers: HeaderReader): boolean {
    return this.o.header !== undefined && (headers.get(this.o.header) ?? '').trim() !== '';
  }

  /**
   * Decide whether the presented certificate may be renewed: by default under the REST rule
   * (ReenrollmentAllowedCertificateTypes); an EST label renews only its own endpoint's
   * certificates (`{ kind: 'scep', endpoint }`). Store failures propagate
   * (AppError DEPENDENCY_UNAVAILABLE); every refusal is a typed result.
   */
  async authorize(headers: HeaderReader, receiver?: RenewalReceiver): Promise<RenewalResult> {
    if (this.o.header === undefined)
      return refuse('not_configured', 'renewal with a client certificate is not enabled');
    const value = (headers.get(this.o.header) ?? '').trim();
    if (value === '') return refuse('no_client_certificate', 'no client certificate was presented');
    const der = decodeHeader(value);
    if (der === undefined) return refuse('malformed_certificate', 'the client certificate cannot be parsed');
    const d = await this.o.rule.check(
      der,
      receiver ?? { kind: 'mtls', allowedTypes: this.o.allowedAuthorizations },
    );
    if (!d.ok) return refuse(d.reason, `client certificate: ${d.message}`);
    return {
      ok: true,
      record: d.record,
      serialNumber: d.grant.renewalOf,
      grant: d.grant,
      certificateDer: der,
    };
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
