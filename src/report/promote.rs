//! `promolint promote`: what was (or would be) changed, as text or JSON.

use crate::promote::Plan;
use serde::Serialize;

/// One value changed, as `--format json` lists it.
#[derive(Serialize)]
struct Row<'a> {
    component: &'a str,
    environment: &'a str,
    path: &'a str,
    line: u32,
    column: u32,
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
struct Skipped<'a> {
    component: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Commit<'a> {
    id: &'a str,
    subject: &'a str,
}

/// The JSON document (schema version 1): every value changed, the components passed over,
/// and the commits made.
pub fn render_json(
    plan: &Plan,
    environment: &str,
    dry_run: bool,
    written: bool,
    commits: &[(String, String)],
) -> String {
    let changes: Vec<Row> = plan
        .promotions
        .iter()
        .flat_map(|p| {
            p.changes.iter().map(move |c| Row {
                component: &p.component,
                environment: &p.environment,
                path: &c.path,
                line: c.line,
                column: c.column,
                from: &c.from,
                to: &c.to,
            })
        })
        .collect();
    let skipped: Vec<Skipped> = plan
        .skipped
        .iter()
        .map(|(component, reason)| Skipped { component, reason })
        .collect();
    let commits: Vec<Commit> = commits
        .iter()
        .map(|(id, subject)| Commit { id, subject })
        .collect();
    let doc = serde_json::json!({
        "version": 1,
        "tool": {"name": "promolint", "version": env!("CARGO_PKG_VERSION")},
        "environment": environment,
        "dry_run": dry_run,
        "written": written,
        "changes": changes,
        "skipped": skipped,
        "commits": commits,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// One line per component promoted (`COMPONENT in ENV: FROM → TO`) and per value under it
/// (`  path:line:column`), then the commits.
pub fn render_human(plan: &Plan, written: bool, commits: &[(String, String)]) -> String {
    let shown = |s: &str| super::printable(s).into_owned();
    let mut out = String::new();
    let verb = if written { "promoted" } else { "would promote" };
    for p in &plan.promotions {
        out.push_str(&format!(
            "{verb} {} in {}: {} → {}\n",
            shown(&p.component),
            shown(&p.environment),
            shown(&p.from.join(", ")),
            shown(&p.to)
        ));
        for c in &p.changes {
            out.push_str(&format!(
                "  {}:{}:{}  {} → {}\n",
                shown(&c.path),
                c.line,
                c.column,
                shown(&c.from),
                shown(&c.to)
            ));
        }
    }
    for (id, subject) in commits {
        let short = id.get(..12).unwrap_or(id);
        out.push_str(&format!("committed {short} {}\n", shown(subject)));
    }
    out
}
