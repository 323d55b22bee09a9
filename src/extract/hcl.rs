//! HCL extractors: Terraform/Terragrunt version keys, module refs, templates, Packer recipes.
//!
//! Parsed with hcl-edit because it keeps byte spans; comments are trivia there, so a
//! commented-out pin never becomes a fact.
use super::artifact::{artifact_extension, split_versioned_name};
use crate::model::{
    ArtifactTemplate, ConfigInclude, Fact, FactKind, LineIndex, Pin, PinKind, PolicyOrder,
    PolicySource, RefKind, Reference, Span, TagPolicy,
};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Body};
use hcl_edit::template::{Element, StringTemplate};
use hcl_edit::visit::{self, Visit};
use hcl_edit::Span as _;
use std::collections::HashMap;
use std::ops::Range;

/// Extract the facts of one HCL file. `Err` is the reason for a PL000 note.
pub fn extract(path: &str, text: &str, index: &LineIndex) -> Result<Vec<Fact>, String> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let (line, column) = error_position(text, index, e.location());
        format!(
            "malformed HCL at line {line} column {column}: {}",
            e.message()
        )
    })?;
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let packer = name.ends_with(".pkr.hcl") || name.ends_with(".pkrvars.hcl");
    let vars_file = name.ends_with(".tfvars") || name.ends_with(".pkrvars.hcl");
    let mut cx = Extractor {
        text,
        index,
        packer,
        facts: Vec::new(),
        locals: HashMap::new(),
        config_files: HashMap::new(),
        path,
        shared: is_shared_dir(path.rsplit_once('/').map_or("", |(d, _)| d)),
    };
    cx.locals = cx.literal_locals(&body);
    cx.config_files = cx.config_files(&body, path);
    cx.top_level(&body, vars_file);
    cx.blocks(&body);
    let mut templates = Templates {
        text,
        found: Vec::new(),
    };
    templates.visit_body(&body);
    for (series, key, range) in templates.found {
        cx.facts
            .push(Fact::new(FactKind::ArtifactTemplate(ArtifactTemplate {
                series,
                key,
                span: index.span(text, range),
            })));
    }
    // Facts in file order whatever pass found them (stable for equal starts).
    cx.facts
        .sort_by_key(|f| fact_span(f).map_or(0, |s| s.start));
    Ok(cx.facts)
}

/// The line and column of a parse error, counted like every span. hcl-edit counts the
/// column in characters from the start of its line, and at the end of a text ending in a
/// newline it names a column past that newline (`line 9 column 3` for a last line `}`),
/// which no text has; an error there is put at the end of the last line (`column 2`).
fn error_position(text: &str, index: &LineIndex, at: &hcl_edit::parser::Location) -> (u32, u32) {
    let line = u32::try_from(at.line()).unwrap_or(u32::MAX);
    let start = index.line_start(line).unwrap_or(text.len());
    let mut offset = text[start..]
        .char_indices()
        .map(|(i, _)| start + i)
        .chain([text.len()])
        .nth(at.column().saturating_sub(1))
        .unwrap_or(text.len());
    if offset == text.len() && text.ends_with('\n') {
        offset -= 1;
    }
    index.position(text, offset)
}

/// Whether `dir` holds configuration shared by several environments rather than one
/// environment's: a Terragrunt `_envcommon` directory anywhere, or a `common`/`_common`
/// directory at the top of the repository (beside the environments' directories). Such a
/// file belongs to the environments that include it, never to one its own path names
/// (`_envcommon/prod.hcl` is no prod file). A `common` directory deeper down
/// (`clusters/prod/common/`) stays inside the environment above it.
pub fn is_shared_dir(dir: &str) -> bool {
    let shared = |s: &str| matches!(s.to_ascii_lowercase().as_str(), "_envcommon" | "envcommon");
    let top = dir.split('/').next().unwrap_or(dir).to_ascii_lowercase();
    dir.split('/').any(shared) || top == "common" || top == "_common"
}

/// Whether a key names a version: `version`, `*_version`, `*_tag` (case-insensitive).
/// Shared with env files.
pub fn names_version(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "version" || k.ends_with("_version") || k.ends_with("_tag")
}

/// Whether a key holds a map of versions (`versions = { talos = "v1.12.1" }`).
fn names_version_map(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "versions" || k.ends_with("_versions")
}

/// Whether a Packer key names the artifact a build produces (`artifact_basename`).
fn names_artifact(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.ends_with("_name") || k.ends_with("basename")
}

/// A key that sets a tag policy rather than a version.
#[derive(Clone, Copy, Debug)]
enum PolicySetting {
    /// `semver`, `oci_semver`: the range automation picks from.
    Semver,
    /// `tag_pattern`, `oci_tag_pattern`: the tags automation picks from (a glob or a regex).
    TagPattern,
}

impl PolicySetting {
    fn of_key(key: &str) -> Option<Self> {
        let k = key.to_ascii_lowercase();
        if k == "semver" || k.ends_with("_semver") {
            Some(PolicySetting::Semver)
        } else if k == "tag_pattern" || k.ends_with("_tag_pattern") {
            Some(PolicySetting::TagPattern)
        } else {
            None
        }
    }
}

/// A tag pattern as a regex: a glob (`integration-*`, no regex syntax but `*`) matches the
/// whole tag, `*` standing for one or more characters; anything else is a regex already.
fn tag_pattern_regex(pattern: &str) -> String {
    let regex_syntax = pattern.chars().any(|c| {
        matches!(
            c,
            '^' | '$' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '\\' | '+' | '?'
        )
    });
    if regex_syntax {
        return pattern.to_string();
    }
    // Only `.` can be left in a glob without regex syntax; `-` needs no escape.
    let parts: Vec<String> = pattern.split('*').map(|p| p.replace('.', "\\.")).collect();
    format!("^{}$", parts.join(".+"))
}

/// A semver constraint or wildcard rather than one version.
fn classify(value: &str) -> RefKind {
    if crate::model::is_version_range(value) {
        RefKind::Range
    } else {
        RefKind::Tag
    }
}

fn reference(kind: RefKind, value: &str) -> Reference {
    Reference {
        kind,
        value: if kind == RefKind::Absent {
            String::new()
        } else {
            value.to_string()
        },
        digest: None,
    }
}

fn fact_span(fact: &Fact) -> Option<&Span> {
    match &fact.kind {
        FactKind::Pin(p) => Some(&p.span),
        FactKind::ArtifactTemplate(t) => Some(&t.span),
        FactKind::TagPolicy(p) => Some(&p.span),
        FactKind::ImageRepository(r) => Some(&r.span),
        FactKind::ImageUpdateAutomation(a) => Some(&a.span),
        FactKind::KargoStage(s) => Some(&s.span),
        FactKind::ConfigInclude(c) => Some(&c.span),
        FactKind::TemplatedPin(t) => Some(&t.pin.span),
        FactKind::Kustomization(_)
        | FactKind::FluxKustomization(_)
        | FactKind::Deploy(_)
        | FactKind::ArtifactCopies(_)
        | FactKind::ConfigMapSource(_)
        | FactKind::HelmValuesFrom(_)
        | FactKind::Replacements(_)
        | FactKind::RenovateConfig(_)
        | FactKind::Object(_)
        | FactKind::JsonPatch(_) => None,
    }
}

/// A literal value as written: its decoded text, the byte range of its content (inside
/// the quotes for strings) and whether that range spells the text exactly (no escapes),
/// so that sub-ranges of the text are sub-ranges of the file.
struct Literal {
    value: String,
    content: Range<usize>,
    exact: bool,
}

impl Literal {
    /// The file range of `sub` (a byte range of `value`); the whole content when escapes
    /// make the two differ.
    fn sub_range(&self, sub: Range<usize>) -> Range<usize> {
        if self.exact {
            self.content.start + sub.start..self.content.start + sub.end
        } else {
            self.content.clone()
        }
    }
}

/// Where a Terragrunt path expression points (see [`Extractor::config_path`]).
struct ConfigPath {
    /// The file searched for upwards, whose directory `path` is relative to.
    find: Option<String>,
    /// Relative to `find`'s directory, else to the repository root; empty: `find` itself.
    path: String,
    /// Whether the snapshot can find the file (else `path` only names it).
    placed: bool,
}

