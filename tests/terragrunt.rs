//! Terragrunt live repositories: a file read through `include` or
//! `read_terragrunt_config` takes effect in the environment of every unit reading it, and a
//! unit's own `terraform { source }` or `inputs` key replaces the included one.

mod common;

use common::tree_findings as findings;
use promolint::config::Config;
use promolint::pipeline::snapshot_from_bytes;

const ROOT: &str = "remote_state {\n  backend = \"s3\"\n}\n";

/// A shared file with a default module source on branch `main` and a version local.
const ENVCOMMON: &str = r#"locals {
  base_source_url = "git::git@github.com:acme/modules.git//mysql"
  engine_version  = "latest"
}

terraform {
  source = "${local.base_source_url}?ref=main"
}
"#;

fn unit(own_source: Option<&str>) -> String {
    let mut s = String::from(
        r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}

include "envcommon" {
  path = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/mysql.hcl"
}
"#,
    );
    if let Some(r) = own_source {
        s.push_str(&format!(
            "\nterraform {{\n  source = \"${{include.envcommon.locals.base_source_url}}?ref={r}\"\n}}\n"
        ));
    }
    s
}

const QA: &str = "non-prod/us-east-1/qa/mysql/terragrunt.hcl";
const PROD: &str = "prod/us-east-1/prod/mysql/terragrunt.hcl";

/// The shared file's pins are judged in each environment that includes it, at their span
/// in the shared file, with the including unit's `include` as the related location.
#[test]
fn included_pins_take_effect_in_each_including_environment() {
    let got = findings(&[
        ("root.hcl", ROOT.to_string()),
        ("_envcommon/mysql.hcl", ENVCOMMON.to_string()),
        (QA, unit(None)),
        (PROD, unit(None)),
    ]);
    assert_eq!(
        got,
        [
            format!("PL001 prod _envcommon/mysql.hcl:3:22 {PROD}"),
            format!("PL001 qa _envcommon/mysql.hcl:3:22 {QA}"),
            format!("PL001 prod _envcommon/mysql.hcl:7:42 {PROD}"),
            format!("PL001 qa _envcommon/mysql.hcl:7:42 {QA}"),
        ]
    );
}

/// A unit's own `terraform { source }` replaces the shared default (Terragrunt merges the
/// block); the shared `locals` still take effect.
#[test]
fn a_units_own_source_replaces_the_included_one() {
    let got = findings(&[
        ("root.hcl", ROOT.to_string()),
        ("_envcommon/mysql.hcl", ENVCOMMON.to_string()),
        (QA, unit(Some("v0.9.0"))),
        (PROD, unit(Some("main"))),
    ]);
    assert_eq!(
        got,
        [
            format!("PL001 prod _envcommon/mysql.hcl:3:22 {PROD}"),
            "PL001 qa _envcommon/mysql.hcl:3:22 non-prod/us-east-1/qa/mysql/terragrunt.hcl"
                .to_string(),
            // The unit's own ref: its column is that of `main` after `?ref=`.
            format!("PL001 prod {PROD}:10:61 -"),
        ]
    );
}

/// A shared file no unit includes, or one a unit cannot be shown to include, takes effect
/// nowhere; `non-prod` is no production.
#[test]
fn unread_shared_files_and_non_prod_take_effect_nowhere_protected() {
    let got = findings(&[
        ("root.hcl", ROOT.to_string()),
        ("_envcommon/mysql.hcl", ENVCOMMON.to_string()),
        (
            "non-prod/us-east-1/_global/iam/terragrunt.hcl",
            "terraform {\n  source = \"git::git@github.com:acme/modules.git//iam?ref=main\"\n}\n"
                .to_string(),
        ),
        (
            PROD,
            "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n".to_string(),
        ),
    ]);
    assert!(got.is_empty(), "{got:#?}");
}

/// The shared file's default source and a unit's own ref to the shared local are one
/// component: qa's own v0.9.0 and prod's inherited default are compared.
#[test]
fn the_shared_default_and_a_units_ref_are_one_module() {
    let config = Config::default();
    let files = [
        ("root.hcl", ROOT.to_string()),
        (
            "_envcommon/mysql.hcl",
            ENVCOMMON.replace("ref=main", "ref=v0.8.0"),
        ),
        (QA, unit(Some("v0.9.0"))),
        (PROD, unit(None)),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = snapshot_from_bytes(&files, &config).expect("snapshot");
    let mut got: Vec<(String, String, String)> = snap
        .pins
        .iter()
        .map(|p| {
            let pin = snap.pin(p);
            (
                snap.envs.get(p.env).name.clone(),
                pin.component.clone(),
                pin.reference.value.clone(),
            )
        })
        .collect();
    got.sort();
    let m = "${_envcommon/mysql.hcl:base_source_url}".to_string();
    let e = "engine_version".to_string();
    assert_eq!(
        got,
        [
            ("prod".into(), m.clone(), "v0.8.0".into()),
            ("prod".into(), e.clone(), "latest".into()),
            ("qa".into(), m, "v0.9.0".into()),
            ("qa".into(), e, "latest".into()),
        ]
    );
}
