//! PL004 rewritten-artifact: a published versioned artifact (or versioned directory)
//! modified, deleted or renamed; a tag that pointed to one digest now pointing to another.
use super::support::{file_span, on_file, short_digest};
use super::{Finding, Related, Revision};
use crate::change::{ChangeContext, ChangeKind, ChangedFile};
use crate::model::{Artifact, FactKind, Level, Pin, RefKind, Span};
use std::collections::BTreeMap;

pub const ID: &str = "PL004";

rule!(
    /// The rule.
    RewrittenArtifact: change
);

/// How many touched files a message names before saying "and N more".
const LISTED: usize = 3;

pub fn check(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    for a in &ctx.before.artifacts {
        rewritten(ctx, a, out);
    }
    moved_tags(ctx, out);
}

/// What the change does to a file of artifact `a`, if anything.
fn touch(a: &Artifact, f: &ChangedFile) -> Option<&'static str> {
    let inside = |p: &str| {
        if a.is_dir {
            p.strip_prefix(a.path.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        } else {
            p == a.path
        }
    };
    match f.kind {
        ChangeKind::Modified if inside(&f.path) => Some("modified"),
        ChangeKind::Deleted if inside(&f.path) => Some("deleted"),
        // A file added to a published directory changes what that version contains.
        ChangeKind::Added if a.is_dir && inside(&f.path) => Some("added"),
        ChangeKind::Renamed if f.old_path.as_deref().is_some_and(inside) => Some("renamed"),
        ChangeKind::Renamed if a.is_dir && inside(&f.path) => Some("added"),
        _ => None,
    }
}

fn rewritten(ctx: &ChangeContext, a: &Artifact, out: &mut Vec<Finding>) {
    let touched: Vec<(&ChangedFile, &str)> = ctx
        .files
        .iter()
        .filter_map(|f| Some((f, touch(a, f)?)))
        .collect();
    let Some(&(first, verb)) = touched.first() else {
        return;
    };
    let next = ctx
        .before
        .artifacts
        .iter()
        .chain(&ctx.after.artifacts)
        .filter(|b| b.series == a.series && b.is_dir == a.is_dir)
        .map(|b| b.version)
        .max()
        .unwrap_or(a.version)
        .saturating_add(1);
    let message = if a.is_dir {
        let gone = touched.iter().all(|(_, v)| *v == "deleted")
            && !ctx
                .after
                .artifacts
                .iter()
                .any(|b| b.is_dir && b.path == a.path);
        if gone {
            format!(
                "published versioned directory `{}` is deleted: old versions must stay available for rollback",
                a.path
            )
        } else {
            let mut list: Vec<String> = touched
                .iter()
                .take(LISTED)
                .map(|(f, v)| format!("`{}` {v}", relative(a, f)))
                .collect();
            if touched.len() > LISTED {
                list.push(format!("and {} more", touched.len() - LISTED));
            }
            format!(
                "published versioned directory `{}` is rewritten ({}): versioned directories are immutable, publish v{next} instead",
                a.path,
                list.join(", ")
            )
        }
    } else {
        let name = file_name(&a.path);
        match verb {
            "deleted" => format!(
                "published artifact `{name}` is deleted: old versions must stay available for rollback"
            ),
            "renamed" => format!(
                "published artifact `{name}` is renamed to `{}`: old versions must stay available under their name",
                first.path
            ),
            _ => format!(
                "published artifact `{name}` is modified: artifacts are immutable, publish v{next} instead"
            ),
        }
    };
    let mut f = on_file(
        ID,
        Level::Error,
        message,
        &first.path,
        Some(&a.series),
        format!("{} v{}", a.series, a.version),
        ctx.commit,
    );
    f.related
        .extend(touched.iter().skip(1).map(|(t, v)| Related {
            path: t.path.clone(),
            span: file_span(),
            message: format!("`{}` {v} here", relative(a, t)),
            revision: Revision::Tree,
        }));
    f.help = Some("Artifact");
    out.push(f);
}

