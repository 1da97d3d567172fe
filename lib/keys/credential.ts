import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';

export interface CredentialOptions {
  /** Client id of a user-assigned managed identity (AZURE_CLIENT_ID); undefined = system-assigned. */
  readonly managedIdentityClientId: string | undefined;
}

/**
 * The credential for Azure SDK clients. In Azure (App Service / Functions publish IDENTITY_ENDPOINT
 * when the app has a managed identity) only the managed identity is tried, so a misconfiguration
 * fails fast instead of walking the whole DefaultAzureCredential chain on every cold start. On a
 * developer machine DefaultAzureCredential finds `az login`, azd, VS Code or environment
 * credentials.
 */
export function createAzureCredential(
  o: CredentialOptions,
  env: NodeJS.ProcessEnv = process.env,
): TokenCredential {
  const clientId = o.managedIdentityClientId;
  if (env.IDENTITY_ENDPOINT !== undefined && env.IDENTITY_ENDPOINT !== '') {
    return clientId === undefined
      ? new ManagedIdentityCredential()
      : new ManagedIdentityCredential({ clientId });
  }
  return new DefaultAzureCredential(clientId === undefined ? {} : { managedIdentityClientId: clientId });
}
