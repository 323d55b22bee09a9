//! Repositories built with real `git` in temporary directories, then read through [`GitRepo`].
use super::*;
use rayon::prelude::*;
use std::fs;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, AtomicOrdering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("promolint-git-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `git` in `dir` isolated from the user's configuration, with fixed identities and
/// dates, and `env` on top. Panics on failure unless `allow_failure`.
fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)], allow_failure: bool) -> String {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(["-c", "gc.auto=0", "-c", "core.autocrlf=false"])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_CEILING_DIRECTORIES")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "@1700000000 +0000")
        .env("GIT_COMMITTER_DATE", "@1700000000 +0000");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        allow_failure || out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_with(dir, args, &[], false)
}

/// A work tree repository built step by step.
struct Fixture {
    dir: TempDir,
    clock: i64,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let dir = TempDir::new(tag);
        git(dir.path(), &["init", "-q"]);
        Fixture {
            dir,
            clock: 1_700_000_000,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn remove(&self, rel: &str) {
        fs::remove_file(self.path().join(rel)).unwrap();
    }

    fn git(&self, args: &[&str]) -> String {
        git(self.path(), args)
    }

    /// Commits everything (`git add -A`), one minute after the previous commit.
    fn commit(&mut self, message: &str) -> ObjectId {
        self.git(&["add", "-A"]);
        self.commit_staged(message)
    }

    fn commit_staged(&mut self, message: &str) -> ObjectId {
        self.clock += 60;
        let date = format!("@{} +0000", self.clock);
        git_with(
            self.path(),
            &["commit", "-q", "--allow-empty", "-m", message],
            &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
            false,
        );
        self.rev("HEAD")
    }

    /// A merge of `branch` into the current branch.
    fn merge(&mut self, branch: &str, message: &str) -> ObjectId {
        self.clock += 60;
        let date = format!("@{} +0000", self.clock);
        git_with(
            self.path(),
            &["merge", "-q", "--no-ff", "-m", message, branch],
            &[("GIT_AUTHOR_DATE", &date), ("GIT_COMMITTER_DATE", &date)],
            false,
        );
        self.rev("HEAD")
    }

    fn rev(&self, rev: &str) -> ObjectId {
        oid(&self.git(&["rev-parse", rev]))
    }

    fn open(&self) -> GitRepo {
        GitRepo::discover(self.path()).unwrap()
    }
}

fn oid(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.trim().as_bytes()).unwrap()
}

/// The path of the loose object `id` in the Git directory `git_dir`.
fn loose_object(git_dir: &Path, id: ObjectId) -> PathBuf {
    let hex = id.to_string();
    git_dir.join("objects").join(&hex[..2]).join(&hex[2..])
}

fn paths(entries: &[FileEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.path.as_str()).collect()
}

/// `(path, "A" | "D" | "M")` for each change.
fn summary(changes: &[FileChange]) -> Vec<(String, &'static str)> {
    changes
        .iter()
        .map(|c| {
            let what = match (&c.old, &c.new) {
                (None, Some(_)) => "A",
                (Some(_), None) => "D",
                _ => "M",
            };
            (c.path.clone(), what)
        })
        .collect()
}

fn changes(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    list.iter().map(|(p, w)| (p.to_string(), *w)).collect()
}

fn ids(commits: &[CommitInfo]) -> Vec<ObjectId> {
    commits.iter().map(|c| c.id).collect()
}

fn assert_shallow_error(err: &SourceError) {
    assert!(
        err.message
            .ends_with(": the history is shallow (this is a shallow clone)"),
        "{err}"
    );
    let help = err.help.as_deref().unwrap_or_default();
    assert!(help.contains("`fetch-depth: 0`"), "{err}");
    assert!(help.contains("git fetch --deepen=<n>"), "{err}");
    assert!(help.contains("git fetch --unshallow"), "{err}");
}

/// c1: a tree of files; c2: a modification, a deletion, an addition; c3: a rename.
fn linear() -> (Fixture, [ObjectId; 3]) {
    let mut f = Fixture::new("linear");
    f.write("README.md", "hello\n");
    f.write("envs/prod/app.yaml", "image: app:v1\n");
    f.write("envs/dev/app.yaml", "image: app:v2\n");
    f.write("docs/guide.md", "guide\n");
    f.write("scripts/run.sh", "#!/bin/sh\n");
    let c1 = f.commit("first");
    f.write("envs/prod/app.yaml", "image: app:v2\n");
    f.remove("docs/guide.md");
    f.write("envs/staging/app.yaml", "image: app:v2\n");
    let c2 = f.commit("promote v2 to prod\n\nbody text");
    f.git(&["mv", "envs/dev/app.yaml", "envs/dev/service.yaml"]);
    let c3 = f.commit("rename");
    (f, [c1, c2, c3])
}

#[test]
fn tree_files_lists_a_commit_recursively_sorted() {
    let (f, [c1, _, c3]) = linear();
    let repo = f.open();
    let files = repo.tree_files(c1).unwrap();
    assert_eq!(
        paths(&files),
        [
            "README.md",
            "docs/guide.md",
            "envs/dev/app.yaml",
            "envs/prod/app.yaml",
            "scripts/run.sh",
        ]
    );
    assert!(files.iter().all(|e| e.kind == EntryKind::Blob));
    assert_eq!(files[0].id, f.rev("HEAD~2:README.md"));
    assert_eq!(
        paths(&repo.tree_files(c3).unwrap()),
        [
            "README.md",
            "envs/dev/service.yaml",
            "envs/prod/app.yaml",
            "envs/staging/app.yaml",
            "scripts/run.sh",
        ]
    );
}

#[test]
fn diff_trees_reports_adds_modifies_deletes_and_renames() {
    let (f, [c1, c2, c3]) = linear();
    let repo = f.open();
    let d12 = repo.diff_trees(Some(c1), Some(c2)).unwrap();
    assert_eq!(
        summary(&d12),
        changes(&[
            ("docs/guide.md", "D"),
            ("envs/prod/app.yaml", "M"),
            ("envs/staging/app.yaml", "A"),
        ])
    );
    let prod = &d12[1];
    assert_eq!(
        prod.old.as_ref().unwrap().id,
        f.rev("HEAD~2:envs/prod/app.yaml")
    );
    assert_eq!(
        prod.new.as_ref().unwrap().id,
        f.rev("HEAD~1:envs/prod/app.yaml")
    );
    assert_eq!(prod.new.as_ref().unwrap().path, "envs/prod/app.yaml");

    // A rename is a deletion and an addition of the same blob.
    let d23 = repo.diff_trees(Some(c2), Some(c3)).unwrap();
    assert_eq!(
        summary(&d23),
        changes(&[("envs/dev/app.yaml", "D"), ("envs/dev/service.yaml", "A")])
    );
    assert_eq!(
        d23[0].old.as_ref().unwrap().id,
        d23[1].new.as_ref().unwrap().id
    );

    // From and to the empty tree; nothing between a commit and itself.
    let all = repo.diff_trees(None, Some(c1)).unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|c| c.old.is_none()));
    let gone = repo.diff_trees(Some(c3), None).unwrap();
    assert_eq!(gone.len(), 5);
    assert!(gone.iter().all(|c| c.new.is_none()));
    assert!(repo.diff_trees(Some(c2), Some(c2)).unwrap().is_empty());
    assert!(repo.diff_trees(None, None).unwrap().is_empty());
}

