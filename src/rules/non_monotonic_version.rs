//! PL005 non-monotonic-version: a new artifact version not above every existing one of its
//! series (a rebuild under an old name), a malformed artifact name, a gap (warning), a
//! build recipe whose version goes down; a pin going down is a rollback (a note).
use super::promotion_order::{cmp_versions, file_span, lineage_version, on_file};
use super::{Finding, Related};
use crate::change::{ChangeContext, ChangeKind};
use crate::extract::artifact::{artifact_extension, parse_artifact_name};
use crate::model::{Artifact, FactKind, Level, Pin, PinKind, RefKind};
use crate::snapshot::Snapshot;
use std::cmp::Ordering;
use std::collections::BTreeSet;

pub const ID: &str = "PL005";

pub fn check(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    new_artifacts(ctx, out);
    malformed_names(ctx, out);
    recipes(ctx, out);
    rollbacks(ctx, out);
}

/// `ubuntu-24.04-lxc-rootfs-v6.tar.gz` for a file, the directory path for a versioned
/// directory.
fn display(a: &Artifact) -> &str {
    if a.is_dir {
        &a.path
    } else {
        a.path.rsplit('/').next().unwrap_or(&a.path)
    }
}

fn same_series(a: &Artifact, b: &Artifact) -> bool {
    a.series == b.series && a.is_dir == b.is_dir
}

/// Where to report on artifact `a` of the after side: its file, or the first changed file
/// in its directory.
fn location<'a>(ctx: &'a ChangeContext, a: &'a Artifact) -> &'a str {
    if !a.is_dir {
        return &a.path;
    }
    let prefix = format!("{}/", a.path);
    ctx.files
        .iter()
        .find(|f| f.kind != ChangeKind::Deleted && f.path.starts_with(&prefix))
        .map_or(a.path.as_str(), |f| f.path.as_str())
}

/// Whether after-side artifact `a` is a published one moved by a rename (PL004 reports it).
fn moved(ctx: &ChangeContext, a: &Artifact) -> bool {
    ctx.files.iter().any(|f| {
        let lands = if a.is_dir {
            f.path.starts_with(&format!("{}/", a.path))
        } else {
            f.path == a.path
        };
        let Some(old) = f.old_path.as_deref().filter(|_| lands) else {
            return false;
        };
        ctx.before.artifacts.iter().any(|b| {
            same_series(a, b)
                && b.version == a.version
                && (old == b.path || old.starts_with(&format!("{}/", b.path)))
        })
    })
}

fn new_artifacts(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let (before, after) = (&ctx.before.artifacts, &ctx.after.artifacts);
    for a in after {
        if before
            .iter()
            .any(|b| b.path == a.path && b.is_dir == a.is_dir)
            || moved(ctx, a)
        {
            continue;
        }
        let existing: Vec<&Artifact> = before.iter().filter(|b| same_series(a, b)).collect();
        let Some(max) = existing.iter().max_by_key(|b| b.version) else {
            continue; // a new series may start anywhere
        };
        let next = after
            .iter()
            .filter(|b| same_series(a, b))
            .map(|b| b.version)
            .chain([max.version])
            .max()
            .unwrap_or(max.version)
            .saturating_add(1);
        if a.version <= max.version {
            let twin = existing.iter().find(|b| b.version == a.version);
            let why = match twin {
                Some(_) => format!("v{} of {} already exists", a.version, a.series),
                None => format!(
                    "it is not above v{}, the highest existing version of {}",
                    max.version, a.series
                ),
            };
            let shown = twin.unwrap_or(max);
            let mut f = on_file(
                ID,
                Level::Error,
                format!(
                    "new artifact `{}` is a rebuild under an old name: {why}; publish v{next}",
                    display(a)
                ),
                location(ctx, a),
                Some(&a.series),
                format!("{} v{}", a.series, a.version),
                ctx.commit,
            );
            f.related.push(Related {
                path: shown.path.clone(),
                span: file_span(),
                message: format!("v{} exists here", shown.version),
                revision: None,
            });
            out.push(f);
            continue;
        }
        // A gap: nothing (published or new in this change) right below it.
        let present: BTreeSet<u64> = before
            .iter()
            .chain(after)
            .filter(|b| same_series(a, b))
            .map(|b| b.version)
            .collect();
        let below = present
            .range(..a.version)
            .next_back()
            .copied()
            .unwrap_or(max.version);
        if a.version > below.saturating_add(1) {
            let skipped = if a.version - below == 2 {
                format!("v{}", below + 1)
            } else {
                format!("v{} to v{}", below + 1, a.version - 1)
            };
            let mut f = on_file(
                ID,
                Level::Warning,
                format!(
                    "new artifact `{}` skips {skipped}: the next version of {} after v{below} is v{}",
                    display(a),
                    a.series,
                    below + 1
                ),
                location(ctx, a),
                Some(&a.series),
                format!("{} v{}", a.series, a.version),
                ctx.commit,
            );
            if let Some(b) = present_path(ctx, a, below) {
                f.related.push(Related {
                    path: b.to_string(),
                    span: file_span(),
                    message: format!("v{below} is here"),
                    revision: None,
                });
            }
            out.push(f);
        }
    }
}

