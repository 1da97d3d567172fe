/**
 * Valid values of the resource types, API versions and enum-like properties infra/ uses,
 * taken from Azure's published resource schemas: the Bicep type definitions generated from the
 * REST API specs, https://github.com/Azure/bicep-types-az at commit
 * 1f896de2db966ad91e8f7d7d981e11d32e4f5d8d, file `generated/<provider>/<namespace>/<version>/types.md`
 * (the same data as https://learn.microsoft.com/azure/templates/<type>). Where the schema says
 * `| string` (an open enum) the values listed there are the ones the service documents.
 *
 * Platform limits that the schema types as a plain int or string come from the service docs
 * cited next to them. A type@apiVersion missing here fails the tests: add it from the schema
 * of exactly that version, never by copying the row of another version.
 */

export interface SchemaEntry {
  readonly source: string;
  /** Property path (`properties.minimalTlsVersion`, arrays as `[]`) -> the values the schema allows. */
  readonly enums: Readonly<Record<string, readonly (string | number)[]>>;
  /** Property paths whose string values are free-form (names, descriptions, ids); `*` matches one segment. */
  readonly freeForm: readonly string[];
  /** The schema's pattern and length limits of the resource name, where it has any. */
  readonly name?: RegExp;
}

const T = (path: string): string => `Azure/bicep-types-az: generated/${path}/types.md`;
const COMMON = ['name', 'location', 'tags.*', 'parent'];

