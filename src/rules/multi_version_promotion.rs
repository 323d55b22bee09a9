//! PL007 multi-version-promotion: a change that moves more than `max_versions_per_change`
//! component versions into protected environments, or mixes a promotion with other edits
//! to the protected files it touches.
use super::{Finding, Related, Revision};
use crate::change::{ChangeContext, ChangeKind};
use crate::model::{FactKind, Level, LineIndex, RefKind, Span};
use crate::snapshot::{EffectivePin, Snapshot};
use std::collections::BTreeSet;

pub const ID: &str = "PL007";

rule!(
    /// The rule.
    MultiVersionPromotion: change
);

/// What a pin promotes: its lineage version, or the exact value for ranges, branches,
/// commits and digest-only references (a change of those moves the environment too).
fn value_of(snap: &Snapshot, p: &EffectivePin) -> Option<String> {
    let r = &snap.pin(p).reference;
    match r.kind {
        RefKind::Tag => snap.version(p),
        RefKind::Absent => r.digest.clone(),
        RefKind::Range | RefKind::Branch | RefKind::Commit => Some(r.value.clone()),
    }
}

/// A pin that moves a protected environment to a value it did not pin at base.
struct Promotion<'a> {
    p: &'a EffectivePin,
    component: &'a str,
    value: String,
}

