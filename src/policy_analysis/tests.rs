use super::automaton::Lang;
use super::*;

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const DEV: &[&str] = &["dev", "develop", "development"];
const STAGING: &[&str] = &["staging", "stage", "integration", "qa", "uat"];
const PROD: &[&str] = &["prod", "production", "live"];
const MUTABLE: &[&str] = &["latest", "main", "master", "stable", "edge", "nightly"];

/// An environment named `name` whose tokens are `group`, the other groups foreign.
struct Env {
    name: &'static str,
    own: Vec<String>,
    foreign: Vec<String>,
    mutable: Vec<String>,
    protected: bool,
}

impl Env {
    fn ctx(&self) -> PolicyContext<'_> {
        PolicyContext {
            environment: self.name,
            own_tokens: &self.own,
            foreign_tokens: &self.foreign,
            mutable_tags: &self.mutable,
            protected: self.protected,
        }
    }
}

fn env(name: &'static str, group: &[&str]) -> Env {
    let foreign: Vec<&str> = [DEV, STAGING, PROD]
        .into_iter()
        .filter(|g| *g != group)
        .flatten()
        .copied()
        .collect();
    Env {
        name,
        own: strings(group),
        foreign: strings(&foreign),
        mutable: strings(MUTABLE),
        protected: group == PROD,
    }
}

fn develop() -> Env {
    env("develop", DEV)
}
fn staging() -> Env {
    env("staging", STAGING)
}
fn production() -> Env {
    env("production", PROD)
}

fn numerical() -> PolicyOrder {
    PolicyOrder::Numerical {
        order: "asc".into(),
    }
}
fn alphabetical(order: &str) -> PolicyOrder {
    PolicyOrder::Alphabetical {
        order: order.into(),
    }
}
fn semver(range: &str) -> PolicyOrder {
    PolicyOrder::Semver {
        range: range.into(),
    }
}

fn not_anchored(tag: &str) -> Problem {
    Problem::NotAnchored { tag: tag.into() }
}
fn foreign(tag: &str, token: &str) -> Problem {
    Problem::ForeignTag {
        tag: tag.into(),
        token: token.into(),
    }
}
fn mutable(tags: &[&str]) -> Problem {
    Problem::MutableTag {
        tags: strings(tags),
    }
}
fn unpadded(key: Option<&str>, first: &str, second: &str) -> Problem {
    Problem::UnpaddedNumbers {
        key: key.map(Into::into),
        first: first.into(),
        second: second.into(),
    }
}
fn hash(key: &str, first: &str, second: &str) -> Problem {
    Problem::HashOrder {
        key: Some(key.into()),
        first: first.into(),
        second: second.into(),
    }
}
fn non_numeric(key: Option<&str>, value: &str) -> Problem {
    Problem::NonNumericKey {
        key: key.map(Into::into),
        value: value.into(),
    }
}
fn unknown_group(extract: &str, group: Option<&str>) -> Problem {
    Problem::UnknownGroup {
        extract: extract.into(),
        group: group.map(Into::into),
    }
}
fn prerelease(range: &str, comparator: &str) -> Problem {
    Problem::PrereleaseRange {
        range: range.into(),
        comparator: comparator.into(),
        environment: "production".into(),
    }
}

// Flux image automation policies, written out: `^<env>-v<semver>-<timestamp>$`.
const DEVELOP_POLICY: &str = r"^develop-v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?P<ts>[0-9]+)$";
const STAGING_POLICY: &str = r"^staging-v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?P<ts>[0-9]+)$";
const PRODUCTION_POLICY: &str = r"^production-v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?P<ts>[0-9]+)$";
const BROAD_PRODUCTION_POLICY: &str = r"^(staging|production)-v(?P<major>[0-9]+)\.(?P<minor>[0-9]+)\.(?P<patch>[0-9]+)-(?P<ts>[0-9]+)$";

struct Case {
    env: Env,
    pattern: Option<&'static str>,
    extract: Option<&'static str>,
    order: PolicyOrder,
    expected: Vec<Problem>,
}

fn case(
    env: Env,
    pattern: &'static str,
    extract: Option<&'static str>,
    order: PolicyOrder,
    expected: Vec<Problem>,
) -> Case {
    Case {
        env,
        pattern: Some(pattern),
        extract,
        order,
        expected,
    }
}

