//! Where a value is: spans (byte range, line and column) and the line index that makes them.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// A region of a file: byte range plus 1-based line and column (columns count Unicode
/// scalar values; `end_*` is exclusive, as in the JSON output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl Span {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// Maps byte offsets of one text to line:column positions.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        LineIndex { line_starts }
    }

    /// 1-based (line, column) of a byte offset; the column counts Unicode scalar values.
    /// Offsets past the end or inside a multi-byte character are clamped to a boundary.
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = text[start..offset].chars().count() + 1;
        (line as u32 + 1, column as u32)
    }

    /// The span of `range` in `text`.
    pub fn span(&self, text: &str, range: Range<usize>) -> Span {
        let (line, column) = self.position(text, range.start);
        let (end_line, end_column) = self.position(text, range.end.max(range.start));
        Span {
            start: range.start.min(text.len()),
            end: range.end.max(range.start).min(text.len()),
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// Byte offset where 1-based `line` starts, if the text has that line.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.line_starts
            .get((line as usize).checked_sub(1)?)
            .copied()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter_map(|(i, b)| (*b == b'\n').then_some(i))
}
