//! Inline suppressions: `# promolint: ignore[PL001] reason` (or `// …` in HCL) silences the
//! named rules on the comment's own line and on the line below it.

/// One suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// 1-based line of the comment.
    pub line: u32,
    /// Rule ids or names as written (`PL001`, `mutable-reference`).
    pub rules: Vec<String>,
    pub reason: String,
}

impl Suppression {
    /// Whether this comment silences `rule` (id or name) reported on `line`.
    pub fn covers(&self, id: &str, name: &str, line: u32) -> bool {
        (line == self.line || line == self.line + 1)
            && self
                .rules
                .iter()
                .any(|r| r.eq_ignore_ascii_case(id) || r == name)
    }
}

const MARKER: &str = "promolint: ignore[";

/// Every suppression comment in `text`.
pub fn scan(text: &str) -> Vec<Suppression> {
    if !text.contains(MARKER) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find(MARKER) else {
            continue;
        };
        // Only inside a comment: `#` or `//` before the marker.
        let before = &line[..at];
        let comment = before.trim_end().ends_with('#') || before.trim_end().ends_with("//");
        if !comment {
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
        out.push(Suppression {
            line: i as u32 + 1,
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
        assert!(s[0].covers("PL001", "mutable-reference", 3));
        assert!(!s[0].covers("PL001", "mutable-reference", 4));
        assert!(s[1].covers("PL001", "mutable-reference", 3));
        assert_eq!(s[2].rules, vec!["PL002"]);
    }
}
