//! The Kubernetes kinds promolint reads: one list, for the extractors and for the YAML
//! reader that skips documents of any other kind.

/// Workloads: their pod templates' containers pin images.
pub const WORKLOADS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// The other kinds whose documents may hold a fact.
pub const OTHER_KINDS: &[&str] = &[
    "ImagePolicy",
    "ImageRepository",
    "OCIRepository",
    "GitRepository",
    "HelmRelease",
    "Kustomization",
    "Component",
    "ResourceSet",
    "ImageUpdateAutomation",
    "Application",
    "ApplicationSet",
    "Stage",
    // Its `data` may be what a Flux `substituteFrom` reads.
    "ConfigMap",
    // Its copy rules say which directories a Flux `ExternalArtifact` holds.
    "ArtifactGenerator",
];

/// Whether a document of `kind` may hold a fact (a top-level mapping naming any other
/// `kind:` is skipped from that key on).
pub fn may_hold_facts(kind: &str) -> bool {
    WORKLOADS.contains(&kind) || OTHER_KINDS.contains(&kind)
}
