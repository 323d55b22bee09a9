//! Output formats end to end: exact SARIF, GitHub, GitLab and markdown output for a fixture,
//! escaping (an injection attempt through a YAML value and a file name), baselines, several
//! outputs in one run, the step summary, exit codes independent of the format, completions
//! and the man page.
//!
//! Snapshots live in `tests/snapshots/outputs/`; after an intended change regenerate them
//! with `SNAPSHOTS=overwrite cargo test --test outputs` and review the diff. The SARIF
//! snapshot elides `tool.driver.rules` (it is every rule page, checked structurally below).

mod common;

use common::{copy_tree, fixture, git, TempDir};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn promolint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_promolint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("run promolint")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// A copy of a fixture outside any git repository.
fn fixture_copy(name: &str) -> TempDir {
    let dir = TempDir::new(&format!("outputs-{name}"));
    copy_tree(&fixture(name), dir.path());
    dir
}

fn assert_snapshot(actual: String, expected: snapbox::Data) {
    snapbox::Assert::new()
        .action_env(snapbox::assert::DEFAULT_ACTION_ENV)
        .normalize_paths(false)
        .eq(actual, expected);
}

const FORMATS: [&str; 6] = ["human", "json", "sarif", "github", "gitlab", "markdown"];

// --- exact output ----------------------------------------------------------------------

#[test]
fn sarif_of_a_fixture() {
    let dir = fixture_copy("flux-image-lab");
    let out = promolint(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_snapshot(
        stdout(&out),
        snapbox::file!["snapshots/outputs/flux-image-lab.sarif"],
    );
}

#[test]
fn github_of_a_fixture() {
    let dir = fixture_copy("flux-image-lab");
    let out = promolint(dir.path(), &["check", "--format", "github"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_snapshot(
        stdout(&out),
        snapbox::file!["snapshots/outputs/flux-image-lab.github"],
    );
}

#[test]
fn gitlab_of_a_fixture() {
    let dir = fixture_copy("flux-image-lab");
    let out = promolint(dir.path(), &["check", "--format", "gitlab"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_snapshot(
        stdout(&out),
        snapbox::file!["snapshots/outputs/flux-image-lab.gitlab"],
    );
    let issues = json(&stdout(&out));
    let issues = issues.as_array().expect("array");
    let mut fingerprints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().expect("fingerprint"))
        .collect();
    fingerprints.sort();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    for i in issues {
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().expect("severity")));
        assert!(i["location"]["lines"]["begin"].as_u64().expect("begin") >= 1);
    }
}

#[test]
fn markdown_of_a_fixture() {
    let dir = fixture_copy("flux-image-lab");
    let out = promolint(dir.path(), &["check", "--format", "markdown"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_snapshot(
        stdout(&out),
        snapbox::file!["snapshots/outputs/flux-image-lab.md"],
    );
}

/// `tool.driver.rules` is every rule, from its page.
#[test]
fn sarif_driver_lists_every_rule_from_its_page() {
    let dir = fixture_copy("homelab");
    let out = promolint(dir.path(), &["check", "--format", "sarif"]);
    let log = json(&stdout(&out));
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(run["automationDetails"]["id"], "promolint/check/");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "promolint");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), promolint::rules::all().len());
    for (rule, meta) in rules.iter().zip(promolint::rules::all()) {
        assert_eq!(rule["id"], meta.id);
        assert_eq!(rule["name"], meta.name);
        assert_eq!(rule["shortDescription"]["text"], meta.summary);
        assert_eq!(rule["help"]["markdown"], meta.body.trim_end());
        assert_eq!(rule["help"]["text"], meta.help_text());
        assert_eq!(
            rule["helpUri"],
            format!(
                "{}/blob/v{}/rules/{}",
                promolint::report::REPOSITORY_URL,
                env!("CARGO_PKG_VERSION"),
                meta.file
            )
        );
        assert_eq!(rule["defaultConfiguration"]["level"], meta.level.as_str());
        let full = rule["fullDescription"]["text"].as_str().expect("full");
        assert!(!full.is_empty() && !full.contains('\n') && !full.starts_with('#'));
        let tags = rule["properties"]["tags"].as_array().expect("tags");
        assert!(tags.contains(&Value::from("promotion")));
        for tag in &meta.tags {
            assert!(tags.contains(&Value::from(*tag)), "{}: {tag}", meta.id);
        }
        assert_eq!(rule["properties"]["precision"], meta.precision);
    }
    // Every result's ruleIndex names its rule.
    for result in run["results"].as_array().expect("results") {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let fp = result["partialFingerprints"]["promolint/v1"]
            .as_str()
            .expect("fingerprint");
        assert_eq!(fp.len(), 32);
    }
}

// --- escaping ----------------------------------------------------------------------------

/// A production file whose name and YAML value try to start workflow commands of their own.
const HOSTILE_NAME: &str = "clusters/prod/a%2C,b:c\n::warning::x|y`é.yaml";
const HOSTILE_IMAGE: &str = "ghcr.io/acme/app\n::error file=x::pwned%0A,[x](http://e)|<b>/x";

fn hostile_repo() -> TempDir {
    let dir = TempDir::new("outputs-hostile");
    let yaml = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: {:?}\n",
        format!("{HOSTILE_IMAGE}:latest")
    );
    dir.write(HOSTILE_NAME, yaml.as_bytes());
    dir
}

