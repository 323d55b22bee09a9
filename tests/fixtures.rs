//! `promolint check` on each sample repository in `fixtures/`: the exact findings (rule,
//! level, file, line:column) listed in the fixture's EXPECTED.md, in a plain directory and
//! in a git checkout, with the same result.

mod common;

use common::{copy_tree, fixture, git, TempDir};
use promolint::pipeline as modes;
use promolint::pipeline::{self as engine, Options};

fn findings(start: &std::path::Path) -> Vec<String> {
    common::check_findings(start, false)
}

/// Check the fixture copied to a plain directory, then as a committed git repository with
/// an ignored directory that would produce findings: both must give `expected`.
fn assert_fixture(name: &str, expected: &[&str]) {
    let plain = TempDir::new(name);
    copy_tree(&fixture(name), plain.path());
    assert_eq!(findings(plain.path()), expected, "{name} (plain directory)");

    let repo = TempDir::new(name);
    copy_tree(&fixture(name), repo.path());
    git(repo.path(), &["init", "-q", "-b", "main"]);
    // An ignored file that would be a finding must not be read.
    repo.write(".gitignore", b"scratch/\n");
    repo.write(
        "scratch/clusters/prod/deployment.yaml",
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          image: nginx:latest\n",
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "fixture"]);
    assert_eq!(findings(repo.path()), expected, "{name} (git checkout)");
}

#[test]
fn flux_image_lab() {
    assert_fixture("flux-image-lab", FLUX_IMAGE_LAB);
}

#[test]
fn kestrel_fabric() {
    assert_fixture("kestrel-fabric", KESTREL_FABRIC);
}

#[test]
fn homelab() {
    assert_fixture("homelab", HOMELAB);
}

#[test]
fn argo_kargo() {
    assert_fixture("argo-kargo", ARGO_KARGO);
}

#[test]
fn flux_patches() {
    assert_fixture("flux-patches", FLUX_PATCHES);
}

#[test]
fn helm_homelab() {
    assert_fixture("helm-homelab", HELM_HOMELAB);
}

#[test]
fn terragrunt_envcommon() {
    assert_fixture("terragrunt-envcommon", TERRAGRUNT_ENVCOMMON);
}

#[test]
fn flux_values_from() {
    assert_fixture("flux-values-from", FLUX_VALUES_FROM);
}

