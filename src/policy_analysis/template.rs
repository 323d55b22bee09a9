//! Flux `filterTags.extract` templates, read the way Go's `regexp.Expand` reads them:
//! `$name`, `${name}`, `$1`, `$$` for a dollar, anything else literal.

/// One piece of an extract template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Piece {
    Text(String),
    /// A group reference as written: a name, or a number (`1`).
    Group(String),
}

pub(super) fn parse(template: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            text.push('$');
            rest = r;
            continue;
        }
        match group_name(after) {
            Some((name, r)) => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Group(name.to_string()));
                rest = r;
            }
            // Go keeps a malformed reference as a literal `$`.
            None => {
                text.push('$');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The name after a `$` and the text after it, if the reference is well formed.
fn group_name(s: &str) -> Option<(&str, &str)> {
    let (body, braced) = match s.strip_prefix('{') {
        Some(inner) => (inner, true),
        None => (s, false),
    };
    let end = body
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let (name, rest) = body.split_at(end);
    if braced {
        Some((name, rest.strip_prefix('}')?))
    } else {
        Some((name, rest))
    }
}

/// A reference's group number, as Go decides it: digits only, no leading zero, < 1e8.
pub(super) fn group_number(name: &str) -> Option<usize> {
    if name.is_empty()
        || name.len() > 8
        || !name.bytes().all(|b| b.is_ascii_digit())
        || (name.len() > 1 && name.starts_with('0'))
    {
        return None;
    }
    name.parse().ok()
}
