//! `--format human`: rustc-style diagnostics (annotate-snippets), one per finding, with the
//! value's span labelled, related spans as secondary labels, `help:` from the rule page and
//! a closing summary line.

use super::{Context, Summary};
use crate::model::{Level, Span};
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

/// The lines of `text` covering `span`, as (first line number, byte offset of that line,
/// the excerpt).
fn excerpt<'t>(text: &'t str, span: &Span) -> (usize, usize, &'t str) {
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[end..]
        .find('\n')
        .map(|i| end + i)
        .unwrap_or(text.len());
    (
        span.line.max(1) as usize,
        line_start,
        &text[line_start..line_end],
    )
}

fn level(l: Level) -> ALevel<'static> {
    match l {
        Level::Error => ALevel::ERROR,
        Level::Warning => ALevel::WARNING,
        Level::Note => ALevel::NOTE,
    }
}

/// A snippet of `path` around `span`, or just its origin when the text is unavailable.
fn located<'a>(
    ctx: &Context,
    commit: Option<&str>,
    path: &'a str,
    span: &Span,
    kind: AnnotationKind,
    label: Option<&'a str>,
) -> Result<Snippet<'a, annotate_snippets::Annotation<'a>>, Origin<'a>> {
    let text = (ctx.source)(commit, path).filter(|t| span.end <= t.len() && span.start <= span.end);
    match text {
        Some(text) if span.line > 0 => {
            let (line, offset, lines) = excerpt(&text, span);
            let range = (span.start - offset)..(span.end - offset);
            let mut ann = kind.span(range);
            if let Some(l) = label {
                ann = ann.label(l);
            }
            Ok(Snippet::source(Cow::Owned(lines.to_string()))
                .line_start(line)
                .path(path)
                .fold(false)
                .annotation(ann))
        }
        _ => Err(Origin::path(path)
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
        .primary_title(f.message.as_str())
        .id(f.rule)
        .element(
            match located(
                ctx,
                f.commit.as_deref(),
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
        let base = r.revision.as_deref() == Some("base");
        if base {
            let key = crate::modes::base_key(f.commit.as_deref());
            if let Ok(snippet) = located(
                ctx,
                Some(&key),
                &r.path,
                &r.span,
                AnnotationKind::Context,
                Some(&r.message),
            ) {
                group = group.element(snippet);
                continue;
            }
        }
        if let Some(rev) = &r.revision {
            let rev: String = rev.chars().take(12).collect();
            group = group.element(ALevel::NOTE.message(format!(
                "{}:{}:{} (at {rev}): {}",
                r.path, r.span.line, r.span.column, r.message
            )));
            continue;
        }
        group = group.element(
            match located(
                ctx,
                f.commit.as_deref(),
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
        group = group.element(ALevel::NOTE.message(format!("in commit {c}")));
    }
    if let Some(m) = meta {
        group = group.element(ALevel::HELP.message(one_line(m.help())));
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
