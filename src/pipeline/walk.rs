//! The history walk: what each commit introduced, read from the pin ledger or walked, as a
//! [`HistoryIndex`] for the change rules and `check`'s promotion-order questions.

use super::git::GitRun;
use super::prefetch::Prefetch;
use super::setup::{project_dir, Options};
use super::{facts, setup};
use crate::config::Config;
use crate::error::Error;
use crate::extract;
use crate::history::{HistoryIndex, PastPin};
use crate::ledger::{Ledger, Notice, RawPin};
use crate::snapshot::{FileFacts, Snapshot};
use crate::source::git::{CommitInfo, FileEntry, GitRepo, ObjectId};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};

impl GitRun {
    /// Every version each environment pinned along the history of `tip` (inclusive).
    pub fn history_index(
        &self,
        tip: Option<ObjectId>,
        snapshot: &Snapshot,
    ) -> Result<HistoryIndex, Error> {
        self.history_index_under(tip, &snapshot.envs, "")
    }

    /// [`Self::history_index`] walked on the first query that needs it, on a pool of its
    /// own (see [`apart`]): a run whose changes ask nothing of the history (no
    /// environments, no pin with a predecessor moved) walks nothing.
    pub fn deferred_history(
        &self,
        tip: Option<ObjectId>,
        envs: &crate::config::Environments,
    ) -> HistoryIndex {
        let run = GitRun {
            repo: self.repo.clone(),
            root: self.root.clone(),
            config: self.config.clone(),
            enabled: self.enabled.clone(),
            cache: crate::pipeline::facts::FactCache::default(),
            ledger: self.ledger,
            fix: false,
        };
        let envs = envs.clone();
        let threads = rayon::current_num_threads();
        HistoryIndex::deferred(move || apart(threads, || run.history_index_under(tip, &envs, ""))?)
    }

    /// [`Self::history_index`] of the files under `prefix` only (a repository-relative
    /// directory; empty for all): `check -C dir` judges that directory's history.
    ///
    /// Commits the pin ledger has seen are taken from it, the others walked (their changed
    /// blobs parsed once, not kept: a long history would otherwise hold every version of
    /// every file). An index with ledger entries checks them before it believes them (see
    /// [`crate::history::Verify`] and `LedgerCheck`).
    pub fn history_index_under(
        &self,
        tip: Option<ObjectId>,
        envs: &crate::config::Environments,
        prefix: &str,
    ) -> Result<HistoryIndex, Error> {
        match tip {
            Some(tip) => self.history_index_of(self.history_walk(tip, None)?, envs, prefix),
            None => Ok(HistoryIndex::empty()),
        }
    }

    /// What the history of `tip` holds before environments are applied: its commits, the
    /// ledger, and the pins of the commits the ledger does not hold. It needs no
    /// environment, so `check` has it made while it builds the snapshot.
    pub fn history_walk(
        &self,
        tip: ObjectId,
        known: Option<&KnownFacts>,
    ) -> Result<HistoryWalk, Error> {
        let max_size = self.config.max_file_size;
        let (cache_dir, root) = (self.repo.cache_dir(), &self.root);
        // Listing the commits and reading the ledger need nothing of each other.
        let (commits, ledger) = rayon::join(
            || {
                let commits = self.repo.range_commits(None, tip);
                crate::timing::phase("history: commits listed");
                commits
            },
            || {
                let ledger = self.ledger.then(|| {
                    let (ledger, notice) = Ledger::open(Some(&cache_dir), max_size);
                    if let Some(notice) = notice {
                        warn_once(&ledger_notice(&notice, &ledger, root));
                    }
                    ledger
                });
                crate::timing::phase("history: ledger read");
                ledger
            },
        );
        let commits = commits?;
        let ids: Vec<String> = commits.iter().map(|c| c.id.to_string()).collect();
        let cached: Vec<bool> = ids
            .iter()
            .map(|id| ledger.as_ref().is_some_and(|l| l.get(id).is_some()))
            .collect();
        let missing: Vec<usize> = (0..commits.len()).filter(|&i| !cached[i]).collect();
        let fresh = walk_commits(&self.repo, &commits, &missing, max_size, known)?;
        Ok(HistoryWalk {
            tip,
            commits,
            ids,
            ledger,
            cached,
            fresh,
        })
    }

