//! Images in Helm values: a HelmRelease's `spec.values`, a values file, the inline
//! `values` of a chart list entry.
//!
//! Charts put images wherever they like (`image`, `controllers.main.containers.app.image`
//! in app-template, `image.longhorn.manager`, `sidecars.exporter`), so the whole values
//! tree is searched for two shapes:
//!
//! - a mapping with a `repository` and a `tag` and/or `digest` (or `sha`) key (`registry` is
//!   prepended when present): the pin is on the tag (a `tag: 1.2.3@sha256:…` is a tag
//!   and a digest), or on the digest when there is no tag;
//! - an `image: repo:tag@digest` string, or `image: repo` with `imageTag: tag` beside it.
//!
//! A mapping whose tag and digest are both empty or missing (`image: {repository: x}`)
//! leaves the tag to the chart, which uses its own `appVersion`: the chart version pins
//! it, so it is no pin of the values. Templated values (`{{ … }}`, `${VAR}`,
//! `${VAR:=1.2.3}`, `<< inputs.x >>`) are filled in by something else before Helm sees
//! them and are no versions. A `repository` that is a URL (`https://…`, `git@…`) names
//! a Git or chart repository, not an image.

use super::cx::DocCx;
use super::tree::{Node, Val};
use crate::model::{split_image, Pin, PinKind, RefKind, Reference};

/// One step of the path from the values' root to a node, for a pin's context.
#[derive(Clone, Copy)]
enum Step<'n> {
    Key(&'n str),
    Index(usize),
}

/// Whether a value is a template or a substitution that another tool fills in.
pub(super) fn templated(value: &str) -> bool {
    value.contains("{{") || value.contains("${") || value.contains("<<")
}

/// Whether a values file's name marks it as one: `values.yaml`, `values-<x>.yaml`,
/// `values.<x>.yaml`, `values_<x>.yaml`, `<x>-values.yaml`, `<x>.values.yaml`,
/// `<x>_values.yaml` (`.yml` too, any case). A file under a chart's `templates/` is a
/// template, not values.
pub(crate) fn is_values_file(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or(path).to_ascii_lowercase();
    if parts.any(|dir| dir == "templates") {
        return false;
    }
    let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    else {
        return false;
    };
    stem == "values"
        || ["values-", "values.", "values_"]
            .iter()
            .any(|p| stem.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
        || ["-values", ".values", "_values"]
            .iter()
            .any(|s| stem.strip_suffix(s).is_some_and(|rest| !rest.is_empty()))
}

/// A non-empty scalar of a mapping, with its node.
fn scalar<'n>(map: &'n Node, key: &str) -> Option<(&'n str, &'n Node)> {
    let node = map.get(key)?;
    node.str()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| (v, node))
}

impl DocCx<'_, '_> {
    /// Every image of a values tree, in document order. `label` starts each pin's
    /// context (`values`, `chart cilium values`).
    ///
    /// The walk keeps its own stack: aliases are expanded by copying, so a tree can be
    /// deeper than the parser's nesting limit, and a recursion could run out of stack.
    /// Each node is visited once, and a path is rendered only for a pin.
    pub(super) fn values_images(&mut self, root: &Node, label: &str) {
        let mut path: Vec<Step> = Vec::new();
        // (node, the length of `path` above it, the step that reaches it).
        let mut stack: Vec<(&Node, usize, Option<Step>)> = vec![(root, 0, None)];
        while let Some((node, depth, step)) = stack.pop() {
            path.truncate(depth);
            if let Some(step) = step {
                path.push(step);
            }
            match &node.val {
                Val::Map(entries) => {
                    if let Some(pin) = self.image_mapping(node, label, &path) {
                        self.push_pin(pin);
                    }
                    let split = self.image_and_image_tag(node, label, &path);
                    let split_found = split.is_some();
                    if let Some(pin) = split {
                        self.push_pin(pin);
                    }
                    for (key, value) in entries.iter().rev() {
                        let Some(key) = key.str() else {
                            continue;
                        };
                        match &value.val {
                            Val::Scalar(_) if key == "image" && !split_found => {
                                // Pushed like a child, so that pins stay in document order.
                                stack.push((value, path.len(), Some(Step::Key(key))));
                            }
                            Val::Map(_) | Val::Seq(_) => {
                                stack.push((value, path.len(), Some(Step::Key(key))));
                            }
                            _ => {}
                        }
                    }
                }
                Val::Seq(items) => {
                    for (i, item) in items.iter().enumerate().rev() {
                        if matches!(item.val, Val::Map(_) | Val::Seq(_)) {
                            stack.push((item, path.len(), Some(Step::Index(i))));
                        }
                    }
                }
                // Only `image:` strings are pushed as scalars.
                Val::Scalar(value) => {
                    if templated(value) {
                        continue;
                    }
                    let context = context(label, &path, None);
                    if let Some(pin) = self.image_pin(PinKind::HelmValuesImage, node, context) {
                        self.push_pin(pin);
                    }
                }
                Val::Null => {}
            }
        }
    }

