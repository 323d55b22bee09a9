//! PL000 unreadable-file: a file promolint should read but could not.
//!
//! What such a file holds is unknown, so it fails closed where that matters: an error in a
//! protected environment (a prod manifest padded past the size limit must not pass with its
//! `:latest` unseen), a warning in any other environment, a note outside every environment
//! (Helm chart templates and other files no rule judges by where they live).
use super::Finding;
use crate::config::Config;
use crate::model::{Level, LineIndex, Span};
use crate::snapshot::Snapshot;

pub const ID: &str = "PL000";

rule!(
    /// The rule.
    UnreadableFile: tree
);

pub fn check(snap: &Snapshot, _config: &Config, out: &mut Vec<Finding>) {
    for (fi, f) in snap.files.iter().enumerate() {
        let Some(reason) = &f.unreadable else {
            continue;
        };
        let (line, column) = position_in(reason).unwrap_or((1, 1));
        // Reporters quote the text at the span's bytes when the snapshot kept the text (a
        // file with suppression comments): the bytes must be those of the line and column.
        let span = match &f.text {
            Some(text) => {
                let index = LineIndex::new(text);
                let at = offset_of(text, &index, line, column).unwrap_or(text.len());
                index.span(text, at..at)
            }
            None => Span {
                line,
                column,
                end_line: line,
                end_column: column,
                ..Span::default()
            },
        };
        let envs = snap.unreadable_envs(fi);
        let protected = envs.iter().copied().find(|&e| snap.envs.get(e).protected);
        let (level, message, environment) = match protected {
            Some(e) => {
                let name = &snap.envs.get(e).name;
                (
                    Level::Error,
                    format!(
                        "file skipped: {reason}; {name} is protected, so a file promolint cannot read fails the check: {}",
                        remedy(reason)
                    ),
                    Some(e),
                )
            }
            None => (
                if envs.is_empty() {
                    Level::Note
                } else {
                    Level::Warning
                },
                format!("file skipped: {reason}"),
                snap.envs.for_path(&f.path).or(envs.first().copied()),
            ),
        };
        out.push(
            Finding::builder(ID, f.path.clone(), span)
                .level(level)
                .message(message)
                .env(environment.map(|e| snap.envs.get(e).name.as_str()))
                .value(reason.clone())
                .help(help_case(reason))
                .build(),
        );
    }
}

/// The paragraph of the page's `How to fix` for the reason a file was skipped.
fn help_case(reason: &str) -> &'static str {
    if reason.contains("over the size limit") {
        "Too large"
    } else if reason.contains("git fsck") {
        "Repository"
    } else if reason == "symlink not followed" {
        "Symlink"
    } else if reason == crate::source::worktree::NOT_UTF8
        || reason.starts_with("binary file")
        || reason.starts_with("not valid UTF-8")
    {
        "Not text"
    } else {
        "Unparsable"
    }
}

/// What to do about a file a protected environment cannot do without, by its reason.
fn remedy(reason: &str) -> &'static str {
    if reason.contains("over the size limit") {
        "split it into smaller files, or raise the limit for this run with `--max-file-size BYTES`"
    } else if reason.contains("git fsck") {
        "repair the repository as the reason says; until then the file cannot be judged"
    } else if reason == "symlink not followed" {
        "commit the file itself, not a symlink to it"
    } else if reason == crate::source::worktree::NOT_UTF8 {
        "rename it to a UTF-8 name"
    } else if reason.starts_with("binary file") || reason.starts_with("not valid UTF-8") {
        "save it as UTF-8 text, or keep files that are not manifests out of the environment's paths"
    } else {
        "make it readable (the reason says where it stops), or keep files that are not manifests out of the environment's paths"
    }
}

