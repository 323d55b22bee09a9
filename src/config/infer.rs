//! Environments: declared in the config, or inferred from path segments and namespaces.
//!
//! Zero config (DESIGN §4): a path segment or namespace is split into tokens on `-`, `_`
//! and `.`; a token naming a tier makes an environment of that tier. A project prefix is
//! dropped (`kestrel-prod` → `prod`), a region or cell is kept (`prod-eu`, `prod-eu-west-1`,
//! `integration-gpu`): regions of one tier are that tier's members, and a version must have
//! reached the tier before, in any member. `non-` before a tier token joins it into a token
//! of no tier (`non-prod`); `pre-prod`/`preprod` is a tier before prod, like staging.
//! `_envcommon/` holds no environment's files. Only prod is protected.

use super::types::{Config, ConfigError, EnvironmentConfig};
use crate::model::tiers::{is_side_tier, tokens};
pub use crate::model::tiers::{tag_env_token, tier_of_token, PROD_TIER, TIERS};
use crate::model::KargoStage;
use crate::version::Versions;
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One environment.
#[derive(Clone, Debug)]
pub struct Env {
    pub name: String,
    /// Zero-config tier (an index of [`TIERS`]), or the tier its name implies.
    pub tier: Option<usize>,
    /// The tier this environment is a member of, by name (zero config: the [`TIERS`] name;
    /// a config: `tier:`). Members of one tier are not each other's predecessors.
    pub group: Option<String>,
    pub protected: bool,
    /// Indices of predecessor environments: every member of every [`Env::after_groups`].
    pub after: Vec<usize>,
    /// The predecessors as promotion reads them: a version must have run in at least one
    /// environment of each group. A plain predecessor is a group of one; a tier with several
    /// members (`staging-eu`, `staging-asia`) is one group.
    pub after_groups: Vec<Vec<usize>>,
    pub path_globs: Vec<String>,
    paths: Option<GlobSet>,
    pub namespaces: Vec<String>,
    pub tag_pattern: Option<Regex>,
    /// Tokens that, as a tag prefix (`staging-…`), mean this environment.
    pub aliases: Vec<String>,
}

impl Env {
    /// Set the predecessor groups (and the flat list that follows from them).
    fn set_after(&mut self, groups: Vec<Vec<usize>>) {
        let mut flat: Vec<usize> = groups.iter().flatten().copied().collect();
        flat.sort_unstable();
        flat.dedup();
        self.after = flat;
        self.after_groups = groups;
    }
}

/// The environments of a run and how files map to them.
#[derive(Clone, Debug, Default)]
pub struct Environments {
    pub envs: Vec<Env>,
    /// True when inferred (no `environments:` in the config).
    pub inferred: bool,
    /// `components[].version_pattern`s (see [`crate::version::Versions`]).
    pub versions: crate::version::Versions,
    /// Files whose environments entry points decide (path → environments), set by the
    /// snapshot that found them: the history records their past pins there too.
    pub by_entry: std::sync::Arc<HashMap<String, Vec<usize>>>,
    /// Env-file values that Flux substitutes into pins, set by the snapshot that found
    /// them: (file, variable) → the components they become. The history records a past
    /// `versions.env` value as a version of those components too.
    pub substituted: std::sync::Arc<HashMap<(String, String), Vec<String>>>,
}

impl Environments {
    /// Whether two sets of environments resolve a tree alike: the same environments, in
    /// the same order, with the same members, order and settings. History reuses one
    /// commit's snapshot as its child's base only then. (`by_entry` and `substituted` are
    /// what a snapshot found, not inputs; `versions` comes from the run's configuration.)
    pub(crate) fn same_as(&self, other: &Environments) -> bool {
        self.inferred == other.inferred
            && self.envs.len() == other.envs.len()
            && self.envs.iter().zip(&other.envs).all(|(a, b)| {
                a.name == b.name
                    && a.tier == b.tier
                    && a.group == b.group
                    && a.protected == b.protected
                    && a.after_groups == b.after_groups
                    && a.path_globs == b.path_globs
                    && a.namespaces == b.namespaces
                    && a.aliases == b.aliases
                    && a.tag_pattern.as_ref().map(Regex::as_str)
                        == b.tag_pattern.as_ref().map(Regex::as_str)
            })
    }