    /// The history index of a walk (see [`Self::history_walk`]) over `envs`, for the files
    /// under `prefix`; the ledger takes what the walk read.
    pub fn history_index_of(
        &self,
        walk: HistoryWalk,
        envs: &crate::config::Environments,
        prefix: &str,
    ) -> Result<HistoryIndex, Error> {
        let HistoryWalk {
            tip,
            commits,
            ids,
            ledger,
            cached,
            fresh,
        } = walk;
        let max_size = self.config.max_file_size;
        Scope { envs, prefix }.judgeable(tip, &commits, &fresh)?;
        let mut walked_here: Vec<Option<&[RawPin]>> = vec![None; commits.len()];
        for (i, walked) in &fresh {
            walked_here[*i] = Some(&walked.pins);
        }
        let mut index = Scope { envs, prefix }.index(&commits, |i| {
            walked_here[i]
                .or_else(|| ledger.as_ref().and_then(|l| l.get(&ids[i])))
                .unwrap_or_default()
        });
        let keep: Vec<bool> = fresh
            .iter()
            .map(|(i, walked)| walked.cacheable(&commits[*i]))
            .collect();
        let Some(mut ledger) = ledger else {
            return Ok(index);
        };
        for ((i, walked), keep) in fresh.into_iter().zip(keep) {
            if keep {
                ledger.insert(ids[i].clone(), walked.pins);
            }
        }
        ledger.save();
        if !cached.contains(&true) {
            return Ok(index);
        }
        // A signed ledger is the walk's own record (see `crate::ledger`): nothing to check
        // but that a protected environment's history is still there to be read, as a walk
        // would find it.
        if ledger.trusted() {
            let gone = self.missing_blobs(&commits, &cached, &ledger, Scope { envs, prefix });
            Scope { envs, prefix }.judgeable(tip, &commits, &gone)?;
            return Ok(index);
        }
        index.verified_by(LedgerCheck {
            repo: self.repo.clone(),
            shown: shown_ledger(&ledger, &self.root),
            commits,
            ids,
            cached,
            ledger: Mutex::new(ledger),
            discarded: std::sync::atomic::AtomicBool::new(false),
            envs: envs.clone(),
            prefix: prefix.to_string(),
            max_size,
            threads: rayon::current_num_threads(),
        });
        Ok(index)
    }
}

/// The history of HEAD for a working-tree snapshot (empty on an unborn branch), limited to
/// the directory the tree was read from; walked on the first query (see
/// [`HistoryIndex::deferred`]), so a tree whose pins the tree alone judges needs none.
/// `prefetched`: the walk, started before the snapshot was built (see
/// [`prefetch_head_history`]).
pub fn head_history(
    opts: &Options,
    snapshot: &Snapshot,
    config: &Config,
    prefetched: Option<HeadWalkPrefetch>,
) -> HistoryIndex {
    let opts = opts.clone();
    let envs = snapshot.envs.clone();
    let config = config.clone();
    HistoryIndex::deferred(move || {
        let walked = match prefetched.and_then(Prefetch::take) {
            Some(walked) => walked,
            None => head_walk(&opts, config, None),
        }?;
        let index = match walked.walk {
            Some(walk) => walked.run.history_index_of(walk, &envs, &walked.prefix),
            None => Ok(HistoryIndex::empty()),
        };
        crate::timing::phase("history walked");
        index
    })
}

/// HEAD's history as read, before environments apply (none on an unborn branch), with
/// the run that read it and the project's directory in the repository.
pub struct HeadWalk {
    run: GitRun,
    prefix: String,
    walk: Option<HistoryWalk>,
}

pub type HeadWalkPrefetch = Prefetch<Result<HeadWalk, Error>>;

fn head_walk(
    opts: &Options,
    config: Config,
    known: Option<&KnownFacts>,
) -> Result<HeadWalk, Error> {
    let run = GitRun::open_with(opts, Some(config))?;
    let head = run.repo.head()?;
    // The snapshot is the whole project's, wherever in it promolint runs: so is its
    // history.
    let project = project_dir(&opts.start, Some(&run.root));
    let prefix = crate::source::worktree::resolve_pathspec(&run.root, &project, ".")?;
    let walk = head.map(|h| run.history_walk(h, known)).transpose()?;
    Ok(HeadWalk { run, prefix, walk })
}

