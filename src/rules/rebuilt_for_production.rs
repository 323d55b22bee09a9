//! PL008 rebuilt-for-production: a protected environment pins, for version V, a digest
//! other than the one its predecessor ran for V (a rebuild for production is
//! disallowed; the bytes that passed staging are the bytes that ship).
use super::promotion_order::short_digest;
use super::{Finding, Related};
use crate::change::ChangeContext;
use crate::history::HistoryIndex;
use crate::model::Level;
use crate::snapshot::{EffectivePin, Snapshot};

pub const ID: &str = "PL008";

/// Change mode: protected pins whose (version, digest) is new in this change.
pub fn check(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let (before, after) = (ctx.before, ctx.after);
    for p in ctx.moved_pins() {
        let Some((v, d)) = protected_build(after, p) else {
            continue;
        };
        let component = &after.pin(p).component;
        let unchanged = before.pins_of(p.env, component).any(|q| {
            before.version(q).as_deref() == Some(v.as_str())
                && before.pin(q).reference.digest.as_deref() == Some(d)
        });
        if unchanged {
            continue;
        }
        for mut f in judge(after, Some(before), ctx.history, p, &v, d) {
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
        if let Some((v, d)) = protected_build(snap, p) {
            out.extend(judge(snap, None, history, p, &v, d));
        }
    }
}

/// (lineage version, digest) of a pin in a protected environment that has both.
fn protected_build<'a>(snap: &'a Snapshot, p: &'a EffectivePin) -> Option<(String, &'a str)> {
    if !snap.envs.get(p.env).protected {
        return None;
    }
    let d = snap.pin(p).reference.digest.as_deref()?;
    Some((snap.version(p)?, d))
}

/// One finding per predecessor that ran version `v` with digests, none of them `d`.
fn judge(
    snap: &Snapshot,
    base: Option<&Snapshot>,
    history: &HistoryIndex,
    p: &EffectivePin,
    v: &str,
    d: &str,
) -> Vec<Finding> {
    let pin = snap.pin(p);
    let env = &snap.envs.get(p.env).name;
    let mut out = Vec::new();
    for &pred in &snap.envs.get(p.env).after {
        let pred_name = &snap.envs.get(pred).name;
        // Every build the predecessor ran for `v`: now, at base, earlier in history.
        let mut ran: Vec<(String, Related)> = Vec::new();
        let mut sides = vec![(snap, "runs", "", None)];
        if let Some(b) = base {
            sides.push((b, "ran", " before this change", Some("base".to_string())));
        }
        for (side, verb, when, revision) in sides {
            for q in side.pins_of(pred, &pin.component) {
                let Some(qd) = side.pin(q).reference.digest.as_deref() else {
                    continue;
                };
                if side.version(q).as_deref() != Some(v) {
                    continue;
                }
                ran.push((
                    qd.to_string(),
                    Related {
                        path: side.path(q.file).to_string(),
                        span: side.pin(q).span.clone(),
                        message: format!(
                            "{pred_name} {verb} {v} as {} here{when}",
                            short_digest(qd)
                        ),
                        revision: revision.clone(),
                    },
                ));
            }
        }
        // The history only matters when the trees show no predecessor build of `d` (and is
        // only asked then: a walk may be needed to answer).
        let matched = ran.iter().any(|(qd, _)| qd == d);
        let past = if matched {
            None
        } else {
            history.ran(pred_name, &pin.component, v)
        };
        if let Some(past) = past {
            if let Some(qd) = &past.digest {
                let commit: String = past.commit.chars().take(7).collect();
                ran.push((
                    qd.clone(),
                    Related {
                        path: past.path.clone(),
                        span: past.span.clone(),
                        message: format!(
                            "{pred_name} ran {v} as {} here (commit {commit})",
                            short_digest(qd)
                        ),
                        revision: Some(past.commit.clone()),
                    },
                ));
            }
        }
        if ran.is_empty() || ran.iter().any(|(qd, _)| qd == d) {
            continue;
        }
        let (qd, related) = ran.swap_remove(0);
        let mut f = Finding::on_pin(
            snap,
            ID,
            p,
            format!(
                "{env} pins {} {v} as {}, a different build from the {} {pred_name} ran",
                pin.component,
                short_digest(d),
                short_digest(&qd)
            ),
        );
        f.level = Level::Error;
        f.related.push(related);
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::promotion_order::test_support::{page_findings, past, related, show, Change};
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
        crate::rules::promotion_order::test_support::run_tree(files, history, check_tree)
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
