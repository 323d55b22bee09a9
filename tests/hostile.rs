//! Hostile repositories, end to end through the binary: symlinks out of the tree and in
//! loops, non-UTF-8 and very long paths, files of 50 MB and more, binary files with text
//! names, 20,000-deep YAML and HCL, alias bombs, 100,000 documents, CRLF and BOM, empty
//! files, an unborn branch, a bare repository, a linked worktree, broken configurations,
//! CPU bombs, the security claims of `docs/reliability.md` (nothing from the repository
//! is run, no symlink is followed out of it, no text from it can start a GitHub workflow
//! command or break out of a JSON string), and failing closed (what cannot be judged in a
//! protected environment fails; a config, `.git` or directory that cannot be read is exit
//! 2; bounds the repository cannot raise).
//!
//! Each test is one row of the table in `docs/reliability.md`; the last test keeps the two
//! in step: every row names a test that asserts the row's exit code and message, and every
//! test here has a row.
//!
//! Every run has a time limit ([`LIMIT`]): a hang (a symlink loop followed, an exponential
//! walk) fails the test instead of stalling the suite.

mod common;

use common::{expect_code, expect_failure, git, git_dated, Out, TempDir};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

// ----- running promolint -----

/// The longest a single run may take (debug build, two busy cores).
const LIMIT: Duration = Duration::from_secs(30);

/// Run promolint in `dir` with the Git variables a hook may export cleared and discovery
/// stopped at the temp directory. Fails on a panic, a signal, or a run longer than
/// [`LIMIT`] (the process is killed).
fn run(dir: &Path, args: &[&str]) -> Out {
    let mut child = common::promolint(dir, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promolint");
    let pid = child.id();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        s
    });
    std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stdout.read_to_end(&mut s);
        let status = child.wait();
        let _ = tx.send((status, s));
    });
    let Ok((status, out)) = rx.recv_timeout(LIMIT) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("promolint {args:?} ran longer than {LIMIT:?} and was killed");
    };
    let err = err_reader.join().expect("stderr reader");
    let out = Out {
        code: status
            .expect("wait for promolint")
            .code()
            .expect("promolint killed by a signal (a stack overflow aborts)"),
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked") && out.code != 101,
        "promolint {args:?} panicked:\n{}",
        out.stderr
    );
    out
}

/// One finding of a `--format json` report: rule, path, line, column, message.
type Found = (String, String, u64, u64, String);

fn findings(out: &Out) -> Vec<Found> {
    json(out)["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["path"].as_str().expect("path").to_string(),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
                f["message"].as_str().expect("message").to_string(),
            )
        })
        .collect()
}

fn json(out: &Out) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout))
}

fn found(rule: &str, path: &str, line: u64, column: u64, message: &str) -> Found {
    (
        rule.to_string(),
        path.to_string(),
        line,
        column,
        message.to_string(),
    )
}

/// A PL000 finding at 1:1.
fn skipped(path: &str, reason: &str) -> Found {
    found("PL000", path, 1, 1, &format!("file skipped: {reason}"))
}

/// The reason of a PL000 error in the protected prod: what could not be read, then what to
/// do (a file prod cannot read fails the check).
fn in_prod(reason: &str, fix: &str) -> String {
    format!("{reason}; prod is protected, so a file promolint cannot read fails the check: {fix}")
}

const SYMLINK_FIX: &str = "commit the file itself, not a symlink to it";
const SIZE_FIX: &str =
    "split it into smaller files, or raise the limit for this run with `--max-file-size BYTES`";
const TEXT_FIX: &str =
    "save it as UTF-8 text, or keep files that are not manifests out of the environment's paths";
const PARSE_FIX: &str = "make it readable (the reason says where it stops), or keep files that are not manifests out of the environment's paths";

// ----- building repositories -----

/// A Kubernetes Deployment of `image`: the tag of `ghcr.io/acme/backend:TAG` is at 10:39.
fn deployment(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\nspec:\n  \
         template:\n    spec:\n      containers:\n        - name: backend\n          \
         image: {image}\n"
    )
}

const LATEST: &str = "prod pins ghcr.io/acme/backend to mutable tag `latest`";
const DEV_APP: &str = "clusters/dev/app.yaml";
const PROD_APP: &str = "clusters/prod/app.yaml";

/// A repository (or plain directory) in a temp directory.
struct Repo {
    dir: TempDir,
}

impl Repo {
    fn init(tag: &str) -> Repo {
        let dir = TempDir::new(tag);
        git(dir.path(), &["init", "-q", "-b", "main"]);
        Repo { dir }
    }

    fn plain(tag: &str) -> Repo {
        Repo {
            dir: TempDir::new(tag),
        }
    }

    /// dev and prod both run backend 1.0.0, committed.
    fn two_environments(tag: &str) -> Repo {
        let r = Repo::init(tag);
        r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
        r.write(PROD_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
        r.commit("dev and prod on 1.0.0");
        r
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn abs(&self, rel: &str) -> PathBuf {
        self.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        self.dir.write(rel, text.as_bytes());
    }

    fn write_bytes(&self, rel: &str, bytes: &[u8]) {
        self.dir.write(rel, bytes);
    }

    fn mkdir(&self, rel: &str) {
        std::fs::create_dir_all(self.abs(rel)).expect("mkdir");
    }

    fn link(&self, target: impl AsRef<Path>, rel: &str) {
        if let Some(parent) = self.abs(rel).parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        symlink(target, self.abs(rel)).expect("symlink");
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

    fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }

    fn run(&self, args: &[&str]) -> Out {
        run(self.path(), args)
    }

    /// `args` with `--format json`: exit `code` and exactly `want`.
    #[track_caller]
    fn expect_json(&self, args: &[&str], code: i32, want: &[Found]) {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let out = self.run(&all);
        expect_code(&out, code);
        assert_eq!(findings(&out), want, "{args:?}");
    }
}

/// The commands that judge a change, for a repository whose last commit is the one to
/// judge: `diff --base HEAD~1` and `history --range HEAD~1..HEAD`.
const CHANGE_COMMANDS: [&[&str]; 2] = [
    &["diff", "--base", "HEAD~1"],
    &["history", "--range", "HEAD~1..HEAD"],
];

// ----- symlinks -----

#[test]
fn symlink_to_a_file_outside_the_repository() {
    let r = Repo::two_environments("symlink-file");
    let outside = TempDir::new("symlink-file-outside");
    // Read, it would be a PL001 at 10:39.
    outside.write(
        "secret.yaml",
        deployment("ghcr.io/acme/backend:latest").as_bytes(),
    );
    r.link(
        outside.path().join("secret.yaml"),
        "clusters/prod/secret.yaml",
    );
    // An error: prod is protected, and what the link stands for cannot be judged.
    let error = [skipped(
        "clusters/prod/secret.yaml",
        &in_prod("symlink not followed", SYMLINK_FIX),
    )];

    r.expect_json(&["check"], 1, &error);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.starts_with(
        "error[PL000]: file skipped: symlink not followed; prod is protected, so a file promolint cannot read fails the check: commit the file itself, not a symlink to it\n--> clusters/prod/secret.yaml:1:1\n"
    ));
    // A path argument that is the link: listed, still not followed.
    r.expect_json(&["check", "clusters/prod/secret.yaml"], 1, &error);

    // The index and commits hold the link itself (mode 120000), never its target.
    r.git(&["add", "-A"]);
    r.expect_json(&["staged"], 1, &error);
    r.git(&["commit", "-q", "-m", "link"]);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &error);
    }
}

#[test]
fn symlink_to_a_directory() {
    let r = Repo::two_environments("symlink-dir");
    let outside = TempDir::new("symlink-dir-outside");
    outside.write(
        "app.yaml",
        deployment("ghcr.io/acme/backend:latest").as_bytes(),
    );
    // Neither link is descended: nothing under them is listed or read.
    r.link(outside.path(), "clusters/prod/shared");
    r.link("../dev", "clusters/prod/dev-copy");
    // A directory link with a YAML name is a file promolint would read: in prod, an error.
    r.link(outside.path(), "clusters/prod/outside.yaml");
    let error = [skipped(
        "clusters/prod/outside.yaml",
        &in_prod("symlink not followed", SYMLINK_FIX),
    )];

    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out
        .stdout
        .ends_with("promolint: 3 files checked: 1 error, 0 warnings, 0 notes\n"));
    r.expect_json(&["check"], 1, &error);
    // Naming a file through the link is refused.
    let out = r.run(&["check", "clusters/prod/shared/app.yaml"]);
    expect_failure(
        &out,
        &[
            "`clusters/prod/shared/app.yaml` goes through the symlink",
            "which promolint does not follow",
        ],
    );

    r.commit("links");
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &error);
    }
}

#[test]
fn symlink_loop() {
    for r in [
        Repo::init("symlink-loop"),
        Repo::plain("symlink-loop-plain"),
    ] {
        r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
        r.link("b.yaml", "clusters/prod/a.yaml");
        r.link("a.yaml", "clusters/prod/b.yaml");
        r.link(".", "clusters/prod/self");
        r.link("../..", "clusters/prod/root");
        // One finding for the real file: neither the loops nor the links back to the root
        // are walked (that would list app.yaml again, or never end).
        let link = in_prod("symlink not followed", SYMLINK_FIX);
        let want = [
            skipped("clusters/prod/a.yaml", &link),
            found("PL001", PROD_APP, 10, 39, LATEST),
            skipped("clusters/prod/b.yaml", &link),
        ];
        r.expect_json(&["check"], 1, &want);
        let out = r.run(&["check"]);
        expect_code(&out, 1);
        assert!(out
            .stdout
            .ends_with("promolint: 3 files checked: 3 errors, 0 warnings, 0 notes\n"));
    }
    let r = Repo::init("symlink-loop-git");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    r.link("b.yaml", "clusters/prod/a.yaml");
    r.link("a.yaml", "clusters/prod/b.yaml");
    r.link("../..", "clusters/prod/root");
    r.commit("loops");
    let link = in_prod("symlink not followed", SYMLINK_FIX);
    let want = [
        skipped("clusters/prod/a.yaml", &link),
        skipped("clusters/prod/b.yaml", &link),
    ];
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &want);
    }
}

#[test]
fn symlinked_config_outside_the_repository_is_refused() {
    let r = Repo::two_environments("symlink-config");
    let outside = TempDir::new("symlink-config-outside");
    outside.write("config.yaml", b"environments: \"secret value\"\n");
    r.link(outside.path().join("config.yaml"), ".promolint.yaml");
    let target = outside.path().join("config.yaml").display().to_string();
    for args in [&["check"][..], &["diff", "--base", "HEAD"], &["status"]] {
        let out = r.run(args);
        expect_failure(
            &out,
            &[
                &format!(
                    "error: invalid configuration: .promolint.yaml: the config file is a symlink to `{target}`, outside the repository; promolint does not follow symlinks out of the repository"
                ),
                "help: commit the configuration itself as `.promolint.yaml`",
            ],
        );
        // The target was never read: its text is not quoted.
        assert!(!out.stderr.contains("secret value"), "{}", out.stderr);
    }
    // A link to a file inside the repository is read.
    std::fs::remove_file(r.abs(".promolint.yaml")).expect("rm");
    r.write("config/promolint.yaml", "rules: { PL009: error }\n");
    r.link("config/promolint.yaml", ".promolint.yaml");
    // (The link itself, a YAML name, is also a manifest to lint: as such it is not followed.)
    r.expect_json(
        &["check"],
        1,
        &[
            skipped(".promolint.yaml", "symlink not followed"),
            found(
                "PL009",
                PROD_APP,
                10,
                39,
                "prod pins ghcr.io/acme/backend:1.0.0 without a digest: the tag can be re-pushed",
            ),
        ],
    );
}

// ----- names and paths -----

#[test]
fn non_utf8_file_names() {
    use std::os::unix::ffi::OsStrExt;
    let r = Repo::two_environments("non-utf8");
    let name = std::ffi::OsStr::from_bytes(b"clusters/prod/bad-\xff.yaml");
    std::fs::write(
        r.path().join(name),
        deployment("ghcr.io/acme/backend:latest"),
    )
    .expect("write");
    let lossy = "clusters/prod/bad-\u{fffd}.yaml";

    // The working tree cannot open the file by a printable name: one error (prod).
    let reason = in_prod("path is not valid UTF-8", "rename it to a UTF-8 name");
    r.expect_json(&["check"], 1, &[skipped(lossy, &reason)]);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.starts_with(&format!(
        "error[PL000]: file skipped: {reason}\n--> {lossy}:1:1\n"
    )));

    // Git reads the blob by its id: the content is judged, under the lossy name.
    r.git(&["add", "-A"]);
    let pl001 = [found("PL001", lossy, 10, 39, LATEST)];
    r.expect_json(&["staged"], 1, &pl001);
    r.git(&["commit", "-q", "-m", "bad name"]);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &pl001);
    }
}

