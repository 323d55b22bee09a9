//! Renovate configuration (`renovate.json`, `renovate.json5`, `.github/renovate.json5`,
//! `.renovaterc…`): the packageRules that decide which files Renovate updates, for PL010.

use super::json5::{self, Node, Val};
use crate::model::{
    Fact, FactKind, FilePattern, LineIndex, PathMatch, RenovateConfig, RenovateRule,
};

/// File names Renovate reads its repository configuration from.
const NAMES: &[&str] = &[
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
];

/// Keys of a packageRule that select files, and how each compares.
const FILE_KEYS: &[(&str, PathMatch)] = &[
    ("matchFileNames", PathMatch::Glob),
    ("matchFiles", PathMatch::Glob),
    ("matchPaths", PathMatch::GlobOrSubstring),
    ("paths", PathMatch::GlobOrSubstring),
];

/// Whether `path` (repository-relative) is a Renovate configuration file.
pub fn is_config(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    NAMES.contains(&name)
}

/// The directory a config's paths are relative to: the repository Renovate would run on,
/// i.e. the config's directory, or its parent for `.github/` and `.gitlab/`.
fn base_of(path: &str) -> String {
    let mut dirs: Vec<&str> = path.split('/').collect();
    dirs.pop();
    if matches!(dirs.last(), Some(&".github") | Some(&".gitlab")) {
        dirs.pop();
    }
    dirs.join("/")
}

/// Extract the Renovate configuration of one file. `Err` is the reason it is unreadable.
pub fn extract(path: &str, text: &str, index: &LineIndex) -> Result<Vec<Fact>, String> {
    let root = json5::parse(text).map_err(|e| {
        let (line, column) = index.position(text, e.offset);
        format!(
            "malformed JSON5 at line {line} column {column}: {}",
            e.message
        )
    })?;
    if !matches!(root.val, Val::Obj(_)) {
        return Ok(Vec::new());
    }
    let strings = |key: &str| -> Vec<String> {
        let Some(node) = root.get(key) else {
            return Vec::new();
        };
        match &node.val {
            Val::Str(s) => vec![s.clone()],
            _ => node
                .items()
                .iter()
                .filter_map(|n| n.str().map(str::to_owned))
                .collect(),
        }
    };
    let rules = root
        .get("packageRules")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.val, Val::Obj(_)))
        .map(|(i, r)| rule(i, r, text, index))
        .collect();
    let config = RenovateConfig {
        base: base_of(path),
        enabled: root.get("enabled").and_then(Node::bool).unwrap_or(true),
        ignore_paths: strings("ignorePaths"),
        include_paths: strings("includePaths"),
        rules,
    };
    Ok(vec![Fact::new(FactKind::RenovateConfig(config))])
}

/// Conditions that match every package (`matchPackageNames: ["*"]`) restrict nothing.
fn matches_everything(value: &Node) -> bool {
    let all = |s: &str| matches!(s, "*" | "**" | ".*" | "/.*/" | "/^.*$/");
    match &value.val {
        Val::Str(s) => all(s),
        Val::Arr(items) => !items.is_empty() && items.iter().all(|n| n.str().is_some_and(all)),
        _ => false,
    }
}

