//! The documentation is checked against the code it describes:
//!
//! - `docs/rules.md` is generated from the rule pages (`rules/*.md`, through
//!   `promolint::rules::all()`) and must be current;
//! - `docs/configuration.md` documents every field of the JSON Schema of `.promolint.yaml`
//!   (type and default included) and no field the schema lacks, and its YAML examples load;
//! - `docs/ci.md` documents every input and output of `action.yml` and every pre-commit
//!   hook, the example workflow checks out the full history, and the hook's `files` pattern
//!   matches every file name promolint reads;
//! - `docs/architecture.md` names only files that exist, and relative links resolve.
//!
//! `PROMOLINT_UPDATE_DOCS=1 cargo test --test docs` rewrites `docs/rules.md`.

use promolint::catalogue::{section, RuleKind};
use promolint::rules;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_saphyr::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

// ---------------------------------------------------------------------------------------
// docs/rules.md

const UPDATE_HINT: &str = "PROMOLINT_UPDATE_DOCS=1 cargo test --test docs";

/// GitHub's anchor for a heading: lowercase, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn kind_of(rule: &rules::RuleMeta) -> &'static str {
    let history_tree = rules::RULES
        .iter()
        .any(|r| r.id() == rule.id && r.hooks().history_tree);
    match (rule.kind, history_tree) {
        (RuleKind::Tree, _) => "tree",
        (RuleKind::Change, true) => "change, tree",
        (RuleKind::Change, false) => "change",
    }
}

fn kind_sentence(rule: &rules::RuleMeta) -> &'static str {
    match kind_of(rule) {
        "tree" => "tree: judges one tree (`check`; in `diff` and `staged`, the changed files)",
        "change, tree" => {
            "change: compares a change's two sides and asks the history; `check` also judges \
             the tree against the history of HEAD"
        }
        _ => "change: compares a change's two sides (`diff`, `staged`, `history`)",
    }
}

/// The text of `docs/rules.md`, generated from the rule pages.
fn render_rules_md() -> String {
    let mut s = String::new();
    s.push_str(
        "<!-- Generated from rules/*.md by tests/docs.rs: do not edit by hand.\n     \
         Update with: PROMOLINT_UPDATE_DOCS=1 cargo test --test docs -->\n\n",
    );
    s.push_str("# Rules\n\n");
    s.push_str(
        "Every rule has a stable id and a kebab-case name; either selects it on the command \
         line (`--select`, `--ignore`), in the configuration (`rules:`) and in inline \
         suppressions (`# promolint: ignore[PL001] reason`). `promolint rules` lists them and \
         `promolint explain RULE` prints a rule's page. Each rule's page in \
         [`rules/`](../rules/) is the single source of its documentation: this index, \
         `explain`, the `help:` lines and the SARIF help text all come from it, and its bad \
         and good examples run as tests.\n\n",
    );
    s.push_str(
        "A *tree* rule judges one tree: the working tree in `check`; in `diff` and `staged` \
         it reports only in changed files unless `--all-files`. A *change* rule compares the \
         two sides of a change (a pull request's base and head, the index and HEAD, a commit \
         and its parent) and may ask the history. The level is the rule's level in protected \
         environments; rules that judge an environment's pins report a warning in the \
         others (each page says). `rules: { PL001: warning }` sets one level for all of a \
         rule's findings.\n\n",
    );
    s.push_str("| id | name | kind | level | on by default | summary |\n");
    s.push_str("|---|---|---|---|---|---|\n");
    for r in rules::all() {
        let heading = format!("{} {}", r.id, r.name);
        let _ = writeln!(
            s,
            "| [{}](#{}) | `{}` | {} | {} | {} | {} |",
            r.id,
            anchor(&heading),
            r.name,
            kind_of(r),
            r.level.as_str(),
            if r.enabled { "yes" } else { "no" },
            r.summary.replace('|', "\\|"),
        );
    }
    for r in rules::all() {
        let _ = write!(s, "\n## {} {}\n\n{}\n\n", r.id, r.name, r.summary);
        let _ = writeln!(s, "- **Kind:** {}", kind_sentence(r));
        let _ = writeln!(s, "- **Level:** {}", r.level.as_str());
        let _ = writeln!(
            s,
            "- **On by default:** {}",
            if r.enabled {
                "yes".to_string()
            } else {
                format!(
                    "no: enable it with `rules: {{ {}: {} }}`",
                    r.id,
                    r.level.as_str()
                )
            }
        );
        for title in ["What it flags", "How to fix", "Automatic fix"] {
            if let Some(text) = section(r.body, title) {
                let _ = write!(s, "\n### {title}\n\n{text}\n");
            }
        }
        let _ = writeln!(
            s,
            "\nThe full page, with why it matters, its configuration and examples: \
             [rules/{file}](../rules/{file}).",
            file = r.file
        );
    }
    s
}

