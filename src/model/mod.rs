//! The promotion model: spans, facts extracted from files, environments and versions.
//!
//! Every fact carries the exact span of the value it describes so that a diagnostic
//! points at the value, never at the file. Spans are relative to the *decoded* text
//! of a file (see [`crate::extract::decode`]): a leading UTF-8 BOM is not part of it.

mod finding;
pub(crate) mod hash;
pub(crate) mod kinds;
pub(crate) mod paths;
pub(crate) mod tiers;

pub mod codec;
mod level;
mod span;

pub use finding::{Finding, FindingBuilder, Fix, FixState, Related, Revision};
pub use level::Level;
pub use paths::join_normalized;
use serde::Serialize;
pub use span::{LineIndex, Span};

/// What kind of place fixes a component's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinKind {
    /// `image:` of a container or initContainer in a workload.
    ContainerImage,
    /// A Kustomize `images[]` entry (overrides the image `name` in its bases).
    KustomizeImage,
    /// An image in Helm values (a HelmRelease's `values`, a values file, a chart list
    /// entry's `values`): a `{registry?, repository, tag?, digest?}` mapping at any depth,
    /// or an `image: repo:tag` string.
    HelmValuesImage,
    /// A Helm chart version: HelmRelease chart spec, kustomize `helmCharts[]`, chart lists.
    HelmChart,
    /// A Flux OCIRepository `ref`.
    OciArtifact,
    /// A Flux GitRepository `ref`.
    GitRef,
    /// A Terraform/Terragrunt module `source = "…?ref=…"`.
    ModuleRef,
    /// A version key in HCL locals/variables/`versions = {…}` or in a `KEY=value` env file.
    VersionKey,
    /// The version the next Packer build produces (`image_version = "v6"`).
    BuildRecipe,
}

impl PinKind {
    /// Whether the component is a container image (tags, digests, PL009 apply).
    pub fn is_image(self) -> bool {
        matches!(
            self,
            PinKind::ContainerImage | PinKind::KustomizeImage | PinKind::HelmValuesImage
        )
    }
}

/// How a pin refers to a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefKind {
    /// A tag or exact version string (`v1.2.3`, `latest`, `production-v1.2.3-1712345678`).
    Tag,
    /// A semver range or wildcard (`>=1.0.0`, `1.x`, `*`, `~1.2`).
    Range,
    /// A Git branch (`ref.branch: main`, `?ref=main` is reported as `Tag` and judged by value).
    Branch,
    /// A Git commit id.
    Commit,
    /// Nothing: an image without tag or digest, a chart without version.
    Absent,
}

/// The value of a pin.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Reference {
    pub kind: RefKind,
    /// The tag, range, branch or commit text; empty when `kind` is `Absent`.
    pub value: String,
    /// `sha256:…` when the pin also carries a digest.
    pub digest: Option<String>,
}

impl Reference {
    pub fn tag(value: impl Into<String>) -> Self {
        Reference {
            kind: RefKind::Tag,
            value: value.into(),
            digest: None,
        }
    }

    pub fn absent() -> Self {
        Reference {
            kind: RefKind::Absent,
            value: String::new(),
            digest: None,
        }
    }

    /// The reference of an image written `repo[:tag][@digest]`: a tag when there is one
    /// (empty parts count as missing), else absent; the digest either way.
    pub fn image(tag: Option<&str>, digest: Option<&str>) -> Self {
        let tag = tag.filter(|t| !t.is_empty());
        Reference {
            kind: if tag.is_some() {
                RefKind::Tag
            } else {
                RefKind::Absent
            },
            value: tag.unwrap_or("").to_owned(),
            digest: digest.filter(|d| !d.is_empty()).map(str::to_owned),
        }
    }

