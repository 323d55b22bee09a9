//! The git-native modes: `diff` (base..head), `staged` (the index against HEAD) and
//! `history` (each commit against its first parent), and the history of HEAD that `check`
//! and `status` ask.

use super::facts::*;
use super::finish::*;
use super::setup::*;
use crate::change::{ChangeContext, ChangeKind, ChangedFile};
use crate::config::Config;
use crate::error::Error;
use crate::history::HistoryIndex;
use crate::model::{Finding, Revision};
use crate::rules;
use crate::snapshot::{FileFacts, Snapshot};
use crate::source::git::{FileChange, FileEntry, GitRepo, ObjectId};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything a git-native run shares.
pub struct GitRun {
    pub repo: GitRepo,
    pub root: PathBuf,
    pub config: Config,
    pub enabled: BTreeSet<&'static str>,
    pub cache: FactCache,
    /// Whether the pin ledger in the git directory is read and written (and the fact store
    /// behind `cache`).
    pub ledger: bool,
    /// `--fix`: the findings of `diff` and `staged` get their fixes.
    pub fix: bool,
}

impl GitRun {
    pub fn open(opts: &Options) -> Result<Self, Error> {
        Self::open_with(opts, None)
    }

    /// [`Self::open`] with the configuration already loaded (`check` and `status` have it).
    pub(super) fn open_with(opts: &Options, config: Option<Config>) -> Result<Self, Error> {
        let repo = GitRepo::discover(&opts.start)?;
        let root = repo.workdir().unwrap_or_else(|| opts.start.clone());
        let config = match config {
            Some(c) => c,
            None => run_config(&root, opts)?,
        };
        let enabled = enabled_rules(&config, opts)?;
        let store_dir = opts.caching().then(|| repo.cache_dir());
        Ok(GitRun {
            repo,
            root,
            config,
            enabled,
            cache: FactCache::with_store(store_dir),
            ledger: opts.caching(),
            fix: opts.fix,
        })
    }

    /// The facts of every readable entry of a tree listing, in path order.
    fn facts_of(&self, entries: &[FileEntry]) -> Vec<Arc<FileFacts>> {
        entries
            .par_iter()
            .filter_map(|e| self.cache.facts(&self.repo, e, self.config.max_file_size))
            .collect()
    }

    /// Both sides of a change as snapshots over shared environments.
    fn pair(
        &self,
        before: &[FileEntry],
        after: &[FileEntry],
    ) -> Result<(Snapshot, Snapshot), Error> {
        let (before_facts, after_facts) = (self.facts_of(before), self.facts_of(after));
        crate::timing::phase("facts of both trees");
        pair_from_facts(
            before.iter().map(|e| e.path.clone()).collect(),
            before_facts,
            after.iter().map(|e| e.path.clone()).collect(),
            after_facts,
            &self.config,
        )
    }

    fn tree(&self, commit: Option<ObjectId>) -> Result<Vec<FileEntry>, Error> {
        match commit {
            Some(c) => Ok(self.repo.tree_files(c)?),
            None => Ok(Vec::new()),
        }
    }
}

/// Findings of one commit, the files it changed, and the texts they quote.
type CommitResult = (Vec<Finding>, usize, Sources);

/// Changed files from git's view: renames are a deletion and an addition of the same blob.
fn changed_files(changes: &[FileChange]) -> Vec<ChangedFile> {
    let added: HashMap<ObjectId, &str> = changes
        .iter()
        .filter(|c| c.old.is_none())
        .filter_map(|c| c.new.as_ref().map(|n| (n.id, c.path.as_str())))
        .collect();
    let mut renamed_to: HashMap<&str, &str> = HashMap::new();
    let mut out = Vec::new();
    for c in changes {
        match (&c.old, &c.new) {
            (Some(old), None) => match added.get(&old.id) {
                Some(to) if !renamed_to.values().any(|v| v == &c.path.as_str()) => {
                    renamed_to.insert(to, c.path.as_str());
                }
                _ => out.push(ChangedFile {
                    kind: ChangeKind::Deleted,
                    path: c.path.clone(),
                    old_path: None,
                }),
            },
            (Some(_), Some(_)) => out.push(ChangedFile {
                kind: ChangeKind::Modified,
                path: c.path.clone(),
                old_path: None,
            }),
            _ => {}
        }
    }
    for c in changes {
        if c.old.is_none() && c.new.is_some() {
            match renamed_to.get(c.path.as_str()) {
                Some(from) => out.push(ChangedFile {
                    kind: ChangeKind::Renamed,
                    path: c.path.clone(),
                    old_path: Some(from.to_string()),
                }),
                None => out.push(ChangedFile {
                    kind: ChangeKind::Added,
                    path: c.path.clone(),
                    old_path: None,
                }),
            }
        }
    }
    // By path, as `ChangeContext` searches it (sorting by kind first made its binary search
    // miss modified files whenever files were also added).
    out.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.cmp(b)));
    out
}

