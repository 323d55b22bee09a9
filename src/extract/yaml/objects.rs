//! Per-kind extraction from a parsed document: workloads, Flux objects, Kustomize
//! kustomizations and chart lists.

use super::cx::{setter_in, Cx, DocCx};
use super::kustomize::{self, Locator};
use super::tree::{Node, Val};
use crate::model::kinds::WORKLOADS;
use crate::model::{
    parse_substitution, split_image, ArtifactCopies, ConfigMapSource, DeployEntry, DeployTool,
    Fact, FactKind, Field, FluxKustomization, ImageRepository, Kustomization, Pin, PinKind,
    PolicyOrder, PolicySource, RefKind, Reference, Span, TagPolicy, TemplatedPin,
};
use std::ops::Range;

impl Cx<'_> {
    /// Extract the facts of one document.
    pub fn document(&mut self, doc: &Node) {
        if let Val::Seq(items) = &doc.val {
            // A file of Kustomize replacements: `- {source, targets}`.
            if kustomize::is_replacement_list(items) {
                let list = kustomize::replacement_list(items);
                if !list.is_empty() {
                    self.facts.push(Fact::new(FactKind::Replacements(list)));
                }
                return;
            }
            // A JSON 6902 patch file: `- {op, path, value}`.
            if let Some(patch) =
                kustomize::json_patch(items, &Locator::direct(self.text, self.index))
            {
                self.facts.push(Fact::new(FactKind::JsonPatch(patch)));
                return;
            }
            // A bare chart list (`helm-charts.yaml`): `- {name, chart: {name, version}}`.
            let mut d = DocCx {
                cx: self,
                namespace: None,
            };
            d.chart_list(items);
            return;
        }
        let api = doc.str_at(&["apiVersion"]).unwrap_or("");
        if self.values_file && api.is_empty() {
            // Helm values, whatever keys they have (`kind:` included): the chart decides
            // what they mean, so only their images are read.
            let mut d = DocCx {
                cx: self,
                namespace: None,
            };
            d.values_images(doc, "values");
            return;
        }
        let kind = doc.get("kind");
        let namespace = doc.str_at(&["metadata", "namespace"]).map(str::to_owned);
        let group = api.split_once('/').map_or("", |(g, _)| g);
        let Some((kind_name, kind_node)) = kind.and_then(|k| Some((k.str()?, k))) else {
            // No kind: a kustomization without apiVersion, or a chart list under a key.
            if self.kustomize_file && (api.is_empty() || group == "kustomize.config.k8s.io") {
                self.kustomization(doc);
            } else if api.is_empty() {
                let mut d = DocCx {
                    cx: self,
                    namespace,
                };
                for key in ["charts", "inputs"] {
                    if let Some(list) = doc.get(key) {
                        d.chart_list(list.seq());
                    }
                }
            }
            return;
        };
        let first = self.facts.len();
        let mut d = DocCx {
            cx: self,
            namespace: namespace.clone(),
        };
        let name = doc.str_at(&["metadata", "name"]).unwrap_or("");
        match (group, kind_name) {
            ("" | "apps" | "batch" | "extensions", k) if WORKLOADS.contains(&k) => {
                d.workload(doc, k)
            }
            ("image.toolkit.fluxcd.io", "ImagePolicy") => d.image_policy(doc, name, kind_node),
            ("image.toolkit.fluxcd.io", "ImageRepository") => d.image_repository(doc, name),
            ("source.toolkit.fluxcd.io", "OCIRepository") => d.oci_repository(doc, name, kind_node),
            ("source.toolkit.fluxcd.io", "GitRepository") => d.git_repository(doc, name),
            ("helm.toolkit.fluxcd.io", "HelmRelease") => d.helm_release(doc, name),
            ("kustomize.toolkit.fluxcd.io", "Kustomization") => d.flux_kustomization(doc, name),
            ("source.extensions.fluxcd.io", "ArtifactGenerator") => d.artifact_generator(doc),
            ("", "ConfigMap") => d.config_map(doc, name),
            // kustomize's own apiVersion, or none at all (`v1` would be some other object).
            ("kustomize.config.k8s.io" | "", "Kustomization" | "Component")
                if d.cx.kustomize_file && (api.is_empty() || !group.is_empty()) =>
            {
                d.cx.kustomization(doc)
            }
            ("image.toolkit.fluxcd.io", "ImageUpdateAutomation") => {
                d.image_update_automation(doc, name, kind_node)
            }
            ("argoproj.io", "Application") => {
                d.argo_application(name, doc.get("metadata"), doc.get("spec"), "Application");
                d.argo_deploys(name, doc.get("spec"), &[]);
            }
            ("argoproj.io", "ApplicationSet") => {
                let template = doc.path(&["spec", "template"]);
                d.argo_application(
                    name,
                    template.and_then(|t| t.get("metadata")),
                    template.and_then(|t| t.get("spec")),
                    "ApplicationSet",
                );
                d.argo_set_deploys(doc);
            }
            ("kargo.akuity.io", "Stage") => d.cx.kargo_stage(doc),
            ("fluxcd.controlplane.io", "ResourceSet") => {
                if let Some(inputs) = doc.path(&["spec", "inputs"]) {
                    d.chart_list(inputs.seq());
                }
                d.resource_set_values_from(doc);
            }
            _ => {}
        }
        self.object(doc, first, namespace);
    }

    /// The object a document describes, for Kustomize patches: its version-bearing values,
    /// linked to the pins just extracted from it (facts from `first` on).
    fn object(&mut self, doc: &Node, first: usize, namespace: Option<String>) {
        let Some(mut object) = kustomize::object(doc, &Locator::direct(self.text, self.index))
        else {
            return;
        };
        for (i, fact) in self.facts.iter().enumerate().skip(first) {
            let FactKind::Pin(pin) = &fact.kind else {
                continue;
            };
            let from_value = |image: bool| {
                object
                    .values
                    .iter()
                    .find(|v| v.span == pin.span && matches!(v.field, Field::Image { .. }) == image)
                    .map(|v| v.field.clone())
            };
            let field = match pin.kind {
                PinKind::HelmChart => Some(Field::ChartVersion),
                PinKind::OciArtifact | PinKind::GitRef => Some(Field::Ref { key: String::new() }),
                PinKind::ContainerImage => from_value(true),
                // A values image pin comes from its `image` key, whichever of its keys
                // (tag, digest) it spans.
                PinKind::HelmValuesImage => from_value(false).map(|f| match f {
                    Field::Value { path } => {
                        let image = ["tag", "digest", "repository", "registry"]
                            .iter()
                            .find_map(|k| path.strip_suffix(&format!(".{k}")))
                            .map_or(path.clone(), str::to_owned);
                        Field::Value { path: image }
                    }
                    other => other,
                }),
                _ => None,
            };
            if let Some(field) = field {
                object.pins.push((i, field));
            }
        }
        // An object that writes no version is nothing a patch needs or changes.
        if object.values.is_empty() && object.pins.is_empty() {
            return;
        }
        self.facts
            .push(Fact::in_namespace(FactKind::Object(object), namespace));
    }

    pub(super) fn span(&self, range: Range<usize>) -> Span {
        self.index.span(self.text, range)
    }

    /// The Flux setter marker in a comment on the line where `node` ends:
    /// `# {"$imagepolicy": "flux-system:backend:tag"}` → `flux-system:backend`.
    pub(super) fn setter(&self, node: &Node) -> Option<String> {
        setter_in(self.text, node.end)
    }

    /// The first setter marker found on the lines of `nodes`.
    fn setter_of(&self, nodes: &[Option<&Node>]) -> Option<String> {
        nodes.iter().flatten().find_map(|n| self.setter(n))
    }

    /// A kustomization: what it includes, and its image and chart overrides.
    fn kustomization(&mut self, doc: &Node) {
        let namespace = doc.str_at(&["namespace"]).map(str::to_owned);
        let mut resources = Vec::new();
        let mut components = Vec::new();
        for key in ["resources", "bases", "components"] {
            for entry in doc.get(key).map(Node::seq).unwrap_or(&[]) {
                if let Some(value) = entry.str() {
                    resources.push((value.to_owned(), self.span(entry.value_range(self.text))));
                    if key == "components" {
                        components.push(value.to_owned());
                    }
                }
            }
        }
        self.facts.push(Fact::in_namespace(
            FactKind::Kustomization(Kustomization {
                resources,
                components,
                namespace: namespace.clone(),
                patches: kustomize::patches(doc, self.text, self.index),
                replacements: kustomize::replacements(doc),
                replacement_files: kustomize::replacement_files(doc),
            }),
            namespace.clone(),
        ));
        for entry in doc.get("configMapGenerator").map(Node::seq).unwrap_or(&[]) {
            let Some(name) = entry.str_at(&["name"]) else {
                continue;
            };
            let env_files: Vec<String> = entry
                .get("envs")
                .map(Node::seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|e| e.str().map(str::to_owned))
                .collect();
            let mut literals = Vec::new();
            for literal in entry.get("literals").map(Node::seq).unwrap_or(&[]) {
                let Some(text) = literal.str() else {
                    continue;
                };
                // `KEY=value`: the span is the value's, after the `=`.
                let Some((key, value)) = text.split_once('=') else {
                    continue;
                };
                let range = literal.range_of(self.text, key.len() + 1, value);
                literals.push((key.trim().to_owned(), value.to_owned(), self.span(range)));
            }
            let files = super::values_from::generator_files(entry);
            if env_files.is_empty() && literals.is_empty() && files.is_empty() {
                continue;
            }
            self.facts
                .push(Fact::new(FactKind::ConfigMapSource(ConfigMapSource {
                    name: name.to_owned(),
                    env_files,
                    literals,
                    files,
                    embedded: Vec::new(),
                })));
        }
        let mut d = DocCx {
            cx: self,
            namespace,
        };
        for entry in doc.get("images").map(Node::seq).unwrap_or(&[]) {
            d.kustomize_image(entry);
        }
        for entry in doc.get("helmCharts").map(Node::seq).unwrap_or(&[]) {
            let Some(name_node) = entry.get("name") else {
                continue;
            };
            let Some(name) = name_node.str() else {
                continue;
            };
            d.chart_pin(
                name,
                name_node,
                entry.get("version"),
                format!("helmChart {name}"),
            );
            if let Some(values) = entry.get("valuesInline") {
                d.values_images(values, &format!("helmChart {name} valuesInline"));
            }
        }
    }
}

