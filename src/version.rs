//! What a tag means for promotion: `production-v1.2.3-1712345678` → `v1.2.3`.
//!
//! A tag's *version* is what promotion compares across environments; the *build* is which
//! build of that version it names. Promotion moves a build from environment to
//! environment, so two tags of one version built from different commits
//! (`v0.0.3-fa61a17`, `v0.0.3-75c41cc`) are the same version built twice: a rebuild
//! (PL008), not a version the predecessor never ran (PL006).
//!
//! By default (see [`identity`]) the environment prefix, `+metadata` and a trailing
//! build suffix (a commit id or a timestamp) are stripped. A `(?P<version>…)` group in a
//! component's `version_pattern` or an environment's `tag_pattern` decides instead.

use crate::model::tiers::tag_env_token;
use regex::Regex;
use std::cmp::Ordering;

/// A tag's version and, when the tag names it, the commit its build came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// What promotion compares across environments: `v0.0.3` for `v0.0.3-fa61a17`.
    pub version: String,
    /// The commit id the tag carries as build metadata (`fa61a17`), when it carries one
    /// next to a version. Timestamps are not builds: image automation stamps each
    /// environment's re-tag of one build with its own time.
    pub build: Option<String>,
}

/// Whether `s` looks like a Git commit id: 7 to 40 lowercase hex digits with at least one
/// digit and one letter. The letter keeps build numbers and timestamps out, the digit keeps
/// words made of hex letters out (`-beta` has a `t` anyway, but `-decade` or `-facade`
/// would otherwise pass), and the length keeps `-cafe` and `-1` out.
pub(crate) fn is_commit_id(s: &str) -> bool {
    (7..=40).contains(&s.len())
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Whether `s` is a timestamp or build number: 8 or more digits (`1712345678`,
/// `20240405`). Shorter numbers are release parts (`-1`, `-42`) and stay.
fn is_timestamp(s: &str) -> bool {
    s.len() >= 8 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The identity of `tag`. `pattern`, when given and matching with a `version` group,
/// decides the version (and the tag names no separate build). Otherwise:
///
/// 1. an environment prefix is removed (`staging-v1.2.3` → `v1.2.3`);
/// 2. `+metadata` is removed (`v1.2.3+build.7` → `v1.2.3`; a commit id there is the build);
/// 3. trailing `-<timestamp>` (8+ digits) and `-<commit id>` suffixes are removed while
///    something precedes them (`v0.0.3-fa61a17` → `v0.0.3` built from `fa61a17`,
///    `main-abc1234-1712345678` → `main-abc1234`);
/// 4. a commit id preceded only by words without digits (`sha-abc1234`,
///    `main-abc1234`, `validated-abc1234`) is the version itself: a branch-built
///    environment tagged by commit compares commits across environments.
pub fn identity(tag: &str, pattern: Option<&Regex>) -> Identity {
    if let Some(re) = pattern {
        if let Some(m) = re.captures(tag).and_then(|c| c.name("version")) {
            return Identity {
                version: m.as_str().to_string(),
                build: None,
            };
        }
    }
    let mut rest = tag;
    if let Some(token) = tag_env_token(rest) {
        rest = &rest[token.len() + 1..];
    }
    let mut build = None;
    if let Some((head, meta)) = rest.split_once('+') {
        if is_commit_id(meta) {
            build = Some(meta.to_string());
        }
        rest = head;
    }
    // At most one of each suffix: `main-abc1234-1712345678` is a commit and a time.
    for _ in 0..2 {
        let Some((head, suffix)) = rest.rsplit_once('-') else {
            break;
        };
        if head.is_empty() {
            break;
        }
        if is_timestamp(suffix) {
            rest = head;
        } else if is_commit_id(suffix) {
            if !head.bytes().any(|b| b.is_ascii_digit()) {
                // `sha-abc1234`: no version precedes the commit, so the commit is it.
                return Identity {
                    version: suffix.to_string(),
                    build: None,
                };
            }
            build.get_or_insert_with(|| suffix.to_string());
            rest = head;
        } else {
            break;
        }
    }
    Identity {
        version: rest.to_string(),
        build,
    }
}

/// The configured `components[].version_pattern`s, in file order.
#[derive(Clone, Debug, Default)]
pub struct Versions {
    pub(crate) patterns: Vec<(globset::GlobMatcher, Regex)>,
}

impl Versions {
    /// The `version_pattern` of the first entry whose name matches `component`.
    pub(crate) fn pattern(&self, component: &str) -> Option<&Regex> {
        self.patterns
            .iter()
            .find(|(glob, _)| glob.is_match(component))
            .map(|(_, re)| re)
    }
}

/// Numeric components of a version's release (`v1.10.0` → `[1, 10, 0]`; pre-release and
/// build ignored); `None` when the release part is not all numbers.
pub(crate) fn numeric_parts(version: &str) -> Option<Vec<u64>> {
    let core = version.trim_start_matches(['v', 'V']);
    let core = core.split(['-', '+']).next().unwrap_or(core);
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

/// Order of two versions by semantic-versioning precedence: release numbers first
/// (`v1.10.0` > `v1.9`, missing parts are 0), then a version with a pre-release is below
/// the same version without (`v1.2.3-rc.1` < `v1.2.3`), and pre-releases compare
/// identifier by identifier (numbers numerically, `rc.2` < `rc.10`; words by ASCII,
/// `alpha` < `beta`; numbers below words; fewer identifiers first). `None` when either
/// has no release numbers (commit ids).
pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (mut x, mut y) = (numeric_parts(a)?, numeric_parts(b)?);
    let n = x.len().max(y.len());
    x.resize(n, 0);
    y.resize(n, 0);
    Some(
        x.cmp(&y)
            .then_with(|| cmp_pre(pre_release(a), pre_release(b))),
    )
}

/// The pre-release of a version: what follows the first `-` of its release, without
/// `+metadata` (`v1.2.3-rc.1+7` → `rc.1`).
fn pre_release(version: &str) -> Option<&str> {
    let v = version.split('+').next().unwrap_or(version);
    v.split_once('-')
        .map(|(_, pre)| pre)
        .filter(|p| !p.is_empty())
}

fn cmp_pre(a: Option<&str>, b: Option<&str>) -> Ordering {
    let (a, b) = match (a, b) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(a), Some(b)) => (a, b),
    };
    let (mut xs, mut ys) = (a.split(['.', '-']), b.split(['.', '-']));
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let number = |s: &str| {
                    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| s.parse::<u128>().ok())
                        .flatten()
                };
                let o = match (number(x), number(y)) {
                    (Some(m), Some(n)) => m.cmp(&n),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(tag: &str) -> (String, Option<String>) {
        let i = identity(tag, None);
        (i.version, i.build)
    }

    #[test]
    fn strips_environment_prefix_and_build_suffix() {
        assert_eq!(
            identity("production-v1.2.3-1712345678", None).version,
            "v1.2.3"
        );
        assert_eq!(
            identity("staging-v1.2.3-1712345600", None).version,
            "v1.2.3"
        );
        assert_eq!(identity("v1.2.3-rc.1", None).version, "v1.2.3-rc.1");
        assert_eq!(identity("v1.12.1+build.7", None).version, "v1.12.1");
        assert_eq!(identity("v6", None).version, "v6");
        assert_eq!(identity("integration-abc1234", None).version, "abc1234");
    }

    #[test]
    fn a_commit_id_after_a_version_is_the_build() {
        assert_eq!(
            id("v0.0.3-fa61a17"),
            ("v0.0.3".into(), Some("fa61a17".into()))
        );
        assert_eq!(
            id("v0.0.3-75c41cc"),
            ("v0.0.3".into(), Some("75c41cc".into()))
        );
        assert_eq!(
            id("1.4.0-rc.1-0123456789abcdef0123456789abcdef01234567"),
            (
                "1.4.0-rc.1".into(),
                Some("0123456789abcdef0123456789abcdef01234567".into())
            )
        );
        assert_eq!(
            id("v1.2.3+fa61a17"),
            ("v1.2.3".into(), Some("fa61a17".into()))
        );
        assert_eq!(
            id("staging-v2.0.1-fa61a17-1712345678"),
            ("v2.0.1".into(), Some("fa61a17".into()))
        );
    }

    #[test]
    fn a_commit_tag_without_a_version_is_its_commit() {
        assert_eq!(id("sha-abc1234"), ("abc1234".into(), None));
        assert_eq!(id("main-abc1234"), ("abc1234".into(), None));
        assert_eq!(id("main-abc1234-1712345678"), ("abc1234".into(), None));
        assert_eq!(id("validated-abc1234"), ("abc1234".into(), None));
        assert_eq!(id("integration-abc1234"), ("abc1234".into(), None));
        assert_eq!(id("abc1234"), ("abc1234".into(), None));
    }

    #[test]
    fn words_and_release_numbers_are_not_builds() {
        for tag in [
            "v1.0.0-beta",
            "v1.0.0-cafe",
            "v1.0.0-decade",
            "v1.0.0-1",
            "1.2.3-alpine",
            "alpine-3.19",
            "v1.2.3-4-gabc1234",
            "v1.2.3-ABCDEF1",
            "3.19.1-deadbeef",
        ] {
            assert_eq!(id(tag), (tag.to_string(), None), "{tag}");
        }
        // A timestamp is stripped but names no build (each environment's re-tag has its own).
        assert_eq!(id("v1.2.3-20240405"), ("v1.2.3".into(), None));
        // Nothing before the suffix: the tag is what it is.
        assert_eq!(id("-abc1234"), ("-abc1234".into(), None));
        assert_eq!(id("12345678"), ("12345678".into(), None));
    }

    #[test]
    fn any_text_is_read_without_a_panic() {
        let long = format!("v1.{}-{}", "9".repeat(500), "a1".repeat(300));
        for tag in [
            "",
            "-",
            "+",
            "--",
            "-+-",
            "v",
            "v-",
            "staging-",
            "staging",
            "staging-+",
            "é-abc1234",
            "v1.0-é",
            "prod-ü-1234567a",
            "1.0.0-",
            "1.0.0-.",
            "1.0.0-rc..1",
            "v1+",
            long.as_str(),
        ] {
            let i = identity(tag, None);
            let _ = compare(&i.version, "v1.0.0");
            let _ = compare(tag, tag);
        }
        assert_eq!(compare("1.0.0-rc..1", "1.0.0-rc..1"), Some(Ordering::Equal));
    }

    proptest::proptest! {
        #[test]
        fn identity_reads_any_tag(tag in "\\PC{0,60}") {
            let i = identity(&tag, None);
            // The version is a part of the tag, and a build is a commit id.
            proptest::prop_assert!(tag.contains(i.version.as_str()));
            proptest::prop_assert!(i.build.as_deref().is_none_or(is_commit_id));
        }

        #[test]
        fn precedence_is_a_consistent_order(
            a in "v?[0-9]{1,3}(\\.[0-9]{1,3}){0,2}(-[a-z0-9]{1,5}(\\.[a-z0-9]{1,5}){0,2})?",
            b in "v?[0-9]{1,3}(\\.[0-9]{1,3}){0,2}(-[a-z0-9]{1,5}(\\.[a-z0-9]{1,5}){0,2})?",
        ) {
            let (x, y) = (compare(&a, &b), compare(&b, &a));
            proptest::prop_assert!(x.is_some() && y.is_some());
            proptest::prop_assert_eq!(x.map(Ordering::reverse), y);
            proptest::prop_assert_eq!(compare(&a, &a), Some(Ordering::Equal));
        }
    }

    #[test]
    fn configured_version_group_decides() {
        let re = Regex::new(r"^validated-(?P<version>[a-f0-9]+)$").unwrap();
        assert_eq!(identity("validated-abc1234", Some(&re)).version, "abc1234");
        let re = Regex::new(r"^(?P<version>\d+\.\d+\.\d+-[0-9a-f]{7})$").unwrap();
        assert_eq!(
            identity("1.2.3-fa61a17", Some(&re)),
            Identity {
                version: "1.2.3-fa61a17".into(),
                build: None
            }
        );
        // No match: the default applies.
        assert_eq!(identity("other", Some(&re)).version, "other");
        assert_eq!(identity("v2.0.0-fa61a17", Some(&re)).version, "v2.0.0");
    }

    #[test]
    fn numeric_parts_order_versions() {
        assert_eq!(numeric_parts("v1.10.0"), Some(vec![1, 10, 0]));
        assert!(numeric_parts("v1.10.0") > numeric_parts("v1.9.0"));
        assert_eq!(numeric_parts("v6"), Some(vec![6]));
        assert_eq!(numeric_parts("abc"), None);
    }

    #[test]
    fn versions_order_by_semver_precedence() {
        use Ordering::*;
        let cases = [
            ("v1.2.3-rc.1", "v1.2.3", Less),
            ("v1.2.3-rc.2", "v1.2.3-rc.10", Less),
            ("1.0.0-alpha", "1.0.0-beta", Less),
            ("1.0.0-alpha", "1.0.0-alpha.1", Less),
            ("1.0.0-alpha.1", "1.0.0-alpha.beta", Less),
            ("1.0.0-beta.11", "1.0.0-rc.1", Less),
            ("v1.10.0", "v1.9", Greater),
            ("v1.2", "v1.2.0", Equal),
            ("v1.2.3", "v1.2.3+build.7", Equal),
            ("v2.0.0-rc.1", "v1.9.9", Greater),
            ("v6", "v5", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), Some(want), "{a} vs {b}");
            assert_eq!(compare(b, a), Some(want.reverse()), "{b} vs {a}");
        }
        assert_eq!(compare("abc1234", "v1.2.3"), None);
        // Huge numbers order without overflow or a panic.
        assert_eq!(
            compare("1.0.0-99999999999999999999999", "1.0.0-1"),
            Some(Greater)
        );
    }
}