/// Undo the runner's escaping of a property value or message.
fn unescape(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn github_commands_cannot_be_injected() {
    let dir = hostile_repo();
    let out = promolint(dir.path(), &["check", "--format", "github"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "one command and the summary line:\n{text}");
    assert!(lines[1].starts_with("promolint: "));
    // Parse the command as the runner does: properties up to the first `::`, split at `,`.
    let rest = lines[0].strip_prefix("::error ").expect("an error command");
    let (props, message) = rest.split_once("::").expect("message");
    let props: Vec<(&str, &str)> = props
        .split(',')
        .map(|p| p.split_once('=').expect("key=value"))
        .collect();
    let keys: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        ["file", "line", "col", "endLine", "endColumn", "title"],
        "{}",
        lines[0]
    );
    assert_eq!(unescape(props[0].1), HOSTILE_NAME);
    assert_eq!(props[1].1, "10");
    let message = unescape(message);
    assert!(
        message.starts_with(&format!(
            "prod pins {HOSTILE_IMAGE} to mutable tag `latest`"
        )),
        "{message}"
    );
    // The raw value's `%0A` stays text: it is `%250A` on the wire.
    assert!(lines[0].contains("pwned%250A%2C") || lines[0].contains("pwned%250A,"));
}

#[test]
fn sarif_gitlab_and_markdown_keep_hostile_text_literal() {
    let dir = hostile_repo();
    let sarif = json(&stdout(&promolint(
        dir.path(),
        &["check", "--format", "sarif"],
    )));
    let location = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "clusters/prod/a%252C%2Cb%3Ac%0A%3A%3Awarning%3A%3Ax%7Cy%60%C3%A9.yaml"
    );
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    // The snippet is the value's text as written in the file (here the quoted scalar).
    let snippet = location["region"]["snippet"]["text"]
        .as_str()
        .expect("snippet");
    assert!(
        snippet.contains("\\n::error") && snippet.ends_with("latest\""),
        "{snippet}"
    );

    let gitlab = json(&stdout(&promolint(
        dir.path(),
        &["check", "--format", "gitlab"],
    )));
    assert_eq!(gitlab[0]["location"]["path"], HOSTILE_NAME);

    let md = stdout(&promolint(dir.path(), &["check", "--format", "markdown"]));
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| error")).collect();
    assert_eq!(rows.len(), 1, "one row, on one line:\n{md}");
    // Six cell borders: every `|` from the repository is escaped.
    let borders = rows[0]
        .char_indices()
        .filter(|&(i, c)| c == '|' && (i == 0 || rows[0].as_bytes()[i - 1] != b'\\'))
        .count();
    assert_eq!(borders, 6, "{}", rows[0]);
    // Link, bare URL and HTML syntax from the value is escaped, so it renders as text; the
    // line break shows as `\n`.
    assert!(
        rows[0].contains("app\\\\n::error file=x::pwned%0A,\\[x\\](http\\://e)\\|\\<b\\>"),
        "{}",
        rows[0]
    );
}

// --- exit codes and several outputs ---------------------------------------------------------

#[test]
fn exit_codes_do_not_depend_on_the_format() {
    let dir = fixture_copy("kestrel-fabric");
    for format in FORMATS {
        let out = promolint(dir.path(), &["check", "--format", format]);
        assert_eq!(code(&out), 1, "{format}: {}", stderr(&out));
        let out = promolint(
            dir.path(),
            &["check", "--format", format, "--fail-level", "never"],
        );
        assert_eq!(code(&out), 0, "{format}: {}", stderr(&out));
    }
}

