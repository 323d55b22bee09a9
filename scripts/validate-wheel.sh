#!/usr/bin/env bash
# Build promolint's wheel with maturin, install it into a fresh virtual environment and run
# it: `promolint --version` must name Cargo.toml's version, and `promolint check` on the
# fixture repository fixtures/flux-image-lab must exit 1 with exactly the findings of the
# binary cargo builds.
#
#   WHEEL_DIR         where the wheel goes (default: target/wheels); kept for the python
#                     pre-commit hook test (scripts/precommit-try-repo.sh)
#   WHEEL_PROFILE     the cargo profile maturin builds (default: dev, which reuses the
#                     dependencies `cargo build` compiled; the release workflow builds
#                     `release`: same code, optimised)
#   MATURIN, PYTHON   the tools (default: maturin and python3 on PATH)
#   PROMOLINT         the binary to compare with (default: target/debug/promolint)
#
# Needs maturin (`pip install maturin`) and python3. Exit 0 when the wheel installs and runs.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
maturin="${MATURIN:-maturin}"
python="${PYTHON:-python3}"
profile="${WHEEL_PROFILE:-dev}"
wheels="${WHEEL_DIR:-$repo/target/wheels}"
reference="${PROMOLINT:-${CARGO_TARGET_DIR:-$repo/target}/debug/promolint}"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"

fail() {
  echo "validate-wheel: FAIL: $1" >&2
  exit 1
}
command -v "$maturin" >/dev/null 2>&1 || fail "maturin is required (pip install maturin)"
[ -x "$reference" ] || cargo build --locked --quiet --bin promolint

echo "== maturin build --profile $profile"
rm -f "$wheels"/promolint-*.whl
t0=$(date +%s.%N)
"$maturin" build --quiet --locked --profile "$profile" --out "$wheels" >"$wheels.log" 2>&1 ||
  { cat "$wheels.log" >&2; fail "maturin build failed"; }
t1=$(date +%s.%N)
wheel="$(ls "$wheels"/promolint-"$version"-*.whl 2>/dev/null | head -n 1)"
[ -n "$wheel" ] || fail "no promolint-$version wheel in $wheels"
# A binary wheel: one per platform, for every Python 3 (no CPython ABI tag).
case "$(basename "$wheel")" in
  promolint-"$version"-py3-none-*.whl) ;;
  *) fail "unexpected wheel tags: $(basename "$wheel")" ;;
esac
printf '   %s (%s KiB) in %.1f s\n' "$(basename "$wheel")" "$(($(wc -c <"$wheel") / 1024))" \
  "$(awk "BEGIN { print $t1 - $t0 }")"

echo "== pip install into a fresh virtual environment"
venv="$(mktemp -d "${TMPDIR:-/tmp}/promolint-wheel-venv.XXXXXX")"
trap 'rm -rf "$venv"' EXIT
"$python" -m venv "$venv"
t0=$(date +%s.%N)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
t1=$(date +%s.%N)
printf '   installed in %.1f s\n' "$(awk "BEGIN { print $t1 - $t0 }")"
installed="$venv/bin/promolint"
[ -x "$installed" ] || fail "the wheel installed no promolint executable"

echo "== promolint --version"
out="$("$installed" --version)"
[ "$out" = "promolint $version" ] || fail "--version printed '$out', not 'promolint $version'"
echo "   $out"

echo "== promolint check on fixtures/flux-image-lab"
status=0
NO_COLOR=1 "$installed" check -C fixtures/flux-image-lab --format json >"$venv/wheel.json" 2>"$venv/wheel.err" || status=$?
[ "$status" = 1 ] || { cat "$venv/wheel.err" >&2; fail "check exited $status, not 1 (the fixture has errors on purpose)"; }
grep -q '"rule": "PL001"' "$venv/wheel.json" || fail "check found no PL001 in the fixture"
expected=0
NO_COLOR=1 "$reference" check -C fixtures/flux-image-lab --format json >"$venv/cargo.json" 2>/dev/null || expected=$?
[ "$expected" = 1 ] || fail "the reference binary exited $expected"
cmp -s "$venv/wheel.json" "$venv/cargo.json" ||
  { diff "$venv/cargo.json" "$venv/wheel.json" | head -n 20 >&2; fail "the wheel's findings differ from cargo's binary"; }
findings="$(grep -c '"rule": "PL' "$venv/wheel.json")"
echo "   exit 1, $findings findings, the same JSON as $(basename "$reference") built by cargo"
echo "validate-wheel: OK"
