//! `promolint promote`: plan the edits on the working tree's snapshot, lint the change they
//! make in memory (old tree against new contents, the change rules of `diff`), and write
//! them (and commit them) only when no PL006, PL007 or PL008 finding comes out.

use super::check::*;
use super::facts::*;
use super::finish::*;
use super::git::*;
use super::setup::*;
use super::walk::head_history;
use crate::change::{ChangeContext, ChangeKind, ChangedFile};
use crate::edit::{ChangeSet, Edit};
use crate::error::Error;
use crate::history::HistoryIndex;
use crate::model::{Finding, Revision};
use crate::promote::{Plan, Promotion, Request};
use crate::rules;
use crate::snapshot::FileFacts;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The rules a promotion must pass: its order, one version at a time, the same build.
pub const GATES: [&str; 3] = ["PL006", "PL007", "PL008"];

/// What `promote` does with the plan.
#[derive(Clone, Copy, Debug, Default)]
pub struct Write {
    /// Print the change, write nothing.
    pub dry_run: bool,
    /// Commit the change (one commit).
    pub commit: bool,
    /// One commit per component (implies `commit`).
    pub each_commit: bool,
}

/// The result of `promote`.
pub struct PromoteOutcome {
    pub root: PathBuf,
    pub plan: Plan,
    /// The unified diff of the whole change.
    pub diff: String,
    /// Findings of the gates: non-empty means refused, nothing written.
    pub refused: Vec<Finding>,
    /// Texts the refusing findings quote.
    pub sources: Sources,
    /// Whether files were written.
    pub written: bool,
    /// Commits made, oldest first: (commit id, subject).
    pub commits: Vec<(String, String)>,
}

/// Run `promote`.
pub fn promote(opts: &Options, req: &Request, how: Write) -> Result<PromoteOutcome, Error> {
    let pool = thread_pool(opts.jobs)?;
    pool.install(|| promote_in_pool(opts, req, how))
}

fn promote_in_pool(opts: &Options, req: &Request, how: Write) -> Result<PromoteOutcome, Error> {
    let wt = load_worktree(opts)?;
    if (how.commit || how.each_commit) && !how.dry_run && !wt.git {
        return Err(Error::Usage {
            message: format!(
                "--commit needs a Git repository, and {} is none",
                wt.root.display()
            ),
            help: Some("run promote without --commit or --each-commit".to_string()),
        });
    }
    let history = if wt.git {
        head_history(opts, &wt.snapshot, &wt.config, None)
    } else {
        HistoryIndex::empty()
    };
    let plan = crate::promote::plan(&wt.snapshot, &history, &wt.config.mutable_tags, req)?;
    if let Some(e) = history.take_error() {
        return Err(e);
    }
    let mut out = PromoteOutcome {
        root: wt.root.clone(),
        plan,
        diff: String::new(),
        refused: Vec::new(),
        sources: Sources::new(),
        written: false,
        commits: Vec::new(),
    };
    if out.plan.promotions.is_empty() {
        return Ok(out);
    }
    // One step per commit: each is judged on the tree the steps before it leave.
    let steps: Vec<Vec<&Promotion>> = if how.each_commit {
        out.plan.promotions.iter().map(|p| vec![p]).collect()
    } else {
        vec![out.plan.promotions.iter().collect()]
    };
    let boms = byte_order_marks(&wt.root, &out.plan)?;
    let mut edits: Vec<Edit> = Vec::new();
    let mut before = ChangeSet::default();
    let mut sets = Vec::with_capacity(steps.len());
    let enabled = enabled_rules(&wt.config, opts)?;
    for step in &steps {
        edits.extend(
            step.iter()
                .flat_map(|p| &p.changes)
                .map(|c| on_disk(&c.edit, &boms)),
        );
        let after = ChangeSet::from_edits(&wt.root, &edits).map_err(edit_error)?;
        let findings = gate(&wt, &history, &enabled, &before, &after, &mut out.sources)?;
        if !findings.is_empty() {
            out.refused = findings;
            return Ok(out);
        }
        sets.push((before, after.clone()));
        before = after;
    }
    if let Some(e) = history.take_error() {
        return Err(e);
    }
    out.diff = before.unified_diff();
    if how.dry_run {
        return Ok(out);
    }
    for ((old, new), step) in sets.iter().zip(&steps) {
        let change = step_change(old, new);
        change.write(&wt.root).map_err(edit_error)?;
        out.written = true;
        if how.commit || how.each_commit {
            let paths: Vec<&str> = change
                .files()
                .filter(|(_, o, n)| o != n)
                .map(|(p, _, _)| p)
                .collect();
            out.commits.push(commit(&wt.root, &paths, step)?);
        }
    }
    Ok(out)
}

