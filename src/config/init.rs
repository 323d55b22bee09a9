//! `promolint init`: the inferred configuration, written with comments.
//!
//! Inferred environments have no globs: a file belongs to the environment its deepest
//! tier-named directory names. `render` turns that into `paths` globs that map every given
//! file to the same environment: the directory that named it (`kubernetes/clusters/live/**`),
//! narrowed where another environment's files live below it, down to single files at worst.

use super::infer::infer_from_path;
use super::infer::Environments;
use super::types::{DEFAULT_MUTABLE_TAGS, FILE_NAME};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// A commented `.promolint.yaml` describing `envs`; `files` are the repository-relative
/// paths the environments were inferred from.
pub fn render(envs: &Environments, files: &[String]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# {FILE_NAME}: promolint configuration, written by `promolint init`.\n\
         #\n\
         # These environments were inferred from this repository's directory names\n\
         # (dev, qa/test, integration, load/perf, staging/uat/preprod, canary,\n\
         # prod/production/live; regions such as prod-eu are members of their tier), which\n\
         # is what promolint does when there is no config file. Review them: rename environments,\n\
         # adjust `paths`, add `tag_pattern`s, then commit this file. A file belongs to the\n\
         # first environment (in this list) whose `paths` match it.\n\
         #\n\
         # Editor completion: `promolint schema > .promolint.schema.json`, then add this\n\
         # first line: `# yaml-language-server: $schema=.promolint.schema.json`.\n\
         # Rules: `promolint rules`, and `promolint explain RULE` for one.\n\n"
    ));

    // Each file's environment, sorted by path (`cover` looks files up by prefix).
    let mut assigned: Vec<(&str, Option<usize>)> = files
        .iter()
        .map(|f| (f.as_str(), envs.for_path(f)))
        .collect();
    assigned.sort_unstable();
    let mut by_env: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for &(file, env) in &assigned {
        if let Some(i) = env {
            by_env.entry(i).or_default().push(file);
        }
    }
    let order = envs.promotion_order();
    if order.is_empty() {
        out.push_str(
            "# No environment was recognised. Declare them here, in promotion order:\n\
             #   - name: dev\n\
             #     paths: [\"deploy/dev/**\"]\n\
             #   - name: prod\n\
             #     after: [dev]\n\
             #     protected: true\n\
             #     paths: [\"deploy/prod/**\"]\n\
             environments: []\n",
        );
    } else {
        out.push_str("# Environments, in promotion order.\nenvironments:\n");
    }
    for &i in &order {
        let env = envs.get(i);
        let mine = by_env.get(&i).map(Vec::as_slice).unwrap_or_default();
        let globs: Vec<String> = if !envs.inferred && !env.path_globs.is_empty() {
            env.path_globs.clone()
        } else {
            let others: Vec<&str> = assigned
                .iter()
                .filter(|(_, env)| *env != Some(i))
                .map(|(f, _)| *f)
                .collect();
            cover_globs(mine, &others).into_iter().collect()
        };
        let _ = match mine.first() {
            Some(example) if mine.len() > 1 => writeln!(
                out,
                "\n  # {}: inferred from {} files, e.g. {example}",
                env.name,
                mine.len()
            ),
            Some(example) => writeln!(out, "\n  # {}: inferred from {example}", env.name),
            None => writeln!(
                out,
                "\n  # {}: inferred from a namespace; no files",
                env.name
            ),
        };
        let _ = writeln!(out, "  - name: {}", scalar(&env.name));
        out.push_str("    # its files: globs relative to the repository root\n");
        if globs.is_empty() {
            out.push_str("    paths: []\n");
        } else {
            out.push_str("    paths:\n");
            for glob in &globs {
                let _ = writeln!(out, "      - {}", quoted(glob));
            }
        }
        out.push_str("    # Kubernetes namespaces of its resources\n");
        let _ = writeln!(out, "    namespaces: {}", flow(&env.namespaces));
        if let Some(pattern) = &env.tag_pattern {
            out.push_str("    # every tag of this environment matches this regex\n");
            let _ = writeln!(
                out,
                "    tag_pattern: '{}'",
                pattern.as_str().replace('\'', "''")
            );
        }
        // A group of several members of one tier is written as the tier's name.
        let mut after: Vec<String> = Vec::new();
        for group in &env.after_groups {
            match shared_tier(envs, group) {
                Some(tier) if group.len() > 1 => after.push(tier.to_string()),
                _ => after.extend(group.iter().map(|&j| envs.get(j).name.clone())),
            }
        }
        after.dedup();
        if after.is_empty() {
            out.push_str("    # first in the promotion order\n");
        } else {
            let _ = writeln!(
                out,
                "    # a version reaches {} only after running in these",
                env.name
            );
        }
        let _ = writeln!(out, "    after: {}", flow(&after));
        if let Some(tier) = env.group.as_deref().filter(|_| members(envs, i) > 1) {
            out.push_str("    # one of several members of this tier (regions, cells)\n");
            let _ = writeln!(out, "    tier: {}", scalar(tier));
        }
        if env.protected {
            out.push_str("    # production: strictest checks (mutable tags are errors, promotion order enforced)\n");
        } else {
            out.push_str("    # not production: mutable tags are warnings\n");
        }
        let _ = writeln!(out, "    protected: {}", env.protected);
    }

    let tags: Vec<String> = DEFAULT_MUTABLE_TAGS.iter().map(|s| s.to_string()).collect();
    let _ = write!(
        out,
        "\n# Tags that move under you; pinning one is a PL001 mutable-reference finding.\n\
         mutable_tags: {}\n\
         \n\
         promotion:\n  \
           # component versions one change may move into a protected environment (PL007)\n  \
           max_versions_per_change: 1\n\
         \n\
         # Per-rule settings, by id or name: a level (off, note, warning, error), or a\n\
         # mapping with `level` and `ignore` (globs of files where the rule is silent).\n\
         # rules:\n\
         #   PL009: error\n\
         #   mutable-reference: {{ ignore: [\"legacy/**\"] }}\n",
        flow(&tags)
    );
    out
}

