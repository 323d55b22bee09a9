//! promolint: a Git-native linter for GitOps environment promotion.
//!
//! Data flows one way (DESIGN §7): source → extract → snapshot → rules → findings → report.

pub mod config;
pub mod extract;
pub mod model;
pub mod policy_analysis;
pub mod rules;
pub mod source;
