//! PL006 promotion-order: a version pinned in an environment that the environments before
//! it did not run first.
use super::{env_level, Finding, Related, Revision};
use crate::change::ChangeContext;
use crate::history::HistoryIndex;
use crate::promotion::{
    cmp_versions, has_version, lineage_version, managing_groups, passed_through, shown_version,
    unrun_predecessors,
};
use crate::snapshot::{EffectivePin, Snapshot};
use std::cmp::Ordering;

pub const ID: &str = "PL006";

rule!(
    /// The rule.
    PromotionOrder: change, history_tree
);

/// Change mode: pins new in this change whose environment's predecessors did not run the
/// version first (before the change, for a protected environment).
pub fn check(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let (before, after) = (ctx.before, ctx.after);
    for p in ctx.moved_pins() {
        let Some(v) = lineage_version(after, p, &ctx.config.mutable_tags) else {
            continue;
        };
        let component = after.pin(p).component.as_str();
        // Only what this change moves: the environment already ran it at base.
        if has_version(before, p.env, component, &v) {
            continue;
        }
        let env = after.envs.get(p.env);
        // A predecessor that only ever pinned mutable tags (`latest`) gives no lineage to
        // judge: PL001 reports it instead.
        let versioned = |s: &Snapshot, pred: usize| {
            s.pins_of(pred, component)
                .any(|q| lineage_version(s, q, &ctx.config.mutable_tags).is_some())
        };
        let pred_before = |pred: usize| {
            versioned(before, pred) || ctx.history.knows(&after.envs.get(pred).name, component)
        };
        let groups = managing_groups(after, p.env, |pred| {
            pred_before(pred) || versioned(after, pred)
        });
        // A component new to the environment and to a predecessor (a first commit, a new
        // application) is introduced there, not promoted.
        let env_before = before.pins_of(p.env, component).next().is_some()
            || ctx.history.knows(&env.name, component);
        // One finding per pin, naming every predecessor group that lacks the version.
        let mut lacking: Vec<(Vec<usize>, bool)> = Vec::new();
        for group in groups {
            if !env_before && !group.iter().any(|&m| pred_before(m)) {
                continue;
            }
            let ran = group.iter().any(|&pred| {
                // At base or earlier: also what makes a rollback to an old version fine.
                has_version(before, pred, component, &v)
                    || ctx.history.has_run(&after.envs.get(pred).name, component, &v)
                    || passed_through(before, ctx.history, pred, component, &v)
                    // Unprotected environments (a Renovate PR for dev and integration) may
                    // advance together in one change.
                    || (!env.protected
                        && (has_version(after, pred, component, &v)
                            || passed_through(after, ctx.history, pred, component, &v)))
            });
            if ran {
                continue;
            }
            let same_change = group
                .iter()
                .any(|&pred| has_version(after, pred, component, &v));
            lacking.push((group, same_change));
        }
        if !lacking.is_empty() {
            let mut f = not_run(after, p, &lacking, &v);
            f.commit = ctx.commit.map(str::to_string);
            out.push(f);
        }
    }
}

/// Tree mode (`promolint check`): a pin whose predecessors neither pin that version now nor
/// ever did in the history.
pub fn check_tree(
    snap: &Snapshot,
    config: &crate::config::Config,
    history: &HistoryIndex,
    out: &mut Vec<Finding>,
) {
    for p in &snap.pins {
        let lacking: Vec<(Vec<usize>, bool)> =
            unrun_predecessors(snap, history, p, &config.mutable_tags)
                .into_iter()
                .map(|group| (group, false))
                .collect();
        if lacking.is_empty() {
            continue;
        }
        if let Some(v) = lineage_version(snap, p, &config.mutable_tags) {
            out.push(not_run(snap, p, &lacking, &v));
        }
    }
}

