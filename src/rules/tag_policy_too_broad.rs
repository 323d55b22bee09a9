//! PL003 tag-policy-too-broad: a tag policy admitting tags outside its environment, or
//! ordering them so that automation picks the wrong one. Decided on the policy's automaton
//! (see [`crate::policy_analysis`]), never by matching the pattern's text.
use super::{env_level, Finding, Related, Revision};
use crate::config::Config;
use crate::model::{PolicyOrder, PolicySource, Span, TagPolicy};
use crate::policy_analysis::{analyse, PolicyContext, Problem};
use crate::snapshot::Snapshot;

pub const ID: &str = "PL003";

rule!(
    /// The rule.
    TagPolicyTooBroad: tree
);

pub fn check(snap: &Snapshot, config: &Config, out: &mut Vec<Finding>) {
    for loc in &snap.policies {
        let (Some(env_idx), Some(policy)) = (loc.env, snap.policy(loc)) else {
            continue;
        };
        let env = snap.envs.get(env_idx);
        let own: Vec<String> = env
            .aliases
            .iter()
            .cloned()
            .chain(std::iter::once(env.name.to_ascii_lowercase()))
            .collect();
        // Counterexamples name this repository's other environments, not every word that
        // could name one (`qa-` in a repo without qa would puzzle the reader).
        let mut foreign: Vec<String> = snap
            .envs
            .envs
            .iter()
            .map(|e| e.name.to_ascii_lowercase())
            .filter(|t| !own.contains(t))
            .collect();
        foreign.sort();
        foreign.dedup();
        let ctx = PolicyContext {
            environment: &env.name,
            own_tokens: &own,
            foreign_tokens: &foreign,
            mutable_tags: &config.mutable_tags,
            protected: env.protected,
        };
        if policy.source == PolicySource::FluxImagePolicy
            && policy.pattern.is_none()
            && !matches!(policy.order, PolicyOrder::Semver { .. })
        {
            let span = if policy.order_span.line > 0 {
                policy.order_span.clone()
            } else {
                policy.span.clone()
            };
            out.push(
                Finding::builder(ID, snap.path(loc.file), span)
                    .level(env_level(snap, env_idx))
                    .message(format!(
                        "{} policy `{}` has no filterTags.pattern: it admits every tag of the repository, `latest` and other environments' tags included",
                        env.name, policy.name
                    ))
                    .env(Some(&env.name))
                    .component(Some(&policy.name))
                    .value("(no pattern)")
                    .help(ANCHORING)
                    .build(),
            );
            continue;
        }
        let problems = analyse(
            policy.pattern.as_ref().map(|(p, _)| p.as_str()),
            policy.extract.as_ref().map(|(e, _)| e.as_str()),
            &policy.order,
            &ctx,
        );
        let mut admission_reported = false;
        for problem in problems {
            // One finding for what the pattern admits (the most important reason);
            // ordering problems are findings of their own.
            let admission = matches!(
                problem,
                Problem::NotAnchored { .. }
                    | Problem::ForeignTag { .. }
                    | Problem::MutableTag { .. }
            );
            if admission {
                if admission_reported {
                    continue;
                }
                admission_reported = true;
            }
            let (span, related) = location(policy, &problem);
            // A gate nobody can check is not proven wrong, but a protected one fails closed:
            // appending `(-.{0,200}x.{0,200})?` to a pattern that admits another
            // environment's tags must not turn its error into a pass.
            let level = env_level(snap, env_idx);
            let mut message = format!(
                "{} policy `{}`: {}",
                env.name,
                policy.name,
                problem.message()
            );
            if matches!(problem, Problem::TooComplex { .. }) && env.protected {
                message.push_str(&format!(
                    "; {} is protected, so a tag policy promolint cannot check fails the check: \
                     simplify the pattern to an anchored prefix and version, without long \
                     bounded repeats such as `.{{0,200}}`",
                    env.name
                ));
            }
            let path = snap.path(loc.file).to_string();
            out.push(Finding {
                rule: ID,
                level,
                message,
                path: path.clone(),
                span,
                environment: Some(env.name.clone()),
                component: Some(policy.name.clone()),
                commit: None,
                related: related
                    .into_iter()
                    .map(|(span, message)| Related {
                        path: path.clone(),
                        span,
                        message,
                        revision: Revision::Tree,
                    })
                    .collect(),
                value: problem
                    .counterexample()
                    .map(str::to_string)
                    .unwrap_or_else(|| problem.message()),
                help: Some(help_case(&problem)),
            });
        }
    }
}

const ANCHORING: &str = "Admission";

/// The paragraph of the page's `How to fix` that fits `problem`: what the pattern admits,
/// a pre-release range, the order automation picks tags in, or a pattern that cannot be
/// checked.
fn help_case(problem: &Problem) -> &'static str {
    match problem {
        Problem::NotAnchored { .. } | Problem::ForeignTag { .. } | Problem::MutableTag { .. } => {
            ANCHORING
        }
        Problem::PrereleaseRange { .. } => "Pre-releases",
        Problem::UnknownGroup { .. }
        | Problem::UnpaddedNumbers { .. }
        | Problem::HashOrder { .. }
        | Problem::NonNumericKey { .. } => "Ordering",
        Problem::InvalidPattern { .. } | Problem::TooComplex { .. } => "Unreadable",
    }
}

/// Where a problem is reported, and the spans worth showing beside it.
fn location(policy: &TagPolicy, problem: &Problem) -> (Span, Vec<(Span, String)>) {
    let pattern = policy.pattern.as_ref().map(|(_, s)| s.clone());
    let extract = policy.extract.as_ref().map(|(_, s)| s.clone());
    let order = Some(policy.order_span.clone()).filter(|s| s.line > 0);
    let first = |spans: [&Option<Span>; 3]| {
        spans
            .into_iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| policy.span.clone())
    };
    match problem {
        Problem::PrereleaseRange { .. } => (first([&order, &pattern, &None]), Vec::new()),
        Problem::UnknownGroup { .. } | Problem::NonNumericKey { .. } => {
            let related = pattern
                .clone()
                .map(|s| vec![(s, "the pattern".to_string())])
                .unwrap_or_default();
            (first([&extract, &order, &pattern]), related)
        }
        Problem::UnpaddedNumbers { .. } | Problem::HashOrder { .. } => {
            let related = extract
                .clone()
                .or_else(|| pattern.clone())
                .map(|s| vec![(s, "the ordering key".to_string())])
                .unwrap_or_default();
            (first([&order, &pattern, &None]), related)
        }
        _ => (first([&pattern, &order, &None]), Vec::new()),
    }
}
