//! What a run is asked to do and with what: options, the configuration (found, loaded,
//! rebased), the enabled rules, the project directory, and the one worker pool (`--jobs`).

use crate::config::{self, Config, RuleLevel};
use crate::error::{ConfigError, Error};
use crate::rules::{self, RuleMeta};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What to check and how.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Where to start (`-C DIR`, else the current directory).
    pub start: PathBuf,
    /// `check [PATH…]`, relative to `start`.
    pub paths: Vec<String>,
    /// `--config FILE`; else `.promolint.yaml` at the root if present.
    pub config: Option<PathBuf>,
    /// `--jobs N`; `None` uses every core.
    pub jobs: Option<usize>,
    /// `--select`: only these rules (ids or names); also enables rules that are off by default.
    pub select: Vec<String>,
    /// `--ignore`: never these rules.
    pub ignore: Vec<String>,
    /// `--no-cache`: neither read nor write the caches in the git directory (the pin ledger
    /// and the fact store); see [`Options::caching`].
    pub no_cache: bool,
    /// `--max-file-size BYTES`: overrides the configuration's `max_file_size`, and may go
    /// above the cap a configuration file has.
    pub max_file_size: Option<u64>,
    /// `--strict-suppressions`: inline suppressions of the gate rules in protected
    /// environments are refused (also `strict_suppressions: true` in the config).
    pub strict_suppressions: bool,
    /// `--fix`: give the findings of the rules that have fixes their fix (see
    /// [`crate::model::FixState`]).
    pub fix: bool,
}

impl Options {
    /// Whether the caches in the git directory are read and written: not with `--no-cache`
    /// or `PROMOLINT_NO_CACHE`.
    pub fn caching(&self) -> bool {
        !self.no_cache && std::env::var_os("PROMOLINT_NO_CACHE").is_none()
    }
}

/// Resolve `--select`/`--ignore` entries (ids or names) to rule metadata.
fn resolve_rules(keys: &[String], flag: &str) -> Result<Vec<&'static RuleMeta>, Error> {
    keys.iter()
        .flat_map(|k| k.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            rules::lookup(k).ok_or_else(|| Error::Usage {
                message: format!("{flag}: unknown rule `{k}`"),
                help: Some("run `promolint rules` to list rule ids and names".to_string()),
            })
        })
        .collect()
}

/// The rules that run, by id.
pub fn enabled_rules(config: &Config, opts: &Options) -> Result<BTreeSet<&'static str>, Error> {
    let select = resolve_rules(&opts.select, "--select")?;
    let ignore = resolve_rules(&opts.ignore, "--ignore")?;
    let mut out = BTreeSet::new();
    for r in rules::all() {
        let configured = config.rules.get(r.id).and_then(|c| c.level);
        let on = if !select.is_empty() {
            select.iter().any(|s| s.id == r.id)
        } else {
            match configured {
                Some(RuleLevel::Off) => false,
                Some(RuleLevel::Level(_)) => true,
                None => r.enabled,
            }
        };
        if on && !ignore.iter().any(|s| s.id == r.id) {
            out.insert(r.id);
        }
    }
    Ok(out)
}

/// Load the config named by `--config`, else the nearest `.promolint.yaml` from `start` up
/// to `root`, else defaults. Globs in a config found in a subdirectory are relative to that
/// subdirectory (like `.gitignore`), so they are rebased onto the root here.
pub fn load_config(root: &Path, start: &Path, explicit: Option<&Path>) -> Result<Config, Error> {
    if let Some(path) = explicit {
        return Ok(config::load::load(path)?);
    }
    let root_abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut dir = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    loop {
        // Whatever exists under a name is the configuration, or an error: a directory, a
        // FIFO or a link to `/dev/null` must not silently become zero config.
        let mut found = Vec::new();
        for name in config::FILE_NAMES {
            let candidate = dir.join(name);
            match std::fs::symlink_metadata(&candidate) {
                Ok(_) => found.push((name, candidate)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::Config(ConfigError {
                        file: candidate.display().to_string(),
                        line: None,
                        column: None,
                        field: String::new(),
                        message: format!("cannot tell whether the config file exists: {e}"),
                        help: Some("check the permissions of the directory".to_string()),
                    }))
                }
            }
        }
        let base = dir
            .strip_prefix(&root_abs)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let shown = |name: &str| {
            if base.is_empty() {
                name.to_string()
            } else {
                format!("{base}/{name}")
            }
        };
        if let [(first, _), (second, _)] = found.as_slice() {
            // Two files: whichever promolint picked, the other would be silently ignored.
            return Err(Error::Config(ConfigError {
                file: shown(first),
                line: None,
                column: None,
                field: String::new(),
                message: format!(
                    "two configuration files: {} and {}",
                    shown(first),
                    shown(second)
                ),
                help: Some("keep one of them (merge what the other says into it)".to_string()),
            }));
        }
        if let Some((name, candidate)) = found.pop() {
            let shown = shown(name);
            // Errors name the file as the user sees it in the repository.
            let mut c = config::load::load_found(&candidate, &root_abs).map_err(|mut e| {
                e.file = shown.clone();
                e
            })?;
            c.path = Some(PathBuf::from(shown));
            rebase(&mut c, &base);
            return Ok(c);
        }
        if dir == root_abs || !dir.pop() {
            return Ok(Config::default());
        }
    }
}

