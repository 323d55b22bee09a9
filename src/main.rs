//! The `promolint` binary: parse arguments, run, exit with the command's code.
use clap::Parser;

fn main() {
    promolint::timing::phase("start");
    promolint::cli::drop_empty_option_variables();
    let cli = match promolint::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; usage errors are exit 2 (DESIGN §4).
            let code = if e.use_stderr() {
                promolint::run::FAILURE
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    promolint::pipeline::exits_after_run();
    let code = promolint::run::run(cli);
    promolint::timing::phase("report written");
    std::process::exit(code);
}
