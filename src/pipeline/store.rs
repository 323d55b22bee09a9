//! The fact store: the facts of every blob a run extracted, kept in the git directory
//! (`promolint/facts.bin`, beside the pin ledger) so that the next run, or the next CI job
//! that restores the directory with `actions/cache`, extracts only the blobs it has never
//! seen. `--no-cache` (or `PROMOLINT_NO_CACHE`) neither reads nor writes it.
//!
//! A record is keyed by the blob's id and the path it was extracted at (the path chooses the
//! format), and holds the blob's length: a record of a blob longer than this run's
//! `max_file_size` is a miss, since the run would not have read it. Only what was extracted
//! from bytes that were read is recorded: what an object's absence, damage or size made
//! unreadable is never recorded, as it depends on this copy and this run; what extraction
//! made of the bytes (facts, or "not UTF-8", or a parse error) depends on nothing else.
//!
//! The file is a header (format and promolint version: any other is ignored whole) and a
//! sequence of batches, each its records and an HMAC-SHA1 over them under the caches' key
//! (see [`crate::cache`]): the store is untrusted input (a cache restored from another
//! branch could claim that a blob holds no pin, which would clear a finding), so a record is
//! believed only once its batch's MAC verifies, which happens on the first lookup that hits
//! it. A run appends one write of batches; a torn tail stops the reading, and the next write
//! rewrites the file. When the file holds much more than the run used, or would pass
//! [`MAX_BYTES`], a run that looked at whole trees rewrites it with what it used (a
//! temporary file and a rename). The directory is refused when it is a symbolic link, and
//! the file read only when it is a regular file (see [`crate::fsutil::read_capped`]).

use crate::cache::{self, Place};
use crate::fsutil;
use crate::model::codec::{decode_all, put_varint, Encode, Reader};
use crate::snapshot::FileFacts;
use crate::source::git::ObjectId;
use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

const FILE_NAME: &str = "facts.bin";
const MAGIC: &[u8; 8] = b"PLFACTS\n";
/// Bump when the encoding of facts or the layout of the file changes. (promolint's version
/// is in the header too: a build that extracts differently never reads another's records.)
const FORMAT: u32 = 1;
const BATCH_MAGIC: &[u8; 4] = b"BTCH";
/// What a batch's MAC covers besides its records: says what the MAC is for, so that no
/// other MAC under the same key (the pin ledger's) passes for one.
const MAC_DOMAIN: &[u8] = b"promolint fact store batch\0";
const MAC_LEN: usize = 20;
/// Records per batch are cut at about this many bytes: batches are verified on first use,
/// each by one thread, so a lookup that needs one record checks a small batch, and a run
/// that needs all of them checks them on every core.
const BATCH_BYTES: usize = 256 << 10;
/// The largest store read or written: a larger file is ignored, and a store that would be
/// larger is rewritten with what the run used.
pub const MAX_BYTES: u64 = 64 << 20;
/// A file smaller than this is never compacted: rewriting it would cost more than reading
/// its stale records.
const COMPACT_MIN: usize = 1 << 20;
/// A file holding more than this many times the records a whole-tree run used is
/// rewritten with those.
const COMPACT_RATIO: usize = 4;

/// The header every store file starts with: magic, format, promolint's version.
fn header() -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT.to_le_bytes());
    env!("CARGO_PKG_VERSION").encode(&mut out);
    out
}

/// One record in the file.
struct Record {
    batch: u32,
    /// The next record with the same blob id (`u32::MAX`: none); the newest comes first.
    next: u32,
    /// The blob's length in bytes.
    len: u64,
    /// The path, in the file's bytes.
    path: std::ops::Range<usize>,
    /// The whole record, then its encoded facts, in the file's bytes.
    raw: std::ops::Range<usize>,
    body: std::ops::Range<usize>,
}

/// A batch of records and its MAC, in the file's bytes.
struct Batch {
    /// Length and records: what the MAC covers after the header.
    covered: std::ops::Range<usize>,
    mac: std::ops::Range<usize>,
    verified: OnceLock<bool>,
}

/// The facts of blobs extracted by earlier runs, and those this run adds.
pub struct FactStore {
    place: Place,
    key: Vec<u8>,
    header: Vec<u8>,
    /// The file as read (empty when there was none to read).
    bytes: Vec<u8>,
    batches: Vec<Batch>,
    records: Vec<Record>,
    /// First record of each blob id.
    index: crate::model::hash::HashMap<ObjectId, u32>,
    /// Which records a lookup of this run returned (kept when the file is compacted).
    used: Vec<AtomicBool>,
    /// Whether the file must be rewritten rather than appended to: missing, of another
    /// format, or with a torn tail that would hide what is appended after it.
    rewrite: bool,
    /// Records extracted by this run, encoded.
    fresh: Mutex<Vec<Vec<u8>>>,
}