#[test]
fn several_outputs_in_one_run_match_single_runs() {
    let dir = fixture_copy("flux-image-lab");
    let reports = TempDir::new("outputs-several");
    let r = |name: &str| reports.path().join(name).display().to_string();
    let (sarif, json_file, gitlab, summary) = (r("a.sarif"), r("b.json"), r("c.json"), r("s.md"));
    let out = promolint(
        dir.path(),
        &[
            "check",
            "--format",
            "github",
            "--sarif",
            &sarif,
            "--json",
            &json_file,
            "--gitlab",
            &gitlab,
            "--summary",
            &summary,
        ],
    );
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let alone = |format: &str| stdout(&promolint(dir.path(), &["check", "--format", format]));
    assert_eq!(stdout(&out), alone("github"));
    let read = |p: &str| std::fs::read_to_string(p).expect("output written");
    assert_eq!(read(&sarif), alone("sarif"));
    assert_eq!(read(&json_file), alone("json"));
    assert_eq!(read(&gitlab), alone("gitlab"));
    assert!(read(&summary).starts_with("## promolint check\n"));
}

#[test]
fn an_output_that_cannot_be_written_is_exit_2() {
    let dir = fixture_copy("kestrel-fabric");
    let reports = TempDir::new("outputs-unwritable");
    let json_file = reports.path().join("ok.json").display().to_string();
    let out = promolint(
        dir.path(),
        &[
            "check",
            "--fail-level",
            "never",
            "--sarif",
            "no/such/dir/x.sarif",
            "--json",
            &json_file,
        ],
    );
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("cannot write the SARIF report to no/such/dir/x.sarif"),
        "{}",
        stderr(&out)
    );
    // The other outputs are still written.
    assert!(Path::new(&json_file).exists());
    let out = promolint(
        dir.path(),
        &["check", "--summary", "no/such/dir/summary.md"],
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("summary"), "{}", stderr(&out));
}

#[test]
fn summary_appends_counts_findings_and_the_matrix() {
    let dir = fixture_copy("homelab");
    let reports = TempDir::new("outputs-summary");
    let summary = reports.path().join("step-summary.md");
    std::fs::write(&summary, "# Earlier step\n\n").expect("write");
    let s = summary.display().to_string();
    for _ in 0..2 {
        let out = promolint(
            dir.path(),
            &["check", "--format", "github", "--summary", &s],
        );
        assert_eq!(code(&out), 1, "{}", stderr(&out));
    }
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        text.starts_with("# Earlier step\n\n## promolint check\n"),
        "{text}"
    );
    assert_eq!(text.matches("## promolint check\n").count(), 2);
    assert!(text.contains("files checked: **"));
    assert!(text.contains("| level | rule | location | environment | message |"));
    assert!(text.contains("### Promotion matrix (working tree)"));
    assert!(text.contains("| component |"));
}

#[test]
fn report_options_are_refused_where_there_are_no_findings() {
    let dir = fixture_copy("homelab");
    for args in [
        &["status", "--format", "sarif"][..],
        &["status", "--sarif", "x.sarif"],
        &["status", "--baseline", "x.json"],
        &["rules", "--format", "github"],
        &["explain", "PL001", "--summary", "s.md"],
    ] {
        let out = promolint(dir.path(), args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stderr(&out).starts_with("error: "), "{args:?}");
    }
    assert!(!dir.path().join("x.sarif").exists());
}

// --- baseline ----------------------------------------------------------------------------

fn deployment(images: &[&str]) -> String {
    let mut s = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n",
    );
    for (i, image) in images.iter().enumerate() {
        s.push_str(&format!("        - name: c{i}\n          image: {image}\n"));
    }
    s
}

fn findings_of(dir: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let out = promolint(dir, &args);
    assert!(code(&out) <= 1, "{}", stderr(&out));
    let doc = json(&stdout(&out));
    let findings = doc["findings"].as_array().expect("findings").clone();
    (code(&out), findings)
}