/// `prod pins lxc_rootfs_version to v6, which dev has not run (dev runs v5)`: one finding
/// for the pin, with a clause for each predecessor that lacks the version (`true`: it moves
/// to it in the same change, which a protected environment may not follow) and their
/// current pins as related locations.
fn not_run(snap: &Snapshot, p: &EffectivePin, lacking: &[(Vec<usize>, bool)], v: &str) -> Finding {
    let pin = snap.pin(p);
    let env = snap.envs.get(p.env);
    let mut clauses = Vec::new();
    let mut related = Vec::new();
    // The newest version a lacking predecessor runs: what a protected environment ahead
    // of it can roll back to.
    let mut fallback: Option<String> = None;
    // Where the version must run first: each lacking group, any member of it.
    let mut through: Vec<String> = Vec::new();
    for (group, same_change) in lacking {
        let names: Vec<&str> = group
            .iter()
            .map(|&m| snap.envs.get(m).name.as_str())
            .collect();
        // A tier with several members: any of them would have done.
        let subject = match names.as_slice() {
            [one] => one.to_string(),
            many => format!("none of {}", many.join(", ")),
        };
        let verb = if names.len() == 1 {
            "has not run"
        } else {
            "has run"
        };
        let mut runs_all: Vec<String> = Vec::new();
        let mut details: Vec<String> = Vec::new();
        for &pred in group {
            let pred_name = &snap.envs.get(pred).name;
            let mut runs: Vec<String> = snap
                .pins_of(pred, &pin.component)
                .filter_map(|q| snap.version(q))
                .collect();
            runs.sort_by(|a, b| cmp_versions(b, a).unwrap_or_else(|| a.cmp(b)));
            runs.dedup();
            if *same_change {
                if has_version(snap, pred, &pin.component, v) {
                    details.push(format!("{pred_name} moves to {v} in the same change"));
                    related.extend(pred_pins(snap, pred, &pin.component, |pv| {
                        format!("{pred_name} moves to {pv} here")
                    }));
                }
                continue;
            }
            if !runs.is_empty() {
                details.push(format!("{pred_name} runs {}", runs.join(", ")));
                runs_all.extend(runs);
            }
            related.extend(pred_pins(snap, pred, &pin.component, |pv| {
                format!("{pred_name} runs {pv} here")
            }));
        }
        let when = if *same_change {
            " before this change"
        } else {
            ""
        };
        clauses.push(if details.is_empty() {
            format!("{subject} {verb}{when}")
        } else {
            format!("{subject} {verb}{when} ({})", details.join("; "))
        });
        runs_all.sort_by(|a, b| cmp_versions(b, a).unwrap_or_else(|| a.cmp(b)));
        if let Some(newest) = runs_all.first().filter(|_| fallback.is_none()) {
            fallback = Some(newest.clone());
        }
        through.push(names.join(" or "));
    }
    let mut message = format!(
        "{} pins {} to {}, which {}",
        env.name,
        pin.component,
        shown_version(&pin.reference.value, v),
        clauses.join("; "),
    );
    // A protected environment ahead of its predecessor: say where to go.
    if let Some(w) =
        fallback.filter(|w| env.protected && cmp_versions(w, v) == Some(Ordering::Less))
    {
        message.push_str(&format!(
            ": promote {v} through {} first, or roll {} back to {w}",
            through.join(" and "),
            env.name
        ));
    }
    let mut f = Finding::on_pin(snap, ID, p, message);
    f.level = env_level(snap, p.env);
    f.related.extend(related);
    f
}

