//! PL002 foreign-environment-tag: a tag that belongs to another environment, or that the
//! environment's tag pattern does not admit.
use super::{Finding, Related, Revision};
use crate::config::Config;
use crate::model::tiers::tag_env_token;
use crate::model::{PinKind, RefKind};
use crate::snapshot::Snapshot;
use regex::Regex;
use std::collections::HashMap;

pub const ID: &str = "PL002";

rule!(
    /// The rule.
    ForeignEnvironmentTag: tree
);

pub fn check(snap: &Snapshot, _config: &Config, out: &mut Vec<Finding>) {
    // Many pins share one policy: each pattern is compiled once per run.
    let mut compiled: HashMap<&str, Option<Regex>> = HashMap::new();
    for p in &snap.pins {
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
