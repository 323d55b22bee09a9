//! PL008 rebuilt-for-production: a protected environment pins, for version V, a build
//! other than the one its predecessor ran for V (a rebuild for production is
//! disallowed; the bytes that passed staging are the bytes that ship). A build is told
//! apart by its digest, or, where a side has none, by the commit id its tag names
//! (`v0.0.3-fa61a17` and `v0.0.3-75c41cc` are v0.0.3 built from two commits).
use super::support::short_digest;
use super::{Finding, Related, Revision};
use crate::change::ChangeContext;
use crate::history::HistoryIndex;
use crate::model::Level;
use crate::snapshot::{EffectivePin, Snapshot};

pub const ID: &str = "PL008";

rule!(
    /// The rule.
    RebuiltForProduction: change, history_tree
);

/// What tells one build of a version from another.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Build {
    digest: Option<String>,
    /// The commit id the tag names (`fa61a17` in `v0.0.3-fa61a17`).
    commit: Option<String>,
}

impl Build {
    /// Whether the two are the same build: `Some(true|false)` when they share a way to
    /// tell (digests first), `None` when they cannot be compared.
    fn same(&self, other: &Build) -> Option<bool> {
        match (&self.digest, &other.digest, &self.commit, &other.commit) {
            (Some(a), Some(b), _, _) => Some(a == b),
            (_, _, Some(a), Some(b)) => Some(a == b),
            _ => None,
        }
    }

    /// `as sha256:51ecb9ae978e` or `built from commit fa61a17`: this build, told the way
    /// it is compared with `other`.
    fn shown(&self, other: &Build) -> String {
        match (&self.digest, &other.digest, &self.commit) {
            (Some(d), Some(_), _) | (Some(d), _, None) => format!("as {}", short_digest(d)),
            (_, _, Some(c)) => format!("built from commit {c}"),
            (None, _, None) => "as an unknown build".to_string(),
        }
    }

    fn by_digest(&self, other: &Build) -> bool {
        self.digest.is_some() && other.digest.is_some()
    }
}

/// The build a pin names, if it names one.
fn build_of(snap: &Snapshot, p: &EffectivePin) -> Option<Build> {
    let pin = snap.pin(p);
    let digest = pin.reference.digest.clone();
    let commit = snap
        .envs
        .identity(p.env, &pin.component, &pin.reference.value)
        .build;
    (digest.is_some() || commit.is_some()).then_some(Build { digest, commit })
}

/// Change mode: protected pins whose (version, build) is new in this change.
pub fn check(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let (before, after) = (ctx.before, ctx.after);
    for p in ctx.moved_pins() {
        let Some((v, b)) = protected_build(after, p) else {
            continue;
        };
        let component = &after.pin(p).component;
        let unchanged = before.pins_of(p.env, component).any(|q| {
            before.version(q).as_deref() == Some(v.as_str())
                && build_of(before, q).and_then(|qb| qb.same(&b)) == Some(true)
        });
        if unchanged {
            continue;
        }
        for mut f in judge(after, Some(before), ctx.history, p, &v, &b) {
            f.commit = ctx.commit.map(str::to_string);
            out.push(f);
        }
    }
}

/// Tree mode (`promolint check`): every protected pin against what its predecessors run
/// now or ran in the history.
pub fn check_tree(
    snap: &Snapshot,
    _config: &crate::config::Config,
    history: &HistoryIndex,
    out: &mut Vec<Finding>,
) {
    for p in &snap.pins {
        if let Some((v, b)) = protected_build(snap, p) {
            out.extend(judge(snap, None, history, p, &v, &b));
        }
    }
}

/// (lineage version, build) of a pin in a protected environment that has both.
fn protected_build(snap: &Snapshot, p: &EffectivePin) -> Option<(String, Build)> {
    if !snap.envs.get(p.env).protected {
        return None;
    }
    let b = build_of(snap, p)?;
    Some((snap.version(p)?, b))
}

