//! `--format human`: rustc-style diagnostics (annotate-snippets), one per finding, with the
//! value's span labelled, related spans as secondary labels, `help:` from the rule page and
//! a closing summary line.

use super::{Context, Summary};
use crate::model::{Level, Revision, Span};
use crate::rules::{self, Finding};
use annotate_snippets::{
    AnnotationKind, Element, Group, Level as ALevel, Origin, Renderer, Snippet,
};
use std::borrow::Cow;

/// Options of the human reporter.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
    /// `-q`: no summary line.
    pub quiet: bool,
}

/// The longest excerpt quoted in a snippet, in bytes, and the furthest a line is searched
/// for its ends. A finding on a longer line (a minified manifest) is shown by its location
/// only: quoting megabytes of one line once per finding would make the report, and the
/// time to lay it out, grow with the square of the file.
const MAX_EXCERPT: usize = 4096;

/// The lines of `text` covering `span`, ready to quote: the first line's number, the text
/// with the `\r` of CRLF line ends removed (a viewer shows the lines, not their ends), and
/// the span's range in that text. `None` when the lines are too long to quote.
fn excerpt(text: &str, span: &Span) -> Option<(usize, String, std::ops::Range<usize>)> {
    let bytes = text.as_bytes();
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    if end - start > MAX_EXCERPT {
        return None;
    }
    let floor = start.saturating_sub(MAX_EXCERPT);
    let line_start = match bytes[floor..start].iter().rposition(|&b| b == b'\n') {
        Some(i) => floor + i + 1,
        None if floor == 0 => 0,
        None => return None,
    };
    let ceiling = end.saturating_add(MAX_EXCERPT).min(text.len());
    let line_end = match bytes[end..ceiling].iter().position(|&b| b == b'\n') {
        Some(i) => end + i,
        None if ceiling == text.len() => text.len(),
        None => return None,
    };
    let raw = text.get(line_start..line_end)?;
    // Byte offsets (in `raw`) of the `\r` that end a line.
    let raw_bytes = raw.as_bytes();
    let crs: Vec<usize> = (0..raw_bytes.len())
        .filter(|&i| raw_bytes[i] == b'\r' && raw_bytes.get(i + 1).is_none_or(|&b| b == b'\n'))
        .collect();
    let shift = |at: usize| at - crs.iter().filter(|&&i| i < at).count();
    let mut quoted = String::with_capacity(raw.len());
    let mut from = 0;
    for &i in &crs {
        quoted.push_str(&raw[from..i]);
        from = i + 1;
    }
    quoted.push_str(&raw[from..]);
    let range = shift(start - line_start)..shift(end - line_start);
    let (quoted, range) = shown(&quoted, range);
    Some((span.line.max(1) as usize, quoted, range))
}

/// Quoted lines with every character [`super::printable`] escapes, but the line breaks
/// between them, written as its escape (`\u{1b}`, `\u{9b}`), and `range` moved with them:
/// a terminal never receives an escape sequence from a file. (annotate-snippets replaces
/// C0 controls with symbols itself, but passes C1 controls such as U+009B, a CSI, through.)
fn shown(quoted: &str, range: std::ops::Range<usize>) -> (String, std::ops::Range<usize>) {
    let mut out = String::with_capacity(quoted.len());
    let (mut start, mut end) = (None, None);
    for (i, c) in quoted.char_indices() {
        if i == range.start {
            start = Some(out.len());
        }
        if i == range.end {
            end = Some(out.len());
        }
        if c == '\n' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            out.push_str(&super::printable(c.encode_utf8(&mut buf)));
        }
    }
    let start = start.unwrap_or(out.len());
    let end = end.unwrap_or(out.len()).max(start);
    (out, start..end)
}

fn level(l: Level) -> ALevel<'static> {
    match l {
        Level::Error => ALevel::ERROR,
        Level::Warning => ALevel::WARNING,
        Level::Note => ALevel::NOTE,
    }
}

/// A snippet of `path` around `span`, or just its origin when the text is unavailable (or
/// its lines too long to quote). Paths and labels are shown [`printable`](super::printable).
fn located<'a>(
    ctx: &Context,
    commit: Option<&str>,
    revision: &Revision,
    path: &'a str,
    span: &Span,
    kind: AnnotationKind,
    label: Option<&'a str>,
) -> Result<Snippet<'a, annotate_snippets::Annotation<'a>>, Origin<'a>> {
    let text = (ctx.source)(commit, revision, path)
        .filter(|t| span.end <= t.len() && span.start <= span.end);
    let quoted = text
        .filter(|_| span.line > 0)
        .and_then(|text| excerpt(&text, span));
    match quoted {
        Some((line, lines, range)) => {
            let mut ann = kind.span(range);
            if let Some(l) = label {
                ann = ann.label(super::printable(l));
            }
            Ok(Snippet::source(Cow::Owned(lines))
                .line_start(line)
                .path(super::printable(path))
                .fold(false)
                .annotation(ann))
        }
        None => Err(Origin::path(super::printable(path))
            .line(span.line.max(1) as usize)
            .char_column(span.column as usize)),
    }
}

