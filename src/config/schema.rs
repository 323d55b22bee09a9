//! The shape of `.promolint.yaml`: the raw structs `load` deserializes (every value
//! `Spanned`, so validation errors point at it) and the JSON Schema generated from the same
//! structs (`promolint schema`), which editors use for completion and inline docs.
//!
//! Validation beyond shape (globs, regexes, the `after` graph, rule keys) lives in `load`.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::borrow::Cow;
use std::fmt;

/// The valid rule levels, in the order they are listed in messages.
pub const LEVELS: &[&str] = &["off", "note", "warning", "error"];

/// Configuration of promolint, a Git-native linter for GitOps environment promotion.
/// Every field is optional: an empty file means zero config (environments inferred from
/// path segments and namespaces).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "promolint configuration (.promolint.yaml)")]
pub struct RawConfig {
    /// The deployment environments, each with the files and namespaces that belong to it.
    /// A file belongs to the first environment whose `paths` match it. When omitted or
    /// empty, environments are inferred from path segments and namespaces (dev, staging,
    /// prod and their synonyms).
    #[serde(default)]
    #[schemars(with = "Vec<RawEnvironment>")]
    pub environments: Option<Vec<Spanned<RawEnvironment>>>,

    /// Tags that can move under you: pinning one is reported by PL001 mutable-reference.
    /// Replaces the default list [latest, main, master, stable, edge, nightly].
    #[serde(default)]
    #[schemars(with = "Vec<String>", extend("default" = super::types::DEFAULT_MUTABLE_TAGS))]
    pub mutable_tags: Option<Vec<Spanned<String>>>,

    /// Naming schemes of versioned, immutable artifacts (images, archives, templates)
    /// beyond the built-in `<series>-v<N>.<ext>` convention.
    #[serde(default)]
    #[schemars(with = "Vec<RawArtifact>")]
    pub artifacts: Option<Vec<Spanned<RawArtifact>>>,

    /// Settings of individual components (images, charts, version keys), by name or glob.
    #[serde(default)]
    #[schemars(with = "Vec<RawComponent>")]
    pub components: Option<Vec<Spanned<RawComponent>>>,

    /// Limits on promotion changes.
    #[serde(default)]
    #[schemars(with = "RawPromotion")]
    pub promotion: Option<Spanned<RawPromotion>>,

    /// Files larger than this many bytes are not read and get a PL000 finding (default
    /// 4194304, 4 MiB; at most 67108864, 64 MiB: only `--max-file-size` goes higher).
    #[serde(default)]
    #[schemars(with = "u64", range(min = 1, max = crate::extract::MAX_CONFIGURED_SIZE_LIMIT), extend("default" = crate::extract::DEFAULT_SIZE_LIMIT))]
    pub max_file_size: Option<Spanned<u64>>,

    /// Refuse inline `promolint: ignore[…]` comments of PL006, PL007 and PL008 in protected
    /// environments: they silence nothing and are PL011 errors, so that a change cannot
    /// switch off its own promotion gate (default false; `--strict-suppressions` too).
    #[serde(default)]
    #[schemars(with = "bool", extend("default" = false))]
    pub strict_suppressions: Option<Spanned<bool>>,

    /// Per-rule settings, keyed by rule id (`PL009`) or name (`missing-digest`): a level
    /// (`off`, `note`, `warning`, `error`) or a mapping with `level` and `ignore`.
    #[serde(default)]
    #[schemars(with = "RawRules")]
    pub rules: Option<RawRules>,
}

/// One deployment environment (dev, staging, prod, …).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEnvironment {
    /// Unique name of the environment, used in `after` and in messages.
    #[schemars(with = "String", length(min = 1))]
    pub name: Option<Spanned<String>>,

    /// Globs (globset syntax: `*`, `**`, `?`, `[…]`, `{a,b}`) of the files that belong to
    /// this environment, relative to the repository root: `kubernetes/clusters/dev/**`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub paths: Option<Vec<Spanned<String>>>,

    /// Kubernetes namespaces whose resources belong to this environment.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub namespaces: Option<Vec<Spanned<String>>>,

    /// Regular expression every tag of this environment must match (PL002). A named group
    /// `(?P<version>…)` extracts the version that promotion compares across environments:
    /// `^develop-(?P<version>v\d+\.\d+\.\d+)-`.
    #[serde(default)]
    #[schemars(with = "String", extend("format" = "regex"))]
    pub tag_pattern: Option<Spanned<String>>,

    /// Whether this is a production-grade environment: mutable references are errors and
    /// versions must have run in its predecessors before the change.
    #[serde(default)]
    #[schemars(with = "bool", extend("default" = false))]
    pub protected: Option<Spanned<bool>>,

    /// Names of the environments a version must run in before it reaches this one. A
    /// tier's name (see `tier`) means any one of its members.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub after: Option<Vec<Spanned<String>>>,

    /// The tier this environment is a member of: regions or cells of one stage
    /// (`prod-eu`, `prod-asia` in tier `prod`). `after: [prod]` then asks for any member;
    /// members are ordered among themselves only by their own `after`.
    #[serde(default)]
    #[schemars(with = "String")]
    pub tier: Option<Spanned<String>>,
}

