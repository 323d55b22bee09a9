//! Property tests (issue 6, robustness): the YAML, HCL and env-file extractors, the
//! whole-file dispatcher, the config loader, the tag-policy analysis and the fingerprint
//! never panic, point only at real text, and answer the same way twice. Issue 10: no pin
//! ledger, however damaged or forged, changes what `check`, `diff` or `history` say.
//!
//! Random bytes rarely get past the first parse error, so most properties start from
//! generators of *plausible* inputs (workloads, kustomizations, Flux objects, HCL locals,
//! env files, configs, regexes) and then mutate them byte by byte. Unmutated generated
//! inputs are also checked against what the generator put in them.
//!
//! Runtime, measured for `cargo test --test properties` (debug build, test binary already
//! built, 2 cores): 5-9 s on an idle machine, 12-21 s while other builds share the
//! cores. Case counts are set per property to stay there. No assertion depends on time:
//! a hang or blow-up shows as a test that does not finish.

mod common;

use promolint::change::{ChangeContext, ChangeKind, ChangedFile};
use promolint::config::{load, Config};
use promolint::extract::{self, envfile, hcl, yaml, Format};
use promolint::history::{HistoryIndex, PastPin};
use promolint::model::{
    Fact, FactKind, LineIndex, PatchBody, PinKind, PolicyOrder, PolicySource, RefKind, Span,
};
use promolint::pipeline as engine;
use promolint::policy_analysis::{self, PolicyContext, Problem};
use promolint::report::fingerprint;
use promolint::rules::{self, Finding};
use promolint::snapshot::Snapshot;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------
// Oracles

/// 1-based line and column (in Unicode scalar values) of a byte offset, computed from the
/// text alone, independently of `LineIndex`.
fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line as u32, column as u32)
}

/// A span lies inside `text`, on character boundaries, and its line:column agree with
/// its byte offsets.
fn check_span(text: &str, span: &Span, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what}: span {span:?} outside a text of {} bytes",
        text.len()
    );
    prop_assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what}: span {span:?} cuts a character"
    );
    prop_assert_eq!(
        (span.line, span.column),
        position(text, span.start),
        "{}: start position of {:?}",
        what,
        span
    );
    prop_assert_eq!(
        (span.end_line, span.end_column),
        position(text, span.end),
        "{}: end position of {:?}",
        what,
        span
    );
    Ok(())
}

/// Every span a fact carries.
fn fact_spans(fact: &Fact) -> Vec<(&'static str, &Span)> {
    let mut out = Vec::new();
    match &fact.kind {
        FactKind::Pin(p) => out.push(("pin", &p.span)),
        FactKind::TagPolicy(p) => {
            out.push(("policy", &p.span));
            out.push(("policy order", &p.order_span));
            if let Some((_, s)) = &p.pattern {
                out.push(("policy pattern", s));
            }
            if let Some((_, s)) = &p.extract {
                out.push(("policy extract", s));
            }
        }
        FactKind::ImageRepository(r) => out.push(("image repository", &r.span)),
        FactKind::Kustomization(k) => {
            out.extend(
                k.resources
                    .iter()
                    .map(|(_, s)| ("kustomization resource", s)),
            );
            for patch in &k.patches {
                out.push(("kustomization patch", &patch.span));
                for body in &patch.inline {
                    let values = match body {
                        PatchBody::Merge(o) => &o.values,
                        PatchBody::Json(j) => &j.ops,
                    };
                    out.extend(values.iter().map(|v| ("inline patch value", &v.span)));
                }
            }
        }
        FactKind::Object(o) => out.extend(o.values.iter().map(|v| ("object value", &v.span))),
        FactKind::ArtifactCopies(_) | FactKind::Replacements(_) => {}
        FactKind::Deploy(d) => {
            out.push(("deploy path", &d.span));
            out.extend(d.value_files.iter().map(|(_, s)| ("deploy values file", s)));
        }
        FactKind::JsonPatch(j) => out.extend(j.ops.iter().map(|v| ("json patch op", &v.span))),
        FactKind::ArtifactTemplate(t) => out.push(("artifact template", &t.span)),
        FactKind::ConfigInclude(c) => out.push(("config include", &c.span)),
        FactKind::ImageUpdateAutomation(a) => {
            out.push(("image update automation", &a.span));
            if let Some((_, s)) = &a.path {
                out.push(("image update automation path", s));
            }
        }
        FactKind::KargoStage(s) => {
            out.push(("kargo stage", &s.span));
            out.extend(s.upstream.iter().map(|(_, s)| ("kargo upstream", s)));
        }
        FactKind::FluxKustomization(k) => {
            out.extend(k.substitute.iter().map(|(_, _, s)| ("flux substitute", s)))
        }
        FactKind::ConfigMapSource(c) => {
            out.extend(c.literals.iter().map(|(_, _, s)| ("config map literal", s)))
        }
        FactKind::TemplatedPin(t) => out.push(("templated pin", &t.pin.span)),
        FactKind::HelmValuesFrom(v) => {
            out.extend(v.refs.iter().map(|r| ("helm values from", &r.span)))
        }
        FactKind::RenovateConfig(c) => {
            for rule in &c.rules {
                out.push(("renovate rule", &rule.span));
                out.extend(
                    rule.files
                        .iter()
                        .map(|f| ("renovate file pattern", &f.span)),
                );
            }
        }
    }
    out
}

/// `line L column C` in a message points inside the text (a column may be one past the
/// last character of its line, where an unexpected end is reported).
fn check_message_position(text: &str, message: &str) -> Result<(), TestCaseError> {
    let Some(at) = message.find("line ") else {
        return Ok(());
    };
    let mut words = message[at..].split(|c: char| !c.is_ascii_alphanumeric());
    let (Some("line"), Some(line), Some("column"), Some(column)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Ok(());
    };
    let (Ok(line), Ok(column)) = (line.parse::<usize>(), column.parse::<usize>()) else {
        return Ok(());
    };
    let lines: Vec<&str> = text.split('\n').collect();
    prop_assert!(
        line >= 1 && line <= lines.len(),
        "message `{message}` names line {line} of a text with {} lines",
        lines.len()
    );
    let width = lines[line - 1].chars().count();
    prop_assert!(
        column >= 1 && column <= width + 1,
        "message `{message}` names column {column} of a line of {width} characters"
    );
    Ok(())
}

/// Whether a fact can lead to a finding: a kustomization without resources or a Renovate
/// config without packageRules cannot, so the prefilter may skip them.
fn matters(fact: &Fact) -> bool {
    match &fact.kind {
        FactKind::Kustomization(k) => !k.resources.is_empty(),
        FactKind::RenovateConfig(c) => !c.rules.is_empty(),
        _ => true,
    }
}

fn direct(format: Format, path: &str, text: &str) -> Result<Vec<Fact>, String> {
    let index = LineIndex::new(text);
    match format {
        Format::Yaml => yaml::extract(path, text, &index),
        Format::Hcl => hcl::extract(path, text, &index),
        Format::EnvFile => envfile::extract(path, text, &index),
        Format::Renovate => extract::renovate::extract(path, text, &index),
    }
}

/// The extractor for `format` is total, precise and deterministic on `text`, the
/// dispatcher agrees with it, and its byte prefilter never drops a file with facts.
fn check_extractor(format: Format, path: &str, text: &str) -> Result<Vec<Fact>, TestCaseError> {
    let first = direct(format, path, text);
    let second = direct(format, path, text);
    prop_assert_eq!(&first, &second, "two runs on the same input differ");
    let dispatched = extract::extract(path, format, text);
    if extract::may_hold_facts(format, text) {
        prop_assert_eq!(&dispatched, &first, "the dispatcher disagrees");
    } else {
        prop_assert_eq!(&dispatched, &Ok(Vec::new()));
        if let Ok(facts) = &first {
            let lost: Vec<&Fact> = facts.iter().filter(|f| matters(f)).collect();
            prop_assert!(
                lost.is_empty(),
                "the prefilter skips a file with facts: {lost:?}"
            );
        }
    }
    match first {
        Ok(facts) => {
            for fact in &facts {
                for (what, span) in fact_spans(fact) {
                    check_span(text, span, what)?;
                }
            }
            Ok(facts)
        }
        Err(message) => {
            prop_assert!(!message.is_empty(), "an error without a reason");
            check_message_position(text, &message)?;
            Ok(Vec::new())
        }
    }
}

// ---------------------------------------------------------------------------------------
// Mutations: generated text, then a few byte edits, so that parsers meet almost-valid input.

#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Replace(usize, u8),
    Duplicate(usize, usize),
}

/// Fragments that matter to at least one of the formats.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    ":", ": ", "\"", "'", "{", "}", "[", "]", "(", ")", "- ", "\n", "\r\n", "\r", "\t", " ",
    "#", " # ", "//", "/*", "*/", "&a ", "*a", "<<: *a\n", "---\n", "...\n", "|\n", ">-\n",
    "!!str ", "? ", "\\", "\\u", "${", "$${", "%{", "=", "export ", "é", "\u{FEFF}",
    "\u{2028}", "𝄞", "\u{0}", "image: ", "version: ", "newTag: ", "_version = ", "<<EOT\n",
    "EOT\n", "\"$imagepolicy\"", "# promolint: ignore[PL001] x\n", "kind: Deployment\n",
    "locals {\n", "?ref=", "@sha256:",
];

