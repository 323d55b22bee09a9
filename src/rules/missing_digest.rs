//! PL009 missing-digest: a protected environment's image without `@sha256:` (off by default).
use super::Finding;
use crate::config::Config;
use crate::model::{PinKind, RefKind};
use crate::snapshot::Snapshot;

pub const ID: &str = "PL009";

rule!(
    /// The rule.
    MissingDigest: tree
);

pub fn check(snap: &Snapshot, _config: &Config, out: &mut Vec<Finding>) {
    for p in &snap.pins {
        let pin = snap.pin(p);
        let env = snap.envs.get(p.env);
        let image_like = pin.kind.is_image() || pin.kind == PinKind::OciArtifact;
        // No tag at all is PL001's finding; this rule asks for the digest beside a tag.
        if !env.protected
            || !image_like
            || pin.reference.digest.is_some()
            || pin.reference.kind != RefKind::Tag
        {
            continue;
        }
        let message = format!(
            "{} pins {}:{} without a digest: the tag can be re-pushed",
            env.name, pin.component, pin.reference.value
        );
        out.push(Finding::on_pin(snap, ID, p, message));
    }
}
