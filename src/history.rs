//! History queries: which versions an environment pinned for a component, in which commit,
//! up to a revision. Change rules ask it whether a predecessor ever ran a version (a
//! rollback to a version that once passed through staging is fine).
//!
//! An index read from the pin ledger holds claims (see [`Verify`]): an answer that a claim
//! proves (an environment did pin this) is given once the repository confirms what the
//! ledger recorded for that file of that commit; an answer that rests on absence or on which claim came
//! first (never pinned, no history, the oldest commit of a version) comes from a walk of
//! the repository without the ledger. So every answer is the one `--no-cache` gives.

use crate::model::Span;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// One version an environment pinned at some point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastPin {
    /// The lineage version (see [`crate::snapshot::Snapshot::version`]).
    pub version: String,
    /// The commit id the tag names as its build (see [`crate::version::Identity`]).
    pub build: Option<String>,
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
    /// Set when the pins came (in part) from the pin ledger: how to check them.
    checked: Option<Arc<Checked>>,
    /// Each commit's position in the history the index was built from (see
    /// [`Self::position`]).
    positions: Option<Arc<crate::model::hash::HashMap<gix::ObjectId, u64>>>,
}

/// How an index read from the pin ledger is checked against the repository. Both checks
/// are true for a commit walked in this run, and false once [`Self::walk`] found the
/// ledger wrong.
pub trait Verify: Send + Sync {
    /// Whether the walk records `pin` as the index has it: the file it came from
    /// (`pin.path`) changed in its commit (`pin.seq`), and the repository's blob there
    /// holds exactly the pins the index recorded from it.
    fn pin_holds(&self, pin: &PastPin) -> bool;
    /// Whether everything recorded for the commit at position `seq` is what the
    /// repository holds there (which of a commit's pins of a version comes first depends on
    /// all of them).
    fn commit_holds(&self, seq: u64) -> bool;
    /// The whole index again, walked from the repository alone. It may be called from a
    /// rayon worker that other workers wait for: it must not run on that pool.
    fn walk(&self) -> Result<HistoryIndex, crate::error::Error>;
}

/// A [`Verify`], what it said, and the walk once an answer needed it.
struct Checked {
    verify: Box<dyn Verify>,
    /// What `verify` said, by commit position.
    held: Mutex<HashMap<u64, Held>>,
    walked: OnceLock<HistoryIndex>,
    error: Mutex<Option<crate::error::Error>>,
}

/// What [`Verify`] said about one commit: all of it, and files of it.
#[derive(Default)]
struct Held {
    commit: Option<bool>,
    files: HashMap<String, bool>,
}

impl Held {
    /// Whether `path`'s pins hold: known from the whole commit or from the file.
    fn file(&self, path: &str) -> Option<bool> {
        match self.commit {
            Some(true) => Some(true),
            _ => self.files.get(path).copied(),
        }
    }
}

impl Checked {
    /// Whether the commit at `seq` holds what the index recorded (asked once per commit).
    fn holds(&self, seq: u64) -> bool {
        let known = self.held.lock().ok().and_then(|h| h.get(&seq)?.commit);
        if let Some(known) = known {
            return known;
        }
        let holds = self.verify.commit_holds(seq);
        if let Ok(mut held) = self.held.lock() {
            held.entry(seq).or_default().commit = Some(holds);
        }
        holds
    }

    /// Whether the walk records `pin` as the index has it (asked once per file and commit).
    fn pin_holds(&self, pin: &PastPin) -> bool {
        let known = self
            .held
            .lock()
            .ok()
            .and_then(|h| h.get(&pin.seq)?.file(&pin.path));
        if let Some(known) = known {
            return known;
        }
        let holds = self.verify.pin_holds(pin);
        if let Ok(mut held) = self.held.lock() {
            let held = held.entry(pin.seq).or_default();
            held.files.insert(pin.path.clone(), holds);
        }
        holds
    }

