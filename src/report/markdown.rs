//! `--format markdown`: findings as a table, for pull-request comments; and the summary
//! `--summary FILE` appends for `$GITHUB_STEP_SUMMARY` (the same table, plus the promotion
//! matrix), cut to fit GitHub's limit.
//!
//! Text from the repository (paths, environments, components, versions, the values quoted
//! in messages) goes through [`text`] or [`code`], here and in `status --format markdown`,
//! so that it renders literally: no links, images, autolinks, HTML, emphasis, math, table
//! breaks or control characters can come from a file's content or name.

use super::status::{self, Matrix};
use super::{Context, Summary};
pub use crate::report::escape::{code, text};
use crate::rules::{self, Finding};

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

const TABLE_HEAD: &str =
    "\n| level | rule | location | environment | message |\n|---|---|---|---|---|\n";

pub fn render(ctx: &Context) -> String {
    let s = Summary::of(ctx.findings, ctx.files);
    let mut out = format!("### promolint\n\n{}", counts_line(&s));
    if !ctx.findings.is_empty() {
        out.push_str(TABLE_HEAD);
        for f in ctx.findings {
            out.push_str(&row(f));
        }
    }
    out
}

/// Rows of the findings table in a step summary: more is a log, not a summary.
pub const SUMMARY_ROWS: usize = 200;

/// The most bytes a step summary takes. GitHub refuses a step's summary over 1 MiB
/// (1,048,576 bytes), and other tools of the same step may append to the file: a margin.
pub const SUMMARY_MAX_BYTES: usize = 900 * 1024;

/// Room kept for the closing lines (what was left out, why the matrix is missing).
const SUMMARY_RESERVE: usize = 8 * 1024;

