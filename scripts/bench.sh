#!/usr/bin/env bash
# promolint benchmark (issue 5): generates the corpus if missing, builds promolint in
# release, measures it side by side with ripgrep, git, Checkov and Semgrep, and writes the
# tables into docs/performance.md (between the `bench:begin` / `bench:end` markers).
#
#   scripts/bench.sh [options]
#     --sizes LIST         repository sizes for the scaling table (default: 20k; e.g. 5k,20k,80k)
#     --history LIST       history lengths for the history-length table (default: none; e.g. 1000,5000,20000)
#     --commits N          commits of the main corpus (default 5000)
#     --seed N             corpus seed (default 1)
#     --runs N             timed runs per command after one warm-up (default 5; slow commands use fewer)
#     --timeout S          limit for one run of a command that may not finish (default 600)
#     --scale-timeout S    the same limit for the sizes other than 20k (default 120)
#     --no-peers           skip Checkov/Semgrep
#     --out FILE           where to write the tables (default docs/performance.md)
#
# Tools: hyperfine, rg, GNU time (/usr/bin/time), git, python3 (to read hyperfine's JSON);
# Checkov and Semgrep from a venv under $TARGET/bench-venv (created with pip on first use)
# or from PATH. The peers run inside `unshare -n` (no network at all) when it is
# available, and with their offline flags in any case.
#
# Corpora are cached under ${CARGO_TARGET_DIR:-target}/bench-corpus/ (BENCH_CORPUS_DIR
# overrides); delete a corpus directory to regenerate it.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
CORPORA=${BENCH_CORPUS_DIR:-$TARGET/bench-corpus}
SIZES=20k
HISTORY=""
COMMITS=5000
SEED=1
RUNS=5
TIMEOUT=600
SCALE_TIMEOUT=120
PEERS=1
OUT=$ROOT/docs/performance.md

while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES=$2; shift 2 ;;
    --history) HISTORY=$2; shift 2 ;;
    --commits) COMMITS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --scale-timeout) SCALE_TIMEOUT=$2; shift 2 ;;
    --no-peers) PEERS=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

for tool in hyperfine rg git python3 timeout; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing (apt-get install -y ripgrep hyperfine time)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench.sh: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }

mkdir -p "$CORPORA"
WORK=$CORPORA/.run
rm -rf "$WORK"; mkdir -p "$WORK"
LOG=$WORK/bench.log
say() { echo "[bench $(date +%H:%M:%S)] $*" | tee -a "$LOG" >&2; }

# ---------------------------------------------------------------------------------------
say "building promolint and the corpus generator (release)"
(cd "$ROOT" && cargo build --release --quiet --bin promolint --example gen_corpus)
PL=$TARGET/release/promolint
GEN=$TARGET/release/examples/gen_corpus

apps_for() { # files → applications (~22.9 files per application, 15 shared files)
  case "$1" in
    *k) echo $(( (${1%k} * 1000 - 15) * 10 / 229 )) ;;
    *) echo $(( ($1 - 15) * 10 / 229 )) ;;
  esac
}

corpus() { # apps commits → path (generated once, then cached)
  local dir=$CORPORA/a$1-c$2-s$SEED
  if [ ! -d "$dir/.git" ] || [ ! -f "$dir.done" ]; then
    say "generating corpus: $1 apps, $2 commits → $dir"
    "$GEN" --apps "$1" --commits "$2" --seed "$SEED" --peers 2000 --force "$dir" 2>>"$LOG"
    touch "$dir.done"
  fi
  echo "$dir"
}

# hyperfine JSON → "median_s user_s sys_s" per command, in order.
hf_stats() {
  python3 - "$1" <<'EOF'
import json, statistics, sys
for r in json.load(open(sys.argv[1]))["results"]:
    times = r["times"]
    print(f'{statistics.median(times):.6f} {r["user"]:.6f} {r["system"]:.6f} {len(times)}')
EOF
}