    /// `image: repo` with the tag beside it, `imageTag: 1.2.3` (Elastic's charts and
    /// others): one pin on the tag. Without `imageTag`, or when the image string has a
    /// tag or digest of its own, the `image` string is read alone.
    fn image_and_image_tag(&self, map: &Node, label: &str, path: &[Step]) -> Option<Pin> {
        let (image, _) = scalar(map, "image")?;
        let (tag, tag_node) = scalar(map, "imageTag")?;
        if templated(image) || templated(tag) {
            return None;
        }
        let (repository, own_tag, own_digest) = split_image(image);
        if repository.is_empty() || own_tag.is_some() || own_digest.is_some() {
            return None;
        }
        let decoded = tag_node.str().unwrap_or(tag);
        let lead = decoded.len() - decoded.trim_start().len();
        let (value, digest) = match tag.split_once('@') {
            Some((v, d)) => (v, Some(d).filter(|d| !d.is_empty())),
            None => (tag, None),
        };
        let (kind, range) = if value.is_empty() {
            (RefKind::Absent, tag_node.value_range(self.cx.text))
        } else {
            (RefKind::Tag, tag_node.range_of(self.cx.text, lead, value))
        };
        Some(Pin {
            kind: PinKind::HelmValuesImage,
            component: repository.to_owned(),
            reference: Reference {
                kind,
                value: value.to_owned(),
                digest: digest.map(str::to_owned),
            },
            span: self.cx.span(range),
            overrides: None,
            policy_ref: self.cx.setter(tag_node),
            context: context(label, path, Some("imageTag")),
        })
    }

