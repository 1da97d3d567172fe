import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stage } from '../../scripts/bundle.js';
import { bicepParams, scanBicep, unbalanced } from '../helpers/bicep.js';
import { infraFiles, read, ROOT } from './files.js';

/**
 * Static checks of the .bicep text and of the azd wiring (azure.yaml, main.parameters.json)
 * that need no expansion of the template (test/infra/template.test.ts expands it).
 */

const INFRA_FILES = Object.keys(infraFiles()).filter((f) => f.endsWith('.bicep'));
const bicep = (f: string): string => scanBicep(read(f));
const MAIN = bicep('infra/main.bicep');
const FUNCTION_APP = bicep('infra/modules/functionapp.bicep');
const ALL_INFRA = INFRA_FILES.map(bicep).join('\n');

describe('Bicep static checks', () => {
  it.each(INFRA_FILES)('%s: braces, brackets and parentheses pair up', (f) => {
    expect(unbalanced(scanBicep(read(f), true))).toBeUndefined();
  });

  it.each(INFRA_FILES)('%s: every module path exists', (f) => {
    for (const m of bicep(f).matchAll(/^module\s+\w+\s+'([^']+)'/gm)) {
      if (!/^(br|ts)[:/]/.test(m[1]!)) expect(existsSync(join(ROOT, dirname(f), m[1]!)), m[1]).toBe(true);
    }
  });

  it.each(INFRA_FILES)('%s: every parameter is used', (f) => {
    const c = bicep(f);
    for (const { name } of bicepParams(c)) {
      const uses = [...c.matchAll(new RegExp(`\\b${name}\\b`, 'g'))].filter((m) => {
        const before = c.slice(0, m.index);
        return !/param\s+$/.test(before) && !/(^|[{,])\s*$/.test(before.slice(-40).replace(/.*\n/s, '\n'));
      });
      expect(uses.length, `${f}: param ${name}`).toBeGreaterThan(0);
    }
  });

  it('main.parameters.json holds no secret and names only parameters of main.bicep', () => {
    const params = bicepParams(MAIN);
    const file = JSON.parse(read('infra/main.parameters.json')) as {
      parameters: Record<string, { value?: unknown }>;
    };
    for (const [name, { value }] of Object.entries(file.parameters)) {
      const p = params.find((x) => x.name === name);
      expect(p, `${name} is a parameter of main.bicep`).toBeDefined();
      const ref = /^\$\{([A-Z0-9_]+)(?::-(.*))?\}$/.exec(String(value));
      expect(ref, `${name}: an azd \${VARIABLE} reference, not a value`).not.toBeNull();
      const fallback = ref?.[2];
      if (fallback !== undefined) {
        expect(p?.decorators, `${name}: a secure parameter has no value in the file`).not.toMatch(
          /@secure\(\)/,
        );
        expect(p?.defaultValue, `${name}: the same default in main.bicep`).toBe(`'${fallback}'`);
      } else if (p?.defaultValue !== undefined && /^'.+'$/.test(p.defaultValue)) {
        // azd passes an unset variable as '' and '' replaces a non-empty string default.
        expect.fail(`${name}: write \${VARIABLE:-default} so an unset variable keeps ${p.defaultValue}`);
      }
    }
  });

  it('main.parameters.json or azd metadata supplies every parameter without a default', () => {
    const file = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, unknown> };
    const unsupplied = bicepParams(MAIN).filter(
      (p) =>
        p.defaultValue === undefined &&
        !(p.name in file.parameters) &&
        !/type\s*:\s*'generate'/.test(p.decorators),
    );
    expect(unsupplied.map((p) => p.name)).toEqual([]);
  });

  it('uses no account keys: local auth is off on Cosmos DB, Storage and Application Insights', () => {
    expect(ALL_INFRA).not.toMatch(/\b(listKeys|listConnectionStrings|listAccountSas)\s*\(|AccountKey=/);
    expect(bicep('infra/modules/cosmos.bicep')).toMatch(/disableLocalAuth\s*:\s*true/);
    expect(bicep('infra/modules/storage.bicep')).toMatch(/allowSharedKeyAccess\s*:\s*false/);
    expect(bicep('infra/modules/monitoring.bicep')).toMatch(/DisableLocalAuth\s*:\s*true/);
  });

  it('Key Vault: RBAC authorization, soft delete, purge protection, premium only for RSA-HSM', () => {
    const kv = bicep('infra/modules/keyvault.bicep');
    expect(kv).toMatch(/enableRbacAuthorization\s*:\s*true/);
    expect(kv).toMatch(/enableSoftDelete\s*:\s*true/);
    expect(kv).toMatch(/enablePurgeProtection\s*:\s*true/);
    expect(kv).toMatch(/keyType\s*==\s*'RSA-HSM'\s*\?\s*'premium'\s*:\s*'standard'/);
  });

  it('ok/ and fail/ cases of the checker itself', () => {
    expect(unbalanced(scanBicep("var a = { b: '}' } // }", true))).toBeUndefined();
    expect(unbalanced(scanBicep('var a = { b: [1, 2 }', true))).toMatch(/unexpected "}"/);
    expect(unbalanced(scanBicep('var a = {\n', true))).toMatch(/never closed/);
    expect(scanBicep("var a = 'x // y' // note")).toBe("var a = 'x // y'        ");
    expect(
      bicepParams('@secure()\n@metadata({\n  a: 1\n})\nparam s string\nparam t int = 1').map(
        (p) => p.defaultValue,
      ),
    ).toEqual([undefined, '1']);
  });
});

describe('deploy package (azure.yaml + scripts/bundle.ts)', () => {
  it('deploys the folder the bundle script stages, after building it', () => {
    const yaml = read('azure.yaml');
    expect(yaml).toMatch(/^\s+host:\s*function\s*$/m);
    expect(yaml).toMatch(/^\s+dist:\s*dist\/deploy\s*$/m);
    expect(yaml).toMatch(/run:\s*npm run build && node dist\/scripts\/bundle\.js/);
    expect(FUNCTION_APP).toMatch(/'azd-service-name'\s*:\s*'api'/);
    expect(yaml).toMatch(/^\s{2}api:\s*$/m);
  });

  it('refuses to stage a tree without functions/ (the bundle itself is tested in deploy-bundle.test.ts)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'scep-stage-'));
    try {
      await expect(stage(root)).rejects.toThrow(/functions/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses to stage a function that imports testkit/ (test-only code never ships)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'scep-stage-'));
    try {
      mkdirSync(join(root, 'functions'));
      mkdirSync(join(root, 'testkit'));
      writeFileSync(join(root, 'testkit', 'client.ts'), 'export const client = 1;\n');
      writeFileSync(
        join(root, 'functions', 'f.ts'),
        "import { client } from '../testkit/client.js';\nconsole.log(client);\n",
      );
      await expect(stage(root)).rejects.toThrow(/test code: testkit\/client\.ts/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
