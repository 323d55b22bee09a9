//! PL001 mutable-reference: a pin that can move under you.
use super::fix_support as support_fix;
use super::foreign_environment_tag::own_tags;
use super::Finding;
use crate::config::Config;
use crate::model::tiers::tag_env_token;
use crate::model::{Fix, FixState, Pin, PinKind, RefKind};
use crate::promotion::{lineage_version, managing_groups, mutability};
use crate::snapshot::Snapshot;
use std::collections::BTreeSet;

pub const ID: &str = "PL001";

rule!(
    /// The rule.
    MutableReference: tree, scoped
);

pub fn check(snap: &Snapshot, config: &Config, scope: super::Scope, out: &mut Vec<Finding>) {
    for p in scope.pins(snap) {
        let pin = snap.pin(p);
        if is_gitops_sync_source(pin) || deploys_this_repository(pin, config) {
            continue;
        }
        let Some(why) = mutability(pin, &config.mutable_tags) else {
            continue;
        };
        let env = &snap.envs.get(p.env).name;
        let mut message = format!("{env} pins {} {why}", pin.component);
        // Reached through an overlay: say so. An entry point's deployment (a Flux
        // Kustomization, an Argo CD Application) is named by the related location.
        let overlay = p.via.as_ref().is_some_and(|v| {
            !v.message.starts_with("deployed by ") && !v.message.starts_with("a values file of ")
        });
        if overlay && p.patched.is_none() {
            message.push_str(" (from a base no overlay of this environment overrides)");
        }
        let mut f = Finding::on_pin(snap, ID, p, message);
        f.help = Some(help_case(pin));
        out.push(f);
    }
}

/// The paragraph of the page's `How to fix` for this kind of moving reference: a tag, a
/// branch (or no ref, which follows the default branch), or a range of versions.
fn help_case(pin: &Pin) -> &'static str {
    match (pin.reference.kind, pin.kind) {
        (RefKind::Range, _) | (RefKind::Absent, PinKind::HelmChart) => "Range",
        (RefKind::Branch, _)
        | (RefKind::Absent, PinKind::GitRef | PinKind::ModuleRef)
        | (RefKind::Tag, PinKind::ModuleRef) => "Branch",
        _ => "Tag",
    }
}

/// The GitOps repository's own Flux sync source (`flux bootstrap` writes a GitRepository
/// named `flux-system`): following its branch is how GitOps works, not a mutable pin.
fn is_gitops_sync_source(pin: &Pin) -> bool {
    pin.kind == PinKind::GitRef && pin.context == "GitRepository flux-system"
}

/// A Flux GitRepository or Argo CD Application source that is this repository (one of its
/// remotes): its branch is how GitOps deploys what this repository holds, and what it
/// deploys is judged in the repository's own files.
fn deploys_this_repository(pin: &Pin, config: &Config) -> bool {
    pin.kind == PinKind::GitRef
        && !config.own_repositories.is_empty()
        && crate::source::git::repository_identity(&pin.component)
            .is_some_and(|id| config.own_repositories.contains(&id))
}