impl DocCx<'_, '_> {
    pub(super) fn push(&mut self, kind: FactKind) {
        self.cx
            .facts
            .push(Fact::in_namespace(kind, self.namespace.clone()));
    }

    pub(super) fn push_pin(&mut self, pin: Pin) {
        self.push(FactKind::Pin(pin));
    }

    /// Containers and init containers of a workload's pod template.
    fn workload(&mut self, doc: &Node, kind: &str) {
        let pod = match kind {
            "Pod" => doc.get("spec"),
            "CronJob" => doc.path(&["spec", "jobTemplate", "spec", "template", "spec"]),
            _ => doc.path(&["spec", "template", "spec"]),
        };
        let Some(pod) = pod else {
            return;
        };
        for (key, label) in [
            ("initContainers", "initContainer"),
            ("containers", "container"),
        ] {
            for container in pod.get(key).map(Node::seq).unwrap_or(&[]) {
                let Some(image) = container.get("image") else {
                    continue;
                };
                let name = container.str_at(&["name"]).unwrap_or("");
                let context = format!("{label} {name}");
                // A placeholder is never a literal tag: a templated pin, or nothing.
                if image.str().is_some_and(|v| v.contains("${")) {
                    if let Some(templated) = self.templated_image_pin(image, &context) {
                        self.push(FactKind::TemplatedPin(templated));
                    }
                    continue;
                }
                if let Some(pin) = self.image_pin(PinKind::ContainerImage, image, context) {
                    self.push_pin(pin);
                }
            }
        }
    }

