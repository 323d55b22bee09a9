//! What Kustomize patches can change: the version-bearing fields of an object (as a base,
//! so that a patch can replace its pins, and as a strategic merge patch, for the values it
//! sets), JSON 6902 patches, and a kustomization's patch entries with their targets.
//!
//! One walk serves every shape: a field is recognised by its path in the object
//! (`spec.chart.spec.version`, `spec.ref.tag`, `…containers[name].image`,
//! `spec.values.….image.tag`), whether the path comes from the document's own keys (a base
//! or a strategic merge patch) or from a JSON pointer plus the value it writes.

use super::cx::setter_in;
use super::tree::{self, Node, Val};
use crate::model::kinds::WORKLOADS;
use crate::model::{
    split_image, Field, FieldValue, JsonPatch, KubeObject, KustomizePatch, LineIndex, PatchBody,
    PatchTarget, Replacement, ReplacementTarget, Span,
};
use std::ops::Range;

/// Keys of a Flux source `spec.ref` that choose a revision.
const REF_KEYS: &[&str] = &["tag", "semver", "digest", "branch", "commit", "name"];

/// Keys of a Helm values `image:` mapping that make its pin.
const IMAGE_KEYS: &[&str] = &["tag", "repository", "registry", "digest"];

/// How the byte offsets of a document's nodes become spans of the file. A patch written
/// inline in a kustomization is YAML inside a YAML string: its offsets are mapped back
/// through the string's lines when the file spells them literally (a `|` block or a plain
/// line), and otherwise every span is the whole string.
pub(super) struct Locator<'a> {
    /// The text the nodes' offsets refer to.
    pub text: &'a str,
    file_text: &'a str,
    index: &'a LineIndex,
    embedding: Embedding,
}

enum Embedding {
    /// The nodes are the file's own.
    Direct,
    /// (offset in `text` where a line starts, offset in the file of the same character).
    Lines(Vec<(usize, usize)>),
    /// Not mappable: everything is this range of the file.
    Whole(Range<usize>),
}

impl<'a> Locator<'a> {
    pub fn direct(text: &'a str, index: &'a LineIndex) -> Self {
        Locator {
            text,
            file_text: text,
            index,
            embedding: Embedding::Direct,
        }
    }

    /// A locator for the decoded text of string node `node` of the file `file_text`.
    fn embedded(file_text: &'a str, index: &'a LineIndex, node: &Node, value: &'a str) -> Self {
        let embedding = embed_lines(file_text, node, value)
            .map_or(Embedding::Whole(node.start..node.end), Embedding::Lines);
        Locator {
            text: value,
            file_text,
            index,
            embedding,
        }
    }

    fn offset(&self, at: usize) -> Option<usize> {
        match &self.embedding {
            Embedding::Direct => Some(at),
            Embedding::Lines(lines) => {
                let i = lines
                    .partition_point(|(start, _)| *start <= at)
                    .checked_sub(1)?;
                let (start, file) = lines[i];
                Some(file + (at - start))
            }
            Embedding::Whole(_) => None,
        }
    }

    pub fn span(&self, range: Range<usize>) -> Span {
        match (self.offset(range.start), self.offset(range.end)) {
            (Some(s), Some(e)) => self.index.span(self.file_text, s..e),
            _ => {
                let whole = match &self.embedding {
                    Embedding::Whole(w) => w.clone(),
                    _ => range,
                };
                self.index.span(self.file_text, whole)
            }
        }
    }

    /// A setter marker after `node` (only in the file's own nodes: a comment inside an
    /// inline patch belongs to the patch text, where Flux does not look).
    fn setter(&self, node: &Node) -> Option<String> {
        match self.embedding {
            Embedding::Direct => setter_in(self.text, node.end),
            _ => None,
        }
    }
}

