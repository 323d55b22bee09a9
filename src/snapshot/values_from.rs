//! Helm values a Flux HelmRelease reads through `valuesFrom`.
//!
//! A base HelmRelease names a ConfigMap (`valuesFrom: [{kind: ConfigMap, name:
//! podinfo-values}]`) and each overlay generates it from its own values file
//! (`configMapGenerator: [{name: podinfo-values, files: [values.yaml=podinfo-values.yaml]}]`).
//! The images of that file then take effect in the environments the generating
//! kustomization builds, at the file's lines, with the release's entry as related.
//!
//! Precedence follows helm-controller: `valuesFrom` entries merge in order (a later one
//! overrides an earlier one at the same place), and the inline `spec.values` override them
//! all. `valuesKey` picks the generator's file by key (default `values.yaml`). Not read:
//! Secrets (not in the repository in clear), an entry with `targetPath` (its value is one
//! scalar put at that path, not a values document), ConfigMap manifests written out with
//! the values inline.

use super::graph::{kustomizations_above, parent_dir, EffectivePin, FileFacts, Include};
use super::Resolver;
use crate::model::hash::{HashMap, HashSet};
use crate::model::join_normalized;
use crate::model::{ConfigMapSource, FactKind, HelmValuesFrom, ValuesRef};
use crate::model::{Related, Revision};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The effective pins `valuesFrom` makes, and the values-file pins it consumed (they take
/// effect where the release does, not where the file's own path would put them).
#[derive(Default)]
pub(super) struct FromValues {
    pub pins: Vec<EffectivePin>,
    pub consumed: HashSet<(usize, usize)>,
}

/// One values file a release reads in one environment.
struct Source<'a> {
    /// The file of the ConfigMap: a kustomization's generator, or a manifest.
    generator: usize,
    /// The file holding the values (for a manifest, the manifest itself).
    values: usize,
    /// For a manifest, the pins of the key read (facts of `values`); `None`: every pin.
    pins: Option<&'a [usize]>,
    entry: &'a ValuesRef,
}

impl Source<'_> {
    fn pins<'f>(&self, files: &'f [Arc<FileFacts>]) -> Vec<(usize, &'f crate::model::Pin)> {
        let facts = &files[self.values].facts;
        match self.pins {
            Some(list) => list
                .iter()
                .filter_map(|&i| Some((i, facts.get(i)?.as_pin()?)))
                .collect(),
            None => facts
                .iter()
                .enumerate()
                .filter_map(|(i, f)| Some((i, f.as_pin()?)))
                .collect(),
        }
    }
}

pub(super) fn resolve(
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
    resolver: &Resolver,
) -> FromValues {
    let mut out = FromValues::default();
    let mut releases = Vec::new();
    // Generators with `files`, by ConfigMap name: each release looks up only its names.
    let mut generators: HashMap<&str, Vec<(usize, &ConfigMapSource)>> = HashMap::default();
    for (fi, f) in files.iter().enumerate() {
        for fact in &f.facts {
            match &fact.kind {
                FactKind::HelmValuesFrom(v) => releases.push((fi, v)),
                FactKind::ConfigMapSource(c) if !c.files.is_empty() || !c.embedded.is_empty() => {
                    generators.entry(c.name.as_str()).or_default().push((fi, c));
                }
                _ => {}
            }
        }
    }
    if releases.is_empty() || generators.is_empty() {
        return out;
    }
    let mut seen = HashSet::default();
    for (hf, release) in releases {
        let reached = kustomizations_above(hf, resolver.includers);
        // Environment → the values files of each entry, in entry order.
        let mut per_env: BTreeMap<usize, Vec<Option<Source>>> = BTreeMap::new();
        for (i, entry) in release.refs.iter().enumerate() {
            if entry.target_path.is_some() {
                continue;
            }
            let candidates = generators.get(entry.name.as_str()).into_iter().flatten();
            for &(gf, generator) in candidates {
                let generated = reached
                    .contains(&gf)
                    .then(|| values_file(gf, generator, &entry.values_key, files, by_path))
                    .flatten()
                    .map(|v| (v, None));
                // A manifest built with the release: its key's inline values.
                let found = generated.or_else(|| {
                    let built = gf == hf || in_build(gf, hf, &reached, resolver.includers, files);
                    built
                        .then(|| {
                            generator
                                .embedded
                                .iter()
                                .rev()
                                .find(|(k, _)| *k == entry.values_key)
                                .map(|(_, pins)| (gf, Some(pins.as_slice())))
                        })
                        .flatten()
                });
                let Some((values, pins)) = found else {
                    continue;
                };
                for env in resolver.every_env(gf) {
                    let slots = per_env
                        .entry(env)
                        .or_insert_with(|| (0..release.refs.len()).map(|_| None).collect());
                    // Two generators of one name reach this environment (an overlay
                    // replacing its base's ConfigMap): the environment's own wins.
                    let own = resolver.file_env[gf] == Some(env);
                    let keep = match &slots[i] {
                        Some(s) => own && resolver.file_env[s.generator] != Some(env),
                        None => true,
                    };
                    if keep {
                        slots[i] = Some(Source {
                            generator: gf,
                            values,
                            pins,
                            entry,
                        });
                    }
                }
            }
        }
        for (env, slots) in per_env {
            push_env(env, hf, release, &slots, files, &mut seen, &mut out);
        }
    }
    out
}

