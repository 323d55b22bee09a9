//! Entry points: where Flux and Argo CD start a deployment, and the environments of what
//! they reach.
//!
//! A Flux Kustomization's `spec.path` or an Argo CD Application source's `path` deploys a
//! directory: its kustomization, or when it has none the manifests in it (Flux generates a
//! kustomization of every manifest below it, taking a subdirectory with a kustomization
//! whole; Argo CD reads the directory itself, or below it with `directory.recurse`). An
//! Application's Helm `valueFiles` are deployed with it. These become include edges
//! ([`Entry::Deploy`]) beside Kustomize resources and Terragrunt includes, so the one walk
//! up the include graph carries pins, patches and overrides to the entry point.
//!
//! An entry point in a file of an environment (by path, namespace, or for an Application
//! its name, project or destination) decides the environment of everything it reaches,
//! whatever those files' own paths say; a file reached from two environments is in both.
//! Files no entry point of an environment reaches keep the path and namespace inference.

use super::graph::{parent_dir, Entry, FileFacts, Include, KUSTOMIZATION_NAMES, MAX_OVERLAY_DEPTH};
use crate::config::Environments;
use crate::model::hash::{HashMap, HashSet};
use crate::model::{join_normalized, ArtifactCopies, DeployEntry, DeployTool, Fact, FactKind};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// An entry point: a `Deploy` fact, with the environment it deploys into (if any).
#[derive(Clone, Copy, Debug)]
pub struct EntryPoint {
    pub file: usize,
    pub fact: usize,
    pub env: Option<usize>,
}

/// What the entry points decide.
#[derive(Debug, Default)]
pub struct Entries {
    /// Every entry point, in file order.
    pub points: Vec<EntryPoint>,
    /// (file, fact) of an entry point → its environment.
    pub env_of: HashMap<(usize, usize), Option<usize>>,
    /// File → the environments whose entry points reach it, each with the nearest entry
    /// point on the way (file, fact).
    pub reached: HashMap<usize, BTreeMap<usize, (usize, usize)>>,
    /// Files holding an entry point with an environment: they keep their own.
    pub rooted: HashSet<usize>,
}

impl Entries {
    /// The environments a file is in because entry points reach it (empty: none do).
    pub fn reached_envs(&self, file: usize) -> impl Iterator<Item = usize> + '_ {
        self.reached
            .get(&file)
            .into_iter()
            .flat_map(|m| m.keys().copied())
    }

    /// Whether entry points decide `file`'s environment (rather than its path).
    pub fn decides(&self, file: usize) -> bool {
        self.reached.contains_key(&file) && !self.rooted.contains(&file)
    }
}