/// Line map of a literal block scalar (`|`, `|-`, `|+`) or a single-line scalar spelled
/// as decoded; `None` when the decoded text is not the file's text line by line (folding,
/// escapes).
fn embed_lines(text: &str, node: &Node, value: &str) -> Option<Vec<(usize, usize)>> {
    let raw = text.get(node.start..node.end)?;
    if !value.contains('\n') {
        let at = if raw == value || raw.trim_end() == value {
            node.start
        } else if raw.len() >= 2 && raw.get(1..raw.len() - 1) == Some(value) {
            node.start + 1
        } else {
            return None;
        };
        return Some(vec![(0, at)]);
    }
    // A block scalar's range may start at its indicator or at its first content line:
    // the block's lines start at the line of the range's start when only indentation
    // precedes it there, else at the next line.
    let line_begin = text[..node.start].rfind('\n').map_or(0, |i| i + 1);
    let mut file_at = if text[line_begin..node.start].trim().is_empty() {
        line_begin
    } else {
        node.start + raw.find('\n')? + 1
    };
    let body = text.get(file_at..)?;
    let mut source = body.split_inclusive('\n');
    let mut indent = None;
    let mut out = Vec::new();
    let mut dec_at = 0;
    for line in value.split_inclusive('\n') {
        let content = line.strip_suffix('\n').unwrap_or(line);
        let src = source.next()?;
        let src_line = src.strip_suffix('\n').unwrap_or(src);
        let src_line = src_line.strip_suffix('\r').unwrap_or(src_line);
        if content.is_empty() {
            // A blank line may be indented less than the block.
            if !src_line.trim().is_empty() {
                return None;
            }
        } else {
            let n = *indent.get_or_insert_with(|| src_line.len() - src_line.trim_start().len());
            if n == 0 || src_line.get(n..) != Some(content) {
                return None;
            }
            out.push((dec_at, file_at + n));
        }
        dec_at += line.len();
        file_at += src.len();
    }
    Some(out)
}

/// One step of a path in an object.
#[derive(Clone, Copy)]
enum Seg<'n> {
    Key(&'n str),
    /// A sequence item, with its `name` when it has one (how strategic merge matches
    /// containers).
    Item(usize, Option<&'n str>),
}

/// The field a path names, if it is one a version comes from.
fn field_of(path: &[Seg]) -> Option<Field> {
    use Seg::{Item, Key};
    match path {
        [Key("spec"), Key("chart"), Key("spec"), Key("version")] => Some(Field::ChartVersion),
        [Key("spec"), Key("ref"), Key(key)] if REF_KEYS.contains(key) => Some(Field::Ref {
            key: (*key).to_owned(),
        }),
        [Key("spec"), Key("values"), rest @ ..] => {
            let last = match rest {
                [.., Key("image")] => true,
                [.., Key("image"), Key(k)] if IMAGE_KEYS.contains(k) => true,
                _ => false,
            };
            last.then(|| Field::Value {
                path: values_path(rest),
            })
        }
        [pod @ .., Key(list @ ("containers" | "initContainers")), Item(index, name), Key("image")]
            if is_pod_spec(pod) =>
        {
            Some(Field::Image {
                init: *list == "initContainers",
                name: name.map(str::to_owned),
                index: Some(*index),
            })
        }
        _ => None,
    }
}

/// Where a pod spec sits: a Pod's `spec`, a CronJob's job template, or a workload's
/// template.
fn is_pod_spec(path: &[Seg]) -> bool {
    use Seg::Key;
    matches!(
        path,
        [Key("spec")]
            | [Key("spec"), Key("template"), Key("spec")]
            | [
                Key("spec"),
                Key("jobTemplate"),
                Key("spec"),
                Key("template"),
                Key("spec")
            ]
    )
}

/// `a.b[0].image`: how values paths are written in pin contexts.
fn values_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Item(i, _) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether a field's value is an image reference (`repo:tag@digest`).
fn is_image(field: &Field) -> bool {
    match field {
        Field::Image { .. } => true,
        Field::Value { path } => path == "image" || path.ends_with(".image"),
        _ => false,
    }
}

/// Byte range of what an image pin spans: the tag when there is one, else the whole value
/// (as the workload and values extractors do).
fn image_range(node: &Node, text: &str) -> Range<usize> {
    let Some(value) = node.str().map(str::trim) else {
        return node.value_range(text);
    };
    let (repository, tag, _) = split_image(value);
    match tag.filter(|t| !t.is_empty()) {
        Some(t) => node.range_of(text, repository.len() + 1, t),
        None => node.value_range(text),
    }
}

/// Collect the version-bearing leaves under `node` (at `path`) into `out`.
fn collect<'n>(node: &'n Node, path: &mut Vec<Seg<'n>>, at: &Locator, out: &mut Vec<FieldValue>) {
    match &node.val {
        Val::Map(entries) => {
            for (k, v) in entries {
                let Some(key) = k.str() else {
                    continue;
                };
                path.push(Seg::Key(key));
                collect(v, path, at, out);
                path.pop();
            }
        }
        Val::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Item(i, item.str_at(&["name"])));
                collect(item, path, at, out);
                path.pop();
            }
        }
        Val::Scalar(_) | Val::Null => {
            let Some(field) = field_of(path) else {
                return;
            };
            let range = if is_image(&field) {
                image_range(node, at.text)
            } else {
                node.value_range(at.text)
            };
            out.push(FieldValue {
                value: node.str().map(str::to_owned),
                span: at.span(range),
                policy_ref: at.setter(node),
                field,
            });
        }
    }
}

