//! Environments: declared in the config, or inferred from path segments and namespaces.
//!
//! Zero config (DESIGN §4): a path segment or namespace is split into tokens on `-`, `_`
//! and `.`; a token naming a tier makes an environment named after the token
//! (`samakia-prod` → `prod`, `clusters/live` → `live`, `namespace: production` →
//! `production`). `non-` or `pre-` before a tier token joins it into a token of no tier
//! (`non-prod`, `pre-prod`), and `_envcommon/` holds no environment's files.
//! Tiers are ordered dev < staging < prod and prod is protected.

use super::{Config, ConfigError, EnvironmentConfig};
use crate::model::KargoStage;
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The tiers of zero-config inference, in promotion order, with the tokens naming them.
pub const TIERS: &[(&str, &[&str])] = &[
    ("dev", &["dev", "develop", "development"]),
    ("staging", &["staging", "stage", "integration", "qa", "uat"]),
    ("prod", &["prod", "production", "live"]),
];

/// Index of the tier a token names, if any.
pub fn tier_of_token(token: &str) -> Option<usize> {
    let lower = token.to_ascii_lowercase();
    TIERS
        .iter()
        .position(|(_, tokens)| tokens.contains(&lower.as_str()))
}

/// Every token naming any tier (used to recognise environment prefixes in tags).
pub fn all_tier_tokens() -> impl Iterator<Item = &'static str> {
    TIERS.iter().flat_map(|(_, t)| t.iter().copied())
}

fn tokens(segment: &str) -> impl Iterator<Item = &str> {
    segment.split(['-', '_', '.']).filter(|t| !t.is_empty())
}

/// One environment.
#[derive(Clone, Debug)]
pub struct Env {
    pub name: String,
    /// Zero-config tier (0 dev, 1 staging, 2 prod), or the tier its name implies.
    pub tier: Option<usize>,
    pub protected: bool,
    /// Indices of predecessor environments.
    pub after: Vec<usize>,
    pub path_globs: Vec<String>,
    paths: Option<GlobSet>,
    pub namespaces: Vec<String>,
    pub tag_pattern: Option<Regex>,
    /// Tokens that, as a tag prefix (`staging-…`), mean this environment.
    pub aliases: Vec<String>,
}

/// The environments of a run and how files map to them.
#[derive(Clone, Debug, Default)]
pub struct Environments {
    pub envs: Vec<Env>,
    /// True when inferred (no `environments:` in the config).
    pub inferred: bool,
    /// Files whose environments entry points decide (path → environments), set by the
    /// snapshot that found them: the history records their past pins there too.
    pub by_entry: std::sync::Arc<HashMap<String, Vec<usize>>>,
}

