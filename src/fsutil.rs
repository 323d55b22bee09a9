//! Every file promolint writes (reports, the step summary, `init`'s configuration, the pin
//! ledger, the fact store), and those it reads back (the ledger, the fact store), goes
//! through here: never through a symbolic link.
//!
//! In CI promolint writes into a checkout whose content the pull request's author chose: a
//! committed symbolic link named like the report (or a linked `reports/` directory on the
//! way) would otherwise make it overwrite a file anywhere the job can write. So, given a
//! `guard` directory (the repository, or the git directory for the ledger):
//!
//! - no symbolic link on the way to the file is followed inside `guard`; outside it the
//!   directories on the way are the caller's (`$RUNNER_TEMP`, `/tmp` on macOS) and links
//!   there are followed;
//! - the file itself is never a symbolic link, inside `guard` or not;
//! - a replaced file is written to a new temporary file in the same real directory
//!   (`O_CREAT|O_EXCL|O_NOFOLLOW`: an existing name, a planted link included, is never
//!   opened) and renamed over the target, which replaces a link rather than writing through
//!   it even if one appears after the checks; an appended file is opened `O_NOFOLLOW`.
//!
//! The checks walk the path before writing, so a process racing promolint inside the
//! checkout could still swap a directory for a link in between; the job's own checkout has
//! no such process.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a file was not written.
#[derive(Debug)]
pub enum WriteError {
    /// Writing would have followed a symbolic link: which one, e.g. "reports is a symbolic
    /// link".
    Link(String),
    /// The target is a directory, or a directory on the way is not one.
    Refused(String),
    Io(io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Link(why) | WriteError::Refused(why) => f.write_str(why),
            WriteError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

/// What an existing target is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Existing {
    Nothing,
    File,
    /// A device or a pipe outside `guard` that the caller named (`--output /dev/null`):
    /// written in place, since it cannot be replaced.
    Special,
}

/// Where a file goes: the real directory that holds it, and its name there.
struct Place {
    dir: PathBuf,
    name: OsString,
    existing: Existing,
}

/// `path` shown relative to `guard` when it is inside (`reports`), else as it is.
fn shown(path: &Path, guard: &Path) -> String {
    match path.strip_prefix(guard) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// What to do with a link or special file at the target's name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AtName {
    Refuse,
    /// Replace it: promolint's own file, which nothing else should have put there.
    Replace,
}

/// Resolve where `path` would be written, refusing what the module documentation says.
fn place(path: &Path, guard: &Path, at_name: AtName) -> Result<Place, WriteError> {
    // Compared with real paths below.
    let real_guard = fs::canonicalize(guard);
    let guard = real_guard.as_deref().unwrap_or(guard);
    let Some(name) = path.file_name() else {
        return Err(WriteError::Refused(format!(
            "{} does not name a file",
            path.display()
        )));
    };
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The real path of each directory on the way: the current directory is one already.
    let mut dir = if parent.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir()?
    };
    for component in parent.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => dir.push(component.as_os_str()),
            Component::CurDir => {}
            // `dir` is real, so its parent is what `..` names.
            Component::ParentDir => {
                dir.pop();
            }
            Component::Normal(part) => {
                let next = dir.join(part);
                let meta = fs::symlink_metadata(&next)?;
                if meta.file_type().is_symlink() {
                    if dir.starts_with(guard) {
                        return Err(WriteError::Link(format!(
                            "{} is a symbolic link",
                            shown(&next, guard)
                        )));
                    }
                    dir = fs::canonicalize(&next)?;
                } else if meta.is_dir() {
                    dir = next;
                } else {
                    return Err(WriteError::Refused(format!(
                        "{} is not a directory",
                        shown(&next, guard)
                    )));
                }
            }
        }
    }
    let target = dir.join(name);
    let existing = match fs::symlink_metadata(&target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Existing::Nothing,
        Err(e) => return Err(e.into()),
        Ok(meta) if at_name == AtName::Replace && !meta.is_dir() => Existing::Nothing,
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(WriteError::Link(format!(
                "{} is a symbolic link",
                shown(&target, guard)
            )))
        }
        Ok(meta) if meta.is_dir() => {
            return Err(WriteError::Refused(format!(
                "{} is a directory",
                shown(&target, guard)
            )))
        }
        Ok(meta) if meta.is_file() => Existing::File,
        // Git checks out no devices or pipes: one inside the guard is replaced, never opened.
        Ok(_) if dir.starts_with(guard) => Existing::Nothing,
        Ok(_) => Existing::Special,
    };
    Ok(Place {
        dir,
        name: name.to_os_string(),
        existing,
    })
}

