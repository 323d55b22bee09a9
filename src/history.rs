//! History queries: which versions an environment pinned for a component, in which commit,
//! up to a revision. Change rules ask it whether a predecessor ever ran a version (a
//! rollback to a version that once passed through staging is fine).

use crate::model::Span;
use std::collections::BTreeMap;

/// One version an environment pinned at some point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastPin {
    /// The lineage version (see [`crate::snapshot::Snapshot::version`]).
    pub version: String,
    pub digest: Option<String>,
    /// The first commit (oldest) where the environment pinned this version.
    pub commit: String,
    pub path: String,
    pub span: Span,
}

/// Every version each environment pinned for each component, over a stretch of history.
#[derive(Clone, Debug, Default)]
pub struct HistoryIndex {
    /// (environment name, component) → version → the oldest pin of it.
    pins: BTreeMap<(String, String), BTreeMap<String, PastPin>>,
}

impl HistoryIndex {
    /// No history (a plain directory, or history not asked for).
    pub fn empty() -> Self {
        HistoryIndex::default()
    }

    /// Record that `env` pinned `component` at `pin.version`. Walks record newest first,
    /// so a later call for the same version (an older commit) replaces the entry.
    pub fn record(&mut self, env: &str, component: &str, pin: PastPin) {
        self.pins
            .entry((env.to_string(), component.to_string()))
            .or_default()
            .insert(pin.version.clone(), pin);
    }

    /// When `env` first pinned `component` at `version`, if it ever did.
    pub fn ran(&self, env: &str, component: &str, version: &str) -> Option<&PastPin> {
        self.pins
            .get(&(env.to_string(), component.to_string()))?
            .get(version)
    }

    /// Every version `env` pinned for `component`, by version text.
    pub fn versions(&self, env: &str, component: &str) -> impl Iterator<Item = &PastPin> {
        self.pins
            .get(&(env.to_string(), component.to_string()))
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// Whether `env` ever pinned `component` at all.
    pub fn knows(&self, env: &str, component: &str) -> bool {
        self.pins
            .get(&(env.to_string(), component.to_string()))
            .is_some_and(|m| !m.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.pins.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(version: &str, commit: &str) -> PastPin {
        PastPin {
            version: version.into(),
            digest: None,
            commit: commit.into(),
            path: "envs/samakia-dev/main.tf".into(),
            span: Span::default(),
        }
    }

    #[test]
    fn keeps_the_oldest_commit_of_each_version() {
        let mut h = HistoryIndex::empty();
        h.record("dev", "lxc_rootfs_version", pin("v6", "c3"));
        h.record("dev", "lxc_rootfs_version", pin("v6", "c1"));
        h.record("dev", "lxc_rootfs_version", pin("v5", "c0"));
        assert_eq!(
            h.ran("dev", "lxc_rootfs_version", "v6")
                .map(|p| p.commit.as_str()),
            Some("c1")
        );
        assert!(h.ran("prod", "lxc_rootfs_version", "v6").is_none());
        assert_eq!(h.versions("dev", "lxc_rootfs_version").count(), 2);
        assert!(h.knows("dev", "lxc_rootfs_version"));
        assert!(!h.knows("dev", "talos"));
    }
}
