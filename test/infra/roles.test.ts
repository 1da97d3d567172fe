import { describe, expect, it } from 'vitest';
import { allInstances, render } from '../helpers/bicep-eval.js';
import { checkFirstDeployment, expand, SCENARIOS } from './checks.js';
import { APP_CODE, infraFiles, read } from './files.js';
import { needsOf } from './needs.js';
import { appPrincipal, BUILT_IN_ROLES, checkNeeds, grants } from './roles.js';

/**
 * Role assignments matched by principal, role and scope, for the assignments whose conditions
 * hold in each scenario (test/infra/roles.ts); what the documentation says about roles checked against
 * what the template really assigns.
 */

const FILES = infraFiles();
const scenarios = Object.entries(SCENARIOS);
/** The pages that speak about roles: the CA key, the deployment and the certificate store. */
const DOCS = ['docs/keyvault.md', 'docs/deployment.md', 'docs/store.md'].map(read).join('\n');
const section = (heading: string): string => {
  const at = DOCS.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`docs have no "${heading}"`);
  const level = /^#+/.exec(heading)![0];
  const rest = DOCS.slice(at + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level.length}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
};

describe('infra: roles of the app identity and the bootstrap principal', () => {
  it.each(scenarios)(
    '%s: grants every data action each service needs, on the resource it is used on',
    (_, s) => {
      expect(checkNeeds(FILES, s, needsOf(FILES))).toEqual([]);
    },
  );

  it.each(scenarios)(
    '%s: assigns roles only to the app identity and the bootstrap principal, with their principal types',
    (_, s) => {
      const d = expand(FILES, s);
      const app = appPrincipal(d, FILES);
      expect(app).toMatch(/userAssignedIdentities.*\.properties\.principalId$/);
      for (const g of grants(d, FILES)) {
        const isApp = render(g.principal) === app;
        expect(isApp || g.principal === s.bootstrapPrincipalId, g.symbol).toBe(true);
        if (g.system === 'cosmos') continue; // Cosmos DB data-plane assignments carry no principalType
        expect(g.principalType, g.symbol).toBe(
          isApp ? 'ServicePrincipal' : (s.bootstrapPrincipalType ?? 'User'),
        );
      }
    },
  );

  it('knows the role every Azure SDK the app imports needs (a new SDK fails here until needs.ts covers it)', () => {
    const sdks = new Set(
      APP_CODE.flatMap(({ text }) => [...text.matchAll(/from '(@azure\/[a-z-]+)'/g)].map((m) => m[1]!)),
    );
    // Sign-in and the Functions runtime call no data plane of their own.
    const covered = [
      '@azure/keyvault-keys',
      '@azure/keyvault-certificates',
      '@azure/cosmos',
      '@azure/storage-queue',
    ];
    expect(
      [...sdks].filter((p) => !covered.includes(p) && p !== '@azure/identity' && p !== '@azure/functions'),
    ).toEqual([]);
    expect(read('test/infra/needs.ts').match(/usesPackage\('(@azure\/[a-z-]+)'\)/g)?.length).toBe(
      covered.length,
    );
  });

  it('creates no role definition in a deployment with default parameters (RoleDefinitionDoesNotExist on a first azd up)', () => {
    expect(checkFirstDeployment(FILES)).toEqual([]);
    expect(read('infra/main.parameters.json')).toContain('"bootstrapPrincipalType"');
  });

  it('names every role by a well-formed GUID that matches the built-in role in its comment', () => {
    const vars = [
      ...read('infra/modules/rbac.bicep').matchAll(
        /^var\s+(\w+RoleId)\s*=\s*'([^']*)'\s*(?:\/\/\s*(.*))?$/gm,
      ),
    ];
    expect(vars.length).toBeGreaterThan(0);
    for (const [, name, guid, comment] of vars) {
      expect(BUILT_IN_ROLES[(comment ?? '').trim()]?.id, `${name!}: "${comment ?? ''}"`).toBe(guid);
    }
  });
});

describe('docs: what they say about roles is what the template does', () => {
  const bootstrapRoles = new Set(
    grants(expand(FILES, SCENARIOS['intune (secret), REST API, bootstrap user']!), FILES)
      .filter((g) => g.principal === 'bootstrap-object-id')
      .map((g) => g.role),
  );

  it('names exactly the bootstrap roles the template assigns, and says not to assign them by hand as well', () => {
    const text =
      section('## Bootstrap in a real vault') + section('## After deployment: create the CA in Key Vault');
    const named = new Set(
      [...text.matchAll(/\*\*(Key Vault [A-Z][a-z]+(?: [A-Z][a-z]+)?)\*\*/g)].map((m) => m[1]!),
    );
    expect(named).toEqual(bootstrapRoles);
    expect(text).toMatch(/RoleAssignmentExists/);
    expect(text).not.toMatch(/az role assignment create/);
  });

  it('states the scope of the Cosmos DB role assignment the template makes', () => {
    const g = grants(expand(FILES, SCENARIOS.defaults!), FILES).find(
      (x) => x.role === 'Cosmos DB Built-in Data Contributor',
    );
    const scope = g?.scope.type.endsWith('/sqlDatabases') ? 'database' : 'account';
    expect(section('## Roles')).toMatch(new RegExp(`scoped to the ${scope}\\b`));
    expect(DOCS).toMatch(
      new RegExp(`\\| Cosmos DB +\\| Cosmos DB Built-in Data Contributor +\\| the ${scope} +\\|`),
    );
  });

  it('says how to remove the assignment a changed key role leaves behind', () => {
    const text = section("## Switching the app's key role");
    expect(text).toMatch(/appCreatesKeys/);
    expect(text).toMatch(/useCustomCryptoRole/);
    expect(text).toMatch(/az role assignment delete/);
    // The template names the assignment after the role, so a switch adds a second one.
    const name = (scenario: string): string =>
      render(
        allInstances(expand(FILES, SCENARIOS[scenario]!)).find(
          (i) => i.symbol === 'keyVaultCryptoAssignment',
        )!.name,
      );
    expect(name('defaults')).not.toBe(name('app creates no keys'));
    expect(name('defaults')).not.toBe(name('intune (managed identity), custom key role'));
  });
});