export const SCHEMAS: Readonly<Record<string, SchemaEntry>> = {
  'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31': {
    source: T('msi/microsoft.managedidentity/2023-01-31'),
    enums: {},
    freeForm: COMMON,
  },
  'Microsoft.OperationalInsights/workspaces@2023-09-01': {
    source: T('operationalinsights/microsoft.operationalinsights/2023-09-01'),
    enums: {
      'properties.sku.name': [
        'CapacityReservation',
        'Free',
        'LACluster',
        'PerGB2018',
        'PerNode',
        'Premium',
      ].concat(['Standalone', 'Standard']),
    },
    name: /^(?=.{4,63}$)[A-Za-z0-9][A-Za-z0-9-]+[A-Za-z0-9]$/,
    freeForm: COMMON,
  },
  'Microsoft.Insights/components@2020-02-02': {
    source: T('applicationinsights/microsoft.insights/2020-02-02'),
    // `kind` is a free-form string in the schema ("values should typically be one of: web, ios, other…").
    enums: { 'properties.Application_Type': ['other', 'web'] },
    freeForm: [...COMMON, 'kind'],
  },
  'Microsoft.Storage/storageAccounts@2023-05-01': {
    source: T('storage/microsoft.storage/2023-05-01'),
    enums: {
      kind: ['BlobStorage', 'BlockBlobStorage', 'FileStorage', 'Storage', 'StorageV2'],
      'sku.name': ['Premium_LRS', 'Premium_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_LRS'].concat([
        'Standard_RAGRS',
        'Standard_RAGZRS',
        'Standard_ZRS',
      ]),
      'properties.accessTier': ['Cold', 'Cool', 'Hot', 'Premium'],
      'properties.dnsEndpointType': ['AzureDnsZone', 'Standard'],
      'properties.minimumTlsVersion': ['TLS1_0', 'TLS1_1', 'TLS1_2', 'TLS1_3'],
      'properties.publicNetworkAccess': ['Disabled', 'Enabled', 'SecuredByPerimeter'],
      'properties.networkAcls.bypass': ['AzureServices', 'Logging', 'Metrics', 'None'],
      'properties.networkAcls.defaultAction': ['Allow', 'Deny'],
    },
    name: /^[a-z0-9]{3,24}$/,
    freeForm: COMMON,
  },
  'Microsoft.Storage/storageAccounts/blobServices@2023-05-01': {
    source: T('storage/microsoft.storage/2023-05-01'),
    enums: { name: ['default'] },
    freeForm: ['parent'],
  },
  'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01': {
    source: T('storage/microsoft.storage/2023-05-01'),
    enums: { 'properties.publicAccess': ['Blob', 'Container', 'None'] },
    name: /^.{3,63}$/,
    freeForm: COMMON,
  },
  'Microsoft.Storage/storageAccounts/queueServices@2023-05-01': {
    source: T('storage/microsoft.storage/2023-05-01'),
    enums: { name: ['default'] },
    freeForm: ['parent'],
  },
  'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01': {
    source: T('storage/microsoft.storage/2023-05-01'),
    enums: {},
    name: /^(?=.{3,63}$)[a-z0-9]([a-z0-9]|-(?!-))+[a-z0-9]$/,
    freeForm: COMMON,
  },
  'Microsoft.KeyVault/vaults@2023-07-01': {
    source: T('keyvault/microsoft.keyvault/2023-07-01'),
    // publicNetworkAccess is a plain string in this version's schema; the service takes these two.
    enums: {
      'properties.sku.family': ['A'],
      'properties.sku.name': ['premium', 'standard'],
      'properties.publicNetworkAccess': ['Disabled', 'Enabled'],
      'properties.networkAcls.bypass': ['AzureServices', 'None'],
      'properties.networkAcls.defaultAction': ['Allow', 'Deny'],
    },
    name: /^[a-zA-Z0-9-]{3,24}$/,
    freeForm: COMMON,
  },
  'Microsoft.KeyVault/vaults/secrets@2023-07-01': {
    source: T('keyvault/microsoft.keyvault/2023-07-01'),
    enums: {},
    name: /^[a-zA-Z0-9-]{1,127}$/,
    freeForm: [...COMMON, 'properties.contentType'],
  },
  'Microsoft.DocumentDB/databaseAccounts@2024-11-15': {
    source: T('cosmos-db/microsoft.documentdb/2024-11-15'),
    // Capability names are a plain string in the schema; EnableServerless is the documented
    // serverless capability (https://learn.microsoft.com/azure/cosmos-db/serverless).
    enums: {
      kind: ['GlobalDocumentDB', 'MongoDB', 'Parse'],
      'properties.databaseAccountOfferType': ['Standard'],
      'properties.capabilities[].name': [
        'EnableServerless',
        'EnableTable',
        'EnableGremlin',
        'EnableCassandra',
      ],
      'properties.consistencyPolicy.defaultConsistencyLevel': ['BoundedStaleness', 'ConsistentPrefix'].concat(
        ['Eventual', 'Session', 'Strong'],
      ),
      'properties.minimalTlsVersion': ['Tls', 'Tls11', 'Tls12'],
      'properties.publicNetworkAccess': ['Disabled', 'Enabled', 'SecuredByPerimeter'],
    },
    name: /^(?=.{3,50}$)[a-z0-9]+(-[a-z0-9]+)*$/,
    freeForm: [...COMMON, 'properties.locations[].locationName'],
  },
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15': {
    source: T('cosmos-db/microsoft.documentdb/2024-11-15'),
    enums: {},
    freeForm: [...COMMON, 'properties.resource.id'],
  },
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15': {
    source: T('cosmos-db/microsoft.documentdb/2024-11-15'),
    enums: {
      'properties.resource.partitionKey.kind': ['Hash', 'MultiHash', 'Range'],
      'properties.resource.partitionKey.version': [1, 2],
      'properties.resource.indexingPolicy.indexingMode': ['consistent', 'lazy', 'none'],
    },
    freeForm: [...COMMON, 'properties.resource.id'],
  },
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15': {
    source: T('cosmos-db/microsoft.documentdb/2024-11-15'),
    enums: {},
    freeForm: [...COMMON, 'properties.*'],
  },
  'Microsoft.Authorization/roleAssignments@2022-04-01': {
    source: T('authorization/microsoft.authorization/2022-04-01'),
    enums: {
      'properties.principalType': [
        'AgentServicePrincipal',
        'AgentUser',
        'Device',
        'ForeignGroup',
        'Group',
      ].concat(['ServicePrincipal', 'User']),
    },
    freeForm: [
      ...COMMON,
      'scope',
      'properties.roleDefinitionId',
      'properties.principalId',
      'properties.description',
    ],
  },
  'Microsoft.Authorization/roleDefinitions@2022-04-01': {
    source: T('authorization/microsoft.authorization/2022-04-01'),
    enums: {},
    freeForm: [...COMMON, 'properties.*', 'properties.permissions[].*[]', 'properties.assignableScopes[]'],
  },
  'Microsoft.Web/serverfarms@2024-04-01': {
    source: T('web/microsoft.web/2024-04-01'),
    // sku and kind are plain strings in the schema; the Flex Consumption plan is FC1 /
    // FlexConsumption on a Linux (`reserved`) `functionapp` plan
    // (https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to).
    enums: { kind: ['functionapp'], 'sku.tier': ['FlexConsumption'], 'sku.name': ['FC1'] },
    freeForm: COMMON,
  },
  'Microsoft.Web/sites@2024-04-01': {
    source: T('web/microsoft.web/2024-04-01'),
    enums: {
      kind: ['functionapp,linux'],
      'identity.type': ['None', 'SystemAssigned', 'SystemAssigned, UserAssigned', 'UserAssigned'],
      'properties.clientCertMode': ['Optional', 'OptionalInteractiveUser', 'Required'],
      'properties.siteConfig.minTlsVersion': ['1.0', '1.1', '1.2', '1.3'],
      'properties.functionAppConfig.deployment.storage.type': ['blobContainer'],
      'properties.functionAppConfig.deployment.storage.authentication.type': [
        'StorageAccountConnectionString',
      ].concat(['SystemAssignedIdentity', 'UserAssignedIdentity']),
      'properties.functionAppConfig.runtime.name': [
        'custom',
        'dotnet-isolated',
        'java',
        'node',
        'powershell',
      ].concat(['python']),
      // A plain string in the schema; Flex Consumption runs Node.js 20 and 22
      // (https://learn.microsoft.com/azure/azure-functions/supported-languages).
      'properties.functionAppConfig.runtime.version': ['20', '22'],
    },
    freeForm: [...COMMON, 'properties.functionAppConfig.deployment.storage.value'],
  },
  'Microsoft.Web/sites/config@2024-04-01': {
    source: T('web/microsoft.web/2024-04-01'),
    // The config resource's name is its discriminator; app settings values are free-form.
    enums: { name: ['appsettings', 'authsettingsV2', 'connectionstrings', 'logs', 'metadata', 'web'] },
    freeForm: ['parent', 'properties.*'],
  },
};