fn edit() -> impl Strategy<Value = Edit> {
    let piece = prop_oneof![
        3 => select(TOKENS).prop_map(|t| t.as_bytes().to_vec()),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    prop_oneof![
        (any::<usize>(), piece).prop_map(|(at, p)| Edit::Insert(at, p)),
        (any::<usize>(), 1usize..24).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), 1usize..80).prop_map(|(at, n)| Edit::Duplicate(at, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        match e {
            Edit::Insert(at, piece) => {
                let at = at % (len + 1);
                bytes.splice(at..at, piece.iter().copied());
            }
            Edit::Delete(at, n) if len > 0 => {
                let at = at % len;
                bytes.drain(at..(at + n).min(len));
            }
            Edit::Replace(at, b) if len > 0 => bytes[at % len] = *b,
            Edit::Duplicate(at, n) if len > 0 => {
                let at = at % len;
                let piece = bytes[at..(at + n).min(len)].to_vec();
                bytes.splice(at..at, piece);
            }
            _ => {}
        }
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// Plausible inputs: shared pieces

#[derive(Clone, Copy, Debug)]
enum Quote {
    Plain,
    Single,
    Double,
}

fn quote() -> impl Strategy<Value = Quote> {
    prop_oneof![Just(Quote::Plain), Just(Quote::Single), Just(Quote::Double)]
}

/// A YAML scalar for `s` in the given style (escaping what the style needs).
fn yaml_scalar(s: &str, q: Quote) -> String {
    match q {
        Quote::Plain => s.to_string(),
        Quote::Single => format!("'{}'", s.replace('\'', "''")),
        Quote::Double => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

/// How generated text is laid out.
#[derive(Clone, Debug)]
struct Layout {
    indent: usize,
    crlf: bool,
    /// Comment lines inserted before these line numbers (modulo the line count).
    comments: Vec<usize>,
    /// Lines that get a trailing comment (modulo the line count).
    trailing: Vec<usize>,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        1usize..5,
        any::<bool>(),
        vec(any::<usize>(), 0..3),
        vec(any::<usize>(), 0..3),
    )
        .prop_map(|(indent, crlf, comments, trailing)| Layout {
            indent,
            crlf,
            comments,
            trailing,
        })
}

/// Lines at nesting levels, rendered with a layout; `comment` is the format's comment
/// leader.
#[derive(Default)]
struct Lines(Vec<(usize, String)>);

impl Lines {
    fn push(&mut self, level: usize, line: impl Into<String>) {
        self.0.push((level, line.into()));
    }

    fn render(&self, layout: &Layout, comment: &str) -> String {
        let n = self.0.len().max(1);
        let eol = if layout.crlf { "\r\n" } else { "\n" };
        let mut out = String::new();
        for (i, (level, line)) in self.0.iter().enumerate() {
            let pad = " ".repeat(level * layout.indent);
            if layout.comments.iter().any(|c| c % n == i) {
                out.push_str(&format!("{pad}{comment} note: ünïcode ${{x}} \"q\"{eol}"));
            }
            out.push_str(&pad);
            out.push_str(line);
            if layout.trailing.iter().any(|c| c % n == i) && !line.ends_with('|') {
                out.push_str(&format!(" {comment} trailing é"));
            }
            out.push_str(eol);
        }
        out
    }
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,7}"
}

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        "v[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,3}",
        "(production|staging|develop)-v[0-9]\\.[0-9]\\.[0-9]-[0-9]{10}",
        Just("latest".to_string()),
        "sha-[0-9a-f]{7}",
        "[0-9]{1,3}(\\.[0-9]{1,2}){0,2}",
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
    ]
}

fn repository() -> impl Strategy<Value = String> {
    "(ghcr\\.io/|docker\\.io/|localhost:5000/|registry\\.example\\.com:443/)?[a-z0-9]{1,6}(/[a-z0-9-]{1,6}){0,2}"
}

fn digest() -> impl Strategy<Value = String> {
    "sha256:[0-9a-f]{64}"
}

/// An image reference: repository, tag, digest.
#[derive(Clone, Debug)]
struct Image {
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    quote: Quote,
}

impl Image {
    fn text(&self) -> String {
        let mut s = self.repository.clone();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

fn image() -> impl Strategy<Value = Image> {
    (
        repository(),
        proptest::option::weighted(0.85, tag()),
        proptest::option::weighted(0.3, digest()),
        quote(),
    )
        .prop_map(|(repository, tag, digest, quote)| Image {
            repository,
            tag,
            digest,
            quote,
        })
}

// ---------------------------------------------------------------------------------------
// Plausible YAML

/// One generated YAML document and what it must yield.
#[derive(Clone, Debug)]
struct YamlDoc {
    lines: Vec<(usize, String)>,
    /// Container images it pins (component, tag or "" when absent).
    images: Vec<(String, String)>,
    /// Tag policies it declares (pattern).
    policies: Vec<String>,
}

fn metadata(lines: &mut Lines, level: usize, name: &str, namespace: &Option<String>) {
    lines.push(level, "metadata:");
    lines.push(level + 1, format!("name: {name}"));
    if let Some(ns) = namespace {
        lines.push(level + 1, format!("namespace: {ns}"));
    }
}

fn workload() -> impl Strategy<Value = YamlDoc> {
    (
        select(
            &[
                "Deployment",
                "StatefulSet",
                "DaemonSet",
                "Job",
                "CronJob",
                "Pod",
            ][..],
        ),
        name(),
        proptest::option::of(select(&["dev", "staging", "production", "flux-system"][..])),
        vec((name(), image()), 1..4),
        vec((name(), image()), 0..2),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(kind, name, ns, containers, inits, anchor, marker)| {
            let mut l = Lines::default();
            let api = match kind {
                "Pod" => "v1",
                "Job" | "CronJob" => "batch/v1",
                _ => "apps/v1",
            };
            l.push(0, format!("apiVersion: {api}"));
            l.push(0, format!("kind: {kind}"));
            metadata(&mut l, 0, &name, &ns.map(str::to_string));
            let mut level = 0;
            for key in match kind {
                "Pod" => &["spec"][..],
                "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"][..],
                _ => &["spec", "template", "spec"][..],
            } {
                l.push(level, format!("{key}:"));
                level += 1;
            }
            let mut images = Vec::new();
            for (key, list) in [("initContainers", &inits), ("containers", &containers)] {
                if list.is_empty() {
                    continue;
                }
                l.push(level, format!("{key}:"));
                for (i, (cname, img)) in list.iter().enumerate() {
                    l.push(level, format!("- name: {cname}"));
                    let value = yaml_scalar(&img.text(), img.quote);
                    // The first container of `containers` may anchor its image and the
                    // last one reuse it through an alias.
                    let first = key == "containers" && i == 0;
                    let aliased = anchor && key == "containers" && i > 0 && i + 1 == list.len();
                    let (line, pinned) = if aliased {
                        ("image: *img".to_string(), &list[0].1)
                    } else if first && anchor {
                        (format!("image: &img {value}"), img)
                    } else {
                        (format!("image: {value}"), img)
                    };
                    let line = if marker {
                        format!("{line} # {{\"$imagepolicy\": \"flux-system:{cname}\"}}")
                    } else {
                        line
                    };
                    // Keys of a sequence entry align with the text after `- `.
                    l.push(level, format!("  {line}"));
                    images.push((
                        pinned.repository.clone(),
                        pinned.tag.clone().unwrap_or_default(),
                    ));
                }
            }
            YamlDoc {
                lines: l.0,
                images,
                policies: Vec::new(),
            }
        })
}

fn image_policy() -> impl Strategy<Value = YamlDoc> {
    (
        name(),
        pattern(),
        select(&["$ts", "$1", "${version}", "$nope", ""][..]),
        select(&["semver", "alphabetical", "numerical", "none"][..]),
        quote(),
    )
        .prop_map(|(name, pattern, extract, order, q)| {
            let mut l = Lines::default();
            l.push(0, "apiVersion: image.toolkit.fluxcd.io/v1beta2");
            l.push(0, "kind: ImagePolicy");
            metadata(&mut l, 0, &name, &None);
            l.push(0, "spec:");
            l.push(1, "imageRepositoryRef:");
            l.push(2, format!("name: {name}"));
            l.push(1, "filterTags:");
            // A plain scalar cannot hold every regex: quote unless it is clearly safe.
            let safe = pattern
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "^$.-_".contains(c))
                && pattern
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
            let q = if safe { q } else { Quote::Single };
            l.push(2, format!("pattern: {}", yaml_scalar(&pattern, q)));
            if !extract.is_empty() {
                l.push(2, format!("extract: '{extract}'"));
            }
            match order {
                "semver" => {
                    l.push(1, "policy:");
                    l.push(2, "semver:");
                    l.push(3, "range: '>=1.0.0-0'");
                }
                "alphabetical" | "numerical" => {
                    l.push(1, "policy:");
                    l.push(2, format!("{order}:"));
                    l.push(3, "order: asc");
                }
                _ => {}
            }
            YamlDoc {
                lines: l.0,
                images: Vec::new(),
                policies: vec![pattern],
            }
        })
}

/// Flux and Argo objects whose facts are only checked for precision.
fn other_object() -> impl Strategy<Value = YamlDoc> {
    (
        select(
            &[
                "HelmRelease",
                "OCIRepository",
                "GitRepository",
                "ImageRepository",
                "Application",
                "Stage",
                "ConfigMap",
                "ImageUpdateAutomation",
            ][..],
        ),
        name(),
        image(),
        tag(),
        quote(),
    )
        .prop_map(|(kind, name, img, version, q)| {
            let mut l = Lines::default();
            let v = yaml_scalar(&version, q);
            match kind {
                "HelmRelease" => {
                    l.push(0, "apiVersion: helm.toolkit.fluxcd.io/v2");
                    l.push(0, "kind: HelmRelease");
                    metadata(&mut l, 0, &name, &Some("production".into()));
                    l.push(0, "spec:");
                    l.push(1, "chart:");
                    l.push(2, "spec:");
                    l.push(3, format!("chart: {name}"));
                    l.push(3, format!("version: {v}"));
                    l.push(1, "values:");
                    l.push(2, "image:");
                    l.push(3, format!("repository: {}", img.repository));
                    l.push(3, format!("tag: {v}"));
                    l.push(2, "sidecar:");
                    l.push(3, format!("image: {}", yaml_scalar(&img.text(), img.quote)));
                }
                "OCIRepository" => {
                    l.push(0, "apiVersion: source.toolkit.fluxcd.io/v1beta2");
                    l.push(0, "kind: OCIRepository");
                    metadata(&mut l, 0, &name, &None);
                    l.push(0, "spec:");
                    l.push(1, format!("url: oci://{}", img.repository));
                    l.push(1, "ref:");
                    l.push(2, format!("tag: {v}"));
                }
                "GitRepository" => {
                    l.push(0, "apiVersion: source.toolkit.fluxcd.io/v1");
                    l.push(0, "kind: GitRepository");
                    metadata(&mut l, 0, &name, &None);
                    l.push(0, "spec:");
                    l.push(1, format!("url: https://github.com/acme/{name}.git"));
                    l.push(1, "ref:");
                    l.push(2, format!("tag: {v}"));
                }
                "ImageRepository" => {
                    l.push(0, "apiVersion: image.toolkit.fluxcd.io/v1beta2");
                    l.push(0, "kind: ImageRepository");
                    metadata(&mut l, 0, &name, &None);
                    l.push(0, "spec:");
                    l.push(1, format!("image: {}", img.repository));
                }
                "Application" => {
                    l.push(0, "apiVersion: argoproj.io/v1alpha1");
                    l.push(0, "kind: Application");
                    metadata(&mut l, 0, &name, &None);
                    l.push(1, "annotations:");
                    l.push(
                        2,
                        format!(
                            "argocd-image-updater.argoproj.io/image-list: 'app={}'",
                            img.repository
                        ),
                    );
                    l.push(
                        2,
                        "argocd-image-updater.argoproj.io/app.allow-tags: 'regexp:^prod-'",
                    );
                    l.push(0, "spec:");
                    l.push(1, "source:");
                    l.push(2, "repoURL: https://github.com/acme/apps.git");
                    l.push(2, format!("targetRevision: {v}"));
                }
                "Stage" => {
                    l.push(0, "apiVersion: kargo.akuity.io/v1alpha1");
                    l.push(0, "kind: Stage");
                    metadata(&mut l, 0, &name, &Some("guestbook".into()));
                    l.push(0, "spec:");
                    l.push(1, "requestedFreight:");
                    l.push(1, "- origin: {kind: Warehouse, name: w}");
                    l.push(1, "  sources:");
                    l.push(1, format!("    stages: [{name}, qa]"));
                }
                "ImageUpdateAutomation" => {
                    l.push(0, "apiVersion: image.toolkit.fluxcd.io/v1beta2");
                    l.push(0, "kind: ImageUpdateAutomation");
                    metadata(&mut l, 0, &name, &Some("flux-system".into()));
                    l.push(0, "spec:");
                    l.push(1, "update:");
                    l.push(2, format!("path: ./{name}"));
                }
                _ => {
                    l.push(0, "apiVersion: v1");
                    l.push(0, "kind: ConfigMap");
                    metadata(&mut l, 0, &name, &None);
                    l.push(0, "data:");
                    l.push(1, format!("image: {}", img.text()));
                }
            }
            YamlDoc {
                lines: l.0,
                images: Vec::new(),
                policies: Vec::new(),
            }
        })
}

/// A kustomization: resources and image overrides (component, tag).
/// Lines at nesting levels, and the (component, tag) pins they must yield.
type Generated = (Vec<(usize, String)>, Vec<(String, String)>);

fn kustomization() -> impl Strategy<Value = Generated> {
    (
        proptest::option::of(select(&["dev", "staging", "production"][..])),
        vec(
            select(
                &[
                    "../base",
                    "deployment.yaml",
                    "https://github.com/a/b//c?ref=v1",
                ][..],
            ),
            0..3,
        ),
        vec(
            (
                repository(),
                proptest::option::of(repository()),
                tag(),
                quote(),
            ),
            0..3,
        ),
        any::<bool>(),
        proptest::option::of((tag(), quote())),
    )
        .prop_map(|(ns, resources, images, api, patch)| {
            let mut l = Lines::default();
            if api {
                l.push(0, "apiVersion: kustomize.config.k8s.io/v1beta1");
                l.push(0, "kind: Kustomization");
            }
            if let Some(ns) = ns {
                l.push(0, format!("namespace: {ns}"));
            }
            if !resources.is_empty() {
                l.push(0, "resources:");
                for r in resources {
                    l.push(1, format!("- {r}"));
                }
            }
            let mut pins = Vec::new();
            if !images.is_empty() {
                l.push(0, "images:");
                let mut seen = BTreeSet::new();
                for (name, new_name, tag, q) in images {
                    if !seen.insert(name.clone()) {
                        continue;
                    }
                    l.push(1, format!("- name: {name}"));
                    if let Some(n) = &new_name {
                        l.push(1, format!("  newName: {n}"));
                    }
                    l.push(1, format!("  newTag: {}", yaml_scalar(&tag, q)));
                    pins.push((new_name.unwrap_or(name), tag));
                }
            }
            // A patch file and an inline JSON patch of a chart version (no pins of their
            // own: they rewrite a base's).
            if let Some((version, q)) = patch {
                l.push(0, "patches:");
                l.push(1, "- path: version.yaml");
                l.push(1, "  target:");
                l.push(1, "    kind: HelmRelease");
                l.push(1, "- patch: |-");
                // Deep enough that the block is indented past `patch:` at any layout.
                l.push(4, "- op: replace");
                l.push(4, "  path: /spec/chart/spec/version");
                l.push(4, format!("  value: {}", yaml_scalar(&version, q)));
                l.push(1, "  target:");
                l.push(1, "    kind: HelmRelease");
            }
            (l.0, pins)
        })
}

/// A multi-document YAML file, its layout, and what it must yield.
#[derive(Clone, Debug)]
struct YamlFile {
    text: String,
    images: Vec<(String, String)>,
    policies: Vec<String>,
}

fn yaml_file() -> impl Strategy<Value = YamlFile> {
    let doc = prop_oneof![3 => workload(), 1 => image_policy(), 2 => other_object()];
    (vec(doc, 1..4), layout(), any::<bool>()).prop_map(|(docs, layout, leading)| {
        let mut lines = Lines::default();
        let mut images = Vec::new();
        let mut policies = Vec::new();
        for (i, d) in docs.into_iter().enumerate() {
            if i > 0 || leading {
                lines.push(0, "---");
            }
            lines.0.extend(d.lines);
            images.extend(d.images);
            policies.extend(d.policies);
        }
        YamlFile {
            text: lines.render(&layout, "#"),
            images,
            policies,
        }
    })
}

fn kustomization_file() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    (kustomization(), layout())
        .prop_map(|((lines, pins), layout)| (Lines(lines).render(&layout, "#"), pins))
}

