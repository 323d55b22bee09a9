//! The rules. One file per rule, each a type implementing [`Rule`] and listed once in
//! [`RULES`]; metadata and documentation come from `rules/PLnnn-name.md` (see
//! [`crate::catalogue`]).

pub use crate::catalogue::{all, lookup, RuleKind, RuleMeta};
pub use crate::model::{Finding, Related, Revision};

/// `pub struct $name;` and its [`Rule`] impl, whose hooks call the rule module's functions:
/// `tree` → `check(snapshot, config, out)`; `change` → `check(change, out)`;
/// `change, history_tree` → that and `check_tree(snapshot, config, history, out)`.
macro_rules! rule {
    ($(#[$doc:meta])* $name:ident: tree) => {
        rule!(@impl $(#[$doc])* $name, TREE, {
            fn tree(&self, cx: &$crate::rules::Context, out: &mut Vec<$crate::model::Finding>) {
                check(cx.snapshot, cx.config, out);
            }
        });
    };
    // A tree rule whose findings are each in the file of the pin or policy it judges: it
    // skips those outside the run's scope.
    ($(#[$doc:meta])* $name:ident: tree, scoped) => {
        rule!(@impl $(#[$doc])* $name, TREE, {
            fn tree(&self, cx: &$crate::rules::Context, out: &mut Vec<$crate::model::Finding>) {
                check(cx.snapshot, cx.config, cx.scope, out);
            }
        });
    };
    ($(#[$doc:meta])* $name:ident: change) => {
        rule!(@impl $(#[$doc])* $name, CHANGE, {
            fn change(&self, cx: &$crate::rules::Context, out: &mut Vec<$crate::model::Finding>) {
                if let Some(change) = cx.change {
                    check(change, out);
                }
            }
        });
    };
    ($(#[$doc:meta])* $name:ident: change, history_tree) => {
        rule!(@impl $(#[$doc])* $name, CHANGE_AND_HISTORY_TREE, {
            fn change(&self, cx: &$crate::rules::Context, out: &mut Vec<$crate::model::Finding>) {
                if let Some(change) = cx.change {
                    check(change, out);
                }
            }

            fn history_tree(
                &self,
                cx: &$crate::rules::Context,
                out: &mut Vec<$crate::model::Finding>,
            ) {
                check_tree(cx.snapshot, cx.config, cx.history, out);
            }
        });
    };
    (@impl $(#[$doc:meta])* $name:ident, $hooks:ident, { $($hook:tt)* }) => {
        $(#[$doc])*
        pub struct $name;

        impl $crate::rules::Rule for $name {
            fn id(&self) -> &'static str {
                ID
            }

            fn hooks(&self) -> $crate::rules::Hooks {
                $crate::rules::Hooks::$hooks
            }

            $($hook)*
        }
    };
}

pub(crate) mod fix;
pub(crate) mod fix_support;
pub(crate) mod support;
#[cfg(test)]
pub(crate) mod test_support;

pub(crate) mod automation_bypass;
pub(crate) mod foreign_environment_tag;
pub(crate) mod missing_digest;
pub(crate) mod multi_version_promotion;
pub(crate) mod mutable_reference;
pub(crate) mod non_monotonic_version;
pub(crate) mod promotion_order;
pub(crate) mod questionable_suppression;
pub(crate) mod rebuilt_for_production;
pub(crate) mod rewritten_artifact;
pub(crate) mod tag_policy_too_broad;
pub(crate) mod unreadable_file;

use crate::change::ChangeContext;
use crate::config::{Config, Environments};
use crate::history::HistoryIndex;
use crate::snapshot::Snapshot;
use std::collections::BTreeSet;
pub use support::env_level;

/// What every hook of a rule sees.
pub struct Context<'a> {
    /// The tree judged (for a change: the side after it).
    pub snapshot: &'a Snapshot,
    pub config: &'a Config,
    pub envs: &'a Environments,
    /// What each environment pinned before (empty outside Git, or when no enabled rule
    /// asks it; walked on the first query in `check`).
    pub history: &'a HistoryIndex,
    /// The change under review (`diff`, `staged`, `history`); `None` in `check`.
    pub change: Option<&'a ChangeContext<'a>>,
    /// The files whose tree findings the run reports.
    pub scope: Scope<'a>,
}

/// The files whose tree findings a run reports: every file (`check`, `--all-files`), or a
/// change's (`diff`, `staged`, `history`), whose findings elsewhere are dropped anyway. A
/// rule may skip the work of judging what falls outside: a commit of a 20k-file tree
/// changes a few.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    All,
    Files(&'a BTreeSet<&'a str>),
}

impl Scope<'_> {
    /// Whether findings in `path` are reported.
    pub fn has(&self, path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Files(files) => files.contains(path),
        }
    }

    /// The indices of `snap`'s files in scope, in file order.
    pub fn files(&self, snap: &Snapshot) -> Vec<usize> {
        match self {
            Scope::All => (0..snap.files.len()).collect(),
            Scope::Files(paths) => {
                let mut files: Vec<usize> =
                    paths.iter().filter_map(|p| snap.file_index(p)).collect();
                files.sort_unstable();
                files
            }
        }
    }

    /// The effective pins of `snap` whose value is in a file in scope, in pin order: what
    /// `has` keeps of every pin, found without looking at the others.
    pub fn pins<'s>(
        &self,
        snap: &'s Snapshot,
    ) -> impl Iterator<Item = &'s crate::snapshot::EffectivePin> + 's {
        let ranges: Vec<std::ops::Range<usize>> = match self {
            Scope::All => std::iter::once(0..snap.pins.len()).collect(),
            Scope::Files(_) => (self.files(snap).into_iter())
                .map(|f| snap.pins_of_file(f))
                .collect(),
        };
        ranges.into_iter().flat_map(move |r| &snap.pins[r])
    }
}