fn promotions<'a>(ctx: &'a ChangeContext) -> Vec<Promotion<'a>> {
    let (before, after) = (ctx.before, ctx.after);
    // A new environment directory is the environment's creation, not its promotion.
    let existing: BTreeSet<usize> = before.pins.iter().map(|p| p.env).collect();
    let mut out: Vec<Promotion> = ctx
        .moved_pins()
        .filter(|p| after.envs.get(p.env).protected && existing.contains(&p.env))
        .filter_map(|p| {
            let component = after.pin(p).component.as_str();
            let value = value_of(after, p)?;
            // Compared by environment, not file: keys moved between files with their
            // values unchanged promote nothing.
            let known = before
                .pins_of(p.env, component)
                .any(|q| value_of(before, q).as_deref() == Some(value.as_str()));
            (!known).then_some(Promotion {
                p,
                component,
                value,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |x: &Promotion| {
            let span = &after.pin(x.p).span;
            (after.path(x.p.file), span.line, span.column, x.p.env)
        };
        key(a).cmp(&key(b))
    });
    out
}

/// A component's name with the spelling of its file format removed: `FLUX_VERSION`,
/// `versions.flux` and `flux_version` are all `flux`.
fn same_component(component: &str) -> String {
    let c = component.to_ascii_lowercase().replace('-', "_");
    let c = c.strip_prefix("versions.").unwrap_or(&c);
    let c = c
        .strip_suffix("_version")
        .or_else(|| c.strip_suffix(".version"))
        .unwrap_or(c);
    c.to_string()
}

pub fn check(ctx: &ChangeContext, out: &mut Vec<Finding>) {
    let promoted = promotions(ctx);
    let Some(first) = promoted.first() else {
        return;
    };
    let after = ctx.after;
    let groups = ctx.config.promotion.release_version_groups;
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut seen: Vec<(String, &str)> = Vec::new();
    let mut envs: Vec<&str> = Vec::new();
    // Where each counted promotion is written: a `${VAR}` pin and the value it takes from
    // an env file are one value written once.
    let mut written: Vec<(usize, usize, usize)> = Vec::new();
    let mut shown: Vec<&Promotion> = Vec::new();
    for x in &promoted {
        let span = &after.pin(x.p).span;
        let at = (x.p.file, span.start, span.end);
        if written.contains(&at) {
            continue;
        }
        written.push(at);
        shown.push(x);
        // `FLUX_VERSION` in `.versions.env` and `versions.flux` in the HCL it is generated
        // from are one component: one version moved in two files is one promotion. With
        // release groups, components moved to one version string are one release.
        let component = if groups {
            String::new()
        } else {
            same_component(x.component)
        };
        let key = (component, x.value.as_str());
        if !seen.contains(&key) {
            seen.push(key);
            pairs.push((x.component, &x.value));
        }
        let env = after.envs.get(x.p.env).name.as_str();
        if !envs.contains(&env) {
            envs.push(env);
        }
    }
    let split = split_versions(ctx, &promoted);
    let mut files: Vec<usize> = promoted.iter().map(|x| x.p.file).collect();
    files.sort_unstable();
    files.dedup();
    let values = promoted_values(ctx);
    let mixed: Vec<(usize, Span)> = files
        .iter()
        .filter_map(|&fi| Some((fi, other_edit(ctx, fi, &values)?)))
        .collect();
    let max = ctx.config.promotion.max_versions_per_change;
    if pairs.len() <= max && mixed.is_empty() && split.is_empty() {
        return;
    }

    let list = listing(&pairs, &shown, groups);
    let envs = envs.join(", ");
    let mut message = if pairs.len() > max {
        let noun = if pairs.len() == 1 {
            "version"
        } else {
            "versions"
        };
        format!(
            "this change promotes {} {noun} into {envs} (at most {max} per change): {list}",
            pairs.len()
        )
    } else {
        format!("this change promotes {list} into {envs}")
    };
    // One clause per environment and version: `it also moves a and b to v5 in dev`.
    let mut clauses: Vec<(usize, &str, Vec<&str>)> = Vec::new();
    for (q, component, v) in &split {
        match clauses.iter_mut().find(|(e, w, _)| *e == q.env && w == v) {
            Some((_, _, list)) => list.push(component),
            None => clauses.push((q.env, v.as_str(), vec![component])),
        }
    }
    for (env, v, components) in clauses {
        message.push_str(&format!(
            "; it also moves {} to {v} in {}",
            and_list(&components),
            after.envs.get(env).name
        ));
    }
    if !mixed.is_empty() {
        let paths: Vec<&str> = mixed.iter().map(|(fi, _)| after.path(*fi)).collect();
        message.push_str(&format!(
            "; it also edits {} outside pin values",
            paths.join(", ")
        ));
    }
    let mut f = Finding::on_pin(after, ID, first.p, message);
    f.level = Level::Error;
    f.help = Some(if pairs.len() > max {
        "Versions"
    } else if !split.is_empty() {
        "Two versions"
    } else {
        "Other edits"
    });
    f.commit = ctx.commit.map(str::to_string);
    f.value = list;
    for x in shown.iter().skip(1) {
        f.related.push(Related {
            path: after.path(x.p.file).to_string(),
            span: after.pin(x.p).span.clone(),
            message: format!(
                "also promotes {} {} into {} here",
                x.component,
                x.value,
                after.envs.get(x.p.env).name
            ),
            revision: Revision::Tree,
        });
    }
    for (q, component, v) in &split {
        f.related.push(Related {
            path: after.path(q.file).to_string(),
            span: after.pin(q).span.clone(),
            message: format!(
                "moves {component} to {v} in {} here",
                after.envs.get(q.env).name
            ),
            revision: Revision::Tree,
        });
    }
    for (fi, span) in mixed {
        f.related.push(Related {
            path: after.path(fi).to_string(),
            span,
            message: "other edit here".to_string(),
            revision: Revision::Tree,
        });
    }
    out.push(f);
}

/// `a v6, b 12.8`; with release groups, the components that share a version are named
/// together: `v2.5.0 for a and b, c v2.4.1`.
fn listing(pairs: &[(&str, &str)], shown: &[&Promotion], groups: bool) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(c, v)| {
            let mut members: Vec<&str> = Vec::new();
            if groups {
                for x in shown.iter().filter(|x| x.value == *v) {
                    if !members.contains(&x.component) {
                        members.push(x.component);
                    }
                }
            }
            if members.len() > 1 {
                format!("{v} for {}", and_list(&members))
            } else {
                format!("{c} {v}")
            }
        })
        .collect();
    items.join(", ")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Moves in environments that are not protected of a component this change promotes
/// into a protected one, forward to another version (dev to v5 while prod goes to v4):
/// one change, two versions of one component.
fn split_versions<'a>(
    ctx: &'a ChangeContext,
    promoted: &[Promotion<'a>],
) -> Vec<(&'a EffectivePin, &'a str, String)> {
    let (before, after) = (ctx.before, ctx.after);
    let existing: BTreeSet<usize> = before.pins.iter().map(|p| p.env).collect();
    let mut out: Vec<(&EffectivePin, &str, String)> = Vec::new();
    for q in ctx.moved_pins() {
        if after.envs.get(q.env).protected || !existing.contains(&q.env) {
            continue;
        }
        let component = after.pin(q).component.as_str();
        let Some(v) = value_of(after, q) else {
            continue;
        };
        let promotes_it = promoted
            .iter()
            .any(|x| same_component(x.component) == same_component(component) && x.value != v);
        // Forward only: a rollback elsewhere (a diff against a base that moved on) is
        // PL005's note, not a second version this change ships.
        let ahead = before.pins_of(q.env, component).all(|b| {
            value_of(before, b).is_some_and(|w| {
                w != v && crate::version::compare(&v, &w) != Some(std::cmp::Ordering::Less)
            })
        });
        if promotes_it && ahead && !out.iter().any(|(_, c, w)| *c == component && *w == v) {
            out.push((q, component, v));
        }
    }
    out
}

