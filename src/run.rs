//! Running a parsed command line: every command returns its exit code (DESIGN §4).

use crate::apply;
use crate::cli::{Cli, ColorChoice, Command, FailLevel, FixArgs};
use crate::config;
use crate::fsutil;
use crate::model::{Level, Revision};
use crate::pipeline::{self, Error, Options};
use crate::report::baseline::Baseline;
use crate::report::{
    self, explain, github, gitlab, human, json, markdown, sarif, status, Format, RunInfo,
};
use crate::rules::{self, Finding};
use clap::CommandFactory;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Exit codes.
pub const OK: i32 = 0;
pub const FINDINGS: i32 = 1;
pub const FAILURE: i32 = 2;

/// Run a command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = workers(&cli).and_then(|()| run_inner(&cli));
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed standard error (`… 2>&1 | head`) must not turn the failure into a panic.
            let _ = writeln!(std::io::stderr(), "{}", error_text(&e));
            FAILURE
        }
    }
}

/// Configure rayon's global pool, which `diff`, `staged`, `history` and `init` run on
/// (`check` and `status` build their own): `--jobs` threads with
/// [`pipeline::WORKER_STACK_SIZE`] of stack each.
fn workers(cli: &Cli) -> Result<(), Error> {
    if let Some(n) = pipeline::jobs(cli.global.jobs)? {
        if cli.global.jobs != Some(n) && !cli.global.quiet {
            let _ = writeln!(
                std::io::stderr(),
                "promolint: --jobs {} is more than this machine can use; running {n} worker threads (one per thread it can run)",
                cli.global.jobs.unwrap_or(n)
            );
        }
    }
    // Fails only when the pool already exists (a second run in one process): keep it.
    let _ = pipeline::pool_builder(cli.global.jobs)?.build_global();
    Ok(())
}

/// An error as printed on standard error: `error: …` and its `  help: …` line. Text from the
/// repository that an error quotes (a config value, a file name) is shown
/// [`printable`](report::printable): it cannot break the line, so no line of it can start a
/// CI workflow command or carry a terminal escape.
pub fn error_text(e: &Error) -> String {
    let text = e.to_string();
    let mut parts = text.split("\n  help: ");
    let mut out = format!(
        "error: {}",
        report::printable(parts.next().unwrap_or_default())
    );
    for help in parts {
        out.push_str("\n  help: ");
        out.push_str(&report::printable(help));
    }
    out
}

fn start_dir(cli: &Cli) -> Result<PathBuf, Error> {
    match &cli.global.directory {
        Some(d) => Ok(d.clone()),
        None => std::env::current_dir().map_err(|e| Error::Usage {
            message: format!("cannot read the current directory: {e}"),
            help: Some("pass -C DIR".to_string()),
        }),
    }
}

