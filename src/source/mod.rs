//! Where bytes come from. Issue 2: the working tree (a git checkout or a plain directory).

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
    /// Paths that cannot be read at all (path, reason), reported as unreadable.
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