    /// Text shown in messages: `v1.2.3`, `v1.2.3@sha256:…`, `(no tag)`.
    pub fn display(&self) -> String {
        match (&self.kind, &self.digest) {
            (RefKind::Absent, Some(d)) => format!("@{d}"),
            (RefKind::Absent, None) => "(none)".to_string(),
            (_, Some(d)) => format!("{}@{}", self.value, d),
            (_, None) => self.value.clone(),
        }
    }
}

/// One place where a file fixes a component's version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pin {
    pub kind: PinKind,
    /// The component's identity: image repository without tag (`ghcr.io/acme/backend`),
    /// chart name, OCI/Git URL, module source without `?ref`, or version key
    /// (`lxc_rootfs_version`, `versions.talos`, `TALOS_VERSION`).
    pub component: String,
    pub reference: Reference,
    /// Span of the value (the tag when it stands alone, else the whole value string;
    /// for an absent tag, the image string or the key).
    pub span: Span,
    /// For a Kustomize `images[]` entry: the image `name` it overrides in its bases.
    pub overrides: Option<String>,
    /// A Flux setter marker on the line: `{"$imagepolicy": "ns:name"}` → `ns:name`
    /// (a trailing `:tag`/`:name` field selector is dropped).
    pub policy_ref: Option<String>,
    /// Human context for messages: `container backend`, `initContainer migrate`,
    /// `locals.lxc_rootfs_version`, `chart podinfo`.
    pub context: String,
}

/// How automation orders the tags a policy admits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum PolicyOrder {
    Semver { range: String },
    Alphabetical { order: String },
    Numerical { order: String },
    Unspecified,
}

/// Where a tag policy was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicySource {
    FluxImagePolicy,
    ArgoImageUpdater,
    OciRepositorySemver,
    /// A `semver`/`tag_pattern` value set per environment in Terraform or Terragrunt.
    HclSetting,
    Config,
}

/// A regex (and/or ordering) deciding which tags automation may pick for an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagPolicy {
    pub source: PolicySource,
    /// `metadata.name` of the policy object.
    pub name: String,
    /// `spec.imageRepositoryRef.name` (Flux) — links the policy to an ImageRepository.
    pub image_repository_ref: Option<String>,
    /// `spec.filterTags.pattern`, with the span of the pattern string.
    pub pattern: Option<(String, Span)>,
    /// `spec.filterTags.extract` (`$ts`), with its span.
    pub extract: Option<(String, Span)>,
    pub order: PolicyOrder,
    /// Span of the ordering value (`range`/`order` string, or the `policy:` key).
    pub order_span: Span,
    /// Span used when nothing more precise exists (the document's `kind:` value).
    pub span: Span,
}

/// A Flux ImageRepository: names the image a policy's tags belong to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageRepository {
    pub name: String,
    pub image: String,
    pub span: Span,
}

/// A Terragrunt file reading another file's configuration: an `include "<name>"` block or
/// a `read_terragrunt_config(…)` call whose path is written statically. The read file's
/// pins take effect in the reader's environment (what is written in `_envcommon/mysql.hcl`
/// runs wherever a unit includes it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigInclude {
    /// The file name searched for upwards from the reader's parent directory
    /// (`find_in_parent_folders("root.hcl")`); `None` when `path` is from the repository
    /// root.
    pub find: Option<String>,
    /// The path, relative to the directory of the file `find` names (or to the repository
    /// root without `find`); empty for the found file itself.
    pub path: String,
    /// Span of the path expression.
    pub span: Span,
}

/// A `kustomization.yaml`: what it includes (so overlays can be resolved to bases), and
/// the patches it applies to what it includes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kustomization {
    /// `resources`, `bases` and `components` entries, as written (relative paths or URLs),
    /// each with the span of the entry.
    pub resources: Vec<(String, Span)>,
    /// The `components` entries among `resources`: a component's patches apply to this
    /// kustomization's resources, before its own.
    pub components: Vec<String>,
    /// `namespace:` of the kustomization, if set (an environment signal for its resources).
    pub namespace: Option<String>,
    /// `patchesStrategicMerge`, `patches` and `patchesJson6902` entries, in the order
    /// Kustomize applies them.
    pub patches: Vec<KustomizePatch>,
    /// Inline `replacements` entries this linter can follow (see [`Replacement`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replacements: Vec<Replacement>,
    /// `replacements` entries naming a file of replacements (`- path: r.yaml`), each with
    /// the number of inline entries before it (Kustomize runs them in the order written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replacement_files: Vec<(usize, String)>,
}

