// Least-privilege role assignments for the app's managed identity, one per data-plane service
// the code calls. Role definition GUIDs are Azure built-in roles (stable across tenants):
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles

param principalId string
param keyVaultName string
param storageAccountName string
param cosmosAccountName string
param applicationInsightsName string

@description('Queues the app sends to and the queue trigger reads from (poison queue included).')
param queueNames array

@description('Key Vault secrets the app reads through Key Vault references, by name.')
param secretNames array

@description('Use a custom role with exactly the key operations the app uses and certificates/read instead of built-in roles. Only on a deployment after the first (see main.bicep).')
param useCustomCryptoRole bool = false

@description('The app creates the RA key of each endpoint (`ra-<endpoint>`) in the vault.')
param appCreatesKeys bool = true

@description('Object id of a person or group who runs the CA bootstrap CLI; empty: nobody. Grants Key Vault Certificates Officer, Crypto User and Secrets User on the vault. Remove the assignments after bootstrap.')
param bootstrapPrincipalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param bootstrapPrincipalType string = 'User'

// Key Vault (RBAC authorization)
var keyVaultCryptoUserRoleId = '12338af0-0e69-4776-bea7-57ae8d297424' // Key Vault Crypto User
var keyVaultReaderRoleId = '21090545-7ca7-4776-b22c-e363652d74d2' // Key Vault Reader
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User
var keyVaultCryptoOfficerRoleId = '14b46e9e-c2b7-41b4-b07b-48a6ebf60603' // Key Vault Crypto Officer
var keyVaultCertificatesOfficerRoleId = 'a4417e6f-fecd-4de8-b567-7b0420556985' // Key Vault Certificates Officer
// Storage
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
// Application Insights with Entra ID (AAD) authentication
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
// Cosmos DB data plane (a Cosmos SQL role, not an Azure RBAC role)
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002' // Cosmos DB Built-in Data Contributor

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
  resource queueService 'queueServices' existing = {
    name: 'default'
  }
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [
  for q in queueNames: {
    parent: storage::queueService
    name: q
  }
]

resource secrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = [
  for s in secretNames: {
    parent: vault
    name: s
  }
]

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// --- Key Vault keys: the CA key and the RA keys sign (certificates, CertRep, CRL, OCSP) and
// decrypt the SCEP envelope (RSA1_5 / RSA-OAEP `decrypt` or `unwrapKey`); certificates/read
// loads the CA certificate. Vault scope: the keys are created after deployment (the CA key by
// the bootstrap CLI, RA keys `ra-<endpoint>` by the app when an endpoint gets one), so no key
// exists to scope an assignment to.
//
// Creating keys needs keys/create/action, which among the built-in roles only Key Vault Crypto
// Officer (and Administrator) hold. Crypto Officer also allows deleting and updating keys,
// the CA key included; purge protection and soft delete keep a deleted key recoverable for
// 90 days, and no role the app holds can purge it. Where the app creates no keys
// (appCreatesKeys=false), it gets Key Vault Crypto User: use only, no create or delete.
// The custom role (useCustomCryptoRole) grants exactly the operations below and nothing else.
var appKeyRoleId = appCreatesKeys ? keyVaultCryptoOfficerRoleId : keyVaultCryptoUserRoleId
// One definition whatever appCreatesKeys says: a redeployment updates its data actions in place.
var customCryptoRoleName = guid(resourceGroup().id, vault.id, 'scep-ca-key-user')

// Role definitions are subscription-level resources whatever scope deploys them, so the
// assignment refers to the custom role by its subscription-level id (and depends on it).
resource caKeyRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (useCustomCryptoRole) {
  name: customCryptoRoleName
  properties: {
    roleName: 'SCEP CA key user (${vault.name})'
    description: 'Sign, decrypt and unwrap with the CA and RA keys (and create RA keys) and read the CA certificate in one Key Vault; nothing else.'
    type: 'CustomRole'
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: concat(
          [
            'Microsoft.KeyVault/vaults/keys/read'
            'Microsoft.KeyVault/vaults/keys/sign/action'
            'Microsoft.KeyVault/vaults/keys/decrypt/action'
            'Microsoft.KeyVault/vaults/keys/unwrap/action'
            'Microsoft.KeyVault/vaults/certificates/read'
          ],
          appCreatesKeys ? ['Microsoft.KeyVault/vaults/keys/create/action'] : []
        )
        notDataActions: []
      }
    ]
    assignableScopes: [resourceGroup().id]
  }
}