/// The safe fix of a PL001 finding: the version the environment's predecessors run (their
/// tag when it names no environment, else this environment's own tag for that version),
/// and the digest they run where the value can carry one. No predecessor pinning an
/// immutable version, predecessors that disagree, or a value other environments share:
/// no fix, and the reason.
pub(crate) fn fix(cx: &support_fix::FixContext, f: &Finding) -> FixState {
    let (snap, config) = (cx.snap, cx.config);
    let Some(p) = support_fix::pin_of(snap, f) else {
        // Every PL001 finding is at an effective pin's span today; should one not be, no
        // edit is guessed.
        return FixState::Unsafe(
            "the finding is not at a value promolint can rewrite: pin a version by hand"
                .to_string(),
        );
    };
    let pin = snap.pin(p);
    let env = snap.envs.get(p.env);
    match (pin.reference.kind, pin.kind) {
        (RefKind::Branch, _) | (RefKind::Absent, PinKind::GitRef | PinKind::ModuleRef) => {
            return FixState::Unsafe(
                "a branch becomes a tag or commit by changing the ref's key: no automatic fix"
                    .to_string(),
            )
        }
        _ => {}
    }
    if let Some(why) = support_fix::shared_with(snap, p) {
        return FixState::Unsafe(why);
    }
    let component = pin.component.as_str();
    let runs = |pred: usize| {
        snap.pins_of(pred, component)
            .filter_map(|q| {
                let v = lineage_version(snap, q, &config.mutable_tags)?;
                let r = &snap.pin(q).reference;
                Some((v, r.value.clone(), r.digest.clone(), pred))
            })
            .collect::<Vec<_>>()
    };
    let groups = managing_groups(snap, p.env, |pred| !runs(pred).is_empty());
    let ran: Vec<(String, String, Option<String>, usize)> = groups
        .iter()
        .flatten()
        .flat_map(|&pred| runs(pred))
        .collect();
    let versions: BTreeSet<&str> = ran.iter().map(|(v, ..)| v.as_str()).collect();
    let runs_verb = if ran.iter().map(|(.., e)| e).collect::<BTreeSet<_>>().len() > 1 {
        "run"
    } else {
        "runs"
    };
    let pred_names = || {
        let names: BTreeSet<&str> = ran
            .iter()
            .map(|(.., e)| snap.envs.get(*e).name.as_str())
            .collect();
        names.into_iter().collect::<Vec<_>>().join(", ")
    };
    let version = match versions.len() {
        0 => {
            return FixState::Unsafe(format!(
                "no environment before {} pins {component} to an immutable version, so nothing says which version to pin",
                env.name
            ))
        }
        1 => versions.iter().next().copied().unwrap_or_default().to_string(),
        _ => {
            return FixState::Unsafe(format!(
                "the environments before {} run different versions of {component} ({}): pin the one to promote by hand",
                env.name,
                versions.into_iter().collect::<Vec<_>>().join(", ")
            ))
        }
    };
    // The predecessors' tag when it names no environment (`v1.4.2`, a chart version);
    // an environment's tag (`staging-v1.4.2-…`) is retagged per environment, so this
    // environment's own tag for the version is needed.
    let neutral: BTreeSet<&str> = ran
        .iter()
        .map(|(_, tag, ..)| tag.as_str())
        .filter(|t| tag_env_token(t).is_none())
        .collect();
    let own = neutral.len() != 1;
    let tag = if !own {
        neutral.into_iter().next().unwrap_or_default().to_string()
    } else {
        match own_tags(cx, &env.name, component, &version).as_slice() {
            [one] => one.clone(),
            _ => {
                return FixState::Unsafe(format!(
                    "{} runs {version} of {component} under its own tag, and no single tag of {} for {version} is pinned in the tree, the change's base or its history: promote it to a {} tag and pin that",
                    pred_names(),
                    env.name,
                    env.name
                ))
            }
        }
    };
    if let Some(re) = &env.tag_pattern {
        if pin.kind.is_image() && !re.is_match(&tag) {
            return FixState::Unsafe(format!(
                "`{tag}`, the version the environments before {} run, is not a tag {}'s tag_pattern admits: pin one by hand",
                env.name, env.name
            ));
        }
    }
    let digests: BTreeSet<&str> = ran.iter().filter_map(|(_, _, d, _)| d.as_deref()).collect();
    let digest = match (digests.len(), ran.iter().all(|(_, _, d, _)| d.is_some())) {
        (1, true) => digests.into_iter().next(),
        _ => None,
    };
    let mut edits = Vec::new();
    let mut written = tag.clone();
    match digest {
        Some(d) if support_fix::in_image_string(snap, p) => {
            written = format!("{tag}@{d}");
        }
        Some(d) if pin.kind == PinKind::KustomizeImage => {
            if let Some(e) = support_fix::kustomize_digest_edit(snap, p, d) {
                edits.push(e);
            }
        }
        _ => {}
    }
    match support_fix::value_edit(snap, p, &written) {
        Ok(e) => edits.insert(0, e),
        Err(why) => return FixState::Unsafe(why),
    }
    let with_digest = if edits.len() > 1 || written != tag {
        digest.map(|d| format!(" with digest {}", super::support::short_digest(d)))
    } else {
        None
    };
    FixState::Safe(Fix {
        description: if !own {
            format!(
                "pin `{tag}`{}, the version {} {}",
                with_digest.unwrap_or_default(),
                pred_names(),
                runs_verb
            )
        } else {
            format!(
                "pin `{tag}`{}, {}'s tag for {version}, the version {} {}",
                with_digest.unwrap_or_default(),
                env.name,
                pred_names(),
                runs_verb
            )
        },
        edits,
    })
}
