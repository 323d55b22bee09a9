//! Extraction and the snapshot builder: bytes of a file (on disk, a blob, in memory) → facts
//! in parallel (blob facts cached by id for a run), the environments of a tree, and the
//! snapshots of one tree or of both sides of a change over shared environments.

use super::store::FactStore;
use crate::config::{Config, Environments};
use crate::error::Error;
use crate::extract::{self, suppress};
use crate::model::hash::HashMap;
use crate::model::FactKind;
use crate::snapshot::{FileFacts, Snapshot};
use crate::source::git::{FileEntry, GitRepo, ObjectId};
use crate::source::worktree;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// Read and extract every file, in parallel; order follows `files`. With a `store`, a file
/// whose bytes (known by their blob id) an earlier run extracted at the same path is not
/// extracted again; a tracked file the index says is unchanged (`indexed`) is known by the
/// index's blob id, and not even read. Each file comes with the blob id of the bytes its
/// facts come from when it is known: always with a `store` (its key), and without one when
/// `hash` asks.
pub fn extract_files(
    root: &Path,
    files: &[String],
    max_size: u64,
    store: Option<&FactStore>,
    indexed: &std::collections::HashMap<String, worktree::IndexedFile>,
    hash: bool,
) -> Vec<(FileFacts, Option<ObjectId>)> {
    files
        .par_iter()
        .filter_map(|path| {
            let format = extract::format_of(path)?;
            let indexed = indexed.get(path);
            Some(extract_one(
                root, path, format, max_size, store, indexed, hash,
            ))
        })
        .collect()
}

/// The id Git gives `bytes` as a blob.
fn blob_id(bytes: &[u8]) -> Option<ObjectId> {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes).ok()
}

fn extract_one(
    root: &Path,
    path: &str,
    format: extract::Format,
    max_size: u64,
    store: Option<&FactStore>,
    indexed: Option<&worktree::IndexedFile>,
    hash: bool,
) -> (FileFacts, Option<ObjectId>) {
    if let (Some(store), Some(indexed)) = (store, indexed) {
        if let Some(len) = indexed.unchanged(&root.join(path)) {
            // A filter that changed the bytes on checkout (CRLF, LFS, `ident`) changed
            // their length: then the file is read and keyed by its own bytes.
            if let Some(hit) = store.get_sized(&indexed.id, path, max_size, len) {
                return (hit, Some(indexed.id));
            }
        }
    }
    let bytes = worktree::read_file(root, path, max_size);
    match (store, &bytes) {
        (Some(store), Ok(bytes)) => {
            // The id Git would give the file's bytes: what the store knows blobs by.
            let Some(id) = blob_id(bytes) else {
                return (file_facts(path, format, Ok(bytes)), None);
            };
            if let Some(hit) = store.get(&id, path, max_size) {
                return (hit, Some(id));
            }
            let facts = file_facts(path, format, Ok(bytes));
            store.insert(&id, bytes.len() as u64, &facts);
            (facts, Some(id))
        }
        (None, Ok(bytes)) if hash => (file_facts(path, format, Ok(bytes)), blob_id(bytes)),
        _ => (
            file_facts(path, format, bytes.as_deref().map_err(String::as_str)),
            None,
        ),
    }
}

/// The facts of one file from its bytes, or the reason it could not be read (a PL000
/// note): the one path every source of bytes (work tree, git blob, memory) goes through.
pub fn file_facts(path: &str, format: extract::Format, bytes: Result<&[u8], &str>) -> FileFacts {
    let mut out = FileFacts {
        path: path.to_string(),
        ..FileFacts::default()
    };
    // git-crypt's ciphertext holds no pin anything deploys (no deploying tool reads it): a
    // note for it would repeat at every commit that encrypts the file again.
    if bytes.is_ok_and(extract::is_git_crypt) {
        return out;
    }
    let text = match bytes.map_err(str::to_string).and_then(extract::decode) {
        Ok(t) => t,
        Err(reason) => {
            out.unreadable = Some(reason);
            return out;
        }
    };
    match extract::extract(path, format, text) {
        Ok(mut facts) => {
            // Kept for the whole run (and by history for many commits): no growth slack.
            facts.shrink_to_fit();
            out.facts = facts
        }
        Err(reason) => out.unreadable = Some(reason),
    }
    out.suppressions = suppress::scan(text);
    if !out.facts.is_empty() || !out.suppressions.is_empty() {
        out.text = Some(Arc::from(text));
    }
    out
}

