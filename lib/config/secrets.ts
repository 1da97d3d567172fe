import type { Env } from './parse.js';

/**
 * Secrets fail closed. App Service resolves a Key Vault reference
 * (`@Microsoft.KeyVault(SecretUri=…)` or `@Microsoft.KeyVault(VaultName=…;SecretName=…)`) into
 * the secret before the app starts; when it cannot (the identity lacks `get` on secrets, the
 * secret or vault is gone, the syntax is wrong) the app sees the reference text itself
 * (Microsoft Learn, "Use Key Vault references as app settings": "If a reference isn't resolved
 * properly, the reference string is used instead"). That text must never become a working
 * secret, and neither may a placeholder copied from local.settings.sample.json.
 */

const KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\(/i;

/** Values shipped as "fill me in" in samples and templates. */
const PLACEHOLDERS = [/^replace-with-/i, /^<[^>]*>$/, /^(changeme|change-me|todo|xxx+)$/i];

export function isUnresolvedReference(value: string | undefined): boolean {
  return value !== undefined && KEY_VAULT_REFERENCE.test(value);
}

export function isPlaceholder(value: string | undefined): boolean {
  const v = value?.trim();
  return v !== undefined && v !== '' && PLACEHOLDERS.some((p) => p.test(v));
}

export function unresolvedMessage(setting: string): string {
  return `${setting}: holds an unresolved Key Vault reference (App Service could not read the secret: check the reference, that the secret exists and that the app's managed identity may get secrets in that vault)`;
}

/**
 * Settings whose unresolved reference disables one feature (its endpoint answers 503) instead
 * of the whole app; every other setting with an unresolved reference stops the start.
 */
export const FEATURE_SECRETS: Readonly<Record<string, 'static' | 'intune'>> = {
  AppConfig__StaticValidation__RequestPassword: 'static',
  AppConfig__AuthConfig__ApplicationKey: 'intune',
  AppConfig__AuthConfig__ApplicationCertificatePem: 'intune',
};

/** Settings secretProblems looks at; a section that reads another one checks it itself. */
export const isCheckedSetting = (name: string): boolean =>
  name.startsWith('AppConfig__') || name === 'AzureWebJobsStorage';

/** Start-time problems: placeholders anywhere, unresolved references outside FEATURE_SECRETS. */
export function secretProblems(env: Env): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!isCheckedSetting(name)) continue;
    if (isPlaceholder(value)) {
      problems.push(
        `${name}: still holds the sample placeholder "${(value ?? '').trim().slice(0, 40)}"; fill it with the real value`,
      );
    } else if (isUnresolvedReference(value) && !(name in FEATURE_SECRETS)) {
      problems.push(unresolvedMessage(name));
    }
  }
  return problems;
}