/// The winning value decides: an exact tag in production's values file clears the
/// finding, and the release's `valuesFrom` entry is the related location.
#[test]
fn flux_values_from_related_and_fix() {
    let dir = TempDir::new("flux-values-from");
    copy_tree(&fixture("flux-values-from"), dir.path());
    let outcome = engine::check(&Options {
        start: dir.path().to_path_buf(),
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("check failed: {e}"));
    let related: Vec<String> = outcome.findings[0]
        .related
        .iter()
        .map(|r| format!("{}:{}:{}", r.path, r.span.line, r.span.column))
        .collect();
    assert_eq!(related, ["apps/base/podinfo/release.yaml:18:13"]);
    let file = "apps/production/podinfo-values.yaml";
    let text = std::fs::read_to_string(dir.path().join(file)).expect("read");
    dir.write(file, text.replace("tag: latest", "tag: 6.5.4").as_bytes());
    assert_eq!(
        findings(dir.path()),
        ["PL001 error clusters/production/values/cert-manager-values.yaml:6:8"]
    );
    // Values written inline in a ConfigMap manifest of a base are judged at their line
    // in every environment whose overlay builds the release.
    let file = "apps/base/grafana/configmap.yaml";
    let text = std::fs::read_to_string(dir.path().join(file)).expect("read");
    dir.write(file, text.replace("tag: 10.2.3", "tag: latest").as_bytes());
    let found = findings(dir.path());
    for expected in [
        "PL001 error apps/base/grafana/configmap.yaml:11:12",
        "PL001 warning apps/base/grafana/configmap.yaml:11:12",
    ] {
        assert!(found.iter().any(|f| f == expected), "{found:#?}");
    }
}

#[test]
fn kustomize_replacements() {
    assert_fixture("kustomize-replacements", KUSTOMIZE_REPLACEMENTS);
}

/// A replacement's source value wins: the finding is at the generator's literal, with the
/// base's image tag as related; an exact value there clears it, and a mutable one in
/// staging's ConfigMap manifest is staging's finding at the manifest's line.
#[test]
fn kustomize_replacements_related_and_fix() {
    let dir = TempDir::new("kustomize-replacements");
    copy_tree(&fixture("kustomize-replacements"), dir.path());
    let outcome = engine::check(&Options {
        start: dir.path().to_path_buf(),
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("check failed: {e}"));
    assert_eq!(outcome.findings.len(), 1);
    let related: Vec<String> = outcome.findings[0]
        .related
        .iter()
        .map(|r| format!("{}:{}:{}", r.path, r.span.line, r.span.column))
        .collect();
    assert_eq!(
        related[0], "apps/web/base/deployment.yaml:20:35",
        "{related:?}"
    );
    assert_eq!(
        outcome.findings[0].related[0].message,
        "a Kustomize replacement overrides the base's `0.0.0` here"
    );
    let file = "apps/web/production/kustomization.yaml";
    let text = std::fs::read_to_string(dir.path().join(file)).expect("read");
    dir.write(
        file,
        text.replace("WEB_VERSION=latest", "WEB_VERSION=1.4.2")
            .as_bytes(),
    );
    assert_eq!(findings(dir.path()), Vec::<String>::new());
    let file = "apps/web/staging/web-versions.yaml";
    let text = std::fs::read_to_string(dir.path().join(file)).expect("read");
    dir.write(file, text.replace("\"1.4.2\"", "latest").as_bytes());
    assert_eq!(
        findings(dir.path()),
        ["PL001 warning apps/web/staging/web-versions.yaml:6:16"]
    );
}

/// `diff` of a production-only bump of the value a replacement copies is PL006 at the
/// generator's literal; bumping staging's ConfigMap first makes the same bump clean.
#[test]
fn kustomize_replacements_diff_promotion_order() {
    let repo = TempDir::new("kustomize-replacements-diff");
    copy_tree(&fixture("kustomize-replacements"), repo.path());
    let prod = "apps/web/production/kustomization.yaml";
    let staging = "apps/web/staging/web-versions.yaml";
    let set = |file: &str, from: &str, to: &str| {
        let text = std::fs::read_to_string(repo.path().join(file)).expect("read");
        assert!(text.contains(from), "{file}: {from}");
        repo.write(file, text.replace(from, to).as_bytes());
    };
    set(prod, "WEB_VERSION=latest", "WEB_VERSION=1.4.2");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "both on 1.4.2"]);
    let options = Options {
        start: repo.path().to_path_buf(),
        ..Options::default()
    };
    let diff = |base: &str| {
        modes::diff(&options, Some(base), Some("HEAD"), false)
            .unwrap_or_else(|e| panic!("diff: {e}"))
            .findings
            .iter()
            .map(|f| format!("{} {}:{}:{}", f.rule, f.path, f.span.line, f.span.column))
            .collect::<Vec<_>>()
    };
    set(prod, "WEB_VERSION=1.4.2", "WEB_VERSION=1.5.0");
    git(repo.path(), &["commit", "-q", "-am", "production first"]);
    assert_eq!(
        diff("HEAD~1"),
        ["PL006 apps/web/production/kustomization.yaml:9:21"]
    );
    git(repo.path(), &["reset", "-q", "--hard", "HEAD~1"]);
    set(staging, "\"1.4.2\"", "\"1.5.0\"");
    git(repo.path(), &["commit", "-q", "-am", "staging first"]);
    set(prod, "WEB_VERSION=1.4.2", "WEB_VERSION=1.5.0");
    git(repo.path(), &["commit", "-q", "-am", "then production"]);
    assert_eq!(diff("HEAD~1"), Vec::<String>::new());
}

#[test]
fn flux_substitute() {
    assert_fixture("flux-substitute", FLUX_SUBSTITUTE);
}

