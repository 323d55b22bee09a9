//! The configuration model: what `.promolint.yaml` says once loaded and validated.

use crate::model::Level;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use crate::error::ConfigError;

/// The file name looked up at the repository root.
pub const FILE_NAME: &str = ".promolint.yaml";
/// The names a configuration file is found under, the one `init` writes first.
pub const FILE_NAMES: [&str; 2] = [FILE_NAME, ".promolint.yml"];

/// Tags that move under you unless configured otherwise (DESIGN §5).
pub const DEFAULT_MUTABLE_TAGS: &[&str] =
    &["latest", "main", "master", "stable", "edge", "nightly"];

/// A validated configuration. `Config::default()` is the zero-config behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The file it was loaded from, if any.
    pub path: Option<PathBuf>,
    /// Declared environments; empty means "infer from paths and namespaces".
    pub environments: Vec<EnvironmentConfig>,
    pub mutable_tags: Vec<String>,
    pub artifacts: Vec<ArtifactPatternConfig>,
    /// `components[]`, in file order (the first entry whose name matches decides).
    pub components: Vec<ComponentConfig>,
    pub promotion: PromotionConfig,
    /// Per-rule settings, keyed by canonical rule id (`PL009`), names already resolved.
    pub rules: BTreeMap<String, RuleConfig>,
    /// Files larger than this are skipped with a PL000 note.
    pub max_file_size: u64,
    /// This repository's identities (`host/path` of its remotes, see
    /// [`crate::source::git::repository_identity`]): not read from the file but from the
    /// repository, so that a GitOps source that deploys this repository is recognised.
    pub own_repositories: Vec<String>,
    /// Inline suppressions of the gate rules (PL006–PL008) in protected environments are
    /// refused (PL011 errors) instead of applied.
    pub strict_suppressions: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            environments: Vec::new(),
            mutable_tags: DEFAULT_MUTABLE_TAGS.iter().map(|s| s.to_string()).collect(),
            artifacts: Vec::new(),
            components: Vec::new(),
            promotion: PromotionConfig::default(),
            rules: BTreeMap::new(),
            max_file_size: crate::extract::DEFAULT_SIZE_LIMIT,
            own_repositories: Vec::new(),
            strict_suppressions: false,
        }
    }
}

/// One `environments[]` entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvironmentConfig {
    pub name: String,
    /// Glob patterns (globset syntax) of the files that belong to this environment.
    pub paths: Vec<String>,
    /// Kubernetes namespaces that belong to this environment.
    pub namespaces: Vec<String>,
    /// Regex every tag of this environment must match; may hold a `(?P<version>…)` group.
    pub tag_pattern: Option<String>,
    pub protected: bool,
    /// Predecessors in the promotion graph: names of other environments, or of a tier
    /// (any of its members will do).
    pub after: Vec<String>,
    /// The tier this environment is a member of (`prod` for `prod-eu` and `prod-asia`).
    pub tier: Option<String>,
}

/// One `artifacts[]` entry: a glob with `{series}` and `{version}` placeholders.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArtifactPatternConfig {
    pub pattern: String,
}

/// One `components[]` entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComponentConfig {
    /// A component name or a glob of them (globset syntax).
    pub name: String,
    /// Regex with a `(?P<version>…)` group (validated to have one).
    pub version_pattern: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PromotionConfig {
    pub max_versions_per_change: usize,
    /// Components moved to one version string by one change count once (one release).
    pub release_version_groups: bool,
}

impl Default for PromotionConfig {
    fn default() -> Self {
        PromotionConfig {
            max_versions_per_change: 1,
            release_version_groups: true,
        }
    }
}

/// `rules.<id-or-name>`: either a level (`PL009: error`, `PL001: off`) or a table
/// (`{ level: warning, ignore: ["legacy/**"] }`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleConfig {
    pub level: Option<RuleLevel>,
    /// Globs of files where the rule does not report.
    pub ignore: Vec<String>,
}

/// A configured rule level: `off` disables the rule, anything else enables it and fixes
/// the level of its findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleLevel {
    Off,
    Level(Level),
}
