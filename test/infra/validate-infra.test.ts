import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './files.js';

/**
 * scripts/validate-infra.sh drives the Azure CLI; here a stand-in `az` on PATH records each
 * call (and the parameters file what-if receives) instead of calling Azure.
 */

const dir = mkdtempSync(join(tmpdir(), 'validate-infra-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const log = join(dir, 'az.log');
const FAKE_AZ = `#!/usr/bin/env bash
echo "az $*" >> "${log}"
for a in "$@"; do case "$a" in @*) cat "\${a#@}" >> "${log}"; echo >> "${log}";; esac; done
[ "$1 $2" != "bicep build" ] || [ -z "$FAIL_BUILD" ] || { echo "main.bicep(1,1) : Error BCP007" >&2; exit 1; }
`;
writeFileSync(join(dir, 'az'), FAKE_AZ);
chmodSync(join(dir, 'az'), 0o755);

function run(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; out: string; calls: string } {
  rmSync(log, { force: true });
  const r = spawnSync('bash', [join(ROOT, 'scripts/validate-infra.sh'), ...args], {
    encoding: 'utf8',
    env: { PATH: `${dir}:${process.env.PATH ?? ''}`, HOME: dir, ...env },
  });
  let calls = '';
  try {
    calls = readFileSync(log, 'utf8');
  } catch {
    // no call made
  }
  return { status: r.status, out: r.stdout + r.stderr, calls };
}

describe('scripts/validate-infra.sh', () => {
  it('builds the Bicep template, then runs what-if for the resource group with the azd parameters', () => {
    const r = run(['-g', 'rg-scep', '-e', 'scep-prod'], {
      SCEP_STATIC_CHALLENGE: 'c-123456789',
      SCEP_INTUNE_ENABLED: 'true',
    });
    expect(r.status, r.out).toBe(0);
    const lines = r.calls.split('\n');
    expect(lines[0]).toBe(`az bicep build --file ${join(ROOT, 'infra/main.bicep')} --stdout`);
    expect(lines[1]).toMatch(
      new RegExp(
        `^az deployment group what-if --resource-group rg-scep --template-file ${join(ROOT, 'infra/main.bicep')} --parameters @`,
      ),
    );
    const params = (JSON.parse(lines[2]!) as { parameters: Record<string, { value: unknown }> }).parameters;
    expect(params.environmentName).toEqual({ value: 'scep-prod' });
    expect(params.staticChallenge).toEqual({ value: 'c-123456789' });
    expect(params.intuneEnabled).toEqual({ value: true });
    expect(params.keyType).toEqual({ value: 'RSA-HSM' }); // ${SCEP_KEY_TYPE:-RSA-HSM}
    expect(params.bootstrapPrincipalType).toEqual({ value: 'User' });
    expect(params).not.toHaveProperty('maximumInstanceCount'); // unset: the template's default
  });

  it("plans with staticChallenge empty (keep the vault's secret) when none is given, and passes -p overrides", () => {
    const r = run(['-g', 'rg', '-e', 'e', '-p', 'maximumInstanceCount=40']);
    expect(r.status, r.out).toBe(0);
    expect(r.calls).toMatch(/--parameters=staticChallenge= --parameters=maximumInstanceCount=40$/m);
  });

  it('plans with staticChallenge empty when neither a challenge nor a -p is given (an empty array under set -u)', () => {
    const r = run(['-g', 'rg', '-e', 'e']);
    expect(r.status, r.out).toBe(0);
    expect(r.calls).toMatch(/--parameters @\S+ --parameters=staticChallenge=$/m);
  });

  it('writes the parameters file in a folder of its own under TMPDIR, named .json, and removes it', () => {
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const r = run(['-g', 'rg', '-e', 'e'], { TMPDIR: tmp });
    expect(r.status, r.out).toBe(0);
    const file = /--parameters @(\S+)/.exec(r.calls)?.[1] ?? '';
    expect(file).toMatch(new RegExp(`^${tmp}/scep-params\\.\\w{6}/main\\.parameters\\.json$`));
    expect(file).not.toContain('XXXXXX');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('fail/ stops before what-if when the Bicep build fails', () => {
    const r = run(['-g', 'rg', '-e', 'e'], { FAIL_BUILD: '1' });
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/BCP007/);
    expect(r.calls).not.toMatch(/what-if/);
  });

  it('fail/ refuses to run without a resource group or an environment name', () => {
    expect(run(['-e', 'e']).out).toMatch(/usage: .* -g <resource group>/);
    expect(run(['-g', 'rg'])).toMatchObject({ status: 2, calls: '' });
  });
});
