//! What the fleet commands report: plain serialisable values, printed by `ui` as a table for
//! humans or as the `--json` documents described in docs/json.md (`status`, `update-many`).

use serde::Serialize;

use crate::request::FailOn;

/// Where one repository stands against its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// At the pack's newest version, and no file changed away from its output.
    Current,
    /// The pack has moved on, and the update would merge cleanly.
    Behind,
    /// The pack has moved on, and the update would conflict.
    BehindConflicts,
    /// At the pack's newest version, with files changed away from the pack's output.
    Drifted,
    /// Tracked files have uncommitted changes.
    Dirty,
    /// The record, the pack or the base cannot be read.
    Broken,
}

impl State {
    /// The word shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Current => "current",
            State::Behind => "behind",
            State::BehindConflicts => "behind-conflicts",
            State::Drifted => "drifted",
            State::Dirty => "dirty",
            State::Broken => "broken",
        }
    }

    /// Whether `--fail-on condition` fails on this state.
    pub fn fails(self, condition: FailOn) -> bool {
        matches!(
            (condition, self),
            (FailOn::Behind, State::Behind | State::BehindConflicts)
                | (FailOn::Conflicts, State::BehindConflicts)
                | (FailOn::Drifted, State::Drifted)
                | (FailOn::Dirty, State::Dirty)
                | (FailOn::Broken, State::Broken)
        )
    }
}

/// One repository in `dozen status`.
#[derive(Debug, Clone, Serialize)]
pub struct RepoStatus {
    /// The repository's root (the directory holding `.dozen/`), or the path as given when none
    /// was found.
    pub path: String,
    /// Its state.
    pub state: State,
    /// The pack's name, as recorded.
    pub pack: Option<String>,
    /// The pack's source, as recorded.
    pub source: Option<String>,
    /// The pack version the repository was last generated or updated from.
    pub recorded: Option<String>,
    /// The version `dozen update` would move it to.
    pub newest: Option<String>,
    /// For a git pack: the newest release tag, which `newest` is the version of.
    pub release_tag: Option<String>,
    /// How many files `dozen update` would change.
    pub changes: usize,
    /// Files the update would conflict in.
    pub conflicts: Vec<String>,
    /// Files that differ from the pack's output at the recorded version (edited, deleted).
    pub drifted: Vec<String>,
    /// Tracked files with uncommitted changes.
    pub dirty: Vec<String>,
    /// Why the state is `broken`.
    pub reason: Option<String>,
    /// What fixes it.
    pub fix: Option<String>,
}

impl RepoStatus {
    /// A repository that cannot be inspected.
    pub fn broken(path: String, reason: String, fix: Option<String>) -> RepoStatus {
        RepoStatus {
            path,
            state: State::Broken,
            pack: None,
            source: None,
            recorded: None,
            newest: None,
            release_tag: None,
            changes: 0,
            conflicts: Vec::new(),
            drifted: Vec::new(),
            dirty: Vec::new(),
            reason: Some(reason),
            fix,
        }
    }
}

/// How many repositories are in each state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// `current`.
    pub current: usize,
    /// `behind`.
    pub behind: usize,
    /// `behind-conflicts`.
    #[serde(rename = "behind-conflicts")]
    pub behind_conflicts: usize,
    /// `drifted`.
    pub drifted: usize,
    /// `dirty`.
    pub dirty: usize,
    /// `broken`.
    pub broken: usize,
}

impl Counts {
    /// Counts the states.
    pub fn of<'a>(states: impl IntoIterator<Item = &'a State>) -> Counts {
        let mut counts = Counts::default();
        for state in states {
            *match state {
                State::Current => &mut counts.current,
                State::Behind => &mut counts.behind,
                State::BehindConflicts => &mut counts.behind_conflicts,
                State::Drifted => &mut counts.drifted,
                State::Dirty => &mut counts.dirty,
                State::Broken => &mut counts.broken,
            } += 1;
        }
        counts
    }
}

/// Result of `dozen status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Every repository, in the order found (paths as given, then each folder sorted by path).
    pub repositories: Vec<RepoStatus>,
    /// How many are in each state.
    pub counts: Counts,
    /// `--fail-on`.
    pub fail_on: Vec<FailOn>,
    /// Paths of the repositories in a `--fail-on` state (the exit code is 1 when there are any).
    pub failing: Vec<String>,
}

/// What `dozen update` over many repositories did to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Done {
    /// Updated on a new branch, with one commit.
    Updated,
    /// Would be updated (`--dry-run`).
    WouldUpdate,
    /// Nothing to do: it is current (or drifted, at the newest version).
    UpToDate,
    /// Left alone: conflicts, uncommitted changes, a broken record; `reason` says which.
    Skipped,
    /// The update failed part way and was backed out; `reason` says why.
    Failed,
}

impl Done {
    /// The word shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Done::Updated => "updated",
            Done::WouldUpdate => "would-update",
            Done::UpToDate => "up-to-date",
            Done::Skipped => "skipped",
            Done::Failed => "failed",
        }
    }
}

/// One repository in `dozen update` over many.
#[derive(Debug, Clone, Serialize)]
pub struct RepoUpdate {
    /// The repository's root.
    pub path: String,
    /// Its state before the update, as `dozen status` says it.
    pub state: State,
    /// What was done.
    pub action: Done,
    /// The pack version it was at.
    pub from: Option<String>,
    /// The pack version it was updated to.
    pub to: Option<String>,
    /// The branch the update was committed on (the current branch is not changed).
    pub branch: Option<String>,
    /// The commit on that branch.
    pub commit: Option<String>,
    /// How many files the update changed (or would change).
    pub files: usize,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
}

/// Result of `dozen update` over many repositories.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateManyReport {
    /// Whether nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// Every repository, in the order found.
    pub repositories: Vec<RepoUpdate>,
}
