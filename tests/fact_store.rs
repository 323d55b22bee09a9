//! The fact store in `.git/promolint/facts.bin`: it may make a run faster, never change its
//! answer, whatever was done to the file.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// A repository with one commit of the `flux-image-lab` fixture (findings of several rules,
/// one of them a `latest` tag).
fn lab(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    copy_tree(&fixture("flux-image-lab"), dir.path());
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "lab"]);
    dir
}

fn store(dir: &Path) -> PathBuf {
    dir.join(".git/promolint/facts.bin")
}

/// `args` with the JSON format; the exit code and the output.
fn json(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = run(dir, &all);
    (out.code, out.stdout)
}

/// `bytes` with every `from` replaced by `to`, of the same length: the file's framing stays.
fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
        }
        i += 1;
    }
    out
}

#[test]
fn check_gives_the_same_answer_with_a_cold_a_warm_and_a_damaged_store() {
    let repo = lab("store-check");
    let dir = repo.path();
    let uncached = json(dir, &["check", "--no-cache"]);
    assert!(!store(dir).exists(), "--no-cache wrote the store");
    assert!(uncached.1.contains("latest"), "{}", uncached.1);
    let cold = json(dir, &["check"]);
    assert!(store(dir).is_file(), "the first run wrote no store");
    let warm = json(dir, &["check"]);
    assert_eq!(cold, uncached);
    assert_eq!(warm, uncached);
    // A store that claims the `latest` pin is another tag (as a cache restored from another
    // branch could): its batch does not verify, and the file is read again.
    let good = std::fs::read(store(dir)).unwrap();
    let poisoned = replace_all(&good, b"latest", b"v1.0.0");
    assert_ne!(poisoned, good);
    std::fs::write(store(dir), &poisoned).unwrap();
    assert_eq!(json(dir, &["check"]), uncached);
    // Cut short (a run killed while appending), or garbage.
    std::fs::write(store(dir), &good[..good.len() / 2]).unwrap();
    assert_eq!(json(dir, &["check"]), uncached);
    std::fs::write(store(dir), b"not a store").unwrap();
    assert_eq!(json(dir, &["check"]), uncached);
    assert!(
        std::fs::read(store(dir)).unwrap().starts_with(b"PLFACTS"),
        "not rewritten"
    );
    assert_eq!(json(dir, &["check"]), uncached);
}

/// Set a file's modification time, as `touch -d` does.
fn touch(path: &Path, date: &str) {
    let out = std::process::Command::new("touch")
        .args(["-d", date])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_sees_an_edit_that_keeps_the_size_and_the_modification_time() {
    let repo = lab("store-stat");
    let dir = repo.path();
    let file = dir.join("flux/apps/frontend/base/deployment.yaml");
    // Old modification times, recorded by the index: it vouches for every file, which
    // `check` then takes from the store by the index's blob ids without reading them.
    let out = std::process::Command::new("find")
        .arg(dir)
        .args([
            "-path", "*/.git", "-prune", "-o", "-type", "f", "-exec", "touch", "-d",
        ])
        .args(["2020-01-01 00:00:00", "{}", "+"])
        .output()
        .unwrap();
    assert!(out.status.success());
    git(dir, &["update-index", "--refresh"]);
    let before = json(dir, &["check", "--no-cache"]);
    json(dir, &["check"]);
    assert_eq!(json(dir, &["check"]), before);
    // The same length and modification time, another tag: only the change time differs.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("frontend:latest"), "{text}");
    std::fs::write(&file, text.replace("frontend:latest", "frontend:v9.9.9")).unwrap();
    touch(&file, "2020-01-01 00:00:00");
    let after = json(dir, &["check", "--no-cache"]);
    assert_ne!(after, before);
    assert_eq!(json(dir, &["check"]), after);
}

/// Files checked out with CRLF line endings (`eol=crlf`) are not their blobs' bytes: the
/// index's blob id must not bring the blob's facts (their byte offsets are the LF text's,
/// and a fix written with them would land on the wrong bytes).
#[test]
fn check_keys_a_file_that_checkout_converted_by_its_own_bytes() {
    let dir = TempDir::new("store-crlf");
    let dir = dir.path();
    let deploy = |tag: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: ghcr.io/acme/web:{tag}\n"
        )
    };
    std::fs::create_dir_all(dir.join("apps/web/staging")).unwrap();
    std::fs::create_dir_all(dir.join("apps/web/prod")).unwrap();
    std::fs::write(dir.join("apps/web/staging/deploy.yaml"), deploy("v1.2.3")).unwrap();
    std::fs::write(dir.join("apps/web/prod/deploy.yaml"), deploy("latest")).unwrap();
    std::fs::write(dir.join(".gitattributes"), "*.yaml text eol=crlf\n").unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "lab"]);
    // Checked out again with CRLF, the files' times made old and recorded by the index.
    for rel in ["apps/web/staging/deploy.yaml", "apps/web/prod/deploy.yaml"] {
        std::fs::remove_file(dir.join(rel)).unwrap();
    }
    git(dir, &["checkout", "--", "."]);
    for rel in ["apps/web/staging/deploy.yaml", "apps/web/prod/deploy.yaml"] {
        assert!(std::fs::read(dir.join(rel)).unwrap().ends_with(b"\r\n"));
        touch(&dir.join(rel), "2020-01-01 00:00:00");
    }
    git(dir, &["update-index", "--refresh"]);
    let fix = ["check", "--fix", "--dry-run"];
    let uncached = {
        let mut args = fix.to_vec();
        args.push("--no-cache");
        run(dir, &args).stdout
    };
    assert!(uncached.contains("v1.2.3"), "{uncached}");
    // The store learns the LF blobs' facts from `staged --all-files` (blobs of the index)...
    run(dir, &["staged", "--all-files"]);
    // ...and `check` must still judge the CRLF bytes on disk.
    assert_eq!(run(dir, &fix).stdout, uncached);
    assert_eq!(run(dir, &fix).stdout, uncached);
}

