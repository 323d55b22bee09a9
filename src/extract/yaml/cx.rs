//! The extraction context every YAML extractor writes into (one file, one document), and
//! the Flux setter markers they read beside values.

use crate::model::{Fact, LineIndex};

/// What every extractor needs: the source (for spans and setter markers) and the facts
/// found so far.
pub(super) struct Cx<'a> {
    pub text: &'a str,
    pub index: &'a LineIndex,
    /// Whether the file is a `kustomization.yaml` (only such files are read by kustomize).
    pub kustomize_file: bool,
    /// Whether the file's name marks it as Helm values (see [`super::values`]): only
    /// such files are searched for images at any depth, never arbitrary YAML.
    pub values_file: bool,
    pub facts: Vec<Fact>,
}

/// One document being read: its namespace goes on every fact it yields.
pub(super) struct DocCx<'c, 'a> {
    pub cx: &'c mut Cx<'a>,
    pub namespace: Option<String>,
}

/// The Flux setter marker in a comment on the line where a value ending at byte `end`
/// ends: `# {"$imagepolicy": "flux-system:backend:tag"}` → `flux-system:backend`.
pub(super) fn setter_in(text: &str, end: usize) -> Option<String> {
    let rest = text.get(end..)?;
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let comment = &line[line.find('#')? + 1..];
    let after = &comment[comment.find("\"$imagepolicy\"")? + "\"$imagepolicy\"".len()..];
    let after = after.trim_start().strip_prefix(':')?.trim_start();
    let value = after.strip_prefix('"')?;
    let value = &value[..value.find('"')?];
    // `ns:name:tag` / `ns:name:name`: the third field selects what is written.
    let mut parts = value.splitn(3, ':');
    let policy = match (parts.next(), parts.next()) {
        (Some(ns), Some(name)) => format!("{ns}:{name}"),
        _ => value.to_owned(),
    };
    (!policy.is_empty()).then_some(policy)
}
