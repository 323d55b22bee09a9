//! The pin ledger: the tag pins in the blobs each commit added or changed, kept in the git
//! directory so that a history walk parses a commit once per repository rather than once
//! per run. An entry describes immutable objects (a commit against its first parent) and no
//! configuration: environments are applied when the ledger is read. `--no-cache` (or
//! `PROMOLINT_NO_CACHE`) neither reads nor writes it.
//!
//! It is only a cache, and an untrusted one: another branch's CI job can write it (a
//! ledger restored with `actions/cache`), a job before this one on a persistent runner can
//! leave anything in `.git/promolint`. So it is read only when it is a regular file of at
//! most [`MAX_BYTES`], never through a link and never blocking (a pipe); anything else is
//! ignored and replaced. A `promolint` directory that is a symbolic link is refused: the
//! ledger is then neither read nor written. Writes go through [`crate::fsutil`] inside the
//! real git directory. A commit whose blobs could not all be read is never recorded: the
//! object may come back.
//!
//! A ledger is believed whole when it carries a valid MAC: HMAC-SHA1 of its entries under
//! a key an attacker who can write the ledger does not have, `PROMOLINT_CACHE_KEY` (a CI
//! secret) or `promolint.key` in the git directory (made on first use, outside the
//! `promolint` directory that CI caches). Anything else it says is a claim that the
//! history index checks against the objects before it believes it
//! (`crate::history::Verify`), and it is signed again only once a walk has replaced what it
//! held.

use crate::cache::{hmac_hex, machine_key, Place, Refused};
use crate::fsutil;
use crate::model::Span;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A tag pin a commit introduced (in a file it added, or new in a file it changed), before
/// environments are applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawPin {
    pub path: String,
    pub namespace: Option<String>,
    pub component: String,
    pub tag: String,
    pub digest: Option<String>,
    pub span: Span,
    /// The blob the pin was read from (hex): a signed ledger is believed without reading
    /// it again, but not once the object is gone (see `crate::walk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

/// Bump when extraction changes what a commit's pins are, or when what may be recorded
/// changes: older ledgers are then ignored. 2: commits with unreadable blobs are no longer
/// recorded (a ledger of format 1 may hold "no pins" for them). 3: templated Terragrunt
/// sources (`"${…}?ref=v1"`) are pins, and shared files' sources are named by file and local.
/// 4: a MAC as the first member. 5: a changed file's entry holds the pins its previous
/// version did not (see `crate::walk`).
const FORMAT: u32 = 5;
/// How an authenticated ledger starts: this, the MAC in hex, then `",` and the rest of the
/// object, whose bytes (after a `{`) are what the MAC covers.
const MAC_START: &[u8] = b"{\"mac\":\"";
/// Hex digits of an HMAC-SHA1.
const MAC_HEX: usize = 40;
const FILE_NAME: &str = "pins.json";

/// The largest ledger read: about 70,000 commits of a repository like the 5,000-commit
/// benchmark's (4.4 MB there). A larger file is ignored and a ledger that would be larger
/// is not written: reading it whole would cost more than it saves.
pub const MAX_BYTES: u64 = 64 << 20;

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
    /// `None` when caching is off or the directory was refused.
    place: Option<Place>,
    stored: Stored,
    changed: bool,
    /// The key that signs and checks the ledger; `None`: none could be had, nothing is
    /// believed unchecked.
    key: Option<Vec<u8>>,
    /// Whether every entry is known to come from a walk: a new ledger, one whose MAC this
    /// key verifies, or one a walk rebuilt. Only then is it signed when saved.
    trusted: bool,
}

fn key() -> String {
    format!("promolint {} ledger {FORMAT}", env!("CARGO_PKG_VERSION"))
}

/// Why a ledger on disk was not read (for a warning: each is unusual, and may be an
/// attempt to make promolint read or write something else).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// This directory (`promolint` in the git directory) is a symbolic link: no ledger is
    /// read or written.
    LinkedDirectory(PathBuf),
    /// The file is a symbolic link, pipe, device or directory: not opened; replaced when
    /// the ledger is saved.
    NotAFile,
    /// The file is larger than [`MAX_BYTES`]: not read; replaced when the ledger is saved.
    TooLarge,
}

