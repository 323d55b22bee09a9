//! A line diff and its git-style unified rendering, for `--dry-run` output.
//!
//! Promotion edits touch a few values in files of a few hundred lines, so the common prefix
//! and suffix are trimmed first and only the middle is aligned (longest common subsequence).
//! A middle too large to align in bounded memory is compared line by line when the edits
//! kept the line count (value edits do), else shown as removed then added: still a correct
//! diff, only not a minimal one.

/// Lines of unchanged context around each change, as `git diff` shows.
pub(crate) const CONTEXT: usize = 3;

/// Cells of the alignment table above which the middle is not aligned (16 MiB of `u32`).
const MAX_CELLS: usize = 1 << 22;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Old line `.0` equals new line `.1`.
    Equal(usize, usize),
    Delete(usize),
    Insert(usize),
}

/// The lines of `text`, each with its terminator (`\n`, so `\r\n` stays in the line): the
/// diff shows the exact bytes, and a last line without terminator stays one.
pub(crate) fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn ops(old: &[&str], new: &[&str]) -> Vec<Op> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (a, b) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    let mut out: Vec<Op> = (0..prefix).map(|i| Op::Equal(i, i)).collect();
    let too_large = a.len().saturating_mul(b.len()) > MAX_CELLS;
    if too_large && a.len() == b.len() {
        // Value edits keep the lines where they were: line by line, each run of changed
        // lines removed then added (two edits far apart in a long file stay two hunks).
        let mut i = 0;
        while i < a.len() {
            if a[i] == b[i] {
                out.push(Op::Equal(prefix + i, prefix + i));
                i += 1;
                continue;
            }
            let end = (i..a.len()).find(|&k| a[k] == b[k]).unwrap_or(a.len());
            out.extend((i..end).map(|k| Op::Delete(prefix + k)));
            out.extend((i..end).map(|k| Op::Insert(prefix + k)));
            i = end;
        }
    } else if a.is_empty() || b.is_empty() || too_large {
        out.extend((0..a.len()).map(|i| Op::Delete(prefix + i)));
        out.extend((0..b.len()).map(|j| Op::Insert(prefix + j)));
    } else {
        // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
        let w = b.len() + 1;
        let mut lcs = vec![0u32; (a.len() + 1) * w];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i * w + j] = if a[i] == b[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i] == b[j] {
                out.push(Op::Equal(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                // Deletions before insertions, as git shows a replaced line.
                out.push(Op::Delete(prefix + i));
                i += 1;
            } else {
                out.push(Op::Insert(prefix + j));
                j += 1;
            }
        }
        out.extend((i..a.len()).map(|i| Op::Delete(prefix + i)));
        out.extend((j..b.len()).map(|j| Op::Insert(prefix + j)));
    }
    let (old_end, new_end) = (old.len() - suffix, new.len() - suffix);
    out.extend((0..suffix).map(|k| Op::Equal(old_end + k, new_end + k)));
    out
}

/// `start,count` of a hunk side as unified diffs write it: `,1` is left out, and an empty
/// side names the line before it.
fn side(consumed_before: usize, count: usize) -> String {
    match count {
        0 => format!("{consumed_before},0"),
        1 => format!("{}", consumed_before + 1),
        n => format!("{},{n}", consumed_before + 1),
    }
}

fn push_line(out: &mut String, mark: char, line: &str) {
    out.push(mark);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// The hunks (`@@ … @@` and their lines) turning `old` into `new`; empty when they are equal.
pub(crate) fn hunks(old: &str, new: &str) -> String {
    let (a, b) = (lines(old), lines(new));
    let ops = ops(&a, &b);
    let changes: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Equal(..)))
        .map(|(i, _)| i)
        .collect();
    // Old and new lines consumed before each op.
    let mut before = Vec::with_capacity(ops.len() + 1);
    let (mut o, mut n) = (0, 0);
    for op in &ops {
        before.push((o, n));
        match op {
            Op::Equal(..) => {
                o += 1;
                n += 1;
            }
            Op::Delete(_) => o += 1,
            Op::Insert(_) => n += 1,
        }
    }
    before.push((o, n));
    let mut out = String::new();
    let mut k = 0;
    while k < changes.len() {
        // Changes separated by at most two contexts' worth of equal lines share a hunk.
        let first = changes[k];
        let mut last = first;
        while k + 1 < changes.len() && changes[k + 1] - last <= 2 * CONTEXT + 1 {
            k += 1;
            last = changes[k];
        }
        k += 1;
        let start = first.saturating_sub(CONTEXT);
        let end = (last + 1 + CONTEXT).min(ops.len());
        let (o0, n0) = before[start];
        let (o1, n1) = before[end];
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            side(o0, o1 - o0),
            side(n0, n1 - n0)
        ));
        for op in &ops[start..end] {
            match *op {
                Op::Equal(i, _) => push_line(&mut out, ' ', a[i]),
                Op::Delete(i) => push_line(&mut out, '-', a[i]),
                Op::Insert(j) => push_line(&mut out, '+', b[j]),
            }
        }
    }
    out
}

