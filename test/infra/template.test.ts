import { describe, expect, it } from 'vitest';
import { allInstances, evaluate, type Value } from '../helpers/bicep-eval.js';
import { decorator, parseBicep } from '../helpers/bicep-parse.js';
import { SCHEMAS } from './azure-schema.js';
import {
  appSettings,
  checkApiVersions,
  checkClientCertificates,
  checkEnums,
  checkExpandedValues,
  checkHostStorage,
  checkNames,
  checkPlatformBounds,
  expand,
  SCENARIOS,
  siteOf,
} from './checks.js';
import { infraFiles, read } from './files.js';

/**
 * infra/ against Azure's published resource schemas and the platform's limits, in every
 * scenario of SCENARIOS (test/infra/mutations.test.ts shows each check failing on a template
 * with a known mistake).
 */

const FILES = infraFiles();
const scenarios = Object.entries(SCENARIOS);

describe('infra: resource types and properties against the Azure schemas', () => {
  it('uses only type@apiVersion pairs the published schemas define', () => {
    expect(checkApiVersions(FILES)).toEqual([]);
  });

  it('gives every enum-like property a value its schema allows, in every branch', () => {
    expect(checkEnums(FILES)).toEqual([]);
  });

  it.each(scenarios)(
    '%s: gives enum properties valid values once parameters and layouts are expanded',
    (_, s) => {
      expect(checkExpandedValues(FILES, s)).toEqual([]);
    },
  );

  it.each([
    ['defaults', SCENARIOS.defaults!],
    ['the longest name prefix', { ...SCENARIOS.defaults!, namePrefix: 'scepcaprod' }],
    ['a prefix with a hyphen', { ...SCENARIOS.defaults!, namePrefix: 'scep-ca' }],
  ])('%s: names every resource as its schema allows', (_, s) => {
    expect(checkNames(FILES, s)).toEqual([]);
  });

  it('bounds every parameter that reaches a platform-limited property (Flex Consumption scale and memory)', () => {
    expect(checkPlatformBounds(FILES)).toEqual([]);
  });

  it('cites a schema source for every type in the table, and the table has no type the template does not use', () => {
    const used = new Set(
      allInstances(expand(FILES, SCENARIOS.defaults!)).map((i) => `${i.type}@${i.apiVersion}`),
    );
    expect(Object.keys(SCHEMAS).filter((t) => !used.has(t))).toEqual([]);
    expect(
      Object.values(SCHEMAS).filter((e) => !/bicep-types-az: generated\/.+\/types\.md$/.test(e.source)),
    ).toEqual([]);
  });
});

describe('infra: the Function App as deployed', () => {
  it.each(scenarios)('%s: identity-based host storage the Functions host can read', (_, s) => {
    expect(checkHostStorage(FILES, s)).toEqual([]);
  });

  it.each(scenarios)(
    '%s: asks for a client certificate only when REST renewal over mTLS is on, never requires one',
    (_, s) => {
      expect(checkClientCertificates(FILES, s)).toEqual([]);
    },
  );

  it('runs on Flex Consumption, Node 22, HTTPS only, TLS 1.2', () => {
    const site = siteOf(expand(FILES, SCENARIOS.defaults!))!;
    const props = (evaluate(site.body!, site.scope, FILES) as { properties: Record<string, Value> })
      .properties;
    expect(props.httpsOnly).toBe(true);
    expect(props.functionAppConfig).toMatchObject({ runtime: { name: 'node', version: '22' } });
    expect(props.siteConfig).toMatchObject({ minTlsVersion: '1.2' });
  });

  it('serves /ocsp, /crl and /admin at the root of the host, as the outputs say (host.json routePrefix "")', () => {
    const host = JSON.parse(read('host.json')) as { extensions: { http: { routePrefix: string } } };
    expect(host.extensions.http.routePrefix).toBe('');
    const main = read('infra/main.bicep');
    for (const [out, path] of [
      ['OCSP_URL', 'ocsp'],
      ['CRL_URL', 'crl'],
      ['CONSOLE_URL', 'admin'],
    ]) {
      expect(main).toMatch(new RegExp(`output ${out!} string = '\\$\\{appUrl\\}/${path!}'`));
    }
  });

  it('sets the console sign-in settings only with a console app registration', () => {
    const without = appSettings(expand(FILES, SCENARIOS.defaults!), FILES);
    expect(Object.keys(without).filter((k) => k.startsWith('AppConfig__Console__'))).toEqual([]);
    const withConsole = appSettings(
      expand(FILES, { ...SCENARIOS.defaults!, consoleClientId: 'console-app' }),
      FILES,
    );
    expect(withConsole.AppConfig__Console__ClientId).toBe('console-app');
    expect(withConsole.AppConfig__Console__TenantId).toBeDefined();
  });
});

describe('infra: Cosmos DB containers as deployed', () => {
  const containers = (params: Readonly<Record<string, Value>>): Record<string, Value>[] =>
    allInstances(expand(FILES, params))
      .filter((i) => i.type === 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers')
      .map(
        (i) =>
          (evaluate(i.body!, i.scope, FILES) as { properties: { resource: Record<string, Value> } })
            .properties.resource,
      );

  it('creates every container of infra/cosmos-layout.json with its partition key', () => {
    const layout = JSON.parse(read('infra/cosmos-layout.json')) as {
      containers: { name: string; partitionKeyPaths: string[] }[];
    };
    const deployed = containers(SCENARIOS.defaults!);
    expect(deployed.map((c) => [c.id, (c.partitionKey as { paths: string[] }).paths])).toEqual(
      layout.containers.map((c) => [c.name, c.partitionKeyPaths]),
    );
  });

  it('expires audit events after auditRetentionDays, and tells the app the same retention', () => {
    for (const days of [400, 30]) {
      const params = { ...SCENARIOS.defaults!, auditRetentionDays: days };
      const audit = containers(params).find((c) => c.id === 'audit');
      expect(audit?.defaultTtl).toBe(days * 86400);
      expect(appSettings(expand(FILES, params), FILES).AppConfig__Audit__RetentionDays).toBe(String(days));
    }
    expect(containers(SCENARIOS.defaults!).filter((c) => c.id !== 'audit' && 'defaultTtl' in c)).toEqual([]);
  });

  it("keeps the audit time to live within Cosmos DB's limit up to auditRetentionDays' @maxValue, and not one day more", () => {
    const param = parseBicep(read('infra/main.bicep')).find((st) => st.name === 'auditRetentionDays')!;
    const max = decorator(param, 'maxValue')?.[0];
    expect(max?.k).toBe('num');
    const days = max?.k === 'num' ? max.v : 0;
    expect(checkExpandedValues(FILES, { ...SCENARIOS.defaults!, auditRetentionDays: days })).toEqual([]);
    expect(checkExpandedValues(FILES, { ...SCENARIOS.defaults!, auditRetentionDays: days + 1 })).toEqual([
      expect.objectContaining({
        check: 'bounds',
        message: expect.stringMatching(/defaultTtl = \d+, outside/) as string,
      }),
    ]);
  });
});
