//! `--format gitlab`: a GitLab Code Quality report (the Code Climate subset GitLab reads):
//! an array of issues with `description`, `check_name`, `fingerprint`, `severity` and
//! `location.path` + `location.lines`.
//!
//! Levels map to severities as error → `critical`, warning → `major`, note → `info`.
//! GitLab tells issues apart by fingerprint, so each issue's fingerprint is the logical
//! fingerprint (no line numbers) made unique by the commit (history) and the occurrence
//! among findings that share it.

use super::{fingerprint, hash_fields, Context};
use crate::model::Level;
use crate::rules;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct Issue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
    end: u32,
}

/// GitLab's severity for a level.
pub fn severity(l: Level) -> &'static str {
    match l {
        Level::Error => "critical",
        Level::Warning => "major",
        Level::Note => "info",
    }
}

/// The report, newline-terminated.
pub fn render(ctx: &Context) -> String {
    let mut seen: HashMap<(String, Option<&str>), usize> = HashMap::new();
    let issues: Vec<Issue> = ctx
        .findings
        .iter()
        .map(|f| {
            let logical = fingerprint(f);
            let n = seen
                .entry((logical.clone(), f.commit.as_deref()))
                .or_default();
            *n += 1;
            let occurrence = n.to_string();
            let unique = hash_fields(&[&logical, f.commit.as_deref().unwrap_or(""), &occurrence]);
            let name = rules::lookup(f.rule).map(|r| r.name).unwrap_or("");
            let mut description = format!("{} {name}: {}", f.rule, f.message);
            if let Some(c) = &f.commit {
                let short: String = c.chars().take(12).collect();
                description.push_str(&format!(" (in commit {short})"));
            }
            let begin = f.span.line.max(1);
            Issue {
                kind: "issue",
                description,
                check_name: f.rule,
                fingerprint: unique,
                severity: severity(f.level),
                location: Location {
                    path: &f.path,
                    lines: Lines {
                        begin,
                        end: f.span.end_line.max(begin),
                    },
                },
            }
        })
        .collect();
    // Serialising strings and numbers cannot fail.
    let mut s = serde_json::to_string_pretty(&issues).unwrap_or_default();
    s.push('\n');
    s
}
