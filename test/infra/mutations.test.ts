import { describe, expect, it } from 'vitest';
import type { Files } from '../helpers/bicep-eval.js';
import {
  checkApiVersions,
  checkEnums,
  checkExpandedValues,
  checkHostStorage,
  checkPlatformBounds,
  type Problem,
  SCENARIOS,
} from './checks.js';
import { infraFiles } from './files.js';
import { needsOf } from './needs.js';
import { checkNeeds } from './roles.js';

/**
 * The checks behind test/infra/*.test.ts must fail on a template with a mistake that would stop
 * the deployment or the app. Each mutation below is one such mistake, applied to a copy of
 * infra/ in memory; the unmutated template must pass the same checks.
 */

function problems(files: Files): Problem[] {
  return [
    ...checkApiVersions(files),
    ...checkEnums(files),
    ...checkPlatformBounds(files),
    ...Object.values(SCENARIOS).flatMap((s) => [
      ...checkExpandedValues(files, s),
      ...checkHostStorage(files, s),
      ...checkNeeds(files, s, needsOf(files)),
    ]),
  ];
}

interface Mutation {
  readonly mistake: string;
  readonly file: string;
  readonly from: RegExp;
  readonly to: string;
  /** The check that must report it, and a part of its message. */
  readonly check: string;
  readonly says: RegExp;
}

const MUTATIONS: readonly Mutation[] = [
  {
    mistake: 'Storage Blob Data Owner scoped to the vault instead of the storage account',
    file: 'infra/modules/rbac.bicep',
    from: /(resource blobOwnerAssignment [^\n]*\n[^\n]*\n\s*scope: )storage\n/,
    to: '$1vault\n',
    check: 'roles',
    says: /app cannot read blobs on Microsoft\.Storage\/storageAccounts/,
  },
  {
    mistake: 'queue role assignments behind if (false)',
    file: 'infra/modules/rbac.bicep',
    from: /(for \(q, i\) in queueNames: )\{/,
    to: '$1if (false) {',
    check: 'roles',
    says: /cannot put a message on .*queues intune-notifications/,
  },
  {
    mistake: 'AzureWebJobsStorage__credential misspelt',
    file: 'infra/modules/functionapp.bicep',
    from: /AzureWebJobsStorage__credential:/,
    to: 'AzureWebJobsStorage__credentials:',
    check: 'host-storage',
    says: /AzureWebJobsStorage__credentials: not a property/,
  },
  {
    mistake: 'an invalid deployment-storage authentication type',
    file: 'infra/modules/functionapp.bicep',
    from: /type: 'UserAssignedIdentity'/,
    to: "type: 'UserAssigned'",
    check: 'enum',
    says: /deployment\.storage\.authentication\.type = "UserAssigned"/,
  },
  {
    mistake: 'an invalid Cosmos DB TLS version',
    file: 'infra/modules/cosmos.bicep',
    from: /minimalTlsVersion: 'Tls12'/,
    to: "minimalTlsVersion: 'TLS1_2'",
    check: 'enum',
    says: /minimalTlsVersion = "TLS1_2"/,
  },
  {
    mistake: 'an invalid Cosmos DB partition-key kind',
    file: 'infra/modules/cosmos.bicep',
    from: /'MultiHash' : 'Hash'/,
    to: "'MultiHash' : 'Hashed'",
    check: 'enum',
    says: /partitionKey\.kind = "Hashed"/,
  },
  {
    mistake: 'a non-existent API version',
    file: 'infra/modules/functionapp.bicep',
    from: /Microsoft\.Web\/sites@2024-04-01'/,
    to: "Microsoft.Web/sites@2024-04-15'",
    check: 'api-version',
    says: /Microsoft\.Web\/sites@2024-04-15 is not a type@apiVersion/,
  },
  {
    mistake: 'maximumInstanceCount bound below the Flex Consumption minimum',
    file: 'infra/main.bicep',
    from: /@minValue\(40\)(\s*@maxValue\(1000\)\s*param maximumInstanceCount)/,
    to: '@minValue(1)$1',
    check: 'bounds',
    says: /main\.bicep param maximumInstanceCount .*@minValue\(1\)/,
  },
  {
    mistake: 'maximumInstanceCount defaulting below the Flex Consumption minimum',
    file: 'infra/modules/functionapp.bicep',
    from: /(param maximumInstanceCount int = )100/,
    to: '$110',
    check: 'bounds',
    says: /functionapp\.bicep param maximumInstanceCount .*default 10 outside/,
  },
];

describe('infra checks catch real mistakes (mutation test)', () => {
  const original = infraFiles();

  it('finds no problem in the template as committed', () => {
    expect(problems(original)).toEqual([]);
  });

  it.each(MUTATIONS)('fails on $mistake', ({ file, from, to, check, says }) => {
    const text = original[file]!;
    expect(from.test(text), `the mutation applies to ${file}`).toBe(true);
    const found = problems({ ...original, [file]: text.replace(from, to) });
    expect(found.filter((p) => p.check === check).map((p) => p.message)).toContainEqual(
      expect.stringMatching(says),
    );
  });
});
