import { z } from 'zod';
import { int, optionalString, optionalUrl, section } from './parse.js';

/**
 * Cosmos DB certificate store settings (docs/store.md). Without an endpoint the
 * app records certificates in memory (tests, quick local runs); `npm start` starts an embedded
 * Cosmos-compatible server and sets the endpoint and key itself.
 */
export interface CosmosSettings {
  /** Account endpoint, e.g. https://<account>.documents.azure.com:443/. Unset: in-memory store. */
  readonly endpoint: string | undefined;
  readonly databaseName: string;
  readonly certificatesContainer: string;
  readonly transactionsContainer: string;
  /** Small CA-wide documents (revocation epoch, CA state). */
  readonly stateContainer: string;
  /** Account key: local use only. In Azure the app authenticates with Entra ID (managed identity). */
  readonly key: string | undefined;
  /** Create database and containers on first use. Default: true when a key is set, else false. */
  readonly createIfNotExists: boolean;
  /** Deadline for one store call, all requests and retries included, milliseconds. */
  readonly timeoutMs: number;
  /** How often a throttled (429) request is retried, honouring x-ms-retry-after-ms. */
  readonly maxThrottleRetries: number;
}

/** Cosmos DB resource ids: 1–255 characters, none of / \ ? #. */
const resourceName = (fallback: string) =>
  optionalString
    .refine((s) => s === undefined || (s.length <= 255 && !/[/\\?#]/.test(s)), 'must not contain / \\ ? or #')
    .transform((s) => s ?? fallback);

const optionalBool = optionalString.transform((s, ctx) => {
  const v = s?.toLowerCase();
  if (v === undefined) return undefined;
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  ctx.addIssue({ code: 'custom', message: `expected true or false, got "${s ?? ''}"` });
  return z.NEVER;
});

const schema = z.object({
  AppConfig__CosmosDb__Endpoint: optionalUrl,
  AppConfig__CosmosDb__DatabaseName: resourceName('scepca'),
  AppConfig__CosmosDb__CertificatesContainerName: resourceName('certificates'),
  AppConfig__CosmosDb__TransactionsContainerName: resourceName('transactions'),
  AppConfig__CosmosDb__StateContainerName: resourceName('state'),
  AppConfig__CosmosDb__Key: optionalString,
  AppConfig__CosmosDb__CreateIfNotExists: optionalBool,
  AppConfig__CosmosDb__TimeoutSeconds: int(10, 1, 120),
  AppConfig__CosmosDb__MaxThrottleRetries: int(5, 0, 20),
});

export const cosmosSection = section(
  schema,
  (r): CosmosSettings => ({
    endpoint: r.AppConfig__CosmosDb__Endpoint,
    databaseName: r.AppConfig__CosmosDb__DatabaseName,
    certificatesContainer: r.AppConfig__CosmosDb__CertificatesContainerName,
    transactionsContainer: r.AppConfig__CosmosDb__TransactionsContainerName,
    stateContainer: r.AppConfig__CosmosDb__StateContainerName,
    key: r.AppConfig__CosmosDb__Key,
    createIfNotExists: r.AppConfig__CosmosDb__CreateIfNotExists ?? r.AppConfig__CosmosDb__Key !== undefined,
    timeoutMs: r.AppConfig__CosmosDb__TimeoutSeconds * 1000,
    maxThrottleRetries: r.AppConfig__CosmosDb__MaxThrottleRetries,
  }),
  (r) => {
    const p: string[] = [];
    if (
      r.AppConfig__CosmosDb__CertificatesContainerName === r.AppConfig__CosmosDb__TransactionsContainerName
    ) {
      p.push('AppConfig__CosmosDb__TransactionsContainerName: must differ from CertificatesContainerName');
    }
    const endpoint = r.AppConfig__CosmosDb__Endpoint;
    if (endpoint !== undefined && !/^https?:$/.test(new URL(endpoint).protocol)) {
      p.push(
        'AppConfig__CosmosDb__Endpoint: expected an http(s) URL such as https://<account>.documents.azure.com/',
      );
    }
    return p;
  },
);
