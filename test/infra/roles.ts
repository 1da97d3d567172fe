import {
  allInstances,
  type Deployment,
  evaluate,
  type Files,
  type Instance,
  Ref,
  render,
  Sym,
  type Value,
} from '../helpers/bicep-eval.js';
import { expand, type Problem } from './checks.js';

/**
 * Role assignments as ARM would create them in one scenario: who (principal), what (the data
 * actions of the role definition) and where (the resource the assignment is scoped to), for
 * the assignments whose conditions hold. Needs are matched against that, so an assignment on
 * the wrong resource or behind a false condition grants nothing.
 */

const KV = 'Microsoft.KeyVault/vaults';
const QUEUE_MSG = 'Microsoft.Storage/storageAccounts/queueServices/queues/messages';

/**
 * Data actions of the built-in roles, from the role definitions Azure publishes
 * (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security,
 * .../built-in-roles/storage, .../built-in-roles/monitor; MicrosoftDocs/azure-docs:
 * articles/role-based-access-control/built-in-roles/*.md) and, for Cosmos DB's data-plane role,
 * https://learn.microsoft.com/azure/cosmos-db/nosql/security/reference-data-plane-roles.
 */
export const BUILT_IN_ROLES: Readonly<
  Record<string, { readonly id: string; readonly dataActions: readonly string[] }>
> = {
  'Key Vault Crypto User': {
    id: '12338af0-0e69-4776-bea7-57ae8d297424',
    dataActions: ['read', 'update/action', 'backup/action', 'encrypt/action', 'decrypt/action', 'wrap/action']
      .concat(['unwrap/action', 'sign/action', 'verify/action'])
      .map((a) => `${KV}/keys/${a}`),
  },
  'Key Vault Crypto Officer': {
    id: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
    dataActions: [`${KV}/keys/*`, `${KV}/keyrotationpolicies/*`],
  },
  'Key Vault Reader': {
    id: '21090545-7ca7-4776-b22c-e363652d74d2',
    dataActions: [`${KV}/*/read`, `${KV}/secrets/readMetadata/action`],
  },
  'Key Vault Secrets User': {
    id: '4633458b-17de-408a-b874-0445c86b69e6',
    dataActions: [`${KV}/secrets/getSecret/action`, `${KV}/secrets/readMetadata/action`],
  },
  'Key Vault Certificates Officer': {
    id: 'a4417e6f-fecd-4de8-b567-7b0420556985',
    dataActions: [`${KV}/certificatecas/*`, `${KV}/certificates/*`, `${KV}/certificatecontacts/write`],
  },
  'Storage Blob Data Owner': {
    id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
  },
  // No messages/add/action: Put Message accepts add/action *or* write
  // (https://learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory#permissions-for-calling-data-operations).
  'Storage Queue Data Contributor': {
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
    dataActions: ['delete', 'read', 'write', 'process/action'].map((a) => `${QUEUE_MSG}/${a}`),
  },
  'Storage Queue Data Message Processor': {
    id: '8a0f0c08-91a1-4084-bc3d-661d67233fed',
    dataActions: [`${QUEUE_MSG}/read`, `${QUEUE_MSG}/process/action`],
  },
  'Storage Queue Data Message Sender': {
    id: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
    dataActions: [`${QUEUE_MSG}/add/action`],
  },
  'Monitoring Metrics Publisher': {
    id: '3913510d-42f4-4e42-8a64-420c390055eb',
    dataActions: ['Microsoft.Insights/Metrics/Write', 'Microsoft.Insights/Telemetry/Write'],
  },
  'Cosmos DB Built-in Data Contributor': {
    id: '00000000-0000-0000-0000-000000000002',
    dataActions: ['Microsoft.DocumentDB/databaseAccounts/readMetadata'].concat(
      ['containers/*', 'containers/items/*'].map(
        (a) => `Microsoft.DocumentDB/databaseAccounts/sqlDatabases/${a}`,
      ),
    ),
  },
};

export interface Target {
  readonly type: string;
  /** Resource name; undefined: any resource of the type in the deployment. */
  readonly name?: string;
}

export interface Grant {
  readonly symbol: string;
  /** Azure RBAC (Microsoft.Authorization) or Cosmos DB data plane (sqlRoleAssignments). */
  readonly system: 'azure' | 'cosmos';
  readonly principal: Value;
  readonly principalType: Value;
  readonly role: string;
  readonly dataActions: readonly string[];
  readonly scope: Target;
}

const lastSegment = (v: Value): string => render(v).split('/').at(-1) ?? '';

