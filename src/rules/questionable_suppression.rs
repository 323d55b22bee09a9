//! PL011 questionable-suppression: inline `promolint: ignore[…]` comments are applied here,
//! and reported when they cannot be trusted: no reason, naming no rule, silencing nothing,
//! or switching off the promotion gate of a protected environment.
use super::Finding;
use crate::config::Config;
use crate::extract::suppress::Suppression;
use crate::model::Level;
use crate::snapshot::Snapshot;
use std::collections::{BTreeSet, HashMap, HashSet};

pub const ID: &str = "PL011";

/// The rule. It has no hooks: the pipeline's finish applies the suppressions it judges
/// ([`apply`]).
pub struct QuestionableSuppression;

impl super::Rule for QuestionableSuppression {
    fn id(&self) -> &'static str {
        ID
    }

    fn hooks(&self) -> super::Hooks {
        super::Hooks::default()
    }
}

/// The rules that decide whether a promotion may merge: silencing one of them in a
/// protected environment switches off the gate itself.
pub const GATE_RULES: &[&str] = &["PL006", "PL007", "PL008"];

// The paragraphs of the rule page's `How to fix` that fit each problem.
const GATE: &str = "Gate";
const UNUSED: &str = "Unused";
const REASON: &str = "Reason";

/// What a run knows about the suppressions it applies.
#[derive(Clone, Debug, Default)]
pub struct Audit<'a> {
    /// Rules whose findings are complete for the audited files in this mode: a suppression
    /// of one of them that silences nothing really is unused. (`check` cannot say that of
    /// PL007, which only judges changes; `diff` cannot say it of PL006 away from the pins
    /// the change moved.)
    pub ran: BTreeSet<&'static str>,
    /// Files whose suppressions are reported on; `None`: every file.
    pub files: Option<&'a BTreeSet<&'a str>>,
    /// The base of a change: a suppression it lacks was added by the change.
    pub base: Option<&'a Snapshot>,
}

impl Audit<'_> {
    /// The rules a tree run (`check`) judges completely.
    pub fn tree(enabled: &BTreeSet<&'static str>) -> Audit<'static> {
        let ran = super::with_hook(enabled, |h| h.tree || h.history_tree)
            .map(|r| r.id())
            .collect();
        Audit {
            ran,
            files: None,
            base: None,
        }
    }

    fn audits(&self, path: &str) -> bool {
        self.files.is_none_or(|f| f.contains(path))
    }
}

/// Keep the findings no trusted suppression silences; when `report` (PL011 is enabled),
/// add a finding for each suppression that cannot be trusted.
pub fn apply(
    findings: &mut Vec<Finding>,
    snap: &Snapshot,
    config: &Config,
    audit: &Audit,
    report: bool,
) {
    let added = AddedSuppressions::new(snap, audit.base);
    // (file, suppression index) → silenced something.
    let mut used: HashSet<(usize, usize)> = HashSet::new();
    findings.retain(|f| {
        // PL000: a comment in a file promolint could not read cannot vouch for it (it may
        // sit above the one line that does not parse). PL011 would silence itself.
        if f.rule == super::unreadable_file::ID || f.rule == ID {
            return true;
        }
        let Some(fi) = snap.file_index(&f.path) else {
            return true;
        };
        let name = super::lookup(f.rule).map(|r| r.name).unwrap_or_default();
        let gate = GATE_RULES.contains(&f.rule)
            && f.environment
                .as_deref()
                .and_then(|e| snap.envs.index_of(e))
                .is_some_and(|e| snap.envs.get(e).protected);
        let mut silenced = false;
        for (si, s) in snap.files[fi].suppressions.iter().enumerate() {
            if !s.covers(f.rule, name, f.span.line) {
                continue;
            }
            if gate && (config.strict_suppressions || added.contains(fi, si)) {
                continue;
            }
            used.insert((fi, si));
            silenced = true;
        }
        !silenced
    });
    if !report {
        return;
    }
    for (fi, file) in snap.files.iter().enumerate() {
        if file.suppressions.is_empty() || !audit.audits(&file.path) {
            continue;
        }
        let env = protected_env(snap, fi);
        for (si, s) in file.suppressions.iter().enumerate() {
            let problem = judge(s, env.as_deref(), audit, config, added.contains(fi, si))
                .or_else(|| {
                    (!used.contains(&(fi, si)))
                        .then(|| unused(s, audit))
                        .flatten()
                })
                .or_else(|| reasonless(s));
            let Some((level, message, help)) = problem else {
                continue;
            };
            findings.push(Finding {
                rule: ID,
                level,
                message,
                path: file.path.clone(),
                span: s.span.clone(),
                environment: env.clone(),
                component: None,
                commit: None,
                related: Vec::new(),
                value: s.rules.join(","),
                help: Some(help),
                fix: Default::default(),
            });
        }
    }
}

