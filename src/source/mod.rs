//! Where bytes come from. Issue 2: the working tree (a git checkout or a plain directory).

pub mod git;
pub mod worktree;

pub use crate::error::SourceError;
use std::path::{Path, PathBuf};

/// The files of a working tree that promolint considers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileList {
    /// The repository root (or the plain directory given).
    pub root: PathBuf,
    /// Paths relative to `root`, `/`-separated, sorted, unique.
    pub files: Vec<String>,
    /// Whether `root` is a git working tree (files are tracked + untracked-not-ignored).
    pub git: bool,
    /// `(path, reason)` for paths the engine reports as unreadable (PL000) instead of reading:
    /// names that are not valid UTF-8 (converted lossily; not in `files`, since no file has
    /// that name) and directories that could not be listed. Sorted.
    pub skipped: Vec<(String, String)>,
    /// The repository's cache directory (`promolint` in its git directory), for a git
    /// working tree.
    pub cache_dir: Option<PathBuf>,
    /// What the index records of the tracked regular files (by path): their blob ids, and
    /// the stat that says whether the file on disk is still that blob (see
    /// [`worktree::IndexedFile::unchanged`]). Empty outside a git working tree.
    pub indexed: std::collections::HashMap<String, worktree::IndexedFile>,
}

/// When discovery found no repository at or above `start`: an error if there is a `.git`
/// nonetheless (a file of garbage, a directory without `HEAD` or `objects`) where Git's
/// discovery would have looked (up to `GIT_CEILING_DIRECTORIES` and, unless
/// `GIT_DISCOVERY_ACROSS_FILESYSTEM` says otherwise, the file system's boundary). Linting such
/// a tree as a plain directory would judge it without its history; a directory with no
/// `.git` anywhere is a plain directory. `None` when there is no `.git` to blame.
pub(crate) fn broken_git_dir(start: &Path) -> Option<SourceError> {
    let start = std::fs::canonicalize(start).ok()?;
    let options = gix::discover::upwards::Options::default().apply_environment();
    let ceilings: Vec<PathBuf> = options
        .ceiling_dirs
        .iter()
        .map(|c| std::fs::canonicalize(c).unwrap_or_else(|_| c.clone()))
        .collect();
    let cross_fs = std::env::var("GIT_DISCOVERY_ACROSS_FILESYSTEM")
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"));
    let device = device_of(&start)?;
    let mut dir = start.as_path();
    loop {
        let dot_git = dir.join(".git");
        if std::fs::symlink_metadata(&dot_git).is_ok() {
            let why = match gix::discover::is_git(&dot_git) {
                Err(e) => e.to_string(),
                Ok(_) => "Git cannot open it".to_string(),
            };
            return Some(SourceError {
                message: format!(
                    "not a usable git repository: `{}` exists but is broken: {why}",
                    dot_git.display()
                ),
                help: Some(
                    "repair it (a `.git` file must hold `gitdir: PATH`; a `.git` directory needs \
                     `HEAD`, `objects` and `refs`: `git fsck` tells what is missing), or remove it \
                     to lint the directory as plain files; promolint does not fall back to plain \
                     files where Git's data is broken"
                        .into(),
                ),
            });
        }
        let parent = dir.parent()?;
        if ceilings.iter().any(|c| c == parent) || (!cross_fs && device_of(parent)? != device) {
            return None;
        }
        dir = parent;
    }
}

/// The file system a path is on (`None` where that cannot be told).
fn device_of(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| m.dev())
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).ok().map(|_| 0)
    }
}
