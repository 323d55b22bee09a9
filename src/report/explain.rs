//! `promolint status --explain`: how the model was built. For each environment, its entry
//! points, how each file holding pins came to be in it, and for each component the value
//! that takes effect with the overrides that produced it. What a user reads when a
//! finding surprises them.

use crate::model::{DeployTool, FactKind, Span};
use crate::snapshot::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A place in the repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Place {
    pub path: String,
    pub line: u32,
    pub column: u32,
}

impl Place {
    fn new(path: &str, span: &Span) -> Self {
        Place {
            path: path.to_owned(),
            line: span.line,
            column: span.column,
        }
    }

    fn text(&self) -> String {
        format!("{}:{}:{}", self.path, self.line, self.column)
    }
}

/// A Flux Kustomization or Argo CD Application deploying a directory into an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryPoint {
    /// `flux-kustomization` or `argo-application`.
    pub kind: &'static str,
    pub name: String,
    /// The directory it deploys.
    pub deploys: String,
    /// Its `spec.path` / `source.path` value.
    pub at: Place,
}

/// Why a file is in an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Assignment {
    /// Its path matches the environment (a directory or file name token, or a configured
    /// glob).
    Path { config: bool },
    /// A namespace of its objects.
    Namespace { namespace: String },
    /// An entry point of the environment reaches it (the nearest one on the way).
    EntryPoint { entry: EntryPoint },
    /// A kustomization (or Terragrunt unit) of the environment includes it.
    Included { at: Option<Place> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileAssignment {
    pub path: String,
    #[serde(flatten)]
    pub how: Assignment,
}

/// One step of the chain that produced an effective pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Override {
    /// The value that was overridden, as written.
    pub value: String,
    pub at: Place,
    /// What overrode it: `patch`, `substitution`, `images` (an `images[]` or
    /// `kustomize.images` entry), `terragrunt`.
    pub by: String,
    /// The file whose override replaced it (for `images`/`terragrunt`).
    pub by_file: Option<String>,
}

/// A component's effective pin in an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComponentPin {
    pub component: String,
    pub value: String,
    pub at: Place,
    /// The overridden values that this one won over, base first.
    pub overrides: Vec<Override>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EnvExplanation {
    pub name: String,
    pub protected: bool,
    /// Where the environment's files come from when no entry point decides them: `path`
    /// (inferred from names) or `config` (the configured globs and namespaces).
    pub assigned_by: &'static str,
    pub entry_points: Vec<EntryPoint>,
    pub files: Vec<FileAssignment>,
    pub components: Vec<ComponentPin>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// In promotion order.
    pub environments: Vec<EnvExplanation>,
}

fn entry_point(snap: &Snapshot, file: usize, fact: usize) -> Option<EntryPoint> {
    let FactKind::Deploy(d) = &snap.files[file].facts.get(fact)?.kind else {
        return None;
    };
    Some(EntryPoint {
        kind: match d.tool {
            DeployTool::Flux => "flux-kustomization",
            DeployTool::Argo => "argo-application",
        },
        name: d.name.clone(),
        deploys: if d.path.is_empty() {
            ".".to_owned()
        } else {
            d.path.clone()
        },
        at: Place::new(&snap.files[file].path, &d.span),
    })
}