/// Whether a document of this kind can carry a version a patch would change.
fn versioned_kind(group: &str, kind: &str) -> bool {
    match group {
        "" | "apps" | "batch" | "extensions" => WORKLOADS.contains(&kind),
        "helm.toolkit.fluxcd.io" => kind == "HelmRelease",
        "source.toolkit.fluxcd.io" => matches!(kind, "OCIRepository" | "GitRepository"),
        _ => false,
    }
}

/// The object a document describes, with the version-bearing values it writes; `None` for
/// kinds without versions. Pins are linked by the caller, which knows the file's facts.
pub(super) fn object(doc: &Node, at: &Locator) -> Option<KubeObject> {
    let api_version = doc.str_at(&["apiVersion"]).unwrap_or("");
    let kind = doc.str_at(&["kind"])?;
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    if !versioned_kind(group, kind) {
        return None;
    }
    let mut values = Vec::new();
    if let Some(spec) = doc.get("spec") {
        let mut path = vec![Seg::Key("spec")];
        collect(spec, &mut path, at, &mut values);
    }
    let labels = doc
        .path(&["metadata", "labels"])
        .map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| Some((k.str()?.to_owned(), v.str()?.to_owned())))
        .collect();
    Some(KubeObject {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
        name: doc.str_at(&["metadata", "name"]).unwrap_or("").to_owned(),
        namespace: doc.str_at(&["metadata", "namespace"]).map(str::to_owned),
        labels,
        values,
        pins: Vec::new(),
    })
}

/// A JSON 6902 patch: a sequence of `{op, path, value?}` mappings. `None` when the
/// sequence is something else (a chart list).
pub(super) fn json_patch(items: &[Node], at: &Locator) -> Option<JsonPatch> {
    let ops = items.iter().map(|op| {
        let kind = op.str_at(&["op"])?;
        let path = op.str_at(&["path"])?;
        Some((kind, path, op.get("value")))
    });
    let ops: Vec<_> = ops.collect::<Option<_>>()?;
    if ops.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for (op, pointer, value) in ops {
        let segs: Vec<String> = match pointer.strip_prefix('/') {
            // RFC 6901 escapes: `~1` is `/`, `~0` is `~`.
            Some(rest) => rest
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect(),
            None => continue,
        };
        let mut path: Vec<Seg> = segs
            .iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => Seg::Item(i, None),
                Err(_) => Seg::Key(s.as_str()),
            })
            .collect();
        match (op, value) {
            ("add" | "replace", Some(value)) => collect(value, &mut path, at, &mut out),
            ("remove", _) => {
                if let Some(field) = field_of(&path) {
                    out.push(FieldValue {
                        field,
                        value: None,
                        span: at.span(op_range(items, pointer)),
                        policy_ref: None,
                    });
                }
            }
            _ => {}
        }
    }
    Some(JsonPatch { ops: out })
}

