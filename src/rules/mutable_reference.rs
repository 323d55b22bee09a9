//! PL001 mutable-reference: a pin that can move under you.
use super::Finding;
use crate::config::infer::all_tier_tokens;
use crate::config::Config;
use crate::model::{Pin, PinKind, RefKind};
use crate::snapshot::Snapshot;

pub const ID: &str = "PL001";

pub fn check(snap: &Snapshot, config: &Config, out: &mut Vec<Finding>) {
    for p in &snap.pins {
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
            let listed = mutable_tags.iter().any(|m| m.eq_ignore_ascii_case(v));
            let env_name = all_tier_tokens().any(|t| t.eq_ignore_ascii_case(v));
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
