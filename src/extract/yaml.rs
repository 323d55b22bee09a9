//! YAML extractors: Kubernetes workloads, Flux objects, Kustomize, chart lists.
//!
//! Each file is parsed once into a tree per document ([`tree`]), with serde-saphyr's
//! budget limits; documents whose `kind:` cannot hold a fact are skipped while parsing.
//! Facts are read from each document's tree per kind ([`objects`]) as soon as it is
//! complete.

mod cx;
mod gitops;
mod kustomize;
mod objects;
mod tree;
pub(crate) mod values;
mod values_from;

use crate::model::{Fact, LineIndex};

/// Extract the facts of one YAML file (`text` is the decoded text, BOM removed).
/// `Err` is the reason the file is unreadable: a syntax error or an exceeded budget,
/// with the line and column it was found at.
pub fn extract(path: &str, text: &str, index: &LineIndex) -> Result<Vec<Fact>, String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let values_file = values::is_values_file(path);
    let mut cx = cx::Cx {
        text,
        index,
        kustomize_file: matches!(
            name,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        ),
        values_file,
        facts: Vec::new(),
    };
    match tree::parse(text, !values_file, |doc| cx.document(doc)) {
        Ok(()) => Ok(cx.facts),
        // A Helm chart's template is Go template text that Helm renders, not YAML that
        // anything applies as written: its versions come from the chart's values, which
        // are read. Only a syntax error is forgiven: a template that parses is read like
        // any manifest, and one over a budget (depth, size) stays unreadable.
        Err(e) if e.syntax && is_helm_template(path, text) => Ok(Vec::new()),
        Err(e) => Err(describe(&e, text, index)),
    }
}

/// Whether `path` is a file of a Helm chart's `templates/` directory holding template
/// actions (`{{ … }}`).
fn is_helm_template(path: &str, text: &str) -> bool {
    let mut dirs = path.split('/').rev().skip(1);
    dirs.any(|d| d == "templates") && text.contains("{{")
}