/// A Kustomize `replacements` entry: a value read from one object's field and written
/// into fields of the objects its targets select. Only what can be followed is kept:
/// a source with a `fieldPath`, targets with a `select`, `delimiter`/`index` options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replacement {
    /// `source`: kind/name/namespace/group/version as a selector (matched exactly).
    pub source: PatchTarget,
    /// `source.fieldPath` as written (`data.APP_VERSION`).
    pub field_path: String,
    /// `source.options` `delimiter` and `index`.
    pub options: Option<(String, usize)>,
    pub targets: Vec<ReplacementTarget>,
}

/// One `targets` entry of a replacement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReplacementTarget {
    pub select: PatchTarget,
    pub reject: Vec<PatchTarget>,
    /// `fieldPaths` as written.
    pub field_paths: Vec<String>,
    /// `options` `delimiter` and `index`.
    pub options: Option<(String, usize)>,
}

/// Where a version-bearing value sits in a Kubernetes object: what a Kustomize patch sets
/// to replace it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "field", rename_all = "kebab-case")]
pub enum Field {
    /// HelmRelease `spec.chart.spec.version`.
    ChartVersion,
    /// `image` of a container of the pod template (`init`: an initContainer), known by its
    /// `name` (how a strategic merge patch finds it) and its position (how a JSON patch does).
    Image {
        init: bool,
        name: Option<String>,
        index: Option<usize>,
    },
    /// A key of an OCIRepository or GitRepository `spec.ref` (`tag`, `semver`, `digest`, …);
    /// the empty key stands for the whole ref (what a ref pin comes from).
    Ref { key: String },
    /// A HelmRelease value under `spec.values`, as a dotted path (`image.tag`); a values
    /// image pin comes from the path of its `image` key (`image`, `redis.image`).
    Value { path: String },
}

/// A version-bearing value as a document writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldValue {
    pub field: Field,
    /// The value as written; `None` when the document removes it (`null`, a JSON patch
    /// `remove`).
    pub value: Option<String>,
    /// Span of the value; for an image with a tag, of the tag (as its pin's).
    pub span: Span,
    /// A Flux setter marker on the value's line (see [`Pin::policy_ref`]).
    pub policy_ref: Option<String>,
}