#[test]
fn rules_md_is_generated_from_the_rule_pages() {
    let want = render_rules_md();
    let path = root().join("docs/rules.md");
    if std::env::var_os("PROMOLINT_UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &want).expect("write docs/rules.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()) + 1);
        panic!(
            "docs/rules.md is stale (first difference at line {line}): the rule pages in \
             rules/ changed. Regenerate it with `{UPDATE_HINT}` and commit the result."
        );
    }
}

#[test]
fn rules_md_covers_every_rule_and_page() {
    let text = read("docs/rules.md");
    let pages: BTreeSet<String> = std::fs::read_dir(root().join("rules"))
        .expect("rules/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md"))
        .collect();
    let registered: BTreeSet<String> = rules::all().iter().map(|r| r.file.to_string()).collect();
    assert_eq!(
        pages, registered,
        "every page in rules/ must be registered in src/catalogue.rs (PAGES)"
    );
    for r in rules::all() {
        assert!(
            text.contains(&format!("\n## {} {}\n", r.id, r.name)),
            "{}",
            r.id
        );
        assert!(
            text.contains(&format!("(../rules/{})", r.file)),
            "{}",
            r.file
        );
    }
}

// ---------------------------------------------------------------------------------------
// docs/configuration.md against the JSON Schema

/// Resolve `{"$ref": "#/$defs/X"}` against the schema root.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/$defs/").expect("local $ref");
            resolve(root, &root["$defs"][name])
        }
        None => node,
    }
}

/// What a documented field's type line must mention, per schema node.
fn type_words(root: &Value, node: &Value) -> Vec<&'static str> {
    let node = resolve(root, node);
    if let Some(alts) = node.get("anyOf").and_then(Value::as_array) {
        return alts.iter().flat_map(|a| type_words(root, a)).collect();
    }
    if let Some(alts) = node.get("oneOf").and_then(Value::as_array) {
        // An enum of constants (a level).
        if alts.iter().all(|a| a.get("const").is_some()) {
            return vec!["level"];
        }
        return alts.iter().flat_map(|a| type_words(root, a)).collect();
    }
    match node.get("type").and_then(Value::as_str) {
        Some("string") => vec!["string"],
        Some("boolean") => vec!["boolean"],
        Some("integer") => vec!["integer"],
        Some("array") => vec!["list"],
        Some("object") => vec!["mapping"],
        other => panic!("unexpected schema type {other:?} in {node}"),
    }
}

/// Every field path of the schema (`environments[].name`, `rules.<rule>.level`) with its
/// schema node (for the type) and its default, if the schema gives one.
fn schema_fields(
    root: &Value,
    node: &Value,
    prefix: &str,
    out: &mut BTreeMap<String, (Value, Option<Value>)>,
) {
    let node = resolve(root, node);
    for alt in ["anyOf", "oneOf"] {
        if let Some(alts) = node.get(alt).and_then(Value::as_array) {
            for a in alts {
                schema_fields(root, a, prefix, out);
            }
        }
    }
    if let Some(items) = node.get("items") {
        schema_fields(root, items, &format!("{prefix}[]"), out);
    }
    let Some(props) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    // A mapping whose keys are an enumeration (rule ids and names) is one field,
    // `<rule>`, documented once.
    let enumerated = node
        .pointer("/propertyNames/enum")
        .and_then(Value::as_array)
        .is_some_and(|keys| keys.len() == props.len());
    let mut children: Vec<(String, &Value)> = props.iter().map(|(k, v)| (k.clone(), v)).collect();
    if enumerated {
        children = vec![("<rule>".to_string(), props.values().next().expect("a rule"))];
    }
    for (key, child) in children {
        let path = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        let default = child
            .get("default")
            .or_else(|| resolve(root, child).get("default"))
            .cloned();
        out.insert(path.clone(), (child.clone(), default));
        schema_fields(root, child, &path, out);
    }
}

