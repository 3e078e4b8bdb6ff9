//! `dozen update` over many repositories: every one that is behind its pack without conflicts is
//! updated on a new branch with one commit; the branch it was on is not changed, and a dirty,
//! conflicting or broken repository is left exactly as it is. The update itself is the one
//! `dozen update --commit` makes (`update::apply`), run after switching to the new branch, which
//! starts at the current commit, so the working tree does not change until the update writes it.
//! A failure switches back and deletes the branch.

use git2::{BranchType, Repository};

use super::report::{Done, RepoUpdate, State, UpdateManyReport};
use super::{find, inspect_all};
use crate::error::{Error, Result};
use crate::git::git_err;
use crate::request::UpdateManyRequest;
use crate::update::project::Project;
use crate::update::{self, NewQuestions, Packs, Plan};
use crate::write::Interrupt;

/// Updates every repository that is behind without conflicts, each on its own new branch.
pub fn update_many(request: &UpdateManyRequest) -> Result<UpdateManyReport> {
    let interrupt = Interrupt::install();
    let mut paths = find::repositories(&request.repositories)?;
    if paths.is_empty() {
        paths.push(".".into());
    }
    let packs = Packs::default();
    let new_questions = if request.yes { NewQuestions::Defaults } else { NewQuestions::Refuse };
    let mut repositories = Vec::new();
    for inspected in inspect_all(&paths, &packs, new_questions) {
        interrupt.check()?;
        let status = inspected.status;
        let mut done = RepoUpdate {
            path: status.path.clone(),
            state: status.state,
            action: Done::Skipped,
            from: status.recorded.clone(),
            to: status.newest.clone(),
            branch: None,
            commit: None,
            files: status.changes,
            reason: None,
        };
        let list = |files: &[String]| {
            let more = files.len().saturating_sub(5);
            let mut shown = files.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
            if more > 0 {
                shown.push_str(&format!(" and {more} more"));
            }
            shown
        };
        match (status.state, inspected.planned) {
            (State::Behind, Some((project, plan))) => {
                let name = request.branch.clone().unwrap_or_else(|| default_branch(&plan));
                match ready(&project, &name) {
                    Err(reason) => done.reason = Some(reason),
                    Ok(()) if request.dry_run => {
                        done.action = Done::WouldUpdate;
                        done.branch = Some(name);
                    }
                    Ok(()) => match on_new_branch(&project, &plan, &name, &interrupt) {
                        Ok(commit) => {
                            done.action = Done::Updated;
                            done.branch = Some(name);
                            done.commit = Some(commit);
                        }
                        Err(err) => {
                            done.action = Done::Failed;
                            done.reason = Some(crate::untrusted::visible(&err.to_string()));
                        }
                    },
                }
            }
            (State::Current | State::Drifted, _) => {
                done.action = Done::UpToDate;
                done.files = 0;
            }
            (State::BehindConflicts, _) => {
                done.reason = Some(format!("the update would conflict in {}", list(&status.conflicts)));
            }
            (State::Dirty, _) => done.reason = Some(format!("uncommitted changes to {}", list(&status.dirty))),
            (State::Broken | State::Behind, _) => {
                done.reason = status.reason.clone().or_else(|| Some("it could not be planned".into()));
            }
        }
        repositories.push(done);
    }
    Ok(UpdateManyReport { dry_run: request.dry_run, repositories })
}

/// The exit status of an update over many: an error (exit 1) when an update failed part way.
pub fn verdict(report: &UpdateManyReport) -> Result<()> {
    match report.repositories.iter().filter(|r| r.action == Done::Failed).count() {
        0 => Ok(()),
        count => Err(Error::Fleet {
            message: format!("the update failed in {count} repositor{}", if count == 1 { "y" } else { "ies" }),
            hint: "each was left as it was; see the reason listed for it, and run `dozen update DIR` there to see more"
                .into(),
        }),
    }
}

/// `dozen/update-PACK-VERSION`, made a valid branch name.
fn default_branch(plan: &Plan) -> String {
    let id = plan.new.id();
    let clean = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
            .collect::<String>()
    };
    let name = format!("dozen/update-{}-{}", clean(&id.name), clean(&id.version));
    if git2::Branch::name_is_valid(&name).unwrap_or(false) { name } else { "dozen/update".to_owned() }
}

/// Why the update cannot go on a new branch in this repository, if it cannot.
fn ready(project: &Project, name: &str) -> std::result::Result<(), String> {
    let Some(git) = &project.git else {
        return Err("it is not in a git repository, so there is no branch to put the update on".into());
    };
    if !git.prefix.is_empty() {
        return Err(format!(
            "it is {} inside a larger repository; run `dozen update {}` there to update it on the current branch",
            git.prefix.trim_end_matches('/'),
            project.root.display()
        ));
    }
    if !git2::Branch::name_is_valid(name).unwrap_or(false) {
        return Err(format!("{name:?} is not a valid branch name"));
    }
    if git.repo.find_branch(name, BranchType::Local).is_ok() {
        return Err(format!("branch {name} exists already; delete it or pass another --branch"));
    }
    if git.repo.head().and_then(|h| h.peel_to_commit()).is_err() {
        return Err("it has no commit to start a branch from".into());
    }
    Ok(())
}

/// Creates `name` at the current commit, switches to it (the working tree stays as it is: same
/// commit), applies the plan and commits it there. On failure, switches back and deletes it.
fn on_new_branch(project: &Project, plan: &Plan, name: &str, interrupt: &Interrupt) -> Result<String> {
    let git = project.git.as_ref().ok_or_else(|| Error::Git("not in a git repository".into()))?;
    let repo = &git.repo;
    let head = repo.head().map_err(git_err)?;
    let start = head.peel_to_commit().map_err(git_err)?;
    let previous = head.name().ok().filter(|_| head.is_branch()).map(str::to_owned);
    let branch = repo.branch(name, &start, false).map_err(git_err)?;
    let reference = branch.get().name().map(str::to_owned).map_err(git_err)?;
    repo.set_head(&reference).map_err(git_err)?;
    let mut report = plan.report(project, false);
    let result = update::apply(project, plan, &mut report, true, interrupt)
        .and_then(|()| report.commit.clone().ok_or_else(|| Error::Git("the update changed nothing to commit".into())));
    if result.is_err() {
        switch_back(repo, previous.as_deref(), start.id());
        if let Ok(mut branch) = repo.find_branch(name, BranchType::Local) {
            let _ = branch.delete();
        }
    }
    result
}

fn switch_back(repo: &Repository, previous: Option<&str>, start: git2::Oid) {
    let _ = match previous {
        Some(reference) => repo.set_head(reference),
        None => repo.set_head_detached(start),
    };
}
