// Flex Consumption plan + Linux Function App (Node 22) running as the user-assigned identity.
// Flex Consumption takes runtime, scale and deployment storage from `functionAppConfig`; the
// app settings it deprecates (FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION,
// WEBSITE_RUN_FROM_PACKAGE, WEBSITE_CONTENT*, WEBSITE_NODE_DEFAULT_VERSION…) are not set.

param name string
param planName string
param location string
param tags object

@description('Resource id and client id of the user-assigned identity the app runs as.')
param identityId string
param identityClientId string

@description('Blob container URL the platform deploys the package from (identity-authenticated).')
param deploymentContainerUrl string

@description('App settings that are not about the host itself (AppConfig__*, AZURE_CLIENT_ID…). Key Vault references allowed.')
param appSettings object

param storageAccountName string
param applicationInsightsConnectionString string

@description('`BaseUrl` override, e.g. a custom domain; empty: https://<default host name>.')
param baseUrl string = ''

@description('Ask clients for a TLS certificate (optional, never required): only REST renewal over mTLS uses it.')
param clientCertEnabled bool = false

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

// Flex Consumption: a maximum instance count below 40 is refused.
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the resource to deploy the `api` service (azure.yaml) to by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (@Microsoft.KeyVault(...)) resolve with this identity.
    keyVaultReferenceIdentity: identityId
    // REST renewal over mTLS reads the client certificate App Service forwards in
    // X-ARR-ClientCert; without it the server does not ask for one at all. "Optional
    // Interactive User" asks for a certificate without requiring one; never "Required":
    // Windows' SCEP client fails when the server asks for a TLS client certificate, and
    // Intune/MDM SCEP clients send none.
    clientCertEnabled: clientCertEnabled
    clientCertMode: 'OptionalInteractiveUser'
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Host settings: identity-based AzureWebJobsStorage (shared keys are off on the account) and
// Application Insights with Entra ID authentication (local auth is off on the component).
var hostSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

// A child resource rather than siteConfig.appSettings, so BaseUrl can use the host name Azure
// assigned to the site. This resource owns the complete list: settings added by hand in the
// portal are removed on the next deployment.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, hostSettings, {
    AppConfig__BaseUrl: empty(baseUrl) ? 'https://${site.properties.defaultHostName}' : baseUrl
  })
}

output name string = site.name
output hostName string = site.properties.defaultHostName
output baseUrl string = empty(baseUrl) ? 'https://${site.properties.defaultHostName}' : baseUrl
