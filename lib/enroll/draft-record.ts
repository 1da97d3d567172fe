import type { ChallengeResult } from '../challenge/types.js';
import type { IssuanceProfile, IssuedCertificate } from '../ca/issue.js';
import type { AppliedProfile, CertificateRecord } from '../store/types.js';
import { NOT_STORED_DER } from '../store/storage-policy.js';
import type { EnrollmentRequest } from './request.js';

/**
 * The record of a certificate just signed, before it is written: who asked (account,
 * organization, requester), under which transaction and profile, what Intune must hear, and
 * the DER unless the endpoint's profile keeps no copy.
 */
export function draftRecord(d: {
  readonly req: EnrollmentRequest;
  readonly issued: IssuedCertificate;
  readonly auth: Extract<ChallengeResult, { ok: true }>;
  readonly profile: IssuanceProfile;
  readonly transactionKey: string | undefined;
  readonly now: Date;
}): CertificateRecord {
  const { req, issued, auth, now } = d;
  // A renewal belongs to the account (and organization) of the certificate it renews.
  const account = auth.account ?? auth.renewal?.account;
  return {
    serialNumber: issued.serialNumber,
    thumbprintSha1: issued.thumbprintSha1,
    thumbprintSha256: issued.thumbprintSha256,
    subject: issued.subject,
    sans: issued.sans,
    issuer: issued.issuer,
    notBefore: issued.notBefore.toISOString(),
    notAfter: issued.notAfter.toISOString(),
    endpoint: auth.renewal?.endpoint ?? req.endpoint,
    endpointId: auth.renewal?.endpoint ?? req.endpoint,
    authorization: auth.authorization,
    ...(auth.renewal ? { renewalOf: auth.renewal.renewalOf } : {}),
    ...(account
      ? { accountId: account.id, organization: account.organization, department: account.department }
      : {}),
    profile: appliedProfile(d.profile),
    requester: auth.requester ?? req.csr.subjectString,
    transactionId: req.transactionId,
    transactionKey: d.transactionKey,
    csrSha256: req.csr.sha256,
    publicKeySha256: req.csr.publicKeySha256,
    status: 'issued',
    // Only a request its challenge authorized is announced (Intune: a renewal was never
    // validated, so there is no transaction to notify).
    ...(req.hooks.notification !== 'none' && auth.authorization !== 'renewal'
      ? {
          notification: {
            state: req.hooks.notification,
            attempts: 0,
            updatedAt: now.toISOString(),
            certificateRequest: Buffer.from(req.csr.der).toString('base64'),
          },
        }
      : {}),
    der: !req.profile.storeCertificate ? NOT_STORED_DER : Buffer.from(issued.der).toString('base64'),
    createdAt: now.toISOString(),
  };
}

/** The profile a record says it was issued under (search, renewal, audit). */
function appliedProfile(p: IssuanceProfile): AppliedProfile {
  return { validityDays: p.validityDays, keyUsage: [...p.keyUsage], ekus: [...p.ekus] };
}