    /// An image whose tag is a Flux substitution (`repo:${VAR}`, `repo:${VAR:=1.2.3}`):
    /// a templated pin spanning the placeholder. `None` for a partly templated tag
    /// (`v${X}`) or repository: no version can be computed from it.
    pub(super) fn templated_image_pin(&self, node: &Node, context: &str) -> Option<TemplatedPin> {
        let value = node.str()?.trim();
        let at = value.find("${")?;
        // The repository ends at the `:` before the placeholder (`${X:=1.2}` holds colons
        // of its own, so `split_image` cannot be used on the whole string).
        let repository = value[..at].strip_suffix(':')?;
        if repository.is_empty() || repository.contains('$') {
            return None;
        }
        let placeholder = &value[at..];
        let (var, default) = parse_substitution(placeholder)?;
        let range = node.range_of(self.cx.text, at, placeholder);
        Some(TemplatedPin {
            pin: Pin {
                kind: PinKind::ContainerImage,
                component: repository.to_owned(),
                reference: Reference {
                    kind: RefKind::Tag,
                    value: default.unwrap_or("").to_owned(),
                    digest: None,
                },
                span: self.cx.span(range),
                overrides: None,
                policy_ref: self.cx.setter(node),
                context: context.to_owned(),
            },
            var: var.to_owned(),
            default: default.map(str::to_owned),
        })
    }

