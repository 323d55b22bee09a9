//! `KEY=value` env files (`versions.env`, `.versions.env`).
//!
//! Read line by line, never rejected: a line that is not an assignment is simply no fact.
use super::hcl::names_version;
use crate::model::{Fact, FactKind, LineIndex, Pin, PinKind, Reference};
use std::ops::Range;

pub fn extract(_path: &str, text: &str, index: &LineIndex) -> Result<Vec<Fact>, String> {
    let mut facts = Vec::new();
    let mut offset = 0;
    // The quote of a value that continues on later lines: those lines are value, not keys.
    let mut open_quote: Option<u8> = None;
    let mut opened_at = 0;
    for raw in text.split_inclusive('\n') {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(q) = open_quote {
            if closing_quote(line.as_bytes(), 0, q).is_some() {
                open_quote = None;
            }
            continue;
        }
        let assignment = match parse_line(line) {
            Line::Assignment(a) => a,
            Line::Unterminated(q) => {
                open_quote = Some(q);
                opened_at = start;
                continue;
            }
            Line::Other => continue,
        };
        if !names_version(&line[assignment.key.clone()]) {
            continue;
        }
        let key = line[assignment.key.clone()].to_string();
        let (reference, range) = if assignment.value.is_empty() {
            // `TALOS_VERSION=` pins nothing: point at the key.
            (Reference::absent(), assignment.key)
        } else {
            let mut r = Reference::tag(assignment.value);
            if crate::model::is_version_range(&r.value) {
                r.kind = crate::model::RefKind::Range;
            }
            (r, assignment.span)
        };
        facts.push(Fact::new(FactKind::Pin(Pin {
            kind: PinKind::VersionKey,
            component: key.clone(),
            reference,
            span: index.span(text, start + range.start..start + range.end),
            overrides: None,
            policy_ref: None,
            context: key,
        })));
    }
    if open_quote.is_some() {
        // A quote that never closes swallows every later line: say so rather than
        // silently dropping the pins below it.
        let (line, column) = index.position(text, opened_at);
        return Err(format!(
            "unterminated quoted value starting at line {line} column {column}"
        ));
    }
    Ok(facts)
}

struct Assignment {
    /// Byte range of the key in the line.
    key: Range<usize>,
    /// The value, unquoted and unescaped.
    value: String,
    /// Byte range of the value's content in the line (inside quotes).
    span: Range<usize>,
}

enum Line {
    Assignment(Assignment),
    /// A quoted value that does not close on its line.
    Unterminated(u8),
    Other,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    i
}

/// Index of the first `q` at or after `from` that no backslash escapes (single quotes
/// have no escapes).
fn closing_quote(b: &[u8], from: usize, q: u8) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        if b[i] == b'\\' && q == b'"' {
            i += 2;
            continue;
        }
        if b[i] == q {
            return Some(i);
        }
        i += 1;
    }
    None
}

fn parse_line(line: &str) -> Line {
    let b = line.as_bytes();
    let mut i = skip_blanks(b, 0);
    if let Some(rest) = line[i..].strip_prefix("export") {
        if rest.bytes().next().is_some_and(is_blank) {
            i = skip_blanks(b, i + "export".len());
        }
    }
    let key_start = i;
    if !b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return Line::Other;
    }
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        i += 1;
    }
    let key = key_start..i;
    i = skip_blanks(b, i);
    if b.get(i) != Some(&b'=') {
        return Line::Other;
    }
    let after_eq = i + 1;
    i = skip_blanks(b, after_eq);
    let (value, span) = match b.get(i) {
        Some(&q) if q == b'"' || q == b'\'' => {
            let Some(end) = closing_quote(b, i + 1, q) else {
                return Line::Unterminated(q);
            };
            let raw = &line[i + 1..end];
            let value = if q == b'"' {
                unescape(raw)
            } else {
                raw.to_string()
            };
            (value, i + 1..end)
        }
        // `KEY= # comment`: a `#` after blanks starts a comment, so the value is empty.
        Some(b'#') if i > after_eq => (String::new(), i..i),
        _ => {
            let mut end = i;
            while end < b.len() && !(b[end] == b'#' && end > i && is_blank(b[end - 1])) {
                end += 1;
            }
            while end > i && is_blank(b[end - 1]) {
                end -= 1;
            }
            (line[i..end].to_string(), i..end)
        }
    };
    // `${OTHER}`/`$OTHER` is a reference to another variable, not a version.
    // Single quotes are literal in shells, so only other values can reference.
    if value.contains('$') && b.get(i) != Some(&b'\'') {
        return Line::Other;
    }
    Line::Assignment(Assignment { key, value, span })
}

