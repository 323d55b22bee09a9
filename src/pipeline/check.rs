//! The working-tree modes: `check`, `status` and `status --explain`.

use super::facts::*;
use super::finish::*;
use super::git::*;
use super::setup::*;
use super::walk::{head_history, KnownFacts};
use crate::config::Config;
use crate::error::Error;
use crate::extract;
use crate::history::HistoryIndex;
use crate::model::Finding;
use crate::rules;
use crate::snapshot::{FileFacts, Snapshot};
use crate::source::git::ObjectId;
use crate::source::{self, worktree};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The result of a run.
#[derive(Debug)]
pub struct Outcome {
    pub root: PathBuf,
    pub findings: Vec<Finding>,
    /// Number of files read (those an extractor handles).
    pub files: usize,
    pub snapshot: Snapshot,
    pub config: Config,
}

impl Outcome {
    /// The decoded text of a file that holds a finding, for quoting it.
    pub fn source(&self, path: &str) -> Option<Arc<str>> {
        self.snapshot.file(path).and_then(|f| f.text.clone())
    }

    /// What the user should know about what was judged: no environment at all (so no
    /// promotion rule had anything to compare), or a configured environment whose paths
    /// give it no file (a typo, or a directory that moved). Empty when all is as expected.
    pub fn environment_notes(&self) -> Vec<String> {
        let envs = &self.snapshot.envs;
        if envs.envs.is_empty() {
            return vec![format!(
                "no environment found in {} file{}: the promotion rules had nothing to \
                 compare; declare the environments in `.promolint.yaml` (`promolint init` \
                 writes what it can infer)",
                self.files,
                if self.files == 1 { "" } else { "s" }
            )];
        }
        if envs.inferred {
            return Vec::new();
        }
        let mut used = vec![false; envs.envs.len()];
        for f in &self.snapshot.files {
            if let Some(e) = envs.for_path(&f.path) {
                used[e] = true;
            }
        }
        envs.envs
            .iter()
            .zip(used)
            .filter(|(e, used)| !used && !e.path_globs.is_empty() && e.namespaces.is_empty())
            .map(|(e, _)| {
                format!(
                    "environment `{}` of the configuration holds no file: its paths ({}) \
                     match none that promolint reads, or an earlier environment's paths take \
                     them; check the globs",
                    e.name,
                    e.path_globs
                        .iter()
                        .map(|g| format!("`{g}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect()
    }
}

/// `promolint check`: lint the working tree.
pub fn check(opts: &Options) -> Result<Outcome, Error> {
    let pool = thread_pool(opts.jobs)?;
    pool.install(|| check_in_pool(opts))
}

fn check_in_pool(opts: &Options) -> Result<Outcome, Error> {
    let mut wt = load_worktree_with(opts, true)?;
    let enabled = enabled_rules(&wt.config, opts)?;
    let history_rules: Vec<_> = rules::with_hook(&enabled, |h| h.history_tree).collect();
    // What predecessors ran before comes from the history of HEAD, when there is one (walked
    // on the first question).
    let history = if wants_head_history(wt.git, opts, &enabled) {
        head_history(opts, &wt.snapshot, &wt.config, wt.history.take())
    } else {
        crate::history::HistoryIndex::empty()
    };
    // The tree rules ask no history: they run beside the history rules, whose first
    // question may wait for HEAD's history to be read.
    let (mut findings, asked) = rayon::join(
        || {
            let mut findings = Vec::new();
            let scope = rules::Scope::All;
            rules::run_tree_rules(&wt.snapshot, &wt.config, &enabled, scope, &mut findings);
            crate::timing::phase("tree rules");
            findings
        },
        || {
            let mut findings = Vec::new();
            let cx = rules::Context::tree(&wt.snapshot, &wt.config, &history);
            for rule in &history_rules {
                rule.history_tree(&cx, &mut findings);
            }
            findings
        },
    );
    findings.extend(asked);
    if !history_rules.is_empty() {
        if let Some(e) = history.take_error() {
            return Err(e);
        }
        crate::timing::phase("history rules");
    }
    let audit = rules::questionable_suppression::Audit::tree(&enabled);
    let mut findings = finish(findings, &wt.snapshot, &wt.config, &audit, &enabled)?;
    findings.retain(|f| wt.in_scope(&f.path));
    if opts.fix {
        let wanted = rules::fix::wanted_tags(&findings);
        let past = match crate::source::git::GitRepo::discover(&wt.root) {
            Ok(repo) if wt.git && !wanted.is_empty() => past_tags(
                &repo,
                &history,
                &wanted,
                &wt.snapshot,
                wt.config.max_file_size,
            ),
            _ => rules::fix::PastTags::new(),
        };
        // A history that cannot be walked only means fewer tags to offer.
        let _ = history.take_error();
        rules::fix::attach(
            &mut findings,
            &rules::fix::FixContext {
                snap: &wt.snapshot,
                others: &[],
                past: &past,
                config: &wt.config,
            },
        );
    }
    let files = if wt.scope.is_empty() {
        wt.files
    } else {
        wt.snapshot
            .files
            .iter()
            .filter(|f| wt.in_scope(&f.path))
            .count()
    };
    Ok(Outcome {
        root: wt.root,
        findings,
        files,
        snapshot: wt.snapshot,
        config: wt.config,
    })
}

/// The working tree as a snapshot, with its root and configuration.
pub struct Worktree {
    pub root: PathBuf,
    pub config: Config,
    pub snapshot: Snapshot,
    /// Number of files read.
    pub files: usize,
    /// Whether the tree is a git checkout.
    pub git: bool,
    /// `check PATH…` as repository-relative paths: findings are reported only there
    /// (empty: everywhere).
    pub scope: Vec<String>,
    /// HEAD's history, read while the snapshot was built (see [`load_worktree_with`]).
    pub history: Option<super::walk::HeadWalkPrefetch>,
}

impl Worktree {
    /// Whether `path` is inside the paths given on the command line.
    pub fn in_scope(&self, path: &str) -> bool {
        self.scope.is_empty()
            || self
                .scope
                .iter()
                .any(|s| crate::model::paths::is_at_or_inside(path, s))
    }
}

/// List, read and extract the working tree. The whole project is always read, as a base's
/// findings depend on the overlays that include it and predecessors live in other
/// directories: `opts.paths`, or the subdirectory promolint runs in, only restrict what is
/// reported (`cd envs/prod && promolint check` is `promolint check envs/prod`). The project
/// is the repository, or the part of it under the nearest configuration file (see
/// [`project_dir`]).
pub fn load_worktree(opts: &Options) -> Result<Worktree, Error> {
    load_worktree_with(opts, false)
}

/// [`load_worktree`]; with `history`, HEAD's history is read on an idle thread while the
/// snapshot is built, when the tree holds a pin and an enabled rule asks the history.
pub fn load_worktree_with(opts: &Options, history: bool) -> Result<Worktree, Error> {
    // Inside a repository, its fact store is opened while the directory is walked.
    let caching = opts.caching();
    let (probe, store) = worktree::list_beside(&opts.start, &[], |dir| {
        caching.then(|| open_store(Some(dir))).flatten()
    })?;
    let store = store.flatten();
    let top = probe.git.then_some(probe.root.as_path());
    let project = project_dir(&opts.start, top);
    let list = if same_dir(&project, &opts.start) {
        probe
    } else {
        worktree::list(&project, &[])?
    };
    let root = list.root.clone();
    let pathspecs = if opts.paths.is_empty() {
        let here = worktree::resolve_pathspec(&root, &opts.start, ".")?;
        if here.is_empty() {
            Vec::new()
        } else {
            vec![here]
        }
    } else {
        opts.paths
            .iter()
            .map(|p| worktree::resolve_pathspec(&root, &opts.start, p))
            .collect::<Result<Vec<_>, _>>()?
    };
    crate::timing::phase("listed files");
    let config = run_config(&root, opts)?;
    // Files inside a repository are looked up in its fact store by their bytes' blob id.
    // Without a store, a git tree's files are hashed too: the history walk takes their
    // facts for the same blobs (see `KnownFacts`).
    let hash = list.git && store.is_none();
    let (facts, ids): (Vec<FileFacts>, Vec<Option<ObjectId>>) = extract_files(
        &root,
        &list.files,
        config.max_file_size,
        store.as_ref(),
        &list.indexed,
        hash,
    )
    .into_iter()
    .unzip();
    let mut facts: Vec<Arc<FileFacts>> = facts.into_iter().map(Arc::new).collect();
    crate::timing::phase("read and extracted");
    if let Some(store) = &store {
        store.save(true);
        crate::timing::phase("fact store saved");
    }
    discard(store);
    for (path, reason) in &list.skipped {
        facts.push(Arc::new(FileFacts {
            path: path.clone(),
            unreadable: Some(reason.clone()),
            ..FileFacts::default()
        }));
    }
    let files = facts.len();
    let wants_history = history
        && enabled_rules(&config, opts).is_ok_and(|e| wants_head_history(list.git, opts, &e))
        && facts
            .iter()
            .flat_map(|f| &f.facts)
            .any(|f| f.as_pin().is_some());
    let history = wants_history
        .then(|| {
            let known = facts
                .iter()
                .zip(&ids)
                .filter_map(|(f, id)| Some(((*id)?, Arc::clone(f))));
            super::walk::prefetch_head_history(opts, &config, KnownFacts::new(known))
        })
        .flatten();
    let envs = environments(&config, &list.files, &facts)?;
    let patterns: Vec<String> = config.artifacts.iter().map(|a| a.pattern.clone()).collect();
    let artifacts = extract::artifact::from_paths(&list.files, &patterns);
    let snapshot = Snapshot::build(facts, envs, artifacts);
    crate::timing::phase("snapshot built");
    Ok(Worktree {
        root,
        config,
        snapshot,
        files,
        git: list.git,
        scope: pathspecs,
        history,
    })
}

/// Whether `check` asks the history of HEAD: in a git checkout, when an enabled rule judges
/// a tree with it or `--fix` offers past tags.
fn wants_head_history(
    git: bool,
    opts: &Options,
    enabled: &std::collections::BTreeSet<&'static str>,
) -> bool {
    git && (opts.fix
        || rules::with_hook(enabled, |h| h.history_tree)
            .next()
            .is_some())
}

/// The file list of a working tree (re-exported for commands that need only that).
pub fn list_worktree(start: &Path) -> Result<source::FileList, Error> {
    Ok(worktree::list(start, &[])?)
}

/// `promolint status`: the matrix of the working tree, with what predecessors ran in the
/// history of HEAD (when the tree is a git checkout with commits).
/// `status --explain`: how the working tree's model was built (no history needed).
pub fn explain(opts: &Options) -> Result<crate::report::explain::Explanation, Error> {
    let pool = thread_pool(opts.jobs)?;
    pool.install(|| {
        let wt = load_worktree(opts)?;
        Ok(crate::report::explain::explain(&wt.snapshot))
    })
}

pub fn status(opts: &Options) -> Result<crate::report::status::Matrix, Error> {
    let pool = thread_pool(opts.jobs)?;
    pool.install(|| {
        let wt = load_worktree(opts)?;
        // The matrix itself is the tree's; only the `!` marks ask the history. A shallow
        // clone (a CI checkout) still gets the matrix, marked from the tree alone and saying
        // so, rather than nothing.
        let shallow = wt.git && GitRun::open(opts)?.repo.is_shallow();
        let history = if wt.git && !shallow {
            head_history(opts, &wt.snapshot, &wt.config, None)
        } else {
            HistoryIndex::empty()
        };
        let mut matrix =
            crate::report::status::matrix(&wt.snapshot, &history, &wt.config.mutable_tags);
        if shallow {
            matrix.note = Some(
                "the history is shallow: `!` marks a version no predecessor runs now, even one a predecessor ran earlier; fetch the full history (`git fetch --unshallow`, or `fetch-depth: 0` with actions/checkout) to tell them apart".to_string(),
            );
        }
        match history.take_error() {
            Some(e) => Err(e),
            None => Ok(matrix),
        }
    })
}