    /// A Flux Kustomization: the directory it builds and its `postBuild` variables.
    fn flux_kustomization(&mut self, doc: &Node, name: &str) {
        let Some(spec) = doc.get("spec") else {
            return;
        };
        let path = spec.str_at(&["path"]).unwrap_or("");
        let path = path.trim_start_matches("./").trim_matches('/');
        let path = if path == "." { "" } else { path };
        // An entry point only when it builds this repository's files: a GitRepository source
        // (an OCI artifact or a bucket holds files we cannot see), and a path written out.
        let source_kind = spec
            .str_at(&["sourceRef", "kind"])
            .unwrap_or("GitRepository");
        // An ExternalArtifact an ArtifactGenerator builds from this repository is read
        // through its copy rules.
        let artifact = (source_kind == "ExternalArtifact")
            .then(|| spec.str_at(&["sourceRef", "name"]).map(str::to_owned))
            .flatten();
        let ours = source_kind == "GitRepository" || artifact.is_some();
        if let Some(node) = spec.get("path").filter(|_| ours) {
            let span = self.cx.span(node.value_range(self.cx.text));
            self.push(FactKind::Deploy(DeployEntry {
                tool: DeployTool::Flux,
                name: name.to_owned(),
                path: path.to_owned(),
                span,
                recurse: true,
                value_files: Vec::new(),
                env_words: Vec::new(),
                images: Vec::new(),
                artifact,
            }));
        }
        let post = spec.get("postBuild");
        let mut substitute = Vec::new();
        if let Some(Val::Map(entries)) = post.and_then(|p| p.get("substitute")).map(|n| &n.val) {
            for (key, value) in entries {
                if let (Some(k), Some(v)) = (key.str(), value.str()) {
                    let span = self.cx.span(value.value_range(self.cx.text));
                    substitute.push((k.to_owned(), v.to_owned(), span));
                }
            }
        }
        let substitute_from = post
            .and_then(|p| p.get("substituteFrom"))
            .map(Node::seq)
            .unwrap_or(&[])
            .iter()
            .filter(|r| r.str_at(&["kind"]) == Some("ConfigMap"))
            .filter_map(|r| r.str_at(&["name"]).map(str::to_owned))
            .collect();
        self.push(FactKind::FluxKustomization(FluxKustomization {
            path: path.to_owned(),
            substitute,
            substitute_from,
        }));
    }