impl Environments {
    /// Environments declared by a validated config.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let err = |i: usize, field: &str, message: String| ConfigError {
            file: config
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| super::FILE_NAME.to_string()),
            line: None,
            column: None,
            field: format!("environments[{i}].{field}"),
            message,
            help: None,
        };
        let names: BTreeMap<&str, usize> = config
            .environments
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_str(), i))
            .collect();
        let mut envs = Vec::new();
        for (i, e) in config.environments.iter().enumerate() {
            let EnvironmentConfig {
                name,
                paths,
                namespaces,
                tag_pattern,
                protected,
                after,
            } = e;
            let mut builder = GlobSetBuilder::new();
            for p in paths {
                let glob = Glob::new(p).map_err(|e| err(i, "paths", e.to_string()))?;
                builder.add(glob);
            }
            let set = builder
                .build()
                .map_err(|e| err(i, "paths", e.to_string()))?;
            let tag_pattern = match tag_pattern {
                Some(p) => Some(Regex::new(p).map_err(|e| err(i, "tag_pattern", e.to_string()))?),
                None => None,
            };
            let mut after_idx = Vec::new();
            for a in after {
                match names.get(a.as_str()) {
                    Some(&j) => after_idx.push(j),
                    None => return Err(err(i, "after", format!("unknown environment `{a}`"))),
                }
            }
            let tier = tokens(name).find_map(tier_of_token);
            let mut aliases = vec![name.to_ascii_lowercase()];
            if let Some(t) = tier {
                aliases.extend(TIERS[t].1.iter().map(|s| s.to_string()));
            }
            aliases.sort();
            aliases.dedup();
            envs.push(Env {
                name: name.clone(),
                tier,
                protected: *protected,
                after: after_idx,
                path_globs: paths.clone(),
                paths: Some(set),
                namespaces: namespaces.clone(),
                tag_pattern,
                aliases,
            });
        }
        Ok(Environments {
            envs,
            inferred: false,
            by_entry: Default::default(),
        })
    }

    /// Infer environments from the paths of a tree and the namespaces its files declare.
    pub fn infer<'a>(
        paths: impl IntoIterator<Item = &'a str>,
        namespaces: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut found: BTreeMap<String, usize> = BTreeMap::new();
        // Only deployable content names an environment: a manifest, HCL or env file. A
        // runbook (`docs/local-dev.md`) or a script (`ops/policy-go-live.sh`) does not.
        let deployable = paths
            .into_iter()
            .filter(|p| crate::extract::format_of(p).is_some());
        for path in deployable {
            if let Some((name, tier)) = infer_from_path(path) {
                found.entry(name).or_insert(tier);
            }
        }
        for ns in namespaces {
            if let Some((name, tier)) = token_env(ns) {
                found.entry(name).or_insert(tier);
            }
        }
        let mut list: Vec<(String, usize)> = found.into_iter().collect();
        list.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let mut envs: Vec<Env> = Vec::new();
        for (name, tier) in &list {
            // Predecessors: every environment of the nearest lower tier that exists.
            let prev_tier = list.iter().map(|(_, t)| *t).filter(|t| t < tier).max();
            let after = match prev_tier {
                Some(pt) => list
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, t))| *t == pt)
                    .map(|(j, _)| j)
                    .collect(),
                None => Vec::new(),
            };
            envs.push(Env {
                name: name.clone(),
                tier: Some(*tier),
                protected: *tier == 2,
                after,
                path_globs: Vec::new(),
                paths: None,
                namespaces: vec![name.clone()],
                tag_pattern: None,
                aliases: TIERS[*tier].1.iter().map(|s| s.to_string()).collect(),
            });
        }
        Environments {
            envs,
            inferred: true,
            by_entry: Default::default(),
        }
    }

    /// The environment a Kargo stage name means: the environment of that name, else the
    /// one its tier token names (`staging-eu` → `staging`), else the only environment of
    /// that tier (`production` → `prod`).
    pub fn env_of_stage(&self, stage: &str) -> Option<usize> {
        if let Some(i) = self
            .envs
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(stage))
        {
            return Some(i);
        }
        let (token, tier) = token_env(stage)?;
        if let Some(i) = self.index_of(&token) {
            return Some(i);
        }
        let mut same = self
            .envs
            .iter()
            .enumerate()
            .filter(|(_, e)| e.tier == Some(tier));
        match (same.next(), same.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// Use a promotion graph declared by Kargo Stages as the predecessors of inferred
    /// environments: an environment a stage maps to gets, instead of the tier order's
    /// guess, the environments its upstream stages map to (none for a stage fed only
    /// `direct`ly from a Warehouse). Stages that map to no environment, or whose upstream
    /// stages all map to none, change nothing; a declared environment (config) is never
    /// changed, and a graph that would make a cycle is ignored.
    pub fn apply_stage_graph(&mut self, stages: &[&KargoStage]) {
        if !self.inferred {
            return;
        }
        let mut declared: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        for stage in stages {
            let Some(env) = self.env_of_stage(&stage.name) else {
                continue;
            };
            let upstream: BTreeSet<usize> = stage
                .upstream
                .iter()
                .filter_map(|(u, _)| self.env_of_stage(u))
                .filter(|&u| u != env)
                .collect();
            if upstream.is_empty() && !stage.direct {
                continue;
            }
            declared.entry(env).or_default().extend(upstream);
        }
        if declared.is_empty() {
            return;
        }
        let mut after: Vec<Vec<usize>> = self.envs.iter().map(|e| e.after.clone()).collect();
        for (env, preds) in declared {
            after[env] = preds.into_iter().collect();
        }
        if has_cycle(&after) {
            return;
        }
        for (env, preds) in self.envs.iter_mut().zip(after) {
            env.after = preds;
        }
    }

    pub fn get(&self, i: usize) -> &Env {
        &self.envs[i]
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.envs.iter().position(|e| e.name == name)
    }

    /// The environments a file's pins are recorded in by the history: those of the entry
    /// points reaching it (as the tree the environments came from has them), else its path's
    /// or namespace's.
    pub fn for_history(&self, path: &str, namespace: Option<&str>) -> Vec<usize> {
        if let Some(envs) = self.by_entry.get(path) {
            return envs.clone();
        }
        self.for_path(path)
            .or_else(|| namespace.and_then(|ns| self.for_namespace(ns)))
            .into_iter()
            .collect()
    }

    /// The environment a file belongs to by its path.
    pub fn for_path(&self, path: &str) -> Option<usize> {
        if self.inferred {
            let (name, _) = infer_from_path(path)?;
            self.index_of(&name)
        } else {
            self.envs
                .iter()
                .position(|e| e.paths.as_ref().is_some_and(|g| g.is_match(path)))
        }
    }

    /// [`Self::for_path`] of many paths; inferred environments are worked out once per
    /// directory (a tree has far fewer directories than files).
    pub fn for_paths<'a>(&self, paths: impl Iterator<Item = &'a str>) -> Vec<Option<usize>> {
        if !self.inferred {
            return paths.map(|p| self.for_path(p)).collect();
        }
        let mut by_dir: HashMap<&str, Option<Option<usize>>> = HashMap::new();
        paths
            .map(|path| {
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                let decided = *by_dir.entry(dir).or_insert_with(|| {
                    dir_verdict(dir).map(|v| v.and_then(|(name, _)| self.index_of(&name)))
                });
                decided.unwrap_or_else(|| self.for_path(path))
            })
            .collect()
    }

    /// The environment a Kubernetes namespace belongs to.
    pub fn for_namespace(&self, namespace: &str) -> Option<usize> {
        if let Some(i) = self
            .envs
            .iter()
            .position(|e| e.namespaces.iter().any(|n| n == namespace))
        {
            return Some(i);
        }
        if self.inferred {
            let (name, _) = token_env(namespace)?;
            return self.index_of(&name);
        }
        None
    }

    /// The environment whose prefix a tag carries (`staging-v1.2.3` → staging), if any.
    /// Returns `None` when the prefix names no environment of this run but is a tier
    /// token; see [`tag_env_token`] for the raw token.
    pub fn env_of_tag_prefix(&self, tag: &str) -> Option<usize> {
        let token = tag_env_token(tag)?;
        self.envs
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(token))
            .or_else(|| {
                self.envs
                    .iter()
                    .position(|e| e.aliases.iter().any(|a| a == &token.to_ascii_lowercase()))
            })
    }

    /// Environments in promotion order (a topological order of `after`, ties by name).
    pub fn promotion_order(&self) -> Vec<usize> {
        let n = self.envs.len();
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let mut ready: Vec<usize> = (0..n)
                .filter(|&i| !done[i] && self.envs[i].after.iter().all(|&a| done[a]))
                .collect();
            if ready.is_empty() {
                // A cycle (rejected by config validation); keep the rest in file order.
                ready = (0..n).filter(|&i| !done[i]).collect();
            }
            ready.sort_by(|&a, &b| {
                self.envs[a]
                    .tier
                    .cmp(&self.envs[b].tier)
                    .then_with(|| a.cmp(&b))
            });
            let next = ready[0];
            done[next] = true;
            order.push(next);
        }
        order
    }
}

