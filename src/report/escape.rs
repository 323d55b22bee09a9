//! The one escape of repository text for every markdown output (the findings table, the
//! step summary, the matrix of `status --format markdown`).

use super::printable;

/// Repository text as markdown prose that renders as written; the one escape every markdown
/// writer uses. Control characters and line breaks are shown as escapes (`\u{1b}`, `\n`,
/// as in the human output); every character markdown or GitHub's extensions
/// (strikethrough, math, tables) would interpret is backslash-escaped; and the `:` of
/// `scheme://` and the `.` of `www.` too, so that no bare URL becomes a link.
pub fn text(s: &str) -> String {
    let shown = printable(s);
    let mut out = String::with_capacity(shown.len() + 8);
    let mut rest = shown.as_ref();
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' | '#' | '!' => {
                true
            }
            ':' => rest.starts_with("//"),
            '.' => out
                .get(out.len().saturating_sub(3)..)
                .is_some_and(|w| w.eq_ignore_ascii_case("www")),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code span that shows `s` literally, whatever backticks it holds (in a table cell:
/// its pipes are escaped as GFM tables require). Control characters and line breaks are
/// shown as escapes, as in [`text`].
pub fn code(s: &str) -> String {
    let content = printable(s).replace('|', "\\|");
    if content.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in content.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if content.starts_with('`') || content.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{content}{pad}{fence}")
}
