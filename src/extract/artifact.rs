//! Artifacts named by file paths (`…-v6.tar.gz`) and versioned directories (`…/v1/…`).
use crate::model::Artifact;
use regex::Regex;
use std::collections::BTreeMap;
use std::ops::Range;

/// Image and archive extensions that make `<series>-v<N><ext>` an artifact (DESIGN §2).
/// Multi-part extensions come first so that `.tar.gz` is not read as `.gz`.
const EXTENSIONS: [&str; 11] = [
    ".tar.gz", ".tar.xz", ".tar.zst", ".tgz", ".tar", ".qcow2", ".img", ".raw", ".iso", ".box",
    ".ova",
];

/// Path segments under which `…/<series>/v<N>/…` is a versioned directory.
const DIR_ROOTS: [&str; 3] = ["images", "packer", "templates"];

/// Artifacts among `paths` (relative, `/`-separated). `patterns` are the config's
/// `artifacts[].pattern` globs with `{series}` and `{version}` placeholders; when empty
/// the zero-config rules of DESIGN §2 apply.
pub fn from_paths(paths: &[String], patterns: &[String]) -> Vec<Artifact> {
    // Keyed by (path, is_dir) so that many files under one versioned directory make one
    // artifact, and the output order is the path order whatever the input order.
    let mut found: BTreeMap<(String, bool), Artifact> = BTreeMap::new();
    let mut add = |a: Artifact| {
        found.entry((a.path.clone(), a.is_dir)).or_insert(a);
    };
    if patterns.is_empty() {
        for path in paths {
            zero_config(path, &mut add);
        }
    } else {
        // Compile once; a pattern that cannot be compiled matches nothing (config
        // validation reports it, extraction must not fail).
        let compiled: Vec<Regex> = patterns.iter().filter_map(|p| glob_to_regex(p)).collect();
        for path in paths {
            if let Some(a) = compiled.iter().find_map(|re| match_pattern(re, path)) {
                add(a);
            }
        }
    }
    found.into_values().collect()
}

/// `ubuntu-24.04-lxc-rootfs-v6.tar.gz` → `("ubuntu-24.04-lxc-rootfs", 6)`. A path is
/// accepted too (only its last segment is read). `None` unless the name has an artifact
/// extension and ends in `-v<N>` before it.
pub fn parse_artifact_name(file_name: &str) -> Option<(String, u64)> {
    let name = file_name.rsplit('/').next().unwrap_or(file_name);
    let ext = artifact_extension(name)?;
    let stem = &name[..name.len() - ext.len()];
    let (series, version, _) = split_versioned_name(stem)?;
    Some((series.to_string(), version))
}

/// The artifact extension `file_name` ends with (ASCII case-insensitive), if any.
pub fn artifact_extension(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_ascii_lowercase();
    EXTENSIONS
        .iter()
        .find(|ext| lower.len() > ext.len() && lower.ends_with(*ext))
        .copied()
}

