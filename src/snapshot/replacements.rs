//! Kustomize `replacements` whose source is a version: the value a replacement copies
//! (a ConfigMap `data` key, a container image or its tag, a HelmRelease chart version)
//! and the version-bearing fields its targets name. [`super::patches`] turns each target
//! into a rule whose edits carry the source's value and span, so a replacement overrides
//! a base's pin like a patch does, reported where the source value is written.
//!
//! Nothing is guessed: a source that cannot be found in the kustomization's build (remote,
//! a Secret, a generated value from a file we do not read), a field path or option we do
//! not understand, leaves the target as written.

use super::graph::{parent_dir, resolve_entry, FileFacts};
use super::substitute::config_map_value;
use crate::model::hash::{HashMap, HashSet};
use crate::model::{FactKind, Field, KubeObject, PatchTarget, Replacement, Span};
use std::sync::Arc;

/// How deep `resources` are followed to find a source object.
const MAX_DEPTH: usize = 32;

/// The container fields a version comes from, as [`Field`]; `None` for any other path or
/// one written with a wildcard.
///
/// Accepted: `spec.chart.spec.version`, `spec.ref.KEY`, and a pod spec's
/// `containers.[name=x].image` / `containers.N.image` (also `initContainers`; `[name=x]`
/// may follow the list name without a dot).
pub(super) fn parse_field_path(path: &str) -> Option<Field> {
    let normalized = path.trim().replace('[', ".[");
    let segs: Vec<&str> = normalized.split('.').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["spec", "chart", "spec", "version"] => Some(Field::ChartVersion),
        ["spec", "ref", key]
            if matches!(
                *key,
                "tag" | "semver" | "digest" | "branch" | "commit" | "name"
            ) =>
        {
            Some(Field::Ref {
                key: (*key).to_owned(),
            })
        }
        [pod @ .., list @ ("containers" | "initContainers"), item, "image"] if is_pod_spec(pod) => {
            let init = *list == "initContainers";
            if let Some(name) = item
                .strip_prefix("[name=")
                .and_then(|s| s.strip_suffix(']'))
                .filter(|n| !n.is_empty() && !n.contains(['*', '[', ']', '=']))
            {
                return Some(Field::Image {
                    init,
                    name: Some(name.to_owned()),
                    index: None,
                });
            }
            let index = item.parse::<usize>().ok()?;
            Some(Field::Image {
                init,
                name: None,
                index: Some(index),
            })
        }
        _ => None,
    }
}

fn is_pod_spec(path: &[&str]) -> bool {
    matches!(
        path,
        ["spec"]
            | ["spec", "template", "spec"]
            | ["spec", "jobTemplate", "spec", "template", "spec"]
    )
}

/// A target field path with its options: the field, and whether only an image's tag is
/// written (`options: {delimiter: ':', index: 1}`). `None` for a path or options that
/// cannot be followed.
pub(super) fn target_field(path: &str, options: &Option<(String, usize)>) -> Option<(Field, bool)> {
    let field = parse_field_path(path)?;
    match options {
        None => Some((field, false)),
        Some((d, 1)) if d == ":" && matches!(field, Field::Image { .. }) => Some((field, true)),
        Some(_) => None,
    }
}

/// The value a replacement's source has, where it is written.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct SourceValue {
    /// File and fact holding the value (the ConfigMap or generator, the env file's pin,
    /// the object).
    pub file: usize,
    pub fact: usize,
    pub value: String,
    pub span: Span,
    pub policy_ref: Option<String>,
}

