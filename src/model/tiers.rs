//! The tiers environments are named after (`dev`, `qa`, `staging`, `prod`, ...) and the
//! tokens that name them, in paths and at the start of tags.

/// The tiers of zero-config inference, in the usual promotion order, with the tokens
/// naming them. Environments of one tier are its members.
pub const TIERS: &[(&str, &[&str])] = &[
    ("dev", &["dev", "develop", "development"]),
    ("sandbox", &["sandbox"]),
    ("preview", &["preview"]),
    ("qa", &["qa", "test"]),
    ("integration", &["integration"]),
    ("load", &["load", "perf", "performance"]),
    (
        "staging",
        &[
            "staging",
            "stage",
            "uat",
            "preprod",
            "pre-prod",
            "preproduction",
            "pre-production",
        ],
    ),
    ("canary", &["canary"]),
    ("prod", &["prod", "production", "live"]),
];

/// The production tier: protected by default.
pub const PROD_TIER: usize = TIERS.len() - 1;

/// Tiers beside the chain (a playground, per-change previews): they follow nothing and no
/// tier waits for them.
const SIDE_TIERS: &[&str] = &["sandbox", "preview"];

pub fn is_side_tier(tier: usize) -> bool {
    SIDE_TIERS.contains(&TIERS[tier].0)
}

/// Index of the tier a token names, if any.
pub fn tier_of_token(token: &str) -> Option<usize> {
    let lower = token.to_ascii_lowercase();
    TIERS
        .iter()
        .position(|(_, tokens)| tokens.contains(&lower.as_str()))
}

/// Every token naming any tier (used to recognise environment prefixes in tags).
pub fn all_tier_tokens() -> impl Iterator<Item = &'static str> {
    TIERS
        .iter()
        .flat_map(|(_, t)| t.iter().copied())
        .filter(|t| !t.contains('-'))
}

pub fn tokens(segment: &str) -> impl Iterator<Item = &str> {
    segment.split(['-', '_', '.']).filter(|t| !t.is_empty())
}

/// The token at the start of a tag that names a tier: `staging-v1.2.3` → `staging`.
pub fn tag_env_token(tag: &str) -> Option<&str> {
    let end = tag.find(['-', '_', '.'])?;
    let token = &tag[..end];
    tier_of_token(token).map(|_| token)
}
