//! dozen scaffolds twelve-factor service repositories. This file lists the modules and holds `run`,
//! the only orchestrator: Request → Pack → Answers → Plan → written tree → git → Report, each stage
//! a plain value handed to the next.

pub mod answers;
pub mod check;
pub mod cli;
pub mod config;
pub mod error;
pub mod git;
pub mod hook;
pub mod matrix;
pub mod name;
pub mod pack;
pub mod plan;
pub mod prompt;
pub mod record;
pub mod render;
pub mod report;
pub mod scaffold;
pub mod ui;
pub mod update;
pub mod value;
pub mod write;

use std::collections::BTreeMap;
use std::io::IsTerminal;

use crate::answers::{Answers, Inputs};
use crate::cli::{NewRequest, Request, Verbosity};
use crate::error::{Error, Result};
use crate::pack::{Pack, Source};
use crate::prompt::{Dialoguer, NoPrompt, Prompter};
use crate::render::Renderer;
use crate::report::{ChoiceListing, ListReport, NewReport, PackListing, QuestionListing};

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
            let json = new.json;
            let interactive =
                !new.yes && !new.json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
            let report = if interactive {
                generate(&new, &mut Dialoguer::new(), true)?
            } else {
                generate(&new, &mut NoPrompt, false)?
            };
            ui::print_new(&report, json, verbosity);
            Ok(())
        }
        Request::List { json } => {
            ui::print_list(&list()?, json);
            Ok(())
        }
        Request::Pack(command) => pack_command(command),
        Request::Update(request) => {
            let report = update::update(&request)?;
            ui::print_update(&report, request.json, verbosity);
            match report.conflicts {
                0 => Ok(()),
                count => Err(Error::Conflicts { count, dry_run: report.dry_run }),
            }
        }
        Request::Completions(shell) => {
            let mut command = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "dozen", &mut std::io::stdout());
            Ok(())
        }
    }
}

