//! Command-line definitions (clap).

use crate::report::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// A Git-native linter for GitOps environment promotion.
#[derive(Debug, Parser)]
#[command(
    name = "promolint",
    version,
    about = "A Git-native linter for GitOps environment promotion",
    long_about = "promolint enforces the promotion contract of a GitOps repository: artifacts are \
versioned and immutable, production never references a mutable tag, every environment's tag \
policy admits only its own tags, and versions move dev → staging → prod in order.",
    after_help = "Exit codes: 0 no finding at or above the fail level; 1 findings at or above it; \
2 the run could not be done (bad config, bad arguments, unreadable repository).\n\n\
Environment: PROMOLINT_CONFIG and PROMOLINT_FORMAT stand for --config and --format (the \
option wins); NO_COLOR, CLICOLOR, CLICOLOR_FORCE and FORCE_COLOR steer --color auto; \
PROMOLINT_NO_CACHE=1 is --no-cache."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options common to every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Run as if started in DIR
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,
    /// Configuration file (default: .promolint.yaml at the repository root)
    #[arg(long, value_name = "FILE", global = true, env = "PROMOLINT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Output format
    #[arg(
        long,
        value_enum,
        default_value_t = Format::Human,
        global = true,
        env = "PROMOLINT_FORMAT"
    )]
    pub format: Format,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE", global = true)]
    pub output: Option<PathBuf>,
    /// Also write a SARIF report to FILE (one run, several outputs)
    #[arg(long, value_name = "FILE", global = true)]
    pub sarif: Option<PathBuf>,
    /// Also write a JSON report to FILE
    #[arg(long, value_name = "FILE", global = true)]
    pub json: Option<PathBuf>,
    /// Also write a GitLab Code Quality report to FILE
    #[arg(long, value_name = "FILE", global = true)]
    pub gitlab: Option<PathBuf>,
    /// Append a markdown summary (counts, findings, promotion matrix) to FILE, e.g.
    /// "$GITHUB_STEP_SUMMARY"
    #[arg(long, value_name = "FILE", global = true)]
    pub summary: Option<PathBuf>,
    /// Silence the findings of a previous JSON or SARIF report (matched by fingerprint)
    #[arg(long, value_name = "FILE", global = true)]
    pub baseline: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this level
    #[arg(long, value_enum, default_value_t = FailLevel::Error, global = true)]
    pub fail_level: FailLevel,
    /// Run only these rules (ids or names, comma-separated or repeated)
    #[arg(long, value_name = "RULE", value_delimiter = ',', global = true)]
    pub select: Vec<String>,
    /// Never run these rules (ids or names)
    #[arg(long, value_name = "RULE", value_delimiter = ',', global = true)]
    pub ignore: Vec<String>,
    /// When to use colour. `auto`: on a terminal; never with NO_COLOR (or CLICOLOR=0);
    /// always with CLICOLOR_FORCE or FORCE_COLOR (set, not empty, not `0`/`false`), also
    /// when piped. Report files never get colour unless `always`
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Worker threads (default: one per core; at most the machine's threads)
    #[arg(long, value_name = "N", global = true)]
    pub jobs: Option<usize>,
    /// Files larger than this are not read (a PL000 finding; an error in protected
    /// environments). Overrides `max_file_size` of the configuration, which may not go above
    /// 64 MiB [default: 4194304]
    #[arg(long, value_name = "BYTES", global = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_file_size: Option<u64>,
    /// Neither read nor write the caches kept in the git directory: the pin ledger that
    /// speeds up history walks and the fact store of parsed files (also PROMOLINT_NO_CACHE)
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Refuse inline suppressions of PL006, PL007 and PL008 in protected environments (also
    /// `strict_suppressions: true` in the configuration)
    #[arg(long, global = true)]
    pub strict_suppressions: bool,
    /// Print findings only, no summary line
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint the working tree (or the given paths)
    Check {
        /// Files or directories to check, relative to the current directory
        #[arg(value_name = "PATH")]
        paths: Vec<String>,
        #[command(flatten)]
        fix: FixArgs,
    },
    /// Lint a change: base..head (default base: merge-base with the default branch)
    Diff {
        /// The revision the change starts from
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// The revision the change ends at
        #[arg(long, value_name = "REV", default_value = "HEAD")]
        head: String,
        /// Report tree rules in every file, not only in changed files
        #[arg(long)]
        all_files: bool,
        #[command(flatten)]
        fix: FixArgs,
    },
    /// Lint the index against HEAD: what `git commit` would record
    Staged {
        /// Report tree rules in every file, not only in staged files
        #[arg(long)]
        all_files: bool,
        #[command(flatten)]
        fix: FixArgs,
    },
    /// Lint every commit of a range against its first parent
    History {
        /// A..B, A.., or a revision (its whole history); default: HEAD
        #[arg(long, value_name = "RANGE")]
        range: Option<String>,
    },
    /// Print the promotion matrix of the working tree: component × environment → version
    Status {
        /// Explain the model instead: each environment's entry points (Flux Kustomizations,
        /// Argo CD Applications), why each file with pins is in it, and the overrides that
        /// produced each component's value
        #[arg(long)]
        explain: bool,
    },
    /// Set an environment's pins of components to the version the environment before it
    /// runs, editing only the values (and the digests beside them); the change is linted
    /// first and refused, with nothing written, if it breaks a promotion rule
    #[command(
        after_help = "Exit codes: 0 promoted (or nothing to promote); 1 refused: the change would raise \
PL006, PL007 or PL008 (printed), nothing written; 2 the promotion could not be made (unknown \
component or environment, a value promote cannot edit, a file that cannot be written).\n\n\
Examples:\n  promolint promote ghcr.io/acme/backend --to prod --dry-run\n  \
promolint promote --to prod --all --each-commit\n  \
promolint promote lxc_rootfs_version --to prod --version v6 --commit"
    )]
    Promote {
        /// Components as `promolint status` names them
        #[arg(value_name = "COMPONENT", required_unless_present = "all")]
        components: Vec<String>,
        /// The environment whose pins are set
        #[arg(long, value_name = "ENV")]
        to: String,
        /// Promote every component whose predecessor runs a later version, one version each
        #[arg(long, conflicts_with_all = ["components", "version"])]
        all: bool,
        /// Set this version instead of the predecessor's (refused with PL006 unless a
        /// predecessor ran it)
        #[arg(long, value_name = "V")]
        version: Option<String>,
        /// Print the change as a unified diff (or, with --format json, list it); write nothing
        #[arg(long)]
        dry_run: bool,
        /// Commit the change: only the files it edits, with a message naming each component
        /// and its versions (from → to)
        #[arg(long, conflicts_with = "dry_run")]
        commit: bool,
        /// One commit per component (implies --commit); each is linted on the tree the ones
        /// before it leave
        #[arg(long)]
        each_commit: bool,
    },
    /// Print a rule's documentation (by id or name)
    Explain {
        /// Rule id (PL003) or name (tag-policy-too-broad)
        rule: String,
    },
    /// List the rules
    Rules,
    /// Write a starting .promolint.yaml from what promolint infers
    Init {
        /// Print the configuration instead of writing it
        #[arg(long)]
        stdout: bool,
        /// Overwrite an existing .promolint.yaml
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of .promolint.yaml
    Schema,
    /// Print a shell completion script (e.g. `promolint completions bash > /etc/bash_completion.d/promolint`)
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): `promolint man > promolint.1`, `promolint man check >
    /// promolint-check.1`
    Man {
        /// The command whose page to print (default: promolint itself)
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
}

/// `--fix` and `--dry-run` of `check`, `diff` and `staged`.
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct FixArgs {
    /// Apply the safe fixes (PL001, PL002, PL003) to the files in the working tree, all or
    /// none, then report the findings that remain. `staged` exits 1 after writing: stage
    /// the fixed files again
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the fixes as a unified diff and write nothing
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
}

/// The environment variables that stand for options (`PROMOLINT_CONFIG` for `--config`,
/// `PROMOLINT_FORMAT` for `--format`).
pub const OPTION_VARIABLES: [&str; 2] = ["PROMOLINT_CONFIG", "PROMOLINT_FORMAT"];

/// Forget the option variables that are set but empty, before parsing: an empty
/// `PROMOLINT_FORMAT=` (a CI template's unset input) means the default, not a missing
/// value. Call it before any thread starts.
pub fn drop_empty_option_variables() {
    for key in OPTION_VARIABLES {
        if std::env::var_os(key).is_some_and(|v| v.is_empty()) {
            std::env::remove_var(key);
        }
    }
}

/// `--fail-level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailLevel {
    Error,
    Warning,
    Note,
    Never,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
