//! PL010's Renovate half: `packageRules` whose file patterns reach a protected
//! environment's pins.

use super::{files_phrase, ID, MAX_RELATED};
use crate::model::{FilePattern, PathMatch, RenovateConfig, RenovateRule, Span};
use crate::rules::{env_level, Finding, Related, Revision};
use crate::snapshot::Snapshot;
use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};
use std::collections::BTreeMap;

/// How one pattern string compares with a path.
enum Matcher {
    Glob(GlobMatcher),
    Regex(Regex),
    /// A pattern that cannot be compiled matches nothing.
    Never,
}

struct Compiled<'a> {
    pattern: &'a FilePattern,
    negated: bool,
    matcher: Matcher,
    /// Legacy `matchPaths`: a plain string also matches as a substring.
    substring: Option<&'a str>,
}

impl Compiled<'_> {
    fn hits(&self, path: &str) -> bool {
        let by_matcher = match &self.matcher {
            Matcher::Glob(g) => g.is_match(path),
            Matcher::Regex(r) => r.is_match(path),
            Matcher::Never => false,
        };
        by_matcher || self.substring.is_some_and(|s| path.contains(s))
    }
}

/// Renovate's regex syntax in a pattern list: `/…/` or `/…/i`.
fn regex_of(pattern: &str) -> Option<Matcher> {
    let body = pattern.strip_prefix('/')?;
    let (body, insensitive) = match body.strip_suffix("/i") {
        Some(b) => (b, true),
        None => (body.strip_suffix('/')?, false),
    };
    if body.is_empty() {
        return None;
    }
    Some(
        RegexBuilder::new(body)
            .case_insensitive(insensitive)
            .size_limit(1 << 20)
            .build()
            .map_or(Matcher::Never, Matcher::Regex),
    )
}

/// A minimatch glob as Renovate applies it (`dot: true`: `*` does not cross `/`).
fn glob_of(pattern: &str) -> Matcher {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_or(Matcher::Never, |g| Matcher::Glob(g.compile_matcher()))
}

fn compile(p: &FilePattern) -> Compiled<'_> {
    let (negated, body) = match p.pattern.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, p.pattern.as_str()),
    };
    let matcher = regex_of(body).unwrap_or_else(|| glob_of(body));
    let plain = !body.contains(['*', '?', '[', '{']);
    let substring =
        (p.matching == PathMatch::GlobOrSubstring && plain && !body.is_empty()).then_some(body);
    Compiled {
        pattern: p,
        negated,
        matcher,
        substring,
    }
}

/// `ignorePaths`/`includePaths` entries: a substring or a glob.
fn path_listed(list: &[String], path: &str) -> bool {
    list.iter().any(|p| {
        path.contains(p.as_str())
            || match regex_of(p).unwrap_or_else(|| glob_of(p)) {
                Matcher::Glob(g) => g.is_match(path),
                Matcher::Regex(r) => r.is_match(path),
                Matcher::Never => false,
            }
    })
}

/// A packageRule with its patterns compiled, grouped by key (every key must select a
/// file; within a key, Renovate's pattern-list semantics apply).
struct Rule<'a> {
    rule: &'a RenovateRule,
    keys: Vec<Vec<Compiled<'a>>>,
}

/// Whether a rule applies to a file, by its file patterns.
enum Selects<'a> {
    /// It has no file patterns: it applies to every file.
    Everywhere,
    /// This pattern selects the file.
    By(&'a FilePattern),
    No,
}

impl<'a> Rule<'a> {
    fn new(rule: &'a RenovateRule) -> Self {
        let mut keys: Vec<Vec<Compiled<'a>>> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for p in &rule.files {
            match names.iter().position(|k| *k == p.key) {
                Some(i) => keys[i].push(compile(p)),
                None => {
                    names.push(&p.key);
                    keys.push(vec![compile(p)]);
                }
            }
        }
        Rule { rule, keys }
    }

    fn selects(&self, path: &str) -> Selects<'a> {
        let mut by = None;
        for list in &self.keys {
            // Positive patterns: one must match. Negated ones (`!x`): none may match.
            if list.iter().any(|c| c.negated && c.hits(path)) {
                return Selects::No;
            }
            let mut positives = list.iter().filter(|c| !c.negated).peekable();
            let chosen = if positives.peek().is_none() {
                list.first()
            } else {
                positives.find(|c| c.hits(path))
            };
            match chosen {
                Some(c) => {
                    by.get_or_insert(c.pattern);
                }
                None => return Selects::No,
            }
        }
        match by {
            Some(p) => Selects::By(p),
            None => Selects::Everywhere,
        }
    }
}