/// 30 directories of 151 bytes: the path is over 4,096 bytes (PATH_MAX), so the operating
/// system refuses to open it by its full name.
fn deep_dir() -> String {
    (1..=30).map(|i| format!("d{i:0150}/")).collect()
}

#[test]
fn very_long_paths() {
    let r = Repo::init("long-path");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    // Only relative steps can build it: each directory is made through the open handle of
    // its parent (`/proc/self/fd/N/name`), so no path given to the system is long.
    let mut dir = std::fs::File::open(r.abs("clusters/prod")).expect("open");
    for i in 1..=30 {
        let next = format!("/proc/self/fd/{}/d{i:0150}", dir.as_raw_fd());
        std::fs::create_dir(&next).expect("mkdir");
        dir = std::fs::File::open(&next).expect("open");
    }
    let app = format!("/proc/self/fd/{}/app.yaml", dir.as_raw_fd());
    std::fs::write(app, deployment("ghcr.io/acme/backend:latest")).expect("write");
    let deep = format!("clusters/prod/{}", deep_dir());
    assert!(r.path().display().to_string().len() + deep.len() > 4096);

    // A directory that cannot be opened could hide prod's files: the run cannot be done.
    let out = r.run(&["check", "--format", "json"]);
    expect_failure(
        &out,
        &[
            "error: cannot read the directory `clusters/prod/d",
            ": File name too long (os error 36)",
            "help: its path is longer than the system lets a program open: shorten the directory names",
        ],
    );
    let named = out.stderr.split('`').nth(1).unwrap_or_default();
    assert!(deep.starts_with(&format!("{named}/")), "{named}");

    // In Git a path of 4,582 bytes is no problem for trees: diff and history judge it.
    let r = Repo::two_environments("long-path-git");
    std::fs::write(r.abs("x.yaml"), deployment("ghcr.io/acme/backend:latest")).expect("write");
    let blob = r.git(&["hash-object", "-w", "x.yaml"]).trim().to_string();
    std::fs::remove_file(r.abs("x.yaml")).expect("rm");
    let long = format!("clusters/prod/{}app.yaml", deep_dir());
    assert_eq!(long.len(), 4582);
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{blob},{long}"),
    ]);
    r.git(&["commit", "-q", "-m", "long path"]);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &[found("PL001", &long, 10, 39, LATEST)]);
    }
    // An index entry of 4,095 bytes or more is a known limit of gix 0.90's index reader:
    // the index cannot be read (exit 2, saying so), where Git itself reads it.
    let help = "an index entry whose path is 4,095 bytes or longer cannot be read by promolint";
    expect_failure(&r.run(&["staged"]), &["error: cannot read the index", help]);
    expect_failure(
        &r.run(&["check"]),
        &[
            "error: cannot list the working tree",
            "its index cannot be read",
            help,
        ],
    );
}

// ----- size -----

#[test]
fn files_of_50_mb_and_more_in_the_working_tree() {
    let r = Repo::init("huge-worktree");
    r.mkdir("clusters/prod");
    r.mkdir("envs/acme-prod");
    // Real sizes to every system call; no content needs writing (sparse).
    let huge = std::fs::File::create(r.abs("clusters/prod/huge.yaml")).expect("create");
    huge.set_len(50 << 20).expect("set_len");
    // 16 GiB: were it read, the run would run out of time or memory, not skip it.
    let sparse = std::fs::File::create(r.abs("envs/acme-prod/sparse.tf")).expect("create");
    sparse.set_len(16 << 30).expect("set_len");
    let want = [
        skipped(
            "clusters/prod/huge.yaml",
            &in_prod(
                "file is 52428800 bytes, over the size limit of 4194304 bytes",
                SIZE_FIX,
            ),
        ),
        skipped(
            "envs/acme-prod/sparse.tf",
            &in_prod(
                "file is 17179869184 bytes, over the size limit of 4194304 bytes",
                SIZE_FIX,
            ),
        ),
    ];
    r.expect_json(&["check"], 1, &want);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.starts_with(
        "error[PL000]: file skipped: file is 52428800 bytes, over the size limit of 4194304 bytes; prod is protected"
    ));
}

#[test]
fn blob_of_50_mb_in_git() {
    let r = Repo::two_environments("huge-blob");
    let huge = std::fs::File::create(r.abs("clusters/prod/huge.yaml")).expect("create");
    huge.set_len(50 << 20).expect("set_len");
    drop(huge);
    r.git(&["add", "-A"]);
    // Keep only the start of the compressed object: its header still says 50 MiB, but the
    // content cannot be inflated. Only a reader that checks the size on the header, before
    // reading the object, gives the size note; a full read would fail on the object.
    let id = r.rev(":clusters/prod/huge.yaml");
    let object = r.abs(&format!(".git/objects/{}/{}", &id[..2], &id[2..]));
    let mut perms = std::fs::metadata(&object).expect("object").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    std::fs::set_permissions(&object, perms).expect("chmod");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&object)
        .and_then(|f| f.set_len(256))
        .expect("truncate");
    let error = [skipped(
        "clusters/prod/huge.yaml",
        &in_prod(
            "file is 52428800 bytes, over the size limit of 4194304 bytes",
            SIZE_FIX,
        ),
    )];
    r.expect_json(&["staged"], 1, &error);
    r.git(&["commit", "-q", "-m", "huge"]);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &error);
    }
    r.expect_json(&["check"], 1, &error);
}

#[test]
fn ignore_file_of_1_gib() {
    let r = Repo::two_environments("huge-ignore");
    // The walk of the working tree would read it whole (1.2 GB of memory for 1 GiB).
    let ignore = std::fs::File::create(r.abs(".gitignore")).expect("create");
    ignore.set_len(1 << 30).expect("set_len");
    for args in [&["check"][..], &["status"]] {
        expect_failure(
            &r.run(args),
            &[
                "error: `.gitignore` is 1073741824 bytes: promolint reads ignore files whole, and refuses those over 16777216 bytes",
                "help: an ignore file of this size is not real",
            ],
        );
    }
    // Revisions are read without it.
    r.expect_json(&["diff", "--base", "HEAD"], 0, &[]);
    // A tracked one in a subdirectory, too.
    std::fs::remove_file(r.abs(".gitignore")).expect("rm");
    r.mkdir("clusters/prod/sub");
    let ignore = std::fs::File::create(r.abs("clusters/prod/sub/.gitignore")).expect("create");
    ignore.set_len(20 << 20).expect("set_len");
    r.git(&["add", "-f", "clusters/prod/sub/.gitignore"]);
    expect_failure(
        &r.run(&["check"]),
        &["error: `clusters/prod/sub/.gitignore` is 20971520 bytes"],
    );
}

// ----- content -----

#[test]
fn binary_files_with_yaml_and_tf_names() {
    let r = Repo::init("binary");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    r.write_bytes("clusters/prod/image.yaml", b"\x00\x01image: x\x00\xff");
    r.write_bytes("envs/acme-prod/main.tf", b"locals {\x00 x_version = 1 }\n");
    r.write_bytes("clusters/prod/latin1.yaml", b"image: caf\xe9:1.0\n");
    let binary = in_prod("binary file (contains NUL bytes)", TEXT_FIX);
    let want = [
        skipped("clusters/prod/image.yaml", &binary),
        skipped(
            "clusters/prod/latin1.yaml",
            &in_prod("not valid UTF-8 (invalid byte at offset 10)", TEXT_FIX),
        ),
        skipped("envs/acme-prod/main.tf", &binary),
    ];
    r.expect_json(&["check"], 1, &want);
    r.git(&["add", "-A"]);
    r.expect_json(&["staged"], 1, &want);
    r.git(&["commit", "-q", "-m", "binary"]);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &want);
    }
}

#[test]
fn yaml_nesting_20000_deep() {
    let r = Repo::init("deep-yaml");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    let n = 20_000;
    r.write(
        "clusters/prod/flow-seq.yaml",
        &format!("image: {}{}\n", "[".repeat(n), "]".repeat(n)),
    );
    r.write(
        "clusters/prod/flow-map.yaml",
        &format!("image: {}x{}\n", "{a: ".repeat(n), "}".repeat(n)),
    );
    r.write(
        "clusters/prod/block-seq.yaml",
        &format!("image:\n{}x\n", "- ".repeat(n)),
    );
    let deep = "YAML nesting deeper than 64";
    let want = [
        found(
            "PL000",
            "clusters/prod/block-seq.yaml",
            2,
            127,
            &format!(
                "file skipped: {}",
                in_prod(&format!("{deep} (at line 2 column 127)"), PARSE_FIX)
            ),
        ),
        found(
            "PL000",
            "clusters/prod/flow-map.yaml",
            1,
            260,
            &format!(
                "file skipped: {}",
                in_prod(&format!("{deep} (at line 1 column 260)"), PARSE_FIX)
            ),
        ),
        found(
            "PL000",
            "clusters/prod/flow-seq.yaml",
            1,
            74,
            &format!(
                "file skipped: {}",
                in_prod(&format!("{deep} (at line 1 column 74)"), PARSE_FIX)
            ),
        ),
    ];
    r.expect_json(&["check"], 1, &want);
    r.commit("deep");
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &want);
    }
}

/// `locals { image_version = EXPR }` with EXPR on line 2 from column 19.
fn hcl_local(expr: &str) -> String {
    format!("locals {{\n  image_version = {expr}\n}}\n")
}

#[test]
fn hcl_nesting_20000_deep() {
    let r = Repo::init("deep-hcl");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    let n = 20_000;
    r.write(
        "envs/acme-prod/list.tf",
        &hcl_local(&format!("{}{}", "[".repeat(n), "]".repeat(n))),
    );
    r.write(
        "envs/acme-prod/object.tf",
        &hcl_local(&format!("{}1{}", "{a = ".repeat(n), "}".repeat(n))),
    );
    r.write(
        "envs/acme-prod/template.tf",
        &hcl_local(&format!("{}1{}", "\"${".repeat(n), "}\"".repeat(n))),
    );
    r.write(
        "envs/acme-prod/blocks.tf",
        &format!("# version\n{}{}", "a {\n".repeat(n), "}\n".repeat(n)),
    );
    // 64 nested for-expressions: hcl-edit's last accepted level costs about 3 MiB of stack
    // in a debug build (rayon's default 2 MiB aborted the process); 63 parse.
    let fors = |k: usize| hcl_local(&format!("{}y{}", "[for x in ".repeat(k), " : x]".repeat(k)));
    r.write("envs/acme-prod/for64.tf", &fors(64));
    r.write("envs/acme-prod/for63.tf", &fors(63));
    let deep = "invalid nesting depth; expected at most 64 nested levels";
    let note = |path: &str, line: u64, column: u64| {
        found(
            "PL000",
            path,
            line,
            column,
            &format!(
                "file skipped: {}",
                in_prod(
                    &format!("malformed HCL at line {line} column {column}: {deep}"),
                    PARSE_FIX
                )
            ),
        )
    };
    let want = [
        note("envs/acme-prod/blocks.tf", 66, 3),
        note("envs/acme-prod/for64.tf", 2, 659),
        note("envs/acme-prod/list.tf", 2, 83),
        note("envs/acme-prod/object.tf", 2, 335),
        note("envs/acme-prod/template.tf", 2, 211),
    ];
    r.expect_json(&["check"], 1, &want);
    r.commit("deep");
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &want);
    }
}

