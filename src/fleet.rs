//! The fleet view: where many generated repositories stand against their packs (`dozen status`)
//! and bringing the ones that are behind up to date, each on a new branch (`dozen update` over
//! many). Each repository is inspected with the very plan `dozen update` computes
//! (`update::plan`), which writes nothing; the packs are loaded once per source and version for
//! the whole run (`update::Packs`), and repositories are inspected in parallel.

pub mod find;
pub mod many;
pub mod report;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::record;
use crate::request::StatusRequest;
use crate::update::merge::{Action, Ours};
use crate::update::project::Project;
use crate::update::{self, NewQuestions, Options, Packs, Plan};
pub use many::update_many;
use report::{Counts, RepoStatus, State, StatusReport};

/// A repository inspected: its status and, when it could be planned, the project and the plan.
pub struct Inspected {
    /// What `status` reports.
    pub status: RepoStatus,
    /// The project and its update plan (none when broken).
    pub planned: Option<(Project, Plan)>,
}

/// `dozen status`: inspects every repository; writes nothing anywhere.
pub fn status(request: &StatusRequest) -> Result<StatusReport> {
    let paths = find::repositories(&request.repositories)?;
    let packs = Packs::default();
    let repositories: Vec<RepoStatus> =
        inspect_all(&paths, &packs, NewQuestions::Defaults).into_iter().map(|i| i.status).collect();
    let failing = repositories
        .iter()
        .filter(|r| request.fail_on.iter().any(|c| r.state.fails(*c)))
        .map(|r| r.path.clone())
        .collect();
    Ok(StatusReport {
        counts: Counts::of(repositories.iter().map(|r| &r.state)),
        repositories,
        fail_on: request.fail_on.clone(),
        failing,
    })
}

/// The exit status of a status report: an error (exit 1) when a repository is in a `--fail-on`
/// state.
pub fn verdict(report: &StatusReport) -> Result<()> {
    match report.failing.len() {
        0 => Ok(()),
        count => Err(Error::Fleet {
            message: format!(
                "{count} repositor{} in a --fail-on state ({})",
                if count == 1 { "y is" } else { "ies are" },
                report.fail_on.iter().map(|c| format!("{c:?}").to_lowercase()).collect::<Vec<_>>().join(", ")
            ),
            hint: "`dozen update --recursive DIR` updates those behind without conflicts; resolve the others by hand"
                .into(),
        }),
    }
}

/// Inspects every path, several at a time; the result is in the order of `paths`.
pub fn inspect_all(paths: &[PathBuf], packs: &Packs, new_questions: NewQuestions) -> Vec<Inspected> {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).clamp(1, 8).min(paths.len());
    if workers <= 1 {
        return paths.iter().map(|p| inspect(p, packs, new_questions)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Inspected)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let Some(path) = paths.get(i) else { break };
                        mine.push((i, inspect(path, packs, new_questions)));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("an inspection never panics")).collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, inspected)| inspected).collect()
}

/// Inspects one repository: its record, its working tree and its update plan. Reads only: a
/// half-applied write is reported, not rolled back.
pub fn inspect(path: &Path, packs: &Packs, new_questions: NewQuestions) -> Inspected {
    let shown = path.display().to_string();
    let broken = |path: String, err: &Error| Inspected {
        status: RepoStatus::broken(path, crate::untrusted::visible(&err.to_string()), err.hint()),
        planned: None,
    };
    let project = match Project::find(path) {
        Ok(project) => project,
        Err(err) => return broken(shown, &err),
    };
    let root = project.root.display().to_string();
    if let Some(staging) = project.interrupted_write() {
        let reason = format!("a dozen run was killed while writing here and left {staging}");
        let fix = Some(format!("run `dozen update {root}` to roll it back"));
        return Inspected { status: RepoStatus::broken(root, reason, fix), planned: None };
    }
    let dirty = match &project.git {
        Some(_) => match project.uncommitted() {
            Ok(files) => files,
            Err(err) => return broken(root, &err),
        },
        None => Vec::new(),
    };
    let options = Options { new_questions, ..Options::default() };
    let plan = match update::plan(&project, &options, packs) {
        Ok(plan) => plan,
        Err(err) => {
            let mut inspected = broken(root, &err);
            inspected.status.pack = Some(project.record.pack.name.clone());
            inspected.status.source = Some(project.record.pack.source.clone());
            inspected.status.recorded = Some(project.record.pack.version.clone());
            return inspected;
        }
    };
    let status = classify(root, &project, &plan, dirty);
    Inspected { status, planned: Some((project, plan)) }
}

/// The one state of a planned repository, and the files that make it so.
fn classify(path: String, project: &Project, plan: &Plan, dirty: Vec<String>) -> RepoStatus {
    let recorded = &project.record.pack;
    let new = plan.new.id();
    let moved = (&recorded.name, &recorded.version, &recorded.commit) != (&new.name, &new.version, &new.commit);
    let files: Vec<_> = plan.outcomes.iter().filter(|o| o.path != record::PATH).collect();
    let changes = plan.changes().iter().filter(|(p, _)| p != record::PATH).count();
    let conflicts: Vec<String> =
        files.iter().filter(|o| o.action == Action::Conflict).map(|o| o.path.clone()).collect();
    let pending = files.iter().any(|o| o.action != Action::Unchanged);
    let drifted: Vec<String> = plan
        .base
        .iter()
        .filter(|(p, _)| *p != record::PATH)
        .filter(|(p, entry)| !matches!(plan.ours.get(*p), Some(Ours::File(here)) if here == *entry))
        .map(|(p, _)| p.clone())
        .collect();
    let state = if !dirty.is_empty() {
        State::Dirty
    } else if (moved || pending) && !conflicts.is_empty() {
        State::BehindConflicts
    } else if moved || pending {
        State::Behind
    } else if !drifted.is_empty() {
        State::Drifted
    } else {
        State::Current
    };
    RepoStatus {
        path,
        state,
        pack: Some(recorded.name.clone()),
        source: Some(recorded.source.clone()),
        recorded: Some(recorded.version.clone()),
        newest: Some(new.version.clone()),
        release_tag: plan.release_tag.clone(),
        changes: changes + usize::from(moved),
        conflicts,
        drifted,
        dirty,
        reason: None,
        fix: None,
    }
}