// ---------------------------------------------------------------------------------------
// Plausible HCL and env files

/// HCL text and the version keys of its `locals` (key, value).
fn hcl_file() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    let key = "[a-z][a-z0-9_]{0,8}_version";
    (
        vec((key, tag()), 0..4),
        vec(("[a-z]{1,6}", tag()), 0..3),
        proptest::option::of(tag()),
        proptest::option::of((name(), tag())),
        any::<bool>(),
        layout(),
    )
        .prop_map(|(locals, map, module_ref, variable, template, layout)| {
            let mut l = Lines::default();
            let mut pins = Vec::new();
            let mut seen = BTreeSet::new();
            l.push(0, "locals {");
            for (k, v) in locals {
                if seen.insert(k.clone()) {
                    l.push(1, format!("{k} = \"{v}\""));
                    pins.push((k.clone(), v));
                }
            }
            if !map.is_empty() {
                l.push(1, "versions = {");
                let mut keys = BTreeSet::new();
                for (k, v) in map {
                    if keys.insert(k.clone()) {
                        l.push(2, format!("{k} = \"{v}\""));
                        pins.push((format!("versions.{k}"), v));
                    }
                }
                l.push(1, "}");
            }
            l.push(0, "}");
            if let Some(r) = module_ref {
                l.push(0, "module \"net\" {");
                l.push(1, format!("source = \"git::https://github.com/acme/net.git?ref={r}\""));
                l.push(0, "}");
            }
            if let Some((n, d)) = variable {
                l.push(0, format!("variable \"{n}_version\" {{"));
                l.push(1, "type    = string");
                l.push(1, format!("default = \"{d}\""));
                l.push(0, "}");
            }
            if template {
                l.push(0, "resource \"proxmox_virtual_environment_file\" \"rootfs\" {");
                l.push(
                    1,
                    "source_file { path = \"ubuntu-24.04-lxc-rootfs-${local.lxc_rootfs_version}.tar.gz\" }",
                );
                l.push(0, "}");
            }
            (l.render(&layout, "#"), pins)
        })
}

/// An env file and its version pins (key, value) with their raw spelling.
fn env_file() -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    let line = (
        "[A-Z][A-Z0-9_]{0,8}_(VERSION|TAG)",
        "[A-Za-z0-9._-]{1,12}|ünï[a-z]{0,3}",
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    );
    (vec(line, 0..6), layout()).prop_map(|(entries, layout)| {
        let mut l = Lines::default();
        let mut pins = Vec::new();
        let mut keys = BTreeSet::new();
        for (key, value, q, export, spaced, comment) in entries {
            if !keys.insert(key.clone()) {
                continue;
            }
            let quoted = match q {
                0 => value.clone(),
                1 => format!("'{value}'"),
                _ => format!("\"{value}\""),
            };
            let eq = if spaced { " = " } else { "=" };
            let export = if export { "export " } else { "" };
            let comment = if comment { " # set by CI" } else { "" };
            l.push(0, format!("{export}{key}{eq}{quoted}{comment}"));
            l.push(0, "OTHER=x");
            pins.push((key, value));
        }
        // Env files take no indentation: render with none.
        let layout = Layout {
            indent: 0,
            ..layout
        };
        (l.render(&layout, "#"), pins)
    })
}

// ---------------------------------------------------------------------------------------
// Regexes for the policy analysis and the config's `tag_pattern`

#[rustfmt::skip]
const HOSTILE_PATTERNS: &[&str] = &[
    "(a*)*b", "(a+)+$", "^(a|a)*$", "a{1000}{1000}", "(?:a{1000}){1000}", "^a{100000}$",
    "(.*){50}", "^(\\w+\\s?)*$", "((((((((((((((((a))))))))))))))))", "[\\s\\S]{65535}",
    "^.{128}$", "^.{129}$", "^(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p){20}$",
    "x{0,1000}y{0,1000}z{0,1000}", "^(?P<ts>[0-9]+)$",
    "^prod-(?P<version>\\d+)\\.(?P<ts>\\d{1,12})$", "(?i)PROD.*", "\\p{L}+", "^$", "", "\\",
    "(", "[z-a]", "a{2,1}", "(?P<a>x)(?P<a>y)", "\\8", "\\1", "\\0777", "(?P<é>x)",
    "^[a-f0-9]{7,40}$", "^main-[a-f0-9]+-(?P<ts>[0-9]+)",
    "^(production|prod)-v?\\d+(\\.\\d+){2}(-\\d{10})?$", "^.*$", ".", "\\b(dev|staging)\\b",
    "^(?:[0-9]{1,3}\\.){3}[0-9]{1,3}$", "(?:(?:(?:(?:a{0,9}){0,9}){0,9}){0,9})",
    "^(?:x|y)+(?:x|y)+(?:x|y)+$", "^[^-]+-[^-]+-[^-]+-[^-]+$",
];

