//! Loading and validating `.promolint.yaml`.
//!
//! Two passes over the text: first into a generic tree of spanned nodes (YAML syntax
//! errors, and a map from locations to field paths), then into the raw structs of
//! [`super::schema`] (shape and type errors, located by the parser). The raw structs are
//! then validated value by value; every error names the field's dotted path, its 1-based
//! line and column, and what to do.

use super::infer::Environments;
use super::schema::{RawConfig, RawEnvironment, RawRule, RawRules, LEVELS};
use super::types::{
    ArtifactPatternConfig, ComponentConfig, Config, ConfigError, EnvironmentConfig,
    PromotionConfig, RuleConfig, RuleLevel,
};
use crate::model::{Level, LineIndex};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Location, Spanned};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

/// The largest config file read: a real one is a few kilobytes. Only this much (and one
/// byte) is ever read, so a huge or endless file cannot exhaust memory.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Read and validate the config file at `path` (`--config FILE`: the caller's own file,
/// read as given, also from a pipe).
pub(crate) fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let opened = std::fs::File::open(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: None,
        column: None,
        field: String::new(),
        message: format!("cannot read the config file: {e}"),
        help: Some("check the path given to `--config`, or remove the option to use the repository's `.promolint.yaml`".into()),
    })?;
    load_from(opened, path)
}

/// Read at most [`MAX_CONFIG_BYTES`] (and one byte) of `opened`, then validate it.
fn load_from(opened: std::fs::File, path: &Path) -> Result<Config, ConfigError> {
    use std::io::Read;
    let file = path.display().to_string();
    let mut bytes = Vec::new();
    opened
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            found_error(
                path,
                format!("cannot read the config file: {e}"),
                "check the file's permissions",
            )
        })?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError {
            file: file.clone(),
            line: None,
            column: None,
            field: String::new(),
            message: format!("the config file is larger than {MAX_CONFIG_BYTES} bytes"),
            help: Some(
                "a promolint config is a few kilobytes: check that this is the right file".into(),
            ),
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| ConfigError {
        file: file.clone(),
        line: None,
        column: None,
        field: String::new(),
        message: "the config file is not valid UTF-8".into(),
        help: Some("save it as UTF-8 text".into()),
    })?;
    let mut config = parse(&text, &file)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

fn found_error(path: &Path, message: String, help: &str) -> ConfigError {
    ConfigError {
        file: path.display().to_string(),
        line: None,
        column: None,
        field: String::new(),
        message,
        help: Some(help.into()),
    }
}

/// Open flags for the found config: never wait on a FIFO swapped in after the check (an
/// open for reading blocks until a writer comes), never follow a link swapped in for it.
#[cfg(target_os = "linux")]
const SAFE_OPEN_FLAGS: i32 = 0o4000 | 0o400000; // O_NONBLOCK | O_NOFOLLOW
#[cfg(all(unix, not(target_os = "linux")))]
const SAFE_OPEN_FLAGS: i32 = 0x0004 | 0x0100; // O_NONBLOCK | O_NOFOLLOW (BSD, macOS)

/// Read the config file found in the repository whose root is `root`: [`load`], except that
/// only a regular file is read. The file comes with the repository, so with the change
/// under review: one that exists but cannot be read as a file (a directory, a FIFO, a link
/// to `/dev/null`, a dangling link) is an error, never zero config, which would drop the
/// repository's environments and protections. A symlink is followed only to a regular file
/// inside the repository: one resolving outside it is refused, since promolint never
/// follows a symlink out of the repository (a link to a file elsewhere on the CI machine
/// would otherwise be read, and quoted in errors).
pub(crate) fn load_found(path: &Path, root: &Path) -> Result<Config, ConfigError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        found_error(
            path,
            format!("cannot read the config file: {e}"),
            "check the permissions of the file and its directory",
        )
    })?;
    let mut target = path.to_path_buf();
    if meta.file_type().is_symlink() {
        let shown = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        let resolved = std::fs::canonicalize(path).map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "which does not exist".to_string()
            } else {
                format!("which cannot be resolved ({e})")
            };
            found_error(
                path,
                format!("the config file is a symlink to `{shown}`, {why}"),
                "commit the configuration itself as `.promolint.yaml`, or remove the link",
            )
        })?;
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        if !resolved.starts_with(&root) {
            return Err(found_error(
                path,
                format!(
                    "the config file is a symlink to `{shown}`, outside the repository; \
                     promolint does not follow symlinks out of the repository"
                ),
                "commit the configuration itself as `.promolint.yaml`, or name a file \
                 you trust with `--config FILE`",
            ));
        }
        let why = match std::fs::metadata(&resolved) {
            Ok(m) if m.is_file() => None,
            Ok(m) => Some(format!(
                "which is {}, not a regular file",
                crate::fsutil::file_kind(m.file_type())
            )),
            Err(e) => Some(format!("which cannot be read ({e})")),
        };
        if let Some(why) = why {
            return Err(found_error(
                path,
                format!("the config file is a symlink to `{shown}`, {why}"),
                "commit the configuration itself as `.promolint.yaml`, or remove the link",
            ));
        }
        target = resolved;
    } else if !meta.is_file() {
        return Err(found_error(
            path,
            format!(
                "the config file is {}, not a regular file",
                crate::fsutil::file_kind(meta.file_type())
            ),
            "promolint reads its configuration from a regular file: replace it with one, or \
             remove it for zero config",
        ));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, SAFE_OPEN_FLAGS);
    let opened = options.open(&target).map_err(|e| {
        found_error(
            path,
            format!("cannot read the config file: {e}"),
            "check the file's permissions",
        )
    })?;
    // Checked again on the handle: the path may have been swapped since.
    let kind = opened.metadata().map(|m| m.file_type()).map_err(|e| {
        found_error(
            path,
            format!("cannot read the config file: {e}"),
            "check the file's permissions",
        )
    })?;
    if !kind.is_file() {
        return Err(found_error(
            path,
            format!(
                "the config file is {}, not a regular file",
                crate::fsutil::file_kind(kind)
            ),
            "promolint reads its configuration from a regular file",
        ));
    }
    let mut config = load_from(opened, &target)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Nesting a config may have. A valid config needs 4 levels (`environments[].paths[]`);
/// serde recurses through several frames per level (tens of KiB each in a debug build),
/// so the default of 64 could overflow the 2 MiB stack of the worker thread that loads it.
const MAX_DEPTH: usize = 16;

fn budget() -> Budget {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget
}

/// Parse and validate config text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    // Positions are of the text without its BOM, as for every other file (DESIGN §2).
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let tree_options = serde_saphyr::options! {
        budget: Some(budget()),
        strict_booleans: true,
        with_snippet: false,
        // Keep repeated keys in the tree so that the typed pass's duplicate-key error
        // can be located by key.
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
    };
    check_depth(text, file)?;
    let tree: Spanned<Node> = serde_saphyr::from_str_with_options(text, tree_options)
        .map_err(|e| syntax_error(&e, text, file))?;
    if matches!(tree.value, Node::Null) {
        // An empty document (`---`, `~`, only comments): zero config.
        return Validator::new(text, file).run(RawConfig::default());
    }
    let options = serde_saphyr::options! {
        budget: Some(budget()),
        // `yes`/`on`/"true" are not booleans: `protected: "yes"` is a type error.
        strict_booleans: true,
        with_snippet: false,
        duplicate_keys: DuplicateKeyPolicy::Error,
    };
    let raw: RawConfig = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| shape_error(&e, &tree, text, file))?;
    Validator::new(text, file).run(raw)
}

/// The deepest nesting a config file may have; the deepest field is four levels down
/// (`rules.PL001.ignore[0]`). serde-saphyr's deserializer recurses through tens of KiB of
/// stack per level (debug builds), so its own bound of 64 levels can overflow a thread's
/// 2 MiB stack; 16 levels cannot.
const MAX_CONFIG_DEPTH: usize = 16;

