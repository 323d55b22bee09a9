//! Byte-exact edits of repository files: the one way `promote` (and `--fix`) change a file.
//!
//! An [`Edit`] replaces one byte range of one file; every other byte stays as it was, so
//! comments, quoting, indentation and line endings survive by construction. A [`ChangeSet`]
//! holds the old and new text of every file a set of edits touches, renders them as a
//! unified diff (`--dry-run`) and writes them all or none.
//!
//! At the bottom of the layers: it knows files and bytes, nothing of pins or rules.

mod diff;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One byte-range replacement in one file (repo-relative path, '/'-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub path: String,
    pub range: Range<usize>,
    pub replacement: String,
}

/// Why edits could not be applied or written. Each names the file and what to do.
#[derive(Debug)]
pub enum EditError {
    /// Two edits of one file overlap (or insert at one place): their order is undefined.
    Overlap {
        path: String,
        first: Range<usize>,
        second: Range<usize>,
    },
    /// An edit's range is reversed or ends past the end of the text.
    OutOfBounds {
        path: String,
        range: Range<usize>,
        len: usize,
    },
    /// An edit's range would cut a multi-byte character.
    NotCharBoundary { path: String, offset: usize },
    /// The path is not a plain repository-relative path to a regular file (absolute, `..`,
    /// a symbolic link on the way, a directory).
    BadPath { path: String, why: String },
    /// The file is not UTF-8 text.
    NotText { path: String },
    /// The file changed on disk between reading it and writing it.
    Changed { path: String },
    Io {
        path: String,
        what: &'static str,
        error: io::Error,
    },
    /// Writing failed and undoing the files already replaced failed too.
    Undo {
        path: String,
        error: io::Error,
        not_restored: Vec<String>,
    },
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::Overlap {
                path,
                first,
                second,
            } => write!(
                f,
                "{path}: edits of bytes {}..{} and {}..{} overlap\n  help: this is a bug in promolint; please report it with the command line",
                first.start, first.end, second.start, second.end
            ),
            EditError::OutOfBounds { path, range, len } => write!(
                f,
                "{path}: an edit of bytes {}..{} falls outside the file ({len} bytes)\n  help: the file changed since it was read; run the command again",
                range.start, range.end
            ),
            EditError::NotCharBoundary { path, offset } => write!(
                f,
                "{path}: an edit at byte {offset} would cut a character in two\n  help: the file changed since it was read; run the command again"
            ),
            EditError::BadPath { path, why } => write!(
                f,
                "{path}: not written: {why}\n  help: promolint edits regular files inside the repository only"
            ),
            EditError::NotText { path } => write!(
                f,
                "{path}: not UTF-8 text, so it cannot be edited\n  help: re-encode the file as UTF-8"
            ),
            EditError::Changed { path } => write!(
                f,
                "{path}: changed on disk since promolint read it; nothing was written\n  help: run the command again once nothing else edits the file"
            ),
            EditError::Io { path, what, error } => write!(
                f,
                "{path}: cannot {what}: {error}; nothing was written\n  help: check the file's and its directory's permissions and the free space"
            ),
            EditError::Undo {
                path,
                error,
                not_restored,
            } => write!(
                f,
                "{path}: cannot replace the file: {error}; and these files already written could not be put back: {}\n  help: restore them with `git checkout -- <file>` or from the diff shown by `--dry-run`",
                not_restored.join(", ")
            ),
        }
    }
}

impl std::error::Error for EditError {}