fn regex_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "[a-z0-9]{1,4}",
        select(
            &[
                "prod",
                "production",
                "staging",
                "dev",
                "live",
                "latest",
                "\\d",
                "[0-9]",
                "[a-f0-9]",
                ".",
                "\\.",
                "-",
                "v",
                "\\w",
                "[^-]",
                "\\b",
                "_",
                "[A-Z]",
                "\\s",
            ][..]
        )
        .prop_map(str::to_string),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
            vec(inner.clone(), 2..4).prop_map(|v| format!("(?:{})", v.join("|"))),
            (
                inner.clone(),
                select(&["*", "+", "?", "{2}", "{1,3}", "{0,40}", "*?", "{3,}"][..])
            )
                .prop_map(|(a, r)| format!("(?:{a}){r}")),
            (inner.clone(), "[a-z]{1,6}").prop_map(|(a, n)| format!("(?P<{n}>{a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (any::<bool>(), regex_text(), any::<bool>()).prop_map(|(start, body, end)| {
            format!("{}{body}{}", if start { "^" } else { "" }, if end { "$" } else { "" })
        }),
        2 => select(HOSTILE_PATTERNS).prop_map(str::to_string),
        1 => "[\\^$.|?*+()\\[\\]{}a-z0-9\\\\<>P,-]{0,24}",
    ]
}

