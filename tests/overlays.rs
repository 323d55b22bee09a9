//! Kustomize overlays: a base's image is effective in an environment only through an
//! overlay that does not override it, and an overlay built on another overlay carries that
//! overlay's images into its own environment.

use promolint::config::Config;
use promolint::engine::{self, snapshot_from_bytes};

const BASE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
spec:
  template:
    spec:
      containers:
        - name: cart
          image: ghcr.io/shop/cart:latest
";

fn kustomization(resources: &str, tag: Option<&str>) -> String {
    let mut s = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {resources}\n"
    );
    if let Some(t) = tag {
        s.push_str(&format!(
            "images:\n  - name: ghcr.io/shop/cart\n    newTag: {t}\n"
        ));
    }
    s
}

fn findings(files: &[(&str, String)]) -> Vec<String> {
    let config = Config::default();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = snapshot_from_bytes(&files, &config).expect("snapshot");
    let enabled = engine::enabled_rules(&config, &engine::Options::default()).expect("rules");
    engine::run_tree_rules(&snap, &config, &enabled)
        .expect("rules")
        .into_iter()
        .map(|f| {
            format!(
                "{} {} {}:{}:{} {}",
                f.rule,
                f.environment.unwrap_or_default(),
                f.path,
                f.span.line,
                f.span.column,
                f.related.first().map(|r| r.path.as_str()).unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn a_base_overridden_by_every_overlay_is_silent() {
    let got = findings(&[
        ("apps/cart/base/deployment.yaml", BASE.to_string()),
        (
            "apps/cart/base/kustomization.yaml",
            kustomization("deployment.yaml", None),
        ),
        (
            "apps/cart/overlays/staging/kustomization.yaml",
            kustomization("../../base", Some("staging-v1.2.0-100")),
        ),
        (
            "apps/cart/overlays/production/kustomization.yaml",
            kustomization("../../base", Some("production-v1.2.0-200")),
        ),
    ]);
    assert!(got.is_empty(), "{got:#?}");
}

#[test]
fn an_overlay_on_an_overlay_runs_its_images_in_its_own_environment() {
    // production builds on staging without overriding: it runs staging's tag.
    let got = findings(&[
        ("apps/cart/base/deployment.yaml", BASE.to_string()),
        (
            "apps/cart/base/kustomization.yaml",
            kustomization("deployment.yaml", None),
        ),
        (
            "apps/cart/staging/kustomization.yaml",
            kustomization("../base", Some("staging-v1.2.0-100")),
        ),
        (
            "apps/cart/production/kustomization.yaml",
            kustomization("../staging", None),
        ),
    ]);
    assert_eq!(
        got,
        vec!["PL002 production apps/cart/staging/kustomization.yaml:7:13 apps/cart/production/kustomization.yaml"]
    );
}

#[test]
fn a_gap_in_a_chained_overlay_reaches_both_environments() {
    // Neither staging nor production (built on staging) overrides the base's `latest`.
    let got = findings(&[
        ("apps/cart/base/deployment.yaml", BASE.to_string()),
        (
            "apps/cart/base/kustomization.yaml",
            kustomization("deployment.yaml", None),
        ),
        (
            "apps/cart/staging/kustomization.yaml",
            kustomization("../base", None),
        ),
        (
            "apps/cart/production/kustomization.yaml",
            kustomization("../staging", None),
        ),
    ]);
    assert_eq!(
        got,
        vec![
            "PL001 production apps/cart/base/deployment.yaml:10:36 apps/cart/production/kustomization.yaml",
            "PL001 staging apps/cart/base/deployment.yaml:10:36 apps/cart/staging/kustomization.yaml",
        ]
    );
}
