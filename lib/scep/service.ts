import type { AuditLog } from '../audit/sink.js';
import { withBudget } from '../budget.js';
import { AppError } from '../errors.js';
import { decodeMessageParam } from './base64.js';
import type { ScepEndpoint } from './endpoint.js';
import { ConcurrencyLimit } from './limit.js';
import { getCACaps } from './operations/get-ca-caps.js';
import { getCACert } from './operations/get-ca-cert.js';
import { getNextCACert } from './operations/get-next-ca-cert.js';
import type { NextCaCertificate } from '../ca/next.js';
import type { CaSnapshot } from '../ca/holder.js';
import type { PkiOperation } from './pki-operation.js';
import { MediaType } from './types.js';

/** A SCEP HTTP request with the transport stripped away. */
export interface ScepRequest {
  readonly method: string;
  readonly operation: string | undefined;
  /** The Content-Type header, if any (recorded when a message does not parse). */
  readonly contentType?: string | undefined;
  /** The `message` query parameter exactly as it appears in the URL (not decoded). */
  readonly rawMessage: string | undefined;
  readonly body: Uint8Array;
  /** The largest pkiMessage accepted in the query (AppConfig__MaxRequestBytes, as for a body). */
  readonly maxMessageBytes?: number;
}

export interface ScepResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array | string;
}

/**
 * The SCEP dispatcher: one handler module per operation (RFC 8894 §4), selected by the
 * `operation` query parameter; it also sets the media type.
 */
export class ScepService {
  constructor(
    private readonly endpoints: { resolve(name: string): Promise<ScepEndpoint | undefined> },
    private readonly pki: PkiOperation,
    /** The issuing CA and its CA-mode responder, one snapshot per request (lib/ca/holder.ts). */
    private readonly cas: { get(): Promise<Pick<CaSnapshot, 'active' | 'responder'>> },
    private readonly limit: ConcurrencyLimit = new ConcurrencyLimit(50),
    /**
     * One time budget per PKIOperation, every Key Vault call included
     * (AppConfig__RequestBudgetSeconds). Undefined when the keys are local: nothing in a request
     * then waits on a call the budget bounds, and the scope it opens costs every request (an
     * AsyncLocalStorage turns on a promise hook for the whole process).
     */
    private readonly budgetMs: number | undefined,
    private readonly audit?: AuditLog,
    /** The next CA (GetNextCACert); where the endpoint has no RA, the issuing CA signs it. */
    private readonly rollover?: {
      readonly nextCa: { current(): Promise<NextCaCertificate | undefined> };
      readonly clock: () => Date;
    },
  ) {}

  /**
   * `o.caWithoutEndpoint`: GetCACaps and GetCACert answer even when the endpoint does not exist
   * (the NDES path `certsrv/mscep/mscep.dll` with Intune off: SCEPman answers the CA there, and
   * its `enrollrenewcertificate.sh` downloads the root from it before any EST call).
   */
  async handle(
    endpointName: string,
    req: ScepRequest,
    o: { readonly caWithoutEndpoint?: boolean } = {},
  ): Promise<ScepResponse> {
    const op = req.operation ?? '';
    const lower = op.toLowerCase();
    const caOperation = lower === 'getcacaps' || lower === 'getcacert' || lower === 'getnextcacert';
    const unknown = (): AppError =>
      new AppError('UNKNOWN_ENDPOINT', `there is no SCEP endpoint named "${endpointName}"`);
    const skip = o.caWithoutEndpoint === true && caOperation;
    // Deleted, disabled and unknown endpoints alike: 404.
    const endpoint = skip ? undefined : await this.endpoints.resolve(endpointName);
    if (!skip && !endpoint) {
      // Enrollment attempts are recorded; GetCACaps/GetCACert probes of unknown names are not.
      if (lower === 'pkioperation') this.auditUnknownEndpoint(endpointName);
      throw unknown();
    }
    if (endpoint?.unavailable !== undefined) {
      throw new AppError('CONFIG_INVALID', `the SCEP endpoint "${endpoint.name}" is not configured`, {
        detail: { problem: endpoint.unavailable },
      });
    }
    switch (lower) {
      case 'getcacaps':
        return getCACaps({ nextCa: (await this.rollover?.nextCa.current()) !== undefined });
      case 'getnextcacert':
        return this.nextCaCert(endpoint);
      case 'getcacert':
        return getCACert(endpoint?.responder?.published ?? (await this.cas.get()).responder.published);
      case 'pkioperation': {
        if (!endpoint) throw unknown();
        const message = messageOf(req);
        return {
          status: 200,
          contentType: MediaType.pkiMessage,
          body: await this.limit.run(endpoint.name, () =>
            withBudget(this.budgetMs, () =>
              this.pki.handle(endpoint, message, { contentType: req.contentType, method: req.method }),
            ),
          ),
        };
      }
      case '':
        throw new AppError('UNKNOWN_OPERATION', 'the operation query parameter is missing');
      default:
        throw new AppError(
          'UNKNOWN_OPERATION',
          `operation "${op.slice(0, 40)}" is not supported (GetCACaps, GetCACert, GetNextCACert, PKIOperation)`,
        );
    }
  }

  private auditUnknownEndpoint(endpointName: string): void {
    this.audit?.record({
      kind: 'enrollment',
      operation: 'PKIOperation',
      outcome: 'refused',
      reason: 'endpoint-unknown',
      message: `there is no enabled SCEP endpoint named "${endpointName.slice(0, 64)}"`,
      compared: [{ name: 'endpoint', actual: endpointName.slice(0, 64) }],
    });
  }

  /** GetNextCACert (RFC 8894 §4.7.1), signed by the endpoint's RA or else the issuing CA. */
  private async nextCaCert(endpoint: ScepEndpoint | undefined): Promise<ScepResponse> {
    const next = await this.rollover?.nextCa.current();
    if (!this.rollover || !next)
      throw new AppError(
        'NOT_FOUND',
        'there is no next CA certificate (GetCACaps does not list GetNextCACert)',
      );
    const signer = endpoint?.responder ?? (await this.cas.get()).responder;
    return getNextCACert(next, signer, this.rollover.clock());
  }
}

function messageOf(req: ScepRequest): Uint8Array {
  if (req.method === 'POST') {
    // RFC 8894 §4.3: the body is the binary pkiMessage, whatever Content-Type (if any) came with it.
    if (req.body.length === 0) throw new AppError('BAD_REQUEST', 'the POST body is empty');
    return req.body;
  }
  if (req.rawMessage === undefined || req.rawMessage === '') {
    throw new AppError('BAD_REQUEST', 'the message query parameter is missing');
  }
  const message = decodeMessageParam(req.rawMessage);
  if (req.maxMessageBytes !== undefined && message.length > req.maxMessageBytes)
    throw new AppError('BODY_TOO_LARGE', `the message is larger than ${req.maxMessageBytes} bytes`);
  return message;
}