/// The files of `root` the plan edits that start with a UTF-8 byte-order mark: the snapshot's
/// spans count from after it.
fn byte_order_marks(root: &Path, plan: &Plan) -> Result<BTreeSet<String>, Error> {
    let mut out = BTreeSet::new();
    let paths: BTreeSet<&str> = plan
        .promotions
        .iter()
        .flat_map(|p| &p.changes)
        .map(|c| c.path.as_str())
        .collect();
    for path in paths {
        let mut head = [0u8; 3];
        let n = std::fs::File::open(root.join(path))
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .map_err(|e| Error::Usage {
                message: format!("{path}: cannot read it: {e}"),
                help: None,
            })?;
        if n == 3 && head == *b"\xEF\xBB\xBF" {
            out.insert(path.to_string());
        }
    }
    Ok(out)
}

fn on_disk(edit: &Edit, boms: &BTreeSet<String>) -> Edit {
    let shift = if boms.contains(&edit.path) { 3 } else { 0 };
    Edit {
        path: edit.path.clone(),
        range: edit.range.start + shift..edit.range.end + shift,
        replacement: edit.replacement.clone(),
    }
}

fn edit_error(e: crate::edit::EditError) -> Error {
    let text = e.to_string();
    let (message, help) = match text.split_once("\n  help: ") {
        Some((m, h)) => (m.to_string(), Some(h.to_string())),
        None => (text, None),
    };
    Error::Usage { message, help }
}

/// The files one step changes: its texts before and after.
fn step_change(before: &ChangeSet, after: &ChangeSet) -> ChangeSet {
    let was: BTreeMap<&str, &str> = before.files().map(|(p, _, new)| (p, new)).collect();
    let files = after
        .files()
        .map(|(path, original, new)| {
            let old = was.get(path).copied().unwrap_or(original);
            (path.to_string(), (old.to_string(), new.to_string()))
        })
        .filter(|(_, (old, new))| old != new)
        .collect();
    ChangeSet::from_texts(files)
}

/// The working tree's facts with `set`'s new texts in place of the files it changes.
fn facts_with(wt: &Worktree, set: &ChangeSet) -> Vec<Arc<FileFacts>> {
    let new: BTreeMap<&str, &str> = set
        .files()
        .filter(|(_, old, new)| old != new)
        .map(|(p, _, new)| (p, new))
        .collect();
    wt.snapshot
        .files
        .iter()
        .map(|f| match new.get(f.path.as_str()) {
            Some(text) => match crate::extract::format_of(&f.path) {
                Some(format) => Arc::new(file_facts(&f.path, format, Ok(text.as_bytes()))),
                None => f.clone(),
            },
            None => f.clone(),
        })
        .collect()
}