/// HEAD's history read on an idle thread of the pool while the caller builds the
/// snapshot: listing the commits, reading the ledger and walking what it lacks need no
/// environment. `known`: the working tree's facts, which a walk of commits the ledger lacks
/// takes for the same blobs. `None` on a pool of one thread (the work would only wait its
/// turn).
pub fn prefetch_head_history(
    opts: &Options,
    config: &Config,
    known: KnownFacts,
) -> Option<HeadWalkPrefetch> {
    if rayon::current_num_threads() < 2 {
        return None;
    }
    let (opts, config) = (opts.clone(), config.clone());
    Some(Prefetch::start(move || {
        head_walk(&opts, config, Some(&known))
    }))
}

/// Facts a run has extracted already, by the blob id of the bytes they came from (in
/// `check`, the working tree's files): a walk that meets one of those blobs at the same
/// path takes them instead of parsing it again. A fresh clone's first `check` parsed every
/// file of the tree twice, once for the tree and once for the root commit.
/// Not the run's [`FactCache`](super::facts::FactCache), which indexes what it is given at
/// once: these are indexed on the first lookup, since a walk the ledger answers whole (every
/// `check` after the first) looks nothing up.
#[derive(Default)]
pub struct KnownFacts {
    facts: Vec<(ObjectId, Arc<FileFacts>)>,
    by_id: std::sync::OnceLock<crate::model::hash::HashMap<ObjectId, Vec<usize>>>,
}

impl KnownFacts {
    pub fn new(facts: impl IntoIterator<Item = (ObjectId, Arc<FileFacts>)>) -> Self {
        KnownFacts {
            facts: facts.into_iter().collect(),
            by_id: Default::default(),
        }
    }

    /// The facts of `entry`'s blob at `entry`'s path, when known.
    fn get(&self, entry: &FileEntry) -> Option<&FileFacts> {
        let by_id = self.by_id.get_or_init(|| {
            let mut by_id: crate::model::hash::HashMap<ObjectId, Vec<usize>> = Default::default();
            for (i, (id, _)) in self.facts.iter().enumerate() {
                by_id.entry(*id).or_default().push(i);
            }
            by_id
        });
        by_id
            .get(&entry.id)?
            .iter()
            .map(|&i| &*self.facts[i].1)
            .find(|f| f.path == entry.path)
    }
}

/// The history of a commit as read, before environments apply (see
/// [`GitRun::history_walk`]).
pub struct HistoryWalk {
    tip: ObjectId,
    commits: Vec<CommitInfo>,
    /// The commits' ids in hex, as the ledger keys them.
    ids: Vec<String>,
    ledger: Option<Ledger>,
    /// Whether the ledger holds each commit.
    cached: Vec<bool>,
    /// The pins of the commits it does not hold, as walked: (index in `commits`, pins).
    fresh: Vec<(usize, Introduced)>,
}

impl GitRun {
    /// For the commits taken from a signed ledger, the blobs of protected environments'
    /// pins that this copy of the repository no longer has, as a walk would report them.
    fn missing_blobs(
        &self,
        commits: &[CommitInfo],
        cached: &[bool],
        ledger: &Ledger,
        scope: Scope<'_>,
    ) -> Vec<(usize, Introduced)> {
        let mut protected: HashMap<&str, bool> = HashMap::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        // (commit, path, blob) in the order a walk meets them; each blob once.
        let mut wanted: Vec<(usize, &str, &str)> = Vec::new();
        for (i, c) in commits.iter().enumerate().filter(|(i, _)| cached[*i]) {
            let Some(pins) = ledger.get(&c.id.to_string()) else {
                continue;
            };
            for pin in pins {
                let guarded = *protected.entry(pin.path.as_str()).or_insert_with(|| {
                    scope.inside(&pin.path)
                        && scope
                            .envs
                            .for_path(&pin.path)
                            .is_some_and(|e| scope.envs.get(e).protected)
                });
                let Some(blob) = pin.blob.as_deref().filter(|_| guarded) else {
                    continue;
                };
                if seen.insert(blob) {
                    wanted.push((i, &pin.path, blob));
                }
            }
        }
        // Each lookup reads an object header: thousands over a long history, spread over
        // the pool.
        let gone: Vec<(usize, &str, String)> = wanted
            .par_iter()
            .filter_map(|&(i, path, blob)| {
                let present = ObjectId::from_hex(blob.as_bytes())
                    .map_err(|e| e.to_string())
                    .and_then(|id| self.repo.blob_present(id));
                present.err().map(|reason| (i, path, reason))
            })
            .collect();
        let mut out: Vec<(usize, Introduced)> = Vec::new();
        for (i, path, reason) in gone {
            if out.last().is_none_or(|(last, _)| *last != i) {
                out.push((i, Introduced::default()));
            }
            if let Some((_, introduced)) = out.last_mut() {
                introduced.unreadable.push((path.to_string(), reason));
            }
        }
        out
    }
}