fn check(cases: Vec<Case>) {
    for c in cases {
        let got = analyse(c.pattern, c.extract, &c.order, &c.env.ctx());
        assert_eq!(
            got, c.expected,
            "pattern {:?} extract {:?} order {:?} in {}",
            c.pattern, c.extract, c.order, c.env.name
        );
        // Every counterexample tag is one the real engine admits.
        for problem in &got {
            let tag = match problem {
                Problem::NotAnchored { tag } | Problem::ForeignTag { tag, .. } => Some(tag),
                Problem::MutableTag { tags } => tags.first(),
                Problem::UnpaddedNumbers { first, .. } | Problem::HashOrder { first, .. } => {
                    Some(first)
                }
                Problem::NonNumericKey { key: None, value } => Some(value),
                _ => None,
            };
            if let (Some(tag), Some(pattern)) = (tag, c.pattern) {
                assert!(admits(pattern, tag), "{pattern:?} should admit {tag:?}");
                assert!(language::is_valid_tag(tag), "{tag:?} is not a tag");
            }
        }
    }
}

#[test]
fn flux_environment_policies_are_clean() {
    check(vec![
        case(develop(), DEVELOP_POLICY, Some("$ts"), numerical(), vec![]),
        case(staging(), STAGING_POLICY, Some("$ts"), numerical(), vec![]),
        case(
            production(),
            PRODUCTION_POLICY,
            Some("$ts"),
            numerical(),
            vec![],
        ),
        case(
            production(),
            PRODUCTION_POLICY,
            Some("${ts}"),
            numerical(),
            vec![],
        ),
        case(
            production(),
            PRODUCTION_POLICY,
            Some("$2"),
            numerical(),
            vec![],
        ),
        case(
            production(),
            "^production-v.*",
            None,
            PolicyOrder::Unspecified,
            vec![],
        ),
        case(
            production(),
            r"(?m)^production-v[0-9]+\.[0-9]+\.[0-9]+$",
            None,
            semver(">=1.0.0"),
            vec![],
        ),
        case(
            production(),
            r"(?i)^production-v.*",
            None,
            PolicyOrder::Unspecified,
            vec![],
        ),
        // Fixed-width, zero-padded timestamps sort fine alphabetically.
        case(
            production(),
            r"^production-v[0-9]+\.[0-9]+\.[0-9]+-(?P<ts>[0-9]{14})$",
            Some("$ts"),
            alphabetical("asc"),
            vec![],
        ),
        // Nothing in the tag alphabet: admits no tag, so nothing to report.
        case(
            production(),
            r"[^\x00-\x7F]",
            None,
            PolicyOrder::Unspecified,
            vec![],
        ),
        // `\d` in Go is ASCII; Unicode digits cannot occur in tags either way.
        case(
            production(),
            r"^production-(?P<ts>\d+)$",
            Some("$ts"),
            numerical(),
            vec![],
        ),
    ]);
}

#[test]
fn own_tokens_win_over_foreign_prefixes() {
    let eu = Env {
        name: "staging-eu",
        own: strings(&["staging-eu"]),
        foreign: strings(&["staging", "dev"]),
        mutable: vec![],
        protected: false,
    };
    check(vec![case(
        eu,
        r"^staging-eu-v.*",
        None,
        PolicyOrder::Unspecified,
        vec![],
    )]);
    let eu = Env {
        name: "staging-eu",
        own: strings(&["staging-eu"]),
        foreign: strings(&["staging", "dev"]),
        mutable: vec![],
        protected: false,
    };
    check(vec![case(
        eu,
        r"^staging-.*",
        None,
        PolicyOrder::Unspecified,
        vec![foreign("staging-", "staging"), mutable(&["staging-eu"])],
    )]);
}

#[test]
fn unanchored_patterns() {
    check(vec![
        case(
            production(),
            "production-v.*",
            None,
            PolicyOrder::Unspecified,
            vec![
                not_anchored("xproduction-v"),
                foreign("qa-production-v", "qa"),
            ],
        ),
        // Only one branch is anchored.
        case(
            production(),
            "^a|production",
            None,
            PolicyOrder::Unspecified,
            vec![
                not_anchored("xproduction"),
                foreign("qa-production", "qa"),
                mutable(&["production"]),
            ],
        ),
        // `\b` needs a separator in front: `xproduction-v` is not admitted.
        case(
            production(),
            r"\bproduction-v.*",
            None,
            PolicyOrder::Unspecified,
            vec![
                not_anchored("0-production-v"),
                foreign("qa-production-v", "qa"),
            ],
        ),
    ]);
}