/// Lint one change: tree rules on the after side (only in changed files unless
/// `all_files`), change rules on the pair.
fn lint_change(
    run: &GitRun,
    before: &Snapshot,
    after: &Snapshot,
    files: &[ChangedFile],
    history: &HistoryIndex,
    commit: Option<&str>,
    all_files: bool,
) -> Result<Vec<Finding>, Error> {
    let mut findings = Vec::new();
    let changed: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let scope = if all_files {
        rules::Scope::All
    } else {
        rules::Scope::Files(&changed)
    };
    rules::run_tree_rules(after, &run.config, &run.enabled, scope, &mut findings);
    findings.retain(|f| scope.has(&f.path));
    let ctx = ChangeContext::new(before, after, files, history, commit, &run.config);
    let cx = rules::Context::change(&ctx);
    for rule in rules::with_hook(&run.enabled, |h| h.change) {
        rule.change(&cx, &mut findings);
    }
    // Tree rules judge the audited files completely; change rules only the pins the change
    // moved, so a suppression of theirs elsewhere is not unused.
    let audit = rules::questionable_suppression::Audit {
        ran: rules::with_hook(&run.enabled, |h| h.tree)
            .map(|r| r.id())
            .collect(),
        files: (!all_files).then_some(&changed),
        base: Some(before),
    };
    let mut findings = finish(findings, after, &run.config, &audit, &run.enabled)?;
    if let Some(c) = commit {
        for f in &mut findings {
            f.commit = Some(c.to_string());
        }
    }
    Ok(findings)
}

/// The texts the findings quote, from the side of the change they point into.
fn sources_of(
    findings: &[Finding],
    before: &Snapshot,
    after: &Snapshot,
    commit: Option<&str>,
    out: &mut Sources,
) {
    let wanted: BTreeSet<&str> = findings
        .iter()
        .flat_map(|f| {
            std::iter::once(f.path.as_str()).chain(f.related.iter().map(|r| r.path.as_str()))
        })
        .collect();
    // The base side under its own key: related locations "before this change" quote it.
    let commit = commit.map(str::to_string);
    for (snap, side) in [(after, Revision::Tree), (before, Revision::Base)] {
        for path in &wanted {
            if let Some(text) = snap.file(path).and_then(|f| f.text.clone()) {
                out.entry((commit.clone(), side.clone(), path.to_string()))
                    .or_insert(text);
            }
        }
    }
}

/// Texts of the files findings point into, by (commit in history mode, side of the change,
/// path).
pub type Sources = HashMap<(Option<String>, Revision, String), Arc<str>>;

/// The result of a git-native run.
pub struct ChangeOutcome {
    pub findings: Vec<Finding>,
    /// Files looked at (changed files, or every file with `--all-files`).
    pub files: usize,
    /// Texts for quoting findings.
    pub sources: Sources,
    pub head: Option<ObjectId>,
    /// The working tree's root (where `--fix` writes), or where the run started in a bare
    /// repository.
    pub root: PathBuf,
}

/// `promolint diff`: base..head.
pub fn diff(
    opts: &Options,
    base: Option<&str>,
    head: Option<&str>,
    all_files: bool,
) -> Result<ChangeOutcome, Error> {
    let run = GitRun::open(opts)?;
    run.cache.open_store_early();
    let head_id = run.repo.resolve_commit(head.unwrap_or("HEAD"))?;
    let base_id = match base {
        Some(b) => run.repo.resolve_commit(b)?,
        None => run.repo.default_branch_base(head_id)?,
    };
    let diff = run.repo.tree_diff(Some(base_id), Some(head_id))?;
    let changes = diff.changes.clone();
    if let Some(quiet) = quiet_change(&run, &changes, Some(head_id), all_files) {
        return Ok(quiet);
    }
    let before_tree = run.tree(Some(base_id))?;
    // The head's tree from the base's and the diff, not listed again.
    let after_tree = diff.apply(&before_tree);
    let outcome = lint_trees(
        &run,
        &before_tree,
        &after_tree,
        &changes,
        Some(base_id),
        Some(head_id),
        all_files,
    );
    run.cache.save(true);
    discard((run, before_tree, after_tree));
    outcome
}