/// Which pins of a history an index records: the files under `prefix`, in `envs`.
struct Scope<'a> {
    envs: &'a crate::config::Environments,
    prefix: &'a str,
}

impl Scope<'_> {
    fn inside(&self, path: &str) -> bool {
        self.prefix.is_empty()
            || path
                .strip_prefix(self.prefix)
                .is_some_and(|r| r.starts_with('/'))
    }

    /// A history that cannot be read where a protected environment's files are is no
    /// history that can clear or convict its pins: the run fails closed (exit 2) and says
    /// how to bring the objects back. Elsewhere the walk goes on without those pins and
    /// warns ([`Introduced::cacheable`]). A damaged blob the tip commit itself introduced
    /// is left to the change that judges that commit, which reports it (PL000) at the file.
    fn judgeable(
        &self,
        tip: ObjectId,
        commits: &[CommitInfo],
        walked: &[(usize, Introduced)],
    ) -> Result<(), Error> {
        for (i, introduced) in walked {
            for (path, reason) in &introduced.unreadable {
                let Some(env) = self.envs.for_path(path).filter(|_| self.inside(path)) else {
                    continue;
                };
                let env = self.envs.get(env);
                if !env.protected {
                    continue;
                }
                if commits[*i].id == tip {
                    continue;
                }
                return Err(Error::Usage {
                    message: format!(
                        "the history of {}, a protected environment, cannot be read: commit {}: \
                         {path} cannot be read ({reason})",
                        env.name,
                        short_id(&commits[*i].id)
                    ),
                    help: Some(
                        "promolint judges promotion order from the history; bring the missing \
                         objects back (`git fetch --refetch origin`, or a clone without \
                         `--filter`), or find the damage with `git fsck`"
                            .to_string(),
                    ),
                });
            }
        }
        Ok(())
    }

    /// The index of `commits` (in walk order), given what each introduced.
    fn index<'p>(
        &self,
        commits: &[CommitInfo],
        pins: impl Fn(usize) -> &'p [RawPin],
    ) -> HistoryIndex {
        let mut index = HistoryIndex::empty();
        for (seq, c) in commits.iter().enumerate() {
            let id = c.id.to_string();
            for raw in pins(seq) {
                if self.inside(&raw.path) {
                    record_pin(raw, self.envs, &id, seq as u64, &mut index);
                }
            }
        }
        index.set_horizon(commits.len().saturating_sub(1) as u64);
        let pos: crate::model::hash::HashMap<ObjectId, u64> = commits
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i as u64))
            .collect();
        if commits.iter().any(|c| c.parents.len() > 1) {
            // Merges: a commit sees only its ancestors, not a side branch dated earlier.
            let parents: Vec<Vec<usize>> = commits
                .iter()
                .map(|c| {
                    c.parents
                        .iter()
                        .filter_map(|p| pos.get(p).map(|&i| i as usize))
                        .collect()
                })
                .collect();
            index.set_ancestry(crate::history::Ancestry::new(&parents));
        }
        index.set_positions(pos);
        index
    }
}

/// What one commit introduced against its first parent: the tag pins of the blobs it added
/// or changed, and the blobs this copy of the repository could not read.
#[derive(Default)]
struct Introduced {
    pins: Vec<RawPin>,
    /// (path, reason): missing or damaged objects.
    unreadable: Vec<(String, String)>,
}

impl Introduced {
    /// Whether the ledger may keep this. A missing or damaged object may come back: its
    /// commit is walked again next time rather than remembered without its pins. Says why
    /// on standard error when it may not.
    fn cacheable(&self, commit: &CommitInfo) -> bool {
        for (path, reason) in &self.unreadable {
            warn_once(&format!(
                "commit {}: {path} cannot be read ({reason}); the history is judged without \
                 its pins, and the commit is not cached",
                short_id(&commit.id)
            ));
        }
        self.unreadable.is_empty()
    }
}

