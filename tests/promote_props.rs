//! Property tests of `promote`'s edits: whatever the formatting of the file (comments, quoting,
//! CRLF, flow or block YAML, indentation; for Terraform also `//` and `/* */` comments and
//! aligned `=`), the edit changes the value's bytes and nothing else: the promoted file is
//! byte for byte the same file written with the new version, comments naming the old one
//! untouched.

use promolint::config::Config;
use promolint::edit::{apply, Edit};
use promolint::history::HistoryIndex;
use promolint::pipeline::snapshot_from_bytes;
use promolint::promote::{plan, Request};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Format {
    crlf: bool,
    /// 0 plain, 1 single quotes, 2 double quotes.
    quote: u8,
    comment_above: bool,
    comment_after: bool,
    flow: bool,
    indent: usize,
    final_newline: bool,
}

fn format() -> impl Strategy<Value = Format> {
    (
        any::<bool>(),
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(2usize), Just(4usize)],
        any::<bool>(),
    )
        .prop_map(
            |(crlf, quote, comment_above, comment_after, flow, indent, final_newline)| Format {
                crlf,
                quote,
                comment_above,
                comment_after,
                flow,
                indent,
                final_newline,
            },
        )
}

fn version() -> impl Strategy<Value = String> {
    (0u32..30, 0u32..30, 0u32..30, any::<bool>())
        .prop_map(|(a, b, c, v)| format!("{}{a}.{b}.{c}", if v { "v" } else { "" }))
}

fn quoted(f: &Format, v: &str) -> String {
    match f.quote {
        1 => format!("'{v}'"),
        2 => format!("\"{v}\""),
        _ => v.to_string(),
    }
}

/// Join lines with the format's line ending.
fn lines(f: &Format, lines: &[String]) -> String {
    let eol = if f.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if f.final_newline {
        text.push_str(eol);
    }
    text
}

/// A chart list pinning `cert-manager` (the component) at `v` and `loki` at `other`; a
/// comment above the value names `noted`.
fn chart_list(f: &Format, v: &str, other: &str, noted: &str) -> String {
    let i = " ".repeat(f.indent);
    let mut out = vec!["# charts of this cluster".to_string()];
    out.push("- name: cert-manager".to_string());
    out.push("  namespace: cert-manager # where it runs".to_string());
    let after = if f.comment_after { "  # pinned" } else { "" };
    if f.flow {
        out.push(format!(
            "  chart: {{name: cert-manager, version: {}, repository: https://charts.jetstack.io}}{after}",
            quoted(f, v)
        ));
    } else {
        out.push("  chart:".to_string());
        out.push(format!("  {i}name: cert-manager"));
        if f.comment_above {
            out.push(format!("  {i}# version: {noted} is what the comment says"));
        }
        out.push(format!("  {i}version: {}{after}", quoted(f, v)));
        out.push(format!("  {i}repository: https://charts.jetstack.io"));
    }
    out.push("- name: loki".to_string());
    out.push(format!("  chart: {{name: loki, version: {other}}}"));
    lines(f, &out)
}

/// A Kustomize overlay whose `images[]` entry sets the tag of `ghcr.io/acme/api` to `v`; a
/// comment names `noted`.
fn overlay(f: &Format, v: &str, noted: &str) -> String {
    let i = " ".repeat(f.indent);
    let after = if f.comment_after {
        " # release train"
    } else {
        ""
    };
    let mut out = vec![
        "apiVersion: kustomize.config.k8s.io/v1beta1".to_string(),
        "kind: Kustomization".to_string(),
        "resources:".to_string(),
        format!("{i}- ../base"),
    ];
    if f.comment_above {
        out.push(format!("# images: newTag {noted} below"));
    }
    if f.flow {
        out.push(format!(
            "images: [{{name: ghcr.io/acme/api, newTag: {}}}]{after}",
            quoted(f, v)
        ));
    } else {
        out.push("images:".to_string());
        out.push(format!("{i}- name: ghcr.io/acme/api"));
        out.push(format!("{i}  newTag: {}{after}", quoted(f, v)));
    }
    lines(f, &out)
}

