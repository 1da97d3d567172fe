import type { ChallengeContext, ChallengeResult } from '../challenge/types.js';
import type { Authorizer } from '../enroll/endpoint.js';
import { AppError } from '../errors.js';
import type { Account } from '../model/account.js';
import { REASONS, type AccountReason } from '../audit/reasons.js';
import type { DocumentCollection, Stored } from '../store/documents.js';
import { splitChallenge, verifySecret } from './secrets.js';

/**
 * Attempts at recording a use when other enrollments of the same account write concurrently.
 * An account with maxUses gives up sooner (`account-busy`, the client retries); one without a
 * use limit only counts its uses, so it keeps trying, each retry after a random pause that
 * grows with the attempts (jittered backoff), so racing enrollments stop colliding.
 */
const MAX_ATTEMPTS = 8;
const MAX_ATTEMPTS_UNLIMITED = 64;
const BACKOFF_CAP_MS = 64;

/**
 * The challenge of a stored SCEP-type endpoint: `<account id><secret>`. The account is read by
 * its id (one point read), the secret compared with its scrypt hash in constant time, then the
 * account's state checked and one use recorded. A use is recorded with an etag-conditional
 * replace, so an account with maxUses (a one-time challenge) is never used more often than
 * allowed, however many enrollments race for it. Refusal reasons go to the audit log; the
 * client only learns that the request was not authorized.
 */
export class AccountAuthorizer implements Authorizer {
  readonly refusalIsFinal = false;

  constructor(
    private readonly endpointId: string,
    private readonly accounts: DocumentCollection<Account>,
    private readonly clock: () => Date,
  ) {}

  async challenge(ctx: ChallengeContext): Promise<ChallengeResult> {
    const pw = ctx.challengePassword;
    if (pw === undefined || pw === '') return refuse('challenge-missing');
    const parts = splitChallenge(pw);
    if (!parts) return refuse('challenge-malformed');
    let account = await this.accounts.get(parts.id, this.endpointId);
    // An NDES credential is not a challenge: only its one-time challenges are.
    if (!account || account.kind === 'ndes') return refuse('account-unknown', parts.id);
    if (!(await verifySecret(parts.secret, account.secret)))
      return refuse('account-secret-mismatch', parts.id);
    for (let attempt = 0; attempt < attempts(account); attempt++) {
      if (attempt > 0 && account.maxUses === undefined) await backoff(attempt);
      const state = this.state(account);
      if (state) return refuse(state, account.id);
      const used = await this.recordUse(account);
      if (used === 'ok') {
        return {
          ok: true,
          authorization: 'account',
          requester: `account:${account.id}`,
          account: { id: account.id, organization: account.organization, department: account.department },
        };
      }
      const again = await this.accounts.get(account.id, this.endpointId);
      if (!again) return refuse('account-unknown', parts.id);
      account = again;
    }
    return refuse('account-busy', account.id);
  }

  private state(a: Account): AccountReason | undefined {
    if (!a.enabled) return 'account-disabled';
    if (a.expiresAt !== undefined && Date.parse(a.expiresAt) <= this.clock().getTime())
      return 'account-expired';
    if (a.maxUses !== undefined && a.uses >= a.maxUses) return 'account-used-up';
    return undefined;
  }

  private async recordUse(a: Stored<Account>): Promise<'ok' | 'stale'> {
    const next: Account = { ...a, uses: a.uses + 1, lastUsedAt: this.clock().toISOString() };
    try {
      await this.accounts.replace(next, a.etag);
      return 'ok';
    } catch (e) {
      if (e instanceof AppError && e.code === 'PRECONDITION_FAILED') return 'stale';
      throw e;
    }
  }
}

const attempts = (a: Account): number => (a.maxUses === undefined ? MAX_ATTEMPTS_UNLIMITED : MAX_ATTEMPTS);

const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(BACKOFF_CAP_MS, 2 ** attempt)));

function refuse(reason: AccountReason, accountId?: string): ChallengeResult {
  const detail = REASONS[reason].meaning.replace(/\.$/, '');
  return { ok: false, reason, detail: accountId === undefined ? detail : `${detail} (account ${accountId})` };
}
