import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { ndesChallenge } from '../../lib/endpoints/ndes.js';
import type { ManageDeps } from '../../lib/endpoints/manage.js';
import type { DocumentStore } from '../../lib/store/documents.js';

/**
 * The NDES page's username names the account (`<endpoint>.<account id>`). Its parts were read
 * from the store as given: with Cosmos DB, whose SDK throws on an id with `/`, `\` or `#`, a
 * username such as `lab.################` was answered 503 (a store outage) instead of 401.
 * An account id is 16 hex digits and an endpoint name has ENDPOINT_NAME's shape.
 */

const reads: string[] = [];
const docs = {
  collection: () => ({
    get: (id: string, partition: string) => {
      reads.push(`${partition}/${id}`);
      if (/[/\\#]/.test(id))
        return Promise.reject(new AppError('DEPENDENCY_UNAVAILABLE', 'Cosmos DB read in accounts failed'));
      return Promise.resolve(undefined);
    },
  }),
} as unknown as DocumentStore;
const deps: ManageDeps = { docs, clock: () => new Date(), maxValidityDays: 365, builtIns: [] };

const basic = (user: string): string =>
  `Basic ${Buffer.from(`${user}:${'F'.repeat(32)}`).toString('base64')}`;

describe('NDES page credentials', () => {
  it.each([
    ['lab.################', 'lab'],
    ['lab./###############', undefined],
    ['a b.0123456789ABCDEF', undefined],
    ['lab.0123456789ABCDEZ', 'lab'],
  ])('fail/username "%s" → 401 without a store read', async (user, endpoint) => {
    reads.length = 0;
    await expect(ndesChallenge(deps, basic(user), endpoint)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(reads).toEqual([]);
  });

  it('ok/a well-formed unknown account → 401 after one read', async () => {
    reads.length = 0;
    await expect(ndesChallenge(deps, basic('LAB.0123456789abcdef'), undefined)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(reads).toEqual(['lab/0123456789ABCDEF']);
  });
});
