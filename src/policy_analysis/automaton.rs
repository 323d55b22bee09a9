//! Bounded DFAs for tag languages and a breadth-first search of their product for the
//! shortest, then byte-order smallest, string that some must accept and others reject.

use std::collections::HashSet;

use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::{primitives::StateID, start};
use regex_automata::{Anchored, MatchKind};
use regex_syntax::hir::{Hir, Look};

// Patterns come from users' repositories: every stage has a bound, and exceeding one
// yields "too complex" instead of a hang or an allocation storm.
const NFA_SIZE_LIMIT: usize = 1 << 20;
const DFA_SIZE_LIMIT: usize = 1 << 20;
const DETERMINIZE_SIZE_LIMIT: usize = 1 << 20;
/// Distinct product states a search may visit.
const SEARCH_STATE_LIMIT: usize = 100_000;

/// Why an automaton could not be built or searched within its bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TooComplex(pub String);

/// A DFA recognising exactly the strings an expression matches as a whole.
pub(super) struct Lang {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
}

impl Lang {
    pub fn new(hir: Hir) -> Result<Lang, TooComplex> {
        let whole = Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)]);
        let nfa = thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .shrink(false)
                    .which_captures(WhichCaptures::None)
                    .nfa_size_limit(Some(NFA_SIZE_LIMIT)),
            )
            .build_from_hir(&whole)
            .map_err(|e| {
                TooComplex(format!("its automaton exceeds {NFA_SIZE_LIMIT} bytes: {e}"))
            })?;
        let dfa = dense::Builder::new()
            .configure(
                dense::Config::new()
                    // Existence of a match is all that matters; `All` never prunes one.
                    .match_kind(MatchKind::All)
                    .start_kind(StartKind::Anchored)
                    .minimize(false)
                    .accelerate(false)
                    .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                    .determinize_size_limit(Some(DETERMINIZE_SIZE_LIMIT)),
            )
            .build_from_nfa(&nfa)
            .map_err(|e| {
                if e.is_size_limit_exceeded() {
                    TooComplex(format!("its DFA exceeds {DFA_SIZE_LIMIT} bytes"))
                } else {
                    TooComplex(format!("its DFA cannot be built: {e}"))
                }
            })?;
        let start = dfa
            .start_state(&start::Config::new().anchored(Anchored::Yes))
            .map_err(|e| TooComplex(format!("its DFA has no start state: {e}")))?;
        Ok(Lang { dfa, start })
    }

    pub fn start(&self) -> StateID {
        self.start
    }

    pub fn step(&self, state: StateID, byte: u8) -> StateID {
        self.dfa.next_state(state, byte)
    }

    /// Whether the string read so far (ending here) is in the language.
    fn accepts(&self, state: StateID) -> bool {
        self.dfa.is_match_state(self.dfa.next_eoi_state(state))
    }

    fn is_dead(&self, state: StateID) -> bool {
        self.dfa.is_dead_state(state)
    }

    #[cfg(test)]
    pub fn contains(&self, text: &[u8]) -> bool {
        let end = text.iter().fold(self.start, |s, &b| self.step(s, b));
        self.accepts(end)
    }
}

/// One operand of a product search: a language, the state to start it in, and whether
/// the string must be in it (`want`) or must not.
pub(super) struct Part<'a> {
    pub lang: &'a Lang,
    pub start: StateID,
    pub want: bool,
}

impl<'a> Part<'a> {
    pub fn must(lang: &'a Lang) -> Self {
        Part {
            lang,
            start: lang.start(),
            want: true,
        }
    }

    pub fn must_not(lang: &'a Lang) -> Self {
        Part {
            lang,
            start: lang.start(),
            want: false,
        }
    }
}

/// The strings a search may produce.
pub(super) struct Alphabet<'a> {
    /// Allowed first bytes, in the order to try them.
    pub first: &'a [u8],
    /// Allowed later bytes, in the order to try them.
    pub rest: &'a [u8],
    pub max_len: usize,
    pub allow_empty: bool,
}

struct Node {
    parent: usize,
    byte: u8,
    states: Box<[StateID]>,
}

/// The shortest string over `alphabet` satisfying every part, and among those the first
/// in the alphabet's order; `None` when there is none up to `max_len`.
///
/// Breadth-first by levels with bytes tried in order keeps each level sorted, so the
/// first node reaching a product state carries the smallest shortest string to it.
pub(super) fn shortest(parts: &[Part], alphabet: &Alphabet) -> Result<Option<Vec<u8>>, TooComplex> {
    let satisfied = |states: &[StateID]| {
        parts
            .iter()
            .zip(states)
            .all(|(p, &s)| p.lang.accepts(s) == p.want)
    };
    // A wanted language in its dead state can never accept again.
    let hopeless = |states: &[StateID]| {
        parts
            .iter()
            .zip(states)
            .any(|(p, &s)| p.want && p.lang.is_dead(s))
    };
    let start: Box<[StateID]> = parts.iter().map(|p| p.start).collect();
    if alphabet.allow_empty && satisfied(&start) {
        return Ok(Some(Vec::new()));
    }
    if hopeless(&start) {
        return Ok(None);
    }
    // The start node is not marked seen: it is the only one restricted to `first`.
    let mut nodes = vec![Node {
        parent: usize::MAX,
        byte: 0,
        states: start,
    }];
    let mut seen: HashSet<Box<[StateID]>> = HashSet::new();
    let mut level = vec![0usize];
    for depth in 0..alphabet.max_len {
        let bytes = if depth == 0 {
            alphabet.first
        } else {
            alphabet.rest
        };
        let mut next_level = Vec::new();
        for &n in &level {
            for &b in bytes {
                let states: Box<[StateID]> = parts
                    .iter()
                    .zip(nodes[n].states.iter())
                    .map(|(p, &s)| p.lang.step(s, b))
                    .collect();
                if hopeless(&states) || seen.contains(&states) {
                    continue;
                }
                if seen.len() >= SEARCH_STATE_LIMIT {
                    return Err(TooComplex(format!(
                        "searching it visits more than {SEARCH_STATE_LIMIT} states"
                    )));
                }
                seen.insert(states.clone());
                let done = satisfied(&states);
                nodes.push(Node {
                    parent: n,
                    byte: b,
                    states,
                });
                if done {
                    return Ok(Some(path(&nodes, nodes.len() - 1)));
                }
                next_level.push(nodes.len() - 1);
            }
        }
        if next_level.is_empty() {
            break;
        }
        level = next_level;
    }
    Ok(None)
}

fn path(nodes: &[Node], mut at: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while at != 0 {
        out.push(nodes[at].byte);
        at = nodes[at].parent;
    }
    out.reverse();
    out
}
