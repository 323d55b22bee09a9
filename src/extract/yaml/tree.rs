//! A generic YAML tree with byte ranges, built from serde-saphyr's parser events.
//!
//! serde-saphyr's own deserializer recurses through a dozen serde frames per nesting
//! level (about 40 KiB per level in a debug build), so a document within its default
//! depth budget of 64 can still overflow a 2 MiB thread stack. The tree is therefore
//! built from the event stream of `serde_saphyr::granit_parser` with an explicit stack,
//! enforcing serde-saphyr's default [`Budget`] limits (depth, nodes, aliases, anchors,
//! scalar bytes) per document. Aliases are expanded by copying, charged to the node
//! budget before the copy is made, so an alias bomb fails after a bounded amount of work.
//!
//! Scalars keep the text as written (`1.10` stays `1.10`; no type resolution).

use serde_saphyr::granit_parser::{ErrorKind, Event, Parser, ScalarStyle, ScanError};
use serde_saphyr::Budget;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// One YAML node and the byte range of its token in the source (for a scalar: the
/// scalar including quotes or block indicators; for a collection: where it starts).
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub val: Val,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum Val {
    /// `~`, `null` or nothing.
    Null,
    /// A scalar, decoded (quotes removed, escapes applied, lines folded).
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar's text (`None` for null and collections).
    pub fn str(&self) -> Option<&str> {
        match &self.val {
            Val::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries()
            .iter()
            .find(|(k, _)| k.str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follow a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The scalar text at a path of mapping keys.
    pub fn str_at(&self, keys: &[&str]) -> Option<&str> {
        self.path(keys)?.str()
    }

    pub fn seq(&self) -> &[Node] {
        match &self.val {
            Val::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.val {
            Val::Map(entries) => entries,
            _ => &[],
        }
    }

    /// Byte range of exactly `part` of this scalar's value, found at byte `at` of the
    /// value, when the source spells the value literally (plain, or quoted without
    /// escapes or folding). Otherwise the whole scalar: block scalars, escapes and
    /// folded lines cannot be mapped back to single source bytes.
    pub fn range_of(&self, text: &str, at: usize, part: &str) -> Range<usize> {
        let whole = self.start..self.end;
        let Some(value) = self.str() else {
            return whole;
        };
        let literal = match text.get(whole.clone()) {
            Some(raw) if raw == value => Some(self.start),
            Some(raw)
                if raw.len() >= 2
                    && (raw.starts_with('"') && raw.ends_with('"')
                        || raw.starts_with('\'') && raw.ends_with('\''))
                    && raw.get(1..raw.len() - 1) == Some(value) =>
            {
                Some(self.start + 1)
            }
            _ => None,
        };
        match literal {
            Some(base) if value.get(at..at + part.len()) == Some(part) => {
                base + at..base + at + part.len()
            }
            _ => whole,
        }
    }

    /// Byte range of the whole value (see [`Node::range_of`]).
    pub fn value_range(&self, text: &str) -> Range<usize> {
        let value = self.str().unwrap_or("");
        self.range_of(text, 0, value)
    }

    /// Number of nodes in this subtree (bounded by the depth limit, so recursion is safe).
    fn count(&self) -> usize {
        match &self.val {
            Val::Null | Val::Scalar(_) => 1,
            Val::Seq(items) => 1 + items.iter().map(Node::count).sum::<usize>(),
            Val::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.count() + v.count())
                    .sum::<usize>()
            }
        }
    }
}

/// Why a file could not be parsed, with the byte offset it points at.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub offset: Option<usize>,
    pub message: String,
    /// A syntax error of the parser (as opposed to a budget or a semantic error).
    pub syntax: bool,
}

impl ParseError {
    fn at(offset: Option<usize>, message: impl Into<String>) -> Self {
        ParseError {
            offset,
            message: message.into(),
            syntax: false,
        }
    }
}

/// Nesting past the parser's own limit is our depth budget speaking, not bad syntax.
fn scan_error(e: ScanError, depth: usize) -> ParseError {
    let offset = e.marker().byte_offset();
    if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) {
        return too_deep(offset.unwrap_or(0), depth);
    }
    ParseError {
        offset,
        message: e.info(),
        syntax: true,
    }
}

/// Limits, per document, taken from serde-saphyr's default [`Budget`].
struct Limits {
    depth: usize,
    nodes: usize,
    events: usize,
    aliases: usize,
    anchors: usize,
    scalar_bytes: usize,
}

