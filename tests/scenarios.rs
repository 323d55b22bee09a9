//! Git scenarios: numbered fixture steps under `fixtures/scenarios/<name>/` applied as
//! commits at test time, then `history`, `diff` and `staged` judged against the expected
//! findings (rule, level, file, line:column, and the step's commit).

mod common;

use common::{apply_step, git, scenario_steps, TempDir};
use promolint::pipeline as modes;
use promolint::pipeline::Options;
use std::collections::HashMap;

/// A repository built from a scenario: the step names with their commit ids, in order.
struct Scenario {
    dir: TempDir,
    steps: Vec<(String, String)>,
}

impl Scenario {
    fn commit_of(&self, step: &str) -> &str {
        self.steps
            .iter()
            .find(|(s, _)| s == step)
            .map(|(_, c)| c.as_str())
            .unwrap_or_else(|| panic!("no step {step}"))
    }

    fn step_of(&self) -> HashMap<String, String> {
        self.steps
            .iter()
            .map(|(s, c)| (c.clone(), s.clone()))
            .collect()
    }

    fn options(&self) -> Options {
        Options {
            start: self.dir.path().to_path_buf(),
            ..Options::default()
        }
    }
}

/// Build the scenario's repository, committing the first `upto` steps (all when `None`).
fn build(name: &str, upto: Option<usize>) -> Scenario {
    let dir = TempDir::new(name);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let mut out = Vec::new();
    for step in scenario_steps(name)
        .into_iter()
        .take(upto.unwrap_or(usize::MAX))
    {
        apply_step(&step, dir.path());
        let message = std::fs::read_to_string(step.join("MESSAGE")).unwrap_or_default();
        git(dir.path(), &["add", "-A"]);
        git(
            dir.path(),
            &["commit", "-q", "--allow-empty", "-m", message.trim()],
        );
        let id = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
        let step_name = step
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((step_name, id));
    }
    Scenario { dir, steps: out }
}

fn describe(s: &Scenario, findings: &[promolint::rules::Finding]) -> Vec<String> {
    let step_of = s.step_of();
    findings
        .iter()
        .map(|f| {
            let step = f
                .commit
                .as_ref()
                .and_then(|c| step_of.get(c))
                .map(String::as_str)
                .unwrap_or("-");
            format!(
                "{step} {} {} {}:{}:{}",
                f.rule,
                f.level.as_str(),
                f.path,
                f.span.line,
                f.span.column
            )
        })
        .collect()
}

const KESTREL_HISTORY: &[&str] = &[
    "06-prod-v7-before-dev PL006 error fabric-core/terraform/envs/kestrel-prod/main.tf:3:25",
    "07-prod-rollback-v6 PL005 note fabric-core/terraform/envs/kestrel-prod/main.tf:3:25",
    "08-overwrite-v6 PL004 error fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz:1:1",
    "09-rebuild-old-name PL005 error fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v4.tar.gz:1:1",
    "09-rebuild-old-name PL005 error fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04.pkrvars.hcl:2:18",
    "10-dev-and-prod-v7 PL006 error fabric-core/terraform/envs/kestrel-prod/main.tf:3:25",
    "11-delete-v5 PL004 error fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz:1:1",
];

/// `history` sorts by file; compare as sets ordered by step for readability.
fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn kestrel_history_reports_each_violating_commit_once() {
    let s = build("kestrel-promotion", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        sorted(describe(&s, &out.findings)),
        sorted(KESTREL_HISTORY.iter().map(|x| x.to_string()).collect())
    );
}