#[test]
fn yaml_alias_bombs() {
    let r = Repo::init("alias-bomb");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    // Billion laughs: nine levels of nine aliases.
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let (prev, name) = (w[0], w[1]);
        laughs.push_str(&format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    laughs.push_str("image: *i\n");
    r.write("clusters/prod/laughs.yaml", &laughs);
    r.write("clusters/prod/recursive.yaml", "image: &a [*a]\n");
    // Merge keys: two documents that each merge a 60,000-key mapping. Merging used to scan
    // the keys once per key: minutes, not the second or two it takes now.
    let keys: Vec<String> = (0..60_000).map(|i| format!("k{i}: {i}")).collect();
    let doc = format!("image: x\na: &a {{{}}}\nb:\n  <<: *a\n", keys.join(", "));
    r.write("clusters/prod/merge.yaml", &format!("{doc}---\n{doc}"));
    let want = [
        found(
            "PL000",
            "clusters/prod/laughs.yaml",
            6,
            14,
            &format!(
                "file skipped: {}",
                in_prod(
                    "alias expansion budget exceeded (more than 250000 nodes) (at line 6 column 14)",
                    PARSE_FIX
                )
            ),
        ),
        found(
            "PL000",
            "clusters/prod/recursive.yaml",
            1,
            12,
            &format!(
                "file skipped: {}",
                in_prod(
                    "alias refers to an anchor that encloses it (recursive alias) (at line 1 column 12)",
                    PARSE_FIX
                )
            ),
        ),
    ];
    r.expect_json(&["check"], 1, &want);
    r.commit("bombs");
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &want);
    }
}

#[test]
fn yaml_file_of_100000_documents() {
    let r = Repo::init("documents");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    // Every 1,000th document is a prod Pod on `latest`; the others are one line each.
    let mut text = String::new();
    let mut want = Vec::new();
    let mut line = 1;
    for i in 0..100_000 {
        if i % 1000 == 0 {
            text.push_str(
                "---\nkind: Pod\nspec:\n  containers:\n    - image: ghcr.io/acme/app:latest\n",
            );
            want.push(found(
                "PL001",
                "clusters/prod/many.yaml",
                line + 4,
                31,
                "prod pins ghcr.io/acme/app to mutable tag `latest`",
            ));
            line += 5;
        } else {
            text.push_str(&format!("---\na: {i}\n"));
            line += 2;
        }
    }
    r.write("clusters/prod/many.yaml", &text);
    r.expect_json(&["check"], 1, &want);
    r.commit("many");
    r.expect_json(&["history", "--range", "HEAD~1..HEAD"], 1, &want);
}

#[test]
fn crlf_and_bom_files() {
    let r = Repo::init("crlf");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    let crlf = |text: &str| format!("\u{feff}{}", text.replace('\n', "\r\n"));
    r.write(PROD_APP, &crlf(&deployment("ghcr.io/acme/backend:latest")));
    r.write(
        "envs/acme-prod/main.tf",
        &crlf("locals {\n  rootfs_version = \"latest\"\n}\n"),
    );
    r.write(
        "clusters/prod/.versions.env",
        &crlf("TALOS_VERSION=latest\n"),
    );
    // Columns count characters after the BOM, which is not one.
    let want = [
        found(
            "PL001",
            "clusters/prod/.versions.env",
            1,
            15,
            "prod pins TALOS_VERSION to mutable tag `latest`",
        ),
        found("PL001", PROD_APP, 10, 39, LATEST),
        found(
            "PL001",
            "envs/acme-prod/main.tf",
            2,
            21,
            "prod pins rootfs_version to mutable tag `latest`",
        ),
    ];
    r.expect_json(&["check"], 1, &want);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    // The CR of each line end is not quoted (it was drawn as U+240D).
    assert!(!out.stdout.contains('\r') && !out.stdout.contains('\u{240d}'));
    assert!(out.stdout.contains(
        "10 |           image: ghcr.io/acme/backend:latest\n   |                                       ^^^^^^ in prod\n"
    ));
    r.git(&["add", "-A"]);
    r.expect_json(&["staged"], 1, &want);
    r.git(&["commit", "-q", "-m", "crlf"]);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &want);
    }
}

#[test]
fn empty_files() {
    let r = Repo::init("empty-files");
    r.write("README.md", "# deploy\n");
    r.commit("init");
    for path in [
        "clusters/prod/empty.yaml",
        "envs/acme-prod/empty.tf",
        "clusters/prod/.env",
        "renovate.json",
    ] {
        r.write(path, "");
    }
    r.write("clusters/prod/bom.yaml", "\u{feff}");
    r.write("envs/acme-prod/blank.tf", "\n\n  \n");
    let out = r.run(&["check"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 6 files checked: no findings\n");
    r.git(&["add", "-A"]);
    let out = r.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 6 files checked: no findings\n");
    r.git(&["commit", "-q", "-m", "empty"]);
    for args in CHANGE_COMMANDS {
        let out = r.run(args);
        expect_code(&out, 0);
        assert_eq!(
            out.stdout, "promolint: 6 files checked: no findings\n",
            "{args:?}"
        );
    }
}

// ----- repository states -----

#[test]
fn unborn_branch_in_a_repository_with_commits() {
    let r = Repo::two_environments("unborn");
    r.git(&["checkout", "-q", "--orphan", "fresh"]);
    // The index still holds main's files: the first commit of `fresh` would add them.
    let out = r.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    r.git(&["add", "-A"]);
    r.expect_json(&["staged"], 1, &[found("PL001", PROD_APP, 10, 39, LATEST)]);
    r.expect_json(&["check"], 1, &[found("PL001", PROD_APP, 10, 39, LATEST)]);
    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component             dev    prod\nghcr.io/acme/backend  1.0.0  latest\n"
    );
    for args in [&["diff"][..], &["diff", "--base", "main"], &["history"]] {
        expect_failure(
            &r.run(args),
            &[
                "error: revision `HEAD` names no commit: the branch `fresh` has no commits yet",
                "help: make a first commit, or use a mode that reads the working tree",
            ],
        );
    }
}

#[test]
fn bare_repository() {
    let r = Repo::two_environments("bare-src");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:2.0.0"));
    r.commit("prod: 2.0.0 before dev");
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
    let here = bare.path().display().to_string();
    for args in [&["check"][..], &["status"]] {
        expect_failure(
            &run(bare.path(), args),
            &[
                &format!("error: `{here}` is a bare repository: it has no working tree to check"),
                "help: run promolint in a checkout, or use a mode that reads revisions",
            ],
        );
    }
    expect_failure(
        &run(bare.path(), &["staged"]),
        &[&format!(
            "error: `{here}` is a bare repository: it has no index of staged changes to check"
        )],
    );
    // Revisions are read.
    let pl006 = "prod pins ghcr.io/acme/backend to 2.0.0, which dev has not run (dev runs 1.0.0): promote 2.0.0 through dev first, or roll prod back to 1.0.0";
    for args in CHANGE_COMMANDS {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let out = run(bare.path(), &all);
        expect_code(&out, 1);
        assert_eq!(findings(&out), [found("PL006", PROD_APP, 10, 39, pl006)]);
    }
    expect_failure(
        &run(bare.path(), &["diff"]),
        &[
            "error: cannot find a base to compare with",
            "help: give the base explicitly with `--base REV`",
        ],
    );
}

#[test]
fn linked_worktree() {
    let r = Repo::two_environments("linked");
    let wt = TempDir::new("linked-wt");
    std::fs::remove_dir(wt.path()).expect("rmdir");
    r.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.path().to_str().expect("utf-8"),
    ]);
    assert!(wt.path().join(".git").is_file());
    let w = Repo { dir: wt };
    w.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    let pl001 = [found("PL001", PROD_APP, 10, 39, LATEST)];
    w.expect_json(&["check"], 1, &pl001);
    // Nothing staged yet, then the edit staged: the linked worktree's own index.
    let out = w.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 0 files checked: no findings\n");
    w.git(&["add", "-A"]);
    w.expect_json(&["staged"], 1, &pl001);
    // The main worktree's index is untouched.
    let out = r.run(&["staged"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 0 files checked: no findings\n");
    w.git(&["commit", "-q", "-m", "prod: latest"]);
    w.expect_json(&["diff", "--base", "main"], 1, &pl001);
    w.expect_json(&["history", "--range", "main..HEAD"], 1, &pl001);
    let out = w.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component             dev    prod\nghcr.io/acme/backend  1.0.0  latest\n"
    );
}

// ----- configuration -----

/// A repository with `config` as its `.promolint.yaml`; check and diff (the two ways a
/// config is loaded: working tree and git run) must both refuse it with `fragments`.
fn refused_config(tag: &str, config: &str, fragments: &[&str]) {
    let r = Repo::two_environments(tag);
    r.write(".promolint.yaml", config);
    for args in [
        &["check"][..],
        &["diff", "--base", "HEAD"],
        &["history"],
        &["status"],
    ] {
        expect_failure(&r.run(args), fragments);
    }
}

#[test]
fn config_with_an_invalid_regex() {
    refused_config(
        "config-regex",
        "environments:\n  - name: prod\n    tag_pattern: '^prod-(v\\d+'\n",
        &[
            "error: invalid configuration: .promolint.yaml:3:18: `environments[0].tag_pattern`: invalid regular expression: unclosed group (at character 7 of the pattern)",
            "help: fix the regex",
        ],
    );
}

#[test]
fn config_with_an_unknown_field() {
    refused_config(
        "config-field",
        "environments:\n  - name: prod\n    paths: [\"clusters/prod/**\"]\n    protectd: true\n",
        &[
            "error: invalid configuration: .promolint.yaml:4:5: `environments[0].protectd`: unknown field `protectd`",
            "help: did you mean `protected`?",
        ],
    );
}

#[test]
fn config_with_a_wrong_type() {
    refused_config(
        "config-type",
        "environments:\n  - name: prod\n    protected: \"yes\"\n",
        &[
            "error: invalid configuration: .promolint.yaml:3:16: `environments[0].protected`: expected a boolean (`true` or `false`), found the string `yes`",
            "help: write `true` or `false`, without quotes",
        ],
    );
}

#[test]
fn config_with_a_cycle_in_after() {
    refused_config(
        "config-cycle",
        "environments:\n  - name: dev\n    after: [prod]\n  - name: staging\n    after: [dev]\n  - name: prod\n    after: [staging]\n",
        &[
            "error: invalid configuration: .promolint.yaml:5:13: `environments[1].after[0]`: cycle in `after`: dev → staging → prod → dev",
            "help: the promotion order must have a beginning",
        ],
    );
}

#[test]
fn config_nested_too_deep() {
    // 60 levels overflowed the stack of the thread loading the config.
    for depth in [60, 20_000] {
        refused_config(
            "config-deep",
            &format!("environments: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
            &[
                "error: invalid configuration: .promolint.yaml:1:",
                "the config file nests deeper than 16 levels",
                "help: a promolint config nests at most four levels",
            ],
        );
    }
}

#[test]
fn config_file_of_16_gib() {
    let r = Repo::two_environments("config-huge");
    // Sparse: were it read whole, the run would run out of memory.
    let config = std::fs::File::create(r.abs(".promolint.yaml")).expect("create");
    config.set_len(16 << 30).expect("set_len");
    for args in [&["check"][..], &["diff", "--base", "HEAD"]] {
        expect_failure(
            &r.run(args),
            &[
                "error: invalid configuration: .promolint.yaml: the config file is larger than 1048576 bytes",
                "help: a promolint config is a few kilobytes",
            ],
        );
    }
}

// ----- CPU and output bombs -----

#[test]
fn kustomize_overlay_diamonds() {
    // 40 layers of two overlays, each including both overlays of the layer below: 2^40
    // paths from the base to the top. Walking each path took 5.6 s at 22 layers and
    // doubled per layer.
    let r = Repo::init("diamonds");
    r.write("k/l0/kustomization.yaml", "resources:\n  - deploy.yaml\n");
    r.write(
        "k/l0/deploy.yaml",
        &deployment("ghcr.io/acme/backend:latest"),
    );
    let mut below = vec!["l0".to_string()];
    for layer in 1..=40 {
        let mut here = Vec::new();
        for side in ["a", "b"] {
            let name = format!("l{layer}{side}");
            let resources: String = below.iter().map(|b| format!("  - ../{b}\n")).collect();
            r.write(
                &format!("k/{name}/kustomization.yaml"),
                &format!("resources:\n{resources}"),
            );
            here.push(name);
        }
        below = here;
    }
    // The top: production builds on both overlays of the last layer.
    r.write(
        "clusters/prod/kustomization.yaml",
        "resources:\n  - ../../k/l40a\n  - ../../k/l40b\n",
    );
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    let via_base = format!("{LATEST} (from a base no overlay of this environment overrides)");
    let want = [found("PL001", "k/l0/deploy.yaml", 10, 39, &via_base)];
    assert_eq!(findings(&out), want);
    r.commit("diamonds");
    let out = r.run(&["history", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(findings(&out), want);
}

#[test]
fn minified_manifest_with_many_findings() {
    // 2,000 findings on one 94 KB line: quoting the line once per finding took 47 s to lay
    // out (human) and made a 198 MB SARIF file.
    let r = Repo::init("minified");
    let containers: Vec<String> = (0..2000)
        .map(|i| format!("{{name: c{i}, image: \"ghcr.io/a/b{i}:latest\"}}"))
        .collect();
    r.write(
        "clusters/prod/one.yaml",
        &format!(
            "{{kind: Pod, spec: {{containers: [{}]}}}}\n",
            containers.join(", ")
        ),
    );
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.starts_with(
        "error[PL001]: prod pins ghcr.io/a/b0 to mutable tag `latest`\n--> clusters/prod/one.yaml:1:65\n = help: "
    ), "{}", &out.stdout[..500]);
    assert!(!out.stdout.contains("1 | {kind: Pod"));
    assert!(out
        .stdout
        .ends_with("promolint: 1 file checked: 2000 errors, 0 warnings, 0 notes\n"));
    let out = r.run(&["check", "--format", "sarif"]);
    expect_code(&out, 1);
    let sarif = json(&out);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2000);
    for result in results {
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["region"]["snippet"]["text"], "latest");
        assert!(location.get("contextRegion").is_none(), "{location}");
    }
}

