//! Safe fixes (`--fix`): PL001, PL002 and PL003 each say, per finding, which bytes of the
//! finding's own file to rewrite, or why no rewrite is safe ([`FixState`]). A fix rewrites
//! only the value's bytes (quotes, comments and line endings around it stay), never a
//! value other environments also take, and only with a value the tree, the change's base
//! or the history shows to be right: the version a predecessor runs, a tag the environment
//! already has, a pattern the policy analysis accepts. The helpers the rules' fixes share
//! are in [`super::fix_support`].

pub(crate) use super::fix_support::{FixContext, PastTags};
use super::{foreign_environment_tag, mutable_reference, tag_policy_too_broad};
use crate::model::{Finding, FixState};
use std::collections::BTreeSet;

/// Give every finding of a fixable rule its [`FixState`].
pub(crate) fn attach(findings: &mut [Finding], cx: &FixContext) {
    for f in findings.iter_mut() {
        // A finding of a past commit (history mode) is not in any file that can be edited.
        if f.commit.is_some() {
            continue;
        }
        f.fix = match f.rule {
            mutable_reference::ID => mutable_reference::fix(cx, f),
            foreign_environment_tag::ID => foreign_environment_tag::fix(cx, f),
            tag_policy_too_broad::ID => tag_policy_too_broad::fix(cx.snap, cx.config, f),
            _ => FixState::None,
        };
    }
}

/// The (environment, component) pairs whose past tags a fix may need: those of the
/// PL001 and PL002 findings.
pub(crate) fn wanted_tags(findings: &[Finding]) -> BTreeSet<(String, String)> {
    findings
        .iter()
        .filter(|f| f.rule == mutable_reference::ID || f.rule == foreign_environment_tag::ID)
        .filter_map(|f| Some((f.environment.clone()?, f.component.clone()?)))
        .collect()
}
