//! Kustomize overlays: a base's image is effective in an environment only through an
//! overlay that does not override it, and an overlay built on another overlay carries that
//! overlay's images into its own environment.

mod common;

use common::{copy_tree, fixture, git, tree_findings as findings, TempDir};
use promolint::config::Config;
use promolint::pipeline::{self as engine, snapshot_from_bytes};

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

// Kustomize patches: a patched field is the pin of the overlay's environment, at the patch,
// with the base's value as related; the base's own value is not effective there.

const RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
  labels:
    app: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      version: \">=1.0.0\"
";

const BASE_KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - release.yaml
";

/// An overlay on `../base/podinfo` with the given extra kustomization text.
fn overlay(extra: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base/podinfo\n{extra}"
    )
}

/// A strategic merge patch of the release's chart version.
fn version_patch(name: &str, version: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: podinfo\nspec:\n  chart:\n    spec:\n      version: \"{version}\"\n"
    )
}

/// Findings with level and every related location.
fn detailed(files: &[(&str, String)]) -> Vec<String> {
    let config = Config::default();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = snapshot_from_bytes(&files, &config).expect("snapshot");
    let enabled = engine::enabled_rules(&config, &engine::Options::default()).expect("rules");
    engine::run_tree_rules(&snap, &config, &enabled)
        .expect("rules")
        .into_iter()
        .map(|f| {
            let related: Vec<String> = f
                .related
                .iter()
                .map(|r| format!("{}:{}:{} {}", r.path, r.span.line, r.span.column, r.message))
                .collect();
            format!(
                "{} {} {} {}:{}:{}-{} [{}]",
                f.rule,
                f.level.as_str(),
                f.environment.unwrap_or_default(),
                f.path,
                f.span.line,
                f.span.column,
                f.span.end_column,
                related.join("; ")
            )
        })
        .collect()
}

fn podinfo(staging: &[(&str, String)], production: &[(&str, String)]) -> Vec<String> {
    let mut files = vec![
        ("apps/base/podinfo/release.yaml", RELEASE.to_string()),
        (
            "apps/base/podinfo/kustomization.yaml",
            BASE_KUSTOMIZATION.to_string(),
        ),
    ];
    files.extend(staging.iter().cloned());
    files.extend(production.iter().cloned());
    detailed(&files)
}

const TARGET_HELM_RELEASE: &str =
    "patches:\n  - path: podinfo-values.yaml\n    target:\n      kind: HelmRelease\n";

#[test]
fn a_patched_chart_version_is_the_pin_of_its_environment() {
    let got = podinfo(
        &[
            (
                "apps/staging/kustomization.yaml",
                overlay(TARGET_HELM_RELEASE),
            ),
            (
                "apps/staging/podinfo-values.yaml",
                version_patch("podinfo", ">=1.0.0-alpha"),
            ),
        ],
        &[
            (
                "apps/production/kustomization.yaml",
                overlay(TARGET_HELM_RELEASE),
            ),
            (
                "apps/production/podinfo-values.yaml",
                version_patch("podinfo", "6.5.0"),
            ),
        ],
    );
    // Production's exact version replaces the base's range: clean. Staging's own range is
    // reported at the patch, with the base's value it overrides.
    assert_eq!(
        got,
        ["PL001 warning staging apps/staging/podinfo-values.yaml:9:17-30 [apps/base/podinfo/release.yaml:12:17 overrides the base's `>=1.0.0` here; apps/staging/kustomization.yaml:4:5 included here by `../base/podinfo`]"]
    );
}

#[test]
fn a_patch_that_sets_a_range_in_production_is_an_error_at_the_patch() {
    let got = podinfo(
        &[],
        &[
            (
                "apps/production/kustomization.yaml",
                overlay(TARGET_HELM_RELEASE),
            ),
            (
                "apps/production/podinfo-values.yaml",
                version_patch("podinfo", ">=1.0.0"),
            ),
        ],
    );
    assert_eq!(
        got,
        ["PL001 error production apps/production/podinfo-values.yaml:9:17-24 [apps/base/podinfo/release.yaml:12:17 overrides the base's `>=1.0.0` here; apps/production/kustomization.yaml:4:5 included here by `../base/podinfo`]"]
    );
}