impl FactStore {
    /// The store in `dir` (`promolint` in the git directory; created on save). `None` when
    /// it cannot be used: `dir` is a symbolic link or not a directory, or no key can be had
    /// (nothing could be verified).
    pub fn open(dir: &Path) -> Option<FactStore> {
        let place = Place::open(dir).ok()?;
        let key = cache::machine_key(&place.git_dir)?;
        let found = if place.exists {
            place.remove_stale_temps(FILE_NAME);
            fsutil::read_capped(&place.dir.join(FILE_NAME), MAX_BYTES)
        } else {
            Ok(fsutil::Found::Missing)
        };
        // Anything but a regular file of the cap is replaced on save, never read.
        let bytes = match found {
            Ok(fsutil::Found::Bytes(bytes)) => bytes,
            _ => Vec::new(),
        };
        let mut store = FactStore {
            place,
            key,
            header: header(),
            bytes: Vec::new(),
            batches: Vec::new(),
            records: Vec::new(),
            index: Default::default(),
            used: Vec::new(),
            rewrite: true,
            fresh: Mutex::new(Vec::new()),
        };
        if bytes.starts_with(&store.header) {
            store.bytes = bytes;
            store.rewrite = !store.parse();
        }
        Some(store)
    }

    /// Index the batches of the file after the header; `false` when its tail is torn (cut
    /// short, or no batch where one should start).
    fn parse(&mut self) -> bool {
        let bytes = &self.bytes;
        let mut at = self.header.len();
        while at < bytes.len() {
            let Some(frame) = bytes.get(at..at + BATCH_MAGIC.len() + 4) else {
                return false;
            };
            if &frame[..BATCH_MAGIC.len()] != BATCH_MAGIC {
                return false;
            }
            let mut len = [0u8; 4];
            len.copy_from_slice(&frame[BATCH_MAGIC.len()..]);
            let len = u32::from_le_bytes(len) as usize;
            let covered = at + BATCH_MAGIC.len()..at + frame.len() + len;
            let mac = covered.end..covered.end + MAC_LEN;
            if mac.end > bytes.len() {
                return false;
            }
            let batch = self.batches.len() as u32;
            let first = self.records.len();
            // A batch whose records do not parse is left out whole (its MAC would fail).
            if index_records(
                bytes,
                at + frame.len()..covered.end,
                batch,
                &mut self.records,
            )
            .is_none()
            {
                self.records.truncate(first);
            }
            self.batches.push(Batch {
                covered,
                mac: mac.clone(),
                verified: OnceLock::new(),
            });
            at = mac.end;
        }
        let mut index = crate::model::hash::HashMap::default();
        index.reserve(self.records.len());
        for i in 0..self.records.len() {
            let Some(id) = record_id(bytes, &self.records[i]) else {
                continue;
            };
            if let Some(prev) = index.insert(id, i as u32) {
                self.records[i].next = prev;
            }
        }
        self.index = index;
        self.used = (0..self.records.len())
            .map(|_| AtomicBool::new(false))
            .collect();
        true
    }

    /// The facts recorded for blob `id` at `path`, when a record of it verifies and the
    /// blob is not longer than `max_size`.
    pub fn get(&self, id: &ObjectId, path: &str, max_size: u64) -> Option<FileFacts> {
        let mut at = *self.index.get(id)?;
        while let Some(rec) = self.records.get(at as usize) {
            if self.bytes.get(rec.path.clone()) == Some(path.as_bytes())
                && rec.len <= max_size
                && self.verified(rec.batch)
            {
                if let Some(facts) = self
                    .bytes
                    .get(rec.body.clone())
                    .and_then(|body| decode_all::<FileFacts>(body).ok())
                    .filter(|f| f.path == path)
                {
                    if let Some(used) = self.used.get(at as usize) {
                        used.store(true, Ordering::Relaxed);
                    }
                    return Some(facts);
                }
            }
            at = rec.next;
        }
        None
    }

    /// Whether batch `i`'s MAC verifies (checked once).
    fn verified(&self, i: u32) -> bool {
        let Some(batch) = self.batches.get(i as usize) else {
            return false;
        };
        *batch.verified.get_or_init(|| {
            match (
                self.bytes.get(batch.covered.clone()),
                self.bytes.get(batch.mac.clone()),
            ) {
                (Some(covered), Some(mac)) => {
                    cache::hmac(&self.key, &[MAC_DOMAIN, &self.header, covered])
                        .is_some_and(|m| m[..] == *mac)
                }
                _ => false,
            }
        })
    }

    /// Record what this run extracted from blob `id`, `len` bytes long (only from bytes that
    /// were read: see the module documentation).
    pub fn insert(&self, id: &ObjectId, len: u64, facts: &FileFacts) {
        let mut body = Vec::new();
        facts.encode(&mut body);
        let id = id.as_slice();
        let mut rec = Vec::with_capacity(body.len() + id.len() + 24);
        rec.push(id.len() as u8);
        rec.extend_from_slice(id);
        put_varint(&mut rec, len);
        put_varint(&mut rec, body.len() as u64);
        rec.extend_from_slice(&body);
        if let Ok(mut fresh) = self.fresh.lock() {
            fresh.push(rec);
        }
    }

