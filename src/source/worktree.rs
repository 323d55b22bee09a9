//! Listing the files of a working tree: from Git when inside a repository (tracked plus
//! untracked-not-ignored), else by walking the directory.
//!
//! Inside a repository a single gix directory walk produces the whole list: each entry is
//! classified against the index, so tracked files come out without a `stat` per index entry,
//! entries missing on disk never appear, submodules and nested repositories are not
//! descended, and a symlink is reported as itself rather than followed.
use super::{FileList, SourceError};
use gix::bstr::{BStr, BString, ByteSlice};
use gix::dir::entry::{Kind, Status};
use gix::dir::walk::{Action, Delegate, EmissionMode, ForDeletionMode};
use gix::dir::EntryRef;
use std::fs;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The reason recorded in [`FileList::skipped`] for a path that is not valid UTF-8.
pub const NOT_UTF8: &str = "path is not valid UTF-8";

/// The files under `start` (a repository's work tree or a plain directory). `pathspecs`
/// (relative to the root, `/`-separated, see [`resolve_pathspec`]) restrict the list to
/// those files or directories; without them, a `start` below the work tree root restricts
/// the list to the files under `start`.
pub fn list(start: &Path, pathspecs: &[String]) -> Result<FileList, SourceError> {
    list_beside(start, pathspecs, |_| ()).map(|(list, _)| list)
}

/// [`list`], running `beside` with the repository's cache directory (see
/// [`FileList::cache_dir`]) on another thread of the pool while the directory is walked:
/// the walk is one thread's work. Its result is `None` outside a git working tree.
pub fn list_beside<T: Send>(
    start: &Path,
    pathspecs: &[String],
    beside: impl FnOnce(&Path) -> T + Send,
) -> Result<(FileList, Option<T>), SourceError> {
    let meta = fs::metadata(start).map_err(|e| access_error(start, &e))?;
    if !meta.is_dir() {
        return Err(SourceError {
            message: format!("`{}` is not a directory", start.display()),
            help: Some("give a directory to check, and select files with PATH arguments".into()),
        });
    }
    let canon_start = fs::canonicalize(start).map_err(|e| access_error(start, &e))?;
    // Git ignores GIT_CEILING_DIRECTORIES entries that are not above `start`; so do we.
    let discovery = gix::discover::upwards::Options {
        match_ceiling_dir_or_error: false,
        ..Default::default()
    };
    match gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
        &canon_start,
        discovery,
        Default::default(),
    ) {
        Ok(repo) => git_list(
            &repo.to_thread_local(),
            start,
            &canon_start,
            pathspecs,
            beside,
        )
        .map(|(list, side)| (list, Some(side))),
        Err(e) if std::env::var_os("GIT_DIR").is_some_and(|d| !d.is_empty()) => Err(SourceError {
            message: format!("GIT_DIR names no usable git repository: {e}"),
            help: Some("unset GIT_DIR, or point it at a repository's `.git` directory".into()),
        }),
        Err(e) if is_not_a_repository(&e) => match super::broken_git_dir(&canon_start) {
            Some(broken) => Err(broken),
            None => plain_list(start, pathspecs).map(|list| (list, None)),
        },
        Err(e) => Err(SourceError {
            message: format!(
                "cannot open the Git repository at `{}`: {e}",
                start.display()
            ),
            help: None,
        }),
    }
}

/// Makes a command-line path argument (relative to `start`, or absolute) relative to the
/// repository `root`, `/`-separated; `""` stands for the whole tree. Errors if the path does
/// not exist, lies outside `root`, or goes through a symlink (which would leave the tree).
pub fn resolve_pathspec(root: &Path, start: &Path, arg: &str) -> Result<String, SourceError> {
    let canon_root = fs::canonicalize(root).map_err(|e| access_error(root, &e))?;
    let arg_path = Path::new(arg);
    let rel = if arg_path.is_absolute() {
        let normalized = normalize(arg_path);
        match normalized
            .strip_prefix(&canon_root)
            .or_else(|_| normalized.strip_prefix(root))
        {
            Ok(rel) => rel.to_path_buf(),
            // The argument may spell the root differently (a symlinked temp directory, say).
            Err(_) => match fs::canonicalize(&normalized) {
                Ok(canon) => match canon.strip_prefix(&canon_root) {
                    Ok(rel) => rel.to_path_buf(),
                    Err(_) => return Err(outside_root(arg, root)),
                },
                Err(_) if !exists_nofollow(&normalized) => return Err(missing_path(arg)),
                Err(_) => return Err(outside_root(arg, root)),
            },
        }
    } else {
        let canon_start = fs::canonicalize(start).map_err(|e| access_error(start, &e))?;
        let normalized = normalize(&canon_start.join(arg_path));
        match normalized.strip_prefix(&canon_root) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => return Err(outside_root(arg, root)),
        }
    };

    let mut out = String::new();
    let mut walked = canon_root.clone();
    let mut last = None;
    let mut components = rel.components().peekable();
    while let Some(component) = components.next() {
        let Component::Normal(name) = component else {
            return Err(outside_root(arg, root));
        };
        walked.push(name);
        let meta = fs::symlink_metadata(&walked).map_err(|_| missing_path(arg))?;
        last = Some(meta.file_type());
        if meta.file_type().is_symlink() && components.peek().is_some() {
            return Err(SourceError {
                message: format!(
                    "`{arg}` goes through the symlink `{}`, which promolint does not follow",
                    walked.display()
                ),
                help: Some("name the files inside the repository directly".into()),
            });
        }
        let Some(name) = name.to_str() else {
            return Err(SourceError {
                message: format!("`{}` is not valid UTF-8", walked.display()),
                help: None,
            });
        };
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(name);
    }
    // What the path names must be something the walk lists, or the run would check nothing
    // and say "0 files checked".
    if let Some(kind) = last {
        if kind.is_symlink() && fs::metadata(&walked).is_ok_and(|m| m.is_dir()) {
            return Err(SourceError {
                message: format!(
                    "`{arg}` is a symlink to a directory, which promolint does not follow"
                ),
                help: Some("name the directory itself, inside the repository".into()),
            });
        }
        if !(kind.is_file() || kind.is_dir() || kind.is_symlink()) {
            return Err(SourceError {
                message: format!(
                    "`{arg}` is {}: promolint checks regular files and directories",
                    crate::fsutil::file_kind(kind)
                ),
                help: Some("name files or directories of the repository".into()),
            });
        }
    }
    Ok(out)
}