fn run_inner(cli: &Cli) -> Result<i32, Error> {
    let g = &cli.global;
    if !produces_findings(&cli.command) {
        reject_report_options(cli)?;
    }
    // A bad baseline is refused before any work is done.
    let baseline = match &g.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let baseline = baseline.as_ref();
    match &cli.command {
        Command::Check { paths, fix } => {
            let mut opts = options(cli, paths.clone())?;
            opts.fix = fix.fix;
            let mut outcome = pipeline::check(&opts)?;
            if !cli.global.quiet {
                for note in outcome.environment_notes() {
                    eprintln!("promolint: warning: {}", crate::report::printable(&note));
                }
            }
            let info = run_info("check", &outcome.root, None);
            let mut findings = std::mem::take(&mut outcome.findings);
            let mut main = true;
            if fix.fix {
                apply_baseline(cli, baseline, &mut findings);
                let judged = |p: &str| outcome.source(p);
                let applied = apply_fixes(
                    cli,
                    &outcome.root,
                    &findings,
                    &judged,
                    "the text promolint read",
                    fix.dry_run,
                )?;
                main = !fix.dry_run || cli.global.output.is_some();
                if applied.written {
                    // The fixed tree is judged again: what remains is what it holds now.
                    outcome = pipeline::check(&opts)?;
                    findings = std::mem::take(&mut outcome.findings);
                    // Said once already, for the findings before the fixes.
                    if let Some(b) = baseline {
                        b.apply(&mut findings);
                    }
                }
                if !fix.dry_run {
                    unfixable_notes(cli, &findings);
                }
            }
            let source = |_: Option<&str>, _: &Revision, p: &str| outcome.source(p);
            let code = report(
                cli,
                &opts,
                findings,
                outcome.files,
                &source,
                &info,
                baseline.filter(|_| !fix.fix),
                main,
            );
            pipeline::discard(outcome);
            code
        }
        Command::Diff {
            base,
            head,
            all_files,
            fix,
        } => {
            let mut opts = options(cli, Vec::new())?;
            opts.fix = fix.fix;
            let outcome = pipeline::diff(&opts, base.as_deref(), Some(head), *all_files)?;
            report_change(cli, &opts, "diff", outcome, baseline, *fix)
        }
        Command::Staged { all_files, fix } => {
            let mut opts = options(cli, Vec::new())?;
            opts.fix = fix.fix;
            let outcome = pipeline::staged(&opts, *all_files)?;
            report_change(cli, &opts, "staged", outcome, baseline, *fix)
        }
        Command::History { range } => {
            let opts = options(cli, Vec::new())?;
            let outcome = pipeline::history(&opts, range.as_deref())?;
            report_change(cli, &opts, "history", outcome, baseline, FixArgs::default())
        }
        Command::Status { explain: true } => {
            let text_of: fn(&explain::Explanation) -> String = match g.format {
                Format::Human => explain::render_human,
                Format::Markdown => explain::render_markdown,
                Format::Json => explain::render_json,
                other => return Err(unsupported_format("status --explain", other)),
            };
            let opts = options(cli, Vec::new())?;
            let x = pipeline::explain(&opts)?;
            emit(cli, &text_of(&x))?;
            Ok(OK)
        }
        Command::Status { explain: false } => {
            let text_of: fn(&status::Matrix) -> String = match g.format {
                Format::Human => status::render_human,
                Format::Markdown => status::render_markdown,
                Format::Json => status::render_json,
                other => return Err(unsupported_format("status", other)),
            };
            let opts = options(cli, Vec::new())?;
            let m = pipeline::status(&opts)?;
            emit(cli, &text_of(&m))?;
            Ok(OK)
        }
        Command::Explain { rule } => {
            let meta = rules::lookup(rule).ok_or_else(|| Error::Usage {
                message: format!("unknown rule `{rule}`"),
                help: Some("run `promolint rules` to list rule ids and names".to_string()),
            })?;
            emit(cli, &format!("{}\n", meta.body.trim_end()))?;
            Ok(OK)
        }
        Command::Rules => {
            emit(cli, &rules_listing(g.format)?)?;
            Ok(OK)
        }
        Command::Init { stdout, force } => init(cli, *stdout, *force),
        Command::Schema => {
            emit(
                cli,
                &format!("{}\n", config::schema::schema_json().trim_end()),
            )?;
            Ok(OK)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "promolint", &mut script);
            emit(cli, &String::from_utf8_lossy(&script))?;
            Ok(OK)
        }
        Command::Promote {
            components,
            to,
            all,
            version,
            dry_run,
            commit,
            each_commit,
        } => {
            let request = crate::promote::Request {
                components: components.clone(),
                all: *all,
                to: to.clone(),
                version: version.clone(),
            };
            let how = pipeline::Write {
                dry_run: *dry_run,
                commit: *commit,
                each_commit: *each_commit,
            };
            promote(cli, &request, how)
        }
        Command::Man { command } => {
            emit(cli, &man_page(command.as_deref())?)?;
            Ok(OK)
        }
    }
}

