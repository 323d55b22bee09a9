//! promolint: a Git-native linter for GitOps environment promotion.
//!
//! Data flows one way (DESIGN §7): source → extract → snapshot → rules → findings → report.

pub(crate) mod apply;
pub(crate) mod cache;
pub mod catalogue;
pub mod change;
pub mod cli;
pub mod config;
pub mod edit;
pub(crate) mod error;
pub mod extract;
pub(crate) mod fsutil;
pub mod history;
pub(crate) mod ledger;
pub mod model;
pub mod pipeline;
pub mod policy_analysis;
pub mod promote;
pub(crate) mod promotion;
pub mod report;
pub mod rules;
pub mod run;
pub mod snapshot;
pub(crate) mod source;
pub mod timing;
pub(crate) mod version;
