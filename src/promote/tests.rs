use super::*;
use crate::config::Config;
use crate::edit::apply;

fn span(text: &str, value: &str) -> Span {
    let start = text.find(value).expect("value in text");
    crate::model::LineIndex::new(text).span(text, start..start + value.len())
}

#[test]
fn value_range_takes_the_span_or_the_one_whole_token_inside_it() {
    let text = r#"source = "git::https://example.com/m.git//vpc?ref=v1.2.3""#;
    let whole = span(text, "git::https://example.com/m.git//vpc?ref=v1.2.3");
    let r = value_range(text, &whole, "v1.2.3").expect("found");
    assert_eq!(&text[r], "v1.2.3");
    // `v1` inside `v10` is no match; two matches are ambiguous.
    let t = "image: repo:v10";
    assert_eq!(value_range(t, &span(t, "repo:v10"), "v1"), None);
    let t = "x: v1-v1";
    assert_eq!(value_range(t, &span(t, "v1-v1"), "v1"), None);
    let t = "newTag: \"v1\"";
    assert_eq!(value_range(t, &span(t, "v1"), "v1"), Some(9..11));
}

#[test]
fn digest_range_finds_the_digest_beside_the_tag() {
    let d = format!("sha256:{}", "a".repeat(64));
    let text =
        format!("images:\n  - name: app\n    newTag: v1\n    digest: {d}\n  - name: other\n");
    let tag = span(&text, "v1");
    let r = digest_range(&text, &tag, &d).expect("found");
    assert_eq!(&text[r.clone()], d);
    assert_eq!(r.start, text.find(&d).expect("digest"));
    // Too far away: not this pin's digest.
    let far = format!("newTag: v1\n\n\n\n\n\n\ndigest: {d}\n");
    assert_eq!(digest_range(&far, &span(&far, "v1"), &d), None);
}

fn plan_of(files: &[(&str, &str)], req: Request) -> Result<Plan, Error> {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = crate::pipeline::snapshot_from_bytes(&bytes, &Config::default()).expect("snapshot");
    plan(
        &snap,
        &HistoryIndex::empty(),
        &Config::default().mutable_tags,
        &req,
    )
}

fn promoted(files: &[(&str, &str)], plan: &Plan, path: &str) -> String {
    let text = files
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
        .expect("file");
    let edits: Vec<&Edit> = plan
        .promotions
        .iter()
        .flat_map(|p| &p.changes)
        .map(|c| &c.edit)
        .filter(|e| e.path == path)
        .collect();
    apply(text, &edits).expect("apply")
}

const DEV_DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:v1.4.0@sha256:1111111111111111111111111111111111111111111111111111111111111111\n";

#[test]
fn an_image_string_gets_the_predecessors_tag_and_digest() {
    let prod = "apiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: api\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n        - name: api # the API\r\n          image: \"ghcr.io/acme/api:v1.3.0@sha256:2222222222222222222222222222222222222222222222222222222222222222\"\r\n";
    let files = [
        ("apps/dev/api.yaml", DEV_DEPLOY),
        ("apps/prod/api.yaml", prod),
    ];
    let plan = plan_of(
        &files,
        Request {
            components: vec!["ghcr.io/acme/api".to_string()],
            to: "prod".to_string(),
            ..Request::default()
        },
    )
    .expect("plan");
    assert_eq!(plan.promotions.len(), 1);
    let p = &plan.promotions[0];
    assert_eq!(
        (p.from.clone(), p.to.as_str()),
        (vec!["v1.3.0".to_string()], "v1.4.0")
    );
    assert_eq!(p.source.as_deref(), Some("dev"));
    assert_eq!(
        promoted(&files, &plan, "apps/prod/api.yaml"),
        "apiVersion: apps/v1\r\nkind: Deployment\r\nmetadata:\r\n  name: api\r\nspec:\r\n  template:\r\n    spec:\r\n      containers:\r\n        - name: api # the API\r\n          image: \"ghcr.io/acme/api:v1.4.0@sha256:1111111111111111111111111111111111111111111111111111111111111111\"\r\n"
    );
    let at: Vec<(u32, u32, &str)> = p
        .changes
        .iter()
        .map(|c| (c.line, c.column, c.to.as_str()))
        .collect();
    assert_eq!(at[0], (10, 36, "v1.4.0"));
    assert_eq!(at[1].0, 10);
}