/// One finding per predecessor that ran version `v` in builds comparable with `b`, none
/// of them `b`.
fn judge(
    snap: &Snapshot,
    base: Option<&Snapshot>,
    history: &HistoryIndex,
    p: &EffectivePin,
    v: &str,
    b: &Build,
) -> Vec<Finding> {
    let pin = snap.pin(p);
    let env = &snap.envs.get(p.env).name;
    let mut out = Vec::new();
    for &pred in &snap.envs.get(p.env).after {
        let pred_name = &snap.envs.get(pred).name;
        // Every build the predecessor ran for `v` that can be compared with `b`: now, at
        // base, earlier in history.
        let mut ran: Vec<(Build, Related)> = Vec::new();
        let mut sides = vec![(snap, "runs", "", Revision::Tree)];
        if let Some(b) = base {
            sides.push((b, "ran", " before this change", Revision::Base));
        }
        for (side, verb, when, revision) in sides {
            for q in side.pins_of(pred, &pin.component) {
                let Some(qb) = build_of(side, q) else {
                    continue;
                };
                if side.version(q).as_deref() != Some(v) || b.same(&qb).is_none() {
                    continue;
                }
                let message = format!("{pred_name} {verb} {v} {} here{when}", qb.shown(b));
                ran.push((
                    qb,
                    Related {
                        path: side.path(q.file).to_string(),
                        span: side.pin(q).span.clone(),
                        message,
                        revision: revision.clone(),
                    },
                ));
            }
        }
        // The history only matters when the trees show no predecessor build of `b` (and is
        // only asked then: a walk may be needed to answer).
        let matched = ran.iter().any(|(qb, _)| qb.same(b) == Some(true));
        let past = if matched {
            None
        } else {
            history.ran(pred_name, &pin.component, v)
        };
        if let Some(past) = past {
            let qb = Build {
                digest: past.digest.clone(),
                commit: past.build.clone(),
            };
            if b.same(&qb).is_some() {
                let commit: String = past.commit.chars().take(7).collect();
                let at = if qb.by_digest(b) { "" } else { "in " };
                let message = format!(
                    "{pred_name} ran {v} {} here ({at}commit {commit})",
                    qb.shown(b)
                );
                ran.push((
                    qb,
                    Related {
                        path: past.path.clone(),
                        span: past.span.clone(),
                        message,
                        revision: Revision::Commit(past.commit.clone()),
                    },
                ));
            }
        }
        if ran.is_empty() || ran.iter().any(|(qb, _)| qb.same(b) == Some(true)) {
            continue;
        }
        let (qb, related) = ran.swap_remove(0);
        let mut f = Finding::on_pin(
            snap,
            ID,
            p,
            if b.by_digest(&qb) {
                format!(
                    "{env} pins {} {v} {}, a different build from the {} {pred_name} ran",
                    pin.component,
                    b.shown(&qb),
                    qb.shown(b).trim_start_matches("as ")
                )
            } else {
                format!(
                    "{env} pins {} {v} {}, a different build from the one {pred_name} ran ({})",
                    pin.component,
                    b.shown(&qb),
                    qb.shown(b)
                )
            },
        );
        f.level = Level::Error;
        f.related.push(related);
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{page_findings, past, related, show, Change};
    use super::*;

    const STAGING: &str = "flux/apps/backend/staging/kustomization.yaml";
    const PRODUCTION: &str = "flux/apps/backend/production/kustomization.yaml";
    const D1: &str = "sha256:51ecb9ae978e92d5caa6d3c0c0772b2ad5a8a2819995f1404f7d987a9bfa4646";
    const D2: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const D0: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn kust(ns: &str, tag: &str, digest: &str) -> String {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/backend\n    newTag: {tag}\n    digest: {digest}\n"
        )
    }

    fn lab(prod_tag: &str, prod_digest: &str) -> Vec<(&'static str, String)> {
        vec![
            (STAGING, kust("staging", "staging-v1.4.2-1712300000", D1)),
            (PRODUCTION, kust("production", prod_tag, prod_digest)),
        ]
    }

    fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(p, t)| (*p, t.as_str())).collect()
    }

    #[test]
    fn production_rebuild_of_the_staging_version() {
        let b = lab("production-v1.4.1-1712000000", D0);
        let a = lab("production-v1.4.2-1712345678", D2);
        let found = Change::new(&refs(&b), &refs(&a)).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL008 error {PRODUCTION}:8:13 production pins ghcr.io/acme/backend v1.4.2 as sha256:9f86d081884c, a different build from the sha256:51ecb9ae978e staging ran"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{STAGING}:8:13 staging runs v1.4.2 as sha256:51ecb9ae978e here"
            )]
        );
    }

    #[test]
    fn promoting_the_staging_digest_under_a_production_tag_is_fine() {
        // The staging image re-tagged production-v1.4.2-…: same bytes.
        let b = lab("production-v1.4.1-1712000000", D0);
        let a = lab("production-v1.4.2-1712345678", D1);
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    #[test]
    fn no_predecessor_digest_means_nothing_to_compare() {
        let b = vec![
            (STAGING, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: staging\nimages:\n  - name: ghcr.io/acme/backend\n    newTag: staging-v1.4.2-1712300000\n".to_string()),
            (PRODUCTION, kust("production", "production-v1.4.1-1712000000", D0)),
        ];
        let mut a = b.clone();
        a[1].1 = kust("production", "production-v1.4.2-1712345678", D2);
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    #[test]
    fn the_history_digest_counts() {
        // staging moved on to v1.4.3; it ran v1.4.2 as D1 earlier.
        let b = vec![
            (STAGING, kust("staging", "staging-v1.4.3-1712400000", D2)),
            (
                PRODUCTION,
                kust("production", "production-v1.4.1-1712000000", D0),
            ),
        ];
        let mut a = b.clone();
        a[1].1 = kust("production", "production-v1.4.2-1712345678", D0);
        let mut c = Change::new(&refs(&b), &refs(&a));
        c.history.record(
            "staging",
            "ghcr.io/acme/backend",
            past("v1.4.2", Some(D1), "abc1234def", STAGING),
        );
        let found = c.run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL008 error {PRODUCTION}:8:13 production pins ghcr.io/acme/backend v1.4.2 as sha256:000000000000, a different build from the sha256:51ecb9ae978e staging ran"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{STAGING}:1:1 staging ran v1.4.2 as sha256:51ecb9ae978e here (commit abc1234)"
            )]
        );
        // The same digest in history: fine.
        let mut a = b.clone();
        a[1].1 = kust("production", "production-v1.4.2-1712345678", D1);
        let mut c = Change::new(&refs(&b), &refs(&a));
        c.history.record(
            "staging",
            "ghcr.io/acme/backend",
            past("v1.4.2", Some(D1), "abc1234def", STAGING),
        );
        assert!(c.run(check).is_empty());
    }

    #[test]
    fn an_unchanged_production_pin_is_not_judged_in_a_change() {
        let both = lab("production-v1.4.2-1712345678", D2);
        let mut b = refs(&both);
        b.push(("README.yaml", "a: 1\n"));
        assert!(Change::new(&b, &refs(&both)).run(check).is_empty());
    }

    fn tree(files: &[(&str, String)], history: &HistoryIndex) -> Vec<String> {
        crate::rules::test_support::run_tree(files, history, check_tree)
            .iter()
            .map(show)
            .collect()
    }

    #[test]
    fn tree_mode() {
        assert_eq!(
            tree(&lab("production-v1.4.2-1712345678", D2), &HistoryIndex::empty()),
            [format!(
                "PL008 error {PRODUCTION}:8:13 production pins ghcr.io/acme/backend v1.4.2 as sha256:9f86d081884c, a different build from the sha256:51ecb9ae978e staging ran"
            )]
        );
        assert!(tree(
            &lab("production-v1.4.2-1712345678", D1),
            &HistoryIndex::empty()
        )
        .is_empty());
        // Different versions are PL006's business, not this rule's.
        assert!(tree(
            &lab("production-v1.4.1-1712000000", D2),
            &HistoryIndex::empty()
        )
        .is_empty());
    }

    #[test]
    fn unprotected_environments_are_not_judged() {
        let dev = "flux/apps/backend/develop/kustomization.yaml";
        let files = vec![
            (dev, kust("develop", "develop-v1.4.2-1712200000", D2)),
            (STAGING, kust("staging", "staging-v1.4.2-1712300000", D1)),
        ];
        assert!(tree(&files, &HistoryIndex::empty()).is_empty());
    }

    fn sha_kust(ns: &str, tag: &str) -> String {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nimages:\n  - name: ghcr.io/acme/shop\n    newTag: {tag}\n"
        )
    }

    #[test]
    fn the_same_version_built_from_another_commit_is_a_rebuild() {
        let side = |staging: &str, prod: &str| {
            vec![
                (STAGING, sha_kust("staging", staging)),
                (PRODUCTION, sha_kust("production", prod)),
            ]
        };
        let b = side("v0.0.3-fa61a17", "v0.0.2-0c1d2e3");
        let a = side("v0.0.3-fa61a17", "v0.0.3-75c41cc");
        let found = Change::new(&refs(&b), &refs(&a)).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL008 error {PRODUCTION}:6:13 production pins ghcr.io/acme/shop v0.0.3 built from commit 75c41cc, a different build from the one staging ran (built from commit fa61a17)"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{STAGING}:6:13 staging runs v0.0.3 built from commit fa61a17 here"
            )]
        );
        // The staging build promoted as it is: fine.
        let a = side("v0.0.3-fa61a17", "v0.0.3-fa61a17");
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
        // A digest on one side only and commits on both: the commits decide.
        let mut a = side("v0.0.3-fa61a17", "v0.0.3-fa61a17");
        a[1].1 = kust("production", "v0.0.3-fa61a17", D1);
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
        // Timestamps are no builds: each environment's re-tag has its own time.
        let b = side("staging-v1.4.2-1712300000", "production-v1.4.1-1712000000");
        let a = side("staging-v1.4.2-1712300000", "production-v1.4.2-1712345678");
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    #[test]
    fn a_rebuild_of_a_version_staging_ran_earlier() {
        let b = vec![
            (STAGING, sha_kust("staging", "v0.0.4-1a2b3c4")),
            (PRODUCTION, sha_kust("production", "v0.0.2-0c1d2e3")),
        ];
        let mut a = b.clone();
        a[1].1 = sha_kust("production", "v0.0.3-75c41cc");
        let mut c = Change::new(&refs(&b), &refs(&a));
        let mut earlier = past("v0.0.3", None, "abc1234def", STAGING);
        earlier.build = Some("fa61a17".into());
        c.history.record("staging", "ghcr.io/acme/shop", earlier);
        let found = c.run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL008 error {PRODUCTION}:6:13 production pins ghcr.io/acme/shop v0.0.3 built from commit 75c41cc, a different build from the one staging ran (built from commit fa61a17)"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{STAGING}:1:1 staging ran v0.0.3 built from commit fa61a17 here (in commit abc1234)"
            )]
        );
    }

    #[test]
    fn page_examples_hold() {
        // The page's examples as a base and a head commit: Bad gives exactly these, Good
        // nothing.
        let (bad, good) = page_findings(ID, check);
        assert_eq!(
            bad,
            [
                "PL008 error flux/apps/backend/production/kustomization.yaml:8:13 production pins ghcr.io/acme/backend v1.4.2 as sha256:9f86d081884c, a different build from the sha256:51ecb9ae978e staging ran",
            ]
        );
        assert!(good.is_empty(), "Good example gives {good:?}");
    }
}
