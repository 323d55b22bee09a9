//! Revisions, the index and history through gix (never the `git` command line): a commit's
//! tree, the index, tree-to-tree and index-to-tree changes, commit ranges, first-parent
//! history and blob contents.
//!
//! # Threads
//!
//! [`GitRepo`] is `Send + Sync` and holds no gix handle itself, only what is needed to open one:
//! with gix built without its `parallel` feature (as this crate builds it),
//! `gix::ThreadSafeRepository` shares its stores through `Rc` and can be neither sent nor
//! shared. So each thread that calls a method opens its own `gix::Repository` for the same Git
//! directory on first use and keeps it in a thread-local slot, reused by every later call on
//! that thread while the `GitRepo` lives (the thread that ran [`GitRepo::discover`] reuses the
//! handle discovery made). Each handle has an object cache (trees and commits read again and
//! again in history walks) and a delta-base cache for packed objects. Call the methods freely
//! from rayon workers: `repo.read_blob(id, max)` inside `par_iter` is the intended use.
//!
//! # Missing history
//!
//! A revision whose object is not in the object database, or a walk that reaches a commit whose
//! parents are missing (the shallow boundary of a CI checkout), is an error saying so and how
//! to fetch the history: never a silently shortened answer. gix itself resolves `HEAD^` past
//! the boundary to a missing id and stops its walks silently there, so the checks are made
//! here, against the object database and the `shallow` file.
use super::SourceError;
use gix::bstr::ByteSlice;
use gix::objs::tree::EntryKind as TreeKind;
use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Weak};

/// The header of object `id`, or why it cannot be had (missing or damaged: this copy's).
fn blob_header(repo: &gix::Repository, id: ObjectId) -> Result<gix::odb::find::Header, BlobError> {
    match repo.try_find_header(id) {
        Ok(Some(header)) => Ok(header),
        Ok(None) => Err(missing_object(id)),
        Err(e) => Err(unreadable_object(id, &e)),
    }
}

fn missing_object(id: ObjectId) -> BlobError {
    BlobError::of_copy(format!(
        "object {} is missing from the repository; fetch it again (`git fetch`) or check the \
         repository with `git fsck`",
        short(id)
    ))
}

fn unreadable_object(id: ObjectId, e: &dyn std::fmt::Display) -> BlobError {
    BlobError::of_copy(format!(
        "object {} cannot be read ({e}); check the repository with `git fsck` and fetch the \
         object again",
        short(id)
    ))
}

#[cfg(test)]
mod tests;

/// A Git object id.
pub type ObjectId = gix::ObjectId;

/// What a path holds in a tree or in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryKind {
    /// A regular file.
    Blob,
    /// An executable file.
    Executable,
    /// A symbolic link; its blob is the link target, not file content.
    Symlink,
    /// A submodule (gitlink): the id is a commit of another repository, never read.
    Submodule,
}

impl EntryKind {
    /// Whether the entry's blob is file content to read (a regular or executable file).
    pub fn is_file(self) -> bool {
        matches!(self, EntryKind::Blob | EntryKind::Executable)
    }
}

/// A file in a tree or in the index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileEntry {
    /// Repository-relative, `/`-separated (lossy for names that are not valid UTF-8).
    pub path: String,
    pub id: ObjectId,
    pub kind: EntryKind,
}

/// A path that differs between two snapshots: added (`old` is `None`), deleted (`new` is
/// `None`) or modified (both, with different ids). A rename is a deletion plus an addition
/// with the same id; a mode-only change (same id) is not reported.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileChange {
    pub path: String,
    pub old: Option<FileEntry>,
    pub new: Option<FileEntry>,
}

/// What changed between two trees.
#[derive(Clone, Debug, Default)]
pub struct TreeDiff {
    /// As [`GitRepo::diff_trees`] gives them, sorted by path.
    pub changes: Vec<FileChange>,
    /// Files whose content stayed and whose kind changed (a file made a symbolic link or
    /// executable), as they are in the new tree, sorted by path. Not changes of content.
    pub retyped: Vec<FileEntry>,
}

impl TreeDiff {
    /// The new tree, from the old tree's listing (sorted by path, as
    /// [`GitRepo::tree_files`] gives it): what listing the new tree gives.
    pub fn apply(&self, old: &[FileEntry]) -> Vec<FileEntry> {
        let mut updates: Vec<(&str, Option<&FileEntry>)> = self
            .changes
            .iter()
            .map(|c| (c.path.as_str(), c.new.as_ref()))
            .chain(self.retyped.iter().map(|e| (e.path.as_str(), Some(e))))
            .collect();
        updates.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::with_capacity(old.len() + updates.len());
        let mut updates = updates.into_iter().peekable();
        for entry in old {
            while let Some((_, new)) = updates.next_if(|(path, _)| *path < entry.path.as_str()) {
                out.extend(new.cloned());
            }
            match updates.next_if(|(path, _)| *path == entry.path.as_str()) {
                Some((_, new)) => out.extend(new.cloned()),
                None => out.push(entry.clone()),
            }
        }
        out.extend(updates.filter_map(|(_, new)| new.cloned()));
        out
    }

    /// [`Self::apply`] taking the old listing: a change that adds and removes no path
    /// replaces its entries where they stand, without copying the listing.
    pub fn apply_owned(&self, mut old: Vec<FileEntry>) -> Vec<FileEntry> {
        let updates = (self
            .changes
            .iter()
            .map(|c| (c.path.as_str(), c.new.as_ref())))
        .chain(self.retyped.iter().map(|e| (e.path.as_str(), Some(e))));
        let mut spots = Vec::new();
        for (path, new) in updates {
            match (new, old.binary_search_by(|e| e.path.as_str().cmp(path))) {
                (Some(new), Ok(i)) => spots.push((i, new)),
                _ => return self.apply(&old),
            }
        }
        for (i, new) in spots {
            old[i] = new.clone();
        }
        old
    }
}

/// What is staged: the changes, and (when there are any) the trees on both sides.
pub struct StagedChange {
    /// As [`GitRepo::diff_index`] gives them.
    pub changes: Vec<FileChange>,
    /// The old commit's tree and the index, each sorted by path; `None` when the index's
    /// cache-tree says nothing is staged (list them with [`GitRepo::tree_files`] and
    /// [`GitRepo::index_files`]).
    pub trees: Option<(Vec<FileEntry>, Vec<FileEntry>)>,
}

/// A commit's metadata.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CommitInfo {
    pub id: ObjectId,
    /// In the order the commit lists them: the first parent first.
    pub parents: Vec<ObjectId>,
    /// The first paragraph of the message, on one line (lossy UTF-8).
    pub summary: String,
    /// Committer time, seconds since the Unix epoch (0 when unreadable).
    pub time: i64,
    /// Its root tree: a walk that has listed the commits diffs their trees without reading
    /// each commit again.
    pub tree: ObjectId,
}

/// Why a blob could not be read (see [`GitRepo::read_blob_checked`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobError {
    pub message: String,
    /// The reason is the object's own (its size or kind), not this copy's.
    pub intrinsic: bool,
}

impl BlobError {
    fn of_object(message: String) -> Self {
        BlobError {
            message,
            intrinsic: true,
        }
    }

    fn of_copy(message: String) -> Self {
        BlobError {
            message,
            intrinsic: false,
        }
    }
}

/// A repository opened once per run; cheap to share across rayon threads (see the module
/// documentation for how threads get their handles). A clone shares the handles.
#[derive(Clone, Debug)]
pub struct GitRepo {
    /// Absolute, so that handles opened later on other threads find the same repository.
    git_dir: PathBuf,
    workdir: Option<PathBuf>,
    /// Absolute; chosen at discovery (`GIT_INDEX_FILE` or an explicit path).
    index_path: PathBuf,
    object_hash: gix::hash::Kind,
    /// The commits listed in the `shallow` file; empty when the repository is complete.
    shallow: HashSet<ObjectId>,
    /// Identifies this repository's handles in each thread's slot; they are dropped lazily
    /// once it is gone.
    token: Arc<()>,
    /// The repository as discovered: each thread's handle comes from it, so all share one
    /// object store (pack indices and packs mapped once, not once per thread).
    shared: gix::ThreadSafeRepository,
}