/// `promolint promote`: refused (exit 1, the gates' findings printed, nothing written), or
/// the change printed (`--dry-run`) or written, listed in the chosen format.
fn promote(
    cli: &Cli,
    request: &crate::promote::Request,
    how: pipeline::Write,
) -> Result<i32, Error> {
    let g = &cli.global;
    if !matches!(g.format, Format::Human | Format::Json) {
        return Err(Error::Usage {
            message: format!(
                "`promolint promote` prints human or json, not {}",
                g.format.name()
            ),
            help: Some("the diff of `--dry-run` is its human output".to_string()),
        });
    }
    let opts = options(cli, Vec::new())?;
    let outcome = pipeline::promote(&opts, request, how)?;
    if !outcome.refused.is_empty() {
        if !g.quiet {
            eprintln!(
                "promolint: promote refused: the change would break the promotion rules below; nothing was written"
            );
        }
        let info = run_info("promote", &outcome.root, None);
        let source = |commit: Option<&str>, rev: &Revision, p: &str| {
            outcome
                .sources
                .get(&(commit.map(str::to_string), rev.clone(), p.to_string()))
                .cloned()
        };
        let files = outcome
            .plan
            .promotions
            .iter()
            .flat_map(|p| &p.changes)
            .map(|c| c.path.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        // Refused is exit 1 whatever the findings' levels and --fail-level: nothing was done.
        report(
            cli,
            &opts,
            outcome.refused.clone(),
            files,
            &source,
            &info,
            None,
            true,
        )?;
        return Ok(FINDINGS);
    }
    if !g.quiet {
        for (component, why) in &outcome.plan.skipped {
            eprintln!(
                "promolint: {} not promoted: {}",
                report::printable(component),
                report::printable(why)
            );
        }
        if outcome.plan.promotions.is_empty() {
            eprintln!(
                "promolint: nothing to promote to {}",
                report::printable(&request.to)
            );
        }
    }
    let text = match g.format {
        Format::Json => report::promote::render_json(
            &outcome.plan,
            &request.to,
            how.dry_run,
            outcome.written,
            &outcome.commits,
        ),
        _ if how.dry_run => outcome.diff.clone(),
        _ => report::promote::render_human(&outcome.plan, outcome.written, &outcome.commits),
    };
    emit(cli, &text)?;
    Ok(OK)
}

/// The roff manual page of promolint, or of one of its commands (`promolint-check(1)`,
/// which the main page lists).
fn man_page(command: Option<&str>) -> Result<String, Error> {
    let mut cmd = Cli::command();
    // Propagate the global options to every command's page.
    cmd.build();
    let page = match command {
        None => cmd,
        Some(name) => {
            let sub = cmd
                .get_subcommands()
                .find(|c| c.get_name() == name)
                .cloned()
                .ok_or_else(|| Error::Usage {
                    message: format!("no command `{name}`"),
                    help: Some("run `promolint --help` to list the commands".to_string()),
                })?;
            sub.display_name(format!("promolint-{name}"))
                .bin_name(format!("promolint {name}"))
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .source(concat!("promolint ", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .map_err(|e| Error::Usage {
            message: format!("cannot render the manual page: {e}"),
            help: None,
        })?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The commands that produce findings: they take every format and report option.
fn produces_findings(command: &Command) -> bool {
    matches!(
        command,
        Command::Check { .. }
            | Command::Diff { .. }
            | Command::Staged { .. }
            | Command::History { .. }
    )
}

fn unsupported_format(command: &str, format: Format) -> Error {
    Error::Usage {
        message: format!(
            "`promolint {command}` prints human, markdown or json, not {}",
            format.name()
        ),
        help: Some(
            "--format sarif, github and gitlab are for the commands that produce findings: \
             check, diff, staged, history"
                .to_string(),
        ),
    }
}

/// `--sarif`, `--json`, `--gitlab`, `--summary` and `--baseline` only mean something for
/// findings.
fn reject_report_options(cli: &Cli) -> Result<(), Error> {
    let g = &cli.global;
    let given = [
        ("--sarif", g.sarif.is_some()),
        ("--json", g.json.is_some()),
        ("--gitlab", g.gitlab.is_some()),
        ("--summary", g.summary.is_some()),
        ("--baseline", g.baseline.is_some()),
    ];
    match given.iter().find(|(_, on)| *on) {
        Some((flag, _)) => Err(Error::Usage {
            message: format!("{flag} applies to findings, and this command produces none"),
            help: Some("use it with check, diff, staged or history".to_string()),
        }),
        None => Ok(()),
    }
}

/// The commit, branch and remote a run judged, for SARIF. `revision`: the head the command
/// named (diff, staged, history); `None` for `check`, which judges HEAD's working tree.
fn run_info(command: &'static str, start: &Path, revision: Option<String>) -> RunInfo {
    let mut info = RunInfo {
        command,
        revision,
        ..RunInfo::default()
    };
    let Ok(repo) = gix::ThreadSafeRepository::discover_with_environment_overrides(start) else {
        return info;
    };
    let repo = repo.to_thread_local();
    let head = repo.head_id().ok().map(|id| id.detach().to_string());
    if command == "check" {
        info.revision = head.clone();
    }
    if info.revision.is_some() && info.revision == head {
        info.branch = repo.head_name().ok().flatten().and_then(|name| {
            let name = name.as_bstr().to_string();
            name.strip_prefix("refs/heads/").map(str::to_string)
        });
    }
    info.repository_uri = repo
        .find_default_remote(gix::remote::Direction::Fetch)
        .and_then(Result::ok)
        .and_then(|remote| remote.url(gix::remote::Direction::Fetch).and_then(web_url));
    info
}

/// A remote as the repository's web address: `https://host[:port]/path` without user,
/// password or `.git` (credentials in a CI remote such as GitLab's job token never reach a
/// report). `None` for local paths and other transports.
pub fn web_url(url: &gix::Url) -> Option<String> {
    use gix::url::Scheme;
    let scheme = match url.scheme {
        Scheme::Http => "http",
        Scheme::Https | Scheme::Ssh | Scheme::Git => "https",
        _ => return None,
    };
    let host = url.host()?;
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return None;
    }
    let port = match (url.scheme.clone(), url.port) {
        (Scheme::Http | Scheme::Https, Some(p)) => format!(":{p}"),
        _ => String::new(),
    };
    let path = String::from_utf8_lossy(url.path.as_ref()).to_string();
    let path = crate::source::git::repository_path(&path)?;
    Some(format!("{scheme}://{host}{port}/{}", sarif::uri(path)))
}

fn options(cli: &Cli, paths: Vec<String>) -> Result<Options, Error> {
    let g = &cli.global;
    Ok(Options {
        start: start_dir(cli)?,
        paths,
        config: g.config.clone(),
        jobs: g.jobs,
        no_cache: g.no_cache,
        max_file_size: g.max_file_size,
        strict_suppressions: g.strict_suppressions,
        select: g.select.clone(),
        ignore: g.ignore.clone(),
        fix: false,
    })
}

/// One rendering of the findings.
fn render(cli: &Cli, format: Format, ctx: &report::Context, to_file: bool) -> String {
    let g = &cli.global;
    match format {
        Format::Human => human::render(
            ctx,
            human::Style {
                color: use_color(g.color, to_file),
                quiet: g.quiet,
            },
        ),
        Format::Json => json::render(ctx),
        Format::Sarif => sarif::render(ctx),
        Format::Github => github::render(ctx, g.quiet),
        Format::Gitlab => gitlab::render(ctx),
        Format::Markdown => markdown::render(ctx),
    }
}

/// Silence the findings the baseline knows, and say how many.
fn apply_baseline(cli: &Cli, baseline: Option<&Baseline>, findings: &mut Vec<Finding>) {
    if let Some(b) = baseline {
        let silenced = b.apply(findings);
        if silenced > 0 && !cli.global.quiet {
            eprintln!(
                "promolint: {silenced} known finding{} silenced by the baseline {}",
                if silenced == 1 { "" } else { "s" },
                b.path.display()
            );
        }
    }
}

/// What `--fix` did.
struct Applied {
    /// Indices of the findings whose fix was written (or, with `--dry-run`, would be).
    fixed: BTreeSet<usize>,
    /// Whether files were written.
    written: bool,
}

/// `--fix`: collect the safe fixes of `findings` into one change of the working tree at
/// `root`; with `dry_run` print it as a unified diff, else write it (all files or none).
/// Says on standard error what was (or would be) fixed. `judged` is the text the findings
/// were computed on, `tree` its name in messages.
fn apply_fixes(
    cli: &Cli,
    root: &Path,
    findings: &[Finding],
    judged: &dyn Fn(&str) -> Option<std::sync::Arc<str>>,
    tree: &str,
    dry_run: bool,
) -> Result<Applied, Error> {
    let edit_error = |e: crate::edit::EditError| Error::Usage {
        message: e.to_string(),
        help: None,
    };
    let plan = apply::plan(root, findings, judged, tree).map_err(edit_error)?;
    let files = plan.files();
    let quiet = cli.global.quiet;
    let at = |f: &Finding| {
        report::printable(&format!(
            "{} at {}:{}:{}",
            f.rule, f.path, f.span.line, f.span.column
        ))
        .into_owned()
    };
    for (i, why) in &plan.skipped {
        if !quiet {
            eprintln!(
                "promolint: fix of {} not applied: {}",
                at(&findings[*i]),
                report::printable(why)
            );
        }
    }
    if dry_run {
        print(&plan.changes.unified_diff())?;
        if !quiet {
            unfixable_notes(cli, findings);
            eprintln!(
                "promolint: --dry-run: {} fix{} in {} file{} shown, nothing written",
                plan.fixed.len(),
                if plan.fixed.len() == 1 { "" } else { "es" },
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            );
        }
        return Ok(Applied {
            fixed: plan.fixed.into_iter().collect(),
            written: false,
        });
    }
    if files.is_empty() {
        if !quiet {
            eprintln!("promolint: --fix: no safe fix to write");
        }
        return Ok(Applied {
            fixed: BTreeSet::new(),
            written: false,
        });
    }
    plan.changes.write(root).map_err(edit_error)?;
    if !quiet {
        for &i in &plan.fixed {
            let f = &findings[i];
            if let Some(fix) = f.fix.safe() {
                eprintln!(
                    "promolint: fixed {}: {}",
                    at(f),
                    report::printable(&fix.description)
                );
            }
        }
        eprintln!(
            "promolint: --fix wrote {} file{}: {}",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            report::printable(&files.join(", "))
        );
    }
    Ok(Applied {
        fixed: plan.fixed.into_iter().collect(),
        written: true,
    })
}

/// One line on standard error for each finding of a rule with fixes that has none safe,
/// saying why (unless `-q`).
fn unfixable_notes(cli: &Cli, findings: &[Finding]) {
    if cli.global.quiet {
        return;
    }
    for f in findings {
        if let crate::model::FixState::Unsafe(why) = &f.fix {
            eprintln!(
                "promolint: no safe fix for {} at {}:{}:{}: {}",
                f.rule,
                report::printable(&f.path),
                f.span.line,
                f.span.column,
                report::printable(why)
            );
        }
    }
}

/// Apply the baseline, write every requested output (the main one only when `main`), and
/// return the exit code (which depends on the findings and the fail level only, never on
/// the outputs).
#[allow(clippy::too_many_arguments)]
fn report(
    cli: &Cli,
    opts: &Options,
    mut findings: Vec<Finding>,
    files: usize,
    source: report::SourceFn,
    info: &RunInfo,
    baseline: Option<&Baseline>,
    main: bool,
) -> Result<i32, Error> {
    let g = &cli.global;
    apply_baseline(cli, baseline, &mut findings);
    let ctx = report::Context {
        findings: &findings,
        files,
        source,
        run: info,
    };
    let mut errors = Vec::new();
    for (path, format) in [
        (&g.sarif, Format::Sarif),
        (&g.json, Format::Json),
        (&g.gitlab, Format::Gitlab),
    ] {
        if let Some(path) = path {
            let text = render(cli, format, &ctx, true);
            if let Err(e) = write_file(cli, path, &text, WriteMode::Replace, report_label(format)) {
                errors.push(e);
            }
        }
    }
    if let Some(path) = &g.summary {
        let matrix = pipeline::status(opts);
        let why = matrix.as_ref().err().map(ToString::to_string);
        let text = match (&matrix, &why) {
            (Ok(m), _) => markdown::render_summary(&ctx, Ok(m)),
            (Err(_), why) => {
                let first = why.as_deref().and_then(|w| w.lines().next());
                markdown::render_summary(&ctx, Err(first.unwrap_or_default()))
            }
        };
        if let Err(e) = write_file(cli, path, &text, WriteMode::Append, "the summary") {
            errors.push(e);
        }
    }
    if main {
        let text = render(cli, g.format, &ctx, g.output.is_some());
        if let Err(e) = emit(cli, &text) {
            errors.push(e);
        }
    }
    let last = errors.pop();
    for e in errors {
        let _ = writeln!(std::io::stderr(), "{}", error_text(&e));
    }
    match last {
        Some(e) => Err(e),
        None => Ok(exit_code(&findings, g.fail_level)),
    }
}

fn report_change(
    cli: &Cli,
    opts: &Options,
    command: &'static str,
    mut outcome: pipeline::ChangeOutcome,
    baseline: Option<&Baseline>,
    fix: FixArgs,
) -> Result<i32, Error> {
    let mut findings = std::mem::take(&mut outcome.findings);
    let info = run_info(command, &opts.start, outcome.head.map(|h| h.to_string()));
    let source = |commit: Option<&str>, rev: &Revision, p: &str| {
        outcome
            .sources
            .get(&(commit.map(str::to_string), rev.clone(), p.to_string()))
            .cloned()
    };
    if !fix.fix {
        return report(
            cli,
            opts,
            findings,
            outcome.files,
            &source,
            &info,
            baseline,
            true,
        );
    }
    apply_baseline(cli, baseline, &mut findings);
    let judged = |p: &str| source(None, &Revision::Tree, p);
    let tree = if command == "staged" {
        "the index"
    } else {
        "the head revision"
    };
    let applied = apply_fixes(cli, &outcome.root, &findings, &judged, tree, fix.dry_run)?;
    let main = !fix.dry_run || cli.global.output.is_some();
    if applied.written {
        // The change judged (the index, the commits) is as it was: what remains of it is
        // what the working tree's fixes did not reach.
        findings = findings
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !applied.fixed.contains(i))
            .map(|(_, f)| f)
            .collect();
    }
    if !fix.dry_run {
        unfixable_notes(cli, &findings);
    }
    let code = report(
        cli,
        opts,
        findings,
        outcome.files,
        &source,
        &info,
        None,
        main,
    )?;
    if applied.written && !cli.global.quiet {
        if command == "staged" {
            eprintln!(
                "promolint: the fixed files now differ from the index: review them and stage them again (`git add`), then commit"
            );
        } else {
            eprintln!(
                "promolint: the fixes are in the working tree, not in the commits judged: commit them to change the diff"
            );
        }
    }
    // As formatters in a pre-commit hook do: the commit stops, so that the fixed files are
    // staged before it is made.
    if applied.written && command == "staged" {
        return Ok(code.max(FINDINGS));
    }
    Ok(code)
}

/// Exit 1 when a finding reaches the fail level.
pub fn exit_code(findings: &[Finding], fail: FailLevel) -> i32 {
    let threshold = match fail {
        FailLevel::Error => Level::Error,
        FailLevel::Warning => Level::Warning,
        FailLevel::Note => Level::Note,
        FailLevel::Never => return OK,
    };
    if findings.iter().any(|f| f.level >= threshold) {
        FINDINGS
    } else {
        OK
    }
}

/// Colour for a rendering: `--color always|never` decide; `auto` colours standard output
/// as [`auto_color`] says, and never a report file.
fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file && auto_color(|k| std::env::var_os(k), std::io::stdout().is_terminal())
        }
    }
}

/// `--color auto` on standard output, from the environment (`var`) and whether standard
/// output is a terminal, by the usual conventions, first match wins:
///
/// 1. `NO_COLOR` set and not empty: no colour (no-color.org);
/// 2. `CLICOLOR_FORCE` set, not empty and not `0`: colour, also into a pipe or a CI log;
/// 3. `FORCE_COLOR` set, not empty and not `0` or `false`: colour, likewise (`0` and
///    `false` force nothing, as in the Node.js tools that read it);
/// 4. `CLICOLOR=0`: no colour;
/// 5. otherwise colour on a terminal only.
pub fn auto_color(var: impl Fn(&str) -> Option<std::ffi::OsString>, terminal: bool) -> bool {
    let value = |k: &str| var(k).filter(|v| !v.is_empty());
    if value("NO_COLOR").is_some() {
        return false;
    }
    if value("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    if value("FORCE_COLOR").is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false")) {
        return true;
    }
    if value("CLICOLOR").is_some_and(|v| v == "0") {
        return false;
    }
    terminal
}

