//! What a Flux HelmRelease reads its values from besides `spec.values`: `valuesFrom`
//! ConfigMaps, and the `files` of the `configMapGenerator` entries that make them.
//! `snapshot::values_from` joins the two.

use super::cx::DocCx;
use super::tree::{Node, Val};
use crate::model::{FactKind, HelmValuesFrom, ValuesRef};

/// Flux's `valuesKey` when none is given.
pub(crate) const DEFAULT_VALUES_KEY: &str = "values.yaml";

/// A generator entry's `files`: `key=path` or `path` (whose key is its base name).
pub(super) fn generator_files(entry: &Node) -> Vec<(String, String)> {
    entry
        .get("files")
        .map(Node::seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|f| {
            let text = f.str()?.trim();
            let (key, path) = match text.split_once('=') {
                Some((k, p)) => (k.trim(), p.trim()),
                None => (text.rsplit('/').next().unwrap_or(text), text),
            };
            (!key.is_empty() && !path.is_empty()).then(|| (key.to_owned(), path.to_owned()))
        })
        .collect()
}

impl DocCx<'_, '_> {
    /// A HelmRelease's `valuesFrom` ConfigMaps; `first`: the index of its first inline
    /// values fact (those pins override whatever `valuesFrom` sets at the same place).
    pub(super) fn values_from(&mut self, spec: &Node, release: &str, first: usize) {
        let refs: Vec<ValuesRef> = spec
            .get("valuesFrom")
            .map(Node::seq)
            .unwrap_or(&[])
            .iter()
            .filter(|r| r.str_at(&["kind"]) == Some("ConfigMap"))
            .filter_map(|r| {
                let node = r.get("name")?;
                let name = node.str()?.trim();
                let values_key = r.str_at(&["valuesKey"]).map(str::trim);
                Some(ValuesRef {
                    name: name.to_owned(),
                    values_key: values_key
                        .filter(|k| !k.is_empty())
                        .unwrap_or(DEFAULT_VALUES_KEY)
                        .to_owned(),
                    target_path: r
                        .str_at(&["targetPath"])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                    span: self.cx.span(node.value_range(self.cx.text)),
                })
            })
            .collect();
        if refs.is_empty() {
            return;
        }
        let mut inline: Vec<String> = self.cx.facts[first..]
            .iter()
            .filter_map(|f| f.as_pin().map(|p| p.context.clone()))
            .collect();
        // An inline `image.tag` alone (no repository beside it) is no pin, yet it
        // overrides the tag a values file sets there.
        if let Some(values) = spec.get("values") {
            inline.extend(version_keys(values, "values"));
        }
        self.push(FactKind::HelmValuesFrom(HelmValuesFrom {
            release: release.to_owned(),
            refs,
            inline,
        }));
    }
}

