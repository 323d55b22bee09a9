//! Exit codes of every command, table-driven (DESIGN §4): 0 nothing at or above the fail
//! level, 1 findings at or above it, 2 the run could not be done. The output format never
//! changes the code, and a failure to write an output is never 0.

mod common;

use common::{git, run, Out, TempDir};
use std::path::Path;

const OK: i32 = 0;
const FINDINGS: i32 = 1;
const FAILURE: i32 = 2;

#[track_caller]
fn expect(dir: &Path, args: &[&str], code: i32) -> Out {
    let out = run(dir, args);
    assert_eq!(
        out.code, code,
        "promolint {args:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout, out.stderr
    );
    if code == FAILURE {
        assert!(
            out.stderr.starts_with("error: "),
            "{args:?}: {}",
            out.stderr
        );
    }
    out
}

fn deployment(image: &str, label: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: backend\n  labels:\n    \
         team: {label}\nspec:\n  template:\n    spec:\n      containers:\n        - name: \
         backend\n          image: {image}\n"
    )
}

/// dev and prod on 1.0.0, then one change: dev to `latest` (a PL001 warning, dev is not
/// protected), prod relabelled (still 1.0.0, without a digest: a PL009 error when
/// selected), a binary manifest outside every environment (a PL000 note; in prod it would
/// be an error). With `staged`, the change is
/// staged on the first commit; else it is committed.
fn scenario(tag: &str, staged: bool) -> TempDir {
    let dir = TempDir::new(tag);
    let p = dir.path();
    git(p, &["init", "-q", "-b", "main"]);
    dir.write(
        "clusters/dev/app.yaml",
        deployment("ghcr.io/acme/backend:1.0.0", "a").as_bytes(),
    );
    dir.write(
        "clusters/prod/app.yaml",
        deployment("ghcr.io/acme/backend:1.0.0", "a").as_bytes(),
    );
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "dev and prod on 1.0.0"]);
    dir.write(
        "clusters/dev/app.yaml",
        deployment("ghcr.io/acme/backend:latest", "a").as_bytes(),
    );
    dir.write(
        "clusters/prod/app.yaml",
        deployment("ghcr.io/acme/backend:1.0.0", "b").as_bytes(),
    );
    dir.write("vendor/blob.yaml", b"\x00binary");
    git(p, &["add", "-A"]);
    if !staged {
        git(p, &["commit", "-q", "-m", "the change"]);
    }
    dir
}

const FORMATS: [&str; 6] = ["human", "json", "sarif", "github", "gitlab", "markdown"];
const LEVELS: [&str; 4] = ["error", "warning", "note", "never"];

/// A selection of rules and the highest level of what it finds in [`scenario`] (0 none,
/// 1 note, 2 warning, 3 error), with the counts (errors, warnings, notes) it must give.
const SELECTIONS: [(&str, u8, [u64; 3]); 4] = [
    ("PL004", 0, [0, 0, 0]),
    ("PL000", 1, [0, 0, 1]),
    ("PL001", 2, [0, 1, 0]),
    ("PL009", 3, [1, 0, 0]),
];

/// The rank a fail level starts at (`never`: above everything).
fn threshold(level: &str) -> u8 {
    match level {
        "note" => 1,
        "warning" => 2,
        "error" => 3,
        _ => u8::MAX,
    }
}

#[test]
fn findings_below_at_and_above_every_fail_level_in_every_format() {
    let committed = scenario("codes-committed", false);
    let staged = scenario("codes-staged", true);
    let commands: [(&Path, &[&str]); 4] = [
        (committed.path(), &["check"]),
        (committed.path(), &["diff", "--base", "HEAD~1"]),
        (committed.path(), &["history", "--range", "HEAD~1..HEAD"]),
        (staged.path(), &["staged"]),
    ];
    for (dir, command) in commands {
        for (select, highest, counts) in SELECTIONS {
            // The scenario gives what the selection promises.
            let mut args = command.to_vec();
            args.extend_from_slice(&["--select", select, "--format", "json"]);
            let out = run(dir, &args);
            let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
            let summary = &json["summary"];
            assert_eq!(
                [&summary["errors"], &summary["warnings"], &summary["notes"]]
                    .map(|v| v.as_u64().expect("count")),
                counts,
                "{command:?} --select {select}"
            );
            for level in LEVELS {
                let want = if highest >= threshold(level) && highest > 0 {
                    FINDINGS
                } else {
                    OK
                };
                for format in FORMATS {
                    let mut args = command.to_vec();
                    args.extend_from_slice(&[
                        "--select",
                        select,
                        "--fail-level",
                        level,
                        "--format",
                        format,
                    ]);
                    expect(dir, &args, want);
                }
            }
        }
        // The default fail level is `error`; the default rules find a warning and a note.
        expect(dir, command, OK);
        let mut args = command.to_vec();
        args.extend_from_slice(&["--fail-level", "warning"]);
        expect(dir, &args, FINDINGS);
    }
}