#[test]
fn refuses_what_it_cannot_write_exactly() {
    let files = [
        ("apps/dev/api.yaml", DEV_DEPLOY),
        (
            "apps/prod/api.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:v1.3.0\n",
        ),
    ];
    let req = |c: &str, to: &str| Request {
        components: vec![c.to_string()],
        to: to.to_string(),
        ..Request::default()
    };
    let err = plan_of(&files, req("ghcr.io/acme/apy", "prod")).expect_err("unknown");
    assert!(
        err.to_string().contains("did you mean `ghcr.io/acme/api`"),
        "{err}"
    );
    let err = plan_of(&files, req("ghcr.io/acme/api", "qa")).expect_err("no env");
    assert!(
        err.to_string().contains("the environments are: dev, prod"),
        "{err}"
    );
    let err = plan_of(&files, req("ghcr.io/acme/api", "dev")).expect_err("first env");
    assert!(
        err.to_string().contains("no environment before `dev`"),
        "{err}"
    );
    // Already there: nothing to do, and said so.
    let same = [
        ("apps/dev/api.yaml", DEV_DEPLOY),
        ("apps/prod/api.yaml", DEV_DEPLOY),
    ];
    let plan = plan_of(&same, req("ghcr.io/acme/api", "prod")).expect("plan");
    assert!(plan.promotions.is_empty());
    assert_eq!(plan.skipped.len(), 1);
}

fn one(component: &str, to: &str) -> Request {
    Request {
        components: vec![component.to_string()],
        to: to.to_string(),
        ..Request::default()
    }
}

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

#[test]
fn a_kustomize_images_entry_gets_its_new_tag_and_digest_keys() {
    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api\n";
    let overlay = |tag: &str, digest: &str| {
        format!("resources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/api\n    newTag: {tag} # bumped by CI\n    digest: {digest}\n")
    };
    let (dev, prod) = (overlay("v1.4.0", D1), overlay("v1.3.0", D2));
    let files = [
        ("apps/base/deployment.yaml", base),
        (
            "apps/base/kustomization.yaml",
            "resources:\n  - deployment.yaml\n",
        ),
        ("apps/dev/kustomization.yaml", dev.as_str()),
        ("apps/prod/kustomization.yaml", prod.as_str()),
    ];
    let plan = plan_of(&files, one("ghcr.io/acme/api", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "apps/prod/kustomization.yaml"),
        overlay("v1.4.0", D1)
    );
}

#[test]
fn a_values_file_image_and_a_strategic_merge_patch_image() {
    let values = |tag: &str, digest: &str| {
        format!("replicaCount: 2\nimage:\n  repository: ghcr.io/acme/web\n  tag: \"{tag}\"\n  digest: {digest}\n  pullPolicy: IfNotPresent\n")
    };
    let (dev, prod) = (values("2.1.0", D1), values("2.0.3", D2));
    let files = [
        ("charts/web/envs/dev/values.yaml", dev.as_str()),
        ("charts/web/envs/prod/values.yaml", prod.as_str()),
    ];
    let plan = plan_of(&files, one("ghcr.io/acme/web", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "charts/web/envs/prod/values.yaml"),
        values("2.1.0", D1)
    );

    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: ghcr.io/acme/worker:latest\n";
    let patch = |tag: &str| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: ghcr.io/acme/worker:{tag}   # set per environment\n")
    };
    let overlay = "resources:\n  - ../base\npatches:\n  - path: worker-image.yaml\n";
    let (dev, prod) = (patch("v3.2.0"), patch("v3.1.9"));
    let files = [
        ("apps/base/worker.yaml", base),
        (
            "apps/base/kustomization.yaml",
            "resources:\n  - worker.yaml\n",
        ),
        ("apps/dev/kustomization.yaml", overlay),
        ("apps/dev/worker-image.yaml", dev.as_str()),
        ("apps/prod/kustomization.yaml", overlay),
        ("apps/prod/worker-image.yaml", prod.as_str()),
    ];
    let plan = plan_of(&files, one("ghcr.io/acme/worker", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "apps/prod/worker-image.yaml"),
        patch("v3.2.0")
    );
}

#[test]
fn a_base_value_two_environments_run_is_not_edited() {
    // prod and staging both run the base's tag: editing it would promote staging too.
    let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:v1.0.0\n";
    let dev = "resources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/api\n    newTag: v1.1.0\n";
    let plain = "resources:\n  - ../base\n";
    let files = [
        ("apps/base/deployment.yaml", base),
        (
            "apps/base/kustomization.yaml",
            "resources:\n  - deployment.yaml\n",
        ),
        ("apps/dev/kustomization.yaml", dev),
        ("apps/staging/kustomization.yaml", plain),
        ("apps/prod/kustomization.yaml", plain),
    ];
    let err = plan_of(&files, one("ghcr.io/acme/api", "staging")).expect_err("shared");
    assert!(
        err.to_string()
            .contains("is what `prod` runs too: editing it would promote it as well"),
        "{err}"
    );
}