/// The documented fields of configuration.md: `### \`path\`` headings, with the text of
/// their section.
fn documented_fields(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let heading = !in_fence && line.starts_with('#');
        if heading {
            if let Some((k, v)) = current.take() {
                out.insert(k, v);
            }
            if let Some(field) = line
                .strip_prefix("### `")
                .and_then(|rest| rest.strip_suffix('`'))
            {
                assert!(
                    !out.contains_key(field),
                    "configuration.md documents `{field}` twice"
                );
                current = Some((field.to_string(), String::new()));
            }
            continue;
        }
        if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some((k, v)) = current {
        out.insert(k, v);
    }
    out
}

/// The value of a `- **Label:** …` line of a field's section.
fn labelled<'a>(section: &'a str, label: &str) -> Option<&'a str> {
    let prefix = format!("- **{label}:** ");
    section
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
}

#[test]
fn configuration_md_documents_exactly_the_schema_fields() {
    let schema: Value =
        serde_json::from_str(&promolint::config::schema::schema_json()).expect("schema JSON");
    let mut fields = BTreeMap::new();
    schema_fields(&schema, &schema, "", &mut fields);
    let text = read("docs/configuration.md");
    let documented = documented_fields(&text);

    let in_schema: BTreeSet<&String> = fields.keys().collect();
    let in_doc: BTreeSet<&String> = documented.keys().collect();
    let missing: Vec<_> = in_schema.difference(&in_doc).collect();
    let unknown: Vec<_> = in_doc.difference(&in_schema).collect();
    assert!(
        missing.is_empty(),
        "fields of `promolint schema` without a `### \\`field\\`` section in \
         docs/configuration.md: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "docs/configuration.md documents fields the schema does not have: {unknown:?}"
    );

    for (path, (node, default)) in &fields {
        let section = &documented[path];
        let ty = labelled(section, "Type")
            .unwrap_or_else(|| panic!("`{path}`: no `- **Type:** …` line"));
        for word in type_words(&schema, node) {
            assert!(
                ty.contains(word),
                "`{path}`: the type line `{ty}` should mention `{word}` (schema: {node})"
            );
        }
        let doc_default = labelled(section, "Default")
            .unwrap_or_else(|| panic!("`{path}`: no `- **Default:** …` line"));
        if let Some(default) = default {
            // The first `code` span of the line, read as YAML, is the schema's default.
            let code = doc_default
                .split('`')
                .nth(1)
                .unwrap_or_else(|| panic!("`{path}`: the default is not in `backticks`"));
            let value: Value = serde_saphyr::from_str(code)
                .unwrap_or_else(|e| panic!("`{path}`: default `{code}` is not YAML: {e}"));
            assert_eq!(
                &value, default,
                "`{path}`: documented default `{code}` differs from the schema's"
            );
        }
        let description = resolve(&schema, node)
            .get("description")
            .or_else(|| node.get("description"));
        assert!(
            description.is_some() || path.contains("<rule>"),
            "`{path}` has no description in the schema"
        );
    }
}

/// Every fenced block of a markdown text with the given info string.
fn fenced(text: &str, info: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().strip_prefix("```") != Some(info) {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push_str(l.get(indent..).unwrap_or(l.trim_start()));
            body.push('\n');
        }
        out.push(body);
    }
    out
}

#[test]
fn configuration_md_examples_are_valid_configurations() {
    let text = read("docs/configuration.md");
    let blocks = fenced(&text, "yaml");
    assert!(
        blocks.len() >= 8,
        "expected the examples, found {}",
        blocks.len()
    );
    for block in blocks {
        if let Err(e) = promolint::config::load::parse(&block, "docs/configuration.md") {
            panic!("an example of docs/configuration.md does not load:\n{block}\n{e}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// docs/ci.md, action.yml, the example workflow, .pre-commit-hooks.yaml

#[test]
fn ci_md_documents_every_action_input_output_and_hook() {
    let ci = read("docs/ci.md");
    let action = yaml("action.yml");
    for kind in ["inputs", "outputs"] {
        let names = action[kind].as_object().expect(kind);
        assert!(!names.is_empty());
        for name in names.keys() {
            assert!(
                ci.contains(&format!("| `{name}` |")),
                "docs/ci.md has no table row for the action's {kind} `{name}`"
            );
        }
    }
    for (name, input) in action["inputs"].as_object().expect("inputs") {
        let default = input["default"].as_str().unwrap_or("");
        if !default.is_empty() {
            assert!(
                ci.contains(&format!("| `{name}` | `{default}` |")),
                "docs/ci.md should give `{name}`'s default `{default}` in its row"
            );
        }
    }
    let hooks = yaml(".pre-commit-hooks.yaml");
    for hook in hooks.as_array().expect("a list of hooks") {
        let id = hook["id"].as_str().expect("id");
        assert!(
            ci.contains(&format!("id: {id}\n")),
            "docs/ci.md lacks hook {id}"
        );
        assert!(
            ci.contains(&format!("`{id}`")),
            "docs/ci.md does not name `{id}`"
        );
    }
}

#[test]
fn the_example_workflow_checks_out_the_history_and_may_upload() {
    let wf = yaml("docs/examples/promolint.yml");
    assert_eq!(wf["permissions"]["security-events"], "write");
    let steps = wf["jobs"]["promolint"]["steps"].as_array().expect("steps");
    let checkout = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/checkout@"))
        })
        .expect("an actions/checkout step");
    assert_eq!(checkout["with"]["fetch-depth"], 0);
    let uses_action = steps.iter().any(|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.contains("/promolint@"))
    });
    assert!(uses_action, "the example does not use the action");
    // The docs show the same workflow.
    let ci = read("docs/ci.md");
    assert!(ci.contains("fetch-depth: 0"));
    assert!(ci.contains("examples/promolint.yml"));
}

