//! The git-native commands end to end through the binary: bad revisions and ranges, no
//! repository, an empty repository, a detached HEAD, merge commits, a shallow clone, a
//! submodule, a corrupted object, the JSON `commit` field, `status` in every format, and
//! `--all-files`. Every case asserts the exit code and the relevant output; no run may panic.
//!
//! Repositories are built with real `git` (fixed identity and dates, so commit ids are the
//! same on every run), laid out like an image-promotion repository's fabric-core: one Terraform
//! `main.tf` per environment pinning `lxc_rootfs_version`.

mod common;

use common::{expect_code, expect_failure, git, git_dated, run, Out, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

// ----- running promolint -----

/// The shallow-history fix every such error must give.
const SHALLOW_FIX: &[&str] = &[
    "the history is shallow (this is a shallow clone)",
    "fetch-depth: 0",
    "git fetch --unshallow",
    "git fetch --deepen",
];

/// One finding of a `--format json` report: rule, path, line, column, commit.
type Found = (String, String, u64, u64, Option<String>);

fn json_findings(out: &Out) -> Vec<Found> {
    let json: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout));
    json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["path"].as_str().expect("path").to_string(),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
                f["commit"].as_str().map(str::to_string),
            )
        })
        .collect()
}

fn found(rule: &str, path: &str, line: u64, column: u64, commit: Option<&str>) -> Found {
    (
        rule.to_string(),
        path.to_string(),
        line,
        column,
        commit.map(str::to_string),
    )
}

// ----- building repositories -----

const DEV_TF: &str = "fabric-core/terraform/envs/kestrel-dev/main.tf";
const STAGING_TF: &str = "fabric-core/terraform/envs/kestrel-staging/main.tf";
const PROD_TF: &str = "fabric-core/terraform/envs/kestrel-prod/main.tf";
const PROD_BACKEND: &str = "clusters/prod/backend.yaml";

/// A Kestrel environment's `main.tf`: the pin is at 3:25.
fn tf_text(version: &str) -> String {
    format!(
        "locals {{\n  # Golden image pinned for this environment (never a mutable tag).\n  \
         lxc_rootfs_version = \"{version}\"\n}}\n"
    )
}

/// A Kubernetes Deployment of `image`: the tag is at 10:39 for `ghcr.io/acme/backend:TAG`.
fn deployment_text(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\nspec:\n  \
         template:\n    spec:\n      containers:\n        - name: backend\n          \
         image: {image}\n"
    )
}

/// A repository in a temp directory.
struct Repo {
    dir: TempDir,
}

impl Repo {
    /// `git init` on branch `branch`.
    fn init_on(tag: &str, branch: &str) -> Repo {
        let dir = TempDir::new(tag);
        git(dir.path(), &["init", "-q", "-b", branch]);
        Repo { dir }
    }

    fn init(tag: &str) -> Repo {
        Repo::init_on(tag, "main")
    }

    /// `git clone` of `from` (with extra arguments such as `--depth 1`) into a new directory.
    fn clone_of(tag: &str, from: &Repo, extra: &[&str]) -> Repo {
        let dir = TempDir::new(tag);
        let url = format!("file://{}", from.path().display());
        let mut args = vec!["clone", "-q"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[url.as_str(), "."]);
        git(dir.path(), &args);
        Repo { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        self.dir.write(rel, text.as_bytes());
    }

    /// Pin `lxc_rootfs_version` of environment `env` (dev, staging, prod) to `version`.
    fn tf(&self, env: &str, version: &str) {
        self.write(
            &format!("fabric-core/terraform/envs/kestrel-{env}/main.tf"),
            &tf_text(version),
        );
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    /// Stage everything and commit; the new commit's full id.
    fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.rev("HEAD")
    }

    /// Like [`Repo::commit`], dated `date`.
    fn commit_at(&self, date: &str, message: &str) -> String {
        self.git(&["add", "-A"]);
        git_dated(self.path(), date, &["commit", "-q", "-m", message]);
        self.rev("HEAD")
    }

    fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }

    fn run(&self, args: &[&str]) -> Out {
        run(self.path(), args)
    }

    /// The loose object file of `id`, made writable.
    fn writable_object(&self, id: &str) -> PathBuf {
        let path = self
            .path()
            .join(".git/objects")
            .join(&id[..2])
            .join(&id[2..]);
        assert!(path.is_file(), "no loose object {}", path.display());
        let perms = std::fs::Permissions::from_mode(0o644);
        std::fs::set_permissions(&path, perms).expect("chmod u+w");
        path
    }
}

/// Four commits: dev and prod on v5; dev to v6; prod to v7 before dev ran it (PL006); dev
/// to v7. Returns the repository and the four ids.
fn promotion_history(tag: &str) -> (Repo, [String; 4]) {
    let r = Repo::init(tag);
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    let c0 = r.commit("Initial: dev and prod on v5");
    r.tf("dev", "v6");
    let c1 = r.commit("dev: promote to v6");
    r.tf("prod", "v7");
    let c2 = r.commit("prod: v7 (dev still on v6)");
    r.tf("dev", "v7");
    let c3 = r.commit("dev: promote to v7");
    (r, [c0, c1, c2, c3])
}

// ----- 1. bad revisions, bad ranges, no repository, no default branch -----

