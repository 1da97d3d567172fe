import type { AuditLog } from '../audit/sink.js';
import type { ReasonCode } from '../audit/reasons.js';
import { describeError, isAppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IntuneClient } from '../intune/client.js';
import type {
  IntuneRevocationClient,
  IntuneRevocationRequest,
  IntuneRevocationResult,
} from './intune-client.js';
import type { RevocationScope, TenantRevocation } from './intune-tenants.js';
import { canonicalSerial } from './reasons.js';
import type { RevocationService } from './revoke.js';
import type { CertificateRecord } from '../store/types.js';

export interface IntunePullDeps {
  readonly client: IntuneRevocationClient;
  readonly revocation: RevocationService;
  /** Issuer names of this CA as records carry them: the active CA and, after a rollover, the previous one. */
  readonly caNames: readonly string[];
  readonly batchSize: number;
  readonly logger: Logger;
  /** A request that was not carried out is an audit event; a revocation is one already. */
  readonly audit: AuditLog;
  /** The tenant pulling: it may revoke only certificates issued through its own endpoints. */
  readonly scope: RevocationScope;
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
 * A tenant revokes only certificates issued through its own endpoints: any other certificate
 * (another tenant's, a non-Intune endpoint's) is answered CertificateNotFoundError, exactly like
 * an unknown serial, so a tenant learns nothing about certificates that are not its own.
 */
export async function pullIntuneRevocations(
  d: IntunePullDeps,
): Promise<{ revoked: number; reported: number }> {
  const requests = await d.client.download(d.batchSize, null);
  const results: IntuneRevocationResult[] = [];
  let revoked = 0;
  for (const r of requests) {
    const { requestContext, serialNumber } = r;
    if (requestContext === null) {
      refuseInvalid(d, r, 'it has no requestContext, so no result can be reported for it');
      continue;
    }
    const outcome =
      serialNumber === null
        ? refuseInvalid(d, r, 'it has no serial number')
        : await answer(d, { ...r, requestContext, serialNumber });
    if (outcome.revoked) revoked += 1;
    if (outcome.result) results.push({ requestContext, ...outcome.result });
  }
  if (results.length > 0) await d.client.upload(results);
  d.logger.info('intune revocation pull', {
    tenantId: d.scope.tenantId,
    requests: requests.length,
    revoked,
    reported: results.length,
  });
  return { revoked, reported: results.length };
}

type Answer = {
  readonly revoked: boolean;
  /** What Intune is told; none when the request is to be offered again. */
  readonly result?: Omit<IntuneRevocationResult, 'requestContext'>;
};

const NOT_FOUND = {
  succeeded: false,
  errorCode: 'CertificateNotFoundError',
  errorMessage: 'no such certificate',
} as const;

/** A request with the fields every answer needs. */
type Complete = IntuneRevocationRequest & { readonly requestContext: string; readonly serialNumber: string };

/**
 * A request Intune sent without a field it needs: answered as invalid (Intune keeps offering a
 * request until its result is uploaded, and such a request would take a batch slot on every pull)
 * and logged with what it did carry. Without a requestContext it cannot be answered at all.
 */
function refuseInvalid(d: IntunePullDeps, r: IntuneRevocationRequest, why: string): Answer {
  const errorMessage = `invalid revocation request: ${why}`;
  d.logger.error(`intune revocation: ${errorMessage}`, { tenantId: d.scope.tenantId, request: r });
  void d.audit.record({
    kind: 'revocation',
    operation: 'intune.revoke',
    actor: d.scope.actor,
    ...d.scope.place,
    serialNumber:
      r.serialNumber === null ? undefined : (canonicalSerial(r.serialNumber) ?? r.serialNumber.slice(0, 64)),
    outcome: 'refused',
    reason: 'revocation-request-invalid',
    message: `Intune revocation request of tenant ${d.scope.tenantId} (requestContext ${r.requestContext ?? 'none'}): ${errorMessage}`,
  });
  return {
    revoked: false,
    result: { succeeded: false, errorCode: 'ParameterDataInvalidError', errorMessage },
  };
}

type Audit = (outcome: 'replayed' | 'refused' | 'failed', reason: ReasonCode, text: string) => void;

/** Records what became of one request (a revocation is recorded by the revocation use case). */
function auditor(d: IntunePullDeps, r: Complete): Audit {
  const scope = d.scope;
  return (outcome, reason, text) =>
    void d.audit.record({
      kind: 'revocation',
      operation: 'intune.revoke',
      actor: scope.actor,
      ...scope.place,
      serialNumber: canonicalSerial(r.serialNumber) ?? r.serialNumber.slice(0, 64),
      outcome,
      reason,
      message: `Intune revocation request of tenant ${scope.tenantId} for serial ${r.serialNumber}: ${text}`,
      compared:
        r.issuerName === null
          ? undefined
          : [{ name: 'issuer', actual: r.issuerName, required: d.caNames.join(' or ') }],
    });
}

/** One request: revoked, or refused with the reason recorded, or left for the next pull. */
async function answer(d: IntunePullDeps, r: Complete): Promise<Answer> {
  const scope = d.scope;
  const audit = auditor(d, r);
  const issuer = r.issuerName === null ? null : normalizeDn(r.issuerName);
  if (issuer !== null && !d.caNames.some((n) => normalizeDn(n) === issuer)) {
    audit('refused', 'revocation-other-issuer', `issued by "${r.issuerName}", not by this CA`);
    return {
      revoked: false,
      result: { ...NOT_FOUND, errorMessage: 'the certificate was not issued by this CA' },
    };
  }
  // The record the scope hid, if any (set by `visible`).
  const seen: { outside?: CertificateRecord } = {};
  try {
    await d.revocation.revoke({
      serial: r.serialNumber,
      reason: 'unspecified',
      actor: scope.actor,
      operation: 'intune.revoke',
      visible: (record) => {
        const own = scope.endpoints.has(record.endpoint);
        if (!own) seen.outside = record;
        return own;
      },
    });
    return { revoked: true, result: { succeeded: true, errorCode: 'None', errorMessage: null } };
  } catch (e) {
    if (isAppError(e) && e.code === 'CONFLICT') {
      audit('replayed', 'revocation-already-revoked', 'already revoked; reported as done');
      return { revoked: false, result: { succeeded: true, errorCode: 'None', errorMessage: null } };
    }
    if (isAppError(e) && e.code === 'NOT_FOUND') {
      const why = notFoundReason(scope, seen.outside);
      audit('refused', why.reason, why.text);
      return { revoked: false, result: NOT_FOUND };
    }
    if (isAppError(e) && e.code === 'BAD_REQUEST') {
      audit('refused', 'revocation-request-invalid', e.message);
      return {
        revoked: false,
        result: { succeeded: false, errorCode: 'ParameterDataInvalidError', errorMessage: e.message },
      };
    }
    d.logger.warn('intune revocation: will retry', {
      requestContext: r.requestContext,
      error: describeError(e),
    });
    audit('failed', 'store-unavailable', `not carried out (${describeError(e)}); Intune offers it again`);
    return { revoked: false };
  }
}

/**
 * Why a serial was not found for this tenant: no such certificate, or one outside its scope. The
 * message never names another tenant's endpoint: the event is visible to this tenant's owners.
 */
function notFoundReason(
  scope: RevocationScope,
  outside: CertificateRecord | undefined,
): { readonly reason: ReasonCode; readonly text: string } {
  if (outside === undefined)
    return { reason: 'revocation-certificate-unknown', text: 'no certificate of this CA has this serial' };
  if (scope.disabled.has(outside.endpoint))
    return {
      reason: 'revocation-not-enabled',
      text: `issued through endpoint '${outside.endpoint}', whose Intune revocation is off; nothing revoked`,
    };
  return {
    reason: 'revocation-other-tenant',
    text: "not issued through this tenant's endpoints with revocation on; nothing revoked",
  };
}

/** What one tenant's pull did, or why it failed. */
export type TenantPullOutcome = { readonly tenantId: string; readonly endpoints: readonly string[] } & (
  { readonly revoked: number; readonly reported: number } | { readonly error: string }
);

export interface IntuneRevocationRun {
  readonly revoked: number;
  readonly reported: number;
  readonly tenants: readonly TenantPullOutcome[];
}

/**
 * One timer tick: a pull per tenant whose revocation is on, side by side. A tenant whose token,
 * network or service fails is logged and left for the next tick (Intune keeps its requests); the
 * other tenants' pulls are not held up by it.
 */
export async function pullAllTenants(
  d: Omit<IntunePullDeps, 'client' | 'scope'> & {
    readonly tenants: () => Promise<readonly TenantRevocation[]>;
    readonly revocationClient: (client: IntuneClient) => IntuneRevocationClient;
  },
): Promise<IntuneRevocationRun> {
  const tenants = await d.tenants();
  const tenantOutcomes = await Promise.all(
    tenants.map(async ({ client, ...scope }): Promise<TenantPullOutcome> => {
      const who = { tenantId: scope.tenantId, endpoints: [...scope.endpoints] };
      try {
        return {
          ...who,
          ...(await pullIntuneRevocations({ ...d, client: d.revocationClient(client), scope })),
        };
      } catch (e) {
        d.logger.error('intune revocation pull failed; retried on the next run', {
          ...who,
          error: describeError(e),
        });
        return { ...who, error: describeError(e) };
      }
    }),
  );
  const sum = (k: 'revoked' | 'reported'): number =>
    tenantOutcomes.reduce((n, t) => n + ('error' in t ? 0 : t[k]), 0);
  return { revoked: sum('revoked'), reported: sum('reported'), tenants: tenantOutcomes };
}

/** Issuer names compared the way Intune and we may print them: case and spacing after separators ignored. */
function normalizeDn(dn: string): string {
  return dn
    .replace(/\s*([,+=])\s*/g, '$1')
    .trim()
    .toLowerCase();
}