#[test]
fn an_overlay_without_a_patch_runs_the_base_range() {
    let got = podinfo(
        &[("apps/staging/kustomization.yaml", overlay(""))],
        &[
            (
                "apps/production/kustomization.yaml",
                overlay(TARGET_HELM_RELEASE),
            ),
            (
                "apps/production/podinfo-values.yaml",
                version_patch("podinfo", "6.5.0"),
            ),
        ],
    );
    assert_eq!(
        got,
        ["PL001 warning staging apps/base/podinfo/release.yaml:12:17-24 [apps/staging/kustomization.yaml:4:5 included here by `../base/podinfo`]"]
    );
}

#[test]
fn json_6902_and_inline_patches_are_honoured() {
    let json_file = overlay(
        "patchesJson6902:\n  - target:\n      group: helm.toolkit.fluxcd.io\n      kind: HelmRelease\n      name: podinfo\n    path: version.yaml\n",
    );
    let inline_json = overlay(
        "patches:\n  - target:\n      kind: HelmRelease\n      name: pod.*\n    patch: |-\n      - op: replace\n        path: /spec/chart/spec/version\n        value: \">=6.0.0\"\n",
    );
    let got = podinfo(
        &[("apps/staging/kustomization.yaml", inline_json)],
        &[
            ("apps/production/kustomization.yaml", json_file),
            (
                "apps/production/version.yaml",
                "- op: replace\n  path: /spec/chart/spec/version\n  value: 6.5.0\n".to_string(),
            ),
        ],
    );
    // The inline range is reported where it is written inside the kustomization.
    assert_eq!(
        got,
        ["PL001 warning staging apps/staging/kustomization.yaml:12:17-24 [apps/base/podinfo/release.yaml:12:17 overrides the base's `>=1.0.0` here; apps/staging/kustomization.yaml:4:5 included here by `../base/podinfo`]"]
    );
}

#[test]
fn a_patch_applies_only_to_what_its_target_or_identity_selects() {
    let cases = [
        // Kustomize anchors the name regex: `pod` does not select `podinfo`.
        "patches:\n  - path: podinfo-values.yaml\n    target:\n      name: pod\n",
        // A label the release does not carry.
        "patches:\n  - path: podinfo-values.yaml\n    target:\n      labelSelector: app=other\n",
        // A set-based selector is not followed: the base stays as written.
        "patches:\n  - path: podinfo-values.yaml\n    target:\n      labelSelector: app in (podinfo)\n",
        // Another kind.
        "patches:\n  - path: podinfo-values.yaml\n    target:\n      kind: Deployment\n",
        // No target: the patch's own name must match.
        "patchesStrategicMerge:\n  - other-values.yaml\n",
    ];
    for extra in cases {
        let got = podinfo(
            &[],
            &[
                ("apps/production/kustomization.yaml", overlay(extra)),
                (
                    "apps/production/podinfo-values.yaml",
                    version_patch("podinfo", "6.5.0"),
                ),
                (
                    "apps/production/other-values.yaml",
                    version_patch("other", "6.5.0"),
                ),
            ],
        );
        assert_eq!(
            got,
            ["PL001 error production apps/base/podinfo/release.yaml:12:17-24 [apps/production/kustomization.yaml:4:5 included here by `../base/podinfo`]"],
            "{extra}"
        );
    }
    for extra in [
        "patches:\n  - path: podinfo-values.yaml\n    target:\n      labelSelector: app=podinfo\n      namespace: podinfo\n",
        "patchesStrategicMerge:\n  - podinfo-values.yaml\n",
        "patches:\n  - path: podinfo-values.yaml\n",
    ] {
        let got = podinfo(
            &[],
            &[
                ("apps/production/kustomization.yaml", overlay(extra)),
                (
                    "apps/production/podinfo-values.yaml",
                    version_patch("podinfo", "6.5.0"),
                ),
            ],
        );
        assert!(got.is_empty(), "{extra}: {got:#?}");
    }
}