// ----- security -----

/// An executable script that records that it ran by creating `marker`.
fn tripwire(path: &Path, marker: &Path) {
    std::fs::write(
        path,
        format!("#!/bin/sh\necho ran >> '{}'\ncat\n", marker.display()),
    )
    .expect("script");
    let mut perms = std::fs::metadata(path).expect("script").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).expect("chmod");
}

#[test]
fn nothing_from_the_repository_is_ever_run() {
    let r = Repo::two_environments("no-exec");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    r.write(".gitattributes", "* filter=trap diff=trap merge=trap\n");
    r.commit("prod: latest");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:2.0.0"));
    r.git(&["add", "-A"]);
    r.git(&[
        "remote",
        "add",
        "origin",
        "https://example.com/acme/deploy.git",
    ]);

    // Every hook and every command Git can be told to run, pointing at one tripwire.
    let scripts = TempDir::new("no-exec-scripts");
    let marker = scripts.path().join("ran");
    let trap = scripts.path().join("trap.sh");
    tripwire(&trap, &marker);
    let trap_cmd = trap.display().to_string();
    let hooks = r.abs(".git/hooks");
    for hook in [
        "pre-commit",
        "post-checkout",
        "post-index-change",
        "reference-transaction",
        "fsmonitor-watchman",
        "pre-push",
    ] {
        tripwire(&hooks.join(hook), &marker);
    }
    for (key, value) in [
        ("filter.trap.clean", trap_cmd.as_str()),
        ("filter.trap.smudge", trap_cmd.as_str()),
        ("filter.trap.process", trap_cmd.as_str()),
        ("filter.trap.required", "true"),
        ("diff.trap.textconv", trap_cmd.as_str()),
        ("diff.external", trap_cmd.as_str()),
        ("merge.trap.driver", trap_cmd.as_str()),
        ("core.fsmonitor", trap_cmd.as_str()),
        ("core.hooksPath", hooks.to_str().expect("utf-8")),
        ("core.pager", trap_cmd.as_str()),
        ("core.sshCommand", trap_cmd.as_str()),
        ("core.askPass", trap_cmd.as_str()),
        ("credential.helper", trap_cmd.as_str()),
        ("gpg.program", trap_cmd.as_str()),
        ("protocol.ext.allow", "always"),
    ] {
        r.git(&["config", key, value]);
    }
    let _ = std::fs::remove_file(&marker);

    let summary = scripts.path().join("summary.md");
    let sarif = scripts.path().join("report.sarif");
    let pl001 = [found("PL001", PROD_APP, 10, 39, LATEST)];
    r.expect_json(&["check"], 1, &pl001);
    r.expect_json(&["staged", "--all-files"], 1, &pl001);
    r.expect_json(&["diff", "--base", "HEAD~1"], 1, &pl001);
    r.expect_json(&["history"], 1, &pl001);
    for args in [
        &["status"][..],
        &["init", "--stdout"],
        &[
            "check",
            "--format",
            "github",
            "--sarif",
            sarif.to_str().expect("utf-8"),
            "--summary",
            summary.to_str().expect("utf-8"),
        ],
    ] {
        let out = r.run(args);
        assert!(out.code == 0 || out.code == 1, "{args:?}: {}", out.stderr);
    }
    assert!(
        !marker.exists(),
        "a hook, filter or helper ran: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    // Control: Git itself runs them (its fsmonitor, then the filter, which fails the
    // command: the script does not speak the filter protocol), so the tripwire works.
    let _ = Command::new("git")
        .args(["add", "--renormalize", "."])
        .current_dir(r.path())
        .env("HOME", r.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git");
    assert!(marker.exists(), "the tripwire never fires");
}

/// Whether a line of output would be taken by the GitHub Actions runner as a workflow
/// command: the runner trims leading white space, then looks for `::`.
fn is_command(line: &str) -> bool {
    line.trim_start().starts_with("::")
}

/// The runner's decoding of a command's message (`%25`, `%0D`, `%0A`).
fn unescape_data(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

/// The runner's decoding of a property value (also `%3A` and `%2C`).
fn unescape_property(s: &str) -> String {
    unescape_data(&s.replace("%3A", ":").replace("%2C", ","))
}

#[test]
fn github_workflow_commands_cannot_be_injected() {
    let r = Repo::init("gh-inject");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    // A file name that is already escaped, one with a line break, and a tag policy whose
    // name holds CR, LF and workflow commands.
    let escaped_name = "clusters/prod/a%0A::set-output name=x::y.yaml";
    let newline_name = "clusters/prod/b\n::error::pwned \u{1b}[31m.yaml";
    r.write(escaped_name, &deployment("ghcr.io/acme/backend:latest"));
    r.write_bytes(newline_name, b"\x00binary");
    let policy_name = "p\n::error::pwned\r\n::add-mask::x%0A::warning::z";
    r.write(
        "clusters/prod/policy.yaml",
        &format!(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  \
             name: \"{}\"\n  namespace: prod\nspec:\n  imageRepositoryRef:\n    name: r\n  \
             filterTags:\n    pattern: \".*\"\n  policy:\n    semver:\n      range: \">=1.0.0\"\n",
            policy_name.replace('\n', "\\n").replace('\r', "\\r")
        ),
    );
    r.commit("hostile names");

    for args in [&["check"][..], &["diff", "--base", "HEAD~1"], &["history"]] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let reference = findings(&r.run(&all));
        assert_eq!(reference.len(), 3, "{reference:?}");
        let mut gh = args.to_vec();
        gh.extend_from_slice(&["--format", "github"]);
        let out = r.run(&gh);
        expect_code(&out, 1);
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{}", out.stdout);
        // One command per finding, each its own line, in the JSON's order; then the summary.
        for (line, f) in lines.iter().zip(&reference) {
            // Every finding is an error: the binary file is prod's, which is protected.
            let command = "::error file=";
            assert!(line.starts_with(command), "{line}");
            let props_end = line[2..].find("::").expect("message") + 2;
            let props = &line[command.len()..props_end];
            let file = props.split(',').next().expect("file");
            // What the runner decodes is the JSON's text, but for the escape character:
            // shown as `\u{1b}`, never sent to the log viewer.
            let shown = |s: &str| s.replace('\u{1b}', "\\u{1b}");
            assert_eq!(unescape_property(file), shown(&f.1));
            let message = unescape_data(&line[props_end + 2..]);
            assert!(message.starts_with(&shown(&f.4)), "{message:?}");
        }
        assert!(!out.stdout.contains('\u{1b}'));
        assert!(!is_command(lines[3]), "{}", lines[3]);
        assert!(!lines[3].contains("::"), "{}", lines[3]);

        // Human output: no line starts a command; line breaks in names are escaped.
        let out = r.run(args);
        expect_code(&out, 1);
        for line in out.stdout.lines() {
            assert!(!is_command(line), "{line}");
        }
        assert!(out.stdout.contains(&format!(
            "error[PL000]: file skipped: {}\n--> clusters/prod/b\\n::error::pwned \\u{{1b}}[31m.yaml:1:1\n",
            in_prod("binary file (contains NUL bytes)", TEXT_FIX)
        )), "{}", out.stdout);
        assert!(out.stdout.contains(
            "error[PL003]: prod policy `p\\n::error::pwned\\r\\n::add-mask::x%0A::warning::z`: tag pattern is not anchored"
        ), "{}", out.stdout);
        assert!(!out.stdout.contains('\u{1b}'));
        // Markdown (PR comments, summaries): no line starts a command either.
        let mut md = args.to_vec();
        md.extend_from_slice(&["--format", "markdown"]);
        let out = r.run(&md);
        for line in out.stdout.lines() {
            assert!(!is_command(line), "{line}");
        }
    }

    // Errors on stderr quote config values: the same escape.
    r.write(".promolint.yaml", "environments: \"a\\n::error::pwned\"\n");
    let out = r.run(&["check", "--format", "github"]);
    expect_failure(&out, &["found the string `a\\n::error::pwned`"]);
    for line in out.stderr.lines() {
        assert!(!is_command(line), "{line}");
    }
}

#[test]
fn json_sarif_and_gitlab_strings_round_trip() {
    let r = Repo::init("json-strings");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.commit("init");
    // Quotes, a backslash, a control character, U+2028 and non-ASCII in a path and in a
    // message (a duplicate key quotes the key).
    let path = "clusters/prod/q\"uote\\back\u{1}\u{2028}é.yaml";
    let key = "k\"\\\u{1}\u{2028}é";
    r.write(
        path,
        "image: x\n\"k\\\"\\\\\\u0001\\u2028é\": 1\n\"k\\\"\\\\\\u0001\\u2028é\": 2\n",
    );
    let message = format!(
        "file skipped: {}",
        in_prod(
            &format!("duplicate mapping key `{key}` (at line 3 column 1)"),
            PARSE_FIX
        )
    );
    let want = [found("PL000", path, 3, 1, &message)];
    r.expect_json(&["check"], 1, &want);
    r.commit("strange");
    for args in [&["check"][..], &["diff", "--base", "HEAD~1"], &["history"]] {
        r.expect_json(args, 1, &want);

        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "sarif"]);
        let out = r.run(&all);
        expect_code(&out, 1);
        let sarif = json(&out);
        let result = &sarif["runs"][0]["results"][0];
        assert_eq!(result["message"]["text"], message.as_str());
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert_eq!(percent_decode(uri), path);
        // Raw control characters never appear inside the JSON text.
        assert!(!out.stdout.contains('\u{1}'));

        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "gitlab"]);
        let out = r.run(&all);
        expect_code(&out, 1);
        let issues: serde_json::Value = json(&out);
        assert_eq!(issues[0]["location"]["path"], path);
        assert!(issues[0]["description"]
            .as_str()
            .expect("description")
            .contains(&message));
    }
}

/// `%XX` escapes back to bytes.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

// ----- trusted history and escaped outputs (issue 10) -----

/// prod ahead of dev: `prod pins ghcr.io/acme/backend to 9.9.9, which dev has not run`.
fn ahead(dev: &str) -> Found {
    found(
        "PL006",
        PROD_APP,
        10,
        39,
        &format!("prod pins ghcr.io/acme/backend to 9.9.9, which dev has not run (dev runs {dev}): promote 9.9.9 through dev first, or roll prod back to {dev}"),
    )
}

