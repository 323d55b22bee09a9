//! `promolint status`: the promotion matrix — components as rows, environments in promotion
//! order as columns, versions in cells, and a mark where an environment runs a version its
//! predecessor never ran.

use super::escape::{code, text};
use crate::history::HistoryIndex;
use crate::promotion::unrun_predecessors;
use crate::snapshot::Snapshot;
use serde::Serialize;
use std::collections::BTreeSet;

/// One cell: the versions an environment pins for a component.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub versions: Vec<String>,
    /// A version here that a predecessor never ran (now or in history).
    pub ahead: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub component: String,
    /// One per environment of [`Matrix::environments`]; `None`: not pinned there.
    pub cells: Vec<Option<Cell>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Matrix {
    pub environments: Vec<String>,
    pub rows: Vec<Row>,
    /// What the marks could not take into account (a shallow history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Build the matrix of a snapshot; `history` tells what predecessors ran before.
pub fn matrix(snap: &Snapshot, history: &HistoryIndex, mutable_tags: &[String]) -> Matrix {
    let order = snap.envs.promotion_order();
    let environments = order
        .iter()
        .map(|&e| snap.envs.get(e).name.clone())
        .collect();
    let mut rows = Vec::new();
    for (component, envs) in snap.components() {
        let versions_in = |env: usize| -> BTreeSet<String> {
            snap.pins_of(env, component)
                .map(|p| {
                    let pin = snap.pin(p);
                    match snap.version(p) {
                        // The build too, so that one version built twice shows as two.
                        Some(v) => match snap
                            .envs
                            .identity(p.env, &pin.component, &pin.reference.value)
                            .build
                        {
                            Some(build) => format!("{v} ({build})"),
                            None => v,
                        },
                        None => pin.reference.display(),
                    }
                })
                .collect()
        };
        let cells = order
            .iter()
            .map(|&e| {
                if !envs.contains(&e) {
                    return None;
                }
                let versions = versions_in(e);
                // The same judgement as PL006 on a tree.
                let ahead = snap
                    .pins_of(e, component)
                    .any(|p| !unrun_predecessors(snap, history, p, mutable_tags).is_empty());
                Some(Cell {
                    versions: versions.into_iter().collect(),
                    ahead,
                })
            })
            .collect();
        rows.push(Row {
            component: component.to_string(),
            cells,
        });
    }
    Matrix {
        environments,
        rows,
        note: None,
    }
}

fn cell_text(c: &Option<Cell>) -> String {
    match c {
        None => "-".to_string(),
        Some(c) => {
            let mut t = c.versions.join(", ");
            if c.ahead {
                t.push_str(" !");
            }
            t
        }
    }
}

/// A plain aligned table; `!` marks a version the predecessor never ran.
pub fn render_human(m: &Matrix) -> String {
    // Names and versions come from the repository: shown printable (no line breaks).
    let shown = |s: String| super::printable(&s).into_owned();
    let mut table: Vec<Vec<String>> = vec![std::iter::once("component".to_string())
        .chain(m.environments.iter().cloned().map(shown))
        .collect()];
    for r in &m.rows {
        table.push(
            std::iter::once(shown(r.component.clone()))
                .chain(r.cells.iter().map(cell_text).map(shown))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| {
            table
                .iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &table {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    if m.rows
        .iter()
        .flat_map(|r| &r.cells)
        .flatten()
        .any(|c| c.ahead)
    {
        out.push_str("\n! runs a version its predecessor never ran\n");
    }
    if let Some(note) = &m.note {
        out.push_str(&format!("\nnote: {note}\n"));
    }
    out
}

/// The matrix as a markdown table; names and versions escaped as every markdown output
/// escapes repository text ([`text`], [`code`]).
pub fn render_markdown(m: &Matrix) -> String {
    let mut out = markdown_head(m);
    for r in &m.rows {
        out.push_str(&markdown_row(r));
    }
    if let Some(note) = &m.note {
        out.push_str(&format!("\n{}\n", text(note)));
    }
    out
}

/// The header lines of [`render_markdown`].
pub fn markdown_head(m: &Matrix) -> String {
    let mut out = String::from("| component |");
    for e in &m.environments {
        out.push_str(&format!(" {} |", text(e)));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(m.environments.len()));
    out.push('\n');
    out
}

/// One component's line of [`render_markdown`]; `⚠️` marks a version the predecessor
/// never ran.
pub fn markdown_row(r: &Row) -> String {
    let mut out = format!("| {} |", code(&r.component));
    for c in &r.cells {
        match c {
            None => out.push_str(" - |"),
            Some(c) => {
                let mark = if c.ahead { " ⚠️" } else { "" };
                out.push_str(&format!(" {}{mark} |", text(&c.versions.join(", "))));
            }
        }
    }
    out.push('\n');
    out
}

pub fn render_json(m: &Matrix) -> String {
    let mut s = serde_json::to_string_pretty(&serde_json::json!({"version": 1, "status": m}))
        .unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn tf(v: &str) -> String {
        format!("locals {{\n  lxc_rootfs_version = \"{v}\"\n}}\n")
    }

    #[test]
    fn marks_a_version_the_predecessor_never_ran() {
        let (dev, prod) = (tf("v6"), tf("v7"));
        let files: Vec<(&str, &[u8])> = vec![
            (
                "fabric-core/terraform/envs/kestrel-dev/main.tf",
                dev.as_bytes(),
            ),
            (
                "fabric-core/terraform/envs/kestrel-prod/main.tf",
                prod.as_bytes(),
            ),
        ];
        let snap =
            crate::pipeline::snapshot_from_bytes(&files, &Config::default()).expect("snapshot");
        let m = matrix(
            &snap,
            &HistoryIndex::empty(),
            &Config::default().mutable_tags,
        );
        assert_eq!(
            render_human(&m),
            "component           dev  prod\nlxc_rootfs_version  v6   v7 !\n\n! runs a version its predecessor never ran\n"
        );
        assert_eq!(
            render_markdown(&m),
            "| component | dev | prod |\n|---|---|---|\n| `lxc_rootfs_version` | v6 | v7 ⚠️ |\n"
        );
        // Behind its predecessor is not ahead: without history, dev passed through v5.
        let prod = tf("v5");
        let files: Vec<(&str, &[u8])> = vec![
            (
                "fabric-core/terraform/envs/kestrel-dev/main.tf",
                dev.as_bytes(),
            ),
            (
                "fabric-core/terraform/envs/kestrel-prod/main.tf",
                prod.as_bytes(),
            ),
        ];
        let snap =
            crate::pipeline::snapshot_from_bytes(&files, &Config::default()).expect("snapshot");
        assert!(!render_human(&matrix(
            &snap,
            &HistoryIndex::empty(),
            &Config::default().mutable_tags
        ))
        .contains('!'));
    }
}
