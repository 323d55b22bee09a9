//! Regex analysis of tag policies (PL003): which tags a policy admits, decided on the
//! policy's automaton, with a counterexample tag for every problem.
//!
//! Flux applies `filterTags.pattern` with Go regexp *search* semantics: a tag is
//! admitted when the pattern matches anywhere in it, so only `^`/`$` anchor it. The
//! analysis parses the pattern (regex-syntax), restricts it to the Docker tag alphabet
//! `[A-Za-z0-9_.-]` (tags start with `[A-Za-z0-9_]` and have at most 128 bytes), builds
//! bounded DFAs for "tags the policy admits" and for the tags it must not admit, and
//! searches their product for the shortest, then smallest by byte order, counterexample.
//! Every tag shown is checked against the real `regex` engine before it is reported.
//!
//! Patterns come from users' repositories: nothing here panics, and an automaton that
//! outgrows its bounds yields [`Problem::TooComplex`] instead of a hang.

mod automaton;
mod language;
mod semver;
mod template;
#[cfg(test)]
mod tests;

use regex_syntax::hir::Hir;

use crate::model::PolicyOrder;
use automaton::{shortest, Alphabet, Lang, Part, TooComplex};
use language::{
    any_tag_text, byte_class, captures, digits, is_start_anchored, is_valid_tag, key_runs,
    literals, project, project_replacing, KeyRun, KeyScope, RunKind, MAX_TAG_LEN, SEPARATORS,
    TAG_BYTES, TAG_FIRST_BYTES,
};
use template::Piece;

/// Compiled-size bound for the `regex` engine that verifies counterexamples (its default).
const REGEX_SIZE_LIMIT: usize = 10 << 20;

/// Any Docker tag.
const TAGS: Alphabet<'static> = Alphabet {
    first: TAG_FIRST_BYTES,
    rest: TAG_BYTES,
    max_len: MAX_TAG_LEN,
    allow_empty: false,
};

/// The environment a policy belongs to, and the words that name environments in tags.
///
/// Tokens are compared with tags as written (tags are case-sensitive): `staging`
/// matches `staging-v1`, not `STAGING-v1`.
#[derive(Clone, Copy, Debug)]
pub struct PolicyContext<'a> {
    /// The environment's name (`production`); it also counts as one of its own tokens.
    pub environment: &'a str,
    /// Tokens meaning this environment as a tag prefix: `["prod", "production", "live"]`.
    pub own_tokens: &'a [String],
    /// Tokens of every other environment: `["dev", "develop", "staging", …]`.
    pub foreign_tokens: &'a [String],
    /// Tags that move: `["latest", "main", …]`.
    pub mutable_tags: &'a [String],
    /// Whether the environment is protected (pre-release ranges matter there).
    pub protected: bool,
}

/// One reason a tag policy admits tags it should not, with its counterexample.
///
/// [`analyse`] returns problems most important first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The pattern is not a valid regular expression; `error` is the parser's message.
    /// Nothing else is checked.
    InvalidPattern { error: String },
    /// An automaton for the pattern outgrew its bounds; checks from this point on that
    /// need one were skipped.
    TooComplex { reason: String },
    /// The pattern has no start anchor, so it admits `tag`: text in front of what it
    /// describes (`production-v.*` admits `xproduction-v`).
    NotAnchored { tag: String },
    /// The policy admits `tag`, which starts with another environment's `token` and a
    /// separator (`-`, `_`, `.`), and with none of the environment's own tokens.
    ForeignTag { tag: String, token: String },
    /// The policy admits these mutable tags: configured mutable tags (`latest`) or an
    /// environment token on its own (`production`). The first is the counterexample.
    MutableTag { tags: Vec<String> },
    /// A semver `range` of a protected environment whose `comparator` carries a
    /// pre-release (`>=1.0.0-0`), so pre-release versions get through.
    PrereleaseRange {
        range: String,
        comparator: String,
        environment: String,
    },
    /// `extract` refers to `group`, which the pattern does not have (`None`: it refers to
    /// no group at all), so every tag gets the same key.
    UnknownGroup {
        extract: String,
        group: Option<String>,
    },
    /// Alphabetical order over a key with a variable-width number (`\d+`): `first`
    /// sorts before `second` although its number is larger (`…10…` before `…9…`).
    /// `key` is the extract (`None`: the whole tag). Both are tags of the policy when
    /// they could be verified, else the two numbers.
    UnpaddedNumbers {
        key: Option<String>,
        first: String,
        second: String,
    },
    /// Alphabetical order over a key holding a hex hash (`[a-f0-9]+`): hashes do not
    /// sort by age. `first` and `second` are two admitted tags (or keys) in sort order.
    HashOrder {
        key: Option<String>,
        first: String,
        second: String,
    },
    /// Numerical order over a key that need not be a number: `value` is a key the
    /// policy can produce (`v0`; empty when the group can be skipped). `key` is the
    /// extract (`None`: the whole tag, and `value` is a tag).
    NonNumericKey { key: Option<String>, value: String },
}