    /// A claim, if the repository confirms its whole commit (`None` sends the question to
    /// the walk).
    fn confirmed<'a>(&self, claim: Option<&'a PastPin>) -> Option<&'a PastPin> {
        claim.filter(|p| self.holds(p.seq))
    }

    /// One of `claims` that the repository confirms, for a question any of them answers
    /// (does such a pin exist?). Checks one file of one commit: one already confirmed, else
    /// the latest claim's (the first commit of a repository imported whole is the costliest
    /// to check); `None` when there is no claim, or a check of one already failed (the walk
    /// answers then).
    fn confirmed_any<'a>(&self, claims: impl Iterator<Item = &'a PastPin>) -> Option<&'a PastPin> {
        let mut best: Option<&PastPin> = None;
        {
            let held = self.held.lock().ok()?;
            for claim in claims {
                match held.get(&claim.seq).and_then(|h| h.file(&claim.path)) {
                    Some(true) => return Some(claim),
                    Some(false) => return None,
                    None if best.is_none_or(|b| claim.seq > b.seq) => best = Some(claim),
                    None => {}
                }
            }
        }
        best.filter(|p| self.pin_holds(p))
    }

    /// The index walked without the ledger; empty when the walk failed (its error is then
    /// handed on by [`HistoryIndex::take_error`], so the run fails).
    fn walked(&self) -> &HistoryIndex {
        self.walked.get_or_init(|| match self.verify.walk() {
            Ok(index) => index,
            Err(e) => {
                if let Ok(mut slot) = self.error.lock() {
                    *slot = Some(e);
                }
                HistoryIndex::empty()
            }
        })
    }
}

impl std::fmt::Debug for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked")
            .field("walked", &self.walked.get().is_some())
            .finish_non_exhaustive()
    }
}

/// What one answer is computed from: the pins, how visibility is judged, the horizon.
#[derive(Clone, Copy)]
struct View<'a> {
    pins: &'a Store,
    ancestry: Option<&'a Ancestry>,
    horizon: Option<u64>,
}

impl<'a> View<'a> {
    fn visible(&self, p: &PastPin) -> bool {
        match (self.horizon, self.ancestry) {
            (None, _) => false,
            (Some(h), Some(a)) => a.reaches(p.seq, h),
            (Some(h), None) => p.seq <= h,
        }
    }

    fn first(self, env: &str, component: &str, version: &str) -> Option<&'a PastPin> {
        self.pins
            .get(&(env.to_string(), component.to_string()))?
            .get(version)?
            .iter()
            .find(|p| self.visible(p))
    }

    /// Every visible commit that pinned `component` at `version` in `env`.
    fn all(self, env: &str, component: &str, version: &str) -> impl Iterator<Item = &'a PastPin> {
        self.pins
            .get(&(env.to_string(), component.to_string()))
            .and_then(|m| m.get(version))
            .into_iter()
            .flatten()
            .filter(move |p| self.visible(p))
    }

    fn versions(self, env: &str, component: &str) -> impl Iterator<Item = &'a PastPin> {
        self.pins
            .get(&(env.to_string(), component.to_string()))
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(move |commits| commits.iter().find(|p| self.visible(p)))
    }

    /// Every visible commit that pinned `component` in `env`, every version.
    fn every(self, env: &str, component: &str) -> impl Iterator<Item = &'a PastPin> {
        self.pins
            .get(&(env.to_string(), component.to_string()))
            .into_iter()
            .flat_map(|m| m.values())
            .flatten()
            .filter(move |p| self.visible(p))
    }

    fn is_empty(self) -> bool {
        self.horizon.is_none() || self.pins.is_empty()
    }
}

type Load = Box<dyn FnOnce() -> Result<HistoryIndex, crate::error::Error> + Send>;

/// The walk behind [`HistoryIndex::deferred`], and what it gave.
struct Deferred {
    load: Mutex<Option<Load>>,
    index: OnceLock<HistoryIndex>,
    error: Mutex<Option<crate::error::Error>>,
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
        load: impl FnOnce() -> Result<HistoryIndex, crate::error::Error> + Send + 'static,
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

    /// The error of a deferred walk, or of a walk without the ledger, that a query started,
    /// if it failed.
    pub fn take_error(&self) -> Option<crate::error::Error> {
        let loaded = match &self.deferred {
            Some(d) => {
                if let Some(e) = d.error.lock().ok().and_then(|mut e| e.take()) {
                    return Some(e);
                }
                d.index.get()?
            }
            None => self,
        };
        loaded.checked.as_ref()?.error.lock().ok()?.take()
    }

    /// Mark this index as read (in part) from the pin ledger: answers are then checked with
    /// `verify` (see the module documentation).
    pub fn verified_by(&mut self, verify: impl Verify + 'static) {
        self.checked = Some(Arc::new(Checked {
            verify: Box::new(verify),
            held: Mutex::new(HashMap::new()),
            walked: OnceLock::new(),
            error: Mutex::new(None),
        }));
    }