/// Write the report to `--output` or standard output. A failure is exit 2.
fn emit(cli: &Cli, text: &str) -> Result<(), Error> {
    match &cli.global.output {
        Some(path) => write_file(cli, path, text, WriteMode::Replace, "the report"),
        None => print(text),
    }
}

fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::Usage {
            message: format!("cannot write the report to standard output: {e}"),
            help: None,
        })
}

/// `the SARIF report`: what a report file is called in messages.
fn report_label(format: Format) -> &'static str {
    match format {
        Format::Sarif => "the SARIF report",
        Format::Json => "the JSON report",
        Format::Gitlab => "the GitLab report",
        Format::Github => "the github report",
        Format::Human => "the human report",
        Format::Markdown => "the markdown report",
    }
}

/// How [`write_file`] writes.
#[derive(Clone, Copy)]
enum WriteMode {
    /// A new file renamed over the old one.
    Replace,
    /// Appended to (the step summary, which other steps append to as well).
    Append,
}

/// The directory inside which promolint follows no symbolic link when it writes (see
/// [`fsutil`]): the working tree of the repository it was pointed at, or that directory
/// outside Git, as a real path. Whoever wrote the commits chose what is in it; the rest of
/// the machine is the caller's.
fn write_guard(cli: &Cli) -> PathBuf {
    let start = start_dir(cli).unwrap_or_else(|_| PathBuf::from("."));
    let top = crate::source::git::GitRepo::discover(&start)
        .ok()
        .and_then(|repo| repo.workdir())
        .unwrap_or(start);
    // When even that cannot be resolved, no link anywhere on the way is followed.
    std::fs::canonicalize(&top).unwrap_or_else(|_| PathBuf::from("/"))
}