/// The longest error text quoted when the matrix is not available, in characters.
const SUMMARY_ERROR_CHARS: usize = 1000;

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The step summary: counts, the findings table and the promotion matrix (or why it is not
/// available: the error's first line). Rows are kept in order while they fit
/// [`SUMMARY_ROWS`] and [`SUMMARY_MAX_BYTES`]; a closing line says how many findings (and
/// matrix rows) were left out and where to see them all.
pub fn render_summary(ctx: &Context, matrix: Result<&Matrix, &str>) -> String {
    let fits =
        |out: &str, more: &str| out.len() + more.len() + SUMMARY_RESERVE <= SUMMARY_MAX_BYTES;
    let s = Summary::of(ctx.findings, ctx.files);
    let mut out = format!("## promolint {}\n\n{}", ctx.run.command, counts_line(&s));
    if !ctx.findings.is_empty() {
        out.push_str(TABLE_HEAD);
        let mut shown = 0;
        for f in ctx.findings.iter().take(SUMMARY_ROWS) {
            let line = row(f);
            if !fits(&out, &line) {
                break;
            }
            out.push_str(&line);
            shown += 1;
        }
        let left = ctx.findings.len() - shown;
        if left > 0 {
            out.push_str(&format!(
                "\n**{left} of {} left out of this summary** (it shows at most {SUMMARY_ROWS} rows \
                 and {} KiB): the job's log and the report files list every finding, and so does \
                 `promolint {} --format json`.\n",
                plural(ctx.findings.len(), "finding"),
                SUMMARY_MAX_BYTES / 1024,
                ctx.run.command
            ));
        }
    }
    match matrix {
        Ok(m) if !m.rows.is_empty() => {
            let head = format!(
                "\n### Promotion matrix (working tree)\n\n{}",
                status::markdown_head(m)
            );
            // A heading over no rows says nothing: the first row must fit with it.
            let first = m.rows.first().map(status::markdown_row).unwrap_or_default();
            if fits(&out, &(head.clone() + &first)) {
                out.push_str(&head);
                let mut shown = 0;
                let mut ahead = false;
                for r in &m.rows {
                    let line = status::markdown_row(r);
                    if !fits(&out, &line) {
                        break;
                    }
                    out.push_str(&line);
                    ahead |= r.cells.iter().flatten().any(|c| c.ahead);
                    shown += 1;
                }
                if ahead {
                    out.push_str("\n⚠️ runs a version its predecessor never ran\n");
                }
                let left = m.rows.len() - shown;
                if left > 0 {
                    out.push_str(&format!(
                        "\n**{left} of {} left out of this matrix** (the summary stays under {} \
                         KiB): `promolint status` prints it whole.\n",
                        plural(m.rows.len(), "component"),
                        SUMMARY_MAX_BYTES / 1024
                    ));
                }
            } else {
                out.push_str(&format!(
                    "\n**The promotion matrix is left out of this summary** (the summary stays \
                     under {} KiB): `promolint status` prints it.\n",
                    SUMMARY_MAX_BYTES / 1024
                ));
            }
        }
        Ok(_) => {}
        Err(why) => {
            let mut shown: String = why.chars().take(SUMMARY_ERROR_CHARS).collect();
            if shown.len() < why.len() {
                shown.push('…');
            }
            out.push_str(&format!(
                "\nThe promotion matrix is not available: {}\n",
                text(&shown)
            ));
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
            "\\!\\[x\\](http\\://t/a.png) \\<b\\>\\|\\*\\_\\~\\$1\\$\\&amp;\\\\ \\\\n\\#"
        );
        // Links, images and bare URLs: no `](`, no `scheme://`, no `www.` left to link.
        assert_eq!(
            text("[x](https://evil) ![t](https://evil/x.png) https://e www.e.com WWW.e"),
            "\\[x\\](https\\://evil) \\!\\[t\\](https\\://evil/x.png) https\\://e www\\.e.com WWW\\.e"
        );
        // A colon or dot elsewhere is prose.
        assert_eq!(text("file skipped: v1.2.3 a:b"), "file skipped: v1.2.3 a:b");
        // Control characters and line separators are shown, never sent.
        assert_eq!(
            text("a\u{1b}[2J\u{7}\r\u{9b}\u{2028}"),
            "a\\\\u{1b}\\[2J\\\\u{7}\\\\r\\\\u{9b}\\\\u{2028}"
        );
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code("latest"), "`latest`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(code("a|b\nc"), "`a\\|b\\nc`");
        assert_eq!(code("v\u{1b}[31m"), "`v\\u{1b}[31m`");
        assert_eq!(code("[x](https://evil)"), "`[x](https://evil)`");
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

    fn finding(i: usize, value: &str) -> Finding {
        Finding {
            rule: "PL001",
            level: crate::model::Level::Error,
            message: format!("prod pins app-{i} to mutable tag `{value}`"),
            path: format!("clusters/prod/app-{i}.yaml"),
            span: crate::model::Span::default(),
            environment: Some("prod".into()),
            component: Some(format!("app-{i}")),
            commit: None,
            related: vec![],
            value: value.into(),
            help: None,
            fix: Default::default(),
        }
    }

    fn summary(findings: &[Finding], matrix: Result<&Matrix, &str>) -> String {
        let run = super::super::RunInfo {
            command: "check",
            ..Default::default()
        };
        let ctx = Context {
            findings,
            files: 1,
            source: &|_, _, _| None,
            run: &run,
        };
        render_summary(&ctx, matrix)
    }

    fn matrix(rows: usize, version: &str) -> Matrix {
        Matrix {
            environments: vec!["dev".into(), "prod".into()],
            rows: (0..rows)
                .map(|i| status::Row {
                    component: format!("app-{i}"),
                    cells: vec![
                        None,
                        Some(status::Cell {
                            versions: vec![version.into()],
                            ahead: i == 0,
                        }),
                    ],
                })
                .collect(),
            note: None,
        }
    }

    #[test]
    fn summaries_stay_under_the_limit_and_say_what_was_left_out() {
        // Whole: every row, the matrix, no closing line.
        let few: Vec<Finding> = (0..3).map(|i| finding(i, "latest")).collect();
        let m = matrix(2, "v1");
        let text = summary(&few, Ok(&m));
        assert_eq!(text.matches("| error | PL001").count(), 3);
        assert!(!text.contains("left out"), "{text}");
        assert!(text.contains("| `app-1` | - | v1 |\n"), "{text}");
        assert!(text.contains("\n⚠️ runs a version its predecessor never ran\n"));
        // More than the rows a summary shows.
        let many: Vec<Finding> = (0..250).map(|i| finding(i, "latest")).collect();
        let text = summary(&many, Ok(&m));
        assert_eq!(text.matches("| error | PL001").count(), SUMMARY_ROWS);
        assert!(text.contains("\n**50 of 250 findings left out of this summary** (it shows at most 200 rows and 900 KiB): the job's log and the report files list every finding, and so does `promolint check --format json`.\n"), "{text}");
        // Rows of 10 KB: cut by size, and the matrix too.
        let long = "x".repeat(10_000);
        let big: Vec<Finding> = (0..150).map(|i| finding(i, &long)).collect();
        let m = matrix(150, &long);
        let text = summary(&big, Ok(&m));
        assert!(text.len() <= SUMMARY_MAX_BYTES, "{}", text.len());
        let shown = text.matches("| error | PL001").count();
        assert!(shown > 50 && shown < 150, "{shown}");
        assert!(text.contains(&format!(
            "**{} of 150 findings left out of this summary**",
            150 - shown
        )));
        assert!(text.contains("**The promotion matrix is left out of this summary** (the summary stays under 900 KiB): `promolint status` prints it.\n"), "{}", &text[text.len() - 500..]);
        // Few findings, a large matrix: cut by rows.
        let text = summary(&few, Ok(&m));
        assert!(text.len() <= SUMMARY_MAX_BYTES);
        let rows = text.matches("| `app-").count();
        assert!(rows > 50 && rows < 150, "{rows}");
        assert!(text.contains(&format!("**{} of 150 components left out of this matrix** (the summary stays under 900 KiB): `promolint status` prints it whole.\n", 150 - rows)));
        // One giant finding: left out, never over the limit.
        let huge = [finding(0, &"y".repeat(2 << 20))];
        let text = summary(&huge, Err("no history"));
        assert!(text.len() < 2048, "{}", text.len());
        assert!(text.contains("**1 of 1 finding left out of this summary**"));
        assert!(text.ends_with("\nThe promotion matrix is not available: no history\n\n"));
        // A long error line is cut too.
        let text = summary(&few, Err(&"![e](https://evil) ".repeat(1000)));
        assert!(text.len() < 10_000, "{}", text.len());
        assert!(text.contains("The promotion matrix is not available: \\!\\[e\\](https\\://evil)"));
        assert!(text.ends_with("…\n\n"));
    }
}
