//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run. `tool.driver.rules` lists every rule from its page in `rules/`; each result
//! names its rule by id and index, points at the value with a region in Unicode code
//! points (`run.columnKind`), quotes it in `snippet`, carries the related locations and the
//! logical fingerprint (`partialFingerprints["promolint/v1"]`, no line numbers), and the
//! run records the commit it judged (`versionControlProvenance`). Paths are relative URIs
//! against `%SRCROOT%`, the repository root, so the file is the same on every machine.
//!
//! Constraints of consumers: GitHub wants `endColumn` greater than `startColumn` on a
//! one-line region, so an empty span (a deleted file at 1:1, a parser's stop position) has
//! its start only; a region needs `startLine >= 1`, so a finding without a line has none.

use super::{fingerprint, fix_edits, rule_url, Context, REPOSITORY_URL};
use crate::model::{Level, Revision, Span};
use crate::rules::{self, RuleKind, RuleMeta};
use serde::Serialize;
use std::collections::BTreeMap;

/// The schema the document declares: the final OASIS 2.1.0 schema (errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The key of the logical fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "promolint/v1";

/// The base id every artifact location is relative to: the repository root.
pub const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: Vec<Invocation>,
    automation_details: AutomationDetails,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    version_control_provenance: Vec<VersionControl<'a>>,
    original_uri_base_ids: BTreeMap<&'static str, BaseLocation>,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

impl Text {
    fn new(text: impl Into<String>) -> Self {
        Text { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
    /// Only written for rules that are off unless selected (`true` is the default).
    #[serde(skip_serializing_if = "is_true")]
    enabled: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

/// What GitHub code scanning reads besides the SARIF fields: `tags` (shown on the alert
/// and searchable) and `precision` (orders and filters alerts).
#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    associated_rule: RuleReference,
}

#[derive(Serialize)]
struct RuleReference {
    id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionControl<'a> {
    repository_uri: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<&'a str>,
    /// The working tree's root is the repository's root: `%SRCROOT%`.
    mapped_to: BaseReference,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BaseReference {
    uri_base_id: &'static str,
}

#[derive(Serialize)]
struct BaseLocation {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    /// With `--fix`: the finding's safe fix (SARIF 2.1.0 §3.55).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    properties: BTreeMap<&'static str, &'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Text,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: DeletedRegion,
    inserted_content: Text,
}

/// The text a replacement deletes, in lines and columns (code points, as the results'
/// regions); an insertion deletes the empty region at its point (§3.30.2).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeletedRegion {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Text>,
}

/// SARIF's level for ours (the same three words).
fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// A repository-relative, `/`-separated path as a relative URI reference: every byte
/// outside the unreserved set and `/` is percent-encoded (UTF-8), so spaces, `%`, `#`,
/// `?`, `:` (a first segment with a colon would read as a scheme) and non-ASCII names
/// stay one path.
pub fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Text for a SARIF message that may hold embedded links (SARIF 2.1.0 §3.11.6): a literal
/// `[` or `]` is escaped with a backslash, and so is a backslash right before one, so
/// that nothing the repository wrote (a regex's `[0-9]`, a value) reads as a link.
fn escape_message(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\\' if matches!(chars.peek(), Some('[' | ']')) => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out
}

/// A result's message: its text, then each related location as an embedded link to it
/// (`(see [staging runs v5 here](1))`), which GitHub code scanning and SARIF viewers turn into a
/// link to that location.
fn linked_message(message: &str, related: &[(usize, String)]) -> String {
    let mut text = escape_message(message);
    if !related.is_empty() {
        let links: Vec<String> = related
            .iter()
            .map(|(id, m)| format!("[{}]({id})", escape_message(m)))
            .collect();
        text.push_str(&format!(" (see {})", links.join("; ")));
    }
    text
}

/// The first paragraph of a rule page after its `# PLnnn name` heading, on one line.
pub fn first_paragraph(body: &str) -> String {
    let mut paragraph = Vec::new();
    for line in body
        .lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
    {
        if line.trim().is_empty() || line.starts_with('#') {
            break;
        }
        paragraph.push(line.trim());
    }
    paragraph.join(" ")
}

fn rule_descriptor(meta: &'static RuleMeta) -> Rule {
    let kind = match meta.kind {
        RuleKind::Tree => "tree",
        RuleKind::Change => "change",
    };
    let full = first_paragraph(meta.body);
    Rule {
        id: meta.id,
        name: meta.name,
        short_description: Text::new(meta.summary),
        full_description: Text::new(if full.is_empty() {
            meta.summary.to_string()
        } else {
            full
        }),
        help: Help {
            text: meta.help_text(),
            markdown: meta.body.trim_end().to_string(),
        },
        help_uri: rule_url(meta),
        default_configuration: Configuration {
            level: level(meta.level),
            enabled: meta.enabled,
        },
        properties: RuleProperties {
            tags: ["promotion", "gitops", kind]
                .into_iter()
                .chain(meta.tags.iter().copied())
                .collect(),
            precision: meta.precision,
        },
    }
}

/// The index of a rule in `tool.driver.rules` (every rule, ordered by id).
fn rule_index(id: &str) -> Option<usize> {
    rules::all().iter().position(|r| r.id == id)
}

/// A region for a span: none without a line; start only when the span is empty.
fn region(span: &Span, snippet: Option<String>) -> Option<Region> {
    if span.line == 0 {
        return None;
    }
    let start_column = (span.column > 0).then_some(span.column);
    let nonempty = span.end_line > span.line
        || (span.end_line == span.line && span.end_column > span.column && span.column > 0);
    if !nonempty {
        return Some(Region {
            start_line: span.line,
            start_column,
            end_line: None,
            end_column: None,
            snippet: None,
        });
    }
    Some(Region {
        start_line: span.line,
        start_column,
        end_line: Some(span.end_line),
        end_column: Some(span.end_column),
        snippet: snippet.filter(|s| !s.is_empty()).map(Text::new),
    })
}

/// The longest snippet or context quoted, in bytes, and the furthest a line is searched for
/// its ends: a finding on a longer line (a minified manifest) carries no context, so that
/// the report does not grow with the square of the file.
const MAX_QUOTE: usize = 4096;

/// The whole lines a non-empty span covers, quoted: the context a viewer shows around it.
fn context_region(text: Option<&str>, span: &Span) -> Option<Region> {
    let text = text?;
    if span.line == 0 || span.end <= span.start || span.end > text.len() {
        return None;
    }
    if span.end - span.start > MAX_QUOTE {
        return None;
    }
    let bytes = text.as_bytes();
    let floor = span.start.saturating_sub(MAX_QUOTE);
    let start = match bytes
        .get(floor..span.start)?
        .iter()
        .rposition(|&b| b == b'\n')
    {
        Some(i) => floor + i + 1,
        None if floor == 0 => 0,
        None => return None,
    };
    let ceiling = span.end.saturating_add(MAX_QUOTE).min(text.len());
    let end = match bytes
        .get(span.end..ceiling)?
        .iter()
        .position(|&b| b == b'\n')
    {
        Some(i) => span.end + i,
        None if ceiling == text.len() => text.len(),
        None => return None,
    };
    let lines = text.get(start..end)?.trim_end_matches('\r');
    Some(Region {
        start_line: span.line,
        start_column: None,
        end_line: Some(span.end_line.max(span.line)),
        end_column: None,
        snippet: Some(Text::new(lines)),
    })
}

/// A location in `path` of the finding's tree (`text` is that file's text, when known).
fn physical(path: &str, span: Option<&Span>, text: Option<&str>) -> PhysicalLocation {
    let snippet = span
        .filter(|s| s.end.saturating_sub(s.start) <= MAX_QUOTE)
        .and_then(|s| text.and_then(|t| t.get(s.start..s.end)));
    let region = span.and_then(|s| region(s, snippet.map(str::to_string)));
    let context_region = match (&region, span) {
        (Some(r), Some(s)) if r.end_line.is_some() => context_region(text, s),
        _ => None,
    };
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: uri(path),
            uri_base_id: SRCROOT,
        },
        region,
        context_region,
    }
}

