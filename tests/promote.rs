//! `promolint promote` end to end: on each layout family it writes exactly the bytes a careful
//! hand promotion writes (for the scenarios whose next step is that hand promotion, the very
//! bytes of that step), the change passes `diff`, a refused promotion writes nothing, and
//! `--commit`/`--each-commit` record only the promoted files.

mod common;

use common::{apply_step, expect_code, git, run, scenario_steps, Out, TempDir};
use std::path::Path;

/// A repository with the first `upto` steps of a scenario committed.
fn scenario(name: &str, upto: usize) -> TempDir {
    let dir = TempDir::new(&format!("promote-{name}"));
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for step in scenario_steps(name).into_iter().take(upto) {
        apply_step(&step, dir.path());
        let message = std::fs::read_to_string(step.join("MESSAGE")).unwrap_or_default();
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-q", "-m", message.trim()]);
    }
    dir
}

/// The bytes of `path` as scenario step `step` (1-based) writes it.
fn step_file(name: &str, step: usize, path: &str) -> String {
    let dir = &scenario_steps(name)[step - 1];
    std::fs::read_to_string(dir.join(path)).expect("step file")
}

/// A repository of `files`, committed.
fn repo(tag: &str, files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new(tag);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (path, text) in files {
        dir.write(path, text.as_bytes());
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    dir
}

fn read(dir: &TempDir, path: &str) -> String {
    std::fs::read_to_string(dir.path().join(path)).expect("read")
}

/// Promote with `--commit`, then check that exactly `expect` changed (path → bytes), that the
/// commit holds those files only, and that `diff` of the commit finds nothing.
#[track_caller]
fn promote_and_check(dir: &TempDir, args: &[&str], expect: &[(&str, &str)]) -> Out {
    let mut all = vec!["promote"];
    all.extend_from_slice(args);
    all.push("--commit");
    let out = run(dir.path(), &all);
    expect_code(&out, 0);
    for (path, bytes) in expect {
        assert_eq!(read(dir, path), *bytes, "{path}");
    }
    let changed = git(dir.path(), &["diff", "--name-only", "HEAD~1", "HEAD"]);
    let mut want: Vec<&str> = expect.iter().map(|(p, _)| *p).collect();
    want.sort();
    assert_eq!(changed.lines().collect::<Vec<_>>(), want);
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    clean_diff(dir, "HEAD~1");
    out
}

/// `promolint diff --base BASE` finds nothing at all.
#[track_caller]
fn clean_diff(dir: &TempDir, base: &str) {
    let out = run(
        dir.path(),
        &[
            "diff",
            "--base",
            base,
            "--format",
            "json",
            "--fail-level",
            "note",
        ],
    );
    expect_code(&out, 0);
    assert!(out.stdout.contains("\"findings\": []"), "{}", out.stdout);
}

fn subject(dir: &TempDir, rev: &str) -> String {
    git(dir.path(), &["log", "-1", "--format=%s", rev])
        .trim()
        .to_string()
}

#[test]
fn terraform_pin_is_the_hand_promotion() {
    let dir = scenario("kestrel-promotion", 3);
    let prod = "fabric-core/terraform/envs/kestrel-prod/main.tf";
    let out = promote_and_check(
        &dir,
        &["lxc_rootfs_version", "--to", "prod"],
        &[(prod, &step_file("kestrel-promotion", 4, prod))],
    );
    assert!(
        out.stdout
            .starts_with("promoted lxc_rootfs_version in prod: v5 → v6\n  fabric-core/terraform/envs/kestrel-prod/main.tf:3:25  v5 → v6\ncommitted "),
        "{}",
        out.stdout
    );
    assert_eq!(
        subject(&dir, "HEAD"),
        "promote lxc_rootfs_version to prod: v5 → v6"
    );
}

#[test]
fn terragrunt_ref_is_the_hand_promotion() {
    let dir = scenario("terragrunt-promotion", 5);
    let prod = "prod/us-east-1/prod/mysql/terragrunt.hcl";
    promote_and_check(
        &dir,
        &["--all", "--to", "prod"],
        &[(prod, &step_file("terragrunt-promotion", 6, prod))],
    );
}

#[test]
fn flux_substituted_versions_env_is_the_hand_promotion() {
    let dir = scenario("substitute-promotion", 2);
    let live = "clusters/live/versions.env";
    promote_and_check(
        &dir,
        &["ghcr.io/acme/app", "--to", "live"],
        &[(live, &step_file("substitute-promotion", 3, live))],
    );
}

#[test]
fn chart_version_set_by_a_kustomize_patch_is_the_hand_promotion() {
    let dir = scenario("patched-chart-promotion", 2);
    let prod = "apps/production/kustomization.yaml";
    promote_and_check(
        &dir,
        &["podinfo", "--to", "production"],
        &[(prod, &step_file("patched-chart-promotion", 3, prod))],
    );
}

/// Environment-specific tags: promote cannot invent production's tag (see below), but given
/// it with --version it writes it with the digest staging ran for that version, which is
/// the scenario's own hand promotion, `newTag` and `digest` keys and setter markers intact.
#[test]
fn environment_tags_given_with_version_get_the_predecessors_digest() {
    let dir = scenario("flux-promotion", 3);
    let prod = "flux/apps/backend/production/kustomization.yaml";
    promote_and_check(
        &dir,
        &[
            "ghcr.io/acme/backend",
            "--to",
            "production",
            "--version",
            "production-v1.4.2-1712100200",
        ],
        &[(prod, &step_file("flux-promotion", 4, prod))],
    );
}

/// The three images of one release move together; the `APP_VERSION` literal that only
/// mirrors the release is no pin (nothing deploys it as a version), so it stays as it is,
/// like the comment naming the old release.
#[test]
fn kustomize_images_of_one_release_move_together_and_comments_stay() {
    let dir = scenario("homelab-release", 2);
    let prod = "kubernetes/apps/ledger/prod/kustomization.yaml";
    let out = promote_and_check(
        &dir,
        &["--all", "--to", "prod"],
        &[(
            prod,
            "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ledger-prod
resources:
  - ../base
# ledger release v2.3.1
images:
  - name: ghcr.io/homelab/ledger-api
    newTag: v2.4.0
  - name: ghcr.io/homelab/ledger-web
    newTag: v2.4.0
  - name: ghcr.io/homelab/ledger-worker
    newTag: v2.4.0
configMapGenerator:
  - name: ledger-release
    literals:
      - APP_VERSION=v2.3.1
      - LOG_LEVEL=info
generatorOptions:
  disableNameSuffixHash: true
",
        )],
    );
    assert!(out
        .stdout
        .contains("ghcr.io/homelab/ledger-worker in prod: v2.3.1 → v2.4.0"));
}

const DEV_CHARTS: &str = "# Charts of the dev cluster: Renovate bumps them here first.
- name: cert-manager
  namespace: cert-manager
  chart:
    name: cert-manager
    version: \"v1.19.1\"
    repository: https://charts.jetstack.io
- name: loki
  namespace: monitoring
  chart: {name: loki, version: 6.16.0, repository: https://grafana.github.io/helm-charts}
";

const PROD_CHARTS: &str = "# Charts of the prod cluster: promoted from dev.\r
- name: cert-manager\r
  namespace: cert-manager\r
  chart:\r
    name: cert-manager\r
    version: \"v1.18.2\"  # pinned after the webhook incident\r
    repository: https://charts.jetstack.io\r
- name: loki\r
  namespace: monitoring\r
  chart: {name: loki, version: 6.12.0, repository: https://grafana.github.io/helm-charts}\r
";

const DEV_RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      version: '6.7.1'
      sourceRef:
        kind: HelmRepository
        name: podinfo
";

const PROD_RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  interval: 10m
  chart:
    spec:
      chart: podinfo
      # 6.7.0 broke the readiness probe; stay on 6.6.x until dev proves 6.7.1
      version: '6.6.3'
      sourceRef:
        kind: HelmRepository
        name: podinfo
";

fn charts_repo(tag: &str) -> TempDir {
    repo(
        tag,
        &[
            ("clusters/dev/helm-charts.yaml", DEV_CHARTS),
            ("clusters/prod/helm-charts.yaml", PROD_CHARTS),
            ("clusters/dev/podinfo.yaml", DEV_RELEASE),
            ("clusters/prod/podinfo.yaml", PROD_RELEASE),
        ],
    )
}

#[test]
fn chart_lists_and_helm_release_versions_one_commit_each() {
    let dir = charts_repo("promote-charts");
    let out = run(
        dir.path(),
        &["promote", "--to", "prod", "--all", "--each-commit"],
    );
    expect_code(&out, 0);
    assert_eq!(
        read(&dir, "clusters/prod/helm-charts.yaml"),
        PROD_CHARTS
            .replace("v1.18.2", "v1.19.1")
            .replace("6.12.0", "6.16.0")
    );
    assert_eq!(
        read(&dir, "clusters/prod/helm-charts.yaml"),
        "# Charts of the prod cluster: promoted from dev.\r
- name: cert-manager\r
  namespace: cert-manager\r
  chart:\r
    name: cert-manager\r
    version: \"v1.19.1\"  # pinned after the webhook incident\r
    repository: https://charts.jetstack.io\r
- name: loki\r
  namespace: monitoring\r
  chart: {name: loki, version: 6.16.0, repository: https://grafana.github.io/helm-charts}\r
"
    );
    assert_eq!(
        read(&dir, "clusters/prod/podinfo.yaml"),
        PROD_RELEASE.replace("'6.6.3'", "'6.7.1'")
    );
    // One commit per component, in component order, each clean on its own.
    let log = git(dir.path(), &["log", "--format=%s", "-4"]);
    assert_eq!(
        log,
        "promote podinfo to prod: 6.6.3 → 6.7.1\n\
         promote loki to prod: 6.12.0 → 6.16.0\n\
         promote cert-manager to prod: v1.18.2 → v1.19.1\n\
         initial\n"
    );
    for n in 0..3 {
        let rev = format!("HEAD~{n}");
        let parent = format!("HEAD~{}", n + 1);
        let out = run(
            dir.path(),
            &[
                "diff",
                "--base",
                &parent,
                "--head",
                &rev,
                "--fail-level",
                "note",
            ],
        );
        expect_code(&out, 0);
    }
}

/// Modification times and bytes of every file under `dir` (outside `.git`).
fn state(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("list") {
            let e = e.expect("entry");
            if e.file_name() == ".git" {
                continue;
            }
            let meta = e.metadata().expect("meta");
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.push((
                    e.path().display().to_string(),
                    std::fs::read(e.path()).expect("read"),
                    meta.modified().expect("mtime"),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_refused_promotion_writes_nothing() {
    // Three components into protected prod in one change: PL007.
    let dir = charts_repo("promote-refused");
    let before = state(dir.path());
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    let out = run(
        dir.path(),
        &["promote", "--to", "prod", "--all", "--commit"],
    );
    expect_code(&out, 1);
    assert!(out.stdout.contains("PL007"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("promote refused: the change would break the promotion rules below; nothing was written"),
        "{}",
        out.stderr
    );
    assert_eq!(state(dir.path()), before);
    assert_eq!(git(dir.path(), &["rev-parse", "HEAD"]), head);
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");

    // A version no predecessor ran: PL006, with its reason.
    let dir = scenario("kestrel-promotion", 5);
    let before = state(dir.path());
    let out = run(
        dir.path(),
        &[
            "promote",
            "lxc_rootfs_version",
            "--to",
            "prod",
            "--version",
            "v7",
        ],
    );
    expect_code(&out, 1);
    assert!(out.stdout.contains("PL006"), "{}", out.stdout);
    assert_eq!(state(dir.path()), before);

    // The same with --format json: the findings as JSON, still exit 1.
    let out = run(
        dir.path(),
        &[
            "promote",
            "lxc_rootfs_version",
            "--to",
            "prod",
            "--version",
            "v7",
            "--format",
            "json",
        ],
    );
    expect_code(&out, 1);
    assert!(out.stdout.contains("\"rule\": \"PL006\""), "{}", out.stdout);
    assert_eq!(state(dir.path()), before);
}

#[test]
fn what_cannot_be_edited_exactly_is_exit_2_and_writes_nothing() {
    // Environment-prefixed tags: promote cannot invent production's tag.
    let dir = scenario("flux-promotion", 3);
    let before = state(dir.path());
    let out = run(dir.path(), &["promote", "--to", "production", "--all"]);
    expect_code(&out, 0);
    assert!(
        out.stderr.contains(
            "promolint: ghcr.io/acme/backend not promoted: `staging-v1.4.2-1712100100` is no tag of `production` for v1.4.2"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(state(dir.path()), before);
    let out = run(
        dir.path(),
        &["promote", "ghcr.io/acme/backend", "--to", "production"],
    );
    expect_code(&out, 2);
    assert!(
        out.stderr
            .contains("promote cannot derive `production`'s tag"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    let out = run(dir.path(), &["promote", "no/such", "--to", "production"]);
    expect_code(&out, 2);
    assert!(
        out.stderr.starts_with("error: no component `no/such`"),
        "{}",
        out.stderr
    );
    let out = run(dir.path(), &["promote", "x", "--to", "nowhere"]);
    expect_code(&out, 2);
    assert!(
        out.stderr.contains("no environment `nowhere`"),
        "{}",
        out.stderr
    );
    assert_eq!(state(dir.path()), before);
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let dir = charts_repo("promote-dry-run");
    let before = state(dir.path());
    let out = run(
        dir.path(),
        &["promote", "podinfo", "--to", "prod", "--dry-run"],
    );
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "diff --git a/clusters/prod/podinfo.yaml b/clusters/prod/podinfo.yaml
--- a/clusters/prod/podinfo.yaml
+++ b/clusters/prod/podinfo.yaml
@@ -9,7 +9,7 @@
     spec:
       chart: podinfo
       # 6.7.0 broke the readiness probe; stay on 6.6.x until dev proves 6.7.1
-      version: '6.6.3'
+      version: '6.7.1'
       sourceRef:
         kind: HelmRepository
         name: podinfo
"
    );
    assert_eq!(state(dir.path()), before);
    // The diff applies with git as it is.
    let patch = dir.path().join("../promote-dry-run.patch");
    std::fs::write(&patch, &out.stdout).expect("write patch");
    git(
        dir.path(),
        &["apply", "--check", patch.to_str().expect("utf-8")],
    );
    let _ = std::fs::remove_file(&patch);
}

#[test]
fn json_lists_every_value_changed() {
    let dir = charts_repo("promote-json");
    let out = run(
        dir.path(),
        &[
            "promote",
            "cert-manager",
            "loki",
            "--to",
            "prod",
            "--dry-run",
            "--format",
            "json",
            "--each-commit",
        ],
    );
    expect_code(&out, 0);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        doc["changes"],
        serde_json::json!([
            {"component": "cert-manager", "environment": "prod", "path": "clusters/prod/helm-charts.yaml", "line": 6, "column": 15, "from": "v1.18.2", "to": "v1.19.1"},
            {"component": "loki", "environment": "prod", "path": "clusters/prod/helm-charts.yaml", "line": 10, "column": 32, "from": "6.12.0", "to": "6.16.0"}
        ])
    );
    assert_eq!(doc["written"], false);
    assert_eq!(doc["dry_run"], true);
}

#[test]
fn the_promote_workflow_example_is_in_ci_md_and_pinned() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wf = std::fs::read_to_string(root.join("docs/examples/promote.yml")).expect("workflow");
    assert!(wf.contains("\n  workflow_dispatch:\n"));
    assert!(wf.contains("promolint promote \"$@\" --to \"$ENVIRONMENT\" --commit"));
    let pinned =
        regex::Regex::new(r"uses: peter-evans/create-pull-request@[0-9a-f]{40} # v\d+\.\d+\.\d+\n")
            .expect("regex");
    assert!(
        pinned.is_match(&wf),
        "create-pull-request is not pinned by SHA"
    );
    // docs/ci.md shows the same workflow, without its leading comment.
    let body: String = wf
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let ci = std::fs::read_to_string(root.join("docs/ci.md")).expect("ci.md");
    assert!(
        ci.contains(&format!("```yaml\n{body}```\n")),
        "docs/ci.md differs from docs/examples/promote.yml"
    );
    assert!(ci.contains("(examples/promote.yml)"));
}
