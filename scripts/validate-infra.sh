#!/usr/bin/env bash
# Validates infra/ against Azure itself before a deployment (the tests in test/infra/ read the
# template offline). Deploys nothing.
#
#   1. `az bicep build`: the Bicep compiler's syntax and type checks and its linter.
#   2. `az deployment group what-if`: Azure Resource Manager validates the template for the
#      resource group (API versions, property values, role definitions, quotas, names already
#      taken...) and prints what a deployment would create or change.
#
# Parameters are those `azd up` passes: infra/main.parameters.json with its ${VARIABLE}
# references taken from the environment (azd: `set -a; eval "$(azd env get-values)"; set +a`).
# A variable that is unset or empty is left out, so the template's default applies.
#
# Usage: scripts/validate-infra.sh -g <resource group> [-e <environment name>] [-p name=value]...
#        npm run validate:infra -- -g rg-scep-prod -e scep-prod
set -euo pipefail

usage() {
  echo "usage: $0 -g <resource group> [-e <environment name>] [-p name=value]..." >&2
  exit 2
}

group=""
env_name="${AZURE_ENV_NAME:-}"
extra=()
while getopts "g:e:p:h" opt; do
  case "$opt" in
    g) group="$OPTARG" ;;
    e) env_name="$OPTARG" ;;
    p) extra+=("$OPTARG") ;;
    *) usage ;;
  esac
done
[ -n "$group" ] || usage
[ -n "$env_name" ] || { echo "$0: name the environment with -e (or AZURE_ENV_NAME)" >&2; exit 2; }
command -v az >/dev/null 2>&1 || { echo "$0: the Azure CLI (az) is not installed: https://aka.ms/azure-cli" >&2; exit 127; }
command -v node >/dev/null 2>&1 || { echo "$0: node is needed to read infra/main.parameters.json" >&2; exit 127; }

root="$(cd "$(dirname "$0")/.." && pwd)"
template="$root/infra/main.bicep"
# A folder, not `mktemp name.XXXXXX.json`: BSD mktemp (macOS) fills in only trailing X's.
workdir="$(mktemp -d "${TMPDIR:-/tmp}/scep-params.XXXXXX")"
params="$workdir/main.parameters.json"
trap 'rm -rf "$workdir"' EXIT

echo "== az bicep build ($template)"
az bicep build --file "$template" --stdout >/dev/null

# ${NAME} and ${NAME:-default}, as azd expands them; empty values are dropped.
AZURE_ENV_NAME="$env_name" node -e '
  const file = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const out = {};
  for (const [name, { value }] of Object.entries(file.parameters)) {
    const v = String(value).replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, n, d) => process.env[n] || d || "");
    if (v === "") continue;
    out[name] = { value: v === "true" ? true : v === "false" ? false : /^-?\d+$/.test(v) ? Number(v) : v };
  }
  process.stdout.write(JSON.stringify({ $schema: file.$schema, contentVersion: "1.0.0.0", parameters: out }));
' "$root/infra/main.parameters.json" >"$params"

# staticChallenge has no default: without SCEP_STATIC_CHALLENGE, what-if plans with '' (keep
# the secret in the vault; a first deployment would then create none). `${extra[@]+…}`: an empty
# array under `set -u` is an unbound variable to bash before 4.4 (macOS's /bin/bash is 3.2).
if ! grep -q '"staticChallenge"' "$params"; then extra=("staticChallenge=" ${extra[@]+"${extra[@]}"}); fi

echo "== az deployment group what-if (resource group $group, environment $env_name)"
az deployment group what-if \
  --resource-group "$group" \
  --template-file "$template" \
  --parameters "@$params" \
  ${extra[@]+"${extra[@]/#/--parameters=}"}