function scopeOf(i: Instance, files: Files): Target {
  const body = evaluate(i.body!, i.scope, files) as Record<string, Value>;
  const props = (body.properties ?? {}) as Record<string, Value>;
  const s = (i.type.endsWith('sqlRoleAssignments') ? props.scope : body.scope) ?? null;
  if (s === null) return { type: 'resourceGroup' };
  if (s instanceof Ref) return { type: s.target.type, name: render(s.target.name) };
  if (s instanceof Sym && s.refs[0] !== undefined) {
    const base = s.refs[0].target;
    const db = /\/dbs\/([^/]+)$/.exec(s.text)?.[1];
    return db === undefined
      ? { type: base.type, name: render(base.name) }
      : { type: `${base.type}/sqlDatabases`, name: db };
  }
  return { type: `unresolved scope ${render(s)}` };
}

/** Active role assignments (Azure RBAC and Cosmos DB data plane) of one expanded deployment. */
export function grants(d: Deployment, files: Files): Grant[] {
  const all = allInstances(d);
  const customRoles = all.filter((i) => i.type === 'Microsoft.Authorization/roleDefinitions' && i.active);
  return all
    .filter((i) => i.active && /Authorization\/roleAssignments$|sqlRoleAssignments$/.test(i.type))
    .map((i) => {
      const props = (evaluate(i.body!, i.scope, files) as { properties: Record<string, Value> }).properties;
      const roleId = render(props.roleDefinitionId ?? null);
      const id = lastSegment(props.roleDefinitionId ?? null);
      const builtIn = Object.entries(BUILT_IN_ROLES).find(([, r]) => r.id === id);
      const custom = customRoles.find((r) => roleId.endsWith(`/${render(r.name)}`));
      const customActions =
        custom === undefined
          ? []
          : (
              evaluate(custom.body!, custom.scope, files) as {
                properties: { permissions: { dataActions?: string[] }[] };
              }
            ).properties.permissions.flatMap((p) => p.dataActions ?? []);
      return {
        symbol: `${i.file} ${i.symbol}`,
        system: i.type.endsWith('sqlRoleAssignments') ? ('cosmos' as const) : ('azure' as const),
        principal: props.principalId ?? null,
        principalType: props.principalType ?? null,
        role: builtIn?.[0] ?? (custom !== undefined ? `custom ${custom.symbol}` : `unknown role ${id}`),
        dataActions: builtIn?.[1].dataActions ?? customActions,
        scope: scopeOf(i, files),
      };
    });
}

const allows = (granted: readonly string[], action: string): boolean =>
  granted.some((g) =>
    new RegExp(
      `^${g
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
        .join('[^]*')}$`,
      'i',
    ).test(action),
  );

/** A scope covers a target when it is the target, one of its parents, or the resource group. */
export const covers = (scope: Target, t: Target): boolean =>
  scope.type === 'resourceGroup' ||
  (scope.type === t.type && (t.name === undefined || scope.name === t.name)) ||
  t.type.startsWith(`${scope.type}/`);

export interface Need {
  readonly service: string;
  readonly principal: 'app' | 'bootstrap';
  readonly targets: readonly Target[];
  /** Each operation: alternatives, each a set of data actions that together allow it. */
  readonly operations: Readonly<Record<string, readonly (readonly string[])[]>>;
}

/** The principal id the Function App runs as: its user-assigned identity's principalId. */
export function appPrincipal(d: Deployment, files: Files): Value {
  const all = allInstances(d);
  const site = all.find((i) => i.type === 'Microsoft.Web/sites' && i.active);
  const keys = Object.keys(
    (site &&
      (evaluate(site.body!, site.scope, files) as { identity?: { userAssignedIdentities?: object } }).identity
        ?.userAssignedIdentities) ??
      {},
  );
  const identity = all.find(
    (i) =>
      i.type === 'Microsoft.ManagedIdentity/userAssignedIdentities' &&
      keys.includes(render(new Ref(i, ['id']))),
  );
  return identity === undefined ? 'no identity' : render(new Ref(identity, ['properties', 'principalId']));
}

export function checkNeeds(
  files: Files,
  scenario: Readonly<Record<string, Value>>,
  needsOf: (d: Deployment) => readonly Need[],
): Problem[] {
  const d = expand(files, scenario);
  const app = appPrincipal(d, files);
  const bootstrap = scenario.bootstrapPrincipalId ?? '';
  const gs = grants(d, files);
  const problems: Problem[] = [];
  for (const need of needsOf(d)) {
    const who = need.principal === 'app' ? app : bootstrap;
    for (const target of need.targets) {
      const held = gs
        .filter((g) => render(g.principal) === render(who) && covers(g.scope, target))
        .flatMap((g) => g.dataActions);
      for (const [op, alternatives] of Object.entries(need.operations)) {
        if (!alternatives.some((set) => set.every((a) => allows(held, a)))) {
          problems.push({
            check: 'roles',
            message: `${need.service}: ${need.principal} cannot ${op} on ${target.type}${target.name === undefined ? '' : ` ${target.name}`}`,
          });
        }
      }
    }
  }
  return problems;
}
