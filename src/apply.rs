//! `--fix`: the safe fixes of a run's findings (see [`crate::model::FixState`]) as one
//! change of the working tree, which `--dry-run` shows as a diff and `--fix` writes all or
//! none (through [`crate::edit::ChangeSet`]).
//!
//! A fix is computed on the text the run judged (the working tree in `check`, the index in
//! `staged`, the head commit in `diff`). It is taken only where the working tree's file
//! is still that text, so that no edit lands on bytes it was not computed for.

use crate::edit::{ChangeSet, Edit, EditError};
use crate::fsutil::{self, Found};
use crate::model::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// The UTF-8 byte order mark: spans leave it out (see [`crate::extract::decode`]), the
/// file on disk has it.
const BOM: &str = "\u{feff}";

/// Files larger than this are not compared or edited (spans come from files promolint
/// read, which are smaller still).
const MAX_EDITED_FILE: u64 = 64 << 20;

/// What `--fix` would write.
#[derive(Debug)]
pub struct Plan {
    pub changes: ChangeSet,
    /// Indices of the findings whose fix `changes` holds.
    pub fixed: Vec<usize>,
    /// Findings with a safe fix that was not taken, and why.
    pub skipped: Vec<(usize, String)>,
}

impl Plan {
    /// The files `changes` rewrites, in path order.
    pub fn files(&self) -> Vec<&str> {
        self.changes
            .files()
            .filter(|(_, old, new)| old != new)
            .map(|(path, ..)| path)
            .collect()
    }
}

/// The change that applies every safe fix of `findings` to the working tree at `root`.
/// `judged(path)` is the decoded text the findings of `path` were computed on; `tree`
/// names it in messages (`the index`). A fix whose file differs from that text in the
/// working tree, or whose edits overlap another fix's, is skipped with the reason.
pub fn plan(
    root: &Path,
    findings: &[Finding],
    judged: &dyn Fn(&str) -> Option<Arc<str>>,
    tree: &str,
) -> Result<Plan, EditError> {
    let mut skipped = Vec::new();
    // Each file's state in the working tree: Ok(has a BOM) when it is the judged text.
    let mut state: BTreeMap<String, Result<bool, String>> = BTreeMap::new();
    let mut taken: Vec<(usize, Vec<Edit>)> = Vec::new();
    let mut claimed: BTreeMap<String, Vec<Edit>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(fix) = f.fix.safe() else {
            continue;
        };
        let mut why = None;
        let mut edits = Vec::new();
        for e in &fix.edits {
            let st = state
                .entry(e.path.clone())
                .or_insert_with(|| compare(root, &e.path, judged, tree));
            match st {
                Ok(bom) => {
                    let shift = if *bom { BOM.len() } else { 0 };
                    edits.push(Edit {
                        path: e.path.clone(),
                        range: e.range.start + shift..e.range.end + shift,
                        replacement: e.replacement.clone(),
                    });
                }
                Err(reason) => {
                    why = Some(reason.clone());
                    break;
                }
            }
        }
        if why.is_none() {
            why = edits.iter().find_map(|e| {
                let clash = claimed.get(&e.path)?.iter().find(|c| overlaps(c, e))?;
                Some(format!(
                    "its edit of {} overlaps another fix's (bytes {}..{}): run `--fix` again once that one is written",
                    e.path, clash.range.start, clash.range.end
                ))
            });
        }
        match why {
            Some(reason) => skipped.push((i, reason)),
            None => {
                for e in &edits {
                    claimed.entry(e.path.clone()).or_default().push(e.clone());
                }
                taken.push((i, edits));
            }
        }
    }
    // A file the change set refuses (a symbolic link on the way, a file that changed since
    // it was read) costs only the fixes in it, each skipped with the reason.
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    for (path, edits) in &claimed {
        if let Err(e) = ChangeSet::from_edits(root, edits) {
            refused.insert(path.clone(), e.to_string());
        }
    }
    if !refused.is_empty() {
        let mut kept = Vec::new();
        for (i, edits) in taken {
            match edits.iter().find_map(|e| refused.get(&e.path)) {
                Some(why) => skipped.push((i, why.replace("\n  help: ", ": "))),
                None => kept.push((i, edits)),
            }
        }
        taken = kept;
        skipped.sort_by_key(|(i, _)| *i);
    }
    // One edit written by two fixes (a value two findings share) is one edit.
    let mut unique: BTreeSet<(String, usize, usize, String)> = BTreeSet::new();
    let mut all = Vec::new();
    for e in taken.iter().flat_map(|(_, edits)| edits) {
        let key = (
            e.path.clone(),
            e.range.start,
            e.range.end,
            e.replacement.clone(),
        );
        if unique.insert(key) {
            all.push(e.clone());
        }
    }
    let changes = ChangeSet::from_edits(root, &all)?;
    Ok(Plan {
        changes,
        fixed: taken.into_iter().map(|(i, _)| i).collect(),
        skipped,
    })
}

/// Whether two edits of one file touch the same bytes (or insert at one place) with
/// different results.
fn overlaps(a: &Edit, b: &Edit) -> bool {
    let same = a.range == b.range && a.replacement == b.replacement;
    let touch = a.range.start < b.range.end && b.range.start < a.range.end
        || a.range.start == b.range.start;
    !same && touch
}

/// Whether the working tree's `path` is the text the fix was computed on: `Ok(true)` when
/// it is and starts with a byte order mark, `Ok(false)` when it is without one, else why
/// not.
fn compare(
    root: &Path,
    path: &str,
    judged: &dyn Fn(&str) -> Option<Arc<str>>,
    tree: &str,
) -> Result<bool, String> {
    let Some(text) = judged(path) else {
        return Err(format!("the text of {path} that {tree} holds was not kept"));
    };
    let bytes = match fsutil::read_capped(&root.join(path), MAX_EDITED_FILE) {
        Ok(Found::Bytes(b)) => b,
        Ok(Found::Missing) => return Err(format!("{path} is not in the working tree")),
        Ok(Found::NotAFile) => {
            return Err(format!(
                "{path} in the working tree is not a regular file (a link, a directory)"
            ))
        }
        Ok(Found::TooLarge) => return Err(format!("{path} in the working tree is too large")),
        Err(e) => return Err(format!("cannot read {path}: {e}")),
    };
    let Ok(now) = std::str::from_utf8(&bytes) else {
        return Err(format!("{path} in the working tree is not UTF-8 text"));
    };
    let (bom, body) = match now.strip_prefix(BOM) {
        Some(rest) => (true, rest),
        None => (false, now),
    };
    if body == &*text {
        Ok(bom)
    } else {
        Err(format!(
            "{path} in the working tree differs from {tree}, where the finding is: \
             make them the same (stage or stash the edits) and run `--fix` again"
        ))
    }
}
