//! `--format markdown`: findings as a table, for pull-request comments; and the summary
//! `--summary FILE` appends for `$GITHUB_STEP_SUMMARY` (the same table, plus the promotion
//! matrix).
//!
//! Text from the repository (paths, environments, the values quoted in messages) is
//! escaped so that it renders literally: no links, images, HTML, emphasis, math or table
//! breaks can come from a file's content or name.

use super::status::{self, Matrix};
use super::{Context, Summary};
use crate::rules::{self, Finding};

/// Escape text for a markdown table cell: no pipes, no line breaks, no HTML.
pub fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\r', '\n'], " ")
}

/// Escape prose for a table cell: every character markdown (or GitHub's extensions:
/// strikethrough, math) would interpret is backslash-escaped; line breaks become spaces.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span for a table cell that shows `s` literally, whatever backticks it holds.
pub fn code(s: &str) -> String {
    let content = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    if content.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in content.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if content.starts_with('`') || content.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{content}{pad}{fence}")
}

/// A finding's message: the parts it quotes in backticks as code spans, the rest as
/// escaped prose. Whatever a quoted value contains, it cannot leave its span: an
/// unbalanced backtick only changes which parts are code, and both kinds are escaped.
pub fn message(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    let balanced = parts.len() % 2 == 1;
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        let odd = i % 2 == 1;
        if odd && (balanced || i + 1 < parts.len()) {
            out.push_str(&code(part));
        } else {
            if odd {
                // The unbalanced last backtick, shown literally.
                out.push_str("\\`");
            }
            out.push_str(&text(part));
        }
    }
    out
}

fn counts_line(s: &Summary) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{} checked: **{}**, {}, {}\n",
        plural(s.files, "file"),
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note")
    )
}

fn row(f: &Finding) -> String {
    let name = rules::lookup(f.rule).map(|r| r.name).unwrap_or("");
    let mut location = code(&format!("{}:{}:{}", f.path, f.span.line, f.span.column));
    if let Some(c) = &f.commit {
        let short: String = c.chars().take(12).collect();
        location.push_str(&format!(" in {}", code(&short)));
    }
    format!(
        "| {} | {} {} | {} | {} | {} |\n",
        f.level.as_str(),
        f.rule,
        name,
        location,
        text(f.environment.as_deref().unwrap_or("")),
        message(&f.message)
    )
}

fn table(findings: &[Finding], limit: usize) -> String {
    let mut out = String::from(
        "\n| level | rule | location | environment | message |\n|---|---|---|---|---|\n",
    );
    for f in findings.iter().take(limit) {
        out.push_str(&row(f));
    }
    if findings.len() > limit {
        out.push_str(&format!(
            "\n{} more findings are not shown here; the full list is in the job's log and reports.\n",
            findings.len() - limit
        ));
    }
    out
}

pub fn render(ctx: &Context) -> String {
    let s = Summary::of(ctx.findings, ctx.files);
    let mut out = format!("### promolint\n\n{}", counts_line(&s));
    if !ctx.findings.is_empty() {
        out.push_str(&table(ctx.findings, usize::MAX));
    }
    out
}

/// Rows of the findings table in a step summary (GitHub limits a summary to 1 MiB).
pub const SUMMARY_ROWS: usize = 200;

/// The step summary: counts, the findings table and, when given, the promotion matrix.
pub fn render_summary(ctx: &Context, matrix: Option<&Matrix>) -> String {
    let s = Summary::of(ctx.findings, ctx.files);
    let mut out = format!("## promolint {}\n\n{}", ctx.run.command, counts_line(&s));
    if !ctx.findings.is_empty() {
        out.push_str(&table(ctx.findings, SUMMARY_ROWS));
    }
    if let Some(m) = matrix.filter(|m| !m.rows.is_empty()) {
        out.push_str("\n### Promotion matrix (working tree)\n\n");
        out.push_str(&status::render_markdown(m));
        if m.rows
            .iter()
            .flat_map(|r| &r.cells)
            .flatten()
            .any(|c| c.ahead)
        {
            out.push_str("\n⚠️ runs a version its predecessor never ran\n");
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_renders_literally() {
        assert_eq!(
            text("![x](http://t/a.png) <b>|*_~$1$&amp;\\ \n#"),
            "\\!\\[x\\](http://t/a.png) \\<b\\>\\|\\*\\_\\~\\$1\\$\\&amp;\\\\  \\#"
        );
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code("latest"), "`latest`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
    }

    #[test]
    fn messages_keep_their_quoted_values_as_code() {
        assert_eq!(
            message("prod pins x to `latest` [now]"),
            "prod pins x to `latest` \\[now\\]"
        );
        // An unbalanced backtick is shown, never opens a span.
        assert_eq!(message("a `b` c `d"), "a `b` c \\`d");
        assert_eq!(message("`<img src=x>`"), "`<img src=x>`");
    }
}