/// Range of the `path:` value of the op with `pointer` (what a `remove` is reported at).
fn op_range(items: &[Node], pointer: &str) -> Range<usize> {
    items
        .iter()
        .filter_map(|op| op.get("path"))
        .find(|p| p.str() == Some(pointer))
        .map_or(0..0, |p| p.start..p.end)
}

/// The documents of a patch: strategic merge objects and JSON patches.
fn bodies(docs: &[Node], at: &Locator) -> Vec<PatchBody> {
    docs.iter()
        .filter_map(|doc| match &doc.val {
            Val::Seq(items) => json_patch(items, at).map(PatchBody::Json),
            Val::Map(_) => object(doc, at).map(PatchBody::Merge),
            _ => None,
        })
        .collect()
}

/// An inline patch: the string parsed as YAML (JSON is YAML), its spans mapped into the
/// file. A patch that does not parse sets nothing (Kustomize would refuse the build).
fn inline(node: &Node, text: &str, index: &LineIndex) -> Vec<PatchBody> {
    let Some(value) = node.str() else {
        return Vec::new();
    };
    let at = Locator::embedded(text, index, node, value);
    let mut docs = Vec::new();
    if tree::parse(value, true, |doc| docs.push(doc.clone())).is_err() {
        return Vec::new();
    }
    bodies(&docs, &at)
}

fn target(node: Option<&Node>) -> Option<PatchTarget> {
    let node = node?;
    let s = |key: &str| node.str_at(&[key]).map(str::to_owned);
    Some(PatchTarget {
        group: s("group"),
        version: s("version"),
        kind: s("kind"),
        name: s("name"),
        namespace: s("namespace"),
        label_selector: s("labelSelector"),
        annotation_selector: s("annotationSelector"),
    })
}

/// The patch entries of a kustomization, in the order Kustomize applies them:
/// `patchesStrategicMerge`, then `patches`, then `patchesJson6902`.
pub(super) fn patches(doc: &Node, text: &str, index: &LineIndex) -> Vec<KustomizePatch> {
    let at = Locator::direct(text, index);
    let mut out = Vec::new();
    for entry in doc
        .get("patchesStrategicMerge")
        .map(Node::seq)
        .unwrap_or(&[])
    {
        let Some(value) = entry.str() else {
            continue;
        };
        // An entry is a file path, or (with a line break) the patch itself.
        let patch = if value.contains('\n') {
            KustomizePatch {
                path: None,
                inline: inline(entry, text, index),
                target: None,
                span: at.span(entry.start..entry.end),
            }
        } else {
            KustomizePatch {
                path: Some(value.trim().to_owned()),
                inline: Vec::new(),
                target: None,
                span: at.span(entry.value_range(text)),
            }
        };
        out.push(patch);
    }
    for key in ["patches", "patchesJson6902"] {
        for entry in doc.get(key).map(Node::seq).unwrap_or(&[]) {
            let target = target(entry.get("target"));
            if let Some(path) = entry.get("path").filter(|p| p.str().is_some()) {
                out.push(KustomizePatch {
                    path: path.str().map(|p| p.trim().to_owned()),
                    inline: Vec::new(),
                    target,
                    span: at.span(path.value_range(text)),
                });
            } else if let Some(patch) = entry.get("patch").filter(|p| p.str().is_some()) {
                out.push(KustomizePatch {
                    path: None,
                    inline: inline(patch, text, index),
                    target,
                    span: at.span(patch.start..patch.end),
                });
            }
        }
    }
    out
}

