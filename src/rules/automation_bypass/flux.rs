//! PL010's Flux half: ImageUpdateAutomations whose update path covers a protected
//! environment's pins through a policy that admits other environments' tags.

use super::{files_phrase, ID, MAX_RELATED};
use crate::config::Config;
use crate::model::{ImageUpdateAutomation, PolicySource, Span, TagPolicy};
use crate::policy_analysis::{analyse, PolicyContext, Problem};
use crate::rules::{env_level, Finding, Related, Revision};
use crate::snapshot::{Located, Snapshot};
use std::collections::BTreeMap;

/// `spec.update.path` relative to the repository root (`./flux/apps` → `flux/apps`,
/// `.` → everything); `None` when it leaves the repository.
pub(super) fn update_root(path: Option<&str>) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.unwrap_or("").split('/') {
        match seg.trim() {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// `update.path` is relative to the root of the automation's Git repository. When that is
/// not this tree's root (a repository kept in a subdirectory, as the fixtures are), the
/// path names nothing here: it is then taken relative to the nearest directory above the
/// automation's file where it names something.
fn resolve_root(snap: &Snapshot, automation_file: &str, root: String) -> String {
    let exists = |r: &str| snap.files.iter().any(|f| under(&f.path, r));
    if exists(&root) {
        return root;
    }
    let mut dirs: Vec<&str> = automation_file.split('/').collect();
    dirs.pop();
    while !dirs.is_empty() {
        let candidate = format!("{}/{root}", dirs.join("/"));
        let candidate = candidate.trim_end_matches('/').to_string();
        if exists(&candidate) {
            return candidate;
        }
        dirs.pop();
    }
    root
}

pub(super) fn under(path: &str, root: &str) -> bool {
    crate::model::paths::is_at_or_inside(path, root)
}

/// The Flux ImagePolicy a setter marker (`ns:name`) names, preferring one of `env`.
fn flux_policy<'s>(snap: &'s Snapshot, marker: &str, env: usize) -> Option<&'s Located> {
    let (ns, name) = match marker.split_once(':') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, marker),
    };
    let mut candidates = snap.policies.iter().filter(|l| {
        let Some(p) = snap.policy(l) else {
            return false;
        };
        let fact_ns = snap.files[l.file].facts[l.fact].namespace.as_deref();
        p.source == PolicySource::FluxImagePolicy
            && p.name == name
            && (ns.is_none() || fact_ns.is_none() || fact_ns == ns)
    });
    let first = candidates.clone().next();
    candidates.find(|l| l.env == Some(env)).or(first)
}

/// Why `policy` lets automation write tags of other environments into `env`, if it does.
fn unrestricted(
    snap: &Snapshot,
    config: &Config,
    policy: &TagPolicy,
    env: usize,
) -> Option<String> {
    let e = snap.envs.get(env);
    let Some((pattern, _)) = &policy.pattern else {
        return Some("it has no filterTags.pattern and admits every tag".to_string());
    };
    let own: Vec<String> = e
        .aliases
        .iter()
        .cloned()
        .chain(std::iter::once(e.name.to_ascii_lowercase()))
        .collect();
    let mut foreign: Vec<String> = snap
        .envs
        .envs
        .iter()
        .map(|o| o.name.to_ascii_lowercase())
        .filter(|t| !own.contains(t))
        .collect();
    foreign.sort();
    foreign.dedup();
    let ctx = PolicyContext {
        environment: &e.name,
        own_tokens: &own,
        foreign_tokens: &foreign,
        mutable_tags: &config.mutable_tags,
        protected: e.protected,
    };
    let extract = policy.extract.as_ref().map(|(x, _)| x.as_str());
    let problems = analyse(Some(pattern), extract, &policy.order, &ctx);
    let proven = problems.iter().find_map(|problem| match problem {
        Problem::NotAnchored { tag } => Some(format!(
            "its pattern is not anchored with `^` and admits `{tag}`"
        )),
        Problem::ForeignTag { tag, token } => Some(format!("it admits `{tag}`, a tag of {token}")),
        Problem::MutableTag { tags } => {
            tags.first().map(|t| format!("it admits mutable tag `{t}`"))
        }
        _ => None,
    });
    // Restricted means shown to be restricted: a pattern too complex to analyse over a
    // protected path counts as unrestricted (fail closed).
    proven.or_else(|| {
        problems.iter().find_map(|problem| match problem {
            Problem::TooComplex { reason } => Some(format!(
                "its pattern is too complex to analyse ({reason}), so it cannot be shown to admit only {}'s tags",
                e.name
            )),
            _ => None,
        })
    })
}