/// Reads `rel` (relative to `root`, `/`-separated) without following a symlink. The error is
/// the reason the engine reports the file as unreadable.
///
/// `rel` is expected to come from [`list`], which never descends through a symlinked
/// directory; `..`, absolute paths and empty components are refused so that a path can never
/// name something outside `root`.
pub fn read_file(root: &Path, rel: &str, max_size: u64) -> Result<Vec<u8>, String> {
    let rel_path = Path::new(rel);
    if rel.split('/').any(|part| part == "..")
        || !rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err("path leaves the repository root".into());
    }
    // Paths from `list` are normalized; anything else is a caller's mistake, refused plainly.
    if rel.split('/').any(|part| part.is_empty() || part == ".") {
        return Err("not a normalized repository-relative path".into());
    }
    let path = root.join(rel_path);
    let meta = fs::symlink_metadata(&path).map_err(|e| io_reason(&e))?;
    check_kind(&meta)?;
    check_size(meta.len(), max_size)?;

    let file = fs::File::open(&path).map_err(|e| io_reason(&e))?;
    // The path may have been swapped for something else between the check and the open.
    let opened = file.metadata().map_err(|e| io_reason(&e))?;
    check_kind(&opened)?;
    if !same_file(&meta, &opened) {
        return Err("file changed while it was being read".into());
    }
    check_size(opened.len(), max_size)?;

    // Capacity from the size just checked; `take` keeps a growing file within the limit.
    let capacity = usize::try_from(opened.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_reason(&e))?;
    check_size(bytes.len() as u64, max_size)?;
    Ok(bytes)
}

fn check_kind(meta: &fs::Metadata) -> Result<(), String> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        Err("symlink not followed".into())
    } else if kind.is_dir() {
        Err("is a directory".into())
    } else if !kind.is_file() {
        Err("not a regular file".into())
    } else {
        Ok(())
    }
}

fn check_size(len: u64, max_size: u64) -> Result<(), String> {
    if len > max_size {
        Err(crate::extract::over_size_limit(len, max_size))
    } else {
        Ok(())
    }
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "file not found".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => format!("cannot be read: {e}"),
    }
}

fn access_error(path: &Path, e: &io::Error) -> SourceError {
    if e.kind() == io::ErrorKind::NotFound {
        SourceError {
            message: format!("`{}` does not exist", path.display()),
            help: None,
        }
    } else {
        SourceError {
            message: format!("cannot access `{}`: {e}", path.display()),
            help: None,
        }
    }
}

fn outside_root(arg: &str, root: &Path) -> SourceError {
    SourceError {
        message: format!(
            "`{arg}` is outside the repository root `{}`",
            root.display()
        ),
        help: Some("paths must name files or directories inside the repository".into()),
    }
}

fn missing_path(arg: &str) -> SourceError {
    SourceError {
        message: format!("`{arg}` does not exist"),
        help: Some("paths are relative to the directory promolint runs in (see -C)".into()),
    }
}

