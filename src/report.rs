//! What commands report back: plain serialisable values, printed by `ui` for humans or as the
//! stable `--json` documents described in the README.

use serde::Serialize;

use crate::git::GitOutcome;
use crate::plan::FileSummary;

/// Result of `dozen new`.
#[derive(Debug, Clone, Serialize)]
pub struct NewReport {
    /// Project directory.
    pub target: String,
    /// Whether anything was written.
    pub dry_run: bool,
    /// Pack used.
    pub pack: crate::pack::PackId,
    /// Non-secret answers.
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// Every file written (or that would be).
    pub files: Vec<FileSummary>,
    /// Existing files replaced with `--force`.
    pub replaced: Vec<String>,
    /// What git did.
    pub git: GitOutcome,
    /// Hooks that ran.
    pub hooks: Vec<HookRun>,
    /// The pack's after-generation message.
    pub message: Option<String>,
}

/// One hook run.
#[derive(Debug, Clone, Serialize)]
pub struct HookRun {
    /// Command line.
    pub command: String,
    /// Exit code.
    pub code: i32,
}

/// Result of `dozen list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListReport {
    /// Built-in packs.
    pub packs: Vec<PackListing>,
    /// Packs installed with `dozen pack add`.
    pub installed: Vec<crate::pack::store::Installed>,
}

/// One pack in `dozen list`.
#[derive(Debug, Clone, Serialize)]
pub struct PackListing {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Description.
    pub description: String,
    /// Source.
    pub source: String,
    /// Questions.
    pub questions: Vec<QuestionListing>,
}

/// One question in `dozen list`.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionListing {
    /// Name (`--set NAME=…`).
    pub name: String,
    /// Type.
    pub kind: String,
    /// Prompt.
    pub prompt: String,
    /// Default as written in the pack.
    pub default: Option<String>,
    /// Choices.
    pub choices: Vec<ChoiceListing>,
}

/// One choice in `dozen list`.
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceListing {
    /// Value.
    pub value: String,
    /// Help.
    pub help: Option<String>,
    /// Availability condition.
    pub when: Option<String>,
}