    /// Environments declared by a validated config.
    pub(crate) fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let err = |i: usize, field: &str, message: String| ConfigError {
            file: config
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| super::types::FILE_NAME.to_string()),
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
        let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, e) in config.environments.iter().enumerate() {
            if let Some(t) = &e.tier {
                members.entry(t.as_str()).or_default().push(i);
            }
        }
        let mut envs = Vec::new();
        for (i, e) in config.environments.iter().enumerate() {
            let EnvironmentConfig {
                name,
                paths,
                namespaces,
                tag_pattern,
                protected,
                after,
                tier: group,
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
            // A tier's name in `after` means any of its members (other than this one).
            let mut groups = Vec::new();
            for a in after {
                if let Some(m) = members.get(a.as_str()) {
                    let others: Vec<usize> = m.iter().copied().filter(|&j| j != i).collect();
                    if !others.is_empty() {
                        groups.push(others);
                    }
                    continue;
                }
                match names.get(a.as_str()) {
                    Some(&j) => groups.push(vec![j]),
                    None => return Err(err(i, "after", format!("unknown environment `{a}`"))),
                }
            }
            let tier = group
                .as_deref()
                .and_then(tier_of_token)
                .or_else(|| token_env(name).map(|(_, t)| t))
                .or_else(|| tokens(name).find_map(tier_of_token));
            let mut aliases = vec![name.to_ascii_lowercase()];
            if let Some(t) = tier {
                aliases.extend(TIERS[t].1.iter().map(|s| s.to_string()));
            }
            if let Some(g) = group {
                aliases.extend(
                    members[g.as_str()]
                        .iter()
                        .map(|&j| config.environments[j].name.to_ascii_lowercase()),
                );
            }
            aliases.sort();
            aliases.dedup();
            let mut env = Env {
                name: name.clone(),
                tier,
                group: group.clone(),
                protected: *protected,
                after: Vec::new(),
                after_groups: Vec::new(),
                path_globs: paths.clone(),
                paths: Some(set),
                namespaces: namespaces.clone(),
                tag_pattern,
                aliases,
            };
            env.set_after(groups);
            envs.push(env);
        }
        Ok(Environments {
            envs,
            inferred: false,
            versions: crate::version::Versions::from_config(config),
            by_entry: Default::default(),
            substituted: Default::default(),
        })
    }

    /// Infer environments from the paths of a tree and the namespaces its files declare
    /// (a shortcut for the tests; runs build them with `pipeline::environments`).
    #[cfg(test)]
    pub(crate) fn infer<'a>(
        paths: impl IntoIterator<Item = &'a str>,
        namespaces: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self::infer_except(paths, namespaces, &BTreeSet::new())
    }

    /// [`Self::infer`], where files under the directories of `included` (Kustomize bases and
    /// components that environments include: `variants/prod`) name no environment of their own:
    /// they count where the environments including them are.
    pub(crate) fn infer_except<'a>(
        paths: impl IntoIterator<Item = &'a str>,
        namespaces: impl IntoIterator<Item = &'a str>,
        included: &BTreeSet<String>,
    ) -> Self {
        let mut found: BTreeMap<String, usize> = BTreeMap::new();
        // Only deployable content names an environment: a manifest, HCL or env file. A
        // runbook (`docs/local-dev.md`) or a script (`ops/policy-go-live.sh`) does not.
        let deployable = paths
            .into_iter()
            .filter(|p| crate::extract::format_of(p).is_some())
            .filter(|p| !included.contains(p.rsplit_once('/').map_or("", |(d, _)| d)));
        // A tree lists a directory's files together: its verdict is asked once per run of
        // them (the answer is `infer_from_path`'s for each).
        let mut dir_seen: Option<(&str, DirVerdict)> = None;
        for path in deployable {
            let (dir, file) = dir_and_file(path);
            let verdict = match &dir_seen {
                Some((seen, verdict)) if *seen == dir => verdict,
                _ => {
                    let verdict = dir_verdict(dir);
                    if let Some(Some((name, tier))) = &verdict {
                        if !found.contains_key(name) {
                            found.insert(name.clone(), *tier);
                        }
                    }
                    &dir_seen.insert((dir, verdict)).1
                }
            };
            if verdict.is_none() {
                if let Some((name, tier)) = file_env(file) {
                    found.entry(name).or_insert(tier);
                }
            }
        }
        // A namespace names an environment of a tier no path names: `namespace: prod` in
        // `envs/prod-eu` is the tier prod-eu is a member of, not one more environment.
        // Namespaces are a weaker signal than directories: `test`, `canary`, `preview` and
        // `sandbox` are what demos and rollouts name theirs.
        let path_tiers: BTreeSet<usize> = found.values().copied().collect();
        for ns in namespaces {
            if let Some((name, tier)) = token_env(ns) {
                let weak = strategy_word(tier) || env_tokens(ns).iter().any(|t| t == "test");
                if !path_tiers.contains(&tier) && !weak {
                    found.entry(name).or_insert(tier);
                }
            }
        }
        let mut list: Vec<(String, usize)> = found.into_iter().collect();
        list.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let mut envs: Vec<Env> = Vec::new();
        for (name, tier) in &list {
            // Predecessors: the members of the nearest lower tier that exists, as one group
            // (any member will do). Side tiers (sandbox, preview) neither wait nor gate.
            let prev_tier = list
                .iter()
                .map(|(_, t)| *t)
                .filter(|&t| t < *tier && !is_side_tier(t))
                .max()
                .filter(|_| !is_side_tier(*tier));
            let groups = match prev_tier {
                Some(pt) => vec![list
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, t))| *t == pt)
                    .map(|(j, _)| j)
                    .collect()],
                None => Vec::new(),
            };
            let mut aliases: Vec<String> = TIERS[*tier].1.iter().map(|s| s.to_string()).collect();
            aliases.extend(
                list.iter()
                    .filter(|(_, t)| t == tier)
                    .map(|(n, _)| n.clone()),
            );
            aliases.sort();
            aliases.dedup();
            let mut env = Env {
                name: name.clone(),
                tier: Some(*tier),
                group: Some(TIERS[*tier].0.to_string()),
                protected: *tier == PROD_TIER,
                after: Vec::new(),
                after_groups: Vec::new(),
                path_globs: Vec::new(),
                paths: None,
                namespaces: vec![name.clone()],
                tag_pattern: None,
                aliases,
            };
            env.set_after(groups);
            envs.push(env);
        }
        Environments {
            envs,
            inferred: true,
            versions: Default::default(),
            by_entry: Default::default(),
            substituted: Default::default(),
        }
    }

    /// The environment a Kargo stage name means: the environment of that name, else the
    /// one inference would name it (`acme-staging` → `staging`), else the only environment
    /// of its tier (`production` → `prod`).
    pub(crate) fn env_of_stage(&self, stage: &str) -> Option<usize> {
        if let Some(i) = self
            .envs
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(stage))
        {
            return Some(i);
        }
        let (token, tier) = token_env(stage)?;
        self.index_of(&token).or_else(|| self.only_member(tier))
    }

    /// Use a promotion graph declared by Kargo Stages as the predecessors of inferred
    /// environments: an environment a stage maps to gets, instead of the tier order's
    /// guess, the environments its upstream stages map to (none for a stage fed only
    /// `direct`ly from a Warehouse). Stages that map to no environment, or whose upstream
    /// stages all map to none, change nothing; a declared environment (config) is never
    /// changed, and a graph that would make a cycle is ignored.
    pub(crate) fn apply_stage_graph(&mut self, stages: &[&KargoStage]) {
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
        for (&env, preds) in &declared {
            after[env] = preds.iter().copied().collect();
        }
        if has_cycle(&after) {
            return;
        }
        // A declared upstream stage is a predecessor of its own: each must have run it.
        for (env, preds) in declared {
            self.envs[env].set_after(preds.into_iter().map(|p| vec![p]).collect());
        }
    }

    /// The one environment of zero-config tier `tier`, if it has exactly one.
    fn only_member(&self, tier: usize) -> Option<usize> {
        let mut same = (0..self.envs.len()).filter(|&i| self.envs[i].tier == Some(tier));
        match (same.next(), same.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    }

    pub fn get(&self, i: usize) -> &Env {
        &self.envs[i]
    }

    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.envs.iter().position(|e| e.name == name)
    }

    /// The environments a file's pins are recorded in by the history: those of the entry
    /// points reaching it (as the tree the environments came from has them), else its path's
    /// or namespace's.
    /// The components a pin recorded in the history stands for: its own, and those an
    /// env-file value of that name is substituted into at the tip.
    pub(crate) fn history_components<'a>(&'a self, path: &str, component: &'a str) -> Vec<&'a str> {
        let mut out = vec![component];
        if let Some(fed) = self
            .substituted
            .get(&(path.to_string(), component.to_string()))
        {
            out.extend(fed.iter().map(String::as_str).filter(|c| *c != component));
        }
        out
    }

    pub(crate) fn for_history(&self, path: &str, namespace: Option<&str>) -> Vec<usize> {
        if let Some(envs) = self.by_entry.get(path) {
            return envs.clone();
        }
        self.for_path(path)
            .or_else(|| namespace.and_then(|ns| self.for_namespace(ns)))
            .into_iter()
            .collect()
    }

    /// The environment a file belongs to by its path.
    pub(crate) fn for_path(&self, path: &str) -> Option<usize> {
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
    pub(crate) fn for_paths<'a>(&self, paths: impl Iterator<Item = &'a str>) -> Vec<Option<usize>> {
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
    pub(crate) fn for_namespace(&self, namespace: &str) -> Option<usize> {
        if let Some(i) = self
            .envs
            .iter()
            .position(|e| e.namespaces.iter().any(|n| n == namespace))
        {
            return Some(i);
        }
        if self.inferred {
            let (name, tier) = token_env(namespace)?;
            return self.index_of(&name).or_else(|| self.only_member(tier));
        }
        None
    }

    /// The environment whose prefix a tag carries (`staging-v1.2.3` → staging), if any.
    /// Returns `None` when the prefix names no environment of this run but is a tier
    /// token; see [`tag_env_token`] for the raw token.
    pub(crate) fn env_of_tag_prefix(&self, tag: &str) -> Option<usize> {
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

    /// The environment a name given in content means (an HCL map key, a compared
    /// `cluster_name`): the environment of that name, else the one that has it as an alias,
    /// else (zero config) the one its tier token names.
    pub(crate) fn for_name(&self, name: &str) -> Option<usize> {
        let lower = name.to_ascii_lowercase();
        self.envs
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(name))
            .or_else(|| self.envs.iter().position(|e| e.aliases.contains(&lower)))
            .or_else(|| {
                let (token, _) = token_env(name).filter(|_| self.inferred)?;
                self.index_of(&token)
            })
    }

    /// Environments in promotion order (a topological order of `after`, ties by name).
    pub(crate) fn promotion_order(&self) -> Vec<usize> {
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

/// Words that place an environment (a region, zone or colour) rather than name an
/// application: `prod-eu-west-1`, `prod-asia`, `staging-apac`.
const QUALIFIERS: &[&str] = &[
    "east",
    "west",
    "north",
    "south",
    "central",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
    "asia",
    "apac",
    "emea",
    "amer",
    "americas",
    "latam",
    "europe",
    "blue",
    "green",
];

/// Short region codes that may come before a tier token (`eu-prod`): a project name
/// there (`kestrel-prod`) is dropped instead.
const REGION_CODES: &[&str] = &[
    "eu", "us", "uk", "ap", "au", "ca", "cn", "jp", "kr", "sg", "na", "sa", "af", "me", "in", "br",
    "de", "fr",
];

/// The environment a path segment or namespace names, and its tier: the tier token and the
/// regions or cells qualifying it (`prod-eu-1`, `integration-gpu`, `eu-prod`); a project
/// prefix is dropped (`kestrel-prod` → `prod`). `live-chat` and `dev-tools` name
/// applications, not environments.
pub(crate) fn token_env(segment: &str) -> Option<(String, usize)> {
    let parts: Vec<String> = env_tokens(segment)
        .into_iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    // After the tier token: short or numeric tokens and region words (`gpu`, `1`, `asia`).
    let trailing = |t: &String| {
        t.len() <= 3 || t.bytes().all(|b| b.is_ascii_digit()) || QUALIFIERS.contains(&t.as_str())
    };
    // Before it: only regions (`eu-prod`); anything else is a project name.
    let leading = |t: &String| {
        REGION_CODES.contains(&t.as_str())
            || QUALIFIERS.contains(&t.as_str())
            || t.bytes().all(|b| b.is_ascii_digit())
    };
    // The last tier token that only qualifiers follow.
    let k = (0..parts.len())
        .rev()
        .find(|&k| tier_of_token(&parts[k]).is_some() && parts[k + 1..].iter().all(trailing))?;
    let tier = tier_of_token(&parts[k])?;
    let start = if parts[..k].iter().all(leading) { 0 } else { k };
    Some((parts[start..].join("-"), tier))
}

/// The environment a path implies: the deepest directory segment naming a tier, else the
/// file name's tokens (`values-production.yaml`).
pub(crate) fn infer_from_path(path: &str) -> Option<(String, usize)> {
    let (dir, file) = dir_and_file(path);
    dir_verdict(dir).unwrap_or_else(|| file_env(file))
}

/// A path's directory (empty at the root) and file name.
fn dir_and_file(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// The environment a file name names, by its stem (see [`stem_env`]).
fn file_env(file: &str) -> Option<(String, usize)> {
    stem_env(file.split('.').next().unwrap_or(file))
}

/// Tiers whose words also name deployment strategies (a canary or blue-green preview of an
/// Argo Rollout) and playgrounds: they name an environment only as a directory of its own.
fn strategy_word(tier: usize) -> bool {
    is_side_tier(tier) || TIERS[tier].0 == "canary"
}

/// The environment a file name names: by its last token (`values-production.yaml`,
/// `prod.yaml`). `test-job.yaml`, `service-preview.yaml` (a blue-green preview Service) and
/// `canary-rollout.yaml` name a test, a Service and a strategy.
fn stem_env(stem: &str) -> Option<(String, usize)> {
    // A tree has few distinct stems (`deployment`, `values`, `kustomization`), and history
    // asks again for every commit.
    thread_local! {
        static STEMS: Memo<Option<(String, usize)>> = Default::default();
    }
    memoised(&STEMS, stem, stem_env_uncached)
}

fn stem_env_uncached(stem: &str) -> Option<(String, usize)> {
    let (name, tier) = token_env(stem)?;
    let last = env_tokens(stem);
    let last_is_tier = last.last().and_then(|t| tier_of_token(t)) == Some(tier);
    (last_is_tier && !strategy_word(tier)).then_some((name, tier))
}

/// Answers of a pure function of a path part, kept per thread.
type Memo<V> = std::cell::RefCell<crate::model::hash::HashMap<String, V>>;

fn memoised<V: Clone>(
    memo: &'static std::thread::LocalKey<Memo<V>>,
    key: &str,
    answer: impl FnOnce(&str) -> V,
) -> V {
    if let Some(hit) = memo.with(|m| m.borrow().get(key).cloned()) {
        return hit;
    }
    let value = answer(key);
    memo.with(|m| {
        let mut m = m.borrow_mut();
        // Bounded: a tree of ever new names does not grow it without end.
        if m.len() >= 1 << 16 {
            m.clear();
        }
        m.insert(key.to_string(), value.clone());
    });
    value
}

/// What a directory says of its files' environment (see [`dir_verdict_uncached`]).
type DirVerdict = Option<Option<(String, usize)>>;

fn dir_verdict(dir: &str) -> DirVerdict {
    // Every file of a directory asks the same question, and history asks it again for each
    // commit.
    thread_local! {
        static DIRS: Memo<DirVerdict> = Default::default();
    }
    memoised(&DIRS, dir, dir_verdict_uncached)
}

/// What a file's directory says about its environment: `Some(answer)` when the directory
/// decides (a tier token in a segment, or a hidden directory: none), `None` when the file
/// name's stem must.
fn dir_verdict_uncached(dir: &str) -> DirVerdict {
    if dir.is_empty() {
        return None;
    }
    // Hidden directories hold tooling (`.github/workflows/promote-to-live.yaml`), not an
    // environment's manifests; a top-level `test/` holds the repository's tests.
    let top = dir.split('/').next().unwrap_or(dir).to_ascii_lowercase();
    if dir.split('/').any(|s| s.starts_with('.')) || top == "test" || top == "tests" {
        return Some(None);
    }
    if crate::extract::hcl::is_shared_dir(dir) {
        return Some(None);
    }
    let segments: Vec<&str> = dir.split('/').collect();
    (0..segments.len())
        .rev()
        .find_map(|i| {
            let found = token_env(segments[i])?;
            // `argo-rollouts/canary/base/`: an application named after its strategy, with
            // the Kustomize layout of an application below it.
            let app_below = segments
                .get(i + 1)
                .is_some_and(|next| matches!(*next, "base" | "overlays"));
            (!(strategy_word(found.1) && app_below)).then_some(found)
        })
        .map(Some)
}

impl Versions {
    /// From a validated config (an entry that does not compile is skipped: `load` has
    /// already refused it with its location).
    pub(crate) fn from_config(config: &Config) -> Self {
        let patterns = config
            .components
            .iter()
            .filter_map(|c| {
                let re = Regex::new(c.version_pattern.as_deref()?).ok()?;
                let glob = globset::Glob::new(&c.name).ok()?.compile_matcher();
                Some((glob, re))
            })
            .collect();
        Versions { patterns }
    }
}

impl Environments {
    /// The identity of `tag` pinned for `component` in environment `env`: the
    /// component's `version_pattern` when it matches, else the environment's
    /// `tag_pattern` version group, else the default reading ([`identity`]).
    pub fn identity(&self, env: usize, component: &str, tag: &str) -> crate::version::Identity {
        if let Some(re) = self.versions.pattern(component) {
            if let Some(m) = re.captures(tag).and_then(|c| c.name("version")) {
                return crate::version::Identity {
                    version: m.as_str().to_string(),
                    build: None,
                };
            }
        }
        crate::version::identity(tag, self.get(env).tag_pattern.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index of the tier named `name`.
    fn t(name: &str) -> usize {
        TIERS.iter().position(|(n, _)| *n == name).unwrap()
    }

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
            "envs/kestrel-prod/main.tf",
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

    /// `non-prod` is not prod, however it is spelled; `pre-prod`/`preprod` is not prod
    /// either but a tier of its own just before it, like staging.
    #[test]
    fn non_prod_and_pre_prod_are_not_prod() {
        for segment in [
            "non-prod",
            "nonprod",
            "Non-Prod",
            "non.prod",
            "non-production",
        ] {
            assert_eq!(token_env(segment), None, "{segment}");
        }
        for segment in [
            "pre-prod",
            "preprod",
            "pre_prod",
            "PreProd",
            "pre-production",
        ] {
            let (_, tier) = token_env(segment).unwrap_or_else(|| panic!("{segment}"));
            assert_eq!(tier, t("staging"), "{segment}");
        }
        assert_eq!(
            token_env("pre_prod"),
            Some(("pre-prod".into(), t("staging")))
        );
        assert_eq!(
            infer_from_path("non-prod/us-east-1/qa/mysql/terragrunt.hcl"),
            Some(("qa".into(), t("qa")))
        );
        assert_eq!(
            infer_from_path("non-prod/us-east-1/stage/mysql/terragrunt.hcl"),
            Some(("stage".into(), t("staging")))
        );
        assert_eq!(infer_from_path("non-prod/account.hcl"), None);
        assert_eq!(infer_from_path("non-prod/us-east-1/region.hcl"), None);
        assert_eq!(
            infer_from_path("pre-prod/app.yaml"),
            Some(("pre-prod".into(), t("staging")))
        );
        assert_eq!(
            infer_from_path("prod/us-east-1/prod/mysql/terragrunt.hcl"),
            Some(("prod".into(), t("prod")))
        );
        // The joined token names no tier; the words around it still can.
        assert_eq!(token_env("non-prod-dev"), Some(("dev".into(), t("dev"))));
        assert_eq!(token_env("kestrel-prod"), Some(("prod".into(), t("prod"))));
        assert_eq!(token_env("pre"), None);
    }

    /// Regions and cells of a tier are environments of their own, members of the tier; a
    /// project prefix is dropped.
    #[test]
    fn regions_and_cells_are_members_of_their_tier() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("prod-eu", Some(("prod-eu", "prod"))),
            ("prod-us", Some(("prod-us", "prod"))),
            ("prod-asia", Some(("prod-asia", "prod"))),
            ("prod-eu-1", Some(("prod-eu-1", "prod"))),
            ("prod-eu-west-1", Some(("prod-eu-west-1", "prod"))),
            ("eu-prod", Some(("eu-prod", "prod"))),
            ("staging-eu", Some(("staging-eu", "staging"))),
            ("staging-us", Some(("staging-us", "staging"))),
            ("staging-asia", Some(("staging-asia", "staging"))),
            ("integration-gpu", Some(("integration-gpu", "integration"))),
            (
                "integration-non-gpu",
                Some(("integration-non-gpu", "integration")),
            ),
            ("load-gpu", Some(("load-gpu", "load"))),
            ("perf", Some(("perf", "load"))),
            ("uat", Some(("uat", "staging"))),
            ("test", Some(("test", "qa"))),
            ("sandbox", Some(("sandbox", "sandbox"))),
            ("preview", Some(("preview", "preview"))),
            ("canary", Some(("canary", "canary"))),
            ("kestrel-prod", Some(("prod", "prod"))),
            ("acme-prod-eu", Some(("prod-eu", "prod"))),
            ("team-dev", Some(("dev", "dev"))),
            ("live-chat", None),
            ("dev-tools", None),
            ("live-demo", None),
            ("nonprod", None),
            ("production", Some(("production", "prod"))),
        ];
        for (segment, want) in cases {
            let want = want.map(|(n, tier)| (n.to_string(), t(tier)));
            assert_eq!(token_env(segment), want, "{segment}");
        }
    }

    /// The usual order: dev < qa/test < integration < load/perf < staging/uat/preprod <
    /// canary < prod, each tier's members one group; sandbox and preview beside the chain.
    /// Words of tests and deployment strategies that are no environment.
    #[test]
    fn tests_and_rollout_strategies_are_no_environment() {
        assert_eq!(infer_from_path("test/benchmark/storage/dbench.yaml"), None);
        assert_eq!(infer_from_path("tests/e2e/prod/app.yaml"), None);
        assert_eq!(infer_from_path("job/test-job.yaml"), None);
        assert_eq!(
            infer_from_path("argo-rollouts/bg/base/service-preview.yaml"),
            None
        );
        assert_eq!(
            infer_from_path("argo-rollouts/canary/base/kustomization.yaml"),
            None
        );
        assert_eq!(
            infer_from_path("argo-rollouts/canary/overlays/localhost/kustomization.yaml"),
            None
        );
        // As environments of their own they still are.
        assert_eq!(
            infer_from_path("envs/test/kustomization.yaml"),
            Some(("test".into(), t("qa")))
        );
        assert_eq!(
            infer_from_path("clusters/canary/apps.yaml"),
            Some(("canary".into(), t("canary")))
        );
        assert_eq!(
            infer_from_path("charts/app/values-production.yaml"),
            Some(("production".into(), t("prod")))
        );
        assert_eq!(
            infer_from_path("apps/backend/overlays/preview/kustomization.yaml"),
            Some(("preview".into(), t("preview")))
        );
    }

    #[test]
    fn usual_tier_order_with_members() {
        let envs = Environments::infer(
            [
                "envs/prod-asia/kustomization.yaml",
                "envs/prod-eu/kustomization.yaml",
                "envs/staging-eu/kustomization.yaml",
                "envs/staging-asia/kustomization.yaml",
                "envs/load-gpu/kustomization.yaml",
                "envs/integration-gpu/kustomization.yaml",
                "envs/qa/kustomization.yaml",
                "envs/canary/kustomization.yaml",
                "envs/dev/kustomization.yaml",
                "envs/sandbox/kustomization.yaml",
                "envs/preview/kustomization.yaml",
            ],
            [],
        );
        assert_eq!(
            order(&envs),
            [
                "dev",
                "sandbox",
                "preview",
                "qa",
                "integration-gpu",
                "load-gpu",
                "staging-asia",
                "staging-eu",
                "canary",
                "prod-asia",
                "prod-eu"
            ]
        );
        let groups = |name: &str| -> Vec<Vec<String>> {
            let e = envs.get(envs.index_of(name).unwrap());
            e.after_groups
                .iter()
                .map(|g| g.iter().map(|&j| envs.get(j).name.clone()).collect())
                .collect()
        };
        assert_eq!(groups("qa"), [["dev"]]);
        assert_eq!(groups("integration-gpu"), [["qa"]]);
        assert_eq!(groups("load-gpu"), [["integration-gpu"]]);
        assert_eq!(groups("staging-eu"), [["load-gpu"]]);
        assert_eq!(groups("canary"), [["staging-asia", "staging-eu"]]);
        assert_eq!(groups("prod-eu"), [["canary"]]);
        assert!(groups("sandbox").is_empty() && groups("preview").is_empty());
        let protected: Vec<&str> = envs
            .envs
            .iter()
            .filter(|e| e.protected)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(protected, ["prod-asia", "prod-eu"]);
        // Without canary, prod's one group is the staging tier's members.
        let envs = Environments::infer(
            [
                "envs/staging-eu/a.yaml",
                "envs/staging-asia/a.yaml",
                "envs/prod-asia/a.yaml",
            ],
            [],
        );
        let prod = envs.get(envs.index_of("prod-asia").unwrap());
        assert_eq!(prod.after_groups.len(), 1);
        assert_eq!(prod.after_groups[0].len(), 2);
        // A sibling region's tag prefix is the tier's own.
        assert!(prod.aliases.contains(&"prod".to_string()));
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
            Some(("prod".into(), t("prod")))
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
            infer_from_path("fabric-core/terraform/envs/kestrel-prod/main.tf"),
            Some(("prod".into(), t("prod")))
        );
        assert_eq!(
            infer_from_path("kubernetes/clusters/live/helm-charts.yaml"),
            Some(("live".into(), t("prod")))
        );
        assert_eq!(
            infer_from_path("apps/backend/overlays/production/kustomization.yaml"),
            Some(("production".into(), t("prod")))
        );
        assert_eq!(
            infer_from_path("infrastructure/stacks/integration/terragrunt.stack.hcl"),
            Some(("integration".into(), t("integration")))
        );
        assert_eq!(
            infer_from_path("flux/apps/backend/develop/image-policy.yaml"),
            Some(("develop".into(), t("dev")))
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
            Some(("prod-eu-west-1".into(), t("prod")))
        );
        assert_eq!(
            infer_from_path("apps/live-chat/overlays/staging/kustomization.yaml"),
            Some(("staging".into(), t("staging")))
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
            ["production", "team-uat"],
        );
        let names: Vec<&str> = envs
            .promotion_order()
            .into_iter()
            .map(|i| envs.get(i).name.as_str())
            .collect();
        // `production` is the tier `live` already names: the namespace of live's objects,
        // not one more environment. No directory names a uat: the namespace does.
        assert_eq!(names, ["dev", "integration", "uat", "live"]);
        let live = envs.index_of("live").unwrap();
        assert!(envs.get(live).protected);
        let integration = envs.index_of("integration").unwrap();
        let uat = envs.index_of("uat").unwrap();
        assert_eq!(envs.get(uat).after, vec![integration]);
        assert_eq!(envs.get(live).after, vec![uat]);
        assert_eq!(envs.for_namespace("production"), Some(live));
        assert_eq!(envs.for_namespace("team-uat"), Some(uat));
        // Demo and rollout namespaces name none.
        let demo = Environments::infer(["clusters/prod/a.yaml"], ["test", "canary", "preview"]);
        assert_eq!(order(&demo), ["prod"]);
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
                "envs/qa/a.yaml",
                "envs/uat/a.yaml",
                "envs/prod/a.yaml",
            ],
            [],
        );
        assert_eq!(after(&envs, "uat"), ["qa"]);
        assert_eq!(after(&envs, "prod"), ["uat"]);
        // This repository runs uat before qa.
        let stages = [
            stage("prod", &["qa"], false),
            stage("qa", &["uat"], false),
            stage("uat", &["dev"], false),
            stage("dev", &[], true),
        ];
        envs.apply_stage_graph(&stages.iter().collect::<Vec<_>>());
        assert_eq!(after(&envs, "dev"), Vec::<String>::new());
        assert_eq!(after(&envs, "uat"), ["dev"]);
        assert_eq!(after(&envs, "qa"), ["uat"]);
        assert_eq!(after(&envs, "prod"), ["qa"]);
        assert_eq!(order(&envs), ["dev", "uat", "qa", "prod"]);
        // Protection still comes from the tier.
        assert!(envs.get(envs.index_of("prod").unwrap()).protected);
    }

    /// DESIGN's DAG: dev → staging-eu, staging-us → prod. Declared stages stay two
    /// environments, each a predecessor prod needs; qa, which Kargo does not gate prod on,
    /// is no longer before prod.
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
        assert_eq!(envs.env_of_stage("staging-eu"), envs.index_of("staging-eu"));
        assert_eq!(envs.env_of_stage("Staging-US"), envs.index_of("staging-us"));
        // Two staging-tier environments: `staging` or `uat` could be either.
        assert_eq!(envs.env_of_stage("STAGING"), None);
        assert_eq!(envs.env_of_stage("uat"), None);
        // `prod` names the only prod-tier environment, `production`.
        assert_eq!(envs.env_of_stage("prod"), envs.index_of("production"));
        assert_eq!(envs.env_of_stage("canary"), None);
        // The tiers: any staging member will do.
        assert_eq!(after(&envs, "production"), ["staging-eu", "staging-us"]);
        let production = envs.index_of("production").unwrap();
        assert_eq!(envs.get(production).after_groups.len(), 1);
        let stages = [
            stage("dev", &[], true),
            stage("staging-eu", &["dev"], false),
            stage("staging-us", &["dev"], false),
            stage("prod", &["staging-eu", "staging-us"], false),
        ];
        envs.apply_stage_graph(&stages.iter().collect::<Vec<_>>());
        assert_eq!(after(&envs, "staging-eu"), ["dev"]);
        assert_eq!(after(&envs, "staging-us"), ["dev"]);
        assert_eq!(after(&envs, "production"), ["staging-eu", "staging-us"]);
        // Declared upstream stages are each a predecessor.
        assert_eq!(envs.get(production).after_groups.len(), 2);
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