#[test]
fn orphan_root_backdated_and_merged_is_not_the_import() {
    let r = Repo::two_environments("orphan-import");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.1.0"));
    r.commit("dev: 1.1.0");
    // An unrelated history whose only commit claims 1970 and holds prod's next version.
    r.git(&["checkout", "-q", "--orphan", "import"]);
    r.git(&["rm", "-rq", "--cached", "."]);
    std::fs::remove_dir_all(r.abs("clusters")).expect("rm");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:9.9.9"));
    r.git(&["add", "-A"]);
    git_dated(
        r.path(),
        "1970-01-02T00:00:00Z",
        &["commit", "-q", "-m", "Initial import"],
    );
    r.git(&["checkout", "-q", "main"]);
    r.git(&[
        "merge",
        "-q",
        "--allow-unrelated-histories",
        "-X",
        "theirs",
        "-m",
        "Merge the import",
        "import",
    ]);
    assert!(r.abs(DEV_APP).is_file());
    let pl006 = [ahead("1.1.0")];
    // The merge is a change like any other: check and status judge it as diff and history do.
    r.expect_json(&["check"], 1, &pl006);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.starts_with(
        "error[PL006]: prod pins ghcr.io/acme/backend to 9.9.9, which dev has not run (dev runs 1.1.0): promote 9.9.9 through dev first, or roll prod back to 1.1.0\n"
    ), "{}", out.stdout);
    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert_eq!(
        out.stdout,
        "component             dev    prod\n\
         ghcr.io/acme/backend  1.1.0  9.9.9 !\n\
         \n\
         ! runs a version its predecessor never ran\n"
    );
    r.expect_json(&["diff", "--base", "HEAD~1"], 1, &pl006);
    // history: at the merge (the orphan commit alone has no dev to judge against).
    r.expect_json(&["history"], 1, &pl006);
    // `check -C` a subdirectory walks that directory's history: the same judgement.
    r.expect_json(&["check", "-C", "clusters"], 1, &pl006);
}

#[test]
fn a_single_root_import_is_still_trusted() {
    // The repository's first commit: prod already ahead of dev, dated long ago.
    let r = Repo::init("single-import");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:9.9.9"));
    r.git(&["add", "-A"]);
    git_dated(
        r.path(),
        "1970-01-02T00:00:00Z",
        &["commit", "-q", "-m", "Initial import"],
    );
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:1.1.0"));
    r.commit("dev: 1.1.0");
    let out = r.run(&["check"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, "promolint: 2 files checked: no findings\n");
    let out = r.run(&["status"]);
    expect_code(&out, 0);
    assert!(!out.stdout.contains('!'), "{}", out.stdout);
}

/// A Terraform file pinning `app_version` to `value` (at 2:18).
fn app_version(value: &str) -> String {
    format!("locals {{\n  app_version = \"{value}\"\n}}\n")
}

/// `dev` and `prod` pinning `app_version` in HCL, committed: v1 in both.
fn hcl_environments(tag: &str) -> Repo {
    let r = Repo::init(tag);
    r.write("envs/dev/main.tf", &app_version("v1"));
    r.write("envs/prod/main.tf", &app_version("v1"));
    r.commit("dev and prod on v1");
    r
}

/// Whether every `](`, `![`, `://` and `www.` of a markdown text is escaped (`\](`, `\!`,
/// `\://`, `www\.`): no link, image or bare URL can render from it.
fn no_links(md: &str) -> bool {
    let escaped = |pat: &str, at: usize| {
        md.match_indices(pat)
            .all(|(i, _)| md[..i + at].ends_with('\\'))
    };
    escaped("](", 0) && escaped("![", 0) && escaped("://", 0) && escaped("www.", 3)
}

#[test]
fn markdown_outputs_escape_links_and_images_from_values() {
    let r = hcl_environments("md-links");
    // Versions and environment names written to render as an image and a link.
    r.write("envs/dev/main.tf", &app_version("[x](https://evil)"));
    r.write(
        "envs/prod/main.tf",
        &app_version("![t](https://evil/x.png)"),
    );
    r.write(
        ".promolint.yaml",
        "environments:\n  - name: \"[d](https://evil)\"\n    paths: [\"envs/dev/**\"]\n  \
         - name: \"![p](https://evil/p.png)|x www.evil.com\"\n    after: [\"[d](https://evil)\"]\n    \
         protected: true\n    paths: [\"envs/prod/**\"]\n",
    );
    r.commit("hostile values");
    let reports = TempDir::new("md-links-reports");
    let summary = reports.path().join("summary.md");
    let out = r.run(&[
        "check",
        "--format",
        "markdown",
        "--summary",
        summary.to_str().expect("utf-8"),
    ]);
    expect_code(&out, 1);
    // As written in the markdown (raw strings: the backslashes are the escapes).
    let env = r"\!\[p\](https\://evil/p.png)\|x www\.evil.com";
    let (image, link) = (r"\!\[t\](https\://evil/x.png)", r"\[x\](https\://evil)");
    let dev = r"\[d\](https\://evil)";
    let row = format!(
        "| error | PL006 promotion-order | `envs/prod/main.tf:2:18` | {env} | {env} pins \
         app\\_version to {image}, which {dev} has not run ({dev} runs {link}) |\n"
    );
    assert!(out.stdout.contains(&row), "{}", out.stdout);
    assert!(no_links(&out.stdout), "{}", out.stdout);
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(text.contains(&row), "{text}");
    // The matrix of the summary and of `status --format markdown`: names, versions, mark.
    let matrix = format!(
        "| component | {dev} | {env} |\n|---|---|---|\n| `app_version` | {link} | {image} ⚠️ |\n"
    );
    assert!(text.contains(&matrix), "{text}");
    assert!(no_links(&text), "{text}");
    let out = r.run(&["status", "--format", "markdown"]);
    expect_code(&out, 0);
    assert_eq!(out.stdout, matrix);
}

#[test]
fn escape_and_bell_characters_in_github_and_human_outputs() {
    let r = Repo::init("gh-controls");
    r.write("envs/dev/versions.env", "TALOS_VERSION=v1.0.0\n");
    r.commit("dev");
    // ESC (a colour, a screen clear), BEL, DEL and the one-character CSI of C1, in a value and
    // in a file name.
    r.write_bytes(
        "envs/prod/versions.env",
        "TALOS_VERSION=v1\u{1b}[31m\u{7}\u{7f}\u{9b}2J\n".as_bytes(),
    );
    r.write_bytes("envs/prod/bell\u{7}\u{1b}[2J.env", b"\x00binary");
    r.commit("controls");
    // Shown as the human output shows them (raw strings: `\u{1b}` is text).
    let value = r"v1\u{1b}[31m\u{7}\u{7f}\u{9b}2J";
    for args in [&["check"][..], &["diff", "--base", "HEAD~1"], &["history"]] {
        let mut gh = args.to_vec();
        gh.extend_from_slice(&["--format", "github"]);
        let github = r.run(&gh);
        expect_code(&github, 1);
        assert!(github.stdout.contains(&format!(
            "::error file=envs/prod/versions.env,line=1,col=15,endLine=1,endColumn=27,title=PL006 promotion-order::prod pins TALOS_VERSION to {value}, which dev has not run (dev runs v1.0.0)%0A"
        )), "{}", github.stdout);
        assert!(
            github.stdout.contains(
                r"::error file=envs/prod/bell\u{7}\u{1b}[2J.env,line=1,col=1,title=PL000 unreadable-file::file skipped: binary file"
            ),
            "{}",
            github.stdout
        );
        // Human output (as on a terminal): in the message and in the quoted line.
        let human = r.run(args);
        expect_code(&human, 1);
        assert!(human.stdout.contains(&format!(
            "error[PL006]: prod pins TALOS_VERSION to {value}, which dev has not run (dev runs v1.0.0)\n"
        )));
        assert!(
            human
                .stdout
                .contains(&format!("1 | TALOS_VERSION={value}\n")),
            "{}",
            human.stdout
        );
        let mut md = args.to_vec();
        md.extend_from_slice(&["--format", "markdown"]);
        let markdown = r.run(&md);
        expect_code(&markdown, 1);
        assert!(
            markdown.stdout.contains(r"v1\\u{1b}"),
            "{}",
            markdown.stdout
        );
        // No control character but line breaks reaches any of them.
        for out in [&github, &human, &markdown] {
            assert!(
                !out.stdout.chars().any(|c| c.is_control() && c != '\n'),
                "{:?}",
                out.stdout
            );
        }
    }
}

/// `n` Deployments in one file, each of its own image of `len` characters, all `latest`.
fn many_images(n: usize, len: usize) -> String {
    (0..n)
        .map(|i| {
            let name = format!("{i:04}{}", "a".repeat(len));
            format!(
                "---\n{}",
                deployment(&format!("ghcr.io/acme/{name}:latest"))
            )
        })
        .collect()
}

#[test]
fn a_summary_of_many_findings_is_cut_under_1_mib() {
    let r = Repo::two_environments("summary-cut");
    // 200 findings whose rows take 6 KB each, and a matrix of 201 such components.
    r.write("clusters/prod/many.yaml", &many_images(200, 6000));
    r.commit("200 mutable images");
    let reports = TempDir::new("summary-cut-reports");
    let summary = reports.path().join("summary.md");
    let out = r.run(&["check", "--summary", summary.to_str().expect("utf-8"), "-q"]);
    expect_code(&out, 1);
    assert_eq!(out.stdout.matches("error[PL001]").count(), 200);
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(text.len() <= 900 * 1024, "{} bytes", text.len());
    let shown = text.matches("| error | PL001").count();
    assert!((100..200).contains(&shown), "{shown} rows");
    assert!(text.contains(&format!(
        "\n**{} of 200 findings left out of this summary** (it shows at most 200 rows and 900 KiB): the job's log and the report files list every finding, and so does `promolint check --format json`.\n",
        200 - shown
    )), "{}", &text[text.len().saturating_sub(2000)..]);
    assert!(text.ends_with(
        "\n**The promotion matrix is left out of this summary** (the summary stays under 900 KiB): `promolint status` prints it.\n\n"
    ));
}

// ----- writes and the pin ledger (issue 10) -----

/// The contents of `path`, or `None` when nothing is there.
fn contents(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

#[test]
fn report_files_that_are_symlinks_are_refused() {
    let r = Repo::two_environments("report-link");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    let outside = TempDir::new("report-link-outside");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "keep").expect("victim");
    // The documented GitHub and GitLab outputs, and the other report files.
    let cases = [
        (
            "--sarif",
            "promolint.sarif",
            "error: refusing to write the SARIF report to promolint.sarif: promolint.sarif is a symbolic link",
        ),
        (
            "--gitlab",
            "gl-code-quality-report.json",
            "error: refusing to write the GitLab report to gl-code-quality-report.json: gl-code-quality-report.json is a symbolic link",
        ),
        (
            "--json",
            "report.json",
            "error: refusing to write the JSON report to report.json: report.json is a symbolic link",
        ),
    ];
    for (flag, name, message) in cases {
        r.link(&victim, name);
        let out = r.run(&["check", flag, name]);
        expect_code(&out, 2);
        assert!(out.stderr.contains(message), "{flag}: {}", out.stderr);
        assert!(out.stderr.contains(
            "help: promolint writes no file through a symbolic link (one checked out from a repository can point anywhere)"
        ));
        // The main report still went to standard output.
        assert!(out.stdout.contains(LATEST), "{flag}: {}", out.stdout);
        assert_eq!(contents(&victim).as_deref(), Some("keep"), "{flag}");
        std::fs::remove_file(r.abs(name)).expect("unlink");
    }
    // --output, to an existing file and through a dangling link (which would create one).
    r.link(&victim, "out.json");
    let out = r.run(&["check", "--format", "json", "--output", "out.json"]);
    expect_failure(
        &out,
        &["error: refusing to write the report to out.json: out.json is a symbolic link"],
    );
    let created = outside.path().join("created.json");
    r.link(&created, "new.json");
    let out = r.run(&["status", "--output", "new.json"]);
    expect_failure(
        &out,
        &["refusing to write the report to new.json: new.json is a symbolic link"],
    );
    assert!(!created.exists(), "written through a dangling link");
    assert_eq!(contents(&victim).as_deref(), Some("keep"));
    // A regular file is replaced as before.
    r.write("plain.sarif", "old");
    let out = r.run(&["check", "--sarif", "plain.sarif"]);
    expect_code(&out, 1);
    assert!(contents(&r.abs("plain.sarif")).is_some_and(|s| s.contains("\"version\": \"2.1.0\"")));
}

#[test]
fn reports_under_a_symlinked_directory_are_refused() {
    let r = Repo::two_environments("report-dir-link");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    let outside = TempDir::new("report-dir-link-outside");
    r.link(outside.path(), "reports");
    let out = r.run(&["check", "--sarif", "reports/promolint.sarif"]);
    expect_code(&out, 2);
    assert!(
        out.stderr.contains(
            "error: refusing to write the SARIF report to reports/promolint.sarif: reports is a symbolic link"
        ),
        "{}",
        out.stderr
    );
    // Deeper, and with `..` through the link.
    r.mkdir("deploy");
    r.link(outside.path(), "deploy/out");
    let out = r.run(&["check", "--output", "deploy/out/../out/x.json"]);
    expect_failure(&out, &["deploy/out is a symbolic link"]);
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("outside").count(),
        0,
        "something was written outside the repository"
    );
    // Outside the repository the directories on the way are the caller's: a linked
    // temporary directory (`$RUNNER_TEMP`, `/tmp` on macOS) is fine.
    let temp = TempDir::new("report-dir-link-temp");
    let linked_temp = temp.path().join("runner-temp");
    symlink(outside.path(), &linked_temp).expect("symlink");
    let sarif = linked_temp.join("promolint.sarif");
    let out = r.run(&["check", "--sarif", sarif.to_str().expect("utf-8")]);
    expect_code(&out, 1);
    assert!(outside.path().join("promolint.sarif").is_file());
}