/// Trees and commits a history walk reads more than once. Both caches exist once per
/// thread: at 32 MB each a cold `check` of the 20,000-file benchmark peaked at 223 MiB, at
/// 8 MB at 120 MiB, at 4 MB at 98 MiB, with no more CPU time (docs/performance.md). Since
/// tree diffs cut shared entries and one object store serves all threads, 2 MB takes 9-14
/// MiB off the peak of long `history` runs and `check --no-cache` at 0-3 % of their time;
/// 1 MB saves no more.
const OBJECT_CACHE_BYTES: usize = 2 * 1024 * 1024;
/// Delta bases of packed objects, so that a long delta chain is not re-applied for each of
/// its objects (gix only installs one with its `max-performance` features).
const DELTA_CACHE_BYTES: usize = 2 * 1024 * 1024;

const SHALLOW_HELP: &str = "fetch the full history: with actions/checkout set `fetch-depth: 0` \
     (in GitLab CI, `GIT_DEPTH: 0`); in a clone run `git fetch --unshallow`, \
     or `git fetch --deepen=<n>` to fetch <n> more commits";
/// What to do when the index cannot be read (shared with the working-tree listing).
pub const INDEX_HELP: &str = "if another Git command is running, wait for it; a damaged index \
     can be rebuilt with `git reset`; an index entry whose path is 4,095 bytes or longer \
     cannot be read by promolint (a limit of its Git library): `git rm --cached` it";
const MISSING_HELP: &str = "the object database is incomplete: fetch the missing history \
     (`git fetch`), or check the repository with `git fsck`";

thread_local! {
    /// This thread's gix handles, one per live [`GitRepo`] that was used on it.
    static HANDLES: RefCell<Vec<(Weak<()>, Rc<gix::Repository>)>> =
        const { RefCell::new(Vec::new()) };
}

// The point of the type: one value shared by all threads of a run.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<GitRepo>();
};

impl GitRepo {
    /// The repository containing `start` (searching upwards), or the one `GIT_DIR` names. The
    /// variables Git exports to hooks are honoured: `GIT_DIR`, `GIT_WORK_TREE`,
    /// `GIT_INDEX_FILE` (pre-commit runs hooks with an alternate index) and `GIT_SHALLOW_FILE`.
    pub fn discover(start: &Path) -> Result<GitRepo, SourceError> {
        Self::open(start, None)
    }

    /// Like [`GitRepo::discover`], reading the index from `index_file` instead of the
    /// repository's own (or `GIT_INDEX_FILE`): for callers and tests that must not change the
    /// process environment, which all threads share. A relative path is taken from the
    /// current directory, as Git does for `GIT_INDEX_FILE`.
    pub fn discover_with_index_file(
        start: &Path,
        index_file: &Path,
    ) -> Result<GitRepo, SourceError> {
        Self::open(start, Some(index_file))
    }