/// Whether predecessor lists (`after[i]`: the predecessors of `i`) make a cycle.
fn has_cycle(after: &[Vec<usize>]) -> bool {
    let n = after.len();
    let mut pending: Vec<usize> = after.iter().map(Vec::len).collect();
    let mut done = vec![false; n];
    let mut progress = true;
    while progress {
        progress = false;
        for i in 0..n {
            if !done[i] && pending[i] == 0 {
                done[i] = true;
                progress = true;
                for (j, preds) in after.iter().enumerate() {
                    pending[j] -= preds.iter().filter(|&&p| p == i).count();
                }
            }
        }
    }
    done.iter().any(|d| !d)
}

/// The token at the start of a tag that names a tier: `staging-v1.2.3` → `staging`.
pub fn tag_env_token(tag: &str) -> Option<&str> {
    let end = tag.find(['-', '_', '.'])?;
    let token = &tag[..end];
    tier_of_token(token).map(|_| token)
}

/// Words that negate or precede the tier token after them: `non-prod` and `pre-prod` are
/// not production (they are what runs before it).
const NOT_PREFIXES: &[&str] = &["non", "pre"];

/// A segment's tokens with `non-`/`pre-` joined to the tier token they qualify, so that
/// `non-prod` is one token (`non-prod`) naming no tier rather than `non` and `prod`.
/// (`nonprod` and `preprod` are single tokens already and name no tier.)
fn env_tokens(segment: &str) -> Vec<String> {
    let parts: Vec<&str> = tokens(segment).collect();
    let mut out = Vec::with_capacity(parts.len());
    let mut i = 0;
    while i < parts.len() {
        let token = parts[i];
        let negated = NOT_PREFIXES.contains(&token.to_ascii_lowercase().as_str());
        match parts.get(i + 1) {
            Some(next) if negated && tier_of_token(next).is_some() => {
                out.push(format!("{token}-{next}"));
                i += 2;
            }
            _ => {
                out.push(token.to_string());
                i += 1;
            }
        }
    }
    out
}

