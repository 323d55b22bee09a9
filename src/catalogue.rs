//! The rule catalogue: rule metadata, read from the rule pages in `rules/` (embedded at build time). The pages
//! are the single source for `explain`, `rules`, the `help:` of every output and the
//! examples that run as tests.

use crate::model::Level;
use std::sync::OnceLock;

/// Whether a rule looks at one snapshot or at a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Tree,
    Change,
}

/// A rule's metadata and documentation.
#[derive(Clone, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: RuleKind,
    /// Level in protected environments (warning elsewhere, unless the rule says otherwise).
    pub level: Level,
    /// Whether the rule runs without being selected in the config.
    pub enabled: bool,
    /// One line.
    pub summary: &'static str,
    /// The page without its front matter (markdown).
    pub body: &'static str,
    /// The page's file name under `rules/`.
    pub file: &'static str,
    /// How often a finding is a true positive, in GitHub code scanning's words
    /// (`very-high`, `high`, `medium`, `low`): SARIF `properties.precision`.
    pub precision: &'static str,
    /// The rule's own tags (front matter `tags:`, comma-separated), after the ones every
    /// rule carries: SARIF `properties.tags`.
    pub tags: Vec<&'static str>,
}

impl RuleMeta {
    /// The page's `## How to fix` section, for `help:` lines.
    pub(crate) fn help(&self) -> &'static str {
        section(self.body, "How to fix").unwrap_or(self.summary)
    }

    /// The help that fits one defect: the paragraph of `How to fix` labelled `**{case}.**`
    /// (without its label), or the whole section when `case` is `None` or the page has no
    /// such paragraph.
    pub(crate) fn help_for(&self, case: Option<&str>) -> &'static str {
        let whole = self.help();
        let Some(case) = case else {
            return whole;
        };
        let label = format!("**{case}.**");
        whole
            .split("\n\n")
            .find_map(|p| p.trim().strip_prefix(label.as_str()))
            .map(str::trim)
            .unwrap_or(whole)
    }

    /// `How to fix` as plain text: paragraph labels without their bold markers
    /// (`Ordering. …`), for outputs that do not render markdown (SARIF `help.text`).
    pub fn help_text(&self) -> String {
        self.help()
            .split("\n\n")
            .map(|p| {
                let p = p.trim();
                match p.strip_prefix("**").and_then(|r| r.split_once(".**")) {
                    Some((label, rest)) => format!("{label}.{rest}"),
                    None => p.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The labels of the `How to fix` paragraphs (`Ordering` for `**Ordering.** …`).
    #[cfg(test)]
    pub(crate) fn help_cases(&self) -> Vec<&'static str> {
        self.help()
            .split("\n\n")
            .filter_map(|p| p.trim().strip_prefix("**")?.split_once(".**"))
            .map(|(label, _)| label)
            .collect()
    }
}

/// The text of a `## title` section of a markdown page, trimmed.
pub fn section<'a>(body: &'a str, title: &str) -> Option<&'a str> {
    let heading = format!("## {title}\n");
    let start = body.find(&heading)? + heading.len();
    let rest = &body[start..];
    let end = rest.find("\n## ").map(|i| i + 1).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

macro_rules! pages {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $file)))),*]
    };
}

/// Every rule page, by file name.
pub const PAGES: &[(&str, &str)] = pages![
    "PL000-unreadable-file.md",
    "PL001-mutable-reference.md",
    "PL002-foreign-environment-tag.md",
    "PL003-tag-policy-too-broad.md",
    "PL004-rewritten-artifact.md",
    "PL005-non-monotonic-version.md",
    "PL006-promotion-order.md",
    "PL007-multi-version-promotion.md",
    "PL008-rebuilt-for-production.md",
    "PL009-missing-digest.md",
    "PL010-automation-bypass.md",
    "PL011-questionable-suppression.md",
];