#[test]
fn an_argo_cd_application_kustomize_image() {
    let app = |env: &str, tag: &str| {
        format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: api-{env}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/deploy.git\n    targetRevision: v4.2.0\n    path: apps/api\n    kustomize:\n      images:\n        - 'ghcr.io/acme/api:{tag}'\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: api-{env}\n")
    };
    let (dev, prod) = (app("dev", "v1.8.0"), app("prod", "v1.7.2"));
    let files = [
        ("argocd/dev/api.yaml", dev.as_str()),
        ("argocd/prod/api.yaml", prod.as_str()),
    ];
    let plan = plan_of(&files, one("ghcr.io/acme/api", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "argocd/prod/api.yaml"),
        app("prod", "v1.8.0")
    );
}

#[test]
fn a_flux_oci_repository_tag() {
    let oci = |tag: &str| {
        format!("apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: manifests\n  namespace: flux-system\nspec:\n  interval: 5m\n  url: oci://ghcr.io/acme/manifests\n  ref:\n    tag: {tag}\n")
    };
    let (dev, prod) = (oci("0.9.1"), oci("0.8.4"));
    let files = [
        ("clusters/dev/manifests.yaml", dev.as_str()),
        ("clusters/prod/manifests.yaml", prod.as_str()),
    ];
    let plan = plan_of(&files, one("ghcr.io/acme/manifests", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "clusters/prod/manifests.yaml"),
        oci("0.9.1")
    );
}

#[test]
fn a_json_6902_patch_value_and_a_flux_substitute_value() {
    let release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: redis\n  namespace: redis\nspec:\n  chart:\n    spec:\n      chart: redis\n      version: \"*\"\n";
    let overlay = "resources:\n  - ../base\npatchesJson6902:\n  - target:\n      group: helm.toolkit.fluxcd.io\n      kind: HelmRelease\n      name: redis\n    path: redis-version.yaml\n";
    let patch =
        |v: &str| format!("- op: replace\n  path: /spec/chart/spec/version\n  value: \"{v}\"\n");
    let (dev, prod) = (patch("20.1.0"), patch("18.6.1"));
    let files = [
        ("apps/base/release.yaml", release),
        (
            "apps/base/kustomization.yaml",
            "resources:\n  - release.yaml\n",
        ),
        ("apps/dev/kustomization.yaml", overlay),
        ("apps/dev/redis-version.yaml", dev.as_str()),
        ("apps/prod/kustomization.yaml", overlay),
        ("apps/prod/redis-version.yaml", prod.as_str()),
    ];
    let plan = plan_of(&files, one("redis", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "apps/prod/redis-version.yaml"),
        patch("20.1.0")
    );

    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: sidecar\n          image: \"ghcr.io/acme/sidecar:${SIDECAR_VERSION}\"\n";
    let flux = |v: &str| {
        format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  postBuild:\n    substitute:\n      SIDECAR_VERSION: \"{v}\" # bumped by Renovate\n")
    };
    let (dev, prod) = (flux("1.2.0"), flux("1.1.0"));
    let files = [
        ("apps/app/deployment.yaml", deployment),
        (
            "apps/app/kustomization.yaml",
            "resources:\n  - deployment.yaml\n",
        ),
        ("apps/kustomization.yaml", "resources:\n  - app\n"),
        ("clusters/dev/apps.yaml", dev.as_str()),
        ("clusters/prod/apps.yaml", prod.as_str()),
    ];
    let plan = plan_of(&files, one("ghcr.io/acme/sidecar", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "clusters/prod/apps.yaml"),
        flux("1.2.0")
    );
}

#[test]
fn a_terraform_variable_default() {
    let tf = |v: &str| {
        format!("variable \"node_exporter_version\" {{\n  type    = string\n  default = \"{v}\" # see the release notes\n}}\n")
    };
    let (dev, prod) = (tf("1.9.1"), tf("1.8.2"));
    let files = [
        ("terraform/envs/dev/variables.tf", dev.as_str()),
        ("terraform/envs/prod/variables.tf", prod.as_str()),
    ];
    let plan = plan_of(&files, one("node_exporter_version", "prod")).expect("plan");
    assert_eq!(
        promoted(&files, &plan, "terraform/envs/prod/variables.tf"),
        tf("1.9.1")
    );
}