var cryptoRoleDefinitionId = subscriptionResourceId(
  'Microsoft.Authorization/roleDefinitions',
  useCustomCryptoRole ? customCryptoRoleName : appKeyRoleId
)

// The assignment's name follows the role: switching appCreatesKeys or useCustomCryptoRole
// creates a new assignment and leaves the previous one (docs/deployment.md, "Switching the app's key role").
resource keyVaultCryptoAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, useCustomCryptoRole ? customCryptoRoleName : appKeyRoleId)
  scope: vault
  dependsOn: [caKeyRole]
  properties: {
    roleDefinitionId: cryptoRoleDefinitionId
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Crypto User and Crypto Officer have no certificates/read; Key Vault Reader adds it (metadata and public parts
// only: it cannot read secret values or key material).
resource keyVaultReaderAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!useCustomCryptoRole) {
  name: guid(vault.id, principalId, keyVaultReaderRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultReaderRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// --- Key Vault secrets: Key Vault references (static RequestPassword, Intune app secret) are
// resolved with the app's keyVaultReferenceIdentity; scoped to each secret, not the vault.
resource keyVaultSecretsAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (s, i) in secretNames: {
    name: guid(secrets[i].id, principalId, keyVaultSecretsUserRoleId)
    scope: secrets[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// --- Storage blobs: AzureWebJobsStorage (host locks and keys in azure-webjobs-* containers the
// host creates) and the Flex Consumption deployment container. Account scope, because the host
// creates its own containers.
resource blobOwnerAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// --- Storage queues: the app enqueues Intune notifications (add), the queue trigger reads,
// deletes and updates them (process) and the host moves poison messages (add to <queue>-poison).
// Queue Data Contributor covers send + process + read queue metadata; scoped to each queue.
resource queueContributorAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (q, i) in queueNames: {
    name: guid(queues[i].id, principalId, storageQueueDataContributorRoleId)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId(
        'Microsoft.Authorization/roleDefinitions',
        storageQueueDataContributorRoleId
      )
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// --- Application Insights with local auth disabled: telemetry needs Monitoring Metrics Publisher.
resource metricsPublisherAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      monitoringMetricsPublisherRoleId
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// --- Cosmos DB data plane: read/write items in every container of the account. Account scope:
// the SDK reads the account's metadata (readMetadata) before any container.
resource cosmosDataContributorAssignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosDataContributorRoleId)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
    principalId: principalId
    scope: cosmos.id
  }
}

// --- Optional: the person who runs the CA bootstrap (`npm run ca -- init`) creates the CA
// certificate object (Key Vault generates its key: certificates/create, Certificates Officer)
// and signs the root or CSR with that key (keys/sign, Crypto User).
resource bootstrapCryptoUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(bootstrapPrincipalId)) {
  name: guid(vault.id, bootstrapPrincipalId, keyVaultCryptoUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoUserRoleId)
    principalId: bootstrapPrincipalId
    principalType: bootstrapPrincipalType
  }
}

resource bootstrapCertificatesOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(bootstrapPrincipalId)) {
  name: guid(vault.id, bootstrapPrincipalId, keyVaultCertificatesOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      keyVaultCertificatesOfficerRoleId
    )
    principalId: bootstrapPrincipalId
    principalType: bootstrapPrincipalType
  }
}

// The same person reads the static challenge back to paste it into the MDM profiles.
resource bootstrapSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(bootstrapPrincipalId)) {
  name: guid(vault.id, bootstrapPrincipalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: bootstrapPrincipalId
    principalType: bootstrapPrincipalType
  }
}
