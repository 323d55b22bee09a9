//! PL000 unreadable-file: a file promolint should read but could not.
use super::Finding;
use crate::config::Config;
use crate::model::{Level, Span};
use crate::snapshot::Snapshot;

pub const ID: &str = "PL000";

pub fn check(snap: &Snapshot, _config: &Config, out: &mut Vec<Finding>) {
    for f in &snap.files {
        let Some(reason) = &f.unreadable else {
            continue;
        };
        out.push(Finding {
            rule: ID,
            level: Level::Note,
            message: format!("file skipped: {reason}"),
            path: f.path.clone(),
            span: Span {
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
                ..Span::default()
            },
            environment: snap
                .envs
                .for_path(&f.path)
                .map(|e| snap.envs.get(e).name.clone()),
            component: None,
            commit: None,
            related: Vec::new(),
            value: reason.clone(),
        });
    }
}
