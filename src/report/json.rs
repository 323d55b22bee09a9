//! `--format json`: the documented, stable version-1 schema (DESIGN §6).
use super::{fingerprint, fix_edits, Context, Summary};
use crate::model::{Finding, FixState};
use serde::Serialize;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    name: &'a str,
    level: &'a str,
    message: &'a str,
    path: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    environment: Option<&'a str>,
    component: Option<&'a str>,
    commit: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
    fingerprint: String,
    /// Only with `--fix`: the finding's fix, or why it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
}

/// `fix`: `{"applicable": true, "description", "edits"}` or `{"applicable": false,
/// "reason"}`.
#[derive(Serialize)]
struct JsonFix<'a> {
    applicable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    edits: Option<Vec<JsonEdit<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// One replacement: the bytes `start..end` of the decoded text (a byte order mark left
/// out), which are `line:column` to `end_line:end_column`, become `replacement`.
#[derive(Serialize)]
struct JsonEdit<'a> {
    path: &'a str,
    start: usize,
    end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
    replacement: &'a str,
}

fn fix<'a>(ctx: &Context, f: &'a Finding) -> Option<JsonFix<'a>> {
    match &f.fix {
        FixState::None => None,
        FixState::Unsafe(reason) => Some(JsonFix {
            applicable: false,
            description: None,
            edits: None,
            reason: Some(reason),
        }),
        FixState::Safe(fix) => Some(JsonFix {
            applicable: true,
            description: Some(&fix.description),
            edits: Some(
                fix_edits(ctx, f)
                    .into_iter()
                    .map(|(e, span)| JsonEdit {
                        path: &e.path,
                        start: e.range.start,
                        end: e.range.end,
                        line: span.as_ref().map(|s| s.line),
                        column: span.as_ref().map(|s| s.column),
                        end_line: span.as_ref().map(|s| s.end_line),
                        end_column: span.as_ref().map(|s| s.end_column),
                        replacement: &e.replacement,
                    })
                    .collect(),
            ),
            reason: None,
        }),
    }
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

/// The JSON document, newline-terminated.
pub fn render(ctx: &Context) -> String {
    let findings = ctx
        .findings
        .iter()
        .map(|f| JsonFinding {
            rule: f.rule,
            name: crate::catalogue::lookup(f.rule)
                .map(|r| r.name)
                .unwrap_or(""),
            level: f.level.as_str(),
            message: &f.message,
            path: &f.path,
            line: f.span.line,
            column: f.span.column,
            end_line: f.span.end_line,
            end_column: f.span.end_column,
            environment: f.environment.as_deref(),
            component: f.component.as_deref(),
            commit: f.commit.as_deref(),
            related: f
                .related
                .iter()
                .map(|r| JsonRelated {
                    path: &r.path,
                    line: r.span.line,
                    column: r.span.column,
                    message: &r.message,
                })
                .collect(),
            fingerprint: fingerprint(f),
            fix: fix(ctx, f),
        })
        .collect();
    let out = Output {
        version: 1,
        tool: Tool {
            name: "promolint",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings,
        summary: Summary::of(ctx.findings, ctx.files),
    };
    // Serialising plain strings and numbers cannot fail.
    let mut s = serde_json::to_string_pretty(&out).unwrap_or_default();
    s.push('\n');
    s
}
