//! What the rules' fixes (see [`super::fix`]) share: the context they are computed from,
//! the pin a finding is on, and byte edits of a value that keep its quoting.

use crate::config::Config;
use crate::edit::Edit;
use crate::model::{Finding, PinKind, RefKind};
use crate::snapshot::{EffectivePin, Snapshot};
use std::collections::{BTreeMap, BTreeSet};

/// The tags each environment pinned for each component in the history: (environment name,
/// component) → tags.
pub type PastTags = BTreeMap<(String, String), BTreeSet<String>>;

/// What the fixes are computed from.
pub(crate) struct FixContext<'a> {
    /// The tree the findings are on.
    pub snap: &'a Snapshot,
    /// Other trees that may show an environment's own tags (the base of a change).
    pub others: &'a [&'a Snapshot],
    /// Tags the history shows.
    pub past: &'a PastTags,
    pub config: &'a Config,
}

/// The effective pin a finding is on: its environment's pin at the finding's span.
pub(crate) fn pin_of<'s>(snap: &'s Snapshot, f: &Finding) -> Option<&'s EffectivePin> {
    let env = f.environment.as_deref()?;
    let file = snap.file_index(&f.path)?;
    snap.pins
        .iter()
        .find(|p| p.file == file && snap.pin(p).span == f.span && snap.envs.get(p.env).name == env)
}

/// Why the pin's value cannot be edited for its environment alone, if so: other
/// environments take the same bytes (a base no overlay overrides, a file two clusters
/// deploy), and a fix for one would change what the others run.
pub(crate) fn shared_with(snap: &Snapshot, p: &EffectivePin) -> Option<String> {
    let span = &snap.pin(p).span;
    let others: BTreeSet<&str> = snap
        .pins
        .iter()
        .filter(|q| q.file == p.file && q.env != p.env && snap.pin(q).span == *span)
        .map(|q| snap.envs.get(q.env).name.as_str())
        .collect();
    if others.is_empty() {
        return None;
    }
    let env = &snap.envs.get(p.env).name;
    Some(format!(
        "{} also runs this value of {}: editing it would change {} too; override it in {env}'s own files",
        others.iter().copied().collect::<Vec<_>>().join(", "),
        snap.path(p.file),
        if others.len() == 1 { "it" } else { "them" },
    ))
}

/// The text of the pin's file and the bytes its span covers.
fn written<'s>(snap: &'s Snapshot, p: &EffectivePin) -> Result<(&'s str, &'s str), String> {
    let path = snap.path(p.file);
    let text = snap.files[p.file]
        .text
        .as_deref()
        .ok_or_else(|| format!("the text of {path} was not kept"))?;
    let span = &snap.pin(p).span;
    let raw = text
        .get(span.start..span.end)
        .ok_or_else(|| format!("the value's span is not in {path}"))?;
    Ok((text, raw))
}

/// The edit that writes `new` in place of the pin's value (a tag, version or range), the
/// quotes around it kept; for an image string without a tag, `:new` appended to it. An
/// error says why the value cannot be rewritten byte for byte.
pub(crate) fn value_edit(snap: &Snapshot, p: &EffectivePin, new: &str) -> Result<Edit, String> {
    let pin = snap.pin(p);
    let path = snap.path(p.file);
    let (text, raw) = written(snap, p)?;
    let span = &pin.span;
    let replacement = match pin.reference.kind {
        RefKind::Absent => {
            // Only an image written as one string (`image: repo`) can take a tag in place;
            // a Kustomize entry or a chart without version needs a new key.
            if !matches!(pin.kind, PinKind::ContainerImage | PinKind::HelmValuesImage)
                || raw != pin.component
            {
                return Err(format!(
                    "{path} has no value to replace here: add `{new}` by hand"
                ));
            }
            format!("{raw}:{new}")
        }
        _ if raw == pin.reference.value => quoted_for(path, text, span.start, new),
        _ => {
            return Err(format!(
                "the value in {path} is written with escapes, folding or a block scalar, so it cannot be replaced byte for byte: write `{new}` by hand"
            ))
        }
    };
    Ok(Edit {
        path: path.to_string(),
        range: span.start..span.end,
        replacement,
    })
}