fn exists_nofollow(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Resolves `.` and `..` lexically, as Git does for pathspecs; `path` is absolute.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                // Popping past the root leaves the root, as the OS does.
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn is_not_a_repository(e: &gix::Error) -> bool {
    use gix::discover::upwards::Error as Upwards;
    e.downcast_any_ref::<Upwards>().is_some_and(|e| {
        matches!(
            e,
            Upwards::NoGitRepository { .. }
                | Upwards::NoGitRepositoryWithinCeiling { .. }
                | Upwards::NoGitRepositoryWithinFs { .. }
        )
    })
}

/// Repository-relative scopes (`""` = everything) from the pathspecs, or from where `start`
/// lies in the tree when there are none: explicit paths win over the starting directory.
fn scopes(pathspecs: &[String], start_prefix: Option<String>) -> Vec<BString> {
    let mut out: Vec<BString> = pathspecs
        .iter()
        .map(|p| {
            let p = p.trim_matches('/');
            if p == "." {
                BString::default()
            } else {
                BString::from(p)
            }
        })
        .collect();
    if out.is_empty() {
        if let Some(prefix) = start_prefix.filter(|p| !p.is_empty()) {
            out.push(prefix.into());
        }
    }
    // Everything is in scope if any scope is the whole tree; no scopes mean no restriction.
    if out.iter().any(|s| s.is_empty()) {
        out.clear();
    }
    out
}

/// Whether `path` is a scope or inside one.
fn in_scope(scopes: &[BString], path: &[u8]) -> bool {
    scopes.is_empty() || scopes.iter().any(|s| is_within(path, s))
}

/// Whether the directory `dir` may hold something in scope: it is in scope or leads to one.
fn may_hold_scope(scopes: &[BString], dir: &[u8]) -> bool {
    // `dir` is empty for the root of the walk.
    scopes.is_empty()
        || dir.is_empty()
        || scopes
            .iter()
            .any(|s| is_within(dir, s) || is_within(s, dir))
}

/// `path == base` or `path` is below `base`.
fn is_within(path: &[u8], base: &[u8]) -> bool {
    path.starts_with(base) && (path.len() == base.len() || path.get(base.len()) == Some(&b'/'))
}

/// Collects the files and symlinks the walk emits, confining it to the scopes.
struct Collect<'a> {
    scopes: &'a [BString],
    /// On a retry after an I/O error: the work tree root, to probe directories before entering
    /// them, so one unreadable directory is reported instead of failing the whole walk.
    probe_root: Option<&'a Path>,
    files: Vec<BString>,
    unreadable_dirs: Vec<(BString, io::Error)>,
}

impl Delegate for Collect<'_> {
    fn emit(&mut self, entry: EntryRef<'_>, _collapsed: Option<Status>) -> Action {
        let wanted_status = matches!(entry.status, Status::Tracked | Status::Untracked);
        // Directories come out only when not descended (nested repositories, submodules,
        // out-of-scope trees); devices and pipes cannot be tracked and Git lists none.
        let wanted_kind = matches!(entry.disk_kind, Some(Kind::File | Kind::Symlink));
        if wanted_status && wanted_kind && in_scope(self.scopes, entry.rela_path.as_ref()) {
            self.files.push(entry.rela_path.into_owned());
        }
        ControlFlow::Continue(())
    }

    fn can_recurse(
        &mut self,
        entry: EntryRef<'_>,
        for_deletion: Option<ForDeletionMode>,
        worktree_root_is_repository: bool,
    ) -> bool {
        let rela: &BStr = entry.rela_path.as_ref();
        let default = entry.status.can_recurse(
            entry.disk_kind,
            entry.pathspec_match,
            for_deletion,
            worktree_root_is_repository,
        );
        if !default || !may_hold_scope(self.scopes, rela) {
            return false;
        }
        if let Some(root) = self.probe_root {
            let Ok(rela_path) = gix::path::from_bstr(rela) else {
                return false;
            };
            if let Err(e) = fs::read_dir(root.join(rela_path)) {
                self.unreadable_dirs.push((rela.to_owned(), e));
                return false;
            }
        }
        true
    }
}