impl Limits {
    fn new() -> Self {
        let b = Budget::default();
        Limits {
            depth: b.max_depth,
            nodes: b.max_nodes,
            events: b.max_events,
            aliases: b.max_aliases,
            anchors: b.max_anchors,
            scalar_bytes: b.max_total_scalar_bytes,
        }
    }
}

/// Counters of the document being read.
#[derive(Default)]
struct Usage {
    nodes: usize,
    events: usize,
    aliases: usize,
    scalar_bytes: usize,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// `<<: *base` values, merged when the mapping ends.
        merges: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    /// A skipped document's top-level mapping: events are only counted.
    Skip { depth: usize },
}

/// Parse every document of `text`, handing each one that may hold a fact (a mapping or
/// a sequence, not skipped for its `kind:`) to `on_document` as soon as it is complete,
/// so that only one document's tree is in memory at a time. With `skip_kinds` false no
/// document is skipped for its `kind:` (a Helm values file may have a top-level `kind`
/// key of its own: `kind: DaemonSet` picks the chart's workload).
pub(crate) fn parse(
    text: &str,
    skip_kinds: bool,
    mut on_document: impl FnMut(&Node),
) -> Result<(), ParseError> {
    let limits = Limits::new();
    let options = serde_saphyr::granit_parser::options! {
        emit_comments: false,
        // Past our own depth limit, so that it is ours that reports the nesting.
        flow_nesting_limit: limits.depth + 2,
        block_nesting_limit: limits.depth + 2,
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut usage = Usage::default();
    let mut root: Option<Node> = None;

    for item in Parser::new_from_str_with_options(text, options) {
        let (event, span) = item.map_err(|e| scan_error(e, limits.depth))?;
        let range = span.byte_range().unwrap_or(0..0);
        usage.events += 1;
        if usage.events > limits.events {
            return Err(ParseError::at(
                Some(range.start),
                format!("YAML document has more than {} events", limits.events),
            ));
        }
        // Inside a skipped mapping only nesting matters.
        if let Some(Frame::Skip { depth }) = stack.last_mut() {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    *depth += 1;
                    if *depth > limits.depth {
                        return Err(too_deep(range.start, limits.depth));
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    *depth = depth.saturating_sub(1);
                    if *depth == 0 {
                        stack.pop();
                    }
                }
                _ => {}
            }
            continue;
        }
        let node = match event {
            Event::DocumentStart(..) => {
                usage = Usage::default();
                anchors.clear();
                continue;
            }
            Event::DocumentEnd => {
                if let Some(node) = root.take() {
                    if matches!(node.val, Val::Seq(_) | Val::Map(_)) {
                        on_document(&node);
                    }
                }
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => {
                charge(&mut usage.nodes, 1, limits.nodes, range.start, "nodes")?;
                usage.scalar_bytes += value.len();
                if usage.scalar_bytes > limits.scalar_bytes {
                    return Err(ParseError::at(
                        Some(range.start),
                        format!("YAML scalars exceed {} bytes", limits.scalar_bytes),
                    ));
                }
                let null = tag.is_none()
                    && style == ScalarStyle::Plain
                    && matches!(&*value, "" | "~" | "null" | "Null" | "NULL");
                let node = Node {
                    val: if null {
                        Val::Null
                    } else {
                        Val::Scalar(value.into_owned())
                    },
                    start: range.start,
                    end: range.end,
                };
                remember(&mut anchors, anchor, &node, &limits, range.start)?;
                node
            }
            Event::Alias(id) => {
                usage.aliases += 1;
                if usage.aliases > limits.aliases {
                    return Err(ParseError::at(
                        Some(range.start),
                        format!("more than {} YAML aliases", limits.aliases),
                    ));
                }
                let Some(target) = anchors.get(&id) else {
                    return Err(ParseError::at(
                        Some(range.start),
                        "alias refers to an anchor that encloses it (recursive alias)",
                    ));
                };
                let size = target.count();
                if usage.nodes.saturating_add(size) > limits.nodes {
                    return Err(ParseError::at(
                        Some(range.start),
                        format!(
                            "alias expansion budget exceeded (more than {} nodes)",
                            limits.nodes
                        ),
                    ));
                }
                usage.nodes += size;
                target.clone()
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                charge(&mut usage.nodes, 1, limits.nodes, range.start, "nodes")?;
                if stack.len() >= limits.depth {
                    return Err(too_deep(range.start, limits.depth));
                }
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        start: range.start,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                        start: range.start,
                        anchor,
                    }
                };
                stack.push(frame);
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    start,
                    anchor,
                }) => {
                    let node = Node {
                        val: Val::Seq(items),
                        start,
                        end: start,
                    };
                    remember(&mut anchors, anchor, &node, &limits, start)?;
                    node
                }
                _ => return Err(ParseError::at(Some(range.start), "unbalanced sequence")),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    mut entries,
                    merges,
                    start,
                    anchor,
                    ..
                }) => {
                    if let Some(dup) = duplicate_key(&entries) {
                        return Err(ParseError::at(
                            Some(dup.start),
                            format!("duplicate mapping key `{}`", dup.str().unwrap_or("")),
                        ));
                    }
                    merge(&mut entries, merges);
                    let node = Node {
                        val: Val::Map(entries),
                        start,
                        end: start,
                    };
                    remember(&mut anchors, anchor, &node, &limits, start)?;
                    node
                }
                _ => return Err(ParseError::at(Some(range.start), "unbalanced mapping")),
            },
            _ => continue,
        };
        // Attach the finished node to its parent, or make it the document's root.
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                key,
                merges,
                ..
            }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let is_merge = k.str() == Some("<<")
                        && text.get(k.start..k.end) == Some("<<")
                        && matches!(node.val, Val::Map(_) | Val::Seq(_));
                    if is_merge {
                        merges.push(node);
                    } else {
                        entries.push((k, node));
                    }
                }
            },
            Some(Frame::Skip { .. }) => {}
        }
        // A top-level `kind:` that cannot hold a fact: skip the rest of the document.
        if let (
            true,
            [Frame::Map {
                entries, key: None, ..
            }],
        ) = (skip_kinds, stack.as_slice())
        {
            if let Some((k, v)) = entries.last() {
                if k.str() == Some("kind")
                    && v.str()
                        .is_some_and(|kind| !crate::model::kinds::may_hold_facts(kind))
                {
                    stack.clear();
                    stack.push(Frame::Skip { depth: 1 });
                }
            }
        }
    }
    Ok(())
}