/// The outcome of a change of files that hold nothing (docs, scripts, fact-less manifests;
/// see [`inert`]): no finding, and no tree listed or snapshot built, so the pre-commit hook
/// answers at once. `None` when the change must be judged (or every file reported on).
fn quiet_change(
    run: &GitRun,
    changes: &[FileChange],
    head: Option<ObjectId>,
    all_files: bool,
) -> Option<ChangeOutcome> {
    let quiet = !all_files && inert(run, changes, &artifact_patterns(&run.config));
    if quiet {
        // Only the changed files were looked at: the store keeps the rest.
        run.cache.save(false);
    }
    quiet.then(|| ChangeOutcome {
        findings: Vec::new(),
        files: changed_files(changes).len(),
        sources: Sources::new(),
        head,
        root: run.root.clone(),
    })
}

/// Lint the change between two listings (shared by `diff` and `staged`).
fn lint_trees(
    run: &GitRun,
    before_tree: &[FileEntry],
    after_tree: &[FileEntry],
    changes: &[FileChange],
    base: Option<ObjectId>,
    head: Option<ObjectId>,
    all_files: bool,
) -> Result<ChangeOutcome, Error> {
    crate::timing::phase("listed trees");
    let (before, after) = run.pair(before_tree, after_tree)?;
    crate::timing::phase("snapshot pair");
    let files = changed_files(changes);
    // The history answers one question: did a predecessor run this version before? Walk
    // it only when the change moves a pin of an environment that has predecessors (PL006)
    // or is protected (PL008); a dev-only bump or a README needs no walk through thousands
    // of commits.
    let changed: std::collections::HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let touches_facts = after.pins.iter().any(|p| {
        let env = after.envs.get(p.env);
        (env.protected || !env.after.is_empty()) && changed.contains(after.path(p.file))
    });
    let history = if touches_facts {
        run.history_index(base, &after)?
    } else {
        HistoryIndex::empty()
    };
    crate::timing::phase("history index");
    let mut findings = lint_change(run, &before, &after, &files, &history, None, all_files)?;
    if let Some(e) = history.take_error() {
        return Err(e);
    }
    if run.fix {
        // The base may still hold the environment's own tag the change replaced, and the
        // history the tags the environment ran before.
        let wanted = rules::fix::wanted_tags(&findings);
        let past = if wanted.is_empty() || history.is_empty() {
            rules::fix::PastTags::new()
        } else {
            past_tags(
                &run.repo,
                &history,
                &wanted,
                &after,
                run.config.max_file_size,
            )
        };
        let _ = history.take_error();
        rules::fix::attach(
            &mut findings,
            &rules::fix::FixContext {
                snap: &after,
                others: &[&before],
                past: &past,
                config: &run.config,
            },
        );
    }
    crate::timing::phase("rules");
    let mut sources = Sources::new();
    sources_of(&findings, &before, &after, None, &mut sources);
    let files = if all_files {
        after.files.len()
    } else {
        files.len()
    };
    discard((before, after));
    Ok(ChangeOutcome {
        findings,
        files,
        sources,
        head,
        root: run.root.clone(),
    })
}

/// `promolint staged`: the index against HEAD (the empty tree on an unborn branch).
pub fn staged(opts: &Options, all_files: bool) -> Result<ChangeOutcome, Error> {
    let run = GitRun::open(opts)?;
    if run.repo.workdir().is_none() {
        return Err(Error::Source(crate::source::SourceError {
            message: format!(
                "`{}` is a bare repository: it has no index of staged changes to check",
                opts.start.display()
            ),
            help: Some(
                "run `promolint staged` in a checkout; `diff` and `history` read revisions".into(),
            ),
        }));
    }
    run.cache.open_store_early();
    let head = run.repo.head()?;
    let staged = run.repo.staged_change(head)?;
    let changes = staged.changes;
    if let Some(head) = head {
        run.repo.check_root_tree(head)?;
    }
    if let Some(quiet) = quiet_change(&run, &changes, head, all_files) {
        return Ok(quiet);
    }
    let (before_tree, after_tree) = match staged.trees {
        Some(trees) => trees,
        None => (run.tree(head)?, run.repo.index_files()?),
    };
    let outcome = lint_trees(
        &run,
        &before_tree,
        &after_tree,
        &changes,
        head,
        head,
        all_files,
    );
    run.cache.save(true);
    discard((run, before_tree, after_tree));
    outcome
}