/// `O_NOFOLLOW`: the last component of the path is never followed, also when a link
/// appears after the checks.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW)
    }
    #[cfg(not(unix))]
    {
        options
    }
}

/// Write `bytes` to `path`, replacing the file there (see the module documentation).
pub fn replace(path: &Path, bytes: &[u8], guard: &Path) -> Result<(), WriteError> {
    write_new(path, bytes, guard, AtName::Refuse)
}

/// [`replace`] for promolint's own files (the pin ledger, the fact store): a symbolic link, pipe or device
/// at the name is replaced by the new file instead of refused; it is never opened.
pub fn replace_own(path: &Path, bytes: &[u8], guard: &Path) -> Result<(), WriteError> {
    write_new(path, bytes, guard, AtName::Replace)
}

fn write_new(path: &Path, bytes: &[u8], guard: &Path, at_name: AtName) -> Result<(), WriteError> {
    let place = place(path, guard, at_name)?;
    let target = place.dir.join(&place.name);
    if place.existing == Existing::Special {
        let mut file = no_follow(OpenOptions::new().write(true)).open(&target)?;
        return Ok(file.write_all(bytes)?);
    }
    let (mut file, temp) = create_temp(&place.dir, &place.name)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.flush())
        .and_then(|()| fs::rename(&temp, &target));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    Ok(written?)
}

/// Append `bytes` to `path`, creating it when missing (the GitHub step summary, which other
/// steps append to as well; the fact store's new batches, in one write).
pub fn append(path: &Path, bytes: &[u8], guard: &Path) -> Result<(), WriteError> {
    let place = place(path, guard, AtName::Refuse)?;
    let target = place.dir.join(&place.name);
    let mut file = no_follow(OpenOptions::new().append(true).create(true)).open(target)?;
    Ok(file.write_all(bytes)?)
}

/// Suffix of the temporary files [`replace`] writes: `NAME.PID.N.tmp`.
pub const TEMP_SUFFIX: &str = ".tmp";

