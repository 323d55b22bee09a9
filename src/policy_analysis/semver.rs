//! Pre-release comparators in semver ranges (Masterminds/semver syntax, as Flux uses).

const OPERATOR_CHARS: &[char] = &['<', '>', '=', '!', '~', '^'];

/// The first comparator of `range` that carries a pre-release (`>=1.0.0-0`, `~1.2.3-rc.1`):
/// such a range lets pre-release versions through.
pub(super) fn prerelease_comparator(range: &str) -> Option<String> {
    for alternative in range.split("||") {
        // An operator may stand apart from its version (`>= 1.0.0-0`).
        let mut pending_operator = String::new();
        for token in alternative
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
        {
            if token.chars().all(|c| OPERATOR_CHARS.contains(&c)) {
                pending_operator = token.to_string();
                continue;
            }
            if token == "-" {
                // The dash of a hyphen range `1.0.0 - 2.0.0`.
                continue;
            }
            let comparator = format!("{}{token}", std::mem::take(&mut pending_operator));
            let version = token.trim_start_matches(OPERATOR_CHARS);
            let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
            if has_prerelease(version) {
                return Some(comparator);
            }
        }
    }
    None
}

fn has_prerelease(version: &str) -> bool {
    let core_starts_like_a_version = version
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, 'x' | 'X' | '*'));
    let Some(dash) = version.find(['-', '+']) else {
        return false;
    };
    // A `+` first means build metadata, which says nothing about pre-releases.
    core_starts_like_a_version && version[dash..].starts_with('-') && version.len() > dash + 1
}