/// The configured artifact patterns (`artifacts[].pattern`).
fn artifact_patterns(config: &Config) -> Vec<String> {
    config.artifacts.iter().map(|a| a.pattern.clone()).collect()
}

/// Whether a commit's changes can change no finding: every changed file was modified in
/// place (no file list, so no environment or artifact, moves) and holds nothing on either
/// side (no fact, no suppression, readable), and none is an artifact (a rewritten artifact
/// is PL004's). The commit's snapshots would then differ in no pin, policy or suppression.
fn inert(run: &GitRun, changes: &[FileChange], patterns: &[String]) -> bool {
    let empty = |entry: &FileEntry| {
        if !entry.kind.is_file() {
            return false;
        }
        if crate::extract::format_of(&entry.path).is_none() {
            return true;
        }
        run.cache
            .few_facts(&run.repo, entry, run.config.max_file_size)
            .is_some_and(|f| {
                f.facts.is_empty() && f.suppressions.is_empty() && f.unreadable.is_none()
            })
    };
    changes.iter().all(|c| match (&c.old, &c.new) {
        (Some(old), Some(new)) => {
            crate::extract::artifact::from_paths(std::slice::from_ref(&c.path), patterns).is_empty()
                && empty(old)
                && empty(new)
        }
        _ => false,
    })
}

/// `promolint history`: every commit of the range against its first parent, in parallel.
pub fn history(opts: &Options, range: Option<&str>) -> Result<ChangeOutcome, Error> {
    let run = GitRun::open(opts)?;
    run.cache.open_store_early();
    let (from, to) = run.repo.parse_range(range.unwrap_or("HEAD"))?;
    let commits = run.repo.range_commits(from, to)?;
    let tip_tree = run.tree(Some(to))?;
    let (_, tip) = run.pair(&[], &tip_tree)?;
    // Walked when a commit's change first asks (see `GitRun::deferred_history`).
    let full = run.deferred_history(Some(to), &tip.envs);
    crate::timing::phase("history index");
    // Where a run of commits starts, its first parent's snapshot is derived from the
    // tip's when the trees differ only in pin values (a history of promotions), not built.
    // Over a long range most runs start far from the tip, where trees differ in structure:
    // the tip is dropped, so that it adds nothing to the peak of the runs' builds.
    let seed = if commits.len() <= SEEDED_RANGE {
        // The environments `pair` inferred, inferred again (~20 ms): building the tip here
        // instead, with them kept, left 8–16 MiB more resident at the peak (allocator
        // arenas; measured on the whole range and on the last 10 commits).
        let paths: Vec<String> = tip_tree.iter().map(|e| e.path.clone()).collect();
        Seed::new(Some(Carried {
            id: to,
            envs: pair_environments(&[], &[], &paths, &tip.files, &run.config)?,
            tree: tip_tree,
            snapshot: tip,
            neutral: false,
        }))
    } else {
        drop(tip);
        Seed::new(None)
    };
    // What building the tip freed goes back before the runs build their own.
    release_freed_memory();
    let patterns: Vec<String> = run
        .config
        .artifacts
        .iter()
        .map(|a| a.pattern.clone())
        .collect();
    // Each chunk of consecutive commits runs in order on one thread, so that a commit's
    // snapshot serves as its child's base (half the snapshots are built); the chunks run in
    // parallel.
    let chunks = history_chunks(commits.len(), rayon::current_num_threads());
    let results: Vec<Result<CommitResult, Error>> = chunks
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let mut carried: Option<Carried> = None;
            let runs = commits[chunk]
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let base = carried.take();
                    let (result, next) =
                        history_commit(&run, c, base, &seed, &patterns, |parent| {
                            let full = full.clone();
                            // Cut at the parent's position in the history the index was built
                            // from (the whole history of the range's tip).
                            HistoryIndex::deferred(move || {
                                let full = full.resolved_index()?;
                                let parent_seq = parent.and_then(|p| full.position(p));
                                Ok(full.at(parent_seq.unwrap_or(0), parent_seq.is_some()))
                            })
                        });
                    carried = next;
                    if i % TRIM_EVERY == TRIM_EVERY - 1 {
                        release_freed_memory();
                    }
                    result
                })
                .collect::<Vec<_>>();
            release_freed_memory();
            runs
        })
        .collect();
    run.cache.save(true);
    if let Some(e) = full.take_error() {
        return Err(e);
    }
    let mut findings = Vec::new();
    let mut files = 0;
    let mut sources = Sources::new();
    // A merge judged against its first parent repeats what its side branch did; when those
    // commits are in the range they already carry the finding.
    let mut reported = std::collections::HashSet::new();
    for (c, r) in commits.iter().zip(results) {
        let (f, n, s) = r?;
        let merge = c.parents.len() > 1;
        for finding in f {
            let print = crate::report::fingerprint(&finding);
            if !(merge && reported.contains(&print)) {
                findings.push(finding);
            }
            reported.insert(print);
        }
        files += n;
        sources.extend(s);
    }
    // Oldest commit first, then by file, line and rule within a commit.
    let order: HashMap<String, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.to_string(), i))
        .collect();
    sort_findings(&mut findings);
    findings.sort_by_key(|f| f.commit.as_ref().and_then(|c| order.get(c)).copied());
    let root = run.root.clone();
    discard((run, full, seed));
    Ok(ChangeOutcome {
        findings,
        files,
        sources,
        head: Some(to),
        root,
    })
}

