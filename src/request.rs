//! What a command asks for, as plain domain values: `cli` turns flags into these (and validates
//! them), the orchestrators take them. Kept apart from the clap structs so that nothing below the
//! command line depends on how flags are spelled.

use std::path::PathBuf;

/// How chatty the output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// The summary.
    Normal,
    /// Every file.
    Verbose,
}

/// A validated `dozen new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    /// `--pack`, when given.
    pub pack: Option<String>,
    /// `(question, text, origin)` from NAME, the dedicated flags and `--set`.
    pub explicit: Vec<(String, String, String)>,
    /// `--answers`.
    pub answers_file: Option<PathBuf>,
    /// `--yes`.
    pub yes: bool,
    /// `--output`.
    pub output: PathBuf,
    /// `--force`.
    pub force: bool,
    /// Not `--no-git`.
    pub git: bool,
    /// `--git-add`.
    pub git_add: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--json`.
    pub json: bool,
    /// `--trust`.
    pub trust: bool,
}

/// A validated `dozen update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// DIR.
    pub dir: PathBuf,
    /// `(question, text, origin)` from `--set`.
    pub explicit: Vec<(String, String, String)>,
    /// `--pack`.
    pub pack: Option<String>,
    /// `--pack-ref`.
    pub pack_ref: Option<String>,
    /// `--base`.
    pub base: Option<String>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--json`.
    pub json: bool,
    /// `--commit`.
    pub commit: bool,
    /// `--allow-dirty`.
    pub allow_dirty: bool,
    /// `--yes`: new questions of a newer pack take their defaults.
    pub yes: bool,
}

/// A validated `dozen update` over several repositories (`--recursive`, several paths, `--branch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateManyRequest {
    /// Where the repositories are.
    pub repositories: Repositories,
    /// `--branch`: the branch each update is committed on (default `dozen/update-PACK-VERSION`).
    pub branch: Option<String>,
    /// `--yes`: new questions of a newer pack take their defaults.
    pub yes: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--json`.
    pub json: bool,
}

/// The repositories a fleet command looks at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repositories {
    /// Paths of repositories (or directories inside them), as given.
    pub paths: Vec<PathBuf>,
    /// `--recursive DIR`: every repository with a `.dozen/answers.toml` under these folders.
    pub recursive: Vec<PathBuf>,
}

/// A state of a repository that makes `dozen status --fail-on` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailOn {
    /// Behind its pack (with or without conflicts).
    Behind,
    /// Behind, and the update would conflict.
    Conflicts,
    /// Files changed away from the pack's output.
    Drifted,
    /// Uncommitted changes to tracked files.
    Dirty,
    /// The record or the pack cannot be read.
    Broken,
}

/// A validated `dozen status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    /// Where the repositories are.
    pub repositories: Repositories,
    /// `--fail-on`.
    pub fail_on: Vec<FailOn>,
    /// `--json`.
    pub json: bool,
}

/// A validated `dozen adopt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptRequest {
    /// DIR: the existing repository.
    pub dir: PathBuf,
    /// `--pack`.
    pub pack: String,
    /// `(question, text, origin)` from `--set`.
    pub explicit: Vec<(String, String, String)>,
    /// `--answers`.
    pub answers_file: Option<PathBuf>,
    /// `--yes`.
    pub yes: bool,
    /// `--dry-run`: compare only, write nothing.
    pub dry_run: bool,
    /// `--json`.
    pub json: bool,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Generate.
    New(NewRequest),
    /// List packs.
    List {
        /// `--json`.
        json: bool,
    },
    /// Print completions.
    Completions(clap_complete::Shell),
    /// A `dozen pack` command.
    Pack(PackRequest),
    /// Update a generated project.
    Update(UpdateRequest),
    /// Update several generated projects, each on a new branch.
    UpdateMany(UpdateManyRequest),
    /// Where generated repositories stand against their packs.
    Status(StatusRequest),
    /// Bring an existing repository under a pack.
    Adopt(AdoptRequest),
}

impl Request {
    /// Whether the request asked for `--json` output.
    pub fn json(&self) -> bool {
        match self {
            Request::New(new) => new.json,
            Request::Completions(_) => false,
            Request::Update(update) => update.json,
            Request::UpdateMany(update) => update.json,
            Request::Status(status) => status.json,
            Request::Adopt(adopt) => adopt.json,
            Request::List { json }
            | Request::Pack(
                PackRequest::New { json, .. }
                | PackRequest::Check { json, .. }
                | PackRequest::Test { json, .. }
                | PackRequest::Add { json, .. }
                | PackRequest::List { json }
                | PackRequest::Remove { json, .. },
            ) => *json,
        }
    }
}

/// A `dozen pack …` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackRequest {
    /// `pack new DIR`.
    New {
        /// Directory to create.
        dir: PathBuf,
        /// `--json`.
        json: bool,
    },
    /// `pack check SRC`.
    Check {
        /// Pack source.
        src: String,
        /// `--json`.
        json: bool,
    },
    /// `pack test SRC`.
    Test {
        /// Pack source.
        src: String,
        /// `--trust`: run the pack's checks.
        trust: bool,
        /// Above this many combinations, test an all-pairs sample.
        max: usize,
        /// `--json`.
        json: bool,
    },
    /// `pack add SRC`.
    Add {
        /// Pack source.
        src: String,
        /// `--name`.
        name: Option<String>,
        /// `--json`.
        json: bool,
    },
    /// `pack list`.
    List {
        /// `--json`.
        json: bool,
    },
    /// `pack remove NAME`.
    Remove {
        /// Installed name.
        name: String,
        /// `--json`.
        json: bool,
    },
}