/// The path of version `v` of `a`'s series, on either side.
fn present_path<'a>(ctx: &'a ChangeContext, a: &Artifact, v: u64) -> Option<&'a str> {
    ctx.after
        .artifacts
        .iter()
        .chain(&ctx.before.artifacts)
        .find(|b| same_series(a, b) && b.version == v)
        .map(|b| b.path.as_str())
}

/// A new file named like an artifact of a known series but without `-v<N>`
/// (`ubuntu-24.04-lxc-rootfs-latest.tar.gz`): seed 000 rejects it at upload.
fn malformed_names(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    for f in ctx.files {
        if !matches!(f.kind, ChangeKind::Added | ChangeKind::Renamed) {
            continue;
        }
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        let Some(ext) = artifact_extension(name) else {
            continue;
        };
        if parse_artifact_name(name).is_some()
            || ctx.after.artifacts.iter().any(|a| a.path == f.path)
        {
            continue;
        }
        let stem = &name[..name.len() - ext.len()];
        // The longest known series the name starts with.
        let series = ctx
            .before
            .artifacts
            .iter()
            .filter(|a| !a.is_dir)
            .map(|a| a.series.as_str())
            .filter(|s| stem == *s || stem.strip_prefix(s).is_some_and(|r| r.starts_with('-')))
            .max_by_key(|s| s.len());
        let Some(series) = series else {
            continue;
        };
        out.push(on_file(
            ID,
            Level::Error,
            format!(
                "artifact `{name}` is not named `{series}-v<N>{ext}`: versions of {series} are monotonic numbers"
            ),
            &f.path,
            Some(series),
            name.to_string(),
            ctx.commit,
        ));
    }
}

/// Build recipe pins (`image_version`, `artifact_basename`) of a file.
fn recipe_pins<'a>(snap: &'a Snapshot, path: &str) -> Vec<&'a Pin> {
    snap.files
        .iter()
        .filter(|f| f.path == path)
        .flat_map(|f| &f.facts)
        .filter_map(|fact| match &fact.kind {
            FactKind::Pin(p)
                if p.kind == PinKind::BuildRecipe && p.reference.kind == RefKind::Tag =>
            {
                Some(p)
            }
            _ => None,
        })
        .collect()
}