/// A changed file's path inside a versioned directory (for a rename out of it: the old
/// path inside it).
fn relative<'a>(a: &Artifact, f: &'a ChangedFile) -> &'a str {
    let prefix = format!("{}/", a.path);
    [Some(f.path.as_str()), f.old_path.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|p| p.strip_prefix(prefix.as_str()))
        .unwrap_or(&f.path)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Where a tag was pinned with a digest: (digest, path, span of the tag).
type TagAt<'a> = (&'a str, &'a str, &'a Span);

/// A tag that the base pinned with one digest and the change pins with another: the tag
/// was moved to a different build (registries let you push over a tag; consumers that
/// trusted the tag now get other bytes).
/// The pins with a tag and a digest in `facts`.
fn tag_digests(facts: &[crate::model::Fact]) -> impl Iterator<Item = (usize, &Pin, &str)> {
    facts.iter().enumerate().filter_map(|(xi, fact)| {
        let FactKind::Pin(pin) = &fact.kind else {
            return None;
        };
        match (pin.reference.kind, &pin.reference.digest) {
            (RefKind::Tag, Some(d)) => Some((xi, pin, d.as_str())),
            _ => None,
        }
    })
}

fn moved_tags(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    // Only changed files can hold a new (tag, digest) pair: their files, in file order.
    let mut changed: Vec<usize> = (ctx.files.iter())
        .filter_map(|f| ctx.after.file_index(&f.path))
        .filter(|&fi| tag_digests(&ctx.after.files[fi].facts).next().is_some())
        .collect();
    if changed.is_empty() {
        return;
    }
    changed.sort_unstable();
    // (component, tag) → every (digest, path, span) it had at base.
    let mut seen: BTreeMap<(&str, &str), Vec<TagAt>> = BTreeMap::new();
    for f in &ctx.before.files {
        for (_, pin, d) in tag_digests(&f.facts) {
            seen.entry((&pin.component, &pin.reference.value))
                .or_default()
                .push((d, &f.path, &pin.span));
        }
    }
    if seen.is_empty() {
        return;
    }
    for fi in changed {
        let f = &ctx.after.files[fi];
        for (xi, pin, d) in tag_digests(&f.facts) {
            let tag = pin.reference.value.as_str();
            // `latest@sha256:…` is how a tag that moves by design is followed safely: its
            // digest is meant to change (PL001 judges the tag itself).
            if crate::promotion::tag_moves(tag, &ctx.config.mutable_tags) {
                continue;
            }
            let Some(prev) = seen.get(&(pin.component.as_str(), tag)) else {
                continue;
            };
            if prev.iter().any(|(pd, _, _)| *pd == d) {
                continue;
            }
            let Some(&(pd, ppath, pspan)) = prev.first() else {
                continue;
            };
            let environment = ctx.after.pins[ctx.after.pins_of_file(fi)]
                .iter()
                .find(|p| p.fact == xi)
                .map(|p| ctx.after.envs.get(p.env).name.clone());
            out.push(Finding {
                rule: ID,
                level: Level::Error,
                message: format!(
                    "`{}:{tag}` now points to {} instead of {}: a published tag must not move to another build",
                    pin.component,
                    short_digest(d),
                    short_digest(pd)
                ),
                path: f.path.clone(),
                span: pin.span.clone(),
                environment,
                component: Some(pin.component.clone()),
                commit: ctx.commit.map(str::to_string),
                related: vec![Related {
                    path: ppath.to_string(),
                    span: pspan.clone(),
                    message: format!("`{tag}` pointed to {} here before this change", short_digest(pd)),
                    revision: Revision::Base,
                }],
                value: format!("{tag}@{d}"),
                help: Some("Tag"),
                fix: Default::default(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{related, show, Change};
    use super::*;

    const V5: &str = "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz";
    const V6: &str = "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz";
    const V7: &str = "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v7.tar.gz";

    fn shown(c: &Change) -> Vec<String> {
        c.run(check).iter().map(show).collect()
    }

    #[test]
    fn modified_artifact_is_an_error_at_line_one() {
        let c = Change::new(
            &[(V5, "five"), (V6, "six")],
            &[(V5, "five"), (V6, "six, rebuilt")],
        );
        assert_eq!(
            shown(&c),
            [format!(
                "PL004 error {V6}:1:1 published artifact `ubuntu-24.04-lxc-rootfs-v6.tar.gz` is modified: artifacts are immutable, publish v7 instead"
            )]
        );
        let f = &c.run(check)[0];
        assert_eq!((f.span.end_line, f.span.end_column), (1, 1));
        assert_eq!(f.component.as_deref(), Some("ubuntu-24.04-lxc-rootfs"));
    }

    #[test]
    fn deleted_artifact_is_reported_at_its_path() {
        let c = Change::new(&[(V5, "five"), (V6, "six")], &[(V6, "six")]);
        assert_eq!(
            shown(&c),
            [format!(
                "PL004 error {V5}:1:1 published artifact `ubuntu-24.04-lxc-rootfs-v5.tar.gz` is deleted: old versions must stay available for rollback"
            )]
        );
    }

    #[test]
    fn renamed_artifact_is_reported_at_the_new_path() {
        let c =
            Change::new(&[(V5, "five"), (V6, "six")], &[(V5, "five"), (V7, "six")]).rename(V6, V7);
        assert_eq!(
            shown(&c),
            [format!(
                "PL004 error {V7}:1:1 published artifact `ubuntu-24.04-lxc-rootfs-v6.tar.gz` is renamed to `{V7}`: old versions must stay available under their name"
            )]
        );
    }

    #[test]
    fn adding_a_new_version_touches_nothing_published() {
        let c = Change::new(
            &[(V5, "five"), (V6, "six")],
            &[(V5, "five"), (V6, "six"), (V7, "seven")],
        );
        assert!(shown(&c).is_empty());
    }

    const DIR: &str = "images/packer/ubuntu-24.04/v1";

    #[test]
    fn files_under_a_versioned_directory_count() {
        let before = [
            ("images/packer/ubuntu-24.04/v1/template.json", "{}"),
            ("images/packer/ubuntu-24.04/v1/scripts/setup.sh", "echo 1"),
            ("images/packer/ubuntu-24.04/v2/template.json", "{}"),
        ];
        let after = [
            ("images/packer/ubuntu-24.04/v1/template.json", "{\"x\": 1}"),
            ("images/packer/ubuntu-24.04/v1/scripts/harden.sh", "echo 2"),
            ("images/packer/ubuntu-24.04/v2/template.json", "{}"),
        ];
        let c = Change::new(&before, &after);
        let found = c.run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL004 error {DIR}/scripts/harden.sh:1:1 published versioned directory `{DIR}` is rewritten (`scripts/harden.sh` added, `scripts/setup.sh` deleted, `template.json` modified): versioned directories are immutable, publish v3 instead"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [
                format!("{DIR}/scripts/setup.sh:1:1 `scripts/setup.sh` deleted here"),
                format!("{DIR}/template.json:1:1 `template.json` modified here"),
            ]
        );
        // A new version directory next to it is fine.
        let mut grown = before.to_vec();
        grown.push(("images/packer/ubuntu-24.04/v3/template.json", "{}"));
        assert!(shown(&Change::new(&before, &grown)).is_empty());
    }

    #[test]
    fn deleting_a_versioned_directory() {
        let before = [
            ("images/packer/ubuntu-24.04/v1/template.json", "{}"),
            ("images/packer/ubuntu-24.04/v1/setup.sh", "echo"),
            ("images/packer/ubuntu-24.04/v2/template.json", "{}"),
        ];
        let after = [("images/packer/ubuntu-24.04/v2/template.json", "{}")];
        let found = Change::new(&before, &after).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL004 error {DIR}/setup.sh:1:1 published versioned directory `{DIR}` is deleted: old versions must stay available for rollback"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{DIR}/template.json:1:1 `template.json` deleted here"
            )]
        );
    }

    #[test]
    fn renaming_a_file_out_of_a_versioned_directory() {
        let before = [("images/packer/ubuntu-24.04/v1/setup.sh", "echo")];
        let after = [("images/packer/ubuntu-24.04/setup.sh", "echo")];
        let c = Change::new(&before, &after).rename(
            "images/packer/ubuntu-24.04/v1/setup.sh",
            "images/packer/ubuntu-24.04/setup.sh",
        );
        assert_eq!(
            shown(&c),
            [format!(
                "PL004 error images/packer/ubuntu-24.04/setup.sh:1:1 published versioned directory `{DIR}` is rewritten (`setup.sh` renamed): versioned directories are immutable, publish v2 instead"
            )]
        );
    }

    const PRODUCTION: &str = "flux/apps/backend/production/kustomization.yaml";
    const D1: &str = "sha256:51ecb9ae978e92d5caa6d3c0c0772b2ad5a8a2819995f1404f7d987a9bfa4646";
    const D2: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn kust(tag: &str, digest: &str) -> String {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: production\nresources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/backend\n    newTag: {tag}\n    digest: {digest}\n"
        )
    }

    #[test]
    fn a_tag_moved_to_another_digest() {
        let (b, a) = (
            kust("production-v1.4.2-1712345678", D1),
            kust("production-v1.4.2-1712345678", D2),
        );
        let found = Change::new(&[(PRODUCTION, &b)], &[(PRODUCTION, &a)]).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL004 error {PRODUCTION}:8:13 `ghcr.io/acme/backend:production-v1.4.2-1712345678` now points to sha256:9f86d081884c instead of sha256:51ecb9ae978e: a published tag must not move to another build"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{PRODUCTION}:8:13 `production-v1.4.2-1712345678` pointed to sha256:51ecb9ae978e here before this change"
            )]
        );
        assert_eq!(found[0].environment.as_deref(), Some("production"));
    }

    #[test]
    fn a_tag_that_moves_by_design_may_get_a_new_digest() {
        // A listed mutable tag and an environment's name: their digests are meant to move.
        for tag in ["latest", "Main", "production"] {
            let (b, a) = (kust(tag, D1), kust(tag, D2));
            let change = Change::new(&[(PRODUCTION, &b)], &[(PRODUCTION, &a)]);
            assert!(shown(&change).is_empty(), "{tag}: {:?}", shown(&change));
        }
        // A tag the configuration does not list is a published tag like any other.
        let (b, a) = (kust("rolling", D1), kust("rolling", D2));
        assert_eq!(
            shown(&Change::new(&[(PRODUCTION, &b)], &[(PRODUCTION, &a)])).len(),
            1
        );
    }

    #[test]
    fn a_new_tag_with_a_new_digest_is_a_promotion_not_a_rewrite() {
        let (b, a) = (
            kust("production-v1.4.2-1712345678", D1),
            kust("production-v1.4.3-1712399999", D2),
        );
        assert!(shown(&Change::new(&[(PRODUCTION, &b)], &[(PRODUCTION, &a)])).is_empty());
        // Adding a digest to a tag that had none moves nothing.
        let plain = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: production\nimages:\n  - name: ghcr.io/acme/backend\n    newTag: production-v1.4.2-1712345678\n";
        assert!(shown(&Change::new(&[(PRODUCTION, plain)], &[(PRODUCTION, &b)])).is_empty());
    }

    #[test]
    fn page_examples_hold() {
        // The page's examples as a base and a head commit: Bad gives exactly these, Good
        // nothing.
        let (bad, good) = super::super::test_support::page_findings(ID, check);
        assert_eq!(
            bad,
            [
                "PL004 error fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz:1:1 published artifact `ubuntu-24.04-lxc-rootfs-v6.tar.gz` is modified: artifacts are immutable, publish v7 instead",
                "PL004 error flux/apps/backend/production/kustomization.yaml:8:13 `ghcr.io/acme/backend:production-v1.4.2-1712345678` now points to sha256:9f86d081884c instead of sha256:51ecb9ae978e: a published tag must not move to another build",
            ]
        );
        assert!(good.is_empty(), "Good example gives {good:?}");
    }
}
