//! A snapshot: every fact of one tree, each pin resolved to the environment(s) it is
//! effective in. Kustomize overlays are resolved here: a base's pin is effective in an
//! environment only through an overlay that does not override it, and an overlay
//! overrides it in one of two ways: an `images[]` entry replaces the image (the entry is a
//! pin of its own), and a patch rewrites the field the pin comes from (the patched value
//! becomes the pin in that environment, at the patch, with the base's value as related).

mod entry;
mod graph;
mod patches;
mod replacements;
mod substitute;
mod values_from;

use crate::config::Environments;
use crate::model::hash::{HashMap, HashSet};
use crate::model::{
    join_normalized, Artifact, ConfigInclude, DeployEntry, DeployTool, Fact, FactKind, Field,
    KargoStage, KubeObject, Pin, RefKind, TagPolicy,
};
use crate::model::{Related, Revision};
pub use entry::{Entries, EntryPoint};
use graph::{parent_dir, resolve_entry, Entry, Include, MAX_OVERLAY_DEPTH};
pub use graph::{EffectivePin, FileFacts};
use patches::Patches;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A fact located in a file, with the environment of that file (if any).
#[derive(Clone, Copy, Debug)]
pub struct Located {
    pub file: usize,
    pub fact: usize,
    pub env: Option<usize>,
}

/// Every fact of a tree, indexed by environment and component.
///
/// What the build derives from the facts is shared (`Arc`): a snapshot derived from
/// another whose files changed only in pin values (see [`Snapshot::derive`]) shares it.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Shared with the fact cache: history builds many snapshots of mostly the same files.
    pub files: Vec<Arc<FileFacts>>,
    pub envs: Environments,
    /// Pins effective in an environment, in file order.
    pub pins: Shared<Vec<EffectivePin>>,
    pub policies: Shared<Vec<Located>>,
    pub image_repositories: Shared<Vec<Located>>,
    pub artifacts: Vec<Artifact>,
    /// Indices into `pins`, by (environment, component), then index: each group's pins
    /// are a run (no key is copied: a 20k-file tree has as many pins).
    by_env_component: Shared<Vec<usize>>,
    /// path → index into `files`.
    by_path: Shared<HashMap<String, usize>>,
    /// Policy name → indices into `policies`, in file order.
    policies_by_name: Shared<HashMap<String, Vec<usize>>>,
    /// Unreadable file → the environments it belongs to (see [`Snapshot::unreadable_envs`]).
    unreadable_envs: Shared<HashMap<usize, Vec<usize>>>,
    /// Each file's environment by its path (before entry points decide).
    pub file_env: Shared<Vec<Option<usize>>>,
    /// Flux and Argo CD entry points and the environments of what they reach.
    pub entries: Shared<Entries>,
    /// Pins an override replaced in an environment (for `status --explain`).
    pub replaced: Shared<Vec<Replacement>>,
    /// The facts whose values the build read for more than the pins themselves (see
    /// [`ValuesRead`]).
    values_read: Shared<ValuesRead>,
}

/// The facts whose values a build read, besides each pin reading its own: a patch's or
/// replacement's value, the pins of a patch file, a base pin a patch may rewrite and its
/// object, a ConfigMap a substitution reads. A new value there can change what the build
/// makes of the tree; a new value anywhere else cannot.
#[derive(Debug, Default)]
struct ValuesRead {
    /// (file, fact).
    facts: HashSet<(usize, usize)>,
    /// Files read whole: env files, and the files a replacement looks for its source in.
    files: HashSet<usize>,
}

impl ValuesRead {
    fn covers(&self, file: usize, fact: usize) -> bool {
        self.files.contains(&file) || self.facts.contains(&(file, fact))
    }
}

