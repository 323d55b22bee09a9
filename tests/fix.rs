//! `--fix` end to end on `fixtures/fix-lab`: the exact bytes each fixable rule writes
//! (PL001, PL002, PL003; CRLF and quoting kept), the findings that remain and the exit code
//! after, `--dry-run` writing nothing, a finding with no safe fix, `staged --fix` leaving the
//! index alone, and the fixes in the JSON and SARIF reports.

mod common;

use common::{copy_tree, expect_code, fixture, git, run, TempDir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir` (but `.git`), by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root");
                out.insert(
                    rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn text(dir: &Path, rel: &str) -> String {
    String::from_utf8(std::fs::read(dir.join(rel)).expect("read")).expect("utf-8")
}

/// `original` with `from` (which must occur exactly once) replaced by `to`.
#[track_caller]
fn replaced(original: &str, from: &str, to: &str) -> String {
    assert_eq!(original.matches(from).count(), 1, "{from:?} in\n{original}");
    original.replacen(from, to, 1)
}

fn lab() -> TempDir {
    let dir = TempDir::new("fix-lab");
    copy_tree(&fixture("fix-lab"), dir.path());
    dir
}

/// The lab committed in a repository, then production's frontend overlay given staging's
/// tag in the working tree (the hand promotion gone wrong): (repository, overlay, its text
/// before, its text now).
fn lab_with_staging_tag_in_production() -> (TempDir, &'static str, String, String) {
    let dir = lab();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "lab"]);
    let overlay = "flux/apps/frontend/production/kustomization.yaml";
    let good = text(dir.path(), overlay);
    let bad = replaced(
        &good,
        "newTag: production-v2.0.1-1712600000",
        "newTag: staging-v2.0.1-1712000000",
    );
    dir.write(overlay, bad.as_bytes());
    (dir, overlay, good, bad)
}

/// `rule level path:line:col` of every finding of a JSON report.
fn findings(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).expect("json");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{}:{}",
                f["rule"].as_str().unwrap_or(""),
                f["level"].as_str().unwrap_or(""),
                f["path"].as_str().unwrap_or(""),
                f["line"],
                f["column"]
            )
        })
        .collect()
}

const BACKEND_PROD: &str = "flux/apps/backend/production/kustomization.yaml";
const SMOKE: &str = "flux/apps/frontend-jobs/production/smoke-test-cronjob.yaml";
const MIGRATE: &str = "flux/apps/frontend-jobs/production/migrate-job.yaml";
const POLICY_PROD: &str = "flux/apps/frontend/production/image-policy.yaml";
const POLICY_STAGING: &str = "flux/apps/frontend/staging/image-policy.yaml";
const TF_PROD: &str = "terraform/envs/acme-production/main.tf";
const DIGEST: &str = "sha256:3f1c9a7e5b2d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6";

/// The findings of the fixture before any fix.
const BEFORE: &[&str] = &[
    "PL001 error flux/apps/backend/production/kustomization.yaml:8:14",
    "PL001 error flux/apps/frontend-jobs/production/migrate-job.yaml:12:18",
    "PL002 error flux/apps/frontend-jobs/production/smoke-test-cronjob.yaml:15:44",
    "PL003 warning flux/apps/frontend/develop/image-policy.yaml:20:15",
    "PL001 warning flux/apps/frontend/develop/kustomization.yaml:9:13",
    "PL002 warning flux/apps/frontend/develop/kustomization.yaml:9:13",
    "PL003 error flux/apps/frontend/production/image-policy.yaml:19:15",
    "PL003 warning flux/apps/frontend/staging/image-policy.yaml:19:14",
    "PL001 error terraform/envs/acme-production/main.tf:2:18",
];

/// What remains once the safe fixes are written: the findings no fix is safe for.
const AFTER: &[&str] = &[
    "PL003 warning flux/apps/frontend/develop/image-policy.yaml:20:15",
    "PL001 warning flux/apps/frontend/develop/kustomization.yaml:9:13",
    "PL002 warning flux/apps/frontend/develop/kustomization.yaml:9:13",
];

/// Each file the fixes rewrite, from its original text: exactly the value's bytes change
/// (and a digest line is added), quotes, comments and CRLF line endings kept.
fn expected_fixes(original: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    let orig = |p: &str| String::from_utf8(original[p].clone()).expect("utf-8");
    BTreeMap::from([
        (
            BACKEND_PROD.to_string(),
            replaced(
                &orig(BACKEND_PROD),
                "    newTag: \"latest\" # until the first release is promoted\r\n",
                &format!(
                    "    newTag: \"v1.4.2\" # until the first release is promoted\r\n    digest: {DIGEST}\r\n"
                ),
            ),
        ),
        (
            SMOKE.to_string(),
            replaced(
                &orig(SMOKE),
                "image: ghcr.io/acme/frontend:staging-v2.0.1-1712000000\n",
                "image: ghcr.io/acme/frontend:production-v2.0.1-1712600000\n",
            ),
        ),
        (
            MIGRATE.to_string(),
            replaced(
                &orig(MIGRATE),
                "image: ghcr.io/acme/frontend\n",
                "image: ghcr.io/acme/frontend:production-v2.0.1-1712600000\n",
            ),
        ),
        (
            POLICY_PROD.to_string(),
            replaced(
                &orig(POLICY_PROD),
                "    pattern: 'production-v(?P<version>[0-9]+\\.[0-9]+\\.[0-9]+)-(?P<ts>[0-9]+)'\n",
                "    pattern: '^production-v(?P<version>[0-9]+\\.[0-9]+\\.[0-9]+)-(?P<ts>[0-9]+)$'\n",
            ),
        ),
        (
            POLICY_STAGING.to_string(),
            replaced(
                &orig(POLICY_STAGING),
                "    pattern: \"staging-v(?P<version>[0-9]+\\\\.[0-9]+\\\\.[0-9]+)-(?P<ts>[0-9]+)\"\n",
                "    pattern: \"^staging-v(?P<version>[0-9]+\\\\.[0-9]+\\\\.[0-9]+)-(?P<ts>[0-9]+)$\"\n",
            ),
        ),
        (
            TF_PROD.to_string(),
            replaced(
                &orig(TF_PROD),
                "  app_version = \"latest\" # follow the newest template\r\n",
                "  app_version = \"v6\" # follow the newest template\r\n",
            ),
        ),
    ])
}

#[test]
fn the_fixture_has_the_findings_the_fixes_are_for() {
    let dir = lab();
    let out = run(dir.path(), &["check", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(findings(&out.stdout), BEFORE);
}

#[test]
fn check_fix_writes_exact_bytes_and_what_remains_is_reported() {
    let dir = lab();
    let before = files(dir.path());
    let out = run(dir.path(), &["check", "--fix", "--format", "json"]);
    // Only warnings remain: under the default fail level the run passes.
    expect_code(&out, 0);
    assert_eq!(findings(&out.stdout), AFTER, "{}", out.stderr);
    let after = files(dir.path());
    let want = expected_fixes(&before);
    for (path, bytes) in &after {
        match want.get(path) {
            Some(text) => assert_eq!(String::from_utf8_lossy(bytes), *text, "{path} after --fix"),
            None => assert_eq!(Some(bytes), before.get(path), "{path} must not change"),
        }
    }
    assert_eq!(after.len(), before.len(), "no file added or removed");
    assert!(
        out.stderr.contains(
            "promolint: --fix wrote 6 files: flux/apps/backend/production/kustomization.yaml, "
        ),
        "{}",
        out.stderr
    );
    // The develop `latest` has no predecessor: it stays, and the run says why.
    assert!(
        out.stderr.contains(
            "promolint: no safe fix for PL001 at flux/apps/frontend/develop/kustomization.yaml:9:13: no environment before develop pins ghcr.io/acme/frontend to an immutable version"
        ),
        "{}",
        out.stderr
    );
    // A second check of the fixed tree: exactly the same remaining findings, and a second
    // --fix has nothing left to write.
    let again = run(
        dir.path(),
        &["check", "--format", "json", "--fail-level", "warning"],
    );
    expect_code(&again, 1);
    assert_eq!(findings(&again.stdout), AFTER);
    let twice = run(dir.path(), &["check", "--fix", "-q"]);
    expect_code(&twice, 0);
    assert_eq!(files(dir.path()), after, "a second --fix changes nothing");
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let dir = lab();
    let before = files(dir.path());
    let out = run(dir.path(), &["check", "--fix", "--dry-run"]);
    // Nothing was written: every finding remains, errors included.
    expect_code(&out, 1);
    assert_eq!(files(dir.path()), before, "--dry-run wrote a file");
    assert!(out.stdout.starts_with(&format!(
        "diff --git a/{BACKEND_PROD} b/{BACKEND_PROD}\n--- a/{BACKEND_PROD}\n+++ b/{BACKEND_PROD}\n"
    )));
    assert!(out.stdout.contains(&format!(
        "-    newTag: \"latest\" # until the first release is promoted\r\n+    newTag: \"v1.4.2\" # until the first release is promoted\r\n+    digest: {DIGEST}\r\n"
    )));
    assert!(out
        .stderr
        .contains("promolint: --dry-run: 6 fixes in 6 files shown, nothing written"));
    // The diff applies to the tree and gives what --fix writes.
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let patch = dir.path().join("../fix-lab.patch");
    std::fs::write(&patch, &out.stdout).expect("write patch");
    git(
        dir.path(),
        &[
            "apply",
            "--whitespace=nowarn",
            patch.to_str().expect("path"),
        ],
    );
    let _ = std::fs::remove_file(&patch);
    let want = expected_fixes(&before);
    for (path, text_after) in &want {
        assert_eq!(text(dir.path(), path), *text_after, "{path} from the diff");
    }
}

#[test]
fn no_safe_fix_writes_nothing_and_says_why() {
    let dir = TempDir::new("fix-none");
    dir.write(
        "flux/apps/api/staging/kustomization.yaml",
        b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: staging\nimages:\n  - name: ghcr.io/acme/worker\n    newTag: v3.1.0\n",
    );
    dir.write(
        "flux/apps/api/production/deployment.yaml",
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:latest\n",
    );
    let before = files(dir.path());
    let out = run(dir.path(), &["check", "--fix"]);
    expect_code(&out, 1);
    assert_eq!(files(dir.path()), before, "nothing may be written");
    assert!(
        out.stderr.contains(
            "promolint: no safe fix for PL001 at flux/apps/api/production/deployment.yaml:10:35: no environment before production pins ghcr.io/acme/api to an immutable version, so nothing says which version to pin"
        ),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains("promolint: --fix: no safe fix to write"));
    assert!(out.stdout.contains("error[PL001]"), "{}", out.stdout);
}

#[test]
fn staged_fix_edits_the_working_tree_not_the_index_and_stops_the_commit() {
    let (dir, overlay, good, bad) = lab_with_staging_tag_in_production();
    // The classic hand promotion gone wrong: staging's tag copied into production.
    git(dir.path(), &["add", overlay]);
    let out = run(dir.path(), &["staged", "--fix", "--format", "json"]);
    // The fixed file is not staged: the commit stops so that it is staged again.
    expect_code(&out, 1);
    assert_eq!(
        findings(&out.stdout),
        Vec::<String>::new(),
        "{}",
        out.stderr
    );
    // The production tag comes from the base of the change (HEAD), where it still is.
    assert_eq!(text(dir.path(), overlay), good);
    assert_eq!(git(dir.path(), &["show", &format!(":{overlay}")]), bad);
    assert!(
        out.stderr.contains(
            "the fixed files now differ from the index: review them and stage them again"
        ),
        "{}",
        out.stderr
    );
    // Staged again, the change is clean.
    git(dir.path(), &["add", overlay]);
    let clean = run(dir.path(), &["staged"]);
    expect_code(&clean, 0);
}

#[test]
fn staged_fix_skips_a_file_whose_working_copy_differs_from_the_index() {
    let (dir, overlay, _, bad) = lab_with_staging_tag_in_production();
    git(dir.path(), &["add", overlay]);
    // An unstaged edit on top: the fix, computed on the index, must not land on it.
    let edited = format!("{bad}# more\n");
    dir.write(overlay, edited.as_bytes());
    let out = run(dir.path(), &["staged", "--fix"]);
    expect_code(&out, 1);
    assert_eq!(text(dir.path(), overlay), edited);
    assert!(
        out.stderr.contains(&format!(
            "promolint: fix of PL002 at {overlay}:9:13 not applied: {overlay} in the working tree differs from the index"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn json_and_sarif_carry_each_fix() {
    let dir = lab();
    let report = dir.path().join("../fix-lab-report.json");
    let sarif = dir.path().join("../fix-lab-report.sarif");
    let out = run(
        dir.path(),
        &[
            "check",
            "--fix",
            "--dry-run",
            "-q",
            "--json",
            report.to_str().expect("path"),
            "--sarif",
            sarif.to_str().expect("path"),
        ],
    );
    expect_code(&out, 1);
    let json: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("json report")).expect("json");
    let sarif_v: Value =
        serde_json::from_slice(&std::fs::read(&sarif).expect("sarif report")).expect("sarif");
    let _ = std::fs::remove_file(&report);
    let _ = std::fs::remove_file(&sarif);
    let tf = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["path"] == TF_PROD)
        .expect("terraform finding");
    assert_eq!(
        tf["fix"],
        serde_json::json!({
            "applicable": true,
            "description": "pin `v6`, the version staging runs",
            "edits": [{
                "path": TF_PROD, "start": 27, "end": 33,
                "line": 2, "column": 18, "end_line": 2, "end_column": 24,
                "replacement": "v6"
            }]
        })
    );
    let develop = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "PL001" && f["environment"] == "develop")
        .expect("develop finding");
    assert_eq!(develop["fix"]["applicable"], false);
    assert!(develop["fix"]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("no environment before develop pins")));
    let result = sarif_v["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == TF_PROD)
        .expect("terraform result");
    assert_eq!(
        result["fixes"],
        serde_json::json!([{
            "description": {"text": "pin `v6`, the version staging runs"},
            "artifactChanges": [{
                "artifactLocation": {"uri": TF_PROD, "uriBaseId": "%SRCROOT%"},
                "replacements": [{
                    "deletedRegion": {"startLine": 2, "startColumn": 18, "endLine": 2, "endColumn": 24},
                    "insertedContent": {"text": "v6"}
                }]
            }]
        }])
    );
    // The digest line of the Kustomize entry is an insertion: an empty deleted region.
    let backend = sarif_v["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == BACKEND_PROD)
        .expect("backend result");
    assert_eq!(
        backend["fixes"][0]["artifactChanges"][0]["replacements"][1],
        serde_json::json!({
            "deletedRegion": {"startLine": 9, "startColumn": 1, "endLine": 9, "endColumn": 1},
            "insertedContent": {"text": format!("    digest: {DIGEST}\r\n")}
        })
    );
}

#[test]
fn without_fix_reports_carry_no_fix() {
    let dir = lab();
    let out = run(dir.path(), &["check", "--format", "json"]);
    assert!(!out.stdout.contains("\"fix\""), "{}", out.stdout);
    let out = run(dir.path(), &["check", "--format", "sarif"]);
    assert!(!out.stdout.contains("\"fixes\""));
}

#[test]
fn dry_run_needs_fix_and_history_takes_no_fix() {
    let dir = lab();
    let out = run(dir.path(), &["check", "--dry-run"]);
    expect_code(&out, 2);
    assert!(out.stderr.contains("--fix"), "{}", out.stderr);
    let out = run(dir.path(), &["history", "--fix"]);
    expect_code(&out, 2);
}

#[test]
fn a_byte_order_mark_is_kept_and_the_edit_lands_after_it() {
    let dir = lab();
    let path = TF_PROD;
    let original = std::fs::read(dir.path().join(path)).expect("read");
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&original);
    dir.write(path, &with_bom);
    let out = run(dir.path(), &["check", "--fix", "-q"]);
    expect_code(&out, 0);
    let after = std::fs::read(dir.path().join(path)).expect("read");
    let want = replaced(
        &String::from_utf8(with_bom).expect("utf-8"),
        "app_version = \"latest\"",
        "app_version = \"v6\"",
    );
    assert_eq!(String::from_utf8(after).expect("utf-8"), want);
}

#[test]
fn check_fix_takes_the_environments_own_tag_from_its_history() {
    let (dir, overlay, good, _) = lab_with_staging_tag_in_production();
    // A later commit copies staging's tag into every production pin of the frontend: the
    // production tag is then in no file of the tree, only in the history.
    git(dir.path(), &["commit", "-q", "-am", "copy staging's tag"]);
    let out = run(dir.path(), &["check", "--fix", "--select", "PL002", "-q"]);
    expect_code(&out, 0);
    assert_eq!(text(dir.path(), overlay), good);
    // The smoke test's tag is fixed from the same history.
    assert!(text(dir.path(), SMOKE)
        .contains("image: ghcr.io/acme/frontend:production-v2.0.1-1712600000\n"));
}

#[test]
fn diff_fix_writes_the_working_tree_and_says_the_commits_are_unchanged() {
    let (dir, overlay, good, _) = lab_with_staging_tag_in_production();
    git(
        dir.path(),
        &["commit", "-q", "-am", "promote frontend by hand"],
    );
    let out = run(
        dir.path(),
        &["diff", "--base", "HEAD~1", "--fix", "--format", "json"],
    );
    // The finding is fixed in the working tree: what remains of the change is clean.
    expect_code(&out, 0);
    assert_eq!(
        findings(&out.stdout),
        Vec::<String>::new(),
        "{}",
        out.stderr
    );
    assert_eq!(text(dir.path(), overlay), good);
    assert!(
        out.stderr
            .contains("the fixes are in the working tree, not in the commits judged"),
        "{}",
        out.stderr
    );
    // The commit itself still carries the finding until the fix is committed.
    let again = run(dir.path(), &["diff", "--base", "HEAD~1", "-q"]);
    expect_code(&again, 1);
    git(dir.path(), &["commit", "-q", "-am", "production's own tag"]);
    let fixed = run(dir.path(), &["diff", "--base", "HEAD~2", "-q"]);
    expect_code(&fixed, 0);
}

#[test]
fn a_plain_yaml_value_that_would_read_as_a_number_is_written_quoted() {
    let dir = TempDir::new("fix-quote");
    let overlay = |env: &str, tag: &str| {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {env}\nimages:\n  - name: ghcr.io/acme/proxy\n    newTag: {tag}\n"
        )
    };
    dir.write(
        "flux/apps/proxy/staging/kustomization.yaml",
        overlay("staging", "\"1.10\"").as_bytes(),
    );
    let prod = "flux/apps/proxy/production/kustomization.yaml";
    dir.write(prod, overlay("production", "latest").as_bytes());
    let out = run(dir.path(), &["check", "--fix", "-q"]);
    expect_code(&out, 0);
    // `newTag: 1.10` would be the number 1.1.
    assert_eq!(text(dir.path(), prod), overlay("production", "\"1.10\""));
}

/// Every rule page says whether the rule has an automatic fix: PL001, PL002 and PL003 say
/// what theirs writes, the others that they have none.
#[test]
fn every_rule_page_says_whether_it_has_a_fix() {
    for r in promolint::rules::all() {
        let text = promolint::catalogue::section(r.body, "Automatic fix")
            .unwrap_or_else(|| panic!("rules/{} has no `## Automatic fix`", r.file));
        let fixable = ["PL001", "PL002", "PL003"].contains(&r.id);
        assert_eq!(
            text.starts_with("`--fix`"),
            fixable,
            "rules/{}: {text}",
            r.file
        );
        assert_eq!(
            text.starts_with("No automatic fix"),
            !fixable,
            "rules/{}",
            r.file
        );
    }
}