impl ConfigPath {
    fn from_root(path: String) -> Option<Self> {
        Some(ConfigPath {
            find: None,
            path,
            placed: true,
        })
    }

    /// How a component names the file: its path, or the file searched for.
    fn identity(&self) -> String {
        match &self.find {
            Some(name) if self.path.is_empty() => name.clone(),
            _ => self.path.clone(),
        }
    }
}

/// A module source's text with what is needed to place its parts in the file.
struct SourceText {
    /// The source, interpolations resolved or kept as written.
    value: String,
    /// Where in `value` the search for the query's `?` starts (the literal tail).
    query_from: usize,
    /// Where in `value` the text written literally at `literal_at` starts.
    literal_from: usize,
    /// File offset of `value[literal_from..]`, when written without escapes.
    literal_at: Option<usize>,
    /// The string's content range (inside the quotes).
    content: Range<usize>,
    /// Whether an interpolation stays unresolved in `value`.
    templated: bool,
    /// Whether the prefix, resolved as far as this file tells, is a Git source.
    git: bool,
}

impl SourceText {
    /// The file range of `r` (a byte range of `value`): exact inside the literal text,
    /// else the whole string.
    fn file_range(&self, r: Range<usize>) -> Range<usize> {
        match self.literal_at {
            Some(at) if r.start >= self.literal_from => {
                at + (r.start - self.literal_from)..at + (r.end - self.literal_from)
            }
            _ => self.content.clone(),
        }
    }
}

/// Where a version key was found, for the pin's context text.
struct Place<'p> {
    /// Prefix of the context: `locals.`, `variable `, `inputs.`, `unit config values.`.
    head: &'p str,
    /// Skip empty strings (`variable "x_version" { default = "" }` means "must be set").
    skip_empty: bool,
}

struct Extractor<'a> {
    text: &'a str,
    index: &'a LineIndex,
    packer: bool,
    facts: Vec<Fact>,
    /// This file's `locals` set to literal strings (templated module sources use them).
    locals: HashMap<String, String>,
    /// This file's path, and whether it is shared configuration (see [`is_shared_dir`]).
    path: &'a str,
    shared: bool,
    /// The Terragrunt files this file reads configuration from, by the name a template
    /// reaches them with: `include.envcommon` for an `include "envcommon"` block,
    /// `local.common` for `common = read_terragrunt_config("…")`. The value names the
    /// file as far as this file alone tells (see [`config_path`]).
    config_files: HashMap<String, String>,
}