#[test]
fn diff_with_a_revision_that_does_not_exist_names_it() {
    let (r, _) = promotion_history("bad-rev");
    let out = r.run(&["diff", "--base", "nope"]);
    expect_failure(
        &out,
        &[
            "error: unknown revision `nope`",
            "help: give a branch, tag or commit id that exists in this repository",
        ],
    );
    let out = r.run(&["diff", "--base", "HEAD~1", "--head", "nope"]);
    expect_failure(&out, &["unknown revision `nope`"]);
    // Past the root of a complete history: unknown, not "shallow".
    let out = r.run(&["diff", "--base", "HEAD~9"]);
    expect_failure(&out, &["unknown revision `HEAD~9`"]);
    assert!(!out.stderr.contains("shallow"), "{}", out.stderr);
    // An empty revision, a tree, a blob.
    let out = r.run(&["diff", "--base="]);
    expect_failure(&out, &["empty revision"]);
    let out = r.run(&["diff", "--base", "HEAD:fabric-core"]);
    expect_failure(
        &out,
        &["revision `HEAD:fabric-core` names a tree, not a commit"],
    );
    let blob = r.rev(&format!("HEAD:{PROD_TF}"));
    let out = r.run(&["diff", "--base", &blob]);
    expect_failure(
        &out,
        &[&format!("revision `{blob}` names a blob, not a commit")],
    );
}

#[test]
fn history_with_a_range_written_wrongly_names_the_range() {
    let (r, _) = promotion_history("bad-range");
    let help = "help: write `A..B` (commits reachable from B but not from A), `A..`, `..B`, \
                or a single revision for all of its history";
    for (range, why) in [
        (
            "a..b..c",
            "error: bad range `a..b..c`: a range has one `..`",
        ),
        (
            "...",
            "error: bad range `...`: symmetric differences (`A...B`) are not supported",
        ),
        (
            "main...HEAD",
            "error: bad range `main...HEAD`: symmetric differences (`A...B`) are not supported",
        ),
        ("..", "error: bad range `..`: it names no revision"),
    ] {
        let out = r.run(&["history", "--range", range]);
        expect_failure(&out, &[why, help]);
    }
    let out = r.run(&["history", "--range", "nope..HEAD"]);
    expect_failure(
        &out,
        &["error: in the range `nope..HEAD`: unknown revision `nope`"],
    );
    let out = r.run(&["history", "--range", "HEAD~1..nope"]);
    expect_failure(
        &out,
        &["error: in the range `HEAD~1..nope`: unknown revision `nope`"],
    );
    // The short forms are accepted.
    expect_code(&r.run(&["history", "--range", "HEAD~1.."]), 0);
    expect_code(&r.run(&["history", "--range", "..HEAD"]), 0);
}