/// A part of a snapshot that snapshots derived from it share (see [`Snapshot::derive`]).
#[derive(Debug, Default)]
pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    fn new(value: T) -> Self {
        Shared(Arc::new(value))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'a, T> IntoIterator for &'a Shared<Vec<T>> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A pin that an override (`images[]`, an Application's `kustomize.images`, a Terragrunt
/// unit's own value) replaced in an environment.
#[derive(Clone, Copy, Debug)]
pub struct Replacement {
    pub env: usize,
    pub file: usize,
    pub fact: usize,
    /// The file whose override replaced it.
    pub by: usize,
}

impl Snapshot {
    /// Resolve `files` against `envs`.
    pub(crate) fn build(
        files: Vec<Arc<FileFacts>>,
        mut envs: Environments,
        artifacts: Vec<Artifact>,
    ) -> Self {
        // A promotion graph declared by Kargo Stages beats the tier order zero config guesses.
        if envs.inferred {
            let stages: Vec<&KargoStage> = files
                .iter()
                .flat_map(|f| &f.facts)
                .filter_map(|fact| match &fact.kind {
                    FactKind::KargoStage(s) => Some(s),
                    _ => None,
                })
                .collect();
            if !stages.is_empty() {
                envs.apply_stage_graph(&stages);
            }
        }
        let by_path: HashMap<String, usize> = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let file_env = envs.for_paths(files.iter().map(|f| f.path.as_str()));

        // Kustomize include graph: file → the kustomizations that include it (with the span
        // of the including entry). A patch file is reached through the kustomization that
        // applies it, like a resource: its environment is that kustomization's.
        let mut patches = Patches::build(&files, &by_path);
        let mut includers: HashMap<usize, Vec<Include>> = HashMap::default();
        for (k, f) in files.iter().enumerate() {
            for (fi, fact) in f.facts.iter().enumerate() {
                let FactKind::Kustomization(kust) = &fact.kind else {
                    continue;
                };
                let dir = parent_dir(&f.path);
                for (ri, (entry, _)) in kust.resources.iter().enumerate() {
                    if let Some(target) = resolve_entry(dir, entry, &by_path) {
                        if target != k {
                            includers.entry(target).or_default().push(Include {
                                kustomization: k,
                                fact: fi,
                                entry: Entry::Resource(ri),
                            });
                        }
                    }
                }
            }
        }
        let mut patch_files = HashSet::default();
        for &(k, fi, pi, pf) in &patches.files {
            if pf != k {
                patch_files.insert(pf);
                includers.entry(pf).or_default().push(Include {
                    kustomization: k,
                    fact: fi,
                    entry: Entry::Patch(pi),
                });
            }
        }
        // (file, pin fact) → (object fact, the field the pin comes from).
        let mut links: HashMap<(usize, usize), (usize, Field)> = HashMap::default();
        for (fi, f) in files.iter().enumerate() {
            for (xi, fact) in f.facts.iter().enumerate() {
                if let FactKind::Object(o) = &fact.kind {
                    for (pin, field) in &o.pins {
                        links.insert((fi, *pin), (xi, field.clone()));
                    }
                }
            }
        }

        // Terragrunt: a file read through `include` or `read_terragrunt_config` takes effect
        // where the unit reading it does.
        for (k, f) in files.iter().enumerate() {
            for (fi, fact) in f.facts.iter().enumerate() {
                let FactKind::ConfigInclude(inc) = &fact.kind else {
                    continue;
                };
                let target = resolve_config_include(parent_dir(&f.path), inc, &by_path);
                if let Some(target) = target.filter(|&t| t != k) {
                    includers.entry(target).or_default().push(Include {
                        kustomization: k,
                        fact: fi,
                        entry: Entry::Config,
                    });
                }
            }
        }

        // Flux and Argo CD entry points: more include edges, and the environments of what
        // they reach.
        entry::add_edges(&files, &by_path, &mut includers);
        let entries = entry::decide(&files, &envs, &file_env, &includers);

        let resolver = Resolver {
            files: &files,
            envs: &envs,
            file_env: &file_env,
            includers: &includers,
            patches: &patches,
            links: &links,
            entries: &entries,
            scratch: Default::default(),
            values_read: Default::default(),
        };
        let unreadable_envs = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.unreadable.is_some())
            .map(|(fi, _)| (fi, resolver.every_env(fi)))
            .collect();

        // Flux substitutions first: the env-file pins they read are their values, not pins.
        // The history records a past pin of a file an entry point deploys directly (an
        // overlay, a manifest of a deployed directory, a values file) where the entry
        // points reach it now: it knows no past entry points, and asks about an
        // environment's own files, not the bases below them.
        let deployed = |fi: usize| {
            includers
                .get(&fi)
                .is_some_and(|incs| incs.iter().any(|i| matches!(i.entry, Entry::Deploy(_))))
        };
        let by_entry = Arc::new(
            (0..files.len())
                .filter(|&fi| entries.decides(fi) && deployed(fi))
                .map(|fi| (files[fi].path.clone(), entries.reached_envs(fi).collect()))
                .collect(),
        );
        let member: Vec<Vec<usize>> = (0..files.len())
            .map(|fi| {
                let reached: Vec<usize> = entries.reached_envs(fi).collect();
                if reached.is_empty() {
                    file_env[fi].into_iter().collect()
                } else {
                    reached
                }
            })
            .collect();
        let substituted = substitute::resolve(&files, &by_path, &member, &envs, &includers);
        // Helm `valuesFrom`: a values file's images take effect where its release does.
        // std's map: it becomes part of the environments, which keep their own types.
        let mut substituted_into: std::collections::HashMap<(String, String), Vec<String>> =
            Default::default();
        for &((f, x), ref component) in &substituted.feeds {
            let Some(var) = files[f].facts[x].as_pin() else {
                continue;
            };
            let fed = substituted_into
                .entry((files[f].path.clone(), var.component.clone()))
                .or_default();
            if !fed.contains(component) {
                fed.push(component.clone());
            }
        }
        let from_values = values_from::resolve(&files, &by_path, &resolver);
        let mut pins = substituted.pins;
        pins.extend(from_values.pins);
        let mut policies = Vec::new();
        let mut image_repositories = Vec::new();
        // Which patch values replaced a base's pin somewhere (see below).
        let mut used = HashSet::default();
        let mut replaced = Vec::new();
        // Pins of patch files wait until every base has been patched.
        let mut deferred = Vec::new();
        // Pins a replacement reads (an env file's `WEB_VERSION=…`) wait too: where the
        // value replaced a target's, it is that target's pin, not one of its own.
        let mut sources = Vec::new();
        for (fi, f) in files.iter().enumerate() {
            for (xi, fact) in f.facts.iter().enumerate() {
                let own = resolver.own_env(fi, fact);
                // A policy or image repository reached from several environments' entry
                // points serves each of them.
                let located = |env| Located {
                    file: fi,
                    fact: xi,
                    env,
                };
                let serving: Vec<Option<usize>> = if entries.decides(fi) {
                    member[fi].iter().copied().map(Some).collect()
                } else {
                    vec![own]
                };
                match &fact.kind {
                    FactKind::Pin(_)
                        if substituted.consumed.contains(&(fi, xi))
                            || from_values.consumed.contains(&(fi, xi)) => {}
                    FactKind::Pin(_) if patch_files.contains(&fi) => {
                        resolver.values_read.borrow_mut().insert((fi, xi));
                        deferred.push((fi, xi, own))
                    }
                    FactKind::Pin(_) if patches.replacement_sources.contains(&(fi, xi)) => {
                        sources.push((fi, xi, own))
                    }
                    FactKind::Pin(pin) => {
                        let out = (&mut pins, &mut replaced);
                        resolver.push_effective(fi, xi, own, pin, &mut used, out);
                    }
                    // A setting for a named environment belongs to it, or to none when
                    // this run has no such environment.
                    FactKind::TagPolicy(_) if fact.environment.is_some() => {
                        let named = fact.environment.as_deref().and_then(|n| envs.for_name(n));
                        policies.push(located(named));
                    }
                    FactKind::TagPolicy(_) => policies.extend(serving.into_iter().map(located)),
                    FactKind::ImageRepository(_) => {
                        image_repositories.extend(serving.into_iter().map(located))
                    }
                    FactKind::Kustomization(_)
                    | FactKind::ArtifactTemplate(_)
                    | FactKind::ImageUpdateAutomation(_)
                    | FactKind::KargoStage(_)
                    | FactKind::RenovateConfig(_)
                    | FactKind::Object(_)
                    | FactKind::JsonPatch(_)
                    | FactKind::ConfigInclude(_)
                    | FactKind::FluxKustomization(_)
                    | FactKind::Deploy(_)
                    | FactKind::ArtifactCopies(_)
                    | FactKind::ConfigMapSource(_)
                    | FactKind::HelmValuesFrom(_)
                    | FactKind::Replacements(_)
                    | FactKind::TemplatedPin(_) => {}
                }
            }
        }
        // A patch file's value that replaced a base's is that base's pin, patched; only
        // what replaced nothing we can see (a remote base, a container the patch adds) is
        // a pin of its own, where the kustomization applying the patch is.
        let consumed = patches::used_spans(&patches, &used);
        for (fi, xi, own) in deferred {
            let Some(pin) = files[fi].facts[xi].as_pin() else {
                continue;
            };
            if !consumed.contains(&(fi, pin.span.start)) {
                let out = (&mut pins, &mut replaced);
                resolver.push_effective(fi, xi, own, pin, &mut used, out);
            }
        }
        let read: HashSet<(usize, usize)> = used
            .iter()
            .map(|&e| (patches.edits[e].file, patches.edits[e].fact))
            .collect();
        for (fi, xi, own) in sources {
            let Some(pin) = files[fi].facts[xi].as_pin() else {
                continue;
            };
            if !read.contains(&(fi, xi)) {
                let out = (&mut pins, &mut replaced);
                resolver.push_effective(fi, xi, own, pin, &mut used, out);
            }
        }
        pins.sort_by_key(|p| (p.file, p.fact, p.env));
        let mut values_read = ValuesRead {
            facts: resolver.values_read.into_inner(),
            files: std::mem::take(&mut patches.read),
        };
        let edits = patches.edits.iter().map(|e| (e.file, e.fact));
        values_read.facts.extend(edits);
        values_read
            .facts
            .extend(patches.replacement_sources.iter().copied());
        config_maps_read(&files, &by_path, &mut values_read);
        envs.by_entry = by_entry;
        envs.substituted = Arc::new(substituted_into);
        let mut policies_by_name: HashMap<String, Vec<usize>> = HashMap::default();
        for (i, l) in policies.iter().enumerate() {
            if let FactKind::TagPolicy(p) = &files[l.file].facts[l.fact].kind {
                policies_by_name.entry(p.name.clone()).or_default().push(i);
            }
        }
        let mut snap = Snapshot {
            by_path: Shared::new(by_path),
            files,
            envs,
            pins: Shared::new(pins),
            policies: Shared::new(policies),
            image_repositories: Shared::new(image_repositories),
            artifacts,
            by_env_component: Default::default(),
            policies_by_name: Shared::new(policies_by_name),
            unreadable_envs: Shared::new(unreadable_envs),
            file_env: Shared::new(file_env),
            entries: Shared::new(entries),
            replaced: Shared::new(replaced),
            values_read: Shared::new(values_read),
        };
        let mut order: Vec<usize> = (0..snap.pins.len()).collect();
        // Stable: a group keeps its pins in index order.
        order.sort_by(|&a, &b| snap.group_key(a).cmp(&snap.group_key(b)));
        snap.by_env_component = Shared::new(order);
        snap
    }

    /// This snapshot with `files` in its files' place, without building again, when every
    /// file that changed changed only the values of its pins, and none of the facts that
    /// changed is one whose values the build read (see [`ValuesRead`]): what the build made
    /// of the tree is then the same, and each pin reads its new value from its file.
    /// `files` back when that does not hold. The caller vouches that `files` come from a
    /// tree of the same paths (so the same artifacts), and would be built with the
    /// environments this snapshot was built with.
    pub(crate) fn derive(
        &self,
        files: Vec<Arc<FileFacts>>,
    ) -> Result<Snapshot, Vec<Arc<FileFacts>>> {
        let same_build = files.len() == self.files.len()
            && changed_files(&self.files, &files).all(|(i, _, new)| self.may_take(i, new));
        if !same_build {
            return Err(files);
        }
        Ok(Snapshot {
            files,
            envs: self.envs.clone(),
            pins: self.pins.clone(),
            policies: self.policies.clone(),
            image_repositories: self.image_repositories.clone(),
            artifacts: self.artifacts.clone(),
            by_env_component: self.by_env_component.clone(),
            by_path: self.by_path.clone(),
            policies_by_name: self.policies_by_name.clone(),
            unreadable_envs: self.unreadable_envs.clone(),
            file_env: self.file_env.clone(),
            entries: self.entries.clone(),
            replaced: self.replaced.clone(),
            values_read: self.values_read.clone(),
        })
    }

    /// Whether [`Self::derive`] may take `new` in file `i`'s place: it differs from the file
    /// only in pin values, none of which the build read. A caller that replaces files one
    /// by one asks this to stop at the first that would make a build necessary.
    pub(crate) fn may_take(&self, i: usize, new: &FileFacts) -> bool {
        let Some(old) = self.files.get(i) else {
            return false;
        };
        only_values_differ(old, new)
            && (old.facts.iter().zip(&new.facts).enumerate())
                .all(|(x, (a, b))| a == b || !self.values_read.covers(i, x))
    }

    /// The (environment, component) group of pin `i`.
    fn group_key(&self, i: usize) -> (usize, &str) {
        let p = &self.pins[i];
        (p.env, self.pin(p).component.as_str())
    }

    /// The indices into `pins` of group `key`, in index order (empty: no such pin).
    fn group(&self, key: (usize, &str)) -> &[usize] {
        let order = &self.by_env_component;
        let start = order.partition_point(|&i| self.group_key(i) < key);
        let len = order[start..].partition_point(|&i| self.group_key(i) == key);
        &order[start..start + len]
    }

    /// Every (environment, component) group with its pins, in key order.
    fn groups(&self) -> impl Iterator<Item = ((usize, &str), &[usize])> {
        self.by_env_component
            .chunk_by(|&a, &b| self.group_key(a) == self.group_key(b))
            .map(|run| (self.group_key(run[0]), run))
    }

    /// The pin as it takes effect: as written, or as a patch rewrote it.
    pub fn pin<'a>(&'a self, p: &'a EffectivePin) -> &'a Pin {
        if let Some(patched) = &p.patched {
            return patched;
        }
        match &self.files[p.file].facts[p.fact].kind {
            FactKind::Pin(pin) => pin,
            // `pins` only ever indexes Pin facts (see `build`).
            _ => unreachable!("EffectivePin points at a non-pin fact"),
        }
    }

    pub(crate) fn policy(&self, l: &Located) -> Option<&TagPolicy> {
        match &self.files[l.file].facts[l.fact].kind {
            FactKind::TagPolicy(p) => Some(p),
            _ => None,
        }
    }

    /// The version an effective pin promotes, as lineage compares it across environments
    /// (`production-v1.2.3-1712345678` → `v1.2.3`); `None` unless the pin names a tag.
    pub fn version(&self, p: &EffectivePin) -> Option<String> {
        let pin = self.pin(p);
        if pin.reference.kind != crate::model::RefKind::Tag {
            return None;
        }
        Some(
            self.envs
                .identity(p.env, &pin.component, &pin.reference.value)
                .version,
        )
    }

    /// The index of the file at `path`, if the snapshot holds it.
    pub(crate) fn file_index(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// The file at `path`, if the snapshot holds it.
    pub fn file(&self, path: &str) -> Option<&FileFacts> {
        self.by_path.get(path).map(|&i| &*self.files[i])
    }

    pub fn path(&self, file: usize) -> &str {
        &self.files[file].path
    }

    /// Pins of `component` effective in environment `env`.
    pub(crate) fn pins_of(
        &self,
        env: usize,
        component: &str,
    ) -> impl Iterator<Item = &EffectivePin> {
        self.group((env, component)).iter().map(|&i| &self.pins[i])
    }

    /// Indices into `pins` of the (environment, component) groups whose pins differ from
    /// `base`'s (by kind and reference, in order), in file order: the only pins a change
    /// can have moved to a new version. Both snapshots must share their environments.
    pub(crate) fn pins_moved_since(&self, base: &Snapshot) -> Vec<usize> {
        let same = |a: usize, b: usize| {
            let (x, y) = (self.pin(&self.pins[a]), base.pin(&base.pins[b]));
            x.kind == y.kind && x.reference == y.reference
        };
        let moved = |key: (usize, &str), now: &[usize]| {
            let was = base.group(key);
            was.is_empty()
                || was.len() != now.len()
                || now.iter().zip(was).any(|(&a, &b)| !same(a, b))
        };
        let mut out: Vec<usize> = if self.derived_from(base) {
            // The same pins, groups and copied values: only a group with a pin read from a
            // file that changed can have moved.
            let mut keys: Vec<(usize, &str)> = changed_files(&base.files, &self.files)
                .flat_map(|(file, _, _)| self.pins_of_file(file))
                .map(|i| self.group_key(i))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys.into_iter()
                .map(|key| (key, self.group(key)))
                .filter(|&(key, now)| moved(key, now))
                .flat_map(|(_, now)| now.iter().copied())
                .collect()
        } else {
            self.groups()
                .filter(|&(key, now)| moved(key, now))
                .flat_map(|(_, now)| now.iter().copied())
                .collect()
        };
        out.sort_unstable();
        out
    }

    /// The indices into `pins` of the pins whose value is in file `file` (`pins` is in
    /// file order).
    pub(crate) fn pins_of_file(&self, file: usize) -> std::ops::Range<usize> {
        let start = self.pins.partition_point(|p| p.file < file);
        let len = self.pins[start..].partition_point(|p| p.file == file);
        start..start + len
    }

    /// Whether this snapshot and `base` share their build (one was derived from the other,
    /// see [`Snapshot::derive`]), so that they differ only in files and pin values.
    fn derived_from(&self, base: &Snapshot) -> bool {
        Arc::ptr_eq(&self.pins.0, &base.pins.0)
            && Arc::ptr_eq(&self.by_env_component.0, &base.by_env_component.0)
            && self.files.len() == base.files.len()
    }

    /// Every component with a pin, with the environments pinning it.
    pub(crate) fn components(&self) -> BTreeMap<&str, BTreeSet<usize>> {
        let mut out: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
        for ((env, component), _) in self.groups() {
            out.entry(component).or_default().insert(env);
        }
        out
    }

    /// The tag policy a setter marker (`ns:name`) points at, if it is in this tree. Two
    /// clusters often reuse one policy name (`flux-system:platform`), so a policy of the
    /// pin's own environment wins over one elsewhere.
    pub(crate) fn policy_by_ref(&self, policy_ref: &str, env: usize) -> Option<&Located> {
        let (ns, name) = match policy_ref.split_once(':') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, policy_ref),
        };
        let mut candidates = self
            .policies_by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.policies[i])
            .filter(|l| {
                let fact_ns = self.files[l.file].facts[l.fact].namespace.as_deref();
                ns.is_none() || fact_ns.is_none() || fact_ns == ns
            });
        let first = candidates.clone().next();
        candidates.find(|l| l.env == Some(env)).or(first)
    }

    /// The environments an unreadable file belongs to: its path's, and that of every
    /// kustomization that includes it, directly or through others. Nothing is known of what
    /// it holds, so each of them could have taken a pin from it (empty for a readable file).
    pub(crate) fn unreadable_envs(&self, file: usize) -> &[usize] {
        self.unreadable_envs.get(&file).map_or(&[], Vec::as_slice)
    }
}

