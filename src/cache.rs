//! What the caches in the git directory share (the pin ledger, `crate::ledger`, and the fact
//! store, `crate::pipeline::store`): their directory, `promolint` in the git directory, which
//! is refused when it is a symbolic link; the key that authenticates what they hold; and
//! HMAC-SHA1 under it.
//!
//! Both caches are untrusted input: CI restores `.git/promolint` with `actions/cache` from
//! whatever another branch's job saved there. The key is kept where such a cache does not
//! reach: `PROMOLINT_CACHE_KEY` (a CI secret) or `promolint.key` in the git directory (made
//! on first use, outside the `promolint` directory that CI caches).

use crate::fsutil;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The key's file, in the git directory (not in `promolint/`, which CI caches).
const KEY_FILE: &str = "promolint.key";
/// The environment variable that gives the key (a CI secret: a cache restored from another
/// job is then believed when this run's key signed it).
pub const KEY_VAR: &str = "PROMOLINT_CACHE_KEY";

/// Temporary files older than this are left by runs that were killed while writing (a
/// running promolint writes its own within seconds), and are removed.
const STALE_TEMP: Duration = Duration::from_secs(60 * 60);

/// The cache directory of a repository: `promolint` in the real git directory.
pub struct Place {
    /// The real git directory: no symbolic link is followed below it.
    pub git_dir: PathBuf,
    /// `git_dir/promolint`.
    pub dir: PathBuf,
    /// Whether `dir` existed as a directory when it was opened (else it is made on save).
    pub exists: bool,
}

/// Why a cache directory was not used.
pub enum Refused {
    /// `dir` is a symbolic link: nothing is read or written through it.
    Linked(PathBuf),
    /// No git directory to resolve, or something else than a directory at the name.
    Unusable,
}

impl Place {
    /// The cache directory `dir` (`promolint` in the git directory), its parent resolved to
    /// a real path; refused when `dir` is a symbolic link or not a directory.
    pub fn open(dir: &Path) -> Result<Place, Refused> {
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(Refused::Unusable);
        };
        let git_dir = std::fs::canonicalize(parent).map_err(|_| Refused::Unusable)?;
        let dir = git_dir.join(name);
        let exists = match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(Refused::Linked(dir)),
            Ok(meta) if meta.is_dir() => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            _ => return Err(Refused::Unusable),
        };
        Ok(Place {
            git_dir,
            dir,
            exists,
        })
    }

    /// Make the directory if it is missing; `false` when it cannot be written into (a link
    /// or a file appeared meanwhile, or `mkdir` failed).
    pub fn ensure(&self) -> bool {
        match std::fs::symlink_metadata(&self.dir) {
            Ok(meta) => meta.is_dir(),
            // `mkdir` creates no directory through a link that appeared meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&self.dir).is_ok()
            }
            Err(_) => false,
        }
    }

    /// Remove `NAME.*.tmp` files (and links) older than an hour, left by killed runs.
    pub fn remove_stale_temps(&self, name: &str) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let prefix = format!("{name}.");
        for entry in entries.flatten() {
            let file = entry.file_name();
            let Some(file) = file.to_str() else {
                continue;
            };
            if !(file.starts_with(&prefix) && file.ends_with(fsutil::TEMP_SUFFIX)) {
                continue;
            }
            // `DirEntry::metadata` does not follow a link: its own age is what counts.
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMP);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The key that authenticates this repository's caches: [`KEY_VAR`], or the key file in the
/// git directory, made from the system's randomness when missing. `None` when neither can be
/// had (nothing in a cache is then believed unchecked).
pub fn machine_key(git_dir: &Path) -> Option<Vec<u8>> {
    if let Some(key) = std::env::var_os(KEY_VAR).filter(|k| !k.is_empty()) {
        return Some(key.into_encoded_bytes());
    }
    let file = git_dir.join(KEY_FILE);
    let read = |file: &Path| match fsutil::read_capped(file, 1024) {
        Ok(fsutil::Found::Bytes(key)) if key.len() >= 32 => Some(key),
        _ => None,
    };
    if let Some(key) = read(&file) {
        return Some(key);
    }
    let fresh = random_key()?;
    fsutil::replace_own(&file, fresh.as_bytes(), git_dir).ok()?;
    // Two runs may make a key at once: the one on disk is the key.
    read(&file)
}

/// 32 random bytes in hex, from the system.
fn random_key() -> Option<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn sha1(parts: &[&[u8]]) -> Option<[u8; 20]> {
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    for part in parts {
        h.update(part);
    }
    let id = h.try_finalize().ok()?;
    id.as_bytes().try_into().ok()
}

/// HMAC-SHA1 (RFC 2104) of the concatenation of `message` under `key`; `None` when hashing
/// fails (nothing then verifies).
pub fn hmac(key: &[u8], message: &[&[u8]]) -> Option<[u8; 20]> {
    let mut block = [0u8; 64];
    match key.len() {
        0..=64 => block[..key.len()].copy_from_slice(key),
        _ => block[..20].copy_from_slice(&sha1(&[key])?),
    }
    let pad = |x: u8| block.map(|b| b ^ x);
    let inner_pad = pad(0x36);
    let mut inner_parts: Vec<&[u8]> = vec![&inner_pad];
    inner_parts.extend_from_slice(message);
    let inner = sha1(&inner_parts)?;
    sha1(&[&pad(0x5c), &inner])
}

/// [`hmac`] in hex; empty when hashing fails (no MAC then verifies).
pub fn hmac_hex(key: &[u8], message: &[&[u8]]) -> String {
    match hmac(key, message) {
        Some(mac) => mac.iter().map(|b| format!("{b:02x}")).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        assert_eq!(
            hmac_hex(&[0x0b; 20], &[b"Hi There"]),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hmac_hex(b"Jefe", &[b"what do ya", b" want for nothing?"]),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // A key longer than the block is hashed first (test case 6).
        assert_eq!(
            hmac_hex(
                &[0xaa; 80],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            ),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }
}