/// The values a change moves, as written and as versions, before and after it. A value
/// elsewhere in a promoted file equal to one of them (an `APP_VERSION` variable that
/// mirrors the image tag) moves with the promotion and is no other edit. Both sides are
/// masked with all of them, so that an old version left as it was stays equal.
fn promoted_values(ctx: &ChangeContext) -> Vec<String> {
    let (before, after) = (ctx.before, ctx.after);
    let mut old = Vec::new();
    let mut new = Vec::new();
    let add = |list: &mut Vec<String>, snap: &Snapshot, p: &EffectivePin| {
        let written = snap.pin(p).reference.value.clone();
        for v in [Some(written), snap.version(p)].into_iter().flatten() {
            let bare = v.strip_prefix('v').unwrap_or(&v).to_string();
            for s in [v, bare] {
                // Short values (`v6`, `2`) would mask unrelated numbers: pins are masked
                // by their spans anyway.
                let distinctive = s.len() >= 4 && s.bytes().any(|b| b.is_ascii_digit());
                if distinctive && !list.contains(&s) {
                    list.push(s);
                }
            }
        }
    };
    for p in ctx.moved_pins() {
        add(&mut new, after, p);
        let component = &after.pin(p).component;
        for q in before.pins_of(p.env, component) {
            add(&mut old, before, q);
        }
    }
    for v in new {
        if !old.contains(&v) {
            old.push(v);
        }
    }
    // Longest first: where one value contains another, the whole of it is masked.
    old.sort_by_key(|v| std::cmp::Reverse(v.len()));
    old
}

/// The first line of after-side file `fi` that differs from its base outside pin values,
/// digests and the values the change moves, if any. Comments, blank lines, trailing
/// whitespace and the order of lines are not edits a reviewer weighs. New files have no
/// base to differ from.
fn other_edit(ctx: &ChangeContext, fi: usize, values: &[String]) -> Option<Span> {
    let after_file = ctx.after.files.get(fi)?;
    let changed = ctx.changed_file(&after_file.path)?;
    let old_path = match changed.kind {
        ChangeKind::Modified => changed.path.as_str(),
        ChangeKind::Renamed => changed.old_path.as_deref()?,
        ChangeKind::Added | ChangeKind::Deleted => return None,
    };
    let before_file = ctx.before.file(old_path)?;
    let (before_text, after_text) = (before_file.text.as_deref()?, after_file.text.as_deref()?);
    let before_masked = mask(
        before_text,
        &pin_spans(&before_file.facts, before_text, values),
    );
    let after_masked = mask(
        after_text,
        &pin_spans(&after_file.facts, after_text, values),
    );
    if before_masked == after_masked {
        return None;
    }
    let slash_comments = is_hcl(&after_file.path);
    let (b, a): (Vec<&str>, Vec<&str>) = (
        before_masked.split('\n').collect(),
        after_masked.split('\n').collect(),
    );
    // Compared as a multiset of meaningful lines: a reordered key is the same line.
    let mut left: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in &b {
        if let Some(n) = meaningful(line, slash_comments) {
            *left.entry(n).or_default() += 1;
        }
    }
    let mut unmatched = None;
    for (i, line) in a.iter().enumerate() {
        let Some(n) = meaningful(line, slash_comments) else {
            continue;
        };
        match left.get_mut(&n) {
            Some(c) if *c > 0 => *c -= 1,
            _ => {
                unmatched.get_or_insert(i);
            }
        }
    }
    let line = match unmatched {
        Some(i) => i,
        // Only deletions: where the two first differ.
        None if left.values().any(|c| *c > 0) => {
            b.iter().zip(&a).take_while(|(x, y)| x == y).count()
        }
        None => return None,
    };
    // Masking keeps line breaks, so line numbers are the after file's own.
    let lines = LineIndex::new(after_text);
    let line = line.min(lines.line_count().saturating_sub(1));
    let line_start = lines.line_start(line as u32 + 1)?;
    let end = after_text[line_start..]
        .find('\n')
        .map_or(after_text.len(), |i| line_start + i);
    // From the first character that is not indentation.
    let indent = after_text[line_start..end].len() - after_text[line_start..end].trim_start().len();
    let start = (line_start + indent).min(end);
    Some(lines.span(after_text, start..end))
}

