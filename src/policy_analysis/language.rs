//! Regex HIR helpers: the policy's expression seen over the Docker tag alphabet, the
//! fixed languages it is compared with, and the repetitions that make up an ordering key.

use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, HirKind, Look, Repetition};

/// Bytes a Docker tag may contain, in byte order: counterexample searches try them in
/// this order, so the first counterexample found is also the smallest.
pub(super) const TAG_BYTES: &[u8] =
    b"-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// Bytes a tag may start with (`[\w][\w.-]{0,127}` in the distribution reference grammar).
pub(super) const TAG_FIRST_BYTES: &[u8] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

pub(super) const MAX_TAG_LEN: usize = 128;

/// Separators between an environment token and the rest of a tag (`staging-…`).
pub(super) const SEPARATORS: &[u8] = b"-._";

pub(super) fn is_tag_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')
}

/// Whether `s` could be a Docker tag at all.
pub(super) fn is_valid_tag(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_TAG_LEN
        && TAG_FIRST_BYTES.contains(&b[0])
        && b.iter().all(|&c| is_tag_byte(c))
}

pub(super) fn byte_class(bytes: &[u8]) -> Hir {
    let ranges = bytes.iter().map(|&b| ClassBytesRange::new(b, b));
    Hir::class(Class::Bytes(ClassBytes::new(ranges)))
}

/// `[A-Za-z0-9_.-]*`: any tail (or head) of a tag.
pub(super) fn any_tag_text() -> Hir {
    star(byte_class(TAG_BYTES))
}

pub(super) fn star(sub: Hir) -> Hir {
    Hir::repetition(Repetition {
        min: 0,
        max: None,
        greedy: true,
        sub: Box::new(sub),
    })
}

/// `[0-9]+`: the only keys a numerical policy can order.
pub(super) fn digits() -> Hir {
    Hir::repetition(Repetition {
        min: 1,
        max: None,
        greedy: true,
        sub: Box::new(byte_class(b"0123456789")),
    })
}

pub(super) fn literals<S: AsRef<str>>(tokens: &[S]) -> Hir {
    Hir::alternation(
        tokens
            .iter()
            .map(|t| Hir::literal(t.as_ref().as_bytes()))
            .collect(),
    )
}

/// The HIR restricted to what can occur in a tag: every class is intersected with the
/// tag alphabet and literals with other bytes cannot match. Tags are ASCII without line
/// breaks, so Unicode classes, case folding and word boundaries reduce to their ASCII
/// meaning; that keeps the automata small and lets the dense DFA handle `\b`.
/// Capture groups are dropped (only the language matters here).
pub(super) fn project(hir: &Hir) -> Hir {
    Projector {
        target: None,
        next_repetition: 0,
    }
    .run(hir)
}

/// Like [`project`], with the repetition numbered `index` (pre-order, see
/// [`key_runs`]) replaced by the fixed text `literal`.
pub(super) fn project_replacing(hir: &Hir, index: usize, literal: &[u8]) -> Hir {
    Projector {
        target: Some((index, literal)),
        next_repetition: 0,
    }
    .run(hir)
}

struct Projector<'a> {
    target: Option<(usize, &'a [u8])>,
    next_repetition: usize,
}

impl Projector<'_> {
    fn run(&mut self, hir: &Hir) -> Hir {
        match hir.kind() {
            HirKind::Empty => Hir::empty(),
            HirKind::Literal(lit) => {
                if lit.0.iter().all(|&b| is_tag_byte(b)) {
                    Hir::literal(lit.0.clone())
                } else {
                    Hir::fail()
                }
            }
            HirKind::Class(class) => byte_class(&class_tag_bytes(class)),
            HirKind::Look(look) => Hir::look(ascii_look(*look)),
            HirKind::Repetition(rep) => {
                let index = self.next_repetition;
                self.next_repetition += 1;
                match self.target {
                    Some((target, literal)) if target == index => {
                        // Keep the numbering of the repetitions after this one stable.
                        self.next_repetition += count_repetitions(&rep.sub);
                        Hir::literal(literal)
                    }
                    _ => Hir::repetition(Repetition {
                        min: rep.min,
                        max: rep.max,
                        greedy: rep.greedy,
                        sub: Box::new(self.run(&rep.sub)),
                    }),
                }
            }
            HirKind::Capture(cap) => self.run(&cap.sub),
            HirKind::Concat(subs) => Hir::concat(subs.iter().map(|s| self.run(s)).collect()),
            HirKind::Alternation(subs) => {
                Hir::alternation(subs.iter().map(|s| self.run(s)).collect())
            }
        }
    }
}

fn count_repetitions(hir: &Hir) -> usize {
    match hir.kind() {
        HirKind::Repetition(rep) => 1 + count_repetitions(&rep.sub),
        HirKind::Capture(cap) => count_repetitions(&cap.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().map(count_repetitions).sum()
        }
        _ => 0,
    }
}

/// The tag bytes a class matches, in byte order.
fn class_tag_bytes(class: &Class) -> Vec<u8> {
    TAG_BYTES
        .iter()
        .copied()
        .filter(|&b| match class {
            Class::Unicode(c) => c
                .ranges()
                .iter()
                .any(|r| r.start() <= char::from(b) && char::from(b) <= r.end()),
            Class::Bytes(c) => c.ranges().iter().any(|r| r.start() <= b && b <= r.end()),
        })
        .collect()
}