#[test]
fn git_modes_outside_any_repository_say_it_is_not_a_git_repository() {
    let plain = TempDir::new("plain");
    plain.write(DEV_TF, tf_text("v5").as_bytes());
    plain.write(PROD_TF, tf_text("v5").as_bytes());
    for args in [
        &["diff"][..],
        &["diff", "--base", "HEAD~1"],
        &["staged"],
        &["history"],
    ] {
        let out = run(plain.path(), args);
        expect_failure(
            &out,
            &[
                &format!(
                    "error: not a git repository: `{}` (nor any of its parent directories)",
                    plain.path().display()
                ),
                "help: run promolint inside a Git checkout, or point at one with `-C DIR`",
            ],
        );
    }
    // `check` and `status` read a plain directory.
    let out = run(plain.path(), &["check"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
    expect_code(&run(plain.path(), &["status"]), 0);
    // `-C` naming nothing.
    let missing = plain.path().join("nope");
    let out = run(
        plain.path(),
        &["diff", "-C", missing.to_str().expect("utf-8")],
    );
    expect_failure(&out, &[&format!("`{}` does not exist", missing.display())]);
}

#[test]
fn diff_without_base_on_the_default_branch_itself_asks_for_base() {
    let (r, _) = promotion_history("no-default");
    let out = r.run(&["diff"]);
    expect_failure(
        &out,
        &[
            "error: cannot find a base to compare with: `main` is the branch being linted",
            "help: give the base explicitly with `--base REV`",
        ],
    );
}

#[test]
fn diff_without_base_on_main_does_not_claim_main_is_missing() {
    let (r, _) = promotion_history("no-default-msg");
    let out = r.run(&["diff"]);
    expect_failure(&out, &["--base REV"]);
    // `main` exists: it is the branch being linted, so it cannot be the base. Saying "there
    // is no … `main`" sends the user looking for a branch they are on.
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(
        !first.contains("`main` or `master`"),
        "the message lists `main` as missing: {first}"
    );
    assert!(first.contains("main"), "{first}");
}

#[test]
fn diff_defaults_to_the_merge_base_with_origin_head() {
    // Upstream's default branch is `trunk` (so neither `main` nor `master` can stand in).
    let up = Repo::init_on("upstream", "trunk");
    up.tf("dev", "v5");
    up.tf("prod", "v5");
    up.commit("Initial: dev and prod on v5");
    let clone = Repo::clone_of("clone", &up, &[]);
    assert_eq!(
        clone
            .git(&["symbolic-ref", "refs/remotes/origin/HEAD"])
            .trim(),
        "refs/remotes/origin/trunk"
    );
    // The feature branch promotes prod to v6 before dev.
    clone.git(&["checkout", "-q", "-b", "feature"]);
    clone.tf("prod", "v6");
    clone.commit_at("2026-01-02T00:00:00Z", "prod: v6");
    clone.git(&["branch", "-q", "-D", "trunk"]);
    // Meanwhile upstream moves dev to v6; the clone fetches it.
    up.tf("dev", "v6");
    up.commit_at("2026-01-03T00:00:00Z", "dev: promote to v6");
    clone.git(&["fetch", "-q"]);

    // Base = merge-base(HEAD, origin/HEAD) = the initial commit: dev had not run v6.
    let out = clone.run(&["diff", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, None)]
    );
    let out = clone.run(&["diff"]);
    expect_code(&out, 1);
    assert!(out.stdout.contains(
        "error[PL006]: prod pins lxc_rootfs_version to v6, which dev has not run (dev runs v5)"
    ));
    assert!(out.stdout.contains(&format!(" ::: {DEV_TF}:3:25")));
    assert!(out
        .stdout
        .ends_with("promolint: 1 file checked: 1 error, 0 warnings, 0 notes\n"));

    // Against upstream's tip instead (dev already on v6 there) the answer differs: the
    // default really is the merge-base, not the tip.
    let out = clone.run(&["diff", "--base", "origin/trunk", "--format", "json"]);
    expect_code(&out, 0);
    assert!(json_findings(&out).iter().all(|f| f.0 != "PL006"));
}

// ----- 2. empty repository -----

#[test]
fn empty_repository() {
    let r = Repo::init("empty");
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    r.git(&["add", "-A"]);
    // The first commit to be, against the empty tree: introducing environments is clean.
    let out = r.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
    // A mutable tag staged for prod is judged.
    r.write(
        PROD_BACKEND,
        &deployment_text("ghcr.io/acme/backend:latest"),
    );
    r.git(&["add", "-A"]);
    let out = r.run(&["staged", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL001", PROD_BACKEND, 10, 39, None)]
    );

    // Modes that need commits say there are none.
    for args in [&["diff"][..], &["diff", "--base", "HEAD"], &["history"]] {
        let out = r.run(args);
        expect_failure(
            &out,
            &[
                "error: revision `HEAD` names no commit: the repository has no commits yet",
                "help: make a first commit",
            ],
        );
    }
    let out = r.run(&["history", "--range", "main"]);
    expect_failure(
        &out,
        &["error: unknown revision `main`: the repository has no commits yet"],
    );

    // The working tree modes work.
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL001", PROD_BACKEND, 10, 39, None)]
    );
    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component             dev  prod\n\
         ghcr.io/acme/backend  -    latest\n\
         lxc_rootfs_version    v5   v5\n"
    );
}

#[test]
fn orphan_branch_errors_do_not_say_the_repository_has_no_commits() {
    let (r, _) = promotion_history("orphan");
    r.git(&["checkout", "-q", "--orphan", "fresh"]);
    // The repository has four commits; only the branch `fresh` has none.
    let out = r.run(&["history"]);
    expect_failure(&out, &["fresh"]);
    assert!(
        !out.stderr.contains("the repository has no commits yet"),
        "{}",
        out.stderr
    );
    // `nope` is unknown for its own reason.
    let out = r.run(&["history", "--range", "nope"]);
    expect_failure(&out, &["unknown revision `nope`"]);
    assert!(
        !out.stderr.contains("the repository has no commits yet"),
        "{}",
        out.stderr
    );
}

// ----- 3. detached HEAD -----

#[test]
fn detached_head() {
    let (r, [_, _, c2, _]) = promotion_history("detached");
    r.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    assert_eq!(r.rev("HEAD"), c2);

    let out = r.run(&["diff", "--base", "HEAD~1", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, None)]
    );

    // The history of the detached HEAD: the dev-v7 commit after it is not in it.
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, Some(&c2))]
    );

    // Nothing staged.
    let out = r.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 0 files checked: no findings\n");
    // Prod to v8 staged on the detached HEAD: dev (v6 here) never ran it.
    r.tf("prod", "v8");
    r.git(&["add", "-A"]);
    let out = r.run(&["staged"]);
    expect_code(&out, 1);
    assert!(out.stdout.starts_with(
        "error[PL006]: prod pins lxc_rootfs_version to v8, which dev has not run (dev runs v6): promote v8 through dev first, or roll prod back to v6\n"
    ));

    // Without --base: the merge-base with `main` is HEAD itself, an empty change.
    r.git(&["reset", "-q"]);
    let out = r.run(&["diff"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 0 files checked: no findings\n");
}

// ----- 4. merge commits in history -----

/// `init` (dev and prod on v5); `side` promotes prod to v6 before dev; `main` gets an
/// unrelated commit; `side` is merged with `--no-ff`.
fn merged_side_branch(tag: &str) -> (Repo, [String; 4]) {
    let r = Repo::init(tag);
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    let init = r.commit("Initial: dev and prod on v5");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.tf("prod", "v6");
    let side = r.commit_at("2026-01-02T00:00:00Z", "side: prod v6 before dev");
    r.git(&["checkout", "-q", "main"]);
    r.write("README.md", "# fabric-core\n");
    let readme = r.commit_at("2026-01-03T00:00:00Z", "main: readme");
    git_dated(
        r.path(),
        "2026-01-04T00:00:00Z",
        &[
            "merge",
            "-q",
            "--no-ff",
            "side",
            "-m",
            "Merge branch 'side'",
        ],
    );
    let merge = r.rev("HEAD");
    assert_eq!(r.rev("HEAD^1"), readme);
    assert_eq!(r.rev("HEAD^2"), side);
    (r, [init, side, readme, merge])
}

#[test]
fn merge_history_reports_the_side_commit_once_with_its_id() {
    let (r, [init, side, readme, merge]) = merged_side_branch("merge");
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    let got = json_findings(&out);
    let of = |c: &str| {
        got.iter()
            .filter(|f| f.4.as_deref() == Some(c))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(of(&side), vec![found("PL006", PROD_TF, 3, 25, Some(&side))]);
    assert_eq!(of(&init), vec![]);
    assert_eq!(of(&readme), vec![]);
    // Every finding carries one of the range's commits.
    assert!(got
        .iter()
        .all(|f| [&init, &side, &readme, &merge].contains(&&f.4.clone().unwrap_or_default())));
}

#[test]
fn merge_commit_reports_nothing_new() {
    let (r, [_, side, _, merge]) = merged_side_branch("merge-dup");
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    // Today the merge commit, judged against its first parent, reports the same PL006 (same
    // fingerprint) a second time. The side commit is in the range and already carries it.
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, Some(&side))],
        "merge commit {merge} must not repeat it"
    );
}

