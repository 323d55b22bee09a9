//! Findings: what a rule reports, where, and the related locations it points to.

use super::{Level, Span};
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
}