#[cfg(unix)]
#[test]
fn kinds_executables_symlinks_and_type_changes() {
    use std::os::unix::fs::PermissionsExt;
    let mut f = Fixture::new("kinds");
    f.write("tool.sh", "echo\n");
    f.write("conf", "a: 1\n");
    fs::set_permissions(f.path().join("tool.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("tool.sh", f.path().join("link")).unwrap();
    let c1 = f.commit("kinds");
    // A file becomes a directory of the same name.
    f.remove("conf");
    f.write("conf/app.yaml", "a: 1\n");
    let c2 = f.commit("file to dir");
    let repo = f.open();
    let files = repo.tree_files(c1).unwrap();
    let kinds: Vec<_> = files.iter().map(|e| (e.path.as_str(), e.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("conf", EntryKind::Blob),
            ("link", EntryKind::Symlink),
            ("tool.sh", EntryKind::Executable),
        ]
    );
    assert!(EntryKind::Executable.is_file() && !EntryKind::Symlink.is_file());
    assert_eq!(repo.read_blob(files[1].id, 100).unwrap(), b"tool.sh");
    let d = repo.diff_trees(Some(c1), Some(c2)).unwrap();
    assert_eq!(
        summary(&d),
        changes(&[("conf", "D"), ("conf/app.yaml", "A")])
    );
    assert_eq!(d[0].old.as_ref().unwrap().id, d[1].new.as_ref().unwrap().id);
}

#[test]
fn diff_trees_does_not_enter_unchanged_subtrees() {
    let mut f = Fixture::new("subtrees");
    for i in 0..20 {
        f.write(
            &format!("big/nested/deep/file{i}.yaml"),
            &format!("n: {i}\n"),
        );
    }
    f.write("envs/prod/app.yaml", "image: app:v1\n");
    let c1 = f.commit("first");
    f.write("envs/prod/app.yaml", "image: app:v2\n");
    let c2 = f.commit("second");
    let repo = f.open();
    assert_eq!(repo.tree_files(c1).unwrap().len(), 21);

    // With the unchanged subtree's object gone, only a walk that enters it can fail.
    let big = f.rev("HEAD:big");
    fs::remove_file(loose_object(&f.path().join(".git"), big)).unwrap();
    let fresh = f.open();
    let d = fresh.diff_trees(Some(c1), Some(c2)).unwrap();
    assert_eq!(summary(&d), changes(&[("envs/prod/app.yaml", "M")]));
    let err = fresh.tree_files(c1).unwrap_err();
    assert!(
        err.message.starts_with("the tree of `big` (")
            && err.message.ends_with("is missing from the object database"),
        "{err}"
    );
}

/// A tree object's bytes: `(mode, name, id's repeated byte)` per entry.
fn tree_bytes(entries: &[(&str, &str, u8)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (mode, name, id) in entries {
        out.extend_from_slice(format!("{mode} {name}\0").as_bytes());
        out.extend_from_slice(&[*id; 20]);
    }
    out
}

#[test]
fn differing_entries_cuts_whole_shared_entries_at_both_ends() {
    let old = tree_bytes(&[
        ("100644", "a.yaml", 1),
        ("40000", "b", 2),
        ("100644", "c.yaml", 3),
        ("100644", "d.yaml", 4),
    ]);
    // One id changed in the middle: only that entry is left on each side.
    let new = tree_bytes(&[
        ("100644", "a.yaml", 1),
        ("40000", "b", 9),
        ("100644", "c.yaml", 3),
        ("100644", "d.yaml", 4),
    ]);
    let (o, n) = differing_entries(&old, &new, 20);
    assert_eq!(o, tree_bytes(&[("40000", "b", 2)]));
    assert_eq!(n, tree_bytes(&[("40000", "b", 9)]));

    // An entry added: nothing on the old side, the entry on the new one. The shared tail
    // is cut at an entry start in both, though the names before it differ in length.
    let added = tree_bytes(&[
        ("100644", "a.yaml", 1),
        ("40000", "b", 2),
        ("100644", "bb-long-name.yaml", 7),
        ("100644", "c.yaml", 3),
        ("100644", "d.yaml", 4),
    ]);
    let (o, n) = differing_entries(&old, &added, 20);
    assert!(o.is_empty());
    assert_eq!(n, tree_bytes(&[("100644", "bb-long-name.yaml", 7)]));
    let (o, n) = differing_entries(&added, &old, 20);
    assert_eq!(o, tree_bytes(&[("100644", "bb-long-name.yaml", 7)]));
    assert!(n.is_empty());

    // An id whose bytes end like the next entry's do is not cut in the middle: the shared
    // bytes at the end start inside the changed entry's id.
    let with_x_id = |first: u8| {
        let mut bytes = b"100644 x\0".to_vec();
        bytes.extend_from_slice(&[first; 19]);
        bytes.push(0x55);
        let x_len = bytes.len();
        bytes.extend_from_slice(&tree_bytes(&[("100644", "y", 3)]));
        (bytes, x_len)
    };
    let ((old, x_len), (new, _)) = (with_x_id(1), with_x_id(2));
    let (o, n) = differing_entries(&old, &new, 20);
    assert_eq!((o, n), (&old[..x_len], &new[..x_len]));

    // A damaged tree (an entry with no NUL) is left whole from the damage on, so that
    // parsing it reports the damage.
    let good = tree_bytes(&[("100644", "a", 1)]);
    let mut damaged = good.clone();
    damaged.extend_from_slice(b"100644 broken-no-nul");
    let mut other = good.clone();
    other.extend_from_slice(b"100644 broken-no-nul-either");
    let (o, n) = differing_entries(&damaged, &other, 20);
    assert_eq!(o, b"100644 broken-no-nul");
    assert_eq!(n, b"100644 broken-no-nul-either");
}

#[test]
fn diff_trees_of_a_wide_directory_changed_at_its_ends_and_middle() {
    let mut f = Fixture::new("wide");
    for i in 0..60 {
        f.write(&format!("apps/app{i:02}/prod/k.yaml"), &format!("n: {i}\n"));
    }
    let c1 = f.commit("first");
    f.write("apps/app00/prod/k.yaml", "n: first\n");
    f.write("apps/app30/prod/k.yaml", "n: middle\n");
    f.write("apps/app59/prod/k.yaml", "n: last\n");
    f.write("apps/app30a/prod/k.yaml", "n: added\n");
    f.remove("apps/app31/prod/k.yaml");
    let c2 = f.commit("second");
    let repo = f.open();
    assert_eq!(
        summary(&repo.diff_trees(Some(c1), Some(c2)).unwrap()),
        changes(&[
            ("apps/app00/prod/k.yaml", "M"),
            ("apps/app30/prod/k.yaml", "M"),
            ("apps/app30a/prod/k.yaml", "A"),
            ("apps/app31/prod/k.yaml", "D"),
            ("apps/app59/prod/k.yaml", "M"),
        ])
    );
    assert_eq!(
        summary(&repo.diff_trees(Some(c2), Some(c1)).unwrap()),
        changes(&[
            ("apps/app00/prod/k.yaml", "M"),
            ("apps/app30/prod/k.yaml", "M"),
            ("apps/app30a/prod/k.yaml", "D"),
            ("apps/app31/prod/k.yaml", "A"),
            ("apps/app59/prod/k.yaml", "M"),
        ])
    );
}

/// main: m1, m2; side (from m1): s1, s2; merged into main as mm.
fn merged() -> (Fixture, [ObjectId; 5]) {
    let mut f = Fixture::new("merge");
    f.write("envs/dev/app.yaml", "v: 1\n");
    let m1 = f.commit("m1");
    f.git(&["checkout", "-q", "-b", "side"]);
    f.write("envs/staging/app.yaml", "v: 1\n");
    let s1 = f.commit("s1");
    f.git(&["checkout", "-q", "main"]);
    f.write("envs/dev/app.yaml", "v: 2\n");
    let m2 = f.commit("m2");
    f.git(&["checkout", "-q", "side"]);
    f.write("envs/staging/app.yaml", "v: 2\n");
    let s2 = f.commit("s2");
    f.git(&["checkout", "-q", "main"]);
    let mm = f.merge("side", "merge side");
    (f, [m1, s1, m2, s2, mm])
}

#[test]
fn range_commits_includes_merges_and_side_branches_oldest_first() {
    let (f, [m1, s1, m2, s2, mm]) = merged();
    let repo = f.open();
    let range = repo.range_commits(Some(m1), mm).unwrap();
    assert_eq!(ids(&range), [s1, m2, s2, mm]);
    let merge = &range[3];
    assert_eq!(merge.parents, [m2, s2]);
    assert_eq!(merge.summary, "merge side");
    assert_eq!(
        ids(&repo.range_commits(None, mm).unwrap()),
        [m1, s1, m2, s2, mm]
    );
    assert_eq!(ids(&repo.range_commits(Some(s2), mm).unwrap()), [m2, mm]);
    assert_eq!(ids(&repo.range_commits(Some(m2), s2).unwrap()), [s1, s2]);
    assert!(repo.range_commits(Some(mm), m2).unwrap().is_empty());
    assert!(repo.range_commits(Some(mm), mm).unwrap().is_empty());
    // The same answer on every run.
    assert_eq!(repo.range_commits(Some(m1), mm).unwrap(), range);
}

#[test]
fn range_commits_is_topological_despite_clock_skew() {
    let mut f = Fixture::new("skew");
    f.write("a", "1\n");
    let c1 = f.commit("c1");
    f.write("a", "2\n");
    let c2 = f.commit("c2");
    // A child dated long before its parent.
    f.clock -= 100_000;
    f.write("a", "3\n");
    let c3 = f.commit("c3");
    f.write("a", "4\n");
    let c4 = f.commit("c4");
    let repo = f.open();
    assert_eq!(
        ids(&repo.range_commits(None, c4).unwrap()),
        [c1, c2, c3, c4]
    );
    assert_eq!(ids(&repo.range_commits(Some(c2), c4).unwrap()), [c3, c4]);
    assert_eq!(ids(&repo.range_commits(Some(c1), c3).unwrap()), [c2, c3]);
}

#[test]
fn first_parent_chain_follows_first_parents() {
    let (f, [m1, _, m2, _, mm]) = merged();
    let repo = f.open();
    assert_eq!(
        ids(&repo.first_parent_chain(mm, None).unwrap()),
        [mm, m2, m1]
    );
    assert_eq!(
        ids(&repo.first_parent_chain(mm, Some(2)).unwrap()),
        [mm, m2]
    );
    assert!(repo.first_parent_chain(mm, Some(0)).unwrap().is_empty());
    assert_eq!(ids(&repo.first_parent_chain(m1, Some(5)).unwrap()), [m1]);
}

#[test]
fn commit_info_and_revisions() {
    let (f, [c1, c2, c3]) = linear();
    f.git(&["tag", "-a", "-m", "release", "v1", &c2.to_string()]);
    f.git(&["tag", "light", &c1.to_string()]);
    let repo = f.open();
    let info = repo.commit(c2).unwrap();
    assert_eq!(info.parents, [c1]);
    assert_eq!(info.summary, "promote v2 to prod");
    assert_eq!(info.time, 1_700_000_120);
    assert!(repo.commit(c1).unwrap().parents.is_empty());

    assert_eq!(repo.head().unwrap(), Some(c3));
    assert_eq!(repo.resolve_commit("HEAD").unwrap(), c3);
    assert_eq!(repo.resolve_commit("main~1").unwrap(), c2);
    assert_eq!(repo.resolve_commit("HEAD^^").unwrap(), c1);
    assert_eq!(repo.resolve_commit("v1").unwrap(), c2);
    assert_eq!(repo.resolve_commit("light").unwrap(), c1);
    assert_eq!(repo.resolve_commit(&c1.to_string()[..10]).unwrap(), c1);

    let tree = repo.resolve_commit("HEAD^{tree}").unwrap_err();
    assert_eq!(
        tree.message,
        "revision `HEAD^{tree}` names a tree, not a commit"
    );
    let unknown = repo.resolve_commit("nope").unwrap_err();
    assert_eq!(unknown.message, "unknown revision `nope`");
    assert_eq!(
        unknown.help.as_deref(),
        Some(
            "give a branch, tag or commit id that exists in this repository \
             (The ref partially named \"nope\" could not be found)"
        )
    );
    assert!(unknown.help.is_some());
    assert_eq!(
        repo.resolve_commit("nope~2").unwrap_err().message,
        "unknown revision `nope~2`"
    );
    assert_eq!(
        repo.resolve_commit("  ").unwrap_err().message,
        "empty revision"
    );
    // A full id of an object the repository does not have.
    let absent = "1234567890123456789012345678901234567890";
    let err = repo.resolve_commit(absent).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "revision `{absent}` resolves to commit 123456789012, which is not in this \
             repository: the history is missing from the object database"
        )
    );
    assert_eq!(err.help.as_deref(), Some(MISSING_HELP));
    assert_eq!(
        repo.resolve_commit("1234567").unwrap_err().message,
        "unknown revision `1234567`"
    );
    // Beyond the root of a complete history: unknown, not "shallow".
    assert_eq!(
        repo.resolve_commit("HEAD~5").unwrap_err().message,
        "unknown revision `HEAD~5`"
    );
}

#[test]
fn parse_range_forms_and_mistakes() {
    let (f, [m1, _, m2, s2, mm]) = merged();
    let repo = f.open();
    assert_eq!(repo.parse_range("main~1..main").unwrap(), (Some(m2), mm));
    assert_eq!(repo.parse_range(" HEAD~1.. ").unwrap(), (Some(m2), mm));
    assert_eq!(repo.parse_range("..side").unwrap(), (Some(mm), s2));
    assert_eq!(repo.parse_range("side").unwrap(), (None, s2));
    assert_eq!(
        repo.parse_range(&format!("{m1}..{mm}")).unwrap(),
        (Some(m1), mm)
    );

    let bad = |spec: &str| repo.parse_range(spec).unwrap_err();
    let sym = bad("main...side");
    assert_eq!(
        sym.message,
        "bad range `main...side`: symmetric differences (`A...B`) are not supported"
    );
    assert!(sym.help.as_deref().unwrap().contains("`A..B`"));
    assert_eq!(bad("").message, "bad range ``: it is empty");
    assert_eq!(bad("..").message, "bad range `..`: it names no revision");
    assert_eq!(
        bad("a..b..c").message,
        "bad range `a..b..c`: a range has one `..`"
    );
    assert_eq!(
        bad("nope..HEAD").message,
        "in the range `nope..HEAD`: unknown revision `nope`"
    );
    assert_eq!(
        bad("HEAD..nope").message,
        "in the range `HEAD..nope`: unknown revision `nope`"
    );
    assert_eq!(bad("garbage!!").message, "unknown revision `garbage!!`");
}

#[test]
fn unborn_branch_has_no_head_and_stages_against_the_empty_tree() {
    let f = Fixture::new("unborn");
    let repo = f.open();
    assert_eq!(repo.head().unwrap(), None);
    assert!(repo.index_files().unwrap().is_empty());
    assert!(repo.diff_index(None).unwrap().is_empty());
    let err = repo.resolve_commit("HEAD").unwrap_err();
    assert_eq!(
        err.message,
        "revision `HEAD` names no commit: the repository has no commits yet"
    );
    let err = repo.parse_range("main").unwrap_err();
    assert_eq!(
        err.message,
        "unknown revision `main`: the repository has no commits yet"
    );
    assert!(repo
        .default_branch_base(ObjectId::null(gix::hash::Kind::Sha1))
        .is_err());

    f.write("envs/dev/app.yaml", "v: 1\n");
    f.git(&["add", "envs/dev/app.yaml"]);
    let staged = GitRepo::discover(f.path())
        .unwrap()
        .diff_index(None)
        .unwrap();
    assert_eq!(summary(&staged), changes(&[("envs/dev/app.yaml", "A")]));
}

#[test]
fn detached_head() {
    let (f, [_, c2, _]) = linear();
    f.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    let repo = f.open();
    assert_eq!(repo.head().unwrap(), Some(c2));
    assert_eq!(repo.resolve_commit("HEAD").unwrap(), c2);
    assert_eq!(repo.resolve_commit("@").unwrap(), c2);
}

#[test]
fn index_against_head_with_an_alternate_index_file() {
    let (f, [_, _, c3]) = linear();
    let alt = f.path().join(".git/alt-index");
    let alt_s = alt.to_str().unwrap();
    // What pre-commit does: stage into a copy of the index, leaving the real one alone.
    git_with(
        f.path(),
        &["read-tree", "HEAD"],
        &[("GIT_INDEX_FILE", alt_s)],
        false,
    );
    f.write("envs/prod/app.yaml", "image: app:v3\n");
    f.write("envs/new/app.yaml", "image: app:v3\n");
    git_with(
        f.path(),
        &["add", "envs/prod/app.yaml", "envs/new/app.yaml"],
        &[("GIT_INDEX_FILE", alt_s)],
        false,
    );
    git_with(
        f.path(),
        &["rm", "-q", "--cached", "README.md"],
        &[("GIT_INDEX_FILE", alt_s)],
        false,
    );

    let main = f.open();
    assert!(main.diff_index(Some(c3)).unwrap().is_empty());
    assert_eq!(main.index_files().unwrap().len(), 5);

    let repo = GitRepo::discover_with_index_file(f.path(), &alt).unwrap();
    let staged = repo.diff_index(Some(c3)).unwrap();
    assert_eq!(
        summary(&staged),
        changes(&[
            ("README.md", "D"),
            ("envs/new/app.yaml", "A"),
            ("envs/prod/app.yaml", "M"),
        ])
    );
    let blob = staged[2].new.as_ref().unwrap().id;
    assert_eq!(repo.read_blob(blob, 1024).unwrap(), b"image: app:v3\n");
    assert_eq!(
        paths(&repo.index_files().unwrap()),
        [
            "envs/dev/service.yaml",
            "envs/new/app.yaml",
            "envs/prod/app.yaml",
            "envs/staging/app.yaml",
            "scripts/run.sh",
        ]
    );
    // Against the empty tree everything in the index is added.
    assert_eq!(repo.diff_index(None).unwrap().len(), 5);
    assert_staged_trees(&repo, Some(c3));
    assert_staged_trees(&repo, None);

    // The same through GIT_INDEX_FILE, as a hook sees it.
    let result = env_child(f.path(), &[("GIT_INDEX_FILE", alt_s)]);
    assert_eq!(
        result,
        format!("head={c3} staged=README.md:D,envs/new/app.yaml:A,envs/prod/app.yaml:M")
    );
}

/// Runs [`env_child_reads_the_repository`] in a child process with `env` set (the
/// environment is shared by all tests of this process, so it is never changed here) and
/// returns its result line.
fn env_child(start: &Path, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "source::git::tests::env_child_reads_the_repository",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_remove("GIT_DIR")
    .env_remove("GIT_INDEX_FILE")
    .env_remove("GIT_WORK_TREE")
    .env("PROMOLINT_TEST_START", start);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|(_, result)| result))
        .unwrap_or_else(|| panic!("no result in {stdout}"))
        .to_string()
}