/// Terraform locals pinning `lxc_rootfs_version` at `v`, with the format's comments, spacing
/// and line endings.
fn terraform(f: &Format, v: &str, noted: &str) -> String {
    let i = " ".repeat(f.indent);
    let pad = if f.flow { "   " } else { " " };
    let mut out = vec!["locals {".to_string()];
    if f.comment_above {
        out.push(format!("{i}# was {noted} before the last promotion"));
        out.push(format!("{i}/* {noted} */"));
    }
    let after = if f.comment_after {
        " // golden image"
    } else {
        ""
    };
    out.push(format!("{i}lxc_rootfs_version{pad}= \"{v}\"{after}"));
    out.push(format!("{i}hostname = \"app-{noted}\""));
    out.push("}".to_string());
    lines(f, &out)
}

const BASE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:v0.0.1
";

/// Plan `component` into prod over `files`, and apply the edits to `path`'s text.
fn promoted(files: &[(&str, String)], component: &str, path: &str) -> Result<String, String> {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    let config = Config::default();
    let snap = snapshot_from_bytes(&bytes, &config).map_err(|e| e.to_string())?;
    let plan = plan(
        &snap,
        &HistoryIndex::empty(),
        &config.mutable_tags,
        &Request {
            components: vec![component.to_string()],
            to: "prod".to_string(),
            ..Request::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let edits: Vec<&Edit> = plan
        .promotions
        .iter()
        .flat_map(|p| &p.changes)
        .map(|c| &c.edit)
        .collect();
    if edits.iter().any(|e| e.path != path) {
        return Err(format!("an edit outside {path}: {edits:?}"));
    }
    let text = files
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| t.as_str())
        .unwrap_or_default();
    apply(text, &edits).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_chart_list_edit_changes_only_the_version(
        dev_fmt in format(),
        prod_fmt in format(),
        old in version(),
        new in version(),
        other in version(),
    ) {
        prop_assume!(old != new);
        let files = [
            ("clusters/dev/helm-charts.yaml", chart_list(&dev_fmt, &new, &other, &new)),
            ("clusters/prod/helm-charts.yaml", chart_list(&prod_fmt, &old, &other, &old)),
        ];
        let got = promoted(&files, "cert-manager", "clusters/prod/helm-charts.yaml");
        prop_assert_eq!(got, Ok(chart_list(&prod_fmt, &new, &other, &old)));
    }

    #[test]
    fn an_overlay_edit_changes_only_the_tag(
        dev_fmt in format(),
        prod_fmt in format(),
        old in version(),
        new in version(),
    ) {
        prop_assume!(old != new);
        let files = [
            ("apps/base/deployment.yaml", BASE.to_string()),
            ("apps/base/kustomization.yaml", "resources:\n  - deployment.yaml\n".to_string()),
            ("apps/dev/kustomization.yaml", overlay(&dev_fmt, &new, &new)),
            ("apps/prod/kustomization.yaml", overlay(&prod_fmt, &old, &old)),
        ];
        let got = promoted(&files, "ghcr.io/acme/api", "apps/prod/kustomization.yaml");
        prop_assert_eq!(got, Ok(overlay(&prod_fmt, &new, &old)));
    }

    #[test]
    fn a_terraform_edit_changes_only_the_string(
        dev_fmt in format(),
        prod_fmt in format(),
        old in version(),
        new in version(),
    ) {
        prop_assume!(old != new);
        let files = [
            ("terraform/envs/app-dev/main.tf", terraform(&dev_fmt, &new, &new)),
            ("terraform/envs/app-prod/main.tf", terraform(&prod_fmt, &old, &old)),
        ];
        let got = promoted(&files, "lxc_rootfs_version", "terraform/envs/app-prod/main.tf");
        prop_assert_eq!(got, Ok(terraform(&prod_fmt, &new, &old)));
    }
}
