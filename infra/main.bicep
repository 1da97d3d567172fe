// azure-scep-ca: the SCEP (RFC 8894) certificate authority as an Azure Functions app, deployed
// into one resource group: Function App (Flex Consumption, Node 22), its storage account,
// Key Vault (CA key + secrets), Cosmos DB (certificate records), Application Insights, and a
// user-assigned managed identity holding every data-plane role the app needs — no keys, no
// connection strings, no local auth.
//
//   azd up                                   (azure.yaml; parameters from main.parameters.json)
//   az deployment group create -g <rg> -f infra/main.bicep -p environmentName=<name> staticChallenge=<secret>
//
// Before the first deployment: `npm run validate:infra` (az bicep build + what-if).
// test/unit/infra-sync.test.ts keeps this template in step with the code (every setting the
// code reads, every Cosmos container and queue it uses); test/infra/ expands it as ARM would and
// checks roles by principal, role and scope, and values against Azure's resource schemas.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Environment name (azd: AZURE_ENV_NAME). Seeds the unique suffix of every resource name.')
param environmentName string

@description('Region of every resource. Must offer Flex Consumption and Cosmos DB serverless.')
@metadata({ azd: { type: 'location' } })
param location string = resourceGroup().location

@minLength(2)
@maxLength(10)
@description('Letters and digits, starting with a letter; prefixes every resource name (lower-cased).')
param namePrefix string = 'scepca'

@description('CA key protection. RSA-HSM (default, as the app assumes when unset): HSM-protected key in a premium vault. RSA: software-protected key in a standard vault.')
@allowed(['RSA', 'RSA-HSM'])
param keyType string = 'RSA-HSM'

@description('Serve the static-challenge endpoint /scep/static (Addigy, Kandji, Jamf, Mosyle, Workspace ONE…).')
param staticEnabled bool = true

// No newGuid() default on purpose: a parameter default is evaluated on every deployment, so a
// generated default would replace the challenge on each redeploy and break every MDM profile
// that holds the old one. azd generates it once and keeps it in the environment's config
// (metadata below); with plain `az deployment`, pass it, or pass '' to keep the vault's value.
@secure()
@description('Static SCEP challenge (at least 8 characters), stored in Key Vault. Empty: keep the secret already in the vault.')
@metadata({
  azd: {
    type: 'generate'
    config: { length: 32, noSpecial: true }
  }
})
param staticChallenge string

@description('Validate Intune dynamic challenges on /certsrv/mscep/mscep.dll and send Intune notifications.')
param intuneEnabled bool = false

@description('Directory (tenant) id of the Intune tenant and of the REST API\'s Entra ID app.')
param entraTenantId string = tenant().tenantId

@description('Application (client) id of the Entra ID app registration with the Intune scep_challenge_provider permission (also the REST API audience).')
param entraApplicationId string = ''

@secure()
@description('Client secret of that app registration, stored in Key Vault. Empty: keep the secret already in the vault (or use intuneUseManagedIdentity).')
param intuneAppSecret string = ''

@description('Authenticate to Entra ID as the app registration through a federated credential that trusts this deployment\'s managed identity, instead of a client secret.')
param intuneUseManagedIdentity bool = false

@description('Serve the REST enrollment API POST /api/csr (Entra ID bearer token with the CSR.Request.Db app role).')
param restApiEnabled bool = false

@description('Application ID URI accepted as token audience by /api/csr (e.g. api://scep-ca); empty: the application id and api://<application id>.')
param restApiAppIdUri string = ''

@description('Let /api/csr renew a certificate we issued, authenticated by that certificate over mTLS (App Service forwards it in X-ARR-ClientCert).')
param restApiAllowRenewals bool = true

@description('Public base URL (custom domain) used in certificates and outputs; empty: https://<app>.azurewebsites.net.')
param baseUrl string = ''

@description('Object id of the person (or group) who runs `npm run ca -- init`: granted Key Vault Certificates Officer, Crypto User and Secrets User on the vault (remove after bootstrap). Empty: nobody. Do not also assign these roles by hand: ARM refuses a second assignment of a role at the same scope (RoleAssignmentExists).')
param bootstrapPrincipalId string = ''

@description('Kind of principal bootstrapPrincipalId names (azd: SCEP_BOOTSTRAP_PRINCIPAL_TYPE).')
@allowed(['User', 'Group', 'ServicePrincipal'])
param bootstrapPrincipalType string = 'User'

@description('Let the app create keys in the vault: the RA key of each endpoint (`ra-<endpoint>`). true: Key Vault Crypto Officer; false: Key Vault Crypto User (sign/decrypt only).')
param appCreatesKeys bool = true