/// Pins of blobs this walk parsed, kept until the child commit that changes the file
/// compares against them (a commit's new blob is the next commit's old one).
#[derive(Default)]
struct Parsed<'a> {
    map: Mutex<HashMap<(ObjectId, String), Vec<RawPin>>>,
    known: Option<&'a KnownFacts>,
}

impl Parsed<'_> {
    /// The facts this run already has of `entry`'s blob (see [`KnownFacts`]).
    fn known(&self, entry: &FileEntry) -> Option<&FileFacts> {
        self.known?.get(entry)
    }

    fn keep(&self, entry: &FileEntry, pins: &[RawPin]) {
        if let Ok(mut map) = self.map.lock() {
            map.insert((entry.id, entry.path.clone()), pins.to_vec());
        }
    }

    /// The pins of `entry`'s blob: remembered, or read now; `None` when it cannot be read.
    fn take(&self, repo: &GitRepo, entry: &FileEntry, max_size: u64) -> Option<Vec<RawPin>> {
        let key = (entry.id, entry.path.clone());
        if let Some(pins) = self.map.lock().ok().and_then(|mut map| map.remove(&key)) {
            return Some(pins);
        }
        let mut pins = Vec::new();
        file_pins(repo, entry, max_size, self.known(entry), &mut pins).ok()?;
        Some(pins)
    }
}

/// The pins of `new` that its previous version `old` did not hold: what a change to a file
/// introduced. A versions file of forty pins changed on one line introduces one. Without
/// `old` (a new file, or one that cannot be read), all of them.
fn new_since(new: Vec<RawPin>, old: Option<&[RawPin]>) -> Vec<RawPin> {
    let Some(old) = old else {
        return new;
    };
    let key = |p: &RawPin| {
        (
            p.namespace.clone(),
            p.component.clone(),
            p.tag.clone(),
            p.digest.clone(),
        )
    };
    let had: BTreeSet<_> = old.iter().map(key).collect();
    new.into_iter().filter(|p| !had.contains(&key(p))).collect()
}

/// What `commit` introduced (see [`Introduced`]).
fn introduced(
    repo: &GitRepo,
    commit: &CommitInfo,
    trees: &HashMap<ObjectId, ObjectId>,
    max_size: u64,
    parsed: &Parsed,
) -> Result<Introduced, Error> {
    let changes = match commit.parents.first() {
        None => repo.diff_root_trees(None, Some(commit.tree))?.changes,
        Some(parent) => match trees.get(parent) {
            Some(&parent_tree) => {
                repo.diff_root_trees(Some(parent_tree), Some(commit.tree))?
                    .changes
            }
            None => repo.diff_trees(Some(*parent), Some(commit.id))?,
        },
    };
    // A root commit, or a large import, holds thousands of files: they are read over the
    // pool rather than on the one thread that walks this commit. Order is kept.
    let read = |change: crate::source::git::FileChange| {
        let new = change.new?;
        let mut pins = Vec::new();
        if let Err(reason) = file_pins(repo, &new, max_size, parsed.known(&new), &mut pins) {
            return Some(Err((new.path, reason)));
        }
        let old = change
            .old
            .filter(|old| old.kind.is_file())
            .and_then(|old| parsed.take(repo, &old, max_size));
        parsed.keep(&new, &pins);
        Some(Ok(new_since(pins, old.as_deref())))
    };
    let read: Vec<_> = if changes.len() > SPREAD_OVER_POOL {
        changes.into_par_iter().filter_map(read).collect()
    } else {
        changes.into_iter().filter_map(read).collect()
    };
    let mut out = Introduced::default();
    for result in read {
        match result {
            Ok(pins) => out.pins.extend(pins),
            Err(unreadable) => out.unreadable.push(unreadable),
        }
    }
    Ok(out)
}

/// How many changed files a commit may have before they are read over the pool.
const SPREAD_OVER_POOL: usize = 64;

/// Append the tag pins of the file `entry` to `out`; `Err`: its blob is missing or
/// damaged (the reason). `known`: the facts of that very blob at that path, extracted
/// already from bytes that hash to its id: the blob is not read, since what it holds is
/// known whether or not this copy of the repository can still read it.
fn file_pins(
    repo: &GitRepo,
    entry: &FileEntry,
    max_size: u64,
    known: Option<&FileFacts>,
    out: &mut Vec<RawPin>,
) -> Result<(), String> {
    if !entry.kind.is_file() {
        // A symlink is a note and a submodule nothing: neither holds pins.
        return Ok(());
    }
    let Some(format) = extract::format_of(&entry.path) else {
        return Ok(());
    };
    if let Some(facts) = known {
        raw_pins(facts, Some(entry.id), out);
        return Ok(());
    }
    match repo.read_blob_checked(entry.id, max_size) {
        Ok(bytes) => {
            raw_pins(
                &facts::file_facts(&entry.path, format, Ok(&bytes)),
                Some(entry.id),
                out,
            );
            Ok(())
        }
        // Over the size limit, or not a blob: no pins, in every copy of the repository.
        Err(e) if e.intrinsic => Ok(()),
        Err(e) => Err(e.message),
    }
}

