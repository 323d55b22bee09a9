//! Orchestration: list files, extract facts in parallel, build the snapshot, run the rules,
//! then apply suppressions, rule configuration and selection.

use crate::config::{self, Config, Environments, RuleLevel};
use crate::error::ConfigError;
pub use crate::error::Error;
use crate::extract::{self, suppress};
use crate::model::FactKind;
use crate::rules::{self, Finding, RuleMeta};
use crate::snapshot::{FileFacts, Snapshot};
use crate::source::{self, worktree};
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// `--no-cache`: neither read nor write the pin ledger in the git directory.
    pub no_cache: bool,
    /// `--max-file-size BYTES`: overrides the configuration's `max_file_size`, and may go
    /// above the cap a configuration file has.
    pub max_file_size: Option<u64>,
    /// `--strict-suppressions`: inline suppressions of the gate rules in protected
    /// environments are refused (also `strict_suppressions: true` in the config).
    pub strict_suppressions: bool,
}

/// The result of a run.
#[derive(Debug)]
pub struct Outcome {
    pub root: PathBuf,
    pub findings: Vec<Finding>,
    /// Number of files read (those an extractor handles).
    pub files: usize,
    pub snapshot: Snapshot,
    pub config: Config,
}

impl Outcome {
    /// The decoded text of a file that holds a finding, for quoting it.
    pub fn source(&self, path: &str) -> Option<Arc<str>> {
        self.snapshot.file(path).and_then(|f| f.text.clone())
    }