#[test]
fn baseline_silences_known_findings_and_shows_new_ones() {
    for format in ["json", "sarif"] {
        let dir = TempDir::new("outputs-baseline");
        let file = "clusters/prod/app.yaml";
        dir.write(file, deployment(&["ghcr.io/acme/app:latest"]).as_bytes());
        let baseline = dir.path().join(format!("baseline.{format}"));
        let out = promolint(dir.path(), &["check", "--format", format]);
        assert_eq!(code(&out), 1);
        std::fs::write(&baseline, &out.stdout).expect("write baseline");
        let b = baseline.display().to_string();

        // Known: silenced, exit 0.
        let (code0, findings) = findings_of(dir.path(), &["--baseline", &b]);
        assert_eq!((code0, findings.len()), (0, 0), "{format}");

        // Lines inserted above the finding: still silenced.
        let shifted = format!(
            "# a comment\n# another\n---\n{}",
            deployment(&["ghcr.io/acme/app:latest"])
        );
        dir.write(file, shifted.as_bytes());
        let (plain_code, plain) = findings_of(dir.path(), &[]);
        assert_eq!((plain_code, plain[0]["line"].as_u64()), (1, Some(13)));
        let (code1, findings) = findings_of(dir.path(), &["--baseline", &b]);
        assert_eq!(
            (code1, findings.len()),
            (0, 0),
            "{format}: moved finding resurrected"
        );

        // A new finding, and a second occurrence of the known one: both shown.
        dir.write(
            file,
            deployment(&[
                "ghcr.io/acme/app:latest",
                "ghcr.io/acme/sidecar:latest",
                "ghcr.io/acme/app:latest",
            ])
            .as_bytes(),
        );
        let (code2, findings) = findings_of(dir.path(), &["--baseline", &b]);
        assert_eq!(code2, 1, "{format}");
        let components: Vec<&str> = findings
            .iter()
            .map(|f| f["component"].as_str().expect("component"))
            .collect();
        assert_eq!(
            components,
            ["ghcr.io/acme/sidecar", "ghcr.io/acme/app"],
            "{format}"
        );
        assert_eq!(
            findings[1]["line"], 14,
            "the first occurrence stays silenced"
        );
        assert!(stderr(&promolint(dir.path(), &["check", "--baseline", &b]))
            .contains("1 known finding silenced by the baseline"));
    }
}

#[test]
fn baseline_that_is_not_ours_is_exit_2_naming_it() {
    let dir = fixture_copy("kestrel-fabric");
    let cases: [(&str, &str, &str); 6] = [
        (
            "corrupt.json",
            "{\"version\": 1, \"findings\": [",
            "not valid JSON",
        ),
        ("empty.json", "", "not valid JSON"),
        ("binary.json", "\u{0}\u{1}PNG", "not valid JSON"),
        (
            "other.sarif",
            r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"zizmor"}},"results":[]}]}"#,
            "written by `zizmor`",
        ),
        (
            "status.json",
            r#"{"version":1,"status":{}}"#,
            "not a promolint report",
        ),
        (
            "old.json",
            r#"{"version":1,"tool":{"name":"promolint"},"findings":[{"rule":"PL001"}]}"#,
            "finding 1 has no valid `fingerprint`",
        ),
    ];
    for (name, content, why) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write");
        for format in FORMATS {
            let out = promolint(
                dir.path(),
                &["check", "--format", format, "--baseline", name],
            );
            assert_eq!(code(&out), 2, "{name} {format}");
            assert!(stdout(&out).is_empty(), "{name}: nothing is reported");
            let err = stderr(&out);
            assert!(
                err.contains(&format!("baseline `{name}`")) && err.contains(why),
                "{name}: {err}"
            );
        }
    }
    let out = promolint(dir.path(), &["check", "--baseline", "missing.json"]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("baseline `missing.json`"));
}

// --- git: provenance, change modes ----------------------------------------------------------

