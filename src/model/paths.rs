//! Repository paths (relative, `/`-separated): joining an entry to a directory, and whether a
//! path lies inside a directory (by whole segments: `apps2/x` is not inside `apps`).

/// The path below `dir` that `path` names, when `path` is strictly inside `dir`
/// (`apps/web/x.yaml` in `apps` → `web/x.yaml`).
pub fn relative_inside<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    path.strip_prefix(dir)?.strip_prefix('/')
}

/// Whether `path` is strictly inside directory `dir`.
pub fn is_inside(path: &str, dir: &str) -> bool {
    relative_inside(path, dir).is_some()
}

/// Whether `path` is `dir` itself or inside it; every path is in the root (`""`).
pub fn is_at_or_inside(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || is_inside(path, dir)
}

/// Normalise `dir/entry` (repository-relative, `/`-separated), resolving `.` and `..`;
/// `None` if it leaves the repository. The repository root is the empty path.
pub fn join_normalized(dir: &str, entry: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in entry.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_is_by_whole_segments() {
        assert_eq!(
            relative_inside("apps/web/x.yaml", "apps"),
            Some("web/x.yaml")
        );
        assert!(!is_inside("apps2/x.yaml", "apps") && !is_inside("apps", "apps"));
        assert!(is_at_or_inside("apps", "apps") && is_at_or_inside("x", ""));
    }
}
