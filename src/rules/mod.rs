//! The rules. One file per rule; metadata and documentation come from `rules/PLnnn-name.md`
//! (see [`registry`]).

pub mod registry;

use crate::model::{Level, Span};
use serde::Serialize;

pub use registry::{all, lookup, RuleKind, RuleMeta};

/// A location related to a finding (the predecessor's pin, the overlay that includes a base).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Related {
    pub path: String,
    pub span: Span,
    pub message: String,
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
}