/// The fact store in `dir`, when there is one to read.
pub(crate) fn open_store(dir: Option<&std::path::Path>) -> Option<FactStore> {
    let store = FactStore::open(dir?);
    crate::timing::phase("fact store opened");
    store
}

/// Read and extract in-memory files (`(path, contents)`), in parallel.
pub fn extract_in_memory(files: &[(&str, &[u8])], max_size: u64) -> Vec<FileFacts> {
    files
        .par_iter()
        .filter_map(|(path, bytes)| {
            let format = extract::format_of(path)?;
            let reason;
            let bytes = if bytes.len() as u64 > max_size {
                reason = extract::over_size_limit(bytes.len() as u64, max_size);
                Err(reason.as_str())
            } else {
                Ok(*bytes)
            };
            Some(file_facts(path, format, bytes))
        })
        .collect()
}

/// Build the environments of a run: declared, or inferred from paths and namespaces.
pub fn environments<F: std::borrow::Borrow<FileFacts>>(
    config: &Config,
    files: &[String],
    facts: &[F],
) -> Result<Environments, Error> {
    let refs: Vec<&FileFacts> = facts.iter().map(|f| f.borrow()).collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    environments_of(config, &files, [&refs[..]])
}

/// Environments from several sets of facts (both sides of a change).
fn environments_of<'a, F: std::ops::Deref<Target = FileFacts> + 'a>(
    config: &Config,
    files: &[&str],
    fact_sets: impl IntoIterator<Item = &'a [F]>,
) -> Result<Environments, Error> {
    if !config.environments.is_empty() {
        return Ok(Environments::from_config(config)?);
    }
    let mut namespaces: BTreeSet<&str> = BTreeSet::new();
    let mut components: BTreeSet<String> = BTreeSet::new();
    // Neighbouring files mostly name the same namespace: a repeat skips the set's search.
    let mut last_namespace = None;
    for f in fact_sets.into_iter().flatten() {
        for input in environment_inputs(f) {
            match input {
                EnvironmentInput::Namespace(ns) => {
                    if last_namespace != Some(ns) {
                        namespaces.insert(ns);
                        last_namespace = Some(ns);
                    }
                }
                EnvironmentInput::Components(c) => {
                    components.extend(shared_components(&f.path, c));
                }
            }
        }
    }
    let mut envs = Environments::infer_except(files.iter().copied(), namespaces, &components);
    envs.versions = crate::version::Versions::from_config(config);
    Ok(envs)
}

/// Whether two versions of a file give environment inference the same inputs: the
/// namespaces its facts name and the components its kustomizations include (`None`: no
/// facts, as for a file no extractor reads).
pub fn same_environment_inputs(a: Option<&FileFacts>, b: Option<&FileFacts>) -> bool {
    a.into_iter()
        .flat_map(environment_inputs)
        .eq(b.into_iter().flat_map(environment_inputs))
}

/// What environment inference reads from one fact.
#[derive(PartialEq)]
enum EnvironmentInput<'a> {
    Namespace(&'a str),
    /// A kustomization's `components`.
    Components(&'a [String]),
}

/// What environment inference reads from a file's facts, in order.
fn environment_inputs(f: &FileFacts) -> impl Iterator<Item = EnvironmentInput<'_>> {
    f.facts.iter().flat_map(|fact| {
        let namespace = fact.namespace.as_deref().map(EnvironmentInput::Namespace);
        let components = match &fact.kind {
            FactKind::Kustomization(k) => Some(EnvironmentInput::Components(&k.components)),
            _ => None,
        };
        namespace.into_iter().chain(components)
    })
}

