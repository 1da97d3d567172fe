import { randomUUID } from 'node:crypto';
import { AppError, dependencyUnavailable } from '../errors.js';
import type { IntuneClient } from '../intune/client.js';
import { exchange, type FetchLike, parseJsonObject } from '../intune/http.js';

/**
 * One revocation Intune asks for (Intune's downloadRevocationRequests). A field Intune left out is
 * null: the pull answers such a request as invalid rather than leaving it pending for ever.
 */
export interface IntuneRevocationRequest {
  readonly requestContext: string | null;
  readonly serialNumber: string | null;
  readonly issuerName: string | null;
  readonly caConfiguration: string | null;
}

/** Its outcome as uploadRevocationResults takes it; errorCode as the C# connector sends it (enum name). */
export interface IntuneRevocationResult {
  readonly requestContext: string;
  readonly succeeded: boolean;
  readonly errorCode: 'None' | 'CertificateNotFoundError' | 'ParameterDataInvalidError';
  readonly errorMessage: string | null;
}

export const PKI_CONNECTOR_SERVICE = 'PkiConnectorFEService';
export const PKI_CONNECTOR_API_VERSION = '5019-05-05';

/**
 * `POST {PkiConnectorFEService}/CertificateAuthorityRequests/downloadRevocationRequests` and
 * `…/uploadRevocationResults`, with the discovery and app-only token of the validation client
 * (the same service principal, the same Intune scope). Failures throw DEPENDENCY_UNAVAILABLE: the
 * caller keeps nothing, and Intune hands out the same requests again on the next pull.
 */
export class IntuneRevocationClient {
  constructor(
    private readonly intune: IntuneClient,
    private readonly o: {
      readonly providerNameAndVersion: string;
      readonly timeoutMs: number;
      readonly fetch?: FetchLike;
    },
  ) {}

  async download(maxRequests: number, issuerName: string | null): Promise<IntuneRevocationRequest[]> {
    const json = await this.post('downloadRevocationRequests', {
      downloadParameters: { maxRequests, issuerName },
    });
    const value = json.value;
    if (!Array.isArray(value)) throw dependencyUnavailable('downloadRevocationRequests: no "value" array');
    return value.map((v: unknown) => {
      const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
      const str = (k: string): string | null => (typeof o[k] === 'string' ? o[k] : null);
      const given = (k: string): string | null => (str(k) === '' ? null : str(k));
      return {
        requestContext: given('requestContext'),
        serialNumber: given('serialNumber'),
        issuerName: str('issuerName'),
        caConfiguration: str('caConfiguration'),
      };
    });
  }

  async upload(results: readonly IntuneRevocationResult[]): Promise<void> {
    const json = await this.post('uploadRevocationResults', { results });
    if (json.value !== true)
      throw dependencyUnavailable('uploadRevocationResults did not answer {"value": true}');
  }

  private async post(action: string, body: object): Promise<Record<string, unknown>> {
    const service = await this.intune.discovery.lookup(PKI_CONNECTOR_SERVICE);
    if (!service.ok)
      throw dependencyUnavailable(`Intune discovery of ${PKI_CONNECTOR_SERVICE}: ${service.message}`);
    const token = await this.intune.tokens.getToken(this.intune.intuneScope);
    if (!token.ok) throw dependencyUnavailable(`Intune token: ${token.message}`);
    const res = await exchange(
      this.o.fetch ?? fetch,
      `${service.uri}/CertificateAuthorityRequests/${action}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token.token}`,
          'content-type': 'application/json',
          'client-request-id': randomUUID(),
          'api-version': PKI_CONNECTOR_API_VERSION,
          'user-agent': this.o.providerNameAndVersion,
        },
        body: JSON.stringify(body),
      },
      this.o.timeoutMs,
    );
    if (!res.ok) {
      this.intune.discovery.invalidate();
      throw dependencyUnavailable(`${action}: ${res.message}`);
    }
    const json = parseJsonObject(res.body);
    if (res.status < 200 || res.status > 299 || !json) {
      if (res.status === 401) this.intune.tokens.invalidate(this.intune.intuneScope);
      throw new AppError('DEPENDENCY_UNAVAILABLE', `${action} answered HTTP ${res.status}`);
    }
    return json;
  }
}