impl Problem {
    /// A one-line message for a diagnostic.
    pub fn message(&self) -> String {
        match self {
            Problem::InvalidPattern { error } => {
                format!("tag pattern is not a valid regular expression: {error}")
            }
            Problem::TooComplex { reason } => format!(
                "tag pattern is too complex to analyse ({reason}); the tags it admits were not checked"
            ),
            Problem::NotAnchored { tag } => format!(
                "tag pattern is not anchored with `^`: it admits `{tag}`, with arbitrary text in front"
            ),
            Problem::ForeignTag { tag, token } => {
                format!("policy admits `{tag}`, a tag of another environment (`{token}`)")
            }
            Problem::MutableTag { tags } => {
                let first = tags.first().map_or("", String::as_str);
                let mut message = format!("policy admits mutable tag `{first}`");
                // A few names make the point; `.*` would list every token.
                let mut also: Vec<String> =
                    tags.iter().skip(1).take(3).map(|t| format!("`{t}`")).collect();
                if tags.len() > 4 {
                    also.push(format!("{} more", tags.len() - 4));
                }
                if !also.is_empty() {
                    message.push_str(&format!(" (also {})", also.join(", ")));
                }
                message
            }
            Problem::PrereleaseRange {
                range,
                comparator,
                environment,
            } => {
                if range.trim() == comparator {
                    format!(
                        "semver range `{range}` admits pre-release versions in protected environment `{environment}`"
                    )
                } else {
                    format!(
                        "semver range `{range}` admits pre-release versions (`{comparator}`) in protected environment `{environment}`"
                    )
                }
            }
            Problem::UnknownGroup { extract, group } => match group {
                Some(group) => format!(
                    "extract `{extract}` refers to group `{group}`, which the pattern does not have; every tag gets the same key"
                ),
                None => format!(
                    "extract `{extract}` refers to no group of the pattern; every tag gets the same key"
                ),
            },
            Problem::UnpaddedNumbers { key, first, second } => format!(
                "alphabetical order compares {} as text and its numbers are not zero-padded: `{first}` sorts before `{second}`",
                key_phrase(key)
            ),
            Problem::HashOrder { key, first, second } => format!(
                "commit hashes do not sort by age; alphabetical picks an arbitrary tag ({} is a hash: `{first}` sorts before `{second}` whichever is newer)",
                key_phrase(key)
            ),
            Problem::NonNumericKey { key, value } => {
                let value = if value.is_empty() {
                    "empty".to_string()
                } else {
                    format!("`{value}`")
                };
                match key {
                    Some(key) => format!(
                        "numerical order needs a numeric key, but key `{key}` can be {value}"
                    ),
                    None => format!(
                        "numerical order needs a numeric key, but without `extract` the key is the whole tag, e.g. {value}"
                    ),
                }
            }
        }
    }

    /// The tag (or key, or comparator) that demonstrates the problem, if there is one.
    pub(crate) fn counterexample(&self) -> Option<&str> {
        match self {
            Problem::InvalidPattern { .. }
            | Problem::TooComplex { .. }
            | Problem::UnknownGroup { .. } => None,
            Problem::NotAnchored { tag } | Problem::ForeignTag { tag, .. } => Some(tag),
            Problem::MutableTag { tags } => tags.first().map(String::as_str),
            Problem::PrereleaseRange { comparator, .. } => Some(comparator),
            Problem::UnpaddedNumbers { first, .. } | Problem::HashOrder { first, .. } => {
                Some(first)
            }
            Problem::NonNumericKey { value, .. } => Some(value),
        }
    }
}