fn pack_command(command: cli::PackCommand) -> Result<()> {
    use cli::PackCommand;
    match command {
        PackCommand::New { dir } => {
            let files = scaffold::create(&dir)?;
            ui::print_lines(&format!(
                "Created pack in {} ({} files). Next: dozen pack check {0}",
                dir.display(),
                files.len()
            ));
        }
        PackCommand::Check { src, json } => {
            let report = check::check(&Source::parse(&src)?)?;
            ui::print_value(
                &report,
                json,
                &format!(
                    "{} {} is valid: {} questions, {} layers, {} files",
                    report.pack.name, report.pack.version, report.questions, report.layers, report.files
                ),
            );
        }
        PackCommand::Test { src, trust, max, json } => {
            let report = matrix::test(&Source::parse(&src)?, trust, max)?;
            let summary = format!(
                "{} {}: rendered {} of {} combinations{}{}",
                report.pack.name,
                report.pack.version,
                report.cases.len(),
                report.combinations,
                if report.sampled { " (all-pairs sample)" } else { "" },
                if report.checks_ran { ", checks passed" } else { "" }
            );
            ui::print_value(&report, json, &summary);
        }
        PackCommand::Add { src, name } => {
            let pack = Pack::load(&Source::parse(&src)?)?;
            let name = name.unwrap_or_else(|| pack.id().name.clone());
            let installed = pack::store::Store::open()?.add(&name, &pack)?;
            ui::print_lines(&format!(
                "Installed {} {} from {}{}",
                installed.name,
                installed.version,
                installed.source,
                installed.commit.as_deref().map(|c| format!(" at {}", &c[..c.len().min(12)])).unwrap_or_default()
            ));
        }
        PackCommand::List { json } => {
            let packs = pack::store::Store::open()?.list()?;
            let text = if packs.is_empty() {
                "No installed packs. Add one with `dozen pack add SRC`.".to_owned()
            } else {
                packs
                    .iter()
                    .map(|p| {
                        format!("{:<20} {:<10} {} {}", p.name, p.version, p.source, p.commit.as_deref().unwrap_or("-"))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            ui::print_value(&packs, json, &text);
        }
        PackCommand::Remove { name } => {
            let removed = pack::store::Store::open()?.remove(&name)?;
            ui::print_lines(&format!("Removed {} {}", removed.name, removed.version));
        }
    }
    Ok(())
}

/// `dozen new`: everything from the request to the report.
pub fn generate(request: &NewRequest, prompter: &mut dyn Prompter, interactive: bool) -> Result<NewReport> {
    let source = Source::parse(request.pack.as_deref().unwrap_or(pack::source::DEFAULT_PACK))?;
    let pack = Pack::load(&source)?;
    let problems = check::structure_problems(&pack);
    if !problems.is_empty() {
        return Err(Error::Pack { pack: pack.id().source.clone(), problems });
    }
    let renderer = Renderer::for_pack(&pack)?;
    let inputs = Inputs {
        explicit: request.explicit.clone(),
        file: request.answers_file.as_deref().map(config::answers_file).transpose()?,
        config: config::user_defaults()?,
        interactive,
        user: user_identity(),
    };
    let answers = answers::resolve(&pack, &inputs, &renderer, prompter)?;
    let plan = plan::project(&pack, &answers, &renderer)?;
    let project = answers.project.as_ref().ok_or_else(|| Error::Usage {
        message: format!("pack {} has no `name` question, so the project has no directory name", pack.id().name),
        hint: "add a string question named `name` to the pack".into(),
    })?;
    let target = request.output.join(&project.slug);
    let hooks = active_hooks(&pack, &answers, &renderer)?;
    let mut report = NewReport {
        target: target.display().to_string(),
        dry_run: request.dry_run,
        pack: pack.id().clone(),
        answers: answers
            .values
            .iter()
            .filter(|a| !a.secret)
            .map(|a| (a.name.clone(), serde_json::to_value(&a.value).expect("values serialize")))
            .collect(),
        files: plan.summaries(),
        replaced: Vec::new(),
        git: git::GitOutcome::Skipped,
        hooks: Vec::new(),
        message: None,
    };
    if request.dry_run {
        return Ok(report);
    }
    if !hooks.is_empty() && !request.trust && !trust_hooks(&hooks, prompter, interactive)? {
        return Err(Error::Cancelled);
    }

    let exists = write::prepare(&target, request.force)?;
    let interrupt = write::Interrupt::install();
    let staged = write::stage(&plan, &target, exists, &interrupt)?;
    let enclosing = git::enclosing_work_tree(&target);
    if request.git && enclosing.is_none() && !exists {
        let paths: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
        report.git = git::init_and_commit(staged.path(), &paths, answers.get("author").and_then(|v| v.as_str()))?;
    }
    report.replaced = staged.commit(&interrupt)?;
    if request.git && (enclosing.is_some() || exists) {
        report.git = git::add_to_parent(&target).or_else(|_| {
            let paths: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
            git::init_and_commit(&target, &paths, None)
        })?;
    }
    let context = plan::context(&pack, &answers, &renderer)?;
    report.message = match &pack.manifest.message {
        Some(message) => Some(renderer.render_str(&message.template, &context, "pack.toml: [message]")?),
        None => None,
    };
    report.hooks = hook::run_all("hook", &hooks, &target, &answers)?;
    Ok(report)
}

fn active_hooks<'p>(
    pack: &'p Pack,
    answers: &Answers,
    renderer: &Renderer,
) -> Result<Vec<&'p pack::manifest::Command>> {
    let context = answers.context();
    let mut hooks = Vec::new();
    for hook in &pack.manifest.hooks {
        let active = match &hook.when {
            Some(when) => renderer.condition(when, &context, "pack.toml: hook")?,
            None => true,
        };
        if active {
            hooks.push(hook);
        }
    }
    Ok(hooks)
}

fn trust_hooks(hooks: &[&pack::manifest::Command], prompter: &mut dyn Prompter, interactive: bool) -> Result<bool> {
    let list = hooks.iter().map(|h| format!("  $ {}", h.run)).collect::<Vec<_>>().join("\n");
    if !interactive {
        return Err(Error::Usage {
            message: format!("the pack wants to run {} hook command(s) after generation:\n{list}", hooks.len()),
            hint: "pass --trust to allow them, after reading them".into(),
        });
    }
    prompter.show(&format!("The pack wants to run these commands in the new project:\n{list}"));
    prompter.confirm("Run them?", false)
}

/// `user.name` and `user.email` for default expressions: git config, else `$USER`.
pub(crate) fn user_identity() -> BTreeMap<String, String> {
    let (name, email) = git::config_identity();
    let name = name.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "Unknown Author".to_owned());
    BTreeMap::from([("name".to_owned(), name), ("email".to_owned(), email.unwrap_or_default())])
}

/// `dozen list`: the built-in packs with their questions.
pub fn list() -> Result<ListReport> {
    let mut packs = Vec::new();
    for name in Source::builtin_names() {
        let pack = Pack::load(&Source::Builtin(name.to_owned()))?;
        packs.push(PackListing {
            name: pack.manifest.pack.name.clone(),
            version: pack.manifest.pack.version.clone(),
            description: pack.manifest.pack.description.clone(),
            source: pack.id().source.clone(),
            questions: pack
                .manifest
                .questions
                .iter()
                .map(|q| QuestionListing {
                    name: q.name.clone(),
                    kind: q.kind.to_string(),
                    prompt: q.prompt().to_owned(),
                    default: q.default.as_ref().map(|d| match d {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }),
                    choices: q
                        .choices
                        .iter()
                        .map(|c| ChoiceListing {
                            value: c.value().to_owned(),
                            help: c.help().map(str::to_owned),
                            when: c.when().map(str::to_owned),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    let installed = pack::store::Store::open().and_then(|store| store.list()).unwrap_or_default();
    Ok(ListReport { packs, installed })
}