/// The rendered diagnostics followed by the summary line.
pub fn render(ctx: &Context, style: Style) -> String {
    let renderer = if style.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for f in ctx.findings {
        out.push_str(&render_one(ctx, f, &renderer));
        out.push_str("\n\n");
    }
    if !style.quiet {
        out.push_str(&summary_line(&Summary::of(ctx.findings, ctx.files)));
        out.push('\n');
    }
    out
}

fn render_one(ctx: &Context, f: &Finding, renderer: &Renderer) -> String {
    let meta = rules::lookup(f.rule);
    let label = f.environment.as_deref().map(|e| format!("in {e}"));
    let mut group: Group = level(f.level)
        .primary_title(super::printable(&f.message))
        .id(f.rule)
        .element(
            match located(
                ctx,
                f.commit.as_deref(),
                &Revision::Tree,
                &f.path,
                &f.span,
                AnnotationKind::Primary,
                label.as_deref(),
            ) {
                Ok(s) => Element::from(s),
                Err(o) => Element::from(o),
            },
        );
    for r in &f.related {
        // The base of the change is quoted from its own text; other revisions (a commit
        // of the history) are named, never quoted from this tree.
        if r.revision == Revision::Base {
            if let Ok(snippet) = located(
                ctx,
                f.commit.as_deref(),
                &Revision::Base,
                &r.path,
                &r.span,
                AnnotationKind::Context,
                Some(&r.message),
            ) {
                group = group.element(snippet);
                continue;
            }
        }
        if !r.revision.is_tree() {
            let rev: String = r.revision.to_string().chars().take(12).collect();
            group = group.element(ALevel::NOTE.message(format!(
                "{}:{}:{} (at {}): {}",
                super::printable(&r.path),
                r.span.line,
                r.span.column,
                super::printable(&rev),
                super::printable(&r.message)
            )));
            continue;
        }
        group = group.element(
            match located(
                ctx,
                f.commit.as_deref(),
                &r.revision,
                &r.path,
                &r.span,
                AnnotationKind::Context,
                Some(&r.message),
            ) {
                Ok(s) => Element::from(s),
                Err(o) => Element::from(o),
            },
        );
    }
    if let Some(c) = &f.commit {
        group = group.element(ALevel::NOTE.message(format!("in commit {}", super::printable(c))));
    }
    if let Some(m) = meta {
        group = group.element(ALevel::HELP.message(one_line(m.help_for(f.help))));
        group = group.element(ALevel::NOTE.message(format!(
            "rule {} {}: run `promolint explain {}` for details",
            m.id, m.name, m.id
        )));
    }
    renderer.render(&[group])
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `promolint: 12 files checked: 2 errors, 1 warning, 0 notes`.
pub fn summary_line(s: &Summary) -> String {
    let files = plural(s.files, "file");
    if s.errors + s.warnings + s.notes == 0 {
        format!("promolint: {files} checked: no findings")
    } else {
        format!(
            "promolint: {files} checked: {}, {}, {}",
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.notes, "note")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_lines_send_no_control_characters() {
        let text = "a: x\u{1b}[2J\u{9b}31m\u{2028}y\tz\nb: 1\n";
        let span = Span {
            start: 3,
            end: 19,
            line: 1,
            column: 4,
            ..Span::default()
        };
        let (line, quoted, range) = excerpt(text, &span).expect("quoted");
        assert_eq!(line, 1);
        assert_eq!(quoted, "a: x\\u{1b}[2J\\u{9b}31m\\u{2028}y\tz");
        assert_eq!(&quoted[range], "x\\u{1b}[2J\\u{9b}31m\\u{2028}y\tz");
        // Several lines keep their line breaks.
        let span = Span {
            start: 0,
            end: text.len() - 1,
            line: 1,
            column: 1,
            ..Span::default()
        };
        let (_, quoted, range) = excerpt(text, &span).expect("quoted");
        assert!(quoted.ends_with("\nb: 1"), "{quoted}");
        assert_eq!(range, 0..quoted.len());
    }
}