#[test]
fn foreign_environment_tags() {
    check(vec![
        case(
            production(),
            BROAD_PRODUCTION_POLICY,
            Some("$ts"),
            numerical(),
            vec![foreign("staging-v0.0.0-0", "staging")],
        ),
        case(
            production(),
            ".*",
            None,
            PolicyOrder::Unspecified,
            vec![
                not_anchored("x0"),
                foreign("qa-", "qa"),
                mutable(&[
                    "latest",
                    "main",
                    "master",
                    "stable",
                    "edge",
                    "nightly",
                    "production",
                    "prod",
                    "live",
                    "dev",
                    "develop",
                    "development",
                    "staging",
                    "stage",
                    "integration",
                    "qa",
                    "uat",
                ]),
            ],
        ),
        case(
            production(),
            r"(?i)^(staging|production)-v.*",
            None,
            PolicyOrder::Unspecified,
            vec![foreign("staging-V", "staging")],
        ),
        case(
            production(),
            r"^(prod|stage)",
            None,
            PolicyOrder::Unspecified,
            vec![
                foreign("stage-", "stage"),
                mutable(&["production", "prod", "stage"]),
            ],
        ),
        // Another environment's policy in production: the develop tag leaks in.
        case(
            production(),
            DEVELOP_POLICY,
            Some("$ts"),
            numerical(),
            vec![foreign("develop-v0.0.0-0", "develop")],
        ),
        // The longest matching token names the environment.
        case(
            staging(),
            r"^(staging|development)_[0-9]+$",
            None,
            PolicyOrder::Unspecified,
            vec![foreign("development_0", "development")],
        ),
    ]);
}

#[test]
fn mutable_tags() {
    check(vec![
        case(
            production(),
            "^(latest|production-v.*)$",
            None,
            PolicyOrder::Unspecified,
            vec![mutable(&["latest"])],
        ),
        case(
            production(),
            "(?i)^(LATEST|production-v.*)$",
            None,
            PolicyOrder::Unspecified,
            vec![mutable(&["latest"])],
        ),
        // A promotion workflow that also pushes a bare `production` tag.
        case(
            production(),
            "^production(-v.*)?$",
            None,
            PolicyOrder::Unspecified,
            vec![mutable(&["production"])],
        ),
        case(
            production(),
            "^prod.*",
            None,
            PolicyOrder::Unspecified,
            vec![mutable(&["production", "prod"])],
        ),
    ]);
}

#[test]
fn semver_prerelease_ranges() {
    let no_pattern = |env: Env, range: &str, expected: Vec<Problem>| Case {
        env,
        pattern: None,
        extract: None,
        order: semver(range),
        expected,
    };
    check(vec![
        no_pattern(
            production(),
            ">=1.0.0-0",
            vec![prerelease(">=1.0.0-0", ">=1.0.0-0")],
        ),
        no_pattern(
            production(),
            ">= 1.0.0-alpha, <2.0.0",
            vec![prerelease(">= 1.0.0-alpha, <2.0.0", ">=1.0.0-alpha")],
        ),
        no_pattern(
            production(),
            "~1.2.0 || ^2.0.0-rc.1",
            vec![prerelease("~1.2.0 || ^2.0.0-rc.1", "^2.0.0-rc.1")],
        ),
        no_pattern(production(), ">=1.0.0 <2.0.0", vec![]),
        no_pattern(production(), "1.0.0 - 2.0.0", vec![]),
        no_pattern(production(), "v1.x", vec![]),
        no_pattern(production(), "1.0.0+build-7", vec![]),
        // Only protected environments care.
        no_pattern(staging(), ">=1.0.0-0", vec![]),
        // After the pattern's own problems.
        case(
            production(),
            "^(latest|production-v.*)$",
            None,
            semver(">=1.0.0-0"),
            vec![mutable(&["latest"]), prerelease(">=1.0.0-0", ">=1.0.0-0")],
        ),
    ]);
}

