//! PL010 automation-bypass: automation that writes protected environments directly,
//! without a promotion.
//!
//! - Renovate: a `packageRules` entry whose file patterns (`matchFileNames`, legacy
//!   `matchPaths`) select a file holding a protected environment's pins, and that no rule
//!   disables there (`enabled: false`, evaluated in order as Renovate merges rules), nor
//!   `ignorePaths`/`includePaths`. Only explicit file rules are judged: Renovate's
//!   repository-wide defaults are not.
//! - Flux: an ImageUpdateAutomation whose `spec.update.path` covers a protected
//!   environment's pins whose setter markers name a policy of the automation's namespace
//!   that admits tags outside that environment (no pattern, not anchored, another
//!   environment's tags, mutable tags; decided by [`crate::policy_analysis::analyse`]).

mod flux;
mod renovate;

use crate::config::Config;
use crate::model::{FactKind, Span};
use crate::rules::Finding;
use crate::snapshot::Snapshot;
use std::collections::BTreeMap;

pub const ID: &str = "PL010";

rule!(
    /// The rule.
    AutomationBypass: tree, scoped
);

/// Reached files listed as related locations, at most.
pub(super) const MAX_RELATED: usize = 5;

/// Findings are on the automation's file (a Renovate config, an ImageUpdateAutomation):
/// outside `scope`, none is looked for.
pub fn check(snap: &Snapshot, config: &Config, scope: super::Scope, out: &mut Vec<Finding>) {
    let automations: Vec<usize> = (scope.files(snap).into_iter())
        .filter(|&fi| {
            snap.files[fi].facts.iter().any(|f| {
                matches!(
                    f.kind,
                    FactKind::RenovateConfig(_) | FactKind::ImageUpdateAutomation(_)
                )
            })
        })
        .collect();
    if automations.is_empty() {
        return;
    }
    let targets = protected_targets(snap);
    if targets.is_empty() {
        return;
    }
    for fi in automations {
        let file = &snap.files[fi];
        for (xi, fact) in file.facts.iter().enumerate() {
            match &fact.kind {
                FactKind::RenovateConfig(c) => renovate::renovate(snap, fi, c, &targets, out),
                FactKind::ImageUpdateAutomation(a) => {
                    let namespace = fact.namespace.as_deref();
                    flux::flux(snap, config, (fi, xi), a, namespace, out)
                }
                _ => {}
            }
        }
    }
}

/// Files holding a pin that takes effect in a protected environment: (file, environment)
/// → the first such pin's span.
fn protected_targets(snap: &Snapshot) -> BTreeMap<(usize, usize), Span> {
    let mut targets = BTreeMap::new();
    for p in &snap.pins {
        if snap.envs.get(p.env).protected {
            targets
                .entry((p.file, p.env))
                .or_insert_with(|| snap.pin(p).span.clone());
        }
    }
    targets
}

