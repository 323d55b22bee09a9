//! Running a parsed command line: every command returns its exit code (DESIGN §4).

use crate::cli::{Cli, ColorChoice, Command, FailLevel};
use crate::config;
use crate::engine::{self, Error, Options};
use crate::model::Level;
use crate::modes;
use crate::report::{self, human, json, markdown, status, Format};
use crate::rules::{self, Finding};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Exit codes.
pub const OK: i32 = 0;
pub const FINDINGS: i32 = 1;
pub const FAILURE: i32 = 2;

/// Run a command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match run_inner(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            FAILURE
        }
    }
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
    match &cli.command {
        Command::Check { paths } => {
            let opts = options(cli, paths.clone())?;
            let outcome = engine::check(&opts)?;
            let source = |_: Option<&str>, p: &str| outcome.source(p);
            report(cli, &outcome.findings, outcome.files, &source)
        }
        Command::Diff {
            base,
            head,
            all_files,
        } => {
            let opts = options(cli, Vec::new())?;
            let outcome = modes::diff(&opts, base.as_deref(), Some(head), *all_files)?;
            report_change(cli, &outcome)
        }
        Command::Staged { all_files } => {
            let opts = options(cli, Vec::new())?;
            let outcome = modes::staged(&opts, *all_files)?;
            report_change(cli, &outcome)
        }
        Command::History { range } => {
            let opts = options(cli, Vec::new())?;
            let outcome = modes::history(&opts, range.as_deref())?;
            report_change(cli, &outcome)
        }
        Command::Status => {
            let opts = options(cli, Vec::new())?;
            let m = modes::status(&opts)?;
            let text = match g.format {
                Format::Human => status::render_human(&m),
                Format::Markdown => status::render_markdown(&m),
                Format::Json => status::render_json(&m),
            };
            emit(g.output.as_deref(), &text)?;
            Ok(OK)
        }
        Command::Explain { rule } => {
            let meta = rules::lookup(rule).ok_or_else(|| Error::Usage {
                message: format!("unknown rule `{rule}`"),
                help: Some("run `promolint rules` to list rule ids and names".to_string()),
            })?;
            emit(g.output.as_deref(), &format!("{}\n", meta.body.trim_end()))?;
            Ok(OK)
        }
        Command::Rules => {
            emit(g.output.as_deref(), &rules_listing(g.format))?;
            Ok(OK)
        }
        Command::Init { stdout, force } => init(cli, *stdout, *force),
        Command::Schema => {
            emit(
                g.output.as_deref(),
                &format!("{}\n", config::schema::schema_json().trim_end()),
            )?;
            Ok(OK)
        }
    }
}

fn options(cli: &Cli, paths: Vec<String>) -> Result<Options, Error> {
    let g = &cli.global;
    Ok(Options {
        start: start_dir(cli)?,
        paths,
        config: g.config.clone(),
        jobs: g.jobs,
        select: g.select.clone(),
        ignore: g.ignore.clone(),
    })
}

/// Render findings in the chosen format, write them, and return the exit code.
fn report(
    cli: &Cli,
    findings: &[Finding],
    files: usize,
    source: report::SourceFn,
) -> Result<i32, Error> {
    let g = &cli.global;
    let ctx = report::Context {
        findings,
        files,
        source,
    };
    let text = match g.format {
        Format::Human => human::render(
            &ctx,
            human::Style {
                color: use_color(g.color, g.output.is_some()),
                quiet: g.quiet,
            },
        ),
        Format::Json => json::render(&ctx),
        Format::Markdown => markdown::render(&ctx),
    };
    emit(g.output.as_deref(), &text)?;
    Ok(exit_code(findings, g.fail_level))
}

fn report_change(cli: &Cli, outcome: &modes::ChangeOutcome) -> Result<i32, Error> {
    let source = |commit: Option<&str>, p: &str| {
        outcome
            .sources
            .get(&(commit.map(str::to_string), p.to_string()))
            .cloned()
    };
    report(cli, &outcome.findings, outcome.files, &source)
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

/// Colour on a terminal only (and never with NO_COLOR), unless forced.
fn use_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !to_file
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Write the report to `--output` or standard output. A failure to write is exit 2.
fn emit(output: Option<&Path>, text: &str) -> Result<(), Error> {
    let result = match output {
        Some(path) => std::fs::write(path, text).map_err(|e| (path.display().to_string(), e)),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| ("standard output".to_string(), e))
        }
    };
    result.map_err(|(target, e)| Error::Usage {
        message: format!("cannot write the report to {target}: {e}"),
        help: Some("check that the directory exists and is writable".to_string()),
    })
}

fn rules_listing(format: Format) -> String {
    match format {
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
    }
}

fn init(cli: &Cli, to_stdout: bool, force: bool) -> Result<i32, Error> {
    let start = start_dir(cli)?;
    let list = engine::list_worktree(&start)?;
    let facts = engine::extract_files(
        &list.root,
        &list.files,
        config::Config::default().max_file_size,
    );
    let envs = engine::environments(&config::Config::default(), &list.files, &facts)?;
    let text = config::init::render(&envs, &list.files);
    if to_stdout {
        emit(None, &text)?;
        return Ok(OK);
    }
    let target = cli
        .global
        .output
        .clone()
        .unwrap_or_else(|| list.root.join(config::FILE_NAME));
    if target.exists() && !force {
        return Err(Error::Usage {
            message: format!("{} already exists", target.display()),
            help: Some(
                "pass --force to overwrite it, or --stdout to print the inferred configuration"
                    .to_string(),
            ),
        });
    }
    std::fs::write(&target, &text).map_err(|e| Error::Usage {
        message: format!("cannot write {}: {e}", target.display()),
        help: None,
    })?;
    let n = envs.envs.len();
    eprintln!(
        "promolint: wrote {} ({n} environment{} inferred)",
        target.display(),
        if n == 1 { "" } else { "s" }
    );
    Ok(OK)
}
