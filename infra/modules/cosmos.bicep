// Cosmos DB for NoSQL, serverless, holding the certificate records; every certificate is recorded before it is returned.
// Local (key) auth is disabled: the app signs in with its managed identity and the built-in
// data-plane role "Cosmos DB Built-in Data Contributor" (sqlRoleAssignments in rbac.bicep).
// Database and container names, partition keys and indexing policies mirror lib/store/cosmos.ts;
// test/unit/infra-sync.test.ts fails when they drift apart.

param name string
param location string
param tags object
param databaseName string

@description('Containers: { name, partitionKeyPaths, indexingPolicy?, uniqueKeyPaths?, defaultTtl? } as in lib/store/cosmos.ts.')
param containers array

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    capabilities: [{ name: 'EnableServerless' }]
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    disableLocalAuth: true
    // Control-plane writes (databases, containers, indexing) only through ARM, i.e. this template.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: { id: databaseName }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for c in containers: {
    parent: database
    name: c.name
    properties: {
      resource: union(
        {
          id: c.name
          partitionKey: {
            paths: c.partitionKeyPaths
            kind: length(c.partitionKeyPaths) > 1 ? 'MultiHash' : 'Hash'
            version: 2
          }
        },
        contains(c, 'indexingPolicy') ? { indexingPolicy: c.indexingPolicy } : {},
        contains(c, 'uniqueKeyPaths') ? { uniqueKeyPolicy: { uniqueKeys: [{ paths: c.uniqueKeyPaths }] } } : {},
        contains(c, 'defaultTtl') ? { defaultTtl: c.defaultTtl } : {}
      )
    }
  }
]

output name string = account.name
output id string = account.id
output endpoint string = account.properties.documentEndpoint
