//! Helpers the rules share: the level of a finding in an environment, findings on a pin
//! or on a whole file, short digests for messages.

use crate::model::{Finding, Level, Span};
use crate::snapshot::{EffectivePin, Snapshot};

/// Error in protected environments, warning elsewhere (DESIGN §3).
pub fn env_level(snap: &Snapshot, env: usize) -> Level {
    if snap.envs.get(env).protected {
        Level::Error
    } else {
        Level::Warning
    }
}

impl Finding {
    /// A finding on an effective pin: located at the pin's value, with the base value a
    /// patch overrides and the overlay entry as related locations when there are some.
    pub fn on_pin(snap: &Snapshot, rule: &'static str, p: &EffectivePin, message: String) -> Self {
        let pin = snap.pin(p);
        Finding::builder(rule, snap.path(p.file), pin.span.clone())
            .level(env_level(snap, p.env))
            .message(message)
            .env(Some(&snap.envs.get(p.env).name))
            .component(Some(&pin.component))
            .related(p.replaces.iter().chain(&p.via).cloned())
            .value(pin.reference.display())
            .build()
    }
}

/// `sha256:51ecb9ae978e`: enough of a digest to tell two builds apart in a message.
pub(crate) fn short_digest(digest: &str) -> String {
    let (algo, hex) = digest.split_once(':').unwrap_or(("", digest));
    let hex: String = hex.chars().take(12).collect();
    if algo.is_empty() {
        hex
    } else {
        format!("{algo}:{hex}")
    }
}

/// Line 1, column 1, zero width: where a finding on a file without a value goes (a binary
/// artifact, a deleted file).
pub(crate) fn file_span() -> Span {
    Span {
        start: 0,
        end: 0,
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
    }
}

/// A finding on a whole file (no pin): at line 1, column 1.
pub(crate) fn on_file(
    rule: &'static str,
    level: Level,
    message: String,
    path: &str,
    component: Option<&str>,
    value: String,
    commit: Option<&str>,
) -> Finding {
    Finding::builder(rule, path, file_span())
        .level(level)
        .message(message)
        .component(component)
        .value(value)
        .commit(commit)
        .build()
}