    /// The index a deferred walk gave, or its error (taken: a caller that gets it
    /// reports it).
    pub fn resolved_index(&self) -> Result<&HistoryIndex, crate::error::Error> {
        let index = self.resolved();
        match self
            .deferred
            .as_ref()
            .and_then(|d| d.error.lock().ok().and_then(|mut e| e.take()))
        {
            Some(e) => Err(e),
            None => Ok(index),
        }
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

    /// Record each commit's position (its index in the history the index was built from).
    pub fn set_positions(&mut self, positions: crate::model::hash::HashMap<gix::ObjectId, u64>) {
        self.positions = Some(Arc::new(positions));
    }

    /// The position of `commit` in the history the index was built from (the horizon that
    /// sees it and what it reaches); `None` for a commit outside it.
    pub fn position(&self, commit: gix::ObjectId) -> Option<u64> {
        self.resolved().positions.as_ref()?.get(&commit).copied()
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
            checked: this.checked.clone(),
            positions: this.positions.clone(),
        }
    }

    /// The pins as recorded (claims, when they came from the ledger), and their checker.
    fn claims(&self) -> (View<'_>, Option<&Checked>) {
        let this = self.resolved();
        match this.checked.as_deref() {
            // Walked already: every answer comes from the walk.
            Some(checked) if checked.walked.get().is_some() => (self.exact(), None),
            checked => {
                let view = View {
                    pins: &this.pins,
                    ancestry: this.ancestry.as_deref(),
                    horizon: this.horizon,
                };
                (view, checked)
            }
        }
    }