#[test]
fn a_component_patch_applies_to_the_overlay_that_uses_it() {
    let got = podinfo(
        &[],
        &[
            (
                "apps/production/kustomization.yaml",
                overlay("components:\n  - ../components/pinned\n"),
            ),
            (
                "apps/components/pinned/kustomization.yaml",
                // Nothing here names a version: the component is read for its patches.
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatchesStrategicMerge:\n  - pinned.yaml\n".to_string(),
            ),
            (
                "apps/components/pinned/pinned.yaml",
                version_patch("podinfo", "6.5.0"),
            ),
        ],
    );
    assert!(got.is_empty(), "{got:#?}");
}

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/web:latest
      containers:
        - name: web
          image: ghcr.io/acme/web:latest
";

#[test]
fn a_container_image_patch_replaces_the_base_image_by_container_name() {
    let web = |patch: &str| {
        detailed(&[
            ("apps/web/base/deployment.yaml", WEB.to_string()),
            (
                "apps/web/base/kustomization.yaml",
                "resources:\n  - deployment.yaml\n".to_string(),
            ),
            (
                "apps/web/production/kustomization.yaml",
                "resources:\n  - ../base\npatchesStrategicMerge:\n  - image.yaml\n".to_string(),
            ),
            ("apps/web/production/image.yaml", patch.to_string()),
        ])
    };
    // Only the `web` container is patched: the init container still runs `latest`.
    let got = web("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:v1.2.3\n");
    assert_eq!(
        got,
        ["PL001 error production apps/web/base/deployment.yaml:10:35-41 [apps/web/production/kustomization.yaml:2:5 included here by `../base`]"]
    );
    // A patch that pins both is clean; its own pins are the base's, patched, not a second
    // copy.
    let got = web("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      initContainers:\n        - name: migrate\n          image: ghcr.io/acme/web:v1.2.3\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:main\n");
    assert_eq!(
        got,
        ["PL001 error production apps/web/production/image.yaml:13:35-39 [apps/web/base/deployment.yaml:13:35 overrides the base's `latest` here; apps/web/production/kustomization.yaml:2:5 included here by `../base`]"]
    );
}

#[test]
fn a_patch_that_matches_no_visible_base_keeps_its_own_pins() {
    // The base is remote: the patch's image is still what production runs.
    let got = detailed(&[
        (
            "apps/web/production/kustomization.yaml",
            "resources:\n  - https://github.com/acme/web//deploy?ref=v1\npatches:\n  - path: image.yaml\n".to_string(),
        ),
        (
            "apps/web/production/image.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:latest\n".to_string(),
        ),
    ]);
    assert_eq!(
        got,
        ["PL001 error production apps/web/production/image.yaml:10:35-41 []"]
    );
}

#[test]
fn source_refs_and_values_images_are_patched_field_by_field() {
    let source = "apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: manifests
spec:
  url: oci://ghcr.io/acme/manifests
  ref:
    semver: \">=1.0.0\"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
spec:
  chart:
    spec:
      chart: web
      version: 1.0.0
  values:
    image:
      repository: ghcr.io/acme/web
      tag: latest
";
    let run = |patch: &str| {
        detailed(&[
            ("apps/base/source.yaml", source.to_string()),
            (
                "apps/base/kustomization.yaml",
                "resources:\n  - source.yaml\n".to_string(),
            ),
            (
                "apps/production/kustomization.yaml",
                "resources:\n  - ../base\npatches:\n  - path: patch.yaml\n".to_string(),
            ),
            ("apps/production/patch.yaml", patch.to_string()),
        ])
    };
    // A tag does not beat the base's semver (Flux prefers semver), and a values tag
    // replaces the base's `latest`.
    let got = run("apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: manifests\nspec:\n  ref:\n    tag: v1.2.3\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  values:\n    image:\n      tag: v2.0.0\n");
    assert_eq!(
        got,
        ["PL001 error production apps/base/source.yaml:8:14-21 [apps/production/kustomization.yaml:2:5 included here by `../base`]"]
    );
    // A digest pins the artifact; a values tag set to `main` is reported at the patch.
    let got = run("apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: manifests\nspec:\n  ref:\n    digest: sha256:0123abcd\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\nspec:\n  values:\n    image:\n      tag: main\n");
    assert_eq!(
        got,
        ["PL001 error production apps/production/patch.yaml:16:12-16 [apps/base/source.yaml:22:12 overrides the base's `latest` here; apps/production/kustomization.yaml:2:5 included here by `../base`]"]
    );
}

