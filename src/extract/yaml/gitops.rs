//! GitOps controllers' objects: Argo CD Applications (and ApplicationSet templates) with
//! their Image Updater annotations, Kargo Stages, Flux ImageUpdateAutomations.

use super::cx::{Cx, DocCx};
use super::tree::Node;
use crate::model::{
    is_version_range, split_image, DeployEntry, DeployTool, Fact, FactKind, ImageUpdateAutomation,
    KargoStage, Pin, PinKind, PolicyOrder, PolicySource, RefKind, Reference, Span, TagPolicy,
};

/// Prefix of Argo CD Image Updater annotations.
const IMAGE_UPDATER: &str = "argocd-image-updater.argoproj.io/";

/// The pattern standing for "every tag": `allow-tags: any`.
pub(super) const ANY_TAG: &str = "^.*$";

/// A value generated per element by an ApplicationSet (`'{{path.basename}}'`): not a pin.
fn templated(value: &str) -> bool {
    value.contains("{{")
}

/// What a Git `targetRevision` names: `HEAD` and branch names move, tags and commits do
/// not, ranges pick the newest matching tag.
fn git_revision(value: &str) -> (RefKind, &str) {
    let v = value.trim();
    if v.is_empty() {
        return (RefKind::Absent, "");
    }
    if v == "HEAD" {
        return (RefKind::Branch, v);
    }
    if let Some(b) = v.strip_prefix("refs/heads/") {
        return (RefKind::Branch, b);
    }
    if let Some(t) = v.strip_prefix("refs/tags/") {
        return (RefKind::Tag, t);
    }
    if is_commit(v) {
        return (RefKind::Commit, v);
    }
    if is_version_range(v) {
        return (RefKind::Range, v);
    }
    if looks_like_tag(v) {
        return (RefKind::Tag, v);
    }
    (RefKind::Branch, v)
}

/// A full commit id, or an abbreviated one (7+ hex digits mixing letters and digits).
fn is_commit(v: &str) -> bool {
    let hex = v.bytes().all(|b| b.is_ascii_hexdigit());
    let full = v.len() == 40 || v.len() == 64;
    let mixed = v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic());
    hex && (full || ((7..40).contains(&v.len()) && mixed))
}

/// A name that reads as a release rather than a branch: a dotted version somewhere
/// (`v1.2.3`, `1.4.0`, `app-2.1`, `prod-v1.2.3-1712`), or `v6`. A `/` makes it a branch
/// (`release/1.4`).
fn looks_like_tag(v: &str) -> bool {
    if v.contains('/') {
        return false;
    }
    let b = v.as_bytes();
    let dotted = b
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit());
    let v_number = v
        .strip_prefix(['v', 'V'])
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
    let number = v.bytes().all(|c| c.is_ascii_digit());
    dotted || v_number || number
}