# bench NAME RUNS WARMUP CMD... : hyperfine; leaves $WORK/NAME.json; prints stats lines.
bench() {
  local name=$1 runs=$2 warmup=$3; shift 3
  say "hyperfine $name: $*"
  hyperfine -N -i --style none --runs "$runs" --warmup "$warmup" \
    --export-json "$WORK/$name.json" "$@" >>"$LOG" 2>&1 || true
  hf_stats "$WORK/$name.json"
}

# peak RSS (KiB) and wall seconds of one run, with a time limit; "timeout" if it hit it.
peak() { # DIR CMD...
  local dir=$1; shift
  local f=$WORK/time.$$ limit=${LIMIT:-$TIMEOUT}
  local rc=0
  (cd "$dir" && /usr/bin/time -f '%M %e %U %S' -o "$f" timeout "$limit" "$@" >/dev/null 2>>"$LOG") || rc=$?
  local m e u s
  read -r m e u s < <(tail -1 "$f")  # GNU time puts "Command exited with…" first
  if [ "$rc" = 124 ]; then echo "$m $e $u $s timeout"; else echo "$m $e $u $s ok"; fi
}

fmt_s() { python3 -c "import sys; v=float(sys.argv[1]); print(f'{v*1000:.1f} ms' if v < 1 else f'{v:.2f} s')" "$1"; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.1f}×' if b>0 else 'n/a')" "$1" "$2"; }
mib() { python3 -c "import sys; print(f'{int(sys.argv[1])/1024:.0f} MiB')" "$1"; }

ROWS=$WORK/rows.md      # main table
SCALE=$WORK/scale.md    # scaling table
HIST=$WORK/history.md   # history-length table
: >"$ROWS"; : >"$SCALE"; : >"$HIST"
row() { echo "| $* |" >>"$ROWS"; }