impl DocCx<'_, '_> {
    /// The `valuesFrom` of the HelmReleases a Flux Operator ResourceSet renders once per
    /// input: a ConfigMap name templated on the input (`<< inputs.name >>-values`) names
    /// one ConfigMap per input. A name that cannot be rendered from the input is skipped.
    pub(super) fn resource_set_values_from(&mut self, doc: &Node) {
        let Some(spec) = doc.get("spec") else {
            return;
        };
        let inputs = spec.get("inputs").map(Node::seq).unwrap_or(&[]);
        let releases = spec
            .get("resources")
            .map(Node::seq)
            .unwrap_or(&[])
            .iter()
            .filter(|r| r.str_at(&["kind"]) == Some("HelmRelease"));
        for release in releases {
            let entries = release
                .path(&["spec", "valuesFrom"])
                .map(Node::seq)
                .unwrap_or(&[]);
            let entries: Vec<(&Node, &Node)> = entries
                .iter()
                .filter(|r| r.str_at(&["kind"]) == Some("ConfigMap"))
                .filter_map(|r| Some((r, r.get("name")?)))
                .collect();
            if entries.is_empty() {
                continue;
            }
            for input in inputs {
                let refs: Vec<ValuesRef> = entries
                    .iter()
                    .filter_map(|(entry, node)| {
                        let name = render(node.str()?, input)?;
                        let values_key = entry
                            .str_at(&["valuesKey"])
                            .and_then(|k| render(k, input))
                            .unwrap_or_else(|| DEFAULT_VALUES_KEY.to_owned());
                        Some(ValuesRef {
                            name,
                            values_key,
                            target_path: entry.str_at(&["targetPath"]).map(str::to_owned),
                            span: self.cx.span(node.value_range(self.cx.text)),
                        })
                    })
                    .collect();
                if refs.is_empty() {
                    continue;
                }
                let label = input.str_at(&["name"]).unwrap_or("");
                self.push(FactKind::HelmValuesFrom(HelmValuesFrom {
                    release: render(
                        release.str_at(&["metadata", "name"]).unwrap_or(label),
                        input,
                    )
                    .unwrap_or_else(|| label.to_owned()),
                    refs,
                    inline: Vec::new(),
                }));
            }
        }
    }
}

/// Keys that carry an image's version in Helm values.
const VERSION_KEYS: &[&str] = &["tag", "digest", "sha", "imageTag", "image"];

/// The contexts (as `values.rs` writes a pin's: `values image.tag`,
/// `values containers[0].image`) of every scalar version key of a values tree.
fn version_keys(root: &Node, label: &str) -> Vec<String> {
    let mut out = Vec::new();
    // (node, its path); an explicit stack with a depth bound, as aliases can nest deep.
    let mut stack: Vec<(&Node, String)> = vec![(root, String::new())];
    while let Some((node, path)) = stack.pop() {
        if path.len() > 4096 {
            continue;
        }
        let join = |step: &str| {
            if path.is_empty() {
                format!(" {step}")
            } else {
                format!("{path}.{step}")
            }
        };
        match &node.val {
            Val::Map(entries) => {
                for (key, value) in entries {
                    let Some(key) = key.str() else {
                        continue;
                    };
                    match &value.val {
                        Val::Scalar(_) if VERSION_KEYS.contains(&key) => {
                            out.push(format!("{label}{}", join(key)));
                        }
                        Val::Map(_) | Val::Seq(_) => stack.push((value, join(key))),
                        _ => {}
                    }
                }
            }
            Val::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let step = if path.is_empty() {
                        format!(" [{i}]")
                    } else {
                        format!("{path}[{i}]")
                    };
                    stack.push((item, step));
                }
            }
            Val::Scalar(_) | Val::Null => {}
        }
    }
    out
}

/// A ResourceSet template string with each `<< inputs.a.b >>` replaced by the input's
/// scalar at `a.b`; `None` when a placeholder has a filter or names no scalar.
fn render(template: &str, input: &Node) -> Option<String> {
    let mut out = String::new();
    let mut rest = template.trim();
    while let Some(open) = rest.find("<<") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find(">>")?;
        let keys: Vec<&str> = after[..close]
            .trim()
            .strip_prefix("inputs.")?
            .split('.')
            .collect();
        out.push_str(input.path(&keys)?.str()?.trim());
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    (!out.is_empty()).then_some(out)
}

