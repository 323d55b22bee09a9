//! Output formats. Every reporter writes the same findings, already sorted; none changes
//! the exit code.

pub mod human;
pub mod json;
pub mod markdown;
pub mod status;

use crate::model::Level;
use crate::rules::Finding;
use std::sync::Arc;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style annotated diagnostics
    Human,
    /// the stable version-1 JSON schema
    Json,
    /// a markdown table (PR comments, `status`)
    Markdown,
}

/// Counts of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub files: usize,
}

impl Summary {
    pub fn of(findings: &[Finding], files: usize) -> Self {
        let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
        Summary {
            errors: count(Level::Error),
            warnings: count(Level::Warning),
            notes: count(Level::Note),
            files,
        }
    }
}

/// The text of a file a finding points into: (commit of the finding in history mode, path).
pub type SourceFn<'a> = &'a dyn Fn(Option<&str>, &str) -> Option<Arc<str>>;

/// What a reporter needs besides the findings: the text of the files they point into.
pub struct Context<'a> {
    pub findings: &'a [Finding],
    pub files: usize,
    pub source: SourceFn<'a>,
}

/// The logical fingerprint of a finding: rule, environment, component, file and value —
/// not line numbers, so edits above a finding keep it (baselines, SARIF).
pub fn fingerprint(f: &Finding) -> String {
    let fields = [
        f.rule,
        f.environment.as_deref().unwrap_or(""),
        f.component.as_deref().unwrap_or(""),
        f.path.as_str(),
        f.value.as_str(),
    ];
    // Two FNV-1a passes with different offset bases: stable across platforms and releases.
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for field in fields {
        for &byte in field.as_bytes().iter().chain(std::iter::once(&0u8)) {
            a = (a ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        b = b.rotate_left(5);
    }
    format!("{a:016x}{b:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Span;

    fn finding(line: u32) -> Finding {
        Finding {
            rule: "PL001",
            level: Level::Error,
            message: "m".into(),
            path: "a.yaml".into(),
            span: Span {
                line,
                column: 3,
                ..Span::default()
            },
            environment: Some("prod".into()),
            component: Some("ghcr.io/acme/backend".into()),
            commit: None,
            related: vec![],
            value: "latest".into(),
        }
    }

    #[test]
    fn fingerprint_ignores_position_but_not_value() {
        assert_eq!(fingerprint(&finding(3)), fingerprint(&finding(40)));
        let mut other = finding(3);
        other.value = "main".into();
        assert_ne!(fingerprint(&finding(3)), fingerprint(&other));
        assert_eq!(fingerprint(&finding(3)).len(), 32);
    }
}