impl<'a> Context<'a> {
    /// The context of a tree (`check`, and the tree hooks of a change on its after side).
    pub fn tree(snapshot: &'a Snapshot, config: &'a Config, history: &'a HistoryIndex) -> Self {
        Context {
            snapshot,
            config,
            envs: &snapshot.envs,
            history,
            change: None,
            scope: Scope::All,
        }
    }

    /// The context of a change, judged on its after side.
    pub fn change(change: &'a ChangeContext<'a>) -> Self {
        Context {
            change: Some(change),
            ..Context::tree(change.after, change.config, change.history)
        }
    }
}

/// The hooks a rule implements, which decide the modes it runs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hooks {
    /// [`Rule::tree`]: one snapshot (`check`; the after side of a change).
    pub tree: bool,
    /// [`Rule::change`]: the two sides of a change.
    pub change: bool,
    /// [`Rule::history_tree`]: one snapshot and the history of HEAD (`check`).
    pub history_tree: bool,
}

impl Hooks {
    /// A tree rule.
    pub const TREE: Hooks = Hooks {
        tree: true,
        change: false,
        history_tree: false,
    };
    /// A change rule.
    pub const CHANGE: Hooks = Hooks {
        tree: false,
        change: true,
        history_tree: false,
    };
    /// A change rule that also judges a tree against the history of HEAD.
    pub const CHANGE_AND_HISTORY_TREE: Hooks = Hooks {
        tree: false,
        change: true,
        history_tree: true,
    };
}

/// One rule. Every hook does nothing unless the rule implements it; [`Rule::hooks`] says
/// which it does.
pub trait Rule: Sync {
    /// The rule's id (`PL001`), which names its page in the catalogue.
    fn id(&self) -> &'static str;

    /// The hooks this rule implements.
    fn hooks(&self) -> Hooks;

    /// The rule's metadata and documentation (its page).
    fn meta(&self) -> &'static RuleMeta {
        lookup(self.id()).unwrap_or_else(|| panic!("{} has no page in rules/", self.id()))
    }

    /// Judge one tree.
    fn tree(&self, _cx: &Context, _out: &mut Vec<Finding>) {}

    /// Judge a change (`cx.change` is set).
    fn change(&self, _cx: &Context, _out: &mut Vec<Finding>) {}

    /// Judge one tree against the history of HEAD (`check`).
    fn history_tree(&self, _cx: &Context, _out: &mut Vec<Finding>) {}
}

/// Every rule, once, in id order.
pub static RULES: &[&dyn Rule] = &[
    &unreadable_file::UnreadableFile,
    &mutable_reference::MutableReference,
    &foreign_environment_tag::ForeignEnvironmentTag,
    &tag_policy_too_broad::TagPolicyTooBroad,
    &rewritten_artifact::RewrittenArtifact,
    &non_monotonic_version::NonMonotonicVersion,
    &promotion_order::PromotionOrder,
    &multi_version_promotion::MultiVersionPromotion,
    &rebuilt_for_production::RebuiltForProduction,
    &missing_digest::MissingDigest,
    &automation_bypass::AutomationBypass,
    &questionable_suppression::QuestionableSuppression,
];

/// The enabled rules that implement the hooks `has` selects.
pub(crate) fn with_hook<'e>(
    enabled: &'e BTreeSet<&'static str>,
    has: fn(Hooks) -> bool,
) -> impl Iterator<Item = &'static dyn Rule> + 'e {
    RULES
        .iter()
        .copied()
        .filter(move |r| has(r.hooks()) && enabled.contains(r.id()))
}

/// Run the enabled tree rules on a snapshot (raw findings: no suppression or levels yet).
/// Findings outside `scope` may be left out, or not: the caller drops them.
pub(crate) fn run_tree_rules(
    snap: &Snapshot,
    config: &Config,
    enabled: &BTreeSet<&'static str>,
    scope: Scope,
    out: &mut Vec<Finding>,
) {
    let history = HistoryIndex::empty();
    let cx = Context {
        scope,
        ..Context::tree(snap, config, &history)
    };
    for rule in with_hook(enabled, |h| h.tree) {
        rule.tree(&cx, out);
    }
}