    /// A Flux ArtifactGenerator: each artifact's `copy` rules from a source directory
    /// (`@alias/dir/**`) to a directory of the artifact (`@artifact/sub/`). Rules naming
    /// single files or patterns inside a directory are not directory copies: skipped.
    fn artifact_generator(&mut self, doc: &Node) {
        let artifacts = doc
            .path(&["spec", "artifacts"])
            .map(Node::seq)
            .unwrap_or(&[]);
        for artifact in artifacts {
            let Some(name) = artifact.str_at(&["name"]) else {
                continue;
            };
            let copies = artifact
                .get("copy")
                .map(Node::seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|c| {
                    let from = c.str_at(&["from"])?.strip_prefix('@')?;
                    let (_, from) = from.split_once('/')?;
                    let from = from
                        .strip_suffix("/**")
                        .or_else(|| from.strip_suffix("/*"))?;
                    let to = c.str_at(&["to"])?.strip_prefix("@artifact")?;
                    let clean = |s: &str| s.trim_matches('/').to_owned();
                    (!from.contains('*')).then(|| (clean(from), clean(to)))
                })
                .collect();
            self.push(FactKind::ArtifactCopies(ArtifactCopies {
                name: name.to_owned(),
                copies,
            }));
        }
    }

    /// A ConfigMap written out: its `data` entries are values a Flux `substituteFrom` may
    /// read. Only what could be a variable's value is kept (a variable-like key, a short
    /// one-line value), not dashboards or scripts.
    fn config_map(&mut self, doc: &Node, name: &str) {
        let Some(Val::Map(entries)) = doc.get("data").map(|d| &d.val) else {
            return;
        };
        let mut literals = Vec::new();
        for (key, value) in entries {
            let (Some(k), Some(v)) = (key.str(), value.str()) else {
                continue;
            };
            let variable =
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if variable && v.len() <= 256 && !v.contains('\n') {
                let span = self.cx.span(value.value_range(self.cx.text));
                literals.push((k.to_owned(), v.to_owned(), span));
            }
        }
        let embedded = self.embedded_values(entries);
        if !literals.is_empty() || !embedded.is_empty() {
            self.push(FactKind::ConfigMapSource(ConfigMapSource {
                name: name.to_owned(),
                env_files: Vec::new(),
                literals,
                files: Vec::new(),
                embedded,
            }));
        }
    }

    /// A pin for an image string `repo:tag@digest`; the span is the tag when there is one.
    pub(super) fn image_pin(&self, kind: PinKind, node: &Node, context: String) -> Option<Pin> {
        let value = node.str()?.trim();
        if value.is_empty() {
            return None;
        }
        let (repository, tag, digest) = split_image(value);
        if repository.is_empty() {
            return None;
        }
        let tag = tag.filter(|t| !t.is_empty());
        let range = match tag {
            Some(t) => node.range_of(self.cx.text, repository.len() + 1, t),
            None => node.value_range(self.cx.text),
        };
        let reference = Reference::image(tag, digest);
        Some(Pin {
            kind,
            component: repository.to_owned(),
            reference,
            span: self.cx.span(range),
            overrides: None,
            policy_ref: self.cx.setter(node),
            context,
        })
    }

    /// A Flux ImagePolicy: the tags automation may pick, and how it orders them.
    fn image_policy(&mut self, doc: &Node, name: &str, kind_node: &Node) {
        let spec = doc.get("spec");
        let text = self.cx.text;
        let scalar = |keys: &[&str]| {
            let node = spec?.path(keys)?;
            let value = node.str()?;
            Some((value.to_owned(), self.cx.span(node.value_range(text))))
        };
        let pattern = scalar(&["filterTags", "pattern"]);
        let extract = scalar(&["filterTags", "extract"]);
        let kind_span = self.cx.span(kind_node.value_range(text));
        let (order, order_span) = match spec.and_then(|s| s.entry("policy")) {
            Some((policy_key, policy)) => self.policy_order(policy_key, policy),
            None => (PolicyOrder::Unspecified, kind_span.clone()),
        };
        let policy = TagPolicy {
            source: PolicySource::FluxImagePolicy,
            name: name.to_owned(),
            image_repository_ref: spec
                .and_then(|s| s.str_at(&["imageRepositoryRef", "name"]))
                .map(str::to_owned),
            pattern,
            extract,
            order,
            order_span,
            span: kind_span,
        };
        self.push(FactKind::TagPolicy(policy));
    }