/// Apply `edits` (any order) to `text`: sorted by range, rejected if two overlap (or insert
/// at the same offset) or a range is out of bounds or not on character boundaries.
pub fn apply(text: &str, edits: &[&Edit]) -> Result<String, EditError> {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    // The same edit twice (two environments' pins at one shared span) is one edit.
    sorted.dedup_by(|b, a| a.range == b.range && a.replacement == b.replacement);
    for e in &sorted {
        if e.range.start > e.range.end || e.range.end > text.len() {
            return Err(EditError::OutOfBounds {
                path: e.path.clone(),
                range: e.range.clone(),
                len: text.len(),
            });
        }
        for offset in [e.range.start, e.range.end] {
            if !text.is_char_boundary(offset) {
                return Err(EditError::NotCharBoundary {
                    path: e.path.clone(),
                    offset,
                });
            }
        }
    }
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.range.start < a.range.end || b.range.start == a.range.start {
            return Err(EditError::Overlap {
                path: b.path.clone(),
                first: a.range.clone(),
                second: b.range.clone(),
            });
        }
    }
    let grows: usize = sorted.iter().map(|e| e.replacement.len()).sum();
    let mut out = String::with_capacity(text.len() + grows);
    let mut at = 0;
    for e in sorted {
        out.push_str(&text[at..e.range.start]);
        out.push_str(&e.replacement);
        at = e.range.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Old and new text of every file touched, built from the working tree under `root`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    files: BTreeMap<String, (String, String)>,
}

impl ChangeSet {
    /// Read every file the edits name under `root` and apply its edits.
    pub fn from_edits(root: &Path, edits: &[Edit]) -> Result<ChangeSet, EditError> {
        let mut by_path: BTreeMap<&str, Vec<&Edit>> = BTreeMap::new();
        for e in edits {
            by_path.entry(e.path.as_str()).or_default().push(e);
        }
        let mut files = BTreeMap::new();
        for (path, edits) in by_path {
            let old = read_text(root, path)?;
            let new = apply(&old, &edits)?;
            files.insert(path.to_string(), (old, new));
        }
        Ok(ChangeSet { files })
    }

    /// A change set from texts already in memory: path → (old, new).
    pub fn from_texts(files: BTreeMap<String, (String, String)>) -> ChangeSet {
        ChangeSet { files }
    }

    /// Every file touched, in path order: (path, old text, new text).
    pub fn files(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.files
            .iter()
            .map(|(p, (old, new))| (p.as_str(), old.as_str(), new.as_str()))
    }

    /// Whether no file's text changes.
    pub fn is_empty(&self) -> bool {
        self.files.values().all(|(old, new)| old == new)
    }

    /// Git-style unified diff of every changed file (`--- a/x`, `+++ b/x`, hunks with three
    /// lines of context), exact bytes: line endings kept, a missing final newline marked.
    pub fn unified_diff(&self) -> String {
        self.files
            .iter()
            .map(|(path, (old, new))| diff::file_diff(path, old, new))
            .collect()
    }

    /// Write every changed file under `root`, all or none: each new text goes to a
    /// temporary file beside its target (synced to disk), and only when all are written are
    /// they renamed over their targets; a failed rename puts back the files already
    /// replaced. Refused, before anything is written, when a file changed on disk since
    /// [`ChangeSet::from_edits`] read it.
    pub fn write(&self, root: &Path) -> Result<(), EditError> {
        self.write_with(root, &mut |_| Ok(()))
    }

    /// [`ChangeSet::write`] with a hook called before the `n`th rename (tests make it fail).
    fn write_with(
        &self,
        root: &Path,
        before_rename: &mut dyn FnMut(usize) -> io::Result<()>,
    ) -> Result<(), EditError> {
        let changed: Vec<(&String, &String, &String)> = self
            .files
            .iter()
            .filter(|(_, (old, new))| old != new)
            .map(|(p, (old, new))| (p, old, new))
            .collect();
        // Nothing is written unless every file is still what was read.
        let mut targets = Vec::with_capacity(changed.len());
        for &(path, old, _) in &changed {
            let target = checked_path(root, path)?;
            let now = fs::read(&target).map_err(|error| EditError::Io {
                path: path.clone(),
                what: "read it",
                error,
            })?;
            if now != old.as_bytes() {
                return Err(EditError::Changed { path: path.clone() });
            }
            targets.push(target);
        }
        let mut temps: Vec<PathBuf> = Vec::with_capacity(changed.len());
        for (&(path, _, new), target) in changed.iter().zip(&targets) {
            match write_temp(target, new.as_bytes()) {
                Ok(temp) => temps.push(temp),
                Err(error) => {
                    remove_all(&temps);
                    return Err(EditError::Io {
                        path: path.clone(),
                        what: "write a temporary file beside it",
                        error,
                    });
                }
            }
        }
        for (n, ((&(path, _, _), target), temp)) in
            changed.iter().zip(&targets).zip(&temps).enumerate()
        {
            let renamed = before_rename(n).and_then(|()| fs::rename(temp, target));
            if let Err(error) = renamed {
                remove_all(&temps[n..]);
                let mut not_restored = Vec::new();
                for (&(done, old, _), done_target) in changed.iter().zip(&targets).take(n) {
                    let restored = write_temp(done_target, old.as_bytes()).and_then(|t| {
                        fs::rename(&t, done_target).inspect_err(|_| {
                            let _ = fs::remove_file(&t);
                        })
                    });
                    if restored.is_err() {
                        not_restored.push(done.clone());
                    }
                }
                if not_restored.is_empty() {
                    return Err(EditError::Io {
                        path: path.clone(),
                        what: "replace it",
                        error,
                    });
                }
                return Err(EditError::Undo {
                    path: path.clone(),
                    error,
                    not_restored,
                });
            }
        }
        sync_dirs(&targets);
        Ok(())
    }
}

