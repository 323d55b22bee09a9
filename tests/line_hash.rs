//! How stable promolint's code scanning alerts are under GitHub's own fingerprint.
//!
//! `github/codeql-action/upload-sarif` gives every result a `primaryLocationLineHash`: a
//! rolling hash (base 37, 64-bit) over the first 100 characters, spaces and tabs left out,
//! counted from the start of the result's first line (so the line and the lines after it),
//! with `:n` appended for the n-th identical hash in the file. Code scanning matches alerts
//! across runs by it. This file implements that published algorithm (checked against the
//! vectors of the action's own tests), then measures, on the findings of every fixture
//! repository, which neighbouring edits keep it and which do not, next to promolint's own
//! `promolint/v1` fingerprint. `docs/ci.md` ("Alert identity") reports the figures; run
//! `cargo test --test line_hash -- --nocapture` to see them.

mod common;

use common::{copy_tree, fixture, TempDir};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const BLOCK: usize = 100;
const MOD: u64 = 37;
const EOF: u16 = 65535;

/// `(line, hash)` for every line of `text`, as upload-sarif computes them (1-based lines).
fn line_hashes(text: &str) -> Vec<(usize, String)> {
    let first_mod = (0..BLOCK).fold(1u64, |m, _| m.wrapping_mul(MOD));
    let mut window = [0u16; BLOCK];
    let mut line_numbers = [0usize; BLOCK]; // 0: not the start of a line
    let mut hash: u64 = 0;
    let mut index = 0;
    let mut line = 0;
    let mut line_start = true;
    let mut prev_cr = false;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();

    let mut output = |hash: u64, line: usize, out: &mut Vec<(usize, String)>| {
        let value = format!("{hash:x}");
        let n = counts.entry(value.clone()).or_insert(0);
        *n += 1;
        out.push((line, format!("{value}:{n}")));
    };
    let update = |c: u16, hash: &mut u64, window: &mut [u16; BLOCK], index: &mut usize| {
        let begin = window[*index];
        window[*index] = c;
        *hash = MOD
            .wrapping_mul(*hash)
            .wrapping_add(u64::from(c))
            .wrapping_sub(first_mod.wrapping_mul(u64::from(begin)));
        *index = (*index + 1) % BLOCK;
    };

    let units: Vec<u16> = text.encode_utf16().chain([EOF]).collect();
    for mut c in units {
        if c == u16::from(b' ') || c == u16::from(b'\t') || (prev_cr && c == u16::from(b'\n')) {
            prev_cr = false;
            continue;
        }
        if c == u16::from(b'\r') {
            c = u16::from(b'\n');
            prev_cr = true;
        } else {
            prev_cr = false;
        }
        if line_numbers[index] != 0 {
            output(hash, line_numbers[index], &mut out);
            line_numbers[index] = 0;
        }
        if line_start {
            line_start = false;
            line += 1;
            line_numbers[index] = line;
        }
        if c == u16::from(b'\n') {
            line_start = true;
        }
        update(c, &mut hash, &mut window, &mut index);
    }
    for _ in 0..BLOCK {
        if line_numbers[index] != 0 {
            output(hash, line_numbers[index], &mut out);
            line_numbers[index] = 0;
        }
        update(0, &mut hash, &mut window, &mut index);
    }
    out
}

fn hash_at(text: &str, line: usize) -> Option<String> {
    line_hashes(text)
        .into_iter()
        .find(|(l, _)| *l == line)
        .map(|(_, h)| h)
}

#[test]
fn the_algorithm_matches_upload_sarif() {
    let hashes = |s: &str| -> Vec<String> { line_hashes(s).into_iter().map(|(_, h)| h).collect() };
    assert_eq!(hashes(""), ["c129715d7a2bc9a3:1"]);
    assert_eq!(
        hashes(" a\nb\n  \t\tc\n d"),
        [
            "271789c17abda88f:1",
            "54703d4cd895b18:1",
            "180aee12dab6264:1",
            "a23a3dc5e078b07b:1"
        ]
    );
    let expected = [
        "e9496ae3ebfced30:1",
        "fb7c023a8b9ccb3f:1",
        "ce8ba1a563dcdaca:1",
        "e20e36e16fcb0cc8:1",
        "b3edc88f2938467e:1",
        "c8e28b0b4002a3a0:1",
        "c129715d7a2bc9a3:1",
    ];
    assert_eq!(
        hashes(" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n"),
        expected
    );
    assert_eq!(
        hashes(" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n"),
        expected
    );
    assert_eq!(
        hashes(" hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r"),
        expected
    );
    let repeated = hashes(&"Lorem ipsum dolor sit amet.\n".repeat(10));
    assert_eq!(repeated[0], "a7f2ff13bc495cf2:1");
    assert_eq!(repeated[5], "a7f2ff13bc495cf2:6");
    assert_eq!(repeated[6], "a7f2ff1481e87703:1");
    assert_eq!(repeated[10], "c129715d7a2bc9a3:1");
}

