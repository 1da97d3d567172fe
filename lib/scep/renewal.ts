import type { ReasonCode } from '../audit/reasons.js';
import type { ChallengeResult } from '../challenge/types.js';
import { withinRenewalWindow } from '../enroll/endpoint.js';
import type { RenewalDecision, RenewalReason } from '../enroll/renewal-rule.js';
import type { ScepEndpoint } from './endpoint.js';

/**
 * How SCEP applies the shared renewal rule (lib/enroll/renewal-rule.ts) to a request signer:
 * a signer that is not ours is a first enrollment (self-signed, RFC 8894 §2.3); one that is ours
 * either renews (RenewalReq, or a PKCSReq whose challenge fails) or is refused with a
 * `renewal-*` reason.
 */

/** Signers that are simply not ours: a first enrollment, not a failed renewal. */
const NOT_OURS: readonly RenewalReason[] = ['malformed_certificate', 'foreign_issuer', 'bad_signature'];

/** A RenewalReq for another identity may still pass on the challenge (a new enrollment). */
const IDENTITY_CHANGED: readonly RenewalReason[] = ['subject_mismatch', 'san_mismatch', 'san_unsupported'];
/** Why a PKCSReq signed by a certificate of ours did not renew it, when its challenge fails. */
const EXPLAINED: readonly RenewalReason[] = [...IDENTITY_CHANGED, 'other_endpoint'];

const SCEP_REASON: Record<RenewalReason, ReasonCode> = {
  malformed_certificate: 'renewal-signer-not-ours',
  foreign_issuer: 'renewal-signer-not-ours',
  bad_signature: 'renewal-signer-not-ours',
  expired: 'renewal-signer-expired',
  not_yet_valid: 'renewal-signer-not-yet-valid',
  unknown_certificate: 'renewal-signer-unknown',
  revoked: 'renewal-signer-revoked',
  other_endpoint: 'renewal-other-endpoint',
  profile_unavailable: 'renewal-other-endpoint',
  type_not_allowed: 'renewal-not-allowed',
  subject_mismatch: 'renewal-identity-changed',
  san_mismatch: 'renewal-identity-changed',
  san_unsupported: 'renewal-identity-changed',
};

export function signerIsOurs(d: RenewalDecision): boolean {
  return d.ok || !NOT_OURS.includes(d.reason);
}

/** The serial of a signer that is ours (part of the SCEP transaction key). */
export function signerSerial(d: RenewalDecision): string | undefined {
  return d.ok ? d.grant.renewalOf : d.serialNumber;
}

/**
 * A RenewalReq that its signer alone already refuses (not ours, expired, revoked, unknown,
 * another endpoint's): refused before the envelope is opened. Same reasons as below.
 */
export function renewalReqRefusal(
  signer: RenewalDecision,
): { readonly reason: ReasonCode; readonly detail: string } | undefined {
  if (signer.ok) return undefined;
  if (!signerIsOurs(signer))
    return {
      reason: 'renewal-signer-not-ours',
      detail: 'a RenewalReq must be signed by a certificate this CA issued',
    };
  return { reason: SCEP_REASON[signer.reason], detail: signer.message };
}

/**
 * The authorization of a PKCSReq/RenewalReq. A renewal vouches only for the identity of the
 * certificate being renewed, on the endpoint that issued it; anything else needs the challenge.
 */
export async function authorizeScepRequest(o: {
  readonly endpoint: ScepEndpoint;
  readonly isRenewalReq: boolean;
  readonly decision: RenewalDecision;
  readonly challenge: () => Promise<ChallengeResult>;
  readonly now: Date;
}): Promise<ChallengeResult> {
  const d = o.decision;
  const policy = o.endpoint.profile.renewal;
  const renewal: ChallengeResult | undefined =
    d.ok && policy.allowed && withinRenewalWindow(policy, new Date(d.record.notAfter), o.now)
      ? {
          ok: true,
          authorization: 'renewal',
          requester: `renewal:${d.grant.renewalOf}`,
          renewal: d.grant,
        }
      : undefined;
  const refusal = d.ok
    ? undefined
    : {
        ok: false as const,
        reason: SCEP_REASON[d.reason],
        detail: d.message,
        ...(d.serialNumber === undefined
          ? {}
          : { compared: [{ name: 'signerSerial', actual: d.serialNumber }] }),
      };
  if (o.isRenewalReq) {
    if (!signerIsOurs(d))
      return {
        ok: false,
        reason: 'renewal-signer-not-ours',
        detail: 'a RenewalReq must be signed by a certificate this CA issued',
      };
    if (renewal) return renewal;
    if (!d.ok && refusal && !IDENTITY_CHANGED.includes(d.reason)) return refusal;
  }
  const challenge = await o.challenge();
  // Where the challenge is someone else's verdict (Intune), a refusal is final: a certificate
  // in hand does not overrule it (Intune spec §0: never issue after a failed validateRequest).
  if (challenge.ok || o.endpoint.authorizer.refusalIsFinal) return challenge;
  if (renewal) return renewal;
  // Say why the certificate in hand did not renew it, when that is the likely intent.
  if (!d.ok && refusal && EXPLAINED.includes(d.reason) && policy.allowed) return refusal;
  return challenge;
}