/// `options` of a replacement source or target: `Ok(None)` without, `Ok(Some)` for a
/// `delimiter` with an `index` (0 by default), `Err` for anything else (`create`, a
/// negative index, an unknown key): such an entry is not followed.
fn replacement_options(node: Option<&Node>) -> Result<Option<(String, usize)>, ()> {
    let Some(node) = node else {
        return Ok(None);
    };
    let mut delimiter = None;
    let mut index = 0;
    for (k, v) in node.entries() {
        match k.str() {
            Some("delimiter") => delimiter = Some(v.str().ok_or(())?.to_owned()),
            Some("index") => index = v.str().and_then(|i| i.parse().ok()).ok_or(())?,
            _ => return Err(()),
        }
    }
    match delimiter {
        Some(d) if !d.is_empty() => Ok(Some((d, index))),
        None if index == 0 && node.entries().is_empty() => Ok(None),
        _ => Err(()),
    }
}

/// A replacement's `select`/`reject`/`source` selector fields.
fn replacement_selector(node: &Node) -> PatchTarget {
    target(Some(node)).unwrap_or_default()
}

/// A kustomization's inline `replacements` entries, as far as they can be followed: a
/// `path:` entry (a file of replacements), a source without `fieldPath`, unknown options
/// or a target without `select` are left out (a replacement left out changes nothing).
pub(super) fn replacements(doc: &Node) -> Vec<Replacement> {
    replacement_list(doc.get("replacements").map(Node::seq).unwrap_or(&[]))
}

/// The `path:` entries of a kustomization's `replacements`, each with the number of
/// inline entries before it.
pub(super) fn replacement_files(doc: &Node) -> Vec<(usize, String)> {
    let mut inline = 0;
    let mut out = Vec::new();
    for entry in doc.get("replacements").map(Node::seq).unwrap_or(&[]) {
        match entry.str_at(&["path"]) {
            Some(p) => out.push((inline, p.trim().to_owned())),
            // Counted as `replacements` keeps them.
            None => inline += replacement_list(std::slice::from_ref(entry)).len(),
        }
    }
    out
}

/// Whether a top-level sequence is a file of replacements: every item a mapping with a
/// `source` and `targets`.
pub(super) fn is_replacement_list(items: &[Node]) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|i| i.get("source").is_some() && i.get("targets").is_some())
}