/// On ASCII text the Unicode word boundaries are the ASCII ones (the dense DFA only
/// supports the latter), and Go's `\b` is ASCII anyway.
fn ascii_look(look: Look) -> Look {
    match look {
        Look::WordUnicode => Look::WordAscii,
        Look::WordUnicodeNegate => Look::WordAsciiNegate,
        Look::WordStartUnicode => Look::WordStartAscii,
        Look::WordEndUnicode => Look::WordEndAscii,
        Look::WordStartHalfUnicode => Look::WordStartHalfAscii,
        Look::WordEndHalfUnicode => Look::WordEndHalfAscii,
        other => other,
    }
}

/// Whether every match must begin at the start of the tag. A multi-line `(?m)^` counts:
/// tags contain no line breaks.
pub(super) fn is_start_anchored(hir: &Hir) -> bool {
    let prefix = hir.properties().look_set_prefix();
    prefix.contains(Look::Start)
        || prefix.contains(Look::StartLF)
        || prefix.contains(Look::StartCRLF)
}

/// A capture group of the pattern.
pub(super) struct Group<'h> {
    pub index: u32,
    pub name: Option<&'h str>,
    pub sub: &'h Hir,
    /// Whether a match can skip the group (inside `?`, `*` or one branch of `|`): its
    /// key part is then empty.
    pub optional: bool,
}

/// Capture groups of the pattern, in index order.
pub(super) fn captures(hir: &Hir) -> Vec<Group<'_>> {
    fn walk<'h>(hir: &'h Hir, optional: bool, out: &mut Vec<Group<'h>>) {
        match hir.kind() {
            HirKind::Capture(cap) => {
                out.push(Group {
                    index: cap.index,
                    name: cap.name.as_deref(),
                    sub: &cap.sub,
                    optional,
                });
                walk(&cap.sub, optional, out);
            }
            HirKind::Repetition(rep) => walk(&rep.sub, optional || rep.min == 0, out),
            HirKind::Concat(subs) => subs.iter().for_each(|s| walk(s, optional, out)),
            HirKind::Alternation(subs) => subs.iter().for_each(|s| walk(s, true, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(hir, false, &mut out);
    out.sort_by_key(|g| g.index);
    out
}

/// What kind of text a repetition in the ordering key produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RunKind {
    /// Decimal digits whose count varies (`\d+`, `[0-9]{1,3}`).
    UnpaddedDigits,
    /// Hexadecimal digits (`[a-f0-9]+`): a commit hash or digest.
    Hex,
}

/// A repetition inside the ordering key that defeats alphabetical order.
#[derive(Clone, Debug)]
pub(super) struct KeyRun {
    /// Pre-order number among all repetitions of the pattern (see [`project_replacing`]).
    pub index: usize,
    pub kind: RunKind,
    pub min: u32,
    pub max: Option<u32>,
    /// The tag bytes one repeated item can be, in byte order.
    pub bytes: Vec<u8>,
}

/// Which parts of the pattern make up the ordering key.
pub(super) enum KeyScope<'a> {
    Whole,
    Groups(&'a [u32]),
}

/// Repetitions inside the key (pre-order) that are unpadded digit runs or hex runs.
pub(super) fn key_runs(hir: &Hir, scope: &KeyScope) -> Vec<KeyRun> {
    struct Walk<'s> {
        groups: Option<&'s [u32]>,
        next: usize,
        out: Vec<KeyRun>,
    }
    impl Walk<'_> {
        fn run(&mut self, hir: &Hir, in_key: bool) {
            match hir.kind() {
                HirKind::Repetition(rep) => {
                    let index = self.next;
                    self.next += 1;
                    if in_key {
                        if let Some(run) = classify(index, rep) {
                            // A run's inside is one character; nothing more to find there.
                            self.next += count_repetitions(&rep.sub);
                            self.out.push(run);
                            return;
                        }
                    }
                    self.run(&rep.sub, in_key);
                }
                HirKind::Capture(cap) => {
                    let inside = in_key || self.groups.is_some_and(|g| g.contains(&cap.index));
                    self.run(&cap.sub, inside);
                }
                HirKind::Concat(subs) | HirKind::Alternation(subs) => {
                    subs.iter().for_each(|s| self.run(s, in_key))
                }
                _ => {}
            }
        }
    }
    let (groups, whole) = match scope {
        KeyScope::Whole => (None, true),
        KeyScope::Groups(g) => (Some(*g), false),
    };
    let mut walk = Walk {
        groups,
        next: 0,
        out: Vec::new(),
    };
    walk.run(hir, whole);
    walk.out
}

fn classify(index: usize, rep: &Repetition) -> Option<KeyRun> {
    if rep.max == Some(0) {
        return None;
    }
    let bytes: Vec<u8> = match project(&rep.sub).kind() {
        HirKind::Class(Class::Bytes(c)) => c.iter().flat_map(|r| r.start()..=r.end()).collect(),
        HirKind::Literal(lit) if lit.0.len() == 1 => lit.0.to_vec(),
        _ => return None,
    };
    let digits = bytes.iter().any(u8::is_ascii_digit);
    let hex_letters = bytes.iter().any(|b| matches!(b, b'a'..=b'f' | b'A'..=b'F'));
    let all_hex = bytes.iter().all(u8::is_ascii_hexdigit);
    let kind = if digits && hex_letters && all_hex && rep.max.is_none_or(|m| m >= 4) {
        RunKind::Hex
    } else if digits && bytes.iter().all(u8::is_ascii_digit) && rep.max != Some(rep.min) {
        RunKind::UnpaddedDigits
    } else {
        return None;
    };
    Some(KeyRun {
        index,
        kind,
        min: rep.min,
        max: rep.max,
        bytes,
    })
}