fn key_phrase(key: &Option<String>) -> String {
    match key {
        Some(key) => format!("key `{key}`"),
        None => "the whole tag".to_string(),
    }
}

/// Whether `pattern` admits `tag` the way Flux applies it: a regex *search* (unanchored
/// unless the pattern says `^`/`$`). An invalid pattern admits nothing.
pub fn admits(pattern: &str, tag: &str) -> bool {
    compile(pattern).is_ok_and(|re| re.is_match(tag))
}

/// Everything wrong with a tag policy, most important first (see [`Problem`]).
///
/// `pattern` is `filterTags.pattern` (or `tag_pattern`), `extract` is
/// `filterTags.extract` (`$ts`); without a pattern only the semver range is checked.
///
/// Order: an invalid pattern alone; then not anchored, foreign tag, mutable tag,
/// pre-release range, unknown extract group, and the ordering-key problem. A
/// [`Problem::TooComplex`] takes the place of the first check that needed an automaton
/// it could not have; the checks that need none (mutable tags, semver) still run.
pub fn analyse(
    pattern: Option<&str>,
    extract: Option<&str>,
    order: &PolicyOrder,
    ctx: &PolicyContext,
) -> Vec<Problem> {
    // The same policy text recurs across applications and, in `history`, across every
    // commit; building its automata dominates the rule's cost, so answers are remembered
    // for the process (bounded).
    type Key = (
        Option<String>,
        Option<String>,
        PolicyOrder,
        String,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        bool,
    );
    static MEMO: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<Key, Vec<Problem>>>,
    > = std::sync::OnceLock::new();
    const MEMO_LIMIT: usize = 4096;
    let key: Key = (
        pattern.map(str::to_string),
        extract.map(str::to_string),
        order.clone(),
        ctx.environment.to_string(),
        ctx.own_tokens.to_vec(),
        ctx.foreign_tokens.to_vec(),
        ctx.mutable_tags.to_vec(),
        ctx.protected,
    );
    let memo = MEMO.get_or_init(Default::default);
    if let Some(hit) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let problems = analyse_uncached(pattern, extract, order, ctx);
    if let Ok(mut m) = memo.lock() {
        if m.len() >= MEMO_LIMIT {
            m.clear();
        }
        m.insert(key, problems.clone());
    }
    problems
}

fn analyse_uncached(
    pattern: Option<&str>,
    extract: Option<&str>,
    order: &PolicyOrder,
    ctx: &PolicyContext,
) -> Vec<Problem> {
    let Some(pattern) = pattern else {
        return prerelease_problem(order, ctx).into_iter().collect();
    };
    let hir = match parse(pattern) {
        Ok(hir) => hir,
        Err(error) => return vec![Problem::InvalidPattern { error }],
    };
    let projected = project(&hir);
    // A pattern no tag can match (it needs more bytes than a tag has, or bytes no tag
    // has) admits nothing to find a counterexample in or to order, and building its
    // automata anyway took seconds (`s{1000}`).
    let no_tag = projected
        .properties()
        .minimum_len()
        .is_none_or(|n| n > MAX_TAG_LEN);
    let mut a = Analysis {
        projected,
        hir,
        regex: None,
        admitted: None,
        no_tag,
        ctx,
        problems: Vec::new(),
        too_complex: false,
    };
    match compile(pattern) {
        Ok(regex) => a.regex = Some(regex),
        Err(regex::Error::Syntax(error)) => {
            // The same parser accepted it above; keep the engine's last line just in case.
            let error = error.lines().last().unwrap_or_default().trim().to_string();
            return vec![Problem::InvalidPattern { error }];
        }
        Err(regex::Error::CompiledTooBig(limit)) => a.record_complex(TooComplex(format!(
            "the compiled regex exceeds {limit} bytes"
        ))),
        Err(error) => a.record_complex(TooComplex(error.to_string())),
    }
    if a.regex.is_some() && !a.no_tag {
        // Every tag-language check starts from the tags the policy admits.
        let admitted = Hir::concat(vec![any_tag_text(), a.projected.clone(), any_tag_text()]);
        match Lang::new(admitted) {
            Ok(lang) => a.admitted = Some(lang),
            Err(e) => a.record_complex(e),
        }
    }

    let anchor = a.not_anchored();
    a.record(anchor);
    let foreign = a.foreign_tag();
    a.record(foreign);
    if let Some(problem) = a.mutable_tags() {
        a.problems.push(problem);
    }
    if let Some(problem) = prerelease_problem(order, ctx) {
        a.problems.push(problem);
    }
    a.check_key(extract, order);
    a.problems
}