impl Extractor<'_> {
    fn literal(&self, expr: &Expression) -> Option<Literal> {
        let span = expr.span()?;
        let (value, content) = match expr {
            Expression::String(s) => (s.value().clone(), self.unquote(span)?),
            // The number as written: `1.10` must not become `1.1`.
            Expression::Number(_) => (self.text.get(span.clone())?.to_string(), span),
            // A template without interpolation is still a literal (`"$${x}"` escapes).
            Expression::StringTemplate(t) => {
                let mut value = String::new();
                for element in t.iter() {
                    match element {
                        Element::Literal(l) => value.push_str(l.value()),
                        _ => return None,
                    }
                }
                (value, self.unquote(span)?)
            }
            _ => return None,
        };
        let exact = self.text.get(content.clone()) == Some(value.as_str());
        Some(Literal {
            value,
            content,
            exact,
        })
    }

    /// The `locals` of `body` whose value is a literal string or number.
    fn literal_locals(&self, body: &Body) -> HashMap<String, String> {
        body.blocks()
            .filter(|b| b.ident.as_str() == "locals")
            .flat_map(|b| b.body.attributes())
            .filter_map(|a| Some((a.key.as_str().to_string(), self.literal(&a.value)?.value)))
            .collect()
    }

    /// `include "<name>" { path = … }` blocks and `locals` reading another file with
    /// `read_terragrunt_config(…)`, whose path this file names statically: the name a
    /// template reaches each with (`include.envcommon`, `local.common`) and, for those
    /// the snapshot can find in the repository, a [`ConfigInclude`] fact.
    fn config_files(&mut self, body: &Body, path: &str) -> HashMap<String, String> {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let mut reads: Vec<(String, &Expression)> = Vec::new();
        for block in body.blocks() {
            match (block.ident.as_str(), block.labels.first()) {
                // An unlabeled `include` (older Terragrunt) is reached as `include.locals.x`.
                ("include", label) => {
                    if let Some(attr) = block.body.get_attribute("path") {
                        let name = label
                            .map_or("include".to_string(), |l| format!("include.{}", l.as_str()));
                        reads.push((name, &attr.value));
                    }
                }
                ("locals", _) => {
                    for attr in block.body.attributes() {
                        let arg = match &attr.value {
                            Expression::FuncCall(call)
                                if call.name.name.as_str() == "read_terragrunt_config" =>
                            {
                                call.args.iter().next()
                            }
                            _ => None,
                        };
                        if let Some(arg) = arg {
                            reads.push((format!("local.{}", attr.key.as_str()), arg));
                        }
                    }
                }
                _ => {}
            }
        }
        let mut out = HashMap::new();
        for (name, expr) in reads {
            let Some(at) = self.config_path(expr, dir) else {
                continue;
            };
            out.insert(name, at.identity());
            let span = expr.span().filter(|_| at.placed);
            if let Some(span) = span {
                self.facts
                    .push(Fact::new(FactKind::ConfigInclude(ConfigInclude {
                        find: at.find,
                        path: at.path,
                        span: self.index.span(self.text, span),
                    })));
            }
        }
        out
    }

    /// The file a Terragrunt path expression names, decided from this file alone (nothing
    /// is evaluated): a relative literal joined to this file's directory (`dir`);
    /// `"${get_terragrunt_dir()}/…"` likewise; `"${get_repo_root()}/…"` from the root;
    /// `find_in_parent_folders("x")` as the nearest `x` above;
    /// `"${dirname(find_in_parent_folders("x"))}/…"` beside it. Any other prefix leaves
    /// only the literal tail, which still names the file for a component but not its place.
    fn config_path(&self, expr: &Expression, dir: &str) -> Option<ConfigPath> {
        if let Some(lit) = self.literal(expr) {
            // An absolute path is outside the repository.
            if lit.value.starts_with('/') {
                return None;
            }
            return ConfigPath::from_root(join_normalized(dir, &lit.value)?);
        }
        match expr {
            Expression::FuncCall(_) => {
                let name = self.find_in_parent_folders(expr)?;
                Some(ConfigPath {
                    find: Some(name),
                    path: String::new(),
                    placed: true,
                })
            }
            Expression::StringTemplate(t) => {
                let elements: Vec<&Element> = t.iter().collect();
                let (Element::Literal(tail), prefix) = elements.split_last()? else {
                    return None;
                };
                let Some(Element::Interpolation(i)) = prefix.last() else {
                    return None;
                };
                let tail = tail.value().trim_start_matches('/');
                let alone = prefix.len() == 1;
                let call = match &i.expr {
                    Expression::FuncCall(c) => Some(c.name.name.as_str()),
                    _ => None,
                };
                match call {
                    Some("get_terragrunt_dir") if alone => {
                        ConfigPath::from_root(join_normalized(dir, tail)?)
                    }
                    Some("get_repo_root") if alone => {
                        ConfigPath::from_root(join_normalized("", tail)?)
                    }
                    Some("dirname") if alone => {
                        let Expression::FuncCall(c) = &i.expr else {
                            return None;
                        };
                        let found = c
                            .args
                            .iter()
                            .next()
                            .and_then(|a| self.find_in_parent_folders(a));
                        Some(ConfigPath {
                            placed: found.is_some(),
                            find: found,
                            path: join_normalized("", tail)?,
                        })
                    }
                    _ => Some(ConfigPath {
                        find: None,
                        path: join_normalized("", tail)?,
                        placed: false,
                    }),
                }
            }
            _ => None,
        }
    }

    /// `find_in_parent_folders("x")` → `x` (a plain relative name); `terragrunt.hcl` without
    /// an argument.
    fn find_in_parent_folders(&self, expr: &Expression) -> Option<String> {
        let Expression::FuncCall(call) = expr else {
            return None;
        };
        if call.name.name.as_str() != "find_in_parent_folders" || !call.name.namespace.is_empty() {
            return None;
        }
        // Without an argument Terragrunt looks for `terragrunt.hcl` (the root configuration's
        // name before `root.hcl`).
        let name = match call.args.iter().next() {
            None => "terragrunt.hcl".to_string(),
            Some(arg) => self.literal(arg)?.value,
        };
        (!name.starts_with('/'))
            .then(|| join_normalized("", &name))
            .flatten()
    }

    /// The content range of a quoted string's span.
    fn unquote(&self, span: Range<usize>) -> Option<Range<usize>> {
        let raw = self.text.get(span.clone())?;
        (raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"'))
            .then(|| span.start + 1..span.end - 1)
    }

    fn pin(
        &mut self,
        kind: PinKind,
        component: String,
        reference: Reference,
        range: Range<usize>,
        context: String,
    ) {
        self.facts.push(Fact::new(FactKind::Pin(Pin {
            kind,
            component,
            reference,
            span: self.index.span(self.text, range),
            overrides: None,
            policy_ref: None,
            context,
        })));
    }

    /// Top-level attributes of vars files, `locals`, `variable` defaults, Terragrunt `inputs`.
    fn top_level(&mut self, body: &Body, vars_file: bool) {
        for attr in body.attributes() {
            let key = attr.key.as_str();
            if vars_file {
                let place = Place {
                    head: "",
                    skip_empty: false,
                };
                self.entries(&place, key, key, false, &attr.value);
            } else if key == "inputs" {
                let place = Place {
                    head: "inputs.",
                    skip_empty: false,
                };
                self.container(&place, &attr.value);
            }
        }
        for block in body.blocks() {
            match block.ident.as_str() {
                "locals" => {
                    let place = Place {
                        head: "locals.",
                        skip_empty: false,
                    };
                    for attr in block.body.attributes() {
                        let key = attr.key.as_str();
                        self.entries(&place, key, key, false, &attr.value);
                    }
                }
                "variable" => {
                    let (Some(label), Some(default)) =
                        (block.labels.first(), block.body.get_attribute("default"))
                    else {
                        continue;
                    };
                    let place = Place {
                        head: "variable ",
                        skip_empty: true,
                    };
                    let name = label.as_str();
                    self.entries(&place, name, name, false, &default.value);
                }
                _ => {}
            }
        }
    }

    /// The entries of an `inputs`/`values` object (through `merge(…)` of objects).
    fn container(&mut self, place: &Place, expr: &Expression) {
        match expr {
            Expression::Object(object) => {
                for (key, value) in object.iter() {
                    if let Some(name) = object_key(key) {
                        self.entries(place, &name, &name, false, value.expr());
                    }
                }
            }
            Expression::FuncCall(call) if call.name.name.as_str() == "merge" => {
                for arg in call.args.iter() {
                    self.container(place, arg);
                }
            }
            Expression::Parenthesis(p) => self.container(place, p.inner()),
            _ => {}
        }
    }

    /// One key/value under a version container. `path` is the component (`versions.talos`),
    /// `key` the last key, `in_map` whether the parent is a `versions` map.
    fn entries(&mut self, place: &Place, path: &str, key: &str, in_map: bool, expr: &Expression) {
        if let Some(setting) = PolicySetting::of_key(key) {
            let parent = path.rsplit('.').nth(1);
            self.policy_settings(place, path, setting, parent, expr);
            return;
        }
        if let Expression::Object(object) = expr {
            let child_map = names_version_map(key);
            for (k, v) in object.iter() {
                if let Some(name) = object_key(k) {
                    let child = format!("{path}.{name}");
                    self.entries(place, &child, &name, child_map, v.expr());
                }
            }
            return;
        }
        let Some(lit) = self.literal(expr) else {
            return;
        };
        let context = format!("{}{}", place.head, path);
        if in_map || names_version(key) {
            let kind = if self.packer {
                PinKind::BuildRecipe
            } else {
                PinKind::VersionKey
            };
            if lit.value.trim().is_empty() {
                if !place.skip_empty {
                    self.pin(
                        kind,
                        path.to_string(),
                        Reference::absent(),
                        lit.content,
                        context,
                    );
                }
                return;
            }
            let r = reference(classify(&lit.value), &lit.value);
            self.pin(kind, path.to_string(), r, lit.content.clone(), context);
        } else if self.packer && names_artifact(key) {
            // `artifact_basename = "ubuntu-24.04-lxc-rootfs-v6"` (an extension may follow).
            let stem_len = lit.value.len() - artifact_extension(&lit.value).map_or(0, str::len);
            let Some((series, _, v)) = lit.value.get(..stem_len).and_then(split_versioned_name)
            else {
                return;
            };
            let tag = lit.value[v.clone()].to_string();
            let range = lit.sub_range(v);
            self.pin(
                PinKind::BuildRecipe,
                series.to_string(),
                Reference::tag(tag),
                range,
                context,
            );
        }
    }

    /// A tag policy set per environment in HCL: `oci_config = { live = { semver = "…" } }`,
    /// `semver = { dev = "…", live = "…" }`, or `tag_pattern = local.cluster_name ==
    /// "integration" ? "integration-*" : (local.cluster_name == "live" ? "validated-*" : "")`.
    /// Each literal is the policy of the environment its key or comparison names (the
    /// snapshot places it there, whatever the file's own path says); an empty one sets none.
    fn policy_settings(
        &mut self,
        place: &Place,
        path: &str,
        setting: PolicySetting,
        parent: Option<&str>,
        expr: &Expression,
    ) {
        // (environment, value, the policy's name).
        let mut found: Vec<(String, Literal, String)> = Vec::new();
        let head = format!("{}{path}", place.head);
        match expr {
            Expression::Object(object) => {
                for (k, v) in object.iter() {
                    if let (Some(env), Some(lit)) = (object_key(k), self.literal(v.expr())) {
                        let name = format!("{head}.{env}");
                        found.push((env, lit, name));
                    }
                }
            }
            Expression::Conditional(_) | Expression::Parenthesis(_) => {
                let mut branches = Vec::new();
                self.branches(expr, &mut branches);
                for (env, lit) in branches {
                    let name = format!("{head} (for `{env}`)");
                    found.push((env, lit, name));
                }
            }
            _ => {
                if let (Some(env), Some(lit)) = (parent, self.literal(expr)) {
                    found.push((env.to_string(), lit, head.clone()));
                }
            }
        }
        for (env, lit, name) in found {
            let value = lit.value.trim();
            if value.is_empty() {
                continue;
            }
            let span = self.index.span(self.text, lit.content.clone());
            let (pattern, order) = match setting {
                PolicySetting::Semver => (
                    None,
                    PolicyOrder::Semver {
                        range: value.to_string(),
                    },
                ),
                PolicySetting::TagPattern => (
                    Some((tag_pattern_regex(value), span.clone())),
                    PolicyOrder::Unspecified,
                ),
            };
            let mut fact = Fact::new(FactKind::TagPolicy(TagPolicy {
                source: PolicySource::HclSetting,
                name,
                image_repository_ref: None,
                pattern,
                extract: None,
                order,
                order_span: span.clone(),
                span,
            }));
            fact.environment = Some(env);
            self.facts.push(fact);
        }
    }

    /// The literal branches of a chain of conditionals on equality with a literal:
    /// `x == "live" ? "validated-*" : (x == "integration" ? "integration-*" : "")`.
    fn branches(&self, expr: &Expression, out: &mut Vec<(String, Literal)>) {
        match expr {
            Expression::Parenthesis(p) => self.branches(p.inner(), out),
            Expression::Conditional(c) => {
                let Expression::BinaryOp(op) = &c.cond_expr else {
                    return;
                };
                let named = [&op.lhs_expr, &op.rhs_expr]
                    .into_iter()
                    .find_map(|side| self.literal(side))
                    .map(|l| l.value);
                let Some(env) = named else {
                    return;
                };
                match op.operator.value() {
                    hcl_edit::expr::BinaryOperator::Eq => {
                        if let Some(lit) = self.literal(&c.true_expr) {
                            out.push((env, lit));
                        }
                        self.branches(&c.false_expr, out);
                    }
                    hcl_edit::expr::BinaryOperator::NotEq => {
                        if let Some(lit) = self.literal(&c.false_expr) {
                            out.push((env, lit));
                        }
                        self.branches(&c.true_expr, out);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Every block at any depth: `source` attributes, registry module versions, stack
    /// `values`.
    fn blocks(&mut self, body: &Body) {
        for block in body.blocks() {
            if let Some(source) = block.body.get_attribute("source") {
                self.source(block, source);
            }
            let kind = block.ident.as_str();
            if matches!(kind, "unit" | "stack") {
                if let Some(values) = block.body.get_attribute("values") {
                    let head = format!("{} values.", describe(block));
                    let place = Place {
                        head: &head,
                        skip_empty: false,
                    };
                    self.container(&place, &values.value);
                }
            }
            self.blocks(&block.body);
        }
    }

    /// `source = "git::…?ref=v1.2.3"` and friends, written as a literal or as a template
    /// (`"${include.envcommon.locals.base_source_url}?ref=v0.8.0"`).
    fn source(&mut self, block: &Block, attr: &Attribute) {
        if let Some(lit) = self.literal(&attr.value) {
            let written = SourceText {
                value: lit.value.clone(),
                query_from: 0,
                literal_from: 0,
                literal_at: lit.exact.then_some(lit.content.start),
                content: lit.content.clone(),
                templated: false,
                git: false,
            };
            self.module_source(block, &written);
        } else if let Expression::StringTemplate(t) = &attr.value {
            if let Some(written) = self.templated_source(t) {
                self.module_source(block, &written);
            }
        }
    }

    /// A `source` template whose query is literal: `"${prefix}//subdir?ref=v1.2.3"`.
    ///
    /// The text after the last interpolation must hold the `?` (so the ref is written, not
    /// computed). Interpolations of the prefix naming a literal local of this file
    /// (`${local.base}`) are replaced by its value; any other (`${include.envcommon.locals.
    /// base_source_url}`, a function call) stays as written, `${…}` included. The
    /// component is then that text before the `?`: the same in every unit that writes the
    /// same template, which is what recognises one module across environments, and never
    /// the same for two modules whose literal tails agree (`${local.a}//mysql` and
    /// `${local.b}//mysql` stay apart).
    fn templated_source(&self, template: &StringTemplate) -> Option<SourceText> {
        let span = template.span()?;
        let content = self.unquote(span)?;
        let elements: Vec<&Element> = template.iter().collect();
        let (Element::Literal(tail), prefix) = elements.split_last()? else {
            return None;
        };
        let query = tail.value().find('?')?;
        // `value` names the component; `resolved` is the source as far as this file tells,
        // to decide whether it is a Git source.
        let mut value = String::new();
        let mut resolved = String::new();
        let mut templated = false;
        for element in prefix {
            match element {
                Element::Literal(l) => {
                    value.push_str(l.value());
                    resolved.push_str(l.value());
                }
                Element::Interpolation(i) => match self.local_value(&i.expr) {
                    // A shared file's local is named as the units including it name it
                    // (`${_envcommon/mysql.hcl:base_source_url}`), so that the shared
                    // default and a unit's own ref are one module.
                    Some(v) if self.shared => {
                        value.push_str(&format!("${{{}:{}}}", self.path, local_name(&i.expr)?));
                        resolved.push_str(v);
                        templated = true;
                    }
                    Some(v) => {
                        value.push_str(v);
                        resolved.push_str(v);
                    }
                    None => {
                        let named = match self.included_local(&i.expr) {
                            Some(named) => named,
                            None => self.text.get(i.span()?)?.to_string(),
                        };
                        value.push_str(&named);
                        resolved.push_str(&named);
                        templated = true;
                    }
                },
                // `%{ if … }` chooses the text at run time: no one source to name.
                Element::Directive(_) => return None,
            }
        }
        let git = is_git_source(&resolved);
        let literal_from = value.len();
        value.push_str(tail.value());
        // The tail's file position, when its text is written without escapes.
        let literal_at = tail
            .span()
            .filter(|r| self.text.get(r.clone()) == Some(tail.value().as_str()))
            .map(|r| r.start);
        Some(SourceText {
            value,
            query_from: literal_from + query,
            literal_from,
            literal_at,
            content,
            templated,
            git,
        })
    }

    /// The value of `local.NAME` when this file's `locals` set it to a literal string.
    fn local_value(&self, expr: &Expression) -> Option<&str> {
        let Expression::Traversal(t) = expr else {
            return None;
        };
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let [op] = t.operators.as_slice() else {
            return None;
        };
        match (root.as_str(), op.value()) {
            ("local", TraversalOperator::GetAttr(name)) => {
                self.locals.get(name.as_str()).map(String::as_str)
            }
            _ => None,
        }
    }

    /// `include.envcommon.locals.base_source_url` (or `local.common.locals.x` of a
    /// `read_terragrunt_config`) as `${_envcommon/mysql.hcl:base_source_url}`: the file
    /// and the local, so that two units including different files never share a component
    /// however they name the include.
    fn included_local(&self, expr: &Expression) -> Option<String> {
        let Expression::Traversal(t) = expr else {
            return None;
        };
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let names: Vec<&str> = t
            .operators
            .iter()
            .map(|op| match op.value() {
                TraversalOperator::GetAttr(ident) => Some(ident.as_str()),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let (reader, key) = match names.as_slice() {
            [name, "locals", key] => (format!("{}.{name}", root.as_str()), key),
            ["locals", key] if root.as_str() == "include" => ("include".to_string(), key),
            _ => return None,
        };
        let file = self.config_files.get(&reader)?;
        Some(format!("${{{file}:{key}}}"))
    }

    /// A module source as written: a Git ref, a registry version, or no version at all.
    fn module_source(&mut self, block: &Block, written: &SourceText) {
        let source = written.value.as_str();
        let context = describe(block);
        if is_local_path(source) {
            return;
        }
        // The `?` is looked for in the literal text only: an interpolation as written may
        // hold one (`${x ? "a" : "b"}`).
        let (base, query) = match source
            .get(written.query_from..)
            .and_then(|q| q.find('?'))
            .map(|at| written.query_from + at)
        {
            Some(at) => (&source[..at], Some(&source[at + 1..])),
            None => (source, None),
        };
        // Byte range of a query parameter's value within `source`.
        let param = |name: &str| -> Option<Range<usize>> {
            let query = query?;
            let mut at = base.len() + 1;
            for part in query.split('&') {
                if let Some(v) = part.strip_prefix(name).and_then(|p| p.strip_prefix('=')) {
                    let start = at + part.len() - v.len();
                    return Some(start..start + v.len());
                }
                at += part.len() + 1;
            }
            None
        };
        let git_ref = param("ref");
        // A template with `?ref=` is a Git source whatever its prefix evaluates to: `ref`
        // is go-getter's Git parameter.
        if is_git_source(base)
            || written.git
            || (git_ref.is_some()
                && (base.contains("::") || base.contains("://") || written.templated))
        {
            match git_ref.filter(|r| !r.is_empty()) {
                Some(r) => {
                    let value = &source[r.clone()];
                    let kind = if is_commit_id(value) {
                        RefKind::Commit
                    } else {
                        RefKind::Tag
                    };
                    let range = written.file_range(r);
                    self.pin(
                        PinKind::ModuleRef,
                        base.to_string(),
                        reference(kind, value),
                        range,
                        context,
                    );
                }
                None => self.pin(
                    PinKind::ModuleRef,
                    base.to_string(),
                    Reference::absent(),
                    written.content.clone(),
                    context,
                ),
            }
            return;
        }
        if base.starts_with("tfr://") {
            // Terragrunt registry source: `tfr:///terraform-aws-modules/vpc/aws?version=5.0.0`.
            if let Some(r) = param("version").filter(|r| !r.is_empty()) {
                let value = &source[r.clone()];
                let range = written.file_range(r);
                let reference = reference(classify(value), value);
                self.pin(
                    PinKind::ModuleRef,
                    base.to_string(),
                    reference,
                    range,
                    context,
                );
            }
            return;
        }
        if block.ident.as_str() == "module" && query.is_none() && is_registry_address(source) {
            let Some(version) = block
                .body
                .get_attribute("version")
                .and_then(|v| self.literal(&v.value))
            else {
                return;
            };
            if version.value.trim().is_empty() {
                return;
            }
            let reference = reference(classify(&version.value), &version.value);
            self.pin(
                PinKind::ModuleRef,
                source.to_string(),
                reference,
                version.content,
                context,
            );
        }
    }
}

/// `module vpc`, `terraform`, `unit config`: the block as a human names it.
fn describe(block: &Block) -> String {
    let mut s = block.ident.as_str().to_string();
    for label in &block.labels {
        s.push(' ');
        s.push_str(label.as_str());
    }
    s
}

/// The name of an object key written as an identifier or a string.
fn object_key(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().clone()),
        ObjectKey::Expression(Expression::Variable(v)) => Some(v.as_str().to_string()),
        ObjectKey::Expression(_) => None,
    }
}

/// `local.NAME` → `NAME`.
fn local_name(expr: &Expression) -> Option<&str> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    match t.operators.as_slice() {
        [op] => match op.value() {
            TraversalOperator::GetAttr(name) => Some(name.as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// Normalise `dir/entry` (resolving `.` and `..`); `None` when it leaves the repository,
/// is absolute or names nothing.
fn join_normalized(dir: &str, entry: &str) -> Option<String> {
    if entry.starts_with('/') && !dir.is_empty() {
        return None;
    }
    crate::model::join_normalized(dir, entry).filter(|p| !p.is_empty())
}

fn is_local_path(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../") || source.starts_with('/')
}

/// go-getter sources that resolve to a Git repository.
fn is_git_source(base: &str) -> bool {
    let lower = base.to_ascii_lowercase();
    if [
        "git::",
        "git@",
        "github.com/",
        "bitbucket.org/",
        "gitlab.com/",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        return true;
    }
    let url = ["https://", "http://", "ssh://"]
        .iter()
        .any(|p| lower.starts_with(p));
    // `https://host/org/repo.git` or `…/repo.git//subdir`.
    url && lower
        .split("//")
        .skip(1)
        .any(|part| part.split('/').any(|seg| seg.ends_with(".git")))
}

/// `namespace/name/provider` or `host/namespace/name/provider`.
fn is_registry_address(source: &str) -> bool {
    if source.contains("::") || source.contains("://") || is_git_source(source) {
        return false;
    }
    let parts: Vec<&str> = source.split('/').collect();
    let valid = |s: &&str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match parts.len() {
        3 => parts.iter().all(valid),
        4 => parts.iter().all(valid) && parts[0].contains('.'),
        _ => false,
    }
}

fn is_commit_id(value: &str) -> bool {
    value.len() == 40 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Collects `"…/series-${local.x_version}…"` templates anywhere in a file.
struct Templates<'a> {
    text: &'a str,
    found: Vec<(String, String, Range<usize>)>,
}

impl Visit for Templates<'_> {
    fn visit_string_template(&mut self, node: &StringTemplate) {
        let content = node.span().and_then(|span| {
            let raw = self.text.get(span.clone())?;
            (raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"'))
                .then(|| span.start + 1..span.end - 1)
        });
        if let Some(content) = content {
            let elements: Vec<&Element> = node.iter().collect();
            for pair in elements.windows(2) {
                let (Element::Literal(lit), Element::Interpolation(interp)) = (pair[0], pair[1])
                else {
                    continue;
                };
                let (Some(key), Some(series)) = (version_ref(&interp.expr), series_of(lit.value()))
                else {
                    continue;
                };
                self.found.push((series, key, content.clone()));
            }
        }
        // Interpolations may hold further templates.
        visit::visit_string_template(self, node);
    }
}

/// `local.lxc_rootfs_version` → `lxc_rootfs_version`; `var.versions.talos` (or
/// `local.versions["talos"]`) → `versions.talos`. `None` unless it names a version.
fn version_ref(expr: &Expression) -> Option<String> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if !matches!(root.as_str(), "local" | "var") {
        return None;
    }
    let mut names = Vec::new();
    for op in &t.operators {
        match op.value() {
            TraversalOperator::GetAttr(ident) => names.push(ident.as_str().to_string()),
            TraversalOperator::Index(Expression::String(s)) => names.push(s.value().clone()),
            _ => return None,
        }
    }
    let last = names.last()?;
    let first = names.first()?;
    (names_version(last) || (names.len() >= 2 && names_version_map(first))).then(|| names.join("."))
}

/// The artifact series a literal ends with: `:vztmpl/ubuntu-24.04-lxc-rootfs-` →
/// `ubuntu-24.04-lxc-rootfs`. `None` when what remains is no plain name.
fn series_of(literal: &str) -> Option<String> {
    // The trailing run of name characters: after `/`, `:`, blanks, `=`…
    let tail = literal
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .next()
        .unwrap_or(literal);
    let series = tail
        .strip_suffix("-v")
        .or_else(|| tail.strip_suffix("_v"))
        .unwrap_or(tail)
        .trim_end_matches(['-', '_']);
    series
        .chars()
        .any(|c| c.is_ascii_alphanumeric())
        .then(|| series.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, text: &str) -> Vec<Fact> {
        extract(path, text, &LineIndex::new(text)).unwrap()
    }

    fn pin_list(facts: &[Fact]) -> Vec<&Pin> {
        facts.iter().filter_map(Fact::as_pin).collect()
    }

    fn templates(facts: &[Fact]) -> Vec<&ArtifactTemplate> {
        facts.iter().filter_map(Fact::as_template).collect()
    }

    /// (line, column, end_line, end_column) of a span.
    type Pos = (u32, u32, u32, u32);

    fn pos(s: &Span) -> Pos {
        (s.line, s.column, s.end_line, s.end_column)
    }

    /// The span covers exactly the value text.
    fn check_span(text: &str, p: &Pin) {
        if p.reference.kind != RefKind::Absent {
            assert_eq!(&text[p.span.range()], p.reference.value, "{p:?}");
        }
    }

    const KESTREL_PROD: &str = r#"terraform {
  required_version = ">= 1.5.0"
}

locals {
  # Promotion: change only this line (v5 -> v6) in a reviewed PR.
  lxc_rootfs_version = "v5"
  # lxc_rootfs_version = "latest"
  env = "prod"
}

resource "proxmox_lxc" "monitoring" {
  ostemplate = "${var.storage}:vztmpl/ubuntu-24.04-lxc-rootfs-${local.lxc_rootfs_version}.tar.gz"
  tags       = "golden-${local.lxc_rootfs_version};plane-core;env-${local.env}"
}
"#;

    #[test]
    fn kestrel_prod_pin_and_template() {
        let text = KESTREL_PROD;
        let facts = run("fabric-core/terraform/envs/kestrel-prod/main.tf", text);
        let pins = pin_list(&facts);
        assert_eq!(pins.len(), 1, "{pins:#?}");
        let p = pins[0];
        assert_eq!(p.kind, PinKind::VersionKey);
        assert_eq!(p.component, "lxc_rootfs_version");
        assert_eq!(p.reference, Reference::tag("v5"));
        assert_eq!(p.context, "locals.lxc_rootfs_version");
        assert_eq!(p.overrides, None);
        assert_eq!(p.policy_ref, None);
        assert_eq!(pos(&p.span), (7, 25, 7, 27));
        check_span(text, p);

        let t = templates(&facts);
        // `golden-${…}` ties the key to series `golden` too: a real template, harmless.
        assert_eq!(t.len(), 2, "{t:#?}");
        assert_eq!(t[0].series, "ubuntu-24.04-lxc-rootfs");
        assert_eq!(t[0].key, "lxc_rootfs_version");
        assert_eq!(pos(&t[0].span), (13, 17, 13, 97));
        assert_eq!(
            &text[t[0].span.range()],
            "${var.storage}:vztmpl/ubuntu-24.04-lxc-rootfs-${local.lxc_rootfs_version}.tar.gz"
        );
        assert_eq!(t[1].series, "golden");
    }

    #[test]
    fn commented_out_pins_are_nothing() {
        let text = "locals {\n  # lxc_rootfs_version = \"latest\"\n  // app_version = \"latest\"\n  /* x_tag = \"latest\" */\n}\n";
        assert!(run("envs/kestrel-dev/main.tf", text).is_empty());
    }

    #[test]
    fn crlf_input_keeps_columns() {
        let text = KESTREL_PROD.replace('\n', "\r\n");
        let facts = run("fabric-core/terraform/envs/kestrel-prod/main.tf", &text);
        let pins = pin_list(&facts);
        assert_eq!(pins.len(), 1);
        assert_eq!(pos(&pins[0].span), (7, 25, 7, 27));
        check_span(&text, pins[0]);
        assert_eq!(pos(&templates(&facts)[0].span), (13, 17, 13, 97));
    }

    #[test]
    fn malformed_hcl_is_an_error_with_line() {
        let text = "locals {\n  lxc_rootfs_version = \n}\n";
        let err = extract("main.tf", text, &LineIndex::new(text)).unwrap_err();
        assert!(
            err.starts_with("malformed HCL at line 2 column 24: invalid expression"),
            "{err}"
        );
        let text = "locals {\n  a = \"v1\"\n";
        let err = extract("main.tf", text, &LineIndex::new(text)).unwrap_err();
        assert!(err.starts_with("malformed HCL at line "), "{err}");
    }

    const LIVE_STACK: &str = r#"locals {
  name                 = "live"
  features             = ["gateway-api", "longhorn", "prometheus", "spegel"]
  storage_provisioning = "minimal"

  # Infrastructure versions (promotion target)
  versions = {
    talos       = "v1.12.1"
    kubernetes  = "1.35.0"
    cilium      = "1.18.6"
    gateway_api = "v1.4.1"
    flux        = "v2.7.5"
    prometheus  = "20.0.0"
  }
}

unit "config" {
  source = "../../units/config"
  path   = "config"

  values = {
    name                 = local.name
    features             = local.features
    storage_provisioning = local.storage_provisioning
    versions             = local.versions  # Pass versions to units
  }
}

unit "talos" {
  source = "git::https://github.com/acme/homelab-units.git//talos?ref=v0.4.2"
  path   = "talos"
  values = {
    talos_version = "v1.12.1"
  }
}
"#;

    #[test]
    fn terragrunt_stack_versions_block_and_units() {
        let text = LIVE_STACK;
        let facts = run("infrastructure/stacks/live/terragrunt.stack.hcl", text);
        let pins = pin_list(&facts);
        let got: Vec<(&str, &str, &str, Pos)> = pins
            .iter()
            .map(|p| {
                check_span(text, p);
                (
                    p.component.as_str(),
                    p.reference.value.as_str(),
                    p.context.as_str(),
                    pos(&p.span),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "versions.talos",
                    "v1.12.1",
                    "locals.versions.talos",
                    (8, 20, 8, 27)
                ),
                (
                    "versions.kubernetes",
                    "1.35.0",
                    "locals.versions.kubernetes",
                    (9, 20, 9, 26)
                ),
                (
                    "versions.cilium",
                    "1.18.6",
                    "locals.versions.cilium",
                    (10, 20, 10, 26)
                ),
                (
                    "versions.gateway_api",
                    "v1.4.1",
                    "locals.versions.gateway_api",
                    (11, 20, 11, 26)
                ),
                (
                    "versions.flux",
                    "v2.7.5",
                    "locals.versions.flux",
                    (12, 20, 12, 26)
                ),
                (
                    "versions.prometheus",
                    "20.0.0",
                    "locals.versions.prometheus",
                    (13, 20, 13, 26)
                ),
                (
                    "git::https://github.com/acme/homelab-units.git//talos",
                    "v0.4.2",
                    "unit talos",
                    (30, 71, 30, 77)
                ),
                (
                    "talos_version",
                    "v1.12.1",
                    "unit talos values.talos_version",
                    (33, 22, 33, 29)
                ),
            ]
        );
        assert!(pins[..6]
            .iter()
            .all(|p| p.kind == PinKind::VersionKey && p.reference.kind == RefKind::Tag));
        assert_eq!(pins[6].kind, PinKind::ModuleRef);
        // `versions = local.versions` is an expression, not a pin; no templates here.
        assert!(templates(&facts).is_empty());
    }

    #[test]
    fn module_refs() {
        let text = r#"module "vpc" {
  source = "git::https://github.com/acme/tf-modules.git//vpc?ref=v1.2.3"
}

module "dns" {
  source = "git@github.com:acme/dns.git?ref=main"
}

module "pinned" {
  source = "github.com/acme/pinned?depth=1&ref=0123456789abcdef0123456789abcdef01234567"
}

module "floating" {
  source = "git::https://github.com/acme/floating.git"
}

module "local" {
  source = "../modules/lxc"
  rootfs_version = "v5"
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 20.0"
}

module "s3" {
  source  = "app.terraform.io/acme/s3/aws"
  version = "4.1.2"
}

module "templated" {
  source = "git::https://github.com/acme/x.git?ref=${local.module_version}"
}

terraform {
  source = "tfr:///terraform-aws-modules/vpc/aws?version=5.0.0"
}
"#;
        let facts = run("envs/prod/main.tf", text);
        let pins = pin_list(&facts);
        let got: Vec<(&str, RefKind, &str, &str, Pos)> = pins
            .iter()
            .map(|p| {
                assert_eq!(p.kind, PinKind::ModuleRef);
                check_span(text, p);
                (
                    p.component.as_str(),
                    p.reference.kind,
                    p.reference.value.as_str(),
                    p.context.as_str(),
                    pos(&p.span),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "git::https://github.com/acme/tf-modules.git//vpc",
                    RefKind::Tag,
                    "v1.2.3",
                    "module vpc",
                    (2, 66, 2, 72)
                ),
                (
                    "git@github.com:acme/dns.git",
                    RefKind::Tag,
                    "main",
                    "module dns",
                    (6, 45, 6, 49)
                ),
                (
                    "github.com/acme/pinned",
                    RefKind::Commit,
                    "0123456789abcdef0123456789abcdef01234567",
                    "module pinned",
                    (10, 48, 10, 88)
                ),
                (
                    "git::https://github.com/acme/floating.git",
                    RefKind::Absent,
                    "",
                    "module floating",
                    (14, 13, 14, 54)
                ),
                (
                    "terraform-aws-modules/eks/aws",
                    RefKind::Range,
                    "~> 20.0",
                    "module eks",
                    (24, 14, 24, 21)
                ),
                (
                    "app.terraform.io/acme/s3/aws",
                    RefKind::Tag,
                    "4.1.2",
                    "module s3",
                    (29, 14, 29, 19)
                ),
                (
                    "tfr:///terraform-aws-modules/vpc/aws",
                    RefKind::Tag,
                    "5.0.0",
                    "terraform",
                    (37, 58, 37, 63)
                ),
            ]
        );
        // The templated ref names no series (`x.git?ref=` is no plain name).
        assert!(templates(&facts).is_empty());
    }

    /// (component, ref kind, ref, context, position) of every pin.
    fn module_pins(text: &str) -> Vec<(String, RefKind, String, String, Pos)> {
        pin_list(&run("prod/us-east-1/prod/mysql/terragrunt.hcl", text))
            .iter()
            .map(|p| {
                check_span(text, p);
                (
                    p.component.clone(),
                    p.reference.kind,
                    p.reference.value.clone(),
                    p.context.clone(),
                    pos(&p.span),
                )
            })
            .collect()
    }

    /// Terragrunt live repositories build `source` from an included file's local: the ref
    /// is still written literally, and is the pin (its exact span); the component names
    /// the included file and its local.
    #[test]
    fn templated_source_with_a_literal_ref() {
        let text = r#"include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/mysql.hcl"
  expose = true
}

terraform {
  source = "${include.envcommon.locals.base_source_url}?ref=v0.8.0"
}
"#;
        assert_eq!(
            module_pins(text),
            vec![(
                "${_envcommon/mysql.hcl:base_source_url}".to_string(),
                RefKind::Tag,
                "v0.8.0".to_string(),
                "terraform".to_string(),
                (7, 61, 7, 67)
            )]
        );
    }

    /// A prefix naming a literal local of the same file is resolved; the `//subdir` and the
    /// query stay where they are written.
    #[test]
    fn templated_source_resolves_this_files_locals() {
        let text = r#"locals {
  base = "git::git@github.com:acme/modules.git"
}

terraform {
  source = "${local.base}//modules/mysql?ref=main"
}

module "web" {
  source = "${local.unknown}//modules/web?depth=1&ref=v1.4.0"
}

module "computed" {
  source = "${local.base}//modules/db?ref=${local.db_version}"
}

module "no_ref" {
  source = "${local.other}//modules/cache"
}

module "ternary" {
  source = "${local.a ? "x?ref=main" : "y"}//m?ref=v2"
}
"#;
        assert_eq!(
            module_pins(text),
            vec![
                (
                    "git::git@github.com:acme/modules.git//modules/mysql".to_string(),
                    RefKind::Tag,
                    "main".to_string(),
                    "terraform".to_string(),
                    (6, 46, 6, 50)
                ),
                (
                    "${local.unknown}//modules/web".to_string(),
                    RefKind::Tag,
                    "v1.4.0".to_string(),
                    "module web".to_string(),
                    (10, 55, 10, 61)
                ),
                (
                    r#"${local.a ? "x?ref=main" : "y"}//m"#.to_string(),
                    RefKind::Tag,
                    "v2".to_string(),
                    "module ternary".to_string(),
                    (22, 52, 22, 54)
                ),
            ]
        );
    }

    /// Every form of naming the included file; a local of a file read with
    /// `read_terragrunt_config`; an include the file cannot place stays as written.
    #[test]
    fn templated_source_names_the_included_file() {
        let text = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}
include "rel" {
  path = "../../_envcommon/app.hcl"
}
include "here" {
  path = "${get_terragrunt_dir()}/../shared.hcl"
}
include "repo" {
  path = "${get_repo_root()}/common/db.hcl"
}
include "away" {
  path = "../../../../../../x.hcl"
}
locals {
  common = read_terragrunt_config(find_in_parent_folders("common.hcl"))
}
module "a" {
  source = "${include.root.locals.url}?ref=v1"
}
module "b" {
  source = "${include.rel.locals.url}//sub?ref=v1"
}
module "c" {
  source = "${include.here.locals.url}?ref=v1"
}
module "d" {
  source = "${include.repo.locals.url}?ref=v1"
}
module "e" {
  source = "${include.away.locals.url}?ref=v1"
}
module "f" {
  source = "${local.common.locals.url}?ref=v1"
}
include {
  path = find_in_parent_folders("old.hcl")
}
module "g" {
  source = "${include.locals.url}?ref=v1"
}
"#;
        let components: Vec<String> = module_pins(text).into_iter().map(|p| p.0).collect();
        assert_eq!(
            components,
            [
                "${root.hcl:url}",
                "${prod/us-east-1/_envcommon/app.hcl:url}//sub",
                "${prod/us-east-1/prod/shared.hcl:url}",
                "${common/db.hcl:url}",
                "${include.away.locals.url}",
                "${common.hcl:url}",
                "${old.hcl:url}",
            ]
        );
    }

    /// The files a unit reads, with the span of each path expression: only those the
    /// snapshot can find (an include relative to an unknown directory names a component,
    /// not a file).
    #[test]
    fn config_includes_with_spans() {
        let text = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}
include "envcommon" {
  path = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/mysql.hcl"
}
include "rel" {
  path = "../versions.hcl"
}
include "parent" {
  path = "${get_parent_terragrunt_dir()}/x.hcl"
}
include "old" {
  path = "${dirname(find_in_parent_folders())}/_envcommon/old.hcl"
}
include "abs" {
  path = "/etc/x.hcl"
}
locals {
  versions = read_terragrunt_config("${get_repo_root()}/versions.hcl")
  other    = read_terragrunt_config(local.computed)
}
"#;
        let facts = run("prod/app/terragrunt.hcl", text);
        let got: Vec<(Option<&str>, &str, Pos)> = facts
            .iter()
            .filter_map(|f| match &f.kind {
                FactKind::ConfigInclude(c) => {
                    Some((c.find.as_deref(), c.path.as_str(), pos(&c.span)))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("root.hcl"), "", (2, 10, 2, 44)),
                (Some("root.hcl"), "_envcommon/mysql.hcl", (5, 10, 5, 79)),
                (None, "prod/versions.hcl", (8, 10, 8, 27)),
                (
                    Some("terragrunt.hcl"),
                    "_envcommon/old.hcl",
                    (14, 10, 14, 67)
                ),
                (None, "versions.hcl", (20, 37, 20, 70)),
            ]
        );
    }

    /// A shared file's own default source names its local as the units including it do,
    /// so that both are one module; elsewhere a literal local is substituted.
    #[test]
    fn shared_files_name_their_locals_like_their_includers() {
        let text = r#"locals {
  base_source_url = "git::git@github.com:acme/modules.git//mysql"
}

terraform {
  source = "${local.base_source_url}?ref=v0.7.0"
}
"#;
        let facts = run("_envcommon/mysql.hcl", text);
        let pins = pin_list(&facts);
        let got: Vec<(&str, &str, Pos)> = pins
            .iter()
            .map(|p| {
                check_span(text, p);
                (
                    p.component.as_str(),
                    p.reference.value.as_str(),
                    pos(&p.span),
                )
            })
            .collect();
        assert_eq!(
            got,
            [(
                "${_envcommon/mysql.hcl:base_source_url}",
                "v0.7.0",
                (6, 42, 6, 48)
            )]
        );
        let facts = run("modules/mysql.hcl", text);
        assert_eq!(
            pin_list(&facts)[0].component,
            "git::git@github.com:acme/modules.git//mysql"
        );
    }

    /// The same template in two units names one component; a commit id is a commit.
    #[test]
    fn templated_source_component_is_stable() {
        let qa = "terraform {\n  source = \"${include.envcommon.locals.url}?ref=v1\"\n}\n";
        let prod = "terraform {\n  source = \"${include.envcommon.locals.url}?ref=0123456789abcdef0123456789abcdef01234567\"\n}\n";
        let a = module_pins(qa);
        let b = module_pins(prod);
        assert_eq!(a[0].0, b[0].0);
        assert_eq!(b[0].1, RefKind::Commit);
        assert_eq!(a[0].4, (2, 49, 2, 51));
    }

    #[test]
    fn variables_tfvars_and_inputs() {
        let text = r#"variable "lxc_rootfs_version" {
  type    = string
  default = "v5"
}