// Off by default: a role definition replicates slowly, and an assignment made in the same
// deployment that creates it fails with RoleDefinitionDoesNotExist on a first `azd up`.
// Turn it on in a later deployment (docs/keyvault.md, "Roles for the app's managed identity").
@description('Grant the app a custom role with only the key operations it uses instead of the built-in roles (needs Microsoft.Authorization/roleDefinitions/write, e.g. Owner). Set it only after a first successful deployment.')
param useCustomCryptoRole bool = false

@description('Flex Consumption instance memory (MB).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Flex Consumption scale-out limit: 40 to 1000 (the platform refuses a lower maximum).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Days an audit event is kept (Cosmos DB time to live of the audit container).')
@minValue(1)
@maxValue(24855)
param auditRetentionDays int = 400

@description('Application (client) id of the admin console\'s Entra ID app registration (SPA, redirect URI https://<app>/admin). Empty: console sign-in not configured.')
param consoleClientId string = ''

@description('Directory (tenant) id the admin console signs users in with; empty: this deployment\'s tenant.')
param consoleTenantId string = ''

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var prefix = toLower(namePrefix)
// Storage accounts take only lower-case letters and digits; vault names no double hyphens.
var compactPrefix = replace(prefix, '-', '')
var tags = { 'azd-env-name': environmentName, application: 'azure-scep-ca' }

var names = {
  identity: '${prefix}-id-${token}'
  logAnalytics: '${prefix}-log-${token}'
  applicationInsights: '${prefix}-appi-${token}'
  storage: take('${compactPrefix}st${token}', 24)
  keyVault: take('${compactPrefix}kv${token}', 24)
  cosmos: '${prefix}-cosmos-${token}'
  plan: '${prefix}-plan-${token}'
  functionApp: '${prefix}-${token}'
}

// Flex Consumption deploys the package from this container.
var deploymentContainerName = 'app-package'

// Intune notification queue (lib/config/intune.ts default of
// AppConfig__IntuneValidation__NotificationQueueName) and the poison queue the Functions host
// moves a message to after host.json's maxDequeueCount.
var notificationQueueName = 'intune-notifications'
var queueNames = [notificationQueueName, '${notificationQueueName}-poison']

// Database, containers, partition keys and indexing policies: lib/store/cosmos-schema.ts.
// The audit container's time to live comes from auditRetentionDays (seconds in Cosmos DB).
var cosmosLayout = loadJsonContent('cosmos-layout.json')
var auditContainerName = 'audit'
var cosmosContainers = [
  for c in cosmosLayout.containers: c.name == auditContainerName ? union(c, { defaultTtl: auditRetentionDays * 86400 }) : c
]

// Key Vault secret names referenced by the app settings below.
var staticChallengeSecretName = 'static-request-password'
var intuneAppSecretName = 'intune-app-secret'
var intuneUsesSecret = intuneEnabled && !intuneUseManagedIdentity

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    queueNames: queueNames
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    keyType: keyType
    staticChallenge: staticChallenge
    intuneAppSecret: intuneUsesSecret ? intuneAppSecret : ''
    staticChallengeSecretName: staticChallengeSecretName
    intuneAppSecretName: intuneAppSecretName
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    name: names.cosmos
    location: location
    tags: tags
    databaseName: cosmosLayout.databaseName
    containers: cosmosContainers
  }
}

// Secret-scoped Key Vault Secrets User assignments are made when the secret is written; an
// assignment made by an earlier deployment stays when a later one leaves the secret unchanged.
var secretsToGrant = concat(
  !empty(staticChallenge) ? [staticChallengeSecretName] : [],
  intuneUsesSecret && !empty(intuneAppSecret) ? [intuneAppSecretName] : []
)

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: identity.outputs.principalId
    keyVaultName: keyVault.outputs.name
    storageAccountName: storage.outputs.name
    cosmosAccountName: cosmos.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    queueNames: queueNames
    secretNames: secretsToGrant
    useCustomCryptoRole: useCustomCryptoRole
    appCreatesKeys: appCreatesKeys
    bootstrapPrincipalId: bootstrapPrincipalId
    bootstrapPrincipalType: bootstrapPrincipalType
  }
}

// Key Vault references: resolved by the platform with keyVaultReferenceIdentity; the app reads
// plain values. Versionless, so a rotated secret is picked up (within 24 h, or on restart).
var staticChallengeRef = '@Microsoft.KeyVault(VaultName=${names.keyVault};SecretName=${staticChallengeSecretName})'
var intuneAppSecretRef = '@Microsoft.KeyVault(VaultName=${names.keyVault};SecretName=${intuneAppSecretName})'

// SCEPman-compatible setting names (lib/config/*.ts). Settings left out keep the code's defaults;
// test/unit/infra-sync.test.ts lists them.
var coreSettings = {
  AZURE_CLIENT_ID: identity.outputs.clientId
  AppConfig__StaticValidation__Enabled: string(staticEnabled)
  AppConfig__StaticValidation__RequestPassword: staticChallengeRef
  // The status page answers `/` instead of the Functions host's default home page.
  AzureWebJobsDisableHomepage: 'true'
}

