//! `--baseline FILE`: silence the findings a previous report already listed.
//!
//! The file is a previous `--format json` or `--format sarif` output of promolint (which
//! one is detected from its content). Findings are matched by their logical fingerprint
//! (rule, environment, component, file, value — no line numbers, so edits above a finding
//! keep it silenced), and by count: a baseline that held a fingerprint once silences one
//! finding with it, never a second, new one. Anything else — unreadable, not JSON, another
//! tool's SARIF, a report without fingerprints — is refused (exit 2) rather than silently
//! silencing nothing.

use super::{fingerprint, sarif};
use crate::error::Error;
use crate::model::Finding;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Larger than any report promolint writes for a real repository; a bigger file is refused
/// rather than read into memory.
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Which output a baseline was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Json,
    Sarif,
}

/// The fingerprints of a previous report, with how often each occurred.
#[derive(Clone, Debug)]
pub struct Baseline {
    pub path: PathBuf,
    /// The format it was read from (only the tests ask).
    #[cfg_attr(not(test), allow(dead_code))]
    pub kind: Kind,
    counts: HashMap<String, usize>,
}

fn refuse(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Usage {
        message: format!("cannot use baseline `{}`: {why}", path.display()),
        help: Some(
            "a baseline is a report promolint wrote earlier: \
             `promolint … --format json > baseline.json` (or --format sarif)"
                .to_string(),
        ),
    }
}

fn valid_fingerprint(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Baseline {
    /// Read and recognise a baseline file.
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let meta = std::fs::metadata(path).map_err(|e| refuse(path, e))?;
        if !meta.is_file() {
            return Err(refuse(path, "not a file"));
        }
        if meta.len() > MAX_BYTES {
            return Err(refuse(path, "larger than 512 MiB"));
        }
        let bytes = std::fs::read(path).map_err(|e| refuse(path, e))?;
        Self::parse(path, &bytes)
    }

    /// Recognise a baseline from its bytes (`path` names it in errors).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Baseline, Error> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| refuse(path, format!("not valid JSON ({e})")))?;
        let (kind, fingerprints) = if doc.get("runs").is_some() {
            (
                Kind::Sarif,
                sarif_fingerprints(&doc).map_err(|w| refuse(path, w))?,
            )
        } else if doc.get("findings").is_some() {
            (
                Kind::Json,
                json_fingerprints(&doc).map_err(|w| refuse(path, w))?,
            )
        } else {
            return Err(refuse(
                path,
                "not a promolint report (neither its JSON nor its SARIF output)",
            ));
        };
        let mut counts = HashMap::new();
        for fp in fingerprints {
            *counts.entry(fp).or_insert(0) += 1;
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            kind,
            counts,
        })
    }

    /// Number of findings the baseline lists.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.counts.values().sum()
    }

    /// Drop the findings the baseline holds (in order, each listed occurrence silencing
    /// one finding); returns how many were silenced.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> usize {
        let mut left = self.counts.clone();
        let before = findings.len();
        findings.retain(|f| match left.get_mut(&fingerprint(f)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
        before - findings.len()
    }
}

/// `findings[].fingerprint` of a version-1 JSON report written by promolint.
fn json_fingerprints(doc: &Value) -> Result<Vec<String>, String> {
    let tool = doc.pointer("/tool/name").and_then(Value::as_str);
    if tool != Some("promolint") {
        return Err(
            "a JSON report, but not one promolint wrote (`tool.name` is not \"promolint\")".into(),
        );
    }
    match doc.get("version").and_then(Value::as_u64) {
        Some(1) => {}
        Some(v) => {
            return Err(format!(
                "JSON report version {v}; this promolint reads version 1"
            ))
        }
        None => return Err("a JSON report without a `version`".into()),
    }
    let findings = doc
        .get("findings")
        .and_then(Value::as_array)
        .ok_or("`findings` is not a list")?;
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.get("fingerprint")
                .and_then(Value::as_str)
                .filter(|s| valid_fingerprint(s))
                .map(str::to_string)
                .ok_or_else(|| format!("finding {} has no valid `fingerprint`", i + 1))
        })
        .collect()
}

/// `partialFingerprints["promolint/v1"]` of every result of a SARIF log promolint wrote.
fn sarif_fingerprints(doc: &Value) -> Result<Vec<String>, String> {
    if doc.get("version").and_then(Value::as_str) != Some("2.1.0") {
        return Err("not a SARIF 2.1.0 log".into());
    }
    let runs = doc
        .get("runs")
        .and_then(Value::as_array)
        .ok_or("`runs` is not a list")?;
    let mut out = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        let tool = run.pointer("/tool/driver/name").and_then(Value::as_str);
        if tool != Some("promolint") {
            return Err(format!(
                "a SARIF log, but run {} was written by {}, not promolint",
                r + 1,
                tool.map(|t| format!("`{t}`"))
                    .unwrap_or_else(|| "an unnamed tool".into())
            ));
        }
        let results = match run.get("results") {
            None | Some(Value::Null) => continue,
            Some(v) => v.as_array().ok_or("`results` is not a list")?,
        };
        for (i, result) in results.iter().enumerate() {
            let fp = result
                .get("partialFingerprints")
                .and_then(|p| p.get(sarif::FINGERPRINT_KEY))
                .and_then(Value::as_str)
                .filter(|s| valid_fingerprint(s))
                .ok_or_else(|| {
                    format!(
                        "result {} has no valid partialFingerprints.\"{}\"",
                        i + 1,
                        sarif::FINGERPRINT_KEY
                    )
                })?;
            out.push(fp.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Baseline, String> {
        Baseline::parse(Path::new("b.json"), text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn recognises_json_and_sarif() {
        let fp = "0123456789abcdef0123456789abcdef";
        let json = format!(
            r#"{{"version":1,"tool":{{"name":"promolint"}},"findings":[{{"fingerprint":"{fp}"}},{{"fingerprint":"{fp}"}}]}}"#
        );
        let b = parse(&json).expect("json baseline");
        assert_eq!((b.kind, b.len()), (Kind::Json, 2));
        let sarif = format!(
            r#"{{"version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"promolint"}}}},"results":[{{"partialFingerprints":{{"promolint/v1":"{fp}"}}}}]}}]}}"#
        );
        let b = parse(&sarif).expect("sarif baseline");
        assert_eq!((b.kind, b.len()), (Kind::Sarif, 1));
    }

    #[test]
    fn refuses_what_is_not_ours() {
        for (text, why) in [
            ("", "not valid JSON"),
            ("{\"findings\": [", "not valid JSON"),
            ("[]", "not a promolint report"),
            (
                r#"{"version":1,"tool":{"name":"other"},"findings":[]}"#,
                "not one promolint wrote",
            ),
            (
                r#"{"version":2,"tool":{"name":"promolint"},"findings":[]}"#,
                "version 2",
            ),
            (
                r#"{"version":1,"tool":{"name":"promolint"},"findings":[{"fingerprint":"x"}]}"#,
                "finding 1 has no valid",
            ),
            (
                r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"zizmor"}},"results":[]}]}"#,
                "written by `zizmor`",
            ),
            (
                r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"promolint"}},"results":[{}]}]}"#,
                "result 1 has no valid",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(
                err.contains("baseline `b.json`") && err.contains(why),
                "{text}: {err}"
            );
        }
    }
}
