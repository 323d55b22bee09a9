//! Kustomize patches as overrides: which patches a kustomization applies to what it
//! includes (its own and its components'), which objects each selects, and the pin a
//! patched field makes. Nothing is rendered in full: only the version-bearing fields that
//! extraction links to pins (chart version, container image, source ref, values image).

use super::graph::{parent_dir, resolve_entry, FileFacts};
use super::replacements;
use crate::model::hash::{HashMap, HashSet};
use crate::model::join_normalized;
use crate::model::{
    is_version_range, split_image, FactKind, Field, FieldValue, KubeObject, KustomizePatch,
    PatchBody, PatchTarget, Pin, PinKind, RefKind, Reference, Replacement,
};
use regex::Regex;
use std::sync::Arc;

/// One value a patch writes, where it is written.
#[derive(Debug)]
pub(super) struct Edit {
    /// File holding the value: the patch file, or the kustomization of an inline patch.
    pub file: usize,
    /// The fact of that file the value belongs to (the patch's object or JSON patch, or the
    /// kustomization).
    pub fact: usize,
    pub value: FieldValue,
    /// A replacement writing only the tag of an image (`delimiter: ':'`, `index: 1`).
    pub tag_only: bool,
    /// Written by a `replacements` entry (its value is the source's), not a patch.
    pub replacement: bool,
}

/// Which objects a patch applies to.
#[derive(Clone, Debug)]
enum Selector {
    /// A `target:`; `None` fields select everything. Regexes are anchored as Kustomize's.
    Target {
        group: Option<Matcher>,
        version: Option<Matcher>,
        kind: Option<Matcher>,
        name: Option<Matcher>,
        namespace: Option<Matcher>,
        /// `labelSelector` equality terms; `None` when it has terms of another kind.
        labels: Option<Vec<(String, String)>>,
    },
    /// A strategic merge patch without target: the object with its own group, kind, name
    /// (and namespace, when both say one).
    Same {
        group: String,
        kind: String,
        name: String,
        namespace: Option<String>,
    },
    /// A target that cannot be understood (an invalid regex): it selects nothing, so the
    /// base stays effective and is judged as written.
    Nothing,
}

/// One patch document with what selects it: its edits, in order.
#[derive(Debug)]
struct Rule {
    selector: Selector,
    /// A replacement target's `reject` selectors: objects they select are left alone.
    reject: Vec<Selector>,
    edits: Vec<usize>,
}

/// Every kustomization's patches, and every value they write.
#[derive(Debug, Default)]
pub(super) struct Patches {
    /// Kustomization file → the rules it applies: its components' first, then its own.
    rules: HashMap<usize, Vec<Rule>>,
    pub edits: Vec<Edit>,
    /// Patch files: (kustomization file, its Kustomization fact, patch entry, patch file).
    pub files: Vec<(usize, usize, usize, usize)>,
    /// Pin facts (file, fact) a replacement reads its value from (an env file's line).
    pub replacement_sources: HashSet<(usize, usize)>,
    /// Files a replacement looked for its source's value in (the kustomization's build):
    /// what it finds depends on the values there.
    pub read: HashSet<usize>,
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or("", |(g, _)| g)
}

fn version_of(api_version: &str) -> &str {
    api_version.split_once('/').map_or(api_version, |(_, v)| v)
}

/// A selector field: Kustomize reads it as a regex anchored at both ends. Almost every one
/// is a plain name (`kind: HelmRelease`, `name: podinfo`), compared as a string: compiling
/// a regex per patch of every overlay dominated building the snapshot of a large tree.
#[derive(Clone, Debug)]
enum Matcher {
    Exact(String),
    Pattern(Regex),
}

impl Matcher {
    fn is_match(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(s) => s == value,
            Matcher::Pattern(re) => re.is_match(value),
        }
    }
}

/// The characters that make a selector field more than a name (`-`, which `regex::escape`
/// also escapes, is only special inside a class).
const REGEX_META: &[char] = &[
    '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
];

/// `^(?:re)$`, as Kustomize anchors selector fields; `Err` for an invalid regex.
fn anchored(re: &Option<String>) -> Result<Option<Matcher>, ()> {
    match re {
        None => Ok(None),
        Some(s) if !s.contains(REGEX_META) => Ok(Some(Matcher::Exact(s.clone()))),
        Some(s) => Regex::new(&format!("^(?:{s})$"))
            .map(|r| Some(Matcher::Pattern(r)))
            .map_err(|_| ()),
    }
}