fn describe(e: &tree::ParseError, text: &str, index: &LineIndex) -> String {
    let at = e.offset.map(|offset| index.position(text, offset));
    match (e.syntax, at) {
        (true, Some((line, column))) => {
            format!(
                "malformed YAML at line {line} column {column}: {}",
                e.message
            )
        }
        (true, None) => format!("malformed YAML: {}", e.message),
        (false, Some((line, column))) => {
            format!("{} (at line {line} column {column})", e.message)
        }
        (false, None) => e.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::test_support::{at, pins as pins_in, policies};
    use crate::model::{
        FactKind, Kustomization, PinKind, PolicyOrder, PolicySource, RefKind, Reference,
    };

    fn run(path: &str, text: &str) -> Vec<Fact> {
        let index = LineIndex::new(text);
        match extract(path, text, &index) {
            Ok(facts) => facts,
            Err(e) => panic!("{path}: {e}"),
        }
    }

    fn fail(path: &str, text: &str) -> String {
        let index = LineIndex::new(text);
        match extract(path, text, &index) {
            Ok(facts) => panic!("{path}: expected an error, got {facts:?}"),
            Err(e) => e,
        }
    }

    /// Flux image automation: an overlay pins the production tag that Flux's setter writes.
    #[test]
    fn kustomization_images_with_setter_marker() {
        let text = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: production
resources:
  - ../base
  - image-policy.yaml
images:
  - name: ghcr.io/acme/backend
    newTag: production-v1.2.3-1712345678 # {"$imagepolicy": "flux-system:backend-production:tag"}
  - name: ghcr.io/acme/frontend
    newName: ghcr.io/acme/web
    digest: sha256:0123abcd
  - name: untouched
"#;
        let facts = run("flux/apps/backend/production/kustomization.yaml", text);
        assert_eq!(facts.len(), 3);
        let FactKind::Kustomization(Kustomization {
            resources,
            namespace,
            ..
        }) = &facts[0].kind
        else {
            panic!("{:?}", facts[0])
        };
        assert_eq!(namespace.as_deref(), Some("production"));
        assert_eq!(resources.len(), 2);
        assert_eq!(at(text, &resources[0].1, "../base"), "5:5-5:12");
        assert_eq!(at(text, &resources[1].1, "image-policy.yaml"), "6:5-6:22");

        let pins = pins_in(&facts);
        let backend = pins[0];
        assert_eq!(backend.kind, PinKind::KustomizeImage);
        assert_eq!(backend.component, "ghcr.io/acme/backend");
        assert_eq!(backend.overrides.as_deref(), Some("ghcr.io/acme/backend"));
        assert_eq!(backend.reference.kind, RefKind::Tag);
        assert_eq!(backend.reference.value, "production-v1.2.3-1712345678");
        assert_eq!(
            at(text, &backend.span, "production-v1.2.3-1712345678"),
            "9:13-9:41"
        );
        assert_eq!(
            backend.policy_ref.as_deref(),
            Some("flux-system:backend-production")
        );
        assert_eq!(backend.context, "kustomize image ghcr.io/acme/backend");

        let frontend = pins[1];
        assert_eq!(frontend.component, "ghcr.io/acme/web");
        assert_eq!(frontend.overrides.as_deref(), Some("ghcr.io/acme/frontend"));
        assert_eq!(frontend.reference.kind, RefKind::Absent);
        assert_eq!(
            frontend.reference.digest.as_deref(),
            Some("sha256:0123abcd")
        );
        assert_eq!(at(text, &frontend.span, "sha256:0123abcd"), "12:13-12:28");
        assert_eq!(frontend.policy_ref, None);
        assert!(facts
            .iter()
            .all(|f| f.namespace.as_deref() == Some("production")));
    }

    #[test]
    fn setter_markers_with_and_without_field_selector() {
        let text = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
  namespace: staging
spec:
  template:
    spec:
      containers:
        - name: backend
          image: ghcr.io/acme/backend:staging-v1.2.3-1712345678 # {"$imagepolicy": "flux-system:backend-staging"}
        - name: sidecar
          image: ghcr.io/acme/sidecar:v1 # a comment, no marker
"#;
        let facts = run("flux/apps/backend/staging/deployment.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(
            pins[0].policy_ref.as_deref(),
            Some("flux-system:backend-staging")
        );
        assert_eq!(
            at(text, &pins[0].span, "staging-v1.2.3-1712345678"),
            "11:39-11:64"
        );
        assert_eq!(pins[1].policy_ref, None);

        // A marker on `newName` (`:name`) links the entry when `newTag` has none.
        let text = r#"apiVersion: kustomize.config.k8s.io/v1beta1
images:
  - name: backend
    newName: ghcr.io/acme/backend # {"$imagepolicy": "flux-system:backend:name"}
    newTag: "v1.2.3"
"#;
        let facts = run("flux/apps/backend/develop/kustomization.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins[0].policy_ref.as_deref(), Some("flux-system:backend"));
        assert_eq!(at(text, &pins[0].span, "v1.2.3"), "5:14-5:20");
    }

    /// Flux image automation: the production ImagePolicy orders `production-v…-<ts>` tags by timestamp.
    #[test]
    fn flux_image_policy_and_repository() {
        let text = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: backend-production
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: backend
  filterTags:
    pattern: '^production-v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?P<ts>[0-9]+)$'
    extract: '$ts'
  policy:
    numerical:
      order: asc
---
apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageRepository
metadata:
  name: backend
  namespace: flux-system
spec:
  image: ghcr.io/acme/backend
  interval: 5m
"#;
        let facts = run("flux/apps/backend/production/image-policy.yaml", text);
        assert_eq!(facts.len(), 2);
        let policy = policies(&facts)[0];
        assert_eq!(policy.source, PolicySource::FluxImagePolicy);
        assert_eq!(policy.name, "backend-production");
        assert_eq!(policy.image_repository_ref.as_deref(), Some("backend"));
        let (pattern, pattern_span) = policy.pattern.as_ref().unwrap();
        assert_eq!(
            pattern,
            r"^production-v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?P<ts>[0-9]+)$"
        );
        assert_eq!(at(text, pattern_span, pattern), "10:15-10:79");
        let (extract, extract_span) = policy.extract.as_ref().unwrap();
        assert_eq!(extract, "$ts");
        assert_eq!(at(text, extract_span, "$ts"), "11:15-11:18");
        assert_eq!(
            policy.order,
            PolicyOrder::Numerical {
                order: "asc".into()
            }
        );
        assert_eq!(at(text, &policy.order_span, "asc"), "14:14-14:17");
        assert_eq!(at(text, &policy.span, "ImagePolicy"), "2:7-2:18");
        assert_eq!(facts[0].namespace.as_deref(), Some("flux-system"));

        let FactKind::ImageRepository(repo) = &facts[1].kind else {
            panic!("{:?}", facts[1])
        };
        assert_eq!(repo.name, "backend");
        assert_eq!(repo.image, "ghcr.io/acme/backend");
        assert_eq!(at(text, &repo.span, "ghcr.io/acme/backend"), "22:10-22:30");
    }

    #[test]
    fn image_policy_orders() {
        let doc = |policy: &str| {
            format!(
                "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: p\nspec:\n  imageRepositoryRef:\n    name: r\n{policy}"
            )
        };
        let semver = doc("  policy:\n    semver:\n      range: '>=1.0.0'\n");
        let p = policies(&run("p.yaml", &semver))[0].clone();
        assert_eq!(
            p.order,
            PolicyOrder::Semver {
                range: ">=1.0.0".into()
            }
        );
        assert_eq!(at(&semver, &p.order_span, ">=1.0.0"), "10:15-10:22");
        assert_eq!(p.pattern, None);

        // `order` defaults to asc; the span falls back to the `alphabetical` key.
        let alpha = doc("  policy:\n    alphabetical: {}\n");
        let p = policies(&run("p.yaml", &alpha))[0].clone();
        assert_eq!(
            p.order,
            PolicyOrder::Alphabetical {
                order: "asc".into()
            }
        );
        assert_eq!(at(&alpha, &p.order_span, "alphabetical"), "9:5-9:17");

        let desc = doc("  policy:\n    alphabetical:\n      order: desc\n");
        let p = policies(&run("p.yaml", &desc))[0].clone();
        assert_eq!(
            p.order,
            PolicyOrder::Alphabetical {
                order: "desc".into()
            }
        );

        let none = doc("");
        let p = policies(&run("p.yaml", &none))[0].clone();
        assert_eq!(p.order, PolicyOrder::Unspecified);
        assert_eq!(at(&none, &p.order_span, "ImagePolicy"), "2:7-2:18");
    }

    /// A webhook relay, behind a Service in the same file.
    #[test]
    fn deployment_in_multi_document_file() {
        let text = r#"apiVersion: v1
kind: Service
metadata:
  name: github-webhook-relay
  namespace: flux-system
spec:
  selector:
    app: github-webhook-relay
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: github-webhook-relay
  namespace: flux-system
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/migrate:v2.0.1
      containers:
        - name: relay
          image: ghcr.io/fluxcd/notification-controller:v1.3.0
          # image: ghcr.io/fluxcd/notification-controller:latest
          args:
            - --health-addr=:9440
"#;
        let facts = run(
            "kubernetes/platform/config/github-webhook-relay/deployment.yaml",
            text,
        );
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].kind, PinKind::ContainerImage);
        assert_eq!(pins[0].component, "ghcr.io/acme/migrate");
        assert_eq!(pins[0].context, "initContainer migrate");
        assert_eq!(at(text, &pins[0].span, "v2.0.1"), "20:39-20:45");
        assert_eq!(pins[1].component, "ghcr.io/fluxcd/notification-controller");
        assert_eq!(pins[1].reference, Reference::tag("v1.3.0"));
        assert_eq!(pins[1].context, "container relay");
        assert_eq!(pins[1].overrides, None);
        assert_eq!(at(text, &pins[1].span, "v1.3.0"), "23:57-23:63");
        assert!(facts
            .iter()
            .all(|f| f.namespace.as_deref() == Some("flux-system")));
    }

    #[test]
    fn cronjob_with_registry_port_and_double_quotes() {
        let text = r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
  namespace: production
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: backup
              image: "registry.example.com:5000/ops/backup:2024.06"
"#;
        let facts = run("apps/backup/cronjob.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].component, "registry.example.com:5000/ops/backup");
        assert_eq!(pins[0].reference, Reference::tag("2024.06"));
        assert_eq!(at(text, &pins[0].span, "2024.06"), "14:60-14:67");
        assert_eq!(facts[0].namespace.as_deref(), Some("production"));
    }

    #[test]
    fn pod_images_without_tags_with_digests_and_escapes() {
        let text = r#"apiVersion: v1
kind: Pod
metadata:
  name: tools
spec:
  containers:
    - name: a
      image: 'nginx:1.25@sha256:0123'
    - name: b
      image: busybox
    - name: c
      image: localhost:5000/app
    - name: d
      image: "ghcr.io/acme/x@sha256:ff"
    - name: e
      image: "ghcr.io/acme/esc\u0061pe:v1"
    - name: f
"#;
        let facts = run("pod.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 5);
        assert_eq!(pins[0].component, "nginx");
        assert_eq!(pins[0].reference.value, "1.25");
        assert_eq!(pins[0].reference.digest.as_deref(), Some("sha256:0123"));
        assert_eq!(at(text, &pins[0].span, "1.25"), "8:21-8:25");

        assert_eq!(pins[1].reference, Reference::absent());
        assert_eq!(at(text, &pins[1].span, "busybox"), "10:14-10:21");

        // A registry port is not a tag.
        assert_eq!(pins[2].component, "localhost:5000/app");
        assert_eq!(pins[2].reference.kind, RefKind::Absent);
        assert_eq!(at(text, &pins[2].span, "localhost:5000/app"), "12:14-12:32");

        assert_eq!(pins[3].reference.kind, RefKind::Absent);
        assert_eq!(pins[3].reference.digest.as_deref(), Some("sha256:ff"));
        assert_eq!(
            at(text, &pins[3].span, "ghcr.io/acme/x@sha256:ff"),
            "14:15-14:39"
        );

        // An escape: the value is not spelled literally, so the whole scalar is the span.
        assert_eq!(pins[4].component, "ghcr.io/acme/escape");
        assert_eq!(
            at(text, &pins[4].span, r#""ghcr.io/acme/esc\u0061pe:v1""#),
            "16:14-16:43"
        );
    }

    #[test]
    fn crlf_bom_and_unicode_columns() {
        let bytes = "\u{feff}apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: tools\r\n  namespace: prod\r\nspec:\r\n  containers:\r\n    - {name: ünï, image: ghcr.io/acme/app:v1}\r\n".as_bytes();
        let text = crate::extract::decode(bytes).unwrap();
        let facts = run("pod.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].context, "container ünï");
        assert_eq!(at(text, &pins[0].span, "v1"), "8:43-8:45");
    }

    #[test]
    fn comments_are_not_facts() {
        let text = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          # image: foo:latest
# image: bar:latest
"#;
        assert!(run("web.yaml", text).is_empty());
        assert!(run("notes.yaml", "# image: foo:latest\n# kind: Pod\n").is_empty());
    }

    #[test]
    fn unknown_kinds_and_flux_kustomizations_yield_no_pins() {
        let text = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  image: ghcr.io/acme/app:latest
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  path: ./apps
  images:
    - name: ghcr.io/acme/app
      newTag: latest
---
just a scalar
"#;
        // No pin: the ConfigMap's data is only what a substitution may read, the Flux
        // Kustomization only the directory it builds (its `images` is no kustomize field).
        let facts = run("clusters/live/kustomization.yaml", text);
        assert!(pins_in(&facts).is_empty(), "{facts:?}");
        let kinds: Vec<bool> = facts
            .iter()
            .map(|f| {
                matches!(
                    f.kind,
                    FactKind::ConfigMapSource(_)
                        | FactKind::FluxKustomization(_)
                        | FactKind::Deploy(_)
                )
            })
            .collect();
        assert_eq!(kinds, [true, true, true]);
        // kustomize reads only files named kustomization.yaml/.yml/Kustomization.
        let kustomize = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - {name: a, newTag: v1}\n";
        assert!(run("examples/overlay.yaml", kustomize).is_empty());
        assert_eq!(run("overlay/Kustomization", kustomize).len(), 2);
    }

    /// OCI promotion: integration follows `integration-*` tags, live pins a validated tag.
    #[test]
    fn oci_repositories() {
        let text = r#"apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: platform
  namespace: flux-system
spec:
  url: oci://ghcr.io/acme/homelab/platform
  ref:
    tag: validated-abc1234 # {"$imagepolicy": "flux-system:platform"}
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: platform-integration
  namespace: flux-system
spec:
  url: oci://ghcr.io/acme/homelab/platform
  ref:
    semver: ">=1.0.0-0"
    semverFilter: ".*-rc.*"
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: by-digest
spec:
  url: oci://ghcr.io/acme/x
  ref:
    digest: "sha256:deadbeef"
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: floating
spec:
  url: oci://ghcr.io/acme/y
"#;
        let facts = run("kubernetes/clusters/live/platform.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 4);
        assert_eq!(pins[0].kind, PinKind::OciArtifact);
        assert_eq!(pins[0].component, "ghcr.io/acme/homelab/platform");
        assert_eq!(pins[0].reference, Reference::tag("validated-abc1234"));
        assert_eq!(at(text, &pins[0].span, "validated-abc1234"), "9:10-9:27");
        assert_eq!(pins[0].policy_ref.as_deref(), Some("flux-system:platform"));
        assert_eq!(pins[0].context, "OCIRepository platform");

        assert_eq!(pins[1].reference.kind, RefKind::Range);
        assert_eq!(pins[1].reference.value, ">=1.0.0-0");
        assert_eq!(at(text, &pins[1].span, ">=1.0.0-0"), "19:14-19:23");

        assert_eq!(pins[2].reference.kind, RefKind::Absent);
        assert_eq!(pins[2].reference.digest.as_deref(), Some("sha256:deadbeef"));
        assert_eq!(at(text, &pins[2].span, "sha256:deadbeef"), "29:14-29:29");

        assert_eq!(pins[3].reference, Reference::absent());
        assert_eq!(
            at(text, &pins[3].span, "oci://ghcr.io/acme/y"),
            "36:8-36:28"
        );

        let policies = policies(&facts);
        assert_eq!(policies.len(), 1);
        let p = policies[0];
        assert_eq!(p.source, PolicySource::OciRepositorySemver);
        assert_eq!(p.name, "platform-integration");
        assert_eq!(
            p.order,
            PolicyOrder::Semver {
                range: ">=1.0.0-0".into()
            }
        );
        let (pattern, pattern_span) = p.pattern.as_ref().unwrap();
        assert_eq!(at(text, pattern_span, pattern), "20:20-20:27");
        assert_eq!(at(text, &p.order_span, ">=1.0.0-0"), "19:14-19:23");
        assert_eq!(at(text, &p.span, "OCIRepository"), "12:7-12:20");
    }

    #[test]
    fn git_repositories() {
        let doc = |reference: &str| {
            format!(
                "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  url: https://github.com/acme/homelab\n{reference}"
            )
        };
        let pin = |text: &str| pins_in(&run("gotk-sync.yaml", text))[0].clone();

        let text = doc("  ref:\n    branch: main\n");
        let p = pin(&text);
        assert_eq!(p.kind, PinKind::GitRef);
        assert_eq!(p.component, "https://github.com/acme/homelab");
        assert_eq!(
            (p.reference.kind, p.reference.value.as_str()),
            (RefKind::Branch, "main")
        );
        assert_eq!(at(&text, &p.span, "main"), "9:13-9:17");

        let text = doc("  ref:\n    name: refs/tags/v1.2.0\n");
        let p = pin(&text);
        assert_eq!(
            (p.reference.kind, p.reference.value.as_str()),
            (RefKind::Tag, "v1.2.0")
        );
        assert_eq!(at(&text, &p.span, "v1.2.0"), "9:21-9:27");

        let text = doc("  ref:\n    name: refs/heads/release\n");
        let p = pin(&text);
        assert_eq!(
            (p.reference.kind, p.reference.value.as_str()),
            (RefKind::Branch, "release")
        );

        // Flux: a commit wins over a branch.
        let text = doc("  ref:\n    branch: main\n    commit: 0a1b2c3d\n");
        let p = pin(&text);
        assert_eq!(
            (p.reference.kind, p.reference.value.as_str()),
            (RefKind::Commit, "0a1b2c3d")
        );
        assert_eq!(at(&text, &p.span, "0a1b2c3d"), "10:13-10:21");

        let text = doc("  ref:\n    semver: '~1.2'\n");
        assert_eq!(pin(&text).reference.kind, RefKind::Range);

        let text = doc("  ref:\n    tag: v3.0.0\n");
        assert_eq!(pin(&text).reference, Reference::tag("v3.0.0"));

        let text = doc("");
        let p = pin(&text);
        assert_eq!(p.reference, Reference::absent());
        assert_eq!(
            at(&text, &p.span, "https://github.com/acme/homelab"),
            "7:8-7:39"
        );
    }

    #[test]
    fn helm_release_chart_and_values() {
        let text = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: backend
  namespace: production
spec:
  chart:
    spec:
      chart: backend
      version: "1.4.2"
      sourceRef:
        kind: HelmRepository
        name: acme
  values:
    image:
      registry: ghcr.io
      repository: acme/backend
      tag: production-v1.2.3-1712345678 # {"$imagepolicy": "flux-system:backend-production:tag"}
    sidecar:
      image: docker.io/envoyproxy/envoy:v1.30.1
    metrics:
      image:
        repository: prom/exporter
    workers:
      - image: {repository: acme/worker, digest: "sha256:beef"}
"#;
        let facts = run("kubernetes/apps/backend/production/helmrelease.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 4);
        assert_eq!(pins[0].kind, PinKind::HelmChart);
        assert_eq!(pins[0].component, "backend");
        assert_eq!(pins[0].reference, Reference::tag("1.4.2"));
        assert_eq!(at(text, &pins[0].span, "1.4.2"), "10:17-10:22");
        assert_eq!(pins[0].context, "HelmRelease backend");

        assert_eq!(pins[1].kind, PinKind::HelmValuesImage);
        assert_eq!(pins[1].component, "ghcr.io/acme/backend");
        assert_eq!(
            pins[1].reference,
            Reference::tag("production-v1.2.3-1712345678")
        );
        assert_eq!(
            at(text, &pins[1].span, "production-v1.2.3-1712345678"),
            "18:12-18:40"
        );
        assert_eq!(
            pins[1].policy_ref.as_deref(),
            Some("flux-system:backend-production")
        );
        assert_eq!(pins[1].context, "values image.tag");

        assert_eq!(pins[2].component, "docker.io/envoyproxy/envoy");
        assert_eq!(pins[2].reference, Reference::tag("v1.30.1"));
        assert_eq!(at(text, &pins[2].span, "v1.30.1"), "20:41-20:48");
        assert_eq!(pins[2].context, "values sidecar.image");

        // `metrics.image` has no tag: the chart's default applies, no pin here.
        assert_eq!(pins[3].component, "acme/worker");
        assert_eq!(pins[3].reference.kind, RefKind::Absent);
        assert_eq!(pins[3].reference.digest.as_deref(), Some("sha256:beef"));
        assert_eq!(at(text, &pins[3].span, "sha256:beef"), "25:51-25:62");
        assert_eq!(pins[3].context, "values workers[0].image.digest");
        assert!(facts
            .iter()
            .all(|f| f.namespace.as_deref() == Some("production")));
    }

    /// The bjw-s app-template shape: images nested under controllers and containers,
    /// tags with digests, templated and chart-default tags, images under other keys.
    #[test]
    fn helm_release_app_template_values_at_any_depth() {
        let text = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: sonarr
spec:
  chartRef:
    kind: OCIRepository
    name: app-template
  values:
    controllers:
      sonarr:
        initContainers:
          init-db:
            image:
              repository: ghcr.io/home-operations/postgres-init
              tag: 17@sha256:e0c87ce7df39d06b93f27cf2cc6a056611f13faaa88cc07ab4dc8bf7a85d0b11
        containers:
          app:
            image:
              repository: ghcr.io/home-operations/sonarr
              tag: 4.0.19.3001@sha256:2fef93accb445aeb1773e454825ac903f7d66d9addfe045d56fff69ba8181c82
          exporter:
            image:
              repository: ghcr.io/onedr0p/exportarr
              tag: "${EXPORTARR_VERSION:=v2.0.1}"
          templated:
            image: {repository: "{{ .Values.repo }}", tag: v1}
    defaultPodOptions:
      sidecars:
        kubectl: {registry: docker.io, repository: bitnami/kubectl, tag: latest}
    chartDefault:
      image: {repository: mirror.gcr.io/coredns/coredns}
    emptyTag:
      image: {repository: ghcr.io/acme/x, tag: ""}
    git:
      repository: https://github.com/acme/config.git
      tag: main
    longhorn:
      manager: {repository: longhornio/longhorn-manager, digest: "sha256:aa"}
    job:
      image: "ghcr.io/acme/job:{{ .Chart.AppVersion }}"
"#;
        let facts = run("kubernetes/apps/default/sonarr/app/helmrelease.yaml", text);
        let pins = pins_in(&facts);
        let seen: Vec<(&str, &str)> = pins
            .iter()
            .map(|p| (p.component.as_str(), p.context.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "ghcr.io/home-operations/postgres-init",
                    "values controllers.sonarr.initContainers.init-db.image.tag"
                ),
                (
                    "ghcr.io/home-operations/sonarr",
                    "values controllers.sonarr.containers.app.image.tag"
                ),
                (
                    "docker.io/bitnami/kubectl",
                    "values defaultPodOptions.sidecars.kubectl.tag"
                ),
                (
                    "longhornio/longhorn-manager",
                    "values longhorn.manager.digest"
                ),
            ]
        );
        assert!(pins.iter().all(|p| p.kind == PinKind::HelmValuesImage));

        // `tag: 17@sha256:…`: the tag is `17` (spanned alone), the digest is kept.
        let init = pins[0];
        assert_eq!(init.reference.kind, RefKind::Tag);
        assert_eq!(init.reference.value, "17");
        assert_eq!(
            init.reference.digest.as_deref(),
            Some("sha256:e0c87ce7df39d06b93f27cf2cc6a056611f13faaa88cc07ab4dc8bf7a85d0b11")
        );
        assert_eq!(at(text, &init.span, "17"), "16:20-16:22");
        let app = pins[1];
        assert_eq!(app.reference.value, "4.0.19.3001");
        assert_eq!(at(text, &app.span, "4.0.19.3001"), "21:20-21:31");

        let kubectl = pins[2];
        assert_eq!(kubectl.reference, Reference::tag("latest"));
        assert_eq!(at(text, &kubectl.span, "latest"), "30:74-30:80");

        let manager = pins[3];
        assert_eq!(manager.reference.kind, RefKind::Absent);
        assert_eq!(manager.reference.digest.as_deref(), Some("sha256:aa"));
        assert_eq!(at(text, &manager.span, "sha256:aa"), "39:67-39:76");
    }

    /// Every way values write a tag and a digest, with the span each pin points at.
    #[test]
    fn helm_values_tag_and_digest_forms() {
        let text = r#"a: {repository: r/a, tag: "1.0@sha256:aa"}
b: {repository: r/b, tag: "@sha256:bb"}
c: {repository: r/c, tag: v3, digest: "sha256:cc"}
d: {repository: r/d, tag: "", digest: "sha256:dd"}
e: {repository: r/e, tag: "v\u0035"}
f: {repository: https://github.com/acme/x.git, tag: v1}
g: {repository: r/g, tag: ~}
h: {registry: "ghcr.io/", repository: r/h, tag: " v8 "}
i: {registry: quay.io, repository: prometheus/prometheus, tag: v3.1.0, sha: "ee"}
j: {repository: r/j, tag: v1, sha: ""}
"#;
        let facts = run("values.yaml", text);
        let pins = pins_in(&facts);
        let got: Vec<(&str, String, String, String)> = pins
            .iter()
            .map(|p| {
                (
                    p.component.as_str(),
                    p.reference.display(),
                    text[p.span.range()].to_string(),
                    p.context.clone(),
                )
            })
            .collect();
        let row = |c: &'static str, r: &str, s: &str, x: &str| (c, r.into(), s.into(), x.into());
        assert_eq!(
            got,
            [
                row("r/a", "1.0@sha256:aa", "1.0", "values a.tag"),
                row("r/b", "@sha256:bb", "sha256:bb", "values b.tag"),
                row("r/c", "v3@sha256:cc", "v3", "values c.tag"),
                row("r/d", "@sha256:dd", "sha256:dd", "values d.digest"),
                // An escape: the value is not spelled literally, the whole scalar is the span.
                row("r/e", "v5", r#""v\u0035""#, "values e.tag"),
                row("ghcr.io/r/h", "v8", "v8", "values h.tag"),
                // `sha: <hex>` is rendered as `@sha256:<hex>`.
                row(
                    "quay.io/prometheus/prometheus",
                    "v3.1.0@sha256:ee",
                    "v3.1.0",
                    "values i.tag"
                ),
                row("r/j", "v1", "v1", "values j.tag"),
            ]
        );
        assert_eq!(at(text, &pins[0].span, "1.0"), "1:28-1:31");
        assert_eq!(at(text, &pins[1].span, "sha256:bb"), "2:29-2:38");
    }

    /// Values files (named as such) are read like a HelmRelease's `values`; the same
    /// text in a file of another name is no values file.
    #[test]
    fn helm_values_files() {
        let text = r#"# values for the live cluster
kind: DaemonSet
image:
  registry: ghcr.io
  repository: acme/agent
  tag: "v2.1.0" # {"$imagepolicy": "flux-system:agent:tag"}
workers:
  - name: a
    image: ghcr.io/acme/worker:latest
  - name: b
    image: '@sha256:ff'
tagOnly:
  tag: v1
elasticsearch:
  image: docker.elastic.co/elasticsearch/elasticsearch
  imageTag: 8.5.1
"#;
        for path in [
            "kubernetes/clusters/live/values.yaml",
            "kubernetes/clusters/live/agent-values.yaml",
            "charts/agent/values-live.yml",
        ] {
            let facts = run(path, text);
            let pins = pins_in(&facts);
            // `image: '@sha256:ff'` names no repository: no pin.
            assert_eq!(pins.len(), 3, "{path}");
            // `image` and `imageTag` side by side: one pin, on the tag.
            assert_eq!(
                pins[2].component,
                "docker.elastic.co/elasticsearch/elasticsearch"
            );
            assert_eq!(pins[2].reference, Reference::tag("8.5.1"));
            assert_eq!(at(text, &pins[2].span, "8.5.1"), "16:13-16:18");
            assert_eq!(pins[2].context, "values elasticsearch.imageTag");
            assert_eq!(pins[0].component, "ghcr.io/acme/agent");
            assert_eq!(pins[0].reference, Reference::tag("v2.1.0"));
            assert_eq!(at(text, &pins[0].span, "v2.1.0"), "6:9-6:15");
            assert_eq!(pins[0].context, "values image.tag");
            assert_eq!(pins[0].policy_ref.as_deref(), Some("flux-system:agent"));
            assert_eq!(pins[1].component, "ghcr.io/acme/worker");
            assert_eq!(pins[1].reference, Reference::tag("latest"));
            assert_eq!(at(text, &pins[1].span, "latest"), "9:32-9:38");
            assert_eq!(pins[1].context, "values workers[0].image");
        }
        for path in [
            "kubernetes/clusters/live/config.yaml",
            "templates/values.yaml",
        ] {
            assert_eq!(pins_in(&run(path, text)).len(), 0, "{path}");
        }
    }

    /// The top-level `image.repository` + `image.tag` is one pin of the general walk, not
    /// two; chart list and kustomize `helmCharts` inline values are read too.
    #[test]
    fn helm_values_are_counted_once_and_read_where_charts_are_listed() {
        let text = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: app}
spec:
  values:
    image: &img
      repository: ghcr.io/acme/app
      tag: v1.0.0
"#;
        let facts = run("clusters/prod/app.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 1);
        assert_eq!(at(text, &pins[0].span, "v1.0.0"), "8:12-8:18");

        let text = r#"- name: cilium
  chart: {name: cilium, version: 1.18.6}
  values:
    image: {repository: quay.io/cilium/cilium, tag: v1.18.6}
"#;
        let facts = run("kubernetes/clusters/live/helm-charts.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].kind, PinKind::HelmChart);
        assert_eq!(pins[1].component, "quay.io/cilium/cilium");
        assert_eq!(pins[1].context, "chart cilium values image.tag");
        assert_eq!(at(text, &pins[1].span, "v1.18.6"), "4:53-4:60");

        let text = r#"helmCharts:
  - name: podinfo
    version: 6.7.0
    valuesInline:
      image: {repository: ghcr.io/stefanprodan/podinfo, tag: 6.7.0}
"#;
        let facts = run("clusters/dev/kustomization.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[1].context, "helmChart podinfo valuesInline image.tag");
        assert_eq!(at(text, &pins[1].span, "6.7.0"), "5:62-5:67");
    }

    /// Aliases expand by copying, so a values tree can nest deeper than the parser's
    /// limit of 64: the walk keeps its own stack and finds the image at depth 1,000.
    #[test]
    fn helm_values_walk_survives_alias_built_depth() {
        let mut text = String::from("a0: &a0 {image: {repository: r, tag: v1}}\n");
        for i in 1..20 {
            let open = "{x: ".repeat(50);
            let close = "}".repeat(50);
            text.push_str(&format!("a{i}: &a{i} {open}*a{}{close}\n", i - 1));
        }
        let facts = run("values.yaml", &text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 20);
        assert!(pins[19].context.starts_with("values a19.x.x."));
    }

    #[test]
    fn helm_release_chart_ranges_and_missing_version() {
        let doc = |version: &str| {
            format!(
                "apiVersion: helm.toolkit.fluxcd.io/v2beta2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    spec:\n      chart: podinfo\n{version}"
            )
        };
        for range in [
            "1.x",
            "'>=1.0.0'",
            "'*'",
            "'^6.0'",
            "'~6.7'",
            "'>=1.0.0 <2.0.0'",
        ] {
            let text = doc(&format!("      version: {range}\n"));
            let pins = pins_in(&run("hr.yaml", &text))
                .into_iter()
                .cloned()
                .collect::<Vec<_>>();
            assert_eq!(pins[0].reference.kind, RefKind::Range, "{range}");
        }
        let text = doc("      version: 6.7.0\n");
        assert_eq!(
            pins_in(&run("hr.yaml", &text))[0].reference,
            Reference::tag("6.7.0")
        );

        let text = doc("");
        let p = pins_in(&run("hr.yaml", &text))[0].clone();
        assert_eq!(p.reference, Reference::absent());
        assert_eq!(at(&text, &p.span, "podinfo"), "8:14-8:21");
    }

    #[test]
    fn range_detection() {
        for range in [
            "1.x",
            "1.2.X",
            "x",
            "*",
            "^1.2",
            "~1",
            ">=1.0.0",
            "1.0 || 2.0",
            "=1.0",
        ] {
            assert!(objects::is_range(range), "{range}");
        }
        for exact in ["1.2.3", "v1.2.3", "1.0.0-xenial", "2024.06", "0.31.0"] {
            assert!(!objects::is_range(exact), "{exact}");
        }
    }

    /// A homelab: per-cluster chart lists that Renovate updates and promotion copies.
    #[test]
    fn chart_list_file() {
        let text = r#"- name: flagger
  namespace: flux-system
  chart:
    name: flagger
    version: "1.37.0"
    repository: https://flagger.app
  depends_on:
    - prometheus
- name: flagger-loadtester
  namespace: flux-system
  chart:
    name: loadtester
    version: "0.31.0"
    repository: https://flagger.app
"#;
        let facts = run("kubernetes/clusters/live/helm-charts.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].kind, PinKind::HelmChart);
        assert_eq!(pins[0].component, "flagger");
        assert_eq!(pins[0].reference, Reference::tag("1.37.0"));
        assert_eq!(at(text, &pins[0].span, "1.37.0"), "5:15-5:21");
        assert_eq!(pins[0].context, "chart flagger");
        assert_eq!(pins[1].component, "loadtester");
        assert_eq!(pins[1].context, "chart flagger-loadtester");
        assert_eq!(at(text, &pins[1].span, "0.31.0"), "13:15-13:21");
    }

    #[test]
    fn chart_lists_in_resource_sets_and_under_keys() {
        let text = r#"apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: helm-charts
  namespace: flux-system
spec:
  inputs:
    - name: cilium
      namespace: kube-system
      chart:
        name: cilium
        version: 1.18.6
        repository: https://helm.cilium.io
  resources:
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      spec:
        chart:
          spec:
            version: << inputs.chart.version >>
"#;
        let facts = run("kubernetes/platform/helm-charts.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].component, "cilium");
        assert_eq!(at(text, &pins[0].span, "1.18.6"), "12:18-12:24");
        assert_eq!(facts[0].namespace.as_deref(), Some("flux-system"));

        let text = "charts:\n  - name: podinfo\n    version: 6.7.0\ninputs:\n  - name: redis\n    chart: {name: redis, version: '19.x'}\n";
        let facts = run("charts.yaml", text);
        let listed = pins_in(&facts);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].component, "podinfo");
        assert_eq!(at(text, &listed[0].span, "6.7.0"), "3:14-3:19");
        assert_eq!(listed[1].component, "redis");
        assert_eq!(listed[1].reference.kind, RefKind::Range);
    }

    #[test]
    fn kustomization_without_api_version_bases_components_and_helm_charts() {
        let text = r#"namespace: dev
bases:
  - ../../base
components:
  - ../../components/debug
helmCharts:
  - name: podinfo
    repo: https://stefanprodan.github.io/podinfo
    version: 6.x
    releaseName: podinfo
  - name: redis
"#;
        let facts = run("kubernetes/clusters/dev/kustomization.yml", text);
        let FactKind::Kustomization(k) = &facts[0].kind else {
            panic!("{:?}", facts[0])
        };
        let names: Vec<_> = k.resources.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(names, ["../../base", "../../components/debug"]);
        assert_eq!(
            at(text, &k.resources[1].1, "../../components/debug"),
            "5:5-5:27"
        );
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].component, "podinfo");
        assert_eq!(pins[0].reference.kind, RefKind::Range);
        assert_eq!(at(text, &pins[0].span, "6.x"), "9:14-9:17");
        assert_eq!(pins[0].context, "helmChart podinfo");
        assert_eq!(pins[1].reference, Reference::absent());
        assert_eq!(at(text, &pins[1].span, "redis"), "11:11-11:16");
        assert!(facts.iter().all(|f| f.namespace.as_deref() == Some("dev")));
    }

    #[test]
    fn aliases_and_merge_keys_resolve() {
        let text = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: a}
spec:
  template:
    spec:
      containers:
        - &app
          name: a
          image: &img ghcr.io/acme/a:v1
        - name: b
          image: *img
        - <<: *app
          name: c
"#;
        let facts = run("d.yaml", text);
        let pins = pins_in(&facts);
        assert_eq!(pins.len(), 3);
        assert!(pins.iter().all(|p| p.reference == Reference::tag("v1")));
        assert_eq!(at(text, &pins[1].span, "v1"), "10:38-10:40");
        assert_eq!(pins[2].context, "container c");
    }

    #[test]
    fn helm_templates_that_are_not_yaml_hold_no_facts() {
        let template = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      \
                        containers:\n        - name: app\n          {{- include \"app.image\" . | nindent 10 }}\n";
        assert_eq!(
            run(
                "clusters/prod/charts/app/templates/deployment.yaml",
                template
            ),
            []
        );
        // The same text anywhere else is a manifest that cannot be read.
        let e = fail("clusters/prod/app.yaml", template);
        assert!(e.starts_with("malformed YAML at line 8 column "), "{e}");
        // Under templates/ but no template action: malformed YAML as anywhere.
        let broken = "kind: Pod\nspec:\n\tcontainers: []\n";
        assert!(fail("charts/app/templates/pod.yaml", broken).contains("tab"));
        // A template that parses is read like any manifest: its `:latest` stays a pin.
        let parses =
            "# {{ .Release.Name }}\nkind: Pod\nspec:\n  containers:\n    - name: a\n      \
                      image: ghcr.io/acme/a:latest\n";
        let facts = run("charts/app/templates/pod.yaml", parses);
        assert_eq!(pins_in(&facts).len(), 1);
    }

    #[test]
    fn malformed_yaml_names_the_line() {
        let text =
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: b: c\n";
        let e = fail("pod.yaml", text);
        assert!(e.starts_with("malformed YAML at line 6 column "), "{e}");

        let e = fail("pod.yaml", "kind: Pod\nspec:\n\tcontainers: []\n");
        assert!(e.starts_with("malformed YAML at line 3 column "), "{e}");
        assert!(e.contains("tab"), "{e}");

        let e = fail("pod.yaml", "kind: Pod\nkind: Deployment\n");
        assert!(
            e.contains("duplicate mapping key `kind` (at line 2 column 1)"),
            "{e}"
        );
    }

    #[test]
    fn alias_bomb_is_rejected_quickly() {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let e = fail("bomb.yaml", &text);
        assert!(e.contains("alias expansion budget exceeded"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    /// Deep nesting fails on the depth budget; the tree is built without recursion, so a
    /// small stack is enough.
    #[test]
    fn deep_nesting_is_rejected_without_stack_overflow() {
        let inputs = [
            "[".repeat(20_000),
            "{a: ".repeat(20_000),
            "- ".repeat(20_000) + "x\n",
            (0..2_000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
        ];
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                inputs
                    .iter()
                    .map(|t| fail("deep.yaml", t))
                    .collect::<Vec<_>>()
            })
            .unwrap();
        for e in handle.join().unwrap() {
            assert!(
                e.starts_with("YAML nesting deeper than 64 (at line "),
                "{e}"
            );
        }
    }

    /// No input panics: every prefix of real files, and odd documents.
    #[test]
    fn no_panic_on_truncated_or_odd_input() {
        let text = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../base]
images:
  - name: ghcr.io/acme/backend
    newTag: "v1.2.3" # {"$imagepolicy": "flux-system:backend:tag"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: é, namespace: prod}
spec:
  chart: {spec: {chart: app, version: '1.x'}}
  values:
    image: &i {repository: acme/app, tag: 'v1'}
    other: {image: *i, list: [{image: "a:b@sha256:c"}]}
"#;
        let mut ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        ends.push(text.len());
        for end in ends {
            let part = &text[..end];
            let index = LineIndex::new(part);
            let _ = extract("kustomization.yaml", part, &index);
            // Read as Helm values too: every mapping of the file is searched for images.
            let _ = extract("values.yaml", part, &index);
        }
        for odd in [
            "", "---", "--- |\n  x\n", "- - -", "? a\n: b\n", "!!binary aGVsbG8=", "{", "[]",
            "kind: Pod\nspec: {containers: [{image: }]}\n", "kind: Pod\nspec: {containers: [{image: [a]}]}",
            "kind: [Pod]", "kind: Pod\nspec: ~\n", "images: 3", "- chart: {version: 1}",
            "kind: HelmRelease\napiVersion: helm.toolkit.fluxcd.io/v2\nspec: {values: {image: ':'}}",
        ] {
            let index = LineIndex::new(odd);
            let _ = extract("kustomization.yaml", odd, &index);
            let _ = extract("values.yaml", odd, &index);
        }
    }

    /// Flux postBuild substitution: the Flux Kustomization's path and variables, the
    /// ConfigMaps it may read (generated or written out), and `${VAR}` pins kept as
    /// templated, each with exact spans.
    #[test]
    fn flux_substitution_inputs_and_templated_pins() {
        use crate::model::{ConfigMapSource, FluxKustomization, TemplatedPin};
        let flux = r#"apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  path: ./apps/
  postBuild:
    substitute:
      APP_VERSION: "1.4.0"
      CLUSTER: live
    substituteFrom:
      - kind: ConfigMap
        name: cluster-versions
      - kind: Secret
        name: cluster-secrets
      - kind: ConfigMap
        name: overrides
"#;
        let facts = run("clusters/live/apps.yaml", flux);
        let k: Vec<&FluxKustomization> = facts
            .iter()
            .filter_map(|f| match &f.kind {
                FactKind::FluxKustomization(k) => Some(k),
                _ => None,
            })
            .collect();
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].path, "apps");
        assert_eq!(k[0].substitute_from, ["cluster-versions", "overrides"]);
        let subs: Vec<(&str, &str, String)> = k[0]
            .substitute
            .iter()
            .map(|(key, v, span)| (key.as_str(), v.as_str(), at(flux, span, v)))
            .collect();
        assert_eq!(
            subs,
            [
                ("APP_VERSION", "1.4.0", "9:21-9:26".to_string()),
                ("CLUSTER", "live", "10:16-10:20".to_string()),
            ]
        );

        let generator = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - apps.yaml
configMapGenerator:
  - name: cluster-versions
    envs:
      - versions.env
    literals:
      - CHART_VERSION=2.0.1
"#;
        let configmap = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: overrides
data:
  APP_VERSION: "1.5.0"
  script.sh: |
    echo hi
"#;
        let sources = |facts: &[Fact]| -> Vec<ConfigMapSource> {
            facts
                .iter()
                .filter_map(|f| match &f.kind {
                    FactKind::ConfigMapSource(c) => Some(c.clone()),
                    _ => None,
                })
                .collect()
        };
        let g = sources(&run("clusters/live/kustomization.yaml", generator));
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].name, "cluster-versions");
        assert_eq!(g[0].env_files, ["versions.env"]);
        assert_eq!(g[0].literals[0].0, "CHART_VERSION");
        assert_eq!(at(generator, &g[0].literals[0].2, "2.0.1"), "10:23-10:28");
        let c = sources(&run("clusters/live/overrides.yaml", configmap));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name, "overrides");
        assert_eq!(c[0].literals.len(), 1, "a script is no variable's value");
        assert_eq!(at(configmap, &c[0].literals[0].2, "1.5.0"), "6:17-6:22");

        let manifests = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/app:${APP_VERSION}
        - name: sidecar
          image: "ghcr.io/acme/sidecar:${SIDECAR_VERSION:=1.0.0}"
        - name: partial
          image: ghcr.io/acme/partial:v${PARTIAL}
        - name: plain
          image: ghcr.io/acme/plain:2.0.0
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      version: ${CHART_VERSION:-6.5.0}
"#;
        let facts = run("apps/app/deployment.yaml", manifests);
        let templated: Vec<(&TemplatedPin, String)> = facts
            .iter()
            .filter_map(|f| match &f.kind {
                FactKind::TemplatedPin(t) => Some(t),
                _ => None,
            })
            .map(|t| {
                (
                    t,
                    at(manifests, &t.pin.span, &manifests[t.pin.span.range()]),
                )
            })
            .collect();
        let seen: Vec<(&str, &str, Option<&str>, &str, &str)> = templated
            .iter()
            .map(|(t, pos)| {
                (
                    t.pin.component.as_str(),
                    t.var.as_str(),
                    t.default.as_deref(),
                    &manifests[t.pin.span.range()],
                    pos.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "ghcr.io/acme/app",
                    "APP_VERSION",
                    None,
                    "${APP_VERSION}",
                    "10:35-10:49"
                ),
                (
                    "ghcr.io/acme/sidecar",
                    "SIDECAR_VERSION",
                    Some("1.0.0"),
                    "${SIDECAR_VERSION:=1.0.0}",
                    "12:40-12:65"
                ),
                (
                    "podinfo",
                    "CHART_VERSION",
                    Some("6.5.0"),
                    "${CHART_VERSION:-6.5.0}",
                    "26:16-26:39"
                ),
            ]
        );
        // A partly templated tag is neither a templated pin nor a literal one.
        let literal: Vec<&str> = pins_in(&facts)
            .iter()
            .map(|p| p.component.as_str())
            .collect();
        assert_eq!(literal, ["ghcr.io/acme/plain"]);
    }
}