    /// `policy: {semver: {range}} | {alphabetical: {order}} | {numerical: {order}}`.
    fn policy_order(&self, policy_key: &Node, policy: &Node) -> (PolicyOrder, Span) {
        let text = self.cx.text;
        if let Some((key, semver)) = policy.entry("semver") {
            return match semver.get("range").filter(|r| r.str().is_some()) {
                Some(range) => (
                    PolicyOrder::Semver {
                        range: range.str().unwrap_or("").to_owned(),
                    },
                    self.cx.span(range.value_range(text)),
                ),
                None => (
                    PolicyOrder::Semver {
                        range: String::new(),
                    },
                    self.cx.span(key.value_range(text)),
                ),
            };
        }
        for name in ["alphabetical", "numerical"] {
            let Some((key, body)) = policy.entry(name) else {
                continue;
            };
            let (order, span) = match body.get("order").filter(|o| o.str().is_some()) {
                Some(o) => (o.str().unwrap_or("asc"), o.value_range(text)),
                // Flux's default order.
                None => ("asc", key.value_range(text)),
            };
            let order = order.to_owned();
            let order = if name == "alphabetical" {
                PolicyOrder::Alphabetical { order }
            } else {
                PolicyOrder::Numerical { order }
            };
            return (order, self.cx.span(span));
        }
        (
            PolicyOrder::Unspecified,
            self.cx.span(policy_key.value_range(text)),
        )
    }

    fn image_repository(&mut self, doc: &Node, name: &str) {
        let Some(image) = doc.path(&["spec", "image"]) else {
            return;
        };
        let Some(value) = image.str() else {
            return;
        };
        let repository = ImageRepository {
            name: name.to_owned(),
            image: value.to_owned(),
            span: self.cx.span(image.value_range(self.cx.text)),
        };
        self.push(FactKind::ImageRepository(repository));
    }

    /// A Flux OCIRepository: `url` plus `ref` (semver, tag, digest).
    fn oci_repository(&mut self, doc: &Node, name: &str, kind_node: &Node) {
        let Some(url_node) = doc.path(&["spec", "url"]) else {
            return;
        };
        let Some(url) = url_node.str() else {
            return;
        };
        let component = url.strip_prefix("oci://").unwrap_or(url);
        let reference = doc.path(&["spec", "ref"]);
        let field = |key: &str| {
            let node = reference?.get(key)?;
            node.str().filter(|v| !v.is_empty()).map(|v| (v, node))
        };
        let digest = field("digest");
        let semver = field("semver");
        let tag = field("tag");
        let (kind, value, node) = match (semver, tag, digest) {
            (Some((v, n)), _, _) => (RefKind::Range, v, n),
            (None, Some((v, n)), _) => (RefKind::Tag, v, n),
            (None, None, Some((_, n))) => (RefKind::Absent, "", n),
            (None, None, None) => (RefKind::Absent, "", url_node),
        };
        let pin = Pin {
            kind: PinKind::OciArtifact,
            component: component.to_owned(),
            reference: Reference {
                kind,
                value: value.to_owned(),
                digest: digest.map(|(d, _)| d.to_owned()),
            },
            span: self.cx.span(node.value_range(self.cx.text)),
            overrides: None,
            policy_ref: self.cx.setter(node),
            context: format!("OCIRepository {name}"),
        };
        self.push_pin(pin);
        if let Some((range, range_node)) = semver {
            let pattern = field("semverFilter")
                .map(|(v, n)| (v.to_owned(), self.cx.span(n.value_range(self.cx.text))));
            let policy = TagPolicy {
                source: PolicySource::OciRepositorySemver,
                name: name.to_owned(),
                image_repository_ref: None,
                pattern,
                extract: None,
                order: PolicyOrder::Semver {
                    range: range.to_owned(),
                },
                order_span: self.cx.span(range_node.value_range(self.cx.text)),
                span: self.cx.span(kind_node.value_range(self.cx.text)),
            };
            self.push(FactKind::TagPolicy(policy));
        }
    }

