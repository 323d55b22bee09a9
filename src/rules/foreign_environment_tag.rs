//! PL002 foreign-environment-tag: a tag that belongs to another environment, or that the
//! environment's tag pattern does not admit.
use super::fix_support as support_fix;
use super::{Finding, Related, Revision};
use crate::config::Config;
use crate::model::tiers::tag_env_token;
use crate::model::{Fix, FixState, PinKind, RefKind};
use crate::snapshot::Snapshot;
use regex::Regex;
use std::collections::{BTreeSet, HashMap};

pub const ID: &str = "PL002";

rule!(
    /// The rule.
    ForeignEnvironmentTag: tree, scoped
);

pub fn check(snap: &Snapshot, _config: &Config, scope: super::Scope, out: &mut Vec<Finding>) {
    // Many pins share one policy: each pattern is compiled once per run.
    let mut compiled: HashMap<&str, Option<Regex>> = HashMap::new();
    for p in scope.pins(snap) {
        let pin = snap.pin(p);
        if pin.reference.kind != RefKind::Tag {
            continue;
        }
        let tag = pin.reference.value.as_str();
        let env = snap.envs.get(p.env);

        // Another environment's prefix: `staging-v1.2.3` in production.
        if let Some(token) = tag_env_token(tag) {
            let lower = token.to_ascii_lowercase();
            if !env.aliases.contains(&lower) && !env.name.eq_ignore_ascii_case(token) {
                let other = snap.envs.env_of_tag_prefix(tag);
                let other_name = other
                    .map(|o| snap.envs.get(o).name.clone())
                    .unwrap_or_else(|| token.to_string());
                let mut f = Finding::on_pin(
                    snap,
                    ID,
                    p,
                    format!(
                        "{} pins {} to `{tag}`, a tag of {other_name}: {} must run its own tags",
                        env.name, pin.component, env.name
                    ),
                );
                if let Some(o) = other {
                    if let Some(op) = snap.pins_of(o, &pin.component).next() {
                        f.related.push(Related {
                            path: snap.path(op.file).to_string(),
                            span: snap.pin(op).span.clone(),
                            message: format!("{other_name} pins it here"),
                            revision: Revision::Tree,
                        });
                    }
                }
                out.push(f);
                continue;
            }
        }

        // The environment's tag pattern (configured, or the policy the setter marker names)
        // describes image and OCI artifact tags, not chart or tool versions.
        if !(pin.kind.is_image() || pin.kind == PinKind::OciArtifact) {
            continue;
        }
        if let Some(re) = &env.tag_pattern {
            if !re.is_match(tag) {
                out.push(Finding::on_pin(
                    snap,
                    ID,
                    p,
                    format!(
                        "{} pins {} to `{tag}`, which the environment's tag_pattern `{}` does not admit",
                        env.name,
                        pin.component,
                        re.as_str()
                    ),
                ));
                continue;
            }
        }
        let Some(policy_ref) = &pin.policy_ref else {
            continue;
        };
        let Some(loc) = snap.policy_by_ref(policy_ref, p.env) else {
            continue;
        };
        let Some(policy) = snap.policy(loc) else {
            continue;
        };
        let policy_path = snap.path(loc.file).to_string();
        if let Some(policy_env) = loc.env.filter(|&e| e != p.env) {
            let other = &snap.envs.get(policy_env).name;
            let mut f = Finding::on_pin(
                snap,
                ID,
                p,
                format!(
                    "{}'s pin of {} is written by `{policy_ref}`, a policy of {other}: automation would promote {other}'s tags here",
                    env.name, pin.component
                ),
            );
            f.related.push(Related {
                path: policy_path,
                span: policy.span.clone(),
                message: format!("policy of {other}"),
                revision: Revision::Tree,
            });
            out.push(f);
            continue;
        }
        let Some((pattern, pattern_span)) = &policy.pattern else {
            continue;
        };
        // An invalid pattern is PL003's finding.
        let Some(re) = compiled
            .entry(pattern.as_str())
            .or_insert_with(|| Regex::new(pattern).ok())
        else {
            continue;
        };
        if !re.is_match(tag) {
            let mut f = Finding::on_pin(
                snap,
                ID,
                p,
                format!(
                    "{} pins {} to `{tag}`, which its policy `{policy_ref}` does not admit",
                    env.name, pin.component
                ),
            );
            f.related.push(Related {
                path: policy_path,
                span: pattern_span.clone(),
                message: "the policy's pattern".to_string(),
                revision: Revision::Tree,
            });
            out.push(f);
        }
    }
}