#[test]
fn merge_commit_alone_in_the_range_reports_the_promotion_it_brings() {
    // When the side commit is outside the range, the merge is where main gets prod v6.
    let (r, [_, _, _, merge]) = merged_side_branch("merge-range");
    let out = r.run(&["history", "--range", "side..main", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, Some(&merge))]
    );
}

/// `init`; `side` moves dev to v6 (dated earlier); `main` moves prod to v6 though dev on main
/// never ran it; `side` merged afterwards.
fn side_branch_dated_before_main(tag: &str) -> (Repo, String) {
    let r = Repo::init(tag);
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    r.commit("Initial: dev and prod on v5");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.tf("dev", "v6");
    r.commit_at("2026-01-02T00:00:00Z", "side: dev v6");
    r.git(&["checkout", "-q", "main"]);
    r.tf("prod", "v6");
    let prod = r.commit_at("2026-01-03T00:00:00Z", "main: prod v6 before dev");
    git_dated(
        r.path(),
        "2026-01-04T00:00:00Z",
        &[
            "merge",
            "-q",
            "--no-ff",
            "side",
            "-m",
            "Merge branch 'side'",
        ],
    );
    (r, prod)
}

#[test]
fn a_commit_judged_alone_sees_only_its_own_ancestry() {
    let (r, prod) = side_branch_dated_before_main("ancestry-range");
    let out = r.run(&["history", "--range", "HEAD~2..HEAD~1", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, Some(&prod))]
    );
}

#[test]
fn history_judges_each_commit_against_its_own_ancestry() {
    let (r, prod) = side_branch_dated_before_main("ancestry");
    // When commit `prod` was made, dev on its line of history had never run v6: the same
    // PL006 as when the commit is judged alone (test above). Today the whole-history run
    // reports nothing: the history index is cut by a sequence number over all commits, so
    // it includes `side: dev v6`, which is not an ancestor of `prod`.
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, Some(&prod))]
    );
}

// ----- 5. shallow clone -----