/// The byte offset of 1-based `line` and `column` (in characters), kept within the line.
fn offset_of(text: &str, index: &LineIndex, line: u32, column: u32) -> Option<usize> {
    let start = index.line_start(line)?;
    let rest = &text[start..];
    let len = rest.find('\n').unwrap_or(rest.len());
    let within = rest[..len]
        .char_indices()
        .map(|(i, _)| i)
        .chain([len])
        .nth(column.saturating_sub(1) as usize)
        .unwrap_or(len);
    Some(start + within)
}

/// The `line L column C` a parser named in its reason, so the note points where it stopped.
fn position_in(reason: &str) -> Option<(u32, u32)> {
    let at = reason.find("line ")?;
    let mut words = reason[at..].split_whitespace();
    let line = words
        .nth(1)?
        .trim_end_matches([',', ':', ')'])
        .parse()
        .ok()?;
    let column = match (words.next(), words.next()) {
        (Some("column"), Some(c)) => c.trim_end_matches([',', ':', ')']).parse().ok()?,
        _ => 1,
    };
    (line > 0 && column > 0).then_some((line, column))
}

#[cfg(test)]
mod tests {
    use super::{check, position_in, remedy};
    use crate::config::Config;
    use crate::model::Level;

    /// (path, level, environment) of each PL000 finding in `files`.
    fn levels(files: &[(&str, &[u8])]) -> Vec<(String, Level, Option<String>)> {
        let config = Config::default();
        let snap =
            crate::pipeline::snapshot_from_bytes(files, &config).unwrap_or_else(|e| panic!("{e}"));
        let mut out = Vec::new();
        check(&snap, &config, &mut out);
        crate::pipeline::sort_findings(&mut out);
        out.into_iter()
            .map(|f| (f.path, f.level, f.environment))
            .collect()
    }

    #[test]
    fn the_level_follows_where_the_file_belongs() {
        let binary: &[u8] = b"\0image: x";
        let overlay: &[u8] = b"resources:\n  - ../../base\n";
        let base: &[u8] = b"resources:\n  - deployment.yaml\n";
        let found = levels(&[
            ("apps/base/kustomization.yaml", base),
            ("apps/base/deployment.yaml", binary),
            ("apps/overlays/dev/kustomization.yaml", overlay),
            ("apps/overlays/prod/kustomization.yaml", overlay),
            ("charts/app/templates/x.yaml", binary),
            ("clusters/dev/x.yaml", binary),
            ("clusters/prod/x.yaml", binary),
        ]);
        let at = |path: &str, level, env: Option<&str>| {
            (path.to_string(), level, env.map(str::to_string))
        };
        assert_eq!(
            found,
            [
                // A base prod's overlay includes: prod's, through the include.
                at("apps/base/deployment.yaml", Level::Error, Some("prod")),
                at("charts/app/templates/x.yaml", Level::Note, None),
                at("clusters/dev/x.yaml", Level::Warning, Some("dev")),
                at("clusters/prod/x.yaml", Level::Error, Some("prod")),
            ]
        );
    }

    #[test]
    fn every_reason_has_its_remedy() {
        let size = crate::extract::over_size_limit(5, 4);
        assert!(remedy(&size).contains("--max-file-size"));
        assert!(remedy("symlink not followed").contains("not a symlink"));
        assert!(remedy(crate::source::worktree::NOT_UTF8).contains("UTF-8 name"));
        for text in [&b"a\0b"[..], b"caf\xe9"] {
            let reason = crate::extract::decode(text).map(|_| ()).unwrap_err();
            assert!(
                remedy(&reason).contains("save it as UTF-8 text"),
                "{reason}"
            );
        }
        assert!(remedy("malformed YAML at line 1 column 2: x").contains("make it readable"));
    }

    #[test]
    fn reads_the_parsers_position() {
        assert_eq!(
            position_in("malformed YAML at line 6 column 14: mapping values"),
            Some((6, 14))
        );
        assert_eq!(
            position_in("unterminated quoted value starting at line 3 column 1"),
            Some((3, 1))
        );
        assert_eq!(position_in("binary file (contains NUL bytes)"), None);
    }
}