/// Explain how `snap` was built.
pub fn explain(snap: &Snapshot) -> Explanation {
    let order = snap.envs.promotion_order();
    // (env, file) → the via of an effective pin of that file there, for files included.
    let mut members: BTreeMap<usize, BTreeMap<usize, Option<Place>>> = BTreeMap::new();
    for p in &snap.pins {
        let via = p.via.as_ref().map(|r| Place::new(&r.path, &r.span));
        let slot = members.entry(p.env).or_default();
        slot.entry(p.file).or_insert_with(|| via.clone());
        if let Some(base) = p.replaces.as_ref().and_then(|r| snap.file_index(&r.path)) {
            slot.entry(base).or_insert(via);
        }
    }
    for r in &snap.replaced {
        members
            .entry(r.env)
            .or_default()
            .entry(r.file)
            .or_insert(None);
    }
    let mut environments = Vec::new();
    for &e in &order {
        let env = snap.envs.get(e);
        let entry_points = snap
            .entries
            .points
            .iter()
            .filter(|p| p.env == Some(e))
            .filter_map(|p| entry_point(snap, p.file, p.fact))
            .collect();
        let mut files: Vec<FileAssignment> = members
            .get(&e)
            .into_iter()
            .flatten()
            .map(|(&f, via)| FileAssignment {
                path: snap.files[f].path.clone(),
                how: assignment(snap, e, f, via),
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup();
        environments.push(EnvExplanation {
            name: env.name.clone(),
            protected: env.protected,
            assigned_by: if snap.envs.inferred { "path" } else { "config" },
            entry_points,
            files,
            components: components(snap, e),
        });
    }
    Explanation { environments }
}

fn assignment(snap: &Snapshot, env: usize, file: usize, via: &Option<Place>) -> Assignment {
    let decided = snap.entries.decides(file);
    if !decided && snap.file_env[file] == Some(env) {
        return Assignment::Path {
            config: !snap.envs.inferred,
        };
    }
    if let Some(&(k, fact)) = snap.entries.reached.get(&file).and_then(|m| m.get(&env)) {
        if let Some(entry) = entry_point(snap, k, fact) {
            return Assignment::EntryPoint { entry };
        }
    }
    if !decided {
        let namespace = snap.files[file]
            .facts
            .iter()
            .filter_map(|f| f.namespace.as_deref())
            .find(|ns| snap.envs.for_namespace(ns) == Some(env));
        if let Some(ns) = namespace {
            return Assignment::Namespace {
                namespace: ns.to_owned(),
            };
        }
    }
    Assignment::Included { at: via.clone() }
}

fn components(snap: &Snapshot, env: usize) -> Vec<ComponentPin> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for p in snap.pins.iter().filter(|p| p.env == env) {
        let pin = snap.pin(p);
        let at = Place::new(snap.path(p.file), &pin.span);
        if !seen.insert((pin.component.clone(), at.text())) {
            continue;
        }
        let mut overrides = Vec::new();
        // Values an override replaced in this environment (`images[]`, `kustomize.images`,
        // a Terragrunt unit's own value), following a replaced override to what it
        // replaced in turn (an Application's image over an overlay's over a base's).
        let name = pin.overrides.as_deref().unwrap_or(&pin.component);
        let mut frontier = vec![p.file];
        let mut walked = BTreeSet::new();
        let mut chain = Vec::new();
        while let Some(by) = frontier.pop() {
            if !walked.insert(by) {
                continue;
            }
            for r in snap.replaced.iter().filter(|r| r.env == env && r.by == by) {
                let Some(base) = snap.files[r.file].facts[r.fact].as_pin() else {
                    continue;
                };
                let base_name = base.overrides.as_deref().unwrap_or(&base.component);
                if base.component != name && base.component != pin.component && base_name != name {
                    continue;
                }
                chain.push(Override {
                    value: base.reference.display(),
                    at: Place::new(snap.path(r.file), &base.span),
                    by: if base.kind.is_image() {
                        "images"
                    } else {
                        "terragrunt"
                    }
                    .to_owned(),
                    by_file: Some(snap.path(by).to_owned()),
                });
                frontier.push(r.file);
            }
        }
        chain.reverse();
        overrides.extend(chain);
        if let Some(r) = p
            .replaces
            .as_ref()
            .filter(|r| r.message.starts_with(VALUES_FROM))
        {
            // Not an override: the release whose `valuesFrom` brings the values file.
            overrides.push(Override {
                value: String::new(),
                at: Place::new(&r.path, &r.span),
                by: "valuesFrom".to_owned(),
                by_file: None,
            });
        } else if let Some(r) = &p.replaces {
            let by = if r.message.starts_with("substituted") {
                "substitution"
            } else if r.message.starts_with("a Kustomize replacement") {
                "replacement"
            } else {
                "patch"
            };
            // A base that sets no version: its span is the key or image, not a value.
            let none = r.message.ends_with("which sets no version");
            let value = snap
                .file(&r.path)
                .filter(|_| !none)
                .and_then(|f| f.text.as_deref())
                .and_then(|t| t.get(r.span.start..r.span.end))
                .unwrap_or(if none { "(none)" } else { "" })
                .to_owned();
            overrides.push(Override {
                value,
                at: Place::new(&r.path, &r.span),
                by: by.to_owned(),
                by_file: None,
            });
        }
        out.push(ComponentPin {
            component: pin.component.clone(),
            value: pin.reference.display(),
            at,
            overrides,
        });
    }
    out.sort_by(|a, b| {
        (a.component.as_str(), a.at.text()).cmp(&(b.component.as_str(), b.at.text()))
    });
    out
}

/// How `snapshot::values_from` introduces the release a values file's pin comes through.
const VALUES_FROM: &str = "deployed by HelmRelease";

/// The explanation for people.
pub fn render_human(x: &Explanation) -> String {
    let shown = |s: &str| super::printable(s).into_owned();
    let mut out = String::new();
    if x.environments.is_empty() {
        out.push_str(
            "no environments: no entry point, directory, file name or namespace names one \
             (declare them in .promolint.yaml; `promolint init` writes a start)\n",
        );
    }
    for (i, env) in x.environments.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let protected = if env.protected { " (protected)" } else { "" };
        out.push_str(&format!("environment {}{protected}\n", shown(&env.name)));
        if env.entry_points.is_empty() {
            out.push_str(&format!(
                "  entry points: none; files by {}\n",
                env.assigned_by
            ));
        } else {
            out.push_str("  entry points:\n");
            for p in &env.entry_points {
                out.push_str(&format!("    {}  {}\n", p.at.text(), entry_text(p)));
            }
        }
        if !env.files.is_empty() {
            out.push_str("  files:\n");
            for f in &env.files {
                out.push_str(&format!(
                    "    {}  {}\n",
                    shown(&f.path),
                    assignment_text(&f.how)
                ));
            }
        }
        if !env.components.is_empty() {
            out.push_str("  components:\n");
            for c in &env.components {
                out.push_str(&format!(
                    "    {} = {}  at {}\n",
                    shown(&c.component),
                    shown(&c.value),
                    c.at.text()
                ));
                for o in &c.overrides {
                    let by = match &o.by_file {
                        Some(f) => format!("{} of {}", o.by, shown(f)),
                        None => o.by.clone(),
                    };
                    if o.by == "valuesFrom" {
                        out.push_str(&format!(
                            "      deployed through the HelmRelease's `valuesFrom` at {}\n",
                            o.at.text()
                        ));
                        continue;
                    }
                    let what = if o.value == "(none)" {
                        "a base that sets no version".to_string()
                    } else {
                        format!("`{}`", shown(&o.value))
                    };
                    out.push_str(&format!(
                        "      overrides {what} at {} ({by})\n",
                        o.at.text()
                    ));
                }
            }
        }
    }
    out
}