impl DocCx<'_, '_> {
    /// An Argo CD Application (or an ApplicationSet's template): each source's
    /// `targetRevision` is a pin, Image Updater annotations are tag policies. The
    /// destination namespace is the environment signal of every fact.
    pub(super) fn argo_application(
        &mut self,
        name: &str,
        meta: Option<&Node>,
        spec: Option<&Node>,
        kind: &str,
    ) {
        self.namespace = spec
            .and_then(|s| s.str_at(&["destination", "namespace"]))
            .filter(|ns| !ns.is_empty() && !templated(ns))
            .map(str::to_owned);
        if let Some(spec) = spec {
            if let Some(source) = spec.get("source") {
                self.argo_source(source, format!("{kind} {name}"));
            }
            for (i, source) in spec
                .get("sources")
                .map(Node::seq)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                self.argo_source(source, format!("{kind} {name} sources[{i}]"));
            }
        }
        if let Some(annotations) = meta.and_then(|m| m.get("annotations")) {
            self.image_updater(name, annotations);
        }
    }

    /// The entry points of an Application (or of one element of an ApplicationSet, whose
    /// values `vars` fill the template in): each source with a `path` and no chart deploys
    /// that directory of the repository, with its Helm `valueFiles`. A value still templated
    /// after filling is unknown, so no entry point.
    pub(super) fn argo_deploys(
        &mut self,
        name: &str,
        spec: Option<&Node>,
        vars: &[(String, String)],
    ) {
        let Some(spec) = spec else {
            return;
        };
        let fill = |v: &str| -> Option<String> {
            let mut out = v.trim().to_owned();
            for (k, x) in vars {
                for pattern in [
                    format!("{{{{{k}}}}}"),
                    format!("{{{{ {k} }}}}"),
                    format!("{{{{.{k}}}}}"),
                    format!("{{{{ .{k} }}}}"),
                ] {
                    out = out.replace(&pattern, x);
                }
            }
            (!templated(&out)).then_some(out)
        };
        let Some(name) = fill(name) else {
            return;
        };
        let mut env_words = vec![name.clone()];
        for key in [
            &["project"][..],
            &["destination", "namespace"],
            &["destination", "name"],
        ] {
            env_words.extend(spec.str_at(key).and_then(fill).filter(|w| !w.is_empty()));
        }
        let sources = spec
            .get("source")
            .into_iter()
            .chain(spec.get("sources").map(Node::seq).unwrap_or(&[]).iter());
        for source in sources {
            if source.get("chart").is_some() {
                continue;
            }
            let Some(node) = source.get("path") else {
                continue;
            };
            let Some(path) = node.str().and_then(fill) else {
                continue;
            };
            let path = path.trim_start_matches("./").trim_matches('/');
            let path = if path == "." { "" } else { path };
            let value_files = source
                .path(&["helm", "valueFiles"])
                .map(Node::seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|f| {
                    let v = fill(f.str()?)?;
                    Some((v, self.cx.span(f.value_range(self.cx.text))))
                })
                .collect();
            let recurse = source.str_at(&["directory", "recurse"]) == Some("true");
            let images = if vars.is_empty() {
                let mut images = self.argo_kustomize_images(source, &name);
                images.extend(self.argo_helm_parameters(source, &name));
                images
            } else {
                Vec::new()
            };
            let span = self.cx.span(node.value_range(self.cx.text));
            self.push(FactKind::Deploy(DeployEntry {
                tool: DeployTool::Argo,
                name: name.clone(),
                path: path.to_owned(),
                span,
                recurse,
                value_files,
                env_words: env_words.clone(),
                images,
                artifact: None,
            }));
        }
    }

    /// An Application's `kustomize.images` (`[name=]image[:tag][@digest]`): pins of the
    /// Application's environment that replace the named image of what it deploys. Returns
    /// the names replaced.
    fn argo_kustomize_images(&mut self, source: &Node, app: &str) -> Vec<String> {
        let mut names = Vec::new();
        for entry in source
            .path(&["kustomize", "images"])
            .map(Node::seq)
            .unwrap_or(&[])
        {
            let Some(raw) = entry.str() else {
                continue;
            };
            let (name, image) = match raw.split_once('=') {
                Some((n, i)) => (n.trim(), i.trim()),
                None => ("", raw.trim()),
            };
            let (repository, tag, digest) = split_image(image);
            if repository.is_empty() || templated(raw) || (tag.is_none() && digest.is_none()) {
                continue;
            }
            let name = if name.is_empty() { repository } else { name };
            let text = self.cx.text;
            let at = raw.len() - image.len();
            let range = match tag {
                Some(t) => entry.range_of(text, at + repository.len() + 1, t),
                None => entry.value_range(text),
            };
            let pin = Pin {
                kind: PinKind::KustomizeImage,
                component: repository.to_owned(),
                reference: Reference::image(tag, digest),
                span: self.cx.span(range),
                overrides: Some(name.to_owned()),
                policy_ref: None,
                context: format!("Application {app} kustomize.images"),
            };
            self.push_pin(pin);
            names.push(name.to_owned());
        }
        names
    }

    /// An Application's Helm `parameters` that set an image: `<prefix>tag` beside
    /// `<prefix>repository` (`image.tag` and `image.repository`, `api.image.tag`, …). The
    /// tag is a pin of the Application's environment that replaces what the deployed
    /// values set for that repository. Returns the repositories replaced.
    fn argo_helm_parameters(&mut self, source: &Node, app: &str) -> Vec<String> {
        let params = source
            .path(&["helm", "parameters"])
            .map(Node::seq)
            .unwrap_or(&[]);
        let value_of = |name: &str| {
            params.iter().find_map(|p| {
                (p.str_at(&["name"]) == Some(name))
                    .then(|| p.get("value"))
                    .flatten()
            })
        };
        let mut names = Vec::new();
        for param in params {
            let Some(prefix) = param.str_at(&["name"]).and_then(|n| n.strip_suffix("tag")) else {
                continue;
            };
            if !(prefix.is_empty() || prefix.ends_with('.')) {
                continue;
            }
            let repository = value_of(&format!("{prefix}repository")).and_then(Node::str);
            let (Some(repository), Some(tag_node)) = (repository, param.get("value")) else {
                continue;
            };
            let Some(tag) = tag_node.str().map(str::trim).filter(|t| !t.is_empty()) else {
                continue;
            };
            if templated(tag) || templated(repository) || repository.trim().is_empty() {
                continue;
            }
            let pin = Pin {
                kind: PinKind::KustomizeImage,
                component: repository.trim().to_owned(),
                reference: Reference::image(Some(tag), None),
                span: self.cx.span(tag_node.value_range(self.cx.text)),
                overrides: Some(repository.trim().to_owned()),
                policy_ref: None,
                context: format!("Application {app} helm.parameters {prefix}tag"),
            };
            self.push_pin(pin);
            names.push(repository.trim().to_owned());
        }
        names
    }

    /// An ApplicationSet's entry points: its template once per element of a `list`
    /// generator, and once per literal `git` `directories` path (`{{path}}`,
    /// `{{path.basename}}`); other generators make values we cannot see.
    pub(super) fn argo_set_deploys(&mut self, doc: &Node) {
        let Some(template) = doc.path(&["spec", "template"]) else {
            return;
        };
        let name = template.str_at(&["metadata", "name"]).unwrap_or("");
        let spec = template.get("spec");
        let generators = doc
            .path(&["spec", "generators"])
            .map(Node::seq)
            .unwrap_or(&[]);
        let mut sets: Vec<Vec<(String, String)>> = Vec::new();
        for generator in generators {
            for element in generator
                .path(&["list", "elements"])
                .map(Node::seq)
                .unwrap_or(&[])
            {
                let vars = element
                    .entries()
                    .iter()
                    .filter_map(|(k, v)| Some((k.str()?.to_owned(), v.str()?.to_owned())))
                    .collect();
                sets.push(vars);
            }
            let dirs = generator
                .path(&["git", "directories"])
                .map(Node::seq)
                .unwrap_or(&[]);
            for dir in dirs {
                let Some(path) = dir.str_at(&["path"]) else {
                    continue;
                };
                if dir.str_at(&["exclude"]) == Some("true") || path.contains(['*', '?', '[']) {
                    continue;
                }
                let base = path.rsplit('/').next().unwrap_or(path).to_owned();
                sets.push(vec![
                    ("path.basename".to_owned(), base.clone()),
                    ("path.path".to_owned(), path.to_owned()),
                    (
                        "path.basenameNormalized".to_owned(),
                        base.replace(['_', '.'], "-"),
                    ),
                    ("path".to_owned(), path.to_owned()),
                ]);
            }
        }
        for vars in sets {
            self.argo_deploys(name, spec, &vars);
        }
    }

    fn argo_source(&mut self, source: &Node, context: String) {
        let text = self.cx.text;
        let Some((repo, repo_node)) = source
            .get("repoURL")
            .and_then(|n| Some((n.str()?.trim(), n)))
            .filter(|(r, _)| !r.is_empty())
        else {
            return;
        };
        let revision = source
            .get("targetRevision")
            .filter(|n| n.str().is_some_and(|v| !v.trim().is_empty()));
        if revision.and_then(Node::str).is_some_and(templated) {
            return;
        }
        if let Some(chart_node) = source.get("chart") {
            if let Some(chart) = chart_node.str().filter(|c| !c.is_empty() && !templated(c)) {
                let context = format!("{context} chart {chart}");
                self.chart_pin(chart, chart_node, revision, context);
            }
            return;
        }
        let path = source
            .str_at(&["path"])
            .map(|p| p.trim().trim_start_matches("./").trim_end_matches('/'))
            .filter(|p| !p.is_empty() && *p != ".");
        let component = match path {
            Some(p) => format!("{repo}//{p}"),
            None => repo.to_owned(),
        };
        let (reference, range, node) = match revision {
            Some(n) => {
                let raw = n.str().unwrap_or_default();
                let (kind, value) = git_revision(raw);
                let at = raw.find(value).unwrap_or(0);
                (
                    Reference {
                        kind,
                        value: value.to_owned(),
                        digest: None,
                    },
                    n.range_of(text, at, value),
                    n,
                )
            }
            // Argo CD's default: HEAD of the repository's default branch.
            None => (Reference::absent(), repo_node.value_range(text), repo_node),
        };
        let pin = Pin {
            kind: PinKind::GitRef,
            component,
            reference,
            span: self.cx.span(range),
            overrides: None,
            policy_ref: self.cx.setter(node),
            context,
        };
        self.push_pin(pin);
    }

    /// `argocd-image-updater.argoproj.io/image-list: alias=repo[:constraint], …` with
    /// per-alias `allow-tags` and `update-strategy`: one tag policy per listed image.
    fn image_updater(&mut self, app: &str, annotations: &Node) {
        let text = self.cx.text;
        let annotation = |key: &str| {
            let node = annotations.get(&format!("{IMAGE_UPDATER}{key}"))?;
            node.str().map(|v| (v, node))
        };
        let Some((list, list_node)) = annotation("image-list") else {
            return;
        };
        let mut offset = 0;
        for raw in list.split(',') {
            let at = offset + (raw.len() - raw.trim_start().len());
            offset += raw.len() + 1;
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            let (alias, image, image_at) = match entry.split_once('=') {
                Some((a, i)) => (Some(a.trim()), i.trim(), at + entry.len() - i.trim().len()),
                None => (None, entry, at),
            };
            let (repository, constraint, _) = split_image(image);
            if repository.is_empty() {
                continue;
            }
            let entry_span = self.cx.span(list_node.range_of(text, at, entry));
            let option = |name: &str| alias.and_then(|a| annotation(&format!("{a}.{name}")));
            let strategy = option("update-strategy");
            let constraint = constraint.filter(|c| !c.is_empty());
            let strategy_span = strategy.map(|(_, n)| self.cx.span(n.value_range(text)));
            let order = match strategy.map(|(s, _)| s.trim()) {
                None | Some("semver") => PolicyOrder::Semver {
                    range: constraint.unwrap_or_default().to_owned(),
                },
                Some("name" | "alphabetical") => PolicyOrder::Alphabetical {
                    order: "asc".to_owned(),
                },
                _ => PolicyOrder::Unspecified,
            };
            let considers_every_tag = matches!(
                strategy.map(|(s, _)| s.trim()),
                Some("latest" | "newest-build" | "name" | "alphabetical")
            );
            let order_span = match (&order, constraint) {
                (PolicyOrder::Semver { .. }, Some(c)) => {
                    let c_at = image_at + repository.len() + 1;
                    self.cx.span(list_node.range_of(text, c_at, c))
                }
                _ => strategy_span.clone().unwrap_or_else(|| entry_span.clone()),
            };
            let pattern = match option("allow-tags") {
                Some((v, node)) => {
                    let trimmed = v.trim();
                    let lead = v.len() - v.trim_start().len();
                    if let Some(re) = trimmed.strip_prefix("regexp:") {
                        let span = self.cx.span(node.range_of(text, lead + 7, re));
                        Some((re.to_owned(), span))
                    } else if trimmed == "any" {
                        let span = self.cx.span(node.range_of(text, lead, trimmed));
                        Some((ANY_TAG.to_owned(), span))
                    } else {
                        None
                    }
                }
                // Without allow-tags, an ordering that is not semver considers every tag.
                None if considers_every_tag => Some((
                    ANY_TAG.to_owned(),
                    strategy_span.clone().unwrap_or_else(|| entry_span.clone()),
                )),
                None => None,
            };
            let policy = TagPolicy {
                source: PolicySource::ArgoImageUpdater,
                name: format!("{app}/{}", alias.unwrap_or(repository)),
                image_repository_ref: None,
                pattern,
                extract: None,
                order,
                order_span,
                span: entry_span,
            };
            self.push(FactKind::TagPolicy(policy));
        }
    }

    /// A Flux ImageUpdateAutomation: where it writes (`spec.update.path`).
    pub(super) fn image_update_automation(&mut self, doc: &Node, name: &str, kind_node: &Node) {
        let text = self.cx.text;
        let path = doc
            .path(&["spec", "update", "path"])
            .and_then(|n| Some((n.str()?.to_owned(), self.cx.span(n.value_range(text)))));
        let automation = ImageUpdateAutomation {
            name: name.to_owned(),
            path,
            span: self.cx.span(kind_node.value_range(text)),
        };
        self.push(FactKind::ImageUpdateAutomation(automation));
    }
}

