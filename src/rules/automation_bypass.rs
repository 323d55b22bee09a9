//! PL010 automation-bypass: automation that writes protected environments directly,
//! without a promotion.
//!
//! - Renovate: a `packageRules` entry whose file patterns (`matchFileNames`, legacy
//!   `matchPaths`) select a file holding a protected environment's pins, and that no rule
//!   disables there (`enabled: false`, evaluated in order as Renovate merges rules), nor
//!   `ignorePaths`/`includePaths`. Only explicit file rules are judged: Renovate's
//!   repository-wide defaults are not.
//! - Flux: an ImageUpdateAutomation whose `spec.update.path` covers a protected
//!   environment's pins whose setter markers name a policy of the automation's namespace
//!   that admits tags outside that environment (no pattern, not anchored, another
//!   environment's tags, mutable tags; decided by [`crate::policy_analysis::analyse`]).
use super::{env_level, Finding, Related, Revision};
use crate::config::Config;
use crate::model::{
    FactKind, FilePattern, ImageUpdateAutomation, PathMatch, PolicySource, RenovateConfig,
    RenovateRule, Span, TagPolicy,
};
use crate::policy_analysis::{analyse, PolicyContext, Problem};
use crate::snapshot::{Located, Snapshot};
use globset::{GlobBuilder, GlobMatcher};
use regex::{Regex, RegexBuilder};
use std::collections::BTreeMap;

pub const ID: &str = "PL010";

/// Reached files listed as related locations, at most.
const MAX_RELATED: usize = 5;

pub fn check(snap: &Snapshot, config: &Config, out: &mut Vec<Finding>) {
    let targets = protected_targets(snap);
    if targets.is_empty() {
        return;
    }
    for (fi, file) in snap.files.iter().enumerate() {
        for (xi, fact) in file.facts.iter().enumerate() {
            match &fact.kind {
                FactKind::RenovateConfig(c) => renovate(snap, fi, c, &targets, out),
                FactKind::ImageUpdateAutomation(a) => {
                    let namespace = fact.namespace.as_deref();
                    flux(snap, config, (fi, xi), a, namespace, out)
                }
                _ => {}
            }
        }
    }
}

/// Files holding a pin that takes effect in a protected environment: (file, environment)
/// → the first such pin's span.
fn protected_targets(snap: &Snapshot) -> BTreeMap<(usize, usize), Span> {
    let mut targets = BTreeMap::new();
    for p in &snap.pins {
        if snap.envs.get(p.env).protected {
            targets
                .entry((p.file, p.env))
                .or_insert_with(|| snap.pin(p).span.clone());
        }
    }
    targets
}

// ---------------------------------------------------------------------------------------
// Renovate

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