/// `N` of the next temporary file.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new file `NAME.PID.N.tmp` in `dir`, created exclusively: a name that exists (a
/// concurrent run's, or a link planted there) is skipped, never opened.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(File, PathBuf)> {
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..16 {
        let mut temp = name.to_os_string();
        temp.push(format!(
            ".{}.{}{TEMP_SUFFIX}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let temp = dir.join(temp);
        match no_follow(OpenOptions::new().write(true).create_new(true)).open(&temp) {
            Ok(file) => return Ok((file, temp)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// What [`read_capped`] found at a path.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Bytes(Vec<u8>),
    Missing,
    /// A symbolic link, pipe, device or directory: not opened (a pipe would block the run,
    /// a link to `/dev/zero` never end).
    NotAFile,
    /// Larger than the cap: not read.
    TooLarge,
}

/// Read a regular file of at most `cap` bytes without following a link or blocking: the
/// name is checked with `lstat`, opened `O_NOFOLLOW|O_NONBLOCK` (a pipe swapped in after the
/// check does not block), and the opened handle checked again before reading at most `cap`
/// and one bytes.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Found> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Ok(Found::NotAFile);
    }
    if meta.len() > cap {
        return Ok(Found::TooLarge);
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        // Swapped for a link after the check (`ELOOP`), or gone.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(_) if !is_file(path) => return Ok(Found::NotAFile),
        Err(e) => return Err(e),
    };
    let opened = file.metadata()?;
    if !opened.is_file() {
        return Ok(Found::NotAFile);
    }
    if opened.len() > cap {
        return Ok(Found::TooLarge);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(opened.len()).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Ok(Found::TooLarge);
    }
    Ok(Found::Bytes(bytes))
}

fn is_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Dir {
            let dir =
                std::env::temp_dir().join(format!("promolint-fsutil-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Dir(fs::canonicalize(&dir).unwrap())
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn refused(result: Result<(), WriteError>) -> String {
        match result {
            Err(WriteError::Link(why)) => why,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn writes_and_replaces_regular_files() {
        let d = Dir::new("plain");
        let repo = d.0.join("repo");
        fs::create_dir_all(repo.join("reports")).unwrap();
        let target = repo.join("reports/out.sarif");
        replace(&target, b"one", &repo).unwrap();
        replace(&target, b"two", &repo).unwrap();
        append(&target, b"+", &repo).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two+");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(repo.join("reports")).unwrap().count(), 1);
    }

    #[test]
    fn refuses_links_in_the_guard_and_at_the_file() {
        let d = Dir::new("links");
        let repo = d.0.join("repo");
        let outside = d.0.join("outside");
        fs::create_dir_all(&repo).unwrap();
        fs::create_dir_all(&outside).unwrap();
        let victim = outside.join("victim");
        fs::write(&victim, b"keep").unwrap();
        symlink(&victim, repo.join("out.sarif")).unwrap();
        symlink(&outside, repo.join("reports")).unwrap();
        assert_eq!(
            refused(replace(&repo.join("out.sarif"), b"x", &repo)),
            "out.sarif is a symbolic link"
        );
        assert_eq!(
            refused(append(&repo.join("out.sarif"), b"x", &repo)),
            "out.sarif is a symbolic link"
        );
        assert_eq!(
            refused(replace(&repo.join("reports/victim"), b"x", &repo)),
            "reports is a symbolic link"
        );
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        // Outside the guard a linked directory is the caller's; the file still is no link.
        let elsewhere = d.0.join("elsewhere");
        symlink(&outside, &elsewhere).unwrap();
        replace(&elsewhere.join("report.json"), b"{}", &repo).unwrap();
        assert_eq!(fs::read(outside.join("report.json")).unwrap(), b"{}");
        symlink(&victim, outside.join("link")).unwrap();
        assert!(refused(replace(&elsewhere.join("link"), b"x", &repo))
            .ends_with("outside/link is a symbolic link"));
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
    }

    #[test]
    fn a_planted_temporary_name_is_skipped_not_opened() {
        let d = Dir::new("temp");
        let victim = d.0.join("victim");
        fs::write(&victim, b"keep").unwrap();
        let next = COUNTER.load(Ordering::Relaxed);
        for n in next..next + 4 {
            symlink(
                &victim,
                d.0.join(format!("pins.json.{}.{n}.tmp", std::process::id())),
            )
            .unwrap();
        }
        replace(&d.0.join("pins.json"), b"{}", &d.0).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
        assert_eq!(fs::read(d.0.join("pins.json")).unwrap(), b"{}");
    }

    #[test]
    fn devices_outside_the_guard_are_written_in_place() {
        let d = Dir::new("device");
        replace(Path::new("/dev/null"), b"x", &d.0).unwrap();
        assert!(fs::symlink_metadata("/dev/null").is_ok_and(|m| !m.is_file()));
    }

    #[test]
    fn reads_only_small_regular_files() {
        let d = Dir::new("read");
        let file = d.0.join("pins.json");
        assert_eq!(read_capped(&file, 10).unwrap(), Found::Missing);
        fs::write(&file, b"0123456789").unwrap();
        assert_eq!(
            read_capped(&file, 10).unwrap(),
            Found::Bytes(b"0123456789".to_vec())
        );
        assert_eq!(read_capped(&file, 9).unwrap(), Found::TooLarge);
        let link = d.0.join("zero");
        symlink("/dev/zero", &link).unwrap();
        assert_eq!(read_capped(&link, 10).unwrap(), Found::NotAFile);
        assert_eq!(
            read_capped(Path::new("/dev/zero"), 10).unwrap(),
            Found::NotAFile
        );
    }
}

/// What a directory entry is, for a message: `a directory`, `a named pipe (FIFO)`, ….
pub fn file_kind(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symlink"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}
