//! `--format json`: the documented, stable version-1 schema (DESIGN §6).
use super::{fingerprint, Context, Summary};
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
