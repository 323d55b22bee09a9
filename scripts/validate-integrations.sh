#!/usr/bin/env bash
# The integrations judged by the real tools:
#
#   1. action.yml against GitHub's action metadata schema (check-jsonschema's
#      vendor.github-actions);
#   2. the example workflow docs/examples/promolint.yml against the workflow schema
#      (vendor.github-workflows);
#   3. .pre-commit-hooks.yaml with `pre-commit validate-manifest`;
#   4. a dry run of the action's shell steps on a fixture repository, with the runner's
#      files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_PATH) simulated and the `uses:`
#      steps (actions/cache, upload-sarif) stubbed: a shallow checkout is refused with the
#      `fetch-depth: 0` fix; a pull request pinning `latest` in prod fails the job after the
#      SARIF is handed to the upload step; a clean push passes. Set PROMOLINT_BIN to the
#      promolint binary to run (default: target/debug/promolint, built when missing).
#
# Needs: check-jsonschema and pre-commit (`pip install check-jsonschema pre-commit`), git,
# python3 with PyYAML (pre-commit brings it), jq. Exit 0 when everything passes.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
started=$SECONDS

for tool in check-jsonschema pre-commit git python3 jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "validate-integrations: \`$tool\` is required (pip install check-jsonschema pre-commit)" >&2
    exit 2
  fi
done

echo "== action.yml (vendor.github-actions)"
check-jsonschema --builtin-schema vendor.github-actions action.yml

echo "== docs/examples/promolint.yml (vendor.github-workflows)"
check-jsonschema --builtin-schema vendor.github-workflows docs/examples/promolint.yml

echo "== .pre-commit-hooks.yaml (pre-commit validate-manifest)"
pre-commit validate-manifest .pre-commit-hooks.yaml
echo "ok -- manifest valid"

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


def run_action(workspace, event_name, event, inputs, tmp):
    """Every step of the action; returns (job failed?, step log, ctx)."""
    runner_temp = tempfile.mkdtemp(dir=tmp, prefix="runner-temp-")
    files = {k: os.path.join(runner_temp, k) for k in ("output", "summary", "path")}
    for f in files.values():
        open(f, "w").close()
    defaults = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    ctx = {"inputs": {**defaults, **inputs}, "steps": {},
           "github": {"event": event, "event_name": event_name, "workspace": workspace},
           "runner": {"temp": runner_temp, "os": "Linux"}}
    path_prefix = []
    failed = False
    log = []
    for step in ACTION["runs"]["steps"]:
        sid = step.get("id", step["name"])
        cond = step.get("if")
        run = evaluate(cond, ctx) if cond else not failed
        if not run:
            log.append((step["name"], "skipped", ""))
            continue
        outputs = {}
        if "uses" in step:
            uses = step["uses"]
            with_ = {k: substitute(str(v), ctx) for k, v in step.get("with", {}).items()}
            if uses.startswith("actions/cache@"):
                # Stand-in for a cache hit: the binary under test is "restored".
                root = ctx["steps"]["prepare"]["outputs"]["install-root"]
                os.makedirs(os.path.join(root, "bin"), exist_ok=True)
                shutil.copy(BIN, os.path.join(root, "bin", "promolint"))
                outputs["cache-hit"] = "true"
                log.append((step["name"], "cache hit (stub)", ""))
            elif uses.startswith("github/codeql-action/upload-sarif@"):
                sarif = with_["sarif_file"]
                with open(sarif, encoding="utf-8") as f:
                    doc = json.load(f)
                assert doc.get("version") == "2.1.0", "upload-sarif got no SARIF 2.1.0"
                assert os.path.isdir(with_["checkout_path"]), with_
                log.append((step["name"], "would upload %s" % sarif, ""))
            else:
                raise SystemExit("dry run: no stub for %s" % uses)
            ctx["steps"][sid] = {"outputs": outputs, "outcome": "success"}
            continue
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join(path_prefix + [env["PATH"]])
        env.update({
            "GITHUB_OUTPUT": files["output"], "GITHUB_STEP_SUMMARY": files["summary"],
            "GITHUB_PATH": files["path"], "GITHUB_ACTION_PATH": REPO,
            "GITHUB_WORKSPACE": workspace, "GITHUB_EVENT_NAME": event_name,
            "RUNNER_TEMP": runner_temp, "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
        })
        env.update({k: substitute(str(v), ctx) for k, v in step.get("env", {}).items()})
        open(files["output"], "w").close()
        script = substitute(step["run"], ctx)
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                              cwd=workspace, env=env, capture_output=True, text=True)
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
        print("   exit-code=0 findings=%s" % lint.get("findings"))

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