/// The unified diff of one file, `path` repository-relative; empty when nothing changed.
pub(crate) fn file_diff(path: &str, old: &str, new: &str) -> String {
    let hunks = hunks(old, new);
    if hunks.is_empty() {
        return hunks;
    }
    format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n{hunks}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            hunks(old, new),
            "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
    }

    #[test]
    fn far_apart_changes_make_two_hunks_near_ones_one() {
        let numbered = |names: &[(usize, &str)]| -> String {
            (1..=20)
                .map(|i| match names.iter().find(|(n, _)| *n == i) {
                    Some((_, name)) => format!("{name}\n"),
                    None => format!("{i}\n"),
                })
                .collect()
        };
        let old = numbered(&[]);
        let new = numbered(&[(2, "two"), (19, "nineteen")]);
        assert_eq!(
            hunks(&old, &new),
            "@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n"
        );
        // Six equal lines between two changes: one hunk, as git merges them.
        let near = numbered(&[(2, "two"), (9, "nine")]);
        assert_eq!(
            hunks(&old, &near),
            "@@ -1,12 +1,12 @@\n 1\n-2\n+two\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+nine\n 10\n 11\n 12\n"
        );
    }

    #[test]
    fn two_edits_far_apart_in_a_long_file_stay_two_small_hunks() {
        // 5,000 lines between the edits: beyond the alignment table's bound.
        let old: String = (1..=5000).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 2\n", "line two\n")
            .replace("line 4999\n", "line 4999!\n");
        assert_eq!(
            hunks(&old, &new),
            "@@ -1,5 +1,5 @@\n line 1\n-line 2\n+line two\n line 3\n line 4\n line 5\n\
             @@ -4996,5 +4996,5 @@\n line 4996\n line 4997\n line 4998\n-line 4999\n+line 4999!\n line 5000\n"
        );
    }

    #[test]
    fn keeps_crlf_and_marks_a_missing_final_newline() {
        let old = "x: 1\r\ny: v1\r\nz: 3";
        let new = "x: 1\r\ny: v2\r\nz: 4";
        assert_eq!(
            hunks(old, new),
            "@@ -1,3 +1,3 @@\n x: 1\r\n-y: v1\r\n-z: 3\n\\ No newline at end of file\n+y: v2\r\n+z: 4\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn insertion_and_deletion_name_the_line_before_an_empty_side() {
        assert_eq!(hunks("a\n", "a\nb\n"), "@@ -1 +1,2 @@\n a\n+b\n");
        assert_eq!(hunks("", "a\n"), "@@ -0,0 +1 @@\n+a\n");
        assert_eq!(hunks("a\n", ""), "@@ -1 +0,0 @@\n-a\n");
        assert_eq!(hunks("same\n", "same\n"), "");
    }

    #[test]
    fn file_header_is_git_style() {
        assert_eq!(
            file_diff("envs/prod/main.tf", "v = \"v5\"\n", "v = \"v6\"\n"),
            "diff --git a/envs/prod/main.tf b/envs/prod/main.tf\n--- a/envs/prod/main.tf\n+++ b/envs/prod/main.tf\n@@ -1 +1 @@\n-v = \"v5\"\n+v = \"v6\"\n"
        );
        assert_eq!(file_diff("x", "a\n", "a\n"), "");
    }
}
