//! `dozen new`, from the request to the report, as one straight line: pack → answers → plan (and
//! the pack's message, rendered before anything is written so a broken one cannot fail a written
//! project) → staged write → trusted hooks in the project → git. Hooks run before the first
//! commit, so what they change is in it and the new repository is clean.

use crate::answers::{self, Answers, Inputs};
use crate::error::{Error, Result};
use crate::git::{self, BaseFile, GitOutcome};
use crate::pack::{self, Pack, Source};
use crate::plan::{self, Plan};
use crate::prompt::Prompter;
use crate::render::Renderer;
use crate::report::NewReport;
use crate::request::NewRequest;
use crate::{check, config, hook, write};

/// `dozen new`: everything from the request to the report.
pub fn generate(request: &NewRequest, prompter: &mut dyn Prompter, interactive: bool) -> Result<NewReport> {
    // Before the first side effect (a clone, a staging directory), so a signal is always handled.
    let interrupt = write::Interrupt::install();
    let source = match &request.pack {
        Some(text) => Source::parse(text)?,
        None => Source::Builtin(pack::source::DEFAULT_PACK.to_owned()),
    };
    let mut pack = check::load(&source)?;
    let renderer = Renderer::for_pack(&pack)?;
    let inputs = Inputs {
        explicit: request.explicit.clone(),
        file: request.answers_file.as_deref().map(config::answers_file).transpose()?,
        config: config::user_defaults()?,
        interactive,
        user: answers::user_identity(),
    };
    let answers = answers::resolve(&pack, &inputs, &renderer, prompter)?;
    let project = answers.project.as_ref().ok_or_else(|| Error::Usage {
        message: format!("pack {} has no `name` question, so the project has no directory name", pack.id().name),
        hint: "add a string question named `name` to the pack".into(),
    })?;
    let target = request.output.join(&project.slug);
    if let Source::Dir(dir) = &source
        && dir.is_relative()
    {
        // Recorded relative to the project, so `update` inside it finds the pack again.
        let recorded = crate::relpath::relative_to(&target, dir);
        let commit = pack.id().commit.clone();
        pack = pack.with_origin(recorded, commit);
    }
    let plan = plan::project(&pack, &answers, &renderer)?;
    let hooks: Vec<pack::manifest::Command> = active_hooks(&pack, &answers, &renderer)?.into_iter().cloned().collect();
    let hooks: Vec<&pack::manifest::Command> = hooks.iter().collect();
    let message = match &pack.manifest.message {
        Some(message) => {
            let mut context = plan::context(&pack, &answers, &renderer)?;
            context.insert(
                "dozen",
                &serde_json::json!({ "version": crate::VERSION, "target": target.display().to_string() }),
            );
            Some(renderer.render_str(&message.template, &context, "pack.toml: [message]")?)
        }
        None => None,
    };
    // The plan and the message are made: the engine and the pack's file bytes are not needed any
    // more, and at 10,000 files they are a third of the peak.
    drop(renderer);
    pack.files = std::collections::BTreeMap::new();
    let mut report = NewReport {
        target: target.display().to_string(),
        dry_run: request.dry_run,
        pack: pack.id().clone(),
        answers: answers.public_json(),
        files: plan.summaries(),
        replaced: Vec::new(),
        git: GitOutcome::Skipped,
        hooks: Vec::new(),
        message,
    };
    if request.dry_run {
        return Ok(report);
    }
    if !hooks.is_empty() && !request.trust && !trust_hooks(&hooks, prompter, interactive)? {
        return Err(Error::Cancelled);
    }

    let exists = write::prepare(&target, request.force)?;
    if exists {
        let changes: Vec<(&str, write::Change<'_>)> = plan
            .files
            .iter()
            .map(|f| (f.path.as_str(), write::Change::Write { bytes: f.body.bytes(), executable: f.executable }))
            .collect();
        report.replaced = write::apply(&target, &changes, &interrupt)?;
    } else {
        plan.stage(&target, &interrupt)?.commit(&interrupt)?;
    }
    report.hooks = hook::run_all("hook", &hooks, &target, &answers).map_err(|err| match err {
        Error::Command { what, command, code } => {
            Error::HookFailed { command, code, what, target: target.clone(), git: request.git }
        }
        other => other,
    })?;
    if request.git {
        // Hook (names-limits): the commit author fallback is the answer of the pack's
        // `commit_author` question, not a question the engine knows by name.
        let author = pack.manifest.questions.iter().find(|q| q.commit_author).and_then(|q| answers.get(&q.name));
        report.git = record_in_git(&target, &plan, author.and_then(|v| v.as_str()), exists, request.git_add)?;
    }
    Ok(report)
}

/// The git step: a new repository with one commit, or, inside a work tree, nothing unless
/// `--git-add` asked for the files to be staged there.
fn record_in_git(
    target: &std::path::Path,
    plan: &Plan,
    author: Option<&str>,
    exists: bool,
    git_add: bool,
) -> Result<GitOutcome> {
    let base: Vec<BaseFile<'_>> = plan
        .files
        .iter()
        .map(|f| BaseFile { path: &f.path, bytes: f.body.bytes(), executable: f.executable })
        .collect();
    let enclosing = match target.parent() {
        Some(parent) if !exists => git::enclosing_work_tree(parent),
        _ => git::enclosing_work_tree(target),
    };
    match enclosing {
        Some(_) if git_add => git::add_to_parent(target, &base),
        Some(repository) => Ok(GitOutcome::InsideWorkTree { repository: repository.display().to_string() }),
        None => git::init_and_commit(target, &base, author),
    }
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
    let list =
        hooks.iter().map(|h| format!("  $ {}", crate::untrusted::visible(&h.run))).collect::<Vec<_>>().join("\n");
    if !interactive {
        return Err(Error::Usage {
            message: format!("the pack wants to run {} hook command(s) after generation:\n{list}", hooks.len()),
            hint: "pass --trust to allow them, after reading them".into(),
        });
    }
    prompter.show(&format!("The pack wants to run these commands in the new project:\n{list}"));
    prompter.confirm("Run them?", false)
}