/// Words that qualify an environment rather than name an application (`prod-eu-west-1`).
const QUALIFIERS: &[&str] = &["east", "west", "north", "south", "central", "blue", "green"];

/// The environment a path segment or namespace names: the whole segment (`production`),
/// its last token (`samakia-prod`), or its first token when the rest only qualifies it
/// (`prod-eu-1`). `live-chat` and `dev-tools` name applications, not environments.
fn token_env(segment: &str) -> Option<(String, usize)> {
    let parts = env_tokens(segment);
    let named = |t: &str| tier_of_token(t).map(|tier| (t.to_ascii_lowercase(), tier));
    let (first, last) = (parts.first()?, parts.last()?);
    if let Some(found) = named(last.as_str()) {
        return Some(found);
    }
    let qualifier = |t: &String| {
        t.len() <= 3
            || t.bytes().all(|b| b.is_ascii_digit())
            || QUALIFIERS.contains(&t.to_ascii_lowercase().as_str())
    };
    if parts[1..].iter().all(qualifier) {
        return named(first.as_str());
    }
    None
}

/// The environment a path implies: the deepest directory segment naming a tier, else the
/// file name's tokens (`values-production.yaml`).
pub fn infer_from_path(path: &str) -> Option<(String, usize)> {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    dir_verdict(dir).unwrap_or_else(|| {
        let stem = file.split('.').next().unwrap_or(file);
        token_env(stem)
    })
}

