//! PL001 mutable-reference: a pin that can move under you.
use super::Finding;
use crate::config::Config;
use crate::model::{Pin, PinKind, RefKind};
use crate::promotion::mutability;
use crate::snapshot::Snapshot;

pub const ID: &str = "PL001";

rule!(
    /// The rule.
    MutableReference: tree
);

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
