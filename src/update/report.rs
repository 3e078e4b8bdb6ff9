//! What `dozen update` reports: plain serialisable values, printed by `ui` for humans or as the
//! `--json` document described in `docs/update.md`.

use serde::Serialize;

use super::base::Origin;
use super::merge::Action;
use crate::pack::PackId;

/// Result of `dozen update`.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateReport {
    /// The project's root directory.
    pub project: String,
    /// Whether nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// The pack the project was last generated or updated from.
    pub from: PackId,
    /// The pack rendered now.
    pub to: PackId,
    /// For a git pack without `--pack-ref`: the newest release tag it moved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_tag: Option<String>,
    /// Where the base (the last pristine output) came from.
    pub base: Origin,
    /// Answers whose value changed, was added or was dropped.
    pub answers: Vec<AnswerChange>,
    /// Every file that changed or needs attention, sorted by path with conflicts last.
    pub files: Vec<FileReport>,
    /// Files left as they were because there was nothing to do.
    pub unchanged: usize,
    /// How many of `files` are conflicts.
    pub conflicts: usize,
    /// The commit made with `--commit`.
    pub commit: Option<String>,
}

impl UpdateReport {
    /// Whether the project was already up to date.
    pub fn up_to_date(&self) -> bool {
        self.files.is_empty()
    }
}

/// One answer that differs between the record and the new output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerChange {
    /// Question name.
    pub name: String,
    /// Recorded value (`null`: none).
    pub from: Option<serde_json::Value>,
    /// New value (`null`: the question no longer applies).
    pub to: Option<serde_json::Value>,
}

/// One file in the report.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Project-relative path.
    pub path: String,
    /// What happened.
    pub action: Action,
    /// Why, when the action alone does not say it.
    pub note: Option<String>,
    /// Where the pack's version was written beside the user's file.
    pub sidecar: Option<String>,
    /// Unified diff of the working-tree change (`--dry-run` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}