/// A Kubernetes object of a kind that carries versions (workloads, HelmRelease,
/// OCIRepository, GitRepository), as Kustomize selects it. The same fact describes a base
/// (which of the file's pins come from which field, so that a patch can replace them) and
/// a strategic merge patch (the values it sets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KubeObject {
    pub api_version: String,
    pub kind: String,
    /// `metadata.name` (empty when absent).
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.labels` with string values.
    pub labels: Vec<(String, String)>,
    /// The version-bearing values the document writes, in document order.
    pub values: Vec<FieldValue>,
    /// Pins of the same file that come from this object: (index of the Pin fact, field).
    pub pins: Vec<(usize, Field)>,
}

/// A JSON 6902 patch: its `add`/`replace`/`remove` operations on version-bearing paths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonPatch {
    pub ops: Vec<FieldValue>,
}

/// What a patch document says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum PatchBody {
    Merge(KubeObject),
    Json(JsonPatch),
}

/// A Kustomize patch target selector. Kind, name, namespace, group and version are
/// regular expressions matched against the whole value, as Kustomize does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PatchTarget {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// `labelSelector` as written (`app=podinfo,tier=web`).
    pub label_selector: Option<String>,
    /// `annotationSelector` as written (not followed: a target with one selects nothing).
    pub annotation_selector: Option<String>,
}

/// One patch entry of a kustomization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KustomizePatch {
    /// `path:` of a patch file, relative to the kustomization; `None` for an inline patch.
    pub path: Option<String>,
    /// An inline patch's documents, read at extraction (empty for a patch file: its own
    /// facts say what it sets).
    pub inline: Vec<PatchBody>,
    pub target: Option<PatchTarget>,
    /// Span of the entry: the path, or an inline patch's text.
    pub span: Span,
}

/// A versioned, immutable artifact named by a file path or a versioned directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Artifact {
    /// `ubuntu-24.04-lxc-rootfs` for `…/ubuntu-24.04-lxc-rootfs-v6.tar.gz`.
    pub series: String,
    /// The number after `v`: `6`.
    pub version: u64,
    /// The artifact's own path (the file, or the versioned directory for `…/v1/…`).
    pub path: String,
    pub is_dir: bool,
}

/// A string template that builds an artifact name from a version key:
/// `"ubuntu-24.04-lxc-rootfs-${local.lxc_rootfs_version}.tar.gz"` ties key
/// `lxc_rootfs_version` to series `ubuntu-24.04-lxc-rootfs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArtifactTemplate {
    pub series: String,
    pub key: String,
    pub span: Span,
}

/// A Flux ImageUpdateAutomation: automation that commits the tags its policies pick into
/// the files under `path` (where setter markers name those policies). The namespace of
/// its [`Fact`] is the automation's namespace: Flux only applies markers naming policies
/// of that namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageUpdateAutomation {
    /// `metadata.name`.
    pub name: String,
    /// `spec.update.path` as written (`./flux/apps`), with the span of the value; `None`
    /// when absent (Flux then updates the whole repository).
    pub path: Option<(String, Span)>,
    /// Span of the document's `kind:` value.
    pub span: Span,
}

/// A Kargo Stage: one node of a declared promotion graph. Freight reaches it from the
/// `upstream` stages (`spec.requestedFreight[].sources.stages`) or, with `direct`, from a
/// Warehouse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KargoStage {
    /// The Kargo project (`metadata.namespace`): stage names are unique within it.
    pub project: Option<String>,
    /// `metadata.name`, with the span of the value.
    pub name: String,
    pub span: Span,
    /// Upstream stage names, each with the span of the entry.
    pub upstream: Vec<(String, Span)>,
    /// Whether some requested freight comes straight from a Warehouse (`direct: true`).
    pub direct: bool,
}

/// How a Renovate file matcher compares a pattern with a repository path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathMatch {
    /// `matchFileNames`: a minimatch glob (`*` stays within a directory, dotfiles match),
    /// or a regex written as `/…/`; a leading `!` negates.
    Glob,
    /// Legacy `matchPaths`/`paths`: a plain string matches as a substring, a string with
    /// glob characters as a glob.
    GlobOrSubstring,
}

/// A file pattern of a Renovate packageRule, with the span of the string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FilePattern {
    /// The key it was written under (`matchFileNames`).
    pub key: String,
    pub pattern: String,
    pub matching: PathMatch,
    pub span: Span,
}

/// One entry of Renovate's `packageRules`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenovateRule {
    /// Position in `packageRules` (0-based): later rules override earlier ones.
    pub index: usize,
    /// `matchFileNames`, `matchPaths`, `matchFiles`, `paths` entries.
    pub files: Vec<FilePattern>,
    /// `enabled:` when it is a boolean.
    pub enabled: Option<bool>,
    /// Every other `match*`/`exclude*` condition, as `key=value` in a canonical form, so
    /// that two rules with the same conditions compare equal.
    pub conditions: Vec<String>,
    /// `groupName` or `description`, to name the rule in messages.
    pub label: Option<String>,
    /// Span of the rule's opening `{`.
    pub span: Span,
}

