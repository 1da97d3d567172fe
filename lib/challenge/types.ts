import type { ParsedCsr } from '../csr/parse.js';
import type { RenewalGrant } from '../enroll/renewal-rule.js';

/** What a challenge validator sees of an enrollment request. */
export interface ChallengeContext {
  readonly endpoint: string;
  readonly transactionId: string;
  readonly csr: ParsedCsr;
  /** The challengePassword attribute of the CSR, if any. */
  readonly challengePassword: string | undefined;
}

export type ChallengeResult =
  | {
      readonly ok: true;
      readonly authorization: Authorization;
      readonly requester?: string;
      /** A granted renewal: the new certificate gets the original endpoint's profile. */
      readonly renewal?: RenewalGrant;
    }
  | { readonly ok: false; readonly reason: string; readonly detail?: string };

/** How an issued certificate was authorized; recorded on the certificate document. */
export type Authorization = 'static' | 'intune' | 'account' | 'api' | 'renewal';

export interface ChallengeValidator {
  validate(ctx: ChallengeContext): Promise<ChallengeResult>;
}