/// The Kustomize components (`variants/prod`) that the kustomization at `path` includes,
/// when `path` is in an environment and the component's directory would name another: it
/// is a part shared by environments (`envs/prod-eu`, `envs/prod-asia`), not one itself.
fn shared_components(path: &str, components: &[String]) -> Vec<String> {
    let Some((own, _)) = crate::config::infer::infer_from_path(path) else {
        return Vec::new();
    };
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    components
        .iter()
        .filter_map(|c| crate::model::join_normalized(dir, c))
        .filter(|target| {
            crate::config::infer::infer_from_path(&format!("{target}/kustomization.yaml"))
                .is_some_and(|(name, _)| name != own)
        })
        .collect()
}

/// A snapshot of in-memory files, resolved like a tree on disk.
pub fn snapshot_from_bytes(files: &[(&str, &[u8])], config: &Config) -> Result<Snapshot, Error> {
    let paths: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
    let facts = extract_in_memory(files, config.max_file_size);
    let envs = environments(config, &paths, &facts)?;
    let patterns: Vec<String> = config.artifacts.iter().map(|a| a.pattern.clone()).collect();
    let artifacts = extract::artifact::from_paths(&paths, &patterns);
    Ok(Snapshot::build(
        facts.into_iter().map(Arc::new).collect(),
        envs,
        artifacts,
    ))
}

/// Snapshots of both sides of a change over the same environments (inferred from the union
/// of both trees), so that an environment index means the same on both sides.
pub fn snapshot_pair(
    before: &[(&str, &[u8])],
    after: &[(&str, &[u8])],
    config: &Config,
) -> Result<(Snapshot, Snapshot), Error> {
    let before_facts = extract_in_memory(before, config.max_file_size)
        .into_iter()
        .map(Arc::new)
        .collect();
    let after_facts = extract_in_memory(after, config.max_file_size)
        .into_iter()
        .map(Arc::new)
        .collect();
    pair_from_facts(
        before.iter().map(|(p, _)| p.to_string()).collect(),
        before_facts,
        after.iter().map(|(p, _)| p.to_string()).collect(),
        after_facts,
        config,
    )
}

/// Resolve both sides' facts over shared environments.
pub fn pair_from_facts(
    before_paths: Vec<String>,
    before_facts: Vec<Arc<FileFacts>>,
    after_paths: Vec<String>,
    after_facts: Vec<Arc<FileFacts>>,
    config: &Config,
) -> Result<(Snapshot, Snapshot), Error> {
    let envs = pair_environments(
        &before_paths,
        &before_facts,
        &after_paths,
        &after_facts,
        config,
    )?;
    // A change of pin values only (a promotion): the after side is the before side's
    // build with the new values, unless the build read those values.
    if before_paths == after_paths
        && crate::snapshot::only_pin_values_changed(&before_facts, &after_facts)
    {
        let before = side_snapshot(before_paths, before_facts, envs.clone(), config);
        let after = match before.derive(after_facts) {
            Ok(after) => after,
            Err(after_facts) => side_snapshot(after_paths, after_facts, envs, config),
        };
        return Ok((before, after));
    }
    // The sides are independent: built at once, they take the time of one.
    let before_envs = envs.clone();
    Ok(rayon::join(
        || side_snapshot(before_paths, before_facts, before_envs, config),
        || side_snapshot(after_paths, after_facts, envs, config),
    ))
}

/// The environments both sides of a change share: inferred from the union of both trees.
pub fn pair_environments(
    before_paths: &[String],
    before_facts: &[Arc<FileFacts>],
    after_paths: &[String],
    after_facts: &[Arc<FileFacts>],
    config: &Config,
) -> Result<Environments, Error> {
    // Borrowed, not cloned: history asks this for every commit of a 20k-file tree. Each
    // side comes nearly sorted (git's tree order), which the stable sort is quick on.
    let mut all_paths: Vec<&str> = before_paths.iter().map(String::as_str).collect();
    all_paths.extend(after_paths.iter().map(String::as_str));
    all_paths.sort();
    all_paths.dedup();
    environments_of(config, &all_paths, [before_facts, after_facts])
}

