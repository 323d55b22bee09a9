//! The pin ledger: the tag pins in the blobs each commit added or changed, kept in the git
//! directory so that a history walk parses a commit once per repository rather than once
//! per run. An entry describes immutable objects (a commit against its first parent) and no
//! configuration: environments are applied when the ledger is read. It is only a cache:
//! a missing, unreadable or foreign file is ignored and rewritten, and `--no-cache` (or
//! `PROMOLINT_NO_CACHE`) neither reads nor writes it.

use crate::model::Span;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A tag pin in a blob a commit introduced, before environments are applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPin {
    pub path: String,
    pub namespace: Option<String>,
    pub component: String,
    pub tag: String,
    pub digest: Option<String>,
    pub span: Span,
}

/// Bump when extraction changes what a commit's pins are: older ledgers are then ignored.
const FORMAT: u32 = 1;
const FILE_NAME: &str = "pins.json";

#[derive(Default, Serialize, Deserialize)]
struct Stored {
    /// promolint's version and [`FORMAT`]: a ledger written by another build is not read.
    key: String,
    /// Blobs over the size limit hold no pins, so the limit is part of what was recorded.
    max_file_size: u64,
    commits: HashMap<String, Vec<RawPin>>,
}

/// The pins of commits, by commit id (hex).
pub struct Ledger {
    /// Where it is kept; `None` when caching is off.
    file: Option<PathBuf>,
    stored: Stored,
    changed: bool,
}

fn key() -> String {
    format!("promolint {} ledger {FORMAT}", env!("CARGO_PKG_VERSION"))
}

impl Ledger {
    /// The ledger kept in `dir` (created on save), or an empty one that is never saved.
    pub fn open(dir: Option<&Path>, max_file_size: u64) -> Self {
        let file = dir.map(|d| d.join(FILE_NAME));
        let stored = file
            .as_deref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|bytes| serde_json::from_slice::<Stored>(&bytes).ok())
            .filter(|s| s.key == key() && s.max_file_size == max_file_size)
            .unwrap_or_else(|| Stored {
                key: key(),
                max_file_size,
                commits: HashMap::new(),
            });
        Ledger {
            file,
            stored,
            changed: false,
        }
    }

    pub fn get(&self, commit: &str) -> Option<&[RawPin]> {
        self.stored.commits.get(commit).map(Vec::as_slice)
    }

    pub fn insert(&mut self, commit: String, pins: Vec<RawPin>) {
        self.stored.commits.insert(commit, pins);
        self.changed = true;
    }

    /// Write the ledger if it learnt something. Failures are ignored (a read-only
    /// repository still lints); a temporary file and a rename keep concurrent runs from
    /// reading half a ledger.
    pub fn save(&mut self) {
        let Some(file) = self.file.as_deref().filter(|_| self.changed) else {
            return;
        };
        let Some(dir) = file.parent() else {
            return;
        };
        let tmp = dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .ok()
            .and_then(|()| serde_json::to_vec(&self.stored).ok())
            .and_then(|bytes| std::fs::write(&tmp, bytes).ok())
            .and_then(|()| std::fs::rename(&tmp, file).ok());
        if written.is_none() {
            let _ = std::fs::remove_file(&tmp);
        }
        self.changed = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(tag: &str) -> RawPin {
        RawPin {
            path: "envs/samakia-dev/main.tf".into(),
            namespace: None,
            component: "lxc_rootfs_version".into(),
            tag: tag.into(),
            digest: None,
            span: Span::default(),
        }
    }

    #[test]
    fn round_trips_and_ignores_a_ledger_of_another_size_limit_or_garbage() {
        let dir = std::env::temp_dir().join(format!("promolint-ledger-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut l = Ledger::open(Some(&dir), 1000);
        l.insert("c1".into(), vec![pin("v6")]);
        l.save();
        assert_eq!(
            Ledger::open(Some(&dir), 1000).get("c1"),
            Some(&[pin("v6")][..])
        );
        assert_eq!(Ledger::open(Some(&dir), 2000).get("c1"), None);
        std::fs::write(dir.join(FILE_NAME), b"{not json").unwrap();
        assert_eq!(Ledger::open(Some(&dir), 1000).get("c1"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn without_a_directory_nothing_is_written() {
        let mut l = Ledger::open(None, 1000);
        l.insert("c1".into(), vec![pin("v6")]);
        l.save();
        assert_eq!(l.get("c1"), Some(&[pin("v6")][..]));
    }
}