/// The related location of a substituted pin is its placeholder, and `status` shows each
/// cluster's value: the env file's, the inline `substitute` (which wins over the
/// ConfigMap), the `:=` default; an unresolved placeholder is no row at all.
#[test]
fn flux_substitute_status_and_related() {
    let dir = TempDir::new("flux-substitute");
    copy_tree(&fixture("flux-substitute"), dir.path());
    let outcome = engine::check(&Options {
        start: dir.path().to_path_buf(),
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("check failed: {e}"));
    let related: Vec<String> = outcome.findings[0]
        .related
        .iter()
        .map(|r| format!("{}:{}:{} {}", r.path, r.span.line, r.span.column, r.message))
        .collect();
    assert_eq!(
        related,
        ["apps/app/deployment.yaml:10:35 substituted for `${APP_VERSION}` here"]
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promolint"))
        .args(["status", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .expect("run promolint");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows: Vec<String> = json["status"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let cells: Vec<String> = r["cells"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| c["versions"].to_string())
                .collect();
            format!("{} {}", r["component"], cells.join(" "))
        })
        .collect();
    assert_eq!(
        rows,
        [
            r#""ghcr.io/acme/app" ["1.4.0"] ["latest"]"#,
            r#""ghcr.io/acme/sidecar" ["1.1.0"] ["1.0.0"]"#,
        ]
    );
}

#[test]
fn flux_monorepo() {
    assert_fixture("flux-monorepo", FLUX_MONOREPO);
}

/// What a shared file's finding says: the environment, and the Flux Kustomization whose
/// `spec.path` reached it; fixing the value clears the finding in both clusters.
#[test]
fn flux_monorepo_names_each_entry_point_and_clears_when_fixed() {
    let dir = TempDir::new("flux-monorepo");
    copy_tree(&fixture("flux-monorepo"), dir.path());
    let run = || {
        engine::check(&Options {
            start: dir.path().to_path_buf(),
            ..Options::default()
        })
        .unwrap_or_else(|e| panic!("check failed: {e}"))
    };
    let outcome = run();
    let seen: Vec<String> = outcome
        .findings
        .iter()
        .map(|f| {
            let r = &f.related[0];
            format!(
                "{} {}:{}:{} <- {}:{} {}",
                f.environment.as_deref().unwrap_or("-"),
                f.path,
                f.span.line,
                f.span.column,
                r.path,
                r.span.line,
                r.message
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "production infrastructure/controllers/cert-manager.yaml:21:17 <- clusters/production/infrastructure.yaml:12 deployed by Flux Kustomization `infra-controllers` here",
            "staging infrastructure/controllers/cert-manager.yaml:21:17 <- clusters/staging/infrastructure.yaml:12 deployed by Flux Kustomization `infra-controllers` here",
            "production infrastructure/monitoring/kube-prometheus-stack.yaml:20:14 <- clusters/production/infrastructure.yaml:28 deployed by Flux Kustomization `infra-monitoring` here",
        ]
    );
    let path = "infrastructure/controllers/cert-manager.yaml";
    let text = std::fs::read_to_string(dir.path().join(path)).expect("read");
    dir.write(path, text.replace("\">=1.0.0\"", "\"1.16.1\"").as_bytes());
    let rest: Vec<String> = run().findings.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        rest,
        ["infrastructure/monitoring/kube-prometheus-stack.yaml"]
    );
}

#[test]
fn argo_app_of_apps() {
    assert_fixture("argo-app-of-apps", ARGO_APP_OF_APPS);
}

/// App-of-apps deploying this very repository from a branch (`targetRevision: HEAD`, `main`)
/// is how GitOps deploys, not a mutable pin: with the repository's own remote (written in
/// another form, `git@github.com:…` against `https://github.com/….git`) the findings are the
/// fixture's. Without the remote the same URL is some other repository, followed on a branch:
/// one PL001 per Application.
#[test]
fn argo_app_of_apps_pointing_at_itself_on_a_branch() {
    let repo = TempDir::new("argo-self");
    copy_tree(&fixture("argo-app-of-apps"), repo.path());
    let mut apps: Vec<String> = std::fs::read_dir(repo.path().join("apps"))
        .expect("apps/")
        .filter_map(|e| Some(format!("apps/{}", e.ok()?.file_name().to_str()?)))
        .collect();
    apps.push("argocd/root.yaml".to_string());
    for (i, app) in apps.iter().enumerate() {
        let text = std::fs::read_to_string(repo.path().join(app)).expect("read");
        let branch = if i == 0 { "main" } else { "HEAD" };
        let moved = text.replace(
            "targetRevision: v3.0.1",
            &format!("targetRevision: {branch}"),
        );
        assert_ne!(moved, text, "{app}");
        repo.write(app, moved.as_bytes());
    }
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(
        repo.path(),
        &["commit", "-q", "-m", "deploy from the branch"],
    );
    let foreign = findings(repo.path());
    let branch_pins = foreign
        .iter()
        .filter(|f| !ARGO_APP_OF_APPS.contains(&f.as_str()))
        .count();
    assert_eq!(branch_pins, apps.len() - 1, "{foreign:#?}");
    git(
        repo.path(),
        &["remote", "add", "origin", "git@github.com:acme/deploy.git"],
    );
    assert_eq!(findings(repo.path()), ARGO_APP_OF_APPS);
}

/// An Application decides the environment of a directory whose name says nothing, and
/// fixing the value that wins clears the finding.
#[test]
fn argo_app_of_apps_fixing_the_winning_value_clears_it() {
    let dir = TempDir::new("argo-app-of-apps");
    copy_tree(&fixture("argo-app-of-apps"), dir.path());
    let path = "checkout/release/kustomization.yaml";
    let text = std::fs::read_to_string(dir.path().join(path)).expect("read");
    let fixed = format!("{text}  - name: ghcr.io/acme/checkout-worker\n    newTag: 1.5.0\n");
    dir.write(path, fixed.as_bytes());
    let path = "apps/guestbook-prod.yaml";
    let text = std::fs::read_to_string(dir.path().join(path)).expect("read");
    dir.write(path, text.replace(":latest", ":2.0.0").as_bytes());
    let found = findings(dir.path());
    assert_eq!(found, ["PL001 error charts/frontend/values-eu.yaml:4:8"]);
}

#[test]
fn broken_inputs() {
    assert_fixture("broken", BROKEN);
}

const FLUX_IMAGE_LAB: &[&str] = &[
    "PL003 warning flux/apps/backend/develop/image-policy.yaml:25:14",
    "PL001 error flux/apps/backend/production/smoke-test-cronjob.yaml:20:47",
    "PL009 error flux/apps/backend/production/smoke-test-cronjob.yaml:20:47",
    "PL001 warning flux/apps/frontend/base/deployment.yaml:17:40",
    "PL003 error flux/apps/frontend/production/image-policy.yaml:23:15",
    "PL002 error flux/apps/frontend/production/kustomization.yaml:17:13",
    "PL009 error flux/apps/frontend/production/kustomization.yaml:17:13",
    "PL003 warning flux/apps/frontend/staging/image-policy.yaml:21:15",
    "PL010 error flux/clusters/lab/image-update-automation.yaml:76:11",
];

const KESTREL_FABRIC: &[&str] = &[
    "PL001 warning fabric-core/terraform/envs/kestrel-dev/main.tf:12:28",
    "PL001 error fabric-core/terraform/envs/kestrel-prod/main.tf:17:28",
    "PL001 error fabric-core/terraform/envs/kestrel-prod/main.tf:39:75",
];

const HOMELAB: &[&str] = &[
    "PL010 error .github/renovate.json5:37:25",
    "PL001 warning kubernetes/clusters/dev/platform.yaml:11:13",
    "PL003 warning kubernetes/clusters/integration/platform.yaml:38:14",
    "PL001 error kubernetes/clusters/live/.versions.env:5:16",
    "PL001 error kubernetes/clusters/live/helm-charts.yaml:21:19",
    "PL003 error kubernetes/clusters/live/platform.yaml:38:14",
];

const ARGO_KARGO: &[&str] = &[
    "PL001 warning argocd/apps/guestbook-dev.yaml:22:23",
    "PL003 error argocd/apps/guestbook-prod.yaml:9:60",
    "PL001 error argocd/apps/guestbook-prod.yaml:20:23",
];

const FLUX_MONOREPO: &[&str] = &[
    "PL001 error infrastructure/controllers/cert-manager.yaml:21:17",
    "PL001 warning infrastructure/controllers/cert-manager.yaml:21:17",
    "PL001 error infrastructure/monitoring/kube-prometheus-stack.yaml:20:14",
];

const ARGO_APP_OF_APPS: &[&str] = &[
    "PL001 error apps/guestbook-prod.yaml:16:34",
    "PL001 error charts/frontend/values-eu.yaml:4:8",
    "PL001 error checkout/base/deployment.yaml:12:47",
];

const FLUX_SUBSTITUTE: &[&str] = &["PL001 error clusters/live/versions.env:1:13"];

const FLUX_VALUES_FROM: &[&str] = &[
    "PL001 error apps/production/podinfo-values.yaml:8:8",
    "PL001 error clusters/production/values/cert-manager-values.yaml:6:8",
];

const KUSTOMIZE_REPLACEMENTS: &[&str] =
    &["PL001 error apps/web/production/kustomization.yaml:9:21"];

const FLUX_PATCHES: &[&str] = &[
    "PL001 error apps/production/redis-values.yaml:9:17",
    "PL001 warning apps/staging/podinfo-values.yaml:9:17",
];

const HELM_HOMELAB: &[&str] = &[
    "PL001 warning kubernetes/clusters/dev/apps/default/whoami/app/whoami-values.yaml:7:16",
    "PL001 error kubernetes/clusters/live/apps/default/whoami/app/whoami-values.yaml:7:16",
    "PL001 error kubernetes/clusters/live/apps/media/sonarr/app/helmrelease.yaml:28:20",
];

const TERRAGRUNT_ENVCOMMON: &[&str] = &[
    "PL003 error _envcommon/flux.hcl:17:22",
    "PL003 error _envcommon/flux.hcl:18:22",
    "PL001 error prod/us-east-1/prod/webserver-cluster/terragrunt.hcl:10:53",
];

const BROKEN: &[&str] = &[
    "PL001 error clusters/prod/bom.yaml:18:40",
    "PL000 error clusters/prod/escape.yaml:1:1",
    "PL000 error clusters/prod/image.yaml:1:1",
    "PL000 error clusters/prod/malformed.yaml:18:11",
    "PL000 error clusters/prod/tabs.yaml:4:2",
    "PL001 warning clusters/staging/crlf.yaml:20:39",
    "PL001 warning clusters/staging/crlf.yaml:22:18",
    "PL000 warning clusters/staging/latin1.yaml:1:1",
    "PL000 error envs/prod/main.tf:6:2",
];

/// Running from a subdirectory reads the whole repository (the production overlay's finding
/// rests on a base in another directory) and only reports what is under it: the same bytes
/// as naming that directory from the root, in a git checkout and in a plain directory (whose
/// root is the directory of its configuration file).
#[test]
fn a_subdirectory_restricts_what_is_reported_not_what_is_read() {
    let run = |dir: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_promolint"))
            .args(args)
            .current_dir(dir)
            .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
            .output()
            .expect("run promolint");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    for git_repo in [false, true] {
        let dir = TempDir::new("subdirectory");
        copy_tree(&fixture("flux-patches"), dir.path());
        dir.write(".promolint.yaml", b"max_file_size: 4194304\n");
        if git_repo {
            git(dir.path(), &["init", "-q", "-b", "main"]);
            git(dir.path(), &["add", "-A"]);
            git(dir.path(), &["commit", "-q", "-m", "fixture"]);
        }
        let from_sub = run(
            &dir.path().join("apps/production"),
            &["check", "--format", "json"],
        );
        let from_root = run(
            dir.path(),
            &["check", "apps/production", "--format", "json"],
        );
        assert_eq!(from_sub, from_root, "git: {git_repo}");
        assert_eq!(from_sub.0, Some(1));
        let json: serde_json::Value = serde_json::from_str(&from_sub.1).expect("json");
        let found: Vec<String> = json["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let related: Vec<String> = f["related"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| format!("{}:{}", r["path"], r["line"]))
                    .collect();
                format!(
                    "{} {}:{}:{} {}",
                    f["rule"],
                    f["path"],
                    f["line"],
                    f["column"],
                    related.join(" ")
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                r#""PL001" "apps/production/redis-values.yaml":9:17 "apps/base/redis/release.yaml":11 "clusters/production/apps.yaml":12"#
            ],
            "git: {git_repo}"
        );
    }
}
