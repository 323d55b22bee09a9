//! Findings: what a rule reports, where, and the related locations it points to.

use super::level::Level;
use super::span::Span;
use crate::edit::Edit;
use serde::{Serialize, Serializer};
use std::fmt;

/// The tree a location's text is in, relative to the finding that points to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Revision {
    /// The finding's own tree (the working tree, the head of a change, the commit in
    /// history mode).
    #[default]
    Tree,
    /// The base of the change under review (in history mode: the commit's first parent).
    Base,
    /// Another commit, named by its id: reporters name it and never quote it from the
    /// finding's tree.
    Commit(String),
}

impl Revision {
    /// Whether the location is in the finding's own tree.
    pub fn is_tree(&self) -> bool {
        *self == Revision::Tree
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revision::Tree => f.write_str("tree"),
            Revision::Base => f.write_str("base"),
            Revision::Commit(c) => f.write_str(c),
        }
    }
}

impl Serialize for Revision {
    /// `null` for the finding's tree, else the revision's name (`base`, a commit id).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Revision::Tree => s.serialize_none(),
            other => s.collect_str(other),
        }
    }
}

/// A location related to a finding (the predecessor's pin, the overlay that includes a base).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Related {
    pub path: String,
    pub span: Span,
    pub message: String,
    /// [`Revision::Tree`]: in the same tree as the finding. Otherwise in another revision
    /// (the base of a change, a commit of the history), whose text reporters must not take
    /// from the finding's tree.
    pub revision: Revision,
}

/// One diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Rule id (`PL001`).
    pub rule: &'static str,
    pub level: Level,
    pub message: String,
    /// Repository-relative, `/`-separated.
    pub path: String,
    pub span: Span,
    pub environment: Option<String>,
    pub component: Option<String>,
    /// Set in history mode.
    pub commit: Option<String>,
    pub related: Vec<Related>,
    /// The offending value (part of the fingerprint; not line numbers).
    pub value: String,
    /// Which labelled paragraph of the rule page's `How to fix` fits this defect
    /// (`Ordering` for a PL003 ordering problem); `None`: the whole section.
    pub help: Option<&'static str>,
    /// The automatic fix, when `--fix` asked for fixes (see [`FixState`]).
    pub fix: FixState,
}

/// A safe fix: byte edits of the finding's tree (spans of the decoded text, like
/// [`Finding::span`]) that remove the finding and add no other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix writes, for people: ``set `newTag` to `v1.4.2`, the version staging runs``.
    pub description: String,
    pub edits: Vec<Edit>,
}

/// Whether a finding has a fix. Computed only under `--fix`: without it every finding is
/// [`FixState::None`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FixState {
    /// No fix was asked for, or the rule has none.
    #[default]
    None,
    /// A safe fix.
    Safe(Fix),
    /// The rule has fixes, but none is safe for this finding: why, for people (``no
    /// predecessor of production pins ghcr.io/acme/backend``).
    Unsafe(String),
}

impl FixState {
    /// The safe fix, if there is one.
    pub fn safe(&self) -> Option<&Fix> {
        match self {
            FixState::Safe(f) => Some(f),
            _ => None,
        }
    }
}

impl Finding {
    /// A finding of `rule` at `span` of `path`: a warning with no message until the builder
    /// says otherwise.
    pub fn builder(rule: &'static str, path: impl Into<String>, span: Span) -> FindingBuilder {
        FindingBuilder(Finding {
            rule,
            level: Level::Warning,
            message: String::new(),
            path: path.into(),
            span,
            environment: None,
            component: None,
            commit: None,
            related: Vec::new(),
            value: String::new(),
            help: None,
            fix: FixState::None,
        })
    }
}

/// Builds a [`Finding`]: `Finding::builder(ID, path, span).level(l).message(m).build()`.
#[must_use]
pub struct FindingBuilder(Finding);

impl FindingBuilder {
    pub fn level(mut self, level: Level) -> Self {
        self.0.level = level;
        self
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.0.message = message.into();
        self
    }

    /// The environment the finding is about.
    pub fn env(mut self, environment: Option<&str>) -> Self {
        self.0.environment = environment.map(str::to_string);
        self
    }

    pub fn component(mut self, component: Option<&str>) -> Self {
        self.0.component = component.map(str::to_string);
        self
    }

    /// The commit under review (history mode).
    pub fn commit(mut self, commit: Option<&str>) -> Self {
        self.0.commit = commit.map(str::to_string);
        self
    }

    pub fn related(mut self, related: impl IntoIterator<Item = Related>) -> Self {
        self.0.related.extend(related);
        self
    }

    /// The offending value (part of the fingerprint).
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.0.value = value.into();
        self
    }

    /// The labelled paragraph of the rule page's `How to fix` that fits (see
    /// [`Finding::help`]).
    pub fn help(mut self, case: &'static str) -> Self {
        self.0.help = Some(case);
        self
    }

    pub fn build(self) -> Finding {
        self.0
    }
}
