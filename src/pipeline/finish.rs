//! The end of every mode: tree rules on a snapshot, then suppressions (PL011), per-rule
//! ignore globs and levels, and a deterministic order.

use crate::config::{self, Config, RuleLevel};
use crate::error::{ConfigError, Error};
use crate::model::Finding;
use crate::rules;
use crate::snapshot::Snapshot;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::BTreeSet;

/// Run the enabled tree rules on a snapshot and post-process their findings.
pub fn run_tree_rules(
    snapshot: &Snapshot,
    config: &Config,
    enabled: &BTreeSet<&'static str>,
) -> Result<Vec<Finding>, Error> {
    let mut findings = Vec::new();
    rules::run_tree_rules(snapshot, config, enabled, rules::Scope::All, &mut findings);
    let audit = rules::questionable_suppression::Audit::tree(enabled);
    finish(findings, snapshot, config, &audit, enabled)
}

/// Suppressions (and PL011 on them), per-rule ignore globs and levels, then a
/// deterministic order.
pub fn finish(
    mut findings: Vec<Finding>,
    snapshot: &Snapshot,
    config: &Config,
    audit: &rules::questionable_suppression::Audit,
    enabled: &BTreeSet<&'static str>,
) -> Result<Vec<Finding>, Error> {
    // Before the ignore globs: a comment above a finding that a glob also ignores still
    // silences it, so it is not reported as unused.
    let report = enabled.contains(rules::questionable_suppression::ID);
    rules::questionable_suppression::apply(&mut findings, snapshot, config, audit, report);
    let mut ignores: Vec<(&str, GlobSet)> = Vec::new();
    for (id, rc) in &config.rules {
        if rc.ignore.is_empty() {
            continue;
        }
        // Validated when the config was loaded; an error here still names the field.
        let invalid = |e: globset::Error| ConfigError {
            file: config::FILE_NAME.to_string(),
            line: None,
            column: None,
            field: format!("rules.{id}.ignore"),
            message: e.to_string(),
            help: None,
        };
        let mut b = GlobSetBuilder::new();
        for g in &rc.ignore {
            b.add(Glob::new(g).map_err(invalid)?);
        }
        ignores.push((id.as_str(), b.build().map_err(invalid)?));
    }
    findings.retain(|f| {
        let ignored = ignores
            .iter()
            .any(|(id, set)| *id == f.rule && set.is_match(&f.path));
        !ignored
    });
    for f in &mut findings {
        if let Some(RuleLevel::Level(l)) = config.rules.get(f.rule).and_then(|c| c.level) {
            f.level = l;
        }
    }
    sort_findings(&mut findings);
    Ok(findings)
}

/// Sorted by file, line, column, rule, message; exact duplicates removed.
pub fn sort_findings(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (
            &a.path,
            a.span.line,
            a.span.column,
            a.rule,
            &a.message,
            &a.commit,
        )
            .cmp(&(
                &b.path,
                b.span.line,
                b.span.column,
                b.rule,
                &b.message,
                &b.commit,
            ))
    });
    findings.dedup_by(|a, b| {
        a.rule == b.rule
            && a.path == b.path
            && a.span == b.span
            && a.message == b.message
            && a.commit == b.commit
    });
}
