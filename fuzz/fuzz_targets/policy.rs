//! The tag-policy (regex) analysis of PL003. Input: one flag byte, then lines: the
//! pattern, the `extract` template, the semver range. Counterexamples must be tags the
//! pattern admits; nothing may take more than a moment (run with `-timeout`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use promolint::model::PolicyOrder;
use promolint::policy_analysis::{analyse, PolicyContext, Problem};

const ENVIRONMENTS: [&str; 4] = ["production", "staging", "develop", "live"];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.splitn(3, '\n');
    let pattern = lines.next().unwrap_or_default();
    let extract = lines.next().filter(|_| flags & 4 != 0);
    let range = lines.next().unwrap_or(">=1.0.0-0").to_string();
    let order = match flags & 3 {
        0 => PolicyOrder::Semver { range },
        1 => PolicyOrder::Alphabetical {
            order: "asc".into(),
        },
        2 => PolicyOrder::Numerical {
            order: "asc".into(),
        },
        _ => PolicyOrder::Unspecified,
    };
    let own = vec!["prod".to_string(), "production".to_string()];
    let foreign = vec![
        "dev".to_string(),
        "develop".to_string(),
        "staging".to_string(),
    ];
    let mutable = vec!["latest".to_string(), "main".to_string()];
    let ctx = PolicyContext {
        environment: ENVIRONMENTS[(flags >> 4) as usize % ENVIRONMENTS.len()],
        own_tokens: &own,
        foreign_tokens: &foreign,
        mutable_tags: &mutable,
        protected: flags & 8 != 0,
    };
    let problems = promolint_fuzz::on_worker(|| analyse(Some(pattern), extract, &order, &ctx));
    // Compiled once, as `policy_analysis::admits` does per call (Go reads `\123` as octal).
    let regex = regex::RegexBuilder::new(pattern).octal(true).build();
    let admits = |tag: &str| regex.as_ref().is_ok_and(|re| re.is_match(tag));
    for problem in &problems {
        assert!(!problem.message().is_empty());
        match problem {
            Problem::NotAnchored { tag } | Problem::ForeignTag { tag, .. } => {
                assert!(admits(tag), "`{pattern}` does not admit `{tag}`");
                assert!(!tag.is_empty() && tag.len() <= 128, "`{tag}` is no tag");
            }
            Problem::MutableTag { tags } => {
                for tag in tags {
                    assert!(admits(tag), "`{pattern}` does not admit `{tag}`");
                }
            }
            _ => {}
        }
    }
});
