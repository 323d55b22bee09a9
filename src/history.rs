//! History queries: which versions an environment pinned for a component, in which commit,
//! up to a revision. Change rules ask it whether a predecessor ever ran a version (a
//! rollback to a version that once passed through staging is fine).

use crate::model::Span;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

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
    /// Position of that commit in the walked history (0 = oldest).
    pub seq: u64,
}

/// (environment, component) → version → every commit that introduced it, oldest first.
type Store = BTreeMap<(String, String), BTreeMap<String, Vec<PastPin>>>;

/// Which walked commits are ancestors of which: one bitset per commit, by position.
/// Only built when the history has merges (a linear history is ordered by position).
#[derive(Clone, Debug, Default)]
pub struct Ancestry {
    sets: Vec<Vec<u64>>,
    /// Per commit, the position of the root its first parents lead to.
    roots: Vec<u64>,
}

impl Ancestry {
    /// `parents[i]`: positions of commit `i`'s parents (all smaller than `i`), first parent
    /// first.
    pub fn new(parents: &[Vec<usize>]) -> Self {
        let words = parents.len().div_ceil(64);
        let mut sets: Vec<Vec<u64>> = Vec::with_capacity(parents.len());
        let mut roots: Vec<u64> = Vec::with_capacity(parents.len());
        for (i, ps) in parents.iter().enumerate() {
            let mut set = vec![0u64; words];
            for &p in ps.iter().filter(|&&p| p < i) {
                for (w, x) in set.iter_mut().zip(&sets[p]) {
                    *w |= x;
                }
            }
            set[i / 64] |= 1 << (i % 64);
            sets.push(set);
            let first = ps.first().filter(|&&p| p < i);
            roots.push(first.map_or(i as u64, |&p| roots[p]));
        }
        Ancestry { sets, roots }
    }

    /// The root reached from commit `at` by following first parents.
    fn first_parent_root(&self, at: u64) -> Option<u64> {
        self.roots.get(at as usize).copied()
    }

    /// Whether commit `a` is `b` or an ancestor of it.
    pub fn reaches(&self, a: u64, b: u64) -> bool {
        let (a, b) = (a as usize, b as usize);
        self.sets
            .get(b)
            .and_then(|set| set.get(a / 64))
            .is_some_and(|w| w & (1 << (a % 64)) != 0)
    }
}

/// Every version each environment pinned for each component, over a stretch of history,
/// seen up to a horizon (a position in that history). Views at other horizons share the
/// data (`at`), so `history` mode can ask "before this commit" for every commit cheaply.
#[derive(Clone, Debug, Default)]
pub struct HistoryIndex {
    pins: Arc<Store>,
    /// Entries with `seq` above this are invisible; `None` sees nothing.
    horizon: Option<u64>,
    /// With merges in the history: entries are visible only from commits they reach.
    ancestry: Option<Arc<Ancestry>>,
    /// An index built on first use; every query answers from it.
    deferred: Option<Arc<Deferred>>,
}

type Load = Box<dyn FnOnce() -> Result<HistoryIndex, crate::engine::Error> + Send>;

/// The walk behind [`HistoryIndex::deferred`], and what it gave.
struct Deferred {
    load: Mutex<Option<Load>>,
    index: OnceLock<HistoryIndex>,
    error: Mutex<Option<crate::engine::Error>>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("index", &self.index.get())
            .finish_non_exhaustive()
    }
}

impl HistoryIndex {
    /// No history (a plain directory, or history not asked for).
    pub fn empty() -> Self {
        HistoryIndex::default()
    }

    /// A history walked only when a query needs it: in `check`, most pins are judged by
    /// the tree alone (the predecessor runs the version now), and a tree that never asks
    /// costs no walk, and no error in a shallow clone. A failed walk answers as an empty
    /// history; [`Self::take_error`] hands its error to the caller after the rules ran.
    pub fn deferred(
        load: impl FnOnce() -> Result<HistoryIndex, crate::engine::Error> + Send + 'static,
    ) -> Self {
        HistoryIndex {
            deferred: Some(Arc::new(Deferred {
                load: Mutex::new(Some(Box::new(load))),
                index: OnceLock::new(),
                error: Mutex::new(None),
            })),
            ..HistoryIndex::default()
        }
    }

