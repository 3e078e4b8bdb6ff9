//! `dozen update`: brings a generated project to a newer version of its pack, or to changed
//! answers, keeping the user's edits. Three trees are compared file by file: the base (what dozen
//! generated last), the new output (the pack rendered with the recorded answers and any `--set`)
//! and the working tree. `plan` computes all of it in memory — the one function `update` and the
//! fleet commands (`status`, `update --recursive`) share, which writes nothing — and only then
//! `apply` writes it through `write::apply`, all or nothing (journaled, so even a killed run is
//! rolled back by the next one).
//!
//! The base is derived from what the repository itself records in its committed
//! `.dozen/answers.toml`: the recorded pack version rendered again with the recorded answers. The
//! base ref (`refs/dozen/base`) is only a shortcut to that same tree, used when one of its commits
//! holds exactly the record in the working tree — so backing an update out with plain git and
//! running it again gives the same result.

pub mod base;
pub mod merge;
pub mod packs;
pub mod project;
pub mod report;
pub mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use crate::answers::{self, Inputs};
use crate::error::{Error, Result};
use crate::pack::{PackId, Source};
use crate::prompt::NoPrompt;
use crate::record::{self, Record};
use crate::request::UpdateRequest;
use crate::write::Interrupt;
use base::Origin;
use merge::{Action, Change, Labels, Ours, Outcome};
use packs::Loaded;
pub use packs::Packs;
use project::Project;
use report::{AnswerChange, FileReport, UpdateReport};
use tree::{Entry, Tree};

/// An explicit answer: `(question, text, origin)`, as `answers::Inputs` takes it.
pub type Explicit = (String, String, String);

/// A pack rendered with answers: everything the new side (or a re-rendered base) is.
pub struct Rendered {
    /// The pack, shared with every other repository of the run rendered from it.
    pack: Arc<Loaded>,
    /// The record it writes.
    pub record: Record,
    /// Its files, the record included.
    pub tree: Tree,
}

impl Rendered {
    /// The pack's identity.
    pub fn id(&self) -> &PackId {
        self.pack.pack.id()
    }
}

/// What shapes the new side of an update, besides the project itself (`update`'s flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--set`.
    pub explicit: Vec<Explicit>,
    /// `--pack`.
    pub pack: Option<String>,
    /// `--pack-ref`.
    pub pack_ref: Option<String>,
    /// `--base`.
    pub base: Option<String>,
    /// What becomes of questions the record has no answer for.
    pub new_questions: NewQuestions,
}

/// An update computed in memory: the three sides and the decision for every file. Nothing has
/// been written to compute it.
pub struct Plan {
    /// The new output.
    pub new: Rendered,
    /// For a git pack without `--pack-ref`: the newest release tag it moves to.
    pub release_tag: Option<String>,
    /// The base.
    pub base: Tree,
    /// Where the base came from.
    pub origin: Origin,
    /// The commit the base ref points at now.
    previous: Option<git2::Oid>,
    /// Conflict-marker labels.
    labels: Labels,
    /// The decision for every path of the base and the new output, the record last.
    pub outcomes: Vec<Outcome>,
    /// The working tree at those paths.
    pub ours: BTreeMap<String, Ours>,
}

impl Plan {
    /// Every change to the working tree, the pack's versions written beside conflicting binaries
    /// included.
    pub fn changes(&self) -> Vec<(String, Change)> {
        let sidecars = self.outcomes.iter().filter_map(|o| o.sidecar.clone()).map(|(p, e)| (p, Change::Write(e)));
        self.outcomes
            .iter()
            .map(|o| (o.path.clone(), o.change.clone()))
            .chain(sidecars)
            .filter(|(_, change)| *change != Change::None)
            .collect()
    }

    /// How many files would conflict.
    pub fn conflicts(&self) -> usize {
        self.outcomes.iter().filter(|o| o.action == Action::Conflict).count()
    }

    /// The report of this plan, before anything is written.
    pub fn report(&self, project: &Project, dry_run: bool) -> UpdateReport {
        UpdateReport {
            project: project.root.display().to_string(),
            dry_run,
            from: project.record.pack.clone(),
            to: self.new.id().clone(),
            release_tag: self.release_tag.clone(),
            base: self.origin.clone(),
            answers: answer_changes(&project.record, &self.new.record),
            files: file_reports(&self.outcomes, &self.ours, dry_run),
            unchanged: self.outcomes.iter().filter(|o| o.action == Action::Unchanged).count(),
            conflicts: self.conflicts(),
            commit: None,
        }
    }
}

