use super::*;
use std::sync::atomic::AtomicUsize;

/// A fresh directory holding `files`, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new(files: &[(&str, &str)]) -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "promolint-edit-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(p, text).expect("write");
        }
        Dir(dir)
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.0.join(path)).expect("read")
    }

    /// Every entry of the directory, temporary files included.
    fn entries(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.0.join(sub))
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn edit(path: &str, range: Range<usize>, replacement: &str) -> Edit {
    Edit {
        path: path.to_string(),
        range,
        replacement: replacement.to_string(),
    }
}

#[test]
fn apply_sorts_edits_and_keeps_every_other_byte() {
    let text = "a: \"v1\" # keep\r\nb: 'v2'\r\n";
    let (e1, e2) = (edit("f", 4..6, "v10"), edit("f", 20..22, "v20"));
    assert_eq!(
        apply(text, &[&e2, &e1]).expect("apply"),
        "a: \"v10\" # keep\r\nb: 'v20'\r\n"
    );
    // The same edit twice is one edit.
    assert_eq!(
        apply(text, &[&e1, &e1]).expect("apply"),
        "a: \"v10\" # keep\r\nb: 'v2'\r\n"
    );
    assert_eq!(apply(text, &[]).expect("apply"), text);
}

#[test]
fn apply_refuses_overlaps_bounds_and_split_characters() {
    let text = "tag: vé1\n";
    let overlapping = [edit("f", 5..8, "x"), edit("f", 6..9, "y")];
    assert!(matches!(
        apply(text, &[&overlapping[0], &overlapping[1]]),
        Err(EditError::Overlap { .. })
    ));
    // Two insertions at one offset have no order.
    let inserts = [edit("f", 5..5, "x"), edit("f", 5..5, "y")];
    assert!(matches!(
        apply(text, &[&inserts[0], &inserts[1]]),
        Err(EditError::Overlap { .. })
    ));
    // Adjacent edits are fine.
    let adjacent = [edit("f", 5..6, "w"), edit("f", 6..8, "e")];
    assert_eq!(
        apply(text, &[&adjacent[1], &adjacent[0]]).expect("apply"),
        "tag: we1\n"
    );
    let past = edit("f", 5..100, "x");
    assert!(matches!(
        apply(text, &[&past]),
        Err(EditError::OutOfBounds { len: 10, .. })
    ));
    // `é` is bytes 6..8: 7 is inside it.
    let split = edit("f", 7..8, "x");
    let err = apply(text, &[&split]).expect_err("split");
    assert!(matches!(err, EditError::NotCharBoundary { offset: 7, .. }));
    assert!(err.to_string().starts_with("f: an edit at byte 7"));
}

#[test]
fn change_set_diffs_and_writes_exact_bytes() {
    let dir = Dir::new(&[
        (
            "envs/prod/main.tf",
            "locals {\r\n  # pinned\r\n  v = \"v5\"\r\n}\r\n",
        ),
        ("envs/prod/versions.env", "A=1\nB=v5"),
    ]);
    let edits = [
        edit("envs/prod/versions.env", 6..8, "v6"),
        edit("envs/prod/main.tf", 29..31, "v6"),
    ];
    let set = ChangeSet::from_edits(&dir.0, &edits).expect("change set");
    assert_eq!(
        set.unified_diff(),
        "diff --git a/envs/prod/main.tf b/envs/prod/main.tf\n\
         --- a/envs/prod/main.tf\n\
         +++ b/envs/prod/main.tf\n\
         @@ -1,4 +1,4 @@\n \
         locals {\r\n   \
         # pinned\r\n\
         -  v = \"v5\"\r\n\
         +  v = \"v6\"\r\n \
         }\r\n\
         diff --git a/envs/prod/versions.env b/envs/prod/versions.env\n\
         --- a/envs/prod/versions.env\n\
         +++ b/envs/prod/versions.env\n\
         @@ -1,2 +1,2 @@\n \
         A=1\n\
         -B=v5\n\
         \\ No newline at end of file\n\
         +B=v6\n\
         \\ No newline at end of file\n"
    );
    set.write(&dir.0).expect("write");
    assert_eq!(
        dir.read("envs/prod/main.tf"),
        "locals {\r\n  # pinned\r\n  v = \"v6\"\r\n}\r\n"
    );
    assert_eq!(dir.read("envs/prod/versions.env"), "A=1\nB=v6");
    assert_eq!(dir.entries("envs/prod"), ["main.tf", "versions.env"]);
}