    /// The error of a deferred walk that a query started, if it failed.
    pub fn take_error(&self) -> Option<crate::engine::Error> {
        self.deferred.as_ref()?.error.lock().ok()?.take()
    }

    /// Whether a deferred walk has run (tests and timings).
    pub fn was_walked(&self) -> bool {
        self.deferred
            .as_ref()
            .is_none_or(|d| d.index.get().is_some())
    }

    /// The index queries answer from: this one, or the deferred walk's (run now if needed).
    fn resolved(&self) -> &HistoryIndex {
        let Some(d) = &self.deferred else {
            return self;
        };
        d.index.get_or_init(|| {
            let load = d.load.lock().ok().and_then(|mut l| l.take());
            match load.map(|load| load()) {
                Some(Ok(index)) => index,
                Some(Err(e)) => {
                    if let Ok(mut slot) = d.error.lock() {
                        *slot = Some(e);
                    }
                    HistoryIndex::empty()
                }
                None => HistoryIndex::empty(),
            }
        })
    }

    /// Record that `env` pinned `component` at `pin.version` in `pin.commit`. Recording
    /// makes everything recorded so far visible.
    pub fn record(&mut self, env: &str, component: &str, pin: PastPin) {
        let seq = pin.seq;
        let commits = Arc::make_mut(&mut self.pins)
            .entry((env.to_string(), component.to_string()))
            .or_default()
            .entry(pin.version.clone())
            .or_default();
        let at = commits.partition_point(|p| p.seq < pin.seq);
        if commits.get(at).is_none_or(|p| p.seq != pin.seq) {
            commits.insert(at, pin);
        }
        self.horizon = Some(self.horizon.map_or(seq, |h| h.max(seq)));
    }

    /// See everything up to and including position `horizon`.
    pub fn set_horizon(&mut self, horizon: u64) {
        self.horizon = Some(horizon);
    }

    /// Judge visibility by ancestry rather than position (a history with merges).
    pub fn set_ancestry(&mut self, ancestry: Ancestry) {
        self.ancestry = Some(Arc::new(ancestry));
    }

    /// A view of the same history as seen from commit position `horizon` (that commit and
    /// what it reaches); `visible: false` is the view before the first commit (nothing).
    pub fn at(&self, horizon: u64, visible: bool) -> HistoryIndex {
        let this = self.resolved();
        HistoryIndex {
            pins: this.pins.clone(),
            horizon: visible.then_some(horizon),
            ancestry: this.ancestry.clone(),
            deferred: None,
        }
    }

    fn visible(&self, p: &PastPin) -> bool {
        match (self.horizon, &self.ancestry) {
            (None, _) => false,
            (Some(h), Some(a)) => a.reaches(p.seq, h),
            (Some(h), None) => p.seq <= h,
        }
    }

    /// When `env` first pinned `component` at `version`, if it did before the horizon.
    pub fn ran(&self, env: &str, component: &str, version: &str) -> Option<&PastPin> {
        let this = self.resolved();
        this.pins
            .get(&(env.to_string(), component.to_string()))?
            .get(version)?
            .iter()
            .find(|p| this.visible(p))
    }

    /// Whether `env` pinned `component` at `version` in the repository's original import:
    /// the root reached by following first parents from the horizon. Only that root is the
    /// import. Another root (an unrelated history merged in, whatever date it claims) is
    /// judged like any other change; a position or date says nothing.
    pub fn imported(&self, env: &str, component: &str, version: &str) -> bool {
        let this = self.resolved();
        let Some(horizon) = this.horizon else {
            return false;
        };
        // Without merges the walked history is one chain: position 0 is its only root.
        let root = match &this.ancestry {
            Some(a) => a.first_parent_root(horizon),
            None => Some(0),
        };
        let Some(root) = root else {
            return false;
        };
        this.pins
            .get(&(env.to_string(), component.to_string()))
            .and_then(|versions| versions.get(version))
            .is_some_and(|commits| commits.iter().any(|p| p.seq == root))
    }