#[test]
fn kestrel_diff_of_one_promotion_points_at_the_predecessor() {
    let s = build("kestrel-promotion", None);
    let base = s.commit_of("05-build-v7").to_string();
    let head = s.commit_of("06-prod-v7-before-dev").to_string();
    let out = modes::diff(&s.options(), Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert_eq!(out.findings.len(), 1, "{:#?}", out.findings);
    let f = &out.findings[0];
    assert_eq!((f.rule, f.span.line, f.span.column), ("PL006", 3, 25));
    assert_eq!(f.related.len(), 1);
    assert_eq!(
        f.related[0].path,
        "fabric-core/terraform/envs/kestrel-dev/main.tf"
    );
    assert_eq!((f.related[0].span.line, f.related[0].span.column), (3, 25));
    assert_eq!(f.commit, None);

    // The clean promotion before it.
    let base = s.commit_of("03-dev-v6").to_string();
    let head = s.commit_of("04-prod-v6").to_string();
    let out = modes::diff(&s.options(), Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
}

#[test]
fn kestrel_staged_judges_the_index_with_an_alternate_index_file() {
    let s = build("kestrel-promotion", Some(5));
    // Stage step 06 (prod to v7 before dev) without committing, into an alternate index as
    // pre-commit does.
    apply_step(&scenario_steps("kestrel-promotion")[5], s.dir.path());
    let index = s.dir.path().join(".git/alt-index");
    std::fs::copy(s.dir.path().join(".git/index"), &index).expect("copy index");
    let status = std::process::Command::new("git")
        .args(["add", "-A"])
        .current_dir(s.dir.path())
        .env("GIT_INDEX_FILE", &index)
        .status()
        .expect("git add");
    assert!(status.success());
    // The default index has nothing staged: no finding.
    let out = modes::staged(&s.options(), false).unwrap_or_else(|e| panic!("staged: {e}"));
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    // With GIT_INDEX_FILE (set for the promolint process only, as pre-commit does), the
    // staged promotion is judged.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promolint"))
        .args(["staged", "--format", "json"])
        .current_dir(s.dir.path())
        .env("GIT_INDEX_FILE", &index)
        .output()
        .expect("run promolint");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            format!(
                "{} {} {}:{}:{}",
                f["rule"], f["level"], f["path"], f["line"], f["column"]
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![r#""PL006" "error" "fabric-core/terraform/envs/kestrel-prod/main.tf":3:25"#]
    );
}

#[test]
fn flux_history_follows_lineage_across_prefixes_and_digests() {
    let s = build("flux-promotion", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        vec![
            "06-production-two-versions PL007 error flux/apps/backend/production/kustomization.yaml:8:13",
            "08-production-rebuilt PL008 error flux/apps/backend/production/kustomization.yaml:8:13",
        ]
    );
}

#[test]
fn homelab_history_allows_renovate_on_dev_and_integration_only() {
    let s = build("homelab-promotion", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        vec![
            "04-renovate-everywhere PL006 error kubernetes/clusters/live/helm-charts.yaml:12:15",
            "06-live-rollback PL005 note kubernetes/clusters/live/helm-charts.yaml:12:15",
        ]
    );
}

/// The human output of `diff` shows the predecessor's pin beside a PL006, and `history`
/// names the commit (commit ids are deterministic: fixed dates and identity).
#[test]
fn human_output_of_diff_and_history() {
    let s = build("kestrel-promotion", Some(7));
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_promolint"))
            .args(args)
            .current_dir(s.dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run promolint");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let base = s.commit_of("05-build-v7").to_string();
    let head = s.commit_of("06-prod-v7-before-dev").to_string();
    let (code, stdout) = run(&["diff", "--base", &base, "--head", &head]);
    assert_eq!(code, Some(1));
    snapbox::assert_data_eq!(stdout, snapbox::file!["snapshots/kestrel-diff.txt"]);
    let (code, stdout) = run(&["history"]);
    assert_eq!(code, Some(1));
    snapbox::assert_data_eq!(stdout, snapbox::file!["snapshots/kestrel-history.txt"]);
}

/// A Terragrunt live repository: units pick the module version with `?ref=` after a source
/// templated from an `_envcommon` file's local; `non-prod/…/qa` and `…/stage` come before
/// `prod/…/prod`.
#[test]
fn terragrunt_history_judges_templated_refs() {
    let s = build("terragrunt-promotion", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        vec![
            "02-prod-v0.9.0-first PL006 error prod/us-east-1/prod/mysql/terragrunt.hcl:11:61",
            "03-prod-rollback-v0.8.0 PL005 note prod/us-east-1/prod/mysql/terragrunt.hcl:11:61",
            "07-prod-main PL001 error prod/us-east-1/prod/mysql/terragrunt.hcl:11:61",
            "09-prod-v0.10.0-skipping-stage PL006 error prod/us-east-1/prod/mysql/terragrunt.hcl:11:61",
            "10-envcommon-engine-8.0.36 PL006 error _envcommon/mysql.hcl:8:22",
        ]
    );
    let tg_diff = |base: &str, head: &str| {
        let base = s.commit_of(base).to_string();
        let head = s.commit_of(head).to_string();
        modes::diff(&s.options(), Some(&base), Some(&head), false)
            .unwrap_or_else(|e| panic!("diff: {e}"))
            .findings
    };
    // Prod first: one finding for the pin, naming stage (qa comes before stage in the
    // usual order) with the version to roll back to, and pointing at stage's pin.
    let found = tg_diff("01-initial", "02-prod-v0.9.0-first");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!((f.rule, f.span.line, f.span.column), ("PL006", 11, 61));
    assert_eq!(
        f.message,
        "prod pins ${_envcommon/mysql.hcl:base_source_url} to v0.9.0, which stage has not \
         run (stage runs v0.8.0): promote v0.9.0 through stage first, or roll prod back to v0.8.0"
    );
    let related: Vec<(&str, u32, u32)> = f
        .related
        .iter()
        .map(|r| (r.path.as_str(), r.span.line, r.span.column))
        .collect();
    assert_eq!(
        related,
        vec![("non-prod/us-east-1/stage/mysql/terragrunt.hcl", 11, 61)]
    );
    // Skipping stage: qa ran v0.10.0, stage did not.
    let found = tg_diff("08-qa-v0.10.0", "09-prod-v0.10.0-skipping-stage");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].rule, found[0].related[0].path.as_str()),
        ("PL006", "non-prod/us-east-1/stage/mysql/terragrunt.hcl")
    );
    // qa, then stage, then prod: nothing.
    for (base, head) in [
        ("03-prod-rollback-v0.8.0", "04-qa-v0.9.0"),
        ("04-qa-v0.9.0", "05-stage-v0.9.0"),
        ("05-stage-v0.9.0", "06-prod-v0.9.0"),
    ] {
        let found = tg_diff(base, head);
        assert!(found.is_empty(), "{base}..{head}: {found:#?}");
    }
}

/// Flux postBuild substitution: the version of a shared `${APP_VERSION}` image is set per
/// cluster in `versions.env`; a promotion is a change of that line, judged there.
#[test]
fn substitute_diff_judges_the_versions_env_line() {
    let s = build("substitute-promotion", None);
    let diff = |base: &str, head: &str| {
        let (base, head) = (s.commit_of(base).to_string(), s.commit_of(head).to_string());
        modes::diff(&s.options(), Some(&base), Some(&head), false)
            .unwrap_or_else(|e| panic!("diff: {e}"))
    };
    // Dev first, then live: clean.
    let out = diff("01-initial", "02-dev-1.5.0");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let out = diff("02-dev-1.5.0", "03-live-1.5.0");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    // Live bumped to a version dev never ran.
    let out = diff("03-live-1.5.0", "04-live-1.6.0-before-dev");
    assert_eq!(
        describe(&s, &out.findings),
        ["- PL006 error clusters/live/versions.env:1:13"]
    );
    let related: Vec<String> = out.findings[0]
        .related
        .iter()
        .map(|r| format!("{}:{}:{}", r.path, r.span.line, r.span.column))
        .collect();
    assert_eq!(
        related,
        [
            "apps/app/deployment.yaml:10:35",
            "clusters/dev/versions.env:1:13"
        ]
    );
}

/// Helm `valuesFrom`: each overlay generates the release's values ConfigMap from its own
/// values file; a promotion is a change of that file's tag, judged at its line.
#[test]
fn values_from_diff_judges_the_values_file_line() {
    let s = build("values-from-promotion", None);
    let diff = |base: &str, head: &str| {
        let (base, head) = (s.commit_of(base).to_string(), s.commit_of(head).to_string());
        modes::diff(&s.options(), Some(&base), Some(&head), false)
            .unwrap_or_else(|e| panic!("diff: {e}"))
    };
    let out = diff("01-initial", "02-staging-6.5.4");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let out = diff("02-staging-6.5.4", "03-production-6.5.4");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    // Production bumped to a version staging never ran.
    let out = diff("03-production-6.5.4", "04-production-6.6.0-before-staging");
    assert_eq!(
        describe(&s, &out.findings),
        ["- PL006 error apps/production/podinfo-values.yaml:8:8"]
    );
    let related: Vec<String> = out.findings[0]
        .related
        .iter()
        .map(|r| format!("{}:{}:{}", r.path, r.span.line, r.span.column))
        .collect();
    assert!(
        related.contains(&"apps/base/podinfo/release.yaml:18:13".to_string()),
        "{related:#?}"
    );
    // Back to the version staging ran: the winning value is fixed, the PL006 is gone and
    // only the rollback note is left.
    let out = diff(
        "04-production-6.6.0-before-staging",
        "05-production-back-to-6.5.4",
    );
    assert_eq!(
        describe(&s, &out.findings),
        ["- PL005 note apps/production/podinfo-values.yaml:8:8"]
    );
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        [
            "04-production-6.6.0-before-staging PL006 error apps/production/podinfo-values.yaml:8:8",
            "05-production-back-to-6.5.4 PL005 note apps/production/podinfo-values.yaml:8:8",
        ]
    );
}

