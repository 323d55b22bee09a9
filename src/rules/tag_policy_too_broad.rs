//! PL003 tag-policy-too-broad: a tag policy admitting tags outside its environment, or
//! ordering them so that automation picks the wrong one. Decided on the policy's automaton
//! (see [`crate::policy_analysis`]), never by matching the pattern's text.
use super::{env_level, Finding, Related, Revision};
use crate::config::Config;
use crate::edit::Edit;
use crate::model::{Fix, FixState, PolicyOrder, PolicySource, Span, TagPolicy};
use crate::policy_analysis::{analyse, PolicyContext, Problem};
use crate::snapshot::Snapshot;

pub const ID: &str = "PL003";

rule!(
    /// The rule.
    TagPolicyTooBroad: tree, scoped
);

pub fn check(snap: &Snapshot, config: &Config, scope: super::Scope, out: &mut Vec<Finding>) {
    for loc in &snap.policies {
        let (Some(env_idx), Some(policy)) = (loc.env, snap.policy(loc)) else {
            continue;
        };
        if !scope.has(snap.path(loc.file)) {
            continue;
        }
        let env = snap.envs.get(env_idx);
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
        let pattern = policy.pattern.as_ref().map(|(p, _)| p.as_str());
        let problems = analyse_in(snap, config, env_idx, policy, pattern);
        let mut admission_reported = false;
        for problem in problems {
            // One finding for what the pattern admits (the most important reason);
            // ordering problems are findings of their own.
            let admission = is_admission(&problem);
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
                fix: Default::default(),
            });
        }
    }
}

const ANCHORING: &str = "Admission";

/// The policy's problems with `pattern` in its place, judged for environment `env_idx`
/// (the check, and the fix trying the anchored pattern).
fn analyse_in(
    snap: &Snapshot,
    config: &Config,
    env_idx: usize,
    policy: &TagPolicy,
    pattern: Option<&str>,
) -> Vec<Problem> {
    let env = snap.envs.get(env_idx);
    let (own, foreign) = tokens(snap, env_idx);
    let ctx = PolicyContext {
        environment: &env.name,
        own_tokens: &own,
        foreign_tokens: &foreign,
        mutable_tags: &config.mutable_tags,
        protected: env.protected,
    };
    analyse(
        pattern,
        policy.extract.as_ref().map(|(e, _)| e.as_str()),
        &policy.order,
        &ctx,
    )
}

/// The tokens that name environment `env` in tags, and those of the repository's other
/// environments.
fn tokens(snap: &Snapshot, env: usize) -> (Vec<String>, Vec<String>) {
    let env = snap.envs.get(env);
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
    (own, foreign)
}

/// Whether a problem is about what the pattern admits (the one finding anchoring can fix).
fn is_admission(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::NotAnchored { .. } | Problem::ForeignTag { .. } | Problem::MutableTag { .. }
    )
}

/// `pattern` anchored at both ends: `^…$`, an alternation grouped first (`^(?:a|b)$`, since
/// `^a|b$` anchors each branch at one end only). `None` when it does not parse.
fn anchored(pattern: &str) -> Option<String> {
    let ast = regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .ok()?;
    let alternation = matches!(ast, regex_syntax::ast::Ast::Alternation(_));
    if !alternation {
        let start = if pattern.starts_with('^') { "" } else { "^" };
        let end = if ends_with_anchor(pattern) { "" } else { "$" };
        return Some(format!("{start}{pattern}{end}"));
    }
    Some(format!("^(?:{pattern})$"))
}

/// Whether the pattern ends with an unescaped `$`.
fn ends_with_anchor(pattern: &str) -> bool {
    let Some(body) = pattern.strip_suffix('$') else {
        return false;
    };
    let backslashes = body.len() - body.trim_end_matches('\\').len();
    backslashes % 2 == 0
}