fn is_hcl(path: &str) -> bool {
    [".tf", ".hcl", ".tfvars"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// A line as a reviewer weighs it: without its comment and trailing whitespace, `None`
/// when nothing is left. `#` starts a comment at the start of a line or after
/// whitespace, outside quotes (YAML, HCL, env files); so does `//` in HCL.
fn meaningful(line: &str, slash_comments: bool) -> Option<String> {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut end = bytes.len();
    for (i, &c) in bytes.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => {
                let after_space = i == 0 || bytes[i - 1].is_ascii_whitespace();
                if c == b'"' || c == b'\'' {
                    quote = Some(c);
                } else if after_space
                    && (c == b'#' || (slash_comments && line[i..].starts_with("//")))
                {
                    end = i;
                    break;
                }
            }
        }
    }
    let kept = line[..end].trim_end();
    (!kept.trim_start().is_empty()).then(|| kept.to_string())
}

/// Spans of the values a promotion may change: pins, and the versions Kustomize patches
/// write (a patch that sets only a chart version holds no pin of its own). An inline
/// patch whose values could not be located in the file (each spans the whole patch) masks
/// nothing, so that its other edits still show.
fn pin_spans(facts: &[crate::model::Fact], text: &str, values: &[String]) -> Vec<(usize, usize)> {
    use crate::model::{FieldValue, PatchBody};
    let located = |values: &[FieldValue], whole: Option<&Span>| -> Vec<(usize, usize)> {
        values
            .iter()
            .filter(|v| Some(&v.span) != whole)
            .map(|v| (v.span.start, v.span.end))
            .collect()
    };
    let mut out = Vec::new();
    for f in facts {
        match &f.kind {
            FactKind::Pin(p) => out.push((p.span.start, p.span.end)),
            FactKind::Object(o) => out.extend(located(&o.values, None)),
            FactKind::JsonPatch(j) => out.extend(located(&j.ops, None)),
            FactKind::Kustomization(k) => {
                for patch in &k.patches {
                    for body in &patch.inline {
                        let values = match body {
                            PatchBody::Merge(o) => &o.values,
                            PatchBody::Json(j) => &j.ops,
                        };
                        out.extend(located(values, Some(&patch.span)));
                    }
                }
            }
            _ => {}
        }
    }
    out.extend(value_spans(text, values));
    out
}

/// Where `values` occur in `text` as whole tokens (not inside a longer version or word).
fn value_spans(text: &str, values: &[String]) -> Vec<(usize, usize)> {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || "._-+".contains(c));
    let mut out = Vec::new();
    for v in values {
        for (at, _) in text.match_indices(v.as_str()) {
            let end = at + v.len();
            if !part(text[..at].chars().next_back()) && !part(text[end..].chars().next()) {
                out.push((at, end));
            }
        }
    }
    out
}