/// A finding's safe fix as SARIF `fixes`: one artifact change per file, its replacements
/// in order. Empty without a fix, or when a file's text (for lines and columns) is unknown.
fn fixes(ctx: &Context, f: &crate::model::Finding) -> Vec<SarifFix> {
    let Some(fix) = f.fix.safe() else {
        return Vec::new();
    };
    let mut changes: Vec<ArtifactChange> = Vec::new();
    for (edit, span) in fix_edits(ctx, f) {
        let Some(span) = span else {
            return Vec::new();
        };
        let replacement = Replacement {
            deleted_region: DeletedRegion {
                start_line: span.line,
                start_column: span.column,
                end_line: span.end_line,
                end_column: span.end_column,
            },
            inserted_content: Text::new(edit.replacement.clone()),
        };
        let file = uri(&edit.path);
        match changes.iter_mut().find(|c| c.artifact_location.uri == file) {
            Some(c) => c.replacements.push(replacement),
            None => changes.push(ArtifactChange {
                artifact_location: ArtifactLocation {
                    uri: file,
                    uri_base_id: SRCROOT,
                },
                replacements: vec![replacement],
            }),
        }
    }
    vec![SarifFix {
        description: Text::new(fix.description.clone()),
        artifact_changes: changes,
    }]
}