#[test]
fn alphabetical_order_on_unpadded_numbers_and_hashes() {
    check(vec![
        case(
            production(),
            PRODUCTION_POLICY,
            Some("$ts"),
            alphabetical("asc"),
            vec![unpadded(
                Some("$ts"),
                "production-v0.0.0-10",
                "production-v0.0.0-9",
            )],
        ),
        case(
            production(),
            PRODUCTION_POLICY,
            Some("$version"),
            alphabetical("asc"),
            vec![unpadded(
                Some("$version"),
                "production-v10.0.0-0",
                "production-v9.0.0-0",
            )],
        ),
        // Without extract the whole tag is the key.
        case(
            production(),
            r"^production-v[0-9]+\.[0-9]+\.[0-9]+$",
            None,
            alphabetical("asc"),
            vec![unpadded(None, "production-v10.0.0", "production-v9.0.0")],
        ),
        case(
            production(),
            r"^production-v\d{1,3}$",
            None,
            alphabetical("asc"),
            vec![unpadded(None, "production-v10", "production-v9")],
        ),
        // A live ImagePolicy `^validated-(?P<sha>[a-f0-9]+)$`, alphabetical desc.
        case(
            env("live", PROD),
            r"^validated-(?P<sha>[a-f0-9]+)$",
            Some("$sha"),
            alphabetical("desc"),
            vec![hash("$sha", "validated-0", "validated-f")],
        ),
        case(
            env("integration", STAGING),
            r"^integration-(?P<sha>[a-f0-9]+)$",
            Some("$sha"),
            alphabetical("desc"),
            vec![hash("$sha", "integration-0", "integration-f")],
        ),
        // A fixed-width hash is still a hash.
        case(
            env("live", PROD),
            r"^validated-(?P<sha>[0-9a-f]{7})$",
            Some("$sha"),
            alphabetical("asc"),
            vec![hash("$sha", "validated-0000000", "validated-fffffff")],
        ),
        // The tags must really put `10` and `9` into the key, not take the other branch.
        case(
            production(),
            r"(?P<ts>[0-9]+)|(?P<other>x)",
            Some("$ts"),
            alphabetical("asc"),
            vec![
                not_anchored("x0"),
                foreign("qa-0", "qa"),
                unpadded(Some("$ts"), "10", "9"),
            ],
        ),
        // The hash outside the key does not matter.
        case(
            production(),
            r"^production-[0-9a-f]+-(?P<ts>[0-9]{14})$",
            Some("$ts"),
            alphabetical("asc"),
            vec![],
        ),
    ]);
}

#[test]
fn numerical_order_needs_numeric_keys() {
    check(vec![
        case(
            production(),
            r"^production-(?P<version>v[0-9]+)-(?P<ts>[0-9]{14})$",
            Some("$version"),
            numerical(),
            vec![non_numeric(Some("$version"), "v0")],
        ),
        case(
            production(),
            PRODUCTION_POLICY,
            Some("$version"),
            numerical(),
            vec![non_numeric(Some("$version"), "0.0.0")],
        ),
        case(
            production(),
            r"^production-v(?P<ts>[0-9]+)$",
            None,
            numerical(),
            vec![non_numeric(None, "production-v0")],
        ),
        // The group can be skipped: an empty key.
        case(
            production(),
            r"^production-v1(-(?P<ts>[0-9]+))?$",
            Some("$ts"),
            numerical(),
            vec![non_numeric(Some("$ts"), "")],
        ),
        case(
            production(),
            r"^production-(?:v(?P<ts>[0-9]+)|build)$",
            Some("$ts"),
            numerical(),
            vec![non_numeric(Some("$ts"), "")],
        ),
        // Literal text in the template is part of the key.
        case(
            production(),
            r"^production-(?P<a>[0-9]+)-(?P<b>[0-9]+)$",
            Some("$a.$b"),
            numerical(),
            vec![non_numeric(Some("$a.$b"), "0.0")],
        ),
        case(
            production(),
            r"^production-(?P<a>[0-9]+)-(?P<b>[0-9]+)$",
            Some("$a$b"),
            numerical(),
            vec![],
        ),
    ]);
}

#[test]
fn extract_must_name_a_group() {
    check(vec![
        case(
            production(),
            r"^production-v(?P<ts>[0-9]+)$",
            Some("$nope"),
            numerical(),
            vec![unknown_group("$nope", Some("nope"))],
        ),
        case(
            production(),
            r"^production-v(?P<ts>[0-9]+)$",
            Some("ts"),
            numerical(),
            vec![unknown_group("ts", None)],
        ),
        case(
            production(),
            r"^production-v([0-9]+)$",
            Some("$2"),
            alphabetical("asc"),
            vec![unknown_group("$2", Some("2"))],
        ),
        // `$tsx` is a group named `tsx` (Go reads the longest name).
        case(
            production(),
            r"^production-v(?P<ts>[0-9]+)$",
            Some("$tsx"),
            semver(">=1.0.0"),
            vec![unknown_group("$tsx", Some("tsx"))],
        ),
        case(
            production(),
            r"^production-v([0-9]+)$",
            Some("$1"),
            numerical(),
            vec![],
        ),
    ]);
}