/// A rule reaching protected files through one of its patterns.
struct Reach<'a> {
    rule: &'a RenovateRule,
    pattern: &'a FilePattern,
    /// The rule disabling the file that this rule's `enabled: true` overrides.
    overrides: Option<usize>,
    files: Vec<(usize, Span)>,
}

pub(super) fn renovate(
    snap: &Snapshot,
    file: usize,
    config: &RenovateConfig,
    targets: &BTreeMap<(usize, usize), Span>,
    out: &mut Vec<Finding>,
) {
    if !config.enabled {
        return;
    }
    let rules: Vec<Rule> = config.rules.iter().map(Rule::new).collect();
    // (rule index, pattern span, environment) → what it reaches.
    let mut reached: BTreeMap<(usize, Span, usize), Reach> = BTreeMap::new();
    for (&(target, env), pin_span) in targets {
        let path = snap.path(target);
        let rel = if config.base.is_empty() {
            path
        } else {
            match crate::model::paths::relative_inside(path, &config.base) {
                Some(rel) => rel,
                None => continue,
            }
        };
        if path_listed(&config.ignore_paths, rel)
            || !config.include_paths.is_empty() && !path_listed(&config.include_paths, rel)
        {
            continue;
        }
        for candidate in &rules {
            let Selects::By(pattern) = candidate.selects(rel) else {
                continue;
            };
            if candidate.rule.enabled == Some(false) {
                continue;
            }
            let Some(overrides) = enabled_for(&rules, candidate.rule, rel) else {
                continue;
            };
            reached
                .entry((candidate.rule.index, pattern.span.clone(), env))
                .or_insert_with(|| Reach {
                    rule: candidate.rule,
                    pattern,
                    overrides,
                    files: Vec::new(),
                })
                .files
                .push((target, pin_span.clone()));
        }
    }
    for ((_, _, env), mut reach) in reached {
        reach
            .files
            .sort_by(|a, b| snap.path(a.0).cmp(snap.path(b.0)));
        out.push(renovate_finding(snap, file, env, &reach));
    }
}

/// Whether the dependencies `rule` selects in `path` end up enabled, merging every rule
/// that applies there in order (as Renovate does): `None` when they are disabled, else
/// the disabling rule that `rule`'s own `enabled: true` overrides, if any. A rule
/// disables `rule`'s dependencies only when it has no other conditions or the same ones.
fn enabled_for(rules: &[Rule], rule: &RenovateRule, path: &str) -> Option<Option<usize>> {
    let mut enabled = true;
    let mut disabled_by = None;
    let mut overrides = None;
    for k in rules {
        if matches!(k.selects(path), Selects::No) {
            continue;
        }
        let covers = k.rule.index == rule.index
            || k.rule.conditions.is_empty()
            || k.rule.conditions == rule.conditions;
        if !covers {
            continue;
        }
        match k.rule.enabled {
            Some(false) => {
                enabled = false;
                disabled_by = Some(k.rule.index);
            }
            Some(true) => {
                if k.rule.index == rule.index && !enabled {
                    overrides = disabled_by;
                }
                enabled = true;
            }
            None => {}
        }
    }
    enabled.then_some(overrides)
}

fn rule_name(rule: &RenovateRule) -> String {
    match &rule.label {
        Some(label) => format!("packageRules[{}] (`{label}`)", rule.index),
        None => format!("packageRules[{}]", rule.index),
    }
}

fn renovate_finding(snap: &Snapshot, file: usize, env: usize, reach: &Reach) -> Finding {
    let env_name = &snap.envs.get(env).name;
    let first = reach
        .files
        .first()
        .map(|(f, _)| snap.path(*f))
        .unwrap_or_default();
    let files = files_phrase(first, reach.files.len());
    let how = if reach.pattern.pattern.starts_with('!') {
        format!("`{}` does not exclude it", reach.pattern.pattern)
    } else {
        format!("`{}` matches it", reach.pattern.pattern)
    };
    let why = match reach.overrides {
        Some(k) => format!(
            "{how}, and the rule's `enabled: true` overrides packageRules[{k}], which disables it"
        ),
        None => format!("{how} and no rule disables it there"),
    };
    let message = format!(
        "Renovate {} updates {files} of protected environment {env_name} directly: {why}",
        rule_name(reach.rule)
    );
    let related: Vec<Related> = reach
        .files
        .iter()
        .take(MAX_RELATED)
        .map(|(f, span)| Related {
            path: snap.path(*f).to_string(),
            span: span.clone(),
            message: format!("a pin of {env_name} that Renovate would update"),
            revision: Revision::Tree,
        })
        .collect();
    Finding::builder(ID, snap.path(file), reach.pattern.span.clone())
        .level(env_level(snap, env))
        .message(message)
        .env(Some(env_name))
        .related(related)
        .value(reach.pattern.pattern.clone())
        .help("Renovate")
        .build()
}
