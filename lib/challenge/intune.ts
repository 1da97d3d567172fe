import type { IntuneClient } from '../intune/client.js';
import { intuneReason, intuneReasonCode, type Logger, silentLogger } from '../intune/types.js';
import type { ChallengeContext, ChallengeResult, ChallengeValidator } from './types.js';

/**
 * Intune dynamic challenge: Intune itself decrypts and checks the challenge carried in the CSR
 * (spec §0, §3.1), so this validator hands the SCEP transactionID and the CSR to
 * validateRequest and allows issuance only on HTTP 2xx with `code == "Success"` (§3.4).
 * Microsoft's rule: "any exception from validate … MUST NOT issue". Every other answer, HTTP
 * error, token or discovery failure and timeout is a refusal whose reason names what came back
 * (`intune:ChallengeExpired`, `intune:http-500`, `intune:timeout`, …). No retry: the device
 * retries the enrollment itself.
 */

/** Standard base64 (padding, no line breaks, no PEM armour) of the CSR DER (§4). */
export function certificateRequestBase64(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
}

export class IntuneChallengeValidator implements ChallengeValidator {
  private readonly log: Logger;

  constructor(
    private readonly client: Pick<IntuneClient, 'validateRequest'>,
    log: Logger = silentLogger,
  ) {
    this.log = log;
  }

  async validate(ctx: ChallengeContext): Promise<ChallengeResult> {
    // A request without a challenge cannot pass Intune (ChallengePasswordMissing): refuse it
    // here instead of spending an outbound call on it.
    if (ctx.challengePassword === undefined || ctx.challengePassword === '') {
      this.log.warn('intune validation skipped: the CSR carries no challengePassword', {
        endpoint: ctx.endpoint,
        transactionId: ctx.transactionId,
      });
      return {
        ok: false,
        reason: 'intune:challenge-missing',
        detail: 'the CSR carries no challengePassword',
      };
    }
    const r = await this.client.validateRequest(ctx.transactionId, certificateRequestBase64(ctx.csr.der));
    if (r.ok) {
      this.log.info('intune validateRequest: Success', {
        endpoint: ctx.endpoint,
        transactionId: ctx.transactionId,
        activityId: r.activityId,
      });
      return { ok: true, authorization: 'intune' };
    }
    const reason = intuneReason(r);
    this.log.warn(`intune validateRequest refused: ${reason}`, {
      endpoint: ctx.endpoint,
      transactionId: ctx.transactionId,
      code: r.code,
      httpStatus: r.httpStatus,
      errorDescription: r.errorDescription,
      message: r.message,
      activityId: r.activityId,
    });
    const detail = [r.message, r.errorDescription].filter((s) => s !== undefined && s !== '').join(': ');
    return {
      ok: false,
      reason: intuneReasonCode(r),
      detail,
      compared: [{ name: 'intune', actual: r.code ?? reason, required: 'Success' }],
    };
  }
}
