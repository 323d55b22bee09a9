#!/usr/bin/env bash
# Render the pre-commit hook repository that installs promolint's prebuilt wheel
# (language: python) from pre-commit-mirror/ into DIR, for VERSION (default: the version
# of Cargo.toml), and commit it there as tag vVERSION.
#
#   scripts/pre-commit-mirror.sh DIR [VERSION]
#
# DIR is created as a Git repository when it is not one; in an existing clone of the hook
# repository the files are replaced and committed on top. The release workflow runs this
# against a clone of promolint/promolint-pre-commit and pushes the result; `.ci/run` runs it
# into a temporary directory and points `pre-commit try-repo` at it, with the locally built
# wheel offered through PIP_FIND_LINKS.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/pre-commit-mirror.sh DIR [VERSION]}"
version="${2:-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n 1)}"
case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "pre-commit-mirror: not a version: '$version'" >&2; exit 2 ;;
esac
case "$version" in
  *[!0-9A-Za-z.+-]*) echo "pre-commit-mirror: not a version: '$version'" >&2; exit 2 ;;
esac

mkdir -p "$out"
for f in pyproject.toml .pre-commit-hooks.yaml README.md; do
  sed -e "s/^version = \".*\"$/version = \"$version\"/" \
      -e "s/\"promolint==[^\"]*\"/\"promolint==$version\"/" \
      -e "s/^    rev: v.*$/    rev: v$version/" \
      "$repo/pre-commit-mirror/$f" >"$out/$f"
done
grep -q "^version = \"$version\"$" "$out/pyproject.toml" &&
  grep -q "\"promolint==$version\"" "$out/pyproject.toml" || {
  echo "pre-commit-mirror: pre-commit-mirror/pyproject.toml lost its version or pin" >&2
  exit 1
}

g() {
  git -C "$out" -c user.name="${GIT_AUTHOR_NAME:-promolint release}" \
    -c user.email="${GIT_AUTHOR_EMAIL:-release@promolint.invalid}" \
    -c commit.gpgsign=false -c tag.gpgsign=false -c init.defaultBranch=main "$@"
}
[ -d "$out/.git" ] || g init -q
g add pyproject.toml .pre-commit-hooks.yaml README.md
if ! g diff --cached --quiet || ! g rev-parse -q --verify HEAD >/dev/null; then
  g commit -q -m "promolint $version"
fi
g tag -f "v$version" >/dev/null
echo "pre-commit-mirror: $out at v$version ($(g rev-parse --short HEAD))"