var keyVaultSettings = {
  AppConfig__KeyVaultConfig__KeyVaultURL: keyVault.outputs.uri
  AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType: keyType
}

var cosmosSettings = {
  AppConfig__CosmosDb__Endpoint: cosmos.outputs.endpoint
  AppConfig__CosmosDb__DatabaseName: cosmosLayout.databaseName
}

var intuneSettings = union(
  {
    AppConfig__IntuneValidation__Enabled: string(intuneEnabled)
    AppConfig__IntuneValidation__NotificationQueueName: notificationQueueName
  },
  intuneUsesSecret ? { AppConfig__AuthConfig__ApplicationKey: intuneAppSecretRef } : {},
  intuneEnabled && intuneUseManagedIdentity
    ? {
        AppConfig__AuthConfig__UseManagedIdentity: 'true'
        AppConfig__AuthConfig__ManagedIdentityClientId: identity.outputs.clientId
      }
    : {}
)

var entraSettings = union(
  {
    AppConfig__AuthConfig__TenantId: entraTenantId
    // Entra ID authority of the cloud this is deployed to (public, US Gov, China…).
    AppConfig__AuthConfig__Authority: environment().authentication.loginEndpoint
  },
  !empty(entraApplicationId) ? { AppConfig__AuthConfig__ApplicationId: entraApplicationId } : {},
  !empty(restApiAppIdUri) ? { AppConfig__AuthConfig__ApplicationIdUri: restApiAppIdUri } : {}
)

var auditSettings = {
  AppConfig__Audit__RetentionDays: string(auditRetentionDays)
}

// The admin console (served at /admin) signs administrators in with this app registration;
// its app roles CA.Admin, CA.Operator and CA.Auditor reach the API as the token's roles claim.
var consoleSettings = (!empty(consoleClientId)
  ? {
      AppConfig__Console__ClientId: consoleClientId
      AppConfig__Console__TenantId: empty(consoleTenantId) ? tenant().tenantId : consoleTenantId
    }
  : {})

var restSettings = {
  AppConfig__DbCSRValidation__Enabled: string(restApiEnabled)
  AppConfig__DbCSRValidation__AllowRenewals: string(restApiAllowRenewals)
  // App Service puts the TLS client certificate (clientCertMode below) in this header.
  AppConfig__DbCSRValidation__ClientCertificateHeader: 'X-ARR-ClientCert'
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  // Roles first: Key Vault references, host storage and the deployment container are read with
  // the identity as soon as the site starts.
  dependsOn: [rbac]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    storageAccountName: storage.outputs.name
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    baseUrl: baseUrl
    // Only REST renewal over mTLS reads a client certificate; nothing else asks for one.
    clientCertEnabled: restApiEnabled && restApiAllowRenewals
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    appSettings: union(
      coreSettings,
      keyVaultSettings,
      cosmosSettings,
      intuneSettings,
      entraSettings,
      restSettings,
      auditSettings,
      consoleSettings
    )
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (azd writes them to .azure/<env>/.env; `azd env get-values` prints them)
// ---------------------------------------------------------------------------------------------

var appUrl = functionApp.outputs.baseUrl

@description('SCEP URL for Addigy, Kandji, Jamf, Mosyle, Workspace ONE… (static challenge).')
output SCEP_STATIC_URL string = '${appUrl}/scep/static'
@description('SCEP URL for an Intune SCEP certificate profile (NDES-compatible path).')
output SCEP_INTUNE_URL string = '${appUrl}/certsrv/mscep/mscep.dll'
@description('REST enrollment: POST a PKCS#10 with an Entra ID bearer token.')
output REST_CSR_URL string = '${appUrl}/api/csr'
@description('OCSP responder (RFC 6960): GET /ocsp/{base64 request} or POST /ocsp.')
output OCSP_URL string = '${appUrl}/ocsp'
@description('CRL (RFC 5280) of the CA, DER.')
output CRL_URL string = '${appUrl}/crl'
@description('Admin console; also the SPA redirect URI of its Entra ID app registration.')
output CONSOLE_URL string = '${appUrl}/admin'
@description('CA certificate (DER) for the MDM profile\'s trusted root and its fingerprint.')
output CA_CERT_URL string = '${appUrl}/scep/static?operation=GetCACert'

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output APP_IDENTITY_CLIENT_ID string = identity.outputs.clientId
// Read by `npm run ca -- init` (the bootstrap CLI) after `eval "$(azd env get-values)"`.
output AppConfig__KeyVaultConfig__KeyVaultURL string = keyVault.outputs.uri
output AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType string = keyType
