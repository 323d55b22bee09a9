//! The benchmark corpus generator (`examples/gen_corpus.rs`) is deterministic: the same
//! seed gives the same files, the same history and the same commit ids; another seed gives
//! another corpus. Small sizes only: this is not a benchmark.

#[path = "../examples/gen_corpus.rs"]
mod gen_corpus;

use gen_corpus::{generate, render_peers, write_repo, Params};
use std::process::Command;

fn small(seed: u64) -> Params {
    Params {
        apps: 12,
        commits: 120,
        seed,
    }
}

#[test]
fn same_seed_same_stream_and_tree() {
    let (s1, t1, st1) = generate(&small(7));
    let (s2, t2, st2) = generate(&small(7));
    assert_eq!(s1, s2, "fast-import stream differs for the same seed");
    assert_eq!(t1, t2);
    assert_eq!(st1, st2);
    assert_eq!(st1.commits, 120);
    let (s3, t3, _) = generate(&small(8));
    assert_ne!(s1, s3, "another seed gives the same corpus");
    assert_ne!(t1, t3);
}

#[test]
fn tree_has_every_kind_of_file() {
    let (_, tree, stats) = generate(&small(1));
    assert_eq!(stats.files, tree.len());
    let has = |suffix: &str| tree.keys().any(|p| p.ends_with(suffix));
    for suffix in [
        "/base/deployment.yaml",
        "/base/service.yaml",
        "/base/configmap.yaml",
        "/prod/kustomization.yaml",
        "/prod/image-automation.yaml",
        "clusters/prod/helm-charts.yaml",
        "clusters/prod/.versions.env",
        "infrastructure/live/prod/env.hcl",
        "/terragrunt.hcl",
    ] {
        assert!(has(suffix), "no file ending in {suffix}");
    }
    let all: String = tree.values().map(String::as_str).collect();
    for needle in [
        "initContainers:",
        "$imagepolicy",
        "kind: ImagePolicy",
        "kind: ImageRepository",
        "?ref=v",
    ] {
        assert!(all.contains(needle), "no {needle} in the corpus");
    }
    // About 23 files per application plus the shared ones.
    assert!(
        (15 + 12 * 20..15 + 12 * 26).contains(&tree.len()),
        "{} files",
        tree.len()
    );
}

#[test]
fn peers_subset_is_deterministic_and_exact_in_size() {
    let p = small(3);
    let (a, ea) = render_peers(&p, 100);
    let (b, eb) = render_peers(&p, 100);
    assert_eq!(a, b);
    assert_eq!(ea, eb);
    assert_eq!(a.len(), 100);
    assert!(a.keys().any(|k| k.contains("/prod/")));
}

fn git_out(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn same_seed_same_commit_ids() {
    let base = std::env::temp_dir().join(format!("promolint-corpus-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (a, b) = (base.join("a"), base.join("b"));
    let p = small(5);
    let stats = write_repo(&a, &p).expect("corpus a");
    write_repo(&b, &p).expect("corpus b");
    let head_a = git_out(&a, &["rev-parse", "HEAD"]);
    assert_eq!(head_a, git_out(&b, &["rev-parse", "HEAD"]));
    assert_eq!(git_out(&a, &["rev-list", "--count", "HEAD"]), "120");
    let listed = git_out(&a, &["ls-files"]).lines().count();
    assert_eq!(listed, stats.files);
    // The working tree is checked out and clean.
    assert_eq!(git_out(&a, &["status", "--porcelain"]), "");
    let _ = std::fs::remove_dir_all(&base);
}