/// The tags the environments and components of `wanted` pinned in `history`: each commit
/// that introduced a version of the component in the environment is read again, in the
/// file it was recorded in and in the files that pin the component there now (`snap`), and
/// the tags of the component those files pin are kept. The tags `--fix` may pin again (an
/// environment's own tag for a version). What cannot be read is left out.
pub(crate) fn past_tags(
    repo: &GitRepo,
    history: &HistoryIndex,
    wanted: &BTreeSet<(String, String)>,
    snap: &Snapshot,
    max_size: u64,
) -> rules::fix::PastTags {
    // A bound on the files read back: a long history of one component asks for at most
    // this many (commit, file) reads.
    const MAX_READS: usize = 512;
    let mut reads = 0;
    let mut out = rules::fix::PastTags::new();
    for (env, component) in wanted {
        let now: BTreeSet<String> = snap
            .envs
            .envs
            .iter()
            .position(|e| &e.name == env)
            .map(|i| {
                snap.pins_of(i, component)
                    .map(|p| snap.path(p.file).to_string())
                    .collect()
            })
            .unwrap_or_default();
        let mut at: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for p in history.every_pin(env, component) {
            let files = at.entry(p.commit.clone()).or_insert_with(|| now.clone());
            files.insert(p.path.clone());
        }
        for (commit, paths) in at {
            let Ok(commit) = ObjectId::from_hex(commit.as_bytes()) else {
                continue;
            };
            for path in paths {
                if reads >= MAX_READS {
                    return out;
                }
                reads += 1;
                let Some(format) = crate::extract::format_of(&path) else {
                    continue;
                };
                let Ok(Some(entry)) = repo.file_at(commit, &path) else {
                    continue;
                };
                let Ok(bytes) = repo.read_blob(entry.id, max_size) else {
                    continue;
                };
                let facts = file_facts(&path, format, Ok(&bytes));
                for fact in &facts.facts {
                    if let crate::model::FactKind::Pin(pin) = &fact.kind {
                        if &pin.component == component
                            && pin.reference.kind == crate::model::RefKind::Tag
                        {
                            out.entry((env.clone(), component.clone()))
                                .or_default()
                                .insert(pin.reference.value.clone());
                        }
                    }
                }
            }
        }
    }
    out
}

/// A commit's tree and snapshot, kept for its child: the base side of the next change.
struct Carried {
    id: ObjectId,
    tree: Vec<FileEntry>,
    /// The environments the snapshot was built over, before it resolved them.
    envs: crate::config::Environments,
    snapshot: Snapshot,
    /// Whether the commit left the environments' inputs as its parent had them (see
    /// [`leaves_environments`]).
    neutral: bool,
}