/// A Renovate configuration file (`renovate.json`, `.github/renovate.json5`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RenovateConfig {
    /// The directory the config's paths are relative to: the directory holding it, or its
    /// parent for `.github/` and `.gitlab/` (`""` is the repository root).
    pub base: String,
    /// Top-level `enabled:` (`false` turns Renovate off for the repository).
    pub enabled: bool,
    /// `ignorePaths`: files Renovate never reads (substring or glob).
    pub ignore_paths: Vec<String>,
    /// `includePaths`: when set, the only files Renovate reads (substring or glob).
    pub include_paths: Vec<String>,
    pub rules: Vec<RenovateRule>,
}

/// Everything an extractor can find in a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FactKind {
    Pin(Pin),
    TagPolicy(TagPolicy),
    ImageRepository(ImageRepository),
    Kustomization(Kustomization),
    ArtifactTemplate(ArtifactTemplate),
    ImageUpdateAutomation(ImageUpdateAutomation),
    KargoStage(KargoStage),
    RenovateConfig(RenovateConfig),
    /// An object Kustomize patches can select or that is itself a strategic merge patch.
    Object(KubeObject),
    /// A JSON 6902 patch file.
    JsonPatch(JsonPatch),
    ConfigInclude(ConfigInclude),
    FluxKustomization(FluxKustomization),
    /// Where a deployment starts: a Flux Kustomization's or an Argo CD Application's path.
    Deploy(DeployEntry),
    /// A Flux ArtifactGenerator's artifact: which directories of the repository it copies
    /// where (an entry point's `ExternalArtifact` path is read through it).
    ArtifactCopies(ArtifactCopies),
    /// A kustomization's `configMapGenerator` entry.
    ConfigMapSource(ConfigMapSource),
    /// A pin whose value is a Flux `${VAR}` substitution: a version only where a Flux
    /// Kustomization fills the variable in (see `snapshot::substitute`).
    TemplatedPin(TemplatedPin),
    /// A HelmRelease's `valuesFrom`: values files that take effect where the release does.
    HelmValuesFrom(HelmValuesFrom),
    /// A file of Kustomize replacements (a list of `{source, targets}`), which a
    /// kustomization's `replacements: [{path: …}]` reads.
    Replacements(Vec<Replacement>),
}

/// A Flux Kustomization (`kustomize.toolkit.fluxcd.io`): the directory it builds and
/// the variables its `postBuild` substitutes there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FluxKustomization {
    /// `spec.path`, repository-relative without a leading `./` (empty: the root).
    pub path: String,
    /// `spec.postBuild.substitute`: variable, value, span of the value.
    pub substitute: Vec<(String, String, Span)>,
    /// `spec.postBuild.substituteFrom` ConfigMap names, in order (a Secret's values are
    /// not in the repository in clear, so Secrets are not listed).
    pub substitute_from: Vec<String>,
}

/// Which GitOps controller an entry point belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployTool {
    Flux,
    Argo,
}

/// Where a deployment starts: a Flux Kustomization (`spec.path`) or an Argo CD
/// Application source (`path`) that deploys a directory of this repository. What it
/// reaches runs in its environment (see `snapshot`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeployEntry {
    pub tool: DeployTool,
    /// `metadata.name` of the Kustomization or Application.
    pub name: String,
    /// The directory deployed, repository-relative without `./` (empty: the root).
    pub path: String,
    /// The span of the path value (the related location of what it reaches).
    pub span: Span,
    /// Whether a directory without kustomization is deployed with its subdirectories
    /// (Flux always; Argo CD with `directory.recurse`).
    pub recurse: bool,
    /// Helm `valueFiles` as written (relative to `path`), with their spans.
    pub value_files: Vec<(String, Span)>,
    /// Words that may name the environment besides the file's path: an Application's
    /// name, project, destination namespace and cluster name.
    pub env_words: Vec<String>,
    /// Images an Application's `kustomize.images` sets (each also a pin of its own):
    /// what the directory pins for them is replaced.
    pub images: Vec<String>,
    /// For a Flux Kustomization built from an `ExternalArtifact`: its name (`path` is then
    /// inside the artifact; see [`ArtifactCopies`]).
    pub artifact: Option<String>,
}

