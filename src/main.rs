//! The `dozen` binary: parse, run, print the error, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    dozen::ui::init_colour();
    let cli = dozen::cli::Cli::parse();
    dozen::pack::git::set_offline(cli.offline);
    let result = cli.into_request().and_then(|(request, verbosity)| dozen::run(request, verbosity));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            dozen::ui::print_error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}