impl DocCx<'_, '_> {
    /// The image pins of a ConfigMap's `data` keys that hold Helm values as a literal block
    /// (`values.yaml: |`), pushed as pins of this file at their lines here, with the key
    /// and the pins' fact indices. Only keys a values file would be named by are read.
    pub(super) fn embedded_values(
        &mut self,
        entries: &[(Node, Node)],
    ) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for (key, value) in entries {
            let (Some(k), Some(decoded)) = (key.str(), value.str()) else {
                continue;
            };
            if !super::values::is_values_file(k) || !decoded.contains('\n') {
                continue;
            }
            let Some(lines) = block_lines(self.cx.text, value, decoded) else {
                continue;
            };
            let index = crate::model::LineIndex::new(decoded);
            let mut inner = super::cx::Cx {
                text: decoded,
                index: &index,
                kustomize_file: false,
                values_file: true,
                facts: Vec::new(),
            };
            if super::tree::parse(decoded, false, |doc| inner.document(doc)).is_err() {
                continue;
            }
            let mut pins = Vec::new();
            for fact in inner.facts {
                let FactKind::Pin(mut pin) = fact.kind else {
                    continue;
                };
                let (Some(start), Some(end)) = (
                    lines.map(pin.span.start, decoded),
                    lines.map(pin.span.end, decoded),
                ) else {
                    continue;
                };
                // The block is read as written only where its bytes are the decoded ones.
                if self.cx.text.get(start..end) != decoded.get(pin.span.start..pin.span.end) {
                    continue;
                }
                pin.span = self.cx.span(start..end);
                pins.push(self.cx.facts.len());
                self.push_pin(pin);
            }
            if !pins.is_empty() {
                out.push((k.to_owned(), pins));
            }
        }
        out
    }
}

/// Where the lines of a literal block scalar are in the source: the byte offset of each
/// content line's first character after the block's indentation.
struct BlockLines(Vec<usize>);

impl BlockLines {
    /// The source offset of offset `at` of the decoded block.
    fn map(&self, at: usize, decoded: &str) -> Option<usize> {
        let before = decoded.get(..at)?;
        let line = before.matches('\n').count();
        let column = at - before.rfind('\n').map_or(0, |i| i + 1);
        Some(self.0.get(line)? + column)
    }
}

/// The content lines of block scalar `node` (`|` style, whose decoded text is the
/// source's lines without their indentation; the node starts at its first content
/// character); `None` for any other style.
fn block_lines(text: &str, node: &Node, decoded: &str) -> Option<BlockLines> {
    let line_start = text.get(..node.start)?.rfind('\n')? + 1;
    let lead = text.get(line_start..node.start)?;
    if !lead.bytes().all(|b| b == b' ') {
        return None;
    }
    let header = text.get(..line_start - 1)?;
    let header = header[header.rfind('\n').map_or(0, |i| i + 1)..].trim_end();
    let style = header.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
    if !style.ends_with('|') {
        return None;
    }
    let indent = lead.len();
    let mut starts = Vec::new();
    let mut at = line_start;
    for _ in 0..=decoded.matches('\n').count() {
        starts.push(at + indent);
        match text.get(at..).and_then(|rest| rest.find('\n')) {
            Some(i) => at += i + 1,
            None => break,
        }
    }
    Some(BlockLines(starts))
}

#[cfg(test)]
mod tests {
    use crate::model::{Fact, FactKind, HelmValuesFrom, LineIndex};

    fn from(path: &str, text: &str) -> Vec<HelmValuesFrom> {
        let index = LineIndex::new(text);
        let facts: Vec<Fact> = match super::super::extract(path, text, &index) {
            Ok(f) => f,
            Err(e) => panic!("{path}: {e}"),
        };
        facts
            .into_iter()
            .filter_map(|f| match f.kind {
                FactKind::HelmValuesFrom(v) => Some(v),
                _ => None,
            })
            .collect()
    }