/// Run by [`env_child`] in a child process.
#[test]
#[ignore = "run in a child process by env_child"]
fn env_child_reads_the_repository() {
    let Some(start) = std::env::var_os("PROMOLINT_TEST_START") else {
        return;
    };
    let repo = GitRepo::discover(Path::new(&start)).unwrap();
    let head = repo.head().unwrap();
    let staged: Vec<String> = summary(&repo.diff_index(head).unwrap())
        .into_iter()
        .map(|(p, w)| format!("{p}:{w}"))
        .collect();
    let head = head.map(|h| h.to_string()).unwrap_or_default();
    println!("RESULT head={head} staged={}", staged.join(","));
}

#[test]
fn git_dir_environment_variable_is_honoured() {
    let (f, [_, _, c3]) = linear();
    f.write("envs/prod/app.yaml", "image: app:v4\n");
    f.git(&["add", "envs/prod/app.yaml"]);
    let elsewhere = TempDir::new("elsewhere");
    let git_dir = f.path().join(".git");
    let result = env_child(elsewhere.path(), &[("GIT_DIR", git_dir.to_str().unwrap())]);
    assert_eq!(result, format!("head={c3} staged=envs/prod/app.yaml:M"));
}

/// A commit's tree derived from its parent's listing and the diff is the commit's listing:
/// for modified, added, deleted and retyped files (made executable, made a symbolic link
/// to a target spelled as the file's content), and a file replaced by a directory.
#[test]
fn a_tree_diff_applied_to_the_parent_listing_gives_the_commit_listing() {
    let mut f = Fixture::new("treediff");
    f.write("apps/web/base/deploy.yaml", "image: web:v1\n");
    f.write("apps/web/prod/kustomization.yaml", "resources: [../base]\n");
    f.write("apps/api/values.yaml", "../web/base/deploy.yaml");
    f.write("scripts/run.sh", "echo\n");
    f.write("docs/x", "a file, then a directory\n");
    let mut commits = vec![f.commit("first")];
    f.write("apps/web/base/deploy.yaml", "image: web:v2\n");
    f.write("apps/new/dev/app.yaml", "image: new:v1\n");
    f.remove("apps/web/prod/kustomization.yaml");
    commits.push(f.commit("modify, add, delete"));
    {
        use std::os::unix::fs::PermissionsExt;
        let script = f.path().join("scripts/run.sh");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    commits.push(f.commit("executable"));
    f.remove("apps/api/values.yaml");
    std::os::unix::fs::symlink(
        "../web/base/deploy.yaml",
        f.path().join("apps/api/values.yaml"),
    )
    .unwrap();
    commits.push(f.commit("a link with the old content as its target"));
    f.remove("docs/x");
    f.write("docs/x/readme.md", "now a directory\n");
    commits.push(f.commit("file to directory"));
    let repo = f.open();
    let mut retyped = 0;
    for pair in commits.windows(2) {
        let diff = repo.tree_diff(Some(pair[0]), Some(pair[1])).unwrap();
        retyped += diff.retyped.len();
        assert_eq!(
            diff.apply(&repo.tree_files(pair[0]).unwrap()),
            repo.tree_files(pair[1]).unwrap()
        );
    }
    // The executable and the link: mode changes the content diff does not list.
    assert_eq!(retyped, 2);
    let root = repo.tree_diff(None, Some(commits[0])).unwrap();
    assert_eq!(root.apply(&[]), repo.tree_files(commits[0]).unwrap());
}

/// `apply_owned` gives the listing `apply` gives: in place for a change of contents and
/// modes (modified files, one made executable), by copying when a path comes or goes.
#[test]
fn a_tree_diff_applied_in_place_gives_the_commit_listing() {
    let mut f = Fixture::new("treediff-owned");
    f.write("apps/web/base/deploy.yaml", "image: web:v1\n");
    f.write("apps/web/prod/kustomization.yaml", "resources: [../base]\n");
    f.write("scripts/run.sh", "echo\n");
    let mut commits = vec![f.commit("first")];
    f.write("apps/web/base/deploy.yaml", "image: web:v2\n");
    f.write(
        "apps/web/prod/kustomization.yaml",
        "resources: [../base]\nimages: []\n",
    );
    commits.push(f.commit("modify two"));
    {
        use std::os::unix::fs::PermissionsExt;
        let script = f.path().join("scripts/run.sh");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    commits.push(f.commit("executable"));
    f.write("apps/new/dev/app.yaml", "image: new:v1\n");
    f.remove("apps/web/prod/kustomization.yaml");
    commits.push(f.commit("add and delete"));
    let repo = f.open();
    for pair in commits.windows(2) {
        let diff = repo.tree_diff(Some(pair[0]), Some(pair[1])).unwrap();
        let old = repo.tree_files(pair[0]).unwrap();
        assert_eq!(diff.apply_owned(old), repo.tree_files(pair[1]).unwrap());
    }
}

/// `staged_change` gives the trees that listing `old` and the index give, and the changes
/// `diff_index` gives.
fn assert_staged_trees(repo: &GitRepo, old: Option<ObjectId>) {
    let staged = repo.staged_change(old).unwrap();
    assert_eq!(staged.changes, repo.diff_index(old).unwrap());
    let Some((before, after)) = staged.trees else {
        assert!(
            staged.changes.is_empty(),
            "trees are left out only when nothing is staged"
        );
        return;
    };
    let listed = match old {
        Some(c) => repo.tree_files(c).unwrap(),
        None => Vec::new(),
    };
    assert_eq!(before, listed);
    assert_eq!(after, repo.index_files().unwrap());
}

#[test]
fn staged_trees_are_the_listings_of_the_commit_and_the_index() {
    let mut f = Fixture::new("stagedtrees");
    for i in 0..4 {
        f.write(&format!("apps/web/base/file{i}.yaml"), &format!("n: {i}\n"));
        f.write(&format!("apps/api/prod/file{i}.yaml"), &format!("n: {i}\n"));
    }
    f.write("envs/prod/app.yaml", "image: app:v1\n");
    f.write("scripts/run.sh", "echo\n");
    f.write("docs/a.md", "a\n");
    let c1 = f.commit("first");
    let repo = f.open();
    assert_staged_trees(&repo, Some(c1));
    assert_staged_trees(&repo, None);
    // A deep change, an addition in a new directory, a deletion, and a mode-only change
    // (the same blob made executable: not a change, and the old tree keeps its mode).
    f.write("apps/api/prod/file2.yaml", "n: 20\n");
    f.write("apps/new/dev/app.yaml", "image: app:v2\n");
    f.git(&["add", "apps/api/prod/file2.yaml", "apps/new/dev/app.yaml"]);
    f.git(&["rm", "-q", "--cached", "docs/a.md"]);
    f.git(&["update-index", "--chmod=+x", "scripts/run.sh"]);
    let repo = f.open();
    let staged = repo.staged_change(Some(c1)).unwrap();
    assert_eq!(
        summary(&staged.changes),
        changes(&[
            ("apps/api/prod/file2.yaml", "M"),
            ("apps/new/dev/app.yaml", "A"),
            ("docs/a.md", "D"),
        ])
    );
    assert_staged_trees(&repo, Some(c1));
    assert_staged_trees(&repo, None);
}

#[test]
fn diff_index_skips_directories_the_cache_tree_vouches_for() {
    let mut f = Fixture::new("cachetree");
    for i in 0..10 {
        f.write(&format!("big/sub/file{i}.yaml"), &format!("n: {i}\n"));
    }
    f.write("envs/prod/app.yaml", "image: app:v1\n");
    let c1 = f.commit("first");
    f.write("envs/prod/app.yaml", "image: app:v2\n");
    f.git(&["add", "envs/prod/app.yaml"]);
    // `git commit` wrote the cache tree; the add above invalidated only `envs/prod`'s chain.
    let big = f.rev("HEAD:big");
    fs::remove_file(loose_object(&f.path().join(".git"), big)).unwrap();
    let repo = f.open();
    let staged = repo.diff_index(Some(c1)).unwrap();
    assert_eq!(summary(&staged), changes(&[("envs/prod/app.yaml", "M")]));
}

#[test]
fn index_skips_intent_to_add_and_conflicts() {
    let mut f = Fixture::new("conflict");
    f.write("envs/prod/app.yaml", "v: 1\n");
    f.write("other.yaml", "o: 1\n");
    f.commit("base");
    f.git(&["checkout", "-q", "-b", "theirs"]);
    f.write("envs/prod/app.yaml", "v: 2\n");
    f.commit("theirs");
    f.git(&["checkout", "-q", "main"]);
    f.write("envs/prod/app.yaml", "v: 3\n");
    let ours = f.commit("ours");
    git_with(f.path(), &["merge", "-q", "theirs"], &[], true);
    f.write("new.yaml", "n: 1\n");
    f.git(&["add", "-N", "new.yaml"]);
    f.write("other.yaml", "o: 2\n");
    f.git(&["add", "other.yaml"]);

    let repo = f.open();
    assert_eq!(paths(&repo.index_files().unwrap()), ["other.yaml"]);
    let staged = repo.diff_index(Some(ours)).unwrap();
    assert_eq!(summary(&staged), changes(&[("other.yaml", "M")]));
    // The conflicted path is in the old tree, and not in the index.
    assert_staged_trees(&repo, Some(ours));
}

#[test]
fn shallow_clone_reports_missing_history_with_the_fix() {
    let (src, [c1, c2, c3]) = linear();
    let parent = TempDir::new("shallow");
    let url = format!("file://{}", src.path().display());
    git(
        parent.path(),
        &["clone", "-q", "--depth", "1", &url, "clone"],
    );
    let clone = parent.path().join("clone");
    let repo = GitRepo::discover(&clone).unwrap();
    assert!(repo.is_shallow());
    assert!(!f_open_is_shallow(&src));
    assert_eq!(repo.head().unwrap(), Some(c3));

    // gix resolves `HEAD^` to the id of a commit the clone lacks.
    for rev in ["HEAD^", "main^1"] {
        let err = repo.resolve_commit(rev).unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "revision `{rev}` resolves to commit {}, which is not in this repository: \
                 the history is shallow (this is a shallow clone)",
                short(c2)
            )
        );
        assert_shallow_error(&err);
    }
    // `HEAD~n` fails inside gix (no ancestors past the boundary); still the shallow error.
    for rev in ["HEAD~1", "HEAD~2", "main~1"] {
        let err = repo.resolve_commit(rev).unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "revision `{rev}` reaches beyond the commits of this repository: \
                 the history is shallow (this is a shallow clone)"
            )
        );
        assert_shallow_error(&err);
    }
    assert_eq!(
        repo.resolve_commit("nope~1").unwrap_err().message,
        "unknown revision `nope~1`"
    );
    // A base given by id (as CI passes it) that the clone does not have.
    let err = repo.resolve_commit(&c1.to_string()).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "revision `{c1}` resolves to commit {}, which is not in this repository: \
             the history is shallow (this is a shallow clone)",
            short(c1)
        )
    );
    assert_shallow_error(&err);
    let abbreviated = &c1.to_string()[..10];
    let err = repo.resolve_commit(abbreviated).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "revision `{abbreviated}` is not in this repository: \
             the history is shallow (this is a shallow clone)"
        )
    );
    assert_shallow_error(&repo.parse_range(&format!("{c2}..HEAD")).unwrap_err());
    assert_shallow_error(&repo.parse_range("HEAD~1..HEAD").unwrap_err());

    let err = repo.first_parent_chain(c3, None).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "the first-parent history of {0} reaches commit {0}, whose parent is not in this \
             repository: the history is shallow (this is a shallow clone)",
            short(c3)
        )
    );
    assert_shallow_error(&err);
    assert_eq!(ids(&repo.first_parent_chain(c3, Some(1)).unwrap()), [c3]);
    assert_shallow_error(&repo.first_parent_chain(c3, Some(2)).unwrap_err());

    let err = repo.range_commits(None, c3).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "the history of {0} reaches commit {0}, whose parents are not in this repository: \
             the history is shallow (this is a shallow clone)",
            short(c3)
        )
    );
    assert_shallow_error(&err);
    // A base the clone does not have.
    assert_shallow_error(&repo.range_commits(Some(c2), c3).unwrap_err());
    assert_shallow_error(&repo.merge_base(c2, c3).unwrap_err());
    assert_shallow_error(&repo.diff_trees(Some(c2), Some(c3)).unwrap_err());
    assert_shallow_error(&repo.commit(c1).unwrap_err());

    // What the clone has still works.
    assert_eq!(repo.tree_files(c3).unwrap().len(), 5);
    assert_eq!(repo.diff_trees(None, Some(c3)).unwrap().len(), 5);
    assert_eq!(repo.default_branch_base(c3).unwrap(), c3);
    assert!(repo.diff_index(Some(c3)).unwrap().is_empty());
}