#[test]
fn shallow_clone_is_exit_2_with_the_fix_never_a_shortened_answer() {
    let (up, [_, _, c2, _]) = promotion_history("shallow-up");
    let r = Repo::clone_of("shallow", &up, &["--depth", "1"]);
    assert!(r.path().join(".git/shallow").is_file());
    let head = r.rev("HEAD");
    let short = &head[..12];

    // history: its walk reaches the boundary.
    let out = r.run(&["history"]);
    let reach = format!(
        "error: the history of {short} reaches commit {short}, whose parents are not in this \
         repository"
    );
    let mut with_fix = vec![reach.as_str()];
    with_fix.extend_from_slice(SHALLOW_FIX);
    expect_failure(&out, &with_fix);

    // diff --base HEAD~1: the base is beyond the boundary.
    let out = r.run(&["diff", "--base", "HEAD~1"]);
    let mut fix = vec!["error: revision `HEAD~1` reaches beyond the commits of this repository"];
    fix.extend_from_slice(SHALLOW_FIX);
    expect_failure(&out, &fix);

    // diff with the default base (origin/HEAD is HEAD), or `--base HEAD`: an empty change
    // asks nothing of the history, so the answer (no finding) is complete.
    expect_code(&r.run(&["diff"]), 0);
    expect_code(&r.run(&["diff", "--base", "HEAD"]), 0);

    // check and status: dev runs prod's v7 now, so the tree alone answers PL006/PL008
    // and the history is never walked: the full answer in a shallow clone.
    let out = r.run(&["check"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
    expect_code(&r.run(&["status"]), 0);

    // staged with nothing staged asks nothing of the history; a staged pin does.
    expect_code(&r.run(&["staged"]), 0);
    r.tf("prod", "v9");
    r.git(&["add", "-A"]);
    expect_failure(&r.run(&["staged"]), &with_fix);
    // prod on v9, which dev does not run now: only the history can say whether dev ran it
    // before, so check needs it: exit 2 with the fix. Without PL006/PL008 the tree rules
    // run. `status` shows the tree's matrix, marked from the tree alone, and says so.
    expect_failure(&r.run(&["check"]), &with_fix);
    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component           dev  prod\nlxc_rootfs_version  v7   v9 !\n\n! runs a version its predecessor never ran\n\nnote: the history is shallow: `!` marks a version no predecessor runs now, even one a predecessor ran earlier; fetch the full history (`git fetch --unshallow`, or `fetch-depth: 0` with actions/checkout) to tell them apart\n"
    );
    let out = r.run(&["check", "--ignore", "PL006,PL008"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
    r.git(&["reset", "-q", "--hard"]);

    // Deepened by one commit: HEAD~1 resolves. The change HEAD~1..HEAD only moves dev,
    // which has no predecessor: its answer needs no history and is complete. The history
    // itself is still cut.
    r.git(&["fetch", "-q", "--deepen=1"]);
    expect_code(&r.run(&["diff", "--base", "HEAD~1"]), 0);
    expect_failure(&r.run(&["history"]), SHALLOW_FIX);

    // The fix works: after `git fetch --unshallow` the answers are the full ones.
    r.git(&["fetch", "-q", "--unshallow"]);
    assert!(!r.path().join(".git/shallow").exists());
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL006", PROD_TF, 3, 25, Some(&c2))]
    );
    let out = r.run(&["check"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
}

// ----- 6. submodule -----

#[test]
fn submodules_are_neither_read_nor_a_crash() {
    let r = Repo::init("submodule");
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    r.commit("Initial: dev and prod on v5");
    // A real nested repository whose content would be a finding if it were read.
    let lib = r.path().join("vendor/lib");
    std::fs::create_dir_all(&lib).expect("mkdir");
    git(&lib, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(lib.join("clusters/prod")).expect("mkdir");
    std::fs::write(
        lib.join(PROD_BACKEND),
        deployment_text("ghcr.io/acme/backend:latest"),
    )
    .expect("write");
    git(&lib, &["add", "-A"]);
    git(&lib, &["commit", "-q", "-m", "lib"]);
    let lib_head = git(&lib, &["rev-parse", "HEAD"]).trim().to_string();
    // Control: read on its own, the nested repository has a PL001.
    let out = run(&lib, &["check", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL001", PROD_BACKEND, 10, 39, None)]
    );

    // Gitlinks: the nested repository, and one with a YAML name in an environment path.
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{lib_head},vendor/lib"),
    ]);
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        "160000,1111111111111111111111111111111111111111,clusters/prod/vendor.yaml",
    ]);
    let out = r.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
    r.git(&["commit", "-q", "-m", "vendor: add lib as a submodule"]);
    let tree = r.git(&["ls-tree", "-r", "HEAD"]);
    assert!(tree.contains(&format!("160000 commit {lib_head}\tvendor/lib")));

    for (args, stdout) in [
        (&["check"][..], "promolint: 2 files checked: no findings\n"),
        (
            &["diff", "--base", "HEAD~1"],
            "promolint: 2 files checked: no findings\n",
        ),
        (
            &["diff", "--base", "HEAD~1", "--all-files"],
            "promolint: 2 files checked: no findings\n",
        ),
        (&["history"], "promolint: 4 files checked: no findings\n"),
        (&["staged"], "promolint: 0 files checked: no findings\n"),
        (
            &["staged", "--all-files"],
            "promolint: 2 files checked: no findings\n",
        ),
    ] {
        let out = r.run(args);
        expect_code(&out, 0);
        assert_eq!(out.stdout, stdout, "{args:?}");
    }
    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component           dev  prod\nlxc_rootfs_version  v5   v5\n"
    );
}

// ----- 7. corrupted objects -----

const CM: &str = "clusters/prod/cm.yaml";

/// Two commits changing a prod ConfigMap; returns the repository and the second commit.
fn configmap_history(tag: &str) -> (Repo, String) {
    let r = Repo::init(tag);
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    r.write(
        CM,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    r.commit("Initial");
    r.write(
        CM,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
    );
    let c1 = r.commit("prod: rename the ConfigMap");
    (r, c1)
}

#[test]
fn a_corrupted_blob_is_pl000_naming_the_file_never_a_panic() {
    let (r, c1) = configmap_history("corrupt-blob");
    let blob = r.rev(&format!("HEAD:{CM}"));
    std::fs::write(r.writable_object(&blob), b"garbage garbage\n").expect("corrupt");
    let object = format!("object {} cannot be read", &blob[..12]);

    // The file is prod's, which is protected: what it holds is unknown, so it fails.
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL000", CM, 1, 1, Some(&c1))]
    );
    assert!(out.stdout.contains(&object), "{}", out.stdout);

    let out = r.run(&["diff", "--base", "HEAD~1", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(json_findings(&out), vec![found("PL000", CM, 1, 1, None)]);
    assert!(out.stdout.contains(&object), "{}", out.stdout);

    // Human output names the file and the object, and the repair.
    let out = r.run(&["diff", "--base", "HEAD~1"]);
    expect_code(&out, 1);
    assert!(out
        .stdout
        .starts_with(&format!("error[PL000]: file skipped: {object}")));
    assert!(out.stdout.contains(
        "prod is protected, so a file promolint cannot read fails the check: repair the repository as the reason says"
    ));
    assert!(out.stdout.contains(&format!("--> {CM}:1:")));

    // The working tree is intact: check reads it, not the object.
    expect_code(&r.run(&["check"]), 0);
}

#[test]
fn a_blob_whose_content_does_not_match_its_id_is_pl000_naming_the_file() {
    let (r, c1) = configmap_history("corrupt-hash");
    let blob = r.rev(&format!("HEAD:{CM}"));
    // A well-formed object of other content under the blob's id.
    let other = TempDir::new("other-content");
    other.write("x", b"apiVersion: v1\nkind: Secret\n");
    let other_id = r
        .git(&[
            "hash-object",
            "-w",
            other.path().join("x").to_str().expect("utf-8"),
        ])
        .trim()
        .to_string();
    let other_file = r.writable_object(&other_id);
    std::fs::copy(other_file, r.writable_object(&blob)).expect("swap object");

    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL000", CM, 1, 1, Some(&c1))]
    );
    assert!(out.stdout.contains(&format!(
        "object {} is corrupt: its content does not match its id",
        &blob[..12]
    )));
}

#[test]
fn a_corrupted_blob_note_says_how_to_repair_the_repository() {
    let (r, _) = configmap_history("corrupt-help");
    let blob = r.rev(&format!("HEAD:{CM}"));
    std::fs::write(r.writable_object(&blob), b"garbage garbage\n").expect("corrupt");
    let out = r.run(&["diff", "--base", "HEAD~1"]);
    // The help is about the repository, not "make the file readable (resolve conflict
    // markers, …)", which the file in the working tree already is.
    assert!(out.stdout.contains("git fsck"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("help: Repair the repository as the reason says"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("conflict markers"), "{}", out.stdout);
}

#[test]
fn a_corrupted_tree_is_exit_2_naming_it() {
    let (r, _) = configmap_history("corrupt-tree");
    let tree = r.rev("HEAD^{tree}");
    std::fs::write(r.writable_object(&tree), b"junk\n").expect("corrupt");
    let what = format!("error: the root tree ({}) cannot be read", &tree[..12]);
    for args in [&["history"][..], &["diff", "--base", "HEAD~1"], &["staged"]] {
        let out = r.run(args);
        expect_failure(&out, &[&what, "`git fsck`"]);
    }
    // check and status read the working tree; dev runs prod's version, so they never walk
    // the history through the broken tree. Once prod moves ahead of dev they must.
    expect_code(&r.run(&["check"]), 0);
    expect_code(&r.run(&["status"]), 0);
    r.tf("prod", "v6");
    for args in [&["check"][..], &["status"]] {
        let out = r.run(args);
        expect_failure(&out, &[&what, "`git fsck`"]);
    }
}

// ----- 8. the commit of each finding in JSON -----

#[test]
fn json_findings_carry_the_full_commit_in_history_and_null_in_diff() {
    let (r, [c0, c1, c2, _]) = promotion_history("json-commit");
    // A rollback (a note) and a mutable tag (an error) in later commits.
    r.tf("prod", "v6");
    let c4 = r.commit("prod: roll back to v6");
    r.write(
        PROD_BACKEND,
        &deployment_text("ghcr.io/acme/backend:latest"),
    );
    let c5 = r.commit("prod: backend");
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        // Oldest commit first.
        vec![
            found("PL006", PROD_TF, 3, 25, Some(&c2)),
            found("PL005", PROD_TF, 3, 25, Some(&c4)),
            found("PL001", PROD_BACKEND, 10, 39, Some(&c5)),
        ]
    );
    for f in json_findings(&out) {
        let c = f.4.expect("commit");
        assert_eq!(c.len(), 40);
        assert_ne!(c, c0);
        assert_ne!(c, c1);
    }

    let out = r.run(&["diff", "--base", &c0, "--format", "json"]);
    expect_code(&out, 1);
    let got = json_findings(&out);
    assert!(!got.is_empty());
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    for f in json["findings"].as_array().expect("findings") {
        assert_eq!(f.get("commit"), Some(&serde_json::Value::Null), "{f}");
    }

    // staged too: no commit yet.
    r.tf("prod", "v9");
    r.git(&["add", "-A"]);
    let out = r.run(&["staged", "--format", "json"]);
    expect_code(&out, 1);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let findings = json["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f.get("commit"), Some(&serde_json::Value::Null), "{f}");
    }
}

// ----- 9. status -----

/// dev, staging and prod; prod reaches v7, which staging never ran.
fn status_repo(tag: &str) -> Repo {
    let r = Repo::init(tag);
    for env in ["dev", "staging", "prod"] {
        r.tf(env, "v5");
    }
    r.write(
        "clusters/dev/backend.yaml",
        &deployment_text("ghcr.io/acme/backend:1.2.0"),
    );
    r.write(PROD_BACKEND, &deployment_text("ghcr.io/acme/backend:1.2.0"));
    r.commit("Initial: everything on v5, backend 1.2.0");
    for (env, v) in [
        ("dev", "v6"),
        ("staging", "v6"),
        ("prod", "v6"),
        ("dev", "v7"),
        ("prod", "v7"),
    ] {
        r.tf(env, v);
        r.commit(&format!("{env}: {v}"));
    }
    r.write(
        "clusters/dev/backend.yaml",
        &deployment_text("ghcr.io/acme/backend:1.3.0"),
    );
    r.commit("dev: backend 1.3.0");
    r
}

/// `promolint status --format json` of [`status_repo`], whole.
const STATUS_JSON: &str = r#"{
  "status": {
    "environments": [
      "dev",
      "staging",
      "prod"
    ],
    "rows": [
      {
        "cells": [
          {
            "ahead": false,
            "versions": [
              "1.3.0"
            ]
          },
          null,
          {
            "ahead": false,
            "versions": [
              "1.2.0"
            ]
          }
        ],
        "component": "ghcr.io/acme/backend"
      },
      {
        "cells": [
          {
            "ahead": false,
            "versions": [
              "v7"
            ]
          },
          {
            "ahead": false,
            "versions": [
              "v6"
            ]
          },
          {
            "ahead": true,
            "versions": [
              "v7"
            ]
          }
        ],
        "component": "lxc_rootfs_version"
      }
    ]
  },
  "version": 1
}
"#;

#[test]
fn status_marks_a_version_the_predecessor_never_ran() {
    let r = status_repo("status");
    assert!(std::fs::read_to_string(r.path().join(STAGING_TF))
        .expect("staging")
        .contains("\"v6\""));

    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component             dev    staging  prod\n\
         ghcr.io/acme/backend  1.3.0  -        1.2.0\n\
         lxc_rootfs_version    v7     v6       v7 !\n\
         \n\
         ! runs a version its predecessor never ran\n"
    );
    assert_eq!(out.stderr, "");

    let out = r.run(&["status", "--format", "markdown"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "| component | dev | staging | prod |\n\
         |---|---|---|---|\n\
         | `ghcr.io/acme/backend` | 1.3.0 | - | 1.2.0 |\n\
         | `lxc_rootfs_version` | v7 | v6 | v7 ⚠️ |\n"
    );

    let out = r.run(&["status", "--format", "json"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, STATUS_JSON);

    // Once staging runs v7, the mark goes.
    r.tf("staging", "v7");
    r.commit("staging: v7");
    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component             dev    staging  prod\n\
         ghcr.io/acme/backend  1.3.0  -        1.2.0\n\
         lxc_rootfs_version    v7     v7       v7\n"
    );
}

// ----- 10. --all-files -----

#[test]
fn all_files_reports_tree_findings_outside_the_change() {
    let r = Repo::init("all-files");
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    r.write(
        PROD_BACKEND,
        &deployment_text("ghcr.io/acme/backend:latest"),
    );
    r.commit("Initial, with a mutable tag in prod");
    r.tf("dev", "v6");
    r.commit("dev: v6");

    let out = r.run(&["diff", "--base", "HEAD~1"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 1 file checked: no findings\n");
    let out = r.run(&[
        "diff",
        "--base",
        "HEAD~1",
        "--all-files",
        "--format",
        "json",
    ]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL001", PROD_BACKEND, 10, 39, None)]
    );
    let out = r.run(&["diff", "--base", "HEAD~1", "--all-files"]);
    expect_code(&out, 1);
    assert!(out
        .stdout
        .ends_with("promolint: 3 files checked: 1 error, 0 warnings, 0 notes\n"));

    // staged, the same.
    r.tf("dev", "v7");
    r.git(&["add", "-A"]);
    let out = r.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 1 file checked: no findings\n");
    let out = r.run(&["staged", "--all-files", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL001", PROD_BACKEND, 10, 39, None)]
    );
    r.git(&["commit", "-q", "-m", "dev: v7"]);

    // A change to the file itself reports it without --all-files.
    r.write(
        PROD_BACKEND,
        &deployment_text("ghcr.io/acme/backend:latest")
            .replace("name: backend\nspec", "name: backend-v2\nspec"),
    );
    r.commit("prod: rename backend");
    let out = r.run(&["diff", "--base", "HEAD~1", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![found("PL001", PROD_BACKEND, 10, 39, None)]
    );
}

// ----- further bad input found while testing -----

#[test]
fn staged_in_a_bare_repository_is_exit_2() {
    let r = Repo::init("bare-src");
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    r.write(
        "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz",
        "rootfs v5\n",
    );
    r.commit("Initial");
    let bare = TempDir::new("bare");
    git(
        bare.path(),
        &[
            "clone",
            "-q",
            "--bare",
            r.path().to_str().expect("utf-8"),
            ".",
        ],
    );
    // Like check and status: a bare repository has no index to judge.
    let out = run(bare.path(), &["staged"]);
    expect_failure(&out, &["bare repository"]);
}

#[test]
fn rollback_note_quotes_the_version_that_ran_before() {
    let (r, _) = promotion_history("rollback-quote");
    r.tf("prod", "v6");
    r.commit("prod: roll back to v6");
    let out = r.run(&["diff", "--base", "HEAD~1"]);
    expect_code(&out, 0);
    assert!(out
        .stdout
        .starts_with("note[PL005]: rollback of prod lxc_rootfs_version from v7 to v6\n"));
    // The related location "prod ran v7 here before this change" points into the base's
    // main.tf; today its snippet shows the head's line (`"v6"`).
    let related = out
        .stdout
        .split(" ::: ")
        .nth(1)
        .expect("a related location");
    assert!(
        related.contains("lxc_rootfs_version = \"v7\""),
        "{}",
        out.stdout
    );
}

#[test]
fn human_location_without_snippet_has_the_json_column() {
    let r = Repo::init("column");
    r.tf("dev", "v5");
    r.tf("prod", "v5");
    r.write(
        "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz",
        "rootfs v5\n",
    );
    r.commit("Initial");
    r.git(&[
        "rm",
        "-q",
        "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz",
    ]);
    r.commit("delete v5");
    let out = r.run(&["diff", "--base", "HEAD~1", "--format", "json"]);
    assert_eq!(
        json_findings(&out),
        vec![found(
            "PL004",
            "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz",
            1,
            1,
            None
        )]
    );
    let out = r.run(&["diff", "--base", "HEAD~1"]);
    assert!(
        out.stdout.contains(
            "--> fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz:1:1\n"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn git_dir_that_is_not_a_repository_is_named() {
    let (r, _) = promotion_history("git-dir");
    let plain = TempDir::new("not-a-git-dir");
    let out = Command::new(env!("CARGO_BIN_EXE_promolint"))
        .args(["diff", "--base", "HEAD~1"])
        .current_dir(r.path())
        .env("GIT_DIR", plain.path())
        .output()
        .expect("run promolint");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&plain.path().display().to_string()) && stderr.contains("GIT_DIR"),
        "{stderr}"
    );
}

// ----- the pin ledger (the on-disk cache of history walks) -----

#[test]
fn the_pin_ledger_changes_no_answer_and_a_damaged_one_is_rebuilt() {
    let (r, [_, _, c2, _]) = promotion_history("ledger");
    let ledger = r.path().join(".git/promolint/pins.json");
    let uncached = r.run(&["history", "--format", "json", "--no-cache"]);
    expect_code(&uncached, 1);
    assert!(!ledger.exists(), "--no-cache wrote the ledger");
    assert_eq!(
        json_findings(&uncached),
        vec![found("PL006", PROD_TF, 3, 25, Some(&c2))]
    );
    // First run writes the ledger, the second reads it: the same bytes both times.
    let first = r.run(&["history", "--format", "json"]);
    assert!(ledger.exists(), "the ledger was not written");
    let second = r.run(&["history", "--format", "json"]);
    assert_eq!(first.stdout, uncached.stdout);
    assert_eq!(second.stdout, uncached.stdout);
    // A ledger that is not one (truncated, another version's) is ignored and replaced.
    std::fs::write(&ledger, b"{\"key\":\"promolint 0.0.0 ledger 0\"").unwrap();
    let damaged = r.run(&["history", "--format", "json"]);
    assert_eq!(damaged.stdout, uncached.stdout);
    let rewritten = std::fs::read_to_string(&ledger).unwrap();
    assert!(
        rewritten.contains(&c2),
        "the ledger was not rebuilt: {rewritten}"
    );
    // PROMOLINT_NO_CACHE: neither read nor written.
    std::fs::remove_file(&ledger).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_promolint"))
        .args(["history", "--format", "json"])
        .current_dir(r.path())
        .env("PROMOLINT_NO_CACHE", "1")
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), uncached.stdout);
    assert!(!ledger.exists(), "PROMOLINT_NO_CACHE wrote the ledger");
}

// ----- GitOps sources that deploy this repository -----

/// A production Flux GitRepository and Argo CD Application following branch `main` of
/// `url`, at lines 9 (`branch`) and 18 (`targetRevision`).
fn gitops_sources(url: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  \
         name: tenant\n  namespace: prod\nspec:\n  url: {url}\n  ref:\n    branch: main\n\
         ---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\n\
         spec:\n  source:\n    repoURL: {url}\n    targetRevision: main\n    path: clusters/prod\n  \
         destination:\n    namespace: prod\n"
    )
}

#[test]
fn a_gitops_source_that_deploys_this_repository_is_no_mutable_reference() {
    let r = Repo::init("own-source");
    r.write(
        "clusters/prod/sources.yaml",
        &gitops_sources("https://github.com/Acme/GitOps.git"),
    );
    r.commit("sources");
    // No remote: nothing says the URL is this repository; a branch in prod is an error.
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out)
            .iter()
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        ["PL001", "PL001"]
    );
    // The same repository under any transport: how GitOps deploys, no finding.
    r.git(&["remote", "add", "origin", "https://example.com/elsewhere"]);
    for remote in [
        "git@github.com:acme/gitops.git",
        "https://github.com/acme/gitops",
        "ssh://git@github.com/acme/gitops/",
    ] {
        r.git(&["remote", "set-url", "origin", remote]);
        let out = r.run(&["check", "--format", "json"]);
        expect_code(&out, 0);
        assert_eq!(json_findings(&out), vec![], "{remote}");
    }
    // Another repository's branch is still a mutable pin.
    r.write(
        "clusters/prod/sources.yaml",
        &gitops_sources("https://github.com/acme/other"),
    );
    r.commit("other");
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        json_findings(&out),
        vec![
            found("PL001", "clusters/prod/sources.yaml", 9, 13, None),
            found("PL001", "clusters/prod/sources.yaml", 18, 21, None),
        ]
    );
}