fn renovate(
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
            match path
                .strip_prefix(config.base.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
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

/// "`a.yaml`", "`a.yaml` and 1 more file", "`a.yaml` and 3 more files".
fn files_phrase(first: &str, count: usize) -> String {
    match count {
        0 | 1 => format!("`{first}`"),
        2 => format!("`{first}` and 1 more file"),
        n => format!("`{first}` and {} more files", n - 1),
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
    let related = reach
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
    Finding {
        rule: ID,
        level: env_level(snap, env),
        message,
        path: snap.path(file).to_string(),
        span: reach.pattern.span.clone(),
        environment: Some(env_name.clone()),
        component: None,
        commit: None,
        related,
        value: reach.pattern.pattern.clone(),
        help: Some("Renovate"),
    }
}

// ---------------------------------------------------------------------------------------
// Flux

/// `spec.update.path` relative to the repository root (`./flux/apps` → `flux/apps`,
/// `.` → everything); `None` when it leaves the repository.
fn update_root(path: Option<&str>) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.unwrap_or("").split('/') {
        match seg.trim() {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// `update.path` is relative to the root of the automation's Git repository. When that is
/// not this tree's root (a repository kept in a subdirectory, as the fixtures are), the
/// path names nothing here: it is then taken relative to the nearest directory above the
/// automation's file where it names something.
fn resolve_root(snap: &Snapshot, automation_file: &str, root: String) -> String {
    let exists = |r: &str| snap.files.iter().any(|f| under(&f.path, r));
    if exists(&root) {
        return root;
    }
    let mut dirs: Vec<&str> = automation_file.split('/').collect();
    dirs.pop();
    while !dirs.is_empty() {
        let candidate = format!("{}/{root}", dirs.join("/"));
        let candidate = candidate.trim_end_matches('/').to_string();
        if exists(&candidate) {
            return candidate;
        }
        dirs.pop();
    }
    root
}

fn under(path: &str, root: &str) -> bool {
    root.is_empty()
        || path
            .strip_prefix(root)
            .is_some_and(|r| r.is_empty() || r.starts_with('/'))
}

/// The Flux ImagePolicy a setter marker (`ns:name`) names, preferring one of `env`.
fn flux_policy<'s>(snap: &'s Snapshot, marker: &str, env: usize) -> Option<&'s Located> {
    let (ns, name) = match marker.split_once(':') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, marker),
    };
    let mut candidates = snap.policies.iter().filter(|l| {
        let Some(p) = snap.policy(l) else {
            return false;
        };
        let fact_ns = snap.files[l.file].facts[l.fact].namespace.as_deref();
        p.source == PolicySource::FluxImagePolicy
            && p.name == name
            && (ns.is_none() || fact_ns.is_none() || fact_ns == ns)
    });
    let first = candidates.clone().next();
    candidates.find(|l| l.env == Some(env)).or(first)
}

/// Why `policy` lets automation write tags of other environments into `env`, if it does.
fn unrestricted(
    snap: &Snapshot,
    config: &Config,
    policy: &TagPolicy,
    env: usize,
) -> Option<String> {
    let e = snap.envs.get(env);
    let Some((pattern, _)) = &policy.pattern else {
        return Some("it has no filterTags.pattern and admits every tag".to_string());
    };
    let own: Vec<String> = e
        .aliases
        .iter()
        .cloned()
        .chain(std::iter::once(e.name.to_ascii_lowercase()))
        .collect();
    let mut foreign: Vec<String> = snap
        .envs
        .envs
        .iter()
        .map(|o| o.name.to_ascii_lowercase())
        .filter(|t| !own.contains(t))
        .collect();
    foreign.sort();
    foreign.dedup();
    let ctx = PolicyContext {
        environment: &e.name,
        own_tokens: &own,
        foreign_tokens: &foreign,
        mutable_tags: &config.mutable_tags,
        protected: e.protected,
    };
    let extract = policy.extract.as_ref().map(|(x, _)| x.as_str());
    let problems = analyse(Some(pattern), extract, &policy.order, &ctx);
    let proven = problems.iter().find_map(|problem| match problem {
        Problem::NotAnchored { tag } => Some(format!(
            "its pattern is not anchored with `^` and admits `{tag}`"
        )),
        Problem::ForeignTag { tag, token } => Some(format!("it admits `{tag}`, a tag of {token}")),
        Problem::MutableTag { tags } => {
            tags.first().map(|t| format!("it admits mutable tag `{t}`"))
        }
        _ => None,
    });
    // Restricted means shown to be restricted: a pattern too complex to analyse over a
    // protected path counts as unrestricted (fail closed).
    proven.or_else(|| {
        problems.iter().find_map(|problem| match problem {
            Problem::TooComplex { reason } => Some(format!(
                "its pattern is too complex to analyse ({reason}), so it cannot be shown to admit only {}'s tags",
                e.name
            )),
            _ => None,
        })
    })
}

/// Pins an automation writes in one protected environment through one policy.
struct Write {
    why: String,
    pins: Vec<(usize, Span)>,
}

fn flux(
    snap: &Snapshot,
    config: &Config,
    (file, _fact): (usize, usize),
    automation: &ImageUpdateAutomation,
    namespace: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let Some(root) = update_root(automation.path.as_ref().map(|(p, _)| p.as_str())) else {
        return;
    };
    let root = resolve_root(snap, snap.path(file), root);
    // (environment, policy location) → the pins written through it.
    let mut writes: BTreeMap<(usize, (usize, usize)), Write> = BTreeMap::new();
    for p in &snap.pins {
        if !snap.envs.get(p.env).protected || !under(snap.path(p.file), &root) {
            continue;
        }
        let pin = snap.pin(p);
        let Some(marker) = pin.policy_ref.as_deref() else {
            continue;
        };
        // Flux applies only markers naming policies of the automation's namespace.
        if let (Some(ns), Some((marker_ns, _))) = (namespace, marker.split_once(':')) {
            if ns != marker_ns {
                continue;
            }
        }
        let Some(loc) = flux_policy(snap, marker, p.env) else {
            continue;
        };
        let key = (p.env, (loc.file, loc.fact));
        if let Some(w) = writes.get_mut(&key) {
            w.pins.push((p.file, pin.span.clone()));
            continue;
        }
        let Some(policy) = snap.policy(loc) else {
            continue;
        };
        if let Some(why) = unrestricted(snap, config, policy, p.env) {
            writes.insert(
                key,
                Write {
                    why,
                    pins: vec![(p.file, pin.span.clone())],
                },
            );
        }
    }
    let who = match namespace {
        Some(ns) => format!("{ns}/{}", automation.name),
        None => automation.name.clone(),
    };
    let (span, value) = match &automation.path {
        Some((path, span)) => (span.clone(), path.clone()),
        None => (automation.span.clone(), "(repository root)".to_string()),
    };
    for ((env, (pf, px)), write) in writes {
        let env_name = &snap.envs.get(env).name;
        let loc = Located {
            file: pf,
            fact: px,
            env: None,
        };
        let Some(policy) = snap.policy(&loc) else {
            continue;
        };
        let policy_ns = snap.files[pf].facts[px].namespace.as_deref();
        let policy_ref = match policy_ns {
            Some(ns) => format!("{ns}:{}", policy.name),
            None => policy.name.clone(),
        };
        let first = write
            .pins
            .first()
            .map(|(f, _)| snap.path(*f))
            .unwrap_or_default();
        let files = {
            let mut distinct: Vec<usize> = write.pins.iter().map(|(f, _)| *f).collect();
            distinct.dedup();
            files_phrase(first, distinct.len())
        };
        let message = format!(
            "Flux ImageUpdateAutomation `{who}` writes {files} of protected environment {env_name} through policy `{policy_ref}`, which is not restricted to {env_name}'s tags: {}",
            write.why
        );
        let mut related: Vec<Related> = write
            .pins
            .iter()
            .take(MAX_RELATED)
            .map(|(f, s)| Related {
                path: snap.path(*f).to_string(),
                span: s.clone(),
                message: format!("setter marker naming `{policy_ref}`"),
                revision: Revision::Tree,
            })
            .collect();
        related.push(Related {
            path: snap.path(pf).to_string(),
            span: policy
                .pattern
                .as_ref()
                .map_or_else(|| policy.span.clone(), |(_, s)| s.clone()),
            message: "the policy".to_string(),
            revision: Revision::Tree,
        });
        out.push(Finding {
            rule: ID,
            level: env_level(snap, env),
            message,
            path: snap.path(file).to_string(),
            span: span.clone(),
            environment: Some(env_name.clone()),
            component: Some(policy_ref),
            commit: None,
            related,
            value: value.clone(),
            help: Some("Flux"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::snapshot_from_bytes;

    fn findings(files: &[(&str, &str)]) -> Vec<Finding> {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        let config = Config::default();
        let snap = match snapshot_from_bytes(&bytes, &config) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut out = Vec::new();
        check(&snap, &config, &mut out);
        crate::engine::sort_findings(&mut out);
        out
    }

    fn shown(found: &[Finding]) -> Vec<String> {
        found
            .iter()
            .map(|f| {
                format!(
                    "{} {}:{}:{}-{}:{} {}",
                    f.level.as_str(),
                    f.path,
                    f.span.line,
                    f.span.column,
                    f.span.end_line,
                    f.span.end_column,
                    f.message
                )
            })
            .collect()
    }

    const CHARTS: &str = "- name: cilium\n  chart:\n    name: cilium\n    version: \"1.18.6\"\n";
    const STACK: &str = "locals {\n  versions = {\n    talos = \"v1.12.1\"\n  }\n}\n";

    fn homelab(renovate: &str) -> Vec<String> {
        shown(&findings(&[
            (".github/renovate.json5", renovate),
            ("kubernetes/clusters/dev/helm-charts.yaml", CHARTS),
            ("kubernetes/clusters/integration/helm-charts.yaml", CHARTS),
            ("kubernetes/clusters/live/helm-charts.yaml", CHARTS),
            ("infrastructure/stacks/dev/terragrunt.stack.hcl", STACK),
            (
                "infrastructure/stacks/integration/terragrunt.stack.hcl",
                STACK,
            ),
            ("infrastructure/stacks/live/terragrunt.stack.hcl", STACK),
        ]))
    }

    /// Renovate for a homelab: dev + integration by name, live disabled.
    #[test]
    fn homelab_renovate_config_is_clean() {
        let config = r#"{
  "packageRules": [
    {
      // Infrastructure versions - dev + integration together
      "matchFileNames": [
        "infrastructure/stacks/dev/terragrunt.stack.hcl",
        "infrastructure/stacks/integration/terragrunt.stack.hcl"
      ],
      "groupName": "infrastructure-versions",
    },
    {
      "matchManagers": ["kubernetes"],
      "matchFileNames": [
        "kubernetes/clusters/dev/helm-charts.yaml",
        "kubernetes/clusters/integration/helm-charts.yaml"
      ],
      "groupName": "helm-charts",
    },
    {
      // Block direct updates to live cluster
      "matchFileNames": [
        "infrastructure/stacks/live/terragrunt.stack.hcl",
        "kubernetes/clusters/live/helm-charts.yaml"
      ],
      "enabled": false
    }
  ],
}"#;
        assert_eq!(homelab(config), Vec::<String>::new());
    }

    #[test]
    fn a_glob_over_every_cluster_reaches_live() {
        let config = r#"{
  packageRules: [
    {
      matchManagers: ['kubernetes'],
      matchFileNames: ['kubernetes/clusters/*/helm-charts.yaml'],
      groupName: 'helm-charts',
    },
    {
      matchFileNames: ['infrastructure/stacks/live/terragrunt.stack.hcl'],
      enabled: false,
    },
  ],
}"#;
        assert_eq!(
            homelab(config),
            ["error .github/renovate.json5:5:25-5:63 Renovate packageRules[0] (`helm-charts`) updates `kubernetes/clusters/live/helm-charts.yaml` of protected environment live directly: `kubernetes/clusters/*/helm-charts.yaml` matches it and no rule disables it there"]
        );
        let found = findings(&[
            (".github/renovate.json5", config),
            ("kubernetes/clusters/live/helm-charts.yaml", CHARTS),
        ]);
        assert_eq!(found[0].related.len(), 1);
        assert_eq!(
            found[0].related[0].path,
            "kubernetes/clusters/live/helm-charts.yaml"
        );
        assert_eq!(found[0].related[0].span.line, 4);
        assert_eq!(found[0].value, "kubernetes/clusters/*/helm-charts.yaml");
        assert_eq!(found[0].environment.as_deref(), Some("live"));
    }

    #[test]
    fn order_of_rules_decides() {
        // A later `enabled: false` wins over the earlier glob…
        let later_disable = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/**"], groupName: "k8s"},
  {matchFileNames: ["kubernetes/clusters/live/**", "infrastructure/stacks/live/**"], enabled: false},
]}"#;
        assert_eq!(homelab(later_disable), Vec::<String>::new());
        // …an earlier one does not stop a later `enabled: true`.
        let re_enabled = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/live/**"], enabled: false},
  {matchFileNames: ["kubernetes/clusters/**"], matchUpdateTypes: ["patch"], enabled: true, automerge: true},
]}"#;
        assert_eq!(
            homelab(re_enabled),
            ["error .github/renovate.json5:3:22-3:44 Renovate packageRules[1] updates `kubernetes/clusters/live/helm-charts.yaml` of protected environment live directly: `kubernetes/clusters/**` matches it, and the rule's `enabled: true` overrides packageRules[0], which disables it"]
        );
        // A disabling rule narrower than the rule (another condition) disables only part.
        let narrow_disable = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/*/helm-charts.yaml"]},
  {matchFileNames: ["kubernetes/clusters/live/**"], matchPackageNames: ["cilium"], enabled: false},
]}"#;
        assert_eq!(homelab(narrow_disable).len(), 1);
        // The same conditions: it disables everything the rule selects.
        let same_conditions = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/*/helm-charts.yaml"], matchPackageNames: ["cilium"]},
  {matchFileNames: ["kubernetes/clusters/live/**"], matchPackageNames: ["cilium"], enabled: false},
]}"#;
        assert_eq!(homelab(same_conditions), Vec::<String>::new());
        // A rule without file patterns is not judged (repository-wide defaults), but as a
        // disabling rule it applies everywhere.
        let global = r#"{packageRules: [
  {matchPackageNames: ["cilium"], automerge: true},
  {matchFileNames: ["**/live/**"]},
  {enabled: false},
]}"#;
        assert_eq!(homelab(global), Vec::<String>::new());
    }

    #[test]
    fn ignore_paths_include_paths_and_disabled_renovate() {
        let bad = r#"{ignorePaths: ["kubernetes/clusters/live/"], packageRules: [{matchFileNames: ["kubernetes/**"]}]}"#;
        assert_eq!(homelab(bad), Vec::<String>::new());
        let included = r#"{includePaths: ["kubernetes/clusters/dev/**"], packageRules: [{matchFileNames: ["**/*.yaml"]}]}"#;
        assert_eq!(homelab(included), Vec::<String>::new());
        let off = r#"{enabled: false, packageRules: [{matchFileNames: ["**"]}]}"#;
        assert_eq!(homelab(off), Vec::<String>::new());
    }

    #[test]
    fn regexes_negations_and_legacy_substrings() {
        let regex =
            r#"{packageRules: [{matchFileNames: ["/^infrastructure/stacks/(dev|live)/"]}]}"#;
        assert_eq!(
            homelab(regex),
            ["error .github/renovate.json5:1:36-1:71 Renovate packageRules[0] updates `infrastructure/stacks/live/terragrunt.stack.hcl` of protected environment live directly: `/^infrastructure/stacks/(dev|live)/` matches it and no rule disables it there"]
        );
        // Excluding live by negation is fine; a negation alone selects everything else.
        let negated = r#"{packageRules: [{matchFileNames: ["kubernetes/**", "!**/live/**"]}]}"#;
        assert_eq!(homelab(negated), Vec::<String>::new());
        let only_negation = r#"{packageRules: [{matchFileNames: ["!kubernetes/**"]}]}"#;
        assert_eq!(
            homelab(only_negation),
            ["error .github/renovate.json5:1:36-1:50 Renovate packageRules[0] updates `infrastructure/stacks/live/terragrunt.stack.hcl` of protected environment live directly: `!kubernetes/**` does not exclude it and no rule disables it there"]
        );
        // `*` stays within a directory.
        let shallow = r#"{packageRules: [{matchFileNames: ["kubernetes/*"]}]}"#;
        assert_eq!(homelab(shallow), Vec::<String>::new());
        // Legacy `matchPaths`: a plain string is a substring.
        let legacy = r#"{packageRules: [{matchPaths: ["clusters/live"]}]}"#;
        assert_eq!(homelab(legacy).len(), 1);
        // Every key must select the file.
        let both = r#"{packageRules: [{matchFileNames: ["**/helm-charts.yaml"], matchPaths: ["stacks/"]}]}"#;
        assert_eq!(homelab(both), Vec::<String>::new());
        // An invalid glob or regex matches nothing (and does not panic).
        let invalid = r#"{packageRules: [{matchFileNames: ["kubernetes/[", "/(/", "//", "!"]}]}"#;
        assert_eq!(homelab(invalid), Vec::<String>::new());
    }

    #[test]
    fn several_files_of_one_environment_make_one_finding() {
        let config = r#"{packageRules: [{matchFileNames: ["**/live/**"], groupName: "all"}]}"#;
        let found = homelab(config);
        assert_eq!(
            found,
            ["error .github/renovate.json5:1:36-1:46 Renovate packageRules[0] (`all`) updates `infrastructure/stacks/live/terragrunt.stack.hcl` and 1 more file of protected environment live directly: `**/live/**` matches it and no rule disables it there"]
        );
    }

    #[test]
    fn config_in_a_subdirectory_is_relative_to_it() {
        let config = r#"{packageRules: [{matchFileNames: ["clusters/*/helm-charts.yaml"]}]}"#;
        let found = findings(&[
            ("lab/.github/renovate.json5", config),
            ("lab/clusters/live/helm-charts.yaml", CHARTS),
            ("clusters/prod/helm-charts.yaml", CHARTS),
        ]);
        let shown = shown(&found);
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].contains("`lab/clusters/live/helm-charts.yaml`"));
    }

    const POLICY: &str = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: backend
  namespace: production