    /// A Flux GitRepository: `ref` in Flux's precedence (commit, name, semver, tag, branch).
    fn git_repository(&mut self, doc: &Node, name: &str) {
        let Some(url_node) = doc.path(&["spec", "url"]) else {
            return;
        };
        let Some(url) = url_node.str() else {
            return;
        };
        let reference = doc.path(&["spec", "ref"]);
        let field = |key: &str| {
            let node = reference?.get(key)?;
            node.str().filter(|v| !v.is_empty()).map(|v| (v, node))
        };
        let text = self.cx.text;
        let (kind, value, range, node) = if let Some((v, n)) = field("commit") {
            (RefKind::Commit, v, n.value_range(text), n)
        } else if let Some((v, n)) = field("name") {
            // `refs/heads/x` is branch x, `refs/tags/x` tag x; other refs move like branches.
            let (kind, short) = if let Some(b) = v.strip_prefix("refs/heads/") {
                (RefKind::Branch, b)
            } else if let Some(t) = v.strip_prefix("refs/tags/") {
                (RefKind::Tag, t)
            } else {
                (RefKind::Branch, v)
            };
            (
                kind,
                short,
                n.range_of(text, v.len() - short.len(), short),
                n,
            )
        } else if let Some((v, n)) = field("semver") {
            (RefKind::Range, v, n.value_range(text), n)
        } else if let Some((v, n)) = field("tag") {
            (RefKind::Tag, v, n.value_range(text), n)
        } else if let Some((v, n)) = field("branch") {
            (RefKind::Branch, v, n.value_range(text), n)
        } else {
            (RefKind::Absent, "", url_node.value_range(text), url_node)
        };
        let pin = Pin {
            kind: PinKind::GitRef,
            component: url.to_owned(),
            reference: Reference {
                kind,
                value: value.to_owned(),
                digest: None,
            },
            span: self.cx.span(range),
            overrides: None,
            policy_ref: self.cx.setter(node),
            context: format!("GitRepository {name}"),
        };
        self.push_pin(pin);
    }

    /// A Flux HelmRelease: the chart version and the images set in `values`.
    fn helm_release(&mut self, doc: &Node, name: &str) {
        let spec = doc.get("spec");
        if let Some(chart) = spec.and_then(|s| s.path(&["chart", "spec"])) {
            if let Some(chart_node) = chart.get("chart") {
                if let Some(chart_name) = chart_node.str() {
                    self.chart_pin(
                        chart_name,
                        chart_node,
                        chart.get("version"),
                        format!("HelmRelease {name}"),
                    );
                }
            }
        }
        let first = self.cx.facts.len();
        if let Some(values) = spec.and_then(|s| s.get("values")) {
            self.values_images(values, "values");
        }
        if let Some(spec) = spec {
            self.values_from(spec, name, first);
        }
    }