/// Replacement entries as far as they can be followed (see [`replacements`]).
pub(super) fn replacement_list(items: &[Node]) -> Vec<Replacement> {
    let mut out = Vec::new();
    for entry in items {
        let Some(source) = entry.get("source") else {
            continue;
        };
        let Some(field_path) = source.str_at(&["fieldPath"]) else {
            continue;
        };
        let Ok(options) = replacement_options(source.get("options")) else {
            continue;
        };
        let mut targets = Vec::new();
        for t in entry.get("targets").map(Node::seq).unwrap_or(&[]) {
            let Some(select) = t.get("select") else {
                continue;
            };
            let Ok(options) = replacement_options(t.get("options")) else {
                continue;
            };
            let field_paths: Vec<String> = t
                .get("fieldPaths")
                .map(Node::seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|p| p.str().map(|p| p.trim().to_owned()))
                .collect();
            targets.push(ReplacementTarget {
                select: replacement_selector(select),
                reject: t
                    .get("reject")
                    .map(Node::seq)
                    .unwrap_or(&[])
                    .iter()
                    .map(replacement_selector)
                    .collect(),
                field_paths,
                options,
            });
        }
        if targets.is_empty() {
            continue;
        }
        out.push(Replacement {
            source: replacement_selector(source),
            field_path: field_path.trim().to_owned(),
            options,
            targets,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::extract::test_support::at;
    use crate::extract::yaml::extract;
    use crate::model::{Fact, FactKind, Field, KubeObject, Kustomization, LineIndex, PatchBody};

    fn run(path: &str, text: &str) -> Vec<Fact> {
        let index = LineIndex::new(text);
        match extract(path, text, &index) {
            Ok(facts) => facts,
            Err(e) => panic!("{path}: {e}"),
        }
    }

    fn objects(facts: &[Fact]) -> Vec<&KubeObject> {
        facts
            .iter()
            .filter_map(|f| match &f.kind {
                FactKind::Object(o) => Some(o),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn replacements_keep_what_can_be_followed() {
        let text = "\
replacements:
  - source:
      kind: ConfigMap
      name: web-versions
      fieldPath: data.WEB_VERSION
    targets:
      - select:
          kind: Deployment
          name: web
        reject:
          - name: web-canary
        fieldPaths:
          - spec.template.spec.containers.[name=app].image
        options:
          delimiter: ':'
          index: 1
      - select:
          kind: Deployment
        fieldPaths: [spec.template.spec.containers.0.image]
        options:
          create: true
      - fieldPaths: [spec.chart.spec.version]
  - path: replacements.yaml
  - source:
      kind: Deployment
      name: web
      fieldPath: spec.template.spec.containers.[name=app].image
      options:
        delimiter: ':'
        index: -1
    targets:
      - select:
          kind: Deployment
        fieldPaths: [spec.template.spec.containers.0.image]
";
        let facts = run("apps/web/production/kustomization.yaml", text);
        let k = kustomization(&facts);
        assert_eq!(k.replacements.len(), 1, "{:?}", k.replacements);
        let r = &k.replacements[0];
        assert_eq!(r.source.kind.as_deref(), Some("ConfigMap"));
        assert_eq!(r.source.name.as_deref(), Some("web-versions"));
        assert_eq!(r.field_path, "data.WEB_VERSION");
        assert_eq!(r.options, None);
        // The target with `create` and the one without `select` are left out.
        assert_eq!(r.targets.len(), 1);
        let t = &r.targets[0];
        assert_eq!(t.select.name.as_deref(), Some("web"));
        assert_eq!(t.reject[0].name.as_deref(), Some("web-canary"));
        assert_eq!(
            t.field_paths,
            ["spec.template.spec.containers.[name=app].image"]
        );
        assert_eq!(t.options, Some((":".to_owned(), 1)));
        assert_eq!(k.replacement_files, [(1, "replacements.yaml".to_owned())]);
        // The file it names is a list of replacements.
        let list = "- source:\n    kind: ConfigMap\n    name: v\n    fieldPath: data.A\n  targets:\n    - select: {kind: Deployment}\n      fieldPaths: [spec.template.spec.containers.0.image]\n";
        let facts = run("apps/web/production/replacements.yaml", list);
        assert!(
            matches!(&facts[..], [Fact { kind: FactKind::Replacements(r), .. }] if r.len() == 1),
            "{facts:?}"
        );
    }

    fn kustomization(facts: &[Fact]) -> &Kustomization {
        facts
            .iter()
            .find_map(|f| match &f.kind {
                FactKind::Kustomization(k) => Some(k),
                _ => None,
            })
            .expect("a kustomization")
    }

    #[test]
    fn a_helm_release_links_its_chart_pin_and_values_to_fields() {
        let text = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
  labels:
    app: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      version: ">=1.0.0"
  values:
    image:
      repository: ghcr.io/stefanprodan/podinfo
      tag: 6.5.0
"#;
        let facts = run("apps/base/podinfo/release.yaml", text);
        let o = objects(&facts)[0];
        assert_eq!(
            (o.kind.as_str(), o.name.as_str()),
            ("HelmRelease", "podinfo")
        );
        assert_eq!(o.namespace.as_deref(), Some("podinfo"));
        assert_eq!(o.labels, [("app".to_string(), "podinfo".to_string())]);
        let fields: Vec<_> = o.values.iter().map(|v| &v.field).collect();
        assert_eq!(
            fields,
            [
                &Field::ChartVersion,
                &Field::Value {
                    path: "image.repository".into()
                },
                &Field::Value {
                    path: "image.tag".into()
                },
            ]
        );
        assert_eq!(at(text, &o.values[0].span, ">=1.0.0"), "12:17-12:24");
        assert_eq!(at(text, &o.values[2].span, "6.5.0"), "16:12-16:17");
        // The chart pin and the values image pin, each linked to its field.
        assert_eq!(
            o.pins,
            [
                (0, Field::ChartVersion),
                (
                    1,
                    Field::Value {
                        path: "image".into()
                    }
                )
            ]
        );
    }

    #[test]
    fn a_strategic_merge_patch_file_without_a_chart_name_is_an_object() {
        let text = r#"apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chart:
    spec:
      version: "6.5.0"
"#;
        let facts = run("apps/production/podinfo-values.yaml", text);
        assert_eq!(facts.len(), 1, "no pin: the chart is the base's");
        let o = objects(&facts)[0];
        assert_eq!(o.values[0].field, Field::ChartVersion);
        assert_eq!(o.values[0].value.as_deref(), Some("6.5.0"));
        assert_eq!(at(text, &o.values[0].span, "6.5.0"), "8:17-8:22");
        assert!(o.pins.is_empty());
    }

    #[test]
    fn containers_are_fields_by_name_and_position() {
        let text = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/web:v1 # {"$imagepolicy": "flux-system:web"}
      containers:
        - name: web
          image: ghcr.io/acme/web:v1
        - name: sidecar
          image: null
"#;
        let facts = run("apps/web/deployment.yaml", text);
        let o = objects(&facts)[0];
        assert_eq!(
            o.values[0].field,
            Field::Image {
                init: true,
                name: Some("migrate".into()),
                index: Some(0)
            }
        );
        assert_eq!(at(text, &o.values[0].span, "v1"), "10:35-10:37");
        assert_eq!(o.values[0].policy_ref.as_deref(), Some("flux-system:web"));
        assert_eq!(at(text, &o.values[1].span, "v1"), "13:35-13:37");
        assert_eq!(o.values[2].value, None, "a null image removes it");
        let linked: Vec<usize> = o.pins.iter().map(|(i, _)| *i).collect();
        assert_eq!(linked, [0, 1]);
    }

    #[test]
    fn a_json_patch_file_names_its_fields() {
        let text = r#"- op: replace
  path: /spec/chart/spec/version
  value: 6.5.0
- op: add
  path: /spec/template/spec/containers/1/image
  value: "nginx:1.27"
- op: replace
  path: /spec/ref
  value:
    tag: v2.0.0
- op: remove
  path: /spec/values/image/tag
- op: replace
  path: /metadata/name
  value: other
"#;
        let facts = run("apps/production/version.yaml", text);
        let [Fact {
            kind: FactKind::JsonPatch(patch),
            ..
        }] = facts.as_slice()
        else {
            panic!("{facts:?}")
        };
        let ops: Vec<_> = patch
            .ops
            .iter()
            .map(|o| (&o.field, o.value.as_deref()))
            .collect();
        assert_eq!(
            ops,
            [
                (&Field::ChartVersion, Some("6.5.0")),
                (
                    &Field::Image {
                        init: false,
                        name: None,
                        index: Some(1)
                    },
                    Some("nginx:1.27")
                ),
                (&Field::Ref { key: "tag".into() }, Some("v2.0.0")),
                (
                    &Field::Value {
                        path: "image.tag".into()
                    },
                    None
                ),
            ]
        );
        assert_eq!(at(text, &patch.ops[0].span, "6.5.0"), "3:10-3:15");
        assert_eq!(at(text, &patch.ops[1].span, "1.27"), "6:17-6:21");
        assert_eq!(at(text, &patch.ops[2].span, "v2.0.0"), "10:10-10:16");
        assert_eq!(
            at(text, &patch.ops[3].span, "/spec/values/image/tag"),
            "12:9-12:31"
        );
    }

    #[test]
    fn a_chart_list_is_not_a_json_patch() {
        let text = "- name: podinfo\n  version: 6.5.0\n";
        let facts = run("clusters/dev/helm-charts.yaml", text);
        assert!(facts.iter().all(|f| matches!(f.kind, FactKind::Pin(_))));
    }

    #[test]
    fn kustomization_patches_in_kustomize_order_with_targets_and_inline_spans() {
        let text = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base/podinfo
components:
  - ../components/pinned
patchesJson6902:
  - target:
      group: helm.toolkit.fluxcd.io
      kind: HelmRelease
      name: podinfo
    path: version-patch.yaml
patches:
  - path: podinfo-values.yaml
    target:
      kind: HelmRelease
      labelSelector: app=podinfo
  - patch: |-
      - op: replace
        path: /spec/chart/spec/version
        value: 6.5.1
    target:
      kind: HelmRelease
      name: podinfo|redis
patchesStrategicMerge:
  - web-image.yaml
  - |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              image: ghcr.io/acme/web:v1.2.3
"#;
        let facts = run("apps/production/kustomization.yaml", text);
        let k = kustomization(&facts);
        assert_eq!(k.components, ["../components/pinned"]);
        let paths: Vec<_> = k.patches.iter().map(|p| p.path.as_deref()).collect();
        assert_eq!(
            paths,
            [
                Some("web-image.yaml"),
                None,
                Some("podinfo-values.yaml"),
                None,
                Some("version-patch.yaml"),
            ]
        );
        assert_eq!(at(text, &k.patches[0].span, "web-image.yaml"), "26:5-26:19");
        let target = k.patches[2].target.as_ref().expect("target");
        assert_eq!(target.kind.as_deref(), Some("HelmRelease"));
        assert_eq!(target.label_selector.as_deref(), Some("app=podinfo"));
        assert_eq!(
            k.patches[4]
                .target
                .as_ref()
                .and_then(|t| t.group.as_deref()),
            Some("helm.toolkit.fluxcd.io")
        );

        // Inline patches: spans point into the block, where the value is in the file.
        let [PatchBody::Merge(web)] = k.patches[1].inline.as_slice() else {
            panic!("{:?}", k.patches[1])
        };
        assert_eq!(web.name, "web");
        assert_eq!(at(text, &web.values[0].span, "v1.2.3"), "37:39-37:45");
        let [PatchBody::Json(json)] = k.patches[3].inline.as_slice() else {
            panic!("{:?}", k.patches[3])
        };
        assert_eq!(json.ops[0].value.as_deref(), Some("6.5.1"));
        assert_eq!(at(text, &json.ops[0].span, "6.5.1"), "21:16-21:21");
    }

    #[test]
    fn an_inline_patch_that_cannot_be_mapped_spans_the_whole_string() {
        // A folded block is not the file's text line by line: the span is the string.
        let text = "patches:\n  - patch: >-\n      [{\"op\": \"replace\", \"path\": \"/spec/chart/spec/version\",\n      \"value\": \"6.5.1\"}]\n    target:\n      kind: HelmRelease\n";
        let facts = run("kustomization.yaml", text);
        let k = kustomization(&facts);
        let [PatchBody::Json(json)] = k.patches[0].inline.as_slice() else {
            panic!("{:?}", k.patches[0])
        };
        assert_eq!(json.ops[0].value.as_deref(), Some("6.5.1"));
        assert_eq!((json.ops[0].span.line, json.ops[0].span.column), (3, 7));
        assert_eq!(k.patches[0].span, json.ops[0].span);
    }

    #[test]
    fn malformed_inline_patches_set_nothing_and_do_not_panic() {
        for patch in [
            "patches:\n  - patch: \"{\"\n",
            "patches:\n  - patch: |\n      - op: replace\n      path: [\n",
            "patches:\n  - patch: 42\n  - {}\n  - target: x\n",
            "patchesStrategicMerge:\n  - \"a\\nb: [\"\n  - {x: 1}\n",
            "patchesJson6902:\n  - patch: \"- op: replace\\n  path: /spec/chart/spec/version\\n  value: [1]\"\n    target: {kind: HelmRelease}\n",
        ] {
            let facts = run("kustomization.yaml", patch);
            let k = kustomization(&facts);
            assert!(
                k.patches.iter().all(|p| p.inline.iter().all(|b| match b {
                    PatchBody::Json(j) => j.ops.is_empty(),
                    PatchBody::Merge(o) => o.values.is_empty(),
                })),
                "{patch}: {k:?}"
            );
        }
    }
}
