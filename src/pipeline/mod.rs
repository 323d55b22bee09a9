//! The pipeline every mode runs: list the files (a working tree, a revision, the index, a
//! range of commits) → extract facts in parallel → render them into a snapshot per tree →
//! run the rules → finish (suppressions, ignore globs, levels, order). The modes differ
//! only in what they list and which rules' hooks they call.
//!
//! Children never use this module, only their siblings, so that the layers point one way:
//! `setup` (options, configuration, the worker pool) ← `facts` (extraction, the snapshot
//! builder) ← `finish` ← `git` (`diff`, `staged`, `history`) ← `walk` (the history walk,
//! HEAD's history for `check`, read ahead through `prefetch`) ←
//! `check` (`check`, `status`, `explain`) ← `promote` (plans on the working tree's snapshot,
//! lints its own change in memory, writes it).

pub(crate) mod check;
pub(crate) mod facts;
pub(crate) mod finish;
pub(crate) mod git;
pub(crate) mod prefetch;
pub(crate) mod promote;
pub(crate) mod setup;
pub(crate) mod store;
pub(crate) mod walk;

pub use crate::error::Error;
pub use check::{check, explain, list_worktree, load_worktree, status, Outcome, Worktree};
pub use facts::{
    environments, extract_files, extract_in_memory, file_facts, pair_from_facts,
    snapshot_from_bytes, snapshot_pair, FactCache,
};
pub use finish::{finish, run_tree_rules, sort_findings};
pub use git::{diff, history, staged, ChangeOutcome, GitRun, Sources};
pub use promote::{commit_message, promote, PromoteOutcome, Write, GATES};
pub use setup::{
    discard, enabled_rules, exits_after_run, jobs, load_config, max_jobs, pool_builder,
    project_dir, run_config, thread_pool, Options, WORKER_STACK_SIZE,
};
pub use walk::head_history;