/// What is wrong with a suppression whatever it silenced (first: the gravest).
fn judge(
    s: &Suppression,
    env: Option<&str>,
    audit: &Audit,
    config: &Config,
    added: bool,
) -> Option<(Level, String, &'static str)> {
    let gates: Vec<&str> = GATE_RULES
        .iter()
        .copied()
        .filter(|id| s.names(id, super::lookup(id).map(|r| r.name).unwrap_or_default()))
        .collect();
    if let (Some(env), false) = (env, gates.is_empty()) {
        let rules = gates.join(", ");
        if config.strict_suppressions {
            return Some((
                Level::Error,
                format!(
                    "suppressing {rules} in protected environment `{env}` is not allowed here (`strict_suppressions`); this comment silences nothing"
                ),
                GATE,
            ));
        }
        if added && audit.base.is_some() {
            return Some((
                Level::Error,
                format!(
                    "this change adds a suppression of {rules} in protected environment `{env}`: a change cannot switch off its own promotion gate, so the comment silences nothing"
                ),
                GATE,
            ));
        }
    }
    let unsuppressible: Vec<&str> = [super::unreadable_file::ID, ID]
        .into_iter()
        .filter(|id| s.names(id, super::lookup(id).map(|r| r.name).unwrap_or_default()))
        .collect();
    if !unsuppressible.is_empty() {
        return Some((
            Level::Warning,
            format!(
                "{} cannot be suppressed inline, so this comment silences nothing; fix the file, or exclude it with a `rules.<id>.ignore` glob in the configuration",
                unsuppressible.join(", ")
            ),
            UNUSED,
        ));
    }
    let unknown: Vec<&str> = s
        .rules
        .iter()
        .map(String::as_str)
        .filter(|r| super::lookup(r).is_none())
        .collect();
    if !unknown.is_empty() {
        return Some((
            Level::Warning,
            format!(
                "`{}` names no rule; `promolint rules` lists the ids and names",
                unknown.join("`, `")
            ),
            UNUSED,
        ));
    }
    None
}

/// A suppression that does not say why.
fn reasonless(s: &Suppression) -> Option<(Level, String, &'static str)> {
    s.reason.is_empty().then(|| {
        (
            Level::Warning,
            format!(
                "suppression of {} gives no reason; say why after the brackets",
                s.rules.join(", ")
            ),
            REASON,
        )
    })
}

/// A suppression that silenced nothing, when every rule it names was judged completely.
fn unused(s: &Suppression, audit: &Audit) -> Option<(Level, String, &'static str)> {
    let all_ran = s
        .rules
        .iter()
        .all(|r| super::lookup(r).is_some_and(|m| audit.ran.contains(m.id)));
    all_ran.then(|| {
        (
            Level::Warning,
            format!(
                "suppression of {} silences nothing on this line or the next; remove it",
                s.rules.join(", ")
            ),
            UNUSED,
        )
    })
}

/// The protected environment a file belongs to (by its path, or a pin taking effect
/// there), if any.
fn protected_env(snap: &Snapshot, fi: usize) -> Option<String> {
    // `pins` is sorted by file: the file's own are one run of it.
    let from = snap.pins.partition_point(|p| p.file < fi);
    let to = snap.pins.partition_point(|p| p.file <= fi);
    let by_path = snap.envs.for_path(snap.path(fi));
    by_path
        .into_iter()
        .chain(snap.pins[from..to].iter().map(|p| p.env))
        .find(|&e| snap.envs.get(e).protected)
        .map(|e| snap.envs.get(e).name.clone())
}

/// The suppressions of the after side of a change that its base lacks (compared by rules
/// and reason, so a comment that only moved is not new).
struct AddedSuppressions {
    added: HashSet<(usize, usize)>,
}

impl AddedSuppressions {
    fn new(snap: &Snapshot, base: Option<&Snapshot>) -> Self {
        let mut added = HashSet::new();
        let Some(base) = base else {
            return AddedSuppressions { added };
        };
        for (fi, file) in snap.files.iter().enumerate() {
            if file.suppressions.is_empty() {
                continue;
            }
            let mut before: HashMap<(Vec<String>, &str), usize> = HashMap::new();
            for s in base
                .file(&file.path)
                .into_iter()
                .flat_map(|f| &f.suppressions)
            {
                *before.entry(s.identity()).or_default() += 1;
            }
            for (si, s) in file.suppressions.iter().enumerate() {
                match before.get_mut(&s.identity()) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => {
                        added.insert((fi, si));
                    }
                }
            }
        }
        AddedSuppressions { added }
    }

    fn contains(&self, fi: usize, si: usize) -> bool {
        self.added.contains(&(fi, si))
    }
}