/// `new` as it must be written at `start` of `text`: a whole plain YAML scalar that YAML
/// would read as a number, boolean or null (`6`, `1.10`, `true`), or that would not be one
/// scalar, is double-quoted; inside quotes, inside a longer value (`repo:tag`), and
/// outside YAML, it is written as it is.
fn quoted_for(path: &str, text: &str, start: usize, new: &str) -> String {
    let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    let whole_plain = text.get(..start).is_some_and(|b| b.ends_with([' ', '\t']));
    if yaml && whole_plain && !plain_yaml_string(new) {
        format!("\"{}\"", new.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        new.to_string()
    }
}

/// Whether YAML reads `s`, written plain, back as the same string.
fn plain_yaml_string(s: &str) -> bool {
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '/');
    let chars_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-+/@:=~".contains(c));
    let lower = s.to_ascii_lowercase();
    let keyword = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", ".nan",
    ]
    .contains(&lower.as_str());
    // YAML 1.1 and 1.2 numbers: digits with at most one dot, an exponent, a sign, a base.
    let number = {
        let t = lower.trim_start_matches(['+', '-']);
        let (mantissa, exponent) = match t.split_once('e') {
            Some((m, e)) => (m, Some(e.trim_start_matches(['+', '-']))),
            None => (t, None),
        };
        let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit() || c == '_');
        let mantissa_ok = match mantissa.split_once('.') {
            Some((a, b)) => {
                (digits(a) || a.is_empty())
                    && (digits(b) || b.is_empty())
                    && !(a.is_empty() && b.is_empty())
            }
            None => digits(mantissa),
        };
        (mantissa_ok && exponent.is_none_or(digits))
            || t.starts_with("0x")
            || t.starts_with("0o")
            || t.starts_with("0b")
    };
    // `: ` would start a mapping; `:` at the end too.
    let colon = s.contains(": ") || s.ends_with(':');
    first_ok && chars_ok && !keyword && !number && !colon
}

/// For a Kustomize `images[]` entry written in block style: the edit that adds
/// `digest: <digest>` on a line of its own after the `newTag` line, indented like it and
/// with the file's line ending. `None` when the entry is not laid out that way (flow
/// style, a comment-free line end missing).
pub(crate) fn kustomize_digest_edit(
    snap: &Snapshot,
    p: &EffectivePin,
    digest: &str,
) -> Option<Edit> {
    let (text, _) = written(snap, p).ok()?;
    let span = &snap.pin(p).span;
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..span.start];
    // `    newTag: "` or `  - newTag: `: the key's column is the sibling key's.
    let indent_len = before.len() - before.trim_start_matches([' ', '-']).len();
    let prefix = &before[..indent_len];
    if prefix.contains('\t') || prefix.trim_end_matches(' ').matches('-').count() > 1 {
        return None;
    }
    let key = before[indent_len..]
        .trim_end_matches(['"', '\''])
        .trim_end();
    if key != "newTag:" {
        return None;
    }
    let rest_end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i);
    let rest = text[span.end..rest_end].trim_end_matches('\r');
    let rest = rest.trim_start_matches(['"', '\'']).trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let crlf = text[span.end..rest_end].ends_with('\r');
    let eol = if crlf { "\r\n" } else { "\n" };
    let line = format!("{}digest: {digest}", " ".repeat(indent_len));
    let (at, replacement) = if rest_end < text.len() {
        (rest_end + 1, format!("{line}{eol}"))
    } else {
        (text.len(), format!("{eol}{line}"))
    };
    Some(Edit {
        path: snap.path(p.file).to_string(),
        range: at..at,
        replacement,
    })
}

/// Whether the value of an image pin is the tag of an image string (`repo:tag`), where a
/// digest can follow it (`repo:tag@sha256:…`).
pub(crate) fn in_image_string(snap: &Snapshot, p: &EffectivePin) -> bool {
    let pin = snap.pin(p);
    if !matches!(pin.kind, PinKind::ContainerImage | PinKind::HelmValuesImage) {
        return false;
    }
    if pin.reference.kind == RefKind::Absent {
        return true;
    }
    let Ok((text, _)) = written(snap, p) else {
        return false;
    };
    let before = &text.as_bytes()[..pin.span.start];
    before.len() >= 2
        && before[before.len() - 1] == b':'
        && !before[before.len() - 2].is_ascii_whitespace()
        && !matches!(before[before.len() - 2], b'"' | b'\'')
}

#[cfg(test)]
mod tests {
    use super::plain_yaml_string;

    #[test]
    fn plain_yaml_strings_are_those_yaml_reads_back_as_strings() {
        for s in [
            "v1.2.3",
            "1.10.1",
            "production-v1.4.2-1712345678",
            "sha256:abc",
        ] {
            assert!(plain_yaml_string(s), "{s}");
        }
        for s in [
            "6", "1.10", "true", "No", "null", "1e3", "0x1f", "", "-x", "a: b", "a #b",
        ] {
            assert!(!plain_yaml_string(s), "{s}");
        }
    }
}