/// Runs an update and reports it; the working tree is untouched on error and with `--dry-run`.
pub fn update(request: &UpdateRequest) -> Result<UpdateReport> {
    let interrupt = Interrupt::install();
    let project = Project::open(&request.dir)?;
    if request.commit && project.git.is_none() {
        return Err(Error::Usage {
            message: format!("--commit: {} is not in a git repository", project.root.display()),
            hint: "drop --commit".into(),
        });
    }
    if !request.allow_dirty {
        let files = project.uncommitted()?;
        if !files.is_empty() {
            let more = files.len().saturating_sub(10);
            let mut files: Vec<String> = files.into_iter().take(10).collect();
            if more > 0 {
                files.push(format!("and {more} more"));
            }
            return Err(Error::Dirty { path: project.root.clone(), files });
        }
    }
    let new_questions = if request.yes {
        NewQuestions::Defaults
    } else if !request.json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        NewQuestions::Ask
    } else {
        NewQuestions::Refuse
    };
    let options = Options {
        explicit: request.explicit.clone(),
        pack: request.pack.clone(),
        pack_ref: request.pack_ref.clone(),
        base: request.base.clone(),
        new_questions,
    };
    let plan = plan(&project, &options, &Packs::default())?;
    let mut report = plan.report(&project, request.dry_run);
    if request.dry_run {
        return Ok(report);
    }
    apply(&project, &plan, &mut report, request.commit, &interrupt)?;
    Ok(report)
}

/// Computes an update of `project` in memory: the new output, the base and the decision for every
/// file. Reads the pack (through `packs`, once per run) and the working tree; writes nothing.
pub fn plan(project: &Project, options: &Options, packs: &Packs) -> Result<Plan> {
    let (source, release_tag) = new_source(project, options, packs)?;
    let new = render(&packs.load(&source)?, project, &options.explicit, options.new_questions)?;
    let (base, origin, previous) = find_base(project, options.base.as_deref(), &options.explicit, packs)?;

    let labels = Labels { ours: "yours".into(), theirs: format!("{} {}", new.id().name, new.id().version) };
    let paths: BTreeSet<&String> = base.keys().chain(new.tree.keys()).filter(|p| *p != record::PATH).collect();
    let mut ours = BTreeMap::new();
    let mut outcomes = Vec::new();
    for path in paths {
        let here = project.read(path)?;
        outcomes.push(merge::file(path, base.get(path), &here, new.tree.get(path), &labels)?);
        ours.insert(path.clone(), here);
    }
    let here = project.read(record::PATH)?;
    outcomes.push(record_outcome(&here, &new.tree[record::PATH]));
    ours.insert(record::PATH.to_owned(), here);
    Ok(Plan { new, release_tag, base, origin, previous, labels, outcomes, ours })
}

