//! Flux `postBuild` variable substitution.
//!
//! A shared manifest pins `ghcr.io/acme/app:${APP_VERSION}`; each Flux Kustomization
//! (`kustomize.toolkit.fluxcd.io`) whose `spec.path` builds that manifest fills the
//! variable in for its own cluster. The version then takes effect in the environment of
//! the file declaring the Flux Kustomization, and lives where the value is written: the
//! `substitute:` value, or the line of the env file behind a `substituteFrom` ConfigMap.
//!
//! Resolution follows kustomize-controller: the ConfigMaps of `substituteFrom` are read in
//! order, a later one overriding an earlier one, and `substitute` overrides them all; a
//! variable set nowhere takes its `${VAR:=default}` (or `:-`) default. A variable with
//! neither is no version at all. Read: `substitute`, `substituteFrom` ConfigMaps that a
//! kustomization's `configMapGenerator` makes from `envs` files or `literals`. Not read:
//! Secrets, ConfigMap manifests written out by hand, `substituteFrom` `optional`.

use super::graph::{
    kustomizations_above, parent_dir, EffectivePin, FileFacts, Include, KUSTOMIZATION_NAMES,
};
use crate::config::Environments;
use crate::model::hash::{HashMap, HashSet};
use crate::model::join_normalized;
use crate::model::{
    is_version_range, ConfigMapSource, FactKind, FluxKustomization, Pin, RefKind, Reference, Span,
    TemplatedPin,
};
use crate::model::{Related, Revision};
use std::sync::Arc;

/// Where a substituted value is written.
pub(super) struct Value<'a> {
    pub text: &'a str,
    pub file: usize,
    pub fact: usize,
    pub span: &'a Span,
}

/// The effective pins substitution makes, and the env-file pins it consumed (those are
/// that pin's value, not a pin of their own any more).
pub(super) struct Substituted {
    pub pins: Vec<EffectivePin>,
    pub consumed: HashSet<(usize, usize)>,
    /// (env-file pin, the component its value became), for the history.
    pub feeds: Vec<((usize, usize), String)>,
}

pub(super) fn resolve(
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
    file_env: &[Vec<usize>],
    envs: &Environments,
    includers: &HashMap<usize, Vec<Include>>,
) -> Substituted {
    let mut out = Substituted {
        pins: Vec::new(),
        consumed: HashSet::default(),
        feeds: Vec::new(),
    };
    let mut fluxes = Vec::new();
    let mut generators = Vec::new();
    let mut templated = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        for (xi, fact) in f.facts.iter().enumerate() {
            match &fact.kind {
                // A Flux Kustomization in a shared file substitutes in every environment
                // whose entry points reach it.
                FactKind::FluxKustomization(k) => {
                    let own = super::entry::namespace_env(fact, envs);
                    if file_env[fi].is_empty() {
                        fluxes.extend(own.map(|env| (fi, xi, k, env)));
                    }
                    for &env in &file_env[fi] {
                        fluxes.push((fi, xi, k, env));
                    }
                }
                FactKind::ConfigMapSource(c) => generators.push((fi, xi, c)),
                FactKind::TemplatedPin(t) => templated.push((fi, xi, t)),
                _ => {}
            }
        }
    }
    if fluxes.is_empty() || templated.is_empty() {
        return out;
    }
    for (fi, xi, t) in templated {
        let reached = kustomizations_above(fi, includers);
        for &(kf, kx, flux, env) in &fluxes {
            if !builds(&flux.path, fi, &reached, files, by_path) {
                continue;
            }
            let found = lookup(t, flux, kf, kx, env, files, by_path, file_env, &generators);
            let value = found.or_else(|| {
                t.default.as_deref().map(|d| Value {
                    text: d,
                    file: fi,
                    fact: xi,
                    span: &t.pin.span,
                })
            });
            let Some(value) = value.filter(|v| !v.text.trim().is_empty()) else {
                continue;
            };
            if value.file != fi && value.file != kf {
                out.consumed.insert((value.file, value.fact));
                out.feeds
                    .push(((value.file, value.fact), t.pin.component.clone()));
            }
            out.pins.push(effective(t, &value, fi, env, files));
        }
    }
    out
}