/// The SARIF log, newline-terminated.
pub fn render(ctx: &Context) -> String {
    let driver = Driver {
        name: "promolint",
        version: env!("CARGO_PKG_VERSION"),
        semantic_version: env!("CARGO_PKG_VERSION"),
        information_uri: REPOSITORY_URL,
        rules: rules::all().iter().map(rule_descriptor).collect(),
    };
    let mut results = Vec::with_capacity(ctx.findings.len());
    let mut notifications = Vec::new();
    for f in ctx.findings {
        let commit = f.commit.as_deref();
        let text = (ctx.source)(commit, &Revision::Tree, &f.path);
        let related: Vec<Location> = f
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| {
                // A location in another revision: its text is not this tree's. The base of
                // the change is quoted from its own text; other revisions are only named.
                let (message, text) = match &r.revision {
                    Revision::Tree => (
                        r.message.clone(),
                        (ctx.source)(commit, &r.revision, &r.path),
                    ),
                    Revision::Base => (
                        format!("{} (at {})", r.message, r.revision),
                        (ctx.source)(commit, &r.revision, &r.path),
                    ),
                    Revision::Commit(_) => (format!("{} (at {})", r.message, r.revision), None),
                };
                Location {
                    id: Some(i + 1),
                    physical_location: physical(&r.path, Some(&r.span), text.as_deref()),
                    message: Some(Text::new(message)),
                }
            })
            .collect();
        let mut properties = BTreeMap::new();
        if let Some(e) = f.environment.as_deref() {
            properties.insert("environment", e);
        }
        if let Some(c) = f.component.as_deref() {
            properties.insert("component", c);
        }
        if let Some(c) = commit {
            properties.insert("commit", c);
        }
        if f.rule == rules::unreadable_file::ID {
            notifications.push(Notification {
                level: level(f.level),
                message: Text::new(format!("{}: {}", f.path, f.message)),
                locations: vec![Location {
                    id: None,
                    physical_location: physical(&f.path, None, None),
                    message: None,
                }],
                associated_rule: RuleReference {
                    id: rules::unreadable_file::ID,
                    index: rule_index(f.rule),
                },
            });
        }
        results.push(SarifResult {
            rule_id: f.rule,
            rule_index: rule_index(f.rule),
            level: level(f.level),
            message: Text::new(linked_message(
                &f.message,
                &related
                    .iter()
                    .filter_map(|l| Some((l.id?, l.message.as_ref()?.text.clone())))
                    .collect::<Vec<_>>(),
            )),
            locations: vec![Location {
                id: None,
                physical_location: physical(&f.path, Some(&f.span), text.as_deref()),
                message: None,
            }],
            related_locations: related,
            partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint(f))]),
            fixes: fixes(ctx, f),
            properties,
        });
    }
    let provenance = ctx
        .run
        .repository_uri
        .as_deref()
        .map(|repo| VersionControl {
            repository_uri: repo,
            revision_id: ctx.run.revision.as_deref(),
            branch: ctx.run.branch.as_deref(),
            mapped_to: BaseReference {
                uri_base_id: SRCROOT,
            },
        })
        .into_iter()
        .collect();
    let run = Run {
        tool: Tool { driver },
        invocations: vec![Invocation {
            execution_successful: true,
            tool_execution_notifications: notifications,
        }],
        automation_details: AutomationDetails {
            id: format!("promolint/{}/", ctx.run.command),
        },
        version_control_provenance: provenance,
        original_uri_base_ids: BTreeMap::from([(
            SRCROOT,
            BaseLocation {
                description: Text::new("The root of the repository's working tree."),
            },
        )]),
        column_kind: "unicodeCodePoints",
        results,
    };
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![run],
    };
    // Serialising strings, numbers and maps with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_percent_encoded() {
        assert_eq!(uri("a/b-c_d.e~f.yaml"), "a/b-c_d.e~f.yaml");
        assert_eq!(uri("a b/%,:#?.yaml"), "a%20b/%25%2C%3A%23%3F.yaml");
        assert_eq!(uri("é\n"), "%C3%A9%0A");
    }

    #[test]
    fn empty_spans_have_a_start_only() {
        let span = Span {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            ..Span::default()
        };
        let r = region(&span, Some(String::new())).expect("region");
        assert_eq!(
            (r.start_line, r.start_column, r.end_line, r.end_column),
            (1, Some(1), None, None)
        );
        assert!(region(&Span::default(), None).is_none());
    }

    #[test]
    fn messages_link_related_locations_and_escape_brackets() {
        assert_eq!(linked_message("plain", &[]), "plain");
        assert_eq!(
            linked_message(
                "prod pins v6",
                &[(1, "staging runs v5 here".into()), (2, "the policy".into())]
            ),
            "prod pins v6 (see [staging runs v5 here](1); [the policy](2))"
        );
        assert_eq!(
            linked_message("admits `a[0-9]` \\d \\[x]", &[(1, "[x](2)".into())]),
            "admits `a\\[0-9\\]` \\d \\\\\\[x\\] (see [\\[x\\](2)](1))"
        );
    }

    #[test]
    fn full_description_is_the_first_paragraph() {
        assert_eq!(
            first_paragraph("# PL001 x\n\nOne\ntwo.\n\nThree.\n"),
            "One two."
        );
    }
}