#[test]
fn write_refuses_a_file_changed_since_it_was_read() {
    let dir = Dir::new(&[("a.yaml", "tag: v1\n"), ("b.yaml", "tag: v1\n")]);
    let edits = [edit("a.yaml", 5..7, "v2"), edit("b.yaml", 5..7, "v2")];
    let set = ChangeSet::from_edits(&dir.0, &edits).expect("change set");
    fs::write(dir.0.join("b.yaml"), "tag: v9\n").expect("write");
    let err = set.write(&dir.0).expect_err("changed");
    assert!(matches!(&err, EditError::Changed { path } if path == "b.yaml"));
    // Nothing written, not even the file that did not change.
    assert_eq!(dir.read("a.yaml"), "tag: v1\n");
    assert_eq!(dir.read("b.yaml"), "tag: v9\n");
    assert_eq!(dir.entries(""), ["a.yaml", "b.yaml"]);
}

#[test]
fn a_failed_rename_puts_back_what_was_written_and_removes_temporaries() {
    let dir = Dir::new(&[
        ("a.yaml", "tag: v1\n"),
        ("b.yaml", "tag: v1\n"),
        ("c.yaml", "tag: v1\n"),
    ]);
    let edits = [
        edit("a.yaml", 5..7, "v2"),
        edit("b.yaml", 5..7, "v2"),
        edit("c.yaml", 5..7, "v2"),
    ];
    let set = ChangeSet::from_edits(&dir.0, &edits).expect("change set");
    let err = set
        .write_with(&dir.0, &mut |n| {
            if n == 2 {
                Err(io::Error::other("disk full"))
            } else {
                Ok(())
            }
        })
        .expect_err("fails");
    assert!(matches!(&err, EditError::Io { path, .. } if path == "c.yaml"));
    for f in ["a.yaml", "b.yaml", "c.yaml"] {
        assert_eq!(dir.read(f), "tag: v1\n", "{f}");
    }
    assert_eq!(dir.entries(""), ["a.yaml", "b.yaml", "c.yaml"]);
}

#[test]
fn refuses_paths_outside_the_repository_and_links() {
    let dir = Dir::new(&[("real/a.yaml", "tag: v1\n")]);
    for path in [
        "../a.yaml",
        "/etc/passwd",
        "real/../real/a.yaml",
        "",
        "real",
    ] {
        let err = ChangeSet::from_edits(&dir.0, &[edit(path, 0..0, "x")]).expect_err(path);
        assert!(matches!(err, EditError::BadPath { .. }), "{path}: {err}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.0.join("real"), dir.0.join("link")).expect("link");
        let err =
            ChangeSet::from_edits(&dir.0, &[edit("link/a.yaml", 5..7, "v2")]).expect_err("link");
        assert_eq!(
            err.to_string(),
            "link/a.yaml: not written: link is a symbolic link\n  help: promolint edits regular files inside the repository only"
        );
    }
    let missing = ChangeSet::from_edits(&dir.0, &[edit("real/b.yaml", 0..0, "x")]);
    assert!(matches!(missing, Err(EditError::Io { .. })));
}

#[test]
fn keeps_the_file_mode() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = Dir::new(&[("run.sh", "V=v1\n")]);
        let path = dir.0.join("run.sh");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        let set = ChangeSet::from_edits(&dir.0, &[edit("run.sh", 2..4, "v2")]).expect("set");
        set.write(&dir.0).expect("write");
        let mode = fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
        assert_eq!(dir.read("run.sh"), "V=v2\n");
    }
}
