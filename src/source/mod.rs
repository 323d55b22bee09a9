//! Where bytes come from. Issue 2: the working tree (a git checkout or a plain directory).

pub mod git;
pub mod worktree;

use std::fmt;
use std::path::PathBuf;

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
}

/// A source that cannot be read. Exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceError {
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}
