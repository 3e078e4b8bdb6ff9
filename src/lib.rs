//! dozen scaffolds twelve-factor service repositories. This file lists the modules and holds `run`,
//! the only orchestrator: Request → Pack → Answers → Plan → written tree → git → Report, each stage
//! a plain value handed to the next.

pub mod adopt;
pub mod answers;
pub mod check;
pub mod cli;
pub(crate) mod config;
pub mod error;
pub mod fleet;
pub mod git;
pub(crate) mod hook;
pub(crate) mod input;
pub(crate) mod interrupt;
pub mod list;
pub mod matrix;
pub mod name;
pub mod new;
pub(crate) mod output;
pub mod pack;
pub mod pack_command;
pub mod plan;
pub mod prompt;
pub(crate) mod record;
pub(crate) mod relpath;
pub mod render;
pub mod report;
pub mod request;
pub(crate) mod scaffold;
pub mod ui;
pub(crate) mod untrusted;
pub mod update;
pub mod value;
pub(crate) mod write;

use std::io::IsTerminal;

use crate::error::{Error, Result};
use crate::prompt::{Dialoguer, NoPrompt};
use crate::request::{Request, Verbosity};

/// dozen's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// dozen's version as semver.
pub fn version() -> semver::Version {
    semver::Version::parse(VERSION).expect("Cargo versions are semver")
}

/// Runs one request and prints its result.
pub fn run(request: Request, verbosity: Verbosity) -> Result<()> {
    match request {
        Request::New(new) => {
            let interactive =
                !new.yes && !new.json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            let report = if interactive {
                new::generate(&new, &mut Dialoguer::new(), true)?
            } else {
                new::generate(&new, &mut NoPrompt, false)?
            };
            ui::print_new(&report, new.json, verbosity);
            Ok(())
        }
        Request::List { json } => {
            ui::print_list(&list::list()?, json);
            Ok(())
        }
        Request::Pack(command) => pack_command::run(command),
        Request::Update(request) => {
            let report = update::update(&request)?;
            ui::print_update(&report, request.json, verbosity);
            match report.conflicts {
                0 => Ok(()),
                count => Err(Error::Conflicts { count, dry_run: report.dry_run }),
            }
        }
        Request::UpdateMany(request) => {
            let report = fleet::update_many(&request)?;
            ui::print_update_many(&report, request.json, verbosity);
            fleet::many::verdict(&report)
        }
        Request::Status(request) => {
            let report = fleet::status(&request)?;
            ui::print_status(&report, request.json);
            fleet::verdict(&report)
        }
        Request::Adopt(request) => {
            let interactive =
                !request.yes && !request.json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            let report = if interactive {
                adopt::adopt(&request, &mut Dialoguer::new(), true)?
            } else {
                adopt::adopt(&request, &mut NoPrompt, false)?
            };
            ui::print_adopt(&report, request.json, verbosity);
            Ok(())
        }
        Request::Completions(shell) => {
            let mut command = <cli::Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command, "dozen", &mut out);
            ui::to_stdout(&String::from_utf8_lossy(&out));
            Ok(())
        }
    }
}
