//! Promotion queries PL006 and `status` share: which predecessors must have run a version
//! before an environment may pin it, whether they did (now or in the history), a pin's
//! lineage version. Below the rules and the reporters, above the snapshot and the history.

use crate::history::HistoryIndex;
use crate::model::tiers::all_tier_tokens;
use crate::model::{Pin, PinKind, RefKind};
use crate::snapshot::{EffectivePin, Snapshot};
use std::cmp::Ordering;
use std::collections::{BTreeSet, VecDeque};

/// The groups of environments a version must have run in before it reaches `env`, for
/// `component`: `env`'s predecessor groups (any member of a group will do), each narrowed
/// to the members that manage the component. A group none of whose members manages it gives
/// way to its members' own predecessors, up the chain: dev not managing a component does
/// not let a version skip the qa before it.
pub fn managing_groups(
    snap: &Snapshot,
    env: usize,
    manages: impl Fn(usize) -> bool,
) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
    let mut pending: VecDeque<Vec<usize>> =
        snap.envs.get(env).after_groups.iter().cloned().collect();
    while let Some(group) = pending.pop_front() {
        let mut key = group.clone();
        key.sort_unstable();
        // Each group is walked once: `after` may repeat one, and a cycle (refused by the
        // config's validation) must not loop.
        if !seen.insert(key) {
            continue;
        }
        let managing: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&m| m != env && manages(m))
            .collect();
        if managing.is_empty() {
            for &m in group.iter().filter(|&&m| m != env) {
                pending.extend(snap.envs.get(m).after_groups.iter().cloned());
            }
        } else if !out.contains(&managing) {
            out.push(managing);
        }
    }
    out
}

/// The predecessor groups of `p`'s environment none of whose members ran `p`'s version
/// first (now or in `history`): what PL006 reports on a tree and `status` marks. An
/// environment lagging behind (a member runs a later version now) passed through it on the
/// way up, with or without a history to ask.
pub fn unrun_predecessors(
    snap: &Snapshot,
    history: &HistoryIndex,
    p: &EffectivePin,
    mutable: &[String],
) -> Vec<Vec<usize>> {
    let Some(v) = lineage_version(snap, p, mutable) else {
        return Vec::new();
    };
    let component = snap.pin(p).component.as_str();
    let groups = managing_groups(snap, p.env, |pred| {
        snap.pins_of(pred, component)
            .any(|q| lineage_version(snap, q, mutable).is_some())
            || history.knows(&snap.envs.get(pred).name, component)
    });
    groups
        .into_iter()
        .filter(|group| {
            !group.iter().any(|&pred| {
                // The tree first: a predecessor that runs the version now needs no history
                // (in `check` the history is walked only when some pin asks it).
                has_version(snap, pred, component, &v)
                    || runs_later(snap, pred, component, &v)
                    || history.has_run(&snap.envs.get(pred).name, component, &v)
            }) && !predates_history(snap, history, p, &v)
        })
        .collect()
}

/// Whether `pred` runs a version of `component` after `v` now: `v` lags behind it.
pub fn runs_later(snap: &Snapshot, pred: usize, component: &str, v: &str) -> bool {
    snap.pins_of(pred, component).any(|q| {
        snap.version(q)
            .is_some_and(|pv| cmp_versions(v, &pv) == Some(Ordering::Less))
    })
}

/// A version the environment pinned in the repository's original import (the first-parent
/// root of the history, see [`HistoryIndex::imported`]) was never promoted in it: nothing
/// says what ran first. A root merged in from an unrelated history is no import.
pub fn predates_history(
    snap: &Snapshot,
    history: &HistoryIndex,
    p: &EffectivePin,
    v: &str,
) -> bool {
    let env = &snap.envs.get(p.env).name;
    history.imported(env, &snap.pin(p).component, v)
}