/// What a file's directory says about its environment: `Some(answer)` when the directory
/// decides (a tier token in a segment, or a hidden directory: none), `None` when the file
/// name's stem must.
fn dir_verdict(dir: &str) -> Option<Option<(String, usize)>> {
    if dir.is_empty() {
        return None;
    }
    // Hidden directories hold tooling (`.github/workflows/promote-to-live.yaml`), not an
    // environment's manifests.
    if dir.split('/').any(|s| s.starts_with('.')) {
        return Some(None);
    }
    if crate::extract::hcl::is_shared_dir(dir) {
        return Some(None);
    }
    dir.rsplit('/').find_map(token_env).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_deployable_content_names_an_environment() {
        let envs = Environments::infer(
            [
                "docs/local-dev.md",
                "ops/policy/policy-go-live.sh",
                "scripts/deploy-qa.sh",
                "clusters/staging/app.yaml",
                "clusters/prod/app.yaml",
            ],
            [],
        );
        let names: Vec<&str> = envs.envs.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["staging", "prod"]);
        assert!(envs.envs[0].after.is_empty(), "staging follows nothing");
    }

    #[test]
    fn paths_by_directory_agree_with_each_path_alone() {
        let paths = [
            "apps/backend/overlays/production/kustomization.yaml",
            "apps/backend/overlays/production/prod.yaml",
            "apps/backend/base/deployment.yaml",
            "apps/backend/base/values-staging.yaml",
            "apps/backend/base/prod.yaml",
            "clusters/dev/.versions.env",
            ".github/workflows/promote-to-live.yaml",
            ".github/prod/x.yaml",
            "staging.yaml",
            "prod-values.yaml",
            "README.md",
            "envs/samakia-prod/main.tf",
            "envs/qa/nested/deeper/file.yaml",
            "infrastructure/live/uat/env.hcl",
        ];
        let envs = Environments::infer(paths.iter().copied(), ["team-dev"]);
        let one_by_one: Vec<Option<usize>> = paths.iter().map(|p| envs.for_path(p)).collect();
        assert_eq!(envs.for_paths(paths.iter().copied()), one_by_one);
        assert!(one_by_one.iter().filter(|e| e.is_some()).count() >= 8);
        assert_eq!(one_by_one[5], envs.index_of("dev"));
        assert_eq!(one_by_one[6], None);
    }

    /// `non-prod` and `pre-prod` run before production: neither is prod, whether the tier
    /// token is joined (`nonprod`, `preprod`) or separated (`non-prod`, `pre_prod`).
    #[test]
    fn non_prod_and_pre_prod_are_not_prod() {
        for segment in [
            "non-prod",
            "nonprod",
            "pre-prod",
            "preprod",
            "Non-Prod",
            "pre_prod",
            "non.prod",
            "non-production",
        ] {
            assert_eq!(token_env(segment), None, "{segment}");
        }
        assert_eq!(
            infer_from_path("non-prod/us-east-1/qa/mysql/terragrunt.hcl"),
            Some(("qa".into(), 1))
        );
        assert_eq!(
            infer_from_path("non-prod/us-east-1/stage/mysql/terragrunt.hcl"),
            Some(("stage".into(), 1))
        );
        assert_eq!(infer_from_path("non-prod/account.hcl"), None);
        assert_eq!(infer_from_path("non-prod/us-east-1/region.hcl"), None);
        assert_eq!(infer_from_path("pre-prod/app.yaml"), None);
        assert_eq!(
            infer_from_path("prod/us-east-1/prod/mysql/terragrunt.hcl"),
            Some(("prod".into(), 2))
        );
        // The joined token names no tier; the words around it still can.
        assert_eq!(token_env("non-prod-dev"), Some(("dev".into(), 0)));
        assert_eq!(token_env("prod-non"), Some(("prod".into(), 2)));
        assert_eq!(token_env("samakia-prod"), Some(("prod".into(), 2)));
        assert_eq!(token_env("pre"), None);
    }

    /// Shared Terragrunt configuration names no environment by its path.
    #[test]
    fn shared_directories_name_no_environment() {
        assert_eq!(infer_from_path("_envcommon/mysql.hcl"), None);
        assert_eq!(infer_from_path("_envcommon/prod.hcl"), None);
        assert_eq!(infer_from_path("prod/_envcommon/mysql.hcl"), None);
        assert_eq!(infer_from_path("common/prod/versions.hcl"), None);
        // Deeper down, `common` is part of the environment above it.
        assert_eq!(
            infer_from_path("clusters/prod/common/app.yaml"),
            Some(("prod".into(), 2))
        );
        let envs = Environments::infer(
            [
                "_envcommon/prod.hcl",
                "non-prod/us-east-1/qa/mysql/terragrunt.hcl",
                "prod/us-east-1/prod/mysql/terragrunt.hcl",
            ],
            std::iter::empty(),
        );
        let names: Vec<&str> = envs.envs.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["qa", "prod"]);
    }

    #[test]
    fn infers_from_common_repository_layouts() {
        assert_eq!(
            infer_from_path("fabric-core/terraform/envs/samakia-prod/main.tf"),
            Some(("prod".into(), 2))
        );
        assert_eq!(
            infer_from_path("kubernetes/clusters/live/helm-charts.yaml"),
            Some(("live".into(), 2))
        );
        assert_eq!(
            infer_from_path("apps/backend/overlays/production/kustomization.yaml"),
            Some(("production".into(), 2))
        );
        assert_eq!(
            infer_from_path("infrastructure/stacks/integration/terragrunt.stack.hcl"),
            Some(("integration".into(), 1))
        );
        assert_eq!(
            infer_from_path("flux/apps/backend/develop/image-policy.yaml"),
            Some(("develop".into(), 0))
        );
        assert_eq!(
            infer_from_path("kubernetes/platform/helm-charts.yaml"),
            None
        );
        assert_eq!(infer_from_path("apps/backend/base/deployment.yaml"), None);
        // A segment that merely contains a tier word is not one.
        assert_eq!(infer_from_path("docs/devops/liveness.yaml"), None);
        // Applications named after a tier word are not environments; qualified ones are.
        assert_eq!(infer_from_path("apps/live-chat/base/deployment.yaml"), None);
        assert_eq!(infer_from_path("tools/dev-tools/x.yaml"), None);
        assert_eq!(infer_from_path("docs/live-demo/example.yaml"), None);
        assert_eq!(
            infer_from_path("clusters/prod-eu-west-1/app.yaml"),
            Some(("prod".into(), 2))
        );
        assert_eq!(
            infer_from_path("apps/live-chat/overlays/staging/kustomization.yaml"),
            Some(("staging".into(), 1))
        );
    }

    #[test]
    fn orders_tiers_and_protects_prod() {
        let envs = Environments::infer(
            [
                "kubernetes/clusters/live/a.yaml",
                "kubernetes/clusters/dev/a.yaml",
                "kubernetes/clusters/integration/a.yaml",
            ],
            ["production"],
        );
        let names: Vec<&str> = envs
            .promotion_order()
            .into_iter()
            .map(|i| envs.get(i).name.as_str())
            .collect();
        assert_eq!(names, ["dev", "integration", "live", "production"]);
        let live = envs.index_of("live").unwrap();
        assert!(envs.get(live).protected);
        let integration = envs.index_of("integration").unwrap();
        assert_eq!(envs.get(live).after, vec![integration]);
        assert_eq!(
            envs.for_namespace("production"),
            envs.index_of("production")
        );
        assert_eq!(envs.for_namespace("flux-system"), None);
        assert_eq!(
            envs.env_of_tag_prefix("integration-abc1234"),
            Some(integration)
        );
        assert_eq!(envs.env_of_tag_prefix("v1.2.3"), None);
    }

    fn stage(name: &str, upstream: &[&str], direct: bool) -> KargoStage {
        KargoStage {
            project: Some("p".into()),
            name: name.into(),
            span: Default::default(),
            upstream: upstream
                .iter()
                .map(|u| (u.to_string(), Default::default()))
                .collect(),
            direct,
        }
    }

    fn after(envs: &Environments, name: &str) -> Vec<String> {
        let i = envs.index_of(name).unwrap();
        envs.get(i)
            .after
            .iter()
            .map(|&a| envs.get(a).name.clone())
            .collect()
    }

    fn order(envs: &Environments) -> Vec<String> {
        envs.promotion_order()
            .into_iter()
            .map(|i| envs.get(i).name.clone())
            .collect()
    }

    /// Two staging-tier environments: the tiers put both after dev; Kargo chains them.
    #[test]
    fn kargo_chain_replaces_the_tier_order() {
        let mut envs = Environments::infer(
            [
                "envs/dev/a.yaml",
                "envs/integration/a.yaml",
                "envs/staging/a.yaml",
                "envs/prod/a.yaml",
            ],
            [],
        );
        assert_eq!(after(&envs, "staging"), ["dev"]);
        assert_eq!(after(&envs, "prod"), ["integration", "staging"]);
        let stages = [
            stage("prod", &["staging"], false),
            stage("staging", &["integration"], false),
            stage("integration", &["dev"], false),
            stage("dev", &[], true),
        ];
        envs.apply_stage_graph(&stages.iter().collect::<Vec<_>>());
        assert_eq!(after(&envs, "dev"), Vec::<String>::new());
        assert_eq!(after(&envs, "integration"), ["dev"]);
        assert_eq!(after(&envs, "staging"), ["integration"]);
        assert_eq!(after(&envs, "prod"), ["staging"]);
        assert_eq!(order(&envs), ["dev", "integration", "staging", "prod"]);
        // Protection still comes from the tier.
        assert!(envs.get(envs.index_of("prod").unwrap()).protected);
    }

    /// DESIGN's DAG: dev → staging-eu, staging-us → prod. Regional stages mean the
    /// staging environment; qa, which Kargo does not gate prod on, is no longer before prod.
    #[test]
    fn kargo_dag_with_regional_stages() {
        let mut envs = Environments::infer(
            [
                "clusters/dev/a.yaml",
                "clusters/qa/a.yaml",
                "clusters/staging-eu/a.yaml",
                "clusters/staging-us/a.yaml",
                "clusters/production/a.yaml",
            ],
            [],
        );
        let staging = envs.index_of("staging");
        assert!(staging.is_some());
        assert_eq!(envs.env_of_stage("staging-eu"), staging);
        assert_eq!(envs.env_of_stage("STAGING"), staging);
        // `prod` names the only prod-tier environment, `production`.
        assert_eq!(envs.env_of_stage("prod"), envs.index_of("production"));
        // Two staging-tier environments: `uat` could be either.
        assert_eq!(envs.env_of_stage("uat"), None);
        assert_eq!(envs.env_of_stage("canary"), None);
        assert_eq!(after(&envs, "production"), ["qa", "staging"]);
        let stages = [
            stage("dev", &[], true),
            stage("staging-eu", &["dev"], false),
            stage("staging-us", &["dev"], false),
            stage("prod", &["staging-eu", "staging-us"], false),
        ];
        envs.apply_stage_graph(&stages.iter().collect::<Vec<_>>());
        assert_eq!(after(&envs, "staging"), ["dev"]);
        assert_eq!(after(&envs, "production"), ["staging"]);
        // Not named by a stage: the tier order's guess stays.
        assert_eq!(after(&envs, "qa"), ["dev"]);
    }

    /// A DAG of distinct environments that the tiers order differently: qa is a side
    /// branch, prod takes freight from uat only.
    #[test]
    fn kargo_dag_of_distinct_environments() {
        let mut envs = Environments::infer(
            [
                "envs/dev/a.yaml",
                "envs/qa/a.yaml",
                "envs/uat/a.yaml",
                "envs/prod/a.yaml",
            ],
            [],
        );
        let stages = [
            stage("qa", &["dev"], false),
            stage("uat", &["dev"], false),
            stage("prod", &["uat"], false),
        ];
        envs.apply_stage_graph(&stages.iter().collect::<Vec<_>>());
        assert_eq!(after(&envs, "qa"), ["dev"]);
        assert_eq!(after(&envs, "uat"), ["dev"]);
        assert_eq!(after(&envs, "prod"), ["uat"]);
    }

    #[test]
    fn kargo_graph_that_cannot_apply_changes_nothing() {
        let paths = ["envs/dev/a.yaml", "envs/staging/a.yaml", "envs/prod/a.yaml"];
        let guess = |envs: &Environments| {
            ["dev", "staging", "prod"]
                .iter()
                .map(|n| after(envs, n))
                .collect::<Vec<_>>()
        };
        let tiers = guess(&Environments::infer(paths, []));
        // A cycle between environments.
        let mut envs = Environments::infer(paths, []);
        let cycle = [
            stage("staging", &["prod"], false),
            stage("prod", &["staging"], false),
        ];
        envs.apply_stage_graph(&cycle.iter().collect::<Vec<_>>());
        assert_eq!(guess(&envs), tiers);
        // Upstream stages that are no environment, a stage that is none, a self edge.
        let mut envs = Environments::infer(paths, []);
        let unknown = [
            stage("prod", &["canary"], false),
            stage("canary", &["staging"], false),
            stage("staging-us", &["staging-eu"], false),
        ];
        envs.apply_stage_graph(&unknown.iter().collect::<Vec<_>>());
        assert_eq!(guess(&envs), tiers);
        // Declared environments are the config's: never changed.
        let config = Config {
            environments: vec![
                EnvironmentConfig {
                    name: "dev".into(),
                    ..Default::default()
                },
                EnvironmentConfig {
                    name: "prod".into(),
                    after: vec!["dev".into()],
                    ..Default::default()
                },
            ],
            ..Config::default()
        };
        let mut envs = Environments::from_config(&config).unwrap();
        envs.apply_stage_graph(&[&stage("prod", &[], true)]);
        assert_eq!(after(&envs, "prod"), ["dev"]);
    }
}