struct Resolver<'a> {
    files: &'a [Arc<FileFacts>],
    envs: &'a Environments,
    file_env: &'a [Option<usize>],
    includers: &'a HashMap<usize, Vec<Include>>,
    patches: &'a Patches,
    /// (file, pin fact) → (object fact, field), for the pins a patch can rewrite.
    links: &'a HashMap<(usize, usize), (usize, Field)>,
    entries: &'a Entries,
    /// The sets a walk marks its way with, kept between walks (one per pin of the tree)
    /// so that each does not allocate and grow them again.
    scratch: std::cell::RefCell<Scratch>,
    /// Pins a patch was tried on, and their objects: what it writes depends on their
    /// values (see [`ValuesRead`]).
    values_read: std::cell::RefCell<HashSet<(usize, usize)>>,
}

/// A walk's working sets (see [`Walk`]), empty between walks.
#[derive(Default)]
struct Scratch {
    visited: BTreeSet<usize>,
    explored: HashSet<(usize, Option<usize>, usize, usize)>,
}

/// What has become of a base's pin on the way up to an environment.
#[derive(Clone, Debug)]
enum State {
    /// As written.
    Base,
    /// Rewritten by a patch: the last edit that wrote it, and the pin it made.
    Patched(usize, Arc<Pin>),
    /// Replaced by an `images[]` entry, which is a pin of its own.
    Replaced,
}

