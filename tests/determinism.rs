//! Same input, same bytes (DESIGN §6), whatever the number of threads: `check`, `diff` and
//! `history` in every format with `--jobs 1` and `--jobs 4`, on every fixture tree at once
//! (findings in many files) and on the fixture scenarios applied as commits.

mod common;

use common::{copy_tree, fixture, git, TempDir};
use std::path::{Path, PathBuf};

const FORMATS: [&str; 6] = ["human", "json", "sarif", "github", "gitlab", "markdown"];

/// stdout and exit code of one run.
fn run(dir: &Path, args: &[&str]) -> (Vec<u8>, i32) {
    let out = common::promolint(dir, args)
        .output()
        .expect("run promolint");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.starts_with("error"),
        "{args:?}: {stderr}"
    );
    (out.stdout, out.status.code().expect("exit code"))
}

/// `command` in every format with one and four threads: identical bytes and codes. Returns
/// the number of findings (from the JSON report) and the files they are in.
fn same_bytes(dir: &Path, command: &[&str]) -> (usize, usize) {
    let mut counted = (0, 0);
    for format in FORMATS {
        let with = |jobs: &str| {
            let mut args = command.to_vec();
            args.extend_from_slice(&["--format", format, "--jobs", jobs]);
            run(dir, &args)
        };
        let (one, code_one) = with("1");
        let (four, code_four) = with("4");
        assert_eq!(code_one, code_four, "{command:?} --format {format}");
        assert!(
            one == four,
            "{command:?} --format {format}: --jobs 1 and --jobs 4 differ\n--- 1\n{}\n--- 4\n{}",
            String::from_utf8_lossy(&one),
            String::from_utf8_lossy(&four)
        );
        if format == "json" {
            let json: serde_json::Value = serde_json::from_slice(&one).expect("json");
            let findings = json["findings"].as_array().expect("findings");
            let mut files: Vec<&str> = findings
                .iter()
                .map(|f| f["path"].as_str().expect("path"))
                .collect();
            files.sort_unstable();
            files.dedup();
            counted = (findings.len(), files.len());
        }
    }
    counted
}

#[test]
fn check_gives_the_same_bytes_with_one_and_four_threads() {
    let dir = TempDir::new("determinism-fixtures");
    for name in [
        "argo-kargo",
        "broken",
        "flux-image-lab",
        "flux-patches",
        "helm-homelab",
        "homelab",
        "kestrel-fabric",
    ] {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).expect("mkdir");
        copy_tree(&fixture(name), &to);
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "every fixture"]);
    let (findings, files) = same_bytes(dir.path(), &["check"]);
    assert!(
        findings >= 20 && files >= 15,
        "{findings} findings in {files} files"
    );
    // A second, different run of the same tree: the tree as a plain directory.
    std::fs::remove_dir_all(dir.path().join(".git")).expect("rm .git");
    let (plain, _) = same_bytes(dir.path(), &["check"]);
    assert!(plain >= 20, "{plain}");
}

/// The numbered steps of `fixtures/scenarios/NAME`, each committed in order; the commit of
/// the first step.
fn scenario(name: &str) -> (TempDir, String) {
    let dir = TempDir::new(&format!("determinism-{name}"));
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let root = fixture("scenarios").join(name);
    let mut steps: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("scenario")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    steps.sort();
    let mut first = None;
    for step in steps {
        for entry in std::fs::read_dir(&step)
            .expect("step")
            .filter_map(Result::ok)
        {
            let name = entry.file_name();
            if name == "MESSAGE" || name == "DELETE" {
                continue;
            }
            let to = dir.path().join(&name);
            if entry.file_type().expect("type").is_dir() {
                std::fs::create_dir_all(&to).expect("mkdir");
                copy_tree(&entry.path(), &to);
            } else {
                std::fs::copy(entry.path(), &to).expect("copy");
            }
        }
        if let Ok(list) = std::fs::read_to_string(step.join("DELETE")) {
            for path in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
                std::fs::remove_file(dir.path().join(path)).expect("delete");
            }
        }
        let message = std::fs::read_to_string(step.join("MESSAGE")).unwrap_or_default();
        git(dir.path(), &["add", "-A"]);
        git(
            dir.path(),
            &["commit", "-q", "--allow-empty", "-m", message.trim()],
        );
        if first.is_none() {
            first = Some(git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string());
        }
    }
    (dir, first.expect("a step"))
}

#[test]
fn diff_and_history_give_the_same_bytes_with_one_and_four_threads() {
    let mut total = (0, 0);
    for name in ["flux-promotion", "homelab-promotion", "kestrel-promotion"] {
        let (dir, first) = scenario(name);
        let (history, _) = same_bytes(dir.path(), &["history"]);
        let (diff, _) = same_bytes(dir.path(), &["diff", "--base", &first]);
        let (all, files) = same_bytes(dir.path(), &["diff", "--base", &first, "--all-files"]);
        assert!(
            history > 0 && diff > 0 && all >= diff,
            "{name}: {history} {diff} {all}"
        );
        total = (total.0 + history, total.1 + files);
    }
    assert!(total.0 >= 10 && total.1 >= 5, "{total:?}");
}
