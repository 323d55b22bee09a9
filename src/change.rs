//! A change: two snapshots (before, after), the files that differ, and the history before
//! it. Change rules (PL004–PL008) look at a change.

use crate::config::Config;
use crate::history::HistoryIndex;
use crate::snapshot::{EffectivePin, Snapshot};
use std::sync::OnceLock;

/// How a file differs between the two sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Deleted,
    Modified,
    /// Same content under a new path (`old_path` is where it was).
    Renamed,
}

/// One file that differs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChangedFile {
    pub kind: ChangeKind,
    /// The path after the change (for a deletion: the deleted path).
    pub path: String,
    /// For a rename: the path before.
    pub old_path: Option<String>,
}

/// What a change rule sees.
pub struct ChangeContext<'a> {
    /// The base (for `staged`: HEAD; for `history`: the first parent).
    pub before: &'a Snapshot,
    /// The head (for `staged`: the index).
    pub after: &'a Snapshot,
    /// The files that differ, sorted by path.
    pub files: &'a [ChangedFile],
    /// Versions pinned in the history up to and including `before`.
    pub history: &'a HistoryIndex,
    /// The commit under review in `history` mode (findings carry it).
    pub commit: Option<&'a str>,
    pub config: &'a Config,
    /// See [`ChangeContext::moved_pins`]; computed on first use.
    moved: OnceLock<Vec<usize>>,
}

impl<'a> ChangeContext<'a> {
    pub fn new(
        before: &'a Snapshot,
        after: &'a Snapshot,
        files: &'a [ChangedFile],
        history: &'a HistoryIndex,
        commit: Option<&'a str>,
        config: &'a Config,
    ) -> Self {
        ChangeContext {
            before,
            after,
            files,
            history,
            commit,
            config,
            moved: OnceLock::new(),
        }
    }

    /// The after side's pins in (environment, component) groups that this change altered,
    /// in file order. A pin outside them pins what its environment already pinned before,
    /// so no change rule has anything to say about it; skipping them keeps a change's cost
    /// proportional to the change, not to the repository.
    pub(crate) fn moved_pins(&self) -> impl Iterator<Item = &'a EffectivePin> + '_ {
        self.moved
            .get_or_init(|| self.after.pins_moved_since(self.before))
            .iter()
            .map(|&i| &self.after.pins[i])
    }

    /// Whether `path` is among the changed files (after the change).
    #[cfg(test)]
    pub(crate) fn changed(&self, path: &str) -> bool {
        self.changed_file(path).is_some()
    }

    /// The changed file at `path` (after the change), found by binary search: `files` is
    /// sorted by path, so a rule asking once per pin or artifact stays linear in the change.
    pub(crate) fn changed_file(&self, path: &str) -> Option<&'a ChangedFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// The changed files under directory `dir` (not deleted), in path order.
    pub(crate) fn changed_under(&self, dir: &str) -> impl Iterator<Item = &'a ChangedFile> + '_ {
        let prefix = format!("{dir}/");
        let from = self
            .files
            .partition_point(|f| f.path.as_str() < prefix.as_str());
        self.files[from..]
            .iter()
            .take_while(move |f| f.path.starts_with(&prefix))
            .filter(|f| f.kind != ChangeKind::Deleted)
    }
}
