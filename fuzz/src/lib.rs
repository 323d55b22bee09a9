//! What every fuzz target checks besides "no panic": facts point at real text.
//!
//! A violated invariant panics, which libFuzzer reports as a crash with the input saved
//! under `artifacts/TARGET/`.

use promolint::extract::{self, Format};
use promolint::model::{Fact, FactKind, LineIndex, Span};

/// Run `f` on a thread with a 2 MiB stack, the size of the rayon workers that extract
/// files and load the config in a real run (libFuzzer's own thread has 8 MiB, which would
/// hide a recursion that overflows there).
pub fn on_worker<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(s, f)
            .expect("spawn a worker thread");
        match worker.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset, counted from the text alone.
pub fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line as u32, column as u32)
}

/// A span lies inside `text`, on character boundaries, with matching line and column.
pub fn check_span(text: &str, span: &Span, what: &str) {
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what}: span {span:?} outside a text of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what}: span {span:?} cuts a character"
    );
    assert_eq!(
        (span.line, span.column),
        position(text, span.start),
        "{what}: start of {span:?}"
    );
    assert_eq!(
        (span.end_line, span.end_column),
        position(text, span.end),
        "{what}: end of {span:?}"
    );
}

/// Every span a fact carries.
pub fn spans(fact: &Fact) -> Vec<&Span> {
    let mut out = Vec::new();
    match &fact.kind {
        FactKind::Pin(p) => out.push(&p.span),
        FactKind::TagPolicy(p) => {
            out.extend([&p.span, &p.order_span]);
            out.extend(p.pattern.as_ref().map(|(_, s)| s));
            out.extend(p.extract.as_ref().map(|(_, s)| s));
        }
        FactKind::ImageRepository(r) => out.push(&r.span),
        FactKind::Kustomization(k) => out.extend(k.resources.iter().map(|(_, s)| s)),
        FactKind::ArtifactTemplate(t) => out.push(&t.span),
        FactKind::ImageUpdateAutomation(a) => {
            out.push(&a.span);
            out.extend(a.path.as_ref().map(|(_, s)| s));
        }
        FactKind::KargoStage(s) => {
            out.push(&s.span);
            out.extend(s.upstream.iter().map(|(_, s)| s));
        }
        FactKind::RenovateConfig(c) => {
            for rule in &c.rules {
                out.push(&rule.span);
                out.extend(rule.files.iter().map(|f| &f.span));
            }
        }
    }
    out
}

/// `line L column C` in a reason points inside the text.
pub fn check_reason(text: &str, reason: &str) {
    assert!(!reason.is_empty(), "an error without a reason");
    let Some(at) = reason.find("line ") else {
        return;
    };
    let mut words = reason[at..].split(|c: char| !c.is_ascii_alphanumeric());
    let (Some("line"), Some(line), Some("column"), Some(column)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return;
    };
    let (Ok(line), Ok(column)) = (line.parse::<usize>(), column.parse::<usize>()) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        (1..=lines.len()).contains(&line),
        "`{reason}` names line {line} of {}",
        lines.len()
    );
    let width = lines[line - 1].chars().count();
    assert!(
        (1..=width + 1).contains(&column),
        "`{reason}` names column {column} of a line of {width} characters"
    );
}

/// Extract `text` as `format` (skipping the byte prefilter, to reach the parser with every
/// input), twice, and check the facts or the reason.
pub fn extract_and_check(format: Format, path: &str, text: &str) {
    let run = || {
        let index = LineIndex::new(text);
        match format {
            Format::Yaml => extract::yaml::extract(path, text, &index),
            Format::Hcl => extract::hcl::extract(path, text, &index),
            Format::EnvFile => extract::envfile::extract(path, text, &index),
            Format::Renovate => extract::renovate::extract(path, text, &index),
        }
    };
    let first = on_worker(run);
    assert_eq!(first, run(), "two runs on the same input differ");
    match &first {
        Ok(facts) => {
            for fact in facts {
                for span in spans(fact) {
                    check_span(text, span, "fact");
                }
            }
        }
        Err(reason) => check_reason(text, reason),
    }
}