/// Lint the change from `before` to `after` (both over the working tree) as `diff` would:
/// the findings of the gates, after suppressions and levels.
fn gate(
    wt: &Worktree,
    history: &HistoryIndex,
    enabled: &BTreeSet<&'static str>,
    before: &ChangeSet,
    after: &ChangeSet,
    sources: &mut Sources,
) -> Result<Vec<Finding>, Error> {
    let paths: Vec<String> = wt.snapshot.files.iter().map(|f| f.path.clone()).collect();
    let (old, new) = pair_from_facts(
        paths.clone(),
        facts_with(wt, before),
        paths,
        facts_with(wt, after),
        &wt.config,
    )?;
    let was: BTreeMap<&str, &str> = before.files().map(|(p, _, n)| (p, n)).collect();
    let mut files: Vec<ChangedFile> = after
        .files()
        .filter(|(p, original, n)| was.get(p).copied().unwrap_or(*original) != *n)
        .map(|(p, _, _)| ChangedFile {
            kind: ChangeKind::Modified,
            path: p.to_string(),
            old_path: None,
        })
        .collect();
    files.sort();
    let gates: BTreeSet<&'static str> = enabled
        .iter()
        .copied()
        .filter(|id| GATES.contains(id))
        .collect();
    let ctx = ChangeContext::new(&old, &new, &files, history, None, &wt.config);
    let cx = rules::Context::change(&ctx);
    let mut findings = Vec::new();
    for rule in rules::with_hook(&gates, |h| h.change) {
        rule.change(&cx, &mut findings);
    }
    let changed: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let audit = rules::questionable_suppression::Audit {
        ran: BTreeSet::new(),
        files: Some(&changed),
        base: Some(&old),
    };
    let mut findings = finish(findings, &new, &wt.config, &audit, enabled)?;
    findings.retain(|f| GATES.contains(&f.rule));
    for f in &findings {
        for path in std::iter::once(&f.path).chain(f.related.iter().map(|r| &r.path)) {
            for (snap, side) in [(&new, Revision::Tree), (&old, Revision::Base)] {
                if let Some(text) = snap.file(path).and_then(|x| x.text.clone()) {
                    sources.entry((None, side, path.clone())).or_insert(text);
                }
            }
        }
    }
    Ok(findings)
}

/// The subject of a step's commit: `promote COMPONENT to ENV: FROM → TO`, or for several
/// components a subject counting them and a body line each.
pub fn commit_message(step: &[&Promotion]) -> String {
    let line = |p: &Promotion| format!("{}: {} → {}", p.component, p.from.join(", "), p.to);
    match step {
        [one] => format!(
            "promote {} to {}: {} → {}",
            one.component,
            one.environment,
            one.from.join(", "),
            one.to
        ),
        _ => {
            let env = step.first().map_or("", |p| p.environment.as_str());
            let mut msg = format!("promote {} components to {env}\n\n", step.len());
            for p in step {
                msg.push_str(&format!("- {}\n", line(p)));
            }
            msg
        }
    }
}

/// Commit exactly `paths` (whatever else is staged stays staged) with the git command line.
fn commit(root: &Path, paths: &[&str], step: &[&Promotion]) -> Result<(String, String), Error> {
    let message = commit_message(step);
    let git = |args: &[&str]| -> Result<String, Error> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .map_err(|e| Error::Usage {
                message: format!("cannot run git: {e}; the files are written but not committed"),
                help: Some("install git, or run promote without --commit".to_string()),
            })?;
        if !out.status.success() {
            return Err(Error::Usage {
                message: format!(
                    "`git {}` failed: {}; the files are written but not committed",
                    args.first().copied().unwrap_or_default(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                help: Some(
                    "commit them yourself (`git commit -- <files>`), or set up git's identity (`git config user.email`)"
                        .to_string(),
                ),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let mut add = vec!["add", "--"];
    add.extend(paths);
    git(&add)?;
    let mut args = vec!["commit", "--quiet", "--only", "-m", &message, "--"];
    args.extend(paths);
    git(&args)?;
    let id = git(&["rev-parse", "HEAD"])?;
    let subject = message.lines().next().unwrap_or_default().to_string();
    Ok((id, subject))
}