#[test]
fn substitute_history_reports_only_the_early_promotion() {
    let s = build("substitute-promotion", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        ["04-live-1.6.0-before-dev PL006 error clusters/live/versions.env:1:13"]
    );
}

#[test]
fn a_rollback_before_production_through_substitution_is_no_finding() {
    let s = build("substitute-rollback", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        ["04-dev-back-to-1.4.0 PL005 note clusters/dev/versions.env:1:13"]
    );
    // At the tip live runs 1.5.0 and dev 1.4.0: only dev's history clears live.
    let out = promolint::pipeline::check(&s.options()).unwrap_or_else(|e| panic!("check: {e}"));
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
}

const SUPPRESS_GATE_HISTORY: &[&str] = &[
    "02-staging-v1.5.0 PL011 warning apps/backend/staging/kustomization.yaml:8:7",
    "03-production-v1.6.0-suppressed PL006 error apps/backend/production/kustomization.yaml:9:13",
    "03-production-v1.6.0-suppressed PL011 error apps/backend/production/kustomization.yaml:8:7",
];

#[test]
fn a_change_cannot_suppress_its_own_promotion_gate() {
    let s = build("suppress-gate", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        sorted(describe(&s, &out.findings)),
        sorted(
            SUPPRESS_GATE_HISTORY
                .iter()
                .map(|x| x.to_string())
                .collect()
        )
    );
    let gate = out
        .findings
        .iter()
        .find(|f| f.rule == "PL011" && f.level == promolint::model::Level::Error)
        .map(|f| f.message.as_str());
    assert_eq!(
        gate,
        Some("this change adds a suppression of PL006 in protected environment `production`: a change cannot switch off its own promotion gate, so the comment silences nothing")
    );
    // The same change through `diff`.
    let (base, head) = (
        s.commit_of("02-staging-v1.5.0").to_string(),
        s.commit_of("03-production-v1.6.0-suppressed").to_string(),
    );
    let out = modes::diff(&s.options(), Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        [
            "- PL011 error apps/backend/production/kustomization.yaml:8:7",
            "- PL006 error apps/backend/production/kustomization.yaml:9:13",
        ]
    );
}

