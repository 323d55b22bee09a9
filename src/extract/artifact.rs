//! Artifacts named by file paths (`…-v6.tar.gz`) and versioned directories (`…/v1/…`).
use crate::model::Artifact;

/// Artifacts among `paths` (relative, `/`-separated). `patterns` are the config's
/// `artifacts[].pattern` globs with `{series}` and `{version}` placeholders; when empty
/// the zero-config rules of DESIGN §2 apply.
pub fn from_paths(_paths: &[String], _patterns: &[String]) -> Vec<Artifact> {
    Vec::new()
}