/**
 * Limits the platform enforces on values the schema types as a plain int. Flex Consumption
 * (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan): instance memory
 * 512, 2048 or 4096 MB; maximum instance count 40 to 1000. `expandedOnly`: the value is
 * computed, so only its expanded value is checked, not a parameter's decorators.
 */
export interface Bound {
  readonly type: string;
  readonly path: string;
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly number[];
  readonly except?: readonly number[];
  readonly expandedOnly?: true;
}

export const PLATFORM_BOUNDS: readonly Bound[] = [
  {
    type: 'Microsoft.Web/sites',
    path: 'properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount',
    min: 40,
    max: 1000,
  },
  {
    type: 'Microsoft.Web/sites',
    path: 'properties.functionAppConfig.scaleAndConcurrency.instanceMemoryMB',
    allowed: [512, 2048, 4096],
  },
  // Schema text of Microsoft.KeyVault/vaults@2023-07-01: "It accepts >=7 and <=90".
  { type: 'Microsoft.KeyVault/vaults', path: 'properties.softDeleteRetentionInDays', min: 7, max: 90 },
  // PerGB2018 workspaces keep data 30 to 730 days
  // (https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure).
  { type: 'Microsoft.OperationalInsights/workspaces', path: 'properties.retentionInDays', min: 30, max: 730 },
  // Cosmos DB time to live: -1 (on, no default expiry) or 1 to 2147483647 seconds, never 0
  // (https://learn.microsoft.com/azure/cosmos-db/nosql/time-to-live).
  {
    type: 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
    path: 'properties.resource.defaultTtl',
    min: -1,
    max: 2147483647,
    except: [0],
    expandedOnly: true,
  },
];
