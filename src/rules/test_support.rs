//! Test scaffolding shared by the rules: build a tree or a change from in-memory files,
//! run a rule on it, show its findings.

use crate::catalogue::section;
use crate::change::{ChangeContext, ChangeKind, ChangedFile};
use crate::config::Config;
use crate::history::{HistoryIndex, PastPin};
use crate::rules::Finding;
use crate::snapshot::Snapshot;
use std::collections::BTreeMap;

/// A change rule's check function.
pub type ChangeCheck = fn(&ChangeContext, &mut Vec<Finding>);

/// A history-aware tree rule's check function.
pub type HistoryTreeCheck = fn(&Snapshot, &Config, &HistoryIndex, &mut Vec<Finding>);

pub const COMMIT: &str = "c0ffee1";

/// Findings of a history-aware tree check on in-memory files.
pub fn run_tree(
    files: &[(&str, String)],
    history: &HistoryIndex,
    check: HistoryTreeCheck,
) -> Vec<Finding> {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let snap = match crate::pipeline::snapshot_from_bytes(&files, &Config::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut out = Vec::new();
    check(&snap, &Config::default(), history, &mut out);
    out
}

/// A change: files before and after, renames (old, new), history and config.
pub struct Change<'a> {
    pub before: Vec<(&'a str, &'a [u8])>,
    pub after: Vec<(&'a str, &'a [u8])>,
    pub renames: Vec<(&'a str, &'a str)>,
    pub history: HistoryIndex,
    pub config: Config,
}

impl<'a> Change<'a> {
    pub fn new(before: &[(&'a str, &'a str)], after: &[(&'a str, &'a str)]) -> Self {
        Change {
            before: before.iter().map(|(p, t)| (*p, t.as_bytes())).collect(),
            after: after.iter().map(|(p, t)| (*p, t.as_bytes())).collect(),
            renames: Vec::new(),
            history: HistoryIndex::empty(),
            config: Config::default(),
        }
    }

    pub fn rename(mut self, old: &'a str, new: &'a str) -> Self {
        self.renames.push((old, new));
        self
    }

    /// Record in the history that `env` ran `component` at `version` (in `path`).
    pub fn ran(mut self, env: &str, component: &str, version: &str, path: &str) -> Self {
        self.history
            .record(env, component, past(version, None, "0ld0000", path));
        self
    }

    pub fn with_history(mut self, history: HistoryIndex) -> Self {
        self.history = history;
        self
    }

    /// Declared environments: (name, path glob, protected, predecessors).
    pub fn envs(mut self, envs: &[(&str, &str, bool, &[&str])]) -> Self {
        self.config.environments = envs
            .iter()
            .map(
                |(name, glob, protected, after)| crate::config::EnvironmentConfig {
                    name: name.to_string(),
                    paths: vec![glob.to_string()],
                    protected: *protected,
                    after: after.iter().map(|a| a.to_string()).collect(),
                    ..Default::default()
                },
            )
            .collect();
        self
    }

    pub fn max_versions(mut self, n: usize) -> Self {
        self.config.promotion.max_versions_per_change = n;
        self
    }

    pub fn snapshots(&self) -> (Snapshot, Snapshot) {
        match crate::pipeline::snapshot_pair(&self.before, &self.after, &self.config) {
            Ok(pair) => pair,
            Err(e) => panic!("snapshot_pair: {e}"),
        }
    }