impl State {
    /// A small key for the memo of explored states.
    fn key(&self) -> usize {
        match self {
            State::Base => 0,
            State::Replaced => 1,
            State::Patched(edit, _) => edit + 2,
        }
    }
}

/// Where a walk up the include graph stands.
#[derive(Clone)]
struct Step {
    node: usize,
    /// The environment whose build the walk is in (the nearest one below).
    env: Option<usize>,
    state: State,
    /// The overlay entry through which that environment was entered.
    via: Option<Related>,
    depth: usize,
    /// For a replaced pin: the file whose override replaced it.
    by: Option<usize>,
    /// Whether `env` is only the pin's own `metadata.namespace` (no path or kustomization
    /// above has named it yet): a kustomization's `namespace:` replaces it.
    by_namespace: bool,
}

/// The environments a pin reached, each with the entry it came through and what became
/// of it there.
type Reach = BTreeMap<usize, (Option<Related>, State)>;

/// What a walk over one pin needs besides the step.
struct Walk<'p> {
    /// The file and fact of the pin.
    file: usize,
    fact: usize,
    /// The fact of the object the pin comes from (see `link`).
    object: Option<usize>,
    pin: &'p Pin,
    /// The object and field the pin comes from, when a patch can rewrite it.
    link: Option<(&'p KubeObject, &'p Field)>,
    visited: BTreeSet<usize>,
    explored: HashSet<(usize, Option<usize>, usize, usize)>,
    reach: Reach,
    /// Environment → the file whose override replaced the pin there (first found).
    replaced: BTreeMap<usize, usize>,
}