#[test]
fn the_step_summary_is_not_appended_through_a_symlink() {
    let r = Repo::two_environments("summary-link");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    let outside = TempDir::new("summary-link-outside");
    let victim = outside.path().join("victim.md");
    std::fs::write(&victim, "keep").expect("victim");
    r.link(&victim, "summary.md");
    let out = r.run(&["check", "--summary", "summary.md"]);
    expect_code(&out, 2);
    assert!(
        out.stderr.contains(
            "error: refusing to write the summary to summary.md: summary.md is a symbolic link"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(contents(&victim).as_deref(), Some("keep"));
    // The runner's summary file, outside the repository, is appended to (other steps
    // write to it too).
    let step_summary = outside.path().join("step_summary");
    std::fs::write(&step_summary, "# earlier step\n").expect("summary");
    let path = step_summary.to_str().expect("utf-8");
    expect_code(&r.run(&["check", "--summary", path]), 1);
    let text = contents(&step_summary).unwrap_or_default();
    assert!(
        text.starts_with("# earlier step\n") && text.contains("PL001"),
        "{text}"
    );
}

#[test]
fn init_force_does_not_write_through_a_symlink() {
    let r = Repo::two_environments("init-link");
    let outside = TempDir::new("init-link-outside");
    let victim = outside.path().join("victim.yaml");
    std::fs::write(&victim, "keep").expect("victim");
    r.link(&victim, ".promolint.yaml");
    let out = r.run(&["init", "--force"]);
    expect_failure(
        &out,
        &[
            "refusing to write the configuration to",
            ".promolint.yaml: .promolint.yaml is a symbolic link",
        ],
    );
    assert_eq!(contents(&victim).as_deref(), Some("keep"));
    // Without --force a link is a file that exists; a dangling one too.
    std::fs::remove_file(r.abs(".promolint.yaml")).expect("unlink");
    r.link(outside.path().join("new.yaml"), ".promolint.yaml");
    expect_failure(&r.run(&["init"]), &["already exists"]);
    assert!(!outside.path().join("new.yaml").exists());
    // --output through a linked directory of the repository.
    r.link(outside.path(), "conf");
    let out = r.run(&["init", "--output", "conf/promolint.yaml"]);
    expect_failure(&out, &["conf is a symbolic link"]);
    assert!(!outside.path().join("promolint.yaml").exists());
}

const STAGING_APP: &str = "clusters/staging/app.yaml";

/// dev, staging and prod on 1.0.0; dev moves to 2.0.0; prod moves to 2.0.0, skipping
/// staging (a PL006 error at prod's tag, 10:39). The three commits, oldest first.
fn skipped_staging(tag: &str) -> (Repo, [String; 3]) {
    let r = Repo::init(tag);
    for app in [DEV_APP, STAGING_APP, PROD_APP] {
        r.write(app, &deployment("ghcr.io/acme/backend:1.0.0"));
    }
    let c0 = r.commit("all on 1.0.0");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:2.0.0"));
    let c1 = r.commit("dev on 2.0.0");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:2.0.0"));
    let c2 = r.commit("prod on 2.0.0");
    (r, [c0, c1, c2])
}

/// The PL006 error of [`skipped_staging`].
fn staging_skipped() -> Found {
    found(
        "PL006",
        PROD_APP,
        10,
        39,
        "prod pins ghcr.io/acme/backend to 2.0.0, which staging has not run (staging runs 1.0.0): promote 2.0.0 through staging first, or roll prod back to 1.0.0",
    )
}

fn ledger_of(r: &Repo) -> PathBuf {
    r.abs(".git/promolint/pins.json")
}

/// Set the modification time of `path` (not of what a link points to) to two hours ago.
fn age(path: &Path) {
    let status = Command::new("touch")
        .args(["-h", "-d", "2 hours ago"])
        .arg(path)
        .status()
        .expect("touch");
    assert!(status.success());
}

#[test]
fn a_planted_ledger_temp_file_is_never_written_through() {
    let (r, _) = skipped_staging("ledger-temp-link");
    let outside = TempDir::new("ledger-temp-link-outside");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "keep").expect("victim");
    r.mkdir(".git/promolint");
    // Links named like the temporary files of this and earlier versions: an old one
    // (removed), and one as fresh as a concurrent run's (left alone, never opened).
    let old = r.abs(".git/promolint/pins.json.4242.tmp");
    let fresh = r.abs(".git/promolint/pins.json.4243.0.tmp");
    symlink(&victim, &old).expect("symlink");
    symlink(&victim, &fresh).expect("symlink");
    age(&old);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.contains(
        "error[PL006]: prod pins ghcr.io/acme/backend to 2.0.0, which staging has not run"
    ));
    assert_eq!(contents(&victim).as_deref(), Some("keep"));
    assert!(
        std::fs::symlink_metadata(&old).is_err(),
        "the stale link is still there"
    );
    assert!(std::fs::symlink_metadata(&fresh).is_ok_and(|m| m.file_type().is_symlink()));
    let ledger = std::fs::symlink_metadata(ledger_of(&r)).expect("the ledger was not written");
    assert!(ledger.is_file());
}

#[test]
fn stale_ledger_temp_files_are_removed() {
    let (r, _) = skipped_staging("ledger-temp-stale");
    r.mkdir(".git/promolint");
    // What a run killed while writing leaves behind: 5 MB each.
    let killed = r.abs(".git/promolint/pins.json.31337.tmp");
    let running = r.abs(".git/promolint/pins.json.31338.0.tmp");
    for f in [&killed, &running] {
        std::fs::write(f, vec![b' '; 5 << 20]).expect("temp");
    }
    age(&killed);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.contains(
        "error[PL006]: prod pins ghcr.io/acme/backend to 2.0.0, which staging has not run"
    ));
    assert!(
        !killed.exists(),
        "a temporary file of a killed run was not removed"
    );
    assert!(running.exists(), "a recent temporary file was removed");
}

#[test]
fn a_symlinked_ledger_directory_is_neither_read_nor_written() {
    let (r, [_, c1, _]) = skipped_staging("ledger-dir-link");
    let outside = TempDir::new("ledger-dir-link-outside");
    // A ledger that says staging ran 2.0.0 (it would clear the error if believed).
    let fake = format!(
        "{{\"key\":\"promolint {} ledger 2\",\"max_file_size\":4194304,\"commits\":{{\"{c1}\":[]}}}}",
        env!("CARGO_PKG_VERSION")
    );
    outside.write("pins.json", fake.as_bytes());
    r.link(outside.path(), ".git/promolint");
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(findings(&out), [staging_skipped()]);
    assert!(
        out.stderr.contains(
            "promolint: warning: .git/promolint is a symbolic link; the pin ledger is neither read nor written (remove the link to cache the history walk again)\n"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(contents(&outside.path().join("pins.json")), Some(fake));
    assert_eq!(std::fs::read_dir(outside.path()).expect("dir").count(), 1);
}

#[test]
fn a_ledger_that_is_a_fifo_does_not_hang_the_run() {
    let (r, _) = skipped_staging("ledger-fifo");
    r.mkdir(".git/promolint");
    let status = Command::new("mkfifo")
        .arg(ledger_of(&r))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // `run` kills a run over its time limit: opening the pipe for reading would block.
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.contains(
        "error[PL006]: prod pins ghcr.io/acme/backend to 2.0.0, which staging has not run"
    ));
    assert!(out.stderr.contains(
        "promolint: warning: the pin ledger .git/promolint/pins.json is not a regular file (a symbolic link, pipe or device); it was not read, and is replaced\n"
    ), "{}", out.stderr);
    let ledger = std::fs::symlink_metadata(ledger_of(&r)).expect("ledger");
    assert!(ledger.is_file(), "the pipe was not replaced by a ledger");
}

#[test]
fn a_ledger_linked_to_dev_zero_is_not_read() {
    let (r, _) = skipped_staging("ledger-dev-zero");
    r.mkdir(".git/promolint");
    symlink("/dev/zero", ledger_of(&r)).expect("symlink");
    let started = std::time::Instant::now();
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.contains(
        "error[PL006]: prod pins ghcr.io/acme/backend to 2.0.0, which staging has not run"
    ));
    // Read, /dev/zero never ends (the run would be killed at the time limit).
    assert!(started.elapsed() < LIMIT);
    assert!(out.stderr.contains(
        "the pin ledger .git/promolint/pins.json is not a regular file (a symbolic link, pipe or device); it was not read, and is replaced"
    ), "{}", out.stderr);
    let ledger = std::fs::symlink_metadata(ledger_of(&r)).expect("ledger");
    assert!(
        ledger.is_file() && ledger.len() < 10_000,
        "not rewritten: {ledger:?}"
    );
}

#[test]
fn an_oversized_ledger_is_ignored_and_rewritten() {
    let (r, _) = skipped_staging("ledger-oversized");
    r.mkdir(".git/promolint");
    // 200 MB (sparse): over the 64 MiB cap, so not read at all.
    let file = std::fs::File::create(ledger_of(&r)).expect("ledger");
    file.set_len(200 << 20).expect("set_len");
    drop(file);
    let out = r.run(&["check"]);
    expect_code(&out, 1);
    assert!(out.stdout.contains(
        "error[PL006]: prod pins ghcr.io/acme/backend to 2.0.0, which staging has not run"
    ));
    assert!(out.stderr.contains(
        "promolint: warning: the pin ledger .git/promolint/pins.json is larger than 64 MiB; it was not read, and is replaced\n"
    ), "{}", out.stderr);
    let len = std::fs::metadata(ledger_of(&r)).expect("ledger").len();
    assert!(
        len < 10_000,
        "the oversized ledger was not rewritten: {len} bytes"
    );
}

#[test]
fn a_fake_ledger_entry_does_not_clear_a_promotion_order_error() {
    let (r, [_, c1, c2]) = skipped_staging("ledger-fake");
    // What --no-cache says, in each command.
    let commands: [&[&str]; 3] = [
        &["check", "--format", "json"],
        &["diff", "--base", "HEAD~1", "--format", "json"],
        &["history", "--format", "json"],
    ];
    let uncached: Vec<Out> = commands
        .iter()
        .map(|args| {
            let mut args = args.to_vec();
            args.push("--no-cache");
            r.run(&args)
        })
        .collect();
    for out in &uncached {
        expect_code(out, 1);
        assert_eq!(findings(out), [staging_skipped()]);
    }
    assert_eq!(json(&uncached[2])["findings"][0]["commit"], c2.as_str());
    // An honest ledger; then one entry claims that commit c1 also moved staging to 2.0.0.
    expect_code(&r.run(&["history", "--format", "json"]), 1);
    let honest = std::fs::read_to_string(ledger_of(&r)).expect("ledger");
    let mut fake: serde_json::Value = serde_json::from_str(&honest).expect("ledger JSON");
    let entry = fake["commits"][c1.as_str()]
        .as_array_mut()
        .expect("c1's entry");
    let mut claim = entry[0].clone();
    assert_eq!(claim["path"], DEV_APP);
    claim["path"] = STAGING_APP.into();
    entry.push(claim);
    let fake = serde_json::to_string(&fake).expect("JSON");
    let short: String = c1.chars().take(7).collect();
    for (args, uncached) in commands.iter().zip(&uncached) {
        std::fs::write(ledger_of(&r), &fake).expect("plant");
        let out = r.run(args);
        expect_code(&out, 1);
        assert_eq!(out.stdout, uncached.stdout, "{args:?}");
        let warning = format!(
            "promolint: warning: the pin ledger .git/promolint/pins.json disagrees with the repository (commit {short}); it was discarded and rebuilt\n"
        );
        assert_eq!(out.stderr, warning, "{args:?}");
        // Rebuilt: the next run believes nothing it should not, and says nothing.
        let again = r.run(args);
        assert_eq!(again.stdout, uncached.stdout);
        assert_eq!(again.stderr, "");
        // Discarded, not patched: what the walk saw (`diff` walks up to its base only).
        let rebuilt = std::fs::read_to_string(ledger_of(&r)).expect("ledger");
        let rebuilt: serde_json::Value = serde_json::from_str(&rebuilt).expect("JSON");
        let honest: serde_json::Value = serde_json::from_str(&honest).expect("JSON");
        let entries = rebuilt["commits"].as_object().expect("commits");
        assert!(entries.contains_key(&c1), "{args:?}");
        for (commit, pins) in entries {
            assert_eq!(pins, &honest["commits"][commit], "{args:?}");
        }
    }
}

