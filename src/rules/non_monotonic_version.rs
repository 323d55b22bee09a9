//! PL005 non-monotonic-version: a new artifact version not above every existing one of its
//! series (a rebuild under an old name), a malformed artifact name, a gap (warning), a
//! build recipe whose version goes down; a pin going down is a rollback (a note).
use super::support::{file_span, on_file};
use super::{Finding, Related, Revision};
use crate::change::{ChangeContext, ChangeKind};
use crate::extract::artifact::{artifact_extension, parse_artifact_name};
use crate::model::{Artifact, FactKind, Level, Pin, PinKind, RefKind};
use crate::promotion::{cmp_versions, lineage_version};
use crate::snapshot::{EffectivePin, Snapshot};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub const ID: &str = "PL005";

rule!(
    /// The rule.
    NonMonotonicVersion: change
);

pub fn check(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    // Artifacts are named by paths: without a path added (or renamed to), there is no new
    // artifact and no new name to judge.
    let new_paths = ctx
        .files
        .iter()
        .any(|f| matches!(f.kind, ChangeKind::Added | ChangeKind::Renamed));
    if new_paths {
        new_artifacts(ctx, out);
        malformed_names(ctx, out);
    }
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

/// A series: its name, and whether its versions are directories.
type SeriesKey<'a> = (&'a str, bool);

fn series_key(a: &Artifact) -> SeriesKey<'_> {
    (a.series.as_str(), a.is_dir)
}

/// The artifacts of both sides indexed by series and version, so that each new artifact
/// is judged in constant time: comparing every new artifact with every existing one took
/// 26 s for 24,000 new artifacts.
struct Index<'a> {
    /// Paths of the base's artifacts (with `is_dir`).
    before_paths: HashSet<(&'a str, bool)>,
    /// Per series of the base: the highest version (the last one listed, if several).
    before_max: HashMap<SeriesKey<'a>, &'a Artifact>,
    /// (series, version) → the base's artifacts with it, in listing order.
    before_versions: HashMap<(SeriesKey<'a>, u64), Vec<&'a Artifact>>,
    /// Per series: the highest version on the after side.
    after_max: HashMap<SeriesKey<'a>, u64>,
    /// Per series: every version on either side.
    present: HashMap<SeriesKey<'a>, BTreeSet<u64>>,
    /// (series, version) → the first path holding it, after side first.
    present_path: HashMap<(SeriesKey<'a>, u64), &'a str>,
    /// Renamed files after the change → where they were, by path.
    renames: BTreeMap<&'a str, &'a str>,
}

impl<'a> Index<'a> {
    fn new(ctx: &ChangeContext<'a>) -> Self {
        let (before, after) = (&ctx.before.artifacts, &ctx.after.artifacts);
        let mut ix = Index {
            before_paths: HashSet::new(),
            before_max: HashMap::new(),
            before_versions: HashMap::new(),
            after_max: HashMap::new(),
            present: HashMap::new(),
            present_path: HashMap::new(),
            renames: ctx
                .files
                .iter()
                .filter_map(|f| Some((f.path.as_str(), f.old_path.as_deref()?)))
                .collect(),
        };
        for b in before {
            let key = series_key(b);
            ix.before_paths.insert((b.path.as_str(), b.is_dir));
            // `max_by_key` keeps the last of equal maxima; so does this.
            let max = ix.before_max.entry(key).or_insert(b);
            if b.version >= max.version {
                *max = b;
            }
            ix.before_versions
                .entry((key, b.version))
                .or_default()
                .push(b);
        }
        for a in after {
            let max = ix.after_max.entry(series_key(a)).or_insert(a.version);
            *max = (*max).max(a.version);
        }
        for x in after.iter().chain(before) {
            let key = series_key(x);
            ix.present.entry(key).or_default().insert(x.version);
            ix.present_path
                .entry((key, x.version))
                .or_insert(x.path.as_str());
        }
        ix
    }

    /// Whether after-side artifact `a` is a published one moved by a rename (PL004
    /// reports it).
    fn moved(&self, a: &Artifact) -> bool {
        let published = |old: &str| {
            self.before_versions
                .get(&(series_key(a), a.version))
                .into_iter()
                .flatten()
                .any(|b| old == b.path || crate::model::paths::is_inside(old, &b.path))
        };
        if !a.is_dir {
            return self
                .renames
                .get(a.path.as_str())
                .is_some_and(|old| published(old));
        }
        let prefix = format!("{}/", a.path);
        self.renames
            .range(prefix.as_str()..)
            .take_while(|(path, _)| path.starts_with(&prefix))
            .any(|(_, old)| published(old))
    }
}

/// Where to report on artifact `a` of the after side: its file, or the first changed file
/// in its directory.
fn location<'a>(ctx: &ChangeContext<'a>, a: &'a Artifact) -> &'a str {
    if !a.is_dir {
        return &a.path;
    }
    ctx.changed_under(&a.path)
        .next()
        .map_or(a.path.as_str(), |f| f.path.as_str())
}

fn new_artifacts(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let ix = Index::new(ctx);
    for a in &ctx.after.artifacts {
        let key = series_key(a);
        if ix.before_paths.contains(&(a.path.as_str(), a.is_dir)) || ix.moved(a) {
            continue;
        }
        let Some(max) = ix.before_max.get(&key).copied() else {
            continue; // a new series may start anywhere
        };
        let next = ix
            .after_max
            .get(&key)
            .copied()
            .unwrap_or(max.version)
            .max(max.version)
            .saturating_add(1);
        if a.version <= max.version {
            let twin = ix
                .before_versions
                .get(&(key, a.version))
                .and_then(|v| v.first().copied());
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
                revision: Revision::Tree,
            });
            f.help = Some("Rebuild");
            out.push(f);
            continue;
        }
        // A gap: nothing (published or new in this change) right below it.
        let below = ix
            .present
            .get(&key)
            .and_then(|present| present.range(..a.version).next_back().copied())
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
            if let Some(b) = ix.present_path.get(&(key, below)) {
                f.related.push(Related {
                    path: b.to_string(),
                    span: file_span(),
                    message: format!("v{below} is here"),
                    revision: Revision::Tree,
                });
            }
            f.help = Some("Gap");
            out.push(f);
        }
    }
}

