//! PL000 unreadable-file: a file promolint should read but could not.
use super::Finding;
use crate::config::Config;
use crate::model::{Level, LineIndex, Span};
use crate::snapshot::Snapshot;

pub const ID: &str = "PL000";

pub fn check(snap: &Snapshot, _config: &Config, out: &mut Vec<Finding>) {
    for f in &snap.files {
        let Some(reason) = &f.unreadable else {
            continue;
        };
        let (line, column) = position_in(reason).unwrap_or((1, 1));
        // Reporters quote the text at the span's bytes when the snapshot kept the text (a
        // file with suppression comments): the bytes must be those of the line and column.
        let span = match &f.text {
            Some(text) => {
                let index = LineIndex::new(text);
                let at = offset_of(text, &index, line, column).unwrap_or(text.len());
                index.span(text, at..at)
            }
            None => Span {
                line,
                column,
                end_line: line,
                end_column: column,
                ..Span::default()
            },
        };
        out.push(Finding {
            rule: ID,
            level: Level::Note,
            message: format!("file skipped: {reason}"),
            path: f.path.clone(),
            span,
            environment: snap
                .envs
                .for_path(&f.path)
                .map(|e| snap.envs.get(e).name.clone()),
            component: None,
            commit: None,
            related: Vec::new(),
            value: reason.clone(),
        });
    }
}

/// The byte offset of 1-based `line` and `column` (in characters), kept within the line.
fn offset_of(text: &str, index: &LineIndex, line: u32, column: u32) -> Option<usize> {
    let start = index.line_start(line)?;
    let rest = &text[start..];
    let len = rest.find('\n').unwrap_or(rest.len());
    let within = rest[..len]
        .char_indices()
        .map(|(i, _)| i)
        .chain([len])
        .nth(column.saturating_sub(1) as usize)
        .unwrap_or(len);
    Some(start + within)
}

/// The `line L column C` a parser named in its reason, so the note points where it stopped.
fn position_in(reason: &str) -> Option<(u32, u32)> {
    let at = reason.find("line ")?;
    let mut words = reason[at..].split_whitespace();
    let line = words
        .nth(1)?
        .trim_end_matches([',', ':', ')'])
        .parse()
        .ok()?;
    let column = match (words.next(), words.next()) {
        (Some("column"), Some(c)) => c.trim_end_matches([',', ':', ')']).parse().ok()?,
        _ => 1,
    };
    (line > 0 && column > 0).then_some((line, column))
}

#[cfg(test)]
mod tests {
    use super::position_in;

    #[test]
    fn reads_the_parsers_position() {
        assert_eq!(
            position_in("malformed YAML at line 6 column 14: mapping values"),
            Some((6, 14))
        );
        assert_eq!(
            position_in("unterminated quoted value starting at line 3 column 1"),
            Some((3, 1))
        );
        assert_eq!(position_in("binary file (contains NUL bytes)"), None);
    }
}
