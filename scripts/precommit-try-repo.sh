#!/usr/bin/env bash
# A real `pre-commit try-repo` of promolint's `promolint` hook in a fixture repository
# shaped like a golden-image flow (Packer image → Terraform pin per environment):
#
#   1. a staged `lxc_rootfs_version = "latest"` in prod must be refused, naming PL001;
#   2. a staged clean promotion (prod v5 → v6, which dev already runs) must pass.
#
# PROMOLINT_HOOK_LANGUAGE chooses the hook:
#
#   rust (default)  this repository's hook. pre-commit's `rust` language builds it with
#                     cargo install --bins --root <env> --path .
#                   in its own clone of this repository, without `--locked`: the build
#                   resolves the newest semver-compatible dependencies, exactly as a user's
#                   first `git commit` would. Each try-repo uses a fresh pre-commit store, so
#                   that build happens twice. To keep it fast enough for CI:
#                     - CARGO_TARGET_DIR points at a directory kept between runs
#                       (PROMOLINT_TRY_REPO_TARGET, default target/pre-commit-try-repo), so
#                       dependencies compile once;
#                     - unless PROMOLINT_TRY_REPO_FAST=0, the release profile is built
#                       without optimisation or LTO (CARGO_PROFILE_RELEASE_* variables): the
#                       hook's behaviour is the same, the build a few times faster. Variables
#                       already set in the environment win.
#   python          the hook repository that installs the prebuilt wheel (pre-commit-mirror/,
#                   rendered by scripts/pre-commit-mirror.sh): pre-commit's `python` language
#                   runs `pip install .` in it, which pins `promolint==VERSION`. Set
#                   PROMOLINT_WHEEL_DIR to a directory holding that wheel (`maturin build
#                   --out DIR`); pip finds it there (PIP_FIND_LINKS) instead of on PyPI. The
#                   store starts empty, so the timing is "from nothing to a refused commit".
#
# Needs: git, pre-commit (`pip install pre-commit`); cargo for rust. Exit 0 when both cases
# behave.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
started=$SECONDS

language="${PROMOLINT_HOOK_LANGUAGE:-rust}"
case "$language" in
  rust) tools=(git cargo pre-commit) ;;
  python) tools=(git pre-commit) ;;
  *) echo "precommit-try-repo: PROMOLINT_HOOK_LANGUAGE must be rust or python" >&2; exit 2 ;;