impl Cx<'_> {
    /// A Kargo Stage: the stages its freight comes from (`requestedFreight[].sources`,
    /// or the older `subscriptions`).
    pub(super) fn kargo_stage(&mut self, doc: &Node) {
        let Some(name_node) = doc.path(&["metadata", "name"]) else {
            return;
        };
        let Some(name) = name_node.str().filter(|n| !n.is_empty()) else {
            return;
        };
        let spec = doc.get("spec");
        let mut upstream: Vec<(String, Span)> = Vec::new();
        let mut direct = false;
        let mut add = |node: &Node, cx: &Self| {
            if let Some(stage) = node.str().filter(|s| !s.is_empty()) {
                upstream.push((stage.to_owned(), cx.span(node.value_range(cx.text))));
            }
        };
        for request in spec
            .and_then(|s| s.get("requestedFreight"))
            .map(Node::seq)
            .unwrap_or(&[])
        {
            for stage in request
                .path(&["sources", "stages"])
                .map(Node::seq)
                .unwrap_or(&[])
            {
                add(stage, self);
            }
            direct |= request.str_at(&["sources", "direct"]) == Some("true");
        }
        if let Some(subscriptions) = spec.and_then(|s| s.get("subscriptions")) {
            for stage in subscriptions
                .get("upstreamStages")
                .map(Node::seq)
                .unwrap_or(&[])
            {
                if let Some(n) = stage.get("name") {
                    add(n, self);
                }
            }
            direct |= subscriptions.get("warehouse").is_some();
        }
        let stage = KargoStage {
            project: doc.str_at(&["metadata", "namespace"]).map(str::to_owned),
            name: name.to_owned(),
            span: self.span(name_node.value_range(self.text)),
            upstream,
            direct,
        };
        self.facts.push(Fact::new(FactKind::KargoStage(stage)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::test_support::{at, pins, policies};
    use crate::model::{ImageUpdateAutomation, LineIndex};

    fn run(path: &str, text: &str) -> Vec<Fact> {
        let index = LineIndex::new(text);
        match crate::extract::extract(path, crate::extract::Format::Yaml, text) {
            Ok(facts) => facts,
            Err(e) => panic!("{path}: {e} ({:?})", index.line_count()),
        }
    }

    #[test]
    fn application_with_one_git_source_on_a_branch() {
        let text = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: backend-prod
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/acme/gitops.git
    path: ./apps/backend/overlays/prod/
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: production
"#;
        let facts = run("argocd/backend.yaml", text);
        // The pin, and the entry point deploying the overlay.
        assert_eq!(facts.len(), 2);
        // The destination namespace, not Argo CD's own, is the environment signal.
        assert_eq!(facts[0].namespace.as_deref(), Some("production"));
        let FactKind::Deploy(d) = &facts[1].kind else {
            panic!("{facts:?}")
        };
        assert_eq!(d.path, "apps/backend/overlays/prod");
        assert_eq!(d.env_words, ["backend-prod", "default", "production"]);
        let p = pins(&facts)[0];
        assert_eq!(p.kind, PinKind::GitRef);
        assert_eq!(
            p.component,
            "https://github.com/acme/gitops.git//apps/backend/overlays/prod"
        );
        assert_eq!(
            (p.reference.kind, p.reference.value.as_str()),
            (RefKind::Branch, "main")
        );
        assert_eq!(at(text, &p.span, "main"), "11:21-11:25");
        assert_eq!(p.context, "Application backend-prod");

        for (revision, kind, value, col) in [
            ("HEAD", RefKind::Branch, "HEAD", "11:21-11:25"),
            (
                "'refs/heads/release'",
                RefKind::Branch,
                "release",
                "11:33-11:40",
            ),
            ("refs/tags/v1.2.0", RefKind::Tag, "v1.2.0", "11:31-11:37"),
            ("v1.2.0", RefKind::Tag, "v1.2.0", "11:21-11:27"),
            (
                "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
                RefKind::Commit,
                "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
                "11:21-11:61",
            ),
            ("'1.2.*'", RefKind::Range, "1.2.*", "11:22-11:27"),
        ] {
            let text = text.replace(
                "targetRevision: main",
                &format!("targetRevision: {revision}"),
            );
            let facts = run("argocd/backend.yaml", &text);
            let p = pins(&facts)[0];
            assert_eq!(
                (p.reference.kind, p.reference.value.as_str()),
                (kind, value),
                "{revision}"
            );
            assert_eq!(at(&text, &p.span, value), col, "{revision}");
        }

        // No targetRevision: HEAD by default, reported at the repository URL.
        let text = text.replace("    targetRevision: main\n", "");
        let facts = run("argocd/backend.yaml", &text);
        let p = pins(&facts)[0];
        assert_eq!(p.reference, Reference::absent());
        assert_eq!(
            at(&text, &p.span, "https://github.com/acme/gitops.git"),
            "9:14-9:48"
        );
    }

    #[test]
    fn application_with_several_sources_and_helm_charts() {
        let text = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: redis-staging
spec:
  sources:
    - repoURL: https://charts.bitnami.com/bitnami
      chart: redis
      targetRevision: 18.x
      helm:
        valueFiles: [$values/redis/staging.yaml]
    - repoURL: oci://ghcr.io/acme/charts
      chart: backend
      targetRevision: "1.4.2"
    - repoURL: https://prometheus-community.github.io/helm-charts
      chart: kube-prometheus-stack
    - repoURL: https://github.com/acme/values.git
      ref: values
    - repoURL: https://charts.example.com
      chart: wild
      targetRevision: '*'
  destination:
    namespace: '{{namespace}}'
"#;
        let facts = run("clusters/staging/redis.yaml", text);
        // A templated namespace is no namespace.
        assert!(facts.iter().all(|f| f.namespace.is_none()));
        let pins = pins(&facts);
        assert_eq!(pins.len(), 5);
        assert_eq!(pins[0].kind, PinKind::HelmChart);
        assert_eq!(pins[0].component, "redis");
        assert_eq!(
            (pins[0].reference.kind, pins[0].reference.value.as_str()),
            (RefKind::Range, "18.x")
        );
        assert_eq!(at(text, &pins[0].span, "18.x"), "9:23-9:27");
        assert_eq!(
            pins[0].context,
            "Application redis-staging sources[0] chart redis"
        );
        assert_eq!(pins[1].reference, Reference::tag("1.4.2"));
        assert_eq!(at(text, &pins[1].span, "1.4.2"), "14:24-14:29");
        // No chart version: the newest chart, reported at the chart name.
        assert_eq!(pins[2].component, "kube-prometheus-stack");
        assert_eq!(pins[2].reference, Reference::absent());
        assert_eq!(
            at(text, &pins[2].span, "kube-prometheus-stack"),
            "16:14-16:35"
        );
        // A values source without targetRevision follows HEAD.
        assert_eq!(pins[3].kind, PinKind::GitRef);
        assert_eq!(pins[3].component, "https://github.com/acme/values.git");
        assert_eq!(pins[3].reference.kind, RefKind::Absent);
        assert_eq!(
            at(text, &pins[3].span, "https://github.com/acme/values.git"),
            "17:16-17:50"
        );
        assert_eq!(pins[3].context, "Application redis-staging sources[3]");
        assert_eq!(pins[4].reference.kind, RefKind::Range);
        assert_eq!(at(text, &pins[4].span, "*"), "21:24-21:25");
    }

    #[test]
    fn application_set_template_and_templated_values() {
        let text = r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: guestbook
  namespace: argocd
spec:
  generators:
    - list:
        elements: [{env: dev}, {env: prod}]
  template:
    metadata:
      name: 'guestbook-{{env}}'
    spec:
      sources:
        - repoURL: https://github.com/acme/gitops.git
          path: 'envs/{{env}}'
          targetRevision: '{{revision}}'
        - repoURL: oci://ghcr.io/acme/charts
          chart: guestbook
          targetRevision: 1.5.0
      destination:
        namespace: guestbook
---
apiVersion: app.k8s.io/v1beta1
kind: Application
metadata:
  name: not-argo
spec:
  source:
    repoURL: https://example.com
    targetRevision: main
"#;
        let facts = run("argocd/appsets/guestbook.yaml", text);
        let pins = pins(&facts);
        // A generated revision is not a pin; another group's Application is not Argo CD's.
        assert_eq!(pins.len(), 1);
        assert_eq!(pins[0].component, "guestbook");
        assert_eq!(at(text, &pins[0].span, "1.5.0"), "20:27-20:32");
        assert_eq!(
            pins[0].context,
            "ApplicationSet guestbook sources[1] chart guestbook"
        );
        assert_eq!(facts[0].namespace.as_deref(), Some("guestbook"));
    }

    #[test]
    fn image_updater_annotations_are_tag_policies() {
        let text = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: shop-prod
  annotations:
    argocd-image-updater.argoproj.io/image-list: backend=ghcr.io/acme/backend:~1.2, frontend=ghcr.io/acme/frontend, ghcr.io/acme/tools, worker=ghcr.io/acme/worker
    argocd-image-updater.argoproj.io/backend.allow-tags: regexp:^prod-v[0-9]+\.[0-9]+\.[0-9]+$
    argocd-image-updater.argoproj.io/frontend.allow-tags: any
    argocd-image-updater.argoproj.io/frontend.update-strategy: newest-build
    argocd-image-updater.argoproj.io/worker.update-strategy: name
spec:
  source:
    repoURL: https://github.com/acme/shop.git
    path: deploy/prod
    targetRevision: v3.1.0
  destination:
    namespace: shop-prod
"#;
        let facts = run("argocd/shop-prod.yaml", text);
        assert!(facts
            .iter()
            .all(|f| f.namespace.as_deref() == Some("shop-prod")));
        let p = policies(&facts);
        assert_eq!(p.len(), 4);

        let backend = p[0];
        assert_eq!(backend.source, PolicySource::ArgoImageUpdater);
        assert_eq!(backend.name, "shop-prod/backend");
        let (pattern, pattern_span) = backend.pattern.as_ref().unwrap();
        assert_eq!(pattern, r"^prod-v[0-9]+\.[0-9]+\.[0-9]+$");
        assert_eq!(at(text, pattern_span, pattern), "7:65-7:95");
        // Semver is Image Updater's default strategy; the constraint is its range.
        assert_eq!(
            backend.order,
            PolicyOrder::Semver {
                range: "~1.2".into()
            }
        );
        assert_eq!(at(text, &backend.order_span, "~1.2"), "6:79-6:83");
        assert_eq!(
            at(text, &backend.span, "backend=ghcr.io/acme/backend:~1.2"),
            "6:50-6:83"
        );

        let frontend = p[1];
        assert_eq!(frontend.name, "shop-prod/frontend");
        let (pattern, pattern_span) = frontend.pattern.as_ref().unwrap();
        assert_eq!(pattern, ANY_TAG);
        assert_eq!(at(text, pattern_span, "any"), "8:59-8:62");
        assert_eq!(frontend.order, PolicyOrder::Unspecified);
        assert_eq!(at(text, &frontend.order_span, "newest-build"), "9:64-9:76");

        // Without an alias there are no per-image options.
        let tools = p[2];
        assert_eq!(tools.name, "shop-prod/ghcr.io/acme/tools");
        assert_eq!(tools.pattern, None);
        assert_eq!(
            tools.order,
            PolicyOrder::Semver {
                range: String::new()
            }
        );
        assert_eq!(
            at(text, &tools.order_span, "ghcr.io/acme/tools"),
            "6:117-6:135"
        );

        // Alphabetical order without allow-tags considers every tag.
        let worker = p[3];
        assert_eq!(
            worker.order,
            PolicyOrder::Alphabetical {
                order: "asc".into()
            }
        );
        let (pattern, pattern_span) = worker.pattern.as_ref().unwrap();
        assert_eq!(pattern, ANY_TAG);
        assert_eq!(at(text, pattern_span, "name"), "10:62-10:66");

        let pin = pins(&facts)[0];
        assert_eq!(pin.reference, Reference::tag("v3.1.0"));
        assert_eq!(
            pin.component,
            "https://github.com/acme/shop.git//deploy/prod"
        );
    }

    #[test]
    fn kargo_stages() {
        let text = r#"apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: prod
  namespace: guestbook
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: guestbook}
      sources:
        stages:
          - staging-eu
          - staging-us
    - origin: {kind: Warehouse, name: config}
      sources:
        direct: true
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: uat
spec:
  subscriptions:
    upstreamStages:
      - name: test
---
apiVersion: example.com/v1
kind: Stage
metadata:
  name: other
"#;
        let facts = run("kargo/stages.yaml", text);
        assert_eq!(facts.len(), 2);
        let stages: Vec<&KargoStage> = facts
            .iter()
            .filter_map(|f| match &f.kind {
                FactKind::KargoStage(s) => Some(s),
                _ => None,
            })
            .collect();
        let prod = stages[0];
        assert_eq!(prod.name, "prod");
        assert_eq!(prod.project.as_deref(), Some("guestbook"));
        assert_eq!(at(text, &prod.span, "prod"), "4:9-4:13");
        assert!(prod.direct);
        let upstream: Vec<(&str, String)> = prod
            .upstream
            .iter()
            .map(|(n, s)| (n.as_str(), at(text, s, n)))
            .collect();
        assert_eq!(
            upstream,
            [
                ("staging-eu", "11:13-11:23".to_string()),
                ("staging-us", "12:13-12:23".to_string())
            ]
        );
        // The project is not an environment signal.
        assert!(facts.iter().all(|f| f.namespace.is_none()));
        let uat = stages[1];
        assert_eq!(uat.project, None);
        assert!(!uat.direct);
        assert_eq!(uat.upstream[0].0, "test");
        assert_eq!(at(text, &uat.upstream[0].1, "test"), "24:15-24:19");
    }

    #[test]
    fn image_update_automations() {
        let text = r#"apiVersion: image.toolkit.fluxcd.io/v1beta2
kind: ImageUpdateAutomation
metadata:
  name: apps
  namespace: production
spec:
  git:
    checkout:
      ref:
        branch: main
  update:
    path: "./flux/apps"
    strategy: Setters
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: everything
"#;
        let facts = run("flux/clusters/lab/automation.yaml", text);
        assert_eq!(facts.len(), 2);
        let automations: Vec<&ImageUpdateAutomation> = facts
            .iter()
            .filter_map(|f| match &f.kind {
                FactKind::ImageUpdateAutomation(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(facts[0].namespace.as_deref(), Some("production"));
        assert_eq!(automations[0].name, "apps");
        let (path, span) = automations[0].path.as_ref().unwrap();
        assert_eq!(at(text, span, path), "12:12-12:23");
        assert_eq!(
            at(text, &automations[0].span, "ImageUpdateAutomation"),
            "2:7-2:28"
        );
        // The checkout branch is no pin.
        assert!(pins(&facts).is_empty());
        assert_eq!(automations[1].path, None);
        assert_eq!(
            at(text, &automations[1].span, "ImageUpdateAutomation"),
            "16:7-16:28"
        );
    }

    #[test]
    fn no_panic_on_truncated_or_odd_gitops_objects() {
        let text = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: a
  annotations:
    argocd-image-updater.argoproj.io/image-list: ' a=b:c , ,=, x=:y,z= '
    argocd-image-updater.argoproj.io/a.allow-tags: "regexp:"
    argocd-image-updater.argoproj.io/x.allow-tags: [any]
spec:
  sources: [{repoURL: r, chart: [c]}, {repoURL: '', targetRevision: x}, 3, {repoURL: s, targetRevision: ' '}]
  source: {repoURL: {a: b}}
  destination: {namespace: [ns]}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: s}
spec: {requestedFreight: [{sources: {stages: [a, [b], '']}}, 1]}
"#;
        let mut ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        ends.push(text.len());
        for end in ends {
            let part = &text[..end];
            let _ = crate::extract::extract("a.yaml", crate::extract::Format::Yaml, part);
        }
        let facts = run("a.yaml", text);
        assert!(!facts.is_empty());
    }

    #[test]
    fn git_revisions() {
        let kinds = git_revision;
        assert_eq!(kinds("HEAD"), (RefKind::Branch, "HEAD"));
        assert_eq!(kinds("main"), (RefKind::Branch, "main"));
        assert_eq!(kinds("release/1.4"), (RefKind::Branch, "release/1.4"));
        assert_eq!(kinds("refs/heads/prod"), (RefKind::Branch, "prod"));
        assert_eq!(kinds("refs/tags/v1.2.0"), (RefKind::Tag, "v1.2.0"));
        assert_eq!(kinds("v1.2.3"), (RefKind::Tag, "v1.2.3"));
        assert_eq!(kinds("1.4.0"), (RefKind::Tag, "1.4.0"));
        assert_eq!(kinds("v6"), (RefKind::Tag, "v6"));
        assert_eq!(
            kinds("production-v1.2.3-1712345678"),
            (RefKind::Tag, "production-v1.2.3-1712345678")
        );
        assert_eq!(kinds("1.2.*"), (RefKind::Range, "1.2.*"));
        assert_eq!(kinds(">=1.0.0"), (RefKind::Range, ">=1.0.0"));
        assert_eq!(
            kinds("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"),
            (RefKind::Commit, "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")
        );
        assert_eq!(kinds("3f2a9c1"), (RefKind::Commit, "3f2a9c1"));
        // All letters or all digits: not taken for an abbreviated commit.
        assert_eq!(kinds("deadbeef"), (RefKind::Branch, "deadbeef"));
        assert_eq!(kinds("20240611"), (RefKind::Tag, "20240611"));
        assert_eq!(kinds(" "), (RefKind::Absent, ""));
        assert_eq!(kinds("stable"), (RefKind::Branch, "stable"));
    }
}