/// Pins an automation writes in one protected environment through one policy.
struct Write {
    why: String,
    pins: Vec<(usize, Span)>,
}

pub(super) fn flux(
    snap: &Snapshot,
    config: &Config,
    (file, _fact): (usize, usize),
    automation: &ImageUpdateAutomation,
    namespace: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let Some(root) = update_root(automation.path.as_ref().map(|(p, _)| p.as_str())) else {
        return;
    };
    let root = resolve_root(snap, snap.path(file), root);
    // (environment, policy location) → the pins written through it.
    let mut writes: BTreeMap<(usize, (usize, usize)), Write> = BTreeMap::new();
    for p in &snap.pins {
        if !snap.envs.get(p.env).protected || !under(snap.path(p.file), &root) {
            continue;
        }
        let pin = snap.pin(p);
        let Some(marker) = pin.policy_ref.as_deref() else {
            continue;
        };
        // Flux applies only markers naming policies of the automation's namespace.
        if let (Some(ns), Some((marker_ns, _))) = (namespace, marker.split_once(':')) {
            if ns != marker_ns {
                continue;
            }
        }
        let Some(loc) = flux_policy(snap, marker, p.env) else {
            continue;
        };
        let key = (p.env, (loc.file, loc.fact));
        if let Some(w) = writes.get_mut(&key) {
            w.pins.push((p.file, pin.span.clone()));
            continue;
        }
        let Some(policy) = snap.policy(loc) else {
            continue;
        };
        if let Some(why) = unrestricted(snap, config, policy, p.env) {
            writes.insert(
                key,
                Write {
                    why,
                    pins: vec![(p.file, pin.span.clone())],
                },
            );
        }
    }
    let who = match namespace {
        Some(ns) => format!("{ns}/{}", automation.name),
        None => automation.name.clone(),
    };
    let (span, value) = match &automation.path {
        Some((path, span)) => (span.clone(), path.clone()),
        None => (automation.span.clone(), "(repository root)".to_string()),
    };
    for ((env, (pf, px)), write) in writes {
        let env_name = &snap.envs.get(env).name;
        let loc = Located {
            file: pf,
            fact: px,
            env: None,
        };
        let Some(policy) = snap.policy(&loc) else {
            continue;
        };
        let policy_ns = snap.files[pf].facts[px].namespace.as_deref();
        let policy_ref = match policy_ns {
            Some(ns) => format!("{ns}:{}", policy.name),
            None => policy.name.clone(),
        };
        let first = write
            .pins
            .first()
            .map(|(f, _)| snap.path(*f))
            .unwrap_or_default();
        let files = {
            let mut distinct: Vec<usize> = write.pins.iter().map(|(f, _)| *f).collect();
            distinct.dedup();
            files_phrase(first, distinct.len())
        };
        let message = format!(
            "Flux ImageUpdateAutomation `{who}` writes {files} of protected environment {env_name} through policy `{policy_ref}`, which is not restricted to {env_name}'s tags: {}",
            write.why
        );
        let mut related: Vec<Related> = write
            .pins
            .iter()
            .take(MAX_RELATED)
            .map(|(f, s)| Related {
                path: snap.path(*f).to_string(),
                span: s.clone(),
                message: format!("setter marker naming `{policy_ref}`"),
                revision: Revision::Tree,
            })
            .collect();
        related.push(Related {
            path: snap.path(pf).to_string(),
            span: policy
                .pattern
                .as_ref()
                .map_or_else(|| policy.span.clone(), |(_, s)| s.clone()),
            message: "the policy".to_string(),
            revision: Revision::Tree,
        });
        out.push(
            Finding::builder(ID, snap.path(file), span.clone())
                .level(env_level(snap, env))
                .message(message)
                .env(Some(env_name))
                .component(Some(&policy_ref))
                .related(related)
                .value(value.clone())
                .help("Flux")
                .build(),
        );
    }
}