/// Double-quoted escapes as shells and dotenv loaders read them.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RefKind, Span};

    fn pins(text: &str) -> Vec<Pin> {
        extract(
            "kubernetes/clusters/live/.versions.env",
            text,
            &LineIndex::new(text),
        )
        .unwrap()
        .into_iter()
        .filter_map(|f| match f.kind {
            FactKind::Pin(p) => Some(p),
            _ => None,
        })
        .collect()
    }

    /// (line, column, end_line, end_column).
    type Pos = (u32, u32, u32, u32);

    fn pos(s: &Span) -> Pos {
        (s.line, s.column, s.end_line, s.end_column)
    }

    const LIVE: &str = "# Versions promoted from integration\n\
TALOS_VERSION=v1.12.1\n\
export KUBERNETES_VERSION=\"1.35.0\"\n\
CILIUM_VERSION='1.18.6'   # pinned\n\
FLUX_VERSION=v2.7.5 # comment after blank\n\
\n\
# PROMETHEUS_VERSION=latest\n\
CLUSTER_NAME=live\n\
not an assignment\n\
IMAGE_TAG = sha-abc#1\n\
version=3\n";

    #[test]
    fn live_versions_env() {
        let pins = pins(LIVE);
        let got: Vec<(&str, &str, &str, Pos)> = pins
            .iter()
            .map(|p| {
                assert_eq!(p.kind, PinKind::VersionKey);
                assert_eq!(p.reference.kind, RefKind::Tag);
                assert_eq!(&LIVE[p.span.range()], p.reference.value);
                (
                    p.component.as_str(),
                    p.reference.value.as_str(),
                    p.context.as_str(),
                    pos(&p.span),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("TALOS_VERSION", "v1.12.1", "TALOS_VERSION", (2, 15, 2, 22)),
                (
                    "KUBERNETES_VERSION",
                    "1.35.0",
                    "KUBERNETES_VERSION",
                    (3, 28, 3, 34)
                ),
                ("CILIUM_VERSION", "1.18.6", "CILIUM_VERSION", (4, 17, 4, 23)),
                ("FLUX_VERSION", "v2.7.5", "FLUX_VERSION", (5, 14, 5, 20)),
                ("IMAGE_TAG", "sha-abc#1", "IMAGE_TAG", (10, 13, 10, 22)),
                ("version", "3", "version", (11, 9, 11, 10)),
            ]
        );
    }

    #[test]
    fn crlf_and_empty_values() {
        let text = "TALOS_VERSION=v1.12.1\r\nAPP_VERSION=\r\nX_TAG= # unset\r\n";
        let pins = pins(text);
        assert_eq!(pins.len(), 3);
        assert_eq!(pins[0].reference.value, "v1.12.1");
        assert_eq!(pos(&pins[0].span), (1, 15, 1, 22));
        assert_eq!(pins[1].reference.kind, RefKind::Absent);
        assert_eq!(&text[pins[1].span.range()], "APP_VERSION");
        assert_eq!(pos(&pins[1].span), (2, 1, 2, 12));
        assert_eq!(pins[2].reference.kind, RefKind::Absent);
    }

    #[test]
    fn an_unterminated_quote_makes_the_file_unreadable() {
        let text = "TALOS_VERSION=\"v1.12.1\nCILIUM_VERSION=latest\n";
        let err = extract("x.env", text, &LineIndex::new(text)).unwrap_err();
        assert_eq!(err, "unterminated quoted value starting at line 1 column 1");
    }

    #[test]
    fn multiline_quotes_references_and_escapes() {
        let text = "NOTE=\"first line\nFAKE_VERSION=latest\nend\"\nA_VERSION=${BASE_VERSION}\nB_VERSION=\"v\\\"1\"\nC_VERSION='$literal'\nD_VERSION=\"v2\" # ok\n";
        let pins = pins(text);
        let got: Vec<(&str, &str)> = pins
            .iter()
            .map(|p| (p.component.as_str(), p.reference.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("B_VERSION", "v\"1"),
                ("C_VERSION", "$literal"),
                ("D_VERSION", "v2"),
            ]
        );
        assert_eq!(&text[pins[0].span.range()], "v\\\"1");
        assert_eq!(pos(&pins[2].span), (7, 12, 7, 14));
    }

    #[test]
    fn odd_lines_do_not_panic() {
        for text in [
            "",
            "=",
            "export",
            "export ",
            "exportX_VERSION=1",
            "A_VERSION=\"",
            "A_VERSION='",
            "A_VERSION=\"\\",
            "é_VERSION=1",
            "A_VERSION=é #x",
            "\r\n\r\n",
        ] {
            let _ = extract("x.env", text, &LineIndex::new(text));
        }
        for (i, _) in LIVE.char_indices() {
            let _ = extract("x.env", &LIVE[i..], &LineIndex::new(&LIVE[i..]));
        }
        assert_eq!(pins("exportX_VERSION=1")[0].component, "exportX_VERSION");
        assert_eq!(pins("export\tY_TAG=1")[0].component, "Y_TAG");
    }
}