# ---------------------------------------------------------------------------------------
# Stage 3 files in a corpus: a dev version bump (a file with facts), a README, a ConfigMap patch.
stage3() {
  local dir=$1
  (cd "$dir" && git reset -q --hard && {
    local k; k=$(grep -l 'newTag:' apps/*/dev/kustomization.yaml | head -1)
    sed -i -E 's/(newTag: [^ ]*v[0-9]+\.[0-9]+\.)[0-9]+/\1999/' "$k"
    local a; a=$(dirname "$(dirname "$k")")
    echo "Staged for the benchmark." >>"$a/README.md"
    sed -i 's/LOG_LEVEL: debug/LOG_LEVEL: info/' "$a/dev/configmap-patch.yaml"
    git add "$k" "$a/README.md" "$a/dev/configmap-patch.yaml"
    git diff --cached --name-only | wc -l
  })
}

# The full set of figures on one corpus. Arguments: dir label main(1|0).
measure() {
  local dir=$1 label=$2 main=$3
  # The main size gets every run; the other sizes of the scaling table fewer.
  local runs=$RUNS hruns=3 hwarm=1 LIMIT=$TIMEOUT
  if [ "$main" != 1 ]; then runs=3; hruns=1; hwarm=0; LIMIT=$SCALE_TIMEOUT; fi
  local files; files=$(git -C "$dir" ls-files | wc -l)
  local commits; commits=$(git -C "$dir" rev-list --count HEAD)
  local mb; mb=$(du -sm --exclude=.git "$dir" | cut -f1)
  say "measuring $label: $files files, $commits commits, ${mb} MiB"

  # check vs rg
  # `check` reads the pin ledger and the fact store in .git/promolint (written by the warm-up); `--no-cache`
  # is the first run in a fresh clone: the whole history walked and parsed.
  local s; s=$(bench "check-$label" "$runs" 1 \
    -n promolint-check "$PL -C $dir check -q" \
    -n rg "rg -c -e image -e tag -e version $dir" \
    -n promolint-check-no-cache "$PL -C $dir check -q --no-cache")
  local c_med c_u c_s r_med r_u r_s cc_med cc_u cc_s
  read -r c_med c_u c_s _ <<<"$(sed -n 1p <<<"$s")"
  read -r r_med r_u r_s _ <<<"$(sed -n 2p <<<"$s")"
  read -r cc_med cc_u cc_s _ <<<"$(sed -n 3p <<<"$s")"

  # staged (3 files) vs git diff --cached
  local n; n=$(stage3 "$dir")
  s=$(bench "staged-$label" "$runs" 1 \
    -n promolint-staged "$PL -C $dir staged -q" \
    -n git-diff-cached "git -C $dir diff --cached --name-only")
  git -C "$dir" reset -q --hard
  local st_med st_u st_s g_med
  read -r st_med st_u st_s _ <<<"$(sed -n 1p <<<"$s")"
  read -r g_med _ <<<"$(sed -n 2p <<<"$s")"

  # diff of one promotion commit (the newest into prod)
  local pc; pc=$(git -C "$dir" log --grep='^promote(prod)' -1 --format=%H)
  s=$(bench "diff-$label" "$runs" 1 \
    -n promolint-diff "$PL -C $dir diff --base $pc~1 --head $pc -q" \
    -n git-diff "git -C $dir diff $pc~1 $pc")
  local d_med gd_med
  read -r d_med _ <<<"$(sed -n 1p <<<"$s")"
  read -r gd_med _ <<<"$(sed -n 2p <<<"$s")"

  # history: the last 10 commits (median of 3), then the whole range (one run, limited)
  s=$(bench "history10-$label" "$hruns" "$hwarm" \
    -n promolint-history-10 "$PL -C $dir history --range HEAD~10..HEAD -q" \
    -n git-log-p-10 "git -C $dir log -p HEAD~10..HEAD")
  local h10_med h10_u h10_s gl10_med
  read -r h10_med h10_u h10_s _ <<<"$(sed -n 1p <<<"$s")"
  read -r gl10_med _ <<<"$(sed -n 2p <<<"$s")"
  s=$(bench "gitlog-$label" "$runs" 1 -n git-log-p "git -C $dir log -p")
  local gl_med; read -r gl_med _ <<<"$s"

  # peak memory (and one timed run of the whole history)
  local pc_m pc_e; read -r pc_m pc_e _ _ _ <<<"$(peak "$dir" "$PL" check -q)"
  local pcc_m; read -r pcc_m _ _ _ _ <<<"$(peak "$dir" "$PL" check -q --no-cache)"
  local ph10_m; read -r ph10_m _ _ _ _ <<<"$(peak "$dir" "$PL" history --range HEAD~10..HEAD -q)"
  local hist_m hist_e hist_u hist_s hist_rc
  local h40_e=""
  if [ "$main" = 1 ]; then
    # A second point for the cost per commit: the last 40 commits.
    read -r _ h40_e _ _ _ <<<"$(peak "$dir" "$PL" history --range HEAD~40..HEAD -q)"
  fi
  say "history over the whole range of $label (limit ${LIMIT}s)"
  read -r hist_m hist_e hist_u hist_s hist_rc <<<"$(peak "$dir" "$PL" history -q)"
  local hist_txt
  if [ "$hist_rc" = timeout ]; then hist_txt="> ${LIMIT} s (stopped; $(mib "$hist_m") by then)"; else hist_txt="$(fmt_s "$hist_e") (1 run)"; fi

  printf '%s\n' "| $label | $files | $commits | $(fmt_s "$c_med") | $(fmt_s "$r_med") | $(ratio "$c_med" "$r_med") | $(fmt_s "$cc_med") | $(fmt_s "$st_med") | $(fmt_s "$d_med") | $(fmt_s "$h10_med") | $hist_txt | $(fmt_s "$gl_med") | $(mib "$pc_m") | $(mib "$ph10_m") |" >>"$SCALE"

  if [ "$main" = 1 ]; then
    row "\`check\` (pin ledger and fact store from the warm-up) vs \`rg -c -e image -e tag -e version\` | $(fmt_s "$c_med") (cpu $(fmt_s "$(python3 -c "print($c_u+$c_s)")")) | $(fmt_s "$r_med") (cpu $(fmt_s "$(python3 -c "print($r_u+$r_s)")")) | $(ratio "$c_med" "$r_med") (cpu $(ratio "$(python3 -c "print($c_u+$c_s)")" "$(python3 -c "print($r_u+$r_s)")")) | ≤ 2× | $(python3 -c "print('met' if $c_med <= 2*$r_med else 'missed')")"
    row "\`check --no-cache\` (no pin ledger, no fact store: a fresh clone's first run) vs rg | $(fmt_s "$cc_med") (cpu $(fmt_s "$(python3 -c "print($cc_u+$cc_s)")")) | $(fmt_s "$r_med") | $(ratio "$cc_med" "$r_med") | ≤ 3× | $(python3 -c "print('met' if $cc_med <= 3*$r_med else 'missed')")"
    row "\`staged\` ($n files staged) vs \`git diff --cached --name-only\` | $(fmt_s "$st_med") (cpu $(fmt_s "$(python3 -c "print($st_u+$st_s)")")) | $(fmt_s "$g_med") | $(ratio "$st_med" "$g_med") | < 50 ms | $(python3 -c "print('met' if $st_med < 0.05 else 'missed')")"
    row "\`diff\` of one promotion commit (${pc:0:10}) vs \`git diff\` | $(fmt_s "$d_med") | $(fmt_s "$gd_med") | $(ratio "$d_med" "$gd_med") | — | —"
    row "\`history\` over the whole range ($commits commits) vs \`git log -p\` | $hist_txt | $(fmt_s "$gl_med") | $( [ "$hist_rc" = timeout ] && echo "> $(ratio "$LIMIT" "$gl_med")" || ratio "$hist_e" "$gl_med") | < 1× | $( [ "$hist_rc" != timeout ] && python3 -c "print('met' if $hist_e < $gl_med else 'missed')" || echo missed)"
    row "\`history --range HEAD~10..HEAD\` vs \`git log -p HEAD~10..HEAD\` | $(fmt_s "$h10_med") (cpu $(fmt_s "$(python3 -c "print($h10_u+$h10_s)")")) | $(fmt_s "$gl10_med") | $(ratio "$h10_med" "$gl10_med") | < 1× | $(python3 -c "print('met' if $h10_med < $gl10_med else 'missed')")"
    if [ -n "$h40_e" ]; then
      local per est
      per=$(python3 -c "print(max(0.0, ($h40_e - $h10_med) / 30))")
      est=$(python3 -c "print($h10_med + $per * ($commits - 10))")
      row "\`history\`: cost per commit (HEAD~40.. $(fmt_s "$h40_e") vs HEAD~10..), and the whole range extrapolated | $(fmt_s "$per") per commit → ~$(fmt_s "$est") for $commits | $(fmt_s "$gl_med") | ~$(ratio "$est" "$gl_med") | < 1× | $(python3 -c "print('met' if $est < $gl_med else 'missed')")"
    fi
    row "peak memory of \`check\` | $(mib "$pc_m") | — | — | < 150 MiB | $(python3 -c "print('met' if $pc_m < 150*1024 else 'missed')")"
    row "peak memory of \`check --no-cache\` | $(mib "$pcc_m") | — | — | < 150 MiB | $(python3 -c "print('met' if $pcc_m < 150*1024 else 'missed')")"
    row "peak memory of \`history\` (whole range$( [ "$hist_rc" = timeout ] && echo ", until stopped"))| $(mib "$hist_m") | — | — | < 150 MiB | $(python3 -c "print('met' if $hist_m < 150*1024 else 'missed')")"
    row "peak memory of \`history --range HEAD~10..HEAD\` | $(mib "$ph10_m") | — | — | < 150 MiB | $(python3 -c "print('met' if $ph10_m < 150*1024 else 'missed')")"
    echo "| $commits | $(fmt_s "$c_med") | $(fmt_s "$h10_med") | $(fmt_s "$gl_med") | $(mib "$pc_m") |" >>"$HIST"
    MAIN_DIR=$dir
  fi
}

# ---------------------------------------------------------------------------------------
# Peers: the same question on the 2,000-manifest subset: which production workloads run a
# container with `:latest` or no tag?
peers() {
  local sub=$1 expected=$2
  local venv=$TARGET/bench-venv
  local CHECKOV SEMGREP
  CHECKOV=$(command -v checkov || true); SEMGREP=$(command -v semgrep || true)
  if [ -z "$CHECKOV" ] || [ -z "$SEMGREP" ]; then
    if [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/semgrep" ]; then
      say "installing checkov and semgrep into $venv"
      python3 -m venv "$venv" && "$venv/bin/pip" install -q checkov semgrep >>"$LOG" 2>&1
    fi
    CHECKOV=$venv/bin/checkov; SEMGREP=$venv/bin/semgrep
  fi
  local NET=""
  if unshare -n true 2>/dev/null; then NET="unshare -n"; fi
  CHECKOV_VERSION=$($CHECKOV --version 2>/dev/null | tail -1)
  SEMGREP_VERSION=$($SEMGREP --version --disable-version-check 2>/dev/null | tail -1)

  local pol=$WORK/peers
  mkdir -p "$pol/checkov"
  : >"$pol/checkov/__init__.py"  # Checkov loads external checks from a package
  cat >"$pol/checkov/prod_mutable_image.py" <<'EOF'
"""Checkov custom policy: production workloads must not run `:latest` or untagged images."""
import re

from checkov.common.models.enums import CheckResult
from checkov.kubernetes.checks.resource.base_container_check import BaseK8sContainerCheck


class ProdMutableImage(BaseK8sContainerCheck):
    def __init__(self):
        super().__init__(name="Production containers pin an immutable tag", id="CKV_PL_1")

    def scan_spec_conf(self, conf):
        namespace = (conf.get("metadata") or {}).get("namespace") or ""
        if not re.search(r"(^|-)prod(uction)?$", namespace):
            return CheckResult.PASSED
        return super().scan_spec_conf(conf)

    def scan_container_conf(self, metadata, conf):
        image = conf.get("image")
        if not isinstance(image, str) or "@" in image:
            return CheckResult.PASSED
        last = image.rsplit("/", 1)[-1]
        if ":" not in last or last.endswith(":latest"):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = ProdMutableImage()
EOF
  cat >"$pol/semgrep.yaml" <<'EOF'
rules:
  - id: prod-mutable-image
    languages: [yaml]
    severity: ERROR
    message: production container image $IMG uses `:latest` or no tag
    paths:
      include: ["**/prod/**"]
    patterns:
      - pattern: "image: $IMG"
      - metavariable-regex:
          metavariable: $IMG
          regex: '^(?!.*@)(.*:latest|[^:]*)$'
EOF
  say "peers on $sub ($(git -C "$sub" ls-files | wc -l) manifests; expected: $expected workloads)"
  # The answers, to check that every tool asks the same question.
  local a_pl a_ck a_sg
  a_pl=$( (cd "$sub" && "$PL" check --select PL001 --format json || true) | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(len({f["path"] for f in d["findings"] if f.get("environment") == "prod" and f["level"] == "error"}))')
  a_ck=$( (cd "$sub" && $NET "$CHECKOV" -d . --framework kubernetes --external-checks-dir "$pol/checkov" \
      --check CKV_PL_1 --skip-download --quiet --compact -o json 2>>"$LOG" || true) | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d[0] if isinstance(d, list) else d
print(len({c["file_path"] for c in d.get("results", {}).get("failed_checks", [])}))')
  a_sg=$( (cd "$sub" && $NET "$SEMGREP" scan --config "$pol/semgrep.yaml" --metrics=off --disable-version-check \
      --quiet --json . 2>>"$LOG" || true) | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(len({r["path"] for r in d["results"]}))')
  local s; s=$(bench peers 3 1 \
    -n promolint "$PL -C $sub check --select PL001 -q" \
    -n checkov "$NET $CHECKOV -d $sub --framework kubernetes --external-checks-dir $pol/checkov --check CKV_PL_1 --skip-download --quiet --compact" \
    -n semgrep "$NET $SEMGREP scan --config $pol/semgrep.yaml --metrics=off --disable-version-check --quiet $sub")
  local p_med c_med s_med
  read -r p_med _ <<<"$(sed -n 1p <<<"$s")"
  read -r c_med _ <<<"$(sed -n 2p <<<"$s")"
  read -r s_med _ <<<"$(sed -n 3p <<<"$s")"
  row "peers, 2,000 manifests: promolint vs Checkov $CHECKOV_VERSION (custom policy) | $(fmt_s "$p_med") ($a_pl found) | $(fmt_s "$c_med") ($a_ck found) | $(ratio "$c_med" "$p_med") faster | ≥ 100× | $(python3 -c "print('met' if $c_med >= 100*$p_med else 'missed')")"
  row "peers, 2,000 manifests: promolint vs Semgrep $SEMGREP_VERSION (rule file) | $(fmt_s "$p_med") ($a_pl found) | $(fmt_s "$s_med") ($a_sg found) | $(ratio "$s_med" "$p_med") faster | ≥ 20× | $(python3 -c "print('met' if $s_med >= 20*$p_med else 'missed')")"
  PEERS_NOTE="expected answer: $expected production workloads; network: ${NET:-offline flags only}"
}

# ---------------------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
MAIN_DIR=""
PEERS_NOTE="not run (--no-peers)"
CHECKOV_VERSION="-"; SEMGREP_VERSION="-"
IFS=, read -r -a size_list <<<"$SIZES"
# The main table is measured on 20k when it is asked for, else on the first size.
MAIN_SIZE=${size_list[0]}
for size in "${size_list[@]}"; do [ "$size" = 20k ] && MAIN_SIZE=20k; done
for size in "${size_list[@]}"; do
  apps=$(apps_for "$size")
  dir=$(corpus "$apps" "$COMMITS")
  main=0; [ "$size" = "$MAIN_SIZE" ] && main=1
  measure "$dir" "$size" "$main"
done
if [ "$PEERS" = 1 ] && [ -n "$MAIN_DIR" ]; then
  peers "$MAIN_DIR-peers" "$(cat "$MAIN_DIR-peers.expected")"
fi

# The homelab shape (issue 13): a Flux repository with clusters/{dev,integration,live} and
# versions.env files, $COMMITS commits of Renovate-style bumps and promotions. "First"
# check: no pin ledger (a fresh clone); the ledger it writes makes the next one warm.
homelab() {
  local dir=$CORPORA/homelab-a40-c$COMMITS-s$SEED
  if [ ! -e "$dir.done" ]; then
    rm -rf "$dir"
    "$GEN" --homelab --apps 40 --commits "$COMMITS" --seed "$SEED" "$dir" >>"$LOG" 2>&1
    touch "$dir.done"
  fi
  say "homelab: $(git -C "$dir" ls-files | wc -l) files, $(git -C "$dir" rev-list --count HEAD) commits"
  local s; s=$(bench homelab "$RUNS" 1 \
    --prepare "rm -rf $dir/.git/promolint" -n first-check "$PL -C $dir check -q" \
    -n git-log-p "git -C $dir log -p")
  local f_med f_u f_s g_med
  read -r f_med f_u f_s _ <<<"$(sed -n 1p <<<"$s")"
  read -r g_med _ <<<"$(sed -n 2p <<<"$s")"
  "$PL" -C "$dir" check -q >/dev/null 2>&1 || true
  s=$(bench homelab-warm "$RUNS" 1 -n check "$PL -C $dir check -q")
  local w_med; read -r w_med _ <<<"$(sed -n 1p <<<"$s")"
  rm -rf "$dir/.git/promolint"
  local f_m; read -r f_m _ _ _ _ <<<"$(peak "$dir" "$PL" check -q)"
  local w_m; read -r w_m _ _ _ _ <<<"$(peak "$dir" "$PL" check -q)"
  row "homelab, $COMMITS commits: first \`check\` (no ledger) vs \`git log -p\` | $(fmt_s "$f_med") (cpu $(fmt_s "$(python3 -c "print($f_u+$f_s)")")) | $(fmt_s "$g_med") | $(ratio "$f_med" "$g_med") | < 1 s | $(python3 -c "print('met' if $f_med < 1 else 'missed')")"
  row "homelab: \`check\` with the ledger | $(fmt_s "$w_med") | — | — | — | —"
  row "peak memory of the homelab's first / next \`check\` | $(mib "$f_m") / $(mib "$w_m") | — | — | < 150 MiB | $(python3 -c "print('met' if max($f_m, $w_m) < 150*1024 else 'missed')")"
}
homelab

# History length: the default size with other numbers of commits.
if [ -n "$HISTORY" ]; then
  IFS=, read -r -a hist_list <<<"$HISTORY"
  apps=$(apps_for 20k)
  for n in "${hist_list[@]}"; do
    dir=$(corpus "$apps" "$n")
    say "history length $n"
    s=$(bench "hlen-$n" 3 1 \
      -n check "$PL -C $dir check -q" \
      -n history-10 "$PL -C $dir history --range HEAD~10..HEAD -q" \
      -n git-log-p "git -C $dir log -p")
    read -r hc _ <<<"$(sed -n 1p <<<"$s")"
    read -r hh _ <<<"$(sed -n 2p <<<"$s")"
    read -r hg _ <<<"$(sed -n 3p <<<"$s")"
    read -r hm _ _ _ _ <<<"$(peak "$dir" "$PL" check -q)"
    echo "| $n | $(fmt_s "$hc") | $(fmt_s "$hh") | $(fmt_s "$hg") | $(mib "$hm") |" >>"$HIST"
  done
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo "+dirty")
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
MEM=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
BLOCK=$WORK/block.md
{
  echo "<!-- bench:begin (written by scripts/bench.sh; do not edit by hand) -->"
  echo
  echo "Run of \`scripts/bench.sh --sizes $SIZES${HISTORY:+ --history $HISTORY} --commits $COMMITS --runs $RUNS --timeout $TIMEOUT --scale-timeout $SCALE_TIMEOUT\`"
  echo "on $(date -u +%Y-%m-%d) at $(date -u +%H:%M) UTC, promolint commit \`$COMMIT\`."
  echo "Machine: $(nproc) cores ($CPU), $MEM memory; load average $LOAD_BEFORE before, $LOAD_AFTER after"
  echo "(the cores are shared with other builds: compare CPU times and ratios, not only wall times)."
  echo "Tools: $($PL --version), $(rg --version | head -1), $(hyperfine --version), $(git --version),"
  echo "Checkov $CHECKOV_VERSION, Semgrep $SEMGREP_VERSION, GNU time."
  echo
  echo "Wall time is the median of $RUNS runs after one warm-up (3 runs for history and the peers),"
  echo "cpu = mean user + system time. Ratios are promolint ÷ baseline unless marked \"faster\"."
  echo "Sizes other than $MAIN_SIZE: 3 runs after one warm-up, \"history, last 10\" a single run;"
  echo "history-length rows: 3 runs after one warm-up (the $COMMITS row is the main table's)."
  echo
  echo "| measurement | promolint | baseline | ratio | goal | |"
  echo "|---|---|---|---|---|---|"
  cat "$ROWS"
  echo
  echo "Peers: $PEERS_NOTE."
  echo
  echo "#### Scaling with repository size ($COMMITS commits each)"
  echo
  echo "| size | files | commits | check | rg | check ÷ rg | check --no-cache | staged (3 files) | diff (1 commit) | history, last 10 | history, whole range | git log -p | peak check | peak history-10 |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  cat "$SCALE"
  if [ -n "$HISTORY" ] && [ -s "$HIST" ]; then
    echo
    echo "#### Scaling with history length ($(apps_for 20k) applications, ~20k files)"
    echo
    echo "| commits | check | history, last 10 | git log -p | peak check |"
    echo "|---|---|---|---|---|"
    sort -t'|' -k2,2n "$HIST"
  fi
  echo
  echo "<!-- bench:end -->"
} >"$BLOCK"

mkdir -p "$(dirname "$OUT")"
if [ -f "$OUT" ] && grep -q '<!-- bench:begin' "$OUT"; then
  python3 - "$OUT" "$BLOCK" <<'EOF'
import re, sys
doc, block = open(sys.argv[1]).read(), open(sys.argv[2]).read()
doc = re.sub(r"<!-- bench:begin.*?<!-- bench:end -->\n?", lambda _: block, doc, flags=re.S)
open(sys.argv[1], "w").write(doc)
EOF
else
  { echo "# Performance"; echo; cat "$BLOCK"; } >"$OUT"
fi
cat "$BLOCK"
say "wrote $OUT (log: $LOG)"
