//! promolint: a Git-native linter for GitOps environment promotion.
//!
//! Data flows one way (DESIGN §7): source → extract → snapshot → rules → findings → report.

pub mod catalogue;
pub mod change;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod extract;
pub mod fsutil;
pub mod history;
pub mod ledger;
pub mod model;
pub mod modes;
pub mod policy_analysis;
pub mod promotion;
pub mod report;
pub mod rules;
pub mod run;
pub mod snapshot;
pub mod source;
pub mod timing;
pub mod version;
#[path = "pipeline/walk.rs"]
pub mod walk;