    /// What the user should know about what was judged: no environment at all (so no
    /// promotion rule had anything to compare), or a configured environment whose paths
    /// give it no file (a typo, or a directory that moved). Empty when all is as expected.
    pub fn environment_notes(&self) -> Vec<String> {
        let envs = &self.snapshot.envs;
        if envs.envs.is_empty() {
            return vec![format!(
                "no environment found in {} file{}: the promotion rules had nothing to \
                 compare; declare the environments in `.promolint.yaml` (`promolint init` \
                 writes what it can infer)",
                self.files,
                if self.files == 1 { "" } else { "s" }
            )];
        }
        if envs.inferred {
            return Vec::new();
        }
        let mut used = vec![false; envs.envs.len()];
        for f in &self.snapshot.files {
            if let Some(e) = envs.for_path(&f.path) {
                used[e] = true;
            }
        }
        envs.envs
            .iter()
            .zip(used)
            .filter(|(e, used)| !used && !e.path_globs.is_empty() && e.namespaces.is_empty())
            .map(|(e, _)| {
                format!(
                    "environment `{}` of the configuration holds no file: its paths ({}) \
                     match none that promolint reads, or an earlier environment's paths take \
                     them; check the globs",
                    e.name,
                    e.path_globs
                        .iter()
                        .map(|g| format!("`{g}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect()
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

/// Read and extract every file, in parallel; order follows `files`.
pub fn extract_files(root: &Path, files: &[String], max_size: u64) -> Vec<FileFacts> {
    files
        .par_iter()
        .filter_map(|path| {
            let format = extract::format_of(path)?;
            Some(extract_one(root, path, format, max_size))
        })
        .collect()
}

fn extract_one(root: &Path, path: &str, format: extract::Format, max_size: u64) -> FileFacts {
    let bytes = worktree::read_file(root, path, max_size);
    file_facts(path, format, bytes.as_deref().map_err(String::as_str))
}

/// The facts of one file from its bytes, or the reason it could not be read (a PL000
/// note): the one path every source of bytes (work tree, git blob, memory) goes through.
pub fn file_facts(path: &str, format: extract::Format, bytes: Result<&[u8], &str>) -> FileFacts {
    let mut out = FileFacts {
        path: path.to_string(),
        ..FileFacts::default()
    };
    let text = match bytes.map_err(str::to_string).and_then(extract::decode) {
        Ok(t) => t,
        Err(reason) => {
            out.unreadable = Some(reason);
            return out;
        }
    };
    match extract::extract(path, format, text) {
        Ok(facts) => out.facts = facts,
        Err(reason) => out.unreadable = Some(reason),
    }
    out.suppressions = suppress::scan(text);
    if !out.facts.is_empty() || !out.suppressions.is_empty() {
        out.text = Some(Arc::from(text));
    }
    out
}

/// Build the environments of a run: declared, or inferred from paths and namespaces.
pub fn environments(
    config: &Config,
    files: &[String],
    facts: &[FileFacts],
) -> Result<Environments, Error> {
    let refs: Vec<&FileFacts> = facts.iter().collect();
    environments_of(config, files, [&refs[..]])
}

/// Environments from several sets of facts (both sides of a change).
fn environments_of<'a, F: std::ops::Deref<Target = FileFacts> + 'a>(
    config: &Config,
    files: &[String],
    fact_sets: impl IntoIterator<Item = &'a [F]>,
) -> Result<Environments, Error> {
    if !config.environments.is_empty() {
        return Ok(Environments::from_config(config)?);
    }
    let mut namespaces: BTreeSet<&str> = BTreeSet::new();
    let mut components: BTreeSet<String> = BTreeSet::new();
    for f in fact_sets.into_iter().flatten() {
        for fact in &f.facts {
            namespaces.extend(fact.namespace.as_deref());
            if let FactKind::Kustomization(k) = &fact.kind {
                components.extend(shared_components(&f.path, &k.components));
            }
        }
    }
    let mut envs =
        Environments::infer_except(files.iter().map(String::as_str), namespaces, &components);
    envs.versions = crate::version::Versions::from_config(config);
    Ok(envs)
}

/// The Kustomize components (`variants/prod`) that the kustomization at `path` includes,
/// when `path` is in an environment and the component's directory would name another: it
/// is a part shared by environments (`envs/prod-eu`, `envs/prod-asia`), not one itself.
fn shared_components(path: &str, components: &[String]) -> Vec<String> {
    let Some((own, _)) = crate::config::infer::infer_from_path(path) else {
        return Vec::new();
    };
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    components
        .iter()
        .filter_map(|c| crate::model::join_normalized(dir, c))
        .filter(|target| {
            crate::config::infer::infer_from_path(&format!("{target}/kustomization.yaml"))
                .is_some_and(|(name, _)| name != own)
        })
        .collect()
}

/// `promolint check`: lint the working tree.
pub fn check(opts: &Options) -> Result<Outcome, Error> {
    let pool = thread_pool(opts.jobs)?;
    pool.install(|| check_in_pool(opts))
}

/// Stack of every worker thread. The parsers recurse up to their nesting limits (hcl-edit
/// 64 levels, serde-saphyr 64 for the config): 64 nested `for` expressions need about 3 MiB
/// in a debug build, more than the 2 MiB threads get by default.
pub const WORKER_STACK_SIZE: usize = 16 << 20;

/// The most worker threads a run starts: twice the cores (reading files waits on the disk
/// now and then). `--jobs 20000` started 20,000 threads of [`WORKER_STACK_SIZE`] each and
/// never finished; more threads than this only add contention.
pub fn max_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) * 2
}

/// `--jobs N` as the run uses it: at least 1, at most [`max_jobs`].
pub fn jobs(requested: Option<usize>) -> Result<Option<usize>, Error> {
    match requested {
        Some(0) => Err(Error::Usage {
            message: "--jobs must be at least 1".to_string(),
            help: Some(format!(
                "give a number of worker threads from 1 to {} (twice this machine's cores), or leave --jobs out to use every core",
                max_jobs()
            )),
        }),
        Some(n) => Ok(Some(n.min(max_jobs()))),
        None => Ok(None),
    }
}

fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    let mut b = rayon::ThreadPoolBuilder::new().stack_size(WORKER_STACK_SIZE);
    if let Some(n) = self::jobs(jobs)? {
        b = b.num_threads(n);
    }
    b.build().map_err(|e| Error::Usage {
        message: format!("cannot start worker threads: {e}"),
        help: Some("try a smaller --jobs".to_string()),
    })
}

/// The working tree as a snapshot, with its root and configuration.
pub struct Worktree {
    pub root: PathBuf,
    pub config: Config,
    pub snapshot: Snapshot,
    /// Number of files read.
    pub files: usize,
    /// Whether the tree is a git checkout.
    pub git: bool,
    /// `check PATH…` as repository-relative paths: findings are reported only there
    /// (empty: everywhere).
    pub scope: Vec<String>,
}

impl Worktree {
    /// Whether `path` is inside the paths given on the command line.
    pub fn in_scope(&self, path: &str) -> bool {
        self.scope.is_empty()
            || self.scope.iter().any(|s| {
                s.is_empty()
                    || path == s
                    || path
                        .strip_prefix(s.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
    }
}

/// List, read and extract the working tree. The whole project is always read, as a base's
/// findings depend on the overlays that include it and predecessors live in other
/// directories: `opts.paths`, or the subdirectory promolint runs in, only restrict what is
/// reported (`cd envs/prod && promolint check` is `promolint check envs/prod`). The project
/// is the repository, or the part of it under the nearest configuration file (see
/// [`project_dir`]).
pub fn load_worktree(opts: &Options) -> Result<Worktree, Error> {
    let probe = worktree::list(&opts.start, &[])?;
    let top = probe.git.then_some(probe.root.as_path());
    let project = project_dir(&opts.start, top);
    let list = if same_dir(&project, &opts.start) {
        probe
    } else {
        worktree::list(&project, &[])?
    };
    let root = list.root.clone();
    let pathspecs = if opts.paths.is_empty() {
        let here = worktree::resolve_pathspec(&root, &opts.start, ".")?;
        if here.is_empty() {
            Vec::new()
        } else {
            vec![here]
        }
    } else {
        opts.paths
            .iter()
            .map(|p| worktree::resolve_pathspec(&root, &opts.start, p))
            .collect::<Result<Vec<_>, _>>()?
    };
    crate::timing::phase("listed files");
    let config = run_config(&root, opts)?;
    let mut facts = extract_files(&root, &list.files, config.max_file_size);
    crate::timing::phase("read and extracted");
    for (path, reason) in &list.skipped {
        facts.push(FileFacts {
            path: path.clone(),
            unreadable: Some(reason.clone()),
            ..FileFacts::default()
        });
    }
    let files = facts.len();
    let envs = environments(&config, &list.files, &facts)?;
    let patterns: Vec<String> = config.artifacts.iter().map(|a| a.pattern.clone()).collect();
    let artifacts = extract::artifact::from_paths(&list.files, &patterns);
    let snapshot = Snapshot::build(facts.into_iter().map(Arc::new).collect(), envs, artifacts);
    crate::timing::phase("snapshot built");
    Ok(Worktree {
        root,
        config,
        snapshot,
        files,
        git: list.git,
        scope: pathspecs,
    })
}

fn check_in_pool(opts: &Options) -> Result<Outcome, Error> {
    let wt = load_worktree(opts)?;
    let enabled = enabled_rules(&wt.config, opts)?;
    let mut findings = Vec::new();
    rules::run_tree_rules(&wt.snapshot, &wt.config, &enabled, &mut findings);
    crate::timing::phase("tree rules");
    let history_rules: Vec<_> = rules::HISTORY_TREE_RULES
        .iter()
        .filter(|(id, _)| enabled.contains(id))
        .collect();
    if !history_rules.is_empty() {
        // What predecessors ran before comes from the history of HEAD, when there is one.
        let history = if wt.git {
            crate::modes::head_history(opts, &wt.snapshot, &wt.config)
        } else {
            crate::history::HistoryIndex::empty()
        };
        for (_, check) in history_rules {
            check(&wt.snapshot, &wt.config, &history, &mut findings);
        }
        if let Some(e) = history.take_error() {
            return Err(e);
        }
        crate::timing::phase("history rules");
    }
    let audit = rules::questionable_suppression::Audit::tree(&enabled);
    let mut findings = finish(findings, &wt.snapshot, &wt.config, &audit, &enabled)?;
    findings.retain(|f| wt.in_scope(&f.path));
    let files = if wt.scope.is_empty() {
        wt.files
    } else {
        wt.snapshot
            .files
            .iter()
            .filter(|f| wt.in_scope(&f.path))
            .count()
    };
    Ok(Outcome {
        root: wt.root,
        findings,
        files,
        snapshot: wt.snapshot,
        config: wt.config,
    })
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

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Run the enabled tree rules on a snapshot and post-process their findings.
pub fn run_tree_rules(
    snapshot: &Snapshot,
    config: &Config,
    enabled: &BTreeSet<&'static str>,
) -> Result<Vec<Finding>, Error> {
    let mut findings = Vec::new();
    rules::run_tree_rules(snapshot, config, enabled, &mut findings);
    let audit = rules::questionable_suppression::Audit::tree(enabled);
    finish(findings, snapshot, config, &audit, enabled)
}

/// Suppressions (and PL011 on them), per-rule ignore globs and levels, then a
/// deterministic order.
pub fn finish(
    mut findings: Vec<Finding>,
    snapshot: &Snapshot,
    config: &Config,
    audit: &rules::questionable_suppression::Audit,
    enabled: &BTreeSet<&'static str>,
) -> Result<Vec<Finding>, Error> {
    // Before the ignore globs: a comment above a finding that a glob also ignores still
    // silences it, so it is not reported as unused.
    let report = enabled.contains(rules::questionable_suppression::ID);
    rules::questionable_suppression::apply(&mut findings, snapshot, config, audit, report);
    let mut ignores: Vec<(&str, GlobSet)> = Vec::new();
    for (id, rc) in &config.rules {
        if rc.ignore.is_empty() {
            continue;
        }
        // Validated when the config was loaded; an error here still names the field.
        let invalid = |e: globset::Error| ConfigError {
            file: config::FILE_NAME.to_string(),
            line: None,
            column: None,
            field: format!("rules.{id}.ignore"),
            message: e.to_string(),
            help: None,
        };
        let mut b = GlobSetBuilder::new();
        for g in &rc.ignore {
            b.add(Glob::new(g).map_err(invalid)?);
        }
        ignores.push((id.as_str(), b.build().map_err(invalid)?));
    }
    findings.retain(|f| {
        let ignored = ignores
            .iter()
            .any(|(id, set)| *id == f.rule && set.is_match(&f.path));
        !ignored
    });
    for f in &mut findings {
        if let Some(RuleLevel::Level(l)) = config.rules.get(f.rule).and_then(|c| c.level) {
            f.level = l;
        }
    }
    sort_findings(&mut findings);
    Ok(findings)
}

/// Sorted by file, line, column, rule, message; exact duplicates removed.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (
            &a.path,
            a.span.line,
            a.span.column,
            a.rule,
            &a.message,
            &a.commit,
        )
            .cmp(&(
                &b.path,
                b.span.line,
                b.span.column,
                b.rule,
                &b.message,
                &b.commit,
            ))
    });
    findings.dedup_by(|a, b| {
        a.rule == b.rule
            && a.path == b.path
            && a.span == b.span
            && a.message == b.message
            && a.commit == b.commit
    });
}

/// The file list of a working tree (re-exported for commands that need only that).
pub fn list_worktree(start: &Path) -> Result<source::FileList, Error> {
    Ok(worktree::list(start, &[])?)
}

/// Read and extract in-memory files (`(path, contents)`), in parallel.
pub fn extract_in_memory(files: &[(&str, &[u8])], max_size: u64) -> Vec<FileFacts> {
    files
        .par_iter()
        .filter_map(|(path, bytes)| {
            let format = extract::format_of(path)?;
            let reason;
            let bytes = if bytes.len() as u64 > max_size {
                reason = extract::over_size_limit(bytes.len() as u64, max_size);
                Err(reason.as_str())
            } else {
                Ok(*bytes)
            };
            Some(file_facts(path, format, bytes))
        })
        .collect()
}

/// A snapshot of in-memory files, resolved like a tree on disk.
pub fn snapshot_from_bytes(files: &[(&str, &[u8])], config: &Config) -> Result<Snapshot, Error> {
    let paths: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
    let facts = extract_in_memory(files, config.max_file_size);
    let envs = environments(config, &paths, &facts)?;
    let patterns: Vec<String> = config.artifacts.iter().map(|a| a.pattern.clone()).collect();
    let artifacts = extract::artifact::from_paths(&paths, &patterns);
    Ok(Snapshot::build(
        facts.into_iter().map(Arc::new).collect(),
        envs,
        artifacts,
    ))
}

/// Snapshots of both sides of a change over the same environments (inferred from the union
/// of both trees), so that an environment index means the same on both sides.
pub fn snapshot_pair(
    before: &[(&str, &[u8])],
    after: &[(&str, &[u8])],
    config: &Config,
) -> Result<(Snapshot, Snapshot), Error> {
    let before_facts = extract_in_memory(before, config.max_file_size)
        .into_iter()
        .map(Arc::new)
        .collect();
    let after_facts = extract_in_memory(after, config.max_file_size)
        .into_iter()
        .map(Arc::new)
        .collect();
    pair_from_facts(
        before.iter().map(|(p, _)| p.to_string()).collect(),
        before_facts,
        after.iter().map(|(p, _)| p.to_string()).collect(),
        after_facts,
        config,
    )
}

/// Resolve both sides' facts over shared environments.
pub fn pair_from_facts(
    before_paths: Vec<String>,
    before_facts: Vec<Arc<FileFacts>>,
    after_paths: Vec<String>,
    after_facts: Vec<Arc<FileFacts>>,
    config: &Config,
) -> Result<(Snapshot, Snapshot), Error> {
    let mut all_paths = before_paths.clone();
    all_paths.extend(after_paths.iter().cloned());
    all_paths.sort();
    all_paths.dedup();
    let envs = environments_of(config, &all_paths, [&before_facts[..], &after_facts[..]])?;
    let patterns: Vec<String> = config.artifacts.iter().map(|a| a.pattern.clone()).collect();
    let before = Snapshot::build(
        before_facts,
        envs.clone(),
        extract::artifact::from_paths(&before_paths, &patterns),
    );
    let after = Snapshot::build(
        after_facts,
        envs,
        extract::artifact::from_paths(&after_paths, &patterns),
    );
    Ok((before, after))
}