/// Refuse a config nested deeper than [`MAX_CONFIG_DEPTH`], counting what aliases would
/// expand to, before anything recurses through it. Syntax errors are left to the parse.
fn check_depth(text: &str, file: &str) -> Result<(), ConfigError> {
    use serde_saphyr::granit_parser::{ErrorKind, Event, Parser};
    // Per open collection: its anchor (0: none) and the height of what it holds so far.
    let mut open: Vec<(usize, usize)> = Vec::new();
    // The height of every anchored node (a scalar 0, a collection 1 + its content).
    let mut heights: HashMap<usize, usize> = HashMap::new();
    let too_deep = |at: &serde_saphyr::granit_parser::Marker| ConfigError {
        file: file.to_string(),
        line: u32::try_from(at.line()).ok(),
        column: u32::try_from(at.col() + 1).ok(),
        field: String::new(),
        message: format!("the config file nests deeper than {MAX_CONFIG_DEPTH} levels"),
        help: Some(
            "a promolint config nests at most four levels (`rules.PL001.ignore[0]`); run \
             `promolint schema` for the shape of every field"
                .into(),
        ),
    };
    for item in Parser::new_from_str(text) {
        let (event, span) = match item {
            Ok(item) => item,
            // The scanner's own bound on `[`/`{` nesting, met while it looks ahead.
            Err(e) if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) => {
                return Err(too_deep(e.marker()));
            }
            Err(_) => return Ok(()),
        };
        // The height of a node that just ended (or an alias's), to raise its parent's.
        let height = match event {
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if open.len() >= MAX_CONFIG_DEPTH {
                    return Err(too_deep(&span.start));
                }
                open.push((anchor, 0));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((anchor, inner)) = open.pop() else {
                    return Ok(());
                };
                if anchor != 0 {
                    heights.insert(anchor, inner + 1);
                }
                inner + 1
            }
            Event::Scalar(_, _, anchor, _) => {
                if anchor != 0 {
                    heights.insert(anchor, 0);
                }
                0
            }
            Event::Alias(id) => {
                let h = heights.get(&id).copied().unwrap_or(0);
                if open.len() + h > MAX_CONFIG_DEPTH {
                    return Err(too_deep(&span.start));
                }
                h
            }
            _ => continue,
        };
        if let Some((_, inner)) = open.last_mut() {
            *inner = (*inner).max(height);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The generic tree: what is at a location, and the dotted path leading to it.

/// A YAML node of the generic first pass.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Number(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
                Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<Node>>()?;
                    entries.push((key, value));
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

impl Node {
    /// What the user wrote, for "found …" in messages.
    fn describe(&self) -> String {
        match self {
            Node::Null => "nothing (null)".into(),
            Node::Bool(b) => format!("the boolean `{b}`"),
            Node::Number(n) => format!("the number `{n}`"),
            Node::Str(s) => format!("the string {}", quote_short(s)),
            Node::Seq(_) => "a list".into(),
            Node::Map(_) => "a mapping".into(),
        }
    }
}

/// `s` in backticks, shortened when long.
fn quote_short(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() > MAX {
        let head: String = s.chars().take(MAX).collect();
        format!("`{head}…`")
    } else {
        format!("`{s}`")
    }
}

/// A node of the tree, seen in document order.
struct Visit<'a> {
    path: String,
    at: (u64, u64),
    /// A mapping key (else a value).
    is_key: bool,
    node: Option<&'a Node>,
}

fn walk<'a>(node: &'a Spanned<Node>, path: String, out: &mut Vec<Visit<'a>>) {
    out.push(Visit {
        path: path.clone(),
        at: pos(&node.referenced),
        is_key: false,
        node: Some(&node.value),
    });
    match &node.value {
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{i}]"), out);
            }
        }
        Node::Map(entries) => {
            for (key, value) in entries {
                let child = if path.is_empty() {
                    key.value.clone()
                } else {
                    format!("{path}.{}", key.value)
                };
                out.push(Visit {
                    path: child.clone(),
                    at: pos(&key.referenced),
                    is_key: true,
                    node: None,
                });
                walk(value, child, out);
            }
        }
        _ => {}
    }
}

fn pos(loc: &Location) -> (u64, u64) {
    (loc.line(), loc.column())
}

/// The field path and node at an error location: the key there (unknown or duplicate
/// field), else the outermost value starting there, else the last node before it.
fn locate(tree: &Spanned<Node>, at: (u64, u64), want_key: bool) -> (String, Option<&Node>) {
    let mut visits = Vec::new();
    walk(tree, String::new(), &mut visits);
    let exact = visits
        .iter()
        .find(|v| v.at == at && v.is_key == want_key)
        .or_else(|| visits.iter().find(|v| v.at == at));
    let hit = exact.or_else(|| visits.iter().rev().find(|v| v.at <= at));
    match hit {
        Some(v) => (v.path.clone(), v.node),
        None => (String::new(), None),
    }
}

// ---------------------------------------------------------------------------------------
// Errors of the two parsing passes.

/// Line and column of a location, counted as in every span (lines end at `\n` only: the
/// YAML parser also ends one at a lone `\r`, which would shift every later line).
fn line_col(text: &str, loc: Option<Location>) -> (Option<u32>, Option<u32>) {
    // Line 0 is serde-saphyr's "unknown".
    let Some(l) = loc.filter(|l| l.line() > 0) else {
        return (None, None);
    };
    // Syntax errors carry only a character offset.
    let offset = match l.span().byte_offset() {
        Some(bytes) => usize::try_from(bytes).ok(),
        None => usize::try_from(l.span().offset()).ok().and_then(|chars| {
            text.char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .nth(chars)
        }),
    };
    match offset.filter(|&o| o <= text.len()) {
        Some(offset) => {
            let (line, column) = LineIndex::new(text).position(text, offset);
            (Some(line), Some(column))
        }
        None => (u32::try_from(l.line()).ok(), u32::try_from(l.column()).ok()),
    }
}

/// The parser's message without its trailing " at line L, column C".
fn bare_message(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    let text = match text.rfind(" at line ") {
        Some(i) if text[i..].contains(", column ") => text[..i].to_string(),
        _ => text,
    };
    text.lines().next().unwrap_or_default().trim().to_string()
}

/// The error itself, not its alias or snippet wrapper.
fn inner(e: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match e.without_snippet() {
        serde_saphyr::Error::AliasError { error, .. } => inner(error),
        other => other,
    }
}

fn syntax_error(e: &serde_saphyr::Error, text: &str, file: &str) -> ConfigError {
    let (line, column) = line_col(text, e.location());
    let (message, help) = match inner(e) {
        serde_saphyr::Error::MultipleDocuments { .. } => (
            "the config file holds more than one YAML document".to_string(),
            "keep a single document: remove the `---` separator and merge the settings".to_string(),
        ),
        serde_saphyr::Error::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Depth { .. },
            ..
        } => (
            format!("the config file nests deeper than {MAX_DEPTH} levels"),
            "a config needs at most 4 levels (`environments[].paths[]`); remove the extra brackets or indentation".to_string(),
        ),
        serde_saphyr::Error::Budget { .. } => (
            bare_message(e),
            "the config file is too large or too deeply nested; simplify it (avoid alias expansion)".to_string(),
        ),
        _ => (
            format!("invalid YAML: {}", bare_message(e)),
            "fix the YAML syntax here: check indentation, quotes and brackets".to_string(),
        ),
    };
    ConfigError {
        file: file.to_string(),
        line,
        column,
        field: String::new(),
        message,
        help: Some(help),
    }
}