#[test]
fn a_suppression_on_the_base_branch_applies_unless_strict() {
    let s = build("suppress-gate", None);
    let (base, head) = (
        s.commit_of("03-production-v1.6.0-suppressed").to_string(),
        s.commit_of("04-production-v1.7.0-old-suppression")
            .to_string(),
    );
    let out = modes::diff(&s.options(), Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let strict = Options {
        strict_suppressions: true,
        ..s.options()
    };
    let want = [
        "- PL011 error apps/backend/production/kustomization.yaml:8:7",
        "- PL006 error apps/backend/production/kustomization.yaml:9:13",
    ];
    let out = modes::diff(&strict, Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert_eq!(describe(&s, &out.findings), want);
    assert_eq!(
        out.findings[0].message,
        "suppressing PL006 in protected environment `production` is not allowed here (`strict_suppressions`); this comment silences nothing"
    );
    // `check` of the tree at step 04: the old suppression holds, the staging one is reported.
    let out = promolint::pipeline::check(&s.options()).unwrap_or_else(|e| panic!("check: {e}"));
    let tree = |f: &[promolint::rules::Finding]| describe(&s, f);
    assert_eq!(
        tree(&out.findings),
        ["- PL011 warning apps/backend/staging/kustomization.yaml:8:7"]
    );
    assert_eq!(
        out.findings[0].message,
        "suppression of PL001 silences nothing on this line or the next; remove it"
    );
    let out = promolint::pipeline::check(&strict).unwrap_or_else(|e| panic!("check: {e}"));
    assert_eq!(
        tree(&out.findings),
        [
            "- PL011 error apps/backend/production/kustomization.yaml:8:7",
            "- PL006 error apps/backend/production/kustomization.yaml:9:13",
            "- PL011 warning apps/backend/staging/kustomization.yaml:8:7",
        ]
    );
    // The configuration key does what the flag does.
    std::fs::write(
        s.dir.path().join(".promolint.yaml"),
        "strict_suppressions: true\n",
    )
    .expect("write config");
    let out = promolint::pipeline::check(&s.options()).unwrap_or_else(|e| panic!("check: {e}"));
    assert_eq!(tree(&out.findings).len(), 3, "{:#?}", out.findings);
}

/// Regions as members of their tier (`fixtures/scenarios/regions-promotion`): prod-asia may
/// take what only staging-eu ran; prod-eu may not take what no staging region ran; a region
/// skipping load is a warning; regions lagging behind are nothing. `history`, `diff` and a
/// `check` of each step's tree give the same answer.
#[test]
fn regions_history_diff_and_check_agree() {
    let s = build("regions-promotion", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    let expected = [
        "06-prod-eu-2.2.0-first PL006 error envs/prod-eu/kustomization.yaml:10:13",
        "07-staging-asia-2.2.0-skipping-load PL006 warning envs/staging-asia/kustomization.yaml:10:13",
    ];
    assert_eq!(describe(&s, &out.findings), expected);
    assert_eq!(
        out.findings[0].message,
        "prod-eu pins ghcr.io/acme/checkout to 2.2.0, which none of staging-asia, staging-eu has \
         run (staging-asia runs 2.0.0; staging-eu runs 2.1.0): promote 2.2.0 through \
         staging-asia or staging-eu first, or roll prod-eu back to 2.1.0"
    );
    assert_eq!(
        out.findings[1].message,
        "staging-asia pins ghcr.io/acme/checkout to 2.2.0, which load-gpu has not run (load-gpu runs 2.1.0)"
    );
    // Each step's change: the same findings, without the commit. The tree each step leaves
    // reports what is still wrong there: prod-eu's 2.2.0 until staging-asia runs it (07),
    // staging-asia's 2.2.0 for as long as load-gpu has not run it.
    let still_wrong = |step: &str| -> Vec<String> {
        match step {
            "06-prod-eu-2.2.0-first" => vec![expected[0].replacen(step, "-", 1)],
            "07-staging-asia-2.2.0-skipping-load" | "08-qa-2.3.0" => {
                vec![expected[1].replacen("07-staging-asia-2.2.0-skipping-load", "-", 1)]
            }
            _ => Vec::new(),
        }
    };
    let steps: Vec<String> = s.steps.iter().map(|(n, _)| n.clone()).collect();
    for k in 1..steps.len() {
        let (base, head) = (s.commit_of(&steps[k - 1]), s.commit_of(&steps[k]));
        let diff = modes::diff(&s.options(), Some(base), Some(head), false)
            .unwrap_or_else(|e| panic!("diff: {e}"));
        let want: Vec<String> = expected
            .iter()
            .filter(|e| e.starts_with(&format!("{} ", steps[k])))
            .map(|e| e.replacen(&steps[k], "-", 1))
            .collect();
        assert_eq!(describe(&s, &diff.findings), want, "diff {}", steps[k]);
        let tree = build("regions-promotion", Some(k + 1));
        let check =
            promolint::pipeline::check(&tree.options()).unwrap_or_else(|e| panic!("check: {e}"));
        assert_eq!(
            describe(&tree, &check.findings),
            still_wrong(&steps[k]),
            "check {}",
            steps[k]
        );
    }
}

/// A staging built from the main branch, its images tagged `<release>-<commit>` and
/// `sha-<commit>`: the commit is build metadata of the release, so production taking the
/// release from another commit is a rebuild (PL008), not an untested version (PL006); a
/// bare `sha-…` tag is its commit, compared across environments as it is.
#[test]
fn sha_tags_history_tells_rebuilds_from_untested_versions() {
    let s = build("sha-tags", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    const PROD: &str = "deploy/shop/overlays/production/kustomization.yaml";
    assert_eq!(
        describe(&s, &out.findings),
        [
            format!("03-production-v0.0.3-rebuilt PL008 error {PROD}:9:13"),
            format!("06-production-v0.0.4-untested PL006 error {PROD}:9:13"),
            format!("07-production-worker-untested PL006 error {PROD}:12:13"),
        ]
    );
    let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "production pins ghcr.io/acme/shop v0.0.3 built from commit 75c41cc, a different build from the one staging ran (built from commit fa61a17)",
            "production pins ghcr.io/acme/shop to v0.0.4 (v0.0.4-9e8d7c6), which staging has not run (staging runs v0.0.3): promote v0.0.4 through staging first, or roll production back to v0.0.3",
            "production pins ghcr.io/acme/worker to 1a2b3c4 (sha-1a2b3c4), which staging has not run (staging runs fa61a17)",
        ]
    );
    // The rebuild as a pull request: only PL008, pointing at the build staging ran.
    let (base, head) = (
        s.commit_of("02-staging-v0.0.3").to_string(),
        s.commit_of("03-production-v0.0.3-rebuilt").to_string(),
    );
    let out = modes::diff(&s.options(), Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        [format!("- PL008 error {PROD}:9:13")]
    );
    let related: Vec<String> = out.findings[0]
        .related
        .iter()
        .map(|r| format!("{}:{}:{} {}", r.path, r.span.line, r.span.column, r.message))
        .collect();
    assert_eq!(
        related,
        ["deploy/shop/overlays/staging/kustomization.yaml:9:13 staging runs v0.0.3 built from commit fa61a17 here"]
    );
    // `status` shows each environment's build beside the version.
    let m = modes::status(&s.options()).unwrap_or_else(|e| panic!("status: {e}"));
    let cells: Vec<(String, Vec<String>)> = m
        .rows
        .iter()
        .map(|r| {
            let shown = r.cells.iter().map(|c| match c {
                Some(c) => format!(
                    "{}{}",
                    c.versions.join(", "),
                    if c.ahead { " !" } else { "" }
                ),
                None => "-".to_string(),
            });
            (r.component.clone(), shown.collect())
        })
        .collect();
    assert_eq!(
        cells,
        [
            (
                "ghcr.io/acme/shop".to_string(),
                vec![
                    "v0.0.3 (fa61a17)".to_string(),
                    "v0.0.4 (9e8d7c6) !".to_string()
                ]
            ),
            (
                "ghcr.io/acme/worker".to_string(),
                vec!["fa61a17".to_string(), "1a2b3c4 !".to_string()]
            ),
        ]
    );
    // Promoting what staging ran, and a worker commit staging ran: clean.
    for (base, head) in [
        ("03-production-v0.0.3-rebuilt", "04-production-v0.0.3"),
        ("04-production-v0.0.3", "05-production-worker"),
    ] {
        let (b, h) = (s.commit_of(base).to_string(), s.commit_of(head).to_string());
        let out = modes::diff(&s.options(), Some(&b), Some(&h), false)
            .unwrap_or_else(|e| panic!("diff: {e}"));
        assert!(
            out.findings.is_empty(),
            "{base}..{head}: {:#?}",
            out.findings
        );
    }
}

/// A homelab application of three images released together: one change moving all three
/// to `v2.4.0` in prod, with the `APP_VERSION` literal that mirrors the tag, a reworded
/// comment and reordered literals, promotes one release. Two versions at once, or prod
/// to one version while dev moves on to the next, are reported.
#[test]
fn homelab_release_counts_one_release_as_one_version() {
    let s = build("homelab-release", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    const PROD: &str = "kubernetes/apps/ledger/prod/kustomization.yaml";
    assert_eq!(
        describe(&s, &out.findings),
        [
            format!("05-prod-two-versions PL007 error {PROD}:9:13"),
            format!("07-dev-v2.7.0-prod-v2.6.0 PL007 error {PROD}:9:13"),
        ]
    );
    assert_eq!(
        out.findings[0].message,
        "this change promotes 2 versions into prod (at most 1 per change): v2.5.0 for \
         ghcr.io/homelab/ledger-api and ghcr.io/homelab/ledger-web, \
         ghcr.io/homelab/ledger-worker v2.4.1"
    );
    assert_eq!(
        out.findings[1].message,
        "this change promotes v2.6.0 for ghcr.io/homelab/ledger-api, ghcr.io/homelab/ledger-web \
         and ghcr.io/homelab/ledger-worker into prod; it also moves ghcr.io/homelab/ledger-api, \
         ghcr.io/homelab/ledger-web and ghcr.io/homelab/ledger-worker to v2.7.0 in dev"
    );
    // Counting each component on its own, the release is three versions.
    std::fs::write(
        s.dir.path().join(".promolint.yaml"),
        "promotion:\n  release_version_groups: false\n",
    )
    .expect("write config");
    let (base, head) = (
        s.commit_of("02-dev-v2.4.0").to_string(),
        s.commit_of("03-prod-release-v2.4.0").to_string(),
    );
    let out = modes::diff(&s.options(), Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        [format!("- PL007 error {PROD}:9:13")]
    );
    assert!(
        out.findings[0]
            .message
            .starts_with("this change promotes 3 versions into prod"),
        "{}",
        out.findings[0].message
    );
    assert!(
        !out.findings[0].message.contains("outside pin values"),
        "{}",
        out.findings[0].message
    );
}

/// `components[].version_pattern` decides what a component's version is: with the commit
/// made part of the version, production's `v0.0.3-75c41cc` is a version staging never ran
/// (PL006), and the components the pattern does not name keep the default reading.
#[test]
fn sha_tags_with_a_version_pattern_that_keeps_the_commit() {
    let s = build("sha-tags", None);
    let config = s.dir.path().join("promolint.yaml");
    std::fs::write(
        &config,
        "components:\n  - name: ghcr.io/acme/shop\n    version_pattern: '^(?P<version>v\\d+\\.\\d+\\.\\d+-[0-9a-f]{7})$'\n",
    )
    .expect("write config");
    let options = Options {
        config: Some(config),
        ..s.options()
    };
    let out = modes::history(&options, None).unwrap_or_else(|e| panic!("history: {e}"));
    const PROD: &str = "deploy/shop/overlays/production/kustomization.yaml";
    assert_eq!(
        describe(&s, &out.findings),
        [
            format!("03-production-v0.0.3-rebuilt PL006 error {PROD}:9:13"),
            format!("06-production-v0.0.4-untested PL006 error {PROD}:9:13"),
            format!("07-production-worker-untested PL006 error {PROD}:12:13"),
        ]
    );
    assert_eq!(
        out.findings[0].message,
        "production pins ghcr.io/acme/shop to v0.0.3-75c41cc, which staging has not run (staging runs v0.0.3-fa61a17)"
    );
}

/// Argo CD Applications decide the environments of `checkout/candidate` (staging) and
/// `checkout/release` (prod); a prod bump staging never ran is PL006 at the release
/// overlay's tags, and a bump staging ran first is clean.
#[test]
fn argo_diff_judges_directories_the_applications_place() {
    let s = build("argo-promotion", None);
    let diff = |base: &str, head: &str| {
        let (base, head) = (s.commit_of(base).to_string(), s.commit_of(head).to_string());
        modes::diff(&s.options(), Some(&base), Some(&head), false)
            .unwrap_or_else(|e| panic!("diff: {e}"))
    };
    let out = diff("01-initial", "02-staging-1.6.0");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let out = diff("02-staging-1.6.0", "03-prod-1.6.0");
    assert_eq!(describe(&s, &out.findings), Vec::<String>::new());
    let out = diff("03-prod-1.6.0", "04-prod-1.7.0-before-staging");
    assert_eq!(
        describe(&s, &out.findings),
        ["- PL006 error checkout/release/kustomization.yaml:7:13"]
    );
    // A rollback to a version staging ran before (staging has moved on since): the
    // history knows `checkout/candidate` is staging's because its Application says so.
    let out = diff("05-staging-1.8.0", "06-prod-rollback-1.6.0");
    assert_eq!(
        describe(&s, &out.findings),
        ["- PL005 note checkout/release/kustomization.yaml:7:13"]
    );
}

/// A file both clusters' Flux Kustomizations deploy moves staging and production in one
/// change: production (protected) gets a version staging did not run first.
#[test]
fn flux_diff_of_a_shared_file_promotes_production_with_staging() {
    let s = build("flux-shared-promotion", None);
    let (base, head) = (
        s.commit_of("01-initial").to_string(),
        s.commit_of("02-shared-chart-bump").to_string(),
    );
    let out = modes::diff(&s.options(), Some(&base), Some(&head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert_eq!(
        describe(&s, &out.findings),
        ["- PL006 error infrastructure/controllers/ingress-nginx.yaml:21:17"]
    );
    let envs: Vec<&str> = out
        .findings
        .iter()
        .filter_map(|f| f.environment.as_deref())
        .collect();
    assert_eq!(envs, ["production"]);
}

/// A chart version written by an overlay's inline patch (`fixtures/scenarios/
/// patched-chart-promotion`): the prod-only bump is judged at the patch line, with the base's
/// range as the value it overrides, in `history`, `diff` and `check`; writing the version
/// staging ran at that line clears it.
#[test]
fn patched_chart_bump_is_judged_at_the_patch() {
    let s = build("patched-chart-promotion", None);
    let out = modes::history(&s.options(), None).unwrap_or_else(|e| panic!("history: {e}"));
    const PROD: &str = "apps/production/kustomization.yaml";
    assert_eq!(
        describe(&s, &out.findings),
        [format!(
            "04-production-6.7.0-before-staging PL006 error {PROD}:17:23"
        )]
    );
    let related: Vec<String> = out.findings[0]
        .related
        .iter()
        .map(|r| format!("{}:{}:{} {}", r.path, r.span.line, r.span.column, r.message))
        .collect();
    assert_eq!(
        related,
        [
            "apps/base/podinfo/release.yaml:11:17 overrides the base's `>=6.0.0` here",
            "apps/production/kustomization.yaml:4:5 included here by `../base/podinfo`",
            "apps/staging/kustomization.yaml:17:23 staging runs 6.6.0 here",
        ]
    );
    let (base, head) = (
        s.commit_of("03-production-6.6.0"),
        s.commit_of("04-production-6.7.0-before-staging"),
    );
    let diff = modes::diff(&s.options(), Some(base), Some(head), false)
        .unwrap_or_else(|e| panic!("diff: {e}"));
    assert_eq!(
        describe(&s, &diff.findings),
        [format!("- PL006 error {PROD}:17:23")]
    );
    let check = promolint::pipeline::check(&s.options()).unwrap_or_else(|e| panic!("check: {e}"));
    assert_eq!(
        describe(&s, &check.findings),
        [format!("- PL006 error {PROD}:17:23")]
    );
    let path = s.dir.path().join(PROD);
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("\"6.7.0\"", "\"6.6.0\"")).expect("write");
    let check = promolint::pipeline::check(&s.options()).unwrap_or_else(|e| panic!("check: {e}"));
    assert!(check.findings.is_empty(), "{:#?}", check.findings);
}

const PROMOTION_RUNS_HISTORY: &[&str] = &[
    "07-prod-v1.3.0-untested PL006 error apps/api/prod/kustomization.yaml:8:13",
    "10-dev-and-prod-v1.4.0 PL006 error apps/api/prod/kustomization.yaml:8:13",
];

#[test]
fn promotion_runs_history_is_the_same_from_every_run_start() {
    // Twelve commits that change only pin values: with two threads the second run of
    // commits starts at step 07, its base side derived from the tip's snapshot rather than
    // built. It must see its parent's versions (prod on v1.1.0, staging on v1.2.0), not the
    // tip's: a stale base would call step 07 a rollback from v1.4.0.
    let s = build("promotion-runs", None);
    for jobs in [1, 2] {
        let options = Options {
            jobs: Some(jobs),
            ..s.options()
        };
        let out = modes::history(&options, None).unwrap_or_else(|e| panic!("history: {e}"));
        assert_eq!(
            describe(&s, &out.findings),
            PROMOTION_RUNS_HISTORY,
            "--jobs {jobs}"
        );
        let staging = out.findings.iter().map(|f| f.message.as_str());
        assert!(
            staging
                .clone()
                .next()
                .is_some_and(|m| m.contains("(staging runs v1.2.0)")),
            "--jobs {jobs}: {:?}",
            staging.collect::<Vec<_>>()
        );
    }
}