/// What the commits at `positions` introduced, walked in parallel, in the order asked.
fn walk_commits(
    repo: &GitRepo,
    commits: &[CommitInfo],
    positions: &[usize],
    max_size: u64,
    known: Option<&KnownFacts>,
) -> Result<Vec<(usize, Introduced)>, Error> {
    let parsed = Parsed {
        known,
        ..Parsed::default()
    };
    // Each commit's tree by its id, for its children's diffs.
    let trees: HashMap<ObjectId, ObjectId> = commits.iter().map(|c| (c.id, c.tree)).collect();
    positions
        .par_iter()
        .map(|&i| Ok((i, introduced(repo, &commits[i], &trees, max_size, &parsed)?)))
        .collect()
}

/// The first seven hex digits of a commit id.
fn short_id(id: &ObjectId) -> String {
    id.to_string().chars().take(7).collect()
}

/// A warning on standard error, once per process however many walks meet it (`check
/// --summary` walks twice). Text from the repository cannot break the line.
fn warn_once(text: &str) {
    static SAID: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let new = SAID
        .lock()
        .map(|mut said| said.insert(text.to_string()))
        .unwrap_or(true);
    if new {
        let _ = writeln!(
            std::io::stderr(),
            "promolint: warning: {}",
            crate::report::printable(text)
        );
    }
}

/// The ledger's file as a user finds it: `.git/promolint/pins.json` from the working tree.
fn shown_ledger(ledger: &Ledger, root: &std::path::Path) -> String {
    match ledger.file() {
        Some(file) => shown_path(&file, root),
        None => "(none)".to_string(),
    }
}

/// `path` relative to the working tree `root` when it is inside it.
fn shown_path(path: &std::path::Path, root: &std::path::Path) -> String {
    std::fs::canonicalize(root)
        .ok()
        .and_then(|root| {
            path.strip_prefix(root)
                .ok()
                .map(|rel| rel.display().to_string())
        })
        .unwrap_or_else(|| path.display().to_string())
}

/// The warning for a ledger that was not read.
fn ledger_notice(notice: &Notice, ledger: &Ledger, root: &std::path::Path) -> String {
    let file = shown_ledger(ledger, root);
    match notice {
        Notice::LinkedDirectory(dir) => format!(
            "{} is a symbolic link; the pin ledger is neither read nor written (remove the \
             link to cache the history walk again)",
            shown_path(dir, root)
        ),
        Notice::NotAFile => format!(
            "the pin ledger {file} is not a regular file (a symbolic link, pipe or device); \
             it was not read, and is replaced"
        ),
        Notice::TooLarge => format!(
            "the pin ledger {file} is larger than {} MiB; it was not read, and is replaced",
            crate::ledger::MAX_BYTES >> 20
        ),
    }
}

/// Checks an index read from the pin ledger (see [`crate::history::Verify`]): a file's pins
/// in a commit's entry hold when the commit changed the file and reading it again gives
/// exactly those pins, the whole entry when walking the commit again gives exactly the
/// entry; the walk without
/// the ledger compares every entry, and a ledger that disagrees is discarded and rebuilt,
/// with one warning.
struct LedgerCheck {
    repo: GitRepo,
    /// The ledger's file, for the warning.
    shown: String,
    commits: Vec<CommitInfo>,
    ids: Vec<String>,
    /// By position: whether the entry came from the ledger (the others were walked here).
    cached: Vec<bool>,
    /// The ledger the index was read from, until the walk finds it wrong and rebuilds it
    /// (`discarded`): entries are then no longer what the index holds.
    ledger: Mutex<Ledger>,
    discarded: std::sync::atomic::AtomicBool,
    envs: crate::config::Environments,
    prefix: String,
    max_size: u64,
    /// Workers of the walk's own pool.
    threads: usize,
}