impl Ledger {
    /// The ledger kept in `dir` (`promolint` in the git directory; created on save), or an
    /// empty one that is never saved, and why a ledger found there was not read.
    pub fn open(dir: Option<&Path>, max_file_size: u64) -> (Self, Option<Notice>) {
        let empty = Stored {
            key: key(),
            max_file_size,
            commits: HashMap::new(),
        };
        let mut ledger = Ledger {
            place: None,
            stored: empty,
            changed: false,
            key: None,
            trusted: true,
        };
        let Some(dir) = dir else {
            return (ledger, None);
        };
        let place = match Place::open(dir) {
            Ok(place) => place,
            Err(Refused::Linked(dir)) => return (ledger, Some(Notice::LinkedDirectory(dir))),
            // Not a directory: never written.
            Err(Refused::Unusable) => return (ledger, None),
        };
        ledger.key = machine_key(&place.git_dir);
        let found = if place.exists {
            place.remove_stale_temps(FILE_NAME);
            fsutil::read_capped(&place.dir.join(FILE_NAME), MAX_BYTES)
        } else {
            // Created on save.
            Ok(fsutil::Found::Missing)
        };
        ledger.place = Some(place);
        match found {
            Ok(fsutil::Found::Bytes(bytes)) => {
                if let Some(stored) = serde_json::from_slice::<Stored>(&bytes)
                    .ok()
                    .filter(|s| s.key == key() && s.max_file_size == max_file_size)
                {
                    let signed = match (&ledger.key, split_mac(&bytes)) {
                        (Some(key), Some((mac, rest))) => hmac_hex(key, &[b"{", rest]) == mac,
                        _ => false,
                    };
                    ledger.trusted = signed || stored.commits.is_empty();
                    ledger.stored = stored;
                }
                (ledger, None)
            }
            Ok(fsutil::Found::NotAFile) => (ledger, Some(Notice::NotAFile)),
            Ok(fsutil::Found::TooLarge) => (ledger, Some(Notice::TooLarge)),
            // Missing, or unreadable (a cache: walk without it).
            Ok(fsutil::Found::Missing) | Err(_) => (ledger, None),
        }
    }

    /// Whether every entry may be believed without checking it against the objects: the
    /// ledger is new, or this run's key signed it (see the module documentation).
    pub fn trusted(&self) -> bool {
        self.trusted
    }

    /// Its file, when it is kept in one.
    pub fn file(&self) -> Option<PathBuf> {
        self.place.as_ref().map(|p| p.dir.join(FILE_NAME))
    }

    pub fn get(&self, commit: &str) -> Option<&[RawPin]> {
        self.stored.commits.get(commit).map(Vec::as_slice)
    }

    pub fn insert(&mut self, commit: String, pins: Vec<RawPin>) {
        self.stored.commits.insert(commit, pins);
        self.changed = true;
    }

    /// Forget every entry (a ledger that disagreed with the repository). What is inserted
    /// from now on comes from walks: the ledger is signed again when saved.
    pub fn clear(&mut self) {
        self.stored.commits.clear();
        self.changed = true;
        self.trusted = true;
    }

    /// Write the ledger if it learnt something. Failures are ignored (a read-only
    /// repository still lints); a temporary file and a rename keep concurrent runs from
    /// reading half a ledger.
    pub fn save(&mut self) {
        let Some(place) = self.place.as_ref().filter(|_| self.changed) else {
            return;
        };
        self.changed = false;
        let Ok(entries) = serde_json::to_vec(&self.stored) else {
            return;
        };
        let bytes = match (self.key.as_ref().filter(|_| self.trusted), entries.get(1..)) {
            (Some(key), Some(rest)) if entries.starts_with(b"{") => {
                let mut signed = Vec::with_capacity(entries.len() + 64);
                signed.extend_from_slice(MAC_START);
                signed.extend_from_slice(hmac_hex(key, &[&entries]).as_bytes());
                signed.extend_from_slice(b"\",");
                signed.extend_from_slice(rest);
                signed
            }
            _ => entries,
        };
        if bytes.len() as u64 > MAX_BYTES {
            return;
        }
        if !place.ensure() {
            return;
        }
        let _ = fsutil::replace_own(&place.dir.join(FILE_NAME), &bytes, &place.git_dir);
    }
}

