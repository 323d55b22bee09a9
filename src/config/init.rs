//! `promolint init`: the inferred configuration, written with comments.
use super::Environments;

/// A commented `.promolint.yaml` describing `envs`.
pub fn render(_envs: &Environments, _files: &[String]) -> String {
    String::new()
}