    /// ConfigMap entries only, with Flux's default key; the inline values' pins are
    /// listed so that they can override.
    #[test]
    fn helm_release_value_from() {
        let text = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\nspec:\n  valuesFrom:\n    - kind: Secret\n      name: creds\n    - kind: ConfigMap\n      name: app-values\n    - kind: ConfigMap\n      name: app-tag\n      valuesKey: tag\n      targetPath: image.tag\n  values:\n    image:\n      repository: ghcr.io/acme/app\n      tag: 1.0.0\n";
        let v = from("apps/base/release.yaml", text);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].release, "app");
        let refs: Vec<(&str, &str, Option<&str>, u32)> = v[0]
            .refs
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.values_key.as_str(),
                    r.target_path.as_deref(),
                    r.span.line,
                )
            })
            .collect();
        assert_eq!(
            refs,
            [
                ("app-values", "values.yaml", None, 10),
                ("app-tag", "tag", Some("image.tag"), 12),
            ]
        );
        assert_eq!(v[0].inline, ["values image.tag", "values image.tag"]);
        // A tag set inline without a repository beside it still overrides.
        let tag_only = text.replace("      repository: ghcr.io/acme/app\n", "");
        let v = from("apps/base/release.yaml", &tag_only);
        assert_eq!(v[0].inline, ["values image.tag"]);
        let nested = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\nspec:\n  valuesFrom:\n    - kind: ConfigMap\n      name: v\n  values:\n    sidecars:\n      - image: x:1\n    controllers:\n      main:\n        containers:\n          app:\n            image:\n              tag: 2\n";
        let v = from("apps/base/release.yaml", nested);
        let mut inline = v[0].inline.clone();
        inline.sort();
        inline.dedup();
        assert_eq!(
            inline,
            [
                "values controllers.main.containers.app.image.tag",
                "values sidecars[0].image"
            ]
        );
    }

    /// The pins of a ConfigMap's inline values are located in the manifest itself.
    #[test]
    fn config_map_inline_values_are_located_in_the_manifest() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\ndata:\n  values.yaml: |\n    image:\n      repository: ghcr.io/acme/app\n      tag: 1.2.3 # note\n    sidecar:\n\n      image: ghcr.io/acme/sidecar:4.5.6\n  APP_VERSION: \"1.0\"\n  folded.yaml: >\n    image: ghcr.io/acme/x:1\n";
        let index = LineIndex::new(text);
        let facts = match super::super::extract("apps/base/values-cm.yaml", text, &index) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let pins: Vec<String> = facts
            .iter()
            .filter_map(|f| f.as_pin())
            .map(|p| {
                format!(
                    "{} {} {}:{} {}",
                    p.component,
                    p.reference.value,
                    p.span.line,
                    p.span.column,
                    &text[p.span.start..p.span.end]
                )
            })
            .collect();
        assert_eq!(
            pins,
            [
                "ghcr.io/acme/app 1.2.3 9:12 1.2.3",
                "ghcr.io/acme/sidecar 4.5.6 12:35 4.5.6",
            ]
        );
        let embedded: Vec<(String, usize)> = facts
            .iter()
            .filter_map(|f| match &f.kind {
                FactKind::ConfigMapSource(c) => Some(c),
                _ => None,
            })
            .flat_map(|c| c.embedded.iter().map(|(k, p)| (k.clone(), p.len())))
            .collect();
        assert_eq!(embedded, [("values.yaml".to_string(), 2)]);
    }

    /// A ResourceSet's HelmRelease template names one ConfigMap per input; a name that
    /// cannot be rendered (a filter, a missing input field) is skipped.
    #[test]
    fn resource_set_renders_names_per_input() {
        let text = "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: charts\nspec:\n  inputs:\n    - name: a\n    - name: b\n      key: custom.yaml\n  resources:\n    - kind: HelmRelease\n      metadata:\n        name: << inputs.name >>\n      spec:\n        valuesFrom:\n          - kind: ConfigMap\n            name: << inputs.name >>-values\n            valuesKey: << inputs.key >>\n          - kind: ConfigMap\n            name: << inputs.name | quote >>\n";
        let v = from("clusters/dev/helm-charts.yaml", text);
        let seen: Vec<String> = v
            .iter()
            .flat_map(|h| {
                h.refs
                    .iter()
                    .map(move |r| format!("{} {} {}", h.release, r.name, r.values_key))
            })
            .collect();
        assert_eq!(seen, ["a a-values values.yaml", "b b-values custom.yaml"]);
    }
}