/// The MAC a ledger file starts with (hex), and the bytes after it that it covers (the
/// object's other members and its closing brace).
fn split_mac(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let rest = bytes.strip_prefix(MAC_START)?;
    let mac = std::str::from_utf8(rest.get(..MAC_HEX)?).ok()?;
    let rest = rest.get(MAC_HEX..)?.strip_prefix(b"\",")?;
    Some((mac, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(tag: &str) -> RawPin {
        RawPin {
            path: "envs/kestrel-dev/main.tf".into(),
            namespace: None,
            component: "lxc_rootfs_version".into(),
            tag: tag.into(),
            digest: None,
            span: Span::default(),
            blob: None,
        }
    }

    /// A fresh `…/git` directory and its `promolint` directory (not created).
    fn git_dir(tag: &str) -> (PathBuf, PathBuf) {
        let git =
            std::env::temp_dir().join(format!("promolint-ledger-{tag}-{}/git", std::process::id()));
        let _ = std::fs::remove_dir_all(git.parent().unwrap());
        std::fs::create_dir_all(&git).unwrap();
        let dir = git.join("promolint");
        (git, dir)
    }

    fn open(dir: &Path, max: u64) -> Ledger {
        Ledger::open(Some(dir), max).0
    }

    #[test]
    fn round_trips_and_ignores_a_ledger_of_another_size_limit_or_garbage() {
        let (git, dir) = git_dir("roundtrip");
        let mut l = open(&dir, 1000);
        l.insert("c1".into(), vec![pin("v6")]);
        l.save();
        assert_eq!(open(&dir, 1000).get("c1"), Some(&[pin("v6")][..]));
        assert_eq!(open(&dir, 2000).get("c1"), None);
        std::fs::write(dir.join(FILE_NAME), b"{not json").unwrap();
        assert_eq!(open(&dir, 1000).get("c1"), None);
        let _ = std::fs::remove_dir_all(git.parent().unwrap());
    }

    #[test]
    fn a_signed_ledger_is_trusted_and_an_edited_one_only_claims() {
        let (git, dir) = git_dir("signed");
        let mut l = open(&dir, 1000);
        assert!(l.trusted(), "a new ledger holds only what walks insert");
        l.insert("c1".into(), vec![pin("v6")]);
        l.save();
        assert!(git.join("promolint.key").is_file());
        let read = open(&dir, 1000);
        assert!(read.trusted() && read.get("c1").is_some());
        // Edited: still read, as claims to check, and not signed again when saved.
        let file = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&file).unwrap().replace("v6", "v7");
        std::fs::write(&file, text).unwrap();
        let mut edited = open(&dir, 1000);
        assert!(!edited.trusted());
        assert_eq!(edited.get("c1"), Some(&[pin("v7")][..]));
        edited.insert("c2".into(), vec![pin("v8")]);
        edited.save();
        assert!(!open(&dir, 1000).trusted(), "an unchecked claim was signed");
        // Rebuilt by a walk: signed again.
        let mut rebuilt = open(&dir, 1000);
        rebuilt.clear();
        rebuilt.insert("c1".into(), vec![pin("v6")]);
        rebuilt.save();
        assert!(open(&dir, 1000).trusted());
        // Another key (another clone, a cache restored elsewhere): not trusted.
        std::fs::write(git.join("promolint.key"), "0".repeat(64)).unwrap();
        assert!(!open(&dir, 1000).trusted());
        let _ = std::fs::remove_dir_all(git.parent().unwrap());
    }

    #[test]
    fn without_a_directory_nothing_is_written() {
        let mut l = Ledger::open(None, 1000).0;
        l.insert("c1".into(), vec![pin("v6")]);
        l.save();
        assert_eq!(l.get("c1"), Some(&[pin("v6")][..]));
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_directory_is_neither_read_nor_written() {
        let (git, dir) = git_dir("linked");
        let elsewhere = git.parent().unwrap().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &dir).unwrap();
        let (mut l, notice) = Ledger::open(Some(&dir), 1000);
        assert!(matches!(notice, Some(Notice::LinkedDirectory(d)) if d.ends_with("promolint")));
        l.insert("c1".into(), vec![pin("v6")]);
        l.save();
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(git.parent().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn links_pipes_and_oversized_files_are_ignored_and_replaced() {
        let (git, dir) = git_dir("special");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(FILE_NAME);
        let mut l = open(&dir, 1000);
        l.insert("c1".into(), vec![pin("v6")]);
        l.save();
        let good = std::fs::read(&file).unwrap();
        let victim = git.parent().unwrap().join("victim");
        std::fs::write(&victim, &good).unwrap();
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&victim, &file).unwrap();
        let (mut l, notice) = Ledger::open(Some(&dir), 1000);
        assert_eq!(notice, Some(Notice::NotAFile));
        assert_eq!(l.get("c1"), None, "read through a link");
        l.insert("c2".into(), vec![pin("v7")]);
        l.save();
        assert_eq!(
            std::fs::read(&victim).unwrap(),
            good,
            "written through a link"
        );
        assert!(std::fs::symlink_metadata(&file).unwrap().is_file());
        // Over the cap: ignored, not read.
        let mut big = good.clone();
        big.resize(MAX_BYTES as usize + 1, b' ');
        std::fs::write(&file, &big).unwrap();
        let (l, notice) = Ledger::open(Some(&dir), 1000);
        assert_eq!((l.get("c1"), notice), (None, Some(Notice::TooLarge)));
        let _ = std::fs::remove_dir_all(git.parent().unwrap());
    }

    #[test]
    fn stale_temporary_files_are_removed() {
        let (git, dir) = git_dir("stale");
        std::fs::create_dir_all(&dir).unwrap();
        let old = dir.join(format!("{FILE_NAME}.12345.tmp"));
        let young = dir.join(format!("{FILE_NAME}.12346.0.tmp"));
        let other = dir.join("notes.tmp");
        for f in [&old, &young, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
        for f in [&old, &other] {
            std::fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        open(&dir, 1000);
        assert!(!old.exists() && young.exists() && other.exists());
        let _ = std::fs::remove_dir_all(git.parent().unwrap());
    }
}