impl Resolver<'_> {
    /// The environment a fact of `file` is in before walking up: none when entry points
    /// decide the file's environment (the walk finds them), else its path's or namespace's.
    fn own_env(&self, file: usize, fact: &Fact) -> Option<usize> {
        if self.entries.decides(file) {
            return None;
        }
        self.file_env[file].or_else(|| entry::namespace_env(fact, self.envs))
    }

    /// The environment of the file including through `inc`: an entry point's own, else
    /// that file's (see [`Self::own_env`]).
    fn include_env(&self, inc: &Include) -> Option<usize> {
        if let Entry::Deploy(_) = inc.entry {
            if let Some(&env) = self.entries.env_of.get(&(inc.kustomization, inc.fact)) {
                return env;
            }
        }
        let fact = &self.files[inc.kustomization].facts[inc.fact];
        self.own_env(inc.kustomization, fact)
    }

    /// Push the effective pins of pin fact `fact` of `file` (own environment `own`) and
    /// note the patch edits that rewrote it.
    fn push_effective(
        &self,
        file: usize,
        fact: usize,
        own: Option<usize>,
        pin: &Pin,
        used: &mut HashSet<usize>,
        (out, replaced): (&mut Vec<EffectivePin>, &mut Vec<Replacement>),
    ) {
        let (reach, replacers) = self.effective_envs(file, fact, own, pin);
        for (env, by) in replacers {
            if !reach.contains_key(&env) {
                replaced.push(Replacement {
                    env,
                    file,
                    fact,
                    by,
                });
            }
        }
        for (env, (via, state)) in reach {
            match state {
                State::Replaced => {}
                State::Base => out.push(EffectivePin {
                    file,
                    fact,
                    env,
                    via,
                    patched: None,
                    replaces: None,
                }),
                State::Patched(e, patched) => {
                    used.insert(e);
                    let edit = &self.patches.edits[e];
                    let message = if edit.replacement {
                        format!("a Kustomize replacement {}", overridden(pin))
                    } else {
                        overridden(pin)
                    };
                    let replaces = Related {
                        path: self.files[file].path.clone(),
                        span: pin.span.clone(),
                        message,
                        revision: Revision::Tree,
                    };
                    out.push(EffectivePin {
                        file: edit.file,
                        fact: edit.fact,
                        env,
                        via,
                        patched: Some(patched),
                        replaces: Some(replaces),
                    });
                }
            }
        }
    }

    /// The environments where `pin` (fact `fact` of file `file`, whose own environment is
    /// `own`) takes effect, each with the overlay entry it is reached through and what the
    /// overlays on the way made of it.
    ///
    /// Every kustomization of an environment builds that environment: a base reaches each
    /// environment whose overlay includes it, and an overlay built on another overlay
    /// (`production` with `resources: [../staging]`) carries that overlay's pins into its
    /// own environment. A patch on the way rewrites the pin for the builds above; an
    /// `images[]` entry replaces it.
    fn effective_envs(
        &self,
        file: usize,
        fact: usize,
        own: Option<usize>,
        pin: &Pin,
    ) -> (Reach, BTreeMap<usize, usize>) {
        if !self.includers.contains_key(&file) {
            let reach = own
                .map(|e| BTreeMap::from([(e, (None, State::Base))]))
                .unwrap_or_default();
            return (reach, BTreeMap::new());
        }
        let linked = self.links.get(&(file, fact));
        let link =
            linked.and_then(
                |(object, field)| match &self.files[file].facts.get(*object)?.kind {
                    FactKind::Object(o) => Some((o, field)),
                    _ => None,
                },
            );
        let scratch = std::mem::take(&mut *self.scratch.borrow_mut());
        let mut walk = Walk {
            file,
            fact,
            object: linked.map(|&(object, _)| object),
            pin,
            link,
            visited: scratch.visited,
            explored: scratch.explored,
            reach: BTreeMap::new(),
            replaced: BTreeMap::new(),
        };
        let start = Step {
            node: file,
            env: own,
            state: State::Base,
            via: None,
            depth: 0,
            by: None,
            by_namespace: self.file_env[file].is_none(),
        };
        self.walk(start, &mut walk);
        let (mut visited, mut explored) = (walk.visited, walk.explored);
        visited.clear();
        // Clearing costs the capacity: one vast walk must not slow every later one.
        if explored.capacity() > 4096 {
            explored = HashSet::default();
        } else {
            explored.clear();
        }
        *self.scratch.borrow_mut() = Scratch { visited, explored };
        (walk.reach, walk.replaced)
    }

    /// Every environment `file` reaches: its own and those of all kustomizations above it,
    /// overrides aside (an unreadable file's pins are unknown, so none can be overridden).
    fn every_env(&self, file: usize) -> Vec<usize> {
        let mut found: BTreeSet<usize> = if self.entries.decides(file) {
            BTreeSet::new()
        } else {
            self.file_env[file].into_iter().collect()
        };
        let mut seen = HashSet::from_iter([file]);
        let mut stack = vec![(file, 0)];
        while let Some((node, depth)) = stack.pop() {
            if depth >= MAX_OVERLAY_DEPTH {
                continue;
            }
            for inc in self.includers.get(&node).into_iter().flatten() {
                let k = inc.kustomization;
                if !seen.insert(k) {
                    continue;
                }
                found.extend(self.include_env(inc));
                stack.push((k, depth + 1));
            }
        }
        found.into_iter().collect()
    }

    fn deliver(step: &Step, w: &mut Walk) {
        if let Some(e) = step.env {
            if !matches!(step.state, State::Replaced) {
                w.reach
                    .entry(e)
                    .or_insert_with(|| (step.via.clone(), step.state.clone()));
            } else if let Some(by) = step.by {
                w.replaced.entry(e).or_insert(by);
            }
        }
    }

    /// What kustomization `k` makes of the pin in `state`: its patches rewrite it (the
    /// components' first, then its own), then its `images[]` may replace the image.
    fn override_at(&self, k: usize, state: &State, w: &Walk) -> State {
        let current = match state {
            State::Replaced => return State::Replaced,
            State::Base => w.pin,
            State::Patched(_, p) => p,
        };
        let mut next = state.clone();
        if let Some((object, field)) = w.link {
            if self.patches.has_rules(k) {
                let mut read = self.values_read.borrow_mut();
                read.insert((w.file, w.fact));
                read.extend(w.object.map(|o| (w.file, o)));
            }
            if let Some((edit, patched)) = self.patches.apply(k, object, field, current) {
                next = State::Patched(edit, Arc::new(patched));
            }
        }
        let now = match &next {
            State::Patched(_, p) => p,
            _ => current,
        };
        if now.kind.is_image() && overrides(&self.files[k], now, w.pin) {
            return State::Replaced;
        }
        next
    }

    fn walk(&self, step: Step, w: &mut Walk) {
        // A state walked once delivers nothing new the second time (the first delivery of an
        // environment wins): without this, overlays that share bases (a diamond per layer)
        // make the number of paths, and the time, exponential in the depth.
        if !w
            .explored
            .insert((step.node, step.env, step.state.key(), step.depth))
        {
            return;
        }
        let ups = self.includers.get(&step.node).filter(|u| !u.is_empty());
        let Some(ups) = ups.filter(|_| step.depth < MAX_OVERLAY_DEPTH) else {
            Self::deliver(&step, w);
            return;
        };
        // A cycle (a Flux cluster directory that deploys its own `flux-system`) ends where
        // it closes: the environment entered so far is where the pin runs.
        if !w.visited.insert(step.node) {
            Self::deliver(&step, w);
            return;
        }
        for inc in ups {
            let kfile = &self.files[inc.kustomization];
            let kfact = &kfile.facts[inc.fact];
            let k_env = self.include_env(inc);
            // A kustomization's patches and images apply to what it includes as resources,
            // not to its own patch files; a Terragrunt unit's own source or input replaces
            // what it includes.
            let state = match inc.entry {
                Entry::Resource(_) => self.override_at(inc.kustomization, &step.state, w),
                Entry::Patch(_) => step.state.clone(),
                // An Application's `kustomize.images` replaces the image (it is a pin of
                // its own, in the Application's environment).
                Entry::Deploy(_) => match (&kfact.kind, &step.state) {
                    (FactKind::Deploy(d), State::Base | State::Patched(..))
                        if w.pin.kind.is_image()
                            && d.images.iter().any(|n| {
                                *n == w.pin.component || Some(n) == w.pin.overrides.as_ref()
                            }) =>
                    {
                        State::Replaced
                    }
                    (_, state) => state.clone(),
                },
                Entry::Config => match &step.state {
                    State::Base if terragrunt_overrides(kfile, w.pin) => State::Replaced,
                    other => other.clone(),
                },
            };
            let by = if matches!(state, State::Replaced) && !matches!(step.state, State::Replaced) {
                Some(inc.kustomization)
            } else {
                step.by
            };
            // Built only where the walk enters a new environment through this entry: it is
            // a string or two per edge, and a walk crosses many edges.
            let entry = || match &kfact.kind {
                FactKind::Kustomization(kust) => match inc.entry {
                    Entry::Resource(i) => kust.resources.get(i).map(|(e, span)| Related {
                        path: kfile.path.clone(),
                        span: span.clone(),
                        message: format!("included here by `{e}`"),
                        revision: Revision::Tree,
                    }),
                    Entry::Patch(i) => kust.patches.get(i).map(|p| Related {
                        path: kfile.path.clone(),
                        span: p.span.clone(),
                        message: format!(
                            "applied as a patch here by `{}`",
                            p.path.as_deref().unwrap_or("")
                        ),
                        revision: Revision::Tree,
                    }),
                    Entry::Config | Entry::Deploy(_) => None,
                },
                FactKind::Deploy(d) => Some(deploy_related(&kfile.path, d, inc.entry)),
                FactKind::ConfigInclude(c) => Some(Related {
                    path: kfile.path.clone(),
                    span: c.span.clone(),
                    message: format!("reads `{}` here", self.files[step.node].path),
                    revision: Revision::Tree,
                }),
                _ => None,
            };
            // A kustomization's `namespace:` moves the resources it lists into its own
            // namespace: the environment a resource's `metadata.namespace` named is not
            // where it runs (one its path names still is).
            let moved = step.by_namespace
                && matches!(inc.entry, Entry::Resource(_))
                && matches!(kfact.kind, FactKind::Kustomization(_))
                && kfact.namespace.is_some();
            let below = if moved { None } else { step.env };
            let next = match (below, k_env) {
                // Another environment's overlay builds on this one: the build below is
                // delivered as it stands, and the walk goes on in the new environment.
                (Some(e), Some(k)) if e != k => {
                    Self::deliver(&step, w);
                    Step {
                        node: inc.kustomization,
                        env: Some(k),
                        state,
                        via: entry(),
                        depth: step.depth + 1,
                        by,
                        by_namespace: false,
                    }
                }
                (None, Some(k)) => Step {
                    node: inc.kustomization,
                    env: Some(k),
                    state,
                    via: entry(),
                    depth: step.depth + 1,
                    by,
                    by_namespace: false,
                },
                _ => Step {
                    node: inc.kustomization,
                    env: below,
                    state,
                    via: step.via.clone(),
                    depth: step.depth + 1,
                    by,
                    by_namespace: step.by_namespace && k_env.is_none(),
                },
            };
            self.walk(next, w);
        }
        w.visited.remove(&step.node);
    }
}