#[test]
fn sarif_records_the_commit_branch_and_remote_without_credentials() {
    let dir = TempDir::new("outputs-provenance");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(
        dir.path(),
        &[
            "remote",
            "add",
            "origin",
            "https://gitlab-ci-token:s3cr3t@gitlab.example.com/acme/deploy.git",
        ],
    );
    dir.write(
        "clusters/prod/app.yaml",
        deployment(&["ghcr.io/acme/app:v1.0.0"]).as_bytes(),
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "initial"]);
    let first = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
    dir.write(
        "clusters/prod/app.yaml",
        deployment(&["ghcr.io/acme/app:latest"]).as_bytes(),
    );
    git(dir.path(), &["commit", "-qam", "use latest"]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();

    for (command, args) in [
        ("check", vec!["check"]),
        ("diff", vec!["diff", "--base", first.as_str()]),
        ("history", vec!["history"]),
    ] {
        let mut args = args.clone();
        args.extend(["--format", "sarif"]);
        let out = promolint(dir.path(), &args);
        assert_eq!(code(&out), 1, "{command}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.contains("s3cr3t") && !text.contains("gitlab-ci-token"));
        let run = &json(&text)["runs"][0];
        let vcs = &run["versionControlProvenance"][0];
        assert_eq!(
            vcs["repositoryUri"],
            "https://gitlab.example.com/acme/deploy"
        );
        assert_eq!(vcs["revisionId"], head.as_str(), "{command}");
        assert_eq!(vcs["branch"], "main", "{command}");
        assert_eq!(vcs["mappedTo"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(
            run["automationDetails"]["id"],
            format!("promolint/{command}/")
        );
    }
    // History records each finding's commit.
    let out = promolint(dir.path(), &["history", "--format", "sarif"]);
    let run = &json(&stdout(&out))["runs"][0];
    assert_eq!(run["results"][0]["properties"]["commit"], head.as_str());
}

#[test]
fn a_deleted_artifact_has_a_region_without_an_empty_span() {
    let dir = TempDir::new("outputs-deleted");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let series = "images/packer/ubuntu/ubuntu-rootfs";
    dir.write(&format!("{series}-v1.tar.gz"), b"one");
    dir.write(&format!("{series}-v2.tar.gz"), b"two");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "publish"]);
    std::fs::remove_file(dir.path().join(format!("{series}-v1.tar.gz"))).expect("rm");
    git(dir.path(), &["commit", "-qam", "delete v1"]);
    let out = promolint(dir.path(), &["history", "--format", "sarif"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let run = &json(&stdout(&out))["runs"][0];
    let result = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "PL004")
        .expect("PL004 for the deleted artifact");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 1);
    assert!(
        region.get("endColumn").is_none() && region.get("endLine").is_none(),
        "{region}"
    );
    // GitHub annotations likewise have no empty end.
    let out = promolint(dir.path(), &["history", "--format", "github"]);
    let line = stdout(&out)
        .lines()
        .find(|l| l.contains("PL004"))
        .expect("annotation")
        .to_string();
    assert!(
        line.contains(",line=1,col=1,title=") && !line.contains("endColumn"),
        "{line}"
    );
}

// --- completions and man page ----------------------------------------------------------------

#[test]
fn completions_for_bash_produce_a_script() {
    let dir = TempDir::new("outputs-completions");
    let out = promolint(dir.path(), &["completions", "bash"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let script = stdout(&out);
    assert!(script.contains("_promolint()"), "{script}");
    assert!(script.contains("complete -F _promolint"));
    for flag in ["--baseline", "--sarif", "--summary", "--format"] {
        assert!(script.contains(flag), "{flag}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = promolint(dir.path(), &["completions", shell]);
        assert_eq!(code(&out), 0, "{shell}");
        assert!(!out.stdout.is_empty(), "{shell}");
    }
    assert_eq!(code(&promolint(dir.path(), &["completions", "tcsh"])), 2);
}

#[test]
fn man_pages_are_roff() {
    let dir = TempDir::new("outputs-man");
    let out = promolint(dir.path(), &["man"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH promolint 1"), "{page}");
    assert!(page.contains("promolint\\-check(1)"));
    let out = promolint(dir.path(), &["man", "check"]);
    let page = stdout(&out);
    assert!(page.contains(".TH promolint-check 1"), "{page}");
    assert!(page.contains("\\-\\-baseline"));
}

#[test]
fn sarif_quotes_the_base_text_of_a_related_location_at_base() {
    let dir = TempDir::new("outputs-base-related");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    let tf = |v: &str| format!("locals {{\n  lxc_rootfs_version = \"{v}\"\n}}\n");
    let (dev, prod) = (
        "fabric-core/terraform/envs/kestrel-dev/main.tf",
        "fabric-core/terraform/envs/kestrel-prod/main.tf",
    );
    for (file, version) in [
        (dev, "v6"),
        (prod, "v6"),
        (dev, "v7"),
        (prod, "v7"),
        (prod, "v6"),
    ] {
        dir.write(file, tf(version).as_bytes());
        git(dir.path(), &["add", "-A"]);
        git(dir.path(), &["commit", "-qm", &format!("{file} {version}")]);
    }
    let out = promolint(
        dir.path(),
        &[
            "diff",
            "--base",
            "HEAD~1",
            "--format",
            "sarif",
            "--fail-level",
            "never",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let run = &json(&stdout(&out))["runs"][0];
    let rollback = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "PL005")
        .expect("the rollback note");
    assert_eq!(rollback["level"], "note");
    let related = &rollback["relatedLocations"][0];
    assert!(
        related["message"]["text"]
            .as_str()
            .expect("message")
            .ends_with("(at base)"),
        "{related}"
    );
    assert_eq!(
        related["physicalLocation"]["region"]["snippet"]["text"],
        "v7"
    );
}