/// A new file named like an artifact of a known series but without `-v<N>`
/// (`ubuntu-24.04-lxc-rootfs-latest.tar.gz`): an upload of it is refused.
fn malformed_names(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let after_paths: HashSet<&str> = ctx
        .after
        .artifacts
        .iter()
        .map(|a| a.path.as_str())
        .collect();
    let series: HashSet<&str> = ctx
        .before
        .artifacts
        .iter()
        .filter(|a| !a.is_dir)
        .map(|a| a.series.as_str())
        .collect();
    for f in ctx.files {
        if !matches!(f.kind, ChangeKind::Added | ChangeKind::Renamed) {
            continue;
        }
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        let Some(ext) = artifact_extension(name) else {
            continue;
        };
        if parse_artifact_name(name).is_some() || after_paths.contains(f.path.as_str()) {
            continue;
        }
        let stem = &name[..name.len() - ext.len()];
        // The longest known series the name starts with: the stem itself, or the stem cut
        // before one of its dashes.
        let cuts = stem.match_indices('-').map(|(i, _)| i).rev();
        let Some(series) = std::iter::once(stem.len())
            .chain(cuts)
            .map(|i| &stem[..i])
            .find(|s| series.contains(s))
        else {
            continue;
        };
        let mut finding = on_file(
            ID,
            Level::Error,
            format!(
                "artifact `{name}` is not named `{series}-v<N>{ext}`: versions of {series} are monotonic numbers"
            ),
            &f.path,
            Some(series),
            name.to_string(),
            ctx.commit,
        );
        finding.help = Some("Naming");
        out.push(finding);
    }
}

/// Build recipe pins (`image_version`, `artifact_basename`) of a file.
fn recipe_pins<'a>(snap: &'a Snapshot, path: &str) -> Vec<&'a Pin> {
    snap.file(path)
        .into_iter()
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
            finding.help = Some("Recipe");
            out.push(finding);
        }
    }
}

/// A pin going down in an environment: a rollback, which is a normal operation; a note
/// so that reviewers see it.
fn rollbacks(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let (before, after) = (ctx.before, ctx.after);
    // What each (environment, component) ran before, asked once: a group moves as a
    // whole, and a base image or chart can be pinned hundreds of times in one environment.
    let mut ran: HashMap<(usize, &str), Vec<(&EffectivePin, String)>> = HashMap::new();
    for p in ctx.moved_pins() {
        let Some(v) = lineage_version(after, p, &ctx.config.mutable_tags) else {
            continue;
        };
        let pin = after.pin(p);
        let prev = ran
            .entry((p.env, pin.component.as_str()))
            .or_insert_with(|| {
                (before.pins_of(p.env, &pin.component))
                    .filter_map(|q| Some((q, before.version(q)?)))
                    .collect()
            });
        if prev.iter().any(|(_, pv)| *pv == v) {
            continue;
        }
        // The pin it replaces: the same file (or where it was renamed from), else the one
        // version the environment ran.
        let path = after.path(p.file);
        let old_path = ctx
            .changed_file(path)
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
            revision: Revision::Base,
        });
        f.help = Some("Rollback");
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{page_findings, related, show, Change};
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

    const DEV: &str = "fabric-core/terraform/envs/kestrel-dev/main.tf";
    const PROD: &str = "fabric-core/terraform/envs/kestrel-prod/main.tf";

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
    fn pre_releases_order_by_semver_precedence() {
        let d = tf("v1.3.0");
        let down = |from: &str, to: &str| {
            let (b, a) = (tf(from), tf(to));
            shown(&Change::new(
                &[(DEV, &d), (PROD, &b)],
                &[(DEV, &d), (PROD, &a)],
            ))
        };
        // A release candidate is below its release: going back to it is a rollback.
        assert_eq!(
            down("v1.2.3", "v1.2.3-rc.1"),
            [format!(
                "PL005 note {PROD}:2:25 rollback of prod lxc_rootfs_version from v1.2.3 to v1.2.3-rc.1"
            )]
        );
        // rc.10 is above rc.2, beta above alpha, the release above both: no rollback.
        assert!(down("v1.2.3-rc.2", "v1.2.3-rc.10").is_empty());
        assert!(down("v1.2.3-alpha", "v1.2.3-beta").is_empty());
        assert!(down("v1.2.3-rc.10", "v1.2.3").is_empty());
        assert_eq!(down("v1.2.3-rc.10", "v1.2.3-rc.2").len(), 1);
    }

    #[test]
    fn rollback_across_a_renamed_file() {
        let moved = "fabric-core/terraform/envs/kestrel-prod/versions.tf";
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