    /// A chart version pin: exact version → Tag, range or wildcard → Range, none → Absent
    /// (spanning the chart name).
    pub(super) fn chart_pin(
        &mut self,
        chart: &str,
        chart_node: &Node,
        version: Option<&Node>,
        context: String,
    ) {
        let text = self.cx.text;
        let version =
            version.and_then(|n| n.str().filter(|v| !v.trim().is_empty()).map(|v| (v, n)));
        // `version: ${CHART_VERSION:=1.2.3}` is Flux's to fill in, not a range: a templated
        // pin, or nothing when the value is only partly a placeholder.
        if let Some((v, n)) = version.filter(|(v, _)| v.contains("${")) {
            if let Some((var, default)) = parse_substitution(v.trim()) {
                let pin = Pin {
                    kind: PinKind::HelmChart,
                    component: chart.to_owned(),
                    reference: Reference {
                        kind: RefKind::Tag,
                        value: default.unwrap_or("").to_owned(),
                        digest: None,
                    },
                    span: self.cx.span(n.value_range(text)),
                    overrides: None,
                    policy_ref: None,
                    context,
                };
                self.push(FactKind::TemplatedPin(TemplatedPin {
                    pin,
                    var: var.to_owned(),
                    default: default.map(str::to_owned),
                }));
            }
            return;
        }
        let (reference, range, marker_node) = match version {
            Some((v, n)) => (
                Reference {
                    kind: if is_range(v) {
                        RefKind::Range
                    } else {
                        RefKind::Tag
                    },
                    value: v.to_owned(),
                    digest: None,
                },
                n.value_range(text),
                n,
            ),
            None => (
                Reference::absent(),
                chart_node.value_range(text),
                chart_node,
            ),
        };
        let pin = Pin {
            kind: PinKind::HelmChart,
            component: chart.to_owned(),
            reference,
            span: self.cx.span(range),
            overrides: None,
            policy_ref: self.cx.setter(marker_node),
            context,
        };
        self.push_pin(pin);
    }

    /// A kustomize `images[]` entry: `{name, newName?, newTag?, digest?}`.
    fn kustomize_image(&mut self, entry: &Node) {
        let text = self.cx.text;
        let scalar = |key: &str| {
            let node = entry.get(key)?;
            node.str().filter(|v| !v.is_empty()).map(|v| (v, node))
        };
        let Some((name, name_node)) = scalar("name") else {
            return;
        };
        let new_name = scalar("newName");
        let digest = scalar("digest");
        let (reference, node) = match (scalar("newTag"), digest) {
            (Some((tag, node)), _) => (Reference::tag(tag), node),
            (None, Some((_, node))) => (Reference::absent(), node),
            (None, None) => return,
        };
        let reference = Reference {
            digest: digest.map(|(d, _)| d.to_owned()),
            ..reference
        };
        let pin = Pin {
            kind: PinKind::KustomizeImage,
            component: new_name.map_or(name, |(n, _)| n).to_owned(),
            reference,
            span: self.cx.span(node.value_range(text)),
            overrides: Some(name.to_owned()),
            policy_ref: self.cx.setter_of(&[
                Some(node),
                new_name.map(|(_, n)| n),
                Some(name_node),
                digest.map(|(_, n)| n),
            ]),
            context: format!("kustomize image {name}"),
        };
        self.push_pin(pin);
    }

    /// Chart list entries: `{name, chart: {name, version}}` or `{name, version}`, and
    /// the images of an entry's inline `values` (the values a ResourceSet input or a
    /// chart list hands to its HelmRelease).
    fn chart_list(&mut self, entries: &[Node]) {
        for entry in entries {
            self.chart_list_entry(entry);
            if let Some(values) = entry.get("values").filter(|v| matches!(v.val, Val::Map(_))) {
                let label = entry.str_at(&["name"]).unwrap_or("");
                self.values_images(values, &format!("chart {label} values"));
            }
        }
    }

    fn chart_list_entry(&mut self, entry: &Node) {
        let chart = entry.get("chart");
        let version = chart
            .and_then(|c| c.get("version"))
            .or_else(|| entry.get("version"));
        let Some(version) = version.filter(|v| v.str().is_some()) else {
            return;
        };
        let chart_name = chart
            .and_then(|c| c.get("name").or(Some(c)))
            .filter(|n| n.str().is_some())
            .or_else(|| entry.get("name"));
        let Some(chart_node) = chart_name else {
            return;
        };
        let Some(chart) = chart_node.str() else {
            return;
        };
        let label = entry.str_at(&["name"]).unwrap_or(chart);
        self.chart_pin(chart, chart_node, Some(version), format!("chart {label}"));
    }
}

/// Whether a chart version is a range or wildcard rather than one version: any of
/// `* ^ ~ > < = |` or whitespace, or an `x`/`X` field (`1.x`, `1.2.X`).
pub(super) fn is_range(version: &str) -> bool {
    crate::model::is_version_range(version)
}