fn f_open_is_shallow(f: &Fixture) -> bool {
    f.open().is_shallow()
}

#[test]
fn shallow_clone_with_enough_history_for_the_range() {
    let (src, [_, c2, c3]) = linear();
    let parent = TempDir::new("shallow2");
    let url = format!("file://{}", src.path().display());
    git(
        parent.path(),
        &["clone", "-q", "--depth", "2", &url, "clone"],
    );
    let repo = GitRepo::discover(&parent.path().join("clone")).unwrap();
    assert!(repo.is_shallow());
    // c2 is the boundary, but the range stops at it.
    assert_eq!(ids(&repo.range_commits(Some(c2), c3).unwrap()), [c3]);
    assert_eq!(repo.parse_range("HEAD~1..HEAD").unwrap(), (Some(c2), c3));
    assert_eq!(
        ids(&repo.first_parent_chain(c3, Some(2)).unwrap()),
        [c3, c2]
    );
    assert_shallow_error(&repo.first_parent_chain(c3, Some(3)).unwrap_err());
    assert_shallow_error(&repo.range_commits(None, c3).unwrap_err());
    assert_eq!(repo.merge_base(c2, c3).unwrap(), Some(c2));
    assert_eq!(
        summary(&repo.diff_trees(Some(c2), Some(c3)).unwrap()),
        changes(&[("envs/dev/app.yaml", "D"), ("envs/dev/service.yaml", "A")])
    );
}

