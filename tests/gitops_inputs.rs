//! Argo CD, Kargo and Renovate inputs through the whole engine (`promolint check` on a
//! plain directory): what the rules make of them.

mod common;

use common::TempDir;

fn check(files: &[(&str, &str)]) -> Vec<String> {
    let dir = TempDir::new("gitops-inputs");
    for (path, text) in files {
        dir.write(path, text.as_bytes());
    }
    common::check_findings(dir.path(), true)
}

fn charts(version: &str) -> String {
    format!("- name: app\n  chart:\n    name: app\n    version: \"{version}\"\n")
}

const DAG: &str = r#"apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
  namespace: shop
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: shop}
      sources:
        direct: true
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: staging-eu
  namespace: shop
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: shop}
      sources:
        stages: [dev]
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: staging-us
  namespace: shop
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: shop}
      sources:
        stages: [dev]
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: prod
  namespace: shop
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: shop}
      sources:
        stages: [staging-eu, staging-us]
"#;

/// dev → staging-eu, staging-us → prod declared by Kargo. The usual order alone would put
/// qa (a cluster Kargo gates nothing on) before the staging clusters, and their 2.0.0
/// would be reported as never run by qa.
#[test]
fn kargo_dag_decides_which_predecessors_prod_has() {
    let mut files = vec![
        ("clusters/dev/helm-charts.yaml", charts("2.0.0")),
        ("clusters/qa/helm-charts.yaml", charts("1.0.0")),
        ("clusters/staging-eu/helm-charts.yaml", charts("2.0.0")),
        ("clusters/staging-us/helm-charts.yaml", charts("2.0.0")),
        ("clusters/prod/helm-charts.yaml", charts("2.0.0")),
    ];
    let as_refs = |v: &[(&str, String)]| -> Vec<String> {
        check(&v.iter().map(|(p, t)| (*p, t.as_str())).collect::<Vec<_>>())
    };
    assert_eq!(
        as_refs(&files),
        [
            "PL006 warning clusters/staging-eu/helm-charts.yaml:4:15 staging-eu pins app to 2.0.0, which qa has not run (qa runs 1.0.0)",
            "PL006 warning clusters/staging-us/helm-charts.yaml:4:15 staging-us pins app to 2.0.0, which qa has not run (qa runs 1.0.0)",
        ]
    );
    files.push(("kargo/shop/stages.yaml", DAG.to_string()));
    assert_eq!(as_refs(&files), Vec::<String>::new());

    // Prod ahead of the staging clusters it is declared to follow is reported against them.
    files[4].1 = charts("3.0.0");
    assert_eq!(
        as_refs(&files),
        ["PL006 error clusters/prod/helm-charts.yaml:4:15 prod pins app to 3.0.0, which staging-eu has not run (staging-eu runs 2.0.0); staging-us has not run (staging-us runs 2.0.0): promote 3.0.0 through staging-eu and staging-us first, or roll prod back to 2.0.0"]
    );
}

/// Kargo's chain dev → uat → qa, where the usual order puts qa before uat: the declared
/// chain wins.
#[test]
fn kargo_chain_beats_the_usual_order() {
    let stages = r#"apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: uat}
spec:
  requestedFreight:
    - sources: {stages: [dev]}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: qa}
spec:
  requestedFreight:
    - sources: {stages: [uat]}
"#;
    let dev = charts("2.0.0");
    let qa = charts("1.0.0");
    let uat = charts("2.0.0");
    let tree = [
        ("envs/dev/helm-charts.yaml", dev.as_str()),
        ("envs/qa/helm-charts.yaml", qa.as_str()),
        ("envs/uat/helm-charts.yaml", uat.as_str()),
    ];
    // The usual order: dev < qa < uat, and uat is ahead of qa.
    assert_eq!(
        check(&tree),
        ["PL006 warning envs/uat/helm-charts.yaml:4:15 uat pins app to 2.0.0, which qa has not run (qa runs 1.0.0)"]
    );
    // Declared: uat follows dev, and qa, behind uat, lags.
    let mut declared = tree.to_vec();
    declared.push(("kargo/stages.yaml", stages));
    assert_eq!(check(&declared), Vec::<String>::new());
}

#[test]
fn argo_image_updater_policies_are_judged_by_pl003() {
    let app = |env: &str, annotations: &str| {
        format!(
            r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: shop-{env}
  namespace: argocd
  annotations:
    argocd-image-updater.argoproj.io/image-list: shop=ghcr.io/acme/shop
{annotations}spec:
  source:
    repoURL: oci://ghcr.io/acme/charts
    chart: shop
    targetRevision: 1.0.0
  destination:
    namespace: shop-{env}
"#
        )
    };
    let dev = app(
        "dev",
        "    argocd-image-updater.argoproj.io/shop.allow-tags: regexp:^dev-[0-9]+$\n    argocd-image-updater.argoproj.io/shop.update-strategy: newest-build\n",
    );
    let staging = app(
        "staging",
        "    argocd-image-updater.argoproj.io/shop.allow-tags: regexp:staging-[0-9]+$\n",
    );
    let prod = app(
        "prod",
        "    argocd-image-updater.argoproj.io/shop.allow-tags: any\n",
    );
    let found = check(&[
        ("argocd/shop-dev.yaml", &dev),
        ("argocd/shop-staging.yaml", &staging),
        ("argocd/shop-prod.yaml", &prod),
    ]);
    assert_eq!(
        found,
        [
            "PL003 error argocd/shop-prod.yaml:8:55 prod policy `shop-prod/shop`: policy admits `dev-`, a tag of another environment (`dev`)",
            "PL003 warning argocd/shop-staging.yaml:8:62 staging policy `shop-staging/shop`: tag pattern is not anchored with `^`: it admits `xstaging-0`, with arbitrary text in front",
        ]
    );
}