/// Add the include edges of every entry point to `includers`.
pub(super) fn add_edges(
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
    includers: &mut HashMap<usize, Vec<Include>>,
) {
    let mut kustomization_of: HashMap<&str, usize> = HashMap::default();
    for (i, f) in files.iter().enumerate() {
        let (dir, name) = f.path.rsplit_once('/').unwrap_or(("", &f.path));
        if KUSTOMIZATION_NAMES.contains(&name) {
            kustomization_of.entry(dir).or_insert(i);
        }
    }
    let artifacts: Vec<(&str, &ArtifactCopies)> = files
        .iter()
        .flat_map(|f| {
            f.facts.iter().filter_map(move |fact| match &fact.kind {
                FactKind::ArtifactCopies(a) => Some((f.path.as_str(), a)),
                _ => None,
            })
        })
        .collect();
    // Directories deployed without a kustomization: (entry file, fact, recursively).
    let mut generated: HashMap<String, Vec<(usize, usize, bool)>> = HashMap::default();
    let mut seen: HashSet<(usize, usize, usize)> = HashSet::default();
    let mut push = |target: usize, k: usize, fact: usize, entry: Entry| {
        if target != k && seen.insert((target, k, fact)) {
            includers.entry(target).or_default().push(Include {
                kustomization: k,
                fact,
                entry,
            });
        }
    };
    for (k, f) in files.iter().enumerate() {
        for (fi, fact) in f.facts.iter().enumerate() {
            let FactKind::Deploy(d) = &fact.kind else {
                continue;
            };
            let Some(path) = deployed_dir(d, &f.path, &artifacts) else {
                continue;
            };
            let chart =
                join_normalized(&path, "Chart.yaml").is_some_and(|p| by_path.contains_key(&p));
            if d.tool == DeployTool::Argo && chart {
                // A Helm chart: its values.yaml and the listed value files, not every YAML
                // file beside them.
                let values = join_normalized(&path, "values.yaml").and_then(|p| by_path.get(&p));
                if let Some(&t) = values {
                    push(t, k, fi, Entry::Deploy(None));
                }
            } else if let Some(&t) = kustomization_of.get(path.as_str()) {
                push(t, k, fi, Entry::Deploy(None));
            } else if let Some(&t) = by_path.get(path.as_str()) {
                push(t, k, fi, Entry::Deploy(None));
            } else {
                generated
                    .entry(path.clone())
                    .or_default()
                    .push((k, fi, d.recurse));
            }
            for (vi, (value_file, _)) in d.value_files.iter().enumerate() {
                let target = join_normalized(&path, value_file).and_then(|p| by_path.get(&p));
                if let Some(&t) = target {
                    push(t, k, fi, Entry::Deploy(Some(vi)));
                }
            }
        }
    }
    if generated.is_empty() {
        return;
    }
    // One pass over the files, each looking up its ancestors (not one scan of the tree per
    // entry point): below a deployed directory, the highest subdirectory with a
    // kustomization is taken whole, other manifests one by one.
    for (f, file) in files.iter().enumerate() {
        if !manifest(&file.path) {
            continue;
        }
        let own = parent_dir(&file.path);
        let mut top: Option<usize> = None;
        let mut dir = own;
        loop {
            if let Some(entries) = generated.get(dir) {
                let target = top.unwrap_or(f);
                for &(k, fi, recurse) in entries {
                    if recurse || dir == own {
                        push(target, k, fi, Entry::Deploy(None));
                    }
                }
            }
            if let Some(&kf) = kustomization_of.get(dir) {
                top = Some(kf);
            }
            if dir.is_empty() {
                break;
            }
            dir = parent_dir(dir);
        }
    }
}

/// The repository directory entry point `d` (in the file at `at`) deploys: its path, or
/// for a Flux `ExternalArtifact` the directory an ArtifactGenerator's copy rules put there
/// (the generator of that name nearest `at`: a cluster directory holds its own, and the
/// most specific rule). `None` when no rule of this repository makes it.
fn deployed_dir(
    d: &DeployEntry,
    at: &str,
    artifacts: &[(&str, &ArtifactCopies)],
) -> Option<String> {
    let Some(name) = &d.artifact else {
        return Some(d.path.clone());
    };
    let shared = |g: &str| {
        parent_dir(g)
            .split('/')
            .zip(parent_dir(at).split('/'))
            .take_while(|(x, y)| x == y)
            .count()
    };
    let (_, generator) = artifacts
        .iter()
        .filter(|(_, a)| &a.name == name)
        .max_by_key(|(g, _)| shared(g))?;
    let (from, rest) = generator
        .copies
        .iter()
        .filter_map(|(from, to)| {
            let rest = if to.is_empty() {
                Some(d.path.as_str())
            } else if d.path == *to {
                Some("")
            } else {
                crate::model::paths::relative_inside(&d.path, to.as_str())
            };
            rest.map(|r| (from, r, to.len()))
        })
        .max_by_key(|(_, _, len)| *len)
        .map(|(from, rest, _)| (from, rest))?;
    join_normalized(from, rest)
}

/// A file a directory deployment can apply: YAML, outside a chart's `templates/` (Go
/// templates, not manifests) and outside hidden directories.
fn manifest(path: &str) -> bool {
    let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    yaml && !path
        .split('/')
        .any(|s| s == "templates" || (s.starts_with('.') && s.len() > 1))
}

