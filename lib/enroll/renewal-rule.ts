import { X509Certificate, createHash } from 'node:crypto';
import { AsnConvert, AsnParser } from '@peculiar/asn1-schema';
import { Certificate, GeneralName, SubjectAlternativeName, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import type { IssuanceProfile } from '../ca/issue.js';
import { serialHex } from '../ca/sign.js';
import type { AccountRef, Authorization } from '../challenge/types.js';
import type { ParsedCsr } from '../csr/parse.js';
import type { CsrValidator } from '../csr/policy.js';
import type { CertificateRecord, CertificateStore } from '../store/types.js';
import { nameToString } from '../x509/names.js';

/**
 * The one renewal rule, shared by SCEP (RenewalReq, or a PKCSReq signed by an earlier
 * certificate) and REST renewal over mTLS: a renewal re-issues the same certificate, never a
 * better one.
 *
 * 1. The presented certificate was issued by our CA (issuer name, key identifiers and signature),
 *    is within its validity, is recorded (same thumbprint) and is not revoked.
 * 2. Scope: SCEP renews only certificates of the endpoint that receives the renewal; REST only
 *    records whose type is in ReenrollmentAllowedCertificateTypes.
 * 3. The CSR asks for exactly the same subject and the same set of subject alternative names,
 *    compared on their full encoded values for every GeneralName type (RFC 5280 §4.2.1.6);
 *    x400Address and ediPartyName are refused, not compared.
 * 4. The new certificate gets the original endpoint's current profile (key usage, EKUs,
 *    validity), never the CSR's requested extensions, and its request must pass that endpoint's
 *    CSR policy (key rules) whichever door it came through.
 */

/** Stable reason codes (audit logs, REST `reason`, SCEP failInfoText). */
export type RenewalReason =
  | 'malformed_certificate'
  | 'foreign_issuer' // not issued by our CA
  | 'bad_signature' // names our CA, but our CA's key did not sign it
  | 'not_yet_valid'
  | 'expired'
  | 'unknown_certificate' // not in the certificate store (or the stored one differs)
  | 'revoked'
  | 'other_endpoint' // SCEP: issued by another endpoint than the one receiving the renewal
  | 'type_not_allowed' // REST: its type is not in ReenrollmentAllowedCertificateTypes
  | 'profile_unavailable' // the endpoint that issued it no longer exists
  | 'subject_mismatch'
  | 'san_mismatch'
  | 'san_unsupported'; // a SAN type that cannot be compared (x400Address, ediPartyName)

/** Who receives the renewal request. */
export type RenewalReceiver =
  | { readonly kind: 'scep'; readonly endpoint: string }
  | { readonly kind: 'mtls'; readonly allowedTypes: readonly Authorization[] };

/** What a granted renewal issues: the original endpoint's profile, recorded as `renewalOf`. */
export interface RenewalGrant {
  readonly renewalOf: string;
  readonly endpoint: string;
  readonly profile: IssuanceProfile;
  /** The original endpoint's CSR validators: the renewal request must pass them too. */
  readonly policy: readonly CsrValidator[];
  /** The account (and its organization) the renewed certificate belongs to, carried over. */
  readonly account?: AccountRef;
}

export type RenewalDecision =
  | { readonly ok: true; readonly record: CertificateRecord; readonly grant: RenewalGrant }
  | {
      readonly ok: false;
      readonly reason: RenewalReason;
      readonly message: string;
      /** Set once the certificate is known to be ours (SCEP keys its transactions by it). */
      readonly serialNumber?: string;
    };

export interface RenewalRuleDeps {
  /** Our issuing CA certificate(s), DER: the current one and any still-trusted predecessors. */
  readonly caCertificates: readonly Uint8Array[];
  readonly store: Pick<CertificateStore, 'getBySerial'>;
  /** The current profile of an endpoint by name (`static`, `intune`, `api`, a stored one, …). */
  readonly profileOf: (endpoint: string) => RenewalProfile | undefined | Promise<RenewalProfile | undefined>;
  readonly now: () => Date;
}

/** What a renewal takes from the endpoint that issued the certificate. */
export interface RenewalProfile {
  readonly issuance: IssuanceProfile;
  readonly policy: readonly CsrValidator[];
}

const refuse = (reason: RenewalReason, message: string, serialNumber?: string): RenewalDecision =>
  serialNumber === undefined ? { ok: false, reason, message } : { ok: false, reason, message, serialNumber };

export class RenewalRule {
  private cas: readonly X509Certificate[] = [];
  private caKeys: readonly Buffer[] = [];

  constructor(private readonly d: RenewalRuleDeps) {
    this.trust(d.caCertificates);
  }

  /** The CAs whose certificates renew from now on (after an activation is picked up). */
  trust(caCertificates: readonly Uint8Array[]): void {
    this.cas = caCertificates.map((der) => new X509Certificate(der));
    this.caKeys = this.cas.map((c) => c.publicKey.export({ format: 'der', type: 'spki' }));
  }

  /**
   * `check` for a SCEP request signer. A signer whose self-signature verified with its own key
   * (a first enrollment, RFC 8894 §2.3) can only be a certificate of ours when that key is a CA
   * key: any other key means our CA's signature cannot verify on it (`foreign_issuer`, the same
   * "not ours" answer `check` gives), decided without parsing the certificate twice more. The
   * key is compared as encoded: the same key encoded otherwise was signed for by a holder of the
   * CA's private key, who needs no renewal rule to obtain certificates.
   */
  checkSigner(
    signer: { readonly der: Uint8Array; readonly spki: Uint8Array; readonly selfSigned: boolean },
    receiver: RenewalReceiver,
  ): Promise<RenewalDecision> {
    if (signer.selfSigned && !this.isCaKey(signer.spki))
      return Promise.resolve(refuse('foreign_issuer', 'the certificate was not issued by this CA'));
    return this.check(signer.der, receiver);
  }

  private isCaKey(spki: Uint8Array): boolean {
    return this.caKeys.some((k) => k.equals(spki));
  }

  /**
   * Steps 1–2: is `der` a certificate of ours that `receiver` may renew? Store failures
   * propagate (AppError DEPENDENCY_UNAVAILABLE); every refusal is a typed result.
   */
  async check(der: Uint8Array, receiver: RenewalReceiver): Promise<RenewalDecision> {
    let x509: X509Certificate;
    let cert: Certificate;
    try {
      x509 = new X509Certificate(der);
      cert = AsnParser.parse(der, Certificate);
    } catch {
      return refuse('malformed_certificate', 'the certificate cannot be parsed');
    }
    // OpenSSL's issuer check: issuer name = CA subject, authority/subject key ids agree.
    const ca = this.cas.find((c) => x509.checkIssued(c));
    if (!ca) return refuse('foreign_issuer', 'the certificate was not issued by this CA');
    if (!x509.verify(ca.publicKey))
      return refuse('bad_signature', 'the certificate signature does not verify with this CA');
    const serial = serialHex(new Uint8Array(cert.tbsCertificate.serialNumber));
    const now = this.d.now().getTime();
    const { notBefore, notAfter } = cert.tbsCertificate.validity;
    if (now < notBefore.getTime().getTime())
      return refuse('not_yet_valid', `the certificate ${serial} is not yet valid`, serial);
    if (now > notAfter.getTime().getTime())
      return refuse('expired', `the certificate ${serial} has expired`, serial);
    const record = await this.d.store.getBySerial(serial);
    const sha256 = createHash('sha256').update(der).digest('hex').toUpperCase();
    if (!record || record.thumbprintSha256.toUpperCase() !== sha256)
      return refuse('unknown_certificate', `the certificate ${serial} is not known to this CA`, serial);
    if (record.status !== 'issued')
      return refuse('revoked', `the certificate ${serial} has been revoked`, serial);
    if (receiver.kind === 'scep' && record.endpoint !== receiver.endpoint)
      return refuse(
        'other_endpoint',
        `the certificate ${serial} was issued by another endpoint; renew it there`,
        serial,
      );
    if (receiver.kind === 'mtls' && !receiver.allowedTypes.includes(record.authorization))
      return refuse(
        'type_not_allowed',
        `certificates of type "${record.authorization}" cannot be renewed here`,
        serial,
      );
    const profile = await this.d.profileOf(record.endpoint);
    if (!profile)
      return refuse('profile_unavailable', `the endpoint that issued ${serial} is not enabled`, serial);
    return { ok: true, record, grant: grantOf(record, serial, profile) };
  }

  /** Steps 1–4: may `csr` renew the certificate `der`, and with which profile? */
  async decide(
    der: Uint8Array,
    csr: ParsedCsr,
    receiver: RenewalReceiver,
    /** The result of `check(der, receiver)` when the caller already has it. */
    checkedBefore?: RenewalDecision,
  ): Promise<RenewalDecision> {
    const checked = checkedBefore ?? (await this.check(der, receiver));
    if (!checked.ok) return checked;
    const serial = checked.grant.renewalOf;
    const cert = AsnParser.parse(der, Certificate);
    if (normName(nameToString(cert.tbsCertificate.subject)) !== normName(csr.subjectString))
      return refuse('subject_mismatch', 'the requested subject differs from the certificate', serial);
    const held = sanKeys(certificateSans(cert));
    const asked = sanKeys(csr.sans);
    if (!held || !asked)
      return refuse('san_unsupported', 'a subject alternative name type cannot be compared', serial);
    if (held.size !== asked.size || ![...held].every((k) => asked.has(k)))
      return refuse(
        'san_mismatch',
        'the requested subject alternative names differ from the certificate',
        serial,
      );
    return checked;
  }
}

/** Step 4: the original endpoint's profile and policy, and the account the record belongs to. */
function grantOf(record: CertificateRecord, serial: string, profile: RenewalProfile): RenewalGrant {
  return {
    renewalOf: serial,
    endpoint: record.endpoint,
    profile: { ...profile.issuance, copyRequestedExtensions: false },
    policy: profile.policy,
    ...(record.accountId === undefined
      ? {}
      : {
          account: {
            id: record.accountId,
            organization: record.organization,
            department: record.department,
          },
        }),
  };
}

function certificateSans(cert: Certificate): readonly GeneralName[] {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  return ext ? AsnParser.parse(ext.extnValue, SubjectAlternativeName) : [];
}

/**
 * Each GeneralName as its full DER value (otherName type and value, directoryName bytes, IP
 * octets, …); DNS names fold case (RFC 4343). Undefined when a name cannot be compared.
 */
export function sanKeys(names: readonly GeneralName[]): Set<string> | undefined {
  const keys = new Set<string>();
  for (const gn of names) {
    if (gn.dNSName !== undefined) keys.add(`dns:${gn.dNSName.toLowerCase()}`);
    else if (gn.x400Address !== undefined || gn.ediPartyName !== undefined) return undefined;
    else {
      try {
        keys.add(Buffer.from(AsnConvert.serialize(gn)).toString('hex'));
      } catch {
        return undefined;
      }
    }
  }
  return keys;
}

/** RFC 5280 §7.1 compares names case-insensitively after whitespace folding. */
const normName = (s: string): string => s.replace(/\s+/g, ' ').trim().toLowerCase();