/// Writes a plan into the project's working tree, all or nothing, then moves the base ref to the
/// new pristine output and, with `commit` and no conflict, commits the changed files on the
/// current branch (recorded in `report`).
pub fn apply(
    project: &Project,
    plan: &Plan,
    report: &mut UpdateReport,
    commit: bool,
    interrupt: &Interrupt,
) -> Result<()> {
    let changes = plan.changes();
    let message = commit_message(report);
    let base_commit = match &project.git {
        Some(git) => base::write_commit(
            git,
            &plan.new.tree,
            plan.previous,
            &format!("dozen: pristine output of {}", plan.labels.theirs),
        )?,
        None => None,
    };
    let writes: Vec<(&str, crate::write::Change<'_>)> = changes
        .iter()
        .filter_map(|(path, change)| match change {
            Change::None => None,
            Change::Write(entry) => {
                Some((path.as_str(), crate::write::Change::Write { bytes: &entry.bytes, executable: entry.executable }))
            }
            Change::Remove => Some((path.as_str(), crate::write::Change::Remove)),
        })
        .collect();
    crate::write::apply(&project.root, &writes, interrupt)?;
    if let (Some(git), Some(commit)) = (&project.git, base_commit) {
        base::move_ref(git, commit)?;
    }
    if commit && report.conflicts == 0 && !changes.is_empty() {
        let paths: Vec<&str> = changes.iter().map(|(path, _)| path.as_str()).collect();
        report.commit = Some(project.commit(&paths, &message)?);
    }
    Ok(())
}

/// The recorded pack source; a relative directory is relative to the project's root.
fn recorded_source(text: &str, root: &Path) -> Result<Source> {
    let path = Path::new(text);
    if path.is_relative() && !text.contains("://") && root.join(path).join(crate::pack::source::MANIFEST).is_file() {
        return Ok(Source::Dir(root.join(path)));
    }
    Source::parse(text)
}

/// The pack to render now: the recorded source (or `--pack`); a git pack at `--pack-ref`, at the
/// ref `--pack URL#REF` names, or else at its newest release tag (returned, to be reported).
fn new_source(project: &Project, options: &Options, packs: &Packs) -> Result<(Source, Option<String>)> {
    let record = &project.record;
    let mut source = match &options.pack {
        Some(text) => Source::parse(text)?,
        None => recorded_source(&record.pack.source, &project.root).map_err(|err| match err {
            Error::PackSource { source_name, message, .. } => Error::PackSource {
                source_name,
                message: format!("{message} (the source recorded in {})", record::PATH),
                hint: "pass --pack SRC naming where the pack is now".into(),
            },
            other => other,
        })?,
    };
    if let Some(reference) = &options.pack_ref {
        match &mut source {
            Source::Git(git) => git.reference = Some(reference.clone()),
            other => {
                return Err(Error::Usage {
                    message: format!("--pack-ref applies to git packs, and this project's pack is {other}"),
                    hint: "drop --pack-ref, or pass --pack URL#REF".into(),
                });
            }
        }
        return Ok((source, None));
    }
    let named_by_flag = options.pack.as_deref().is_some_and(|p| p.contains('#'));
    if let Source::Git(git) = &mut source
        && !named_by_flag
    {
        let mut unpinned = git.clone();
        unpinned.reference = None;
        if let Some((tag, _)) = packs.newest_release_tag(&unpinned)? {
            git.reference = Some(tag.clone());
            return Ok((source, Some(tag)));
        }
    }
    Ok((source, None))
}

/// What to do with questions a newer pack asks that the record has no answer for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NewQuestions {
    /// Take their defaults (`--yes`, `status`, and always for the base).
    #[default]
    Defaults,
    /// Ask them (a terminal).
    Ask,
    /// List them all as missing.
    Refuse,
}