/// The environment of each entry point and what each reaches.
pub(super) fn decide(
    files: &[Arc<FileFacts>],
    envs: &Environments,
    file_env: &[Option<usize>],
    includers: &HashMap<usize, Vec<Include>>,
) -> Entries {
    let mut out = Entries::default();
    for (k, f) in files.iter().enumerate() {
        for (fi, fact) in f.facts.iter().enumerate() {
            let FactKind::Deploy(d) = &fact.kind else {
                continue;
            };
            let env = file_env[k]
                .or_else(|| namespace_env(fact, envs))
                .or_else(|| d.env_words.iter().find_map(|w| envs.env_of_stage(w)));
            out.points.push(EntryPoint {
                file: k,
                fact: fi,
                env,
            });
            out.env_of.insert((k, fi), env);
            if env.is_some() {
                out.rooted.insert(k);
            }
        }
    }
    if out.rooted.is_empty() {
        return out;
    }
    // Downward edges, in a fixed order so that the nearest entry point recorded is stable.
    let mut below: HashMap<usize, Vec<(usize, Include)>> = HashMap::default();
    for (&target, incs) in includers {
        for inc in incs {
            below
                .entry(inc.kustomization)
                .or_default()
                .push((target, *inc));
        }
    }
    for list in below.values_mut() {
        list.sort_by_key(|(t, inc)| (inc.fact, *t));
    }
    // Breadth first from every entry point with an environment: each (file, environment)
    // is visited once, so diamonds and cycles stay linear.
    let mut queue: VecDeque<(usize, usize, (usize, usize), usize)> = VecDeque::new();
    for p in &out.points {
        let Some(env) = p.env else { continue };
        for (target, inc) in below.get(&p.file).into_iter().flatten() {
            if inc.fact == p.fact && matches!(inc.entry, Entry::Deploy(_)) {
                queue.push_back((*target, env, (p.file, p.fact), 1));
            }
        }
    }
    let mut seen: HashSet<(usize, usize)> = HashSet::default();
    while let Some((node, env, nearest, depth)) = queue.pop_front() {
        if !seen.insert((node, env)) {
            continue;
        }
        out.reached
            .entry(node)
            .or_default()
            .entry(env)
            .or_insert(nearest);
        if depth >= MAX_OVERLAY_DEPTH {
            continue;
        }
        for (target, inc) in below.get(&node).into_iter().flatten() {
            let next = match inc.entry {
                Entry::Deploy(_) => (inc.kustomization, inc.fact),
                _ => nearest,
            };
            queue.push_back((*target, env, next, depth + 1));
        }
    }
    out
}

/// The environment a fact's Kubernetes namespace names, if any.
pub(super) fn namespace_env(fact: &Fact, envs: &Environments) -> Option<usize> {
    fact.namespace
        .as_deref()
        .and_then(|ns| envs.for_namespace(ns))
}

#[cfg(test)]
mod tests {

    /// `(environment, component, value, path:line)` of every effective pin of `files`.
    pub(crate) fn resolved(files: &[(&str, &str)]) -> Vec<String> {
        crate::snapshot::tests::pins_as_text(files, false)
    }

    fn flux(path: &str) -> String {
        format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: x\n  namespace: flux-system\nspec:\n  path: {path}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
    }

    const RELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  chart:\n    spec:\n      chart: a\n      version: \"1.2.3\"\n";

    #[test]
    fn a_shared_directory_takes_each_reaching_cluster_environment() {
        let seen = resolved(&[
            ("clusters/staging/infra.yaml", &flux("./infra/controllers")),
            (
                "clusters/production/infra.yaml",
                &flux("./infra/controllers"),
            ),
            ("infra/controllers/a.yaml", RELEASE),
        ]);
        assert_eq!(
            seen,
            [
                "staging a 1.2.3 infra/controllers/a.yaml:9",
                "production a 1.2.3 infra/controllers/a.yaml:9",
            ]
        );
    }

    const OVERLAY: &str =
        "resources: [../base]\nimages:\n  - name: ghcr.io/acme/web\n    newTag: latest\n";