/// One artifact of a Flux ArtifactGenerator built from this repository: `copy` entries as
/// (repository directory, directory inside the artifact), both without slashes at the ends
/// (`@monorepo/apps/base/**` → `@artifact/base/` is (`apps/base`, `base`)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArtifactCopies {
    pub name: String,
    pub copies: Vec<(String, String)>,
}

/// A ConfigMap in the repository: a kustomization's `configMapGenerator` entry, or a
/// ConfigMap manifest (its `data` as literals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigMapSource {
    pub name: String,
    /// Its `envs` files as written (relative to the kustomization's directory); their
    /// values are read through the env files' own pins.
    pub env_files: Vec<String>,
    /// Its `literals` (a manifest's `data`): key, value, span of the value.
    pub literals: Vec<(String, String, Span)>,
    /// Its `files` entries: the key (`values.yaml=helm/values-prod.yaml` → `values.yaml`,
    /// else the file's base name) and the path as written (relative to the
    /// kustomization's directory). A HelmRelease's `valuesFrom` reads them as values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<(String, String)>,
    /// A manifest's `data` keys holding Helm values written inline (`values.yaml: |`),
    /// each with the indices (in this file's facts) of the image pins read from them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embedded: Vec<(String, Vec<usize>)>,
}

/// A Flux HelmRelease's `spec.valuesFrom` (see `snapshot::values_from`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HelmValuesFrom {
    /// `metadata.name`, for messages.
    pub release: String,
    /// The ConfigMap entries in order (a later one overrides an earlier one). Secrets are
    /// not in the repository in clear, so they are not listed.
    pub refs: Vec<ValuesRef>,
    /// The places (as pin contexts: `values image.tag`) where the release's inline
    /// `spec.values` sets an image, tag or digest: inline values override every
    /// `valuesFrom` entry.
    pub inline: Vec<String>,
}

/// One `valuesFrom` ConfigMap entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValuesRef {
    pub name: String,
    /// `valuesKey` (Flux's default: `values.yaml`).
    pub values_key: String,
    /// `targetPath`: the key's value is put at this path as one value, not read as a
    /// values document.
    pub target_path: Option<String>,
    /// Span of the entry's `name`.
    pub span: Span,
}

/// A pin written as a substitution: `ghcr.io/acme/app:${APP_VERSION}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplatedPin {
    /// The pin with the placeholder as its span and the default (or nothing) as its value.
    pub pin: Pin,
    pub var: String,
    /// The `${VAR:=default}` / `${VAR:-default}` default.
    pub default: Option<String>,
}

/// Parse a value that is exactly one Flux substitution: `${VAR}`, `${VAR:=d}`,
/// `${VAR:-d}` → (variable, default). Anything else (`v${X}`, two variables) is `None`:
/// a partly templated value is no version we can compute.
pub fn parse_substitution(value: &str) -> Option<(&str, Option<&str>)> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?;
    let (var, default) = match inner.find([':', '-', '=']) {
        Some(i) => {
            let rest = &inner[i..];
            let d = rest
                .strip_prefix(":=")
                .or_else(|| rest.strip_prefix(":-"))
                .or_else(|| rest.strip_prefix('='))
                .or_else(|| rest.strip_prefix('-'))?;
            (&inner[..i], Some(d))
        }
        None => (inner, None),
    };
    let valid = !var.is_empty()
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && default.is_none_or(|d| !d.contains(['$', '{', '}']));
    valid.then_some((var, default))
}

/// One fact with the Kubernetes namespace of the document it came from (an environment
/// signal: `metadata.namespace`, or a kustomization's `namespace:`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub namespace: Option<String>,
    /// An environment the content itself names for this fact (the `live` key of an HCL
    /// map of per-environment settings): it decides over the file's path and namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub kind: FactKind,
}