/// The predecessor's pins of `component`, as related locations.
fn pred_pins(
    snap: &Snapshot,
    pred: usize,
    component: &str,
    message: impl Fn(&str) -> String,
) -> Vec<Related> {
    snap.pins_of(pred, component)
        .filter_map(|q| {
            let pv = snap.version(q)?;
            Some(Related {
                path: snap.path(q.file).to_string(),
                span: snap.pin(q).span.clone(),
                message: message(&pv),
                revision: Revision::Tree,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{related, show, Change};
    use super::*;
    use crate::rules::support::short_digest;

    const DEV: &str = "fabric-core/terraform/envs/kestrel-dev/main.tf";
    const PROD: &str = "fabric-core/terraform/envs/kestrel-prod/main.tf";

    fn tf(v: &str) -> String {
        format!("locals {{\n  env = \"x\"\n  lxc_rootfs_version = \"{v}\"\n}}\n")
    }

    fn kestrel(dev: &str, prod: &str) -> Vec<(&'static str, String)> {
        vec![(DEV, tf(dev)), (PROD, tf(prod))]
    }

    fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(p, t)| (*p, t.as_str())).collect()
    }

    #[test]
    fn prod_bumped_before_dev_is_an_error_pointing_at_dev() {
        let (b, a) = (kestrel("v5", "v5"), kestrel("v5", "v6"));
        let found = Change::new(&refs(&b), &refs(&a)).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL006 error {PROD}:3:25 prod pins lxc_rootfs_version to v6, which dev has not run (dev runs v5): promote v6 through dev first, or roll prod back to v5"
            )]
        );
        assert_eq!(related(&found[0]), [format!("{DEV}:3:25 dev runs v5 here")]);
        assert_eq!(found[0].environment.as_deref(), Some("prod"));
        assert_eq!(found[0].component.as_deref(), Some("lxc_rootfs_version"));
    }

    #[test]
    fn prod_after_dev_ran_it_is_fine() {
        let (b, a) = (kestrel("v6", "v5"), kestrel("v6", "v6"));
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    #[test]
    fn protected_environment_moving_with_its_predecessor_in_one_change() {
        let (b, a) = (kestrel("v5", "v5"), kestrel("v6", "v6"));
        let found = Change::new(&refs(&b), &refs(&a)).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL006 error {PROD}:3:25 prod pins lxc_rootfs_version to v6, which dev has not run before this change (dev moves to v6 in the same change)"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!("{DEV}:3:25 dev moves to v6 here")]
        );
    }

    #[test]
    fn predecessor_ran_it_earlier_in_history() {
        // dev went v6 → v7 in an earlier commit; prod now takes v6.
        let (b, a) = (kestrel("v7", "v5"), kestrel("v7", "v6"));
        let change = Change::new(&refs(&b), &refs(&a)).ran("dev", "lxc_rootfs_version", "v6", DEV);
        assert!(change.run(check).is_empty());
    }

    #[test]
    fn rollback_to_a_version_the_predecessor_once_ran_is_fine() {
        // A rollback: prod back from v6 to v5; dev ran v5 before moving on.
        let (b, a) = (kestrel("v6", "v6"), kestrel("v6", "v5"));
        let change = Change::new(&refs(&b), &refs(&a))
            .ran("dev", "lxc_rootfs_version", "v5", DEV)
            .ran("dev", "lxc_rootfs_version", "v6", DEV);
        assert!(change.run(check).is_empty());
    }

    #[test]
    fn rollback_to_a_version_the_predecessor_never_ran_is_an_error() {
        let (b, a) = (kestrel("v6", "v6"), kestrel("v6", "v4"));
        let change = Change::new(&refs(&b), &refs(&a))
            .ran("dev", "lxc_rootfs_version", "v5", DEV)
            .ran("dev", "lxc_rootfs_version", "v6", DEV);
        assert_eq!(
            change.run(check).iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL006 error {PROD}:3:25 prod pins lxc_rootfs_version to v4, which dev has not run (dev runs v6)"
            )]
        );
    }

    #[test]
    fn unchanged_pins_are_not_judged_in_a_change() {
        // prod was already ahead at base: not this change's doing.
        let mut b = kestrel("v5", "v6");
        b.push((
            "fabric-core/terraform/envs/kestrel-prod/vars.tf",
            "# x\n".into(),
        ));
        let a = kestrel("v5", "v6");
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    #[test]
    fn predecessor_that_does_not_manage_the_component_is_skipped() {
        let b = vec![(DEV, tf("v5")), (PROD, tf("v5"))];
        let prod_only = "locals {\n  debian_rootfs_version = \"12.7\"\n}\n";
        let prod_new = "locals {\n  debian_rootfs_version = \"12.8\"\n}\n";
        let mut before = refs(&b);
        before.push(("fabric-core/terraform/envs/kestrel-prod/dns.tf", prod_only));
        let mut after = refs(&b);
        after.push(("fabric-core/terraform/envs/kestrel-prod/dns.tf", prod_new));
        assert!(Change::new(&before, &after).run(check).is_empty());
        // … unless the history says dev managed it once.
        let found = Change::new(&before, &after)
            .ran("dev", "debian_rootfs_version", "12.7", DEV)
            .run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            ["PL006 error fabric-core/terraform/envs/kestrel-prod/dns.tf:2:28 prod pins debian_rootfs_version to 12.8, which dev has not run"]
        );
        assert!(found[0].related.is_empty());
    }

    const HL_DEV: &str = "kubernetes/clusters/dev/helm-charts.yaml";
    const HL_INT: &str = "kubernetes/clusters/integration/helm-charts.yaml";
    const HL_LIVE: &str = "kubernetes/clusters/live/helm-charts.yaml";

    fn charts(cert_manager: &str) -> String {
        format!(
            "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: helm-charts\n  namespace: flux-system\nspec:\n  inputs:\n    - name: cert-manager\n      chart:\n        name: cert-manager\n        version: \"{cert_manager}\"\n"
        )
    }

    fn homelab(dev: &str, int: &str, live: &str) -> Vec<(&'static str, String)> {
        vec![
            (HL_DEV, charts(dev)),
            (HL_INT, charts(int)),
            (HL_LIVE, charts(live)),
        ]
    }

    #[test]
    fn renovate_moves_dev_and_integration_together() {
        // One Renovate PR updates dev + integration; neither is protected.
        let b = homelab("v1.19.1", "v1.19.1", "v1.19.1");
        let a = homelab("v1.19.2", "v1.19.2", "v1.19.1");
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    #[test]
    fn live_moving_in_the_renovate_change_is_an_error() {
        let b = homelab("v1.19.1", "v1.19.1", "v1.19.1");
        let a = homelab("v1.19.2", "v1.19.2", "v1.19.2");
        let found = Change::new(&refs(&b), &refs(&a)).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL006 error {HL_LIVE}:11:19 live pins cert-manager to v1.19.2, which integration has not run before this change (integration moves to v1.19.2 in the same change)"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!("{HL_INT}:11:19 integration moves to v1.19.2 here")]
        );
    }

    #[test]
    fn unprotected_environment_ahead_of_its_predecessor_is_a_warning() {
        let b = homelab("v1.19.1", "v1.19.1", "v1.19.1");
        let a = homelab("v1.19.1", "v1.19.2", "v1.19.1");
        assert_eq!(
            Change::new(&refs(&b), &refs(&a)).run(check).iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL006 warning {HL_INT}:11:19 integration pins cert-manager to v1.19.2, which dev has not run (dev runs v1.19.1)"
            )]
        );
    }

    #[test]
    fn skipping_a_stage_is_the_same_finding() {
        // dev ran v1.19.2 long ago, integration never did: live may not skip it.
        let b = homelab("v1.19.2", "v1.19.1", "v1.19.1");
        let a = homelab("v1.19.2", "v1.19.1", "v1.19.2");
        let found = Change::new(&refs(&b), &refs(&a)).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL006 error {HL_LIVE}:11:19 live pins cert-manager to v1.19.2, which integration has not run (integration runs v1.19.1): promote v1.19.2 through integration first, or roll live back to v1.19.1"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!("{HL_INT}:11:19 integration runs v1.19.1 here")]
        );
    }

    #[test]
    fn each_direct_predecessor_of_a_dag_is_asked() {
        // dev → staging-eu, staging-us → prod: staging-us never ran v6.
        let envs: &[(&str, &str, bool, &[&str])] = &[
            ("dev", "envs/dev/**", false, &[]),
            ("staging-eu", "envs/staging-eu/**", false, &["dev"]),
            ("staging-us", "envs/staging-us/**", false, &["dev"]),
            ("prod", "envs/prod/**", true, &["staging-eu", "staging-us"]),
        ];
        let at = |dev: &str, eu: &str, us: &str, prod: &str| {
            vec![
                ("envs/dev/main.tf", tf(dev)),
                ("envs/staging-eu/main.tf", tf(eu)),
                ("envs/staging-us/main.tf", tf(us)),
                ("envs/prod/main.tf", tf(prod)),
            ]
        };
        let (b, a) = (at("v6", "v6", "v5", "v5"), at("v6", "v6", "v5", "v6"));
        let found = Change::new(&refs(&b), &refs(&a)).envs(envs).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            ["PL006 error envs/prod/main.tf:3:25 prod pins lxc_rootfs_version to v6, which staging-us has not run (staging-us runs v5): promote v6 through staging-us first, or roll prod back to v5"]
        );
        assert_eq!(
            related(&found[0]),
            ["envs/staging-us/main.tf:3:25 staging-us runs v5 here"]
        );
        let (b, a) = (at("v6", "v6", "v6", "v5"), at("v6", "v6", "v6", "v6"));
        assert!(Change::new(&refs(&b), &refs(&a))
            .envs(envs)
            .run(check)
            .is_empty());
    }

    const STAGING: &str = "flux/apps/backend/staging/kustomization.yaml";
    const PRODUCTION: &str = "flux/apps/backend/production/kustomization.yaml";

    fn kust(ns: &str, tag: &str) -> String {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/backend\n    newTag: {tag}\n"
        )
    }

    #[test]
    fn flux_lineage_compares_versions_without_prefix_and_timestamp() {
        let b = vec![
            (STAGING, kust("staging", "staging-v1.4.3-1712400000")),
            (
                PRODUCTION,
                kust("production", "production-v1.4.2-1712345678"),
            ),
        ];
        let good = vec![
            (STAGING, kust("staging", "staging-v1.4.3-1712400000")),
            (
                PRODUCTION,
                kust("production", "production-v1.4.3-1712499999"),
            ),
        ];
        assert!(Change::new(&refs(&b), &refs(&good)).run(check).is_empty());
        let bad = vec![
            (STAGING, kust("staging", "staging-v1.4.3-1712400000")),
            (
                PRODUCTION,
                kust("production", "production-v1.4.4-1712499999"),
            ),
        ];
        assert_eq!(
            Change::new(&refs(&b), &refs(&bad)).run(check).iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL006 error {PRODUCTION}:8:13 production pins ghcr.io/acme/backend to v1.4.4 (production-v1.4.4-1712499999), which staging has not run (staging runs v1.4.3): promote v1.4.4 through staging first, or roll production back to v1.4.3"
            )]
        );
    }

    fn oci(cluster: &str, tag: &str) -> (String, String) {
        (
            format!("kubernetes/clusters/{cluster}/platform.yaml"),
            format!(
                "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata:\n  name: platform\n  namespace: flux-system\nspec:\n  url: oci://ghcr.io/homelab-org/homelab/platform\n  ref:\n    tag: {tag}\n"
            ),
        )
    }

    #[test]
    fn oci_artifact_lineage_drops_the_promotion_word() {
        // OCI promotion: integration-<sha> is validated, then live runs validated-<sha>.
        let base = [
            oci("integration", "integration-def5678"),
            oci("live", "validated-abc1234"),
        ];
        let good = [
            oci("integration", "integration-def5678"),
            oci("live", "validated-def5678"),
        ];
        let bad = [
            oci("integration", "integration-def5678"),
            oci("live", "validated-0123abc"),
        ];
        fn r(v: &[(String, String)]) -> Vec<(&str, &str)> {
            v.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect()
        }
        assert!(Change::new(&r(&base), &r(&good)).run(check).is_empty());
        assert_eq!(
            Change::new(&r(&base), &r(&bad)).run(check).iter().map(show).collect::<Vec<_>>(),
            ["PL006 error kubernetes/clusters/live/platform.yaml:9:10 live pins ghcr.io/homelab-org/homelab/platform to 0123abc (validated-0123abc), which integration has not run (integration runs def5678)"]
        );
    }

    #[test]
    fn mutable_tags_are_left_to_pl001() {
        let (b, a) = (kestrel("v5", "v5"), kestrel("v5", "latest"));
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    fn tree(files: &[(&str, String)], history: &HistoryIndex) -> Vec<String> {
        super::super::test_support::run_tree(files, history, check_tree)
            .iter()
            .map(show)
            .collect()
    }

    fn related_of_tree(files: &[(&str, String)], history: &HistoryIndex) -> Vec<String> {
        super::super::test_support::run_tree(files, history, check_tree)
            .iter()
            .flat_map(related)
            .collect()
    }

    #[test]
    fn tree_mode_asks_the_history() {
        // prod ahead of dev: reported whatever the history.
        assert_eq!(
            tree(&kestrel("v5", "v6"), &HistoryIndex::empty()),
            [format!(
                "PL006 error {PROD}:3:25 prod pins lxc_rootfs_version to v6, which dev has not run (dev runs v5): promote v6 through dev first, or roll prod back to v5"
            )]
        );
        // prod behind dev lags: no finding, whether or not the history shows dev running
        // prod's version (a plain directory and a repository agree).
        let files = kestrel("v7", "v6");
        let mut h = HistoryIndex::empty();
        h.record(
            "dev",
            "lxc_rootfs_version",
            super::super::test_support::past("v5", None, "abc1234", DEV),
        );
        h.record(
            "dev",
            "lxc_rootfs_version",
            super::super::test_support::past("v7", None, "abc1234", DEV),
        );
        assert!(tree(&files, &h).is_empty());
        assert!(tree(&files, &HistoryIndex::empty()).is_empty());
        // In step: nothing to say.
        assert!(tree(&kestrel("v6", "v6"), &HistoryIndex::empty()).is_empty());
        // An unprotected environment ahead of its predecessor: a warning. live lagging
        // behind integration passed through v1 on the way up.
        let warning = [format!(
            "PL006 warning {HL_INT}:11:19 integration pins cert-manager to v2, which dev has not run (dev runs v1)"
        )];
        assert_eq!(
            tree(&homelab("v1", "v2", "v1"), &HistoryIndex::empty()),
            warning
        );
        let mut h = HistoryIndex::empty();
        h.record(
            "integration",
            "cert-manager",
            super::super::test_support::past("v2", None, "abc1234", HL_INT),
        );
        h.record(
            "dev",
            "cert-manager",
            super::super::test_support::past("v1", None, "abc1234", HL_DEV),
        );
        // With a history whose one commit is the import: integration's v2 came with it, and
        // live's v1, lagging, is still no finding.
        assert!(tree(&homelab("v1", "v2", "v1"), &h).is_empty());
    }

    /// Zero config: `staging-eu`, `staging-asia` are members of tier staging, `prod-eu`,
    /// `prod-asia` of tier prod. A version must have run in any staging member first; prod
    /// members are not each other's predecessors.
    #[test]
    fn any_member_of_the_tier_before_will_do() {
        let at = |eu: &str, asia: &str, prod_eu: &str, prod_asia: &str| {
            vec![
                ("envs/staging-eu/main.tf", tf(eu)),
                ("envs/staging-asia/main.tf", tf(asia)),
                ("envs/prod-eu/main.tf", tf(prod_eu)),
                ("envs/prod-asia/main.tf", tf(prod_asia)),
            ]
        };
        // prod-asia takes v6, which only staging-eu ran: fine.
        let (b, a) = (at("v6", "v5", "v5", "v5"), at("v6", "v5", "v5", "v6"));
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
        assert!(tree(&a, &HistoryIndex::empty()).is_empty());
        // prod-eu follows prod-asia to v7, which no staging member ran.
        let (b, a) = (at("v6", "v6", "v6", "v7"), at("v6", "v6", "v7", "v7"));
        let want = ["PL006 error envs/prod-eu/main.tf:3:25 prod-eu pins lxc_rootfs_version to v7, which none of staging-asia, staging-eu has run (staging-asia runs v6; staging-eu runs v6): promote v7 through staging-asia or staging-eu first, or roll prod-eu back to v6"];
        assert_eq!(
            Change::new(&refs(&b), &refs(&a))
                .run(check)
                .iter()
                .map(show)
                .collect::<Vec<_>>(),
            want
        );
        // The tree reports both prod members ahead, the same way.
        let found = tree(&a, &HistoryIndex::empty());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0], want[0]);
        assert_eq!(
            related_of_tree(&a, &HistoryIndex::empty())[..2],
            [
                "envs/staging-asia/main.tf:3:25 staging-asia runs v6 here",
                "envs/staging-eu/main.tf:3:25 staging-eu runs v6 here"
            ]
        );
    }

    /// A predecessor that does not manage the component passes the question up the chain:
    /// a version that skipped qa is caught although integration never pinned it.
    #[test]
    fn the_chain_is_walked_past_predecessors_that_do_not_manage_the_component() {
        let qa = "envs/qa/main.tf";
        let int = "envs/integration/other.tf";
        let prod = "envs/prod/main.tf";
        let other = "locals {\n  other_version = \"v1\"\n}\n".to_string();
        let at = |q: &str, p: &str| vec![(qa, tf(q)), (int, other.clone()), (prod, tf(p))];
        let (b, a) = (at("v5", "v5"), at("v5", "v6"));
        assert_eq!(
            Change::new(&refs(&b), &refs(&a)).run(check).iter().map(show).collect::<Vec<_>>(),
            ["PL006 error envs/prod/main.tf:3:25 prod pins lxc_rootfs_version to v6, which qa has not run (qa runs v5): promote v6 through qa first, or roll prod back to v5"]
        );
        assert_eq!(tree(&a, &HistoryIndex::empty()).len(), 1);
        let (b, a) = (at("v6", "v5"), at("v6", "v6"));
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
        assert!(tree(&a, &HistoryIndex::empty()).is_empty());
    }

    #[test]
    fn without_history_a_lower_version_passed_through() {
        // A plain directory: prod rolls back to v5 while dev runs v6.
        let (b, a) = (kestrel("v6", "v6"), kestrel("v6", "v5"));
        assert!(Change::new(&refs(&b), &refs(&a)).run(check).is_empty());
    }

    #[test]
    fn versions_compare_by_numbers() {
        assert_eq!(cmp_versions("v1.10.0", "v1.9.9"), Some(Ordering::Greater));
        assert_eq!(cmp_versions("v1.2", "1.2.0"), Some(Ordering::Equal));
        assert_eq!(cmp_versions("v5", "v6"), Some(Ordering::Less));
        assert_eq!(cmp_versions("abc1234", "v6"), None);
        assert_eq!(
            short_digest("sha256:51ecb9ae978e92d5caa6"),
            "sha256:51ecb9ae978e"
        );
        assert_eq!(short_digest("abc"), "abc");
    }

    #[test]
    fn page_examples_hold() {
        // The page's examples as a base and a head commit: Bad gives exactly these, Good
        // nothing.
        let (bad, good) = super::super::test_support::page_findings(ID, check);
        assert_eq!(
            bad,
            [
                "PL006 error fabric-core/terraform/envs/kestrel-prod/main.tf:2:25 prod pins lxc_rootfs_version to v6, which dev has not run (dev runs v5): promote v6 through dev first, or roll prod back to v5",
            ]
        );
        assert!(good.is_empty(), "Good example gives {good:?}");
    }
}
