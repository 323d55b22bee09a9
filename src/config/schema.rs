//! The JSON Schema of `.promolint.yaml` (`promolint schema`).

/// The schema as pretty-printed JSON.
pub fn schema_json() -> String {
    "{}".to_string()
}
