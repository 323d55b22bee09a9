//! Bytes → facts. One module per input format; this module decides which one reads a
//! file, skips files that cannot hold a fact (byte prefilter), and turns unreadable
//! input into a reason for a `PL000 unreadable-file` note.

pub(crate) mod artifact;
pub mod envfile;
pub mod hcl;
pub(crate) mod json5;
pub mod renovate;
pub(crate) mod suppress;
pub mod yaml;

use crate::model::{Fact, LineIndex};

/// Default size limit for a file to be read (DESIGN §2).
pub const DEFAULT_SIZE_LIMIT: u64 = 4 * 1024 * 1024;

/// The highest `max_file_size` a configuration file may set (64 MiB). The configuration
/// comes with the repository, that is with the change under review: a limit of 3 GB made
/// one file cost 34 s and 3.1 GB of memory. Only the command line (`--max-file-size`),
/// which belongs to whoever runs promolint, goes higher.
pub const MAX_CONFIGURED_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// The PL000 reason for a file over the size limit (the same words from every source).
pub(crate) fn over_size_limit(len: u64, max_size: u64) -> String {
    format!("file is {len} bytes, over the size limit of {max_size} bytes")
}

/// The input formats promolint reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Hcl,
    EnvFile,
    /// Renovate configuration (JSON or JSON5).
    Renovate,
}

/// Which extractor reads `path` (relative, `/`-separated), if any.
pub fn format_of(path: &str) -> Option<Format> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if renovate::is_config(path) {
        Some(Format::Renovate)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Format::Yaml)
    } else if lower.ends_with(".tf")
        || lower.ends_with(".hcl")
        || lower.ends_with(".tfvars")
        || lower.ends_with(".pkrvars.hcl")
    {
        Some(Format::Hcl)
    } else if lower == ".env"
        || lower.ends_with(".env")
        || lower == "versions.env"
        || lower == ".versions.env"
    {
        Some(Format::EnvFile)
    } else {
        None
    }
}

/// The text of a file as every span sees it: UTF-8 with a leading BOM removed.
/// `Err` carries the reason the file is unreadable.
/// Whether `bytes` are a file git-crypt encrypted: its header is NUL, `GITCRYPT`, NUL.
pub fn is_git_crypt(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\0GITCRYPT\0")
}

pub fn decode(bytes: &[u8]) -> Result<&str, String> {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err("binary file (contains NUL bytes)".to_string());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )
    })
}