esac
for tool in "${tools[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "precommit-try-repo: \`$tool\` is required (pre-commit: pip install pre-commit)" >&2
    exit 2
  fi
done

if [ "$language" = rust ]; then
  export CARGO_TARGET_DIR="${PROMOLINT_TRY_REPO_TARGET:-$repo/target/pre-commit-try-repo}"
  if [ "${PROMOLINT_TRY_REPO_FAST:-1}" != 0 ]; then
    export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-0}"
    export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-false}"
    export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-256}"
    export CARGO_PROFILE_RELEASE_DEBUG="${CARGO_PROFILE_RELEASE_DEBUG:-false}"
    export CARGO_PROFILE_RELEASE_INCREMENTAL="${CARGO_PROFILE_RELEASE_INCREMENTAL:-true}"
  fi
fi
# pre-commit must not pick up a config or cache of the caller's.
[ "$language" = python ] || unset PRE_COMMIT_HOME
unset PRE_COMMIT_COLOR SKIP 2>/dev/null || true
export PRE_COMMIT_COLOR=never

work="$(mktemp -d "${TMPDIR:-/tmp}/promolint-try-repo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
fixture="$work/golden-image"

hooks="$repo"
if [ "$language" = python ]; then
  wheels="${PROMOLINT_WHEEL_DIR:?PROMOLINT_HOOK_LANGUAGE=python needs PROMOLINT_WHEEL_DIR (a directory with the promolint wheel)}"
  wheels="$(cd "$wheels" && pwd)"
  ls "$wheels"/promolint-*.whl >/dev/null 2>&1 || {
    echo "precommit-try-repo: no promolint wheel in $wheels" >&2
    exit 2
  }
  hooks="$work/promolint-pre-commit"
  bash "$repo/scripts/pre-commit-mirror.sh" "$hooks" | sed 's/^/   /'
  # The pinned promolint comes from the local wheel; the hook package's build backend
  # (setuptools) from the index as usual. An empty store: nothing cached from earlier runs.
  export PIP_FIND_LINKS="$wheels"
  export PRE_COMMIT_HOME="$work/pre-commit-home"
fi

g() {
  git -C "$fixture" -c user.name=promolint-ci -c user.email=ci@promolint.invalid \
    -c commit.gpgsign=false -c init.defaultBranch=main "$@"
}

write() { # write PATH  (contents on stdin)
  mkdir -p "$(dirname "$fixture/$1")"
  cat >"$fixture/$1"
}

env_main_tf() { # env_main_tf ENV VERSION
  cat <<EOF
# $1. The golden image is pinned here and nowhere else.
locals {
  env                = "$1"
  lxc_rootfs_version = "$2"
}

resource "proxmox_lxc" "app" {
  target_node = "proxmox1"
  hostname    = "$1-app-1"
  ostemplate  = "pve-nfs:vztmpl/ubuntu-24.04-lxc-rootfs-\${local.lxc_rootfs_version}.tar.gz"
}
EOF
}

echo "== fixture repository: $fixture"
mkdir -p "$fixture"
g init -q
env_main_tf dev v6 | write fabric-core/terraform/envs/kestrel-dev/main.tf
env_main_tf prod v5 | write fabric-core/terraform/envs/kestrel-prod/main.tf
for v in 5 6; do
  printf 'rootfs v%s\n' "$v" |
    write "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v$v.tar.gz"
done
printf '# golden image flow (fixture)\n' | write README.md
g add -A
g commit -q -m "dev runs v6, prod runs v5"

# try_repo LOG: run the hook on what is staged; prints pre-commit's output, returns its status.
try_repo() {
  local log="$1" t0=$SECONDS status=0
  (cd "$fixture" && pre-commit try-repo "$hooks" promolint --verbose) >"$log" 2>&1 || status=$?
  echo "   (pre-commit try-repo took $((SECONDS - t0)) s, exit $status)"
  return "$status"
}

fail() {
  echo "precommit-try-repo: FAIL: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    echo "---- pre-commit output ----" >&2
    cat "$2" >&2
    echo "---------------------------" >&2
  fi
  exit 1
}

echo "== 1. a staged \"latest\" in prod must be refused"
env_main_tf prod latest | write fabric-core/terraform/envs/kestrel-prod/main.tf
g add fabric-core/terraform/envs/kestrel-prod/main.tf
if try_repo "$work/blocked.log"; then
  fail "the hook passed a staged \"latest\" in prod" "$work/blocked.log"
fi
grep -q "PL001" "$work/blocked.log" ||
  fail "the hook failed without naming PL001" "$work/blocked.log"
grep -Eq "promolint \(staged change\)\.+Failed" "$work/blocked.log" ||
  fail "pre-commit did not report the promolint hook as Failed" "$work/blocked.log"
grep -E "PL001|^error|-->" "$work/blocked.log" | head -n 8 | sed 's/^/   | /'

echo "== 2. a staged clean promotion (prod v5 → v6, run in dev first) must pass"
g reset -q --hard
env_main_tf prod v6 | write fabric-core/terraform/envs/kestrel-prod/main.tf
g add fabric-core/terraform/envs/kestrel-prod/main.tf
if ! try_repo "$work/clean.log"; then
  fail "the hook refused a clean promotion" "$work/clean.log"
fi
grep -Eq "promolint \(staged change\)\.+Passed" "$work/clean.log" ||
  fail "the promolint hook did not run and pass (skipped?)" "$work/clean.log"

echo "precommit-try-repo ($language hook): OK: refused \"latest\" in prod (PL001), passed a clean promotion ($((SECONDS - started)) s)"
