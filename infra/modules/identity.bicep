// The app's user-assigned managed identity. User-assigned (not system-assigned) so its role
// assignments exist before the Function App starts: Key Vault references and the identity-based
// AzureWebJobsStorage connection resolve on the first start instead of failing and retrying.

@description('Name of the user-assigned managed identity.')
param name string

param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