#[test]
fn invalid_patterns_report_the_parser_message() {
    check(vec![
        case(
            production(),
            r"^production-(",
            Some("$ts"),
            numerical(),
            vec![Problem::InvalidPattern {
                error: "unclosed group (at byte 12)".into(),
            }],
        ),
        case(
            production(),
            r"^production-v[0-9+$",
            None,
            PolicyOrder::Unspecified,
            vec![Problem::InvalidPattern {
                error: "unclosed character class (at byte 13)".into(),
            }],
        ),
    ]);
}

#[test]
fn hostile_patterns_are_too_complex_not_slow() {
    let ctx_env = production();
    let ctx = ctx_env.ctx();
    for pattern in [
        // Exponential DFA: the 26th byte from the end must be `a`.
        r"(a|b)*a(a|b){25}",
        r"^production-(a|b)*a(a|b){25}$",
        // Huge repetition.
        r"^production-v[0-9]{1000}{1000}$",
        r".*a.{30}$",
    ] {
        let got = analyse(Some(pattern), Some("$ts"), &numerical(), &ctx);
        assert!(
            matches!(got.first(), Some(Problem::TooComplex { .. })),
            "{pattern}: {got:?}"
        );
    }
}

#[test]
fn admits_uses_search_semantics() {
    for (pattern, tag, expected) in [
        ("production-v.*", "xproduction-v1", true),
        ("^production-v.*", "xproduction-v1", false),
        ("^production-v", "production-v1.2.3-anything", true),
        (r"^production-v[0-9]+$", "production-v1x", false),
        (r"^production-v[0-9]+$", "production-v12", true),
        ("(?i)^prod", "PROD-1", true),
        ("", "anything", true),
        (r"\bprod", "xprod", false),
        (r"\bprod", "x-prod", true),
        ("(", "(", false),
    ] {
        assert_eq!(admits(pattern, tag), expected, "{pattern:?} on {tag:?}");
    }
}

#[test]
fn messages_read_as_diagnostics() {
    assert_eq!(
        foreign("staging-v0.0.0-0", "staging").message(),
        "policy admits `staging-v0.0.0-0`, a tag of another environment (`staging`)"
    );
    assert_eq!(
        not_anchored("xproduction-v").message(),
        "tag pattern is not anchored with `^`: it admits `xproduction-v`, with arbitrary text in front"
    );
    assert_eq!(
        mutable(&["latest", "main", "production", "prod", "live"]).message(),
        "policy admits mutable tag `latest` (also `main`, `production`, `prod`, 1 more)"
    );
    assert_eq!(
        non_numeric(Some("$version"), "v0").message(),
        "numerical order needs a numeric key, but key `$version` can be `v0`"
    );
    assert_eq!(
        non_numeric(Some("$ts"), "").message(),
        "numerical order needs a numeric key, but key `$ts` can be empty"
    );
    assert!(hash("$sha", "validated-0", "validated-f")
        .message()
        .starts_with("commit hashes do not sort by age; alphabetical picks an arbitrary tag"));
    assert_eq!(
        prerelease(">=1.0.0-0", ">=1.0.0-0").message(),
        "semver range `>=1.0.0-0` admits pre-release versions in protected environment `production`"
    );
    assert_eq!(
        foreign("staging-v0.0.0-0", "staging").counterexample(),
        Some("staging-v0.0.0-0")
    );
}

#[test]
fn extract_templates_read_like_go_expand() {
    use template::{group_number, parse, Piece};
    let g = |s: &str| Piece::Group(s.into());
    let t = |s: &str| Piece::Text(s.into());
    assert_eq!(parse("$ts"), vec![g("ts")]);
    assert_eq!(parse("${ts}x"), vec![g("ts"), t("x")]);
    assert_eq!(
        parse("v$major.$minor"),
        vec![t("v"), g("major"), t("."), g("minor")]
    );
    assert_eq!(parse("$$ts"), vec![t("$ts")]);
    assert_eq!(parse("a$"), vec![t("a$")]);
    assert_eq!(parse("${ts"), vec![t("${ts")]);
    assert_eq!(parse("$1x"), vec![g("1x")]);
    assert_eq!(parse(""), vec![]);
    assert_eq!(group_number("1"), Some(1));
    assert_eq!(group_number("01"), None);
    assert_eq!(group_number("1x"), None);
}