#[test]
fn not_a_repository() {
    let dir = TempDir::new("plain");
    let err = GitRepo::discover(dir.path()).unwrap_err();
    assert_eq!(
        err.message,
        format!(
            "not a git repository: `{}` (nor any of its parent directories)",
            dir.path().display()
        )
    );
    assert!(err.help.as_deref().unwrap().contains("-C DIR"));
    let gone = dir.path().join("missing");
    assert_eq!(
        GitRepo::discover(&gone).unwrap_err().message,
        format!("`{}` does not exist", gone.display())
    );
}

#[test]
fn bare_repository_reads_revisions() {
    let (src, [c1, c2, c3]) = linear();
    let parent = TempDir::new("bare");
    git(
        parent.path(),
        &[
            "clone",
            "-q",
            "--bare",
            src.path().to_str().unwrap(),
            "bare.git",
        ],
    );
    let repo = GitRepo::discover(&parent.path().join("bare.git")).unwrap();
    assert_eq!(repo.workdir(), None);
    assert_eq!(repo.head().unwrap(), Some(c3));
    assert_eq!(repo.tree_files(c3).unwrap().len(), 5);
    assert_eq!(ids(&repo.range_commits(Some(c1), c3).unwrap()), [c2, c3]);
    assert!(repo.index_files().unwrap().is_empty());
    let work = src.open().workdir().unwrap();
    assert_eq!(
        fs::canonicalize(work).unwrap(),
        fs::canonicalize(src.path()).unwrap()
    );
}