/// Write an output file (`label`: `the SARIF report`, `the summary`, …) without following a
/// symbolic link. A failure is exit 2.
fn write_file(
    cli: &Cli,
    path: &Path,
    text: &str,
    how: WriteMode,
    label: &str,
) -> Result<(), Error> {
    let guard = write_guard(cli);
    let written = match how {
        WriteMode::Replace => fsutil::replace(path, text.as_bytes(), &guard),
        WriteMode::Append => fsutil::append(path, text.as_bytes(), &guard),
    };
    written.map_err(|e| write_error(label, path, e))
}

/// The error of a refused or failed write of `label` to `path`.
fn write_error(label: &str, path: &Path, e: fsutil::WriteError) -> Error {
    match e {
        fsutil::WriteError::Link(why) => Error::Usage {
            message: format!("refusing to write {label} to {}: {why}", path.display()),
            help: Some(
                "promolint writes no file through a symbolic link (one checked out from a \
                 repository can point anywhere): remove the link, or write to another path, \
                 e.g. under $RUNNER_TEMP"
                    .to_string(),
            ),
        },
        fsutil::WriteError::Refused(why) => Error::Usage {
            message: format!("cannot write {label} to {}: {why}", path.display()),
            help: Some("name a file to write".to_string()),
        },
        fsutil::WriteError::Io(e) => Error::Usage {
            message: format!("cannot write {label} to {}: {e}", path.display()),
            help: Some("check that the directory exists and is writable".to_string()),
        },
    }
}