/// A small deterministic generator (no extra crates): xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The DFA of admitted tags agrees with the real engine on tags built from pieces the
/// patterns care about (so both admitted and rejected tags occur).
#[test]
fn admitted_language_agrees_with_the_regex_engine() {
    const PIECES: &[&str] = &[
        "production",
        "staging",
        "prod",
        "-",
        ".",
        "_",
        "v",
        "x",
        "0",
        "1",
        "9",
        "10",
        "a",
        "f",
        "PRODUCTION",
        "V",
        "latest",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for pattern in [
        PRODUCTION_POLICY,
        BROAD_PRODUCTION_POLICY,
        "production-v.*",
        r"(?i)^production-v\d+$",
        r"\bprod\b",
        r"(?m)^prod$",
        "^a|production",
        r"^validated-(?P<sha>[a-f0-9]+)$",
        r"v[0-9]{2,3}\.",
        r"\Bv1",
        r"(?i)\w+-V1",
        r"[[:alpha:]]+_\d",
        r"^\pL+$",
        "",
    ] {
        let hir = parse(pattern).unwrap();
        let admitted = Lang::new(Hir::concat(vec![
            any_tag_text(),
            project(&hir),
            any_tag_text(),
        ]))
        .unwrap();
        let re = compile(pattern).unwrap();
        for _ in 0..400 {
            let mut tag = String::new();
            for _ in 0..rng.below(6) {
                tag.push_str(PIECES[rng.below(PIECES.len())]);
            }
            assert_eq!(
                admitted.contains(tag.as_bytes()),
                re.is_match(&tag),
                "{pattern:?} on {tag:?}"
            );
        }
    }
}

/// Odd inputs produce problems or nothing, never a panic.
#[test]
fn odd_inputs_do_not_panic() {
    let env = production();
    let ctx = env.ctx();
    let patterns = [
        "",
        "^",
        "$",
        r"\b",
        r"(?m)^$",
        r"(?-u:\xFF)",
        r"\pL+",
        "(?x) ^ prod # comment",
        "a{0}",
        "(?P<ts>)",
        r"\d{0,100}",
        "((((((((((a))))))))))*",
        "é+",
        r"\141",
        r"(?P<ts>[0-9]+)|(?P<other>x)",
        "(?U)^prod.*?$",
        r"[^-]",
        r"\z",
        r"(?s).",
        "^production-v[0-9]{0,128}$",
        "(a|b|c|d|e|f|g|h|i|j)*$",
        r"^$|^latest",
    ];
    let extracts = [
        None,
        Some(""),
        Some("$"),
        Some("${"),
        Some("$$"),
        Some("${ts"),
        Some("$0"),
        Some("$ts$other"),
        Some("$99999999999"),
    ];
    let orders = [
        numerical(),
        alphabetical("asc"),
        semver(">=1.0.0-0 ||"),
        semver("||-"),
        PolicyOrder::Unspecified,
    ];
    // Every extract with an order that uses it, every order with a plain extract.
    let combinations = extracts
        .iter()
        .map(|e| (*e, &orders[0]))
        .chain(orders.iter().map(|o| (Some("$ts"), o)));
    for (extract, order) in combinations {
        for pattern in patterns {
            for problem in analyse(Some(pattern), extract, order, &ctx) {
                assert!(!problem.message().is_empty());
            }
        }
    }
    // Deep nesting (within and beyond the parser's limit) and a very wide alternation.
    let nested = |depth: usize| format!("{}a{}", "(".repeat(depth), ")".repeat(depth));
    let wide: Vec<String> = (0..5000).map(|i| format!("production-{i}")).collect();
    for pattern in [nested(200), nested(1000), format!("^({})$", wide.join("|"))] {
        for order in &orders {
            for problem in analyse(Some(&pattern), Some("$1"), order, &ctx) {
                assert!(!problem.message().is_empty());
            }
        }
    }
    assert!(matches!(
        analyse(Some(&nested(1000)), None, &numerical(), &ctx).as_slice(),
        [Problem::InvalidPattern { .. }]
    ));
}