#[test]
fn renovate_findings_can_be_suppressed_in_json5() {
    let renovate = r#"{
  packageRules: [
    {
      // promolint: ignore[PL010] live takes security patches straight away, agreed in ADR-12
      matchFileNames: ["clusters/*/helm-charts.yaml"],
      matchUpdateTypes: ["patch"],
    },
    {
      matchFileNames: ["clusters/**/helm-charts.yaml"],
    },
  ],
}
"#;
    let dev = charts("1.0.0");
    let prod = charts("1.0.0");
    let found = check(&[
        ("renovate.json5", renovate),
        ("clusters/dev/helm-charts.yaml", &dev),
        ("clusters/prod/helm-charts.yaml", &prod),
    ]);
    assert_eq!(
        found,
        ["PL010 error renovate.json5:9:25 Renovate packageRules[1] updates `clusters/prod/helm-charts.yaml` of protected environment prod directly: `clusters/**/helm-charts.yaml` matches it and no rule disables it there"]
    );
}

#[test]
fn malformed_renovate_config_is_an_unreadable_file_note() {
    let prod = charts("1.0.0");
    let found = check(&[
        (
            ".github/renovate.json5",
            "{\n  packageRules: [\n    {matchFileNames: ['clusters/**'] enabled: false},\n  ],\n}\n",
        ),
        ("clusters/prod/helm-charts.yaml", &prod),
    ]);
    assert_eq!(
        found,
        ["PL000 note .github/renovate.json5:3:38 file skipped: malformed JSON5 at line 3 column 38: expected `,` or `}`, found `e`"]
    );
}

/// An app-template HelmRelease whose values set `tag` to `tag` for the app container.
fn app_template(tag: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: echo\nspec:\n  \
         chartRef: {{kind: OCIRepository, name: app-template}}\n  values:\n    controllers:\n      \
         echo:\n        containers:\n          app:\n            image:\n              \
         repository: ghcr.io/acme/echo\n              tag: {tag}\n"
    )
}

const DIGEST_1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const DIGEST_2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// Images nested in Helm values are pins like any other: `tag: <version>@sha256:…` is a
/// version and a digest, so dev ahead of prod is a normal promotion and prod ahead of
/// dev is PL006; `latest` in prod is PL001; a missing tag and a substitution are no pins.
#[test]
fn helm_values_images_through_the_rules() {
    let dev_path = "kubernetes/clusters/dev/apps/default/echo/helmrelease.yaml";
    let prod_path = "kubernetes/clusters/prod/apps/default/echo/helmrelease.yaml";
    let newer = app_template(&format!("1.2.0@{DIGEST_2}"));
    let older = app_template(&format!("1.1.0@{DIGEST_1}"));
    assert_eq!(
        check(&[(dev_path, &newer), (prod_path, &older)]),
        Vec::<String>::new()
    );
    assert_eq!(
        check(&[(dev_path, &older), (prod_path, &newer)]),
        [format!(
            "PL006 error {prod_path}:14:20 prod pins ghcr.io/acme/echo to 1.2.0, \
             which dev has not run (dev runs 1.1.0): promote 1.2.0 through dev first, or roll prod back to 1.1.0"
        )]
    );
    let latest = app_template("latest");
    assert_eq!(
        check(&[(dev_path, &latest), (prod_path, &latest)]),
        [
            format!(
                "PL001 warning {dev_path}:14:20 dev pins ghcr.io/acme/echo to mutable tag `latest`"
            ),
            format!(
                "PL001 error {prod_path}:14:20 prod pins ghcr.io/acme/echo to mutable tag `latest`"
            ),
        ]
    );
    // The chart's appVersion, and a value Flux substitutes: nothing to judge.
    let no_tag = app_template("\"\"");
    let substituted = app_template("${ECHO_VERSION:=1.2.0}");
    assert_eq!(
        check(&[(dev_path, &substituted), (prod_path, &no_tag)]),
        Vec::<String>::new()
    );
    // The same values in a values file of the protected environment.
    let values = "controllers:\n  echo:\n    containers:\n      app:\n        image:\n          \
                  repository: ghcr.io/acme/echo\n          tag: latest\n";
    let values_path = "kubernetes/clusters/prod/apps/default/echo/values.yaml";
    assert_eq!(
        check(&[(values_path, values)]),
        [format!(
            "PL001 error {values_path}:7:16 prod pins ghcr.io/acme/echo to mutable tag `latest`"
        )]
    );
    // Not a values file by its name: arbitrary YAML is not searched for images.
    assert_eq!(
        check(&[(
            "kubernetes/clusters/prod/apps/default/echo/config.yaml",
            values
        )]),
        Vec::<String>::new()
    );
}