/// The effective pins of one release's values files in `env`: a pin set again at the same
/// place by a later entry or by the inline values is overridden.
fn push_env(
    env: usize,
    hf: usize,
    release: &HelmValuesFrom,
    slots: &[Option<Source>],
    files: &[Arc<FileFacts>],
    seen: &mut HashSet<(usize, usize, usize)>,
    out: &mut FromValues,
) {
    let sources: Vec<&Source> = slots.iter().flatten().collect();
    for (n, source) in sources.iter().enumerate() {
        let later = &sources[n + 1..];
        for (px, pin) in source.pins(files) {
            out.consumed.insert((source.values, px));
            let overridden = release.inline.contains(&pin.context)
                || later
                    .iter()
                    .any(|s| s.pins(files).iter().any(|(_, q)| q.context == pin.context));
            if overridden || !seen.insert((source.values, px, env)) {
                continue;
            }
            out.pins.push(EffectivePin {
                file: source.values,
                fact: px,
                env,
                via: None,
                patched: None,
                replaces: Some(Related {
                    path: files[hf].path.clone(),
                    span: source.entry.span.clone(),
                    message: format!(
                        "deployed by HelmRelease {} through `valuesFrom` ConfigMap `{}` here",
                        release.release, source.entry.name
                    ),
                    revision: Revision::Tree,
                }),
            });
        }
    }
}

/// The file generator `generator` (in file `gf`) puts under `key`, if it is in the tree.
fn values_file(
    gf: usize,
    generator: &ConfigMapSource,
    key: &str,
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
) -> Option<usize> {
    let (_, path) = generator.files.iter().rev().find(|(k, _)| k == key)?;
    let path = join_normalized(parent_dir(&files[gf].path), path)?;
    by_path.get(path.as_str()).copied()
}

/// Whether manifest file `cm` is built together with release file `hf`: a kustomization
/// above the release lists it, or both sit in one directory without kustomization.
fn in_build(
    cm: usize,
    hf: usize,
    reached: &HashSet<usize>,
    includers: &HashMap<usize, Vec<Include>>,
    files: &[Arc<FileFacts>],
) -> bool {
    match includers.get(&cm) {
        Some(ups) => ups.iter().any(|inc| reached.contains(&inc.kustomization)),
        None => {
            !includers.contains_key(&hf)
                && parent_dir(&files[cm].path) == parent_dir(&files[hf].path)
        }
    }
}

#[cfg(test)]
mod tests {

    /// `(environment, component, value, path:line)` of every effective pin of an image.
    fn resolved(files: &[(&str, &str)]) -> Vec<String> {
        let mut pins = crate::snapshot::tests::pins_as_text(files, false);
        pins.retain(|s| s.contains("acme/"));
        pins
    }