// ---------------------------------------------------------------------------------------
// Extractors

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any text, any bytes: no panic, exact spans, same facts twice.
    #[test]
    fn extractors_take_any_text(text in "(?s).{0,200}", bytes in vec(any::<u8>(), 0..200)) {
        let lossy = String::from_utf8_lossy(&bytes);
        for t in [text.as_str(), &lossy] {
            for (format, path) in [
                (Format::Yaml, "clusters/prod/app.yaml"),
                (Format::Yaml, "kustomization.yaml"),
                (Format::Hcl, "envs/prod/main.tf"),
                (Format::Hcl, "packer/ubuntu.pkr.hcl"),
                (Format::EnvFile, ".versions.env"),
                (Format::Renovate, "renovate.json5"),
            ] {
                check_extractor(format, path, t)?;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Generated workloads and policies yield exactly the images and patterns written,
    /// each span on the value.
    #[test]
    fn yaml_yields_what_was_written(file in yaml_file()) {
        let facts = check_extractor(Format::Yaml, "clusters/prod/app.yaml", &file.text)?;
        let result = direct(Format::Yaml, "clusters/prod/app.yaml", &file.text);
        prop_assert!(result.is_ok(), "generated YAML rejected: {:?}\n{}", result, file.text);
        let mut got: Vec<(String, String)> = Vec::new();
        for pin in facts.iter().filter_map(Fact::as_pin) {
            if pin.kind != PinKind::ContainerImage {
                continue;
            }
            let at = &file.text[pin.span.range()];
            if pin.reference.kind == RefKind::Tag {
                prop_assert_eq!(at, pin.reference.value.as_str(), "tag span");
            } else {
                prop_assert!(at.contains(&pin.component), "span `{}` of {:?}", at, pin);
            }
            got.push((pin.component.clone(), pin.reference.value.clone()));
        }
        let mut want = file.images.clone();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
        let patterns: Vec<&str> = facts
            .iter()
            .filter_map(Fact::as_policy)
            .filter(|p| p.source == PolicySource::FluxImagePolicy)
            .filter_map(|p| p.pattern.as_ref().map(|(s, _)| s.as_str()))
            .collect();
        let want: Vec<&str> = file.policies.iter().map(String::as_str).collect();
        prop_assert_eq!(patterns, want);
    }

    #[test]
    fn kustomization_images_are_pinned((text, pins) in kustomization_file()) {
        let facts = check_extractor(Format::Yaml, "overlays/prod/kustomization.yaml", &text)?;
        let mut got: Vec<(String, String)> = Vec::new();
        for pin in facts.iter().filter_map(Fact::as_pin) {
            prop_assert_eq!(pin.kind, PinKind::KustomizeImage);
            prop_assert_eq!(&text[pin.span.range()], pin.reference.value.as_str());
            got.push((pin.component.clone(), pin.reference.value.clone()));
        }
        let kustomizations = facts
            .iter()
            .filter(|f| matches!(f.kind, FactKind::Kustomization(_)))
            .count();
        if !pins.is_empty() || text.contains("resources:") {
            prop_assert_eq!(kustomizations, 1);
        }
        prop_assert_eq!(got, pins);
        // An inline patch's value is located at its text in the file, or (when the string
        // cannot be mapped back) at the whole patch.
        for k in facts.iter().filter_map(|f| match &f.kind {
            FactKind::Kustomization(k) => Some(k),
            _ => None,
        }) {
            for patch in &k.patches {
                for body in &patch.inline {
                    let PatchBody::Json(json) = body else { continue };
                    for op in &json.ops {
                        let value = op.value.as_deref().unwrap_or("");
                        prop_assert!(
                            &text[op.span.range()] == value || op.span == patch.span,
                            "{:?} at {:?} in\n{}", value, op.span, text
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn yaml_survives_mutation(file in yaml_file(), edits in vec(edit(), 1..5)) {
        let bytes = apply(file.text.into_bytes(), &edits);
        check_extractor(Format::Yaml, "clusters/prod/app.yaml", &String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn kustomization_survives_mutation(
        (text, _) in kustomization_file(),
        edits in vec(edit(), 1..5),
    ) {
        let bytes = apply(text.into_bytes(), &edits);
        check_extractor(Format::Yaml, "kustomization.yaml", &String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn hcl_locals_are_pinned((text, pins) in hcl_file()) {
        let facts = check_extractor(Format::Hcl, "envs/prod/main.tf", &text)?;
        let result = direct(Format::Hcl, "envs/prod/main.tf", &text);
        prop_assert!(result.is_ok(), "generated HCL rejected: {:?}\n{}", result, text);
        let mut got = Vec::new();
        for pin in facts.iter().filter_map(Fact::as_pin) {
            prop_assert_eq!(&text[pin.span.range()], pin.reference.value.as_str());
            if pin.kind == PinKind::VersionKey {
                got.push((pin.component.clone(), pin.reference.value.clone()));
            }
        }
        for want in &pins {
            prop_assert!(got.contains(want), "missing {:?} in {:?}", want, got);
        }
    }

    #[test]
    fn hcl_survives_mutation((text, _) in hcl_file(), edits in vec(edit(), 1..5)) {
        let bytes = apply(text.into_bytes(), &edits);
        let text = String::from_utf8_lossy(&bytes);
        check_extractor(Format::Hcl, "envs/prod/main.tf", &text)?;
        check_extractor(Format::Hcl, "packer/ubuntu.pkr.hcl", &text)?;
    }

    #[test]
    fn env_versions_are_pinned((text, pins) in env_file()) {
        let facts = check_extractor(Format::EnvFile, "clusters/live/.versions.env", &text)?;
        let mut got = Vec::new();
        for pin in facts.iter().filter_map(Fact::as_pin) {
            prop_assert_eq!(&text[pin.span.range()], pin.reference.value.as_str());
            got.push((pin.component.clone(), pin.reference.value.clone()));
        }
        prop_assert_eq!(got, pins);
    }

    #[test]
    fn env_survives_mutation((text, _) in env_file(), edits in vec(edit(), 1..5)) {
        let bytes = apply(text.into_bytes(), &edits);
        check_extractor(Format::EnvFile, "versions.env", &String::from_utf8_lossy(&bytes))?;
    }

    /// The whole path from bytes: decoding (BOM, NUL, invalid UTF-8), the prefilter, the
    /// extractor chosen by the file name, and suppression comments.
    #[test]
    fn dispatcher_takes_any_file(
        path in select(&[
            "clusters/prod/app.yaml", "kustomization.yaml", "envs/prod/main.tf",
            "packer/x.pkrvars.hcl", "vars.tfvars", ".versions.env", "renovate.json",
            ".github/renovate.json5", "README.md",
        ][..]),
        source in prop_oneof![
            yaml_file().prop_map(|f| f.text),
            hcl_file().prop_map(|f| f.0),
            env_file().prop_map(|f| f.0),
            "(?s).{0,120}",
        ],
        bom in any::<bool>(),
        edits in vec(edit(), 0..4),
    ) {
        let mut bytes = apply(source.into_bytes(), &edits);
        if bom {
            bytes.splice(0..0, *b"\xEF\xBB\xBF");
        }
        let Some(format) = extract::format_of(path) else {
            prop_assert_eq!(path, "README.md");
            return Ok(());
        };
        let a = engine::file_facts(path, format, Ok(&bytes));
        let b = engine::file_facts(path, format, Ok(&bytes));
        prop_assert_eq!(&a.facts, &b.facts);
        prop_assert_eq!(&a.suppressions, &b.suppressions);
        prop_assert_eq!(&a.unreadable, &b.unreadable);
        match extract::decode(&bytes) {
            Ok(text) => {
                for fact in &a.facts {
                    for (what, span) in fact_spans(fact) {
                        check_span(text, span, what)?;
                    }
                }
                for s in &a.suppressions {
                    prop_assert!(s.line >= 1 && (s.line as usize) <= text.split('\n').count());
                }
                if let Some(kept) = &a.text {
                    prop_assert_eq!(&**kept, text);
                }
                if let Some(reason) = &a.unreadable {
                    check_message_position(text, reason)?;
                }
            }
            Err(reason) => {
                prop_assert_eq!(a.unreadable.as_deref(), Some(reason.as_str()));
                prop_assert!(a.facts.is_empty());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Config loader

/// A config file, and whether the generator made it valid.
fn config_text() -> impl Strategy<Value = (String, bool)> {
    let env = (
        select(&["dev", "staging", "prod", "qa", "eu-1", "prod", ""][..]),
        vec(
            select(
                &[
                    "clusters/dev/**",
                    "**/envs/*-prod/**",
                    "[",
                    "/abs/**",
                    "a/{b,c}/*.yaml",
                    "",
                ][..],
            ),
            0..3,
        ),
        vec(select(&["develop", "production", ""][..]), 0..2),
        proptest::option::of(pattern()),
        proptest::option::of(select(&["true", "false", "yes", "\"true\"", "1", "~"][..])),
        vec(select(&["dev", "staging", "prod", "stagin", ""][..]), 0..2),
        any::<bool>(),
    );
    (
        vec(env, 0..4),
        proptest::option::of(vec(select(&["latest", "main", "", "current"][..]), 0..3)),
        proptest::option::of(select(
            &["{series}-v{version}.tar.gz", "x/**", "{version}", "["][..],
        )),
        proptest::option::of(select(
            &["1", "0", "-1", "99999999999999999999", "two", "1.5"][..],
        )),
        proptest::option::of(select(&["1", "0", "4194304", "-5", "1e3"][..])),
        vec(
            (
                select(
                    &[
                        "PL001",
                        "PL009",
                        "mutable-reference",
                        "PL999",
                        "foreign-environment-tag",
                    ][..],
                ),
                select(
                    &[
                        "error",
                        "off",
                        "warning",
                        "note",
                        "fatal",
                        "{ level: warning }",
                        "{ ignore: [\"legacy/**\"] }",
                        "{ ignore: [\"[\"] }",
                        "{ levl: x }",
                    ][..],
                ),
            ),
            0..3,
        ),
        proptest::option::of(select(
            &["unknown_field: 1", "environment: []", "rules: []"][..],
        )),
    )
        .prop_map(
            |(envs, mutable, artifact, max_versions, max_size, rules, extra)| {
                let mut valid = true;
                let mut out = String::new();
                if !envs.is_empty() {
                    out.push_str("environments:\n");
                }
                let mut names: Vec<&str> = Vec::new();
                for (name, paths, namespaces, tag_pattern, protected, after, flow) in &envs {
                    valid &= !name.is_empty() && !names.contains(name);
                    out.push_str(&format!("  - name: \"{name}\"\n"));
                    let list = |items: &[&str]| {
                        let quoted: Vec<String> =
                            items.iter().map(|i| format!("\"{i}\"")).collect();
                        if *flow {
                            format!(" [{}]\n", quoted.join(", "))
                        } else if items.is_empty() {
                            " []\n".to_string()
                        } else {
                            let mut s = "\n".to_string();
                            for q in quoted {
                                s.push_str(&format!("      - {q}\n"));
                            }
                            s
                        }
                    };
                    out.push_str(&format!("    paths:{}", list(paths)));
                    valid &= paths.iter().all(|p| {
                        matches!(
                            *p,
                            "clusters/dev/**" | "**/envs/*-prod/**" | "a/{b,c}/*.yaml"
                        )
                    });
                    out.push_str(&format!("    namespaces:{}", list(namespaces)));
                    valid &= namespaces.iter().all(|n| !n.is_empty());
                    if let Some(p) = tag_pattern {
                        out.push_str(&format!("    tag_pattern: '{}'\n", p.replace('\'', "''")));
                        valid &= p.len() < 40 && regex::Regex::new(p).is_ok();
                    }
                    if let Some(p) = protected {
                        out.push_str(&format!("    protected: {p}\n"));
                        valid &= matches!(*p, "true" | "false");
                    }
                    out.push_str(&format!("    after:{}", list(after)));
                    valid &= after.iter().all(|a| names.contains(a) && a != name);
                    names.push(name);
                }
                if let Some(tags) = &mutable {
                    out.push_str(&format!("mutable_tags: [{}]\n", tags.join(", ")));
                    valid &= tags.iter().all(|t| !t.is_empty());
                }
                if let Some(a) = artifact {
                    out.push_str(&format!("artifacts:\n  - pattern: \"{a}\"\n"));
                    valid &= a.contains("{series}") && a.contains("{version}");
                }
                if let Some(n) = max_versions {
                    out.push_str(&format!("promotion:\n  max_versions_per_change: {n}\n"));
                    valid &= matches!(n, "1");
                }
                if let Some(n) = max_size {
                    out.push_str(&format!("max_file_size: {n}\n"));
                    valid &= matches!(n, "1" | "4194304");
                }
                if !rules.is_empty() {
                    out.push_str("rules:\n");
                    let mut ids = BTreeSet::new();
                    for (id, value) in &rules {
                        out.push_str(&format!("  {id}: {value}\n"));
                        valid &= ids.insert(*id)
                            && *id != "PL999"
                            && matches!(
                                *value,
                                "error"
                                    | "off"
                                    | "warning"
                                    | "note"
                                    | "{ level: warning }"
                                    | "{ ignore: [\"legacy/**\"] }"
                            );
                    }
                    // `PL001` and `mutable-reference` are one rule under two names.
                    valid &= !(ids.contains("PL001") && ids.contains("mutable-reference"));
                }
                if let Some(e) = extra {
                    out.push_str(e);
                    out.push('\n');
                    valid = false;
                }
                (out, valid)
            },
        )
}

fn check_config(text: &str) -> Result<Option<Config>, TestCaseError> {
    let first = load::parse(text, ".promolint.yaml");
    let second = load::parse(text, ".promolint.yaml");
    prop_assert_eq!(&first, &second, "two loads of the same text differ");
    match first {
        Ok(config) => Ok(Some(config)),
        Err(e) => {
            prop_assert!(!e.message.is_empty(), "an error without a message: {e:?}");
            prop_assert_eq!(e.file.as_str(), ".promolint.yaml");
            if let Some(line) = e.line {
                let lines: Vec<&str> = text.split('\n').collect();
                prop_assert!(
                    (line as usize) >= 1 && (line as usize) <= lines.len(),
                    "error at line {} of {} lines: {:?}",
                    line,
                    lines.len(),
                    e
                );
                if let Some(column) = e.column {
                    let width = lines[line as usize - 1].chars().count();
                    prop_assert!(
                        column >= 1 && (column as usize) <= width + 1,
                        "error at column {} of a line of {} characters: {:?}",
                        column,
                        width,
                        e
                    );
                }
            }
            Ok(None)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn config_takes_any_text(text in "(?s).{0,160}", bytes in vec(any::<u8>(), 0..160)) {
        check_config(&text)?;
        check_config(&String::from_utf8_lossy(&bytes))?;
    }

    /// Valid generated configs load with what was written; invalid ones are errors that
    /// point into the file.
    #[test]
    fn config_loads_what_was_written((text, valid) in config_text()) {
        let config = check_config(&text)?;
        if valid {
            prop_assert!(config.is_some(), "a valid config was rejected:\n{}\n{:?}",
                text, load::parse(&text, ".promolint.yaml"));
        }
        if let Some(config) = config {
            for env in &config.environments {
                let written = format!("name: \"{}\"", env.name);
                prop_assert!(text.contains(&written), "environment {} was not written", env.name);
            }
        }
    }

    #[test]
    fn config_survives_mutation((text, _) in config_text(), edits in vec(edit(), 1..5)) {
        let bytes = apply(text.into_bytes(), &edits);
        check_config(&String::from_utf8_lossy(&bytes))?;
    }
}

// ---------------------------------------------------------------------------------------
// Tag-policy analysis

fn tokens() -> impl Strategy<Value = Vec<String>> {
    vec(
        select(
            &[
                "prod",
                "production",
                "live",
                "staging",
                "dev",
                "develop",
                "qa",
                "",
                "é",
                "a-b",
            ][..],
        )
        .prop_map(str::to_string),
        0..4,
    )
}

fn order() -> impl Strategy<Value = PolicyOrder> {
    prop_oneof![
        select(
            &[
                ">=1.0.0",
                ">=1.0.0-0",
                "~1.2",
                "1.x",
                "*",
                ">=1.0.0 <2.0.0-alpha",
                "",
                "garbage"
            ][..]
        )
        .prop_map(|r| PolicyOrder::Semver {
            range: r.to_string()
        }),
        Just(PolicyOrder::Alphabetical {
            order: "asc".into()
        }),
        Just(PolicyOrder::Numerical {
            order: "desc".into()
        }),
        Just(PolicyOrder::Unspecified),
    ]
}

fn extract_template() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        select(
            &[
                "$ts",
                "$1",
                "$0",
                "${version}",
                "$nope",
                "$",
                "${",
                "$$",
                "$99999999999999999999",
                "v$1-$2",
                "${ts}x"
            ][..]
        )
        .prop_map(str::to_string),
        "[$a-z0-9{}]{0,8}",
    ])
}

/// A Docker tag: what every counterexample must be.
fn is_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        && !t.starts_with(['.', '-'])
}

fn check_policy(
    pattern: Option<&str>,
    extract: Option<&str>,
    order: &PolicyOrder,
    ctx: &PolicyContext,
) -> Result<Vec<Problem>, TestCaseError> {
    let problems = policy_analysis::analyse(pattern, extract, order, ctx);
    // The analysis is memoised by its inputs: repeating a token changes the key but not
    // the meaning, so this recomputes and must find the same.
    let own: Vec<String> = ctx
        .own_tokens
        .iter()
        .chain(ctx.own_tokens)
        .cloned()
        .collect();
    let foreign: Vec<String> = ctx
        .foreign_tokens
        .iter()
        .chain(ctx.foreign_tokens)
        .cloned()
        .collect();
    let again = policy_analysis::analyse(
        pattern,
        extract,
        order,
        &PolicyContext {
            own_tokens: &own,
            foreign_tokens: &foreign,
            ..*ctx
        },
    );
    prop_assert_eq!(&problems, &again, "recomputed analysis differs");
    let compiles = pattern.map(|p| regex::RegexBuilder::new(p).octal(true).build());
    for problem in &problems {
        prop_assert!(!problem.message().is_empty());
        match problem {
            Problem::InvalidPattern { .. } => {
                prop_assert!(
                    matches!(compiles, Some(Err(regex::Error::Syntax(_)))),
                    "InvalidPattern for a pattern the regex crate accepts"
                );
                prop_assert_eq!(problems.len(), 1, "InvalidPattern comes alone");
            }
            Problem::NotAnchored { tag } => {
                let p = pattern.unwrap_or_default();
                prop_assert!(is_tag(tag), "counterexample `{tag}` is no tag");
                prop_assert!(
                    policy_analysis::admits(p, tag),
                    "`{p}` does not admit `{tag}`"
                );
            }
            Problem::ForeignTag { tag, token } => {
                let p = pattern.unwrap_or_default();
                prop_assert!(is_tag(tag), "counterexample `{tag}` is no tag");
                prop_assert!(
                    policy_analysis::admits(p, tag),
                    "`{p}` does not admit `{tag}`"
                );
                prop_assert!(ctx.foreign_tokens.contains(token), "token `{token}`");
                prop_assert!(
                    tag.starts_with(token.as_str())
                        && tag[token.len()..].starts_with(['-', '_', '.']),
                    "`{tag}` does not start with `{token}` and a separator"
                );
            }
            Problem::MutableTag { tags } => {
                let p = pattern.unwrap_or_default();
                prop_assert!(!tags.is_empty());
                for t in tags {
                    prop_assert!(policy_analysis::admits(p, t), "`{p}` does not admit `{t}`");
                    let known = ctx.mutable_tags.contains(t)
                        || ctx.own_tokens.contains(t)
                        || ctx.foreign_tokens.contains(t)
                        || ctx.environment == t;
                    prop_assert!(known, "`{t}` is neither a mutable tag nor a token");
                }
            }
            _ => {}
        }
    }
    if matches!(compiles, Some(Ok(_))) {
        let invalid = problems
            .iter()
            .any(|p| matches!(p, Problem::InvalidPattern { .. }));
        prop_assert!(!invalid, "InvalidPattern for a pattern that compiles");
    }
    Ok(problems)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    /// Every problem's counterexample is a tag the policy really admits; the answer does
    /// not depend on repeated tokens; hostile patterns end (too complex at worst).
    #[test]
    fn policy_counterexamples_are_admitted(
        pattern in proptest::option::weighted(0.95, pattern()),
        extract in extract_template(),
        order in order(),
        environment in select(&["prod", "production", "staging", "dev", ""][..]),
        own in tokens(),
        foreign in tokens(),
        mutable in vec(select(&["latest", "main", "", "stable", "é", "x y"][..]).prop_map(str::to_string), 0..3),
        protected in any::<bool>(),
    ) {
        let ctx = PolicyContext {
            environment,
            own_tokens: &own,
            foreign_tokens: &foreign,
            mutable_tags: &mutable,
            protected,
        };
        check_policy(pattern.as_deref(), extract.as_deref(), &order, &ctx)?;
    }

    #[test]
    fn policy_takes_any_pattern(pattern in ".{0,40}", extract in proptest::option::of(".{0,12}")) {
        let own = vec!["prod".to_string()];
        let foreign = vec!["dev".to_string(), "staging".to_string()];
        let mutable = vec!["latest".to_string()];
        let ctx = PolicyContext {
            environment: "prod",
            own_tokens: &own,
            foreign_tokens: &foreign,
            mutable_tags: &mutable,
            protected: true,
        };
        for order in [PolicyOrder::Unspecified, PolicyOrder::Alphabetical { order: "asc".into() }, PolicyOrder::Numerical { order: "asc".into() }] {
            check_policy(Some(&pattern), extract.as_deref(), &order, &ctx)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fingerprint

fn finding() -> impl Strategy<Value = Finding> {
    (
        select(rules::all().iter().map(|r| r.id).collect::<Vec<_>>()),
        proptest::option::of(".{1,8}"),
        proptest::option::of(".{1,12}"),
        ".{0,16}",
        ".{0,12}",
        ".{0,20}",
        (any::<u32>(), any::<u32>(), any::<usize>()),
        proptest::option::of("[0-9a-f]{7}"),
    )
        .prop_map(
            |(
                rule,
                environment,
                component,
                path,
                value,
                message,
                (line, column, start),
                commit,
            )| Finding {
                rule,
                level: promolint::model::Level::Error,
                message,
                path,
                span: Span {
                    start,
                    end: start,
                    line,
                    column,
                    end_line: line,
                    end_column: column,
                },
                environment,
                component,
                commit,
                related: Vec::new(),
                value,
                help: None,
                fix: Default::default(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The fingerprint is a pure function of (rule, environment, component, path, value):
    /// the same for the same, different when any of them differs, blind to positions and
    /// messages (so that edits above a finding keep its baseline entry).
    #[test]
    fn fingerprint_is_stable_and_discriminating(a in finding(), b in finding(), line in any::<u32>(), message in ".{0,10}") {
        let fa = fingerprint(&a);
        prop_assert_eq!(&fa, &fingerprint(&a.clone()));
        prop_assert_eq!(fa.len(), 32);
        prop_assert!(fa.bytes().all(|c| c.is_ascii_hexdigit()));
        let mut moved = a.clone();
        moved.span.line = line;
        moved.span.start = line as usize;
        moved.message = message;
        moved.commit = None;
        prop_assert_eq!(&fa, &fingerprint(&moved), "position or message changed it");
        let key = |f: &Finding| {
            (f.rule, f.environment.clone(), f.component.clone(), f.path.clone(), f.value.clone())
        };
        if key(&a) != key(&b) {
            prop_assert_ne!(&fa, &fingerprint(&b), "{:?} and {:?} collide", key(&a), key(&b));
        } else {
            prop_assert_eq!(&fa, &fingerprint(&b));
        }
        // Each field on its own changes it, also when text moves between fields.
        let mut c = a.clone();
        c.value.push('x');
        prop_assert_ne!(&fa, &fingerprint(&c));
        let mut c = a.clone();
        c.path.push('x');
        prop_assert_ne!(&fa, &fingerprint(&c));
        let mut c = a.clone();
        c.component = Some(format!("{}x", c.component.clone().unwrap_or_default()));
        prop_assert_ne!(&fa, &fingerprint(&c));
        let mut c = a.clone();
        c.environment = Some(format!("{}x", c.environment.clone().unwrap_or_default()));
        prop_assert_ne!(&fa, &fingerprint(&c));
        let mut c = a.clone();
        c.rule = if a.rule == "PL001" { "PL002" } else { "PL001" };
        prop_assert_ne!(&fa, &fingerprint(&c));
        if let Some(ch) = a.path.chars().last() {
            let mut c = a.clone();
            c.path.pop();
            c.value.insert(0, ch);
            prop_assert_ne!(&fa, &fingerprint(&c), "moving `{}` from path to value", ch);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Findings of whole (generated) repositories

/// Files of a small repository with prod/staging/dev directories.
fn repository_files() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let file = (
        select(&["clusters/dev", "clusters/staging", "clusters/prod", "apps/base", "envs/kestrel-prod"][..]),
        prop_oneof![
            yaml_file().prop_map(|f| ("app.yaml", f.text)),
            kustomization_file().prop_map(|f| ("kustomization.yaml", f.0)),
            hcl_file().prop_map(|f| ("main.tf", f.0)),
            env_file().prop_map(|f| (".versions.env", f.0)),
            Just(("renovate.json", r#"{"packageRules": [{"matchFileNames": ["clusters/prod/**"], "automerge": true}]}"#.to_string())),
        ],
        vec(edit(), 0..2),
    );
    vec(file, 1..6).prop_map(|files| {
        let mut out: Vec<(String, Vec<u8>)> = Vec::new();
        for (dir, (name, text), edits) in files {
            let path = format!("{dir}/{name}");
            if !out.iter().any(|(p, _)| *p == path) {
                out.push((path, apply(text.into_bytes(), &edits)));
            }
        }
        out.sort();
        out
    })
}

fn view(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect()
}

/// One side of a change: its snapshot and the bytes it was built from.
struct Tree<'a> {
    snapshot: &'a Snapshot,
    files: &'a [(String, Vec<u8>)],
}

impl Tree<'_> {
    /// A location points into the text reporters quote for it: the text the snapshot kept,
    /// else the decoded file. A PL000 note on a file whose text was not kept only names a
    /// line and column (there are no bytes to quote).
    fn check(&self, path: &str, span: &Span, what: &str) -> Result<(), TestCaseError> {
        if let Some(text) = self.snapshot.file(path).and_then(|f| f.text.as_deref()) {
            return check_span(text, span, what);
        }
        let decoded = self
            .files
            .iter()
            .find(|(p, _)| p == path)
            .and_then(|(_, b)| extract::decode(b).ok());
        match decoded {
            Some(text) if what == "PL000" => {
                prop_assert_eq!((span.start, span.end), (0, 0));
                prop_assert!((span.line as usize) <= text.split('\n').count());
            }
            Some(text) => check_span(text, span, what)?,
            // Undecodable files and artifact paths have no text to point into.
            None => {}
        }
        Ok(())
    }
}

/// Every finding and related location points into its tree (`base` for the tree before a
/// change, when there is one).
fn check_findings(findings: &[Finding], tree: &Tree, base: &Tree) -> Result<(), TestCaseError> {
    for f in findings {
        tree.check(&f.path, &f.span, f.rule)?;
        for r in &f.related {
            let side = if !r.revision.is_tree() { base } else { tree };
            side.check(&r.path, &r.span, "related")?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Every finding of every rule points into the file it names, on a tree and on a change
    /// between two trees.
    #[test]
    fn findings_point_into_their_files(before in repository_files(), after in repository_files()) {
        let config = Config::default();
        let enabled: BTreeSet<&'static str> = rules::all().iter().map(|r| r.id).collect();
        let snapshot = engine::snapshot_from_bytes(&view(&after), &config);
        prop_assert!(snapshot.is_ok(), "{:?}", snapshot.err());
        let Ok(snapshot) = snapshot else { return Ok(()) };
        let findings = engine::run_tree_rules(&snapshot, &config, &enabled);
        prop_assert!(findings.is_ok());
        let Ok(tree_findings) = findings else { return Ok(()) };
        let tree = Tree { snapshot: &snapshot, files: &after };
        check_findings(&tree_findings, &tree, &tree)?;

        let pair = engine::snapshot_pair(&view(&before), &view(&after), &config);
        prop_assert!(pair.is_ok());
        let Ok((old, new)) = pair else { return Ok(()) };
        let mut changed = Vec::new();
        for (path, bytes) in &after {
            match before.iter().find(|(p, _)| p == path) {
                None => changed.push(ChangedFile { kind: ChangeKind::Added, path: path.clone(), old_path: None }),
                Some((_, old)) if old != bytes => changed.push(ChangedFile { kind: ChangeKind::Modified, path: path.clone(), old_path: None }),
                Some(_) => {}
            }
        }
        for (path, _) in &before {
            if !after.iter().any(|(p, _)| p == path) {
                changed.push(ChangedFile { kind: ChangeKind::Deleted, path: path.clone(), old_path: None });
            }
        }
        changed.sort_by(|a, b| a.path.cmp(&b.path));
        // The tree before the change as the history: what each environment ran there.
        let mut history = HistoryIndex::empty();
        for p in &old.pins {
            let Some(version) = old.version(p) else { continue };
            let pin = old.pin(p);
            history.record(&old.envs.get(p.env).name, &pin.component, PastPin {
                version,
                build: old.envs.identity(p.env, &pin.component, &pin.reference.value).build,
                digest: pin.reference.digest.clone(),
                commit: "base".into(),
                path: old.path(p.file).to_string(),
                span: pin.span.clone(),
                seq: 0,
            });
        }
        let mut history_findings = Vec::new();
        let cx = rules::Context::tree(&new, &config, &history);
        for rule in rules::RULES {
            rule.history_tree(&cx, &mut history_findings);
        }
        check_findings(&history_findings, &Tree { snapshot: &new, files: &after }, &Tree { snapshot: &old, files: &before })?;
        let cx = ChangeContext::new(&old, &new, &changed, &history, None, &config);
        let mut change_findings = Vec::new();
        for rule in rules::RULES {
            rule.change(&rules::Context::change(&cx), &mut change_findings);
        }
        // Change findings point into the tree after the change, or into the one before
        // (a deleted or rewritten file).
        for f in &change_findings {
            let in_after = after.iter().any(|(p, _)| *p == f.path);
            let (tree, base) = (Tree { snapshot: &new, files: &after }, Tree { snapshot: &old, files: &before });
            let side = if in_after { &tree } else { &base };
            check_findings(std::slice::from_ref(f), side, &base)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The pin ledger only speeds an answer up (issue 10)

/// A pin of a generated history: version `v1`..`v4`, and optionally one of two builds.
#[derive(Clone, Debug)]
struct GenPin {
    version: u8,
    build: Option<u8>,
}

const ENVS: [&str; 3] = ["dev", "staging", "prod"];
const COMPONENTS: [&str; 2] = ["backend", "frontend"];

fn gen_pin() -> impl Strategy<Value = GenPin> {
    (1u8..=4, proptest::option::weighted(0.3, 0u8..2))
        .prop_map(|(version, build)| GenPin { version, build })
}

/// What each environment pins, by component (`None`: not at all).
type State = [[Option<GenPin>; 2]; 3];

/// One commit: (environment, component, new pin or removal) changes.
type Step = Vec<(usize, usize, Option<GenPin>)>;

fn state() -> impl Strategy<Value = State> {
    let env = || {
        [
            proptest::option::weighted(0.9, gen_pin()),
            proptest::option::weighted(0.5, gen_pin()),
        ]
    };
    [env(), env(), env()]
}

fn step() -> impl Strategy<Value = Step> {
    vec(
        (
            0usize..3,
            0usize..2,
            proptest::option::weighted(0.9, gen_pin()),
        ),
        1..3,
    )
}

fn gen_image(component: usize, pin: &GenPin) -> String {
    let digest = match pin.build {
        Some(b) => format!("@sha256:{}", ["a", "b"][b as usize].repeat(64)),
        None => String::new(),
    };
    format!(
        "ghcr.io/acme/{}:v{}{digest}",
        COMPONENTS[component], pin.version
    )
}

/// An environment's `clusters/ENV/app.yaml`: one Deployment with a container per pinned
/// component (`None`: no file).
fn env_file_text(pins: &[Option<GenPin>; 2]) -> Option<String> {
    let mut text = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n",
    );
    let mut any = false;
    for (c, pin) in pins.iter().enumerate() {
        if let Some(pin) = pin {
            any = true;
            text.push_str(&format!(
                "        - name: {}\n          image: {}\n",
                COMPONENTS[c],
                gen_image(c, pin)
            ));
        }
    }
    any.then_some(text)
}

/// One commit of a `git fast-import` stream: mark `mark`, tree `state`, made at minute
/// `minute`, on top of `parents` (marks, the first parent first).
fn fast_import_commit(mark: usize, minute: usize, parents: &[usize], state: &State) -> String {
    let mut out = format!(
        "commit refs/heads/main\nmark :{mark}\ncommitter Test <test@example.com> {} +0000\ndata 2\nc{}\n",
        1_767_225_600 + minute * 60,
        mark % 10
    );
    for (i, parent) in parents.iter().enumerate() {
        out.push_str(&format!(
            "{} :{parent}\n",
            if i == 0 { "from" } else { "merge" }
        ));
    }
    out.push_str("deleteall\n");
    for (e, pins) in state.iter().enumerate() {
        if let Some(text) = env_file_text(pins) {
            out.push_str(&format!(
                "M 100644 inline clusters/{}/app.yaml\ndata {}\n{text}\n",
                ENVS[e],
                text.len()
            ));
        }
    }
    out
}

/// A repository with one commit per state (`git fast-import`, one process), checked out.
/// `side`: a commit (its tree) forked from the first one and dated right after it, and the
/// tree of a merge of it into the last one, which is then HEAD: a history whose order by
/// date is not its ancestry.
fn ledger_repo(states: &[State], side: Option<(&State, &State)>) -> common::TempDir {
    use std::io::Write as _;
    let dir = common::TempDir::new("prop-ledger");
    common::git(dir.path(), &["init", "-q", "-b", "main"]);
    let mut stream = String::new();
    for (i, state) in states.iter().enumerate() {
        let parents: Vec<usize> = (i > 0).then_some(i).into_iter().collect();
        stream.push_str(&fast_import_commit(i + 1, 2 * i, &parents, state));
    }
    if let Some((fork, merged)) = side {
        let (tip, fork_mark) = (states.len(), states.len() + 1);
        stream.push_str(&fast_import_commit(fork_mark, 1, &[1], fork));
        stream.push_str(&fast_import_commit(
            fork_mark + 1,
            2 * tip,
            &[tip, fork_mark],
            merged,
        ));
    }
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(dir.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("fast-import stream");
    assert!(child.wait().expect("fast-import").success());
    common::git(dir.path(), &["reset", "-q", "--hard"]);
    dir
}

/// A way to damage a ledger. Indexes pick a commit entry (in id order) and a pin in it,
/// modulo their counts.
#[derive(Clone, Debug)]
enum Damage {
    DropEntry(usize),
    EmptyEntry(usize),
    DropPin(usize, usize),
    Retag(usize, usize, u8),
    Rebuild(usize, usize, Option<u8>),
    MoveToEnv(usize, usize, usize),
    /// A claim that environment `.1` pinned component `.2` at a pin, in entry `.0`.
    Forge(usize, usize, usize, GenPin),
    ShiftSpan(usize, usize),
    FlipBit(usize, u8),
    Truncate(usize),
    Garbage(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    let i = || 0usize..16;
    prop_oneof![
        i().prop_map(Damage::DropEntry),
        i().prop_map(Damage::EmptyEntry),
        (i(), i()).prop_map(|(c, p)| Damage::DropPin(c, p)),
        (i(), i(), 1u8..=4).prop_map(|(c, p, v)| Damage::Retag(c, p, v)),
        (i(), i(), proptest::option::of(0u8..2)).prop_map(|(c, p, b)| Damage::Rebuild(c, p, b)),
        (i(), i(), 0usize..3).prop_map(|(c, p, e)| Damage::MoveToEnv(c, p, e)),
        (i(), 0usize..3, 0usize..2, gen_pin()).prop_map(|(c, e, k, p)| Damage::Forge(c, e, k, p)),
        (i(), i()).prop_map(|(c, p)| Damage::ShiftSpan(c, p)),
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Damage::FlipBit(at, bit)),
        any::<usize>().prop_map(Damage::Truncate),
        vec(any::<u8>(), 0..64).prop_map(Damage::Garbage),
    ]
}

/// `ledger` (the JSON of a real one) with `damages` applied.
fn damaged(ledger: &str, damages: &[Damage]) -> Vec<u8> {
    use serde_json::{json, Value};
    let mut doc: Value = serde_json::from_str(ledger).expect("ledger JSON");
    let mut ids: Vec<String> = doc["commits"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    ids.sort();
    let mut bytes_damage = Vec::new();
    for d in damages {
        let Some(commits) = doc["commits"].as_object_mut() else {
            break;
        };
        let entry = |c: usize| ids.get(c % ids.len().max(1)).cloned().unwrap_or_default();
        let with_pin = |commits: &mut serde_json::Map<String, Value>,
                        c: usize,
                        p: usize,
                        f: &dyn Fn(&mut Value)| {
            if let Some(pins) = commits.get_mut(&entry(c)).and_then(Value::as_array_mut) {
                let n = pins.len();
                if n > 0 {
                    f(&mut pins[p % n]);
                }
            }
        };
        match d {
            Damage::DropEntry(c) => {
                commits.remove(&entry(*c));
            }
            Damage::EmptyEntry(c) => {
                if let Some(e) = commits.get_mut(&entry(*c)) {
                    *e = json!([]);
                }
            }
            Damage::DropPin(c, p) => {
                if let Some(pins) = commits.get_mut(&entry(*c)).and_then(Value::as_array_mut) {
                    if !pins.is_empty() {
                        let n = pins.len();
                        pins.remove(p % n);
                    }
                }
            }
            Damage::Retag(c, p, v) => {
                with_pin(commits, *c, *p, &|pin| pin["tag"] = json!(format!("v{v}")))
            }
            Damage::Rebuild(c, p, b) => with_pin(commits, *c, *p, &|pin| {
                pin["digest"] = match b {
                    Some(b) => json!(format!("sha256:{}", ["a", "b"][*b as usize].repeat(64))),
                    None => Value::Null,
                }
            }),
            Damage::MoveToEnv(c, p, e) => with_pin(commits, *c, *p, &|pin| {
                pin["path"] = json!(format!("clusters/{}/app.yaml", ENVS[*e]))
            }),
            Damage::ShiftSpan(c, p) => with_pin(commits, *c, *p, &|pin| {
                let line = pin["span"]["line"].as_u64().unwrap_or(0);
                pin["span"]["line"] = json!(line + 1);
            }),
            Damage::Forge(c, e, k, pin) => {
                let tag = gen_image(*k, pin);
                let (_, tag) = tag.split_once(':').unwrap_or(("", ""));
                let (tag, digest) = match tag.split_once('@') {
                    Some((t, d)) => (t.to_string(), json!(d)),
                    None => (tag.to_string(), Value::Null),
                };
                let claim = json!({
                    "path": format!("clusters/{}/app.yaml", ENVS[*e]),
                    "namespace": null,
                    "component": format!("ghcr.io/acme/{}", COMPONENTS[*k]),
                    "tag": tag,
                    "digest": digest,
                    "span": {"start": 171, "end": 173, "line": 10, "column": 39, "end_line": 10, "end_column": 41},
                });
                if let Some(pins) = commits.get_mut(&entry(*c)).and_then(Value::as_array_mut) {
                    pins.push(claim);
                }
            }
            other => bytes_damage.push(other.clone()),
        }
    }
    let mut bytes = serde_json::to_vec(&doc).expect("JSON");
    for d in bytes_damage {
        match d {
            Damage::FlipBit(at, bit) if !bytes.is_empty() => {
                let n = bytes.len();
                bytes[at % n] ^= 1 << bit;
            }
            Damage::Truncate(at) => bytes.truncate(at % (bytes.len() + 1)),
            Damage::Garbage(g) => bytes = g,
            _ => {}
        }
    }
    bytes
}

/// Run the binary in `dir`: (exit code, standard output).
fn promolint_in(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = common::promolint(dir, args)
        .output()
        .expect("run promolint");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    (
        out.status.code().expect("promolint killed by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

proptest! {
    // Each case builds a repository and runs the binary seven times: about 0.2 s in a
    // debug build. 800 cases passed when this was written (and found one bug: answers
    // checked against a ledger that the walk had already rebuilt).
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// `check`, `diff` and `history` give the same bytes and exit code with a damaged or
    /// forged pin ledger as with `--no-cache`: a ledger can speed an answer up, never
    /// change it.
    #[test]
    fn the_pin_ledger_never_changes_an_answer(
        start in state(),
        steps in vec(step(), 1..6),
        side in proptest::option::weighted(0.3, step()),
        back in 1usize..6,
        damages in vec(damage(), 1..4),
    ) {
        let apply = |state: &State, step: &Step| {
            let mut next = state.clone();
            for (e, c, pin) in step {
                next[*e][*c] = pin.clone();
            }
            next
        };
        let mut states = vec![start];
        for step in &steps {
            states.push(apply(&states[states.len() - 1], step));
        }
        let side = side.map(|step| (apply(&states[0], &step), apply(&states[states.len() - 1], &step)));
        let repo = ledger_repo(&states, side.as_ref().map(|(fork, merged)| (fork, merged)));
        let dir = repo.path();
        let base = format!("HEAD~{}", back.min(steps.len()));
        let commands: [Vec<&str>; 3] = [
            vec!["check", "--format", "json"],
            vec!["diff", "--base", &base, "--format", "json"],
            vec!["history", "--format", "json"],
        ];
        let uncached: Vec<(i32, String)> = commands
            .iter()
            .map(|args| {
                let mut args = args.clone();
                args.push("--no-cache");
                promolint_in(dir, &args)
            })
            .collect();
        // An honest ledger of every commit: the same answers.
        let warm = promolint_in(dir, &commands[2]);
        prop_assert_eq!(&warm, &uncached[2]);
        let ledger_file = dir.join(".git/promolint/pins.json");
        let honest = std::fs::read_to_string(&ledger_file);
        prop_assert!(honest.is_ok(), "no ledger written");
        let Ok(honest) = honest else { return Ok(()) };
        let bad = damaged(&honest, &damages);
        for (args, want) in commands.iter().zip(&uncached) {
            std::fs::write(&ledger_file, &bad).expect("plant the ledger");
            let got = promolint_in(dir, args);
            prop_assert_eq!(&got, want, "{:?} with {:?}", args, damages);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Regressions: minimal inputs of bugs these properties and the fuzz targets found.

/// A config nested past the depth budget is a config error, not a stack overflow of the
/// (2 MiB) worker thread that loads it.
#[test]
fn deeply_nested_config_is_an_error() {
    for text in [
        format!("environments: {}{}\n", "[".repeat(63), "]".repeat(63)),
        format!("mutable_tags: {}1{}\n", "{a: ".repeat(63), "}".repeat(63)),
    ] {
        let text = text.clone();
        // Run where the engine loads configs: on a thread with the default 2 MiB stack.
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || load::parse(&text, ".promolint.yaml"))
            .expect("spawn")
            .join()
            .expect("no panic");
        let e = result.expect_err("too deep");
        assert_eq!(e.message, "the config file nests deeper than 16 levels");
        assert_eq!(e.line, Some(1));
        assert!(e.column.is_some());
    }
}

/// A PL000 note on a file whose text is kept (it has a suppression comment) points at the
/// parser's line and column in that text: its bytes used to be those of line 1, so the
/// human report quoted line 1 under the number of line 5.
#[test]
fn unreadable_file_note_points_at_the_parsers_position() {
    let text = "first: line\n# promolint: ignore[PL001] legacy\nimage: x\nkey: [1, 2\nother: 3\n";
    let config = Config::default();
    let snapshot =
        engine::snapshot_from_bytes(&[("clusters/prod/app.yaml", text.as_bytes())], &config)
            .expect("snapshot");
    let enabled = BTreeSet::from(["PL000"]);
    let findings = engine::run_tree_rules(&snapshot, &config, &enabled).expect("rules");
    assert_eq!(findings.len(), 1);
    let span = &findings[0].span;
    assert_eq!((span.line, span.column), (5, 6));
    assert_eq!(&text[span.start..], ": 3\n");
}

/// At the end of a text ending in a newline, hcl-edit names a column past that newline
/// (`line 4 column 3` of a last line holding `}`); the reason now names the end of the
/// last line.
#[test]
fn hcl_error_at_end_of_text_names_a_real_position() {
    let text = "locals {\nlocals {\n   a_version = \"1\"\n}\n";
    let err = hcl::extract("main.tf", text, &LineIndex::new(text)).expect_err("unclosed");
    assert!(
        err.starts_with("malformed HCL at line 4 column 2:"),
        "{err}"
    );
}

/// The YAML parser also ends a line at a lone `\r`; config errors count lines like every
/// other position (at `\n` only), so the error is on line 1, at the `[`.
#[test]
fn config_error_positions_count_lines_at_newlines_only() {
    let e = load::parse("x: 1\ry: [", ".promolint.yaml").expect_err("unclosed");
    assert_eq!((e.line, e.column), (Some(1), Some(9)));
    let e = load::parse("x: 1\r\ny: [", ".promolint.yaml").expect_err("unclosed");
    assert_eq!((e.line, e.column), (Some(2), Some(4)));
    // A leading BOM is not a character of the first line.
    let e = load::parse("\u{FEFF}environments: 3", ".promolint.yaml").expect_err("type");
    assert_eq!((e.line, e.column), (Some(1), Some(15)));
}

/// A `<<` merge of a mapping with many keys: each merged key used to be looked up by a
/// scan of the keys so far (quadratic: 40,000 keys took 16 s in a debug build). The
/// mapping's own keys still win over merged ones.
#[test]
fn yaml_merge_of_a_large_mapping() {
    let mut merged = String::from("{image: \"ghcr.io/acme/merged:v1\", name: other");
    for i in 0..20_000 {
        merged.push_str(&format!(", k{i}: {i}"));
    }
    merged.push('}');
    let text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          <<: {merged}\n"
    );
    let facts = yaml::extract("app.yaml", &text, &LineIndex::new(&text)).expect("valid YAML");
    let pins: Vec<_> = facts.iter().filter_map(Fact::as_pin).collect();
    assert_eq!(pins.len(), 1);
    assert_eq!(pins[0].component, "ghcr.io/acme/merged");
    assert_eq!(pins[0].reference.value, "v1");
    assert_eq!(pins[0].context, "container app");
    assert_eq!(&text[pins[0].span.range()], "v1");
}

/// Patterns no tag can match (longer than a tag's 128 bytes, or with a byte no tag has)
/// admit nothing, so there is nothing to report. Found by the `policy` fuzz target: they
/// took 1-3 s each building automata that could only come out "too complex".
#[test]
fn policy_that_no_tag_can_match_has_no_problems() {
    let own = vec!["prod".to_string()];
    let foreign = vec!["dev".to_string(), "staging".to_string()];
    let mutable = vec!["latest".to_string()];
    let ctx = PolicyContext {
        environment: "prod",
        own_tokens: &own,
        foreign_tokens: &foreign,
        mutable_tags: &mutable,
        protected: true,
    };
    for pattern in [
        "s{1000}s",
        "^integration-(?P<sha>[a-f0-9]+{1000})\"\u{FFFD}$ts",
        "^prod-é",
    ] {
        for order in [
            PolicyOrder::Unspecified,
            PolicyOrder::Alphabetical {
                order: "asc".into(),
            },
            PolicyOrder::Numerical {
                order: "asc".into(),
            },
        ] {
            let problems = policy_analysis::analyse(Some(pattern), None, &order, &ctx);
            assert_eq!(problems, [], "{pattern} {order:?}");
        }
    }
}