/// One side of a change resolved against the environments of the pair.
pub fn side_snapshot(
    paths: Vec<String>,
    facts: Vec<Arc<FileFacts>>,
    envs: Environments,
    config: &Config,
) -> Snapshot {
    let patterns: Vec<String> = config.artifacts.iter().map(|a| a.pattern.clone()).collect();
    Snapshot::build(
        facts,
        envs,
        extract::artifact::from_paths(&paths, &patterns),
    )
}

/// Facts of blobs already parsed in this run, by blob id, then path (a lookup allocates
/// nothing: history asks it for every file of every commit); behind it, the fact store of
/// earlier runs, opened on the first blob this run has not parsed.
#[derive(Default)]
pub struct FactCache {
    map: Mutex<HashMap<ObjectId, HashMap<String, Arc<FileFacts>>>>,
    /// The cache directory (`promolint` in the git directory), when the store is used.
    store_dir: Option<std::path::PathBuf>,
    /// Shared with the thread that opens it early (see [`Self::open_store_early`]).
    store: Arc<OnceLock<Option<FactStore>>>,
}

impl FactCache {
    /// A cache backed by the fact store in `dir` (none: this run's parses only).
    pub fn with_store(dir: Option<std::path::PathBuf>) -> Self {
        FactCache {
            store_dir: dir,
            ..FactCache::default()
        }
    }

    fn store(&self) -> Option<&FactStore> {
        self.store
            .get_or_init(|| open_store(self.store_dir.as_deref()))
            .as_ref()
    }

    /// Start reading the fact store on an idle thread of the pool, while the caller lists
    /// what to look up in it; the first lookup waits for it. Nothing when there is no
    /// store or no other thread.
    pub fn open_store_early(&self) {
        if self.store_dir.is_none() || rayon::current_num_threads() < 2 {
            return;
        }
        let (store, dir) = (Arc::clone(&self.store), self.store_dir.clone());
        rayon::spawn(move || {
            store.get_or_init(|| open_store(dir.as_deref()));
        });
    }

    /// Write what the run extracted to the fact store (see [`FactStore::save`]).
    pub fn save(&self, whole: bool) {
        if let Some(Some(store)) = self.store.get() {
            store.save(whole);
        }
    }

    /// The facts of the blob `entry` (read and extracted on first use).
    pub fn facts(
        &self,
        repo: &GitRepo,
        entry: &FileEntry,
        max_size: u64,
    ) -> Option<Arc<FileFacts>> {
        self.facts_with(repo, entry, max_size, true)
    }

    /// [`Self::facts`] for a few blobs: the fact store is asked only when it is open
    /// already (reading it whole would cost a quiet `staged` more than parsing the blobs).
    pub fn few_facts(
        &self,
        repo: &GitRepo,
        entry: &FileEntry,
        max_size: u64,
    ) -> Option<Arc<FileFacts>> {
        self.facts_with(repo, entry, max_size, false)
    }

    fn facts_with(
        &self,
        repo: &GitRepo,
        entry: &FileEntry,
        max_size: u64,
        open: bool,
    ) -> Option<Arc<FileFacts>> {
        let hit = |map: &HashMap<ObjectId, HashMap<String, Arc<FileFacts>>>| {
            map.get(&entry.id)?.get(entry.path.as_str()).cloned()
        };
        if let Some(hit) = hit(&*self.map.lock().ok()?) {
            return Some(hit);
        }
        let facts = Arc::new(self.persistent_facts(repo, entry, max_size, open)?);
        if let Ok(mut map) = self.map.lock() {
            map.entry(entry.id)
                .or_default()
                .insert(entry.path.clone(), facts.clone());
        }
        Some(facts)
    }