/// The safe fix of a PL003 finding on what a pattern admits: the pattern anchored
/// (`^…$`), when the analysis of the anchored pattern finds nothing it admits wrongly. A
/// too-broad pattern that anchoring does not narrow enough, an ordering, a range or a
/// pattern nobody can check has no automatic fix.
pub(crate) fn fix(snap: &Snapshot, config: &Config, f: &Finding) -> FixState {
    if f.help != Some(ANCHORING) {
        return FixState::None;
    }
    let found = snap.policies.iter().find_map(|loc| {
        let policy = snap.policy(loc)?;
        let (_, span) = policy.pattern.as_ref()?;
        (snap.path(loc.file) == f.path && *span == f.span).then_some((loc, policy))
    });
    let Some((loc, policy)) = found else {
        return FixState::Unsafe(
            "the policy has no pattern to anchor: write one that admits only this environment's tags"
                .to_string(),
        );
    };
    let Some(env_idx) = loc.env else {
        return FixState::None;
    };
    if !matches!(
        policy.source,
        PolicySource::FluxImagePolicy | PolicySource::ArgoImageUpdater
    ) {
        return FixState::Unsafe(
            "only Flux and Argo CD Image Updater patterns are anchored automatically".to_string(),
        );
    }
    let Some((pattern, span)) = &policy.pattern else {
        return FixState::None;
    };
    let Some(candidate) = anchored(pattern).filter(|c| c != pattern) else {
        return FixState::Unsafe(
            "the pattern is anchored already: narrow its prefix to this environment's tags by hand"
                .to_string(),
        );
    };
    let problems = analyse_in(snap, config, env_idx, policy, Some(candidate.as_str()));
    let left = problems.iter().find(|p| {
        is_admission(p)
            || matches!(
                p,
                Problem::InvalidPattern { .. } | Problem::TooComplex { .. }
            )
    });
    if let Some(problem) = left {
        return FixState::Unsafe(format!(
            "anchoring alone is not enough: `{candidate}` would still be reported ({})",
            problem.message()
        ));
    }
    let path = snap.path(loc.file);
    let Some(raw) = snap
        .file(path)
        .and_then(|file| file.text.as_deref())
        .and_then(|text| text.get(span.start..span.end))
    else {
        return FixState::Unsafe(format!("the pattern's text in {path} was not kept"));
    };
    // The span is the pattern itself, or (escapes in a double-quoted string) the whole
    // quoted scalar: then the anchors go inside its quotes, which neither `^` nor `$`
    // nor `(?:` needs escaped in.
    let replacement = if raw == pattern {
        candidate.clone()
    } else {
        let quoted = raw.len() >= 2
            && ((raw.starts_with('"') && raw.ends_with('"'))
                || (raw.starts_with('\'') && raw.ends_with('\'')));
        let Some(inner) = raw.get(1..raw.len().saturating_sub(1)).filter(|_| quoted) else {
            return FixState::Unsafe(format!(
                "the pattern in {path} is written as a block scalar: anchor it (`{candidate}`) by hand"
            ));
        };
        let (head, tail) = wrapping(pattern, &candidate);
        format!("{}{head}{inner}{tail}{}", &raw[..1], &raw[raw.len() - 1..])
    };
    FixState::Safe(Fix {
        description: format!("anchor the pattern: `{candidate}`"),
        edits: vec![Edit {
            path: path.to_string(),
            range: span.start..span.end,
            replacement,
        }],
    })
}

/// What [`anchored`] put around `pattern` to make `candidate`.
fn wrapping<'c>(pattern: &str, candidate: &'c str) -> (&'c str, &'c str) {
    match candidate.find(pattern) {
        Some(i) => (&candidate[..i], &candidate[i + pattern.len()..]),
        None => ("", ""),
    }
}

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

#[cfg(test)]
mod tests {
    use super::{anchored, wrapping};

    #[test]
    fn anchoring_adds_only_the_missing_anchors_and_groups_an_alternation() {
        assert_eq!(anchored("staging-v.*").as_deref(), Some("^staging-v.*$"));
        assert_eq!(anchored("^staging-v.*").as_deref(), Some("^staging-v.*$"));
        assert_eq!(anchored("staging-v.*$").as_deref(), Some("^staging-v.*$"));
        // An escaped `$` is a literal dollar, not an anchor.
        assert_eq!(anchored("v\\$").as_deref(), Some("^v\\$$"));
        assert_eq!(anchored("v\\\\$").as_deref(), Some("^v\\\\$"));
        // `^a|b$` anchors each branch at one end only.
        assert_eq!(
            anchored("^staging-v.*|production-v.*$").as_deref(),
            Some("^(?:^staging-v.*|production-v.*$)$")
        );
        assert_eq!(anchored("(unclosed"), None);
    }

    #[test]
    fn wrapping_is_what_anchoring_put_around_the_pattern() {
        assert_eq!(wrapping("a", "^a$"), ("^", "$"));
        assert_eq!(wrapping("^a", "^a$"), ("", "$"));
        assert_eq!(wrapping("a|b", "^(?:a|b)$"), ("^(?:", ")$"));
    }
}