    /// The pins as the repository has them: these, or the walk without the ledger.
    fn exact(&self) -> View<'_> {
        let this = self.resolved();
        let data = match &this.checked {
            Some(checked) => checked.walked(),
            None => this,
        };
        View {
            pins: &data.pins,
            ancestry: data.ancestry.as_deref(),
            horizon: this.horizon,
        }
    }

    /// When `env` first pinned `component` at `version`, if it did before the horizon.
    pub fn ran(&self, env: &str, component: &str, version: &str) -> Option<&PastPin> {
        let (claims, checked) = self.claims();
        let Some(checked) = checked else {
            return claims.first(env, component, version);
        };
        // A confirmed claim from the oldest commit is the first; any later one might
        // follow an earlier claim the ledger left out.
        let claim = claims.first(env, component, version).filter(|p| p.seq == 0);
        checked
            .confirmed(claim)
            .or_else(|| self.exact().first(env, component, version))
    }

    /// Whether `env` pinned `component` at `version` before the horizon.
    pub fn has_run(&self, env: &str, component: &str, version: &str) -> bool {
        let (claims, checked) = self.claims();
        match checked {
            None => claims.first(env, component, version).is_some(),
            Some(checked) => {
                checked
                    .confirmed_any(claims.all(env, component, version))
                    .is_some()
                    || self.exact().first(env, component, version).is_some()
            }
        }
    }

    /// Whether `env` pinned `component` at `version` in the repository's original import:
    /// the root reached by following first parents from the horizon. Only that root is the
    /// import. Another root (an unrelated history merged in, whatever date it claims) is
    /// judged like any other change; a position or date says nothing.
    pub fn imported(&self, env: &str, component: &str, version: &str) -> bool {
        let (claims, checked) = self.claims();
        let Some(horizon) = claims.horizon else {
            return false;
        };
        // Without merges the walked history is one chain: position 0 is its only root.
        let root = match claims.ancestry {
            Some(a) => a.first_parent_root(horizon),
            None => Some(0),
        };
        let Some(root) = root else {
            return false;
        };
        let in_root = |view: View<'_>| view.all(env, component, version).any(|p| p.seq == root);
        match checked {
            None => in_root(claims),
            // A ledger's claim is believed once the repository confirms it; its absence
            // (an entry emptied) is asked of the walk.
            Some(checked) => {
                checked
                    .confirmed_any(
                        claims
                            .all(env, component, version)
                            .filter(|p| p.seq == root),
                    )
                    .is_some()
                    || in_root(self.exact())
            }
        }
    }

    /// Every version `env` pinned for `component`, by version text.
    pub fn versions(&self, env: &str, component: &str) -> impl Iterator<Item = &PastPin> {
        self.exact().versions(env, component)
    }

    /// Every pin of `component` that `env` introduced, in every commit and file that did
    /// (not only the first of each version): where each tag it ran was written.
    pub fn every_pin(&self, env: &str, component: &str) -> impl Iterator<Item = &PastPin> {
        self.exact().every(env, component)
    }

    /// Whether `env` ever pinned `component` at all.
    pub fn knows(&self, env: &str, component: &str) -> bool {
        let (claims, checked) = self.claims();
        match checked {
            None => claims.versions(env, component).next().is_some(),
            Some(checked) => {
                checked
                    .confirmed_any(claims.versions(env, component))
                    .is_some()
                    || self.exact().versions(env, component).next().is_some()
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        let (claims, checked) = self.claims();
        match checked {
            None => claims.is_empty(),
            Some(_) if claims.horizon.is_none() => true,
            Some(checked) => {
                let all = claims.pins.values().flat_map(|m| m.values()).flatten();
                checked.confirmed_any(all).is_none() && self.exact().is_empty()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(version: &str, commit: &str, seq: u64) -> PastPin {
        PastPin {
            version: version.into(),
            build: None,
            digest: None,
            commit: commit.into(),
            path: "envs/kestrel-dev/main.tf".into(),
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

    /// A [`Verify`] that rejects the commits in `bad` and walks to `truth`, counting walks.
    struct Fake {
        bad: Vec<u64>,
        truth: Option<HistoryIndex>,
        walks: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Verify for Fake {
        fn pin_holds(&self, pin: &PastPin) -> bool {
            !self.bad.contains(&pin.seq)
        }

        fn commit_holds(&self, seq: u64) -> bool {
            !self.bad.contains(&seq)
        }

        fn walk(&self) -> Result<HistoryIndex, crate::error::Error> {
            self.walks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.truth.clone().ok_or(crate::error::Error::Usage {
                message: "walk failed".into(),
                help: None,
            })
        }
    }

    /// The ledger says: dev ran v1 (c0) and v2 (c2); the repository: dev ran v1 (c0) and
    /// v2 (c1). Commit 2's entry is `bad` when the ledger is checked.
    fn claimed(
        bad: &[u64],
        walk_fails: bool,
    ) -> (HistoryIndex, Arc<std::sync::atomic::AtomicUsize>) {
        let mut truth = HistoryIndex::empty();
        truth.record("dev", "talos", pin("v1", "c0", 0));
        truth.record("dev", "talos", pin("v2", "c1", 1));
        truth.set_horizon(2);
        let mut claims = HistoryIndex::empty();
        claims.record("dev", "talos", pin("v1", "c0", 0));
        claims.record("dev", "talos", pin("v2", "c2", 2));
        let walks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        claims.verified_by(Fake {
            bad: bad.to_vec(),
            truth: (!walk_fails).then_some(truth),
            walks: walks.clone(),
        });
        (claims, walks)
    }

    fn walks(counter: &std::sync::atomic::AtomicUsize) -> usize {
        counter.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn confirmed_claims_answer_without_a_walk() {
        let (h, counter) = claimed(&[], false);
        assert!(h.has_run("dev", "talos", "v2"));
        assert!(h.knows("dev", "talos"));
        assert!(!h.is_empty());
        // The oldest commit's claim is the first: nothing can precede it.
        assert_eq!(h.ran("dev", "talos", "v1").map(|p| p.seq), Some(0));
        assert_eq!(walks(&counter), 0);
    }

    #[test]
    fn absence_and_order_come_from_the_walk() {
        // Which commit first pinned v2 could be an earlier one the ledger left out.
        let (h, counter) = claimed(&[], false);
        assert_eq!(h.ran("dev", "talos", "v2").map(|p| p.seq), Some(1));
        assert_eq!(walks(&counter), 1);
        let (h, counter) = claimed(&[], false);
        assert!(!h.has_run("dev", "talos", "v3"));
        assert!(!h.knows("prod", "talos"));
        assert_eq!(
            walks(&counter),
            1,
            "one walk per index, shared by its views"
        );
        assert!(!h.at(0, true).has_run("dev", "talos", "v2"));
        assert_eq!(walks(&counter), 1);
    }

    #[test]
    fn a_claim_the_repository_denies_is_not_believed() {
        let (h, counter) = claimed(&[2], false);
        // The ledger's v2 is at c2, which is wrong; the walk finds it at c1.
        assert!(h.at(1, true).has_run("dev", "talos", "v2"));
        assert_eq!(
            h.ran("dev", "talos", "v2").map(|p| p.commit.as_str()),
            Some("c1")
        );
        assert_eq!(walks(&counter), 1);
        assert!(h.take_error().is_none());
    }

    #[test]
    fn a_failed_walk_is_an_error_for_the_run() {
        let (h, _) = claimed(&[2], true);
        assert!(!h.has_run("dev", "talos", "v2"));
        assert!(h
            .take_error()
            .is_some_and(|e| e.to_string() == "walk failed"));
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
