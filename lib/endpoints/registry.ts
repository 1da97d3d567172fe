import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { ENDPOINT_NAME, type Endpoint } from '../model/endpoint.js';
import type { ScepEndpoint } from '../scep/endpoint.js';
import type { DocumentCollection, Stored } from '../store/documents.js';

/** How long a resolved endpoint is reused before the store is asked again (every instance). */
export const DEFAULT_TTL_MS = 30_000;
const MAX_ENTRIES = 1000;

export interface EndpointRegistryDeps {
  /** `static`, `intune`: from settings, never stored. */
  readonly builtIns: ReadonlyMap<string, ScepEndpoint>;
  readonly endpoints: DocumentCollection<Endpoint>;
  /** Builds the request-path object of a stored endpoint (lib/endpoints/kinds.ts). */
  readonly build: (e: Endpoint) => ScepEndpoint;
  readonly log: Logger;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly at: number;
  readonly etag: string | undefined;
  readonly endpoint: ScepEndpoint | undefined;
}

/**
 * `scep/{name}` → the endpoint object, resolved once per request. Stored endpoints are read
 * from the store and cached for at most `ttlMs` (30 s), so a change made through any instance
 * applies to the next request within that time everywhere, without a restart. An unchanged
 * document (same etag) keeps its built object, and with it its Intune client's token cache.
 * Disabled, deleted and unknown endpoints resolve to undefined (the adapter answers 404).
 */
export class EndpointRegistry {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ScepEndpoint | undefined>>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly d: EndpointRegistryDeps) {
    this.ttlMs = d.ttlMs ?? DEFAULT_TTL_MS;
    this.now = d.now ?? Date.now;
  }

  builtInNames(): string[] {
    return [...this.d.builtIns.keys()];
  }

  /**
   * Drop what this instance cached for `name`: a change made through the management API on
   * this instance applies to its very next request (other instances: within `ttlMs`).
   */
  forget(name: string): void {
    this.cache.delete(name.toLowerCase());
  }

  resolve(name: string): Promise<ScepEndpoint | undefined> {
    const key = name.toLowerCase();
    const builtIn = this.d.builtIns.get(key);
    if (builtIn) return Promise.resolve(builtIn);
    // A name no endpoint can have (it comes from the URL) is unknown without a store read: the
    // Cosmos DB SDK throws on an id with `/`, `\` or `#`, which would be reported as an outage.
    if (!ENDPOINT_NAME.test(key)) return Promise.resolve(undefined);
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return Promise.resolve(hit.endpoint);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.load(key, hit).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async load(name: string, previous: Entry | undefined): Promise<ScepEndpoint | undefined> {
    let doc: Stored<Endpoint> | undefined;
    try {
      doc = await this.d.endpoints.get(name, name);
    } catch (e) {
      // A store hiccup keeps serving what was known, rather than failing every enrollment.
      if (previous) {
        this.d.log.warn('endpoint lookup failed; serving the cached endpoint', {
          endpoint: name,
          error: describeError(e),
        });
        return previous.endpoint;
      }
      throw e;
    }
    const etag = doc?.enabled ? doc.etag : undefined;
    let endpoint: ScepEndpoint | undefined;
    if (doc?.enabled && previous && previous.etag === etag) endpoint = previous.endpoint;
    if (doc?.enabled && !endpoint) endpoint = this.d.build(doc);
    if (this.cache.size >= MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value ?? '');
    this.cache.set(name, { at: this.now(), etag, endpoint });
    return endpoint;
  }
}