/// A naming scheme of versioned artifacts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawArtifact {
    /// Glob of the artifact files, relative to the repository root, with the placeholders
    /// `{series}` and `{version}`: `fabric-core/packer/**/{series}-v{version}.tar.gz`.
    #[schemars(with = "String")]
    pub pattern: Option<Spanned<String>>,
}

/// Settings of the components whose name matches `name`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    /// The component (`ghcr.io/acme/backend`, `lxc_rootfs_version`), or a glob of
    /// components (`ghcr.io/acme/*`). The first entry that matches decides.
    #[schemars(with = "String", length(min = 1))]
    pub name: Option<Spanned<String>>,

    /// Regular expression with a `(?P<version>…)` group: the part of a tag that is the
    /// version promotion compares across environments; the rest is build metadata.
    /// `^(?P<version>\d+\.\d+\.\d+)-build\d+$`. Tags it does not match keep the
    /// default reading (environment prefix, `+metadata`, a trailing commit id or
    /// timestamp stripped).
    #[serde(default)]
    #[schemars(with = "String", extend("format" = "regex"))]
    pub version_pattern: Option<Spanned<String>>,
}

/// Limits on promotion changes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPromotion {
    /// How many component versions one change may move into a protected environment
    /// (PL007 multi-version-promotion). Default 1.
    #[serde(default)]
    #[schemars(with = "u64", range(min = 1), extend("default" = 1))]
    pub max_versions_per_change: Option<Spanned<u64>>,

    /// Whether several components moved to the same version by one change count as one
    /// version (one release of several components) for `max_versions_per_change`.
    /// Default true.
    #[serde(default)]
    #[schemars(with = "bool", extend("default" = true))]
    pub release_version_groups: Option<Spanned<bool>>,
}

/// The `rules` mapping, in file order (keys keep their locations for errors; a map type
/// would lose both).
#[derive(Debug, Default)]
pub struct RawRules(pub Vec<(Spanned<String>, Spanned<RawRule>)>);

/// One rule's setting: `PL009: error` or `PL002: { level: warning, ignore: [...] }`.
#[derive(Debug, JsonSchema)]
#[schemars(untagged)]
pub enum RawRule {
    /// The rule's level.
    Level(#[schemars(with = "RawLevel")] String),
    /// The rule's level and the files where it does not report.
    Table(RawRuleTable),
    /// Anything else, described (`the number `3``): reported by `load` at the value, which
    /// a type error raised here would not be.
    #[schemars(skip)]
    Invalid(String),
}

/// A rule's settings as a mapping.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRuleTable {
    /// The level of the rule's findings, or `off`. Omitted: the rule's default.
    #[serde(default)]
    #[schemars(with = "RawLevel")]
    pub level: Option<Spanned<String>>,

    /// Globs of files (relative to the repository root) where the rule does not report:
    /// `legacy/**`.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub ignore: Option<Vec<Spanned<String>>>,
}

// Only for the schema: `load` reads levels as strings so that a bad one gets a message
// listing the valid ones.
/// A rule level.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[allow(dead_code)] // never built: only its schema is used
enum RawLevel {
    /// Disable the rule.
    Off,
    /// Report findings as notes (never fail the run unless `--fail-level note`).
    Note,
    /// Report findings as warnings.
    Warning,
    /// Report findings as errors.
    Error,
}

impl<'de> Deserialize<'de> for RawRules {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RulesVisitor;
        impl<'de> Visitor<'de> for RulesVisitor {
            type Value = RawRules;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of rule ids or names to settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawRules, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<RawRule>>()?;
                    entries.push((key, value));
                }
                Ok(RawRules(entries))
            }
        }
        deserializer.deserialize_map(RulesVisitor)
    }
}