/// The effective pin of templated pin `t` (in file `fi`) with `value`, in `env`.
fn effective(
    t: &TemplatedPin,
    value: &Value,
    fi: usize,
    env: usize,
    files: &[Arc<FileFacts>],
) -> EffectivePin {
    let text = value.text.trim();
    let pin = Pin {
        reference: Reference {
            kind: if is_version_range(text) {
                RefKind::Range
            } else {
                RefKind::Tag
            },
            value: text.to_owned(),
            digest: None,
        },
        span: value.span.clone(),
        ..t.pin.clone()
    };
    // A default stands where the placeholder is: nothing else to point at.
    let replaces = (value.file != fi).then(|| Related {
        path: files[fi].path.clone(),
        span: t.pin.span.clone(),
        message: format!("substituted for `${{{}}}` here", t.var),
        revision: Revision::Tree,
    });
    EffectivePin {
        file: value.file,
        fact: value.fact,
        env,
        via: None,
        patched: Some(Arc::new(pin)),
        replaces,
    }
}

/// The value Flux Kustomization `flux` (fact `kx` of file `kf`, environment `env`) gives
/// `t`'s variable: `substitute` first, then the last `substituteFrom` ConfigMap that sets it.
#[allow(clippy::too_many_arguments)]
fn lookup<'a>(
    t: &TemplatedPin,
    flux: &'a FluxKustomization,
    kf: usize,
    kx: usize,
    env: usize,
    files: &'a [Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
    file_env: &[Vec<usize>],
    generators: &[(usize, usize, &'a ConfigMapSource)],
) -> Option<Value<'a>> {
    if let Some((_, v, span)) = flux.substitute.iter().find(|(k, _, _)| *k == t.var) {
        return Some(Value {
            text: v,
            file: kf,
            fact: kx,
            span,
        });
    }
    flux.substitute_from.iter().rev().find_map(|name| {
        let generator = config_map(name, kf, env, file_env, generators, files)?;
        config_map_value(&t.var, generator, files, by_path)
    })
}

/// The generated ConfigMap `name` a Flux Kustomization in file `kf` means: one generated
/// in its environment, else the one whose directory shares most with `kf`'s (the cluster
/// directory a Flux bootstrap applies together).
fn config_map<'a>(
    name: &str,
    kf: usize,
    env: usize,
    file_env: &[Vec<usize>],
    generators: &[(usize, usize, &'a ConfigMapSource)],
    files: &[Arc<FileFacts>],
) -> Option<(usize, usize, &'a ConfigMapSource)> {
    let shared = |g: usize| {
        let (a, b) = (parent_dir(&files[g].path), parent_dir(&files[kf].path));
        a.split('/')
            .zip(b.split('/'))
            .take_while(|(x, y)| x == y)
            .count()
    };
    generators
        .iter()
        .filter(|(_, _, c)| c.name == name)
        .max_by_key(|(g, _, _)| (file_env[*g].contains(&env), shared(*g), usize::MAX - g))
        .copied()
}

/// `var` in a generated ConfigMap: its literal, else the last of its env files setting it
/// (read through the env file's pin of that key).
pub(super) fn config_map_value<'a>(
    var: &str,
    (gf, gx, generator): (usize, usize, &'a ConfigMapSource),
    files: &'a [Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
) -> Option<Value<'a>> {
    if let Some((_, v, span)) = generator.literals.iter().rev().find(|(k, _, _)| k == var) {
        return Some(Value {
            text: v,
            file: gf,
            fact: gx,
            span,
        });
    }
    let dir = parent_dir(&files[gf].path);
    generator.env_files.iter().rev().find_map(|env_file| {
        let path = join_normalized(dir, env_file)?;
        let ef = *by_path.get(path.as_str())?;
        files[ef]
            .facts
            .iter()
            .enumerate()
            .rev()
            .find_map(|(ex, fact)| match &fact.kind {
                FactKind::Pin(p) if p.component == var => Some(Value {
                    text: &p.reference.value,
                    file: ef,
                    fact: ex,
                    span: &p.span,
                }),
                _ => None,
            })
    })
}

/// Whether a Flux Kustomization building directory `dir` builds file `fi`: the
/// directory's kustomization includes it (`reached`: `fi` and what includes it), or the
/// directory has no kustomization and Flux generates one of every manifest below it.
fn builds(
    dir: &str,
    fi: usize,
    reached: &HashSet<usize>,
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
) -> bool {
    let kustomization = KUSTOMIZATION_NAMES.iter().find_map(|n| {
        let p = if dir.is_empty() {
            (*n).to_string()
        } else {
            format!("{dir}/{n}")
        };
        by_path.get(p.as_str()).copied()
    });
    match kustomization {
        Some(k) => reached.contains(&k),
        None => dir.is_empty() || crate::model::paths::is_inside(&files[fi].path, dir),
    }
}