/// A Packer recipe's version going down: the next build would produce a name that is
/// already published.
fn recipes(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    for f in ctx.files {
        let old = match f.kind {
            ChangeKind::Modified => f.path.as_str(),
            ChangeKind::Renamed => f.old_path.as_deref().unwrap_or(&f.path),
            ChangeKind::Added | ChangeKind::Deleted => continue,
        };
        let before = recipe_pins(ctx.before, old);
        if before.is_empty() {
            continue;
        }
        for pin in recipe_pins(ctx.after, &f.path) {
            let Some(prev) = before
                .iter()
                .find(|b| b.context == pin.context && b.component == pin.component)
            else {
                continue;
            };
            let (from, to) = (&prev.reference.value, &pin.reference.value);
            if cmp_versions(to, from) != Some(Ordering::Less) {
                continue;
            }
            let mut finding = on_file(
                ID,
                Level::Error,
                format!(
                    "build recipe {} goes down from {from} to {to}: the next build would reuse a published, immutable name",
                    pin.context
                ),
                &f.path,
                Some(&pin.component),
                to.to_string(),
                ctx.commit,
            );
            finding.span = pin.span.clone();
            out.push(finding);
        }
    }
}

/// A pin going down in an environment: a rollback, which is a normal operation (seed 000
/// §5); a note so that reviewers see it.
fn rollbacks(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let (before, after) = (ctx.before, ctx.after);
    for p in ctx.moved_pins() {
        let Some(v) = lineage_version(after, p, &ctx.config.mutable_tags) else {
            continue;
        };
        let pin = after.pin(p);
        let prev: Vec<_> = before
            .pins_of(p.env, &pin.component)
            .filter_map(|q| Some((q, before.version(q)?)))
            .collect();
        if prev.iter().any(|(_, pv)| *pv == v) {
            continue;
        }
        // The pin it replaces: the same file (or where it was renamed from), else the one
        // version the environment ran.
        let path = after.path(p.file);
        let old_path = ctx
            .files
            .iter()
            .find(|f| f.path == path)
            .and_then(|f| f.old_path.as_deref())
            .unwrap_or(path);
        let in_file = prev.iter().find(|(q, _)| before.path(q.file) == old_path);
        let versions: BTreeSet<&str> = prev.iter().map(|(_, pv)| pv.as_str()).collect();
        let from = match (in_file, prev.first()) {
            (Some(x), _) => x,
            (None, Some(x)) if versions.len() == 1 => x,
            _ => continue,
        };
        if cmp_versions(&v, &from.1) != Some(Ordering::Less) {
            continue;
        }
        let env = &after.envs.get(p.env).name;
        let mut f = Finding::on_pin(
            after,
            ID,
            p,
            format!("rollback of {env} {} from {} to {v}", pin.component, from.1),
        );
        f.level = Level::Note;
        f.commit = ctx.commit.map(str::to_string);
        f.related.push(Related {
            path: before.path(from.0.file).to_string(),
            span: before.pin(from.0).span.clone(),
            message: format!("{env} ran {} here before this change", from.1),
            revision: Some("base".to_string()),
        });
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::promotion_order::test_support::{page_findings, related, show, Change};
    use super::*;

    const DIR: &str = "fabric-core/packer/lxc/ubuntu-24.04";

    fn art(v: &str) -> String {
        format!("{DIR}/ubuntu-24.04-lxc-rootfs-{v}.tar.gz")
    }

    fn shown(c: &Change) -> Vec<String> {
        c.run(check).iter().map(show).collect()
    }

    #[test]
    fn rebuild_under_an_old_name_is_an_error() {
        let (v4, v5, v6) = (art("v4"), art("v5"), art("v6"));
        // v4 was cleaned up long ago; rebuilding it now reuses an old name.
        let c = Change::new(
            &[(&v5, "5"), (&v6, "6")],
            &[(&v4, "4"), (&v5, "5"), (&v6, "6")],
        );
        let found = c.run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL005 error {v4}:1:1 new artifact `ubuntu-24.04-lxc-rootfs-v4.tar.gz` is a rebuild under an old name: it is not above v6, the highest existing version of ubuntu-24.04-lxc-rootfs; publish v7"
            )]
        );
        assert_eq!(related(&found[0]), [format!("{v6}:1:1 v6 exists here")]);
    }

    #[test]
    fn same_version_in_another_place_already_exists() {
        let (v5, v6) = (art("v5"), art("v6"));
        let copy = "fabric-core/packer/lxc/ubuntu-24.04-lxc-rootfs-v5.tar.gz";
        let c = Change::new(
            &[(&v5, "5"), (&v6, "6")],
            &[(&v5, "5"), (&v6, "6"), (copy, "5b")],
        );
        assert_eq!(
            shown(&c),
            [format!(
                "PL005 error {copy}:1:1 new artifact `ubuntu-24.04-lxc-rootfs-v5.tar.gz` is a rebuild under an old name: v5 of ubuntu-24.04-lxc-rootfs already exists; publish v7"
            )]
        );
    }

    #[test]
    fn next_version_is_fine_and_a_gap_is_a_warning() {
        let (v5, v6, v7, v8, v9) = (art("v5"), art("v6"), art("v7"), art("v8"), art("v9"));
        let base = [(v5.as_str(), "5"), (v6.as_str(), "6")];
        let mut next = base.to_vec();
        next.push((&v7, "7"));
        assert!(shown(&Change::new(&base, &next)).is_empty());
        let mut gap = base.to_vec();
        gap.push((&v9, "9"));
        let found = Change::new(&base, &gap).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL005 warning {v9}:1:1 new artifact `ubuntu-24.04-lxc-rootfs-v9.tar.gz` skips v7 to v8: the next version of ubuntu-24.04-lxc-rootfs after v6 is v7"
            )]
        );
        assert_eq!(related(&found[0]), [format!("{v6}:1:1 v6 is here")]);
        // Two consecutive new versions in one change leave no gap.
        let mut two = next.clone();
        two.push((&v8, "8"));
        assert!(shown(&Change::new(&base, &two)).is_empty());
    }

    #[test]
    fn a_new_series_starts_anywhere() {
        let v6 = art("v6");
        let deb = format!("{DIR}/debian-12-lxc-rootfs-v3.tar.gz");
        let c = Change::new(&[(&v6, "6")], &[(&v6, "6"), (&deb, "3")]);
        assert!(shown(&c).is_empty());
    }

    #[test]
    fn a_renamed_artifact_is_left_to_pl004() {
        let (v5, v6) = (art("v5"), art("v6"));
        let moved = "fabric-core/packer/archive/ubuntu-24.04-lxc-rootfs-v5.tar.gz";
        let c =
            Change::new(&[(&v5, "5"), (&v6, "6")], &[(moved, "5"), (&v6, "6")]).rename(&v5, moved);
        assert!(shown(&c).is_empty());
    }

    #[test]
    fn versioned_directories_are_monotonic_too() {
        let before = [
            ("images/packer/ubuntu-24.04/v1/template.json", "{}"),
            ("images/packer/ubuntu-24.04/v2/template.json", "{}"),
        ];
        let mut after = before.to_vec();
        after.push(("images/packer/ubuntu-24.04/v4/template.json", "{}"));
        assert_eq!(
            shown(&Change::new(&before, &after)),
            ["PL005 warning images/packer/ubuntu-24.04/v4/template.json:1:1 new artifact `images/packer/ubuntu-24.04/v4` skips v3: the next version of ubuntu-24.04 after v2 is v3"]
        );
    }

    #[test]
    fn malformed_artifact_name() {
        let v6 = art("v6");
        let bad = format!("{DIR}/ubuntu-24.04-lxc-rootfs-latest.tar.gz");
        let c = Change::new(&[(&v6, "6")], &[(&v6, "6"), (&bad, "x")]);
        assert_eq!(
            shown(&c),
            [format!(
                "PL005 error {bad}:1:1 artifact `ubuntu-24.04-lxc-rootfs-latest.tar.gz` is not named `ubuntu-24.04-lxc-rootfs-v<N>.tar.gz`: versions of ubuntu-24.04-lxc-rootfs are monotonic numbers"
            )]
        );
        // An archive of an unrelated name is none of this rule's business.
        let other = format!("{DIR}/cloud-init-seed.tar.gz");
        assert!(shown(&Change::new(&[(&v6, "6")], &[(&v6, "6"), (&other, "x")])).is_empty());
    }

    const PKRVARS: &str = "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04.pkrvars.hcl";
    const PKR: &str = "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04.pkr.hcl";

    #[test]
    fn build_recipe_version_going_down() {
        let c = Change::new(
            &[(PKRVARS, "# next build\nimage_version = \"v6\"\n")],
            &[(PKRVARS, "# next build\nimage_version = \"v5\"\n")],
        );
        assert_eq!(
            shown(&c),
            [format!(
                "PL005 error {PKRVARS}:2:18 build recipe image_version goes down from v6 to v5: the next build would reuse a published, immutable name"
            )]
        );
        let up = Change::new(
            &[(PKRVARS, "image_version = \"v6\"\n")],
            &[(PKRVARS, "image_version = \"v7\"\n")],
        );
        assert!(shown(&up).is_empty());
    }

    #[test]
    fn build_recipe_artifact_basename_going_down() {
        let recipe = |v: &str| {
            format!("locals {{\n  artifact_basename = \"ubuntu-24.04-lxc-rootfs-{v}\"\n}}\n")
        };
        let (b, a) = (recipe("v6"), recipe("v5"));
        assert_eq!(
            shown(&Change::new(&[(PKR, &b)], &[(PKR, &a)])),
            [format!(
                "PL005 error {PKR}:2:48 build recipe locals.artifact_basename goes down from v6 to v5: the next build would reuse a published, immutable name"
            )]
        );
    }

    const DEV: &str = "fabric-core/terraform/envs/samakia-dev/main.tf";
    const PROD: &str = "fabric-core/terraform/envs/samakia-prod/main.tf";

    fn tf(v: &str) -> String {
        format!("locals {{\n  lxc_rootfs_version = \"{v}\"\n}}\n")
    }

    #[test]
    fn a_pin_going_down_is_a_rollback_note() {
        let (d, p6, p5) = (tf("v6"), tf("v6"), tf("v5"));
        let found = Change::new(&[(DEV, &d), (PROD, &p6)], &[(DEV, &d), (PROD, &p5)]).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL005 note {PROD}:2:25 rollback of prod lxc_rootfs_version from v6 to v5"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!("{PROD}:2:25 prod ran v6 here before this change")]
        );
        // Going up is a promotion: nothing here.
        assert!(shown(&Change::new(
            &[(DEV, &d), (PROD, &p5)],
            &[(DEV, &d), (PROD, &p6)]
        ))
        .is_empty());
    }

    #[test]
    fn rollback_across_a_renamed_file() {
        let moved = "fabric-core/terraform/envs/samakia-prod/versions.tf";
        let (p6, p5) = (tf("v6"), tf("v5"));
        let c = Change::new(&[(PROD, &p6)], &[(moved, &p5)]).rename(PROD, moved);
        assert_eq!(
            shown(&c),
            [format!(
                "PL005 note {moved}:2:25 rollback of prod lxc_rootfs_version from v6 to v5"
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
                "PL005 error fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v4.tar.gz:1:1 new artifact `ubuntu-24.04-lxc-rootfs-v4.tar.gz` is a rebuild under an old name: it is not above v6, the highest existing version of ubuntu-24.04-lxc-rootfs; publish v7",
                "PL005 error fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04.pkrvars.hcl:2:18 build recipe image_version goes down from v6 to v4: the next build would reuse a published, immutable name",
            ]
        );
        assert!(good.is_empty(), "Good example gives {good:?}");
    }
}