impl<'de> Deserialize<'de> for RawRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Hand-written rather than `#[serde(untagged)]`: untagged buffers the value and
        // loses the locations of everything inside it.
        struct RuleVisitor;
        impl<'de> Visitor<'de> for RuleVisitor {
            type Value = RawRule;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a level (off, note, warning, error) or a mapping with `level` and `ignore`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRule, E> {
                Ok(RawRule::Level(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRule, A::Error> {
                RawRuleTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawRule::Table)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawRule, E> {
                Ok(RawRule::Invalid(format!("the boolean `{v}`")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawRule, E> {
                Ok(RawRule::Invalid(format!("the number `{v}`")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawRule, E> {
                Ok(RawRule::Invalid(format!("the number `{v}`")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawRule, E> {
                Ok(RawRule::Invalid(format!("the number `{v}`")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawRule, E> {
                Ok(RawRule::Invalid("nothing (null)".into()))
            }
            fn visit_none<E: de::Error>(self) -> Result<RawRule, E> {
                Ok(RawRule::Invalid("nothing (null)".into()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawRule, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(RawRule::Invalid("a list".into()))
            }
        }
        deserializer.deserialize_any(RuleVisitor)
    }
}

impl JsonSchema for RawRules {
    fn schema_name() -> Cow<'static, str> {
        "RawRules".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let rule = generator.subschema_for::<RawRule>();
        // Every rule id and name is a property, so editors complete them and show what
        // each rule does; anything else is rejected, as `load` does.
        let mut properties = serde_json::Map::new();
        let mut keys = Vec::new();
        for meta in crate::catalogue::all() {
            for key in [meta.id, meta.name] {
                let mut schema = rule.clone();
                schema.insert(
                    "description".into(),
                    format!("{} {}: {}", meta.id, meta.name, meta.summary).into(),
                );
                properties.insert(key.to_string(), schema.to_value());
                keys.push(key);
            }
        }
        json_schema!({
            "type": "object",
            "description": "Per-rule settings. Keys are rule ids (`PL009`) or names (`missing-digest`); `promolint rules` lists them. Values are a level (`off`, `note`, `warning`, `error`) or a mapping with `level` and `ignore`.",
            "propertyNames": {
                "description": "A rule id (`PL001`) or name (`mutable-reference`).",
                "enum": keys,
            },
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

/// The JSON Schema (draft 2020-12) of `.promolint.yaml`, pretty-printed.
pub fn schema_json() -> String {
    let mut schema = schemars::schema_for!(RawConfig);
    if let Some(map) = schema.as_object_mut() {
        map.values_mut().for_each(drop_null_defaults);
    }
    // Serializing JSON values cannot fail; fall back to the compact form rather than
    // panic if it ever did.
    serde_json::to_string_pretty(&schema).unwrap_or_else(|_| schema.as_value().to_string())
}

/// schemars writes `"default": null` for fields whose Rust default is `None`; it is no
/// valid value of those fields, so it goes.
fn drop_null_defaults(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("default").is_some_and(serde_json::Value::is_null) {
                map.remove("default");
            }
            map.values_mut().for_each(drop_null_defaults);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_null_defaults),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn schema() -> Value {
        serde_json::from_str(&schema_json()).expect("schema is JSON")
    }

    /// Every object schema in `v`, with its JSON pointer.
    fn objects<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        match v {
            Value::Object(map) => {
                if map.get("type") == Some(&Value::from("object")) {
                    out.push((at.clone(), v));
                }
                for (k, child) in map {
                    objects(child, format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    objects(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn is_draft_2020_12_with_every_top_level_field() {
        let s = schema();
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
        let props = s["properties"].as_object().expect("properties");
        let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "artifacts",
                "components",
                "environments",
                "max_file_size",
                "mutable_tags",
                "promotion",
                "rules",
                "strict_suppressions"
            ]
        );
        for (k, v) in props {
            assert!(v["description"].is_string(), "{k} has no description");
        }
    }

    #[test]
    fn every_object_rejects_unknown_properties_and_every_field_is_described() {
        let s = schema();
        let mut found = Vec::new();
        objects(&s, String::new(), &mut found);
        assert!(found.len() >= 6, "{found:?}");
        for (at, obj) in found {
            assert_eq!(obj["additionalProperties"], false, "{at}");
            if let Some(props) = obj["properties"].as_object() {
                for (k, v) in props {
                    let described = v["description"].is_string()
                        || v["$ref"].is_string() && v.get("description").is_some();
                    assert!(described, "{at}/properties/{k} has no description");
                }
            }
        }
    }

    #[test]
    fn describes_levels_names_and_rule_keys() {
        let s = schema();
        let env = &s["$defs"]["RawEnvironment"];
        assert_eq!(env["required"], serde_json::json!(["name"]));
        assert_eq!(env["properties"]["protected"]["default"], false);
        assert_eq!(
            s["$defs"]["RawArtifact"]["required"],
            serde_json::json!(["pattern"])
        );
        assert_eq!(s["properties"]["max_file_size"]["default"], 4194304);
        assert_eq!(s["properties"]["max_file_size"]["maximum"], 67108864);
        let text = s.to_string();
        assert!(!text.contains("\"default\":null"), "{text}");
        for level in LEVELS {
            assert!(text.contains(&format!("\"const\":\"{level}\"")), "{level}");
        }
        let rules = &s["$defs"]["RawRules"];
        let keys = rules["propertyNames"]["enum"].as_array().expect("enum");
        assert!(keys.contains(&Value::from("PL009")));
        assert!(keys.contains(&Value::from("mutable-reference")));
        assert!(rules["properties"]["PL001"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("mutable-reference")));
    }
}