/// Whether the object is the one a source selector names (fields compared exactly).
fn names(
    source: &PatchTarget,
    api_version: &str,
    kind: &str,
    name: &str,
    ns: Option<&str>,
) -> bool {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    is(&source.kind, kind)
        && is(&source.group, group)
        && is(&source.version, version)
        && source.name.as_deref() == Some(name)
        && match (&source.namespace, ns) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// The files of kustomization `k`'s build: itself, then what its resources include,
/// breadth first.
pub(super) fn build_files(
    k: usize,
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
) -> Vec<usize> {
    let mut order = vec![k];
    let mut seen = HashSet::from_iter([k]);
    let mut level = vec![k];
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for &f in &level {
            let Some(file) = files.get(f) else {
                continue;
            };
            let dir = parent_dir(&file.path);
            for fact in &file.facts {
                let FactKind::Kustomization(kust) = &fact.kind else {
                    continue;
                };
                for (entry, _) in &kust.resources {
                    if let Some(r) = resolve_entry(dir, entry, by_path) {
                        if seen.insert(r) {
                            order.push(r);
                            next.push(r);
                        }
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        level = next;
    }
    order
}

/// Apply source `options` to a value: the `index`th part split at `delimiter`.
fn with_options(value: &str, options: &Option<(String, usize)>) -> Option<String> {
    match options {
        None => Some(value.to_owned()),
        Some((d, i)) => value.split(d.as_str()).nth(*i).map(str::to_owned),
    }
}

/// The value replacement `r` copies, as the build of its kustomization (`build`, from
/// [`build_files`]) has it: a ConfigMap's `data` key (a generator's literal or env file,
/// or a manifest), a container's image (or, with options, its tag), a HelmRelease's chart
/// version, a source's ref. `None` when it is not in the build or not a value we read.
pub(super) fn source_value(
    build: &[usize],
    r: &Replacement,
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
) -> Option<SourceValue> {
    let found = if r.source.kind.as_deref() == Some("ConfigMap") {
        let key = r.field_path.strip_prefix("data.")?;
        if key.is_empty() || key.contains(['[', ']', '*']) {
            return None;
        }
        build.iter().find_map(|&f| {
            files[f].facts.iter().enumerate().find_map(|(x, fact)| {
                let FactKind::ConfigMapSource(c) = &fact.kind else {
                    return None;
                };
                if !names(
                    &r.source,
                    "v1",
                    "ConfigMap",
                    &c.name,
                    fact.namespace.as_deref(),
                ) {
                    return None;
                }
                let v = config_map_value(key, (f, x, c), files, by_path)?;
                Some(SourceValue {
                    file: v.file,
                    fact: v.fact,
                    value: v.text.to_owned(),
                    span: v.span.clone(),
                    policy_ref: None,
                })
            })
        })?
    } else {
        let field = parse_field_path(&r.field_path)?;
        build.iter().find_map(|&f| {
            files[f].facts.iter().enumerate().find_map(|(x, fact)| {
                let FactKind::Object(o) = &fact.kind else {
                    return None;
                };
                let ns = o.namespace.as_deref().or(fact.namespace.as_deref());
                if !names(&r.source, &o.api_version, &o.kind, &o.name, ns) {
                    return None;
                }
                object_value(o, &field).map(|(value, span, policy_ref)| SourceValue {
                    file: f,
                    fact: x,
                    value,
                    span,
                    policy_ref,
                })
            })
        })?
    };
    let value = with_options(found.value.trim(), &r.options)?;
    let value = value.trim();
    // An unresolved substitution is no version.
    if value.is_empty() || value.contains("${") {
        return None;
    }
    Some(SourceValue {
        value: value.to_owned(),
        ..found
    })
}

/// The value object `o` writes at `field` (a container by name or position).
fn object_value(o: &KubeObject, field: &Field) -> Option<(String, Span, Option<String>)> {
    o.values.iter().find_map(|v| {
        let same = match (field, &v.field) {
            (
                Field::Image {
                    init: a,
                    name: an,
                    index: ax,
                },
                Field::Image {
                    init: b,
                    name: bn,
                    index: bx,
                },
            ) => a == b && if an.is_some() { an == bn } else { ax == bx },
            (a, b) => a == b,
        };
        if !same {
            return None;
        }
        let value = v.value.clone()?;
        Some((value, v.span.clone(), v.policy_ref.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(environment, component, value, path:line:column)` of every effective pin.
    fn resolved(files: &[(&str, &str)]) -> Vec<String> {
        let mut pins = crate::snapshot::tests::pins_as_text(files, true);
        pins.sort();
        pins
    }

    const BASE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/web:0.0.0\n        - name: proxy\n          image: ghcr.io/acme/proxy:2.1.0\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-canary\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/web:0.0.0\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    spec:\n      chart: podinfo\n      version: 6.5.0\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo-canary\nspec:\n  chart:\n    spec:\n      chart: podinfo\n      version: '>=1.0.0'\n";
    const BASE_K: &str = "resources:\n  - web.yaml\n";

    /// An env file's value, an image tag and a chart version as sources; `reject` spares
    /// the canary; a Secret source and a wildcard path change nothing.
    #[test]
    fn sources_from_env_files_images_and_charts() {
        let overlay = "\
resources:
  - ../base
configMapGenerator:
  - name: versions
    envs:
      - versions.env
replacements:
  - source:
      kind: ConfigMap
      name: versions
      fieldPath: data.WEB_VERSION
    targets:
      - select:
          kind: Deployment
        reject:
          - name: web-canary
        fieldPaths:
          - spec.template.spec.containers.[name=app].image
        options:
          delimiter: ':'
          index: 1
  - source:
      kind: Deployment
      name: web
      fieldPath: spec.template.spec.containers.[name=proxy].image
      options:
        delimiter: ':'
        index: 1
    targets:
      - select:
          kind: Deployment
          name: web-canary
        fieldPaths:
          - spec.template.spec.containers.[name=app].image
        options:
          delimiter: ':'
          index: 1
  - source:
      kind: HelmRelease
      name: podinfo
      fieldPath: spec.chart.spec.version
    targets:
      - select:
          kind: HelmRelease
          name: podinfo-canary
        fieldPaths:
          - spec.chart.spec.version
  - source:
      kind: Secret
      name: creds
      fieldPath: data.WEB_VERSION
    targets:
      - select:
          kind: HelmRelease
        fieldPaths:
          - spec.chart.spec.version
  - source:
      kind: ConfigMap
      name: versions
      fieldPath: data.WEB_VERSION
    targets:
      - select:
          kind: Deployment
        fieldPaths:
          - spec.template.spec.containers.*.image
";
        let got = resolved(&[
            ("apps/base/web.yaml", BASE),
            ("apps/base/kustomization.yaml", BASE_K),
            ("apps/production/kustomization.yaml", overlay),
            ("apps/production/versions.env", "WEB_VERSION=1.4.2\n"),
        ]);
        for want in [
            "production ghcr.io/acme/web 1.4.2 apps/production/versions.env:1:13",
            "production ghcr.io/acme/web 2.1.0 apps/base/web.yaml:12:37",
            "production ghcr.io/acme/proxy 2.1.0 apps/base/web.yaml:12:37",
            "production podinfo 6.5.0 apps/base/web.yaml:33:16",
        ] {
            assert!(got.iter().any(|g| g == want), "{want}\n{got:#?}");
        }
        assert_eq!(
            got.iter().filter(|g| g.contains("0.0.0")).count(),
            0,
            "{got:#?}"
        );
        assert!(!got.iter().any(|g| g.contains(">=1.0.0")), "{got:#?}");
        // The env file's line is the image's pin, not one of its own as well.
        assert!(!got.iter().any(|g| g.contains("WEB_VERSION")), "{got:#?}");
    }

    /// A `path:` entry reads a file of replacements; a later inline entry writing the same
    /// field wins, as Kustomize runs them in order.
    #[test]
    fn replacement_files_are_read_in_order() {
        let list = "\
- source:
    kind: ConfigMap
    name: versions
    fieldPath: data.WEB_VERSION
  targets:
    - select:
        kind: Deployment
      fieldPaths:
        - spec.template.spec.containers.[name=app].image
      options:
        delimiter: ':'
        index: 1
";
        let overlay = |inline_after: bool| {
            let inline = "  - source:
      kind: ConfigMap
      name: versions
      fieldPath: data.CANARY_VERSION
    targets:
      - select:
          kind: Deployment
          name: web-canary
        fieldPaths:
          - spec.template.spec.containers.0.image
        options:
          delimiter: ':'
          index: 1
";
            let file = "  - path: replacements.yaml\n";
            let (first, second) = if inline_after {
                (file, inline)
            } else {
                (inline, file)
            };
            format!(
                "resources:\n  - ../base\nconfigMapGenerator:\n  - name: versions\n    literals:\n      - WEB_VERSION=1.4.2\n      - CANARY_VERSION=1.5.0-rc.1\nreplacements:\n{first}{second}"
            )
        };
        for inline_after in [true, false] {
            let text = overlay(inline_after);
            let got = resolved(&[
                ("apps/base/web.yaml", BASE),
                ("apps/base/kustomization.yaml", BASE_K),
                ("apps/production/kustomization.yaml", &text),
                ("apps/production/replacements.yaml", list),
            ]);
            let canary = if inline_after { "1.5.0-rc.1" } else { "1.4.2" };
            let want = [
                "production ghcr.io/acme/web 1.4.2".to_owned(),
                format!("production ghcr.io/acme/web {canary}"),
            ];
            for w in &want {
                assert!(
                    got.iter().any(|g| g.starts_with(w.as_str())),
                    "{w}\n{got:#?}"
                );
            }
            assert!(!got.iter().any(|g| g.contains("0.0.0")), "{got:#?}");
        }
    }

    #[test]
    fn field_paths_name_containers_by_name_or_position_and_refuse_the_rest() {
        let image = |name: Option<&str>, index: Option<usize>| Field::Image {
            init: false,
            name: name.map(str::to_owned),
            index,
        };
        for (path, want) in [
            (
                "spec.template.spec.containers.[name=app].image",
                Some(image(Some("app"), None)),
            ),
            (
                "spec.template.spec.containers[name=app].image",
                Some(image(Some("app"), None)),
            ),
            (
                "spec.template.spec.containers.1.image",
                Some(image(None, Some(1))),
            ),
            (
                "spec.containers.[name=app].image",
                Some(image(Some("app"), None)),
            ),
            ("spec.chart.spec.version", Some(Field::ChartVersion)),
            ("spec.ref.tag", Some(Field::Ref { key: "tag".into() })),
            ("spec.template.spec.containers.*.image", None),
            ("spec.template.spec.containers.[name=*].image", None),
            ("spec.template.spec.containers.[image=x].image", None),
            ("spec.template.metadata.labels.version", None),
            ("spec.ref.url", None),
            ("data.APP_VERSION", None),
            ("", None),
        ] {
            assert_eq!(parse_field_path(path), want, "{path}");
        }
    }

    #[test]
    fn target_options_follow_the_tag_of_an_image_only() {
        let tag = Some((":".to_owned(), 1));
        let path = "spec.template.spec.containers.[name=app].image";
        assert!(matches!(target_field(path, &tag), Some((_, true))));
        assert!(matches!(target_field(path, &None), Some((_, false))));
        assert_eq!(target_field(path, &Some((":".to_owned(), 0))), None);
        assert_eq!(target_field(path, &Some(("@".to_owned(), 1))), None);
        assert_eq!(target_field("spec.chart.spec.version", &tag), None);
    }

    #[test]
    fn source_options_pick_a_part_of_the_value() {
        let tag = Some((":".to_owned(), 1));
        assert_eq!(
            with_options("ghcr.io/acme/web:1.2.3", &tag).as_deref(),
            Some("1.2.3")
        );
        assert_eq!(with_options("web", &tag), None);
        assert_eq!(with_options("1.2.3", &None).as_deref(), Some("1.2.3"));
    }

    #[test]
    fn sources_are_named_exactly() {
        let source = PatchTarget {
            kind: Some("ConfigMap".into()),
            name: Some("web-versions".into()),
            ..PatchTarget::default()
        };
        assert!(names(
            &source,
            "v1",
            "ConfigMap",
            "web-versions",
            Some("web")
        ));
        assert!(!names(&source, "v1", "ConfigMap", "web-version", None));
        assert!(!names(&source, "v1", "Secret", "web-versions", None));
        let nameless = PatchTarget {
            kind: Some("ConfigMap".into()),
            ..PatchTarget::default()
        };
        assert!(!names(&nameless, "v1", "ConfigMap", "x", None));
    }
}