fn too_deep(offset: usize, limit: usize) -> ParseError {
    ParseError::at(Some(offset), format!("YAML nesting deeper than {limit}"))
}

fn charge(
    used: &mut usize,
    n: usize,
    limit: usize,
    offset: usize,
    what: &str,
) -> Result<(), ParseError> {
    *used = used.saturating_add(n);
    if *used > limit {
        return Err(ParseError::at(
            Some(offset),
            format!("YAML document has more than {limit} {what}"),
        ));
    }
    Ok(())
}

/// Keep an anchored node for later aliases.
fn remember(
    anchors: &mut HashMap<usize, Node>,
    anchor: usize,
    node: &Node,
    limits: &Limits,
    offset: usize,
) -> Result<(), ParseError> {
    if anchor == 0 {
        return Ok(());
    }
    if anchors.len() >= limits.anchors {
        return Err(ParseError::at(
            Some(offset),
            format!("more than {} YAML anchors", limits.anchors),
        ));
    }
    anchors.insert(anchor, node.clone());
    Ok(())
}

/// A scalar key that occurs twice in a mapping (YAML requires unique keys; kubectl and
/// Flux reject such files, and which value applies would be a guess).
fn duplicate_key(entries: &[(Node, Node)]) -> Option<&Node> {
    if entries.len() <= 16 {
        return entries.iter().enumerate().find_map(|(i, (k, _))| {
            let name = k.str()?;
            entries[..i]
                .iter()
                .any(|(e, _)| e.str() == Some(name))
                .then_some(k)
        });
    }
    let mut seen = HashSet::with_capacity(entries.len());
    entries
        .iter()
        .find(|(k, _)| k.str().is_some_and(|name| !seen.insert(name)))
        .map(|(k, _)| k)
}

/// Apply `<<` merge keys: entries of the merged mappings that the mapping does not
/// define itself are appended (earlier merge sources win, as in YAML 1.1).
fn merge(entries: &mut Vec<(Node, Node)>, merges: Vec<Node>) {
    if merges.is_empty() {
        return;
    }
    // The keys present so far (`None` for a key that is not a scalar), so that merging a
    // mapping of n keys costs n lookups, not n scans of the entries.
    let mut present: HashSet<Option<String>> = entries
        .iter()
        .map(|(k, _)| k.str().map(str::to_string))
        .collect();
    for source in merges {
        let maps = match source.val {
            Val::Seq(items) => items,
            other => vec![Node {
                val: other,
                start: source.start,
                end: source.end,
            }],
        };
        for map in maps {
            if let Val::Map(extra) = map.val {
                for (k, v) in extra {
                    if present.insert(k.str().map(str::to_string)) {
                        entries.push((k, v));
                    }
                }
            }
        }
    }
}
