//! Environment variables: `PROMOLINT_CONFIG` and `PROMOLINT_FORMAT` stand for `--config` and
//! `--format` (the option wins; set but empty is unset), and `--color auto` follows
//! `NO_COLOR`, `CLICOLOR_FORCE`, `FORCE_COLOR` and `CLICOLOR`. Every run here starts from an
//! environment with none of them set, so the caller's own settings do not leak in.

mod common;

use common::{copy_tree, fixture, TempDir};
use std::path::Path;
use std::process::Command;

const VARIABLES: [&str; 6] = [
    "PROMOLINT_CONFIG",
    "PROMOLINT_FORMAT",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "FORCE_COLOR",
];

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// promolint in `dir` with `args` and exactly the variables `vars` of the six above.
fn run(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_promolint"));
    cmd.args(args)
        .current_dir(dir)
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir());
    for v in VARIABLES {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run promolint");
    let out = Out {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out
}

fn lab() -> TempDir {
    let dir = TempDir::new("env-vars");
    copy_tree(&fixture("flux-image-lab"), dir.path());
    dir
}

const ANSI: &str = "\u{1b}[";

#[test]
fn promolint_format_is_the_default_format_and_the_option_wins() {
    let dir = lab();
    let json = run(dir.path(), &["check"], &[("PROMOLINT_FORMAT", "json")]);
    assert_eq!(json.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(doc["version"], 1);

    let explicit = run(
        dir.path(),
        &["check", "--format", "json"],
        &[("PROMOLINT_FORMAT", "sarif")],
    );
    assert_eq!(explicit.stdout, json.stdout, "--format beats the variable");

    // Set but empty is unset: the human report.
    let human = run(dir.path(), &["check"], &[("PROMOLINT_FORMAT", "")]);
    let plain = run(dir.path(), &["check"], &[]);
    assert_eq!(human.code, 1);
    assert_eq!(human.stdout, plain.stdout);
    assert!(human.stdout.contains("error[PL001]"), "{}", human.stdout);

    // A bad value is a usage error, exit 2, like a bad option value.
    let bad = run(dir.path(), &["check"], &[("PROMOLINT_FORMAT", "yaml")]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stdout, "");
    assert!(
        bad.stderr
            .contains("invalid value 'yaml' for '--format <FORMAT>'"),
        "{}",
        bad.stderr
    );
}

#[test]
fn promolint_config_is_the_default_config_and_the_option_wins() {
    let dir = lab();
    std::fs::write(
        dir.path().join("quiet.yaml"),
        "rules:\n  PL001: off\n  PL002: off\n  PL003: off\n  PL009: off\n",
    )
    .expect("write config");
    std::fs::write(dir.path().join("empty.yaml"), "{}\n").expect("write config");

    let default = run(dir.path(), &["check", "--format", "json"], &[]);
    assert_eq!(default.code, 1);
    assert!(default.stdout.contains("\"rule\": \"PL001\""));

    let env = run(
        dir.path(),
        &["check", "--format", "json"],
        &[("PROMOLINT_CONFIG", "quiet.yaml")],
    );
    assert!(
        !env.stdout.contains("\"rule\": \"PL001\""),
        "PROMOLINT_CONFIG was not read:\n{}",
        env.stdout
    );
    let option = run(
        dir.path(),
        &["check", "--format", "json", "--config", "quiet.yaml"],
        &[],
    );
    assert_eq!(env.stdout, option.stdout);
    assert_eq!(env.code, option.code);

    let wins = run(
        dir.path(),
        &["check", "--format", "json", "--config", "empty.yaml"],
        &[("PROMOLINT_CONFIG", "quiet.yaml")],
    );
    assert!(
        wins.stdout.contains("\"rule\": \"PL001\""),
        "--config beats PROMOLINT_CONFIG"
    );

    let missing = run(
        dir.path(),
        &["check"],
        &[("PROMOLINT_CONFIG", "no-such.yaml")],
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .starts_with("error: invalid configuration: no-such.yaml"),
        "{}",
        missing.stderr
    );
}

#[test]
fn colour_follows_the_conventions_when_piped() {
    let dir = lab();
    let coloured = |vars: &[(&str, &str)], args: &[&str]| {
        let out = run(dir.path(), &[&["check"], args].concat(), vars);
        assert_eq!(out.code, 1, "{}", out.stderr);
        out.stdout.contains(ANSI)
    };
    // Piped (not a terminal): no colour unless forced.
    assert!(!coloured(&[], &[]));
    assert!(coloured(&[("CLICOLOR_FORCE", "1")], &[]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "0")], &[]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "")], &[]));
    assert!(coloured(&[("FORCE_COLOR", "1")], &[]));
    assert!(coloured(&[("FORCE_COLOR", "true")], &[]));
    assert!(coloured(&[("FORCE_COLOR", "3")], &[]));
    assert!(!coloured(&[("FORCE_COLOR", "0")], &[]));
    assert!(!coloured(&[("FORCE_COLOR", "false")], &[]));
    // NO_COLOR wins over forcing; an explicit --color wins over everything.
    assert!(!coloured(
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
        &[]
    ));
    assert!(!coloured(&[("NO_COLOR", "1"), ("FORCE_COLOR", "1")], &[]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "1")], &["--color", "never"]));
    assert!(coloured(&[("NO_COLOR", "1")], &["--color", "always"]));
    // Forcing is for the terminal's stream: a report file gets no colour.
    let out = run(
        dir.path(),
        &["check", "--output", "report.txt"],
        &[("CLICOLOR_FORCE", "1"), ("FORCE_COLOR", "1")],
    );
    assert_eq!(out.code, 1);
    let report = std::fs::read_to_string(dir.path().join("report.txt")).expect("report");
    assert!(report.contains("error[PL001]") && !report.contains(ANSI));
    // Machine formats never carry colour.
    let out = run(
        dir.path(),
        &["check", "--format", "json"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!out.stdout.contains(ANSI));
}

#[test]
fn auto_colour_decision_table() {
    use promolint::run::auto_color;
    let with = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| std::ffi::OsString::from(v))
        }
    };
    assert!(auto_color(with(&[]), true));
    assert!(!auto_color(with(&[]), false));
    assert!(!auto_color(with(&[("NO_COLOR", "1")]), true));
    assert!(
        auto_color(with(&[("NO_COLOR", "")]), true),
        "empty NO_COLOR"
    );
    assert!(!auto_color(with(&[("CLICOLOR", "0")]), true));
    assert!(auto_color(
        with(&[("CLICOLOR", "0"), ("CLICOLOR_FORCE", "1")]),
        false
    ));
    assert!(auto_color(
        with(&[("CLICOLOR", "0"), ("FORCE_COLOR", "2")]),
        false
    ));
    assert!(!auto_color(with(&[("FORCE_COLOR", "FALSE")]), false));
}

#[test]
fn help_names_the_variables() {
    let dir = lab();
    let out = run(dir.path(), &["--help"], &[]);
    assert_eq!(out.code, 0);
    for needle in [
        "[env: PROMOLINT_CONFIG=]",
        "[env: PROMOLINT_FORMAT=]",
        "CLICOLOR_FORCE",
        "FORCE_COLOR",
    ] {
        assert!(out.stdout.contains(needle), "--help lacks {needle}");
    }
}
