import { describe, expect, it } from 'vitest';
import type { Files } from '../helpers/bicep-eval.js';
import {
  checkApiVersions,
  checkClientCertificates,
  checkFirstDeployment,
  checkEnums,
  checkExpandedValues,
  checkHostStorage,
  checkNames,
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
    ...checkFirstDeployment(files),
    ...Object.values(SCENARIOS).flatMap((s) => [
      ...checkClientCertificates(files, s),
      ...checkNames(files, { ...s, namePrefix: 'scepcaprod' }),
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
  // Defects of the same kind found in review.
  {
    mistake: 'the custom Key Vault role created and assigned in the default first deployment',
    file: 'infra/main.bicep',
    from: /param useCustomCryptoRole bool = false/,
    to: 'param useCustomCryptoRole bool = true',
    check: 'first-deployment',
    says: /caKeyRole: a role definition in the default deployment/,
  },
  {
    mistake: 'TLS client certificates asked for whether or not REST renewal over mTLS is on',
    file: 'infra/modules/functionapp.bicep',
    from: /clientCertEnabled: clientCertEnabled/,
    to: 'clientCertEnabled: true',
    check: 'client-certificates',
    says: /clientCertEnabled = true with REST mTLS renewal off/,
  },
  {
    mistake: 'a queue role that cannot put a message (Storage Queue Data Message Processor)',
    file: 'infra/modules/rbac.bicep',
    from: /(var storageQueueDataContributorRoleId = )'974c5e8b-45b9-4653-ba55-5f855dd0fb88'/,
    to: "$1'8a0f0c08-91a1-4084-bc3d-661d67233fed'",
    check: 'roles',
    says: /cannot put a message on .*queues intune-notifications/,
  },
  {
    mistake: 'a storage account name longer than 24 characters',
    file: 'infra/main.bicep',
    from: /storage: take\('\$\{compactPrefix\}st\$\{token\}', 24\)/,
    to: "storage: '${compactPrefix}st${token}'",
    check: 'names',
    says: /storage\.bicep storage: name scepcaprodst\w{13} does not match/,
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
