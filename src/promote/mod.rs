//! `promolint promote`: the edits that set an environment's pins of a component to the
//! version its predecessor runs.
//!
//! The snapshot already knows, for each environment and component, the effective pins and
//! the exact span of the value that wins after overlays, patches and substitutions. A
//! promotion is one [`Edit`] per winning value (and one per digest written beside it), so
//! every other byte of the file stays as it was. Deciding whether the result is a sound
//! promotion is left to the rules: the pipeline lints the change in memory before writing.
//!
//! Above the snapshot, the history and the promotion queries; below the pipeline.

use crate::edit::Edit;
use crate::error::Error;
use crate::history::HistoryIndex;
use crate::model::tiers::tag_env_token;
use crate::model::{Pin, RefKind, Span};
use crate::promotion::{cmp_versions, lineage_version, managing_groups};
use crate::snapshot::{EffectivePin, Snapshot};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// What to promote.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Components as `promolint status` names them; empty with `all`.
    pub components: Vec<String>,
    /// Every component whose predecessor runs a later version.
    pub all: bool,
    /// The environment whose pins are set.
    pub to: String,
    /// The version to set instead of the predecessor's (one component only).
    pub version: Option<String>,
}

/// One value a promotion rewrites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    /// 1-based line and column (Unicode scalar values) of the value before the edit.
    pub line: u32,
    pub column: u32,
    pub from: String,
    pub to: String,
    /// Byte range of the value in the file's decoded text (without a byte-order mark).
    pub edit: Edit,
}

/// One component promoted into one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    pub component: String,
    pub environment: String,
    /// The versions the environment pins now (usually one).
    pub from: Vec<String>,
    /// The tag written.
    pub to: String,
    /// The environment whose pin was copied (`None` with `--version` from the history).
    pub source: Option<String>,
    pub changes: Vec<Change>,
}

/// The promotions of a request, and the components `--all` passed over.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub promotions: Vec<Promotion>,
    /// (component, why nothing is promoted): already there, or no predecessor ahead.
    pub skipped: Vec<(String, String)>,
}

/// A version to write: its tag and digest, and where it comes from.
#[derive(Clone, Debug)]
struct Source {
    version: String,
    tag: String,
    digest: Option<String>,
    env: Option<usize>,
}

fn usage(message: String, help: Option<String>) -> Error {
    Error::Usage { message, help }
}

/// Plan the promotion `req` asks for on `snap` (the working tree), with `history` for
/// `--version` digests. Fails (exit 2) when the request names something the tree does
/// not have or an edit cannot be made exactly.
pub fn plan(
    snap: &Snapshot,
    history: &HistoryIndex,
    mutable_tags: &[String],
    req: &Request,
) -> Result<Plan, Error> {
    let env = environment(snap, &req.to)?;
    let components = snap.components();
    let mut out = Plan::default();
    if req.all {
        for (component, envs) in &components {
            if !envs.contains(&env) {
                continue;
            }
            match source(snap, mutable_tags, env, component) {
                Ok(src) => {
                    let ahead = snap.pins_of(env, component).any(|p| {
                        snap.version(p).is_none_or(|v| {
                            cmp_versions(&src.version, &v) == Some(Ordering::Greater)
                        })
                    });
                    if !ahead {
                        continue;
                    }
                    // One component that cannot be edited does not stop the others.
                    match promotion(snap, env, component, &src) {
                        Ok(Some(p)) => out.promotions.push(p),
                        Ok(None) => out
                            .skipped
                            .push((component.to_string(), format!("already at {}", src.tag))),
                        Err(Error::Usage { message, .. }) => {
                            out.skipped.push((component.to_string(), message))
                        }
                        Err(e) => return Err(e),
                    }
                }
                // Nothing before this environment pins it: nothing to promote.
                Err(Why::NoPredecessor) => {}
                Err(Why::Ambiguous(why)) => out.skipped.push((component.to_string(), why)),
            }
        }
        return Ok(out);
    }
    if req.version.is_some() && req.components.len() != 1 {
        return Err(usage(
            "--version sets one component's version: name exactly one component".to_string(),
            Some("run `promolint promote COMPONENT --to ENV --version V`".to_string()),
        ));
    }
    let mut seen = BTreeSet::new();
    for component in &req.components {
        if !seen.insert(component.as_str()) {
            continue;
        }
        let Some(envs) = components.get(component.as_str()) else {
            return Err(unknown_component(component, components.keys().copied()));
        };
        if !envs.contains(&env) {
            return Err(usage(
                format!(
                    "environment `{}` does not pin `{component}`",
                    snap.envs.get(env).name
                ),
                Some(
                    "promote sets versions the environment already pins; `promolint status` shows where each component is pinned"
                        .to_string(),
                ),
            ));
        }
        let src = match &req.version {
            Some(v) => requested(snap, history, env, component, v)?,
            None => source(snap, mutable_tags, env, component).map_err(|why| {
                let name = &snap.envs.get(env).name;
                match why {
                    Why::NoPredecessor => usage(
                        format!("no environment before `{name}` pins `{component}`: there is nothing to promote"),
                        Some("pass --version V to set a version, or promote it into the environment before first".to_string()),
                    ),
                    Why::Ambiguous(why) => usage(
                        format!("cannot tell which version to promote `{component}` to: {why}"),
                        Some("name it with --version V".to_string()),
                    ),
                }
            })?,
        };
        match promotion(snap, env, component, &src)? {
            Some(p) => out.promotions.push(p),
            None => out
                .skipped
                .push((component.clone(), format!("already at {}", src.tag))),
        }
    }
    Ok(out)
}

