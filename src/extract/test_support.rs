//! Helpers the extractors' unit tests share.

use crate::model::{Fact, Pin, Span, TagPolicy};

pub fn pins(facts: &[Fact]) -> Vec<&Pin> {
    facts.iter().filter_map(Fact::as_pin).collect()
}

pub fn policies(facts: &[Fact]) -> Vec<&TagPolicy> {
    facts.iter().filter_map(Fact::as_policy).collect()
}

/// `line:column-end_line:end_column` of a span, after checking it covers `expected`.
#[track_caller]
pub fn at(text: &str, span: &Span, expected: &str) -> String {
    assert_eq!(&text[span.range()], expected, "span text");
    format!(
        "{}:{}-{}:{}",
        span.line, span.column, span.end_line, span.end_column
    )
}