/// `<series>-v<N>` (no extension) → (series, N, byte range of `v<N>` in `name`).
/// Used for file stems and for Packer recipe names such as `artifact_basename`.
pub fn split_versioned_name(name: &str) -> Option<(&str, u64, Range<usize>)> {
    let at = name.rfind("-v")?;
    let digits = &name[at + 2..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let series = &name[..at];
    if series.is_empty() || series.contains('/') {
        return None;
    }
    // Overflowing numbers are no version anyone can bump.
    let version = digits.parse::<u64>().ok()?;
    Some((series, version, at + 1..name.len()))
}

/// `v<digits>` as a whole path segment → the number.
fn version_segment(segment: &str) -> Option<u64> {
    let digits = segment.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn zero_config(path: &str, add: &mut impl FnMut(Artifact)) {
    let segments: Vec<&str> = path.split('/').collect();
    if let Some((series, version)) = segments.last().and_then(|f| parse_artifact_name(f)) {
        add(Artifact {
            series,
            version,
            path: path.to_string(),
            is_dir: false,
        });
    }
    // The last segment is the file itself; a versioned directory must contain it.
    for i in 2..segments.len().saturating_sub(1) {
        let Some(version) = version_segment(segments[i]) else {
            continue;
        };
        let series = segments[i - 1];
        let under_root = segments[..i - 1]
            .iter()
            .any(|s| DIR_ROOTS.iter().any(|r| s.eq_ignore_ascii_case(r)));
        if series.is_empty() || !under_root {
            continue;
        }
        add(Artifact {
            series: series.to_string(),
            version,
            path: segments[..=i].join("/"),
            is_dir: true,
        });
    }
}

/// Compile a config glob to an anchored regex: `**` any path (including none), `*` and
/// `?` within a segment, `{series}` a non-empty name without `/`, `{version}` digits,
/// `{a,b}` alternatives; everything else literal.
fn glob_to_regex(pattern: &str) -> Option<Regex> {
    let pattern = pattern.trim_start_matches("./").trim_start_matches('/');
    let mut re = String::from("^");
    let (mut seen_series, mut seen_version) = (false, false);
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**/") {
            re.push_str("(?:.*/)?");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("**") {
            re.push_str(".*");
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{series}") {
            // The regex crate has no back-references: only the first occurrence captures.
            re.push_str(if seen_series {
                "[^/]+"
            } else {
                "(?P<series>[^/]+)"
            });
            seen_series = true;
            rest = after;
        } else if let Some(after) = rest.strip_prefix("{version}") {
            re.push_str(if seen_version {
                "[0-9]+"
            } else {
                "(?P<version>[0-9]+)"
            });
            seen_version = true;
            rest = after;
        } else if c == '{' {
            match rest.find('}') {
                Some(end) => {
                    let alts: Vec<String> = rest[1..end].split(',').map(regex::escape).collect();
                    re.push_str(&format!("(?:{})", alts.join("|")));
                    rest = &rest[end + 1..];
                }
                None => {
                    re.push_str(r"\{");
                    rest = &rest[1..];
                }
            }
        } else {
            match c {
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                _ => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    re.push('$');
    Regex::new(&re).ok()
}

/// The artifact `path` is under a compiled pattern, if it matches.
fn match_pattern(re: &Regex, path: &str) -> Option<Artifact> {
    let caps = re.captures(path)?;
    let Some(v) = caps.name("version") else {
        // No `{version}` in the pattern: the file name must carry it.
        let (series, version) = parse_artifact_name(path)?;
        let series = caps
            .name("series")
            .map_or(series, |m| m.as_str().to_string());
        return Some(Artifact {
            series,
            version,
            path: path.to_string(),
            is_dir: false,
        });
    };
    let version = v.as_str().parse::<u64>().ok()?;
    // A version in a directory segment (`images/{series}/v{version}/**`) names the
    // directory, not each file in it.
    let seg_start = path[..v.start()].rfind('/').map_or(0, |i| i + 1);
    let (artifact_path, is_dir) = match path[v.end()..].find('/') {
        Some(i) => (&path[..v.end() + i], true),
        None => (path, false),
    };
    let series = match caps.name("series") {
        Some(m) => m.as_str().to_string(),
        None => {
            // `foo-v{version}.img` → `foo`; `ubuntu/v{version}/` → the segment before.
            let prefix = path[seg_start..v.start()]
                .trim_end_matches('v')
                .trim_end_matches(['-', '_', '.']);
            if prefix.is_empty() {
                let before = path[..seg_start].trim_end_matches('/');
                before.rsplit('/').next().unwrap_or(before).to_string()
            } else {
                prefix.to_string()
            }
        }
    };
    if series.is_empty() {
        return None;
    }
    Some(Artifact {
        series,
        version,
        path: artifact_path.to_string(),
        is_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn art(series: &str, version: u64, path: &str, is_dir: bool) -> Artifact {
        Artifact {
            series: series.to_string(),
            version,
            path: path.to_string(),
            is_dir,
        }
    }

    #[test]
    fn parses_artifact_names() {
        assert_eq!(
            parse_artifact_name("ubuntu-24.04-lxc-rootfs-v6.tar.gz"),
            Some(("ubuntu-24.04-lxc-rootfs".to_string(), 6))
        );
        assert_eq!(
            parse_artifact_name(
                "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v12.tar.zst"
            ),
            Some(("ubuntu-24.04-lxc-rootfs".to_string(), 12))
        );
        assert_eq!(
            parse_artifact_name("debian-12-v3.QCOW2"),
            Some(("debian-12".to_string(), 3))
        );
        for (name, series, v) in [
            ("a-v1.tar.xz", "a", 1),
            ("a-v1.tgz", "a", 1),
            ("a-v1.tar", "a", 1),
            ("a-v1.img", "a", 1),
            ("a-v1.raw", "a", 1),
            ("a-v1.iso", "a", 1),
            ("a-v1.box", "a", 1),
            ("a-v1.ova", "a", 1),
            ("x-v2-v007.img", "x-v2", 7),
        ] {
            assert_eq!(
                parse_artifact_name(name),
                Some((series.to_string(), v)),
                "{name}"
            );
        }
        for bad in [
            "ubuntu-24.04-lxc-rootfs-latest.tar.gz",
            "ubuntu-v6.zip",
            "ubuntu-v6",
            "-v6.tar.gz",
            "ubuntu-v.tar.gz",
            "ubuntu-v1.2.tar.gz",
            "ubuntu-V6.tar.gz",
            "ubuntu-v99999999999999999999999.tar.gz",
            ".tar.gz",
            "",
        ] {
            assert_eq!(parse_artifact_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn splits_versioned_names_with_the_version_range() {
        let name = "ubuntu-24.04-lxc-rootfs-v6";
        let (series, v, r) = split_versioned_name(name).unwrap();
        assert_eq!((series, v), ("ubuntu-24.04-lxc-rootfs", 6));
        assert_eq!(&name[r], "v6");
        assert_eq!(split_versioned_name("no-version"), None);
    }

    #[test]
    fn zero_config_files_and_versioned_dirs() {
        let input = paths(&[
            "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz",
            "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz",
            "fabric-core/packer/lxc/ubuntu-24.04/build.pkr.hcl",
            "images/packer/ubuntu-24.04/v1/template.json",
            "images/packer/ubuntu-24.04/v1/scripts/setup.sh",
            "images/packer/ubuntu-24.04/v2/template.json",
            // Not under images/packer/templates: no versioned directory.
            "api/v1/openapi.yaml",
            // The series segment itself is no root: `packer/v1` has no series before it.
            "packer/v1/x.json",
            // `v3` is the file, not a directory.
            "templates/ubuntu/v3",
            "README.md",
        ]);
        assert_eq!(
            from_paths(&input, &[]),
            vec![
                art(
                    "ubuntu-24.04-lxc-rootfs",
                    5,
                    "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v5.tar.gz",
                    false
                ),
                art(
                    "ubuntu-24.04-lxc-rootfs",
                    6,
                    "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz",
                    false
                ),
                art("ubuntu-24.04", 1, "images/packer/ubuntu-24.04/v1", true),
                art("ubuntu-24.04", 2, "images/packer/ubuntu-24.04/v2", true),
            ]
        );
    }

    #[test]
    fn output_is_sorted_and_deterministic() {
        let a = paths(&[
            "z/b-v2.img",
            "a/c-v1.iso",
            "templates/x/v1/a",
            "templates/x/v1/b",
        ]);
        let mut b = a.clone();
        b.reverse();
        let out = from_paths(&a, &[]);
        assert_eq!(out, from_paths(&b, &[]));
        let got: Vec<&str> = out.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(got, ["a/c-v1.iso", "templates/x/v1", "z/b-v2.img"]);
    }

    #[test]
    fn patterns_select_only_matching_files() {
        let input = paths(&[
            "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz",
            "fabric-core/packer/ubuntu-24.04-lxc-rootfs-v4.tar.gz",
            // Zero-config would take these; the pattern does not.
            "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v7.qcow2",
            "other/ubuntu-24.04-lxc-rootfs-v8.tar.gz",
            "images/packer/ubuntu-24.04/v1/template.json",
        ]);
        let patterns = paths(&["fabric-core/packer/**/{series}-v{version}.tar.gz"]);
        assert_eq!(
            from_paths(&input, &patterns),
            vec![
                art(
                    "ubuntu-24.04-lxc-rootfs",
                    6,
                    "fabric-core/packer/lxc/ubuntu-24.04/ubuntu-24.04-lxc-rootfs-v6.tar.gz",
                    false
                ),
                art(
                    "ubuntu-24.04-lxc-rootfs",
                    4,
                    "fabric-core/packer/ubuntu-24.04-lxc-rootfs-v4.tar.gz",
                    false
                ),
            ]
        );
    }

    #[test]
    fn patterns_with_versioned_dirs_wildcards_and_alternatives() {
        let input = paths(&[
            "images/ubuntu/v1/a.json",
            "images/ubuntu/v1/b/c.sh",
            "images/ubuntu/v2/a.json",
            "images/ubuntu/latest/a.json",
            "out/debian-12-v3.raw",
            "out/debian-12-v3.txt",
            "out/sub/debian-12-v4.raw",
        ]);
        let patterns = paths(&[
            "images/{series}/v{version}/**",
            "./out/*-v{version}.{raw,img}",
            "not-a-valid-{series",
        ]);
        assert_eq!(
            from_paths(&input, &patterns),
            vec![
                art("ubuntu", 1, "images/ubuntu/v1", true),
                art("ubuntu", 2, "images/ubuntu/v2", true),
                art("debian-12", 3, "out/debian-12-v3.raw", false),
            ]
        );
        // A pattern without `{version}` relies on the file name.
        let p = paths(&["out/**/*.raw"]);
        assert_eq!(
            from_paths(&input, &p),
            vec![
                art("debian-12", 3, "out/debian-12-v3.raw", false),
                art("debian-12", 4, "out/sub/debian-12-v4.raw", false),
            ]
        );
    }

    #[test]
    fn odd_paths_do_not_panic() {
        let input = paths(&[
            "",
            "/",
            "v1",
            "images//v1/x",
            "images/x/v1/",
            "images/x/v99999999999999999999999/y",
            "é/images/ü/v2/ö-v3.img",
        ]);
        let out = from_paths(&input, &[]);
        let got: Vec<(&str, u64, &str)> = out
            .iter()
            .map(|a| (a.series.as_str(), a.version, a.path.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("x", 1, "images/x/v1"),
                ("ü", 2, "é/images/ü/v2"),
                ("ö", 3, "é/images/ü/v2/ö-v3.img"),
            ]
        );
        let patterns = paths(&[
            "{version}",
            "**",
            "{series}/{version}/**",
            "é/*/*/{series}-v{version}.img",
        ]);
        let _ = from_paths(&input, &patterns);
    }

    #[test]
    fn glob_compilation() {
        let re = glob_to_regex("a/*/b?.{series}-{version}").unwrap();
        assert!(re.is_match("a/x/b1.s-1"));
        assert!(!re.is_match("a/x/y/b1.s-1"));
        assert!(!re.is_match("a/x/b1.s-x"));
        // Literal regex metacharacters stay literal; placeholders repeated still compile.
        let re = glob_to_regex("(x)+/{series}/{series}-v{version}/{version}").unwrap();
        assert!(re.is_match("(x)+/s/s-v1/2"));
        assert!(!re.is_match("xx/s/s-v1/2"));
        let re = glob_to_regex("**/{series}-v{version}.img").unwrap();
        assert!(re.is_match("s-v1.img"));
        assert!(re.is_match("a/b/s-v1.img"));
    }
}