#[test]
fn a_missing_blob_is_reported_and_not_cached() {
    // staging ran bbbb222 (c1) before moving to cccc333; prod then pins bbbb222: fine, as long
    // as c1's blob of staging's file can be read. The tags are commit ids: a version that
    // only lags behind needs no history, one of no order does.
    let r = Repo::init("ledger-missing-blob");
    for app in [DEV_APP, STAGING_APP, PROD_APP] {
        r.write(app, &deployment("ghcr.io/acme/backend:aaaa111"));
    }
    r.commit("all on aaaa111");
    // dev moves with staging; staging's file differs from the others' (its own blob).
    let staging = |tag: &str| deployment(&format!("ghcr.io/acme/backend:{tag}")) + "# staging\n";
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:bbbb222"));
    r.write(STAGING_APP, &staging("bbbb222"));
    let c1 = r.commit("dev and staging on bbbb222");
    r.write(DEV_APP, &deployment("ghcr.io/acme/backend:cccc333"));
    r.write(STAGING_APP, &staging("cccc333"));
    r.commit("dev and staging on cccc333");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:bbbb222"));
    r.commit("prod on bbbb222");
    let blob = r.rev(&format!("{c1}:{STAGING_APP}"));
    let object = r.abs(&format!(".git/objects/{}/{}", &blob[..2], &blob[2..]));
    let saved = std::fs::read(&object).expect("loose object");
    std::fs::remove_file(&object).expect("remove object");
    // Without it, nothing says staging ran bbbb222: the error, and a warning naming the
    // commit, the file and the object.
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    assert_eq!(
        findings(&out),
        [found(
            "PL006",
            PROD_APP,
            10,
            39,
            "prod pins ghcr.io/acme/backend to bbbb222, which staging has not run (staging runs cccc333)"
        )]
    );
    let short: String = c1.chars().take(7).collect();
    assert!(
        out.stderr.contains(&format!(
            "promolint: warning: commit {short}: clusters/staging/app.yaml cannot be read (object {} is missing from the repository; fetch it again (`git fetch`) or check the repository with `git fsck`); the history is judged without its pins, and the commit is not cached",
            &blob[..12]
        )),
        "{}",
        out.stderr
    );
    let ledger = std::fs::read_to_string(ledger_of(&r)).expect("ledger");
    assert!(
        !ledger.contains(&c1),
        "the commit was cached without its pins"
    );
    // The object comes back: so does the answer.
    std::fs::write(&object, saved).expect("restore");
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 0);
    assert_eq!(findings(&out), []);
    assert_eq!(out.stderr, "");
    assert!(std::fs::read_to_string(ledger_of(&r))
        .expect("ledger")
        .contains(&c1));
    // A protected environment's own history cannot be read: nothing can judge its pins,
    // so the run fails closed, whatever the ledger remembers.
    let first = r.rev(&format!("HEAD~3:{PROD_APP}"));
    let object = r.abs(&format!(".git/objects/{}/{}", &first[..2], &first[2..]));
    std::fs::remove_file(&object).expect("remove object");
    for args in [&["check", "--no-cache"][..], &["diff", "--base", "HEAD~1"]] {
        let out = r.run(args);
        expect_failure(
            &out,
            &[
                "error: the history of prod, a protected environment, cannot be read: commit",
                "clusters/prod/app.yaml cannot be read (object",
                "help: promolint judges promotion order from the history; bring the missing objects back",
            ],
        );
    }
}

// ----- failing closed and bounds (issue 10) -----

/// A configuration that protects `deploy/blue` (a name zero config does not know), and a
/// `:latest` there: with the configuration it is an error, without it nothing. Dropping
/// the configuration would let it pass.
fn blue_repo(tag: &str) -> Repo {
    let r = Repo::init(tag);
    r.write(
        "config/promolint.yaml",
        "environments:\n  - name: blue\n    paths: [\"deploy/blue/**\"]\n    protected: true\n",
    );
    r.write(
        "deploy/blue/app.yaml",
        &deployment("ghcr.io/acme/backend:latest"),
    );
    r.commit("blue on latest");
    r
}

const BLUE_LATEST: &str = "blue pins ghcr.io/acme/backend to mutable tag `latest`";

/// Puts something at a path (a link, a directory, a FIFO).
type MakeEntry = dyn Fn(&Path);

#[test]
fn config_that_is_not_a_regular_file_is_exit_2() {
    let r = blue_repo("config-kinds");
    let config = r.abs(".promolint.yaml");
    // Control: the configuration, read through a link inside the repository, finds it;
    // zero config does not.
    r.link("config/promolint.yaml", ".promolint.yaml");
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    assert!(findings(&out).contains(&found("PL001", "deploy/blue/app.yaml", 10, 39, BLUE_LATEST)));
    std::fs::remove_file(&config).expect("rm");
    r.expect_json(&["check"], 0, &[]);

    let broken: [(&str, &MakeEntry, &str); 5] = [
        ("/dev/null", &|p| symlink("/dev/null", p).expect("link"), "the config file is a symlink to `/dev/null`, outside the repository; promolint does not follow symlinks out of the repository"),
        ("dangling", &|p| symlink("missing.yaml", p).expect("link"), "the config file is a symlink to `missing.yaml`, which does not exist"),
        ("directory", &|p| std::fs::create_dir(p).expect("mkdir"), "the config file is a directory, not a regular file"),
        ("FIFO", &|p| mkfifo(p), "the config file is a named pipe (FIFO), not a regular file"),
        ("link to a directory", &|p| symlink("config", p).expect("link"), "the config file is a symlink to `config`, which is a directory, not a regular file"),
    ];
    for (what, make, message) in broken {
        make(&config);
        for args in [&["check"][..], &["diff", "--base", "HEAD"], &["status"]] {
            let out = r.run(args);
            expect_failure(
                &out,
                &[&format!(
                    "error: invalid configuration: .promolint.yaml: {message}"
                )],
            );
            assert!(out.stderr.contains("\n  help: "), "{what}: {}", out.stderr);
        }
        let _ = std::fs::remove_dir(&config);
        let _ = std::fs::remove_file(&config);
    }
}

/// A FIFO at `path` (`mkfifo`).
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn broken_git_directory_is_exit_2_not_a_plain_directory() {
    let broken = [
        ("garbage-file", "Format should be 'gitdir: <path>'"),
        ("no-head", "Missing HEAD at \".git/HEAD\""),
        ("no-objects", "Expected an objects directory at"),
    ];
    for (tag, why) in broken {
        let r = Repo::plain(tag);
        r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
        match tag {
            "garbage-file" => r.write(".git", "garbage\n"),
            "no-head" => {
                git(r.path(), &["init", "-q"]);
                std::fs::remove_file(r.abs(".git/HEAD")).expect("rm HEAD");
            }
            _ => {
                git(r.path(), &["init", "-q"]);
                std::fs::remove_dir_all(r.abs(".git/objects")).expect("rm objects");
            }
        }
        let dot_git = r.abs(".git").canonicalize().expect("canonical");
        for args in [
            &["check"][..],
            &["status"],
            &["diff", "--base", "HEAD"],
            &["history"],
        ] {
            expect_failure(
                &r.run(args),
                &[
                    &format!(
                        "error: not a usable git repository: `{}` exists but is broken: ",
                        dot_git.display()
                    ),
                    why,
                    "help: repair it",
                    "promolint does not fall back to plain files where Git's data is broken",
                ],
            );
        }
    }
    // No `.git` at all up to the discovery ceiling: a plain directory, linted as such.
    let r = Repo::plain("no-git");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    r.expect_json(&["check"], 1, &[found("PL001", PROD_APP, 10, 39, LATEST)]);
}

/// `text` padded with comment lines to just over 4 MiB.
fn padded(text: &str) -> String {
    let mut out = text.to_string();
    let line = format!("# {}\n", "x".repeat(1022));
    while out.len() <= 4 << 20 {
        out.push_str(&line);
    }
    out
}

#[test]
fn padded_prod_manifest_over_the_size_limit_is_an_error() {
    let r = Repo::two_environments("padded");
    let manifest = padded(&deployment("ghcr.io/acme/backend:latest"));
    let size = manifest.len();
    r.write(PROD_APP, &manifest);
    r.commit("prod: latest, padded");
    let reason = format!("file is {size} bytes, over the size limit of 4194304 bytes");
    let error = [skipped(PROD_APP, &in_prod(&reason, SIZE_FIX))];
    r.expect_json(&["check"], 1, &error);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &error);
    }
    let out = r.run(&["diff", "--base", "HEAD~1"]);
    expect_code(&out, 1);
    assert!(out.stdout.starts_with(&format!(
        "error[PL000]: file skipped: {reason}; prod is protected, so a file promolint cannot read fails the check: split it into smaller files, or raise the limit for this run with `--max-file-size BYTES`\n--> {PROD_APP}:1:1\n"
    )), "{}", out.stdout);
    // The command line may raise the limit: then the file is read and judged.
    r.expect_json(
        &["check", "--max-file-size", "8388608"],
        1,
        &[found("PL001", PROD_APP, 10, 39, LATEST)],
    );
    // Elsewhere: a warning in an environment that is not protected, a note outside every
    // environment; neither fails at the default fail level.
    r.git(&["rm", "-q", PROD_APP]);
    r.write(DEV_APP, &manifest);
    r.write("charts/app/deployment.yaml", &manifest);
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 0);
    let levels: Vec<(String, String)> = json(&out)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["path"].to_string(), f["level"].to_string()))
        .collect();
    assert_eq!(
        levels,
        [
            ("\"charts/app/deployment.yaml\"".into(), "\"note\"".into()),
            (format!("\"{DEV_APP}\""), "\"warning\"".into()),
        ]
    );
}

#[test]
fn deep_yaml_document_in_prod_is_an_error() {
    let r = Repo::two_environments("deep-doc");
    let deep = format!(
        "{}---\nx: {}{}\n",
        deployment("ghcr.io/acme/backend:latest"),
        "[".repeat(70),
        "]".repeat(70)
    );
    r.write(PROD_APP, &deep);
    r.commit("prod: latest, and a deep document");
    let reason = "YAML nesting deeper than 64 (at line 12 column 70)";
    let want = [found(
        "PL000",
        PROD_APP,
        12,
        70,
        &format!("file skipped: {}", in_prod(reason, PARSE_FIX)),
    )];
    r.expect_json(&["check"], 1, &want);
    for args in CHANGE_COMMANDS {
        r.expect_json(args, 1, &want);
    }
    // A comment cannot vouch for a file that does not parse.
    r.write(
        PROD_APP,
        &deep.replace("---\nx:", "---\n# promolint: ignore[PL000] fine\nx:"),
    );
    let out = r.run(&["check", "--format", "json"]);
    expect_code(&out, 1);
    let got: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
    assert_eq!(got, ["PL011", "PL000"]);
}

/// promolint run as an unprivileged user when the tests run as root (root reads a
/// directory of mode 000 anyway): `setpriv` to `nobody`.
fn run_unprivileged(dir: &Path, args: &[&str]) -> Out {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return run(dir, args);
    }
    let bin = env!("CARGO_BIN_EXE_promolint");
    let out = common::promolint(dir, args)
        .get_envs()
        .fold(
            {
                let mut c = Command::new("setpriv");
                c.args([
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    "--",
                    bin,
                ])
                .args(args)
                .current_dir(dir)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default());
                c
            },
            |mut c, (k, v)| {
                match v {
                    Some(v) => c.env(k, v),
                    None => c.env_remove(k),
                };
                c
            },
        )
        .output()
        .expect("setpriv");
    Out {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn unreadable_directory_is_exit_2() {
    for r in [
        Repo::two_environments("unreadable-dir"),
        Repo::plain("unreadable-dir-plain"),
    ] {
        r.write(PROD_APP, &deployment("ghcr.io/acme/backend:1.0.0"));
        r.write(
            "clusters/prod/hidden/app.yaml",
            &deployment("ghcr.io/acme/backend:latest"),
        );
        let hidden = r.abs("clusters/prod/hidden");
        let mut perms = std::fs::metadata(&hidden).expect("dir").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
        std::fs::set_permissions(&hidden, perms).expect("chmod");
        for args in [&["check"][..], &["status"]] {
            expect_failure(
                &run_unprivileged(r.path(), args),
                &[
                    "error: cannot read the directory `clusters/prod/hidden`: Permission denied (os error 13)",
                    "help: make it readable for the user running promolint (`chmod u+rx`)",
                ],
            );
        }
        let mut perms = std::fs::metadata(&hidden).expect("dir").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&hidden, perms).expect("chmod");
    }
}

