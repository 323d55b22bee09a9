//! Inline suppressions: `# promolint: ignore[PL001] reason` (or `// …` in HCL) silences the
//! named rules on the comment's own line and on the line below it. What a suppression may
//! silence, and what is reported about it, is decided in `rules::suppression` (PL011).

use crate::model::{LineIndex, Span};

/// One suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// 1-based line of the comment.
    pub line: u32,
    /// The comment from `promolint:` to the end of its line (where PL011 reports).
    pub span: Span,
    /// Rule ids or names as written (`PL001`, `mutable-reference`).
    pub rules: Vec<String>,
    pub reason: String,
}

crate::model::codec::codec_struct!(Suppression {
    line,
    span,
    rules,
    reason
});

impl Suppression {
    /// Whether this comment names `rule` (its id or its name).
    pub fn names(&self, id: &str, name: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.eq_ignore_ascii_case(id) || r == name)
    }

    /// Whether this comment silences `rule` (id or name) reported on `line`.
    pub fn covers(&self, id: &str, name: &str, line: u32) -> bool {
        (line == self.line || line == self.line + 1) && self.names(id, name)
    }

    /// What identifies the comment across two versions of a file, whatever line it moved
    /// to: its rules and its reason.
    pub fn identity(&self) -> (Vec<String>, &str) {
        let mut rules: Vec<String> = self.rules.iter().map(|r| r.to_ascii_uppercase()).collect();
        rules.sort();
        (rules, self.reason.as_str())
    }
}

const MARKER: &str = "promolint: ignore[";

/// Every suppression comment in `text`.
pub fn scan(text: &str) -> Vec<Suppression> {
    if !text.contains(MARKER) {
        return Vec::new();
    }
    let index = LineIndex::new(text);
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        // Only inside a comment: `#` or `//` before the marker.
        let before = line[..at].trim_end();
        if !(before.ends_with('#') || before.ends_with("//")) {
            continue;
        }
        let rest = &line[at + MARKER.len()..];
        let Some(close) = rest.find(']') else {
            continue;
        };
        let rules = rest[..close]
            .split(',')
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>();
        if rules.is_empty() {
            continue;
        }
        let end = start + line.trim_end().len();
        out.push(Suppression {
            line: i as u32 + 1,
            span: index.span(text, start + at..end),
            rules,
            reason: rest[close + 1..].trim().to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_yaml_hcl_and_env_comments() {
        let text = "a: 1\n# promolint: ignore[PL001] legacy base\nimage: x:latest # promolint: ignore[PL009, mutable-reference]\nv = \"x\" // promolint: ignore[PL002]\nnot: \"promolint: ignore[PL001]\"\n";
        let s = scan(text);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].line, 2);
        assert_eq!(s[0].rules, vec!["PL001"]);
        assert_eq!(s[0].reason, "legacy base");
        assert_eq!((s[0].span.line, s[0].span.column), (2, 3));
        assert_eq!(
            &text[s[0].span.range()],
            "promolint: ignore[PL001] legacy base"
        );
        assert!(s[0].covers("PL001", "mutable-reference", 3));
        assert!(!s[0].covers("PL001", "mutable-reference", 4));
        assert!(s[1].covers("PL001", "mutable-reference", 3));
        assert_eq!((s[1].span.line, s[1].span.column), (3, 19));
        assert_eq!(s[2].rules, vec!["PL002"]);
        assert_eq!(s[2].reason, "");
    }

    #[test]
    fn spans_survive_crlf_and_unicode() {
        let text = "é: 1\r\n# promolint: ignore[PL006] promoted by hand\r\n";
        let s = scan(text);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].span.line, s[0].span.column), (2, 3));
        assert_eq!(
            &text[s[0].span.range()],
            "promolint: ignore[PL006] promoted by hand"
        );
        assert_eq!(s[0].reason, "promoted by hand");
    }
}