/// `path` under `root`, refused unless it is a plain relative path to a regular file with no
/// symbolic link on the way: an edit never writes outside the repository or through a link.
fn checked_path(root: &Path, path: &str) -> Result<PathBuf, EditError> {
    let bad = |why: String| EditError::BadPath {
        path: path.to_string(),
        why,
    };
    let rel = Path::new(path);
    if path.is_empty()
        || path.contains('\\')
        || rel.components().any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(bad("not a plain repository-relative path".to_string()));
    }
    let mut at = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let meta = fs::symlink_metadata(&at).map_err(|error| EditError::Io {
            path: path.to_string(),
            what: "read it",
            error,
        })?;
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() {
            return Err(bad(format!(
                "{} is a symbolic link",
                parts[..=i]
                    .iter()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            )));
        }
        if last && !meta.is_file() {
            return Err(bad("not a regular file".to_string()));
        }
        if !last && !meta.is_dir() {
            return Err(bad("a directory on the way is not one".to_string()));
        }
    }
    Ok(at)
}

fn read_text(root: &Path, path: &str) -> Result<String, EditError> {
    let target = checked_path(root, path)?;
    let bytes = fs::read(&target).map_err(|error| EditError::Io {
        path: path.to_string(),
        what: "read it",
        error,
    })?;
    String::from_utf8(bytes).map_err(|_| EditError::NotText {
        path: path.to_string(),
    })
}

/// `N` of the next temporary file.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to a new file `.NAME.PID.N.promolint.tmp` beside `target` (created
/// exclusively, so an existing name or a planted link is never opened), with `target`'s
/// permissions, synced to disk.
fn write_temp(target: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let perms = fs::metadata(target).map(|m| m.permissions()).ok();
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..16 {
        let temp = dir.join(format!(
            ".{name}.{}.{}.promolint.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut file: File = match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                last = e;
                continue;
            }
            Err(e) => return Err(e),
        };
        let written = file
            .write_all(bytes)
            .and_then(|()| match &perms {
                Some(p) => file.set_permissions(p.clone()),
                None => Ok(()),
            })
            .and_then(|()| file.sync_all());
        return match written {
            Ok(()) => Ok(temp),
            Err(e) => {
                let _ = fs::remove_file(&temp);
                Err(e)
            }
        };
    }
    Err(last)
}

fn remove_all(temps: &[PathBuf]) {
    for t in temps {
        let _ = fs::remove_file(t);
    }
}

/// Sync the directories of renamed files, so the renames survive a crash (Unix; elsewhere a
/// directory cannot be opened for syncing). Best effort: the files are already in place.
fn sync_dirs(targets: &[PathBuf]) {
    #[cfg(unix)]
    {
        let mut dirs: Vec<&Path> = targets.iter().filter_map(|t| t.parent()).collect();
        dirs.sort();
        dirs.dedup();
        for d in dirs {
            if let Ok(f) = File::open(d) {
                let _ = f.sync_all();
            }
        }
    }
    #[cfg(not(unix))]
    let _ = targets;
}

#[cfg(test)]
mod tests;