    /// The pin of a `{registry?, repository, tag?, digest?}` mapping, if it is one.
    fn image_mapping(&self, map: &Node, label: &str, path: &[Step]) -> Option<Pin> {
        let (repository, repo_node) = scalar(map, "repository")?;
        if ["tag", "digest", "sha"]
            .iter()
            .all(|k| map.get(k).is_none())
        {
            return None;
        }
        if repository.contains("://") || repository.starts_with("git@") {
            return None;
        }
        let registry = scalar(map, "registry");
        let tag = scalar(map, "tag");
        // kube-prometheus-stack and its kin write the digest as `sha: <hex>` and render
        // `@sha256:<hex>`.
        let (digest, digest_key) = match scalar(map, "digest") {
            Some(d) => (Some(d), "digest"),
            None => (scalar(map, "sha"), "sha"),
        };
        let parts = [Some(repository), registry.map(|r| r.0), tag.map(|t| t.0)];
        if parts
            .iter()
            .chain([&digest.map(|d| d.0)])
            .flatten()
            .any(|v| templated(v))
        {
            return None;
        }
        let component = match registry {
            Some((registry, _)) => format!("{}/{repository}", registry.trim_end_matches('/')),
            None => repository.to_owned(),
        };
        let text = self.cx.text;
        // `tag: 1.2.3@sha256:…` (what Renovate writes) is a tag and a digest. Offsets are
        // into the decoded value, which `range_of` maps to the source when it can.
        let (tag_value, tag_digest) = match tag {
            Some((t, node)) => {
                let decoded = node.str().unwrap_or(t);
                let lead = decoded.len() - decoded.trim_start().len();
                match t.split_once('@') {
                    Some((before, after)) => (
                        Some((before, lead, node)),
                        Some((after, lead + before.len() + 1, node)),
                    ),
                    None => (Some((t, lead, node)), None),
                }
            }
            None => (None, None),
        };
        let tag_value = tag_value.filter(|(t, _, _)| !t.is_empty());
        let tag_digest = tag_digest.filter(|(d, _, _)| !d.is_empty());
        let digest_value = digest.map(|d| d.0).or(tag_digest.map(|d| d.0));
        let digest_value = digest_value.map(|d| {
            if d.contains(':') {
                d.to_owned()
            } else {
                format!("sha256:{d}")
            }
        });
        let (range, field, marker) = match (tag_value, tag_digest, digest) {
            (Some((t, at, node)), _, _) => (node.range_of(text, at, t), "tag", node),
            // `tag: "@sha256:…"`: only a digest is written.
            (None, Some((d, at, node)), None) => (node.range_of(text, at, d), "tag", node),
            (None, _, Some((_, node))) => (node.value_range(text), digest_key, node),
            // Neither a tag nor a digest: the chart's appVersion applies.
            (None, None, None) => return None,
        };
        let tag_value = tag_value.map_or("", |(t, _, _)| t);
        let reference = Reference {
            kind: if tag_value.is_empty() {
                RefKind::Absent
            } else {
                RefKind::Tag
            },
            value: tag_value.to_owned(),
            digest: digest_value,
        };
        Some(Pin {
            kind: PinKind::HelmValuesImage,
            component,
            reference,
            span: self.cx.span(range),
            overrides: None,
            policy_ref: self.cx.setter(marker).or_else(|| self.cx.setter(repo_node)),
            context: context(label, path, Some(field)),
        })
    }
}

/// `values controllers.main.containers[0].image.tag`.
fn context(label: &str, path: &[Step], field: Option<&str>) -> String {
    let mut out = String::from(label);
    let mut first = true;
    for step in path.iter().copied().map(Some).chain([field.map(Step::Key)]) {
        match step {
            Some(Step::Key(k)) => {
                out.push(if first { ' ' } else { '.' });
                out.push_str(k);
            }
            Some(Step::Index(i)) => {
                if first {
                    out.push(' ');
                }
                out.push_str(&format!("[{i}]"));
            }
            None => {}
        }
        first = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_file_names() {
        for yes in [
            "values.yaml",
            "charts/app/values.yml",
            "clusters/live/values-live.yaml",
            "apps/echo/echo-values.yaml",
            "apps/echo/echo.values.yaml",
            "apps/echo/values.prod.yaml",
            "apps/echo/my_values.YAML",
        ] {
            assert!(is_values_file(yes), "{yes}");
        }
        for no in [
            "helmrelease.yaml",
            "values-.yaml",
            "-values.yaml",
            "defaultvalues.yaml",
            "values.json",
            "values.yaml.gotmpl",
            "charts/app/templates/values.yaml",
            "kustomization.yaml",
        ] {
            assert!(!is_values_file(no), "{no}");
        }
    }

    #[test]
    fn templated_values() {
        for t in [
            "{{ .Values.tag }}",
            "${APP_VERSION}",
            "${V:=1.2.3}",
            "<< inputs.tag >>",
        ] {
            assert!(templated(t), "{t}");
        }
        for v in ["1.2.3", "v1.2.3@sha256:ab", "$5", "latest"] {
            assert!(!templated(v), "{v}");
        }
    }
}
