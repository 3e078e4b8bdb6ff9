//! The `dozen` binary: parse, run, print the error, exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    dozen::ui::init_colour();
    let json = dozen::cli::wants_json(std::env::args_os());
    let cli = match dozen::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if json && err.use_stderr() => {
            let usage = dozen::error::Error::Usage {
                message: err.kind().to_string(),
                hint: err.render().to_string().trim().to_owned(),
            };
            dozen::ui::print_error(&usage, true);
            return ExitCode::from(usage.exit_code());
        }
        Err(err) => err.exit(),
    };
    dozen::pack::git::set_offline(cli.offline);
    let (request, verbosity) = match cli.into_request() {
        Ok(parsed) => parsed,
        Err(err) => return fail(&err, json),
    };
    let json = request.json();
    match dozen::run(request, verbosity) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err, json),
    }
}

fn fail(err: &dozen::error::Error, json: bool) -> ExitCode {
    dozen::ui::print_error(err, json);
    ExitCode::from(err.exit_code())
}