impl LedgerCheck {
    /// The commit at position `i` and the ledger's entry for it, as the index was built
    /// from it; `Err(true)`: the index took it from a walk in this run; `Err(false)`: no
    /// such entry, or the ledger was discarded (its entries are no longer what the index
    /// holds). Copied, so that checks run without the lock.
    fn recorded(&self, i: usize) -> Result<(&CommitInfo, Vec<RawPin>), bool> {
        if self.cached.get(i) == Some(&false) {
            return Err(true);
        }
        let commit = self.commits.get(i).ok_or(false)?;
        let ledger = self.ledger.lock().map_err(|_| false)?;
        if self.discarded.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(false);
        }
        let entry = ledger.get(&self.ids[i]).ok_or(false)?;
        Ok((commit, entry.to_vec()))
    }
}

impl crate::history::Verify for LedgerCheck {
    fn pin_holds(&self, pin: &PastPin) -> bool {
        let (commit, recorded) = match self.recorded(pin.seq as usize) {
            Ok(found) => found,
            Err(walked_here) => return walked_here,
        };
        // The walk records a file's pins in the commit that changed it against its first
        // parent.
        let Ok(Some(file)) = self.repo.file_at(commit.id, &pin.path) else {
            return false;
        };
        let before = match commit.parents.first() {
            Some(&parent) => match self.repo.file_at(parent, &pin.path) {
                Ok(before) => before,
                Err(_) => return false,
            },
            None => None,
        };
        if before.as_ref().is_some_and(|b| b.id == file.id) {
            return false;
        }
        let mut pins = Vec::new();
        if file_pins(&self.repo, &file, self.max_size, None, &mut pins).is_err() {
            return false;
        }
        let old = before.and_then(|b| {
            let mut old = Vec::new();
            file_pins(&self.repo, &b, self.max_size, None, &mut old)
                .ok()
                .map(|()| old)
        });
        let pins = new_since(pins, old.as_deref());
        recorded
            .iter()
            .filter(|r| r.path == pin.path)
            .eq(pins.iter())
    }

    fn commit_holds(&self, seq: u64) -> bool {
        let (commit, recorded) = match self.recorded(seq as usize) {
            Ok(found) => found,
            Err(walked_here) => return walked_here,
        };
        // One commit: its parent is read from the object store.
        let trees = HashMap::new();
        introduced(
            &self.repo,
            commit,
            &trees,
            self.max_size,
            &Parsed::default(),
        )
        .is_ok_and(|walked| walked.unreadable.is_empty() && walked.pins == recorded)
    }