fn git_list<T: Send>(
    repo: &gix::Repository,
    start: &Path,
    canon_start: &Path,
    pathspecs: &[String],
    beside: impl FnOnce(&Path) -> T + Send,
) -> Result<(FileList, T), SourceError> {
    let Some(workdir) = repo.workdir() else {
        return Err(SourceError {
            message: format!(
                "`{}` is a bare repository: it has no working tree to check",
                repo.git_dir().display()
            ),
            help: Some("run promolint in a checkout, or use a mode that reads revisions".into()),
        });
    };
    let root = workdir.to_path_buf();
    let canon_root = fs::canonicalize(&root).map_err(|e| access_error(&root, &e))?;
    if let Ok(canon_git_dir) = fs::canonicalize(repo.git_dir()) {
        if canon_start.starts_with(&canon_git_dir) && !canon_root.starts_with(&canon_git_dir) {
            return Err(SourceError {
                message: format!(
                    "`{}` is inside the Git directory `{}`, not in the working tree",
                    start.display(),
                    repo.git_dir().display()
                ),
                help: Some(
                    "run promolint in a checkout, or use a mode that reads revisions".into(),
                ),
            });
        }
    }
    // With GIT_WORK_TREE a start outside the work tree is possible: then the whole tree counts.
    let start_prefix = canon_start.strip_prefix(&canon_root).ok().map(slash_path);
    let scopes = scopes(pathspecs, start_prefix);

    let walk_error = |e: &dyn std::fmt::Display| SourceError {
        message: format!("cannot list the working tree `{}`: {e}", root.display()),
        help: None,
    };
    let index = repo.index_or_empty().map_err(|e| SourceError {
        message: format!(
            "cannot list the working tree `{}`: its index cannot be read: {e}",
            root.display()
        ),
        help: Some(super::git::INDEX_HELP.into()),
    })?;
    refuse_huge_ignore_files(&root, &index)?;
    let options = repo
        .dirwalk_options()
        .map_err(|e| walk_error(&e))?
        .emit_tracked(true)
        .emit_untracked(EmissionMode::Matching)
        .emit_ignored(None)
        .emit_pruned(false)
        .emit_empty_directories(false)
        .recurse_repositories(false);
    let cache_dir = repo.common_dir().join("promolint");
    let (mut indexed, mut side) = (None, None);
    let collect = rayon::in_place_scope(|s| {
        let (indexed, side, index, cache_dir) = (&mut indexed, &mut side, &*index, &cache_dir);
        s.spawn(move |_| {
            *indexed = Some(indexed_files(index));
            *side = Some(beside(cache_dir));
        });
        let collect = Collect {
            scopes: &scopes,
            probe_root: None,
            files: Vec::new(),
            unreadable_dirs: Vec::new(),
        };
        walk_with(repo, index, options, collect).or_else(|_| {
            // The walk stops at the first unreadable directory; walk again, probing each one.
            let collect = Collect {
                scopes: &scopes,
                probe_root: Some(&root),
                files: Vec::new(),
                unreadable_dirs: Vec::new(),
            };
            walk_with(repo, index, options, collect).map_err(|e| walk_error(&e))
        })
    })?;
    let mut skipped = Vec::new();
    let mut files = Vec::with_capacity(collect.files.len());
    for path in collect.files {
        match String::from_utf8(path.into()) {
            Ok(s) => files.push(s),
            // No file can be opened by its lossy name: it is reported, never read.
            Err(e) => {
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                skipped.push((lossy, NOT_UTF8.to_string()));
            }
        }
    }
    if let Some((dir, e)) = collect.unreadable_dirs.iter().min_by(|a, b| a.0.cmp(&b.0)) {
        return Err(unreadable_dir(&dir.to_str_lossy(), e));
    }
    // A panic in the scope's task reaches this thread: the task always ran.
    let side = side.ok_or_else(|| walk_error(&"a thread of the pool stopped"))?;
    let mut list = finish(root, files, skipped, true);
    list.cache_dir = Some(cache_dir);
    list.indexed = indexed.unwrap_or_default();
    Ok((list, side))
}

/// One directory walk of the work tree, each entry given to `collect`.
fn walk_with<'a>(
    repo: &gix::Repository,
    index: &gix::index::File,
    options: gix::dirwalk::Options,
    mut collect: Collect<'a>,
) -> Result<Collect<'a>, gix::Error> {
    let interrupt = AtomicBool::new(false);
    let no_patterns: [&BStr; 0] = [];
    repo.dirwalk(index, no_patterns, &interrupt, options, &mut collect)?;
    Ok(collect)
}

/// The largest `.gitignore` the walk may read. Real ones are kilobytes.
pub const MAX_IGNORE_FILE: u64 = 16 << 20;

/// The walk reads each `.gitignore` whole, as Git does: a 1 GiB one took 1.2 GB of memory,
/// a larger one exhausted it. The root's and every tracked one are checked on disk first
/// (a stat each); the walk is refused when one is over [`MAX_IGNORE_FILE`].
fn refuse_huge_ignore_files(root: &Path, index: &gix::index::File) -> Result<(), SourceError> {
    let tracked = index
        .entries()
        .iter()
        .map(|e| e.path(index))
        .filter(|p| *p == ".gitignore" || p.ends_with(b"/.gitignore"));
    for path in std::iter::once(BStr::new(".gitignore")).chain(tracked) {
        let Ok(rel) = gix::path::from_bstr(path) else {
            continue;
        };
        let Ok(meta) = fs::symlink_metadata(root.join(&rel)) else {
            continue;
        };
        if meta.is_file() && meta.len() > MAX_IGNORE_FILE {
            return Err(SourceError {
                message: format!(
                    "`{}` is {} bytes: promolint reads ignore files whole, and refuses those \
                     over {MAX_IGNORE_FILE} bytes",
                    slash_path(&rel),
                    meta.len()
                ),
                help: Some(
                    "an ignore file of this size is not real: remove it, or lint the \
                     revision with `promolint diff` or `history`, which do not read it"
                        .into(),
                ),
            });
        }
    }
    Ok(())
}

