import type { AuditLog } from '../audit/sink.js';
import type { ReasonCode } from '../audit/reasons.js';
import { describeError, isAppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IntuneRevocationClient, IntuneRevocationResult } from './intune-client.js';
import { canonicalSerial } from './reasons.js';
import type { RevocationService } from './revoke.js';

export interface IntunePullDeps {
  readonly client: IntuneRevocationClient;
  readonly revocation: RevocationService;
  /** This CA's issuer name as records carry it. */
  readonly caName: string;
  readonly batchSize: number;
  readonly logger: Logger;
  /** A request that was not carried out is an audit event; a revocation is one already. */
  readonly audit: AuditLog;
}

/**
 * One pull of Intune's revocation requests (Intune's CA revocation API:
 * downloadRevocationRequests / uploadRevocationResults): download, revoke each
 * matching certificate (serial and, when Intune names one, issuer), upload every outcome.
 * Nothing is lost when a call fails: Intune keeps a request until its result is uploaded, and
 * revoking is idempotent here (an already revoked certificate is reported as succeeded), so
 * the next pull simply does it again. A request whose revocation failed for a transient reason
 * (the store did not answer) is not reported at all, so Intune offers it again. Every outcome is
 * an audit event: the revocation use case records a revocation, this function the rest.
 */
export async function pullIntuneRevocations(
  d: IntunePullDeps,
): Promise<{ revoked: number; reported: number }> {
  const requests = await d.client.download(d.batchSize, null);
  const results: IntuneRevocationResult[] = [];
  let revoked = 0;
  for (const r of requests) {
    const result = (
      succeeded: boolean,
      errorCode: IntuneRevocationResult['errorCode'],
      errorMessage: string | null,
    ) => results.push({ requestContext: r.requestContext, succeeded, errorCode, errorMessage });
    const audit = (outcome: 'replayed' | 'refused' | 'failed', reason: ReasonCode, text: string): void =>
      void d.audit.record({
        kind: 'revocation',
        operation: 'intune.revoke',
        actor: 'intune',
        serialNumber: canonicalSerial(r.serialNumber) ?? r.serialNumber.slice(0, 64),
        outcome,
        reason,
        message: `Intune revocation request for serial ${r.serialNumber}: ${text}`,
        compared:
          r.issuerName === null ? undefined : [{ name: 'issuer', actual: r.issuerName, required: d.caName }],
      });
    if (r.issuerName !== null && normalizeDn(r.issuerName) !== normalizeDn(d.caName)) {
      result(false, 'CertificateNotFoundError', 'the certificate was not issued by this CA');
      audit('refused', 'revocation-other-issuer', `issued by "${r.issuerName}", not by this CA`);
      continue;
    }
    try {
      await d.revocation.revoke({
        serial: r.serialNumber,
        reason: 'unspecified',
        actor: 'intune',
        operation: 'intune.revoke',
      });
      revoked += 1;
      result(true, 'None', null);
    } catch (e) {
      if (isAppError(e) && e.code === 'CONFLICT') {
        result(true, 'None', null);
        audit('replayed', 'revocation-already-revoked', 'already revoked; reported as done');
      } else if (isAppError(e) && e.code === 'NOT_FOUND') {
        result(false, 'CertificateNotFoundError', 'no such certificate');
        audit('refused', 'revocation-certificate-unknown', 'no certificate of this CA has this serial');
      } else if (isAppError(e) && e.code === 'BAD_REQUEST') {
        result(false, 'ParameterDataInvalidError', e.message);
        audit('refused', 'revocation-request-invalid', e.message);
      } else {
        d.logger.warn('intune revocation: will retry', {
          requestContext: r.requestContext,
          error: describeError(e),
        });
        audit('failed', 'store-unavailable', `not carried out (${describeError(e)}); Intune offers it again`);
      }
    }
  }
  if (results.length > 0) await d.client.upload(results);
  d.logger.info('intune revocation pull', { requests: requests.length, revoked, reported: results.length });
  return { revoked, reported: results.length };
}

/** Issuer names compared the way Intune and we may print them: case and spacing after separators ignored. */
function normalizeDn(dn: string): string {
  return dn
    .replace(/\s*([,+=])\s*/g, '$1')
    .trim()
    .toLowerCase();
}