/// The pattern's HIR, or the parser's message on one line.
fn parse(pattern: &str) -> Result<Hir, String> {
    // Go reads `\123` as an octal escape; so does Flux.
    regex_syntax::ParserBuilder::new()
        .octal(true)
        .build()
        .parse(pattern)
        .map_err(|e| syntax_message(&e))
}

fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .octal(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// The parser's message on one line (its `Display` draws the pattern with carets).
fn syntax_message(error: &regex_syntax::Error) -> String {
    match error {
        regex_syntax::Error::Parse(e) => {
            format!("{} (at byte {})", e.kind(), e.span().start.offset)
        }
        regex_syntax::Error::Translate(e) => {
            format!("{} (at byte {})", e.kind(), e.span().start.offset)
        }
        other => other
            .to_string()
            .lines()
            .last()
            .unwrap_or_default()
            .to_string(),
    }
}

fn prerelease_problem(order: &PolicyOrder, ctx: &PolicyContext) -> Option<Problem> {
    let PolicyOrder::Semver { range } = order else {
        return None;
    };
    if !ctx.protected {
        return None;
    }
    semver::prerelease_comparator(range).map(|comparator| Problem::PrereleaseRange {
        range: range.clone(),
        comparator,
        environment: ctx.environment.to_string(),
    })
}

/// The ordering key: what `extract` builds from the match, or the whole tag.
struct Key {
    /// `None`: no extract, the key is the tag itself.
    parts: Option<Vec<KeyPart>>,
    extract: Option<String>,
}

enum KeyPart {
    Text(String),
    Group(u32),
}

struct Analysis<'a> {
    hir: Hir,
    /// `hir` over the tag alphabet.
    projected: Hir,
    /// The real engine, for verifying counterexamples; `None` when it is too big.
    regex: Option<regex::Regex>,
    /// Tags the policy admits; `None` when too complex or when no tag matches.
    admitted: Option<Lang>,
    /// No tag can match the pattern (see [`analyse_uncached`]).
    no_tag: bool,
    ctx: &'a PolicyContext<'a>,
    problems: Vec<Problem>,
    too_complex: bool,
}