/// A shape or type error of the typed pass, located with the tree.
fn shape_error(
    e: &serde_saphyr::Error,
    tree: &Spanned<Node>,
    text: &str,
    file: &str,
) -> ConfigError {
    let loc = e.location();
    let (line, column) = line_col(text, loc);
    let at = loc.map(|l| pos(&l)).unwrap_or((0, 0));
    let err = |field: String, message: String, help: String| ConfigError {
        file: file.to_string(),
        line,
        column,
        field,
        message,
        help: Some(help),
    };
    match inner(e) {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let (path, _) = locate(tree, at, true);
            let path = if path.is_empty() { field.clone() } else { path };
            let valid = expected.join(", ");
            let help = match suggest(field, expected.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? Valid fields here: {valid}"),
                None => format!("remove it; valid fields here: {valid}"),
            };
            err(path, format!("unknown field `{field}`"), help)
        }
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
            let (path, _) = locate(tree, at, true);
            let name = key
                .clone()
                .unwrap_or_else(|| last_segment(&path).to_string());
            err(
                path,
                format!("`{name}` is set twice in the same mapping"),
                "remove one of the two; YAML keys must be unique".into(),
            )
        }
        serde_saphyr::Error::MultipleDocuments { .. } => syntax_error(e, text, file),
        other => {
            let (path, node) = locate(tree, at, false);
            let (expected, example) = expectation(&path);
            let expected = match (expected, other) {
                (Some(x), _) => x.to_string(),
                (None, serde_saphyr::Error::SerdeInvalidType { expected, .. }) => expected.clone(),
                (None, _) => bare_message(e),
            };
            let found = match node {
                Some(n) => n.describe(),
                None => "something else".into(),
            };
            let help = match (other, example) {
                (serde_saphyr::Error::InvalidBooleanStrict { .. }, _) => {
                    "write `true` or `false`, without quotes".to_string()
                }
                (_, Some(example)) => format!("write it like `{example}`"),
                (_, None) => "run `promolint schema` for the expected shape of every field".into(),
            };
            err(path, format!("expected {expected}, found {found}"), help)
        }
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// What a field holds, and an example, by its path (indices and rule keys generalised).
fn expectation(path: &str) -> (Option<&'static str>, Option<&'static str>) {
    let mut general = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        general.push(c);
        if c == '[' {
            // `[3]` → `[]`
            while chars.peek().is_some_and(|c| *c != ']') {
                chars.next();
            }
        }
    }
    let general = match general.strip_prefix("rules.") {
        Some(rest) => match rest.split_once('.') {
            Some((_, field)) => format!("rules.*.{field}"),
            None => "rules.*".to_string(),
        },
        None => general,
    };
    let list = "a list of strings";
    match general.as_str() {
        "" => (
            Some("a mapping of settings"),
            Some("environments: [{ name: dev, paths: [\"envs/dev/**\"] }]"),
        ),
        "environments" => (
            Some("a list of environments"),
            Some("environments: [{ name: dev, paths: [\"envs/dev/**\"] }]"),
        ),
        "environments[]" => (
            Some("an environment (a mapping with `name`, `paths`, …)"),
            Some("- { name: dev, paths: [\"envs/dev/**\"] }"),
        ),
        "environments[].name" => (Some("a name (a string)"), Some("name: staging")),
        "environments[].paths" => (Some(list), Some("paths: [\"kubernetes/clusters/dev/**\"]")),
        "environments[].namespaces" => (Some(list), Some("namespaces: [develop]")),
        "environments[].after" => (Some(list), Some("after: [dev]")),
        "environments[].tier" => (Some("a tier name (a string)"), Some("tier: prod")),
        "environments[].tag_pattern" => (
            Some("a regular expression (a string)"),
            Some("tag_pattern: '^staging-(?P<version>v\\d+\\.\\d+\\.\\d+)'"),
        ),
        "environments[].protected" => (
            Some("a boolean (`true` or `false`)"),
            Some("protected: true"),
        ),
        "environments[].paths[]"
        | "environments[].namespaces[]"
        | "environments[].after[]"
        | "mutable_tags[]"
        | "rules.*.ignore[]" => (Some("a string"), None),
        "mutable_tags" => (Some(list), Some("mutable_tags: [latest, main]")),
        "artifacts" => (
            Some("a list of artifact patterns"),
            Some("artifacts: [{ pattern: \"images/**/{series}-v{version}.tar.gz\" }]"),
        ),
        "artifacts[]" => (
            Some("a mapping with `pattern`"),
            Some("- pattern: \"images/**/{series}-v{version}.tar.gz\""),
        ),
        "artifacts[].pattern" => (
            Some("a glob with `{series}` and `{version}` (a string)"),
            Some("pattern: \"images/**/{series}-v{version}.tar.gz\""),
        ),
        "components" => (
            Some("a list of components"),
            Some("components: [{ name: ghcr.io/acme/backend, version_pattern: '^(?P<version>v\\d+\\.\\d+\\.\\d+)-' }]"),
        ),
        "components[]" => (
            Some("a mapping with `name` and `version_pattern`"),
            Some("- { name: ghcr.io/acme/backend, version_pattern: '^(?P<version>v\\d+\\.\\d+\\.\\d+)-' }"),
        ),
        "components[].name" => (
            Some("a component name or glob (a string)"),
            Some("name: ghcr.io/acme/backend"),
        ),
        "components[].version_pattern" => (
            Some("a regular expression with a `(?P<version>…)` group (a string)"),
            Some("version_pattern: '^(?P<version>v\\d+\\.\\d+\\.\\d+)-'"),
        ),
        "promotion.release_version_groups" => (
            Some("a boolean (`true` or `false`)"),
            Some("release_version_groups: true"),
        ),
        "promotion" => (
            Some("a mapping with `max_versions_per_change` and `release_version_groups`"),
            Some("promotion: { max_versions_per_change: 1 }"),
        ),
        "promotion.max_versions_per_change" => (
            Some("a positive integer"),
            Some("max_versions_per_change: 1"),
        ),
        "max_file_size" => (
            Some("a size in bytes (a positive integer, at most 67108864)"),
            Some("max_file_size: 4194304"),
        ),
        "strict_suppressions" => (
            Some("a boolean (`true` or `false`)"),
            Some("strict_suppressions: true"),
        ),
        "rules" => (
            Some("a mapping of rule ids or names to settings"),
            Some("rules: { PL009: error }"),
        ),
        "rules.*" => (
            Some("a level (off, note, warning, error) or a mapping with `level` and `ignore`"),
            Some("PL002: { level: warning, ignore: [\"sandbox/**\"] }"),
        ),
        "rules.*.level" => (
            Some("a level (off, note, warning, error)"),
            Some("level: warning"),
        ),
        "rules.*.ignore" => (Some("a list of globs"), Some("ignore: [\"legacy/**\"]")),
        _ => (None, None),
    }
}

// ---------------------------------------------------------------------------------------
// Suggestions.

/// The candidate closest to `word` (optimal string alignment distance, ignoring case), if
/// it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&word, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

// ---------------------------------------------------------------------------------------
// Validation of values.

struct Validator<'f> {
    text: &'f str,
    file: &'f str,
    /// Where each validated field was written, for errors of `Environments::from_config`.
    located: HashMap<String, Location>,
}

impl<'f> Validator<'f> {
    fn new(text: &'f str, file: &'f str) -> Self {
        Validator {
            text,
            file,
            located: HashMap::new(),
        }
    }

    fn error(
        &self,
        field: impl Into<String>,
        at: Option<&Location>,
        message: String,
        help: String,
    ) -> ConfigError {
        let (line, column) = line_col(self.text, at.copied());
        ConfigError {
            file: self.file.to_string(),
            line,
            column,
            field: field.into(),
            message,
            help: Some(help),
        }
    }

    fn run(mut self, raw: RawConfig) -> Result<Config, ConfigError> {
        let mut config = Config {
            path: Some(self.file.into()),
            ..Config::default()
        };
        let environments = raw.environments.unwrap_or_default();
        config.environments = self.environments(&environments)?;
        if let Some(tags) = raw.mutable_tags {
            config.mutable_tags = self.strings("mutable_tags", &tags)?;
        }
        for (i, artifact) in raw.artifacts.unwrap_or_default().iter().enumerate() {
            config.artifacts.push(self.artifact(i, artifact)?);
        }
        for (i, component) in raw.components.unwrap_or_default().iter().enumerate() {
            config.components.push(self.component(i, component)?);
        }
        if let Some(promotion) = raw.promotion {
            config.promotion = self.promotion(&promotion)?;
        }
        if let Some(size) = raw.max_file_size {
            if size.value == 0 {
                return Err(self.error(
                    "max_file_size",
                    Some(&size.referenced),
                    "`max_file_size` must be at least 1 byte".into(),
                    "set the size in bytes above which files are skipped, e.g. `max_file_size: 4194304` (4 MiB, the default), or remove the field".into(),
                ));
            }
            let cap = crate::extract::MAX_CONFIGURED_SIZE_LIMIT;
            if size.value > cap {
                return Err(self.error(
                    "max_file_size",
                    Some(&size.referenced),
                    format!(
                        "`max_file_size` is {} bytes; a configuration file may raise it to {cap} bytes (64 MiB) at most",
                        size.value
                    ),
                    "lower it, or let whoever runs promolint raise the limit with `--max-file-size BYTES` on the command line (it overrides this field)".into(),
                ));
            }
            config.max_file_size = size.value;
        }
        if let Some(rules) = raw.rules {
            config.rules = self.rules(rules)?;
        }
        if let Some(strict) = raw.strict_suppressions {
            config.strict_suppressions = strict.value;
        }
        // The run builds its environments this way; anything it rejects is a config
        // error too, located at the field it names.
        if let Err(mut e) = Environments::from_config(&config) {
            let at = self.located.get(&e.field).copied();
            (e.line, e.column) = line_col(self.text, at);
            e.file = self.file.to_string();
            if e.help.is_none() {
                e.help = Some("fix this value".into());
            }
            return Err(e);
        }
        Ok(config)
    }

