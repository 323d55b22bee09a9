//! Zero-config environments on repositories shaped like real ones: regions and cells as
//! members of a tier, the usual tier order, and `promolint init` writing what a maintainer
//! would write — with which `check` gives the same findings as zero config.

mod common;

use common::{copy_tree, fixture, git, TempDir};
use std::path::Path;

fn findings(start: &Path) -> Vec<String> {
    common::check_findings(start, true)
}

/// `promolint init --stdout` in `dir`.
fn init(dir: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promolint"))
        .args(["init", "--stdout"])
        .current_dir(dir)
        .output()
        .expect("run promolint init");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The fixture in a plain directory: zero-config findings; then the config `init` writes
/// for it: exactly `snapshot`, and the same findings with it.
fn zero_config_and_init_agree(name: &str, expected: &[&str], snapshot: snapbox::Data) {
    let dir = TempDir::new(name);
    copy_tree(&fixture(name), dir.path());
    assert_eq!(findings(dir.path()), expected, "{name}: zero config");
    let config = init(dir.path());
    snapbox::assert_data_eq!(config.clone(), snapshot);
    dir.write(".promolint.yaml", config.as_bytes());
    assert_eq!(
        findings(dir.path()),
        expected,
        "{name}: with the config init wrote"
    );
}

/// `envs/{qa,integration-gpu,load-gpu,staging-eu,staging-asia,prod-eu,prod-asia}` with
/// `variants/{non-prod,prod}` components and a `base/`.
const ENVS_REGIONS: &[&str] = &[
    // payments 1.0.0 skipped qa: a warning, integration is not protected.
    "PL006 warning envs/integration-gpu/kustomization.yaml:12:13 integration-gpu pins ghcr.io/acme/payments to 1.0.0, which qa has not run (qa runs 0.9.0)",
    // payments 1.0.0 in prod-asia ran in no staging member.
    "PL006 error envs/prod-asia/kustomization.yaml:12:13 prod-asia pins ghcr.io/acme/payments to 1.0.0, which none of staging-asia, staging-eu has run (staging-asia runs 0.9.0; staging-eu runs 0.9.0): promote 1.0.0 through staging-asia or staging-eu first, or roll prod-asia back to 0.9.0",
    // Clean: checkout 2.3.0 in prod-asia ran in staging-eu only (any member will do);
    // prod-eu (2.2.0), staging-asia (2.1.0) and load-gpu (2.3.0) lag behind.
];

#[test]
fn envs_regions() {
    zero_config_and_init_agree(
        "envs-regions",
        ENVS_REGIONS,
        snapbox::file!["snapshots/init-envs-regions.yaml"],
    );
}

/// A Terragrunt live repository: `non-prod/` and `prod/` accounts, qa and stage in the
/// first, prod in the second.
#[test]
fn terragrunt_non_prod_and_prod() {
    zero_config_and_init_agree(
        "terragrunt-envcommon",
        &[
            "PL003 error _envcommon/flux.hcl:17:22 prod policy `locals.oci_config.prod.semver`: semver range `>=1.0.0-0` admits pre-release versions in protected environment `prod`",
            "PL003 error _envcommon/flux.hcl:18:22 prod policy `locals.oci_config.prod.tag_pattern`: policy admits `stage--`, a tag of another environment (`stage`)",
            "PL001 error prod/us-east-1/prod/webserver-cluster/terragrunt.hcl:10:53 prod pins git::git@github.com:acme/infrastructure-modules.git//webserver-cluster to `?ref=main`, a branch that moves with every push",
        ],
        snapbox::file!["snapshots/init-terragrunt-envcommon.yaml"],
    );
}

/// A plain directory and a git checkout agree on a region lagging behind, and the
/// environments do not depend on where the files came from.
#[test]
fn envs_regions_in_git() {
    let repo = TempDir::new("envs-regions-git");
    copy_tree(&fixture("envs-regions"), repo.path());
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "import"]);
    // Every version came with the import: nothing says what ran first.
    assert_eq!(findings(repo.path()), Vec::<String>::new());
    // payments 1.1.0 goes to prod-eu, which no staging member ran: the one new finding.
    let prod_eu = repo.path().join("envs/prod-eu/kustomization.yaml");
    let text = std::fs::read_to_string(&prod_eu).expect("read");
    let bumped = text.replace("newTag: 0.9.0", "newTag: 1.1.0");
    std::fs::write(&prod_eu, bumped).expect("write");
    git(
        repo.path(),
        &["commit", "-q", "-am", "prod-eu: payments 1.1.0"],
    );
    assert_eq!(
        findings(repo.path()),
        ["PL006 error envs/prod-eu/kustomization.yaml:12:13 prod-eu pins ghcr.io/acme/payments to 1.1.0, which none of staging-asia, staging-eu has run (staging-asia runs 0.9.0; staging-eu runs 0.9.0): promote 1.1.0 through staging-asia or staging-eu first, or roll prod-eu back to 0.9.0"]
    );
}

/// Every sample repository without a config of its own: `check` with the configuration
/// `init` writes gives the findings zero config gives.
#[test]
fn init_config_keeps_zero_config_findings_on_every_fixture() {
    let root = fixture("");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "scenarios")
        .collect();
    names.sort();
    let mut compared = 0;
    for name in names {
        if fixture(&name).join(".promolint.yaml").exists() {
            continue;
        }
        let dir = TempDir::new(&name);
        copy_tree(&fixture(&name), dir.path());
        let zero = findings(dir.path());
        dir.write(".promolint.yaml", init(dir.path()).as_bytes());
        assert_eq!(findings(dir.path()), zero, "{name}");
        compared += 1;
    }
    assert!(compared >= 8, "only {compared} fixtures compared");
}

/// `init` writes the chain Kargo Stages declare (uat before qa), not the usual order.
#[test]
fn init_writes_the_chain_kargo_declares() {
    let dir = TempDir::new("init-kargo");
    let deployment = |tag: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          image: ghcr.io/acme/shop:{tag}\n"
        )
    };
    for env in ["dev", "qa", "uat"] {
        dir.write(
            &format!("envs/{env}/shop.yaml"),
            deployment("1.0.0").as_bytes(),
        );
    }
    dir.write(
        "kargo/stages.yaml",
        b"apiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: uat}\nspec:\n  requestedFreight:\n    - sources: {stages: [dev]}\n---\napiVersion: kargo.akuity.io/v1alpha1\nkind: Stage\nmetadata: {name: qa}\nspec:\n  requestedFreight:\n    - sources: {stages: [uat]}\n",
    );
    let config = init(dir.path());
    let chain: Vec<&str> = config
        .lines()
        .filter(|l| l.starts_with("  - name: ") || l.starts_with("    after: "))
        .collect();
    assert_eq!(
        chain,
        [
            "  - name: dev",
            "    after: []",
            "  - name: uat",
            "    after: [dev]",
            "  - name: qa",
            "    after: [uat]",
        ],
        "{config}"
    );
}