/// Whether `tag` carries one of `env`'s own tokens as its prefix (`production-v1.4.2-…` in
/// production).
fn is_own_tag(snap: &Snapshot, env: usize, tag: &str) -> bool {
    let e = snap.envs.get(env);
    tag_env_token(tag).is_some_and(|token| {
        e.aliases.contains(&token.to_ascii_lowercase()) || e.name.eq_ignore_ascii_case(token)
    })
}

/// The lineage version a tag means, read as the tags of the environment its prefix names
/// (`staging-v2.0.1-1712000000` → `v2.0.1`), else as `env`'s.
fn version_of(snap: &Snapshot, env: usize, component: &str, tag: &str) -> String {
    let of = snap.envs.env_of_tag_prefix(tag).unwrap_or(env);
    snap.envs.identity(of, component, tag).version
}

/// `env`'s own tags of `component` for lineage version `version` that the trees show (a pin
/// of the component, in any environment, whose tag carries one of `env`'s tokens and
/// means that version) or that `env` pinned in the history, sorted and without repeats.
/// The environment's `tag_pattern`, when set, must admit them.
pub(crate) fn own_tags(
    cx: &support_fix::FixContext,
    env_name: &str,
    component: &str,
    version: &str,
) -> Vec<String> {
    let mut out = BTreeSet::new();
    let snap = cx.snap;
    if let Some(env) = snap.envs.envs.iter().position(|e| e.name == env_name) {
        let pattern = snap.envs.get(env).tag_pattern.as_ref();
        let past = cx
            .past
            .get(&(env_name.to_string(), component.to_string()))
            .into_iter()
            .flatten();
        for tag in past {
            if is_own_tag(snap, env, tag)
                && version_of(snap, env, component, tag) == version
                && pattern.is_none_or(|re| re.is_match(tag))
            {
                out.insert(tag.clone());
            }
        }
    }
    for snap in std::iter::once(cx.snap).chain(cx.others.iter().copied()) {
        let Some(env) = snap.envs.envs.iter().position(|e| e.name == env_name) else {
            continue;
        };
        let pattern = snap.envs.get(env).tag_pattern.as_ref();
        for q in &snap.pins {
            let pin = snap.pin(q);
            if pin.component != component || pin.reference.kind != RefKind::Tag {
                continue;
            }
            let tag = pin.reference.value.as_str();
            if is_own_tag(snap, env, tag)
                && version_of(snap, env, component, tag) == version
                && pattern.is_none_or(|re| re.is_match(tag))
            {
                out.insert(tag.to_string());
            }
        }
    }
    out.into_iter().collect()
}

/// The safe fix of a PL002 finding on another environment's prefix: the environment's own
/// tag for the same version, when the tree (or the change's base) shows exactly one. A tag
/// outside the environment's pattern or policy has no fix: which tag fits is not known.
pub(crate) fn fix(cx: &support_fix::FixContext, f: &Finding) -> FixState {
    let snap = cx.snap;
    let Some(p) = support_fix::pin_of(snap, f) else {
        return FixState::None;
    };
    let pin = snap.pin(p);
    let env = &snap.envs.get(p.env).name;
    let tag = pin.reference.value.as_str();
    if pin.reference.kind != RefKind::Tag
        || tag_env_token(tag).is_none()
        || is_own_tag(snap, p.env, tag)
    {
        return FixState::Unsafe(format!(
            "which tag of {env} fits is not known: pin one that {env}'s tag pattern or policy admits by hand"
        ));
    }
    if let Some(why) = support_fix::shared_with(snap, p) {
        return FixState::Unsafe(why);
    }
    let version = version_of(snap, p.env, &pin.component, tag);
    let own = own_tags(cx, env, &pin.component, &version);
    let new = match own.as_slice() {
        [one] => one,
        [] => {
            return FixState::Unsafe(format!(
                "no tag of {env} for {version} of {} is pinned in the tree, the change's base or \
                 {env}'s history: promote the tested image to a {env} tag and pin that",
                pin.component
            ))
        }
        several => {
            return FixState::Unsafe(format!(
                "{env} has several tags for {version} of {} ({}): pin the one that was promoted by hand",
                pin.component,
                several
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    match support_fix::value_edit(snap, p, new) {
        Ok(edit) => FixState::Safe(Fix {
            description: format!("pin `{new}`, {env}'s own tag for {version}"),
            edits: vec![edit],
        }),
        Err(why) => FixState::Unsafe(why),
    }
}
