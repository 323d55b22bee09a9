//! What a Flux HelmRelease reads its values from besides `spec.values`: `valuesFrom`
//! ConfigMaps, and the `files` of the `configMapGenerator` entries that make them.
//! `snapshot::values_from` joins the two.

use super::objects::DocCx;
use super::tree::Node;
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
        let inline = self.cx.facts[first..]
            .iter()
            .filter_map(|f| f.as_pin().map(|p| p.context.clone()))
            .collect();
        self.push(FactKind::HelmValuesFrom(HelmValuesFrom {
            release: release.to_owned(),
            refs,
            inline,
        }));
    }
}
