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
/// Beside the key, outside the directory CI caches: the stat of the store file as this
/// repository's runs last left it, every batch in it verified (see [`fingerprint`]). A
/// file that still has that stat is believed without checking its MACs again.
const STAMP_FILE: &str = "promolint.facts-stamp";
const STAMP_DOMAIN: &[u8] = b"promolint fact store stamp\0";
const MAGIC: &[u8; 8] = b"PLFACTS\n";
/// Bump when the encoding of facts or the layout of the file changes, or what extraction
/// makes of some bytes (2: git-crypt ciphertext is no longer an unreadable file).
/// (promolint's version is in the header too: a release that extracts differently never
/// reads another's records.)
const FORMAT: u32 = 2;
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
    /// Whether the file was as the stamp says a run of this repository left it (its
    /// batches then count as verified).
    stamped: bool,
}

impl FactStore {
    /// The store in `dir` (`promolint` in the git directory; created on save). `None` when
    /// it cannot be used: `dir` is a symbolic link or not a directory, or no key can be had
    /// (nothing could be verified).
    pub fn open(dir: &Path) -> Option<FactStore> {
        let place = Place::open(dir).ok()?;
        let key = cache::machine_key(&place.git_dir)?;
        let file = place.dir.join(FILE_NAME);
        let (found, stat) = if place.exists {
            place.remove_stale_temps(FILE_NAME);
            // The same stat before and after reading: the bytes read are the stamped file's.
            let before = fingerprint(&file);
            let found = fsutil::read_capped(&file, MAX_BYTES);
            let stat = before.filter(|b| fingerprint(&file).as_ref() == Some(b));
            (found, stat)
        } else {
            (Ok(fsutil::Found::Missing), None)
        };
        let stamped = stat.is_some_and(|stat| {
            matches!(
                fsutil::read_capped(&place.git_dir.join(STAMP_FILE), 1024),
                Ok(fsutil::Found::Bytes(b)) if b == stamp(&key, &stat).into_bytes()
            )
        });
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
            stamped: false,
        };
        if bytes.starts_with(&store.header) {
            store.bytes = bytes;
            store.rewrite = !store.parse();
            if stamped && !store.rewrite {
                store.stamped = true;
                for batch in &store.batches {
                    let _ = batch.verified.set(true);
                }
            }
        }
        Some(store)
    }

    /// Index the batches of the file after the header; `false` when its tail is torn (cut
    /// short, or no batch where one should start).
    fn parse(&mut self) -> bool {
        let whole = self.index_batches();
        let mut index = crate::model::hash::HashMap::default();
        index.reserve(self.records.len());
        for i in 0..self.records.len() {
            let Some(id) = record_id(&self.bytes, &self.records[i]) else {
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
        whole
    }

    /// Find the batches and their records, up to a torn tail; `false` when there is one.
    fn index_batches(&mut self) -> bool {
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
        true
    }

    /// The facts recorded for blob `id` at `path`, when a record of it verifies and the
    /// blob is not longer than `max_size`.
    pub fn get(&self, id: &ObjectId, path: &str, max_size: u64) -> Option<FileFacts> {
        self.lookup(id, path, |len| len <= max_size)
    }

    /// [`Self::get`] for a blob of exactly `len` bytes: what a file of that size on disk is
    /// when the index names its blob and no filter (line endings, LFS, `ident`) changed its
    /// length on checkout.
    pub fn get_sized(
        &self,
        id: &ObjectId,
        path: &str,
        max_size: u64,
        len: u64,
    ) -> Option<FileFacts> {
        self.lookup(id, path, |l| l == len && l <= max_size)
    }

    fn lookup(&self, id: &ObjectId, path: &str, len_ok: impl Fn(u64) -> bool) -> Option<FileFacts> {
        let mut at = *self.index.get(id)?;
        while let Some(rec) = self.records.get(at as usize) {
            if self.bytes.get(rec.path.clone()) == Some(path.as_bytes())
                && len_ok(rec.len)
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
            if !self.stamped && !self.rewrite && self.all_verified() {
                self.write_stamp();
            }
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
        // Every batch checked once (free when stamped): a file with one that fails is
        // rewritten by a run that looked at whole trees, and stamped only when all verify.
        let good = self.all_verified();
        let compact = grown as u64 > MAX_BYTES
            || (whole && !good)
            || (whole
                && grown > COMPACT_MIN
                && grown > COMPACT_RATIO * (used_bytes + fresh_bytes + self.header.len()));
        if !self.rewrite && !compact {
            let mut batches = Vec::with_capacity(with_frames(fresh_bytes));
            self.put_batches(&mut batches, fresh.iter().map(Vec::as_slice));
            if self.place.ensure()
                && fsutil::append(
                    &self.place.dir.join(FILE_NAME),
                    &batches,
                    &self.place.git_dir,
                )
                .is_ok()
                && good
            {
                self.write_stamp();
            }
            return;
        }
        // A rewrite keeps what this run used; one that did not look at whole trees keeps
        // the file as it is rather than drop what other runs use.
        if !whole && !self.rewrite {
            return;
        }
        let mut bytes =
            Vec::with_capacity(self.header.len() + with_frames(used_bytes + fresh_bytes));
        bytes.extend_from_slice(&self.header);
        self.put_batches(
            &mut bytes,
            used.into_iter().chain(fresh.iter().map(Vec::as_slice)),
        );
        if bytes.len() as u64 > MAX_BYTES || !self.place.ensure() {
            return;
        }
        // Only what verified (or this run made) was kept: the new file is all good.
        if fsutil::replace_own(&self.place.dir.join(FILE_NAME), &bytes, &self.place.git_dir).is_ok()
        {
            self.write_stamp();
        }
    }

    /// Whether every batch of the file as read verifies (those not yet checked are now).
    fn all_verified(&self) -> bool {
        (0..self.batches.len() as u32)
            .into_par_iter()
            .all(|i| self.verified(i))
    }

    /// Stamp the store file as it is now (see [`STAMP_FILE`]); failures are ignored.
    fn write_stamp(&self) {
        if let Some(stat) = fingerprint(&self.place.dir.join(FILE_NAME)) {
            let path = self.place.git_dir.join(STAMP_FILE);
            let _ = fsutil::replace_own(
                &path,
                stamp(&self.key, &stat).as_bytes(),
                &self.place.git_dir,
            );
        }
    }

    /// Append `records` to `out` as batches of about [`BATCH_BYTES`], each signed: laid out
    /// in place (the records copied once), then the MACs computed in parallel.
    fn put_batches<'a>(&self, out: &mut Vec<u8>, records: impl Iterator<Item = &'a [u8]>) {
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
        // What each MAC covers (the length and the records), and where it goes.
        let mut macs: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
        for group in groups.iter().filter(|g| !g.is_empty()) {
            let Ok(len) = u32::try_from(group.iter().map(|r| r.len()).sum::<usize>()) else {
                continue;
            };
            out.extend_from_slice(BATCH_MAGIC);
            let covered = out.len();
            out.extend_from_slice(&len.to_le_bytes());
            for rec in group {
                out.extend_from_slice(rec);
            }
            macs.push((covered..out.len(), out.len()));
            // Zeros verify nothing, should hashing fail.
            out.extend_from_slice(&[0; MAC_LEN]);
        }
        let signed: Vec<Option<[u8; MAC_LEN]>> = macs
            .par_iter()
            .map(|(covered, _)| {
                let covered = out.get(covered.clone())?;
                cache::hmac(&self.key, &[MAC_DOMAIN, &self.header, covered])
            })
            .collect();
        for ((_, at), mac) in macs.iter().zip(signed) {
            if let (Some(mac), Some(slot)) = (mac, out.get_mut(*at..*at + MAC_LEN)) {
                slot.copy_from_slice(&mac);
            }
        }
    }
}

/// The stat only an untouched file keeps: device, inode, size, and modification and change
/// times to the nanosecond. No process can set a file's change time, which any write or
/// replacement moves. `None` off Unix, or when the file cannot be stat'ed: never stamped.
fn fingerprint(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::symlink_metadata(path).ok()?;
        m.is_file().then(|| {
            format!(
                "{} {} {} {}.{} {}.{}",
                m.dev(),
                m.ino(),
                m.len(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The stamp's text for a store file of stat `stat`: the stat and its MAC under the key (a
/// stamp made under another key says nothing).
fn stamp(key: &[u8], stat: &str) -> String {
    format!(
        "{stat} {}\n",
        cache::hmac_hex(key, &[STAMP_DOMAIN, stat.as_bytes()])
    )
}

/// The bytes of batches holding `records` bytes of records (a capacity to reserve).
fn with_frames(records: usize) -> usize {
    records + (records / BATCH_BYTES + 2) * (BATCH_MAGIC.len() + 4 + MAC_LEN)
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
        let body_len = r.length().ok()?;
        let body_start = range.start + all.len() - r.rest().len();
        let body = r.take(body_len).ok()?;
        // The body starts with the path (see `FileFacts`'s codec).
        let mut b = Reader::new(body);
        let path_len = b.length().ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract;
    use crate::pipeline::facts::file_facts;
    use proptest::prelude::*;
    use std::path::PathBuf;

    /// A fresh `…/git` directory (the key is made there) and its `promolint` directory.
    struct GitDir(PathBuf);

    impl GitDir {
        fn new(tag: &str) -> GitDir {
            let root =
                std::env::temp_dir().join(format!("promolint-store-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            std::fs::create_dir_all(root.join("git")).unwrap();
            GitDir(root)
        }

        fn dir(&self) -> PathBuf {
            self.0.join("git/promolint")
        }

        fn file(&self) -> PathBuf {
            self.dir().join(FILE_NAME)
        }

        fn open(&self) -> FactStore {
            FactStore::open(&self.dir()).expect("a store")
        }

        /// One run that extracted `records` (blob id byte, facts; each blob 10 bytes long).
        fn run(&self, records: &[(u8, &FileFacts)], whole: bool) {
            let store = self.open();
            for (i, facts) in records {
                store.insert(&id(*i), 10, facts);
            }
            store.save(whole);
        }
    }

    impl Drop for GitDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: ghcr.io/acme/web:v1.2.3 # promolint: ignore[PL009] ok\n";

    fn facts(path: &str, text: &str) -> FileFacts {
        let format = extract::format_of(path).expect("a format");
        file_facts(path, format, Ok(text.as_bytes()))
    }

    fn id(byte: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[byte; 20])
    }

    fn same(a: Option<FileFacts>, b: &FileFacts) -> bool {
        a.is_some_and(|a| format!("{a:?}") == format!("{b:?}"))
    }

    /// Every file of `fixtures/` that an extractor reads.
    fn fixture_files() -> Vec<PathBuf> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        walkdir::WalkDir::new(&root)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect()
    }

    #[test]
    fn every_fixture_round_trips_through_the_codec() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read = 0;
        for file in fixture_files() {
            let rel = file
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let Some(format) = extract::format_of(&rel) else {
                continue;
            };
            let bytes = std::fs::read(&file).unwrap();
            let facts = file_facts(&rel, format, Ok(&bytes));
            let mut encoded = Vec::new();
            facts.encode(&mut encoded);
            let decoded: FileFacts = decode_all(&encoded).expect(&rel);
            assert_eq!(format!("{decoded:?}"), format!("{facts:?}"), "{rel}");
            read += 1;
        }
        assert!(read > 100, "only {read} fixture files");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_all::<FileFacts>(&bytes);
            let mut store_bytes = header();
            store_bytes.extend_from_slice(&bytes);
            let dir = GitDir::new("arbitrary");
            std::fs::create_dir_all(dir.dir()).unwrap();
            std::fs::write(dir.file(), &store_bytes).unwrap();
            let store = dir.open();
            prop_assert!(store.get(&id(1), "a.yaml", u64::MAX).is_none());
        }

        #[test]
        fn every_cut_of_a_record_is_an_error(cut in 0usize..10_000) {
            let mut encoded = Vec::new();
            facts("apps/web/deployment.yaml", DEPLOY).encode(&mut encoded);
            let cut = cut % encoded.len();
            prop_assert!(decode_all::<FileFacts>(&encoded[..cut]).is_err());
        }
    }

    #[test]
    fn a_store_left_as_written_is_believed_and_any_write_unstamps_it() {
        let dir = GitDir::new("stamp");
        let web = facts("apps/web/deployment.yaml", DEPLOY);
        dir.run(&[(1, &web)], true);
        let store = dir.open();
        assert!(store.stamped, "the run that wrote it stamped it");
        assert!(same(store.get(&id(1), &web.path, u64::MAX), &web));
        // A byte changed in place, the size and modification time kept (as a cache restored
        // with the same name would be): the change time moved, and the MACs are checked.
        let mut bytes = std::fs::read(dir.file()).unwrap();
        let modified = std::fs::metadata(dir.file()).unwrap().modified().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(dir.file(), &bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(dir.file())
            .unwrap()
            .set_modified(modified)
            .unwrap();
        let store = dir.open();
        assert!(!store.stamped);
        assert!(
            store.get(&id(1), &web.path, u64::MAX).is_none(),
            "its MAC fails"
        );
        // A stamp made under another key says nothing.
        dir.run(&[(2, &web)], true);
        assert!(dir.open().stamped);
        let stamp_file = dir.0.join("git").join(STAMP_FILE);
        let text = std::fs::read_to_string(&stamp_file).unwrap();
        let stat = text.rsplit_once(' ').unwrap().0;
        std::fs::write(
            &stamp_file,
            stamp(b"another key, another key, another", stat),
        )
        .unwrap();
        assert!(!dir.open().stamped);
    }

    #[test]
    fn records_round_trip_and_a_blob_over_the_size_limit_is_a_miss() {
        let dir = GitDir::new("roundtrip");
        let web = facts("apps/web/deployment.yaml", DEPLOY);
        let store = dir.open();
        assert!(store.get(&id(1), &web.path, u64::MAX).is_none());
        store.insert(&id(1), DEPLOY.len() as u64, &web);
        store.save(true);
        let store = dir.open();
        let len = DEPLOY.len() as u64;
        assert!(same(store.get(&id(1), &web.path, len), &web));
        assert!(
            store.get(&id(1), &web.path, len - 1).is_none(),
            "over the limit"
        );
        // The path is part of the key: another path reads the bytes in another format.
        assert!(store.get(&id(1), "apps/web/deployment.tf", len).is_none());
        assert!(store.get(&id(2), &web.path, len).is_none());
    }

    #[test]
    fn a_tampered_batch_or_another_key_is_not_believed() {
        let dir = GitDir::new("tampered");
        let web = facts("apps/web/deployment.yaml", DEPLOY);
        dir.run(&[(1, &web)], true);
        let good = std::fs::read(dir.file()).unwrap();
        // The pin's tag (and the text) say another version: same length, MAC unchanged.
        let mut tampered = good.clone();
        let at = good.windows(6).position(|w| w == b"v1.2.3").unwrap();
        tampered[at..at + 6].copy_from_slice(b"v9.9.9");
        std::fs::write(dir.file(), &tampered).unwrap();
        assert!(dir.open().get(&id(1), &web.path, 10).is_none());
        // Untouched, but signed under another key (a cache restored from elsewhere).
        std::fs::write(dir.file(), &good).unwrap();
        assert!(dir.open().get(&id(1), &web.path, 10).is_some());
        std::fs::write(dir.0.join("git/promolint.key"), "0".repeat(64)).unwrap();
        assert!(dir.open().get(&id(1), &web.path, 10).is_none());
    }

    #[test]
    fn a_torn_tail_is_ignored_and_the_next_save_rewrites_the_file() {
        let dir = GitDir::new("torn");
        let (a, b, c) = (
            facts("a.yaml", DEPLOY),
            facts("b.env", "APP_VERSION=v1\n"),
            facts("c.env", "APP_VERSION=v2\n"),
        );
        dir.run(&[(1, &a)], false);
        dir.run(&[(2, &b)], false);
        let whole = std::fs::read(dir.file()).unwrap();
        let store = dir.open();
        assert!(
            store.get(&id(1), "a.yaml", 10).is_some() && store.get(&id(2), "b.env", 10).is_some()
        );
        // Cut inside the second batch, as a killed run's append would leave it.
        std::fs::write(dir.file(), &whole[..whole.len() - 5]).unwrap();
        let store = dir.open();
        assert!(same(store.get(&id(1), "a.yaml", 10), &a));
        assert!(store.get(&id(2), "b.env", 10).is_none());
        store.insert(&id(3), 10, &c);
        store.save(false);
        // Rewritten: what was used and what is new, and no torn tail hides them.
        let store = dir.open();
        assert!(!store.rewrite);
        assert!(same(store.get(&id(1), "a.yaml", 10), &a));
        assert!(same(store.get(&id(3), "c.env", 10), &c));
    }

    #[test]
    fn a_store_of_another_version_or_format_is_ignored() {
        let dir = GitDir::new("version");
        let a = facts("a.yaml", DEPLOY);
        dir.run(&[(1, &a)], true);
        let good = std::fs::read(dir.file()).unwrap();
        let mut other_format = good.clone();
        other_format[MAGIC.len()] ^= 1;
        // The version follows the magic, the format and its one-byte length.
        let mut other_version = good.clone();
        let at = MAGIC.len() + 4 + 1;
        other_version[at..at + env!("CARGO_PKG_VERSION").len()].fill(b'9');
        assert!(dir.open().get(&id(1), "a.yaml", 10).is_some());
        for bytes in [other_format, other_version] {
            std::fs::write(dir.file(), &bytes).unwrap();
            let store = dir.open();
            assert!(store.get(&id(1), "a.yaml", 10).is_none());
            assert!(store.rewrite, "appended to a file that is not read");
        }
    }

    #[test]
    fn a_whole_tree_run_compacts_a_file_of_stale_records() {
        let dir = GitDir::new("compact");
        let big = format!("{DEPLOY}#{}\n", "x".repeat(COMPACT_MIN));
        dir.run(
            &[
                (1, &facts("old.yaml", &big)),
                (2, &facts("kept.yaml", DEPLOY)),
            ],
            true,
        );
        // A run that looked at three files keeps everything.
        let store = dir.open();
        assert!(store.get(&id(2), "kept.yaml", 10).is_some());
        store.insert(&id(3), 10, &facts("new.yaml", DEPLOY));
        store.save(false);
        assert!(dir.open().get(&id(1), "old.yaml", 10).is_some());
        // A whole-tree run that did not use the big record drops it.
        let store = dir.open();
        assert!(store.get(&id(2), "kept.yaml", 10).is_some());
        store.insert(&id(4), 10, &facts("newer.yaml", DEPLOY));
        store.save(true);
        let store = dir.open();
        assert!(store.get(&id(1), "old.yaml", 10).is_none());
        for (i, path) in [(2, "kept.yaml"), (4, "newer.yaml")] {
            assert!(store.get(&id(i), path, 10).is_some(), "{path}");
        }
        assert!(std::fs::metadata(dir.file()).unwrap().len() < COMPACT_MIN as u64);
    }

    /// A work tree in a new git repository with one file that pins a mutable tag.
    fn repo_with_a_pin(dir: &GitDir) -> PathBuf {
        let repo = dir.0.join("repo");
        std::fs::create_dir_all(repo.join("apps/web")).unwrap();
        let out = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &dir.0)
            .output()
            .unwrap();
        assert!(out.status.success());
        std::fs::write(repo.join("apps/web/deployment.yaml"), DEPLOY).unwrap();
        repo
    }

    fn worktree_facts(repo: &Path, no_cache: bool) -> usize {
        let opts = crate::pipeline::setup::Options {
            start: repo.to_path_buf(),
            no_cache,
            ..Default::default()
        };
        let wt = crate::pipeline::check::load_worktree(&opts).unwrap();
        wt.snapshot
            .file("apps/web/deployment.yaml")
            .map_or(0, |f| f.facts.len())
    }

    /// Record, signed with the repository's key, that the file of [`repo_with_a_pin`]
    /// holds nothing: a run that reads the store believes it.
    fn forge(store_dir: &Path) {
        let store = FactStore::open(store_dir).unwrap();
        let bytes = DEPLOY.as_bytes();
        let blob =
            gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes).unwrap();
        let forged = FileFacts {
            path: "apps/web/deployment.yaml".into(),
            ..FileFacts::default()
        };
        store.insert(&blob, bytes.len() as u64, &forged);
        store.save(true);
    }

    #[test]
    fn no_cache_neither_reads_nor_writes_the_store() {
        let dir = GitDir::new("nocache");
        let repo = repo_with_a_pin(&dir);
        let file = repo.join(".git/promolint").join(FILE_NAME);
        let real = worktree_facts(&repo, true);
        assert!(real > 0);
        assert!(!file.exists(), "--no-cache wrote the store");
        forge(&repo.join(".git/promolint"));
        assert_eq!(worktree_facts(&repo, false), 0, "the store is not read");
        assert_eq!(worktree_facts(&repo, true), real);
        // A run with the store writes it.
        std::fs::remove_file(&file).unwrap();
        assert_eq!(worktree_facts(&repo, false), real);
        assert!(file.is_file());
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_directory_is_neither_read_nor_written() {
        let dir = GitDir::new("linked");
        let repo = repo_with_a_pin(&dir);
        let cache = repo.join(".git/promolint");
        let real = worktree_facts(&repo, true);
        forge(&cache);
        let elsewhere = dir.0.join("elsewhere");
        std::fs::rename(&cache, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &cache).unwrap();
        let before = std::fs::read(elsewhere.join(FILE_NAME)).unwrap();
        assert!(FactStore::open(&cache).is_none());
        // Not read (the forged record would clear the pin), not written.
        assert_eq!(worktree_facts(&repo, false), real);
        assert_eq!(std::fs::read(elsewhere.join(FILE_NAME)).unwrap(), before);
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 1);
    }
}