impl Fact {
    pub fn new(kind: FactKind) -> Self {
        Fact {
            namespace: None,
            environment: None,
            kind,
        }
    }

    pub fn in_namespace(kind: FactKind, namespace: Option<String>) -> Self {
        Fact {
            namespace,
            environment: None,
            kind,
        }
    }

    pub fn as_pin(&self) -> Option<&Pin> {
        match &self.kind {
            FactKind::Pin(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_policy(&self) -> Option<&TagPolicy> {
        match &self.kind {
            FactKind::TagPolicy(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_template(&self) -> Option<&ArtifactTemplate> {
        match &self.kind {
            FactKind::ArtifactTemplate(t) => Some(t),
            _ => None,
        }
    }
}

/// A version as promotion sees it: `production-v1.2.3-1712345678` → `v1.2.3`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Version {
    /// The canonical text compared across environments.
    pub text: String,
}

/// Whether a version string is a constraint or wildcard (`>=1.0`, `~> 1.2`, `1.x`, `*`,
/// `^2`) rather than one version. Shared by every extractor so they agree.
pub fn is_version_range(value: &str) -> bool {
    let v = value.trim();
    v.chars()
        .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '=' | '~' | '^' | '*' | '|' | ','))
        || v.trim_start_matches(['v', 'V'])
            .split('.')
            .any(|part| part == "x" || part == "X")
}

/// Split a container image reference `registry/repo:tag@sha256:…` into
/// (repository, tag, digest). A `:` after the last `/` starts the tag; a port in the
/// registry host (`localhost:5000/app`) is not a tag.
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    match rest[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            (&rest[..at], Some(&rest[at + 1..]), digest)
        }
        None => (rest, None, digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_parse_whole_placeholders_only() {
        assert_eq!(
            parse_substitution("${APP_VERSION}"),
            Some(("APP_VERSION", None))
        );
        assert_eq!(
            parse_substitution("${V:=1.2.3}"),
            Some(("V", Some("1.2.3")))
        );
        assert_eq!(
            parse_substitution("${V:-v2.0.1}"),
            Some(("V", Some("v2.0.1")))
        );
        assert_eq!(parse_substitution("${V=}"), Some(("V", Some(""))));
        for partial in [
            "v${V}",
            "${V}-alpine",
            "${A}${B}",
            "${}",
            "${V:=${W}}",
            "${V?x}",
        ] {
            assert_eq!(parse_substitution(partial), None, "{partial}");
        }
    }

    #[test]
    fn line_index_counts_scalars_and_lines() {
        let text = "a: 1\nbé: x\r\nc: ok\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 0), (1, 1));
        let x = text.find('x').unwrap();
        assert_eq!(idx.position(text, x), (2, 5));
        let ok = text.find("ok").unwrap();
        let s = idx.span(text, ok..ok + 2);
        assert_eq!((s.line, s.column, s.end_line, s.end_column), (3, 4, 3, 6));
        // Inside a multi-byte character: clamped to its start.
        let e = text.find('é').unwrap();
        assert_eq!(idx.position(text, e + 1), (2, 2));
        assert_eq!(idx.position(text, 10_000), (4, 1));
    }

    #[test]
    fn split_image_handles_ports_tags_and_digests() {
        assert_eq!(
            split_image("ghcr.io/acme/backend:v1"),
            ("ghcr.io/acme/backend", Some("v1"), None)
        );
        assert_eq!(
            split_image("localhost:5000/app"),
            ("localhost:5000/app", None, None)
        );
        assert_eq!(
            split_image("nginx:1.25@sha256:abc"),
            ("nginx", Some("1.25"), Some("sha256:abc"))
        );
        assert_eq!(
            split_image("nginx@sha256:abc"),
            ("nginx", None, Some("sha256:abc"))
        );
    }
}