    /// Every version `env` pinned for `component`, by version text.
    pub fn versions(&self, env: &str, component: &str) -> impl Iterator<Item = &PastPin> {
        let this = self.resolved();
        this.pins
            .get(&(env.to_string(), component.to_string()))
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(move |commits| commits.iter().find(|p| this.visible(p)))
    }

    /// Whether `env` ever pinned `component` at all.
    pub fn knows(&self, env: &str, component: &str) -> bool {
        self.versions(env, component).next().is_some()
    }

    pub fn is_empty(&self) -> bool {
        let this = self.resolved();
        this.horizon.is_none() || this.pins.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(version: &str, commit: &str, seq: u64) -> PastPin {
        PastPin {
            version: version.into(),
            digest: None,
            commit: commit.into(),
            path: "envs/samakia-dev/main.tf".into(),
            span: Span::default(),
            seq,
        }
    }

    #[test]
    fn keeps_the_oldest_commit_of_each_version() {
        let mut h = HistoryIndex::empty();
        h.record("dev", "lxc_rootfs_version", pin("v6", "c3", 3));
        h.record("dev", "lxc_rootfs_version", pin("v6", "c1", 1));
        h.record("dev", "lxc_rootfs_version", pin("v5", "c0", 0));
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

    #[test]
    fn with_merges_only_ancestors_are_seen() {
        // 0 ─ 1 (main: prod v6) ─ 3 (merge)
        //  ╲ 2 (side: dev v6) ──╱
        let ancestry = Ancestry::new(&[vec![], vec![0], vec![0], vec![1, 2]]);
        let mut h = HistoryIndex::empty();
        h.record("dev", "lxc_rootfs_version", pin("v6", "c2", 2));
        h.set_ancestry(ancestry);
        assert!(h
            .at(1, true)
            .ran("dev", "lxc_rootfs_version", "v6")
            .is_none());
        assert!(h
            .at(3, true)
            .ran("dev", "lxc_rootfs_version", "v6")
            .is_some());
        assert!(h
            .at(2, true)
            .ran("dev", "lxc_rootfs_version", "v6")
            .is_some());
    }

    #[test]
    fn only_the_first_parent_root_is_the_import() {
        // 0 (orphan root, backdated: prod v9) ─────────────╮
        // 1 (root: prod v5) ─ 2 (dev v6) ─ 3 (merge, first parent 2: prod v9)
        let ancestry = Ancestry::new(&[vec![], vec![], vec![1], vec![2, 0]]);
        let mut h = HistoryIndex::empty();
        h.record("prod", "app", pin("v9", "c0", 0));
        h.record("prod", "app", pin("v5", "c1", 1));
        h.record("prod", "app", pin("v9", "c3", 3));
        h.set_ancestry(ancestry);
        let tip = h.at(3, true);
        assert!(tip.imported("prod", "app", "v5"));
        assert!(!tip.imported("prod", "app", "v9"));
        assert!(!tip.imported("dev", "app", "v5"));
        // Seen from the orphan commit itself, it is its own history's import.
        assert!(h.at(0, true).imported("prod", "app", "v9"));
        assert!(!h.at(0, false).imported("prod", "app", "v9"));
        // A linear history: position 0 is the import.
        let mut linear = HistoryIndex::empty();
        linear.record("prod", "app", pin("v5", "c0", 0));
        linear.record("prod", "app", pin("v6", "c1", 1));
        assert!(linear.imported("prod", "app", "v5"));
        assert!(!linear.imported("prod", "app", "v6"));
        assert!(!HistoryIndex::empty().imported("prod", "app", "v5"));
    }

    #[test]
    fn views_cut_history_at_a_horizon() {
        let mut h = HistoryIndex::empty();
        h.record("dev", "talos", pin("v1.12.1", "c0", 0));
        h.record("dev", "talos", pin("v1.12.2", "c2", 2));
        let before_c2 = h.at(1, true);
        assert!(before_c2.ran("dev", "talos", "v1.12.1").is_some());
        assert!(before_c2.ran("dev", "talos", "v1.12.2").is_none());
        assert!(h.at(0, false).is_empty());
        assert!(!h.at(0, false).knows("dev", "talos"));
    }
}