/// One result of a SARIF report: (rule, uri, start line, promolint/v1).
type Result = (String, String, usize, String);

fn results(dir: &Path) -> Vec<Result> {
    let out = common::promolint(dir, &["check", "--format", "sarif"])
        .output()
        .expect("run promolint");
    let log: Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let mut v = Vec::new();
    for r in log["runs"][0]["results"].as_array().into_iter().flatten() {
        let loc = &r["locations"][0]["physicalLocation"];
        let Some(line) = loc["region"]["startLine"].as_u64() else {
            continue;
        };
        v.push((
            r["ruleId"].as_str().unwrap_or_default().to_string(),
            loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            line as usize,
            r["partialFingerprints"]["promolint/v1"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ));
    }
    v
}

/// Files an edit may touch without changing what they mean: a `#` comment is one in
/// YAML, HCL and env files.
fn editable(uri: &str) -> bool {
    [".yaml", ".yml", ".tf", ".hcl", ".tfvars", ".env"]
        .iter()
        .any(|e| uri.ends_with(e))
        && !uri.contains('%')
}

/// Apply `edit` to the lines of every file with a finding; returns the edited texts.
fn edit_files(
    dir: &Path,
    lines_by_file: &BTreeMap<String, BTreeSet<usize>>,
    edit: &dyn Fn(&mut Vec<String>, &BTreeSet<usize>),
) {
    for (uri, lines) in lines_by_file {
        let path = dir.join(uri);
        let text = std::fs::read_to_string(&path).expect("read");
        let mut v: Vec<String> = text.split('\n').map(str::to_string).collect();
        edit(&mut v, lines);
        std::fs::write(&path, v.join("\n")).expect("write");
    }
}

/// A line that is a YAML block scalar's content or ends inside a quoted string cannot take
/// a trailing comment; those lines are left alone (and counted as not measured).
fn takes_comment(line: &str) -> bool {
    let t = line.trim_end();
    !t.is_empty()
        && !t.ends_with('|')
        && !t.ends_with('>')
        && !t.ends_with('\\')
        && t.matches('"').count() % 2 == 0
        && t.matches('\'').count() % 2 == 0
        && !t.trim_start().starts_with('-')
        || t.contains(':')
}

/// A trailing comment, before a CRLF file's `\r`.
fn append_comment(line: &mut String) {
    let cr = line.ends_with('\r');
    if cr {
        line.pop();
    }
    line.push_str(" # reviewed");
    if cr {
        line.push('\r');
    }
}

#[derive(Default, Debug)]
struct Tally {
    measured: usize,
    line_hash_kept: usize,
    own_kept: usize,
}

#[test]
fn measure_stability_under_neighbouring_edits() {
    // (what changes, relative line that is edited or inserted)
    let cases: [(&str, i64); 5] = [
        ("a line inserted at the top of the file", i64::MIN),
        ("a comment appended to the line before", -1),
        ("a comment appended to the next line", 1),
        ("a comment appended 3 lines below", 3),
        ("a comment appended 8 lines below", 8),
    ];
    let mut tallies: Vec<Tally> = cases.iter().map(|_| Tally::default()).collect();
    let mut fixtures = 0;
    for entry in std::fs::read_dir(fixture("")).expect("fixtures") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().to_string();
        if name == "scenarios" || !entry.path().is_dir() {
            continue;
        }
        let original = TempDir::new("line-hash");
        copy_tree(&entry.path(), original.path());
        let before: Vec<Result> = results(original.path())
            .into_iter()
            .filter(|r| {
                // A PL000 finding's value is the parser's message, which names a line.
                r.0 != "PL000"
                    && editable(&r.1)
                    && std::fs::read_to_string(original.path().join(&r.1)).is_ok()
            })
            .collect();
        if before.is_empty() {
            continue;
        }
        fixtures += 1;
        let mut lines_by_file: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        for r in &before {
            lines_by_file.entry(r.1.clone()).or_default().insert(r.2);
        }
        for ((_, offset), tally) in cases.iter().zip(tallies.iter_mut()) {
            let edited = TempDir::new("line-hash-edit");
            copy_tree(&entry.path(), edited.path());
            let offset = *offset;
            // Which finding lines the edit measures: the neighbour must take a comment and
            // must not itself be a finding's line (that would be an edit of the finding).
            let mut measured: BTreeSet<(String, usize)> = BTreeSet::new();
            let texts: BTreeMap<String, String> = lines_by_file
                .keys()
                .map(|u| {
                    let t = std::fs::read_to_string(original.path().join(u)).expect("read");
                    (u.clone(), t)
                })
                .collect();
            for (uri, lines) in &lines_by_file {
                let v: Vec<&str> = texts[uri].split('\n').collect();
                for &l in lines {
                    if offset == i64::MIN {
                        measured.insert((uri.clone(), l));
                        continue;
                    }
                    let n = l as i64 + offset;
                    if n < 1 || n as usize > v.len() || lines.contains(&(n as usize)) {
                        continue;
                    }
                    if takes_comment(v[n as usize - 1]) {
                        measured.insert((uri.clone(), l));
                    }
                }
            }
            edit_files(edited.path(), &lines_by_file, &|v, lines| {
                if offset == i64::MIN {
                    v.insert(0, "# a comment above everything".to_string());
                    return;
                }
                let targets: BTreeSet<usize> = lines
                    .iter()
                    .filter_map(|&l| {
                        let n = l as i64 + offset;
                        (n >= 1 && (n as usize) <= v.len() && !lines.contains(&(n as usize)))
                            .then_some(n as usize)
                    })
                    .collect();
                for n in targets {
                    if takes_comment(&v[n - 1]) {
                        append_comment(&mut v[n - 1]);
                    }
                }
            });
            let after = results(edited.path());
            let own_after: BTreeSet<&str> = after.iter().map(|r| r.3.as_str()).collect();
            for r in &before {
                if !measured.contains(&(r.1.clone(), r.2)) {
                    continue;
                }
                // GitHub's hash with this one edit alone (the others do not blur it).
                let old_text = &texts[&r.1];
                let mut v: Vec<String> = old_text.split('\n').map(str::to_string).collect();
                let new_line = if offset == i64::MIN {
                    v.insert(0, "# a comment above everything".to_string());
                    r.2 + 1
                } else {
                    append_comment(&mut v[(r.2 as i64 + offset) as usize - 1]);
                    r.2
                };
                tally.measured += 1;
                if hash_at(old_text, r.2) == hash_at(&v.join("\n"), new_line) {
                    tally.line_hash_kept += 1;
                }
                if own_after.contains(r.3.as_str()) {
                    tally.own_kept += 1;
                } else if std::env::var_os("LINE_HASH_DEBUG").is_some() {
                    eprintln!("moved: {name} {r:?}");
                }
            }
        }
    }
    println!("findings of {fixtures} fixture repositories in YAML, HCL and env files:");
    println!("| edit | findings | primaryLocationLineHash kept | promolint/v1 kept |");
    println!("|---|---|---|---|");
    for ((what, _), t) in cases.iter().zip(&tallies) {
        println!(
            "| {what} | {} | {} ({}%) | {} ({}%) |",
            t.measured,
            t.line_hash_kept,
            t.line_hash_kept * 100 / t.measured.max(1),
            t.own_kept,
            t.own_kept * 100 / t.measured.max(1)
        );
    }
    // What docs/ci.md states: promolint's fingerprint survives every one of these edits;
    // GitHub's survives lines inserted above and edits before the finding, and loses most
    // findings when the next line changes.
    for ((what, _), t) in cases.iter().zip(&tallies) {
        assert!(t.measured > 10, "{what}: too few findings measured ({t:?})");
        assert_eq!(t.own_kept, t.measured, "promolint/v1 moved: {what}");
    }
    assert_eq!(tallies[0].line_hash_kept, tallies[0].measured);
    assert_eq!(tallies[1].line_hash_kept, tallies[1].measured);
    assert!(tallies[2].line_hash_kept * 2 < tallies[2].measured);
}
