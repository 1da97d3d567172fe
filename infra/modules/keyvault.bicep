// Key Vault holding the CA key (created later by the bootstrap CLI, never exported) and
// the app's secrets, read through Key Vault references.
// RBAC authorization only (no access policies); purge protection on, because deleting a CA key
// by mistake would orphan every certificate it issued.

param name string
param location string
param tags object

@description('RSA: software-protected CA key (standard vault). RSA-HSM: HSM-protected key, which needs the premium SKU.')
@allowed(['RSA', 'RSA-HSM'])
param keyType string

@description('Static SCEP challenge. Empty: leave the secret already in the vault unchanged.')
@secure()
param staticChallenge string

@description('Client secret of the Intune app registration. Empty: leave the secret already in the vault unchanged.')
@secure()
param intuneAppSecret string

@description('Secret names; the app settings reference them by name (see main.bicep).')
param staticChallengeSecretName string
param intuneAppSecretName string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      // Key Vault: HSM-protected keys (kty RSA-HSM) are a premium-tier feature.
      name: keyType == 'RSA-HSM' ? 'premium' : 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource staticChallengeSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(staticChallenge)) {
  parent: vault
  name: staticChallengeSecretName
  properties: {
    value: staticChallenge
    contentType: 'text/plain'
  }
}

resource intuneSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(intuneAppSecret)) {
  parent: vault
  name: intuneAppSecretName
  properties: {
    value: intuneAppSecret
    contentType: 'text/plain'
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
