import { describe, expect, it } from 'vitest';
import { allInstances, deploy, render } from '../helpers/bicep-eval.js';
import { decorator, parseBicep, parseExpression } from '../helpers/bicep-parse.js';

/** The Bicep reader behind test/infra: what it must understand, and what it must refuse. */

const RBAC = `
@minValue(40)
@maxValue(1000)
param count int = 100
param names array = ['a', 'b']
param on bool

resource store 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'st'
  resource svc 'queueServices' existing = {
    name: 'default'
  }
}

resource qs 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = [for q in names: {
  parent: store::svc
  name: q
}]

resource ra 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (q, i) in names: if (on && i > 0) {
    name: guid(qs[i].id)
    scope: qs[i]
    properties: { principalId: 'p', roleDefinitionId: (on
      ? 'x'
      : 'y') }
  }
]
`;

describe('Bicep reader', () => {
  it('ok/ reads decorators, nested and existing resources, loops with an index and a condition', () => {
    const sts = parseBicep(RBAC);
    expect(sts.map((s) => `${s.kind} ${s.name}${s.parent === undefined ? '' : ` < ${s.parent}`}`)).toEqual([
      'param count',
      'param names',
      'param on',
      'resource store',
      'resource svc < store',
      'resource qs',
      'resource ra',
    ]);
    expect(decorator(sts[0]!, 'minValue')).toEqual([{ k: 'num', v: 40 }]);
    expect(sts[5]?.existing).toBe(true);
  });

  it('ok/ expands loops, conditions and scopes the way ARM would', () => {
    const d = deploy({ 'main.bicep': RBAC }, 'main.bicep', { on: true });
    const ra = allInstances(d).filter((i) => i.symbol === 'ra');
    expect(ra.map((i) => i.active)).toEqual([false, true]);
    const queue = allInstances(d).find((i) => i.symbol === 'qs' && i.name === 'b');
    expect(queue?.type).toBe('Microsoft.Storage/storageAccounts/queueServices/queues');
    const svc = allInstances(d).find((i) => i.symbol === 'svc');
    expect(`${svc?.type}@${svc?.apiVersion}`).toBe(
      'Microsoft.Storage/storageAccounts/queueServices@2023-05-01',
    );
    expect(
      allInstances(deploy({ 'main.bicep': RBAC }, 'main.bicep', { on: false })).some(
        (i) => i.symbol === 'ra' && i.active,
      ),
    ).toBe(false);
  });

  it('ok/ passes module parameters down and reads outputs back', () => {
    const files = {
      'infra/main.bicep':
        "param n string = 'x'\nmodule m 'mod.bicep' = {\n  name: 'm'\n  params: { v: '${n}-1' }\n}\noutput o string = m.outputs.w",
      'infra/mod.bicep': "param v string\noutput w string = '${v}!'",
    };
    expect(deploy(files, 'infra/main.bicep', {}).output('o')).toBe('x-1!');
  });

  it('ok/ keeps what only Azure knows symbolic', () => {
    expect(
      render(
        deploy({ 'm.bicep': 'var g = guid(resourceGroup().id)\noutput o string = g' }, 'm.bicep', {}).output(
          'o',
        ),
      ),
    ).toBe('guid(resourceGroup().id)');
  });

  it.each([
    ["var a = 'open", /unterminated string/],
    ['type t = string', /unsupported statement "type"/],
    ['var a = { b: 1 ', /unexpected end/],
    ['var a = 1 2', /unexpected "2"/],
  ])('fail/ refuses what it does not understand: %s', (src, error) => {
    expect(() => parseBicep(src)).toThrow(error);
  });

  it('fail/ refuses a function it does not model, instead of guessing its value', () => {
    expect(() =>
      deploy({ 'm.bicep': 'output o string = dateTimeAdd(utcNow(), 1)' }, 'm.bicep', {}).output('o'),
    ).toThrow(/function utcNow\(\) is not modelled/);
  });

  it('ok/ parses operators by precedence', () => {
    expect(parseExpression('!a && b || c == d')).toMatchObject({
      k: 'bin',
      op: '||',
      l: { k: 'bin', op: '&&' },
    });
  });
});
