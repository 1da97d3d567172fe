import { AppError } from '../errors.js';
import { type Env, formatIssues } from './parse.js';
import { auditSection, type AuditSettings } from './audit.js';
import { consoleSection, type ConsoleSettings } from './console.js';
import { coreSection, type CoreSettings } from './core.js';
import { cosmosSection, type CosmosSettings } from './cosmos.js';
import { intuneSection, type IntuneSettings } from './intune.js';
import { keyVaultSection, type KeyVaultSettings } from './keyvault.js';
import { manageSection, type ManageSettings } from './manage.js';
import { restSection, type RestSettings } from './rest.js';
import { revocationSection, type RevocationSettings } from './revocation.js';
import { secretProblems } from './secrets.js';

export type { Env } from './parse.js';

/**
 * All settings, parsed once from the environment into a typed object (see
 * docs/configuration.md). Each feature owns one section file; this file only composes them, so a
 * misconfiguration is reported in one message that lists every bad setting at once.
 */
export interface Settings {
  readonly audit: AuditSettings;
  readonly console: ConsoleSettings;
  readonly core: CoreSettings;
  readonly cosmos: CosmosSettings;
  readonly intune: IntuneSettings;
  readonly keyVault: KeyVaultSettings;
  readonly manage: ManageSettings;
  readonly rest: RestSettings;
  readonly revocation: RevocationSettings;
}

const sections = {
  audit: auditSection,
  console: consoleSection,
  core: coreSection,
  cosmos: cosmosSection,
  intune: intuneSection,
  keyVault: keyVaultSection,
  manage: manageSection,
  rest: restSection,
  revocation: revocationSection,
} as const;

export function loadSettings(env: Env = process.env): Settings {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(sections)) {
    const r = section(env);
    if (r.ok) out[name] = r.value;
    else problems.push(...r.problems);
  }
  problems.push(...inAzureProblems(env), ...secretProblems(env));
  if (problems.length > 0) {
    throw new AppError('CONFIG_INVALID', `Invalid settings:\n  - ${problems.join('\n  - ')}`, {
      detail: { problems },
    });
  }
  return out as unknown as Settings;
}

/**
 * In Azure (App Service and Functions set WEBSITE_SITE_NAME) the embedded defaults would be
 * wrong, not just weak: every instance would create its own local CA on its own disk, and
 * certificate records kept in memory are lost on the next scale-in. Refuse to start instead.
 */
function inAzureProblems(env: Env): string[] {
  if (!env.WEBSITE_SITE_NAME) return [];
  const unset = (k: string): boolean => (env[k] ?? '').trim() === '';
  const p: string[] = [];
  if (unset('AppConfig__KeyVaultConfig__KeyVaultURL')) {
    p.push(
      'AppConfig__KeyVaultConfig__KeyVaultURL: required in Azure (the CA key lives in Key Vault; see docs/deployment.md)',
    );
  }
  if (unset('AppConfig__CosmosDb__Endpoint')) {
    p.push(
      'AppConfig__CosmosDb__Endpoint: required in Azure (issued certificates are recorded in Cosmos DB)',
    );
  }
  return p;
}

export { formatIssues };