    fn walk(&self) -> Result<HistoryIndex, Error> {
        let all: Vec<usize> = (0..self.commits.len()).collect();
        let walked = apart(self.threads, || {
            walk_commits(&self.repo, &self.commits, &all, self.max_size, None)
        })??;
        let scope = Scope {
            envs: &self.envs,
            prefix: &self.prefix,
        };
        if let Some(tip) = self.commits.last() {
            scope.judgeable(tip.id, &self.commits, &walked)?;
        }
        // `walked` is in commit order: position `i` is commit `i`.
        let index = scope.index(&self.commits, |i| &walked[i].1.pins);
        let mut ledger = match self.ledger.lock() {
            Ok(ledger) => ledger,
            Err(poisoned) => poisoned.into_inner(),
        };
        let differs: Vec<usize> = walked
            .iter()
            .filter(|(i, w)| {
                self.cached[*i]
                    && w.unreadable.is_empty()
                    && ledger.get(&self.ids[*i]) != Some(w.pins.as_slice())
            })
            .map(|(i, _)| *i)
            .collect();
        let cacheable: Vec<bool> = walked
            .iter()
            .map(|(i, w)| w.cacheable(&self.commits[*i]))
            .collect();
        if let Some(&first) = differs.first() {
            let more = match differs.len() - 1 {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            warn_once(&format!(
                "the pin ledger {} disagrees with the repository (commit {}{more}); it was \
                 discarded and rebuilt",
                self.shown,
                short_id(&self.commits[first].id)
            ));
            self.discarded
                .store(true, std::sync::atomic::Ordering::SeqCst);
            ledger.clear();
            for ((i, w), keep) in walked.into_iter().zip(cacheable) {
                if keep {
                    ledger.insert(self.ids[i].clone(), w.pins);
                }
            }
            ledger.save();
        }
        Ok(index)
    }
}

/// Run `f` on a thread and worker pool of their own. `history` lints commits in parallel,
/// and the first query that needs the walk starts it from one of those tasks while others
/// wait for it; on their pool, a waiting worker could pick up the walk's tasks and re-enter
/// the query.
pub(crate) fn apart<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
    let failed = |why: String| Error::Usage {
        message: format!("cannot start the history walk: {why}"),
        help: None,
    };
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("promolint-walk".into())
            .spawn_scoped(scope, move || {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .stack_size(setup::WORKER_STACK_SIZE)
                    .build()
                    .map(|pool| pool.install(f))
            })
            .map_err(|e| failed(e.to_string()))?;
        match worker.join() {
            Ok(result) => result.map_err(|e| failed(e.to_string())),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The tag pins of one file as the ledger keeps them.
fn raw_pins(facts: &FileFacts, blob: Option<ObjectId>, out: &mut Vec<RawPin>) {
    for fact in &facts.facts {
        let crate::model::FactKind::Pin(pin) = &fact.kind else {
            continue;
        };
        if pin.reference.kind != crate::model::RefKind::Tag {
            continue;
        }
        out.push(RawPin {
            path: facts.path.clone(),
            namespace: fact.namespace.clone(),
            component: pin.component.clone(),
            tag: pin.reference.value.clone(),
            digest: pin.reference.digest.clone(),
            span: pin.span.clone(),
            blob: blob.map(|b| b.to_string()),
        });
    }
}

/// Record a pin in the environments its path or namespace names, or for a file an entry
/// point deploys, those the entry points reaching it name at the tip (no overlays: a
/// history query asks what an environment's own files said).
fn record_pin(
    raw: &RawPin,
    envs: &crate::config::Environments,
    commit: &str,
    seq: u64,
    index: &mut HistoryIndex,
) {
    for env in envs.for_history(&raw.path, raw.namespace.as_deref()) {
        let e = envs.get(env);
        for component in envs.history_components(&raw.path, &raw.component) {
            let id = envs.identity(env, component, &raw.tag);
            index.record(
                &e.name,
                component,
                PastPin {
                    version: id.version,
                    build: id.build.clone(),
                    digest: raw.digest.clone(),
                    commit: commit.to_string(),
                    path: raw.path.clone(),
                    span: raw.span.clone(),
                    seq,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::git::EntryKind;

    fn entry(path: &str, id: ObjectId) -> FileEntry {
        FileEntry {
            path: path.to_string(),
            id,
            kind: EntryKind::Blob,
        }
    }

    fn facts(path: &str, tag: &str) -> Arc<FileFacts> {
        let text = format!("images:\n  - name: ghcr.io/acme/api\n    newTag: {tag}\n");
        let format = extract::format_of(path).unwrap_or_else(|| panic!("{path}: no format"));
        Arc::new(facts::file_facts(path, format, Ok(text.as_bytes())))
    }

    /// A walk takes known facts only for the same blob at the same path: the facts of a
    /// file depend on its path, so the same bytes elsewhere are parsed again.
    #[test]
    fn known_facts_answer_for_their_blob_at_their_path_only() {
        let (one, two) = (
            ObjectId::from_hex(b"1111111111111111111111111111111111111111"),
            ObjectId::from_hex(b"2222222222222222222222222222222222222222"),
        );
        let (one, two) = (one.unwrap(), two.unwrap());
        let dev = "apps/api/dev/kustomization.yaml";
        let prod = "apps/api/prod/kustomization.yaml";
        let known = KnownFacts::new([(one, facts(dev, "v1.2.0")), (one, facts(prod, "v1.2.0"))]);
        let tag_of = |f: &FileFacts| {
            let mut pins = Vec::new();
            raw_pins(f, None, &mut pins);
            pins.into_iter()
                .map(|p| (p.path, p.tag))
                .collect::<Vec<_>>()
        };
        let found = known.get(&entry(prod, one)).map(tag_of);
        assert_eq!(found, Some(vec![(prod.to_string(), "v1.2.0".to_string())]));
        assert_eq!(
            known.get(&entry(dev, one)).map(|f| f.path.as_str()),
            Some(dev)
        );
        assert!(
            known.get(&entry(dev, two)).is_none(),
            "another blob at the path"
        );
        assert!(known
            .get(&entry("apps/api/staging/kustomization.yaml", one))
            .is_none());
    }
}