/// The tier all of `group` are members of, if they share one.
fn shared_tier<'a>(envs: &'a Environments, group: &[usize]) -> Option<&'a str> {
    let first = envs.get(*group.first()?).group.as_deref()?;
    group
        .iter()
        .all(|&j| envs.get(j).group.as_deref() == Some(first))
        .then_some(first)
}

/// How many environments are members of the tier of `env` (itself included).
fn members(envs: &Environments, env: usize) -> usize {
    let group = &envs.get(env).group;
    envs.envs
        .iter()
        .filter(|e| group.is_some() && e.group == *group)
        .count()
}

/// The environment-naming directory of `file`: the path up to its deepest directory
/// segment that names a tier, as inference reads it; `None` when the name came from the
/// file name itself.
fn naming_dir(file: &str) -> Option<&str> {
    let (dirs, _) = file.rsplit_once('/')?;
    let mut end = dirs.len();
    loop {
        let start = dirs[..end].rfind('/').map_or(0, |i| i + 1);
        // A lone segment names a tier iff inference finds one in it (`_` names none).
        if infer_from_path(&format!("_/{}/_", &dirs[start..end])).is_some() {
            return Some(&dirs[..end]);
        }
        if start == 0 {
            return None;
        }
        end = start - 1;
    }
}

/// Globs matching every file of `mine` and none of `others` (sorted).
fn cover_globs(mine: &[&str], others: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut dirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &file in mine {
        match naming_dir(file) {
            Some(dir) => dirs.entry(dir).or_default().push(file),
            None => {
                out.insert(escape(file));
            }
        }
    }
    for (dir, files) in dirs {
        // Prefer a glob on the naming segment alone (`**/production/**`): it also covers
        // applications added later, as inference would. Use it only when no file of another
        // environment sits under a segment of that name.
        let segment = dir.rsplit('/').next().unwrap_or(dir);
        let general = format!("**/{}/**", escape(segment));
        let clashes = others
            .iter()
            .any(|o| o.split('/').rev().skip(1).any(|s| s == segment));
        if clashes {
            cover(dir, &files, others, &mut out);
        } else {
            out.insert(general);
        }
    }
    out
}

/// Cover `files` (all under `dir/`) with `dir/**` if no other file is under it, else
/// split by the next segment.
fn cover(dir: &str, files: &[&str], others: &[&str], out: &mut BTreeSet<String>) {
    let prefix = format!("{dir}/");
    let first = others.partition_point(|o| *o < prefix.as_str());
    if !others.get(first).is_some_and(|o| o.starts_with(&prefix)) {
        out.insert(format!("{}/**", escape(dir)));
        return;
    }
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &file in files {
        let rest = &file[prefix.len()..];
        match rest.split_once('/') {
            Some((child, _)) => children
                .entry(&file[..prefix.len() + child.len()])
                .or_default()
                .push(file),
            None => {
                out.insert(escape(file));
            }
        }
    }
    for (child, files) in children {
        cover(child, &files, others, out);
    }
}

/// A path as a glob matching exactly it.
fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A YAML double-quoted string (JSON strings are valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `s` plain when YAML reads it back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "nan" | "inf"
        );
    if plain {
        s.to_string()
    } else {
        quoted(s)
    }
}