    /// The facts of the blob `entry` from the fact store, or read and extracted (and then
    /// recorded in the store); with `open` false, the store is asked only when it is open
    /// already. A record is used only while this copy of the repository has the object:
    /// without it the run reports the blob missing, with or without a store.
    fn persistent_facts(
        &self,
        repo: &GitRepo,
        entry: &FileEntry,
        max_size: u64,
        open: bool,
    ) -> Option<FileFacts> {
        let store = match entry.kind.is_file() {
            true if open => self.store(),
            true => self.store.get().and_then(Option::as_ref),
            false => None,
        };
        let Some(store) = store else {
            return blob_facts(repo, entry, max_size).map(|(facts, _)| facts);
        };
        extract::format_of(&entry.path)?;
        if let Some(hit) = store
            .get(&entry.id, &entry.path, max_size)
            .filter(|_| repo.has_object(entry.id))
        {
            return Some(hit);
        }
        let (facts, len) = blob_facts(repo, entry, max_size)?;
        if let Some(len) = len {
            store.insert(&entry.id, len, &facts);
        }
        Some(facts)
    }
}

/// The facts of the blob `entry`, read and extracted (`None`: no extractor reads it), and
/// the blob's length when it was read.
fn blob_facts(
    repo: &GitRepo,
    entry: &FileEntry,
    max_size: u64,
) -> Option<(FileFacts, Option<u64>)> {
    let format = extract::format_of(&entry.path)?;
    Some(match entry.kind {
        crate::source::git::EntryKind::Submodule => return None,
        crate::source::git::EntryKind::Symlink => (
            file_facts(&entry.path, format, Err("symlink not followed")),
            None,
        ),
        _ => {
            let bytes = repo.read_blob(entry.id, max_size);
            let len = bytes.as_ref().ok().map(|b| b.len() as u64);
            let facts = file_facts(
                &entry.path,
                format,
                bytes.as_deref().map_err(String::as_str),
            );
            (facts, len)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(path: &str, text: &str) -> Option<FileFacts> {
        extract_in_memory(&[(path, text.as_bytes())], 1 << 20).pop()
    }

    /// A file git-crypt encrypted is read as nothing, not as a binary file to report; other
    /// binary content still is.
    #[test]
    fn git_crypt_ciphertext_is_no_unreadable_file() {
        let path = "secrets/.secrets.env";
        let cipher = b"\0GITCRYPT\0jXZw\x14\xbe\xbf\xab9\xe0HO[";
        let f = file_facts(path, extract::Format::EnvFile, Ok(cipher));
        assert_eq!((f.unreadable, f.facts.len(), f.text), (None, 0, None));
        let other = file_facts(path, extract::Format::EnvFile, Ok(b"\0\x01\x02 binary"));
        assert_eq!(
            other.unreadable.as_deref(),
            Some("binary file (contains NUL bytes)")
        );
    }

    #[test]
    fn environment_inputs_are_namespaces_and_components_not_values() {
        let deploy = |ns: &str, tag: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\n\
                 spec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: ghcr.io/acme/web:{tag}\n"
            )
        };
        let path = "apps/web/base/deployment.yaml";
        let v1 = facts(path, &deploy("web", "v1"));
        let v2 = facts(path, &deploy("web", "v2"));
        let moved = facts(path, &deploy("prod", "v1"));
        // A tag bump leaves them; a namespace change does not.
        assert!(same_environment_inputs(v1.as_ref(), v2.as_ref()));
        assert!(!same_environment_inputs(v1.as_ref(), moved.as_ref()));
        let kustomization = |components: &str| {
            format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../base\ncomponents:\n{components}")
        };
        let k = "envs/prod-eu/kustomization.yaml";
        let one = facts(k, &kustomization("- ../../variants/prod\n"));
        let two = facts(
            k,
            &kustomization("- ../../variants/prod\n- ../../variants/eu\n"),
        );
        assert!(!same_environment_inputs(one.as_ref(), two.as_ref()));
        assert!(same_environment_inputs(one.as_ref(), one.as_ref()));
        // No facts either side (a README, a file no extractor reads).
        assert!(same_environment_inputs(None, None));
    }
}