fn environment(snap: &Snapshot, name: &str) -> Result<usize, Error> {
    let envs = &snap.envs.envs;
    if let Some(i) = envs.iter().position(|e| e.name == name) {
        return Ok(i);
    }
    let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
    Err(usage(
        format!("no environment `{name}`"),
        Some(if names.is_empty() {
            "promolint found no environment in this repository; declare them in `.promolint.yaml`"
                .to_string()
        } else {
            format!("the environments are: {}", names.join(", "))
        }),
    ))
}

fn unknown_component<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Error {
    let close: Vec<&str> = known
        .filter(|k| strsim::osa_distance(k, name) <= 3 || k.ends_with(&format!("/{name}")))
        .take(3)
        .collect();
    let help = if close.is_empty() {
        "`promolint status` lists the components by the names promote takes".to_string()
    } else {
        format!(
            "did you mean {}? (`promolint status` lists the components)",
            close
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    usage(format!("no component `{name}` is pinned here"), Some(help))
}

/// Why no version could be chosen.
enum Why {
    /// No environment before this one pins the component.
    NoPredecessor,
    /// The environments before disagree, or one pins several versions.
    Ambiguous(String),
}

/// The version `env`'s predecessors run for `component`: the one every predecessor group
/// runs (any member of a group will do), the latest when several qualify.
fn source(
    snap: &Snapshot,
    mutable_tags: &[String],
    env: usize,
    component: &str,
) -> Result<Source, Why> {
    let versioned = |pred: usize| -> Vec<&EffectivePin> {
        snap.pins_of(pred, component)
            .filter(|q| lineage_version(snap, q, mutable_tags).is_some())
            .collect()
    };
    let groups = managing_groups(snap, env, |pred| !versioned(pred).is_empty());
    if groups.is_empty() {
        return Err(Why::NoPredecessor);
    }
    // version → the first pin of it (for its tag and digest), per group.
    let mut per_group: Vec<BTreeMap<String, (usize, &EffectivePin)>> = Vec::new();
    for group in &groups {
        let mut found = BTreeMap::new();
        for &pred in group {
            let pins = versioned(pred);
            let versions: BTreeSet<String> = pins
                .iter()
                .filter_map(|q| lineage_version(snap, q, mutable_tags))
                .collect();
            if versions.len() > 1 {
                return Err(Why::Ambiguous(format!(
                    "`{}` pins it at several versions ({})",
                    snap.envs.get(pred).name,
                    versions.into_iter().collect::<Vec<_>>().join(", ")
                )));
            }
            for q in pins {
                if let Some(v) = lineage_version(snap, q, mutable_tags) {
                    let entry = found.entry(v).or_insert((pred, q));
                    // A pin with a digest says more than one without.
                    if snap.pin(entry.1).reference.digest.is_none()
                        && snap.pin(q).reference.digest.is_some()
                    {
                        *entry = (pred, q);
                    }
                }
            }
        }
        per_group.push(found);
    }
    let common: Vec<&String> = per_group[0]
        .keys()
        .filter(|v| per_group.iter().all(|g| g.contains_key(*v)))
        .collect();
    let Some(best) = common.iter().copied().reduce(|a, b| {
        if cmp_versions(b, a) == Some(Ordering::Greater) {
            b
        } else {
            a
        }
    }) else {
        let runs: Vec<String> = groups
            .iter()
            .flatten()
            .flat_map(|&pred| {
                versioned(pred).into_iter().map(move |q| {
                    format!(
                        "`{}` runs {}",
                        snap.envs.get(pred).name,
                        snap.pin(q).reference.value
                    )
                })
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        return Err(Why::Ambiguous(format!(
            "the environments before it run different versions ({})",
            runs.join(", ")
        )));
    };
    if common.len() > 1
        && common
            .iter()
            .any(|v| *v != best && cmp_versions(best, v) != Some(Ordering::Greater))
    {
        return Err(Why::Ambiguous(format!(
            "the environments before it run versions that do not compare ({})",
            common
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let (pred, q) = per_group[0][best];
    let pin = snap.pin(q);
    Ok(Source {
        version: best.clone(),
        tag: pin.reference.value.clone(),
        digest: pin.reference.digest.clone(),
        env: Some(pred),
    })
}

/// `--version V`: V's tag and digest from a predecessor that runs it now, else from what
/// the history recorded. Whether a predecessor ever ran it is the rules' question (PL006),
/// asked of the change before anything is written.
fn requested(
    snap: &Snapshot,
    history: &HistoryIndex,
    env: usize,
    component: &str,
    v: &str,
) -> Result<Source, Error> {
    // V as ENV reads it: `production-v1.4.2-…` is v1.4.2 in production.
    let version = snap.envs.identity(env, component, v).version;
    for &pred in &snap.envs.get(env).after {
        for q in snap.pins_of(pred, component) {
            let pin = snap.pin(q);
            let runs = snap.version(q);
            if pin.reference.value == v
                || runs.as_deref() == Some(v)
                || runs.as_deref() == Some(version.as_str())
            {
                // The tag as given (ENV's own spelling of the version), the predecessor's
                // digest of it.
                return Ok(Source {
                    version,
                    tag: v.to_string(),
                    digest: pin.reference.digest.clone(),
                    env: Some(pred),
                });
            }
        }
    }
    let digest = snap.envs.get(env).after.iter().find_map(|&pred| {
        history
            .ran(&snap.envs.get(pred).name, component, &version)
            .and_then(|p| p.digest.clone())
    });
    Ok(Source {
        version,
        tag: v.to_string(),
        digest,
        env: None,
    })
}

/// The edits setting `env`'s pins of `component` to `src`; `None` when every pin already
/// has it.
fn promotion(
    snap: &Snapshot,
    env: usize,
    component: &str,
    src: &Source,
) -> Result<Option<Promotion>, Error> {
    let env_name = &snap.envs.get(env).name;
    let e = snap.envs.get(env);
    if !writable(&src.tag) {
        return Err(usage(
            format!("the version `{}` of `{component}` is not a plain tag promote can write", src.tag),
            Some("promote writes tags made of letters, digits and `.`, `_`, `-`, `+`, `/`; edit this one by hand".to_string()),
        ));
    }
    // The tag is copied as the predecessor writes it: an environment whose tags carry its
    // own name or pattern (`production-v1.2.3-…`) needs a tag promote cannot invent.
    let own = snap.envs.identity(env, component, &src.tag).version;
    let admitted = e
        .tag_pattern
        .as_ref()
        .is_none_or(|re| re.is_match(&src.tag));
    // As PL002 reads a tag: `staging-v1.4.2-…` is staging's, whatever version it carries.
    let foreign = tag_env_token(&src.tag).is_some_and(|token| {
        !e.aliases.contains(&token.to_ascii_lowercase()) && !e.name.eq_ignore_ascii_case(token)
    });
    if own != src.version || !admitted || foreign {
        return Err(usage(
            format!(
                "`{}` is no tag of `{env_name}` for {} (`{env_name}`'s tags carry its own name or pattern): promote cannot derive `{env_name}`'s tag for it",
                src.tag, src.version
            ),
            Some(format!(
                "set `{component}` in `{env_name}` by hand, or pass the tag `{env_name}` uses with --version"
            )),
        ));
    }
    let mut changes = Vec::new();
    let mut from = BTreeSet::new();
    let mut seen_spans: BTreeSet<(usize, usize)> = BTreeSet::new();
    for p in snap.pins_of(env, component) {
        let pin = snap.pin(p);
        let path = snap.path(p.file);
        let Some(text) = snap.files[p.file].text.as_deref() else {
            return Err(not_editable(path, &pin.span, "its text was not kept"));
        };
        if pin.reference.kind != RefKind::Tag {
            return Err(not_editable(
                path,
                &pin.span,
                &format!(
                    "`{env_name}` pins `{component}` {}; promote rewrites exact versions only",
                    match pin.reference.kind {
                        RefKind::Range => format!("to the range `{}`", pin.reference.value),
                        RefKind::Branch => format!("to the branch `{}`", pin.reference.value),
                        RefKind::Commit => format!("to the commit `{}`", pin.reference.value),
                        _ => "without a version".to_string(),
                    }
                ),
            ));
        }
        let same_tag = pin.reference.value == src.tag;
        let same_digest = pin.reference.digest.is_none() || pin.reference.digest == src.digest;
        if same_tag && same_digest {
            continue;
        }
        if !seen_spans.insert((p.file, pin.span.start)) {
            continue;
        }
        shared(snap, p, env, pin, path)?;
        from.insert(pin.reference.value.clone());
        if !same_tag {
            let range = value_range(text, &pin.span, &pin.reference.value)
                .ok_or_else(|| not_editable(path, &pin.span, "the value is not written literally there (escapes, a folded or block scalar, or a template)"))?;
            changes.push(change(path, text, range, &pin.reference.value, &src.tag));
        }
        if let Some(old) = &pin.reference.digest {
            let Some(new) = &src.digest else {
                return Err(not_editable(
                    path,
                    &pin.span,
                    &format!(
                        "`{env_name}` pins a digest beside the tag, and no digest of {} is known to promote",
                        src.tag
                    ),
                ));
            };
            if old != new {
                let range = digest_range(text, &pin.span, old).ok_or_else(|| {
                    not_editable(path, &pin.span, "its digest is not written beside the tag")
                })?;
                changes.push(change(path, text, range, old, new));
            }
        }
    }
    if changes.is_empty() {
        return Ok(None);
    }
    Ok(Some(Promotion {
        component: component.to_string(),
        environment: env_name.clone(),
        from: from.into_iter().collect(),
        to: src.tag.clone(),
        source: src.env.map(|e| snap.envs.get(e).name.clone()),
        changes,
    }))
}

fn change(path: &str, text: &str, range: std::ops::Range<usize>, from: &str, to: &str) -> Change {
    let index = crate::model::LineIndex::new(text);
    let (line, column) = index.position(text, range.start);
    Change {
        path: path.to_string(),
        line,
        column,
        from: from.to_string(),
        to: to.to_string(),
        edit: Edit {
            path: path.to_string(),
            range,
            replacement: to.to_string(),
        },
    }
}

/// A value promote writes into YAML, HCL and env files without quoting or escaping it.
fn writable(tag: &str) -> bool {
    !tag.is_empty()
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b'/'))
        && tag.as_bytes()[0].is_ascii_alphanumeric()
}

/// The byte range of `value` in `text` at `span`: the span itself when it holds exactly the
/// value, else the one occurrence of the value inside it (a span covering a whole
/// `source = "…?ref=v1"` string or a quoted scalar).
pub(crate) fn value_range(text: &str, span: &Span, value: &str) -> Option<std::ops::Range<usize>> {
    let raw = text.get(span.range())?;
    if raw == value {
        return Some(span.range());
    }
    if value.is_empty() {
        return None;
    }
    let mut hits = raw.match_indices(value).filter(|(at, _)| {
        // A whole token: `v1` inside `v10` is not the value.
        let before = raw[..*at].chars().next_back();
        let after = raw[at + value.len()..].chars().next();
        !before.is_some_and(is_tag_char) && !after.is_some_and(is_tag_char)
    });
    let (at, _) = hits.next()?;
    if hits.next().is_some() {
        return None;
    }
    Some(span.start + at..span.start + at + value.len())
}

fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+')
}

/// Where the digest `old` of the pin at `span` is written: right after the tag
/// (`repo:tag@sha256:…`), or the nearest occurrence within a few lines (a `digest:` key of
/// the same entry).
pub(crate) fn digest_range(text: &str, span: &Span, old: &str) -> Option<std::ops::Range<usize>> {
    const NEAR_LINES: usize = 4;
    text.match_indices(old)
        .map(|(at, _)| at..at + old.len())
        .filter(|r| {
            let (lo, hi) = if r.start >= span.end {
                (span.end, r.start)
            } else {
                (r.end.min(span.start), span.start)
            };
            text[lo..hi].matches('\n').count() <= NEAR_LINES
        })
        .min_by_key(|r| r.start.abs_diff(span.start))
}

/// Refuse to edit a value that another environment takes effect from too: promoting one
/// environment must not promote another.
fn shared(
    snap: &Snapshot,
    p: &EffectivePin,
    env: usize,
    pin: &Pin,
    path: &str,
) -> Result<(), Error> {
    let others: BTreeSet<&str> = snap
        .pins
        .iter()
        .filter(|q| q.env != env && q.file == p.file && snap.pin(q).span == pin.span)
        .map(|q| snap.envs.get(q.env).name.as_str())
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    Err(usage(
        format!(
            "{path}:{}:{}: this value of `{}` is what {} run{} too: editing it would promote {} as well",
            pin.span.line,
            pin.span.column,
            pin.component,
            others.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", "),
            if others.len() == 1 { "s" } else { "" },
            if others.len() == 1 { "it" } else { "them" },
        ),
        Some(format!(
            "give `{}` its own value first (an `images[]` entry or a patch in its overlay, its own versions file), then promote",
            snap.envs.get(env).name
        )),
    ))
}

fn not_editable(path: &str, span: &Span, why: &str) -> Error {
    usage(
        format!(
            "{path}:{}:{}: promote cannot edit this pin: {why}",
            span.line, span.column
        ),
        Some("edit it by hand; `docs/promote.md` lists the layouts promote can edit".to_string()),
    )
}

#[cfg(test)]
mod tests;
