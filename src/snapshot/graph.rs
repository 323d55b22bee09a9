//! The include graph's vocabulary, shared by the snapshot and its parts (entry points,
//! patches, replacements, substitutions, values): a file's facts, a pin where it takes
//! effect, how a kustomization (or a Terragrunt unit, or an entry point) includes a file,
//! and how entries resolve to files.

use crate::extract::suppress::Suppression;
use crate::model::hash::{HashMap, HashSet};
use crate::model::{join_normalized, Fact, Pin, Related};
use std::sync::Arc;

/// What extraction produced for one file.
#[derive(Clone, Debug, Default)]
pub struct FileFacts {
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// The decoded text, kept for files that hold facts or suppressions (diagnostics quote it).
    pub text: Option<Arc<str>>,
    pub facts: Vec<Fact>,
    pub suppressions: Vec<Suppression>,
    /// Why the file could not be read (a PL000 note), if so.
    pub unreadable: Option<String>,
}

crate::model::codec::codec_struct!(FileFacts {
    path,
    text,
    facts,
    suppressions,
    unreadable
});

/// A pin in the environment where it takes effect.
#[derive(Clone, Debug)]
pub struct EffectivePin {
    /// The file holding the value that takes effect (for a patched pin, the patch's).
    pub file: usize,
    /// The fact of `file` it comes from: a pin, or for a patched pin the patch (its object,
    /// JSON patch, or the kustomization holding it inline).
    pub fact: usize,
    pub env: usize,
    /// For a base reached through an overlay: the overlay's entry that includes it.
    pub via: Option<Related>,
    /// A base pin as a Kustomize patch rewrote it for this environment: the base's
    /// component with the patch's value and span (see [`Snapshot::pin`]).
    pub patched: Option<Arc<Pin>>,
    /// For a patched pin: the base value it overrides.
    pub replaces: Option<Related>,
}

/// A kustomization entry that includes a file.
#[derive(Clone, Copy, Debug)]
pub(super) struct Include {
    /// File index of the kustomization.
    pub(super) kustomization: usize,
    /// Fact index of its Kustomization fact.
    pub(super) fact: usize,
    pub(super) entry: Entry,
}

/// How a kustomization reaches a file.
#[derive(Clone, Copy, Debug)]
pub(super) enum Entry {
    /// As its `resources` (or `bases`, `components`) entry at this index.
    Resource(usize),
    /// As the file of its patch entry at this index.
    Patch(usize),
    /// As the file a Terragrunt unit reads (`include`, `read_terragrunt_config`); the
    /// "kustomization" is then that unit's file.
    Config,
    /// As what an entry point deploys (its directory's kustomization or manifests, or with
    /// an index, its Helm value file); the "kustomization" is the entry point's file and
    /// the fact its `Deploy`.
    Deploy(Option<usize>),
}

/// Longest chain of kustomizations followed upwards from a file.
pub(super) const MAX_OVERLAY_DEPTH: usize = 64;

/// `file` and every kustomization above it (what includes it, transitively, up to
/// [`MAX_OVERLAY_DEPTH`] levels): the builds a file takes part in.
pub(super) fn kustomizations_above(
    file: usize,
    includers: &HashMap<usize, Vec<Include>>,
) -> HashSet<usize> {
    let mut seen = HashSet::from_iter([file]);
    let mut stack = vec![(file, 0)];
    while let Some((node, depth)) = stack.pop() {
        if depth >= MAX_OVERLAY_DEPTH {
            continue;
        }
        for inc in includers.get(&node).into_iter().flatten() {
            if seen.insert(inc.kustomization) {
                stack.push((inc.kustomization, depth + 1));
            }
        }
    }
    seen
}

pub(super) fn parent_dir(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

pub(super) const KUSTOMIZATION_NAMES: &[&str] =
    &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The file a kustomization entry includes: the file itself, or the kustomization of the
/// directory it names. Remote entries (URLs) include nothing we can see.
pub(super) fn resolve_entry(
    dir: &str,
    entry: &str,
    index: &HashMap<String, usize>,
) -> Option<usize> {
    if entry.contains("://") || entry.starts_with("github.com/") || entry.starts_with("git@") {
        return None;
    }
    let mut target = join_normalized(dir, entry)?;
    if let Some(&i) = index.get(target.as_str()) {
        return Some(i);
    }
    // One buffer for the candidate names (this runs for every entry of every build).
    if !target.is_empty() {
        target.push('/');
    }
    let dir_len = target.len();
    KUSTOMIZATION_NAMES.iter().find_map(|n| {
        target.truncate(dir_len);
        target.push_str(n);
        index.get(target.as_str()).copied()
    })
}