#[test]
fn check_path_that_is_a_fifo_or_a_directory_symlink_is_exit_2() {
    let r = Repo::two_environments("path-kinds");
    r.write(
        "clusters/prod/real/app.yaml",
        &deployment("ghcr.io/acme/backend:latest"),
    );
    mkfifo(&r.abs("clusters/prod/pipe.yaml"));
    r.link("real", "clusters/prod/alias");
    expect_failure(
        &r.run(&["check", "clusters/prod/pipe.yaml"]),
        &[
            "error: `clusters/prod/pipe.yaml` is a named pipe (FIFO): promolint checks regular files and directories",
        ],
    );
    expect_failure(
        &r.run(&["check", "clusters/prod/alias"]),
        &[
            "error: `clusters/prod/alias` is a symlink to a directory, which promolint does not follow",
            "help: name the directory itself",
        ],
    );
    // The directory itself is checked.
    r.expect_json(
        &["check", "clusters/prod/real"],
        1,
        &[found(
            "PL001",
            "clusters/prod/real/app.yaml",
            10,
            39,
            LATEST,
        )],
    );
}

/// A Flux lab: production's ImagePolicy with `pattern`, an overlay whose setter marker
/// names it, and an ImageUpdateAutomation writing `./apps`.
fn flux_lab(r: &Repo, pattern: &str) {
    r.write(
        "apps/backend/production/image-policy.yaml",
        &format!(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  \
             name: backend\n  namespace: production\nspec:\n  imageRepositoryRef:\n    \
             name: backend\n  filterTags:\n    pattern: '{pattern}'\n    extract: '$ts'\n  \
             policy:\n    numerical:\n      order: asc\n"
        ),
    );
    r.write(
        "apps/backend/production/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - \
         name: ghcr.io/acme/backend\n    newTag: production-v1.2.3-1712345678 # \
         {\"$imagepolicy\": \"production:backend:tag\"}\n",
    );
    r.write("apps/backend/staging/kustomization.yaml", "images: []\n");
    r.write(
        "clusters/lab/image-update-automation.yaml",
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageUpdateAutomation\n\
         metadata:\n  name: apps\n  namespace: production\nspec:\n  sourceRef:\n    \
         kind: GitRepository\n    name: flux-system\n  update:\n    path: ./apps\n    \
         strategy: Setters\n",
    );
}

#[test]
fn too_complex_prod_policy_is_a_pl003_and_pl010_error() {
    let broad = r"^(staging|production)-v(?P<version>[0-9.]+)-(?P<ts>[0-9]+)";
    let policy = "apps/backend/production/image-policy.yaml";
    let automation = "clusters/lab/image-update-automation.yaml";
    let writes = "Flux ImageUpdateAutomation `production/apps` writes `apps/backend/production/kustomization.yaml` of protected environment production through policy `production:backend`, which is not restricted to production's tags: ";
    // Control: analysed, the broad pattern is a PL003 and a PL010 error.
    let r = Repo::init("complex-control");
    flux_lab(&r, &format!("{broad}$"));
    r.expect_json(
        &["check"],
        1,
        &[
            found("PL003", policy, 10, 15, "production policy `backend`: policy admits `staging-v.-0`, a tag of another environment (`staging`)"),
            found("PL010", automation, 11, 11, &format!("{writes}it admits `staging-v.-0`, a tag of staging")),
        ],
    );
    // The same pattern with a group that makes its automaton too big: still both errors.
    let r = Repo::init("complex");
    flux_lab(&r, &format!("{broad}(-.{{0,200}}x.{{0,200}})?$"));
    r.commit("complex policy");
    let dfa = "its DFA exceeds 1048576 bytes";
    let want = [
        found("PL003", policy, 10, 15, &format!("production policy `backend`: tag pattern is too complex to analyse ({dfa}); the tags it admits were not checked; production is protected, so a tag policy promolint cannot check fails the check: simplify the pattern to an anchored prefix and version, without long bounded repeats such as `.{{0,200}}`")),
        found("PL010", automation, 11, 11, &format!("{writes}its pattern is too complex to analyse ({dfa}), so it cannot be shown to admit only production's tags")),
    ];
    r.expect_json(&["check"], 1, &want);
    r.expect_json(&["history"], 1, &want);
}

#[test]
fn repository_max_file_size_is_capped() {
    let r = Repo::two_environments("size-cap");
    r.write(".promolint.yaml", "max_file_size: 3000000000\n");
    for args in [
        &["check"][..],
        &["diff", "--base", "HEAD"],
        &["history"],
        &["status"],
    ] {
        expect_failure(
            &r.run(args),
            &[
                "error: invalid configuration: .promolint.yaml:1:16: `max_file_size`: `max_file_size` is 3000000000 bytes; a configuration file may raise it to 67108864 bytes (64 MiB) at most",
                "help: lower it, or let whoever runs promolint raise the limit with `--max-file-size BYTES` on the command line",
            ],
        );
    }
    // At the cap it is accepted; the command line overrides it either way.
    r.write(".promolint.yaml", "max_file_size: 67108864\n");
    r.expect_json(&["check"], 0, &[]);
    let reason = "file is 177 bytes, over the size limit of 100 bytes";
    r.expect_json(
        &["check", "--max-file-size", "100"],
        1,
        &[
            skipped(DEV_APP, reason),
            skipped(PROD_APP, &in_prod(reason, SIZE_FIX)),
        ],
    );
    let out = r.run(&["check", "--max-file-size", "0"]);
    expect_code(&out, 2);
    assert!(out.stderr.contains("--max-file-size"), "{}", out.stderr);
}

#[test]
fn jobs_20000_finishes() {
    let r = Repo::two_environments("jobs");
    r.write(PROD_APP, &deployment("ghcr.io/acme/backend:latest"));
    r.commit("prod: latest");
    let pl001 = [found("PL001", PROD_APP, 10, 39, LATEST)];
    for args in [&["check"][..], &["diff", "--base", "HEAD~1"], &["history"]] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--jobs", "20000", "--format", "json"]);
        let out = r.run(&all);
        expect_code(&out, 1);
        assert_eq!(findings(&out), pl001, "{args:?}");
        assert!(
            out.stderr
                .starts_with("promolint: --jobs 20000 is more than this machine can use; running ")
                && out
                    .stderr
                    .ends_with(" worker threads (one per thread it can run)\n"),
            "{}",
            out.stderr
        );
    }
    expect_failure(
        &r.run(&["check", "--jobs", "0"]),
        &["error: --jobs must be at least 1"],
    );
}

// ----- the table in docs/reliability.md -----

/// A row of the case table: its case, exit codes, message fragment and test.
#[derive(Debug)]
struct Row {
    case: String,
    codes: Vec<i32>,
    fragment: String,
    test: String,
}

/// The code spans of a markdown cell (any number of backticks as delimiters).
fn code_spans(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = cell;
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let fence = "`".repeat(ticks);
        let after = &rest[start + ticks..];
        let Some(end) = after.find(&fence) else {
            break;
        };
        out.push(after[..end].trim().to_string());
        rest = &after[end + ticks..];
    }
    out
}

/// The rows of the table under `## Cases`.
fn table_rows(doc: &str) -> Vec<Row> {
    let section = doc
        .split("\n## Cases")
        .nth(1)
        .expect("a `## Cases` section")
        .split("\n## ")
        .next()
        .unwrap_or_default();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.len() != 5 || cells[0] == "Case" || cells[0].starts_with("---") {
            continue;
        }
        let codes = cells[3]
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("exit code"))
            .collect();
        let fragment = code_spans(cells[2]).into_iter().next().unwrap_or_default();
        let test = code_spans(cells[4]).into_iter().next().unwrap_or_default();
        rows.push(Row {
            case: cells[0].to_string(),
            codes,
            fragment,
            test,
        });
    }
    rows
}

/// The source of test function `name` in `tests/{file}.rs`: from `fn name(` to the next
/// line that is a lone `}`.
fn test_body(file: &str, name: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/{file}.rs"));
    let source = std::fs::read_to_string(path).ok()?;
    let start = source.find(&format!("\nfn {name}() {{\n"))?;
    let body = &source[start..];
    let end = body.find("\n}\n")?;
    Some(body[..end].to_string())
}

/// The argument lists of every call of `name` in `source` (white space removed), split at
/// their top-level commas. String literals are skipped over, so brackets and commas in
/// them do not count.
fn calls(source: &str, name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (at, _) in source.match_indices(&format!("{name}(")) {
        let mut args = vec![String::new()];
        let mut depth = 0usize;
        let mut chars = source[at + name.len() + 1..].chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    let last = args.last_mut().expect("an argument");
                    last.push('"');
                    while let Some(s) = chars.next() {
                        last.push(s);
                        if s == '\\' {
                            last.extend(chars.next());
                        } else if s == '"' {
                            break;
                        }
                    }
                    continue;
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    args.push(String::new());
                    continue;
                }
                c if c.is_whitespace() => continue,
                _ => {}
            }
            args.last_mut().expect("an argument").push(c);
        }
        args.retain(|a| !a.is_empty());
        out.push(args);
    }
    out
}

/// Whether `body` asserts exit `code`: `expect_code(out, code)`, `expect_json(args, code,
/// want)`, or, for 2, `expect_failure(…)` or `refused_config(…)`.
fn asserts_code(body: &str, code: i32) -> bool {
    let code = code.to_string();
    calls(body, "expect_code")
        .iter()
        .any(|args| args.last() == Some(&code))
        || calls(body, "expect_json")
            .iter()
            .any(|args| args.get(1) == Some(&code))
        || (code == "2" && (body.contains("expect_failure(") || body.contains("refused_config(")))
}

#[test]
fn the_reliability_table_and_the_tests_agree() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md"))
            .expect("docs/reliability.md");
    let rows = table_rows(&doc);
    assert!(rows.len() >= 30, "{} rows", rows.len());
    // The checks can say no.
    let empty = test_body("hostile", "empty_files").expect("empty_files");
    assert!(asserts_code(&empty, 0) && !asserts_code(&empty, 1) && !asserts_code(&empty, 2));
    assert!(test_body("hostile", "no_such_test").is_none());
    let mut named = Vec::new();
    for row in &rows {
        let (file, name) = row
            .test
            .split_once("::")
            .unwrap_or_else(|| panic!("{}: the test is written `file::name`", row.case));
        let body = test_body(file, name)
            .unwrap_or_else(|| panic!("{}: no test `{name}` in tests/{file}.rs", row.case));
        assert!(
            !row.fragment.is_empty(),
            "{}: no message in backticks",
            row.case
        );
        assert!(
            body.contains(&row.fragment),
            "{}: `{}` does not assert `{}`",
            row.case,
            row.test,
            row.fragment
        );
        assert!(!row.codes.is_empty(), "{}: no exit code", row.case);
        for code in &row.codes {
            assert!(
                asserts_code(&body, *code),
                "{}: `{}` does not assert exit {code}",
                row.case,
                row.test
            );
        }
        if file == "hostile" {
            named.push(name.to_string());
        }
    }
    // Every test of this file has a row (but this one).
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile.rs"))
            .expect("tests/hostile.rs");
    let tests: Vec<&str> = source
        .split("#[test]\nfn ")
        .skip(1)
        .filter_map(|s| s.split('(').next())
        .filter(|name| *name != "the_reliability_table_and_the_tests_agree")
        .collect();
    for test in &tests {
        assert!(
            named.iter().any(|n| n == test),
            "test `{test}` has no row in docs/reliability.md"
        );
    }
    assert!(tests.len() >= 25, "{} tests", tests.len());
}