#[test]
fn submodule_gitlink_is_listed_and_never_read() {
    let (mut f, [c1, _, _]) = linear();
    let cacheinfo = format!("160000,{c1},vendor/sub");
    f.git(&["update-index", "--add", "--cacheinfo", &cacheinfo]);
    let c4 = f.commit_staged("add a submodule");
    let repo = f.open();
    let sub = repo
        .tree_files(c4)
        .unwrap()
        .into_iter()
        .find(|e| e.path == "vendor/sub")
        .unwrap();
    assert_eq!(sub.kind, EntryKind::Submodule);
    assert_eq!(sub.id, c1);
    assert!(!sub.kind.is_file());
    let d = repo.diff_trees(Some(f.rev("HEAD~1")), Some(c4)).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].new.as_ref().unwrap().kind, EntryKind::Submodule);
    assert_eq!(
        repo.read_blob(c1, 1 << 20).unwrap_err(),
        format!("object {} is a commit, not a file", short(c1))
    );
    let in_index = repo.index_files().unwrap();
    assert!(in_index
        .iter()
        .any(|e| e.path == "vendor/sub" && e.kind == EntryKind::Submodule));
    // A gitlink to a commit this repository does not have.
    let foreign = "1234567890123456789012345678901234567890";
    f.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{foreign},vendor/other"),
    ]);
    let c5 = f.commit_staged("foreign submodule");
    let files = repo.tree_files(c5).unwrap();
    assert!(files
        .iter()
        .any(|e| e.path == "vendor/other" && e.kind == EntryKind::Submodule));
    assert_eq!(
        repo.read_blob(oid(foreign), 100).unwrap_err(),
        "object 123456789012 is missing from the repository; fetch it again (`git fetch`) or check the repository with `git fsck`"
    );
}