spec:
  imageRepositoryRef:
    name: backend
  filterTags:
    pattern: 'PATTERN'
    extract: '$ts'
  policy:
    numerical:
      order: asc
"#;

    const OVERLAY: &str = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: ghcr.io/acme/backend
    newTag: production-v1.2.3-1712345678 # {"$imagepolicy": "production:backend:tag"}
"#;

    const AUTOMATION: &str = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: apps
  namespace: NAMESPACE
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
  update:
    path: ./apps
    strategy: Setters
"#;

    fn lab(pattern: &str, namespace: &str) -> Vec<String> {
        let policy = POLICY.replace("PATTERN", pattern);
        let automation = AUTOMATION.replace("NAMESPACE", namespace);
        shown(&findings(&[
            ("apps/backend/production/image-policy.yaml", &policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("apps/backend/staging/kustomization.yaml", "images: []\n"),
            ("clusters/lab/image-update-automation.yaml", &automation),
        ]))
    }

    #[test]
    fn flux_automation_with_a_restricted_policy_is_fine() {
        let good = r"^production-v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?P<ts>[0-9]+)$";
        assert_eq!(lab(good, "production"), Vec::<String>::new());
    }

    #[test]
    fn flux_automation_through_a_broad_policy_is_an_error() {
        let broad = r"^(staging|production)-v(?P<version>.+)-(?P<ts>[0-9]+)$";
        assert_eq!(
            lab(broad, "production"),
            ["error clusters/lab/image-update-automation.yaml:11:11-11:17 Flux ImageUpdateAutomation `production/apps` writes `apps/backend/production/kustomization.yaml` of protected environment production through policy `production:backend`, which is not restricted to production's tags: it admits `staging-v--0`, a tag of staging"]
        );
        let unanchored = r"production-v(?P<version>.+)-(?P<ts>[0-9]+)$";
        let found = lab(unanchored, "production");
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .ends_with("its pattern is not anchored with `^` and admits `xproduction-v--0`"),
            "{found:?}"
        );
        // An automation of another namespace does not apply these markers.
        assert_eq!(lab(broad, "staging"), Vec::<String>::new());
    }

    #[test]
    fn a_policy_too_complex_to_analyse_is_not_restricted() {
        let complex =
            r"^(staging|production)-v(?P<version>[0-9.]+)-(?P<ts>[0-9]+)(-.{0,200}x.{0,200})?$";
        let found = lab(complex, "production");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].ends_with(
                "its pattern is too complex to analyse (its DFA exceeds 1048576 bytes), so it cannot be shown to admit only production's tags"
            ),
            "{found:?}"
        );
    }

    #[test]
    fn flux_automation_with_a_policy_without_pattern_or_outside_its_path() {
        let policy = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: backend
  namespace: production
spec:
  imageRepositoryRef:
    name: backend
  policy:
    semver:
      range: '>=1.0.0'
"#;
        let automation = AUTOMATION.replace("NAMESPACE", "production");
        let found = findings(&[
            ("apps/backend/production/image-policy.yaml", policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("clusters/lab/image-update-automation.yaml", &automation),
        ]);
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .ends_with("it has no filterTags.pattern and admits every tag"));
        assert_eq!(found[0].value, "./apps");
        assert_eq!(found[0].component.as_deref(), Some("production:backend"));
        let related: Vec<(String, u32)> = found[0]
            .related
            .iter()
            .map(|r| (r.path.clone(), r.span.line))
            .collect();
        assert_eq!(
            related,
            [
                ("apps/backend/production/kustomization.yaml".to_string(), 5),
                ("apps/backend/production/image-policy.yaml".to_string(), 2),
            ]
        );

        // The automation writes elsewhere: not this environment's files.
        let elsewhere = automation.replace("./apps", "./clusters/lab/../../other");
        let found = findings(&[
            ("apps/backend/production/image-policy.yaml", policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("clusters/lab/image-update-automation.yaml", &elsewhere),
        ]);
        assert_eq!(shown(&found), Vec::<String>::new());
        // A path leaving the repository writes nothing we can see.
        assert_eq!(update_root(Some("../x")), None);
        assert_eq!(update_root(Some("./")).as_deref(), Some(""));
        assert_eq!(update_root(None).as_deref(), Some(""));
        assert!(under("apps/x.yaml", "apps") && !under("apps2/x.yaml", "apps"));

        // Without `path`, the whole repository: reported at the kind.
        let whole = automation.replace("    path: ./apps\n", "");
        let found = findings(&[
            ("apps/backend/production/image-policy.yaml", policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("clusters/lab/image-update-automation.yaml", &whole),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].span.line, found[0].span.column), (2, 7));
        assert_eq!(found[0].value, "(repository root)");
    }
}