/// The related location of what entry point `d` (in file `path`) deploys through `entry`.
fn deploy_related(path: &str, d: &DeployEntry, entry: Entry) -> Related {
    let tool = match d.tool {
        DeployTool::Flux => "Flux Kustomization",
        DeployTool::Argo => "Argo CD Application",
    };
    match entry {
        Entry::Deploy(Some(i)) if i < d.value_files.len() => Related {
            path: path.to_owned(),
            span: d.value_files[i].1.clone(),
            message: format!("a values file of {tool} `{}` here", d.name),
            revision: Revision::Tree,
        },
        _ => Related {
            path: path.to_owned(),
            span: d.span.clone(),
            message: format!("deployed by {tool} `{}` here", d.name),
            revision: Revision::Tree,
        },
    }
}

/// The related message for a base value a patch overrides.
fn overridden(base: &Pin) -> String {
    if base.reference.kind == RefKind::Absent && base.reference.digest.is_none() {
        "overrides the base here, which sets no version".to_string()
    } else {
        format!("overrides the base's `{}` here", base.reference.display())
    }
}

/// Whether kustomization file `k` has an `images[]` entry replacing image pin `pin`
/// (`origin`: the pin as written, before any patch).
fn overrides(k: &FileFacts, pin: &Pin, origin: &Pin) -> bool {
    k.facts.iter().any(|f| match &f.kind {
        FactKind::Pin(p) if p.overrides.is_some() => {
            let name = p.overrides.as_deref().unwrap_or_default();
            !std::ptr::eq(p, origin)
                && (name == pin.component || Some(name) == pin.overrides.as_deref())
        }
        _ => false,
    })
}

/// Whether a Terragrunt file that includes `pin`'s file sets the same thing itself: its own
/// `terraform { source }` replaces the included one, and its `inputs` keys replace the
/// included ones (Terragrunt merges those; `locals` are never merged, so never replaced).
fn terragrunt_overrides(reader: &FileFacts, pin: &Pin) -> bool {
    let merged = pin.context == "terraform" || pin.context.starts_with("inputs.");
    merged
        && reader.facts.iter().any(|f| match &f.kind {
            FactKind::Pin(p) => !std::ptr::eq(p, pin) && p.context == pin.context,
            _ => false,
        })
}

/// Whether the files of `after` (the same paths as `before`, in order) changed only the
/// values of their pins: the test [`Snapshot::derive`] makes before it looks at what the
/// build read, for a caller deciding whether to build `before` first.
pub(crate) fn only_pin_values_changed(before: &[Arc<FileFacts>], after: &[Arc<FileFacts>]) -> bool {
    before.len() == after.len()
        && changed_files(before, after).all(|(_, old, new)| only_values_differ(old, new))
}

/// The files of `after` that are not the very files of `before` at the same index.
fn changed_files<'a>(
    before: &'a [Arc<FileFacts>],
    after: &'a [Arc<FileFacts>],
) -> impl Iterator<Item = (usize, &'a FileFacts, &'a FileFacts)> {
    before
        .iter()
        .zip(after)
        .enumerate()
        .filter(|(_, (old, new))| !Arc::ptr_eq(old, new))
        .map(|(i, (old, new))| (i, &**old, &**new))
}