fn entry_text(p: &EntryPoint) -> String {
    let kind = match p.kind {
        "flux-kustomization" => "Flux Kustomization",
        _ => "Argo CD Application",
    };
    format!(
        "{kind} `{}` deploys {}",
        super::printable(&p.name),
        super::printable(&p.deploys)
    )
}

fn assignment_text(a: &Assignment) -> String {
    match a {
        Assignment::Path { config: false } => "by path".to_owned(),
        Assignment::Path { config: true } => "by path (config)".to_owned(),
        Assignment::Namespace { namespace } => {
            format!("by namespace `{}`", super::printable(namespace))
        }
        Assignment::EntryPoint { entry } => {
            format!("reached from {} ({})", entry.at.text(), entry_text(entry))
        }
        Assignment::Included { at: Some(at) } => format!("included at {}", at.text()),
        Assignment::Included { at: None } => "included".to_owned(),
    }
}

/// The human text in a fenced block, for a PR comment.
pub fn render_markdown(x: &Explanation) -> String {
    let body = render_human(x).replace("```", "'''");
    format!("```text\n{body}```\n")
}

pub fn render_json(x: &Explanation) -> String {
    let mut s = serde_json::to_string_pretty(&serde_json::json!({"version": 1, "explain": x}))
        .unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn explained(files: &[(&str, &str)]) -> String {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        match crate::pipeline::snapshot_from_bytes(&bytes, &Config::default()) {
            Ok(s) => render_human(&explain(&s)),
            Err(e) => panic!("snapshot: {e}"),
        }
    }

    /// A tree that names no environment says so, with the way out.
    #[test]
    fn no_environment_is_said() {
        let out = explained(&[("app/deployment.yaml", "kind: Deployment\n")]);
        assert!(out.starts_with("no environments:"), "{out}");
    }

    /// A patched chart version shows the base value it overrides, and a file under an
    /// environment's directory is there by path.
    #[test]
    fn a_patch_chain_is_shown_base_first() {
        let release = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  chart:\n    spec:\n      chart: a\n      version: \"1.0.0\"\n";
        let patch = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: a\nspec:\n  chart:\n    spec:\n      version: \"2.0.0\"\n";
        let out = explained(&[
            ("base/release.yaml", release),
            ("base/kustomization.yaml", "resources: [release.yaml]\n"),
            (
                "staging/kustomization.yaml",
                "resources: [../base]\npatches:\n  - path: patch.yaml\n",
            ),
            ("staging/patch.yaml", patch),
        ]);
        assert_eq!(
            out,
            "environment staging\n  entry points: none; files by path\n  files:\n    base/release.yaml  included at staging/kustomization.yaml:1:13\n    staging/patch.yaml  by path\n  components:\n    a = 2.0.0  at staging/patch.yaml:8:17\n      overrides `1.0.0` at base/release.yaml:9:17 (patch)\n"
        );
    }
}