/// A built snapshot that runs of commits start from (see [`history_commit`]), kept while
/// it serves: the first run it cannot serve (its tree differs in more than pin values, or
/// its environments differ) retires it, as runs further from it would fare no better.
struct Seed {
    slot: std::sync::Mutex<Option<Arc<Carried>>>,
}

/// The longest range whose runs of commits start from the tip's snapshot (see [`Seed`]).
const SEEDED_RANGE: usize = 512;

impl Seed {
    fn new(seed: Option<Carried>) -> Self {
        Seed {
            slot: std::sync::Mutex::new(seed.map(Arc::new)),
        }
    }

    fn get(&self) -> Option<Arc<Carried>> {
        self.slot.lock().ok()?.clone()
    }

    fn retire(&self) {
        let retired = self.slot.lock().ok().and_then(|mut s| s.take());
        drop(retired);
    }
}

/// The facts of the tree after `changes` (modifications only) from those of `before`, the
/// tree before: each changed file's facts in its place, nothing else read. `None` when a
/// changed file gains or loses its facts (the list changes shape), or its new facts fail
/// `takes` (given the file's index): then read the tree. `layout` is a snapshot of a tree
/// with the same paths, whose files `before` are in order.
fn facts_changed(
    run: &GitRun,
    before: Vec<Arc<FileFacts>>,
    layout: &Snapshot,
    changes: &[FileChange],
    takes: impl Fn(usize, &FileFacts) -> bool,
) -> Option<Vec<Arc<FileFacts>>> {
    let mut files = before;
    for c in changes {
        let facts = run
            .cache
            .facts(&run.repo, c.new.as_ref()?, run.config.max_file_size);
        match (layout.file_index(&c.path), facts) {
            (Some(i), Some(f)) if takes(i, &f) => files[i] = f,
            (None, None) => {}
            _ => return None,
        }
    }
    Some(files)
}

/// The snapshot of `commit`'s tree derived from `seed`'s, when the two trees hold the same
/// paths and differ only in what the seed's snapshot can be derived over; `None`
/// otherwise, or when the trees cannot be compared (the caller then reads the tree, and
/// meets any error there). Each file is judged as its facts are read
/// ([`Snapshot::may_take`]), so a seed that cannot serve costs the facts of one file.
fn derive_from_seed(run: &GitRun, seed: &Carried, commit: Option<ObjectId>) -> Option<Snapshot> {
    let diff = run.repo.tree_diff(Some(seed.id), commit).ok()?;
    if !only_modifies(&diff.changes) || !diff.retyped.is_empty() {
        return None;
    }
    let snap = &seed.snapshot;
    let files = facts_changed(run, snap.files.clone(), snap, &diff.changes, |i, f| {
        snap.may_take(i, f)
    })?;
    snap.derive(files).ok()
}

/// Whether `changes` only modify files: no path added or removed.
fn only_modifies(changes: &[FileChange]) -> bool {
    changes.iter().all(|c| c.old.is_some() && c.new.is_some())
}

/// Whether a change leaves what environments are inferred from as it was: no path added or
/// removed, and each changed file names the same namespaces and includes the same
/// components before and after (`base` holds the files before; without it, unknown).
fn leaves_environments(
    changes: &[FileChange],
    base: Option<&Carried>,
    after_facts: &[Arc<FileFacts>],
) -> bool {
    let Some(base) = base else {
        return false;
    };
    if !only_modifies(changes) {
        return false;
    }
    // The after side's file at the base's index when the lists line up (the facts were
    // the base's with the changed files replaced); otherwise found by path.
    let aligned = after_facts.len() == base.snapshot.files.len();
    let mut by_path: Option<HashMap<&str, &FileFacts>> = None;
    changes.iter().all(|c| {
        let at = base.snapshot.file_index(&c.path);
        let after = match at.and_then(|i| after_facts.get(i)) {
            Some(f) if aligned && f.path == c.path => Some(&**f),
            _ => {
                let by_path = by_path.get_or_insert_with(|| {
                    let changed: std::collections::HashSet<&str> =
                        changes.iter().map(|c| c.path.as_str()).collect();
                    (after_facts.iter())
                        .filter(|f| changed.contains(f.path.as_str()))
                        .map(|f| (f.path.as_str(), &**f))
                        .collect()
                });
                by_path.get(c.path.as_str()).copied()
            }
        };
        same_environment_inputs(at.map(|i| &*base.snapshot.files[i]), after)
    })
}