variable "app_version" {
  type    = string
  default = ""
}

variable "chart_version" {
  default = ">= 1.0"
}

variable "replicas" {
  default = 3
}

inputs = merge(local.common, {
  image_tag     = "v2.0.1"
  NODE_VERSION  = 20
  other         = "x"
  app_version   = var.app_version
  label         = "build-${local.image_tag}"
})
"#;
        let facts = run("live/prod/terragrunt.hcl", text);
        let pins = pin_list(&facts);
        let got: Vec<(&str, RefKind, &str, &str, Pos)> = pins
            .iter()
            .map(|p| {
                check_span(text, p);
                (
                    p.component.as_str(),
                    p.reference.kind,
                    p.reference.value.as_str(),
                    p.context.as_str(),
                    pos(&p.span),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "lxc_rootfs_version",
                    RefKind::Tag,
                    "v5",
                    "variable lxc_rootfs_version",
                    (3, 14, 3, 16)
                ),
                (
                    "chart_version",
                    RefKind::Range,
                    ">= 1.0",
                    "variable chart_version",
                    (12, 14, 12, 20)
                ),
                (
                    "image_tag",
                    RefKind::Tag,
                    "v2.0.1",
                    "inputs.image_tag",
                    (20, 20, 20, 26)
                ),
                (
                    "NODE_VERSION",
                    RefKind::Tag,
                    "20",
                    "inputs.NODE_VERSION",
                    (21, 19, 21, 21)
                ),
            ]
        );
        let t = templates(&facts);
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].series.as_str(), t[0].key.as_str()),
            ("build", "image_tag")
        );

        let vars = "lxc_rootfs_version = \"v6\"\nversions = { talos = \"v1.12.1\" }\nregion = \"eu\"\nimage_tag = \"\"\n";
        let facts = run("envs/kestrel-dev/terraform.tfvars", vars);
        let pins = pin_list(&facts);
        let got: Vec<(&str, RefKind, &str, &str)> = pins
            .iter()
            .map(|p| {
                (
                    p.component.as_str(),
                    p.reference.kind,
                    p.reference.value.as_str(),
                    p.context.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "lxc_rootfs_version",
                    RefKind::Tag,
                    "v6",
                    "lxc_rootfs_version"
                ),
                ("versions.talos", RefKind::Tag, "v1.12.1", "versions.talos"),
                ("image_tag", RefKind::Absent, "", "image_tag"),
            ]
        );
        assert_eq!(pos(&pins[2].span), (4, 14, 4, 14));
    }

    #[test]
    fn version_classification() {
        for tag in [
            "v5",
            "1.35.0",
            "latest",
            "main",
            "production-v1.2.3-1712345678",
            "20",
        ] {
            assert_eq!(classify(tag), RefKind::Tag, "{tag}");
        }
        for range in [
            "~> 1.2",
            ">= 1.0",
            "*",
            "1.x",
            "^1.2",
            ">=1.0, <2.0",
            "1.2 || 1.3",
        ] {
            assert_eq!(classify(range), RefKind::Range, "{range}");
        }
        assert!(names_version("VERSION"));
        assert!(names_version("lxc_rootfs_version"));
        assert!(names_version("IMAGE_TAG"));
        assert!(!names_version("versions"));
        assert!(!names_version("tag"));
        assert!(!names_version("conversion"));
    }

    #[test]
    fn packer_recipe() {
        let text = r#"variable "image_version" {
  type    = string
  default = "v6"
}