#[test]
fn default_branch_base_from_origin_head() {
    let (src, [_, _, c3]) = linear();
    let parent = TempDir::new("origin");
    git(
        parent.path(),
        &["clone", "-q", src.path().to_str().unwrap(), "clone"],
    );
    let mut clone = Fixture {
        dir: TempDir(parent.path().join("clone")),
        clock: 1_800_000_000,
    };
    clone.git(&["checkout", "-q", "-b", "feature"]);
    clone.write("envs/dev/new.yaml", "x: 1\n");
    let f1 = clone.commit("feature work");
    let repo = clone.open();
    assert_eq!(
        clone
            .git(&["symbolic-ref", "refs/remotes/origin/HEAD"])
            .trim(),
        "refs/remotes/origin/main"
    );
    assert_eq!(repo.default_branch_base(f1).unwrap(), c3);
    // The base is the merge-base, not the tip: main moved on upstream.
    let mut src = src;
    src.write("envs/prod/app.yaml", "image: app:v9\n");
    src.commit("later on main");
    clone.git(&["fetch", "-q", "origin"]);
    assert_eq!(clone.open().default_branch_base(f1).unwrap(), c3);
}

#[test]
fn default_branch_base_falls_back_to_local_main_or_asks_for_base() {
    let (mut f, [_, _, c3]) = linear();
    let repo = f.open();
    // On main itself, with no remote: nothing to compare with.
    let err = repo.default_branch_base(c3).unwrap_err();
    assert!(
        err.message
            .starts_with("cannot find a base to compare with: `main` is the branch being linted"),
        "{err}"
    );
    assert_eq!(
        err.help.as_deref(),
        Some("give the base explicitly with `--base REV`")
    );

    f.git(&["checkout", "-q", "-b", "topic"]);
    f.write("x.yaml", "x: 1\n");
    let t1 = f.commit("topic");
    assert_eq!(f.open().default_branch_base(t1).unwrap(), c3);
}

#[test]
fn read_blob_limits_missing_and_corrupt_objects() {
    let (f, [c1, _, _]) = linear();
    let repo = f.open();
    let readme = f.rev("HEAD:README.md");
    assert_eq!(repo.read_blob(readme, 6).unwrap(), b"hello\n");
    assert_eq!(
        repo.read_blob(readme, 5).unwrap_err(),
        "file is 6 bytes, over the size limit of 5 bytes"
    );
    assert_eq!(
        repo.read_blob(c1, 1 << 20).unwrap_err(),
        format!("object {} is a commit, not a file", short(c1))
    );

    // Garbage where a loose object was.
    let git_dir = f.path().join(".git");
    let guide = f.rev("HEAD~2:docs/guide.md");
    let path = loose_object(&git_dir, guide);
    let mut perms = fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&path, perms).unwrap();
    fs::write(&path, b"this is not a zlib stream at all").unwrap();
    let err = repo.read_blob(guide, 1 << 20).unwrap_err();
    assert!(
        err.starts_with(&format!("object {} cannot be read", short(guide))),
        "{err}"
    );

    // A valid object stored under the wrong id: it inflates, but does not hash to its id.
    let prod = f.rev("HEAD~2:envs/prod/app.yaml");
    let other = f.rev("HEAD:envs/prod/app.yaml");
    let prod_path = loose_object(&git_dir, prod);
    let mut perms = fs::metadata(&prod_path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&prod_path, perms).unwrap();
    fs::copy(loose_object(&git_dir, other), &prod_path).unwrap();
    let fresh = f.open();
    assert_eq!(
        fresh.read_blob(prod, 1 << 20).unwrap_err(),
        format!(
            "object {} is corrupt: its content does not match its id; check the repository \
             with `git fsck` and fetch the object again",
            short(prod)
        )
    );

    // A damaged tree is an error from the listing and the diff, not a panic.
    let docs = f.rev("HEAD~2:docs");
    let docs_path = loose_object(&git_dir, docs);
    let mut perms = fs::metadata(&docs_path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    fs::set_permissions(&docs_path, perms).unwrap();
    fs::write(&docs_path, b"garbage").unwrap();
    let err = fresh.tree_files(c1).unwrap_err();
    assert!(err.message.starts_with("the tree of `docs` ("), "{err}");
    assert!(fresh.diff_trees(Some(c1), Some(f.rev("HEAD~1"))).is_err());

    fs::remove_file(loose_object(&git_dir, readme)).unwrap();
    assert_eq!(
        fresh.read_blob(readme, 100).unwrap_err(),
        format!(
            "object {} is missing from the repository; fetch it again (`git fetch`) or check \
             the repository with `git fsck`",
            short(readme)
        )
    );
}