/// Equality terms of a label selector (`a=b`, `a==b`); `None` for any other term (`!=`,
/// `in (…)`, a bare key), which is not followed.
fn label_terms(selector: &str) -> Option<Vec<(String, String)>> {
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|term| {
            if term.contains("!=") || term.contains(' ') || term.contains('(') {
                return None;
            }
            let (k, v) = term.split_once("==").or_else(|| term.split_once('='))?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn selector(target: &PatchTarget) -> Selector {
    // Annotations are not read: selecting by the rest would select too much.
    if target.annotation_selector.is_some() {
        return Selector::Nothing;
    }
    let compiled = (|| {
        Ok::<_, ()>(Selector::Target {
            group: anchored(&target.group)?,
            version: anchored(&target.version)?,
            kind: anchored(&target.kind)?,
            name: anchored(&target.name)?,
            namespace: anchored(&target.namespace)?,
            labels: match &target.label_selector {
                None => Some(Vec::new()),
                Some(s) => label_terms(s),
            },
        })
    })();
    compiled.unwrap_or(Selector::Nothing)
}

impl Selector {
    fn selects(&self, o: &KubeObject) -> bool {
        let is = |m: &Option<Matcher>, value: &str| m.as_ref().is_none_or(|m| m.is_match(value));
        match self {
            Selector::Target {
                group,
                version,
                kind,
                name,
                namespace,
                labels,
            } => {
                is(group, group_of(&o.api_version))
                    && is(version, version_of(&o.api_version))
                    && is(kind, &o.kind)
                    && is(name, &o.name)
                    && is(namespace, o.namespace.as_deref().unwrap_or(""))
                    && labels.as_ref().is_some_and(|terms| {
                        terms
                            .iter()
                            .all(|(k, v)| o.labels.iter().any(|(lk, lv)| lk == k && lv == v))
                    })
            }
            Selector::Same {
                group,
                kind,
                name,
                namespace,
            } => {
                group == group_of(&o.api_version)
                    && kind == &o.kind
                    && name == &o.name
                    && match (namespace, &o.namespace) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            }
            Selector::Nothing => false,
        }
    }
}

impl Patches {
    pub fn build(files: &[Arc<FileFacts>], by_path: &HashMap<String, usize>) -> Self {
        let mut out = Patches::default();
        // Each kustomization's own rules first; components are added below.
        let mut own: HashMap<usize, Vec<Rule>> = HashMap::default();
        let mut components: Vec<(usize, Vec<usize>)> = Vec::new();
        for (k, f) in files.iter().enumerate() {
            let dir = parent_dir(&f.path);
            for (fi, fact) in f.facts.iter().enumerate() {
                let FactKind::Kustomization(kust) = &fact.kind else {
                    continue;
                };
                for (pi, patch) in kust.patches.iter().enumerate() {
                    let rules = out.rules_of(files, by_path, dir, (k, fi, pi), patch);
                    own.entry(k).or_default().extend(rules);
                }
                // Kustomize runs replacements after the patches, inline entries and
                // files of them in the order written.
                let mut listed: Vec<&Replacement> = Vec::new();
                let mut from_files = kust.replacement_files.iter().peekable();
                for i in 0..=kust.replacements.len() {
                    while let Some((_, path)) = from_files.next_if(|(at, _)| *at <= i) {
                        let file = join_normalized(dir, path).and_then(|p| by_path.get(&p));
                        for fact in file.map_or(&[][..], |&rf| files[rf].facts.as_slice()) {
                            if let FactKind::Replacements(list) = &fact.kind {
                                listed.extend(list);
                            }
                        }
                    }
                    listed.extend(kust.replacements.get(i));
                }
                for r in listed {
                    let rules = out.replacement_rules(files, by_path, (k, fi), r);
                    own.entry(k).or_default().extend(rules);
                }
                let comps: Vec<usize> = kust
                    .components
                    .iter()
                    .flat_map(|c| resolve_entry(dir, c, by_path))
                    .filter(|&c| c != k)
                    .collect();
                if !comps.is_empty() {
                    components.push((k, comps));
                }
            }
        }
        // Kustomize applies a kustomization's components before its own patches, so a
        // component's patch is overridden by the overlay's own.
        let mut rules: HashMap<usize, Vec<Rule>> = HashMap::default();
        for (k, comps) in components {
            for c in comps {
                for r in own.get(&c).into_iter().flatten() {
                    let copy = Rule {
                        selector: r.selector.clone(),
                        reject: r.reject.clone(),
                        edits: r.edits.clone(),
                    };
                    rules.entry(k).or_default().push(copy);
                }
            }
        }
        for (k, list) in own {
            rules.entry(k).or_default().extend(list);
        }
        out.rules = rules;
        out
    }

    /// The rules of one patch entry: one per patch document.
    fn rules_of(
        &mut self,
        files: &[Arc<FileFacts>],
        by_path: &HashMap<String, usize>,
        dir: &str,
        (k, fi, pi): (usize, usize, usize),
        patch: &KustomizePatch,
    ) -> Vec<Rule> {
        let target = patch.target.as_ref().map(selector);
        let mut rules = Vec::new();
        let mut add = |this: &mut Self, body: BodyRef, file: usize, fact: usize| {
            let (selector, values) = match (body, &target) {
                (BodyRef::Merge(o), Some(t)) => (t.clone(), o.values.as_slice()),
                (BodyRef::Merge(o), None) => (
                    Selector::Same {
                        group: group_of(&o.api_version).to_owned(),
                        kind: o.kind.clone(),
                        name: o.name.clone(),
                        namespace: o.namespace.clone(),
                    },
                    o.values.as_slice(),
                ),
                (BodyRef::Json(ops), Some(t)) => (t.clone(), ops),
                // Kustomize refuses a JSON patch without a target.
                (BodyRef::Json(_), None) => return,
            };
            let mut edits = Vec::new();
            for value in values {
                edits.push(this.edits.len());
                this.edits.push(Edit {
                    file,
                    fact,
                    value: value.clone(),
                    tag_only: false,
                    replacement: false,
                });
            }
            rules.push(Rule {
                selector,
                reject: Vec::new(),
                edits,
            });
        };
        match &patch.path {
            None => {
                for body in &patch.inline {
                    let body = match body {
                        PatchBody::Merge(o) => BodyRef::Merge(o),
                        PatchBody::Json(j) => BodyRef::Json(&j.ops),
                    };
                    add(self, body, k, fi);
                }
            }
            Some(path) => {
                let Some(pf) = join_normalized(dir, path).and_then(|p| by_path.get(&p).copied())
                else {
                    return rules;
                };
                self.files.push((k, fi, pi, pf));
                for (xi, fact) in files[pf].facts.iter().enumerate() {
                    let body = match &fact.kind {
                        FactKind::Object(o) => BodyRef::Merge(o),
                        FactKind::JsonPatch(j) => BodyRef::Json(&j.ops),
                        _ => continue,
                    };
                    add(self, body, pf, xi);
                }
            }
        }
        rules
    }

    /// The rules of one replacement of kustomization `k` (fact `kf`): one per target it
    /// can follow, each writing the source's value (with the source's span) into the
    /// target's version-bearing field paths. Nothing when the source is not in the build.
    fn replacement_rules(
        &mut self,
        files: &[Arc<FileFacts>],
        by_path: &HashMap<String, usize>,
        (k, _kf): (usize, usize),
        r: &Replacement,
    ) -> Vec<Rule> {
        let build = replacements::build_files(k, files, by_path);
        self.read.extend(build.iter().copied());
        let Some(source) = replacements::source_value(&build, r, files, by_path) else {
            return Vec::new();
        };
        if matches!(
            files.get(source.file).and_then(|f| f.facts.get(source.fact)),
            Some(fact) if matches!(fact.kind, FactKind::Pin(_))
        ) {
            self.replacement_sources.insert((source.file, source.fact));
        }
        let mut rules = Vec::new();
        for target in &r.targets {
            let selector = exact_selector(&target.select);
            let reject: Vec<Selector> = target.reject.iter().map(exact_selector).collect();
            // A selector we cannot read could select (or spare) anything: not followed.
            if matches!(selector, Selector::Nothing)
                || reject.iter().any(|s| matches!(s, Selector::Nothing))
            {
                continue;
            }
            let mut edits = Vec::new();
            for path in &target.field_paths {
                let Some((field, tag_only)) = replacements::target_field(path, &target.options)
                else {
                    continue;
                };
                // A whole image or a ref key as the tag of an image would not be a tag.
                if tag_only && source.value.contains([':', '@', '/']) {
                    continue;
                }
                edits.push(self.edits.len());
                self.edits.push(Edit {
                    file: source.file,
                    fact: source.fact,
                    value: FieldValue {
                        field,
                        value: Some(source.value.clone()),
                        span: source.span.clone(),
                        policy_ref: source.policy_ref.clone(),
                    },
                    tag_only,
                    replacement: true,
                });
            }
            if !edits.is_empty() {
                rules.push(Rule {
                    selector,
                    reject,
                    edits,
                });
            }
        }
        rules
    }

    /// Whether kustomization `k` applies any patch (a pin it may rewrite is read for more
    /// than itself: see [`Self::apply`]).
    pub fn has_rules(&self, k: usize) -> bool {
        self.rules.get(&k).is_some_and(|r| !r.is_empty())
    }

    /// The pin `current` becomes when kustomization `k` patches field `field` of object
    /// `object` (whose base pin was `base`), with the last edit that set it; `None` when
    /// none of its patches changes it.
    pub fn apply(
        &self,
        k: usize,
        object: &KubeObject,
        field: &Field,
        current: &Pin,
    ) -> Option<(usize, Pin)> {
        let mut out: Option<(usize, Pin)> = None;
        for rule in self.rules.get(&k).into_iter().flatten() {
            if !rule.selector.selects(object) || rule.reject.iter().any(|r| r.selects(object)) {
                continue;
            }
            let edits: Vec<usize> = rule
                .edits
                .iter()
                .copied()
                .filter(|&e| applies(field, &self.edits[e].value.field))
                .collect();
            if edits.is_empty() {
                continue;
            }
            let pin = out.as_ref().map_or(current, |(_, p)| p);
            let patched = match field {
                Field::Ref { .. } => self.merge_ref(object, pin, &edits),
                _ => {
                    let mut last: Option<(usize, Pin)> = None;
                    for &e in &edits {
                        let now = last.as_ref().map_or(pin, |(_, p)| p);
                        let edit = &self.edits[e];
                        let written = if edit.tag_only {
                            set_tag(now, &edit.value)
                        } else {
                            set(now, &edit.value)
                        };
                        if let Some(p) = written {
                            last = Some((e, p));
                        }
                    }
                    last
                }
            };
            if let Some(p) = patched {
                out = Some(p);
            }
        }
        out
    }

    /// A ref patched key by key over the base's keys, decided in Flux's order. `None` when
    /// the winning key and the digest are still the base's (the patch changed nothing that
    /// decides the revision).
    fn merge_ref(
        &self,
        object: &KubeObject,
        current: &Pin,
        edits: &[usize],
    ) -> Option<(usize, Pin)> {
        // key → (value, the edit that wrote it, if any)
        let mut keys: HashMap<&str, (Option<&str>, Option<usize>)> = HashMap::default();
        for v in &object.values {
            if let Field::Ref { key } = &v.field {
                keys.insert(key, (v.value.as_deref(), None));
            }
        }
        for &e in edits {
            if let Field::Ref { key } = &self.edits[e].value.field {
                keys.insert(key, (self.edits[e].value.value.as_deref(), Some(e)));
            }
        }
        let get = |k: &str| {
            keys.get(k)
                .and_then(|(v, e)| v.filter(|v| !v.is_empty()).map(|v| (v, *e)))
        };
        let order: &[(&str, RefKind)] = if current.kind == PinKind::OciArtifact {
            &[("semver", RefKind::Range), ("tag", RefKind::Tag)]
        } else {
            &[
                ("commit", RefKind::Commit),
                ("name", RefKind::Branch),
                ("semver", RefKind::Range),
                ("tag", RefKind::Tag),
                ("branch", RefKind::Branch),
            ]
        };
        let winner = order
            .iter()
            .find_map(|(k, kind)| get(k).map(|(v, e)| (*kind, v, e)));
        let digest = get("digest").filter(|_| current.kind == PinKind::OciArtifact);
        let by = winner
            .and_then(|(_, _, e)| e)
            .or(digest.and_then(|(_, e)| e));
        let edit = by?;
        let (kind, value) = match winner {
            // `refs/tags/x` is tag x; any other ref name moves like a branch.
            Some((RefKind::Branch, v, _)) if v.starts_with("refs/") => {
                match v.strip_prefix("refs/tags/") {
                    Some(t) => (RefKind::Tag, t),
                    None => (RefKind::Branch, v.trim_start_matches("refs/heads/")),
                }
            }
            Some((kind, v, _)) => (kind, v),
            None => (RefKind::Absent, ""),
        };
        let written = &self.edits[edit].value;
        Some((
            edit,
            Pin {
                reference: Reference {
                    kind,
                    value: value.to_owned(),
                    digest: digest.map(|(d, _)| d.to_owned()),
                },
                span: written.span.clone(),
                policy_ref: written.policy_ref.clone(),
                ..current.clone()
            },
        ))
    }
}

/// A patch body, borrowed from a fact or an inline patch.
#[derive(Clone, Copy)]
enum BodyRef<'a> {
    Merge(&'a KubeObject),
    Json(&'a [FieldValue]),
}

/// Whether a patch writing `edit` changes the pin that comes from `base`.
fn applies(base: &Field, edit: &Field) -> bool {
    match (base, edit) {
        (Field::ChartVersion, Field::ChartVersion) => true,
        (
            Field::Image {
                init: bi,
                name: bn,
                index: bx,
            },
            Field::Image {
                init: ei,
                name: en,
                index: ex,
            },
        ) => {
            // Strategic merge finds a container by name, a JSON patch by position.
            bi == ei
                && match en {
                    Some(n) => bn.as_deref() == Some(n.as_str()),
                    None => ex.is_some() && bx == ex,
                }
        }
        (Field::Ref { .. }, Field::Ref { .. }) => true,
        (Field::Value { path: b }, Field::Value { path: e }) => {
            e == b
                || e.strip_prefix(b.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|k| matches!(k, "tag" | "repository" | "digest"))
        }
        _ => false,
    }
}

/// `pin` with the value a patch writes (not for refs: see [`Patches::merge_ref`]); `None`
/// when the write cannot be followed (an image removed).
fn set(pin: &Pin, written: &FieldValue) -> Option<Pin> {
    let value = written.value.as_deref().map(str::trim);
    let at = |reference: Reference, component: String| Pin {
        component,
        reference,
        span: written.span.clone(),
        policy_ref: written.policy_ref.clone(),
        ..pin.clone()
    };
    match &written.field {
        Field::ChartVersion => {
            let reference = match value.filter(|v| !v.is_empty()) {
                Some(v) => Reference {
                    kind: if is_version_range(v) {
                        RefKind::Range
                    } else {
                        RefKind::Tag
                    },
                    value: v.to_owned(),
                    digest: None,
                },
                None => Reference::absent(),
            };
            Some(at(reference, pin.component.clone()))
        }
        Field::Value { path } if path.ends_with(".tag") => {
            let tag = value.filter(|v| !v.is_empty())?;
            let reference = Reference {
                kind: RefKind::Tag,
                value: tag.to_owned(),
                digest: pin.reference.digest.clone(),
            };
            Some(at(reference, pin.component.clone()))
        }
        Field::Value { path } if path.ends_with(".digest") => {
            let digest = value.filter(|v| !v.is_empty())?;
            let reference = Reference {
                digest: Some(digest.to_owned()),
                ..pin.reference.clone()
            };
            Some(at(reference, pin.component.clone()))
        }
        Field::Value { path } if path.ends_with(".repository") => {
            let repository = value.filter(|v| !v.is_empty())?;
            Some(at(pin.reference.clone(), repository.to_owned()))
        }
        // A whole image string: a container's `image`, or a values `image: repo:tag`.
        Field::Image { .. } | Field::Value { .. } => {
            let image = value.filter(|v| !v.is_empty())?;
            let (repository, tag, digest) = split_image(image);
            if repository.is_empty() {
                return None;
            }
            let tag = tag.filter(|t| !t.is_empty());
            let reference = Reference::image(tag, digest);
            Some(at(reference, repository.to_owned()))
        }
        Field::Ref { .. } => None,
    }
}

/// `pin` with its image tag replaced (a replacement with `delimiter: ':'`, `index: 1`);
/// `None` when the image has no tag to replace, a digest, or a registry port (the split at
/// `:` would not be the tag).
fn set_tag(pin: &Pin, written: &FieldValue) -> Option<Pin> {
    let tag = written
        .value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())?;
    if !pin.kind.is_image()
        || pin.reference.kind != RefKind::Tag
        || pin.reference.digest.is_some()
        || pin.component.contains(':')
    {
        return None;
    }
    Some(Pin {
        reference: Reference::image(Some(tag), None),
        span: written.span.clone(),
        policy_ref: written.policy_ref.clone(),
        ..pin.clone()
    })
}

/// A replacement's `select`/`reject`: fields compared as written (no regexes).
fn exact_selector(target: &PatchTarget) -> Selector {
    if target.annotation_selector.is_some() {
        return Selector::Nothing;
    }
    let exact = |v: &Option<String>| v.clone().map(Matcher::Exact);
    Selector::Target {
        group: exact(&target.group),
        version: exact(&target.version),
        kind: exact(&target.kind),
        name: exact(&target.name),
        namespace: exact(&target.namespace),
        labels: match &target.label_selector {
            None => Some(Vec::new()),
            Some(s) => match label_terms(s) {
                Some(terms) => Some(terms),
                None => return Selector::Nothing,
            },
        },
    }
}

/// Patch files whose values replaced a base's somewhere: their own pins are not pins of
/// their own (Kustomize never applies a patch file as a resource).
pub(super) fn used_spans(patches: &Patches, used: &HashSet<usize>) -> HashSet<(usize, usize)> {
    used.iter()
        .map(|&e| {
            let edit = &patches.edits[e];
            (edit.file, edit.value.span.start)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, name: &str, labels: &[(&str, &str)]) -> KubeObject {
        KubeObject {
            api_version: "helm.toolkit.fluxcd.io/v2".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: Some("podinfo".into()),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            values: Vec::new(),
            pins: Vec::new(),
        }
    }

    #[test]
    fn label_selectors_follow_equality_terms_only() {
        assert_eq!(
            label_terms("app=podinfo, tier==web"),
            Some(vec![
                ("app".into(), "podinfo".into()),
                ("tier".into(), "web".into())
            ])
        );
        for unsupported in ["app!=web", "app in (web)", "app", "!app"] {
            assert_eq!(label_terms(unsupported), None, "{unsupported}");
        }
    }

    #[test]
    fn targets_are_anchored_regexes_and_unknown_selectors_select_nothing() {
        let podinfo = object("HelmRelease", "podinfo", &[("app", "podinfo")]);
        let select = |t: PatchTarget| selector(&t).selects(&podinfo);
        let named = |name: &str| PatchTarget {
            name: Some(name.into()),
            ..PatchTarget::default()
        };
        assert!(select(named("podinfo")));
        assert!(select(named("pod.*")));
        assert!(select(named("redis|podinfo")));
        assert!(!select(named("pod")));
        assert!(!select(named("info")));
        assert!(!select(named("(")), "an invalid regex selects nothing");
        assert!(select(PatchTarget {
            group: Some("helm.toolkit.fluxcd.io".into()),
            version: Some("v2".into()),
            kind: Some("HelmRelease".into()),
            namespace: Some("podinfo".into()),
            label_selector: Some("app=podinfo".into()),
            ..PatchTarget::default()
        }));
        assert!(!select(PatchTarget {
            kind: Some("Helm".into()),
            ..PatchTarget::default()
        }));
        assert!(!select(PatchTarget {
            annotation_selector: Some("team=web".into()),
            ..PatchTarget::default()
        }));
    }

    #[test]
    fn containers_match_by_name_in_a_merge_and_by_position_in_a_json_patch() {
        let base = Field::Image {
            init: false,
            name: Some("web".into()),
            index: Some(1),
        };
        let merge = |name: &str| Field::Image {
            init: false,
            name: Some(name.into()),
            index: Some(0),
        };
        let json = |i: usize| Field::Image {
            init: false,
            name: None,
            index: Some(i),
        };
        assert!(applies(&base, &merge("web")));
        assert!(!applies(&base, &merge("sidecar")));
        assert!(applies(&base, &json(1)));
        assert!(!applies(&base, &json(0)));
        let init = Field::Image {
            init: true,
            name: Some("web".into()),
            index: Some(1),
        };
        assert!(!applies(&init, &merge("web")));
        let image = Field::Value {
            path: "app.image".into(),
        };
        for (path, yes) in [
            ("app.image", true),
            ("app.image.tag", true),
            ("app.image.repository", true),
            ("app.image.pullPolicy", false),
            ("app.imageX.tag", false),
            ("image.tag", false),
        ] {
            let edit = Field::Value { path: path.into() };
            assert_eq!(applies(&image, &edit), yes, "{path}");
        }
    }
}