#[test]
fn staged_and_history_give_the_same_answer_with_and_without_the_store() {
    let repo = lab("store-git");
    let dir = repo.path();
    let file = "flux/apps/backend/staging/kustomization.yaml";
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    std::fs::write(dir.join(file), text.replacen("newTag: ", "newTag: x", 1)).unwrap();
    git(dir, &["commit", "-q", "-am", "bump"]);
    std::fs::write(dir.join(file), text).unwrap();
    git(dir, &["add", file]);
    for args in [&["staged"][..], &["history", "--range", "HEAD~1..HEAD"]] {
        let _ = std::fs::remove_file(store(dir));
        let mut uncached_args = args.to_vec();
        uncached_args.push("--no-cache");
        let uncached = json(dir, &uncached_args);
        assert!(!store(dir).exists(), "--no-cache wrote the store");
        let cold = json(dir, args);
        assert!(store(dir).is_file(), "{args:?} wrote no store");
        let warm = json(dir, args);
        assert_eq!(cold, uncached, "{args:?}");
        assert_eq!(warm, uncached, "{args:?}");
    }
}

#[test]
fn promolint_no_cache_neither_writes_the_store() {
    let repo = lab("store-env");
    let out = promolint(repo.path(), &["check", "--format", "json"])
        .env("PROMOLINT_NO_CACHE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !store(repo.path()).exists(),
        "PROMOLINT_NO_CACHE wrote the store"
    );
}

#[test]
fn a_poisoned_store_changes_no_finding() {
    let repo = lab("store-poison");
    let dir = repo.path();
    let out = run(dir, &["check"]);
    expect_code(&out, 1);
    assert!(
        out.stdout.contains("mutable tag `latest`"),
        "{}",
        out.stdout
    );
    // Every `latest` of the store (the pin's value, the file's text) made a fixed tag, as a
    // cache restored from another branch could have it: the batch's MAC no longer verifies.
    let good = std::fs::read(store(dir)).unwrap();
    std::fs::write(store(dir), replace_all(&good, b"latest", b"v1.0.0")).unwrap();
    let poisoned = run(dir, &["check"]);
    expect_code(&poisoned, 1);
    assert_eq!(poisoned.stdout, out.stdout);
}

#[cfg(unix)]
#[test]
fn a_store_that_is_a_fifo_or_a_link_is_replaced_not_read() {
    let repo = lab("store-special");
    let dir = repo.path();
    let out = run(dir, &["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.contains("mutable tag"), "{}", out.stdout);
    let good = std::fs::read(store(dir)).unwrap();
    // A FIFO: opening it for reading would block the run.
    std::fs::remove_file(store(dir)).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(store(dir))
        .status()
        .unwrap();
    assert!(made.success());
    let fifo = run(dir, &["check"]);
    expect_code(&fifo, 1);
    assert_eq!(fifo.stdout, out.stdout);
    assert!(
        std::fs::symlink_metadata(store(dir)).unwrap().is_file(),
        "not replaced"
    );
    // A link to a file outside: neither read nor written through.
    let outside = TempDir::new("store-victim");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, &good).unwrap();
    std::fs::remove_file(store(dir)).unwrap();
    std::os::unix::fs::symlink(&victim, store(dir)).unwrap();
    let linked = run(dir, &["check"]);
    expect_code(&linked, 1);
    assert_eq!(linked.stdout, out.stdout);
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        good,
        "written through a link"
    );
    assert!(
        std::fs::symlink_metadata(store(dir)).unwrap().is_file(),
        "not replaced"
    );
}