/// Without any history (a plain directory, not a repository) nothing says what the
/// predecessor ran before: a version below one it pins now is taken as one it passed
/// through on the way up, so that an environment lagging behind is not reported. The same
/// holds for a predecessor whose pin a Kustomize patch sets: the history holds pins as
/// files write them, and a patch that sets only a version names no component.
pub fn passed_through(
    snap: &Snapshot,
    history: &HistoryIndex,
    pred: usize,
    component: &str,
    v: &str,
) -> bool {
    snap.pins_of(pred, component).any(|q| {
        (history.is_empty() || q.patched.is_some())
            && snap
                .version(q)
                .is_some_and(|pv| cmp_versions(v, &pv) == Some(Ordering::Less))
    })
}

/// The lineage version of a pin, unless its tag is one PL001 calls mutable (`latest` is
/// no version that can be promoted; PL001 reports it).
pub fn lineage_version(
    snap: &Snapshot,
    p: &EffectivePin,
    mutable_tags: &[String],
) -> Option<String> {
    if mutability(snap.pin(p), mutable_tags).is_some() {
        return None;
    }
    snap.version(p).filter(|v| !v.is_empty())
}

/// Whether environment `env` pins `component` at lineage version `v` in `snap`.
pub fn has_version(snap: &Snapshot, env: usize, component: &str, v: &str) -> bool {
    snap.pins_of(env, component)
        .any(|q| snap.version(q).as_deref() == Some(v))
}

/// Order of two versions by semver precedence (see [`crate::version::compare`]); `None`
/// when either has no release numbers (commit ids).
pub fn cmp_versions(a: &str, b: &str) -> Option<Ordering> {
    crate::version::compare(a, b)
}

/// `v6`, or `v1.4.3 (production-v1.4.3-1712345678)` when the tag says more than the version.
pub fn shown_version(tag: &str, version: &str) -> String {
    if tag == version {
        version.to_string()
    } else {
        format!("{version} ({tag})")
    }
}

/// Whether `tag` moves by design: one of `mutable_tags`, or an environment's name (a tag
/// promoted by pushing it again).
pub fn tag_moves(tag: &str, mutable_tags: &[String]) -> bool {
    listed_mutable(tag, mutable_tags) || names_environment(tag)
}

fn listed_mutable(tag: &str, mutable_tags: &[String]) -> bool {
    mutable_tags.iter().any(|m| m.eq_ignore_ascii_case(tag))
}

fn names_environment(tag: &str) -> bool {
    all_tier_tokens().any(|t| t.eq_ignore_ascii_case(tag))
}

/// Why a pin's reference can move, or `None` when it cannot.
pub fn mutability(pin: &Pin, mutable_tags: &[String]) -> Option<String> {
    let r = &pin.reference;
    if r.digest.is_some() {
        return None;
    }
    match r.kind {
        RefKind::Commit => None,
        RefKind::Range => Some(format!(
            "to the range `{}`: any matching version may be installed",
            r.value
        )),
        RefKind::Branch => Some(format!(
            "to branch `{}`, which moves with every push",
            r.value
        )),
        RefKind::Absent => Some(match pin.kind {
            PinKind::HelmChart => {
                "with no chart version: the newest chart is installed".to_string()
            }
            PinKind::GitRef | PinKind::ModuleRef => {
                "with no ref: it follows the default branch".to_string()
            }
            _ => "with no tag or digest: it resolves to `latest`".to_string(),
        }),
        RefKind::Tag => {
            let v = r.value.as_str();
            let listed = listed_mutable(v, mutable_tags);
            let env_name = names_environment(v);
            if pin.kind == PinKind::ModuleRef && (listed || env_name) {
                Some(format!(
                    "to `?ref={v}`, a branch that moves with every push"
                ))
            } else if listed {
                Some(format!("to mutable tag `{v}`"))
            } else if env_name {
                Some(format!(
                    "to `{v}`, an environment name used as a tag: it moves with every promotion"
                ))
            } else {
                None
            }
        }
    }
}
