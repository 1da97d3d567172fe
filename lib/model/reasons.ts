/**
 * Refusal reasons of the request path that this module defines: one catalogue, stable codes for
 * the audit log. A SCEP client is only told that the request was not authorized; the reason
 * goes to the audit log (an account's state is not the requester's business).
 */
export const ACCOUNT_REASONS = {
  'challenge-missing': 'the CSR has no challengePassword',
  'challenge-malformed': 'the challengePassword is not a challenge of this CA',
  'account-unknown': 'no account of this endpoint has the challenge’s account id',
  'account-secret-mismatch': 'the secret part of the challenge is wrong',
  'account-disabled': 'the account is disabled',
  'account-expired': 'the account has expired',
  'account-used-up': 'the account has reached its maximum number of uses',
  'account-busy': 'the account was used concurrently; retry',
} as const;
export type AccountReason = keyof typeof ACCOUNT_REASONS;

/**
 * What a SCEP client is told of a refused account challenge: that it was rejected, not whether
 * the account exists, is disabled, expired or used up (that is for the audit log).
 */
export const CHALLENGE_REJECTED = 'challenge-rejected';
export function clientReason(reason: string): string {
  return reason in ACCOUNT_REASONS && reason !== 'challenge-missing' ? CHALLENGE_REJECTED : reason;
}

/** Profile refusals (lib/endpoints/profile-policy.ts). */
export const PROFILE_REASONS = {
  'subject-rdn-required': 'the subject lacks an RDN the profile requires',
  'subject-rdn-forbidden': 'the subject carries an RDN the profile forbids',
  'subject-cn-pattern': 'the CN does not match the profile’s pattern',
  'san-type-not-allowed': 'a SAN type the profile does not allow',
  'san-pattern': 'a SAN value does not match the profile’s pattern',
  'key-too-small': 'an RSA key below the profile’s minimum',
  'curve-not-allowed': 'an EC curve the profile does not allow',
  'renewal-not-allowed': 'the endpoint does not renew certificates',
  'renewal-too-early': 'the certificate is not yet within the renewal window',
} as const;
export type ProfileReason = keyof typeof PROFILE_REASONS;