/// The configuration of a run: [`load_config`], then what the command line overrides.
pub fn run_config(root: &Path, opts: &Options) -> Result<Config, Error> {
    let mut config = load_config(root, &opts.start, opts.config.as_deref())?;
    if let Some(size) = opts.max_file_size {
        config.max_file_size = size;
    }
    config.own_repositories = crate::source::git::own_repositories(root);
    config.strict_suppressions |= opts.strict_suppressions;
    Ok(config)
}

/// Prefix every path glob of `config` with `base/`.
fn rebase(config: &mut Config, base: &str) {
    if base.is_empty() {
        return;
    }
    let prefix = |g: &mut String| *g = format!("{base}/{g}");
    for e in &mut config.environments {
        e.paths.iter_mut().for_each(prefix);
    }
    for a in &mut config.artifacts {
        prefix(&mut a.pattern);
    }
    for r in config.rules.values_mut() {
        r.ignore.iter_mut().for_each(prefix);
    }
}

/// The directory whose files a run started in `start` reads: the nearest directory at or
/// above `start` holding a configuration file (a project of its own, its globs relative to
/// it), up to the repository root `top`; else `top`, or `start` in a plain directory.
pub fn project_dir(start: &Path, top: Option<&Path>) -> PathBuf {
    let fallback = || top.unwrap_or(start).to_path_buf();
    let Ok(mut dir) = start.canonicalize() else {
        return fallback();
    };
    let top = top.and_then(|t| t.canonicalize().ok());
    loop {
        let has_config = config::FILE_NAMES
            .iter()
            .any(|n| std::fs::symlink_metadata(dir.join(n)).is_ok());
        if has_config {
            return dir;
        }
        if top.as_deref() == Some(dir.as_path()) || !dir.pop() {
            return fallback();
        }
    }
}

pub(crate) fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Stack of every worker thread. The parsers recurse up to their nesting limits (hcl-edit
/// 64 levels, serde-saphyr 64 for the config): 64 nested `for` expressions need about 3 MiB
/// in a debug build, more than the 2 MiB threads get by default.
pub const WORKER_STACK_SIZE: usize = 16 << 20;

/// The most worker threads a run starts: the threads the machine can run at once
/// (`std::thread::available_parallelism`, which honours CPU affinity and cgroup quotas).
/// `--jobs 20000` started 20,000 threads of [`WORKER_STACK_SIZE`] each and never finished;
/// more threads than this only add contention.
pub fn max_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `--jobs N` as the run uses it: at least 1, at most [`max_jobs`].
pub fn jobs(requested: Option<usize>) -> Result<Option<usize>, Error> {
    match requested {
        Some(0) => Err(Error::Usage {
            message: "--jobs must be at least 1".to_string(),
            help: Some(format!(
                "give a number of worker threads from 1 to {} (this machine's threads), or leave --jobs out to use every core",
                max_jobs()
            )),
        }),
        Some(n) => Ok(Some(n.min(max_jobs()))),
        None => Ok(None),
    }
}

/// The builder of every worker pool (`check`'s, `status`'s and rayon's global pool that
/// the git modes run on): `--jobs` threads, capped by [`jobs`], with [`WORKER_STACK_SIZE`]
/// of stack each.
pub fn pool_builder(jobs: Option<usize>) -> Result<rayon::ThreadPoolBuilder, Error> {
    let b = rayon::ThreadPoolBuilder::new().stack_size(WORKER_STACK_SIZE);
    Ok(match self::jobs(jobs)? {
        Some(n) => b.num_threads(n),
        None => b,
    })
}

/// A worker pool of its own (see [`pool_builder`]).
pub fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    pool_builder(jobs)?.build().map_err(|e| Error::Usage {
        message: format!("cannot start worker threads: {e}"),
        help: Some("try a smaller --jobs".to_string()),
    })
}

/// Set by the binary, which exits as soon as the report is written.
static EXITS_AFTER_RUN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Say that the process ends with this run (the binary does; tests and other library users
/// do not), so [`discard`] can leave a run's facts and snapshots to the operating system.
pub fn exits_after_run() {
    EXITS_AFTER_RUN.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Hands the pages the allocator holds free back to the system. glibc keeps what a
/// thread freed in that thread's arena, out of the other threads' reach: over a long
/// `history` each worker's arena kept the peaks of the snapshots it built, and the process
/// peaked 14–20 MiB higher (docs/performance.md). A no-op elsewhere.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes no pointer; it walks the allocator's own free lists
    // under their locks, as `free` does.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Drop a run's large structures, unless the process is about to exit: freeing 20k files'
/// facts and two snapshots one allocation at a time took ~45 ms of a 0.5 s `staged`, work
/// the operating system does at once when the process ends.
pub fn discard<T>(value: T) {
    if EXITS_AFTER_RUN.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_are_capped_to_the_threads_the_machine_can_run() {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(max_jobs(), threads);
        assert_eq!(jobs(Some(100_000)).ok().flatten(), Some(threads));
        assert_eq!(jobs(Some(1)).ok().flatten(), Some(1));
        assert!(jobs(Some(0)).is_err());
        // `--jobs 100000` starts no more threads than that.
        let pool = thread_pool(Some(100_000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pool.current_num_threads(), threads);
    }
}