    /// Write what this run extracted, if anything: appended as new batches, or, when the
    /// file must be rewritten or is worth compacting, the file rewritten with the records
    /// this run used and the new ones. `whole` says the run looked up whole trees, so that
    /// what it did not use is stale (a run that judged three files keeps everything).
    /// Failures are ignored: a read-only repository still lints.
    pub fn save(&self, whole: bool) {
        let Ok(mut fresh) = self.fresh.lock() else {
            return;
        };
        if fresh.is_empty() {
            return;
        }
        let mut fresh = std::mem::take(&mut *fresh);
        // The same bytes for the same run, whatever order the threads finished in.
        fresh.sort_unstable();
        fresh.dedup();
        let used: Vec<&[u8]> = self
            .records
            .iter()
            .zip(&self.used)
            .filter(|(_, u)| u.load(Ordering::Relaxed))
            .filter_map(|(r, _)| self.bytes.get(r.raw.clone()))
            .collect();
        let fresh_bytes: usize = fresh.iter().map(Vec::len).sum();
        let used_bytes: usize = used.iter().map(|r| r.len()).sum();
        let grown = self.bytes.len() + fresh_bytes;
        let compact = grown as u64 > MAX_BYTES
            || (whole
                && grown > COMPACT_MIN
                && grown > COMPACT_RATIO * (used_bytes + fresh_bytes + self.header.len()));
        if !self.rewrite && !compact {
            let batches = self.batches_of(fresh.iter().map(Vec::as_slice));
            if self.place.ensure() {
                let _ = fsutil::append(
                    &self.place.dir.join(FILE_NAME),
                    &batches,
                    &self.place.git_dir,
                );
            }
            return;
        }
        // A rewrite keeps what this run used; one that did not look at whole trees keeps
        // the file as it is rather than drop what other runs use.
        if !whole && !self.rewrite {
            return;
        }
        let mut bytes = self.header.clone();
        bytes.extend(self.batches_of(used.into_iter().chain(fresh.iter().map(Vec::as_slice))));
        if bytes.len() as u64 > MAX_BYTES || !self.place.ensure() {
            return;
        }
        let _ = fsutil::replace_own(&self.place.dir.join(FILE_NAME), &bytes, &self.place.git_dir);
    }

    /// `records` as batches of about [`BATCH_BYTES`], each signed.
    fn batches_of<'a>(&self, records: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
        let mut groups: Vec<Vec<&[u8]>> = vec![Vec::new()];
        let mut size = 0;
        for rec in records {
            if size + rec.len() > BATCH_BYTES && size > 0 {
                groups.push(Vec::new());
                size = 0;
            }
            size += rec.len();
            if let Some(last) = groups.last_mut() {
                last.push(rec);
            }
        }
        let signed: Vec<Vec<u8>> = groups
            .par_iter()
            .filter(|g| !g.is_empty())
            .filter_map(|group| {
                let len: usize = group.iter().map(|r| r.len()).sum();
                let len = u32::try_from(len).ok()?;
                let mut out = BATCH_MAGIC.to_vec();
                out.extend_from_slice(&len.to_le_bytes());
                for rec in group {
                    out.extend_from_slice(rec);
                }
                let mac = cache::hmac(
                    &self.key,
                    &[MAC_DOMAIN, &self.header, &out[BATCH_MAGIC.len()..]],
                )?;
                out.extend_from_slice(&mac);
                Some(out)
            })
            .collect();
        signed.concat()
    }
}

/// Index the records in `range` of `bytes` (one batch's); `None` when they do not parse.
fn index_records(
    bytes: &[u8],
    range: std::ops::Range<usize>,
    batch: u32,
    out: &mut Vec<Record>,
) -> Option<()> {
    let all = bytes.get(range.clone())?;
    let mut r = Reader::new(all);
    while !r.rest().is_empty() {
        let start = range.start + all.len() - r.rest().len();
        let id_len = r.byte().ok()? as usize;
        r.take(id_len).ok()?;
        let len = r.varint().ok()?;
        let body_len = r.len().ok()?;
        let body_start = range.start + all.len() - r.rest().len();
        let body = r.take(body_len).ok()?;
        // The body starts with the path (see `FileFacts`'s codec).
        let mut b = Reader::new(body);
        let path_len = b.len().ok()?;
        let path_start = body_start + body.len() - b.rest().len();
        let end = range.start + all.len() - r.rest().len();
        out.push(Record {
            batch,
            next: u32::MAX,
            len,
            path: path_start..path_start + path_len,
            raw: start..end,
            body: body_start..body_start + body_len,
        });
    }
    Some(())
}

/// The blob id a record starts with.
fn record_id(bytes: &[u8], rec: &Record) -> Option<ObjectId> {
    let raw = bytes.get(rec.raw.clone())?;
    let (&len, rest) = raw.split_first()?;
    ObjectId::try_from(rest.get(..len as usize)?).ok()
}