#[test]
fn packed_history_read_from_many_threads() {
    let mut f = Fixture::new("packed");
    for i in 0..40 {
        f.write(
            &format!("envs/e{}/app{i}.yaml", i % 4),
            &format!("image: app:v0\nn: {i}\n"),
        );
    }
    f.commit("c0");
    for step in 1..30 {
        let i = step % 40;
        f.write(
            &format!("envs/e{}/app{i}.yaml", i % 4),
            &format!(
                "image: app:v{step}\nn: {i}\n{}",
                "padding line\n".repeat(step)
            ),
        );
        f.commit(&format!("c{step}"));
    }
    f.git(&["gc", "-q", "--aggressive"]);
    let packs = f.path().join(".git/objects/pack");
    assert!(packs.read_dir().unwrap().next().is_some());

    let repo = f.open();
    let head = repo.head().unwrap().unwrap();
    let commits = repo.range_commits(None, head).unwrap();
    assert_eq!(commits.len(), 30);
    // Every commit against its first parent, in parallel, as `history` does.
    let diffs: Vec<Vec<FileChange>> = commits
        .par_iter()
        .map(|c| {
            repo.diff_trees(c.parents.first().copied(), Some(c.id))
                .unwrap()
        })
        .collect();
    assert_eq!(diffs[0].len(), 40);
    assert!(diffs[1..].iter().all(|d| d.len() == 1));
    let blobs: Vec<ObjectId> = diffs
        .iter()
        .flatten()
        .filter_map(|c| c.new.as_ref().map(|n| n.id))
        .collect();
    let parallel: Vec<Vec<u8>> = blobs
        .par_iter()
        .map(|id| repo.read_blob(*id, 1 << 20).unwrap())
        .collect();
    let sequential: Vec<Vec<u8>> = blobs
        .iter()
        .map(|id| repo.read_blob(*id, 1 << 20).unwrap())
        .collect();
    assert_eq!(parallel, sequential);
    assert!(String::from_utf8_lossy(&parallel[parallel.len() - 1]).starts_with("image: app:v29\n"));
}

/// Timing on a large repository: `PROMOLINT_BENCH_REPO=DIR cargo test --release --lib
/// source::git::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore = "needs PROMOLINT_BENCH_REPO"]
fn bench_history_and_staged() {
    use std::time::Instant;
    let Some(dir) = std::env::var_os("PROMOLINT_BENCH_REPO") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let t = Instant::now();
    let repo = GitRepo::discover(&dir).unwrap();
    let head = repo.head().unwrap();
    let staged = repo.diff_index(head).unwrap();
    eprintln!("staged: {:?} ({} changes)", t.elapsed(), staged.len());
    let t = Instant::now();
    let index = repo.index_files().unwrap();
    eprintln!("index_files: {:?} ({} files)", t.elapsed(), index.len());
    let head = head.unwrap();
    let t = Instant::now();
    let files = repo.tree_files(head).unwrap();
    eprintln!("tree_files: {:?} ({} files)", t.elapsed(), files.len());

    let t = Instant::now();
    let commits = repo.range_commits(None, head).unwrap();
    eprintln!(
        "range_commits: {:?} ({} commits)",
        t.elapsed(),
        commits.len()
    );
    let t = Instant::now();
    let diffs: Vec<Vec<FileChange>> = commits
        .par_iter()
        .map(|c| {
            repo.diff_trees(c.parents.first().copied(), Some(c.id))
                .unwrap()
        })
        .collect();
    eprintln!("diff_trees (parallel): {:?}", t.elapsed());
    let t = Instant::now();
    let blobs: HashSet<ObjectId> = diffs
        .iter()
        .flatten()
        .flat_map(|c| [c.old.as_ref(), c.new.as_ref()])
        .flatten()
        .map(|e| e.id)
        .collect();
    let blobs: Vec<ObjectId> = blobs.into_iter().collect();
    let bytes: usize = blobs
        .par_iter()
        .map(|id| repo.read_blob(*id, 1 << 20).map(|b| b.len()).unwrap_or(0))
        .sum();
    eprintln!(
        "read_blob (parallel): {:?} ({} blobs, {bytes} bytes)",
        t.elapsed(),
        blobs.len()
    );
    let t = Instant::now();
    let chain = repo.first_parent_chain(head, None).unwrap();
    eprintln!("first_parent_chain: {:?} ({})", t.elapsed(), chain.len());
    let t = Instant::now();
    for c in commits.iter().take(1000) {
        repo.diff_trees(c.parents.first().copied(), Some(c.id))
            .unwrap();
    }
    eprintln!("diff_trees (1000, one thread): {:?}", t.elapsed());
}

#[test]
fn repository_identities_ignore_transport_user_case_and_suffixes() {
    for url in [
        "https://github.com/Acme/GitOps.git",
        "https://user:token@github.com/acme/gitops/",
        "git@github.com:acme/gitops.git",
        "ssh://git@github.com/acme/gitops",
        "https://github.com/acme/gitops.git//clusters/prod",
    ] {
        assert_eq!(
            repository_identity(url).as_deref(),
            Some("github.com/acme/gitops"),
            "{url}"
        );
    }
    assert_eq!(
        repository_identity("https://gitlab.example.com:8443/group/sub/deploy").as_deref(),
        Some("gitlab.example.com/group/sub/deploy")
    );
    for url in [
        "/srv/git/deploy.git",
        "file:///srv/git/deploy.git",
        "https://github.com/",
        "",
    ] {
        assert_eq!(repository_identity(url), None, "{url}");
    }
}