locals {
  artifact_basename = "ubuntu-24.04-lxc-rootfs-v6"
  output_name       = "${var.artifact_prefix}-${var.image_version}"
  rootfs_name       = "ubuntu-24.04-lxc-rootfs-v6.tar.gz"
  build_name        = "ubuntu-24.04-lxc-rootfs-latest"
}

source "null" "rootfs" {
  communicator = "none"
}

build {
  sources = ["source.null.rootfs"]
  post-processor "shell-local" {
    inline = ["tar -czf ubuntu-24.04-lxc-rootfs-${var.image_version}.tar.gz rootfs"]
  }
}
"#;
        let facts = run("fabric-core/packer/lxc/ubuntu-24.04/build.pkr.hcl", text);
        let pins = pin_list(&facts);
        let got: Vec<(PinKind, &str, &str, &str, Pos)> = pins
            .iter()
            .map(|p| {
                check_span(text, p);
                (
                    p.kind,
                    p.component.as_str(),
                    p.reference.value.as_str(),
                    p.context.as_str(),
                    pos(&p.span),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    PinKind::BuildRecipe,
                    "image_version",
                    "v6",
                    "variable image_version",
                    (3, 14, 3, 16)
                ),
                (
                    PinKind::BuildRecipe,
                    "ubuntu-24.04-lxc-rootfs",
                    "v6",
                    "locals.artifact_basename",
                    (7, 48, 7, 50)
                ),
                (
                    PinKind::BuildRecipe,
                    "ubuntu-24.04-lxc-rootfs",
                    "v6",
                    "locals.rootfs_name",
                    (9, 48, 9, 50)
                ),
            ]
        );
        let t = templates(&facts);
        assert_eq!(t.len(), 1, "{t:#?}");
        assert_eq!(t[0].series, "ubuntu-24.04-lxc-rootfs");
        assert_eq!(t[0].key, "image_version");
        assert_eq!(pos(&t[0].span), (20, 16, 20, 83));
        assert_eq!(
            &text[t[0].span.range()],
            "tar -czf ubuntu-24.04-lxc-rootfs-${var.image_version}.tar.gz rootfs"
        );

        let vars = "image_version = \"v7\"\n";
        let facts = run("fabric-core/packer/lxc/ubuntu-24.04/v7.pkrvars.hcl", vars);
        let pins = pin_list(&facts);
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].kind, PinKind::BuildRecipe);
        assert_eq!(pins[0].context, "image_version");
        assert_eq!(pos(&pins[0].span), (1, 18, 1, 20));
    }

    #[test]
    fn templates_with_versions_maps_and_series_trimming() {
        let text = r#"locals {
  a = "images/talos-v${local.versions.talos}.raw"
  b = "talos_${var.versions["kubernetes"]}"
  c = "${local.lxc_rootfs_version}.tar.gz"
  d = "x-${local.name}"
  e = upper("pre:rootfs-${local.rootfs_version}")
}
"#;
        let facts = run("main.tf", text);
        let got: Vec<(&str, &str)> = templates(&facts)
            .iter()
            .map(|t| (t.series.as_str(), t.key.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("talos", "versions.talos"),
                ("talos", "versions.kubernetes"),
                ("rootfs", "rootfs_version"),
            ]
        );
    }

    #[test]
    fn escaped_strings_keep_spans_inside_the_file() {
        let text = "locals {\n  app_version = \"v1\\u002e2\"\n}\nmodule \"m\" {\n  source = \"git::https://h/r.git?ref=v\\u0031\"\n}\n";
        let facts = run("main.tf", text);
        let pins = pin_list(&facts);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins[0].reference.value, "v1.2");
        assert_eq!(&text[pins[0].span.range()], "v1\\u002e2");
        // Escapes make sub-ranges unreliable: the whole string is the span.
        assert_eq!(pins[1].reference.value, "v1");
        assert_eq!(
            &text[pins[1].span.range()],
            "git::https://h/r.git?ref=v\\u0031"
        );
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for text in [
            "",
            "\n\n",
            "locals {}",
            "x = \"\"",
            "locals { v = \"é-${local.a_version}\" }",
            "module \"x\" { source = \"?ref=\" }",
            "module \"x\" { source = \"git::?\" }",
            "variable {}",
            "variable \"x_version\" { default = { a = { b = \"1\" } } }",
            "inputs = (\"x\")",
            "a = <<EOT\nfoo-${local.a_version}\nEOT\n",
        ] {
            let _ = extract("x.tfvars", text, &LineIndex::new(text));
            let _ = extract("x.pkr.hcl", text, &LineIndex::new(text));
        }
        // Every truncation of real-shaped files: parse errors, never panics.
        for sample in [KESTREL_PROD, LIVE_STACK] {
            for (i, _) in sample.char_indices() {
                let cut = &sample[..i];
                let _ = extract("x.tf", cut, &LineIndex::new(cut));
                let _ = extract("x.pkr.hcl", cut, &LineIndex::new(cut));
            }
        }
        let deep = format!("a = {}1{}", "[".repeat(500), "]".repeat(500));
        assert!(extract("x.tf", &deep, &LineIndex::new(&deep)).is_err());
    }

    /// Per-environment tag policies: a map keyed by environment (above or below the
    /// setting), and a chain of conditionals on the cluster's name; empty values and
    /// expressions set none; a glob is a whole-tag regex.
    #[test]
    fn per_environment_tag_policies() {
        let text = r#"locals {
  oci_config = {
    dev  = { semver = ">=0.0.0-0" }
    live = { semver = ">=1.0.0", tag_pattern = "validated-*" }
  }
  semver = { integration = "^1.x", live = "" }
}
inputs = {
  oci_tag_pattern = values.name == "integration" ? "integration-*" : (values.name == "live" ? "^validated-[a-f0-9]+$" : "")
  other_semver    = values.name != "dev" ? local.range : ">=0.0.0-0"
  flux_semver     = local.oci_config[values.name].semver
}
"#;
        let facts = run("infrastructure/units/bootstrap/terragrunt.hcl", text);
        let got: Vec<String> = facts
            .iter()
            .filter_map(|f| {
                let FactKind::TagPolicy(p) = &f.kind else {
                    return None;
                };
                let what = match (&p.pattern, &p.order) {
                    (Some((re, _)), _) => format!("pattern {re}"),
                    (None, PolicyOrder::Semver { range }) => format!("semver {range}"),
                    _ => "?".to_string(),
                };
                let env = f.environment.clone().unwrap_or_default();
                let at = (p.span.line, p.span.column);
                assert_eq!(p.source, PolicySource::HclSetting);
                Some(format!("{env} {} {what} {}:{}", p.name, at.0, at.1))
            })
            .collect();
        assert_eq!(
            got,
            [
                "dev locals.oci_config.dev.semver semver >=0.0.0-0 3:24",
                "live locals.oci_config.live.semver semver >=1.0.0 4:24",
                "live locals.oci_config.live.tag_pattern pattern ^validated-.+$ 4:49",
                "integration locals.semver.integration semver ^1.x 6:29",
                "integration inputs.oci_tag_pattern (for `integration`) pattern ^integration-.+$ 9:53",
                "live inputs.oci_tag_pattern (for `live`) pattern ^validated-[a-f0-9]+$ 9:96",
                "dev inputs.other_semver (for `dev`) semver >=0.0.0-0 10:59",
            ]
        );
        // The settings are policies, not version pins.
        assert!(pin_list(&facts).is_empty(), "{:?}", pin_list(&facts));
    }
}
