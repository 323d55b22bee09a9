//! The rules. One file per rule; metadata and documentation come from `rules/PLnnn-name.md`
//! (see [`registry`]).

pub use crate::model::{Finding, Related, Revision};

pub use crate::catalogue::{all, lookup, RuleKind, RuleMeta};

pub mod support;
#[cfg(test)]
pub(crate) mod test_support;

pub mod automation_bypass;
pub mod foreign_environment_tag;
pub mod missing_digest;
pub mod multi_version_promotion;
pub mod mutable_reference;
pub mod non_monotonic_version;
pub mod promotion_order;
pub mod questionable_suppression;
pub mod rebuilt_for_production;
pub mod rewritten_artifact;
pub mod tag_policy_too_broad;
pub mod unreadable_file;

use crate::config::Config;
use crate::snapshot::Snapshot;
pub use support::env_level;

/// A tree rule: looks at one snapshot.
pub type TreeCheck = fn(&Snapshot, &Config, &mut Vec<Finding>);

/// The tree rules, by id.
pub const TREE_RULES: &[(&str, TreeCheck)] = &[
    (unreadable_file::ID, unreadable_file::check),
    (mutable_reference::ID, mutable_reference::check),
    (foreign_environment_tag::ID, foreign_environment_tag::check),
    (tag_policy_too_broad::ID, tag_policy_too_broad::check),
    (missing_digest::ID, missing_digest::check),
    (automation_bypass::ID, automation_bypass::check),
];

/// The change rules, by id. PL006 and PL008 also look at a tree with history
/// (`promotion_order::check_tree`, `rebuilt_for_production::check_tree`) for `check`.
pub const CHANGE_RULES: &[(&str, crate::change::ChangeCheck)] = &[
    (rewritten_artifact::ID, rewritten_artifact::check),
    (non_monotonic_version::ID, non_monotonic_version::check),
    (promotion_order::ID, promotion_order::check),
    (multi_version_promotion::ID, multi_version_promotion::check),
    (rebuilt_for_production::ID, rebuilt_for_production::check),
];

/// Run the enabled tree rules on a snapshot (raw findings: no suppression or levels yet).
pub fn run_tree_rules(
    snap: &Snapshot,
    config: &Config,
    enabled: &std::collections::BTreeSet<&'static str>,
    out: &mut Vec<Finding>,
) {
    for (id, check) in TREE_RULES {
        if enabled.contains(id) {
            check(snap, config, out);
        }
    }
}

/// A tree rule that also asks the history of the tree (what predecessors ran before).
pub type HistoryTreeCheck =
    fn(&Snapshot, &Config, &crate::history::HistoryIndex, &mut Vec<Finding>);

/// The change rules that also judge a single tree (`check`), history-aware.
pub const HISTORY_TREE_RULES: &[(&str, HistoryTreeCheck)] = &[
    (promotion_order::ID, promotion_order::check_tree),
    (
        rebuilt_for_production::ID,
        rebuilt_for_production::check_tree,
    ),
];