fn rule(index: usize, node: &Node, text: &str, lines: &LineIndex) -> RenovateRule {
    let mut files = Vec::new();
    for (key, matching) in FILE_KEYS {
        let Some(value) = node.get(key) else {
            continue;
        };
        let entries: Vec<&Node> = match &value.val {
            Val::Str(_) => vec![value],
            _ => value.items().iter().filter(|n| n.str().is_some()).collect(),
        };
        for entry in entries {
            let pattern = entry.str().unwrap_or_default().to_owned();
            files.push(FilePattern {
                key: (*key).to_owned(),
                pattern,
                matching: *matching,
                span: lines.span(text, entry.value_range(text)),
            });
        }
    }
    let mut conditions: Vec<String> = node
        .members()
        .iter()
        .filter(|(k, _)| {
            (k.name.starts_with("match") || k.name.starts_with("exclude"))
                && !FILE_KEYS.iter().any(|(f, _)| *f == k.name)
        })
        .filter(|(_, v)| !matches_everything(v))
        .map(|(k, v)| format!("{}={}", k.name, v.canonical()))
        .collect();
    conditions.sort();
    conditions.dedup();
    let label = node
        .get("groupName")
        .and_then(Node::str)
        .or_else(|| {
            let d = node.get("description")?;
            d.str().or_else(|| d.items().first().and_then(Node::str))
        })
        .map(str::to_owned);
    RenovateRule {
        index,
        files,
        enabled: node.get("enabled").and_then(Node::bool),
        conditions,
        label,
        span: lines.span(text, node.start..node.start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::test_support::at;

    fn config(path: &str, text: &str) -> RenovateConfig {
        let index = LineIndex::new(text);
        let facts = match extract(path, text, &index) {
            Ok(f) => f,
            Err(e) => panic!("{path}: {e}"),
        };
        match facts.into_iter().next().map(|f| f.kind) {
            Some(FactKind::RenovateConfig(c)) => c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_and_bases() {
        assert!(is_config(".github/renovate.json5"));
        assert!(is_config("renovate.json"));
        assert!(is_config("sub/.renovaterc"));
        assert!(!is_config("renovate.yaml"));
        assert!(!is_config("docs/renovate.md"));
        assert_eq!(base_of(".github/renovate.json5"), "");
        assert_eq!(base_of("renovate.json"), "");
        assert_eq!(base_of(".gitlab/renovate.json"), "");
        assert_eq!(
            base_of("fixtures/homelab/.github/renovate.json5"),
            "fixtures/homelab"
        );
        assert_eq!(base_of("tools/renovate.json"), "tools");
    }

    /// A homelab's configuration, as JSON5 with comments and trailing commas.
    #[test]
    fn homelab_package_rules_with_exact_spans() {
        let text = r#"{
  $schema: "https://docs.renovatebot.com/renovate-schema.json",
  "packageRules": [
    {
      // Infrastructure versions - dev + integration together
      "matchFileNames": [
        "infrastructure/stacks/dev/terragrunt.stack.hcl",
        "infrastructure/stacks/integration/terragrunt.stack.hcl"
      ],
      "groupName": "infrastructure-versions",
      "labels": ["dependencies", "infrastructure", "bleeding-edge"]
    },
    {
      // Helm chart updates - dev + integration together
      "matchManagers": ["kubernetes"],
      matchFileNames: [
        'kubernetes/clusters/dev/helm-charts.yaml',
        'kubernetes/clusters/integration/helm-charts.yaml',
      ],
      groupName: "helm-charts",
    },
    {
      /* Block direct updates to live cluster */
      "matchFileNames": [
        "infrastructure/stacks/live/terragrunt.stack.hcl",
        "kubernetes/clusters/live/helm-charts.yaml",
      ],
      "enabled": false,
    },
  ],
  ignorePaths: ["**/node_modules/**", "archive/"],
}
"#;
        let c = config(".github/renovate.json5", text);
        assert_eq!(c.base, "");
        assert!(c.enabled);
        assert_eq!(c.ignore_paths, ["**/node_modules/**", "archive/"]);
        assert!(c.include_paths.is_empty());
        assert_eq!(c.rules.len(), 3);

        let r0 = &c.rules[0];
        assert_eq!(r0.index, 0);
        assert_eq!(r0.label.as_deref(), Some("infrastructure-versions"));
        assert_eq!(r0.enabled, None);
        assert!(r0.conditions.is_empty());
        assert_eq!(at(text, &r0.span, "{"), "4:5-4:6");
        assert_eq!(r0.files.len(), 2);
        assert_eq!(r0.files[0].key, "matchFileNames");
        assert_eq!(r0.files[0].matching, PathMatch::Glob);
        assert_eq!(
            at(
                text,
                &r0.files[0].span,
                "infrastructure/stacks/dev/terragrunt.stack.hcl"
            ),
            "7:10-7:56"
        );

        let r1 = &c.rules[1];
        assert_eq!(r1.conditions, [r#"matchManagers=["kubernetes"]"#]);
        assert_eq!(
            at(
                text,
                &r1.files[1].span,
                "kubernetes/clusters/integration/helm-charts.yaml"
            ),
            "18:10-18:58"
        );

        let r2 = &c.rules[2];
        assert_eq!(r2.enabled, Some(false));
        assert_eq!(r2.label, None);
        assert_eq!(
            at(
                text,
                &r2.files[1].span,
                "kubernetes/clusters/live/helm-charts.yaml"
            ),
            "26:10-26:51"
        );
    }

    #[test]
    fn legacy_keys_single_strings_universal_conditions_and_disabled_configs() {
        let text = r#"{
  "enabled": false,
  "includePaths": "kubernetes/**",
  "packageRules": [
    {"matchPaths": ["clusters/live/"], "paths": "x", "description": ["Live", "more"]},
    {"matchPackageNames": ["*"], "matchDepNames": ["cilium"], "enabled": "no"},
    "not a rule",
    {"excludePackageNames": ["a", "b"], "matchUpdateTypes": ["patch"]}
  ]
}"#;
        let c = config("renovate.json", text);
        assert!(!c.enabled);
        assert_eq!(c.include_paths, ["kubernetes/**"]);
        assert_eq!(c.rules.len(), 3);
        let r0 = &c.rules[0];
        assert_eq!(r0.label.as_deref(), Some("Live"));
        assert_eq!(r0.files.len(), 2);
        assert_eq!(r0.files[0].matching, PathMatch::GlobOrSubstring);
        assert_eq!(r0.files[1].key, "paths");
        assert_eq!(at(text, &r0.files[1].span, "x"), "5:50-5:51");
        let r1 = &c.rules[1];
        // `enabled: "no"` is not a boolean; `matchPackageNames: ["*"]` restricts nothing.
        assert_eq!(r1.enabled, None);
        assert_eq!(r1.conditions, [r#"matchDepNames=["cilium"]"#]);
        // Rules keep their position in packageRules, non-objects included.
        assert_eq!(c.rules[2].index, 3);
        assert_eq!(
            c.rules[2].conditions,
            [
                r#"excludePackageNames=["a","b"]"#,
                r#"matchUpdateTypes=["patch"]"#
            ]
        );
    }

    #[test]
    fn malformed_json5_names_line_and_column() {
        let text = "{\n  packageRules: [\n    {matchFileNames: [\"a\" \"b\"]},\n  ],\n}\n";
        let index = LineIndex::new(text);
        let e = extract("renovate.json5", text, &index).unwrap_err();
        assert!(
            e.starts_with("malformed JSON5 at line 3 column 27: expected `,` or `]`"),
            "{e}"
        );
        // Not an object: nothing to read, not an error.
        let index = LineIndex::new("[]");
        assert_eq!(extract("renovate.json", "[]", &index), Ok(Vec::new()));
    }
}