/// `text` with every pin value and every `sha256:…` digest replaced by a marker (line
/// breaks inside them kept), so that what remains is everything a promotion must not touch.
fn mask(text: &str, spans: &[(usize, usize)]) -> String {
    let mut ranges: Vec<(usize, usize)> = spans
        .iter()
        .copied()
        .filter(|(s, e)| s <= e && *e <= text.len())
        .collect();
    let mut at = 0;
    while let Some(i) = text[at..].find("sha256:") {
        let start = at + i;
        let hex = text[start + 7..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        ranges.push((start, start + 7 + hex));
        at = start + 7;
    }
    // The widest range first where two start together: the other lies inside it.
    ranges.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e) in ranges {
        if s < pos || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        out.push_str(&text[pos..s]);
        out.push('\u{1}');
        out.extend(text[s..e].chars().filter(|c| *c == '\n'));
        pos = e;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_version_under_two_spellings_is_one_component() {
        assert_eq!(super::same_component("FLUX_VERSION"), "flux");
        assert_eq!(super::same_component("versions.flux"), "flux");
        assert_eq!(
            super::same_component("ghcr.io/acme/backend"),
            "ghcr.io/acme/backend"
        );
    }

    use super::super::test_support::{page_findings, related, show, Change};
    use super::*;

    const DEV: &str = "fabric-core/terraform/envs/kestrel-dev/main.tf";
    const PROD: &str = "fabric-core/terraform/envs/kestrel-prod/main.tf";

    fn tf(rootfs: &str, debian: &str, cores: u32) -> String {
        format!(
            "locals {{\n  lxc_rootfs_version    = \"{rootfs}\"\n  debian_rootfs_version = \"{debian}\"\n}}\n\nresource \"proxmox_lxc\" \"app\" {{\n  cores = {cores}\n}}\n"
        )
    }

    fn shown(c: &Change) -> Vec<String> {
        c.run(check).iter().map(show).collect()
    }

    #[test]
    fn one_version_in_an_env_file_and_its_hcl_source_is_one_promotion() {
        const ENV: &str = "kubernetes/clusters/live/.versions.env";
        const HCL: &str = "infrastructure/live/env.hcl";
        let hcl = |v: &str| format!("locals {{\n  versions = {{\n    flux = \"{v}\"\n  }}\n}}\n");
        let env = |v: &str| format!("FLUX_VERSION={v}\n");
        let (e0, e1, h0, h1) = (env("v2.4.0"), env("v2.5.0"), hcl("v2.4.0"), hcl("v2.5.0"));
        assert!(shown(&Change::new(
            &[(ENV, &e0), (HCL, &h0)],
            &[(ENV, &e1), (HCL, &h1)]
        ))
        .is_empty());
    }

    #[test]
    fn a_patched_chart_version_is_a_pin_value_not_another_edit() {
        const BASE: &str = "apps/base/podinfo/release.yaml";
        const KUST: &str = "apps/base/podinfo/kustomization.yaml";
        const OVERLAY: &str = "apps/production/kustomization.yaml";
        const PATCH: &str = "apps/production/podinfo-values.yaml";
        let base = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    spec:\n      chart: podinfo\n      version: \">=1.0.0\"\n";
        let kust = "resources:\n  - release.yaml\n";
        let overlay = "resources:\n  - ../base/podinfo\npatches:\n  - path: podinfo-values.yaml\n";
        let patch = |v: &str, replicas: u32| {
            format!("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  chart:\n    spec:\n      version: \"{v}\"\n  values:\n    replicaCount: {replicas}\n")
        };
        let (b, a) = (patch("6.5.0", 2), patch("6.5.1", 2));
        fn files<'a>(
            base: &'a str,
            kust: &'a str,
            overlay: &'a str,
            p: &'a str,
        ) -> Vec<(&'a str, &'a str)> {
            vec![(BASE, base), (KUST, kust), (OVERLAY, overlay), (PATCH, p)]
        }
        assert!(shown(&Change::new(
            &files(base, kust, overlay, &b),
            &files(base, kust, overlay, &a)
        ))
        .is_empty());
        // The values are another edit of the promotion.
        let a = patch("6.5.1", 3);
        assert_eq!(
            shown(&Change::new(
                &files(base, kust, overlay, &b),
                &files(base, kust, overlay, &a)
            )),
            [format!(
                "PL007 error {PATCH}:8:17 this change promotes podinfo 6.5.1 into production; it also edits {PATCH} outside pin values"
            )]
        );
    }

    #[test]
    fn one_version_per_promotion_is_fine() {
        let dev = tf("v6", "12.8", 2);
        let (b, a) = (tf("v5", "12.7", 2), tf("v6", "12.7", 2));
        assert!(shown(&Change::new(
            &[(DEV, &dev), (PROD, &b)],
            &[(DEV, &dev), (PROD, &a)]
        ))
        .is_empty());
    }

    #[test]
    fn two_versions_in_one_promotion() {
        let dev = tf("v6", "12.8", 2);
        let (b, a) = (tf("v5", "12.7", 2), tf("v6", "12.8", 2));
        let c = Change::new(&[(DEV, &dev), (PROD, &b)], &[(DEV, &dev), (PROD, &a)]);
        let found = c.run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL007 error {PROD}:2:28 this change promotes 2 versions into prod (at most 1 per change): lxc_rootfs_version v6, debian_rootfs_version 12.8"
            )]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{PROD}:3:28 also promotes debian_rootfs_version 12.8 into prod here"
            )]
        );
        // The limit is configurable.
        let c = Change::new(&[(DEV, &dev), (PROD, &b)], &[(DEV, &dev), (PROD, &a)]).max_versions(2);
        assert!(shown(&c).is_empty());
    }

    #[test]
    fn unprotected_environments_may_move_many_versions() {
        let prod = tf("v5", "12.7", 2);
        let (b, a) = (tf("v5", "12.7", 2), tf("v6", "12.8", 2));
        assert!(shown(&Change::new(
            &[(DEV, &b), (PROD, &prod)],
            &[(DEV, &a), (PROD, &prod)]
        ))
        .is_empty());
    }

    #[test]
    fn promotion_mixed_with_other_edits() {
        let dev = tf("v6", "12.7", 2);
        let (b, a) = (tf("v5", "12.7", 2), tf("v6", "12.7", 4));
        let found = Change::new(&[(DEV, &dev), (PROD, &b)], &[(DEV, &dev), (PROD, &a)]).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!(
                "PL007 error {PROD}:2:28 this change promotes lxc_rootfs_version v6 into prod; it also edits {PROD} outside pin values"
            )]
        );
        assert_eq!(related(&found[0]), [format!("{PROD}:7:3 other edit here")]);
    }

    #[test]
    fn other_edits_without_a_promotion_are_not_this_rule() {
        let dev = tf("v6", "12.7", 2);
        let (b, a) = (tf("v5", "12.7", 2), tf("v5", "12.7", 4));
        assert!(shown(&Change::new(
            &[(DEV, &dev), (PROD, &b)],
            &[(DEV, &dev), (PROD, &a)]
        ))
        .is_empty());
    }

    #[test]
    fn moving_keys_between_files_is_no_promotion() {
        let both =
            "locals {\n  lxc_rootfs_version    = \"v5\"\n  debian_rootfs_version = \"12.7\"\n}\n";
        let one = "locals {\n  lxc_rootfs_version = \"v5\"\n}\n";
        let other = "locals {\n  debian_rootfs_version = \"12.7\"\n}\n";
        let versions = "fabric-core/terraform/envs/kestrel-prod/versions.tf";
        let c = Change::new(&[(PROD, both)], &[(PROD, one), (versions, other)]);
        assert!(shown(&c).is_empty());
    }

    #[test]
    fn a_new_environment_is_not_a_mass_promotion() {
        let dev = tf("v6", "12.8", 2);
        let c = Change::new(&[(DEV, &dev)], &[(DEV, &dev), (PROD, &dev)]);
        assert!(shown(&c).is_empty());
    }

    #[test]
    fn one_version_into_two_protected_environments_counts_once() {
        let envs: &[(&str, &str, bool, &[&str])] = &[
            ("dev", "envs/dev/**", false, &[]),
            ("prod-eu", "envs/prod-eu/**", true, &["dev"]),
            ("prod-us", "envs/prod-us/**", true, &["dev"]),
        ];
        let side = |eu: String, us: String| {
            vec![
                ("envs/dev/main.tf", tf("v6", "12.8", 2)),
                ("envs/prod-eu/main.tf", eu),
                ("envs/prod-us/main.tf", us),
            ]
        };
        let b = side(tf("v5", "12.7", 2), tf("v5", "12.7", 2));
        let one = side(tf("v6", "12.7", 2), tf("v6", "12.7", 2));
        let bs: Vec<(&str, &str)> = b.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let os: Vec<(&str, &str)> = one.iter().map(|(p, t)| (*p, t.as_str())).collect();
        assert!(shown(&Change::new(&bs, &os).envs(envs)).is_empty());
        // Zero allowed: every promotion is reported.
        assert_eq!(
            shown(&Change::new(&bs, &os).envs(envs).max_versions(0)),
            ["PL007 error envs/prod-eu/main.tf:2:28 this change promotes 1 version into prod-eu, prod-us (at most 0 per change): lxc_rootfs_version v6"]
        );
        let two = side(tf("v6", "12.8", 2), tf("v6", "12.7", 2));
        let ts: Vec<(&str, &str)> = two.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let found = Change::new(&bs, &ts).envs(envs).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            ["PL007 error envs/prod-eu/main.tf:2:28 this change promotes 2 versions into prod-eu, prod-us (at most 1 per change): lxc_rootfs_version v6, debian_rootfs_version 12.8"]
        );
        assert_eq!(
            related(&found[0]),
            [
                "envs/prod-eu/main.tf:3:28 also promotes debian_rootfs_version 12.8 into prod-eu here",
                "envs/prod-us/main.tf:2:28 also promotes lxc_rootfs_version v6 into prod-us here",
            ]
        );
    }

    const PRODUCTION: &str = "flux/apps/backend/production/kustomization.yaml";

    fn kust(tag: &str, digest: &str) -> String {
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: production\nresources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/backend\n    newTag: {tag} # {{\"$imagepolicy\": \"production:backend-production:tag\"}}\n    digest: sha256:{digest}\n"
        )
    }

    #[test]
    fn a_digest_that_moves_with_its_tag_is_part_of_the_promotion() {
        let b = kust("production-v1.4.2-1712345678", &"a".repeat(64));
        let a = kust("production-v1.4.3-1712399999", &"b".repeat(64));
        assert!(shown(&Change::new(&[(PRODUCTION, &b)], &[(PRODUCTION, &a)])).is_empty());
    }

    const HL_LIVE: &str = "kubernetes/clusters/live/helm-charts.yaml";

    fn charts(cm: &str, es: &str) -> String {
        format!(
            "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: helm-charts\n  namespace: flux-system\nspec:\n  inputs:\n    - name: cert-manager\n      chart:\n        name: cert-manager\n        version: \"{cm}\"\n    - name: external-secrets\n      chart:\n        name: external-secrets\n        version: \"{es}\"\n"
        )
    }

    #[test]
    fn homelab_copying_every_chart_to_live() {
        let (b, a) = (charts("v1.19.1", "0.20.3"), charts("v1.19.2", "0.20.4"));
        assert_eq!(
            shown(&Change::new(&[(HL_LIVE, &b)], &[(HL_LIVE, &a)])),
            [format!(
                "PL007 error {HL_LIVE}:11:19 this change promotes 2 versions into live (at most 1 per change): cert-manager v1.19.2, external-secrets 0.20.4"
            )]
        );
    }

    #[test]
    fn masking_keeps_lines() {
        let text = "a: \"v1\"\nb: sha256:abcdef\nc\n";
        let masked = mask(text, &[(4, 6)]);
        assert_eq!(masked, "a: \"\u{1}\"\nb: \u{1}\nc\n");
        // Spans out of range or overlapping are ignored, not a panic.
        let _ = mask(text, &[(3, 100), (4, 5), (5, 4)]);
    }

    #[test]
    fn comments_blank_lines_and_key_order_are_no_other_edit() {
        let dev = tf("v6", "12.7", 2);
        let b = "locals {\n  # rootfs built by packer\n  lxc_rootfs_version    = \"v5\"\n  debian_rootfs_version = \"12.7\"\n}\n\nresource \"proxmox_lxc\" \"app\" {\n  cores = 2\n}\n";
        let a = "locals {\n  debian_rootfs_version = \"12.7\" // pinned until bookworm\n  lxc_rootfs_version    = \"v6\"   # promoted from dev\n}\n\n\nresource \"proxmox_lxc\" \"app\" {\n  cores = 2   \n}\n";
        assert!(shown(&Change::new(
            &[(DEV, &dev), (PROD, b)],
            &[(DEV, &dev), (PROD, a)]
        ))
        .is_empty());
        // A `#` inside a string is no comment: changing it is an edit.
        let b2 = b.replace("cores = 2", "name = \"a#1\"");
        let a2 = a.replace("cores = 2   ", "name = \"a#2\"");
        assert_eq!(
            shown(&Change::new(&[(DEV, &dev), (PROD, &b2)], &[(DEV, &dev), (PROD, &a2)])),
            [format!("PL007 error {PROD}:3:28 this change promotes lxc_rootfs_version v6 into prod; it also edits {PROD} outside pin values")]
        );
    }

    #[test]
    fn a_value_mirroring_the_promoted_version_moves_with_it() {
        const STG: &str = "apps/ledger/staging/kustomization.yaml";
        const PRD: &str = "apps/ledger/production/kustomization.yaml";
        let k = |ns: &str, v: &str, level: &str| {
            format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nimages:\n  - name: ghcr.io/acme/ledger\n    newTag: {v}\nconfigMapGenerator:\n  - name: ledger\n    literals:\n      - APP_VERSION={v}\n      - LOG_LEVEL={level}\n      - MIN_CLIENT=v2.3.1\n")
        };
        let stg = k("staging", "v2.4.0", "info");
        let (b, a) = (
            k("production", "v2.3.1", "info"),
            k("production", "v2.4.0", "info"),
        );
        assert!(shown(&Change::new(
            &[(STG, &stg), (PRD, &b)],
            &[(STG, &stg), (PRD, &a)]
        ))
        .is_empty());
        // Another literal changing is still another edit.
        let a = k("production", "v2.4.0", "debug");
        assert_eq!(
            shown(&Change::new(&[(STG, &stg), (PRD, &b)], &[(STG, &stg), (PRD, &a)])),
            [format!("PL007 error {PRD}:6:13 this change promotes ghcr.io/acme/ledger v2.4.0 into production; it also edits {PRD} outside pin values")]
        );
    }

    #[test]
    fn a_substituted_variable_and_its_value_are_one_promotion() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/scenarios/substitute-promotion/"
        );
        let read = |p: &str| {
            std::fs::read_to_string(format!("{dir}{p}")).unwrap_or_else(|e| panic!("{p}: {e}"))
        };
        let files = [
            "apps/app/deployment.yaml",
            "apps/app/kustomization.yaml",
            "apps/kustomization.yaml",
            "clusters/dev/apps.yaml",
            "clusters/dev/kustomization.yaml",
            "clusters/live/apps.yaml",
            "clusters/live/kustomization.yaml",
        ];
        let mut base: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.to_string(), read(&format!("01-initial/{f}"))))
            .collect();
        // Two images take their tag from the one variable: one value, written once.
        base[0].1 = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/app:${APP_VERSION}\n        - name: migrations\n          image: ghcr.io/acme/app-migrations:${APP_VERSION}\n".into();
        base.push((
            "clusters/dev/versions.env".into(),
            "APP_VERSION=1.5.0\n".into(),
        ));
        let mut head = base.clone();
        base.push((
            "clusters/live/versions.env".into(),
            "APP_VERSION=1.4.0\n".into(),
        ));
        head.push((
            "clusters/live/versions.env".into(),
            "APP_VERSION=1.5.0\n".into(),
        ));
        fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
            v.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect()
        }
        let (b, h) = (refs(&base), refs(&head));
        // Each component on its own: the variable and the image it fills in are one value.
        let mut c = Change::new(&b, &h);
        c.config.promotion.release_version_groups = false;
        assert!(shown(&c).is_empty());
        assert!(shown(&Change::new(&b, &h)).is_empty());
    }

    #[test]
    fn one_component_to_two_versions_in_one_change() {
        let (d0, d1) = (tf("v6", "12.7", 2), tf("v7", "12.7", 2));
        let (p0, p1) = (tf("v5", "12.7", 2), tf("v6", "12.7", 2));
        let found = Change::new(&[(DEV, &d0), (PROD, &p0)], &[(DEV, &d1), (PROD, &p1)]).run(check);
        assert_eq!(
            found.iter().map(show).collect::<Vec<_>>(),
            [format!("PL007 error {PROD}:2:28 this change promotes lxc_rootfs_version v6 into prod; it also moves lxc_rootfs_version to v7 in dev")]
        );
        assert_eq!(
            related(&found[0]),
            [format!(
                "{DEV}:2:28 moves lxc_rootfs_version to v7 in dev here"
            )]
        );
        assert_eq!(found[0].help, Some("Two versions"));
        // Dev going back while prod goes forward (a diff against a base that moved on):
        // a rollback, PL005's note, not a second version.
        let d0 = tf("v7", "12.7", 2);
        assert!(shown(&Change::new(
            &[(DEV, &d0), (PROD, &p0)],
            &[(DEV, &d1.replace("v7", "v6")), (PROD, &p1)]
        ))
        .is_empty());
    }

    #[test]
    fn page_examples_hold() {
        // The page's examples as a base and a head commit: Bad gives exactly these, Good
        // nothing.
        let (bad, good) = page_findings(ID, check);
        assert_eq!(
            bad,
            [
                "PL007 error fabric-core/terraform/envs/kestrel-prod/main.tf:2:28 this change promotes 2 versions into prod (at most 1 per change): lxc_rootfs_version v6, debian_rootfs_version 12.8; it also edits fabric-core/terraform/envs/kestrel-prod/main.tf outside pin values",
            ]
        );
        assert!(good.is_empty(), "Good example gives {good:?}");
    }
}