#[test]
fn the_hook_files_pattern_matches_every_file_promolint_reads() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hook = hooks
        .as_array()
        .and_then(|h| h.iter().find(|h| h["id"] == "promolint"))
        .expect("hook promolint");
    assert_eq!(hook["entry"], "promolint staged");
    assert_eq!(hook["language"], "rust");
    assert_eq!(hook["pass_filenames"], false);
    // pre-commit applies `files` with Python's re.search; this pattern uses only syntax
    // that Rust's regex reads the same way.
    let pattern = regex::Regex::new(hook["files"].as_str().expect("files")).expect("regex");
    let read_by_promolint = [
        "fabric-core/terraform/envs/kestrel-prod/main.tf",
        "stacks/live/terragrunt.stack.hcl",
        "envs/prod/prod.tfvars",
        "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04.pkr.hcl",
        "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04.pkrvars.hcl",
        "flux/apps/backend/production/kustomization.yaml",
        "kubernetes/clusters/live/helm-charts.YML",
        ".promolint.yaml",
        "clusters/dev/.versions.env",
        "versions.env",
        "renovate.json",
        ".github/renovate.json5",
        "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz",
        "images/ubuntu-24.04-v3.qcow2",
        "images/packer/ubuntu-24.04/v1/http/user-data",
    ];
    for path in read_by_promolint {
        assert!(pattern.is_match(path), "the hook would skip {path}");
    }
    for path in ["README.md", "src/main.rs", "docs/promotion.md", "Makefile"] {
        assert!(!pattern.is_match(path), "the hook would run for {path}");
    }
    // Everything promolint's extractors read is matched.
    for path in read_by_promolint {
        if promolint::extract::format_of(path).is_some() {
            assert!(pattern.is_match(path));
        }
    }
}

// ---------------------------------------------------------------------------------------
// All docs: links and file references

fn docs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let name = e.expect("entry").file_name().into_string().expect("utf-8");
        if name.ends_with(".md") {
            out.push((format!("docs/{name}"), read(&format!("docs/{name}"))));
        }
    }
    out.sort();
    out
}

#[test]
fn relative_links_in_docs_resolve() {
    for (file, text) in docs() {
        let dir = Path::new(&file).parent().expect("docs/");
        // Inline code is no link: `(see [staging pins it here](1))` quotes SARIF text.
        let outside_code: String = text
            .lines()
            .map(|l| l.split('`').step_by(2).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        let mut rest = outside_code.as_str();
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let Some(end) = rest.find(')') else { break };
            let target = &rest[..end];
            rest = &rest[end..];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or(target);
            let full = root().join(dir).join(path);
            assert!(full.exists(), "{file}: broken link `{target}`");
        }
    }
}

#[test]
fn architecture_md_names_files_that_exist() {
    let text = read("docs/architecture.md");
    let mut named = 0;
    for span in text.split('`').skip(1).step_by(2) {
        let path = span.trim_end_matches('/');
        let is_path = ["src/", "rules/", "tests/", "fixtures/", "docs/", "scripts/"]
            .iter()
            .any(|p| path.starts_with(p))
            && !path.contains(['*', ' ', '{', '<']);
        if is_path {
            named += 1;
            assert!(
                root().join(path).exists(),
                "docs/architecture.md names `{span}`, which does not exist"
            );
        }
    }
    assert!(
        named >= 20,
        "architecture.md should say where each part lives"
    );
}
