//! Bad input never stops a run: each unreadable file is one PL000 note naming the reason,
//! the rest of the tree is still checked, and suppressions work in every comment syntax.

mod common;

use common::TempDir;
use promolint::pipeline::{self as engine, Options};

const PROD_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
spec:
  template:
    spec:
      containers:
        - name: backend
          image: ghcr.io/acme/backend:latest
";

fn run(dir: &TempDir) -> Vec<(String, String, u32, u32, String)> {
    let outcome = engine::check(&Options {
        start: dir.path().to_path_buf(),
        ..Options::default()
    })
    .unwrap_or_else(|e| panic!("check failed: {e}"));
    outcome
        .findings
        .into_iter()
        .map(|f| {
            (
                f.rule.to_string(),
                f.path,
                f.span.line,
                f.span.column,
                f.message,
            )
        })
        .collect()
}

#[test]
fn each_unreadable_file_is_a_note_and_the_rest_is_checked() {
    let dir = TempDir::new("bad-input");
    dir.write("clusters/prod/app.yaml", PROD_DEPLOYMENT.as_bytes());
    // Over the default 4 MiB limit (and with a keyword, so size is the reason).
    let mut big = String::from("image: x\n");
    while big.len() <= 4 * 1024 * 1024 {
        big.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    dir.write("clusters/prod/huge.yaml", big.as_bytes());
    // Billion laughs: aliases stay budgeted.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
        bomb.push_str(&format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    bomb.push_str("image: *i\n");
    dir.write("clusters/prod/bomb.yaml", bomb.as_bytes());
    // 20,000-deep nesting.
    let deep = format!("image: {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
    dir.write("clusters/prod/deep.yaml", deep.as_bytes());
    // Binary file with a YAML name.
    dir.write("clusters/prod/image.yaml", b"\x00\x01\x02image: x\x00");

    let got = run(&dir);
    let notes: Vec<(&str, &str)> = got
        .iter()
        .filter(|f| f.0 == "PL000")
        .map(|f| (f.1.as_str(), f.4.as_str()))
        .collect();
    assert_eq!(notes.len(), 4, "{got:#?}");
    assert!(
        notes[0].0.ends_with("bomb.yaml") && notes[0].1.contains("alias"),
        "{notes:?}"
    );
    assert!(
        notes[1].0.ends_with("deep.yaml") && notes[1].1.contains("nesting"),
        "{notes:?}"
    );
    assert!(
        notes[2].0.ends_with("huge.yaml") && notes[2].1.contains("over the size limit"),
        "{notes:?}"
    );
    assert!(
        notes[3].0.ends_with("image.yaml") && notes[3].1.contains("binary"),
        "{notes:?}"
    );
    // The readable file is still checked.
    assert!(got
        .iter()
        .any(|f| f.0 == "PL001" && f.1 == "clusters/prod/app.yaml" && (f.2, f.3) == (10, 39)));
}

#[test]
fn symlinks_are_never_followed() {
    let dir = TempDir::new("symlink");
    let outside = TempDir::new("outside");
    outside.write("secret.yaml", PROD_DEPLOYMENT.as_bytes());
    dir.write("clusters/prod/real.yaml", b"kind: ConfigMap\n");
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        dir.path().join("clusters/prod/link.yaml"),
    )
    .expect("symlink");
    let got = run(&dir);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, "PL000");
    assert_eq!(got[0].1, "clusters/prod/link.yaml");
    assert!(got[0].4.contains("symlink not followed"));
}

#[test]
fn suppressions_work_in_yaml_hcl_and_env_files() {
    let dir = TempDir::new("suppress");
    dir.write(
        "clusters/prod/app.yaml",
        PROD_DEPLOYMENT
            .replace(
                "          image: ghcr.io/acme/backend:latest\n",
                "          # promolint: ignore[PL001] replaced at deploy time by the operator\n          image: ghcr.io/acme/backend:latest\n        - name: sidecar\n          image: ghcr.io/acme/sidecar:latest # promolint: ignore[mutable-reference]\n        - name: other\n          image: ghcr.io/acme/other:latest # promolint: ignore[PL002] wrong rule\n",
            )
            .as_bytes(),
    );
    dir.write(
        "envs/acme-prod/main.tf",
        b"locals {\n  // promolint: ignore[PL001] tracked in INFRA-12\n  rootfs_version = \"latest\"\n  kernel_version = \"latest\"\n}\n",
    );
    dir.write(
        "clusters/prod/.versions.env",
        b"# promolint: ignore[PL001]\nTALOS_VERSION=latest\nCILIUM_VERSION=latest\n",
    );
    let got: Vec<(String, String, u32, u32)> = run(&dir)
        .into_iter()
        .map(|f| (f.0, f.1, f.2, f.3))
        .collect();
    let at =
        |rule: &str, path: &str, line, column| (rule.to_string(), path.to_string(), line, column);
    // The suppressed pins are silent; the comments without a reason, and the one naming a
    // rule that reports nothing there, are PL011 warnings.
    assert_eq!(
        got,
        vec![
            at("PL011", "clusters/prod/.versions.env", 1, 3),
            at("PL001", "clusters/prod/.versions.env", 3, 16),
            at("PL011", "clusters/prod/app.yaml", 13, 48),
            at("PL001", "clusters/prod/app.yaml", 15, 37),
            at("PL011", "clusters/prod/app.yaml", 15, 46),
            at("PL001", "envs/acme-prod/main.tf", 4, 21),
        ]
    );
}

#[test]
fn the_same_input_gives_the_same_findings_whatever_the_jobs() {
    let dir = TempDir::new("jobs");
    common::copy_tree(&common::fixture("flux-image-lab"), dir.path());
    let with = |jobs| {
        engine::check(&Options {
            start: dir.path().to_path_buf(),
            jobs: Some(jobs),
            ..Options::default()
        })
        .map(|o| o.findings)
        .unwrap_or_else(|e| panic!("check failed: {e}"))
    };
    let one = with(1);
    assert!(!one.is_empty());
    assert_eq!(one, with(4));
}

/// `.promolint.yml` is found like `.promolint.yaml`; both at once is exit 2 naming both,
/// since whichever were read, the other would be silently ignored.
#[test]
fn promolint_yml_is_found_and_two_config_files_are_refused() {
    let dir = TempDir::new("config-yml");
    dir.write("deploy/blue/app.yaml", PROD_DEPLOYMENT.as_bytes());
    let config =
        "environments:\n  - name: prod\n    protected: true\n    paths: [\"deploy/blue/**\"]\n";
    // Without a configuration `deploy/blue` is no environment: nothing to report.
    common::expect_code(&common::run(dir.path(), &["check"]), 0);
    dir.write(".promolint.yml", config.as_bytes());
    let out = common::run(dir.path(), &["check"]);
    common::expect_code(&out, 1);
    assert!(
        out.stdout
            .contains("prod pins ghcr.io/acme/backend to mutable tag `latest`"),
        "{}",
        out.stdout
    );
    // `init` does not write a second one beside it.
    common::expect_failure(
        &common::run(dir.path(), &["init", "--force"]),
        &[".promolint.yml already exists"],
    );
    dir.write(".promolint.yaml", config.as_bytes());
    common::expect_failure(
        &common::run(dir.path(), &["check"]),
        &[
            "two configuration files: .promolint.yaml and .promolint.yml",
            "keep one of them",
        ],
    );
}

/// PL006 on a tree honours the configured `mutable_tags` as `diff` does: a tag the
/// configuration calls mutable is no version to promote (PL001 reports it), so it is not
/// also "a version dev has not run".
#[test]
fn check_honours_the_configured_mutable_tags_in_promotion_order() {
    let dir = TempDir::new("config-mutable");
    let deployment =
        |tag: &str| PROD_DEPLOYMENT.replace("backend:latest", &format!("backend:{tag}"));
    dir.write("clusters/dev/app.yaml", deployment("1.0.0").as_bytes());
    dir.write(
        "clusters/prod/app.yaml",
        deployment("nightly-main").as_bytes(),
    );
    let rules = |out: &common::Out| -> Vec<String> {
        out.stdout
            .lines()
            .filter_map(|l| l.strip_prefix("error[").and_then(|r| r.split(']').next()))
            .map(str::to_string)
            .collect()
    };
    // Zero config: `nightly-main` is a version dev never ran.
    let out = common::run(dir.path(), &["check"]);
    common::expect_code(&out, 1);
    assert_eq!(rules(&out), ["PL006"], "{}", out.stdout);
    dir.write(".promolint.yaml", b"mutable_tags: [latest, nightly-main]\n");
    let out = common::run(dir.path(), &["check"]);
    common::expect_code(&out, 1);
    assert_eq!(rules(&out), ["PL001"], "{}", out.stdout);
}

/// `check` says what it could not judge: a repository without environments, and a
/// configured environment whose globs give it no file (here a typo: `prod` for
/// `production`). `-q` keeps standard error quiet.
#[test]
fn check_warns_when_no_environment_or_an_empty_one_was_judged() {
    let dir = TempDir::new("config-empty-env");
    dir.write("deploy/production/app.yaml", PROD_DEPLOYMENT.as_bytes());
    dir.write("deploy/dev/app.yaml", PROD_DEPLOYMENT.as_bytes());
    let config = "environments:\n  - name: dev\n    paths: [\"deploy/dev/**\"]\n  \
                  - name: prod\n    after: [dev]\n    protected: true\n    paths: [\"deploy/prod/**\"]\n";
    dir.write(".promolint.yaml", config.as_bytes());
    let out = common::run(dir.path(), &["check"]);
    common::expect_code(&out, 0);
    assert_eq!(
        out.stderr,
        "promolint: warning: environment `prod` of the configuration holds no file: its paths \
         (`deploy/prod/**`) match none that promolint reads, or an earlier environment's paths \
         take them; check the globs\n"
    );
    assert!(common::run(dir.path(), &["check", "-q"]).stderr.is_empty());
    // Without any environment: one line saying so, and what to do.
    let plain = TempDir::new("config-no-env");
    plain.write("apps/app.yaml", PROD_DEPLOYMENT.as_bytes());
    let out = common::run(plain.path(), &["check"]);
    common::expect_code(&out, 0);
    assert_eq!(
        out.stderr,
        "promolint: warning: no environment found in 1 file: the promotion rules had nothing \
         to compare; declare the environments in `.promolint.yaml` (`promolint init` writes \
         what it can infer)\n"
    );
}