impl Analysis<'_> {
    fn record_complex(&mut self, e: TooComplex) {
        // One such problem says it all; later checks just skip.
        if !self.too_complex {
            self.too_complex = true;
            self.problems.push(Problem::TooComplex { reason: e.0 });
        }
    }

    fn record(&mut self, result: Result<Option<Problem>, TooComplex>) {
        match result {
            Ok(Some(problem)) => self.problems.push(problem),
            Ok(None) => {}
            Err(e) => self.record_complex(e),
        }
    }

    fn verified(&self, tag: &str) -> bool {
        self.regex.as_ref().is_some_and(|re| re.is_match(tag))
    }

    /// `x` + the shortest tag the start-anchored pattern admits, if the unanchored
    /// pattern admits that; else the shortest tag admitted only through a later match.
    fn not_anchored(&self) -> Result<Option<Problem>, TooComplex> {
        let Some(admitted) = &self.admitted else {
            return Ok(None);
        };
        if is_start_anchored(&self.hir) {
            return Ok(None);
        }
        let anchored = Lang::new(Hir::concat(vec![self.projected.clone(), any_tag_text()]))?;
        let after_x = Part {
            lang: admitted,
            start: admitted.step(admitted.start(), b'x'),
            want: true,
        };
        let rest = Alphabet {
            max_len: MAX_TAG_LEN - 1,
            ..TAGS
        };
        let with_x = shortest(&[after_x, Part::must(&anchored)], &rest)?
            .map(|rest| [b"x".as_slice(), &rest].concat());
        // A match later in the tag can make `x…` long (`\bprod` admits `x-prod`, not
        // `xprod`): the shortest tag admitted only through such a match may be better.
        let later = shortest(&[Part::must(admitted), Part::must_not(&anchored)], &TAGS)?;
        let tag = match (with_x, later) {
            (Some(x), Some(l)) if l.len() < x.len() => Some(l),
            (Some(x), _) => Some(x),
            (None, l) => l,
        };
        Ok(tag
            .and_then(|t| String::from_utf8(t).ok())
            .filter(|t| self.verified(t))
            .map(|tag| Problem::NotAnchored { tag }))
    }

    fn own_tokens(&self) -> Vec<&str> {
        let mut own: Vec<&str> = Vec::new();
        let tokens = std::iter::once(self.ctx.environment)
            .chain(self.ctx.own_tokens.iter().map(String::as_str));
        for t in tokens {
            if !t.is_empty() && !own.contains(&t) {
                own.push(t);
            }
        }
        own
    }

    fn foreign_tag(&self) -> Result<Option<Problem>, TooComplex> {
        let Some(admitted) = &self.admitted else {
            return Ok(None);
        };
        let own = self.own_tokens();
        let mut foreign: Vec<&str> = Vec::new();
        for t in self.ctx.foreign_tokens.iter().map(String::as_str) {
            if !t.is_empty() && !own.contains(&t) && !foreign.contains(&t) {
                foreign.push(t);
            }
        }
        if foreign.is_empty() {
            return Ok(None);
        }
        let tail = || Hir::concat(vec![byte_class(SEPARATORS), any_tag_text()]);
        let foreign_tags = Lang::new(Hir::concat(vec![literals(&foreign), tail()]))?;
        // Own tokens win: `staging-eu-…` belongs to `staging-eu`, not to `staging`.
        let own_tags = Lang::new(Hir::concat(vec![
            literals(&own),
            Hir::alternation(vec![Hir::empty(), tail()]),
        ]))?;
        let parts = [
            Part::must(admitted),
            Part::must(&foreign_tags),
            Part::must_not(&own_tags),
        ];
        let Some(tag) = shortest(&parts, &TAGS)?.and_then(|t| String::from_utf8(t).ok()) else {
            return Ok(None);
        };
        if !self.verified(&tag) {
            return Ok(None);
        }
        let token = foreign
            .iter()
            .filter(|t| {
                tag.starts_with(**t)
                    && tag
                        .as_bytes()
                        .get(t.len())
                        .is_some_and(|b| SEPARATORS.contains(b))
            })
            .max_by_key(|t| t.len())
            .map_or_else(String::new, |t| t.to_string());
        Ok(Some(Problem::ForeignTag { tag, token }))
    }

    /// Mutable tags and bare environment tokens, checked one by one on the real engine
    /// (a finite list, so no automaton is needed and this works for any pattern).
    fn mutable_tags(&self) -> Option<Problem> {
        let re = self.regex.as_ref()?;
        let candidates = self
            .ctx
            .mutable_tags
            .iter()
            .map(String::as_str)
            .chain(self.own_tokens())
            .chain(self.ctx.foreign_tokens.iter().map(String::as_str));
        let mut tags: Vec<String> = Vec::new();
        for c in candidates {
            if is_valid_tag(c) && !tags.iter().any(|t| t == c) && re.is_match(c) {
                tags.push(c.to_string());
            }
        }
        (!tags.is_empty()).then_some(Problem::MutableTag { tags })
    }

    /// Resolves `extract` against the pattern's groups.
    fn key(&self, extract: Option<&str>) -> Result<Key, Problem> {
        let Some(extract) = extract.filter(|e| !e.is_empty()) else {
            return Ok(Key {
                parts: None,
                extract: None,
            });
        };
        let groups = captures(&self.hir);
        let group_count = self.hir.properties().explicit_captures_len() + 1;
        let mut parts = Vec::new();
        for piece in template::parse(extract) {
            match piece {
                Piece::Text(text) => parts.push(KeyPart::Text(text)),
                Piece::Group(name) => {
                    let index = match template::group_number(&name) {
                        Some(n) if n < group_count => u32::try_from(n).ok(),
                        Some(_) => None,
                        None => groups
                            .iter()
                            .find(|g| g.name == Some(name.as_str()))
                            .map(|g| g.index),
                    };
                    match index {
                        Some(i) => parts.push(KeyPart::Group(i)),
                        None => {
                            return Err(Problem::UnknownGroup {
                                extract: extract.to_string(),
                                group: Some(name),
                            })
                        }
                    }
                }
            }
        }
        if !parts.iter().any(|p| matches!(p, KeyPart::Group(_))) {
            return Err(Problem::UnknownGroup {
                extract: extract.to_string(),
                group: None,
            });
        }
        Ok(Key {
            parts: Some(parts),
            extract: Some(extract.to_string()),
        })
    }

    /// The key the policy computes for `tag` (Go's `Expand` over the real match).
    fn key_of(&self, key: &Key, tag: &str) -> Option<String> {
        let re = self.regex.as_ref()?;
        let Some(parts) = &key.parts else {
            return re.is_match(tag).then(|| tag.to_string());
        };
        let caps = re.captures(tag)?;
        let mut out = String::new();
        for part in parts {
            match part {
                KeyPart::Text(text) => out.push_str(text),
                KeyPart::Group(i) => {
                    out.push_str(caps.get(*i as usize).map_or("", |m| m.as_str()));
                }
            }
        }
        Some(out)
    }

    fn check_key(&mut self, extract: Option<&str>, order: &PolicyOrder) {
        let key = match self.key(extract) {
            Ok(key) => key,
            Err(problem) => return self.problems.push(problem),
        };
        if self.no_tag {
            return;
        }
        let result = match order {
            PolicyOrder::Alphabetical { .. } => self.alphabetical(&key),
            PolicyOrder::Numerical { .. } => self.numerical(&key),
            PolicyOrder::Semver { .. } | PolicyOrder::Unspecified => Ok(None),
        };
        self.record(result);
    }

    fn alphabetical(&self, key: &Key) -> Result<Option<Problem>, TooComplex> {
        let indices: Vec<u32>;
        let scope = match &key.parts {
            Some(parts) if !parts.iter().any(|p| matches!(p, KeyPart::Group(0))) => {
                indices = parts
                    .iter()
                    .filter_map(|p| match p {
                        KeyPart::Group(i) => Some(*i),
                        KeyPart::Text(_) => None,
                    })
                    .collect();
                KeyScope::Groups(&indices)
            }
            _ => KeyScope::Whole,
        };
        let runs = key_runs(&self.hir, &scope);
        if let Some(run) = runs.iter().find(|r| r.kind == RunKind::Hex) {
            let Some((low, high)) = hash_pair(run) else {
                return Ok(None);
            };
            let (first, second) = self.example_pair(key, run, &low, &high, |a, b| a != b)?;
            return Ok(Some(Problem::HashOrder {
                key: key.extract.clone(),
                first,
                second,
            }));
        }
        for run in runs.iter().filter(|r| r.kind == RunKind::UnpaddedDigits) {
            let Some((long, short)) = unpadded_pair(run) else {
                continue;
            };
            // The longer (larger) number must sort first for the example to hold.
            let (first, second) = self.example_pair(key, run, &long, &short, |a, b| a < b)?;
            return Ok(Some(Problem::UnpaddedNumbers {
                key: key.extract.clone(),
                first,
                second,
            }));
        }
        Ok(None)
    }

    /// Two admitted tags that differ in `run` (`a` in one, `b` in the other), if the
    /// real engine confirms them and their keys relate by `holds`; else the bare texts.
    fn example_pair(
        &self,
        key: &Key,
        run: &KeyRun,
        a: &[u8],
        b: &[u8],
        holds: impl Fn(&str, &str) -> bool,
    ) -> Result<(String, String), TooComplex> {
        let tag_a = self.example_tag(run.index, a)?;
        let tag_b = self.example_tag(run.index, b)?;
        if let (Some(tag_a), Some(tag_b)) = (tag_a, tag_b) {
            let keys = (self.key_of(key, &tag_a), self.key_of(key, &tag_b));
            if let (Some(key_a), Some(key_b)) = keys {
                // The real match must put the two texts into the keys, not another branch.
                let texts_in_keys = contains(key_a.as_bytes(), a) && contains(key_b.as_bytes(), b);
                if texts_in_keys && holds(&key_a, &key_b) {
                    return Ok((tag_a, tag_b));
                }
            }
        }
        Ok((
            String::from_utf8_lossy(a).into_owned(),
            String::from_utf8_lossy(b).into_owned(),
        ))
    }

    /// The smallest tag containing `literal` that the policy admits with repetition
    /// `index` fixed to `literal`.
    fn example_tag(&self, index: usize, literal: &[u8]) -> Result<Option<String>, TooComplex> {
        let fixed = project_replacing(&self.hir, index, literal);
        let lang = Lang::new(Hir::concat(vec![any_tag_text(), fixed, any_tag_text()]))?;
        // Without this, another branch of the pattern could give a shorter tag.
        let holding = Lang::new(Hir::concat(vec![
            any_tag_text(),
            Hir::literal(literal),
            any_tag_text(),
        ]))?;
        let tag = shortest(&[Part::must(&lang), Part::must(&holding)], &TAGS)?;
        Ok(tag.and_then(|t| String::from_utf8(t).ok()))
    }

    fn numerical(&self, key: &Key) -> Result<Option<Problem>, TooComplex> {
        let numbers = Lang::new(digits())?;
        let Some(parts) = &key.parts else {
            // The key is the tag itself.
            let Some(admitted) = &self.admitted else {
                return Ok(None);
            };
            let tag = shortest(&[Part::must(admitted), Part::must_not(&numbers)], &TAGS)?
                .and_then(|t| String::from_utf8(t).ok())
                .filter(|t| self.verified(t));
            return Ok(tag.map(|value| Problem::NonNumericKey { key: None, value }));
        };
        let groups = captures(&self.hir);
        let mut alphabet = TAG_BYTES.to_vec();
        let mut text_len = 0;
        let mut pieces = Vec::new();
        for part in parts {
            pieces.push(match part {
                KeyPart::Text(text) => {
                    alphabet.extend_from_slice(text.as_bytes());
                    text_len += text.len();
                    Hir::literal(text.as_bytes())
                }
                KeyPart::Group(0) => self.projected.clone(),
                KeyPart::Group(i) => match groups.iter().find(|g| g.index == *i) {
                    Some(g) if g.optional => Hir::alternation(vec![Hir::empty(), project(g.sub)]),
                    Some(g) => project(g.sub),
                    None => Hir::fail(),
                },
            });
        }
        alphabet.sort_unstable();
        alphabet.dedup();
        let keys = Lang::new(Hir::concat(pieces))?;
        let any_key = Alphabet {
            first: &alphabet,
            rest: &alphabet,
            max_len: MAX_TAG_LEN + text_len,
            allow_empty: true,
        };
        let value = shortest(&[Part::must(&keys), Part::must_not(&numbers)], &any_key)?;
        Ok(value.map(|v| Problem::NonNumericKey {
            key: key.extract.clone(),
            value: String::from_utf8_lossy(&v).into_owned(),
        }))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Texts for a hex run: all of its smallest byte and all of its largest.
fn hash_pair(run: &KeyRun) -> Option<(Vec<u8>, Vec<u8>)> {
    let width = run.min.max(1) as usize;
    if width >= MAX_TAG_LEN {
        return None;
    }
    let low = *run.bytes.iter().min()?;
    let high = *run.bytes.iter().max()?;
    Some((vec![low; width], vec![high; width]))
}

/// Texts for an unpadded digit run: a number one digit longer but alphabetically
/// smaller than another (`10` and `9`), when the run's class and bounds allow one.
fn unpadded_pair(run: &KeyRun) -> Option<(Vec<u8>, Vec<u8>)> {
    let width = run.min.max(1) as usize;
    if width + 1 >= MAX_TAG_LEN || run.max.is_some_and(|m| (m as usize) < width + 1) {
        return None;
    }
    let high = *run.bytes.iter().max()?;
    let low = *run.bytes.iter().min()?;
    let low_nonzero = *run.bytes.iter().filter(|&&b| b != b'0').min()?;
    if low_nonzero >= high {
        return None;
    }
    let mut long = vec![low_nonzero];
    long.extend(std::iter::repeat_n(low, width));
    Some((long, vec![high; width]))
}
