//! What a tag means for promotion: `production-v1.2.3-1712345678` → `v1.2.3`.
//!
//! Lineage across environments compares versions once the environment prefix and the
//! build suffix are stripped; a `tag_pattern` with a `(?P<version>…)` group decides instead
//! when configured.

use crate::config::infer::tag_env_token;
use crate::model::Version;
use regex::Regex;

/// The version a tag denotes. `pattern`, when given and matching with a `version` group,
/// decides; otherwise the environment prefix (`staging-`) and a build suffix (`+meta`, a
/// trailing `-<timestamp>` of 8+ digits or `-<7..40 hex digits>` commit id) are removed.
pub fn version_of(tag: &str, pattern: Option<&Regex>) -> Version {
    if let Some(re) = pattern {
        if let Some(m) = re.captures(tag).and_then(|c| c.name("version")) {
            return Version {
                text: m.as_str().to_string(),
            };
        }
    }
    let mut rest = tag;
    if let Some(token) = tag_env_token(rest) {
        rest = &rest[token.len() + 1..];
    }
    if let Some(i) = rest.find('+') {
        rest = &rest[..i];
    }
    if let Some(i) = rest.rfind('-') {
        let suffix = &rest[i + 1..];
        let timestamp = suffix.len() >= 8 && suffix.bytes().all(|b| b.is_ascii_digit());
        if timestamp && i > 0 {
            rest = &rest[..i];
        }
    }
    Version {
        text: rest.to_string(),
    }
}

/// The key that identifies a build across environments: the version, with a leading word
/// dropped when what follows is a commit id (`validated-abc1234` and `integration-abc1234`
/// are the same build; `alpine-3.19` stays as it is).
pub fn lineage_key(version: &str) -> &str {
    if let Some((word, rest)) = version.split_once('-') {
        let is_word = !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphabetic());
        let is_commit =
            (7..=40).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_hexdigit());
        if is_word && is_commit {
            return rest;
        }
    }
    version
}

/// The version lineage compares across environments: [`version_of`] then [`lineage_key`]
/// (`production-v1.2.3-1712345678` → `v1.2.3`, `validated-abc1234` → `abc1234`).
pub fn lineage_of(tag: &str, pattern: Option<&Regex>) -> String {
    lineage_key(&version_of(tag, pattern).text).to_string()
}

/// Numeric components of a version for ordering (`v1.10.0` → `[1, 10, 0]`); `None` when
/// the text holds no number.
pub fn numeric_parts(version: &str) -> Option<Vec<u64>> {
    let core = version.trim_start_matches(['v', 'V']);
    let core = core.split(['-', '+']).next().unwrap_or(core);
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_environment_prefix_and_build_suffix() {
        assert_eq!(
            version_of("production-v1.2.3-1712345678", None).text,
            "v1.2.3"
        );
        assert_eq!(version_of("staging-v1.2.3-1712345600", None).text, "v1.2.3");
        assert_eq!(version_of("v1.2.3-rc.1", None).text, "v1.2.3-rc.1");
        assert_eq!(version_of("v1.12.1+build.7", None).text, "v1.12.1");
        assert_eq!(version_of("v6", None).text, "v6");
        assert_eq!(version_of("integration-abc1234", None).text, "abc1234");
    }

    #[test]
    fn configured_version_group_decides() {
        let re = Regex::new(r"^validated-(?P<version>[a-f0-9]+)$").unwrap();
        assert_eq!(version_of("validated-abc1234", Some(&re)).text, "abc1234");
        assert_eq!(version_of("other", Some(&re)).text, "other");
    }

    #[test]
    fn lineage_drops_promotion_words_before_commit_ids() {
        assert_eq!(lineage_key("validated-abc1234"), "abc1234");
        assert_eq!(lineage_key("integration-abc1234"), "abc1234");
        assert_eq!(lineage_key("alpine-3.19"), "alpine-3.19");
        assert_eq!(lineage_key("v1.2.3"), "v1.2.3");
    }

    #[test]
    fn numeric_parts_order_versions() {
        assert_eq!(numeric_parts("v1.10.0"), Some(vec![1, 10, 0]));
        assert!(numeric_parts("v1.10.0") > numeric_parts("v1.9.0"));
        assert_eq!(numeric_parts("v6"), Some(vec![6]));
        assert_eq!(numeric_parts("abc"), None);
    }
}
