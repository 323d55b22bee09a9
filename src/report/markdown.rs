//! `--format markdown`: findings as a table, for pull-request comments.
use super::{Context, Summary};
use crate::rules;

/// Escape text for a markdown table cell: no pipes, no line breaks, no HTML.
pub fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\r', '\n'], " ")
}

pub fn render(ctx: &Context) -> String {
    let s = Summary::of(ctx.findings, ctx.files);
    let mut out = format!(
        "### promolint\n\n{} files checked: **{} errors**, {} warnings, {} notes\n",
        s.files, s.errors, s.warnings, s.notes
    );
    if ctx.findings.is_empty() {
        return out;
    }
    out.push_str("\n| level | rule | location | environment | message |\n|---|---|---|---|---|\n");
    for f in ctx.findings {
        let name = rules::lookup(f.rule).map(|r| r.name).unwrap_or("");
        let mut location = format!("`{}:{}:{}`", cell(&f.path), f.span.line, f.span.column);
        if let Some(c) = &f.commit {
            location.push_str(&format!(" in {}", &c[..c.len().min(12)]));
        }
        out.push_str(&format!(
            "| {} | {} {} | {} | {} | {} |\n",
            f.level.as_str(),
            f.rule,
            name,
            location,
            cell(f.environment.as_deref().unwrap_or("")),
            cell(&f.message)
        ));
    }
    out
}