#[test]
fn a_production_patch_behind_staging_is_no_promotion_order_finding_with_history() {
    // The history holds pins as files write them: a patch that sets only a chart version
    // is not in it. A production version below the one staging's patch runs now was
    // passed through; one above it was not.
    let repo = TempDir::new("patched-history");
    copy_tree(&fixture("flux-patches"), repo.path());
    let staging = "apps/staging/podinfo-values.yaml";
    let set = |path: &str, from: &str, to: &str| {
        let file = repo.path().join(path);
        let text = std::fs::read_to_string(&file).expect("read");
        std::fs::write(&file, text.replace(from, to)).expect("write");
    };
    set(staging, ">=1.0.0-alpha", "6.5.0");
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(
        repo.path(),
        &["commit", "-q", "-m", "staging and production run 6.5.0"],
    );
    set(staging, "6.5.0", "6.5.1");
    git(repo.path(), &["commit", "-q", "-am", "staging runs 6.5.1"]);
    let check = || {
        let outcome = engine::check(&engine::Options {
            start: repo.path().to_path_buf(),
            ..engine::Options::default()
        })
        .unwrap_or_else(|e| panic!("check failed: {e}"));
        outcome
            .findings
            .iter()
            .map(|f| format!("{} {}:{}:{}", f.rule, f.path, f.span.line, f.span.column))
            .collect::<Vec<_>>()
    };
    assert_eq!(check(), ["PL001 apps/production/redis-values.yaml:9:17"]);
    set("apps/production/podinfo-values.yaml", "6.5.0", "6.6.0");
    assert_eq!(
        check(),
        [
            "PL006 apps/production/podinfo-values.yaml:9:17",
            "PL001 apps/production/redis-values.yaml:9:17"
        ]
    );
}

/// A kustomization's `namespace:` moves the resources it lists into its namespace: a base
/// whose own `metadata.namespace` names staging runs in production when production's
/// overlay sets `namespace: production`, and not in staging unless staging builds it.
#[test]
fn a_namespace_transformer_moves_a_resource_out_of_its_own_namespace() {
    let base = BASE.replace("  name: cart\n", "  name: cart\n  namespace: staging\n");
    let overlay = |ns: &str| {
        format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n  - ../base\n")
    };
    let mut files = vec![
        ("deploy/cart/base/deployment.yaml", base.clone()),
        (
            "deploy/cart/base/kustomization.yaml",
            "resources: [deployment.yaml]\n".to_string(),
        ),
        (
            "deploy/cart/prod-overlay/kustomization.yaml",
            overlay("production"),
        ),
    ];
    let config = promolint::config::load::parse(CONFIG, ".promolint.yaml").expect("config");
    assert_eq!(
        envs_of_cart(&files, &config),
        ["production"],
        "the base's own namespace is replaced"
    );
    // Without the transformer the base's own namespace still counts.
    files[2].1 = "resources: [../base]\n".to_string();
    assert_eq!(envs_of_cart(&files, &config), ["staging"]);
}

const CONFIG: &str = "environments:\n  - name: staging\n    namespaces: [staging]\n  - name: production\n    after: [staging]\n    protected: true\n    namespaces: [production]\n";

fn envs_of_cart(files: &[(&str, String)], config: &Config) -> Vec<String> {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = snapshot_from_bytes(&files, config).expect("snapshot");
    snap.pins
        .iter()
        .filter(|p| snap.pin(p).component == "ghcr.io/shop/cart")
        .map(|p| snap.envs.get(p.env).name.clone())
        .collect()
}
