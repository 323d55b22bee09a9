//! PL003 tag-policy-too-broad: a tag policy admitting tags outside its environment.
use super::Finding;
use crate::config::Config;
use crate::snapshot::Snapshot;

pub const ID: &str = "PL003";

pub fn check(_snap: &Snapshot, _config: &Config, _out: &mut Vec<Finding>) {}
