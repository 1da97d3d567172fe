import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { EndpointRegistry } from '../../lib/endpoints/registry.js';
import { silentLogger } from '../../lib/log.js';
import type { Endpoint } from '../../lib/model/endpoint.js';
import type { ScepEndpoint } from '../../lib/scep/endpoint.js';
import type { DocumentCollection } from '../../lib/store/documents.js';

/**
 * Endpoint names come from the URL (`scep/{name}`, an EST label). The Cosmos DB SDK refuses an
 * id with `/`, `\` or `#` before any request ("Illegal characters … cannot be used in Resource
 * ID"), which the document store reports as DEPENDENCY_UNAVAILABLE: `scep/a%5Cb` was answered
 * 503 with Retry-After and logged as a failure of the store. A name no endpoint can have
 * (lib/model/endpoint.ts ENDPOINT_NAME) is simply unknown.
 */

const reads: string[] = [];
const endpoints = {
  get: (id: string) => {
    reads.push(id);
    if (/[/\\#]/.test(id))
      return Promise.reject(
        new AppError('DEPENDENCY_UNAVAILABLE', 'Cosmos DB read in endpoints failed', {
          cause: new Error("Illegal characters ['/', '\\', '#'] cannot be used in Resource ID"),
        }),
      );
    return Promise.resolve(undefined);
  },
} as unknown as DocumentCollection<Endpoint>;

const registry = new EndpointRegistry({
  builtIns: new Map<string, ScepEndpoint>(),
  endpoints,
  build: () => {
    throw new Error('nothing is stored');
  },
  log: silentLogger,
});

describe('EndpointRegistry.resolve', () => {
  it.each(['a\\b', 'lab#1', 'x'.repeat(64), 'bad name', 'ünicode', ''])(
    'fail/"%s" cannot name an endpoint: unknown, without a store read',
    async (name) => {
      reads.length = 0;
      await expect(registry.resolve(name)).resolves.toBeUndefined();
      expect(reads).toEqual([]);
    },
  );

  it('ok/a well-formed unknown name is looked up in the store (case-folded)', async () => {
    reads.length = 0;
    await expect(registry.resolve('Kiosk-1')).resolves.toBeUndefined();
    expect(reads).toEqual(['kiosk-1']);
  });
});