    /// Non-empty strings of a list.
    fn strings(&self, field: &str, items: &[Spanned<String>]) -> Result<Vec<String>, ConfigError> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if item.value.trim().is_empty() {
                return Err(self.error(
                    format!("{field}[{i}]"),
                    Some(&item.referenced),
                    "empty string".into(),
                    "remove the empty entry or give it a value".into(),
                ));
            }
            out.push(item.value.clone());
        }
        Ok(out)
    }

    /// Globs of files relative to the repository root.
    fn globs(&self, field: &str, items: &[Spanned<String>]) -> Result<Vec<String>, ConfigError> {
        let globs = self.strings(field, items)?;
        for (i, (glob, item)) in globs.iter().zip(items).enumerate() {
            let field = format!("{field}[{i}]");
            if let Err(e) = globset::Glob::new(glob) {
                return Err(self.error(
                    field,
                    Some(&item.referenced),
                    format!("invalid glob `{glob}`: {}", e.kind()),
                    "globs use globset syntax: `*` and `?` within a path segment… `**` across segments, `[abc]` classes and `{a,b}` alternatives; quote the value in YAML".into(),
                ));
            }
            if glob.starts_with('/') || glob.starts_with("./") {
                return Err(self.error(
                    field,
                    Some(&item.referenced),
                    format!(
                        "glob `{glob}` can never match: paths are relative to the repository root"
                    ),
                    format!(
                        "write `{}`",
                        glob.trim_start_matches("./").trim_start_matches('/')
                    ),
                ));
            }
        }
        Ok(globs)
    }

    fn environments(
        &mut self,
        raw: &[Spanned<RawEnvironment>],
    ) -> Result<Vec<EnvironmentConfig>, ConfigError> {
        // Names first: `after` may name an environment declared further down.
        let mut names: BTreeMap<String, &Location> = BTreeMap::new();
        let mut list = Vec::with_capacity(raw.len());
        for (i, entry) in raw.iter().enumerate() {
            let base = format!("environments[{i}]");
            let name = match &entry.value.name {
                None => {
                    return Err(self.error(
                        format!("{base}.name"),
                        Some(&entry.referenced),
                        "environment has no `name`".into(),
                        "add a unique name to this entry, e.g. `name: staging`".into(),
                    ))
                }
                Some(name) => name,
            };
            if name.value.trim().is_empty() {
                return Err(self.error(
                    format!("{base}.name"),
                    Some(&name.referenced),
                    "environment name is empty".into(),
                    "give the environment a name, e.g. `name: staging`".into(),
                ));
            }
            if let Some(first) = names.get(&name.value) {
                return Err(self.error(
                    format!("{base}.name"),
                    Some(&name.referenced),
                    format!("duplicate environment `{}`", name.value),
                    format!(
                        "`{}` is already declared at line {}; environment names must be unique: rename this one or merge the two entries",
                        name.value,
                        first.line()
                    ),
                ));
            }
            names.insert(name.value.clone(), &name.referenced);
            self.located.insert(format!("{base}.name"), name.referenced);
            list.push((entry, name));
        }
        // Tier names (`tier:`), which `after` may name too.
        let mut tiers: HashMap<String, Vec<String>> = HashMap::new();
        for (entry, name) in &list {
            if let Some(tier) = &entry.value.tier {
                tiers
                    .entry(tier.value.clone())
                    .or_default()
                    .push(name.value.clone());
            }
        }
        let mut out = Vec::with_capacity(list.len());
        for (i, (entry, name)) in list.iter().enumerate() {
            let base = format!("environments[{i}]");
            let env = &entry.value;
            let mut config = EnvironmentConfig {
                name: name.value.clone(),
                ..EnvironmentConfig::default()
            };
            if let Some(paths) = &env.paths {
                config.paths = self.globs(&format!("{base}.paths"), paths)?;
                self.locate_list(&format!("{base}.paths"), paths, &entry.referenced);
            }
            if let Some(namespaces) = &env.namespaces {
                config.namespaces = self.strings(&format!("{base}.namespaces"), namespaces)?;
            }
            if let Some(pattern) = &env.tag_pattern {
                let field = format!("{base}.tag_pattern");
                // Any group name is fine; only `version` has a meaning, so no warning for others.
                if let Err(e) = regex::Regex::new(&pattern.value) {
                    return Err(self.error(
                        field,
                        Some(&pattern.referenced),
                        format!("invalid regular expression: {}", regex_message(&e)),
                        "fix the regex (Rust `regex` syntax; in YAML, single-quote it so that backslashes stay as written): `tag_pattern: '^prod-(?P<version>v\\d+\\.\\d+\\.\\d+)'`".into(),
                    ));
                }
                self.located.insert(field, pattern.referenced);
                config.tag_pattern = Some(pattern.value.clone());
            }
            if let Some(protected) = &env.protected {
                config.protected = protected.value;
            }
            if let Some(after) = &env.after {
                let field = format!("{base}.after");
                let predecessors = self.strings(&field, after)?;
                for (j, (pred, item)) in predecessors.iter().zip(after).enumerate() {
                    if !names.contains_key(pred) && !tiers.contains_key(pred) {
                        let declared: Vec<&str> = names.keys().map(String::as_str).collect();
                        let mut help = match suggest(pred, declared.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`? "),
                            None => String::new(),
                        };
                        help.push_str(&format!(
                            "`after` names environments declared in this file: {}",
                            declared.join(", ")
                        ));
                        return Err(self.error(
                            format!("{field}[{j}]"),
                            Some(&item.referenced),
                            format!("unknown environment `{pred}`"),
                            help,
                        ));
                    }
                }
                self.locate_list(&field, after, &entry.referenced);
                config.after = predecessors;
            }
            if let Some(tier) = &env.tier {
                self.located.insert(format!("{base}.tier"), tier.referenced);
                config.tier = Some(tier.value.clone());
            }
            out.push(config);
        }
        self.cycle(raw, &out)?;
        Ok(out)
    }

    /// Remember where a list field is, at its first element (the entry when it is empty).
    fn locate_list(&mut self, field: &str, items: &[Spanned<String>], entry: &Location) {
        let at = items.first().map(|s| s.referenced).unwrap_or(*entry);
        self.located.insert(field.to_string(), at);
    }

    /// Reject a cycle in `after`, naming it in promotion order: `dev → staging → dev`.
    fn cycle(
        &self,
        raw: &[Spanned<RawEnvironment>],
        envs: &[EnvironmentConfig],
    ) -> Result<(), ConfigError> {
        let index: HashMap<&str, usize> = envs
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_str(), i))
            .collect();
        // 0 unvisited, 1 on the stack, 2 done.
        let mut state = vec![0u8; envs.len()];
        for start in 0..envs.len() {
            if state[start] != 0 {
                continue;
            }
            // Depth-first along predecessors; each frame is (environment, next `after` entry).
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(&mut (env, ref mut next)) = stack.last_mut() {
                let Some(pred_name) = envs[env].after.get(*next) else {
                    state[env] = 2;
                    stack.pop();
                    continue;
                };
                let entry = *next;
                *next += 1;
                // A tier's name stands for its members (other than `env`); the first one
                // still to visit is followed, the rest when the entry is met again.
                let is_tier = envs
                    .iter()
                    .any(|e| e.tier.as_deref() == Some(pred_name.as_str()));
                let pred = match index.get(pred_name.as_str()).filter(|_| !is_tier) {
                    Some(&p) => p,
                    None => match envs
                        .iter()
                        .enumerate()
                        .filter(|(j, e)| *j != env && e.tier.as_deref() == Some(pred_name.as_str()))
                        .map(|(j, _)| j)
                        .find(|&j| state[j] != 2)
                    {
                        Some(p) => {
                            if state[p] == 0 {
                                // Revisit this entry for the tier's other members.
                                *next -= 1;
                            }
                            p
                        }
                        None => continue,
                    },
                };
                match state[pred] {
                    0 => {
                        state[pred] = 1;
                        stack.push((pred, 0));
                    }
                    1 => {
                        // The stack from `pred` to `env` walks predecessors; promotion runs
                        // the other way.
                        let from = stack.iter().position(|(e, _)| *e == pred).unwrap_or(0);
                        let mut names: Vec<&str> = stack[from..]
                            .iter()
                            .map(|(e, _)| envs[*e].name.as_str())
                            .collect();
                        names.push(envs[pred].name.as_str());
                        names.reverse();
                        let at = raw[env]
                            .value
                            .after
                            .as_ref()
                            .and_then(|a| a.get(entry))
                            .map(|s| &s.referenced);
                        return Err(self.error(
                            format!("environments[{env}].after[{entry}]"),
                            at,
                            format!("cycle in `after`: {}", names.join(" → ")),
                            "the promotion order must have a beginning: remove one `after` entry of the cycle (the first environment has no `after`)".into(),
                        ));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn artifact(
        &self,
        i: usize,
        raw: &Spanned<super::schema::RawArtifact>,
    ) -> Result<ArtifactPatternConfig, ConfigError> {
        let base = format!("artifacts[{i}]");
        let Some(pattern) = &raw.value.pattern else {
            return Err(self.error(
                format!("{base}.pattern"),
                Some(&raw.referenced),
                "artifact entry has no `pattern`".into(),
                "add one, e.g. `pattern: \"images/**/{series}-v{version}.tar.gz\"`".into(),
            ));
        };
        let field = format!("{base}.pattern");
        let at = Some(&pattern.referenced);
        let text = &pattern.value;
        for placeholder in ["{series}", "{version}"] {
            if !text.contains(placeholder) {
                return Err(self.error(
                    field,
                    at,
                    format!("artifact pattern `{text}` lacks `{placeholder}`"),
                    "mark the series and the version in the file name, e.g. `images/**/{series}-v{version}.tar.gz` matches `images/ubuntu/ubuntu-24.04-v6.tar.gz`".into(),
                ));
            }
        }
        // Any other `{word}` is most likely a misspelt placeholder, not a one-way `{a,b}`.
        let mut rest = text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else { break };
            let word = &after[..close];
            if !word.is_empty()
                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && word != "series"
                && word != "version"
            {
                let hint = match suggest(word, ["series", "version"]) {
                    Some(s) => format!("did you mean `{{{s}}}`? "),
                    None => String::new(),
                };
                return Err(self.error(
                    field,
                    at,
                    format!("unknown placeholder `{{{word}}}` in artifact pattern"),
                    format!("{hint}the placeholders are `{{series}}` and `{{version}}`"),
                ));
            }
            rest = &after[close + 1..];
        }
        let glob = text.replace("{series}", "*").replace("{version}", "*");
        if let Err(e) = globset::Glob::new(&glob) {
            return Err(self.error(
                field,
                at,
                format!("invalid artifact pattern `{text}`: {}", e.kind()),
                "the pattern is a glob (globset syntax) with `{series}` and `{version}` placeholders".into(),
            ));
        }
        Ok(ArtifactPatternConfig {
            pattern: text.clone(),
        })
    }

    fn component(
        &self,
        i: usize,
        raw: &Spanned<super::schema::RawComponent>,
    ) -> Result<ComponentConfig, ConfigError> {
        let base = format!("components[{i}]");
        let name = match &raw.value.name {
            Some(name) if !name.value.trim().is_empty() => name,
            Some(name) => {
                return Err(self.error(
                    format!("{base}.name"),
                    Some(&name.referenced),
                    "component name is empty".into(),
                    "name a component as its pins do (`ghcr.io/acme/backend`, `lxc_rootfs_version`) or a glob of them (`ghcr.io/acme/*`)".into(),
                ))
            }
            None => {
                return Err(self.error(
                    format!("{base}.name"),
                    Some(&raw.referenced),
                    "component has no `name`".into(),
                    "add the component this entry is about, e.g. `name: ghcr.io/acme/backend` (`promolint status` lists them)".into(),
                ))
            }
        };
        if let Err(e) = globset::Glob::new(&name.value) {
            return Err(self.error(
                format!("{base}.name"),
                Some(&name.referenced),
                format!("invalid glob `{}`: {}", name.value, e.kind()),
                "write the component's name, or a globset glob of names such as `ghcr.io/acme/*`"
                    .into(),
            ));
        }
        let mut out = ComponentConfig {
            name: name.value.clone(),
            version_pattern: None,
        };
        if let Some(pattern) = &raw.value.version_pattern {
            let field = format!("{base}.version_pattern");
            let example = "`version_pattern: '^(?P<version>v\\d+\\.\\d+\\.\\d+)-[0-9a-f]{7,40}$'`";
            let re = regex::Regex::new(&pattern.value).map_err(|e| {
                self.error(
                    field.clone(),
                    Some(&pattern.referenced),
                    format!("invalid regular expression: {}", regex_message(&e)),
                    format!("fix the regex (Rust `regex` syntax; in YAML, single-quote it so that backslashes stay as written): {example}"),
                )
            })?;
            if !re.capture_names().any(|n| n == Some("version")) {
                return Err(self.error(
                    field,
                    Some(&pattern.referenced),
                    "`version_pattern` has no `(?P<version>…)` group, so it cannot say which part of a tag is the version".into(),
                    format!("name the version part of the tag with a `(?P<version>…)` group: {example}"),
                ));
            }
            out.version_pattern = Some(pattern.value.clone());
        }
        Ok(out)
    }

    fn promotion(
        &self,
        raw: &Spanned<super::schema::RawPromotion>,
    ) -> Result<PromotionConfig, ConfigError> {
        let mut out = PromotionConfig::default();
        if let Some(groups) = &raw.value.release_version_groups {
            out.release_version_groups = groups.value;
        }
        if let Some(max) = &raw.value.max_versions_per_change {
            let field = "promotion.max_versions_per_change";
            if max.value == 0 {
                return Err(self.error(
                    field,
                    Some(&max.referenced),
                    "`max_versions_per_change` must be at least 1".into(),
                    "a promotion change moves at least one version; use 1 (the default) to allow one version per change".into(),
                ));
            }
            out.max_versions_per_change = usize::try_from(max.value).map_err(|_| {
                self.error(
                    field,
                    Some(&max.referenced),
                    format!("`max_versions_per_change` is too large: {}", max.value),
                    "use a small number, such as 1".into(),
                )
            })?;
        }
        Ok(out)
    }

    fn rules(&self, raw: RawRules) -> Result<BTreeMap<String, RuleConfig>, ConfigError> {
        let mut out = BTreeMap::new();
        // Rule id → the key that configured it, to report a rule set twice.
        let mut seen: HashMap<&'static str, (String, u64)> = HashMap::new();
        for (key, value) in raw.0 {
            let field = format!("rules.{}", key.value);
            let Some(meta) = crate::catalogue::lookup(&key.value) else {
                let keys = crate::catalogue::all().iter().flat_map(|r| [r.id, r.name]);
                let help = match suggest(&key.value, keys) {
                    Some(s) => format!("did you mean `{s}`? `promolint rules` lists the rule ids and names"),
                    None => "use a rule id (`PL001`) or name (`mutable-reference`); `promolint rules` lists them".into(),
                };
                return Err(self.error(
                    field,
                    Some(&key.referenced),
                    format!("unknown rule `{}`", key.value),
                    help,
                ));
            };
            if let Some((first, line)) = seen.get(meta.id) {
                return Err(self.error(
                    field,
                    Some(&key.referenced),
                    format!("rule {} is configured twice", meta.id),
                    format!("it is already configured as `{first}` at line {line}; merge the two entries"),
                ));
            }
            seen.insert(meta.id, (key.value.clone(), key.referenced.line()));
            let rule = match &value.value {
                RawRule::Level(level) => RuleConfig {
                    level: Some(self.level(&field, level, &value.referenced)?),
                    ignore: Vec::new(),
                },
                RawRule::Invalid(found) => {
                    let help = if found.starts_with("the boolean") {
                        "write `off` to disable the rule, or a level: `PL009: error`"
                    } else {
                        "write a level, `PL009: error`, or a mapping, `PL002: { level: warning, ignore: [\"sandbox/**\"] }`"
                    };
                    return Err(self.error(
                        field,
                        Some(&value.referenced),
                        format!("expected a level (off, note, warning, error) or a mapping with `level` and `ignore`, found {found}"),
                        help.into(),
                    ));
                }
                RawRule::Table(table) => RuleConfig {
                    level: match &table.level {
                        Some(level) => Some(self.level(
                            &format!("{field}.level"),
                            &level.value,
                            &level.referenced,
                        )?),
                        None => None,
                    },
                    ignore: match &table.ignore {
                        Some(ignore) => self.globs(&format!("{field}.ignore"), ignore)?,
                        None => Vec::new(),
                    },
                },
            };
            out.insert(meta.id.to_string(), rule);
        }
        Ok(out)
    }

    fn level(&self, field: &str, level: &str, at: &Location) -> Result<RuleLevel, ConfigError> {
        if level == "off" {
            return Ok(RuleLevel::Off);
        }
        if let Some(level) = Level::parse(level) {
            return Ok(RuleLevel::Level(level));
        }
        let valid = LEVELS.join(", ");
        let help = match suggest(level, LEVELS.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? Valid levels: {valid}"),
            None => format!("use one of: {valid}"),
        };
        Err(self.error(field, Some(at), format!("unknown level `{level}`"), help))
    }
}