/// "`a.yaml`", "`a.yaml` and 1 more file", "`a.yaml` and 3 more files".
pub(super) fn files_phrase(first: &str, count: usize) -> String {
    match count {
        0 | 1 => format!("`{first}`"),
        2 => format!("`{first}` and 1 more file"),
        n => format!("`{first}` and {} more files", n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::flux::{under, update_root};
    use super::*;
    use crate::config::Config;
    use crate::pipeline::snapshot_from_bytes;

    fn findings(files: &[(&str, &str)]) -> Vec<Finding> {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        let config = Config::default();
        let snap = match snapshot_from_bytes(&bytes, &config) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut out = Vec::new();
        check(&snap, &config, crate::rules::Scope::All, &mut out);
        crate::pipeline::sort_findings(&mut out);
        out
    }

    fn shown(found: &[Finding]) -> Vec<String> {
        found
            .iter()
            .map(|f| {
                format!(
                    "{} {}:{}:{}-{}:{} {}",
                    f.level.as_str(),
                    f.path,
                    f.span.line,
                    f.span.column,
                    f.span.end_line,
                    f.span.end_column,
                    f.message
                )
            })
            .collect()
    }

    const CHARTS: &str = "- name: cilium\n  chart:\n    name: cilium\n    version: \"1.18.6\"\n";
    const STACK: &str = "locals {\n  versions = {\n    talos = \"v1.12.1\"\n  }\n}\n";

    fn homelab(renovate: &str) -> Vec<String> {
        shown(&findings(&[
            (".github/renovate.json5", renovate),
            ("kubernetes/clusters/dev/helm-charts.yaml", CHARTS),
            ("kubernetes/clusters/integration/helm-charts.yaml", CHARTS),
            ("kubernetes/clusters/live/helm-charts.yaml", CHARTS),
            ("infrastructure/stacks/dev/terragrunt.stack.hcl", STACK),
            (
                "infrastructure/stacks/integration/terragrunt.stack.hcl",
                STACK,
            ),
            ("infrastructure/stacks/live/terragrunt.stack.hcl", STACK),
        ]))
    }

    /// Renovate for a homelab: dev + integration by name, live disabled.
    #[test]
    fn homelab_renovate_config_is_clean() {
        let config = r#"{
  "packageRules": [
    {
      // Infrastructure versions - dev + integration together
      "matchFileNames": [
        "infrastructure/stacks/dev/terragrunt.stack.hcl",
        "infrastructure/stacks/integration/terragrunt.stack.hcl"
      ],
      "groupName": "infrastructure-versions",
    },
    {
      "matchManagers": ["kubernetes"],
      "matchFileNames": [
        "kubernetes/clusters/dev/helm-charts.yaml",
        "kubernetes/clusters/integration/helm-charts.yaml"
      ],
      "groupName": "helm-charts",
    },
    {
      // Block direct updates to live cluster
      "matchFileNames": [
        "infrastructure/stacks/live/terragrunt.stack.hcl",
        "kubernetes/clusters/live/helm-charts.yaml"
      ],
      "enabled": false
    }
  ],
}"#;
        assert_eq!(homelab(config), Vec::<String>::new());
    }

    #[test]
    fn a_glob_over_every_cluster_reaches_live() {
        let config = r#"{
  packageRules: [
    {
      matchManagers: ['kubernetes'],
      matchFileNames: ['kubernetes/clusters/*/helm-charts.yaml'],
      groupName: 'helm-charts',
    },
    {
      matchFileNames: ['infrastructure/stacks/live/terragrunt.stack.hcl'],
      enabled: false,
    },
  ],
}"#;
        assert_eq!(
            homelab(config),
            ["error .github/renovate.json5:5:25-5:63 Renovate packageRules[0] (`helm-charts`) updates `kubernetes/clusters/live/helm-charts.yaml` of protected environment live directly: `kubernetes/clusters/*/helm-charts.yaml` matches it and no rule disables it there"]
        );
        let found = findings(&[
            (".github/renovate.json5", config),
            ("kubernetes/clusters/live/helm-charts.yaml", CHARTS),
        ]);
        assert_eq!(found[0].related.len(), 1);
        assert_eq!(
            found[0].related[0].path,
            "kubernetes/clusters/live/helm-charts.yaml"
        );
        assert_eq!(found[0].related[0].span.line, 4);
        assert_eq!(found[0].value, "kubernetes/clusters/*/helm-charts.yaml");
        assert_eq!(found[0].environment.as_deref(), Some("live"));
    }

    #[test]
    fn order_of_rules_decides() {
        // A later `enabled: false` wins over the earlier glob…
        let later_disable = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/**"], groupName: "k8s"},
  {matchFileNames: ["kubernetes/clusters/live/**", "infrastructure/stacks/live/**"], enabled: false},
]}"#;
        assert_eq!(homelab(later_disable), Vec::<String>::new());
        // …an earlier one does not stop a later `enabled: true`.
        let re_enabled = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/live/**"], enabled: false},
  {matchFileNames: ["kubernetes/clusters/**"], matchUpdateTypes: ["patch"], enabled: true, automerge: true},
]}"#;
        assert_eq!(
            homelab(re_enabled),
            ["error .github/renovate.json5:3:22-3:44 Renovate packageRules[1] updates `kubernetes/clusters/live/helm-charts.yaml` of protected environment live directly: `kubernetes/clusters/**` matches it, and the rule's `enabled: true` overrides packageRules[0], which disables it"]
        );
        // A disabling rule narrower than the rule (another condition) disables only part.
        let narrow_disable = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/*/helm-charts.yaml"]},
  {matchFileNames: ["kubernetes/clusters/live/**"], matchPackageNames: ["cilium"], enabled: false},
]}"#;
        assert_eq!(homelab(narrow_disable).len(), 1);
        // The same conditions: it disables everything the rule selects.
        let same_conditions = r#"{packageRules: [
  {matchFileNames: ["kubernetes/clusters/*/helm-charts.yaml"], matchPackageNames: ["cilium"]},
  {matchFileNames: ["kubernetes/clusters/live/**"], matchPackageNames: ["cilium"], enabled: false},
]}"#;
        assert_eq!(homelab(same_conditions), Vec::<String>::new());
        // A rule without file patterns is not judged (repository-wide defaults), but as a
        // disabling rule it applies everywhere.
        let global = r#"{packageRules: [
  {matchPackageNames: ["cilium"], automerge: true},
  {matchFileNames: ["**/live/**"]},
  {enabled: false},
]}"#;
        assert_eq!(homelab(global), Vec::<String>::new());
    }

    #[test]
    fn ignore_paths_include_paths_and_disabled_renovate() {
        let bad = r#"{ignorePaths: ["kubernetes/clusters/live/"], packageRules: [{matchFileNames: ["kubernetes/**"]}]}"#;
        assert_eq!(homelab(bad), Vec::<String>::new());
        let included = r#"{includePaths: ["kubernetes/clusters/dev/**"], packageRules: [{matchFileNames: ["**/*.yaml"]}]}"#;
        assert_eq!(homelab(included), Vec::<String>::new());
        let off = r#"{enabled: false, packageRules: [{matchFileNames: ["**"]}]}"#;
        assert_eq!(homelab(off), Vec::<String>::new());
    }

    #[test]
    fn regexes_negations_and_legacy_substrings() {
        let regex =
            r#"{packageRules: [{matchFileNames: ["/^infrastructure/stacks/(dev|live)/"]}]}"#;
        assert_eq!(
            homelab(regex),
            ["error .github/renovate.json5:1:36-1:71 Renovate packageRules[0] updates `infrastructure/stacks/live/terragrunt.stack.hcl` of protected environment live directly: `/^infrastructure/stacks/(dev|live)/` matches it and no rule disables it there"]
        );
        // Excluding live by negation is fine; a negation alone selects everything else.
        let negated = r#"{packageRules: [{matchFileNames: ["kubernetes/**", "!**/live/**"]}]}"#;
        assert_eq!(homelab(negated), Vec::<String>::new());
        let only_negation = r#"{packageRules: [{matchFileNames: ["!kubernetes/**"]}]}"#;
        assert_eq!(
            homelab(only_negation),
            ["error .github/renovate.json5:1:36-1:50 Renovate packageRules[0] updates `infrastructure/stacks/live/terragrunt.stack.hcl` of protected environment live directly: `!kubernetes/**` does not exclude it and no rule disables it there"]
        );
        // `*` stays within a directory.
        let shallow = r#"{packageRules: [{matchFileNames: ["kubernetes/*"]}]}"#;
        assert_eq!(homelab(shallow), Vec::<String>::new());
        // Legacy `matchPaths`: a plain string is a substring.
        let legacy = r#"{packageRules: [{matchPaths: ["clusters/live"]}]}"#;
        assert_eq!(homelab(legacy).len(), 1);
        // Every key must select the file.
        let both = r#"{packageRules: [{matchFileNames: ["**/helm-charts.yaml"], matchPaths: ["stacks/"]}]}"#;
        assert_eq!(homelab(both), Vec::<String>::new());
        // An invalid glob or regex matches nothing (and does not panic).
        let invalid = r#"{packageRules: [{matchFileNames: ["kubernetes/[", "/(/", "//", "!"]}]}"#;
        assert_eq!(homelab(invalid), Vec::<String>::new());
    }

    #[test]
    fn several_files_of_one_environment_make_one_finding() {
        let config = r#"{packageRules: [{matchFileNames: ["**/live/**"], groupName: "all"}]}"#;
        let found = homelab(config);
        assert_eq!(
            found,
            ["error .github/renovate.json5:1:36-1:46 Renovate packageRules[0] (`all`) updates `infrastructure/stacks/live/terragrunt.stack.hcl` and 1 more file of protected environment live directly: `**/live/**` matches it and no rule disables it there"]
        );
    }

    #[test]
    fn config_in_a_subdirectory_is_relative_to_it() {
        let config = r#"{packageRules: [{matchFileNames: ["clusters/*/helm-charts.yaml"]}]}"#;
        let found = findings(&[
            ("lab/.github/renovate.json5", config),
            ("lab/clusters/live/helm-charts.yaml", CHARTS),
            ("clusters/prod/helm-charts.yaml", CHARTS),
        ]);
        let shown = shown(&found);
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(shown[0].contains("`lab/clusters/live/helm-charts.yaml`"));
    }

    const POLICY: &str = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: backend
  namespace: production