/// Whether a file of this format could hold a fact at all. One pass of a literal-set
/// search (no parse), so that most files of a large repository are never parsed.
pub fn may_hold_facts(format: Format, text: &str) -> bool {
    use std::sync::OnceLock;
    type Set = OnceLock<Option<regex::bytes::Regex>>;
    fn set(cell: &'static Set, pattern: &str) -> Option<&'static regex::bytes::Regex> {
        cell.get_or_init(|| regex::bytes::Regex::new(pattern).ok())
            .as_ref()
    }
    static YAML: Set = OnceLock::new();
    static HCL: Set = OnceLock::new();
    let b = text.as_bytes();
    match format {
        Format::Yaml => {
            // Argo CD Applications (a missing `targetRevision` is a pin too), Kargo Stages
            // and Flux ImageUpdateAutomations have no image or version key of their own;
            // nor have a HelmRelease without chart version (a pin, and the base a patch
            // sets), a Kustomize component with only patches, or a JSON patch of a ref;
            // nor the Flux Kustomizations and ConfigMaps that fill in `${VAR}` versions;
            // nor a Git or OCI source without `ref` (no version: a pin too).
            let Some(re) = set(
                &YAML,
                "image|version|Version|ref:|Tag|tag:|digest:|resources:|bases:|components:\
                 |argoproj\\.io|kargo\\.akuity\\.io|ImageUpdateAutomation\
                 |HelmRelease|patches|/spec/|postBuild|configMapGenerator|ConfigMap\
                 |kustomize\\.toolkit\\.fluxcd\\.io|ArtifactGenerator|GitRepository|OCIRepository",
            ) else {
                return true;
            };
            // `apiVersion` is in every manifest and says nothing about what it pins.
            re.find_iter(b)
                .any(|m| !(m.as_bytes() == b"Version" && b[..m.start()].ends_with(b"api")))
        }
        // Keys are matched case-insensitively (`IMAGE_TAG`); `source` catches module refs
        // without `?ref=`, `-v` Packer artifact names, `include`/`read_terragrunt_config`
        // the Terragrunt files that read another (whose pins then take effect here);
        // `semver` and `tag_pattern` set an environment's tag policy.
        Format::Hcl => set(
            &HCL,
            "(?i:version|_tag|image|semver|tag_pattern)|source|-v|include|read_terragrunt",
        )
        .is_none_or(|re| re.is_match(b)),
        Format::EnvFile => b.contains(&b'='),
        Format::Renovate => text.contains("packageRules"),
    }
}

/// Extract the facts of one file. `text` is the decoded text (see [`decode`]).
/// `Err` is the reason for a PL000 note (malformed input, budget exceeded, …).
pub fn extract(path: &str, format: Format, text: &str) -> Result<Vec<Fact>, String> {
    if !may_hold_facts(format, text) {
        return Ok(Vec::new());
    }
    let index = LineIndex::new(text);
    match format {
        Format::Yaml => yaml::extract(path, text, &index),
        Format::Hcl => hcl::extract(path, text, &index),
        Format::EnvFile => envfile::extract(path, text, &index),
        Format::Renovate => renovate::extract(path, text, &index),
    }
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        assert_eq!(format_of("a/b/kustomization.yaml"), Some(Format::Yaml));
        assert_eq!(format_of("x.YML"), Some(Format::Yaml));
        assert_eq!(format_of("envs/kestrel-prod/main.tf"), Some(Format::Hcl));
        assert_eq!(
            format_of("stacks/live/terragrunt.stack.hcl"),
            Some(Format::Hcl)
        );
        assert_eq!(format_of("packer/ubuntu.pkr.hcl"), Some(Format::Hcl));
        assert_eq!(
            format_of("clusters/dev/.versions.env"),
            Some(Format::EnvFile)
        );
        assert_eq!(format_of("README.md"), None);
        assert_eq!(format_of(".github/renovate.json5"), Some(Format::Renovate));
        assert_eq!(format_of("renovate.json"), Some(Format::Renovate));
        assert_eq!(format_of(".renovaterc"), Some(Format::Renovate));
        assert_eq!(format_of("package.json"), None);
    }

    #[test]
    fn decode_strips_bom_and_rejects_binary() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1").unwrap(), "a: 1");
        assert!(decode(b"a\0b").unwrap_err().contains("binary"));
        assert!(decode(b"a\xFFb").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn prefilter_skips_manifests_whose_only_version_is_api_version() {
        let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: audit-api\n";
        assert!(!may_hold_facts(Format::Yaml, service));
        let chart = "apiVersion: v1\nchartVersion: 1.2.3\n";
        assert!(may_hold_facts(Format::Yaml, chart));
        assert!(may_hold_facts(Format::Yaml, "Version: 2\n"));
        assert!(may_hold_facts(
            Format::Yaml,
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  image: a:1\n"
        ));
        assert!(may_hold_facts(
            Format::Yaml,
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        ));
        // What Kustomize patches need: a base chart without version, a component that only
        // patches, a JSON patch of a source ref.
        for patchy in [
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec:\n      chart: podinfo\n",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatchesStrategicMerge:\n- prod.yml\n",
            "- op: replace\n  path: /spec/ref/semver\n  value: 1.2.3\n",
        ] {
            assert!(may_hold_facts(Format::Yaml, patchy), "{patchy}");
        }
        assert!(may_hold_facts(
            Format::Hcl,
            "locals {\n  IMAGE_TAG = \"v1\"\n}\n"
        ));
        assert!(!may_hold_facts(
            Format::Hcl,
            "locals {\n  region = \"eu\"\n}\n"
        ));
        assert!(may_hold_facts(
            Format::Hcl,
            "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n"
        ));
        assert!(!may_hold_facts(Format::EnvFile, "# nothing\n"));
    }
}