fn rules_listing(format: Format) -> Result<String, Error> {
    Ok(match format {
        Format::Json => {
            let list: Vec<serde_json::Value> = rules::all()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "name": r.name,
                        "kind": match r.kind { rules::RuleKind::Tree => "tree", rules::RuleKind::Change => "change" },
                        "level": r.level.as_str(),
                        "enabled": r.enabled,
                        "summary": r.summary,
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&list).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Human | Format::Markdown => {
            let mut s = String::new();
            for r in rules::all() {
                let state = if r.enabled { r.level.as_str() } else { "off" };
                s.push_str(&format!(
                    "{:<6} {:<26} {:<8} {}\n",
                    r.id, r.name, state, r.summary
                ));
            }
            s
        }
        other => return Err(unsupported_format("rules", other)),
    })
}

fn init(cli: &Cli, to_stdout: bool, force: bool) -> Result<i32, Error> {
    let start = start_dir(cli)?;
    let list = pipeline::list_worktree(&start)?;
    let max_size = cli
        .global
        .max_file_size
        .unwrap_or(config::Config::default().max_file_size);
    let facts: Vec<_> = pipeline::extract_files(
        &list.root,
        &list.files,
        max_size,
        None,
        &list.indexed,
        false,
    )
    .into_iter()
    .map(|(facts, _)| facts)
    .collect();
    let mut envs = pipeline::environments(&config::Config::default(), &list.files, &facts)?;
    // The chain Kargo Stages declare, as every run applies it (see `Snapshot::build`).
    let stages: Vec<&crate::model::KargoStage> = facts
        .iter()
        .flat_map(|f| &f.facts)
        .filter_map(|fact| match &fact.kind {
            crate::model::FactKind::KargoStage(s) => Some(s),
            _ => None,
        })
        .collect();
    envs.apply_stage_graph(&stages);
    let text = config::init::render(&envs, &list.files);
    if to_stdout {
        if let Some(path) = &cli.global.output {
            return Err(Error::Usage {
                message: format!(
                    "`--stdout` and `--output {}` both say where to write the configuration",
                    path.display()
                ),
                help: Some("give one of them".to_string()),
            });
        }
        print(&text)?;
        return Ok(OK);
    }
    let target = cli
        .global
        .output
        .clone()
        .unwrap_or_else(|| list.root.join(config::FILE_NAME));
    if target.is_dir() {
        return Err(Error::Usage {
            message: format!(
                "cannot write the configuration to {}: it is a directory",
                target.display()
            ),
            help: Some(format!(
                "name the file to write, e.g. `--output {}`",
                target.join(config::FILE_NAME).display()
            )),
        });
    }
    // The other name: writing `.promolint.yaml` beside it would make two configurations,
    // which every later run refuses.
    let other = list.root.join(config::FILE_NAMES[1]);
    if cli.global.output.is_none() && std::fs::symlink_metadata(&other).is_ok() {
        return Err(Error::Usage {
            message: format!("{} already exists", other.display()),
            help: Some(
                "edit it, or remove it first; --stdout prints the inferred configuration"
                    .to_string(),
            ),
        });
    }
    // A link (dangling or not) exists too: `--force` is then refused by the write.
    if std::fs::symlink_metadata(&target).is_ok() && !force {
        return Err(Error::Usage {
            message: format!("{} already exists", target.display()),
            help: Some(
                "pass --force to overwrite it, or --stdout to print the inferred configuration"
                    .to_string(),
            ),
        });
    }
    let guard = std::fs::canonicalize(&list.root).unwrap_or_else(|_| PathBuf::from("/"));
    fsutil::replace(&target, text.as_bytes(), &guard)
        .map_err(|e| write_error("the configuration", &target, e))?;
    let n = envs.envs.len();
    eprintln!(
        "promolint: wrote {} ({n} environment{} inferred)",
        target.display(),
        if n == 1 { "" } else { "s" }
    );
    Ok(OK)
}

#[cfg(test)]
mod tests {
    use super::web_url;

    fn web(url: &str) -> Option<String> {
        let url = gix::url::parse(url).ok()?;
        web_url(&url)
    }

    #[test]
    fn remotes_become_web_addresses_without_credentials() {
        for (remote, web_address) in [
            (
                "https://github.com/acme/deploy.git",
                Some("https://github.com/acme/deploy"),
            ),
            (
                "https://gitlab-ci-token:secret@gitlab.example.com:8443/group/sub/deploy.git/",
                Some("https://gitlab.example.com:8443/group/sub/deploy"),
            ),
            (
                "git@github.com:acme/deploy.git",
                Some("https://github.com/acme/deploy"),
            ),
            (
                "ssh://git@example.com:2222/acme/deploy",
                Some("https://example.com/acme/deploy"),
            ),
            (
                "http://example.com/acme/deploy",
                Some("http://example.com/acme/deploy"),
            ),
            ("/srv/git/deploy.git", None),
            ("file:///srv/git/deploy.git", None),
            ("https://github.com/", None),
        ] {
            assert_eq!(web(remote).as_deref(), web_address, "{remote}");
        }
    }
}