#[test]
fn commands_without_findings() {
    let r = scenario("codes-other", false);
    let p = r.path();
    for (args, code) in [
        // status reports, it does not judge: findings never make it 1.
        (&["status"][..], OK),
        (&["status", "--format", "json"], OK),
        (&["status", "--format", "markdown"], OK),
        (&["status", "--fail-level", "note"], OK),
        (&["status", "--format", "sarif"], FAILURE),
        (&["explain", "PL001"], OK),
        (&["explain", "mutable-reference"], OK),
        (&["explain", "PL999"], FAILURE),
        (&["rules"], OK),
        (&["rules", "--format", "json"], OK),
        (&["rules", "--format", "github"], FAILURE),
        (&["init", "--stdout"], OK),
        (&["schema"], OK),
        (&["completions", "bash"], OK),
        (&["completions", "zsh"], OK),
        (&["man"], OK),
        (&["man", "check"], OK),
        (&["man", "nope"], FAILURE),
        (&["schema", "--sarif", "x.sarif"], FAILURE),
        (&["nope"], FAILURE),
        (&["check", "--format", "xml"], FAILURE),
        (&["--version"], OK),
        (&["--help"], OK),
    ] {
        expect(p, args, code);
    }
    // init writes the file once; again only with --force.
    expect(p, &["init"], OK);
    assert!(p.join(".promolint.yaml").is_file());
    let out = expect(p, &["init"], FAILURE);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    expect(p, &["init", "--force"], OK);
    let out = expect(p, &["init", "--stdout", "--output", "x.yaml"], FAILURE);
    assert!(
        out.stderr
            .contains("`--stdout` and `--output x.yaml` both say where to write the configuration"),
        "{}",
        out.stderr
    );
}

#[test]
fn runs_that_cannot_be_done() {
    let r = scenario("codes-fail", false);
    let p = r.path();
    // A bad configuration: every command that reads one.
    r.write(".promolint.yaml", b"environments: 3\n");
    for args in [
        &["check"][..],
        &["diff", "--base", "HEAD~1"],
        &["staged"],
        &["history"],
        &["status"],
    ] {
        let out = expect(p, args, FAILURE);
        assert!(
            out.stderr
                .starts_with("error: invalid configuration: .promolint.yaml:1:15:"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // … whatever the fail level or format.
    expect(
        p,
        &["check", "--fail-level", "never", "--format", "sarif"],
        FAILURE,
    );
    std::fs::remove_file(p.join(".promolint.yaml")).expect("rm");

    // Bad revisions and ranges.
    for args in [
        &["diff", "--base", "nope"][..],
        &["diff", "--base", "HEAD~1", "--head", "nope"],
        &["history", "--range", "nope..HEAD"],
        &["history", "--range", "a..b..c"],
        &["check", "--fail-level", "never", "--select", "nope"],
        &["check", "--jobs", "0"],
        &["history", "--jobs", "0"],
    ] {
        expect(p, args, FAILURE);
    }

    // Not a repository: the git modes fail, check and status read the directory.
    let plain = TempDir::new("codes-plain");
    plain.write(
        "clusters/prod/app.yaml",
        deployment("ghcr.io/acme/backend:latest", "a").as_bytes(),
    );
    for args in [&["diff"][..], &["staged"], &["history"]] {
        let out = expect(plain.path(), args, FAILURE);
        assert!(
            out.stderr.contains("not a git repository"),
            "{}",
            out.stderr
        );
    }
    expect(plain.path(), &["check"], FINDINGS);
    expect(plain.path(), &["status"], OK);

    // A shallow clone missing the base.
    let clone = TempDir::new("codes-shallow");
    let url = format!("file://{}", p.display());
    git(clone.path(), &["clone", "-q", "--depth", "1", &url, "."]);
    for args in [&["history"][..], &["diff", "--base", "HEAD~1"]] {
        let out = expect(clone.path(), args, FAILURE);
        assert!(
            out.stderr.contains("git fetch --unshallow"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn a_report_that_cannot_be_written_is_exit_2_naming_the_file() {
    let r = scenario("codes-output", false);
    let p = r.path();
    let missing = p.join("no/such/dir/report.txt");
    let missing = missing.to_str().expect("utf-8");
    let directory = p.join("clusters");
    let directory = directory.to_str().expect("utf-8");
    let commands: [&[&str]; 11] = [
        &["check"],
        &["diff", "--base", "HEAD~1"],
        &["history"],
        &["status"],
        &["explain", "PL001"],
        &["rules"],
        &["schema"],
        &["completions", "bash"],
        &["man"],
        &["man", "check"],
        &["init"],
    ];
    for command in commands {
        for (target, why) in [
            (missing, "No such file or directory"),
            (directory, "directory"),
        ] {
            let mut args = command.to_vec();
            args.extend_from_slice(&["--output", target]);
            // Even when nothing would fail the run.
            if !matches!(
                command[0],
                "status" | "explain" | "rules" | "schema" | "completions" | "man" | "init"
            ) {
                args.extend_from_slice(&["--fail-level", "never"]);
            }
            let out = expect(p, &args, FAILURE);
            let first = out.stderr.lines().next().unwrap_or_default();
            assert!(
                first.contains(&format!("to {target}")) && first.contains(why),
                "{args:?}: {}",
                out.stderr
            );
        }
    }
    // staged, with something staged, and the other report files.
    let staged = scenario("codes-output-staged", true);
    let out = expect(staged.path(), &["staged", "--output", missing], FAILURE);
    assert!(out
        .stderr
        .contains(&format!("cannot write the report to {missing}")));
    for flag in ["--sarif", "--json", "--gitlab", "--summary"] {
        let out = expect(
            p,
            &["check", "--fail-level", "never", flag, missing],
            FAILURE,
        );
        assert!(out.stderr.contains(missing), "{flag}: {}", out.stderr);
    }
    // Written fine, the findings decide.
    let report = p.join("report.json");
    let report = report.to_str().expect("utf-8");
    expect(
        p,
        &["check", "--fail-level", "warning", "--output", report],
        FINDINGS,
    );
    let written = std::fs::read_to_string(report).expect("report");
    assert!(
        written
            .starts_with("warning[PL001]: dev pins ghcr.io/acme/backend to mutable tag `latest`\n"),
        "{written}"
    );
}