/// A directory of the tree that cannot be listed: the run cannot be done (exit 2), since
/// what it holds (a production manifest, say) would go unjudged.
fn unreadable_dir(rel: &str, e: &io::Error) -> SourceError {
    // ENAMETOOLONG (`io::ErrorKind::InvalidFilename` is newer than the supported Rust).
    #[cfg(target_os = "linux")]
    const NAME_TOO_LONG: i32 = 36;
    #[cfg(not(target_os = "linux"))]
    const NAME_TOO_LONG: i32 = 63;
    let fix = if e.raw_os_error() == Some(NAME_TOO_LONG) {
        "its path is longer than the system lets a program open: shorten the directory names"
    } else {
        "make it readable for the user running promolint (`chmod u+rx`), or remove it if it is          not part of the repository"
    };
    SourceError {
        message: format!("cannot read the directory `{rel}`: {e}"),
        help: Some(format!(
            "{fix}; promolint judges every file of the tree, and files it cannot list could be              a protected environment's"
        )),
    }
}

fn plain_list(start: &Path, pathspecs: &[String]) -> Result<FileList, SourceError> {
    let scopes = scopes(pathspecs, None);
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let walker = walkdir::WalkDir::new(start)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            // Git metadata is never content, be it a directory or a worktree's `.git` file.
            if e.file_name() == ".git" {
                return false;
            }
            if scopes.is_empty() {
                return true;
            }
            let rel = rel_bytes(start, e.path());
            if e.file_type().is_dir() {
                may_hold_scope(&scopes, rel.as_bytes())
            } else {
                in_scope(&scopes, rel.as_bytes())
            }
        });
    for entry in walker {
        match entry {
            Ok(e) => {
                let kind = e.file_type();
                if e.depth() == 0 || !(kind.is_file() || kind.is_symlink()) {
                    continue;
                }
                let rel = rel_bytes(start, e.path());
                match std::str::from_utf8(rel.as_bytes()) {
                    Ok(s) => files.push(s.to_string()),
                    Err(_) => {
                        let lossy = rel.to_str_lossy().into_owned();
                        skipped.push((lossy, NOT_UTF8.to_string()));
                    }
                }
            }
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| rel_bytes(start, p).to_str_lossy().into_owned())
                    .unwrap_or_default();
                let io = match e.into_io_error() {
                    Some(io) => io,
                    None => io::Error::other("the walk failed"),
                };
                return Err(unreadable_dir(&path, &io));
            }
        }
    }
    Ok(finish(start.to_path_buf(), files, skipped, false))
}

fn finish(
    root: PathBuf,
    mut files: Vec<String>,
    mut skipped: Vec<(String, String)>,
    git: bool,
) -> FileList {
    files.sort_unstable();
    files.dedup();
    skipped.sort();
    skipped.dedup();
    FileList {
        root,
        files,
        git,
        skipped,
        cache_dir: None,
        indexed: Default::default(),
    }
}

/// A tracked file as the index records it, when the index vouches for its stat: a regular
/// file of stage 0, not marked assume-unchanged, intent-to-add or skip-worktree, and not
/// racily clean (modified in the second the index was written, or after).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedFile {
    pub id: gix::ObjectId,
    stat: gix::index::entry::Stat,
}

/// How a file's stat is compared with the index's: every field, with nanoseconds, as Git
/// does by default on Linux.
const STAT_OPTIONS: gix::index::entry::stat::Options = gix::index::entry::stat::Options {
    trust_ctime: true,
    check_stat: true,
    use_nsec: true,
    use_stdev: true,
};

impl IndexedFile {
    /// The size of `path` (the file on disk) when it is still what the index recorded: a
    /// regular file, not a link, whose stat is the index's to the nanosecond, size, inode
    /// and device included (what `git status` trusts without reading the file). A file
    /// rewritten in place keeps its inode but not its ctime, which no user can set. The
    /// bytes are the blob's only when checkout filters left the length alone: compare it
    /// with the blob's.
    pub fn unchanged(&self, path: &Path) -> Option<u64> {
        let meta = gix::index::fs::Metadata::from_path_no_follow(path).ok()?;
        if !meta.is_file() || meta.len() != u64::from(self.stat.size) {
            return None;
        }
        gix::index::entry::Stat::from_fs(&meta)
            .is_ok_and(|stat| stat.matches(&self.stat, STAT_OPTIONS))
            .then(|| meta.len())
    }
}

/// The tracked regular files whose stat the index vouches for (see [`IndexedFile`]).
fn indexed_files(index: &gix::index::File) -> std::collections::HashMap<String, IndexedFile> {
    use gix::index::entry::{Flags, Mode};
    let written = index.timestamp();
    // Racy: modified no earlier than the second the index was written.
    let racy_options = gix::index::entry::stat::Options {
        use_nsec: false,
        ..STAT_OPTIONS
    };
    index
        .entries()
        .iter()
        .filter(|e| e.stage_raw() == 0)
        .filter(|e| e.mode == Mode::FILE || e.mode == Mode::FILE_EXECUTABLE)
        .filter(|e| {
            !e.flags
                .intersects(Flags::ASSUME_VALID | Flags::INTENT_TO_ADD | Flags::SKIP_WORKTREE)
        })
        .filter(|e| !e.stat.is_racy(written, racy_options))
        .filter_map(|e| {
            let path = String::from_utf8(e.path(index).to_vec()).ok()?;
            Some((
                path,
                IndexedFile {
                    id: e.id,
                    stat: e.stat,
                },
            ))
        })
        .collect()
}