/// How many commits a history thread judges between two [`release_freed_memory`] calls.
const TRIM_EVERY: usize = 16;

/// Ranges of commit indices, one per task: a few per thread so that a slow stretch of
/// history does not leave a core idle, few enough that most commits find their parent's
/// snapshot carried.
fn history_chunks(commits: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let tasks = if commits >= threads * 16 {
        threads * 4
    } else {
        threads
    }
    .clamp(1, commits.max(1));
    let size = commits.div_ceil(tasks).max(1);
    (0..commits)
        .step_by(size)
        .map(|start| start..(start + size).min(commits))
        .collect()
}

/// One commit of `history` against its first parent. `base` is the previous commit's
/// tree and snapshot when it ran just before on this thread: it is this commit's base side
/// when it is the first parent and the pair's environments are the same. Without it, the
/// base side is derived from the seed's snapshot when that is possible.
fn history_commit(
    run: &GitRun,
    c: &crate::source::git::CommitInfo,
    base: Option<Carried>,
    seeds: &Seed,
    patterns: &[String],
    history_at: impl FnOnce(Option<ObjectId>) -> HistoryIndex,
) -> (Result<CommitResult, Error>, Option<Carried>) {
    let parent = c.parents.first().copied();
    let diff = match run.repo.tree_diff(parent, Some(c.id)) {
        Ok(diff) => diff,
        Err(e) => return (Err(e.into()), None),
    };
    let changes = &diff.changes;
    let files = changed_files(changes);
    let base = base.filter(|b| Some(b.id) == parent);
    if inert(run, changes, patterns) {
        // Its snapshot is its parent's (the same paths, facts, artifacts and environment
        // inputs): the next commit's base.
        let next = base.map(|b| Carried {
            id: c.id,
            tree: diff.apply_owned(b.tree),
            ..b
        });
        return (Ok((Vec::new(), files.len(), Sources::new())), next);
    }
    let paired = (|| -> Result<_, Error> {
        let (before_tree, base) = match base {
            Some(mut b) => (std::mem::take(&mut b.tree), Some(b)),
            None => (run.tree(parent)?, None),
        };
        // The same paths on both sides: the artifacts named by paths are the base's.
        let same_paths = only_modifies(changes);
        // The commit's tree from its parent's listing and the change, not listed again: at
        // once when paths come or go, else (the same paths, new ids) in the parent's
        // listing's place once the pair is built.
        let listed_after = (!same_paths).then(|| diff.apply(&before_tree));
        let after_tree = || match &listed_after {
            Some(t) => std::borrow::Cow::Borrowed(t),
            None => std::borrow::Cow::Owned(diff.apply(&before_tree)),
        };
        // Listed only where environments are inferred or a side is built (20k strings).
        let paths = |t: &[FileEntry]| t.iter().map(|e| e.path.clone()).collect::<Vec<_>>();
        let after_paths = || paths(listed_after.as_deref().unwrap_or(&before_tree));
        // Without a base, the base side is derived from the seed when their trees differ
        // only in pin values (checked before anything else is read); a seed that cannot
        // serve is retired at once, before this run builds.
        // (The first commit has no parent: nothing to derive, and no reason to retire it.)
        let mut held = (base.is_none() && parent.is_some())
            .then(|| seeds.get())
            .flatten();
        let derived = held
            .as_deref()
            .and_then(|seed| derive_from_seed(run, seed, parent));
        if derived.is_none() && held.take().is_some() {
            seeds.retire();
        }
        let (before_facts, layout) = match (&base, &derived) {
            (Some(b), _) => (b.snapshot.files.clone(), Some(&b.snapshot)),
            (None, Some(d)) => (d.files.clone(), Some(d)),
            (None, None) => (run.facts_of(&before_tree), None),
        };
        let after_facts = match layout {
            Some(layout) if same_paths && diff.retyped.is_empty() => {
                facts_changed(run, before_facts.clone(), layout, changes, |_, _| true)
                    .unwrap_or_else(|| run.facts_of(&after_tree()))
            }
            _ => run.facts_of(&after_tree()),
        };
        let neutral = leaves_environments(changes, base.as_ref(), &after_facts);
        let envs = match &base {
            // Neither this commit nor the one before changed what the environments are
            // inferred from: the pair's environments are the previous pair's.
            Some(b) if neutral && b.neutral => b.envs.clone(),
            _ => pair_environments(
                &paths(&before_tree),
                &before_facts,
                &after_paths(),
                &after_facts,
                &run.config,
            )?,
        };
        let before = match (base, derived) {
            (_, Some(d)) if held.as_ref().is_some_and(|s| s.envs.same_as(&envs)) => d,
            (Some(b), _) if b.envs.same_as(&envs) => b.snapshot,
            _ => {
                if held.take().is_some() {
                    seeds.retire();
                }
                side_snapshot(paths(&before_tree), before_facts, envs.clone(), &run.config)
            }
        };
        drop(held);
        // Built with the pair's environments either way, so `derive` may take it.
        let after = if same_paths {
            match before.derive(after_facts) {
                Ok(after) => after,
                Err(facts) => Snapshot::build(facts, envs.clone(), before.artifacts.clone()),
            }
        } else {
            side_snapshot(after_paths(), after_facts, envs.clone(), &run.config)
        };
        let after_tree = match listed_after {
            Some(tree) => tree,
            None => diff.apply_owned(before_tree),
        };
        Ok((before, after, after_tree, envs, neutral))
    })();
    let (before, after, after_tree, envs, neutral) = match paired {
        Ok(p) => p,
        Err(e) => return (Err(e), None),
    };
    // What the commit's first parent had seen: its own history.
    let history = history_at(parent);
    let id = c.id.to_string();
    let result = lint_change(run, &before, &after, &files, &history, Some(&id), false)
        .and_then(|f| match history.take_error() {
            Some(e) => Err(e),
            None => Ok(f),
        })
        .map(|f| {
            let mut sources = Sources::new();
            sources_of(&f, &before, &after, Some(&id), &mut sources);
            (f, files.len(), sources)
        });
    let next = Carried {
        id: c.id,
        tree: after_tree,
        envs,
        snapshot: after,
        neutral,
    };
    (result, Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::git::EntryKind;

    fn entry(path: &str, byte: u8) -> FileEntry {
        FileEntry {
            path: path.to_string(),
            id: ObjectId::from_bytes_or_panic(&[byte; 20]),
            kind: EntryKind::Blob,
        }
    }

    #[test]
    fn history_chunks_cover_every_commit_once_in_order() {
        assert_eq!(history_chunks(0, 2), Vec::<std::ops::Range<usize>>::new());
        assert_eq!(history_chunks(1, 2).first(), Some(&(0..1)));
        assert_eq!(history_chunks(1, 2).len(), 1);
        assert_eq!(history_chunks(10, 2), [0..5, 5..10]);
        // Long ranges: four tasks per thread.
        assert_eq!(
            history_chunks(40, 2),
            [0..5, 5..10, 10..15, 15..20, 20..25, 25..30, 30..35, 35..40]
        );
        assert_eq!(history_chunks(3, 4), [0..1, 1..2, 2..3]);
        let chunks = history_chunks(5001, 2);
        assert_eq!(chunks.len(), 8);
        assert_eq!(chunks.first().map(|c| c.start), Some(0));
        assert_eq!(chunks.last().map(|c| c.end), Some(5001));
        assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn changed_files_are_sorted_by_path_so_lookups_find_every_kind() {
        let changes = [
            FileChange {
                path: "a/new.yaml".into(),
                old: None,
                new: Some(entry("a/new.yaml", 1)),
            },
            FileChange {
                path: "m/edited.yaml".into(),
                old: Some(entry("m/edited.yaml", 2)),
                new: Some(entry("m/edited.yaml", 3)),
            },
            FileChange {
                path: "z/new.yaml".into(),
                old: None,
                new: Some(entry("z/new.yaml", 4)),
            },
        ];
        let files = changed_files(&changes);
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a/new.yaml", "m/edited.yaml", "z/new.yaml"]);
        let (before, after) = (Snapshot::default(), Snapshot::default());
        let history = HistoryIndex::empty();
        let config = Config::default();
        let ctx = ChangeContext::new(&before, &after, &files, &history, None, &config);
        // Sorted by kind first, the binary search missed the modified file.
        assert!(ctx.changed("m/edited.yaml") && ctx.changed("z/new.yaml"));
    }
}