/// The regex crate's message on one line: its syntax errors span several lines (the
/// pattern, a caret, the error), which we fold into `error at column N of the pattern`.
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let error = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::to_string);
    // The caret line is all `^` (the pattern line above it may start with one too).
    let caret = text.lines().find_map(|l| {
        let t = l.trim();
        (!t.is_empty() && t.chars().all(|c| c == '^')).then(|| l.len() - l.trim_start().len())
    });
    match (error, caret) {
        // The pattern line is indented by four spaces; the caret line is indented to match.
        (Some(error), Some(c)) if c >= 4 => {
            format!("{error} (at character {} of the pattern)", c - 3)
        }
        (Some(error), _) => error,
        (None, _) => text.lines().map(str::trim).collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_MUTABLE_TAGS;

    const EXAMPLE: &str = r#"environments:
  - name: dev
    paths: ["kubernetes/clusters/dev/**", "**/envs/*-dev/**"]
    namespaces: [develop]
    tag_pattern: '^develop-(?P<version>v\d+\.\d+\.\d+)-'
  - name: staging
    after: [dev]
    paths: ["kubernetes/clusters/integration/**"]
  - name: prod
    after: [staging]
    protected: true
    paths: ["kubernetes/clusters/live/**", "**/envs/*-prod/**"]
mutable_tags: [latest, main, master, stable, edge, nightly]
artifacts:
  - pattern: "fabric-core/packer/**/{series}-v{version}.tar.gz"
promotion:
  max_versions_per_change: 1
max_file_size: 4194304
rules:
  PL009: error
  mutable-reference: { ignore: ["legacy/**"] }
  PL002: { level: warning, ignore: ["sandbox/**"] }
  PL003: off
"#;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// The error `text` gives, checked against its field, line and column.
    #[track_caller]
    fn error(text: &str, field: &str, line: u32, column: u32) -> ConfigError {
        match parse(text, ".promolint.yaml") {
            Ok(config) => panic!("parsed: {config:?}"),
            Err(e) => {
                assert_eq!(
                    (e.field.as_str(), e.line, e.column),
                    (field, Some(line), Some(column)),
                    "{e}"
                );
                assert_eq!(e.file, ".promolint.yaml");
                assert!(
                    e.help.as_ref().is_some_and(|h| !h.is_empty()),
                    "no help: {e}"
                );
                e
            }
        }
    }

    #[track_caller]
    fn says(e: &ConfigError, message: &str, help: &str) {
        assert!(
            e.message.contains(message),
            "message {:?} lacks {message:?}",
            e.message
        );
        let h = e.help.as_deref().unwrap_or_default();
        assert!(h.contains(help), "help {h:?} lacks {help:?}");
    }

    #[test]
    fn the_design_example_parses_into_the_exact_config() {
        let config = parse(EXAMPLE, ".promolint.yaml").unwrap_or_else(|e| panic!("{e}"));
        let rule = |level: Option<RuleLevel>, ignore: &[&str]| RuleConfig {
            level,
            ignore: strings(ignore),
        };
        let expected = Config {
            path: Some(".promolint.yaml".into()),
            environments: vec![
                EnvironmentConfig {
                    name: "dev".into(),
                    paths: strings(&["kubernetes/clusters/dev/**", "**/envs/*-dev/**"]),
                    namespaces: strings(&["develop"]),
                    tag_pattern: Some(r"^develop-(?P<version>v\d+\.\d+\.\d+)-".into()),
                    protected: false,
                    after: vec![],
                    tier: None,
                },
                EnvironmentConfig {
                    name: "staging".into(),
                    paths: strings(&["kubernetes/clusters/integration/**"]),
                    after: strings(&["dev"]),
                    ..EnvironmentConfig::default()
                },
                EnvironmentConfig {
                    name: "prod".into(),
                    paths: strings(&["kubernetes/clusters/live/**", "**/envs/*-prod/**"]),
                    protected: true,
                    after: strings(&["staging"]),
                    ..EnvironmentConfig::default()
                },
            ],
            mutable_tags: strings(DEFAULT_MUTABLE_TAGS),
            artifacts: vec![ArtifactPatternConfig {
                pattern: "fabric-core/packer/**/{series}-v{version}.tar.gz".into(),
            }],
            components: vec![],
            promotion: PromotionConfig {
                max_versions_per_change: 1,
                release_version_groups: true,
            },
            rules: BTreeMap::from([
                ("PL001".to_string(), rule(None, &["legacy/**"])),
                (
                    "PL002".to_string(),
                    rule(Some(RuleLevel::Level(Level::Warning)), &["sandbox/**"]),
                ),
                ("PL003".to_string(), rule(Some(RuleLevel::Off), &[])),
                (
                    "PL009".to_string(),
                    rule(Some(RuleLevel::Level(Level::Error)), &[]),
                ),
            ]),
            max_file_size: 4_194_304,
            own_repositories: vec![],
            strict_suppressions: false,
        };
        assert_eq!(config, expected);
        let envs = Environments::from_config(&config).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            envs.for_path("fabric-core/terraform/envs/kestrel-prod/main.tf"),
            Some(2)
        );
    }

    #[test]
    fn empty_files_are_the_defaults() {
        for text in [
            "",
            "{}",
            "# nothing yet\n",
            "---\n",
            "~\n",
            "environments: []\n",
        ] {
            let config = parse(text, "c.yaml").unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(
                config,
                Config {
                    path: Some("c.yaml".into()),
                    ..Config::default()
                },
                "{text:?}"
            );
        }
        let config = parse("max_file_size: 100\n", "c.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.mutable_tags, strings(DEFAULT_MUTABLE_TAGS));
        assert_eq!(config.max_file_size, 100);
        let config = parse("mutable_tags: [dev]\n", "c.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.mutable_tags, ["dev"]);
    }

    #[test]
    fn max_file_size_is_capped_at_64_mib() {
        let config = parse("max_file_size: 67108864\n", "c.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.max_file_size, 64 << 20);
        let e = error("max_file_size: 3000000000\n", "max_file_size", 1, 16);
        says(
            &e,
            "`max_file_size` is 3000000000 bytes; a configuration file may raise it to 67108864 bytes (64 MiB) at most",
            "`--max-file-size BYTES` on the command line",
        );
    }

    #[test]
    fn yaml_syntax_errors() {
        let e = error("environments:\n  - name: dev\n    paths: [a\n", "", 3, 12);
        says(&e, "invalid YAML: unclosed bracket", "YAML syntax");
        let e = error("a: b\n c: d\n", "", 2, 3);
        says(&e, "invalid YAML", "indentation");
        let e = error("promotion: {}\n---\nrules: {}\n", "", 3, 1);
        says(&e, "more than one YAML document", "`---`");
    }

    #[test]
    fn unknown_fields_suggest_and_list_the_valid_ones() {
        let e = error(
            "environments:\n  - name: dev\n    nmae: x\n",
            "environments[0].nmae",
            3,
            5,
        );
        says(&e, "unknown field `nmae`", "did you mean `name`?");
        says(
            &e,
            "",
            "name, paths, namespaces, tag_pattern, protected, after",
        );
        let e = error("environmets: []\n", "environmets", 1, 1);
        says(&e, "unknown field", "did you mean `environments`?");
        let e = error("rules: {}\nverbose: true\n", "verbose", 2, 1);
        says(
            &e,
            "unknown field `verbose`",
            "remove it; valid fields here: environments, mutable_tags, artifacts, components, promotion, max_file_size, strict_suppressions, rules",
        );
        let e = error(
            "promotion:\n  max_version_per_change: 2\n",
            "promotion.max_version_per_change",
            2,
            3,
        );
        says(&e, "", "did you mean `max_versions_per_change`?");
        let e = error(
            "rules:\n  PL002: { levle: warning }\n",
            "rules.PL002.levle",
            2,
            12,
        );
        says(
            &e,
            "",
            "did you mean `level`? Valid fields here: level, ignore",
        );
        error(
            "artifacts:\n  - pattern: \"{series}-v{version}.img\"\n    glob: x\n",
            "artifacts[0].glob",
            3,
            5,
        );
    }

    #[test]
    fn wrong_types() {
        let e = error(
            "environments:\n  - name: dev\n    protected: \"yes\"\n",
            "environments[0].protected",
            3,
            16,
        );
        says(
            &e,
            "expected a boolean (`true` or `false`), found the string `yes`",
            "without quotes",
        );
        // YAML 1.1 spellings are not booleans either.
        error(
            "environments:\n  - name: dev\n    protected: yes\n",
            "environments[0].protected",
            3,
            16,
        );
        let e = error(
            "environments:\n  - name: dev\n    paths: \"x\"\n",
            "environments[0].paths",
            3,
            12,
        );
        says(
            &e,
            "expected a list of strings, found the string `x`",
            "paths: [",
        );
        let e = error("environments:\n  - dev\n", "environments[0]", 2, 5);
        says(&e, "found the string `dev`", "name: dev");
        let e = error(
            "environments:\n  - name: dev\n    paths: [[a]]\n",
            "environments[0].paths[0]",
            3,
            13,
        );
        says(&e, "expected a string, found a list", "schema");
        let e = error("promotion: 3\n", "promotion", 1, 12);
        says(&e, "found the number `3`", "max_versions_per_change: 1");
        let e = error(
            "promotion:\n  max_versions_per_change: -1\n",
            "promotion.max_versions_per_change",
            2,
            28,
        );
        says(&e, "expected a positive integer, found the number `-1`", "");
        let e = error("- a\n", "", 1, 1);
        says(&e, "expected a mapping of settings, found a list", "");
        let e = error(
            "environments:\n  - name:\n      a: b\n",
            "environments[0].name",
            3,
            7,
        );
        says(
            &e,
            "expected a name (a string), found a mapping",
            "name: staging",
        );
    }

    #[test]
    fn duplicate_keys() {
        let e = error(
            "environments:\n  - name: dev\n    paths: []\n    name: x\n",
            "environments[0].name",
            4,
            5,
        );
        says(&e, "`name` is set twice", "remove one");
    }

    #[test]
    fn environment_names() {
        let e = error(
            "environments:\n  - name: dev\n  - paths: [\"a/**\"]\n    protected: true\n",
            "environments[1].name",
            3,
            5,
        );
        says(&e, "environment has no `name`", "name: staging");
        let e = error(
            "environments:\n  - name: dev\n  - name: staging\n  - name: dev\n",
            "environments[2].name",
            4,
            11,
        );
        says(
            &e,
            "duplicate environment `dev`",
            "already declared at line 2",
        );
        error(
            "environments:\n  - name: ''\n",
            "environments[0].name",
            2,
            11,
        );
    }

    #[test]
    fn tag_patterns() {
        let e = error(
            "environments:\n  - name: dev\n    tag_pattern: '^dev-(?P<version'\n",
            "environments[0].tag_pattern",
            3,
            18,
        );
        says(
            &e,
            "invalid regular expression: unclosed capture group name",
            "single-quote",
        );
        // A group with another name is no error, and no warning either.
        let config = parse(
            "environments:\n  - name: dev\n    tag_pattern: '^dev-(?P<v>\\d+)'\n",
            "c",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            config.environments[0].tag_pattern.as_deref(),
            Some(r"^dev-(?P<v>\d+)")
        );
    }

    #[test]
    fn component_version_patterns() {
        let e = error(
            "components:\n  - name: ghcr.io/acme/shop\n    version_pattern: '^(?P<version'\n",
            "components[0].version_pattern",
            3,
            22,
        );
        says(
            &e,
            "invalid regular expression: unclosed capture group name",
            "(?P<version>",
        );
        let e = error(
            "components:\n  - name: ghcr.io/acme/*\n    version_pattern: '^v(\\d+)-'\n",
            "components[0].version_pattern",
            3,
            22,
        );
        says(&e, "has no `(?P<version>…)` group", "name the version part");
        assert_eq!(
            e.to_string().lines().next(),
            Some(".promolint.yaml:3:22: `components[0].version_pattern`: `version_pattern` has no `(?P<version>…)` group, so it cannot say which part of a tag is the version")
        );
        let e = error(
            "components:\n  - version_pattern: '^(?P<version>v\\d+)'\n",
            "components[0].name",
            2,
            5,
        );
        says(&e, "component has no `name`", "name: ghcr.io/acme/backend");
        let config = parse(
            "components:\n  - name: ghcr.io/acme/*\n    version_pattern: '^(?P<version>v\\d+\\.\\d+\\.\\d+)-build'\npromotion:\n  release_version_groups: false\n",
            "c",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            config.components,
            [ComponentConfig {
                name: "ghcr.io/acme/*".into(),
                version_pattern: Some(r"^(?P<version>v\d+\.\d+\.\d+)-build".into()),
            }]
        );
        assert!(!config.promotion.release_version_groups);
        let envs = Environments::from_config(&config).unwrap_or_else(|e| panic!("{e}"));
        let _ = envs;
        let versions = crate::version::Versions::from_config(&config);
        let re = versions.pattern("ghcr.io/acme/shop").map(|r| r.as_str());
        assert_eq!(re, Some(r"^(?P<version>v\d+\.\d+\.\d+)-build"));
        assert!(versions.pattern("ghcr.io/other/shop").is_none());
    }

    #[test]
    fn globs() {
        let e = error(
            "environments:\n  - name: dev\n    paths: [\"a/**\", \"b/[x\"]\n",
            "environments[0].paths[1]",
            3,
            21,
        );
        says(
            &e,
            "invalid glob `b/[x`: unclosed character class",
            "globset syntax",
        );
        let e = error(
            "rules:\n  PL002:\n    ignore:\n      - \"{a\"\n",
            "rules.PL002.ignore[0]",
            4,
            9,
        );
        says(&e, "invalid glob `{a`", "");
        let e = error(
            "environments:\n  - name: dev\n    paths: [\"/abs/**\"]\n",
            "environments[0].paths[0]",
            3,
            13,
        );
        says(&e, "relative to the repository root", "write `abs/**`");
        error(
            "environments:\n  - name: dev\n    namespaces: [\"\"]\n",
            "environments[0].namespaces[0]",
            3,
            18,
        );
    }

    #[test]
    fn after_names_known_environments() {
        let e = error(
            "environments:\n  - name: dev\n  - name: staging\n    after: [dev, qa]\n",
            "environments[1].after[1]",
            4,
            18,
        );
        says(
            &e,
            "unknown environment `qa`",
            "declared in this file: dev, staging",
        );
        let e = error(
            "environments:\n  - name: dev\n    after: [stagign]\n  - name: staging\n",
            "environments[0].after[0]",
            3,
            13,
        );
        says(&e, "", "did you mean `staging`?");
    }

    #[test]
    fn cycles_in_after_are_named() {
        let e = error(
            "environments:\n  - name: dev\n    after: [staging]\n  - name: staging\n    after: [dev]\n",
            "environments[1].after[0]",
            5,
            13,
        );
        says(
            &e,
            "cycle in `after`: dev → staging → dev",
            "remove one `after` entry",
        );
        let e = error(
            "environments:\n  - name: dev\n    after: [dev]\n",
            "environments[0].after[0]",
            3,
            13,
        );
        says(&e, "cycle in `after`: dev → dev", "");
        let e = error(
            "environments:\n  - name: a\n  - name: dev\n    after: [prod, a]\n  - name: staging\n    after: [dev]\n  - name: prod\n    after: [staging]\n",
            "environments[2].after[0]",
            6,
            13,
        );
        says(&e, "cycle in `after`: dev → staging → prod → dev", "");
        // A diamond is no cycle.
        parse(
            "environments:\n  - name: dev\n  - name: eu\n    after: [dev]\n  - name: us\n    after: [dev]\n  - name: prod\n    after: [eu, us]\n",
            "c",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// `after` may name a tier (`tier:` of its members); a cycle through a tier is refused.
    #[test]
    fn after_names_a_tier() {
        let config = parse(
            "environments:\n  - name: staging-eu\n    tier: staging\n  - name: staging-asia\n    tier: staging\n  - name: prod-eu\n    tier: prod\n    after: [staging]\n  - name: prod-asia\n    tier: prod\n    after: [prod-eu]\n",
            "c",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.environments[2].after, strings(&["staging"]));
        assert_eq!(config.environments[2].tier.as_deref(), Some("prod"));
        let envs =
            crate::config::Environments::from_config(&config).unwrap_or_else(|e| panic!("{e}"));
        // Any staging member for prod-eu; prod-asia ordered after prod-eu explicitly.
        assert_eq!(envs.get(2).after_groups, vec![vec![0, 1]]);
        assert_eq!(envs.get(3).after_groups, vec![vec![2]]);
        let e = error(
            "environments:\n  - name: a\n    tier: t\n    after: [b]\n  - name: b\n    after: [t]\n",
            "environments[1].after[0]",
            6,
            13,
        );
        says(&e, "cycle in `after`: a → b → a", "");
    }

    #[test]
    fn artifact_patterns() {
        let e = error(
            "artifacts:\n  - pattern: \"images/{series}.tar.gz\"\n",
            "artifacts[0].pattern",
            2,
            14,
        );
        says(&e, "lacks `{version}`", "{series}-v{version}");
        let e = error(
            "artifacts:\n  - pattern: \"images/v{version}.tar.gz\"\n",
            "artifacts[0].pattern",
            2,
            14,
        );
        says(&e, "lacks `{series}`", "");
        let e = error(
            "artifacts:\n  - pattern: \"a/{series}-v{version}-{arch}.img\"\n",
            "artifacts[0].pattern",
            2,
            14,
        );
        says(
            &e,
            "unknown placeholder `{arch}`",
            "`{series}` and `{version}`",
        );
        let e = error("artifacts:\n  - {}\n", "artifacts[0].pattern", 2, 5);
        says(&e, "no `pattern`", "pattern:");
    }

    #[test]
    fn numbers() {
        let e = error(
            "promotion:\n  max_versions_per_change: 0\n",
            "promotion.max_versions_per_change",
            2,
            28,
        );
        says(&e, "must be at least 1", "use 1");
        let e = error("max_file_size: 0\n", "max_file_size", 1, 16);
        says(&e, "at least 1 byte", "4194304");
        let config = parse("promotion:\n  max_versions_per_change: 3\n", "c")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.promotion.max_versions_per_change, 3);
    }

    #[test]
    fn rule_keys_and_levels() {
        let e = error("rules:\n  PL09: error\n", "rules.PL09", 2, 3);
        says(&e, "unknown rule `PL09`", "did you mean `PL009`?");
        let e = error(
            "rules:\n  mutable-refrence: off\n",
            "rules.mutable-refrence",
            2,
            3,
        );
        says(&e, "unknown rule", "did you mean `mutable-reference`?");
        let e = error(
            "rules:\n  no-such-rule-at-all: off\n",
            "rules.no-such-rule-at-all",
            2,
            3,
        );
        says(&e, "unknown rule", "promolint rules");
        let e = error("rules:\n  PL009: fatal\n", "rules.PL009", 2, 10);
        says(&e, "unknown level `fatal`", "off, note, warning, error");
        let e = error(
            "rules:\n  PL002: { level: warnings }\n",
            "rules.PL002.level",
            2,
            19,
        );
        says(&e, "unknown level `warnings`", "did you mean `warning`?");
        let e = error("rules:\n  PL002: 3\n", "rules.PL002", 2, 10);
        says(&e, "found the number `3`", "PL009: error");
        let e = error("rules:\n  PL002: false\n", "rules.PL002", 2, 10);
        says(&e, "found the boolean `false`", "write `off`");
        let e = error(
            "rules:\n  PL001: off\n  mutable-reference: error\n",
            "rules.mutable-reference",
            3,
            3,
        );
        says(&e, "rule PL001 is configured twice", "as `PL001` at line 2");
        // Ids in any case and names resolve to ids.
        let config = parse(
            "rules:\n  pl009: note\n  foreign-environment-tag: {}\n",
            "c",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = config.rules.keys().map(String::as_str).collect();
        assert_eq!(keys, ["PL002", "PL009"]);
        assert_eq!(
            config.rules["PL009"].level,
            Some(RuleLevel::Level(Level::Note))
        );
        assert_eq!(config.rules["PL002"], RuleConfig::default());
    }

    #[test]
    fn errors_display_like_compiler_messages() {
        let e = error(
            "environments:\n  - name: dev\n    nmae: x\n",
            "environments[0].nmae",
            3,
            5,
        );
        assert_eq!(
            e.to_string(),
            ".promolint.yaml:3:5: `environments[0].nmae`: unknown field `nmae`\n  help: did you mean `name`? Valid fields here: name, paths, namespaces, tag_pattern, protected, after, tier"
        );
    }

    #[test]
    fn load_reads_files_and_reports_missing_ones() {
        let dir = std::env::temp_dir().join(format!("promolint-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(".promolint.yaml");
        std::fs::write(&path, EXAMPLE).unwrap_or_else(|e| panic!("{e}"));
        let config = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.path.as_deref(), Some(path.as_path()));
        assert_eq!(config.environments.len(), 3);
        std::fs::write(&path, b"rules: {PL001: \xff}\n").unwrap_or_else(|e| panic!("{e}"));
        let e = load(&path)
            .err()
            .unwrap_or_else(|| panic!("loaded invalid UTF-8"));
        assert!(e.message.contains("UTF-8"), "{e}");
        let e = load(&dir.join("missing.yaml"))
            .err()
            .unwrap_or_else(|| panic!("loaded a missing file"));
        assert!(e.message.starts_with("cannot read the config file"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Runs on the test thread's 2 MiB stack: 16 levels fit, deeper is refused before the
    /// deserializer recurses (64 levels used to overflow it).
    #[test]
    fn deep_nesting_is_refused_before_it_can_overflow_the_stack() {
        // The mapping is level 1, `environments` level 2: 15 brackets reach level 16.
        let at =
            |depth: usize| format!("environments: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        let e = parse(&at(15), "c").unwrap_err();
        assert_eq!(e.field, "environments[0]");
        for depth in [16, 63, 64, 1000, 100_000] {
            let e = parse(&at(depth), "c").unwrap_err();
            assert_eq!(
                e.message, "the config file nests deeper than 16 levels",
                "{depth}"
            );
            assert_eq!(e.line, Some(1), "{depth}");
            if depth < 1000 {
                assert_eq!(e.column, Some(30), "{depth}");
            }
        }
        // Aliases count what they expand to.
        let text = format!(
            "a: &a {}{}\nenvironments: {}*a{}\n",
            "[".repeat(10),
            "]".repeat(10),
            "[".repeat(6),
            "]".repeat(6)
        );
        let e = parse(&text, "c").unwrap_err();
        assert_eq!(e.message, "the config file nests deeper than 16 levels");
        assert_eq!((e.line, e.column), (Some(2), Some(21)));
    }

    #[test]
    fn no_input_panics() {
        // Every prefix of the example, and some hostile documents: errors, never panics.
        let mut inputs: Vec<String> = EXAMPLE
            .char_indices()
            .map(|(i, _)| EXAMPLE[..i].to_string())
            .collect();
        inputs.extend(
            [
                "a: &a [*a]\n",
                "x: &x [&y [*x]]\n",
                "? [a]\n: b\n",
                "environments: !!map {}\n",
                "rules: !custom {PL001: off}\n",
                "\u{feff}environments: []\n",
                "environments:\n  - name: dev\n    after: [dev, dev]\n",
                "environments:\n  - <<: {name: dev}\n",
                "max_file_size: 99999999999999999999999\n",
                "\0",
            ]
            .map(String::from),
        );
        for input in &inputs {
            let _ = parse(input, "c");
        }
    }
}