/// The digest the predecessor runs goes on a line of its own after `newTag`, indented as
/// its sibling keys, whether `newTag` opens the entry or the file has no final newline;
/// a flow-style entry takes the tag only.
#[test]
fn a_kustomize_entry_gets_the_digest_in_its_own_layout() {
    let digest = format!("sha256:{}", "a".repeat(64));
    let head = |env: &str| {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {env}\n"
        )
    };
    let cases = [
        (
            "images:\n  - newTag: latest\n    name: ghcr.io/acme/x",
            format!("images:\n  - newTag: v1.0.0\n    digest: {digest}\n    name: ghcr.io/acme/x"),
        ),
        (
            "images:\n  - name: ghcr.io/acme/x\n    newTag: latest",
            format!("images:\n  - name: ghcr.io/acme/x\n    newTag: v1.0.0\n    digest: {digest}"),
        ),
        (
            "images: [{name: ghcr.io/acme/x, newTag: latest}]\n",
            "images: [{name: ghcr.io/acme/x, newTag: v1.0.0}]\n".to_string(),
        ),
    ];
    for (before, after) in cases {
        let dir = TempDir::new("fix-digest");
        dir.write(
            "apps/x/staging/kustomization.yaml",
            format!(
                "{}images:\n  - name: ghcr.io/acme/x\n    newTag: v1.0.0\n    digest: {digest}\n",
                head("staging")
            )
            .as_bytes(),
        );
        let prod = "apps/x/production/kustomization.yaml";
        dir.write(prod, format!("{}{before}", head("production")).as_bytes());
        let out = run(dir.path(), &["check", "--fix", "-q"]);
        expect_code(&out, 0);
        assert_eq!(
            text(dir.path(), prod),
            format!("{}{after}", head("production"))
        );
    }
}