    fn release(value_from: &str) -> String {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\nspec:\n  chart:\n    spec:\n      chart: app\n      version: 1.0.0\n  valuesFrom:\n{value_from}"
        )
    }

    fn values(tag: &str) -> String {
        format!("image:\n  repository: ghcr.io/acme/app\n  tag: {tag}\nsidecar:\n  image: ghcr.io/acme/sidecar:{tag}\n")
    }

    /// A later entry overrides an earlier one at the same place only; `valuesKey` picks the
    /// generator's file by key; a `targetPath` entry is no values document.
    #[test]
    fn later_entries_override_and_values_key_selects_the_file() {
        let from = "    - kind: ConfigMap\n      name: app-values\n    - kind: ConfigMap\n      name: app-values\n      valuesKey: override.yaml\n    - kind: ConfigMap\n      name: app-values\n      valuesKey: pinned.yaml\n      targetPath: image.tag\n";
        let generator = "resources: [../base]\nconfigMapGenerator:\n  - name: app-values\n    files:\n      - values.yaml\n      - override.yaml=app-override-values.yaml\n      - pinned.yaml=../../helm/pinned-values.yaml\n";
        let seen = resolved(&[
            (
                "apps/base/kustomization.yaml",
                "resources: [release.yaml]\n",
            ),
            ("apps/base/release.yaml", &release(from)),
            ("apps/prod/kustomization.yaml", generator),
            ("apps/prod/values.yaml", &values("1.0.0")),
            (
                "apps/prod/app-override-values.yaml",
                "sidecar:\n  image: ghcr.io/acme/sidecar:2.0.0\n",
            ),
            ("helm/pinned-values.yaml", &values("9.9.9")),
        ]);
        assert_eq!(
            seen,
            [
                "prod ghcr.io/acme/app 1.0.0 apps/prod/values.yaml:3",
                "prod ghcr.io/acme/sidecar 2.0.0 apps/prod/app-override-values.yaml:2",
            ]
        );
    }

    /// The inline values override a values file's tag even when they set only the tag.
    #[test]
    fn an_inline_tag_overrides_the_values_file() {
        let from = "    - kind: ConfigMap\n      name: app-values\n  values:\n    image:\n      tag: 1.2.3\n";
        let generator = "resources: [release.yaml]\nconfigMapGenerator:\n  - name: app-values\n    files: [values.yaml]\n";
        let seen = resolved(&[
            ("apps/prod/kustomization.yaml", generator),
            ("apps/prod/release.yaml", &release(from)),
            ("apps/prod/values.yaml", &values("latest")),
        ]);
        assert_eq!(
            seen,
            ["prod ghcr.io/acme/sidecar latest apps/prod/values.yaml:5"]
        );
    }

    /// A ConfigMap manifest built with the release holds its values inline: its image
    /// pins are at their lines in the manifest, in the release's environment.
    #[test]
    fn a_config_map_manifest_with_inline_values() {
        let from = "    - kind: ConfigMap\n      name: app-values\n";
        let config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-values\ndata:\n  values.yaml: |\n    image:\n      repository: ghcr.io/acme/app\n      tag: latest\n  other.yaml: |\n    image:\n      repository: ghcr.io/acme/other\n      tag: \"2.0\"\n";
        let seen = resolved(&[
            (
                "apps/base/kustomization.yaml",
                "resources: [release.yaml, values.yaml]\n",
            ),
            ("apps/base/release.yaml", &release(from)),
            ("apps/base/values.yaml", config_map),
            ("apps/prod/kustomization.yaml", "resources: [../base]\n"),
        ]);
        // `other.yaml` is no key the release reads: its pin stays a pin of the base,
        // which is in no environment of its own.
        assert_eq!(
            seen,
            ["prod ghcr.io/acme/app latest apps/base/values.yaml:9"]
        );
    }

    /// A values file outside any environment's directory takes effect in every
    /// environment whose overlay builds the generating kustomization; an overlay's own
    /// generator of the same name replaces the base's there; a ConfigMap no kustomization
    /// above the release generates is nothing.
    #[test]
    fn a_generated_values_file_takes_effect_where_its_kustomization_is_built() {
        let from = "    - kind: ConfigMap\n      name: app-values\n    - kind: ConfigMap\n      name: elsewhere\n";
        let base = "resources: [release.yaml]\nconfigMapGenerator:\n  - name: app-values\n    files: [values.yaml=../../helm/app/values.yaml]\n";
        let prod = "resources: [../base]\nconfigMapGenerator:\n  - name: app-values\n    behavior: replace\n    files: [values.yaml=app-values.yaml]\n";
        let other = "configMapGenerator:\n  - name: elsewhere\n    files: [values.yaml]\n";
        let seen = resolved(&[
            ("apps/base/kustomization.yaml", base),
            ("apps/base/release.yaml", &release(from)),
            ("helm/app/values.yaml", &values("1.0.0")),
            ("apps/staging/kustomization.yaml", "resources: [../base]\n"),
            ("apps/prod/kustomization.yaml", prod),
            ("apps/prod/app-values.yaml", &values("0.9.0")),
            ("tools/kustomization.yaml", other),
            ("tools/values.yaml", &values("latest")),
        ]);
        assert_eq!(
            seen,
            [
                "staging ghcr.io/acme/app 1.0.0 helm/app/values.yaml:3",
                "staging ghcr.io/acme/sidecar 1.0.0 helm/app/values.yaml:5",
                "prod ghcr.io/acme/app 0.9.0 apps/prod/app-values.yaml:3",
                "prod ghcr.io/acme/sidecar 0.9.0 apps/prod/app-values.yaml:5",
            ]
        );
    }
}