/// `path` below `base` as `/`-separated bytes (the raw bytes of non-UTF-8 names).
fn rel_bytes(base: &Path, path: &Path) -> BString {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let mut out = BString::default();
    for component in rel.components() {
        if let Component::Normal(name) = component {
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(&gix::path::os_str_into_bstr(name).map_or_else(
                |_| name.to_string_lossy().as_bytes().to_vec(),
                |b| b.to_vec(),
            ));
        }
    }
    out
}

/// A relative path as a `/`-separated string (lossy for non-UTF-8 names).
fn slash_path(rel: &Path) -> String {
    rel_bytes(Path::new(""), rel).to_str_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let path = std::env::temp_dir().join(format!(
                "promolint-worktree-{tag}-{}-{n}",
                std::process::id()
            ));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        fn path(&self) -> &Path {
            &self.0
        }

        fn write(&self, rel: &str, content: &str) {
            let path = self.0.join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "protocol.file.allow=always",
            ])
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Set a file's modification time to 2020-01-01 (`old`) or 2099-01-01.
    fn set_mtime(path: &Path, old: bool) {
        let secs = if old { 1_577_836_800 } else { 4_070_908_800 };
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        let file = fs::File::options().write(true).open(path).unwrap();
        file.set_modified(time).unwrap();
    }

    #[test]
    fn the_index_vouches_only_for_files_whose_whole_stat_it_recorded() {
        let t = TempDir::new("indexed");
        git(t.path(), &["init", "-q"]);
        t.write("envs/prod/app.yaml", "image: app:v1\n");
        t.write("envs/dev/app.yaml", "image: app:v1\n");
        t.write("fresh.yaml", "image: app:v1\n");
        for rel in ["envs/prod/app.yaml", "envs/dev/app.yaml"] {
            set_mtime(&t.path().join(rel), true);
        }
        git(t.path(), &["add", "-A"]);
        git(t.path(), &["commit", "-q", "-m", "c1"]);
        // A file modified in the second the index was written, or later, is racily clean:
        // not vouched for.
        set_mtime(&t.path().join("fresh.yaml"), false);
        git(t.path(), &["update-index", "--refresh"]);
        let list = list(t.path(), &[]).unwrap();
        let prod = &list.indexed["envs/prod/app.yaml"];
        assert_eq!(
            prod.unchanged(&t.path().join("envs/prod/app.yaml")),
            Some(14)
        );
        assert!(!list.indexed.contains_key("fresh.yaml"));
        // The same size and modification time, other content: the change time tells.
        t.write("envs/prod/app.yaml", "image: app:v2\n");
        set_mtime(&t.path().join("envs/prod/app.yaml"), true);
        assert_eq!(prod.unchanged(&t.path().join("envs/prod/app.yaml")), None);
        // A link in its place.
        fs::remove_file(t.path().join("envs/dev/app.yaml")).unwrap();
        std::os::unix::fs::symlink("../prod/app.yaml", t.path().join("envs/dev/app.yaml")).unwrap();
        let dev = &list.indexed["envs/dev/app.yaml"];
        assert_eq!(dev.unchanged(&t.path().join("envs/dev/app.yaml")), None);
    }

    /// tracked: README.md, envs/prod/app.yaml, envs/dev/app.yaml, .gitignore;
    /// untracked: envs/prod/new.yaml, notes/todo.txt; ignored: build.log, cache/x.yaml.
    fn sample_repo() -> TempDir {
        let t = TempDir::new("repo");
        git(t.path(), &["init", "-q"]);
        t.write("README.md", "hi\n");
        t.write("envs/prod/app.yaml", "image: a:v1\n");
        t.write("envs/dev/app.yaml", "image: a:v2\n");
        t.write(".gitignore", "*.log\ncache/\n");
        git(t.path(), &["add", "-A"]);
        git(t.path(), &["commit", "-q", "-m", "init"]);
        t.write("envs/prod/new.yaml", "x: 1\n");
        t.write("notes/todo.txt", "x\n");
        t.write("build.log", "log\n");
        t.write("cache/x.yaml", "x: 1\n");
        t
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn repo_lists_tracked_and_untracked_not_ignored() {
        let t = sample_repo();
        let list = list(t.path(), &[]).unwrap();
        assert!(list.git);
        assert_eq!(
            list.files,
            strs(&[
                ".gitignore",
                "README.md",
                "envs/dev/app.yaml",
                "envs/prod/app.yaml",
                "envs/prod/new.yaml",
                "notes/todo.txt",
            ])
        );
        assert!(list.skipped.is_empty());
        assert_eq!(
            fs::canonicalize(&list.root).unwrap(),
            fs::canonicalize(t.path()).unwrap()
        );
    }

    #[test]
    fn tracked_file_deleted_on_disk_is_skipped_and_ignored_tracked_file_kept() {
        let t = sample_repo();
        fs::remove_file(t.path().join("README.md")).unwrap();
        // Force-added: tracked even though `cache/` is ignored.
        git(t.path(), &["add", "-f", "cache/x.yaml"]);
        let list = list(t.path(), &[]).unwrap();
        assert!(!list.files.contains(&"README.md".to_string()));
        assert!(list.files.contains(&"cache/x.yaml".to_string()));
        assert!(!list.files.contains(&"build.log".to_string()));
    }

    #[test]
    fn subdirectory_start_restricts_to_it() {
        let t = sample_repo();
        let list = list(&t.path().join("envs/prod"), &[]).unwrap();
        assert_eq!(
            list.files,
            strs(&["envs/prod/app.yaml", "envs/prod/new.yaml"])
        );
        assert!(list.git);
        assert_eq!(
            fs::canonicalize(&list.root).unwrap(),
            fs::canonicalize(t.path()).unwrap()
        );
    }

    #[test]
    fn pathspecs_select_files_and_directories() {
        let t = sample_repo();
        let list = list(
            t.path(),
            &strs(&["envs/dev/app.yaml", "notes", "envs/prod/"]),
        )
        .unwrap();
        assert_eq!(
            list.files,
            strs(&[
                "envs/dev/app.yaml",
                "envs/prod/app.yaml",
                "envs/prod/new.yaml",
                "notes/todo.txt",
            ])
        );
        // Explicit paths win over the starting directory; `.` is the whole tree.
        let from_sub = super::list(&t.path().join("envs/prod"), &strs(&["notes"])).unwrap();
        assert_eq!(from_sub.files, strs(&["notes/todo.txt"]));
        let all = super::list(&t.path().join("envs"), &strs(&["."])).unwrap();
        assert_eq!(all.files.len(), 6);
        // A directory name is not a prefix of a sibling's name.
        let none = super::list(t.path(), &strs(&["envs/pro"])).unwrap();
        assert!(none.files.is_empty());
    }

    #[test]
    fn resolve_pathspec_makes_arguments_repository_relative() {
        let t = sample_repo();
        let root = t.path();
        let sub = root.join("envs/prod");
        assert_eq!(
            resolve_pathspec(root, &sub, "app.yaml").unwrap(),
            "envs/prod/app.yaml"
        );
        assert_eq!(resolve_pathspec(root, &sub, "../dev").unwrap(), "envs/dev");
        assert_eq!(
            resolve_pathspec(root, &sub, "./../dev/").unwrap(),
            "envs/dev"
        );
        assert_eq!(resolve_pathspec(root, &sub, "../..").unwrap(), "");
        assert_eq!(resolve_pathspec(root, root, ".").unwrap(), "");
        let abs = root.join("notes/todo.txt");
        assert_eq!(
            resolve_pathspec(root, &sub, abs.to_str().unwrap()).unwrap(),
            "notes/todo.txt"
        );

        let outside = resolve_pathspec(root, &sub, "../../..").unwrap_err();
        assert!(
            outside.message.contains("outside the repository root"),
            "{outside}"
        );
        let missing = resolve_pathspec(root, &sub, "nope.yaml").unwrap_err();
        assert_eq!(missing.message, "`nope.yaml` does not exist");
        let abs_outside = resolve_pathspec(root, root, "/").unwrap_err();
        assert!(abs_outside.message.contains("outside"), "{abs_outside}");
    }

    #[test]
    fn plain_directory_is_walked() {
        let t = TempDir::new("plain");
        t.write("b.yaml", "b\n");
        t.write("a/z.yaml", "z\n");
        t.write("a/b/c.tf", "c\n");
        t.write("a/.git/HEAD", "not a repo\n");
        t.write("sub/.git", "gitdir: elsewhere\n");
        t.write("sub/file", "f\n");
        fs::create_dir_all(t.path().join("empty")).unwrap();
        let all = list(t.path(), &[]).unwrap();
        assert!(!all.git);
        assert_eq!(all.root, t.path());
        assert_eq!(
            all.files,
            strs(&["a/b/c.tf", "a/z.yaml", "b.yaml", "sub/file"])
        );
        let some = list(t.path(), &strs(&["a/b", "b.yaml"])).unwrap();
        assert_eq!(some.files, strs(&["a/b/c.tf", "b.yaml"]));
    }

    #[test]
    fn bare_repository_is_an_error() {
        let t = TempDir::new("bare");
        git(t.path(), &["init", "-q", "--bare"]);
        let err = list(t.path(), &[]).unwrap_err();
        assert!(
            err.message
                .ends_with("is a bare repository: it has no working tree to check"),
            "{err}"
        );
        assert_eq!(
            err.help.as_deref(),
            Some("run promolint in a checkout, or use a mode that reads revisions")
        );
    }

    #[test]
    fn inside_git_dir_is_an_error() {
        let t = sample_repo();
        let err = list(&t.path().join(".git/refs"), &[]).unwrap_err();
        assert!(
            err.message.contains("Git directory") || err.message.contains("bare"),
            "{err}"
        );
    }

    #[test]
    fn gitlink_and_nested_repository_are_not_listed() {
        let t = sample_repo();
        // A gitlink entry as a submodule leaves it, with a checkout that has files.
        let head = git(t.path(), &["rev-parse", "HEAD"]);
        let cacheinfo = format!("160000,{},vendor/sub", head.trim());
        git(
            t.path(),
            &["update-index", "--add", "--cacheinfo", &cacheinfo],
        );
        t.write("vendor/sub/inner.yaml", "x\n");
        // A gitlink whose directory is missing.
        let cacheinfo = format!("160000,{},gone", head.trim());
        git(
            t.path(),
            &["update-index", "--add", "--cacheinfo", &cacheinfo],
        );
        // An untracked nested repository.
        fs::create_dir_all(t.path().join("nested")).unwrap();
        git(&t.path().join("nested"), &["init", "-q"]);
        t.write("nested/file.yaml", "x\n");
        let list = list(t.path(), &[]).unwrap();
        assert!(
            list.files
                .iter()
                .all(|f| !f.starts_with("vendor") && !f.starts_with("nested") && f != "gone"),
            "{:?}",
            list.files
        );
        assert_eq!(list.files.len(), 6);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_listed_but_not_followed() {
        let t = sample_repo();
        let outside = TempDir::new("outside");
        outside.write("secret/s.yaml", "secret\n");
        std::os::unix::fs::symlink("README.md", t.path().join("link.md")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), t.path().join("linkdir"))
            .unwrap();
        git(t.path(), &["add", "link.md"]);
        let list = list(t.path(), &[]).unwrap();
        assert!(list.files.contains(&"link.md".to_string()));
        assert!(list.files.contains(&"linkdir".to_string()));
        assert!(!list.files.iter().any(|f| f.starts_with("linkdir/")));
        assert_eq!(
            read_file(t.path(), "link.md", 1024).unwrap_err(),
            "symlink not followed"
        );
        assert_eq!(
            read_file(t.path(), "linkdir", 1024).unwrap_err(),
            "symlink not followed"
        );
        // The same in a plain directory.
        let plain = TempDir::new("plainlink");
        plain.write("a.yaml", "a\n");
        std::os::unix::fs::symlink(outside.path().join("secret"), plain.path().join("l")).unwrap();
        let plain_list = super::list(plain.path(), &[]).unwrap();
        assert_eq!(plain_list.files, strs(&["a.yaml", "l"]));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn non_utf8_paths_are_listed_lossily_and_recorded() {
        use std::os::unix::ffi::OsStrExt;
        let t = sample_repo();
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff.yaml");
        fs::write(t.path().join(name), "x\n").unwrap();
        let list = list(t.path(), &[]).unwrap();
        let lossy = "bad-\u{fffd}.yaml".to_string();
        // Recorded to be reported, not listed to be read (no file has the lossy name).
        assert!(!list.files.contains(&lossy));
        assert_eq!(list.skipped, vec![(lossy.clone(), NOT_UTF8.to_string())]);

        let plain = TempDir::new("plainutf8");
        fs::write(plain.path().join(name), "x\n").unwrap();
        let plain_list = super::list(plain.path(), &[]).unwrap();
        assert!(plain_list.files.is_empty());
        assert_eq!(plain_list.skipped, vec![(lossy, NOT_UTF8.to_string())]);
    }

    #[test]
    fn missing_start_is_an_error_naming_it() {
        let t = TempDir::new("missing");
        let gone = t.path().join("does-not-exist");
        let err = list(&gone, &[]).unwrap_err();
        assert_eq!(err.message, format!("`{}` does not exist", gone.display()));
    }

    #[test]
    fn read_file_limits_and_refusals() {
        let t = TempDir::new("read");
        t.write("small.yaml", "abc");
        t.write("dir/big.bin", &"x".repeat(100));
        assert_eq!(read_file(t.path(), "small.yaml", 3).unwrap(), b"abc");
        assert_eq!(
            read_file(t.path(), "dir/big.bin", 99).unwrap_err(),
            "file is 100 bytes, over the size limit of 99 bytes"
        );
        assert_eq!(read_file(t.path(), "dir/big.bin", 100).unwrap().len(), 100);
        assert_eq!(
            read_file(t.path(), "dir", 100).unwrap_err(),
            "is a directory"
        );
        assert_eq!(
            read_file(t.path(), "nope", 100).unwrap_err(),
            "file not found"
        );
        for odd in ["", "./small.yaml", "dir//big.bin", "dir/"] {
            assert_eq!(
                read_file(t.path(), odd, 100).unwrap_err(),
                "not a normalized repository-relative path",
                "{odd}"
            );
        }
        for bad in ["../x", "dir/../small.yaml", "/etc/passwd", ".."] {
            assert_eq!(
                read_file(t.path(), bad, 100).unwrap_err(),
                "path leaves the repository root",
                "{bad}"
            );
        }
    }
}
