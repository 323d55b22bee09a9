//! Output formats. Every reporter writes the same findings, already sorted; none changes
//! the exit code.

pub(crate) mod baseline;
pub(crate) mod escape;
pub(crate) mod explain;
pub(crate) mod github;
pub(crate) mod gitlab;
pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod markdown;
pub(crate) mod promote;
pub(crate) mod sarif;
pub(crate) mod status;

use crate::model::Level;
use crate::model::{Finding, Revision};
use std::borrow::Cow;
use std::sync::Arc;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style annotated diagnostics
    Human,
    /// the stable version-1 JSON schema
    Json,
    /// SARIF 2.1.0 (GitHub code scanning)
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
    /// GitLab Code Quality JSON
    Gitlab,
    /// a markdown table (PR comments, `status`)
    Markdown,
}

impl Format {
    /// The name `--format` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
            Format::Markdown => "markdown",
        }
    }
}

/// Where the project lives: rule pages (`helpUri`) and the tool's `informationUri` point
/// into it.
pub const REPOSITORY_URL: &str = "https://github.com/promolint/promolint";

/// The URL of a rule's page as this version documents it: `rules/PLnnn-name.md` at the
/// release tag `v{version}` (the page on the default branch may describe a newer rule).
pub(crate) fn rule_url(meta: &crate::rules::RuleMeta) -> String {
    format!(
        "{REPOSITORY_URL}/blob/v{}/rules/{}",
        env!("CARGO_PKG_VERSION"),
        meta.file
    )
}

/// What a run looked at, for outputs that record it (SARIF `versionControlProvenance`,
/// `automationDetails`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// The command that produced the findings: `check`, `diff`, `staged`, `history`.
    pub command: &'static str,
    /// The commit the findings are about: HEAD of the working tree for `check`, the head
    /// of the change or range otherwise. `None` outside Git or on an unborn branch.
    pub revision: Option<String>,
    /// The branch checked out at that commit, when known.
    pub branch: Option<String>,
    /// The repository's remote as an `https://` URL without credentials, when known.
    pub repository_uri: Option<String>,
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
    pub(crate) fn of(findings: &[Finding], files: usize) -> Self {
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
pub type SourceFn<'a> = &'a dyn Fn(Option<&str>, &Revision, &str) -> Option<Arc<str>>;

/// The edits of a finding's safe fix, each with its span in the finding's tree (`None`
/// when that file's text was not kept).
pub(crate) fn fix_edits<'f>(
    ctx: &Context,
    f: &'f Finding,
) -> Vec<(&'f crate::edit::Edit, Option<crate::model::Span>)> {
    let Some(fix) = f.fix.safe() else {
        return Vec::new();
    };
    fix.edits
        .iter()
        .map(|e| {
            let span = (ctx.source)(f.commit.as_deref(), &Revision::Tree, &e.path)
                .map(|text| crate::model::LineIndex::new(&text).span(&text, e.range.clone()));
            (e, span)
        })
        .collect()
}

/// What a reporter needs besides the findings: the text of the files they point into.
pub struct Context<'a> {
    pub findings: &'a [Finding],
    pub files: usize,
    pub source: SourceFn<'a>,
    pub run: &'a RunInfo,
}

/// `text` with every control character (C0 but tab, DEL, C1) and the Unicode line and
/// paragraph separators written as escapes (`\n`, `\r`, `\u{1b}`, `\u{2028}`): text from the
/// repository (file names, YAML values, config keys) printed for people can then neither
/// break a line, so that no line of promolint's output can start a CI workflow command
/// (`::error::…` in GitHub Actions), nor send terminal escape sequences.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    let escaped = |c: char| (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}';
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if escaped(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The logical fingerprint of a finding: rule, environment, component, file and value —
/// not line numbers, so edits above a finding keep it (baselines, SARIF).
pub fn fingerprint(f: &Finding) -> String {
    hash_fields(&[
        f.rule,
        f.environment.as_deref().unwrap_or(""),
        f.component.as_deref().unwrap_or(""),
        f.path.as_str(),
        f.value.as_str(),
    ])
}

/// A 128-bit hex digest of a list of fields (NUL-separated).
pub(crate) fn hash_fields(fields: &[&str]) -> String {
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
            help: None,
            fix: Default::default(),
        }
    }

    #[test]
    fn printable_escapes_line_breaks_and_control_characters() {
        assert!(matches!(
            printable("clusters/prod/a b.yaml\tx"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            printable("a\n::error::x\r\u{1b}[2J\u{7f}\u{85}\u{2028}\u{2029}é"),
            "a\\n::error::x\\r\\u{1b}[2J\\u{7f}\\u{85}\\u{2028}\\u{2029}é"
        );
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