#[cfg(test)]
mod tests {

    /// `(environment, component, value, path:line:column)` of every effective pin.
    fn resolved(files: &[(&str, &str)]) -> Vec<String> {
        crate::snapshot::tests::pins_as_text(files, true)
    }

    fn flux(path: &str, post_build: &str) -> String {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  path: {path}\n  postBuild:\n{post_build}"
        )
    }

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: ghcr.io/acme/a:${A_VERSION:=0.1.0}\n        - name: b\n          image: ghcr.io/acme/b:${B_VERSION:=0.1.0}\n        - name: c\n          image: ghcr.io/acme/c:${C_VERSION:=0.1.0}\n        - name: d\n          image: ghcr.io/acme/d:${D_VERSION:=0.1.0}\n        - name: e\n          image: ghcr.io/acme/e:${E_VERSION}\n";

    /// `substitute` beats every ConfigMap, a later ConfigMap beats an earlier one, a
    /// ConfigMap beats the default, and a variable set nowhere without default is no pin.
    /// The directory has no kustomization: Flux builds every manifest below it.
    #[test]
    fn precedence_of_substitute_config_maps_and_default() {
        let live = flux(
            "./apps",
            "    substitute:\n      A_VERSION: \"4.0.0\"\n    substituteFrom:\n      - kind: ConfigMap\n        name: first\n      - kind: ConfigMap\n        name: second\n",
        );
        let first = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n  A_VERSION: \"1.0.0\"\n  B_VERSION: \"1.0.0\"\n  C_VERSION: \"1.0.0\"\n";
        let generator = "resources: []\nconfigMapGenerator:\n  - name: second\n    literals:\n      - B_VERSION=2.0.0\n";
        let seen = resolved(&[
            ("clusters/live/apps.yaml", &live),
            ("clusters/live/first.yaml", first),
            ("clusters/live/kustomization.yaml", generator),
            ("apps/app/deployment.yaml", DEPLOYMENT),
        ]);
        assert_eq!(
            seen,
            [
                "live ghcr.io/acme/a 4.0.0 clusters/live/apps.yaml:9:19",
                "live ghcr.io/acme/c 1.0.0 clusters/live/first.yaml:8:15",
                "live ghcr.io/acme/b 2.0.0 clusters/live/kustomization.yaml:5:19",
                "live ghcr.io/acme/d 0.1.0 apps/app/deployment.yaml:16:33",
            ]
        );
    }

    /// Each cluster reads the ConfigMap generated in its own directory, whose env file's
    /// value is the pin (and no longer a version key of its own); a Flux Kustomization whose
    /// path does not build the file fills nothing in.
    #[test]
    fn each_cluster_reads_its_own_generated_config_map() {
        let from = "    substituteFrom:\n      - kind: ConfigMap\n        name: versions\n";
        let generator = "resources: [apps.yaml]\nconfigMapGenerator:\n  - name: versions\n    envs: [versions.env]\n";
        let dev = flux("./apps", from);
        let live = flux("./apps", from);
        let elsewhere = flux("./other", from);
        let seen = resolved(&[
            (
                "apps/kustomization.yaml",
                "resources: [app/deployment.yaml]\n",
            ),
            ("apps/app/deployment.yaml", DEPLOYMENT),
            ("clusters/dev/apps.yaml", &dev),
            ("clusters/dev/kustomization.yaml", generator),
            ("clusters/dev/versions.env", "E_VERSION=1.1.0\n"),
            ("clusters/live/apps.yaml", &live),
            ("clusters/live/other.yaml", &elsewhere),
            ("clusters/live/kustomization.yaml", generator),
            (
                "clusters/live/versions.env",
                "E_VERSION=1.0.0\nUNUSED_VERSION=9\n",
            ),
        ]);
        let e: Vec<&String> = seen.iter().filter(|s| s.contains("/e ")).collect();
        assert_eq!(
            e,
            [
                "dev ghcr.io/acme/e 1.1.0 clusters/dev/versions.env:1:11",
                "live ghcr.io/acme/e 1.0.0 clusters/live/versions.env:1:11",
            ]
        );
        assert!(
            seen.iter()
                .any(|s| s == "live UNUSED_VERSION 9 clusters/live/versions.env:2:16"),
            "{seen:#?}"
        );
        assert!(!seen.iter().any(|s| s.contains("E_VERSION")), "{seen:#?}");
    }
}
