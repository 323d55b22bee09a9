//! Every rule page's examples run through the engine: each `### Bad` must produce a finding
//! of its rule, each `### Good` none. Tree rules run `check` on the example's files; change
//! rules commit the `side=before` files, then the `side=after` files, and run `diff`.

mod common;

use common::{git, TempDir};
use promolint::catalogue::section;
use promolint::pipeline as modes;
use promolint::pipeline::{self as engine, Options};
use promolint::rules;

/// One example file: its path, side (`before`, `after`, or `None` for tree examples) and
/// contents.
type ExampleFile = (String, Option<String>, String);

/// Every fenced block with a `file=` attribute.
fn example_files(markdown: &str) -> Vec<ExampleFile> {
    let mut out = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let attr = |name: &str| {
            info.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(|f| f.trim_matches('"').to_string())
        };
        let (file, side) = (attr("file="), attr("side="));
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        if let Some(f) = file {
            out.push((f, side, body));
        }
    }
    out
}

/// The text of `### title` inside the `## Examples` section.
fn subsection<'a>(examples: &'a str, title: &str) -> Option<&'a str> {
    let heading = format!("### {title}\n");
    let start = examples.find(&heading)? + heading.len();
    let rest = &examples[start..];
    let end = rest.find("\n### ").map(|i| i + 1).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn describe(f: &promolint::rules::Finding) -> String {
    format!("{}:{}:{} {}", f.path, f.span.line, f.span.column, f.message)
}

fn findings_of(rule: &str, files: &[ExampleFile]) -> Vec<String> {
    let dir = TempDir::new("example");
    fn side<'a>(files: &'a [ExampleFile], name: &'a str) -> impl Iterator<Item = &'a ExampleFile> {
        files.iter().filter(move |f| f.1.as_deref() == Some(name))
    }
    if side(files, "after").next().is_none() {
        for (path, _, body) in files {
            dir.write(path, body.as_bytes());
        }
        let outcome = engine::check(&Options {
            start: dir.path().to_path_buf(),
            ..Options::default()
        })
        .unwrap_or_else(|e| panic!("{rule}: engine failed on its example: {e}"));
        return outcome
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(describe)
            .collect();
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    for (path, _, body) in side(files, "before") {
        dir.write(path, body.as_bytes());
    }
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "-q", "--allow-empty", "-m", "before"],
    );
    for (path, _, _) in side(files, "before") {
        let _ = std::fs::remove_file(dir.path().join(path));
    }
    for (path, _, body) in side(files, "after") {
        dir.write(path, body.as_bytes());
    }
    git(dir.path(), &["add", "-A"]);
    git(
        dir.path(),
        &["commit", "-q", "--allow-empty", "-m", "after"],
    );
    let opts = Options {
        start: dir.path().to_path_buf(),
        ..Options::default()
    };
    let outcome = modes::diff(&opts, Some("HEAD~1"), Some("HEAD"), false)
        .unwrap_or_else(|e| panic!("{rule}: diff failed on its example: {e}"));
    outcome
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(describe)
        .collect()
}

#[test]
fn every_rule_page_has_examples_that_hold() {
    let mut checked = 0;
    for rule in rules::all() {
        let examples = section(rule.body, "Examples")
            .unwrap_or_else(|| panic!("rules/{} has no `## Examples`", rule.file));
        let bad = subsection(examples, "Bad")
            .unwrap_or_else(|| panic!("rules/{} has no `### Bad`", rule.file));
        let good = subsection(examples, "Good")
            .unwrap_or_else(|| panic!("rules/{} has no `### Good`", rule.file));
        let bad_files = example_files(bad);
        let good_files = example_files(good);
        assert!(
            !bad_files.is_empty(),
            "rules/{}: Bad has no file= block",
            rule.file
        );
        assert!(
            !good_files.is_empty(),
            "rules/{}: Good has no file= block",
            rule.file
        );

        let fired = findings_of(rule.id, &bad_files);
        assert!(
            !fired.is_empty(),
            "rules/{}: the Bad example produced no {} finding",
            rule.file,
            rule.id
        );
        let fired = findings_of(rule.id, &good_files);
        assert!(
            fired.is_empty(),
            "rules/{}: the Good example produced {fired:?}",
            rule.file
        );
        checked += 1;
    }
    assert_eq!(checked, rules::all().len());
}