/// Renders a pack with the project's recorded answers (those the pack still asks) and `explicit`.
fn render(
    loaded: &Arc<Loaded>,
    project: &Project,
    explicit: &[Explicit],
    new_questions: NewQuestions,
) -> Result<Rendered> {
    let (pack, renderer) = (&loaded.pack, &loaded.renderer);
    // A project that recorded its directory pack relative to itself keeps it that way.
    let here = Path::new(&pack.id().source);
    let relative = Path::new(&project.record.pack.source).is_relative()
        && here.is_absolute()
        && here.join(crate::pack::source::MANIFEST).is_file();
    let relocated;
    let pack = if relative {
        let recorded = crate::relpath::relative_to(&project.root, here);
        relocated = pack.clone().with_origin(recorded, pack.id().commit.clone());
        &relocated
    } else {
        pack
    };
    let asked = |name: &str| pack.manifest.questions.iter().any(|q| q.name == name);
    let recorded: toml::Table =
        project.record.answers.iter().filter(|(k, _)| asked(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let inputs = Inputs {
        explicit: explicit.to_vec(),
        file: Some((project.root.join(record::PATH), recorded)),
        config: crate::config::user_defaults()?,
        interactive: false,
        user: crate::answers::user_identity(),
    };
    let mut answers = answers::resolve(pack, &inputs, renderer, &mut NoPrompt)?;
    let configured = inputs.config.as_ref().map(|(_, table)| table.clone()).unwrap_or_default();
    // Secret answers are never recorded: one with a default takes it, as docs/update.md says
    // (one without is already missing), rather than counting as a question the pack added.
    let unanswered: Vec<String> = answers
        .values
        .iter()
        .filter(|a| !a.secret)
        .map(|a| a.name.clone())
        .filter(|name| {
            !project.record.answers.contains_key(name)
                && !explicit.iter().any(|(key, _, _)| key == name)
                && !configured.contains_key(name)
        })
        .collect();
    if !unanswered.is_empty() {
        match new_questions {
            NewQuestions::Defaults => {}
            NewQuestions::Ask => {
                let inputs = Inputs { interactive: true, ..inputs };
                answers = answers::resolve(pack, &inputs, renderer, &mut crate::prompt::Dialoguer::new())?;
            }
            NewQuestions::Refuse => {
                return Err(Error::Usage {
                    message: format!(
                        "{} {} asks {} question{} the record has no answer for: {}",
                        pack.id().name,
                        pack.id().version,
                        unanswered.len(),
                        if unanswered.len() == 1 { "" } else { "s" },
                        unanswered.join(", ")
                    ),
                    hint: format!(
                        "answer them with {}, take their defaults with --yes, or run in a terminal to be asked",
                        unanswered.iter().map(|n| format!("--set {n}=…")).collect::<Vec<_>>().join(" ")
                    ),
                });
            }
        }
    }
    let tree = tree::from_plan(&crate::plan::project(pack, &answers, renderer)?);
    let record = Record::new(pack, &answers);
    Ok(Rendered { pack: Arc::clone(loaded), record, tree })
}

/// The base, where it came from, and the commit the base ref points at now.
fn find_base(
    project: &Project,
    rev: Option<&str>,
    explicit: &[Explicit],
    packs: &Packs,
) -> Result<(Tree, Origin, Option<git2::Oid>)> {
    let previous = project.git.as_ref().and_then(base::current);
    if let Some(rev) = rev {
        let git = project.git.as_ref().ok_or_else(|| Error::Usage {
            message: format!("--base {rev}: {} is not in a git repository", project.root.display()),
            hint: "drop --base; the recorded pack version is then rendered again".into(),
        })?;
        let (tree, commit) = base::from_rev(git, rev)?;
        return Ok((tree, Origin::Rev { rev: rev.to_owned(), commit: commit.to_string() }, previous));
    }
    if let (Some(git), Some(tip)) = (&project.git, previous) {
        // Only a base commit that holds the very record in the working tree is that record's base.
        let here = match project.read(record::PATH)? {
            Ours::File(entry) => Some(entry.bytes),
            _ => None,
        };
        if let Some(here) = here
            && let Some((tree, commit)) = base::matching(git, tip, record::PATH, &here)?
        {
            let name = crate::git::base_ref(&git.prefix);
            return Ok((tree, Origin::Ref { name, commit: commit.to_string() }, previous));
        }
    }
    let loaded = recorded_pack(project, packs)?;
    let label = format!("{} {}", loaded.pack.id().name, loaded.pack.id().version);
    // Secret answers are not recorded: take them from --set for the base as well.
    let secrets: Vec<Explicit> = explicit
        .iter()
        .filter(|(key, _, _)| loaded.pack.manifest.questions.iter().any(|q| q.name == *key && q.secret))
        .cloned()
        .collect();
    let rendered = render(&loaded, project, &secrets, NewQuestions::Defaults)?;
    Ok((rendered.tree, Origin::Rendered { pack: label }, previous))
}

/// The exact pack version the record names, or why it cannot be had.
fn recorded_pack(project: &Project, packs: &Packs) -> Result<Arc<Loaded>> {
    let record = &project.record;
    let missing = match &project.git {
        Some(git) => format!("no commit of {} holds the recorded answers", crate::git::base_ref(&git.prefix)),
        None => "the project is not in a git repository".to_owned(),
    };
    let no_base =
        |reason: String| Error::NoBase { path: project.root.clone(), reason: format!("{missing}, and {reason}") };
    let recorded = format!("{} {} from {}", record.pack.name, record.pack.version, record.pack.source);
    let mut source = recorded_source(&record.pack.source, &project.root)
        .map_err(|err| no_base(format!("the recorded pack {recorded} cannot be loaded: {err}")))?;
    if let (Source::Git(git), Some(commit)) = (&mut source, &record.pack.commit) {
        git.reference = Some(commit.clone());
    }
    let loaded =
        packs.load(&source).map_err(|err| no_base(format!("the recorded pack {recorded} cannot be loaded: {err}")))?;
    let wanted: Vec<(&str, &str)> =
        std::iter::once(&record.pack).chain(&record.chain).map(|p| (p.name.as_str(), p.version.as_str())).collect();
    let found: Vec<(&str, &str)> = loaded.pack.chain.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
    if wanted != found {
        let found = found.iter().map(|(n, v)| format!("{n} {v}")).collect::<Vec<_>>().join(" < ");
        return Err(no_base(format!(
            "the recorded pack {recorded} is not available to render again (it holds {found} now)"
        )));
    }
    Ok(loaded)
}

/// `.dozen/answers.toml` belongs to dozen: it always takes the new record.
fn record_outcome(here: &Ours, new: &Entry) -> Outcome {
    let (action, change) = match here {
        Ours::File(entry) if entry == new => (Action::Unchanged, Change::None),
        _ => (Action::Updated, Change::Write(new.clone())),
    };
    Outcome { path: record::PATH.to_owned(), action, note: None, change, sidecar: None }
}

fn answer_changes(old: &Record, new: &Record) -> Vec<AnswerChange> {
    let names: BTreeSet<&String> = old.answers.keys().chain(new.answers.keys()).collect();
    let json = |v: &toml::Value| serde_json::to_value(v).expect("TOML values are JSON values");
    names
        .into_iter()
        .filter(|name| old.answers.get(*name) != new.answers.get(*name))
        .map(|name| AnswerChange {
            name: name.clone(),
            from: old.answers.get(name).map(json),
            to: new.answers.get(name).map(json),
        })
        .collect()
}

fn file_reports(outcomes: &[Outcome], ours: &BTreeMap<String, Ours>, dry_run: bool) -> Vec<FileReport> {
    let mut files: Vec<FileReport> = outcomes
        .iter()
        .filter(|o| o.action != Action::Unchanged)
        .map(|o| {
            let diff = dry_run.then(|| {
                let before = match &ours[&o.path] {
                    Ours::File(entry) => Some(entry.bytes.as_slice()),
                    _ => None,
                };
                let mut text = match &o.change {
                    Change::None => String::new(),
                    Change::Write(entry) => diff(&o.path, before, Some(&entry.bytes)),
                    Change::Remove => diff(&o.path, before, None),
                };
                if let Some((path, entry)) = &o.sidecar {
                    text.push_str(&diff(path, None, Some(&entry.bytes)));
                }
                text
            });
            FileReport {
                path: o.path.clone(),
                action: o.action,
                note: o.note.clone(),
                sidecar: o.sidecar.as_ref().map(|(path, _)| path.clone()),
                diff: diff.filter(|d| !d.is_empty()),
            }
        })
        .collect();
    files.sort_by(|a, b| (a.action == Action::Conflict, &a.path).cmp(&(b.action == Action::Conflict, &b.path)));
    files
}

/// A unified diff of one file; `None` is a side where the file does not exist.
fn diff(path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> String {
    let text = git2::Patch::from_buffers(
        before.unwrap_or_default(),
        Some(Path::new(path)),
        after.unwrap_or_default(),
        Some(Path::new(path)),
        None,
    )
    .and_then(|mut patch| patch.to_buf())
    .map_or_else(
        |err| format!("(no diff of {path}: {})\n", err.message()),
        |buf| String::from_utf8_lossy(&buf).into_owned(),
    );
    match (before, after) {
        (None, _) => text.replacen(&format!("\n--- a/{path}\n"), "\n--- /dev/null\n", 1),
        (_, None) => text.replacen(&format!("\n+++ b/{path}\n"), "\n+++ /dev/null\n", 1),
        _ => text,
    }
}

fn commit_message(report: &UpdateReport) -> String {
    let mut parts = Vec::new();
    if report.from.version != report.to.version || report.from.name != report.to.name {
        parts.push(format!("{} {} → {} {}", report.from.name, report.from.version, report.to.name, report.to.version));
    }
    for change in &report.answers {
        parts.push(match &change.to {
            Some(value) => {
                format!("{}={}", change.name, value.as_str().map_or_else(|| value.to_string(), str::to_owned))
            }
            None => format!("{} dropped", change.name),
        });
    }
    if parts.is_empty() { "Update with dozen".to_owned() } else { format!("Update with dozen: {}", parts.join(", ")) }
}