/// Whether `new` differs from `old` (the same file) only in the values of its pins (their
/// references and where they are written): every other fact, and every other part of a
/// pin, is as it was.
fn only_values_differ(old: &FileFacts, new: &FileFacts) -> bool {
    old.path == new.path
        && old.unreadable == new.unreadable
        && old.facts.len() == new.facts.len()
        && old.facts.iter().zip(&new.facts).all(|(a, b)| {
            a.namespace == b.namespace
                && a.environment == b.environment
                && match (&a.kind, &b.kind) {
                    (FactKind::Pin(p), FactKind::Pin(q)) => {
                        p.kind == q.kind
                            && p.component == q.component
                            && p.overrides == q.overrides
                            && p.policy_ref == q.policy_ref
                            && p.context == q.context
                    }
                    // A HelmRelease's chart version, a container's image: the object's
                    // copy of its pins' values (a patch or replacement reads it, and the
                    // build then records the file as read).
                    (FactKind::Object(o), FactKind::Object(n)) => {
                        o.api_version == n.api_version
                            && o.kind == n.kind
                            && o.name == n.name
                            && o.namespace == n.namespace
                            && o.labels == n.labels
                            && o.pins == n.pins
                            && o.values.len() == n.values.len()
                            && o.values.iter().zip(&n.values).all(|(a, b)| {
                                a.field == b.field
                                    && a.policy_ref == b.policy_ref
                                    && a.value.is_some() == b.value.is_some()
                            })
                    }
                    // A ConfigMap's data: read only by the substitutions and replacements
                    // the build records.
                    (FactKind::ConfigMapSource(o), FactKind::ConfigMapSource(n)) => {
                        o.name == n.name
                            && o.env_files == n.env_files
                            && o.files == n.files
                            && o.embedded == n.embedded
                            && o.literals.len() == n.literals.len()
                            && o.literals.iter().zip(&n.literals).all(|(a, b)| a.0 == b.0)
                    }
                    (x, y) => x == y,
                }
        })
}

/// The ConfigMap values a substitution may read: the env files of every
/// `configMapGenerator` (read through their pins), and every ConfigMap of a name a Flux
/// Kustomization substitutes from (its literals).
fn config_maps_read(
    files: &[Arc<FileFacts>],
    by_path: &HashMap<String, usize>,
    read: &mut ValuesRead,
) {
    let substituted: HashSet<&str> = files
        .iter()
        .flat_map(|f| &f.facts)
        .filter_map(|fact| match &fact.kind {
            FactKind::FluxKustomization(k) => Some(&k.substitute_from),
            _ => None,
        })
        .flatten()
        .map(String::as_str)
        .collect();
    for (fi, f) in files.iter().enumerate() {
        let dir = parent_dir(&f.path);
        for (xi, fact) in f.facts.iter().enumerate() {
            let FactKind::ConfigMapSource(c) = &fact.kind else {
                continue;
            };
            if substituted.contains(c.name.as_str()) {
                read.facts.insert((fi, xi));
            }
            let env_files = c.env_files.iter().filter_map(|e| join_normalized(dir, e));
            read.files
                .extend(env_files.filter_map(|p| by_path.get(p.as_str()).copied()));
        }
    }
}

