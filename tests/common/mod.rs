//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("promolint-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, rel: &str, contents: &[u8]) {
        let p = self.0.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(p, contents).expect("write file");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copy a directory tree; symlinks are recreated as symlinks (never followed).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        let ty = entry.file_type().expect("file type");
        if ty.is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else if ty.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("read link");
            std::os::unix::fs::symlink(link, &target).expect("symlink");
        } else if ty.is_file() {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Run `git` in `dir` with a fixed identity and dates, panicking on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The repository's `fixtures/` directory.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Like [`git`], with both dates set to `date` (an ISO 8601 time): for histories whose
/// commit order by date matters (merges, side branches).
pub fn git_dated(dir: &Path, date: &str, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The promolint binary, to run in `dir`: the Git variables a hook may export are cleared
/// and repository discovery stops at the temp directory.
pub fn promolint(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promolint"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PROMOLINT_CONFIG")
        .env_remove("PROMOLINT_FORMAT")
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_SHALLOW_FILE");
    cmd
}

/// Run promolint in `dir` (see [`promolint`]); no run may panic.
pub fn run(dir: &Path, args: &[&str]) -> Out {
    let out = promolint(dir, args).output().expect("run promolint");
    let out = Out {
        code: out.status.code().expect("promolint killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked"),
        "promolint {args:?} panicked:\n{}",
        out.stderr
    );
    out
}

/// Assert the exit code, showing both streams when it differs.
#[track_caller]
pub fn expect_code(out: &Out, code: i32) {
    assert_eq!(
        out.code, code,
        "exit code\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
}

/// A run that could not be done: exit 2, nothing on stdout, and stderr containing every
/// fragment.
#[track_caller]
pub fn expect_failure(out: &Out, fragments: &[&str]) {
    expect_code(out, 2);
    assert_eq!(out.stdout, "", "stdout of a failed run");
    assert!(out.stderr.starts_with("error: "), "stderr: {}", out.stderr);
    for f in fragments {
        assert!(
            out.stderr.contains(f),
            "stderr lacks {f:?}:\n{}",
            out.stderr
        );
    }
}

/// `rule level path:line:col` (then ` message` with `message`) of every finding of
/// `promolint check` run in `start`.
pub fn check_findings(start: &Path, message: bool) -> Vec<String> {
    use promolint::pipeline::{self as engine, Options};
    let outcome = engine::check(&Options {
        start: start.to_path_buf(),
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("check failed: {e}"));
    outcome
        .findings
        .iter()
        .map(|f| {
            let at = format!(
                "{} {} {}:{}:{}",
                f.rule,
                f.level.as_str(),
                f.path,
                f.span.line,
                f.span.column
            );
            if message {
                format!("{at} {}", f.message)
            } else {
                at
            }
        })
        .collect()
}

/// `rule env path:line:col related-path` of every tree finding of `files` (zero config).
pub fn tree_findings(files: &[(&str, String)]) -> Vec<String> {
    use promolint::config::Config;
    use promolint::pipeline as engine;
    let config = Config::default();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = engine::snapshot_from_bytes(&files, &config).expect("snapshot");
    let enabled = engine::enabled_rules(&config, &engine::Options::default()).expect("rules");
    engine::run_tree_rules(&snap, &config, &enabled)
        .expect("rules")
        .into_iter()
        .map(|f| {
            format!(
                "{} {} {}:{}:{} {}",
                f.rule,
                f.environment.unwrap_or_default(),
                f.path,
                f.span.line,
                f.span.column,
                f.related.first().map(|r| r.path.as_str()).unwrap_or("-")
            )
        })
        .collect()
}

/// Write a step's files into `repo` and remove what its DELETE lists.
pub fn apply_step(step: &Path, repo: &Path) {
    fn copy(from: &Path, to: &Path, top: bool) {
        for entry in std::fs::read_dir(from).expect("read step") {
            let entry = entry.expect("entry");
            let name = entry.file_name();
            if top && (name == "MESSAGE" || name == "DELETE") {
                continue;
            }
            let target = to.join(&name);
            if entry.file_type().expect("type").is_dir() {
                std::fs::create_dir_all(&target).expect("mkdir");
                copy(&entry.path(), &target, false);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }
    copy(step, repo, true);
    if let Ok(list) = std::fs::read_to_string(step.join("DELETE")) {
        for path in list.lines().filter(|l| !l.trim().is_empty()) {
            std::fs::remove_file(repo.join(path.trim())).expect("delete");
        }
    }
}

/// The step directories of `fixtures/scenarios/<name>`, in order.
pub fn scenario_steps(name: &str) -> Vec<std::path::PathBuf> {
    let root = fixture("scenarios").join(name);
    let mut steps: Vec<_> = std::fs::read_dir(&root)
        .expect("scenario dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    steps.sort();
    steps
}