    /// The changed files, as a source with rename detection would list them.
    pub fn files(&self) -> Vec<ChangedFile> {
        let before: BTreeMap<&str, &[u8]> = self.before.iter().copied().collect();
        let after: BTreeMap<&str, &[u8]> = self.after.iter().copied().collect();
        let mut out = Vec::new();
        for (old, new) in &self.renames {
            out.push(ChangedFile {
                kind: ChangeKind::Renamed,
                path: new.to_string(),
                old_path: Some(old.to_string()),
            });
        }
        let renamed = |p: &str| self.renames.iter().any(|(o, n)| *o == p || *n == p);
        for (path, bytes) in &after {
            if renamed(path) {
                continue;
            }
            let kind = match before.get(path) {
                None => ChangeKind::Added,
                Some(b) if b != bytes => ChangeKind::Modified,
                Some(_) => continue,
            };
            out.push(ChangedFile {
                kind,
                path: path.to_string(),
                old_path: None,
            });
        }
        for path in before.keys() {
            if !after.contains_key(path) && !renamed(path) {
                out.push(ChangedFile {
                    kind: ChangeKind::Deleted,
                    path: path.to_string(),
                    old_path: None,
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Run one change rule; every finding must carry the commit.
    pub fn run(&self, check: ChangeCheck) -> Vec<Finding> {
        let (before, after) = self.snapshots();
        let files = self.files();
        let ctx = ChangeContext::new(
            &before,
            &after,
            &files,
            &self.history,
            Some(COMMIT),
            &self.config,
        );
        let mut out = Vec::new();
        check(&ctx, &mut out);
        crate::pipeline::sort_findings(&mut out);
        for f in &out {
            assert_eq!(f.commit.as_deref(), Some(COMMIT), "{f:?}");
        }
        out
    }
}

pub fn past(version: &str, digest: Option<&str>, commit: &str, path: &str) -> PastPin {
    PastPin {
        version: version.to_string(),
        build: None,
        digest: digest.map(str::to_string),
        commit: commit.to_string(),
        path: path.to_string(),
        span: crate::rules::support::file_span(),
        seq: 0,
    }
}

/// The history a two-commit repository gives: every pin of `snap` (the base).
pub fn history_of(snap: &Snapshot) -> HistoryIndex {
    let mut h = HistoryIndex::empty();
    for p in &snap.pins {
        let Some(version) = snap.version(p) else {
            continue;
        };
        let pin = snap.pin(p);
        h.record(
            &snap.envs.get(p.env).name,
            &pin.component,
            crate::history::PastPin {
                version,
                build: snap
                    .envs
                    .identity(p.env, &pin.component, &pin.reference.value)
                    .build,
                digest: pin.reference.digest.clone(),
                commit: "base".to_string(),
                path: snap.path(p.file).to_string(),
                span: pin.span.clone(),
                seq: 0,
            },
        );
    }
    h
}

/// `PL006 error path:line:col message`.
pub fn show(f: &Finding) -> String {
    format!(
        "{} {} {}:{}:{} {}",
        f.rule,
        f.level.as_str(),
        f.path,
        f.span.line,
        f.span.column,
        f.message
    )
}

/// `path:line:col message` of each related location.
pub fn related(f: &Finding) -> Vec<String> {
    f.related
        .iter()
        .map(|r| format!("{}:{}:{} {}", r.path, r.span.line, r.span.column, r.message))
        .collect()
}

/// (path, contents) of the fenced blocks of one side of an example.
type Files = Vec<(String, String)>;

/// Blocks of one `### title` subsection of a page's `## Examples`, split by `side=`.
fn example_sides(body: &str, title: &str) -> (Files, Files) {
    let examples = section(body, "Examples").unwrap_or_else(|| panic!("no ## Examples"));
    let heading = format!("### {title}\n");
    let start = examples
        .find(&heading)
        .unwrap_or_else(|| panic!("no ### {title}"))
        + heading.len();
    let rest = &examples[start..];
    let text = &rest[..rest.find("\n### ").map_or(rest.len(), |i| i + 1)];
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let attr = |key: &str| {
            info.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .map(str::to_string)
        };
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        let Some(file) = attr("file=") else {
            continue;
        };
        match attr("side=").as_deref() {
            Some("before") => before.push((file, body)),
            Some("after") => after.push((file, body)),
            other => panic!("block {file}: side={other:?}"),
        }
    }
    assert!(!after.is_empty(), "### {title}: no side=after block");
    (before, after)
}

/// Each page example (`### Bad`, `### Good`) as a change from its before blocks to its
/// after blocks (history: the base), with the findings of `check`.
pub fn page_findings(id: &str, check: ChangeCheck) -> (Vec<String>, Vec<String>) {
    let rule = crate::catalogue::lookup(id).unwrap_or_else(|| panic!("no page for {id}"));
    let run = |title: &str| {
        let (before, after) = example_sides(rule.body, title);
        let b: Vec<(&str, &str)> = before
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let a: Vec<(&str, &str)> = after
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let change = Change::new(&b, &a);
        let history = history_of(&change.snapshots().0);
        change
            .with_history(history)
            .run(check)
            .iter()
            .map(show)
            .collect::<Vec<_>>()
    };
    (run("Bad"), run("Good"))
}