/// The file a Terragrunt `include`/`read_terragrunt_config` of a file in `dir` reads:
/// `find_in_parent_folders` searches from `dir`'s parent upwards, as Terragrunt does.
fn resolve_config_include(
    dir: &str,
    inc: &ConfigInclude,
    index: &HashMap<String, usize>,
) -> Option<usize> {
    let Some(name) = &inc.find else {
        return index.get(inc.path.as_str()).copied();
    };
    let mut at = dir;
    while !at.is_empty() {
        at = parent_dir(at);
        let candidate = join_normalized(at, name)?;
        if let Some(&found) = index.get(candidate.as_str()) {
            if inc.path.is_empty() {
                return Some(found);
            }
            let beside = join_normalized(parent_dir(&candidate), &inc.path)?;
            return index.get(beside.as_str()).copied();
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `environment component value path:line` (and `:column` with `column`) of every
    /// effective pin of the snapshot of `files`, zero config: what the render's tests assert.
    pub(crate) fn pins_as_text(files: &[(&str, &str)], column: bool) -> Vec<String> {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        let config = crate::config::Config::default();
        let snap = match crate::pipeline::snapshot_from_bytes(&bytes, &config) {
            Ok(s) => s,
            Err(e) => panic!("snapshot: {e}"),
        };
        snap.pins
            .iter()
            .map(|p| {
                let pin = snap.pin(p);
                let at = if column {
                    format!("{}:{}", pin.span.line, pin.span.column)
                } else {
                    pin.span.line.to_string()
                };
                format!(
                    "{} {} {} {}:{at}",
                    snap.envs.get(p.env).name,
                    pin.component,
                    pin.reference.value,
                    snap.path(p.file),
                )
            })
            .collect()
    }

    /// Everything a build makes of a tree, each pin with the value it reads.
    fn rendered(snap: &Snapshot) -> String {
        let mut unreadable: Vec<_> = snap.unreadable_envs.iter().collect();
        unreadable.sort();
        let mut by_entry: Vec<_> = snap.envs.by_entry.iter().collect();
        by_entry.sort();
        let mut substituted: Vec<_> = snap.envs.substituted.iter().collect();
        substituted.sort();
        let mut facts: Vec<_> = snap.values_read.facts.iter().collect();
        facts.sort();
        let mut files: Vec<_> = snap.values_read.files.iter().collect();
        files.sort();
        let pins: Vec<_> = snap.pins.iter().map(|p| (p, snap.pin(p))).collect();
        format!(
            "{pins:#?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{unreadable:?}\n{by_entry:?}\n\
             {substituted:?}\n{facts:?}\n{files:?}",
            snap.policies,
            snap.image_repositories,
            snap.artifacts,
            snap.by_env_component,
            snap.file_env,
            snap.replaced,
        )
    }

    fn snapshot(files: &[(&str, &str)]) -> Snapshot {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        let config = crate::config::Config::default();
        crate::pipeline::snapshot_from_bytes(&bytes, &config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `before` derived to `after`'s files, and `after` built: `None` when derive declines.
    fn derive(before: &[(&str, &str)], after: &[(&str, &str)]) -> Option<(Snapshot, Snapshot)> {
        let (before, built) = (snapshot(before), snapshot(after));
        let derived = before.derive(built.files.clone());
        derived.ok().map(|d| (d, built))
    }

    /// `tree` with `from` replaced by `to` in the file at `path` (which must hold it).
    fn edited<'a>(
        tree: &[(&'a str, &'a str)],
        path: &str,
        from: &str,
        to: &str,
    ) -> Vec<(&'a str, String)> {
        tree.iter()
            .map(|&(p, t)| {
                if p == path {
                    assert!(t.contains(from), "{path} has no `{from}`");
                    (p, t.replace(from, to))
                } else {
                    (p, t.to_string())
                }
            })
            .collect()
    }

    fn borrowed<'a>(tree: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
        tree.iter().map(|(p, t)| (*p, t.as_str())).collect()
    }

    const OVERLAYS: &[(&str, &str)] = &[
        ("apps/web/base/kustomization.yaml", "resources:\n  - deployment.yaml\n"),
        (
            "apps/web/base/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: ghcr.io/acme/web:1.0.0\n        - name: proxy\n          image: ghcr.io/acme/proxy:2.0.0\n",
        ),
        (
            "apps/web/dev/kustomization.yaml",
            "resources:\n  - ../base\npatches:\n  - path: config-patch.yaml\n  - path: proxy-patch.yaml\nimages:\n  - name: ghcr.io/acme/web\n    newTag: 1.1.0\n",
        ),
        (
            "apps/web/dev/config-patch.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  LOG_LEVEL: debug\n  REPLICAS: \"1\"\n",
        ),
        (
            "apps/web/dev/proxy-patch.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: proxy\n          image: ghcr.io/acme/proxy:2.1.0\n",
        ),
        (
            "apps/web/prod/kustomization.yaml",
            "resources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/web\n    newTag: 1.0.0\n",
        ),
        (
            "apps/cache/prod/helmrelease.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: cache\nspec:\n  chart:\n    spec:\n      chart: redis\n      version: 1.2.3\n      sourceRef:\n        kind: HelmRepository\n        name: bitnami\n",
        ),
    ];

    /// A promotion (new tags and chart versions, of another length, and a ConfigMap value
    /// beside them) leaves what the build makes of the tree as it was: the derived snapshot
    /// is the one a build makes, each pin with its new value.
    #[test]
    fn a_change_of_pin_values_derives_what_a_build_makes() {
        let dev = "apps/web/dev/kustomization.yaml";
        let tree = edited(OVERLAYS, dev, "newTag: 1.1.0", "newTag: 1.10.0");
        let tree = edited(
            &borrowed(&tree),
            "apps/web/dev/config-patch.yaml",
            "debug",
            "info",
        );
        let release = "apps/cache/prod/helmrelease.yaml";
        let tree = edited(
            &borrowed(&tree),
            release,
            "version: 1.2.3",
            "version: 1.2.40",
        );
        let Some((derived, built)) = derive(OVERLAYS, &borrowed(&tree)) else {
            panic!("a change of values only was built again");
        };
        assert_eq!(rendered(&derived), rendered(&built));
        let values: Vec<String> = derived
            .pins
            .iter()
            .map(|p| {
                let pin = derived.pin(p);
                let env = &derived.envs.get(p.env).name;
                format!("{env} {} {}", pin.component, pin.reference.value)
            })
            .collect();
        assert_eq!(
            values,
            [
                "prod ghcr.io/acme/proxy 2.0.0",
                "dev ghcr.io/acme/web 1.10.0",
                "dev ghcr.io/acme/proxy 2.1.0",
                "prod ghcr.io/acme/web 1.0.0",
                "prod redis 1.2.40",
            ]
        );
    }

    /// A value the build copies or decides by (a patch's, a base a patch may rewrite, an
    /// env file a substitution reads), and any change of more than values: built again.
    #[test]
    fn values_the_build_read_and_new_structure_are_built_again() {
        let patch = "apps/web/dev/proxy-patch.yaml";
        let base = "apps/web/base/deployment.yaml";
        let dev = "apps/web/dev/kustomization.yaml";
        for (path, from, to) in [
            (patch, "proxy:2.1.0", "proxy:2.2.0"),
            (base, "proxy:2.0.0", "proxy:2.0.1"),
            (dev, "  - ../base\n", "  - ../base\n  - extra.yaml\n"),
            (dev, "name: ghcr.io/acme/web", "name: ghcr.io/acme/api"),
        ] {
            let tree = edited(OVERLAYS, path, from, to);
            assert!(derive(OVERLAYS, &borrowed(&tree)).is_none(), "{path}: {to}");
        }
        let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  path: ./apps\n  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: versions\n";
        let substituted: &[(&str, &str)] = &[
            ("apps/kustomization.yaml", "resources: [app.yaml]\n"),
            (
                "apps/app.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/app:${APP_VERSION}\n",
            ),
            ("clusters/live/apps.yaml", flux),
            (
                "clusters/live/kustomization.yaml",
                "resources: [apps.yaml]\nconfigMapGenerator:\n  - name: versions\n    envs: [versions.env]\n",
            ),
            ("clusters/live/versions.env", "APP_VERSION=1.0.0\n"),
        ];
        let env_file = "clusters/live/versions.env";
        let tree = edited(substituted, env_file, "1.0.0", "1.1.0");
        assert!(derive(substituted, &borrowed(&tree)).is_none());
        let built = snapshot(&borrowed(&tree));
        let values: Vec<&str> = (built.pins.iter())
            .map(|p| built.pin(p).reference.value.as_str())
            .collect();
        assert_eq!(values, ["1.1.0"]);
    }

    /// `find_in_parent_folders` searches from the reader's parent directory upwards.
    #[test]
    fn resolves_terragrunt_includes_against_the_file_list() {
        let span = crate::model::Span::default();
        let index: HashMap<String, usize> = [
            "root.hcl",
            "_envcommon/mysql.hcl",
            "prod/env.hcl",
            "prod/us-east-1/prod/mysql/terragrunt.hcl",
            "prod/us-east-1/prod/mysql/env.hcl",
        ]
        .iter()
        .enumerate()
        .map(|(i, p)| (p.to_string(), i))
        .collect();
        let inc = |find: Option<&str>, path: &str| ConfigInclude {
            find: find.map(str::to_string),
            path: path.to_string(),
            span: span.clone(),
        };
        let dir = "prod/us-east-1/prod/mysql";
        let at = |i: &ConfigInclude| resolve_config_include(dir, i, &index);
        assert_eq!(at(&inc(Some("root.hcl"), "")), Some(0));
        assert_eq!(at(&inc(Some("root.hcl"), "_envcommon/mysql.hcl")), Some(1));
        // Not the unit's own directory: its parent first.
        assert_eq!(at(&inc(Some("env.hcl"), "")), Some(2));
        assert_eq!(at(&inc(None, "_envcommon/mysql.hcl")), Some(1));
        assert_eq!(at(&inc(Some("root.hcl"), "_envcommon/absent.hcl")), None);
        assert_eq!(at(&inc(Some("absent.hcl"), "")), None);
        assert_eq!(
            resolve_config_include("", &inc(Some("root.hcl"), ""), &index),
            None
        );
    }

    #[test]
    fn joins_relative_entries() {
        assert_eq!(
            join_normalized("apps/backend/production", "../base").as_deref(),
            Some("apps/backend/base")
        );
        assert_eq!(
            join_normalized("a", "./b/c.yaml").as_deref(),
            Some("a/b/c.yaml")
        );
        assert_eq!(join_normalized("a", "../../x"), None);
    }
}