fn parse(file: &'static str, page: &'static str) -> RuleMeta {
    // The pages are part of the binary and checked by tests; a malformed page is a bug
    // in promolint, not user input.
    let rest = page
        .strip_prefix("---\n")
        .unwrap_or_else(|| panic!("rules/{file}: missing front matter"));
    let end = rest
        .find("\n---\n")
        .unwrap_or_else(|| panic!("rules/{file}: unterminated front matter"));
    let (front, body) = (&rest[..end], &rest[end + 5..]);
    let field = |key: &str| -> &'static str {
        front
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(str::trim)
            .unwrap_or_else(|| panic!("rules/{file}: front matter lacks `{key}`"))
    };
    // `field` borrows `front`, which is 'static.
    let kind = match field("kind") {
        "tree" => RuleKind::Tree,
        "change" => RuleKind::Change,
        other => panic!("rules/{file}: unknown kind `{other}`"),
    };
    let precision = match field("precision") {
        p @ ("very-high" | "high" | "medium" | "low") => p,
        other => panic!("rules/{file}: unknown precision `{other}`"),
    };
    let tags = field("tags")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    RuleMeta {
        id: field("id"),
        name: field("name"),
        kind,
        level: Level::parse(field("level")).unwrap_or_else(|| panic!("rules/{file}: bad level")),
        enabled: field("enabled") == "true",
        summary: field("summary"),
        body: body.trim_start(),
        file,
        precision,
        tags,
    }
}

/// Every rule, ordered by id.
pub fn all() -> &'static [RuleMeta] {
    static RULES: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut v: Vec<RuleMeta> = PAGES.iter().map(|(f, p)| parse(f, p)).collect();
        v.sort_by_key(|r| r.id);
        v
    })
}

/// A rule by id (`PL003`, any case) or name (`tag-policy-too-broad`).
pub fn lookup(key: &str) -> Option<&'static RuleMeta> {
    all()
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `help` case a rule gives its findings names a labelled paragraph of its
    /// page's `How to fix`, so that a finding's help fits its defect.
    #[test]
    fn help_cases_of_the_rules_are_on_their_pages() {
        let used: &[(&str, &[&str])] = &[
            (
                "PL003",
                &["Admission", "Pre-releases", "Ordering", "Unreadable"],
            ),
            ("PL004", &["Artifact", "Tag"]),
            ("PL005", &["Rebuild", "Naming", "Recipe", "Gap", "Rollback"]),
            ("PL007", &["Versions", "Two versions", "Other edits"]),
            ("PL010", &["Renovate", "Flux"]),
        ];
        for (id, cases) in used {
            let meta = lookup(id).unwrap_or_else(|| panic!("{id}"));
            assert_eq!(&meta.help_cases(), cases, "{id}");
            for case in *cases {
                let help = meta.help_for(Some(case));
                for other in *cases {
                    assert!(
                        !help.contains(&format!("**{other}.**")),
                        "{id} {case}: {help}"
                    );
                }
                assert_ne!(help, meta.help(), "{id} {case}");
            }
        }
        let pl003 = lookup("PL003").unwrap_or_else(|| panic!("PL003"));
        assert!(pl003
            .help_text()
            .starts_with("Admission. Anchor the pattern"));
        let pl010 = lookup("PL010").unwrap_or_else(|| panic!("PL010"));
        assert!(pl010.help_text().contains("`kubernetes/clusters/dev/**`"));
        assert!(pl010.help_text().contains("\n\nFlux. Restrict"));
        assert!(pl003
            .help_for(Some("Ordering"))
            .starts_with("Make the order automation picks"));
        assert_eq!(pl003.help_for(Some("No such case")), pl003.help());
        assert_eq!(pl003.help_for(None), pl003.help());
    }

    #[test]
    fn every_page_parses_and_is_named_after_its_rule() {
        for r in all() {
            assert_eq!(r.file, format!("{}-{}.md", r.id, r.name));
            assert!(!r.summary.is_empty(), "{}", r.id);
            assert!(
                r.body.starts_with(&format!("# {} {}", r.id, r.name)),
                "{}",
                r.id
            );
            assert!(
                section(r.body, "How to fix").is_some(),
                "{} lacks How to fix",
                r.id
            );
        }
        assert_eq!(
            lookup("pl003").map(|r| r.name),
            Some("tag-policy-too-broad")
        );
        assert_eq!(lookup("tag-policy-too-broad").map(|r| r.id), Some("PL003"));
        assert!(lookup("nope").is_none());
    }
}