fn flow(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| scalar(s)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::parse;

    /// Render the inferred environments of `files`, parse the result back and check that
    /// every file maps to the environment inference gave it.
    fn round_trip(files: &[&str]) -> String {
        let files: Vec<String> = files.iter().map(|s| s.to_string()).collect();
        let inferred = Environments::infer(files.iter().map(String::as_str), []);
        let text = render(&inferred, &files);
        let config = parse(&text, ".promolint.yaml").unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
        let declared = Environments::from_config(&config).unwrap_or_else(|e| panic!("{e}"));
        for file in &files {
            let want = inferred
                .for_path(file)
                .map(|i| inferred.get(i).name.clone());
            let got = declared
                .for_path(file)
                .map(|i| declared.get(i).name.clone());
            assert_eq!(got, want, "{file}\n---\n{text}");
        }
        let order = |e: &Environments| -> Vec<(String, bool, Vec<Vec<String>>)> {
            e.promotion_order()
                .into_iter()
                .map(|i| {
                    let env = e.get(i);
                    let after = env
                        .after_groups
                        .iter()
                        .map(|g| g.iter().map(|&j| e.get(j).name.clone()).collect())
                        .collect();
                    (env.name.clone(), env.protected, after)
                })
                .collect()
        };
        assert_eq!(order(&declared), order(&inferred), "{text}");
        text
    }

    #[test]
    fn kestrel_layout() {
        let text = round_trip(&[
            "fabric-core/terraform/envs/kestrel-dev/main.tf",
            "fabric-core/terraform/envs/kestrel-dev/versions.tf",
            "fabric-core/terraform/envs/kestrel-prod/main.tf",
            "fabric-core/packer/lxc/ubuntu-24.04/build.pkr.hcl",
            "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz",
            "README.md",
        ]);
        assert!(text.contains("      - \"**/kestrel-prod/**\"\n"), "{text}");
        assert!(text.contains("  - name: dev\n"), "{text}");
        assert!(
            text.contains("    after: [dev]\n    # production"),
            "{text}"
        );
    }

    #[test]
    fn flux_lab_layout() {
        let text = round_trip(&[
            "flux/apps/backend/base/deployment.yaml",
            "flux/apps/backend/base/kustomization.yaml",
            "flux/apps/backend/develop/kustomization.yaml",
            "flux/apps/backend/develop/image-policy.yaml",
            "flux/apps/backend/staging/kustomization.yaml",
            "flux/apps/backend/staging/image-policy.yaml",
            "flux/apps/backend/production/kustomization.yaml",
            "flux/apps/backend/production/image-policy.yaml",
            "flux/clusters/lab/flux-system/gotk-sync.yaml",
        ]);
        for env in ["develop", "staging", "production"] {
            assert!(
                text.contains(&format!("      - \"**/{env}/**\"\n")),
                "{text}"
            );
        }
        let develop = text.find("name: develop").unwrap_or(usize::MAX);
        let staging = text.find("name: staging").unwrap_or(0);
        assert!(develop < staging, "{text}");
    }

    #[test]
    fn homelab_layout() {
        let text = round_trip(&[
            "kubernetes/clusters/dev/helm-charts.yaml",
            "kubernetes/clusters/dev/apps/backend.yaml",
            "kubernetes/clusters/integration/helm-charts.yaml",
            "kubernetes/clusters/live/helm-charts.yaml",
            "kubernetes/clusters/live/apps/backend.yaml",
            "kubernetes/platform/helm-charts.yaml",
            "infrastructure/stacks/dev/terragrunt.stack.hcl",
            "infrastructure/stacks/integration/terragrunt.stack.hcl",
            "infrastructure/stacks/live/terragrunt.stack.hcl",
            "infrastructure/versions.env",
        ]);
        assert!(
            text.contains("    paths:\n      - \"**/live/**\"\n"),
            "{text}"
        );
    }

    #[test]
    fn nested_environments_and_odd_names() {
        round_trip(&[
            // A dev directory inside live, and a live one inside dev: globs narrow.
            "deploy/live/app.yaml",
            "deploy/live/dev-tools/app.yaml",
            "deploy/live/sub/x.yaml",
            "deploy/dev/live-mirror/app.yaml",
            "deploy/dev/app.yaml",
            // Named by the file name, and with glob metacharacters.
            "charts/app/values-production.yaml",
            "charts/app/values-staging.yaml",
            "odd/x[1]-prod/{a,b}*.yaml",
            "odd/qa/x?.yaml",
        ]);
    }

    #[test]
    fn nothing_inferred() {
        let text = round_trip(&["README.md", "src/main.rs"]);
        assert!(text.contains("environments: []\n"), "{text}");
    }
}