spec:
  imageRepositoryRef:
    name: backend
  filterTags:
    pattern: 'PATTERN'
    extract: '$ts'
  policy:
    numerical:
      order: asc
"#;

    const OVERLAY: &str = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
images:
  - name: ghcr.io/acme/backend
    newTag: production-v1.2.3-1712345678 # {"$imagepolicy": "production:backend:tag"}
"#;

    const AUTOMATION: &str = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: apps
  namespace: NAMESPACE
spec:
  sourceRef:
    kind: GitRepository
    name: flux-system
  update:
    path: ./apps
    strategy: Setters
"#;

    fn lab(pattern: &str, namespace: &str) -> Vec<String> {
        let policy = POLICY.replace("PATTERN", pattern);
        let automation = AUTOMATION.replace("NAMESPACE", namespace);
        shown(&findings(&[
            ("apps/backend/production/image-policy.yaml", &policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("apps/backend/staging/kustomization.yaml", "images: []\n"),
            ("clusters/lab/image-update-automation.yaml", &automation),
        ]))
    }

    #[test]
    fn flux_automation_with_a_restricted_policy_is_fine() {
        let good = r"^production-v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?P<ts>[0-9]+)$";
        assert_eq!(lab(good, "production"), Vec::<String>::new());
    }

    #[test]
    fn flux_automation_through_a_broad_policy_is_an_error() {
        let broad = r"^(staging|production)-v(?P<version>.+)-(?P<ts>[0-9]+)$";
        assert_eq!(
            lab(broad, "production"),
            ["error clusters/lab/image-update-automation.yaml:11:11-11:17 Flux ImageUpdateAutomation `production/apps` writes `apps/backend/production/kustomization.yaml` of protected environment production through policy `production:backend`, which is not restricted to production's tags: it admits `staging-v--0`, a tag of staging"]
        );
        let unanchored = r"production-v(?P<version>.+)-(?P<ts>[0-9]+)$";
        let found = lab(unanchored, "production");
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .ends_with("its pattern is not anchored with `^` and admits `xproduction-v--0`"),
            "{found:?}"
        );
        // An automation of another namespace does not apply these markers.
        assert_eq!(lab(broad, "staging"), Vec::<String>::new());
    }

    #[test]
    fn a_policy_too_complex_to_analyse_is_not_restricted() {
        let complex =
            r"^(staging|production)-v(?P<version>[0-9.]+)-(?P<ts>[0-9]+)(-.{0,200}x.{0,200})?$";
        let found = lab(complex, "production");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].ends_with(
                "its pattern is too complex to analyse (its DFA exceeds 1048576 bytes), so it cannot be shown to admit only production's tags"
            ),
            "{found:?}"
        );
    }

    #[test]
    fn flux_automation_with_a_policy_without_pattern_or_outside_its_path() {
        let policy = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImagePolicy
metadata:
  name: backend
  namespace: production
spec:
  imageRepositoryRef:
    name: backend
  policy:
    semver:
      range: '>=1.0.0'
"#;
        let automation = AUTOMATION.replace("NAMESPACE", "production");
        let found = findings(&[
            ("apps/backend/production/image-policy.yaml", policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("clusters/lab/image-update-automation.yaml", &automation),
        ]);
        assert_eq!(found.len(), 1);
        assert!(found[0]
            .message
            .ends_with("it has no filterTags.pattern and admits every tag"));
        assert_eq!(found[0].value, "./apps");
        assert_eq!(found[0].component.as_deref(), Some("production:backend"));
        let related: Vec<(String, u32)> = found[0]
            .related
            .iter()
            .map(|r| (r.path.clone(), r.span.line))
            .collect();
        assert_eq!(
            related,
            [
                ("apps/backend/production/kustomization.yaml".to_string(), 5),
                ("apps/backend/production/image-policy.yaml".to_string(), 2),
            ]
        );

        // The automation writes elsewhere: not this environment's files.
        let elsewhere = automation.replace("./apps", "./clusters/lab/../../other");
        let found = findings(&[
            ("apps/backend/production/image-policy.yaml", policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("clusters/lab/image-update-automation.yaml", &elsewhere),
        ]);
        assert_eq!(shown(&found), Vec::<String>::new());
        // A path leaving the repository writes nothing we can see.
        assert_eq!(update_root(Some("../x")), None);
        assert_eq!(update_root(Some("./")).as_deref(), Some(""));
        assert_eq!(update_root(None).as_deref(), Some(""));
        assert!(under("apps/x.yaml", "apps") && !under("apps2/x.yaml", "apps"));

        // Without `path`, the whole repository: reported at the kind.
        let whole = automation.replace("    path: ./apps\n", "");
        let found = findings(&[
            ("apps/backend/production/image-policy.yaml", policy),
            ("apps/backend/production/kustomization.yaml", OVERLAY),
            ("clusters/lab/image-update-automation.yaml", &whole),
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].span.line, found[0].span.column), (2, 7));
        assert_eq!(found[0].value, "(repository root)");
    }
}
