#!/usr/bin/env bash
# Seed corpora for the fuzz targets from the repository's fixtures (fuzz/corpus is not
# committed). Each seed carries the leading selector byte its target expects.
set -euo pipefail
cd "$(dirname "$0")"
root=..
rm -rf corpus
mkdir -p corpus/{yaml,hcl,envfile,config,policy,dispatch}

# seed TARGET NAME SELECTOR FILE: the selector byte (decimal), then the file.
seed() {
  local target=$1 name=$2 selector=$3 file=$4
  { printf "\\$(printf '%03o' "$selector")"; cat "$file"; } >"corpus/$target/$name"
}

n=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  case "$f" in
    *kustomization.yaml) seed yaml "k$n" 1 "$f"; seed dispatch "d$n" 1 "$f" ;;
    *.yaml | *.yml) seed yaml "y$n" 0 "$f"; seed dispatch "d$n" 0 "$f" ;;
    *.pkrvars.hcl) seed hcl "h$n" 3 "$f"; seed dispatch "d$n" 7 "$f" ;;
    *.pkr.hcl) seed hcl "h$n" 2 "$f"; seed dispatch "d$n" 6 "$f" ;;
    *.tfvars) seed hcl "h$n" 1 "$f"; seed dispatch "d$n" 5 "$f" ;;
    *.tf | *.hcl) seed hcl "h$n" 0 "$f"; seed dispatch "d$n" 3 "$f" ;;
    *.env) cp "$f" "corpus/envfile/e$n"; seed dispatch "d$n" 8 "$f" ;;
    *renovate.json5) seed dispatch "d$n" 10 "$f" ;;
    *renovate.json) seed dispatch "d$n" 9 "$f" ;;
  esac
done < <(find "$root/fixtures" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.tf' \
  -o -name '*.hcl' -o -name '*.tfvars' -o -name '*.env' -o -name 'renovate.json*' \) -print0)

# Configs: the fixtures' and the documented example (the first yaml block of
# docs/configuration.md).
i=0
while IFS= read -r -d '' f; do
  i=$((i + 1))
  cp "$f" "corpus/config/c$i"
done < <(find "$root/fixtures" -name '.promolint.yaml' -print0)
awk '/^```yaml/{on=1; next} /^```/{if(on){exit}} on' "$root/docs/configuration.md" >corpus/config/documented

# Policies: every filterTags pattern of the fixtures, each with a few flag bytes
# (order, protected, environment) and its `extract`.
j=0
grep -rhoE "pattern: '[^']*'" "$root/fixtures" | sed -E "s/^pattern: '(.*)'$/\\1/" | sort -u |
  while IFS= read -r pattern; do
    for flags in 1 2 14 35; do
      j=$((j + 1))
      { printf "\\$(printf '%03o' "$flags")"; printf '%s\n$ts\n>=1.0.0' "$pattern"; } >"corpus/policy/p$j"
    done
  done

for t in corpus/*; do echo "$t: $(ls "$t" | wc -l) seeds"; done
