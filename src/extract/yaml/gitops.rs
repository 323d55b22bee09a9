//! GitOps controllers' objects: Argo CD Applications (and ApplicationSet templates) with
//! their Image Updater annotations, Kargo Stages, Flux ImageUpdateAutomations.

use super::objects::{Cx, DocCx};
use super::tree::Node;
use crate::model::{
    is_version_range, split_image, Fact, FactKind, ImageUpdateAutomation, KargoStage, Pin, PinKind,
    PolicyOrder, PolicySource, RefKind, Reference, Span, TagPolicy,
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