    /// An ApplicationSet's list elements fill the template in: each element's path is
    /// deployed in the environment its values name; a git generator with a glob is not
    /// followed (its directories are not literal).
    #[test]
    fn application_set_list_elements_are_entry_points() {
        let set = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: web\nspec:\n  generators:\n    - list:\n        elements:\n          - env: qa\n            dir: web/blue\n          - env: prod\n            dir: web/green\n    - git:\n        directories:\n          - path: web/*\n  template:\n    metadata:\n      name: 'web-{{env}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://example.com/acme/deploy.git\n        path: '{{dir}}'\n      destination:\n        namespace: 'web-{{env}}'\n";
        let seen = resolved(&[
            (
                "clusters/qa/ns.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: qa\n",
            ),
            (
                "clusters/prod/ns.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: p\n",
            ),
            ("argocd/web.yaml", set),
            ("web/blue/kustomization.yaml", OVERLAY),
            ("web/green/kustomization.yaml", OVERLAY),
        ]);
        assert_eq!(
            seen,
            [
                "qa ghcr.io/acme/web latest web/blue/kustomization.yaml:4",
                "prod ghcr.io/acme/web latest web/green/kustomization.yaml:4",
            ]
        );
    }

    /// A cluster directory that deploys its own `flux-system` (a cycle) and a diamond of
    /// entry points reaching one file: each environment once.
    #[test]
    fn cycles_and_diamonds_deliver_each_environment_once() {
        let seen = resolved(&[
            (
                "clusters/staging/flux-system/gotk-sync.yaml",
                &flux("./clusters/staging"),
            ),
            (
                "clusters/staging/flux-system/kustomization.yaml",
                "resources: [gotk-sync.yaml]\n",
            ),
            ("clusters/staging/a.yaml", &flux("./shared/a")),
            ("clusters/staging/b.yaml", &flux("./shared/b")),
            ("shared/a/kustomization.yaml", "resources: [../c]\n"),
            ("shared/b/kustomization.yaml", "resources: [../c]\n"),
            ("shared/c/kustomization.yaml", "resources: [release.yaml]\n"),
            ("shared/c/release.yaml", RELEASE),
        ]);
        assert_eq!(seen, ["staging a 1.2.3 shared/c/release.yaml:9"]);
    }

    /// A Flux Kustomization built from an `ExternalArtifact` deploys the repository
    /// directory the cluster's ArtifactGenerator copies into the artifact at its path.
    #[test]
    fn external_artifact_paths_are_read_through_the_generator_copy_rules() {
        let generator = |cluster: &str| {
            format!("apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata:\n  name: g\nspec:\n  artifacts:\n    - name: infrastructure\n      copy:\n        - from: \"@repo/infra/**\"\n          to: \"@artifact/\"\n    - name: apps\n      copy:\n        - from: \"@repo/apps/{cluster}/**\"\n          to: \"@artifact/{cluster}/\"\n")
        };
        let external = |path: &str, name: &str| {
            format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: x\nspec:\n  path: {path}\n  sourceRef:\n    kind: ExternalArtifact\n    name: {name}\n")
        };
        let seen = resolved(&[
            ("clusters/staging/artifacts.yaml", &generator("staging")),
            (
                "clusters/staging/infra.yaml",
                &external("./controllers", "infrastructure"),
            ),
            ("clusters/staging/apps.yaml", &external("./staging", "apps")),
            ("infra/controllers/a.yaml", RELEASE),
            (
                "apps/staging/b.yaml",
                &RELEASE.replace("chart: a", "chart: b"),
            ),
            (
                "apps/unrelated/c.yaml",
                &RELEASE.replace("chart: a", "chart: c"),
            ),
        ]);
        assert_eq!(
            seen,
            [
                "staging a 1.2.3 infra/controllers/a.yaml:9",
                "staging b 1.2.3 apps/staging/b.yaml:9",
            ]
        );
    }

    /// An Application's `helm.parameters` image tag is its environment's pin and replaces
    /// the tag of that repository in the chart's values; without parameters the values
    /// file's tag is the pin.
    #[test]
    fn helm_parameters_replace_the_values_image_tag() {
        let app = |name: &str, params: &str| {
            format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  source:\n    repoURL: https://example.com/acme/deploy.git\n    path: charts/web\n    helm:\n      parameters:\n{params}  destination:\n    namespace: {name}\n")
        };
        let params = "        - name: image.repository\n          value: ghcr.io/acme/web\n        - name: image.tag\n          value: \"2.0.0\"\n";
        let seen = resolved(&[
            ("argocd/web-dev.yaml", &app("web-dev", "        []\n")),
            ("argocd/web-prod.yaml", &app("web-prod", params)),
            (
                "charts/web/Chart.yaml",
                "apiVersion: v2\nname: web\nversion: 1.0.0\n",
            ),
            (
                "charts/web/values.yaml",
                "image:\n  repository: ghcr.io/acme/web\n  tag: 1.0.0\n",
            ),
        ]);
        assert_eq!(
            seen,
            [
                "dev https://example.com/acme/deploy.git//charts/web  argocd/web-dev.yaml:7",
                "prod https://example.com/acme/deploy.git//charts/web  argocd/web-prod.yaml:7",
                "prod ghcr.io/acme/web 2.0.0 argocd/web-prod.yaml:14",
                "dev ghcr.io/acme/web 1.0.0 charts/web/values.yaml:3",
            ]
        );
    }
}
