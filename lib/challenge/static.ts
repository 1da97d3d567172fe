import { createHash, timingSafeEqual } from 'node:crypto';
import type { ChallengeContext, ChallengeResult, ChallengeValidator } from './types.js';

/**
 * A shared challenge password (AppConfig__StaticValidation__RequestPassword), as Addigy,
 * Kandji, Jamf and Mosyle put it in their SCEP profiles. Compared in constant time over
 * SHA-256 digests, so neither the content nor the length of the secret leaks through timing.
 */
export class StaticChallengeValidator implements ChallengeValidator {
  private readonly expected: Buffer;

  constructor(secret: string) {
    this.expected = digest(secret);
  }

  validate(ctx: ChallengeContext): Promise<ChallengeResult> {
    if (ctx.challengePassword === undefined || ctx.challengePassword === '') {
      return Promise.resolve({
        ok: false,
        reason: 'challenge-missing',
        detail: 'the CSR has no challengePassword',
      });
    }
    const ok = timingSafeEqual(digest(ctx.challengePassword), this.expected);
    return Promise.resolve(
      ok
        ? { ok: true, authorization: 'static' }
        : {
            ok: false,
            reason: 'challenge-mismatch',
            detail: 'the challengePassword is not the configured static challenge',
          },
    );
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