    fn open(start: &Path, index_file: Option<&Path>) -> Result<GitRepo, SourceError> {
        if let Err(e) = std::fs::metadata(start) {
            return Err(SourceError {
                message: if e.kind() == std::io::ErrorKind::NotFound {
                    format!("`{}` does not exist", start.display())
                } else {
                    format!("`{}` cannot be read: {e}", start.display())
                },
                help: None,
            });
        }
        // Git ignores GIT_CEILING_DIRECTORIES entries that are not above `start`; so do we.
        let discovery = gix::discover::upwards::Options {
            match_ceiling_dir_or_error: false,
            ..Default::default()
        };
        let found = gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
            start,
            discovery,
            Default::default(),
        )
        .map_err(|e| {
            // GIT_DIR overrides discovery: when it names no repository, say so, not `start`.
            if let Some(dir) = std::env::var_os("GIT_DIR").filter(|d| !d.is_empty()) {
                return SourceError {
                    message: format!(
                        "GIT_DIR names `{}`, which is not a git repository: {e}",
                        Path::new(&dir).display()
                    ),
                    help: Some(
                        "unset GIT_DIR, or point it at a repository's `.git` directory".into(),
                    ),
                };
            }
            if let Some(broken) = is_not_a_repository(&e)
                .then(|| super::broken_git_dir(start))
                .flatten()
            {
                broken
            } else if is_not_a_repository(&e) {
                SourceError {
                    message: format!(
                        "not a git repository: `{}` (nor any of its parent directories)",
                        start.display()
                    ),
                    help: Some(
                        "run promolint inside a Git checkout, or point at one with `-C DIR`".into(),
                    ),
                }
            } else {
                SourceError {
                    message: format!(
                        "cannot open the Git repository at `{}`: {e}",
                        start.display()
                    ),
                    help: None,
                }
            }
        })?;
        let mut repo = found.to_thread_local();
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let git_dir = absolute(repo.git_dir());
        let workdir = repo.workdir().map(absolute);
        let index_path = match index_file {
            Some(p) => absolute(p),
            None => absolute(&repo.index_path()),
        };
        let shallow = repo
            .shallow_commits()
            .map_err(|e| SourceError {
                message: format!(
                    "cannot read the list of shallow commits of `{}`: {e}",
                    git_dir.display()
                ),
                help: None,
            })?
            .map(|commits| commits.iter().copied().collect())
            .unwrap_or_default();
        configure(&mut repo);
        let git = GitRepo {
            git_dir,
            workdir,
            index_path,
            object_hash: repo.object_hash(),
            shallow,
            token: Arc::new(()),
            shared: found,
        };
        git.remember(Rc::new(repo));
        Ok(git)
    }

    /// The working tree's root; `None` for a bare repository.
    pub fn workdir(&self) -> Option<PathBuf> {
        self.workdir.clone()
    }

    /// Where promolint may keep files derived from this repository's objects: a
    /// `promolint` directory in the common git directory (shared by linked worktrees).
    pub fn cache_dir(&self) -> PathBuf {
        let common = self
            .handle()
            .map(|r| r.common_dir().to_path_buf())
            .unwrap_or_else(|_| self.git_dir.clone());
        common.join("promolint")
    }

    /// Whether the repository is a shallow clone (its history stops at some commits).
    pub fn is_shallow(&self) -> bool {
        !self.shallow.is_empty()
    }

    /// The commit `HEAD` points to, attached or detached; `None` on an unborn branch (a
    /// repository without commits).
    pub fn head(&self) -> Result<Option<ObjectId>, SourceError> {
        let repo = self.handle()?;
        let head = repo.head().map_err(|e| SourceError {
            message: format!("cannot read HEAD: {e}"),
            help: None,
        })?;
        match head.id() {
            None => Ok(None),
            Some(id) => self.peel_to_commit(&repo, id.detach(), "HEAD").map(Some),
        }
    }

    /// The commit a revision names: anything `git rev-parse` accepts that names one object
    /// (branch, tag, `HEAD~2`, an id, `main@{1}`…), annotated tags peeled.
    pub fn resolve_commit(&self, rev: &str) -> Result<ObjectId, SourceError> {
        if rev.trim().is_empty() {
            return Err(SourceError {
                message: "empty revision".into(),
                help: Some("give a branch, tag or commit id".into()),
            });
        }
        let repo = self.handle()?;
        // A full id names its object whether or not it is present; gix refuses a missing one
        // as unparsable, which would hide that the base is beyond a shallow clone.
        if let Ok(id) = ObjectId::from_hex(rev.trim().as_bytes()) {
            return self.peel_to_commit(&repo, id, rev);
        }
        match repo.rev_parse(rev.as_bytes().as_bstr()) {
            Ok(spec) => match spec.detach() {
                gix::revision::plumbing::Spec::Include(id) => self.peel_to_commit(&repo, id, rev),
                _ => Err(SourceError {
                    message: format!("`{rev}` is not a single revision"),
                    help: Some(
                        "give one branch, tag or commit id; a range is written `A..B`".into(),
                    ),
                }),
            },
            Err(e) => Err(self.unresolved(&repo, rev, &e)),
        }
    }

    /// A range of commits as the `history` command takes it: `A..B` (reachable from `B`, not
    /// from `A`), `A..` (`A..HEAD`), `..B` (`HEAD..B`), or a single revision meaning all of
    /// its history (`from` is `None`).
    pub fn parse_range(&self, spec: &str) -> Result<(Option<ObjectId>, ObjectId), SourceError> {
        let spec = spec.trim();
        let bad = |why: &str| SourceError {
            message: format!("bad range `{spec}`: {why}"),
            help: Some(
                "write `A..B` (commits reachable from B but not from A), `A..`, `..B`, \
                 or a single revision for all of its history"
                    .into(),
            ),
        };
        if spec.is_empty() {
            return Err(bad("it is empty"));
        }
        if spec.contains("...") {
            return Err(bad("symmetric differences (`A...B`) are not supported"));
        }
        let in_range = |e: SourceError| SourceError {
            message: format!("in the range `{spec}`: {}", e.message),
            help: e.help,
        };
        let Some((from, to)) = spec.split_once("..") else {
            return Ok((None, self.resolve_commit(spec)?));
        };
        if to.contains("..") {
            return Err(bad("a range has one `..`"));
        }
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() && to.is_empty() {
            return Err(bad("it names no revision"));
        }
        let or_head = |rev: &str| if rev.is_empty() { "HEAD" } else { rev }.to_string();
        let from = self.resolve_commit(&or_head(from)).map_err(in_range)?;
        let to = self.resolve_commit(&or_head(to)).map_err(in_range)?;
        Ok((Some(from), to))
    }

    /// A commit's metadata.
    pub fn commit(&self, id: ObjectId) -> Result<CommitInfo, SourceError> {
        let repo = self.handle()?;
        match self.load_commit(&repo, id)? {
            Some(commit) => Ok(commit),
            None => {
                Err(self.missing_history(format!("commit {} is not in this repository", short(id))))
            }
        }
    }

    /// Every commit reachable from `to_incl` and not from `from_excl` (all parents: merges
    /// and their side branches included), oldest first: parents before children, ties by
    /// committer time then id, so the order is the same on every run.
    ///
    /// Reaching a commit whose parents are missing (the shallow boundary) is an error, never
    /// a shortened list. As in Git, the walk stops on committer dates, with a few commits of
    /// slack for clocks that went backwards.
    pub fn range_commits(
        &self,
        from_excl: Option<ObjectId>,
        to_incl: ObjectId,
    ) -> Result<Vec<CommitInfo>, SourceError> {
        let repo = self.handle()?;
        let mut walk = Walk::default();
        let to = self.load_required(&repo, to_incl)?;
        walk.add(to, false);
        if let Some(from) = from_excl {
            let from = self.load_required(&repo, from)?;
            walk.add(from, true);
        }
        // Git's SLOP: uninteresting commits still walked once nothing interesting is queued.
        const SLACK: usize = 5;
        let mut slack = SLACK;
        while let Some((_, id)) = walk.queue.pop() {
            let Some(node) = walk.nodes.get_mut(&id) else {
                continue;
            };
            node.queued = false;
            node.popped = true;
            let uninteresting = node.uninteresting;
            if !uninteresting {
                walk.interesting_queued = walk.interesting_queued.saturating_sub(1);
            }
            let parents = node.info.parents.clone();
            for parent in parents {
                if walk.nodes.contains_key(&parent) {
                    if uninteresting {
                        walk.mark_uninteresting(parent);
                    }
                    continue;
                }
                match self.load_commit(&repo, parent)? {
                    Some(commit) => walk.add(commit, uninteresting),
                    None => {
                        if let Some(node) = walk.nodes.get_mut(&id) {
                            node.missing_parent = true;
                        }
                    }
                }
            }
            if walk.interesting_queued == 0 {
                if slack == 0 {
                    break;
                }
                slack -= 1;
            } else {
                slack = SLACK;
            }
        }

        let mut selected: HashMap<ObjectId, CommitInfo> = HashMap::new();
        let mut boundary: Vec<(i64, ObjectId)> = Vec::new();
        for (id, node) in walk.nodes {
            if node.uninteresting {
                continue;
            }
            if node.missing_parent || self.shallow.contains(&id) {
                boundary.push((node.info.time, id));
            }
            selected.insert(id, node.info);
        }
        if let Some(&(_, id)) = boundary.iter().min() {
            return Err(self.missing_history(format!(
                "{} reaches commit {}, whose parents are not in this repository",
                describe_range(from_excl, to_incl),
                short(id)
            )));
        }
        Ok(topological(selected))
    }

    /// `from`, then its first parent, and so on, up to `limit` commits (all when `None`).
    /// Reaching a commit whose first parent is missing (the shallow boundary) before the
    /// limit is an error.
    pub fn first_parent_chain(
        &self,
        from: ObjectId,
        limit: Option<usize>,
    ) -> Result<Vec<CommitInfo>, SourceError> {
        let repo = self.handle()?;
        let mut out = Vec::new();
        let mut next = Some(from);
        while let Some(id) = next {
            if limit.is_some_and(|limit| out.len() >= limit) {
                break;
            }
            let commit = self.load_required(&repo, id)?;
            next = commit.parents.first().copied();
            if let Some(parent) = next {
                let more_wanted = limit.is_none_or(|limit| out.len() + 1 < limit);
                if more_wanted && (self.shallow.contains(&id) || !repo.has_object(parent)) {
                    return Err(self.missing_history(format!(
                        "the first-parent history of {} reaches commit {}, whose parent is not in \
                         this repository",
                        short(from),
                        short(id)
                    )));
                }
            }
            out.push(commit);
        }
        Ok(out)
    }

    /// The file at `path` (as [`FileEntry::path`] spells it) in `commit`'s tree: `None` when
    /// there is none, or a directory or a name that is not valid UTF-8 is there. Reads only
    /// the trees on the way.
    pub fn file_at(&self, commit: ObjectId, path: &str) -> Result<Option<FileEntry>, SourceError> {
        let repo = self.handle()?;
        let mut tree = self.load_required(&repo, commit)?.tree;
        let mut prefix = Vec::new();
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            let object = self.find_tree(&repo, Some(tree), &prefix)?;
            let entries = self.parse_tree(object.as_ref(), Some(tree), &prefix)?;
            let Some(entry) = entries.iter().find(|e| e.name == part.as_bytes()) else {
                return Ok(None);
            };
            match (entry.kind, parts.peek().is_none()) {
                (Some(kind), true) => {
                    return Ok(Some(FileEntry {
                        path: path.to_string(),
                        id: entry.id,
                        kind,
                    }))
                }
                (None, false) => {
                    prefix = join(&prefix, entry.name);
                    tree = entry.id;
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Every file of a commit's tree, recursively, sorted by path. Submodules are listed
    /// (as [`EntryKind::Submodule`]) but not entered.
    pub fn tree_files(&self, commit: ObjectId) -> Result<Vec<FileEntry>, SourceError> {
        let repo = self.handle()?;
        let tree = self.load_required(&repo, commit)?.tree;
        let mut raw = Vec::new();
        self.collect_tree(&repo, tree, Vec::new(), &mut raw, None)?;
        Ok(into_sorted_entries(raw))
    }

    /// Every file of the index (what `git commit` would record), sorted by path.
    ///
    /// Only stage 0 is taken: the entries of a conflicted path (stages 1 to 3) are skipped, so
    /// the path is absent until the conflict is resolved. Intent-to-add entries (`git add
    /// -N`) are skipped too: they record no content. Directories of a sparse index are
    /// expanded from their trees. A missing index file is an empty index.
    pub fn index_files(&self) -> Result<Vec<FileEntry>, SourceError> {
        let repo = self.handle()?;
        let Some(index) = self.read_index()? else {
            return Ok(Vec::new());
        };
        let listing = self.list_index(&repo, &index)?;
        Ok(into_sorted_entries(listing.files))
    }

    /// The changes from commit `old` to commit `new` (`None` = the empty tree), sorted by
    /// path. Subtrees with equal ids on both sides are not entered, so the cost follows the
    /// size of the change, not of the tree.
    pub fn diff_trees(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
    ) -> Result<Vec<FileChange>, SourceError> {
        Ok(self.tree_diff(old, new)?.changes)
    }

    /// [`Self::diff_trees`], with the files whose mode alone changed: enough to derive the
    /// new tree from the old one's listing ([`TreeDiff::apply`]).
    pub fn tree_diff(
        &self,
        old: Option<ObjectId>,
        new: Option<ObjectId>,
    ) -> Result<TreeDiff, SourceError> {
        let repo = self.handle()?;
        let tree_of = |commit: Option<ObjectId>| {
            commit
                .map(|id| self.load_required(&repo, id).map(|c| c.tree))
                .transpose()
        };
        self.diff_root_trees(tree_of(old)?, tree_of(new)?)
    }

    /// [`Self::tree_diff`] of two root trees (`None` = the empty tree), as
    /// [`CommitInfo::tree`] names them.
    pub fn diff_root_trees(
        &self,
        old_tree: Option<ObjectId>,
        new_tree: Option<ObjectId>,
    ) -> Result<TreeDiff, SourceError> {
        let repo = self.handle()?;
        let mut changes = Vec::new();
        let mut retyped = Vec::new();
        // An explicit stack: a hostile repository may nest trees deeper than the call stack.
        let mut work: Vec<(Vec<u8>, Option<ObjectId>, Option<ObjectId>)> =
            vec![(Vec::new(), old_tree, new_tree)];
        while let Some((prefix, old_tree, new_tree)) = work.pop() {
            if old_tree == new_tree {
                continue;
            }
            let old_obj = self.find_tree(&repo, old_tree, &prefix)?;
            let new_obj = self.find_tree(&repo, new_tree, &prefix)?;
            // Whole entries the two trees share at either end are equal files or equal
            // subtrees: only the stretch between them is parsed and compared. A wide
            // directory (hundreds of apps) changed in one entry costs a byte comparison.
            let (old_part, new_part) = match (&old_obj, &new_obj) {
                (Some(o), Some(n)) => {
                    differing_entries(&o.data, &n.data, self.object_hash.len_in_bytes())
                }
                _ => (
                    old_obj.as_ref().map_or(&[][..], |o| &o.data[..]),
                    new_obj.as_ref().map_or(&[][..], |n| &n.data[..]),
                ),
            };
            let old_entries = self.parse_tree_bytes(old_part, old_tree, &prefix)?;
            let new_entries = self.parse_tree_bytes(new_part, new_tree, &prefix)?;
            merge_join(&old_entries, &new_entries, TreeEntry::order, |old, new| {
                match (old, new) {
                    (Some(o), Some(n)) => {
                        if o.id == n.id {
                            if let (Some(ok), Some(nk)) = (o.kind, n.kind) {
                                if ok != nk {
                                    retyped.push(to_entry(&join(&prefix, n.name), (n.id, nk)));
                                }
                            }
                        } else {
                            let path = join(&prefix, o.name);
                            match (o.kind, n.kind) {
                                (Some(ok), Some(nk)) => changes.push(raw_change(
                                    path,
                                    Some((o.id, ok)),
                                    Some((n.id, nk)),
                                )),
                                // Equal names in the tree order are both trees or both not.
                                _ => work.push((path, Some(o.id), Some(n.id))),
                            }
                        }
                    }
                    (Some(o), None) => {
                        let path = join(&prefix, o.name);
                        match o.kind {
                            Some(kind) => changes.push(raw_change(path, Some((o.id, kind)), None)),
                            None => work.push((path, Some(o.id), None)),
                        }
                    }
                    (None, Some(n)) => {
                        let path = join(&prefix, n.name);
                        match n.kind {
                            Some(kind) => changes.push(raw_change(path, None, Some((n.id, kind)))),
                            None => work.push((path, None, Some(n.id))),
                        }
                    }
                    (None, None) => {}
                }
            });
        }
        retyped.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(TreeDiff {
            changes: into_sorted_changes(changes),
            retyped,
        })
    }

    /// The staged changes: commit `old` (`None` = the empty tree, for an unborn branch)
    /// against the index, sorted by path. Conflicted paths are left out (the index records
    /// no content for them yet) and intent-to-add entries count as absent, as in
    /// [`GitRepo::index_files`]. Directories whose tree the index's cache-tree extension
    /// records with the same id as `old` are not entered: after `git add` of a few files the
    /// cost follows the change, not the 20,000 files of the tree.
    /// Read `commit`'s root tree, as listing it would: an error when it is missing or
    /// damaged. A change found without listing trees (the index's cached tree says nothing
    /// is staged) must still fail on a broken HEAD, as a listing would.
    pub fn check_root_tree(&self, commit: ObjectId) -> Result<(), SourceError> {
        let repo = self.handle()?;
        let tree = self.load_required(&repo, commit)?.tree;
        let object = self.find_tree(&repo, Some(tree), &[])?;
        self.parse_tree(object.as_ref(), Some(tree), &[])
            .map(|_| ())
    }

    pub fn diff_index(&self, old: Option<ObjectId>) -> Result<Vec<FileChange>, SourceError> {
        Ok(self.staged_change(old)?.changes)
    }

    /// [`Self::diff_index`] with both trees of the change, when something is staged: the
    /// index as [`Self::index_files`] lists it, and `old`'s tree as [`Self::tree_files`]
    /// would, taken from the same walk. Directories the index's cache-tree records with
    /// `old`'s ids hold the same entries on both sides, so `old`'s tree is listed only
    /// where the change is.
    pub fn staged_change(&self, old: Option<ObjectId>) -> Result<StagedChange, SourceError> {
        let repo = self.handle()?;
        let old_tree = match old {
            Some(id) => Some(self.load_required(&repo, id)?.tree),
            None => None,
        };
        let index = self.read_index()?;
        let Some(index) = index else {
            // No index file: nothing is staged, every file of `old` is deleted.
            let mut raw = Vec::new();
            if let Some(tree) = old_tree {
                self.collect_tree(&repo, tree, Vec::new(), &mut raw, None)?;
            }
            let changes = raw
                .iter()
                .map(|(path, id, kind)| raw_change(path.clone(), Some((*id, *kind)), None))
                .collect();
            return Ok(StagedChange {
                changes: into_sorted_changes(changes),
                trees: Some((into_sorted_entries(raw), Vec::new())),
            });
        };

        // Directories whose content the index still knows to be exactly a tree.
        let mut valid: HashMap<Vec<u8>, ObjectId> = HashMap::new();
        if let Some(root) = index.tree() {
            let mut stack = vec![(Vec::new(), root)];
            while let Some((path, node)) = stack.pop() {
                for child in &node.children {
                    stack.push((join(&path, &child.name), child));
                }
                if node.num_entries.is_some() {
                    valid.insert(path, node.id);
                }
            }
        }
        let empty_tree = ObjectId::empty_tree(self.object_hash);
        if valid.get(&Vec::new()) == Some(&old_tree.unwrap_or(empty_tree)) {
            return Ok(StagedChange {
                changes: Vec::new(),
                trees: None,
            });
        }

        let mut old_files = Vec::new();
        let mut pruned: HashSet<Vec<u8>> = HashSet::new();
        if let Some(tree) = old_tree {
            let mut skip = |path: &[u8], id: ObjectId| {
                let same = valid.get(path) == Some(&id);
                if same {
                    pruned.insert(path.to_vec());
                }
                same
            };
            self.collect_tree(&repo, tree, Vec::new(), &mut old_files, Some(&mut skip))?;
        }
        let listing = self.list_index(&repo, &index)?;
        let under_pruned = |path: &[u8]| {
            !pruned.is_empty()
                && path
                    .iter()
                    .enumerate()
                    .any(|(i, &b)| b == b'/' && pruned.contains(&path[..i]))
        };
        // The index's entries outside the pruned directories are compared with the old tree;
        // inside them they are the old tree's entries too.
        let pruned_here: Vec<bool> = listing
            .files
            .iter()
            .map(|(path, _, _)| under_pruned(path))
            .collect();
        let mut new_files: Vec<RawEntry> = Vec::new();
        let mut old_tree_files = old_files.clone();
        for (entry, &inside) in listing.files.iter().zip(&pruned_here) {
            match inside {
                true => old_tree_files.push(entry.clone()),
                false => new_files.push(entry.clone()),
            }
        }
        let trees = (
            into_sorted_entries(old_tree_files),
            into_sorted_entries(listing.files),
        );
        old_files.retain(|(path, _, _)| !listing.conflicted.contains(path));
        old_files.sort_by(|a, b| a.0.cmp(&b.0));
        new_files.sort_by(|a, b| a.0.cmp(&b.0));

        let mut changes = Vec::new();
        let by_path = |a: &RawEntry, b: &RawEntry| a.0.cmp(&b.0);
        merge_join(&old_files, &new_files, by_path, |old, new| {
            match (old, new) {
                (Some((path, old_id, old_kind)), Some((_, new_id, new_kind))) => {
                    if old_id != new_id {
                        changes.push(raw_change(
                            path.clone(),
                            Some((*old_id, *old_kind)),
                            Some((*new_id, *new_kind)),
                        ));
                    }
                }
                (Some((path, id, kind)), None) => {
                    changes.push(raw_change(path.clone(), Some((*id, *kind)), None))
                }
                (None, Some((path, id, kind))) => {
                    changes.push(raw_change(path.clone(), None, Some((*id, *kind))))
                }
                (None, None) => {}
            }
        });
        Ok(StagedChange {
            changes: into_sorted_changes(changes),
            trees: Some(trees),
        })
    }

    /// A blob's bytes, at most `max_size` of them. The error is the reason the engine reports
    /// the file as unreadable (PL000): over the size limit (checked on the object's header,
    /// before reading it), missing, corrupt (content that does not hash to its id), or not a
    /// blob (a submodule's commit, say).
    pub fn read_blob(&self, id: ObjectId, max_size: u64) -> Result<Vec<u8>, String> {
        self.read_blob_checked(id, max_size).map_err(|e| e.message)
    }

    /// [`Self::read_blob`], saying whether the reason is the object's own (its size, its
    /// kind: the same in every copy of the repository) or this copy's (missing or damaged:
    /// fetching it again may bring it back).
    pub fn read_blob_checked(&self, id: ObjectId, max_size: u64) -> Result<Vec<u8>, BlobError> {
        let repo = self.handle().map_err(|e| BlobError::of_copy(e.message))?;
        let header = blob_header(&repo, id)?;
        if header.kind() != gix::objs::Kind::Blob {
            return Err(BlobError::of_object(format!(
                "object {} is a {}, not a file",
                short(id),
                header.kind()
            )));
        }
        if header.size() > max_size {
            return Err(BlobError::of_object(crate::extract::over_size_limit(
                header.size(),
                max_size,
            )));
        }
        let object = match repo.try_find_object(id) {
            Ok(Some(object)) => object,
            Ok(None) => return Err(missing_object(id)),
            Err(e) => return Err(unreadable_object(id, &e)),
        };
        // A damaged object can still inflate; only its hash tells.
        match gix::objs::compute_hash(self.object_hash, gix::objs::Kind::Blob, &object.data) {
            Ok(actual) if actual == id => Ok(object.detach().data),
            _ => Err(BlobError::of_copy(format!(
                "object {} is corrupt: its content does not match its id; check the repository \
                 with `git fsck` and fetch the object again",
                short(id)
            ))),
        }
    }

    /// Whether the object `id` is in this copy of the repository; `Err`: why not, as
    /// [`Self::read_blob_checked`] says it (a pin ledger's record of a blob is only as good
    /// as the blob's presence: see `crate::walk`).
    pub fn blob_present(&self, id: ObjectId) -> Result<(), String> {
        let repo = self.handle().map_err(|e| e.message)?;
        blob_header(&repo, id).map(|_| ()).map_err(|e| e.message)
    }

    /// Whether this copy of the repository has the object `id` (its header is not read: a
    /// lookup in the pack indices or for a loose file).
    pub fn has_object(&self, id: ObjectId) -> bool {
        self.handle().is_ok_and(|repo| repo.has_object(id))
    }

    /// The best common ancestor of `a` and `b`; `None` when their histories are unrelated.
    /// In a shallow clone an unrelated answer may only mean missing history: an error.
    pub fn merge_base(&self, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>, SourceError> {
        let repo = self.handle()?;
        for id in [a, b] {
            if !repo.has_object(id) {
                return Err(
                    self.missing_history(format!("commit {} is not in this repository", short(id)))
                );
            }
        }
        match repo.merge_base(a, b) {
            Ok(Some(base)) => Ok(Some(base.detach())),
            Ok(None) if self.is_shallow() => Err(self.missing_history(format!(
                "no common ancestor of {} and {} was found",
                short(a),
                short(b)
            ))),
            Ok(None) => Ok(None),
            Err(e) if self.is_shallow() => Err(self.missing_history(format!(
                "the common ancestor of {} and {} cannot be computed ({e})",
                short(a),
                short(b)
            ))),
            Err(e) => Err(SourceError {
                message: format!(
                    "cannot compute the common ancestor of {} and {}: {e}",
                    short(a),
                    short(b)
                ),
                help: None,
            }),
        }
    }

    /// Where a change based on the default branch starts: the merge-base of `head` with the
    /// remote's default branch (what `refs/remotes/origin/HEAD` points to, else `origin/main`,
    /// else `origin/master`), else with a local `main` or `master` that is not `head` itself.
    pub fn default_branch_base(&self, head: ObjectId) -> Result<ObjectId, SourceError> {
        let repo = self.handle()?;
        let current = repo
            .head_name()
            .ok()
            .flatten()
            .map(|name| name.as_bstr().to_string());
        let mut found = None;
        // A local default branch skipped because it is what is being linted.
        let mut skipped_current: Option<String> = None;
        for name in [
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
            "refs/remotes/origin/master",
            "refs/heads/main",
            "refs/heads/master",
        ] {
            let Ok(Some(mut reference)) = repo.try_find_reference(name) else {
                continue;
            };
            let shown = match reference.target() {
                gix::refs::TargetRef::Symbolic(target) => short_ref(&target.as_bstr().to_string()),
                gix::refs::TargetRef::Object(_) => short_ref(name),
            };
            let Ok(id) = reference.peel_to_id() else {
                continue;
            };
            let id = id.detach();
            let local = name.starts_with("refs/heads/");
            if local && (current.as_deref() == Some(name) || id == head) {
                skipped_current.get_or_insert(shown);
                continue;
            }
            found = Some((shown, id));
            break;
        }
        let Some((branch, tip)) = found else {
            let mut help = String::from("give the base explicitly with `--base REV`");
            if self.is_shallow() {
                help.push_str(
                    ", or fetch the default branch with its history (with actions/checkout, \
                     `fetch-depth: 0`)",
                );
            }
            let message = match skipped_current {
                Some(branch) => format!(
                    "cannot find a base to compare with: `{branch}` is the branch being linted, \
                     and there is no `origin/HEAD`, `origin/main` or `origin/master`"
                ),
                None => "cannot find the default branch to compare with: there is no \
                         `origin/HEAD`, `origin/main`, `origin/master`, `main` or `master`"
                    .to_string(),
            };
            return Err(SourceError {
                message,
                help: Some(help),
            });
        };
        let tip = self.peel_to_commit(&repo, tip, &branch)?;
        match self.merge_base(head, tip)? {
            Some(base) => Ok(base),
            None => Err(SourceError {
                message: format!(
                    "commit {} and the default branch `{branch}` have no common ancestor",
                    short(head)
                ),
                help: Some("give the base explicitly with `--base REV`".into()),
            }),
        }
    }

    // ----- handles -----

    /// This thread's handle for the repository, opened on first use.
    fn handle(&self) -> Result<Rc<gix::Repository>, SourceError> {
        let cached = HANDLES
            .try_with(|slot| {
                let mut handles = slot.try_borrow_mut().ok()?;
                handles.retain(|(owner, _)| owner.strong_count() > 0);
                handles
                    .iter()
                    .find(|(owner, _)| owner.as_ptr() == Arc::as_ptr(&self.token))
                    .map(|(_, repo)| Rc::clone(repo))
            })
            .ok()
            .flatten();
        if let Some(repo) = cached {
            return Ok(repo);
        }
        let mut repo = self.shared.to_thread_local();
        configure(&mut repo);
        let repo = Rc::new(repo);
        self.remember(Rc::clone(&repo));
        Ok(repo)
    }

    fn remember(&self, repo: Rc<gix::Repository>) {
        // Without the slot (thread teardown) each call opens its own handle: slower, not wrong.
        let _ = HANDLES.try_with(|slot| {
            if let Ok(mut handles) = slot.try_borrow_mut() {
                handles.push((Arc::downgrade(&self.token), repo));
            }
        });
    }

    // ----- errors -----

    /// History that a question needs and the object database lacks: `what` says which.
    fn missing_history(&self, what: String) -> SourceError {
        if self.is_shallow() {
            SourceError {
                message: format!("{what}: the history is shallow (this is a shallow clone)"),
                help: Some(SHALLOW_HELP.into()),
            }
        } else {
            SourceError {
                message: format!("{what}: the history is missing from the object database"),
                help: Some(MISSING_HELP.into()),
            }
        }
    }

    /// Why `rev` did not resolve.
    fn unresolved(&self, repo: &gix::Repository, rev: &str, e: &gix::Error) -> SourceError {
        let unborn = repo.head().map(|h| h.is_unborn()).unwrap_or(false);
        if unborn {
            let names_head = rev == "@" || rev.starts_with("HEAD") || rev.starts_with('@');
            let has_commits = repo
                .references()
                .ok()
                .and_then(|r| r.all().ok().map(|mut all| all.next().is_some()))
                .unwrap_or(false);
            let help =
                Some("make a first commit, or use a mode that reads the working tree".into());
            if !has_commits {
                return SourceError {
                    message: if names_head {
                        format!(
                            "revision `{rev}` names no commit: the repository has no commits yet"
                        )
                    } else {
                        format!("unknown revision `{rev}`: the repository has no commits yet")
                    },
                    help,
                };
            }
            if names_head {
                // An orphan branch in a repository with commits elsewhere: name the branch.
                let branch = repo
                    .head_name()
                    .ok()
                    .flatten()
                    .map(|n| n.shorten().to_string())
                    .unwrap_or_else(|| "HEAD".to_string());
                return SourceError {
                    message: format!(
                        "revision `{rev}` names no commit: the branch `{branch}` has no commits yet"
                    ),
                    help,
                };
            }
        }
        // `HEAD~5` in a depth-1 clone: the navigation needs commits the clone does not have.
        // An abbreviated id there is most likely a commit the clone lacks.
        if self.is_shallow() {
            let trimmed = rev.trim();
            if trimmed.len() >= 4 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
                return self.missing_history(format!("revision `{rev}` is not in this repository"));
            }
            if let Some(cut) = rev.find(['~', '^']).filter(|&cut| cut > 0) {
                let base = &rev[..cut];
                let base_ok = repo
                    .rev_parse_single(base.as_bytes().as_bstr())
                    .is_ok_and(|id| repo.has_object(id.detach()));
                if base_ok {
                    return self.missing_history(format!(
                        "revision `{rev}` reaches beyond the commits of this repository"
                    ));
                }
            }
        }
        SourceError {
            message: format!("unknown revision `{rev}`"),
            help: Some(format!(
                "give a branch, tag or commit id that exists in this repository ({})",
                e.probable_cause()
            )),
        }
    }

    // ----- objects -----

    /// `id` peeled through annotated tags to a commit; `rev` names it in errors.
    fn peel_to_commit(
        &self,
        repo: &gix::Repository,
        mut id: ObjectId,
        rev: &str,
    ) -> Result<ObjectId, SourceError> {
        // Tags of tags are legal; a bound keeps a corrupt repository from looping.
        for _ in 0..64 {
            let object = match repo.try_find_object(id) {
                Ok(Some(object)) => object,
                Ok(None) => {
                    return Err(self.missing_history(format!(
                        "revision `{rev}` resolves to commit {}, which is not in this repository",
                        short(id)
                    )))
                }
                Err(e) => {
                    return Err(SourceError {
                        message: format!(
                            "revision `{rev}`: object {} cannot be read: {e}",
                            short(id)
                        ),
                        help: Some(MISSING_HELP.into()),
                    })
                }
            };
            match object.kind {
                gix::objs::Kind::Commit => return Ok(id),
                gix::objs::Kind::Tag => {
                    let tag = gix::objs::TagRef::from_bytes(&object.data, self.object_hash)
                        .map_err(|e| SourceError {
                            message: format!("revision `{rev}`: tag {} is corrupt: {e}", short(id)),
                            help: Some(MISSING_HELP.into()),
                        })?;
                    id = tag.target();
                }
                kind => {
                    return Err(SourceError {
                        message: format!("revision `{rev}` names a {kind}, not a commit"),
                        help: Some("give a branch, tag or commit id".into()),
                    })
                }
            }
        }
        Err(SourceError {
            message: format!("revision `{rev}`: too many nested tags"),
            help: None,
        })
    }

    /// The commit `id`, or `None` if it is not in the object database.
    fn load_commit(
        &self,
        repo: &gix::Repository,
        id: ObjectId,
    ) -> Result<Option<CommitInfo>, SourceError> {
        let object = match repo.try_find_object(id) {
            Ok(Some(object)) => object,
            Ok(None) => return Ok(None),
            Err(e) => {
                return Err(SourceError {
                    message: format!("commit {} cannot be read: {e}", short(id)),
                    help: Some(MISSING_HELP.into()),
                })
            }
        };
        if object.kind != gix::objs::Kind::Commit {
            return Err(SourceError {
                message: format!("object {} is a {}, not a commit", short(id), object.kind),
                help: None,
            });
        }
        let commit =
            gix::objs::CommitRef::from_bytes(&object.data, self.object_hash).map_err(|e| {
                SourceError {
                    message: format!("commit {} is corrupt: {e}", short(id)),
                    help: Some(MISSING_HELP.into()),
                }
            })?;
        Ok(Some(CommitInfo {
            tree: commit.tree(),
            id,
            parents: commit.parents().collect(),
            summary: commit.message().summary().to_str_lossy().into_owned(),
            time: commit.time().map(|t| t.seconds).unwrap_or(0),
        }))
    }

    /// The commit `id`, which must be present.
    fn load_required(
        &self,
        repo: &gix::Repository,
        id: ObjectId,
    ) -> Result<CommitInfo, SourceError> {
        self.load_commit(repo, id)?.ok_or_else(|| {
            self.missing_history(format!("commit {} is not in this repository", short(id)))
        })
    }

    /// The raw tree object `id` (`None` for `None`); `path` names it in errors.
    fn find_tree<'r>(
        &self,
        repo: &'r gix::Repository,
        id: Option<ObjectId>,
        path: &[u8],
    ) -> Result<Option<gix::Object<'r>>, SourceError> {
        let Some(id) = id else {
            return Ok(None);
        };
        let where_ = || {
            if path.is_empty() {
                "the root tree".to_string()
            } else {
                format!("the tree of `{}`", path.to_str_lossy())
            }
        };
        match repo.try_find_object(id) {
            Ok(Some(object)) if object.kind == gix::objs::Kind::Tree => Ok(Some(object)),
            Ok(Some(object)) => Err(SourceError {
                message: format!(
                    "{} ({}) is a {}, not a tree",
                    where_(),
                    short(id),
                    object.kind
                ),
                help: Some(MISSING_HELP.into()),
            }),
            Ok(None) => Err(SourceError {
                message: format!(
                    "{} ({}) is missing from the object database",
                    where_(),
                    short(id)
                ),
                help: Some(MISSING_HELP.into()),
            }),
            Err(e) => Err(SourceError {
                message: format!("{} ({}) cannot be read: {e}", where_(), short(id)),
                help: Some(MISSING_HELP.into()),
            }),
        }
    }

    /// The entries of a tree object in Git's tree order (re-sorted, in case a tool wrote
    /// them out of order).
    fn parse_tree<'a>(
        &self,
        object: Option<&'a gix::Object<'_>>,
        id: Option<ObjectId>,
        path: &[u8],
    ) -> Result<Vec<TreeEntry<'a>>, SourceError> {
        match object {
            Some(object) => self.parse_tree_bytes(&object.data, id, path),
            None => Ok(Vec::new()),
        }
    }

    /// [`Self::parse_tree`] of a tree's bytes, or of a run of whole entries of them.
    fn parse_tree_bytes<'a>(
        &self,
        data: &'a [u8],
        id: Option<ObjectId>,
        path: &[u8],
    ) -> Result<Vec<TreeEntry<'a>>, SourceError> {
        let mut entries = Vec::new();
        for entry in gix::objs::TreeRefIter::from_bytes(data, self.object_hash) {
            let entry = entry.map_err(|e| SourceError {
                message: format!(
                    "the tree of `{}` ({}) is corrupt: {e}",
                    path.to_str_lossy(),
                    id.map(short).unwrap_or_default()
                ),
                help: Some(MISSING_HELP.into()),
            })?;
            entries.push(TreeEntry {
                name: entry.filename,
                id: entry.oid.to_owned(),
                kind: file_kind(entry.mode.kind()),
            });
        }
        entries.sort_by(|a, b| a.order(b));
        Ok(entries)
    }

    /// Appends the files under tree `id` (at `prefix`) to `out`. `skip(path, tree_id)`, when
    /// given, may decline to enter a subtree.
    fn collect_tree(
        &self,
        repo: &gix::Repository,
        id: ObjectId,
        prefix: Vec<u8>,
        out: &mut Vec<RawEntry>,
        mut skip: Option<SkipSubtree<'_>>,
    ) -> Result<(), SourceError> {
        let mut work = vec![(prefix, id)];
        while let Some((prefix, id)) = work.pop() {
            let object = self.find_tree(repo, Some(id), &prefix)?;
            for entry in self.parse_tree(object.as_ref(), Some(id), &prefix)? {
                let path = join(&prefix, entry.name);
                match entry.kind {
                    Some(kind) => out.push((path, entry.id, kind)),
                    None => {
                        let declined = match skip.as_mut() {
                            Some(skip) => skip(&path, entry.id),
                            None => false,
                        };
                        if !declined {
                            work.push((path, entry.id));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    // ----- index -----

    fn read_index(&self) -> Result<Option<gix::index::File>, SourceError> {
        if let Err(e) = std::fs::metadata(&self.index_path) {
            if e.kind() == std::io::ErrorKind::NotFound {
                return Ok(None);
            }
        }
        gix::index::File::at(
            &self.index_path,
            self.object_hash,
            false,
            Default::default(),
        )
        .map(Some)
        .map_err(|e| SourceError {
            message: format!("cannot read the index `{}`: {e}", self.index_path.display()),
            help: Some(INDEX_HELP.into()),
        })
    }

    fn list_index(
        &self,
        repo: &gix::Repository,
        index: &gix::index::File,
    ) -> Result<IndexListing, SourceError> {
        let mut listing = IndexListing::default();
        for entry in index.entries() {
            let path = entry.path(index).to_vec();
            if entry.stage_raw() != 0 {
                listing.conflicted.insert(path);
                continue;
            }
            if entry
                .flags
                .contains(gix::index::entry::Flags::INTENT_TO_ADD)
            {
                continue;
            }
            let Some(mode) = entry.mode.to_tree_entry_mode() else {
                // Not a mode Git writes; nothing sensible to lint.
                continue;
            };
            match file_kind(mode.kind()) {
                Some(kind) => listing.files.push((path, entry.id, kind)),
                None => {
                    // A sparse index records a whole directory outside the cone as its tree.
                    let mut prefix = path;
                    if prefix.last() == Some(&b'/') {
                        prefix.pop();
                    }
                    self.collect_tree(repo, entry.id, prefix, &mut listing.files, None)?;
                }
            }
        }
        Ok(listing)
    }
}

/// Decides, given a subtree's path and id, not to enter it.
type SkipSubtree<'a> = &'a mut dyn FnMut(&[u8], ObjectId) -> bool;

/// A file entry before its path is made a `String`: raw path bytes, id, kind.
type RawEntry = (Vec<u8>, ObjectId, EntryKind);

#[derive(Default)]
struct IndexListing {
    files: Vec<RawEntry>,
    /// Paths with entries in stages 1 to 3.
    conflicted: HashSet<Vec<u8>>,
}

struct TreeEntry<'a> {
    name: &'a [u8],
    id: ObjectId,
    /// `None` for a subtree.
    kind: Option<EntryKind>,
}

impl TreeEntry<'_> {
    fn order(&self, other: &Self) -> Ordering {
        gix::objs::tree::name_order(
            self.name,
            self.kind.is_none(),
            other.name,
            other.kind.is_none(),
        )
    }
}

/// The file kind of a tree entry; `None` for a subtree.
fn file_kind(kind: TreeKind) -> Option<EntryKind> {
    match kind {
        TreeKind::Tree => None,
        TreeKind::Blob => Some(EntryKind::Blob),
        TreeKind::BlobExecutable => Some(EntryKind::Executable),
        TreeKind::Link => Some(EntryKind::Symlink),
        TreeKind::Commit => Some(EntryKind::Submodule),
    }
}

/// The state of a [`GitRepo::range_commits`] walk.
#[derive(Default)]
struct Walk {
    nodes: HashMap<ObjectId, WalkNode>,
    /// Newest first; the id breaks ties so that the walk is the same on every run.
    queue: BinaryHeap<(i64, ObjectId)>,
    interesting_queued: usize,
}

struct WalkNode {
    info: CommitInfo,
    /// Reachable from the excluded end of the range.
    uninteresting: bool,
    queued: bool,
    popped: bool,
    missing_parent: bool,
}

impl Walk {
    fn add(&mut self, commit: CommitInfo, uninteresting: bool) {
        let id = commit.id;
        if let Some(node) = self.nodes.get(&id) {
            if uninteresting && !node.uninteresting {
                self.mark_uninteresting(id);
            }
            return;
        }
        self.queue.push((commit.time, id));
        if !uninteresting {
            self.interesting_queued += 1;
        }
        self.nodes.insert(
            id,
            WalkNode {
                info: commit,
                uninteresting,
                queued: true,
                popped: false,
                missing_parent: false,
            },
        );
    }

    /// Marks `id` and everything already walked below it as excluded (needed when a commit
    /// was reached from the included end first, which only clock skew allows).
    fn mark_uninteresting(&mut self, id: ObjectId) {
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            let Some(node) = self.nodes.get_mut(&id) else {
                continue;
            };
            if node.uninteresting {
                continue;
            }
            node.uninteresting = true;
            if node.queued {
                self.interesting_queued = self.interesting_queued.saturating_sub(1);
            }
            if node.popped {
                stack.extend(node.info.parents.iter().copied());
            }
        }
    }
}

/// The commits ordered parents first, ties broken by (committer time, id).
fn topological(mut commits: HashMap<ObjectId, CommitInfo>) -> Vec<CommitInfo> {
    let mut waiting: HashMap<ObjectId, usize> = HashMap::new();
    let mut children: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for (id, info) in &commits {
        let mut parents: Vec<ObjectId> = info
            .parents
            .iter()
            .copied()
            .filter(|p| commits.contains_key(p))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        waiting.insert(*id, parents.len());
        for parent in parents {
            children.entry(parent).or_default().push(*id);
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId)>> = commits
        .iter()
        .filter(|(id, _)| waiting.get(*id) == Some(&0))
        .map(|(id, info)| Reverse((info.time, *id)))
        .collect();
    let mut out = Vec::with_capacity(commits.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        for child in children.get(&id).map(Vec::as_slice).unwrap_or_default() {
            if let Some(count) = waiting.get_mut(child) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    if let Some(info) = commits.get(child) {
                        ready.push(Reverse((info.time, *child)));
                    }
                }
            }
        }
        if let Some(info) = commits.remove(&id) {
            out.push(info);
        }
    }
    out
}

/// The per-thread handle settings (see the cache constants).
/// How a Git URL names a repository, whatever the transport: `host/path`, lower case,
/// without user, port, `.git` or slashes at the ends. `https://github.com/Acme/gitops.git`,
/// `git@github.com:acme/gitops` and `ssh://git@github.com/acme/gitops/` are all
/// `github.com/acme/gitops`, and so is `https://github.com/acme/gitops.git//clusters/prod`
/// (a directory of it). `None` for local paths and URLs without a host.
pub fn repository_identity(url: &str) -> Option<String> {
    let parsed = gix::url::parse(url.trim().as_bytes().as_bstr()).ok()?;
    let host = parsed.host()?.to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let path = parsed.path.to_str_lossy();
    let path = repository_path(&path)?;
    Some(format!("{host}/{}", path.to_ascii_lowercase()))
}

/// The repository's path in a URL's path: without slashes at the ends, a `.git` suffix or
/// a `//subdir` (Argo CD and Kustomize name a directory of a repository so); `None` when
/// nothing is left.
pub fn repository_path(path: &str) -> Option<&str> {
    let path = path.trim_start_matches('/');
    let path = path
        .split("//")
        .next()
        .unwrap_or(path)
        .trim_end_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    (!path.is_empty()).then_some(path)
}

/// The identities of the remotes of the repository at `root` (empty outside a repository
/// or without remotes). Only the configuration is read; nothing is fetched or run.
pub fn own_repositories(root: &Path) -> Vec<String> {
    let Ok(repo) = gix::ThreadSafeRepository::discover_with_environment_overrides(root) else {
        return Vec::new();
    };
    let repo = repo.to_thread_local();
    let mut out: Vec<String> = repo
        .remote_names()
        .iter()
        .filter_map(|name| repo.find_remote(name.as_bstr()).ok())
        .filter_map(|remote| {
            let url = remote.url(gix::remote::Direction::Fetch)?;
            repository_identity(&url.to_bstring().to_str_lossy())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn configure(repo: &mut gix::Repository) {
    repo.object_cache_size_if_unset(OBJECT_CACHE_BYTES);
    repo.objects
        .set_pack_cache(|| Box::new(DeltaBaseCache::new(DELTA_CACHE_BYTES)));
}

/// A bounded cache of decoded pack entries, evicting the oldest first.
struct DeltaBaseCache {
    entries: HashMap<(u32, u64), (gix::objs::Kind, Vec<u8>, usize)>,
    order: VecDeque<(u32, u64)>,
    bytes: usize,
    limit: usize,
}

impl DeltaBaseCache {
    fn new(limit: usize) -> Self {
        DeltaBaseCache {
            entries: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            limit,
        }
    }
}

impl gix::odb::pack::cache::DecodeEntry for DeltaBaseCache {
    fn put(
        &mut self,
        pack_id: u32,
        offset: u64,
        data: &[u8],
        kind: gix::objs::Kind,
        compressed_size: usize,
    ) {
        // One huge object would flush everything else for little gain.
        if data.len() > self.limit / 8 || self.entries.contains_key(&(pack_id, offset)) {
            return;
        }
        while self.bytes + data.len() > self.limit {
            let Some(key) = self.order.pop_front() else {
                break;
            };
            if let Some((_, old, _)) = self.entries.remove(&key) {
                self.bytes = self.bytes.saturating_sub(old.len());
            }
        }
        self.bytes += data.len();
        self.order.push_back((pack_id, offset));
        self.entries
            .insert((pack_id, offset), (kind, data.to_vec(), compressed_size));
    }

    fn get(
        &mut self,
        pack_id: u32,
        offset: u64,
        out: &mut Vec<u8>,
    ) -> Option<(gix::objs::Kind, usize)> {
        let (kind, data, compressed_size) = self.entries.get(&(pack_id, offset))?;
        out.clear();
        out.extend_from_slice(data);
        Some((*kind, *compressed_size))
    }
}

fn is_not_a_repository(e: &gix::Error) -> bool {
    use gix::discover::upwards::Error as Upwards;
    let upwards = e.downcast_any_ref::<Upwards>().is_some_and(|e| {
        matches!(
            e,
            Upwards::NoGitRepository { .. }
                | Upwards::NoGitRepositoryWithinCeiling { .. }
                | Upwards::NoGitRepositoryWithinFs { .. }
        )
    });
    // `GIT_DIR` naming something that is not a repository.
    upwards
        || e.to_string()
            .contains("does not appear to be a git repository")
}

/// The runs of whole entries of the tree objects `old` and `new` left once the entries
/// they share byte for byte at the start and at the end are cut off. `hash_len`: the
/// bytes of an object id. Where an entry cannot be delimited (a damaged tree), nothing
/// more is cut: parsing the rest reports the damage.
fn differing_entries<'a>(old: &'a [u8], new: &'a [u8], hash_len: usize) -> (&'a [u8], &'a [u8]) {
    // An entry is `<mode> <name>\0<id>`.
    let entry_end = |data: &[u8], at: usize| -> Option<usize> {
        let nul = data.get(at..)?.iter().position(|&b| b == 0)?;
        let end = at + nul + 1 + hash_len;
        (end <= data.len()).then_some(end)
    };
    let same_prefix = shared_prefix(old, new);
    let mut start = 0;
    while let Some(end) = entry_end(old, start).filter(|&end| end <= same_prefix) {
        start = end;
    }
    let same_suffix = shared_suffix(&old[start..], &new[start..]);
    // The longest tail both share that starts an entry in each: the first entry start
    // of `old` inside the shared bytes, or a later one, where `new` has an entry start too.
    let mut shared_tail = 0;
    let (mut o, mut n) = (Some(start), Some(start));
    while let Some(o_at) = o {
        if old.len() - o_at <= same_suffix {
            let tail = old.len() - o_at;
            let Some(target) = new.len().checked_sub(tail).filter(|&t| t >= start) else {
                break;
            };
            while let Some(n_at) = n.filter(|&n_at| n_at < target) {
                n = entry_end(new, n_at);
            }
            if n == Some(target) {
                shared_tail = tail;
                break;
            }
        }
        o = entry_end(old, o_at);
    }
    (
        &old[start..old.len() - shared_tail],
        &new[start..new.len() - shared_tail],
    )
}

/// How many leading bytes two slices share (compared 32 at a time while they can be).
fn shared_prefix(a: &[u8], b: &[u8]) -> usize {
    let whole = a
        .chunks_exact(32)
        .zip(b.chunks_exact(32))
        .take_while(|(x, y)| x == y)
        .count()
        * 32;
    whole
        + a[whole..]
            .iter()
            .zip(&b[whole..])
            .take_while(|(x, y)| x == y)
            .count()
}

/// How many trailing bytes two slices share (compared 32 at a time while they can be).
fn shared_suffix(a: &[u8], b: &[u8]) -> usize {
    let whole = a
        .rchunks_exact(32)
        .zip(b.rchunks_exact(32))
        .take_while(|(x, y)| x == y)
        .count()
        * 32;
    let (a, b) = (&a[..a.len() - whole], &b[..b.len() - whole]);
    whole
        + a.iter()
            .rev()
            .zip(b.iter().rev())
            .take_while(|(x, y)| x == y)
            .count()
}

/// Walks two lists sorted by `order` side by side, calling `each` with the element of both
/// lists for equal keys, else with the one that comes first.
fn merge_join<T>(
    old: &[T],
    new: &[T],
    order: impl Fn(&T, &T) -> Ordering,
    mut each: impl FnMut(Option<&T>, Option<&T>),
) {
    let (mut old, mut new) = (old.iter().peekable(), new.iter().peekable());
    loop {
        let step = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(o), Some(n)) => order(o, n),
        };
        match step {
            Ordering::Less => each(old.next(), None),
            Ordering::Greater => each(None, new.next()),
            Ordering::Equal => each(old.next(), new.next()),
        }
    }
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut path = Vec::with_capacity(prefix.len() + 1 + name.len());
    path.extend_from_slice(prefix);
    if !prefix.is_empty() {
        path.push(b'/');
    }
    path.extend_from_slice(name);
    path
}

fn to_entry(path: &[u8], (id, kind): (ObjectId, EntryKind)) -> FileEntry {
    FileEntry {
        path: path.to_str_lossy().into_owned(),
        id,
        kind,
    }
}

fn raw_change(
    path: Vec<u8>,
    old: Option<(ObjectId, EntryKind)>,
    new: Option<(ObjectId, EntryKind)>,
) -> FileChange {
    FileChange {
        path: path.to_str_lossy().into_owned(),
        old: old.map(|o| to_entry(&path, o)),
        new: new.map(|n| to_entry(&path, n)),
    }
}

fn into_sorted_entries(raw: Vec<RawEntry>) -> Vec<FileEntry> {
    let mut entries: Vec<FileEntry> = raw
        .into_iter()
        .map(|(path, id, kind)| to_entry(&path, (id, kind)))
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries
}

fn into_sorted_changes(mut changes: Vec<FileChange>) -> Vec<FileChange> {
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    changes
}

/// An id as shown in messages.
fn short(id: ObjectId) -> String {
    id.to_hex_with_len(12).to_string()
}

fn short_ref(name: &str) -> String {
    name.strip_prefix("refs/remotes/")
        .or_else(|| name.strip_prefix("refs/heads/"))
        .unwrap_or(name)
        .to_string()
}

fn describe_range(from: Option<ObjectId>, to: ObjectId) -> String {
    match from {
        Some(from) => format!("the range {}..{}", short(from), short(to)),
        None => format!("the history of {}", short(to)),
    }
}
