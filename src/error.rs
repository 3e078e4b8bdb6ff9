//! Errors as data. Every failure dozen can report is a variant here carrying the path, line,
//! question or flag involved and a hint that fixes it; colour and layout are added by `ui`.

use std::path::PathBuf;

/// A problem found in a pack manifest or template, located as `file:line`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// File the problem is in, relative to the pack root where possible.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What fixes it.
    pub hint: Option<String>,
}

impl Problem {
    /// A problem with a file and message, no line or hint yet.
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: file.into(), line: None, message: message.into(), hint: None }
    }

    /// Sets the line.
    #[must_use]
    pub fn at(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    /// Sets the hint.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// `file:line` or `file`.
    pub fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// One answer that could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AnswerProblem {
    /// The question the value was for.
    pub question: String,
    /// Where the value came from (`--set`, `answers.toml`, `config`, `default`).
    pub origin: String,
    /// What is wrong.
    pub message: String,
    /// What fixes it.
    pub hint: String,
}

/// Everything that can go wrong in a dozen run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Command-line usage that clap could not catch (conflicting or malformed values).
    #[error("{message}")]
    Usage {
        /// What was wrong.
        message: String,
        /// What fixes it.
        hint: String,
    },
    /// One or more answers were invalid.
    #[error("{} invalid answer{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Answers(Vec<AnswerProblem>),
    /// Questions without a value and without a default, in a run that cannot prompt.
    #[error("missing answers for: {}", .0.join(", "))]
    Missing(Vec<String>),
    /// The project name cannot be used.
    #[error("invalid project name {name:?}: {reason}")]
    Name {
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: String,
        /// A name that would work, when one can be derived.
        suggestion: Option<String>,
    },
    /// A pack manifest or template has problems; all of them are listed.
    #[error("pack {pack} has {} problem{}", .problems.len(), if .problems.len() == 1 { "" } else { "s" })]
    Pack {
        /// Which pack.
        pack: String,
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// The pack source could not be found or read.
    #[error("cannot load pack {source_name:?}: {message}")]
    PackSource {
        /// The source as given.
        source_name: String,
        /// What went wrong.
        message: String,
        /// What fixes it.
        hint: String,
    },
    /// Rendering a template failed.
    #[error("{}: {message}", .problem.location())]
    Render {
        /// Where.
        problem: Problem,
        /// The engine's message.
        message: String,
    },
    /// A rendered path would leave the target directory.
    #[error("refusing to write {path:?} (from {source_file}): {reason}")]
    UnsafePath {
        /// The rendered path.
        path: String,
        /// The template file it came from.
        source_file: String,
        /// Why it is refused.
        reason: String,
    },
    /// The target directory exists and is not empty.
    #[error("target {} already exists and is not empty", .0.display())]
    TargetExists(PathBuf),
    /// Something other than a directory is where the project or one of its parents must go.
    #[error("{} is not a directory, so the project cannot be written there", .0.display())]
    NotADirectory(PathBuf),
    /// A user-supplied input file (answers, config) is malformed.
    #[error("{}: {message}", .path.display())]
    InputFile {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
        /// What fixes it.
        hint: String,
    },
    /// A file-system operation failed.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        /// What was being done (`writing`, `reading`, …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// git failed.
    #[error("git: {0}")]
    Git(String),
    /// The user declined the confirmation or pressed Ctrl-C.
    #[error("cancelled; nothing was written")]
    Cancelled,
    /// `dozen update` outside a generated project.
    #[error("{} is not inside a project generated by dozen: there is no .dozen/answers.toml here or above", .0.display())]
    NotGenerated(PathBuf),
    /// `dozen update` on a working tree with uncommitted changes.
    #[error("{} has uncommitted changes: {}", .path.display(), .files.join(", "))]
    Dirty {
        /// The project.
        path: PathBuf,
        /// The changed files, project-relative.
        files: Vec<String>,
    },
    /// `dozen update` cannot find what the project was last generated from.
    #[error("cannot find the output {} was last generated from: {reason}", .path.display())]
    NoBase {
        /// The project.
        path: PathBuf,
        /// Why neither the base ref nor a re-render works.
        reason: String,
    },
    /// `dozen update` left (or, with `--dry-run`, would leave) conflicts in the working tree.
    #[error("{count} file{} {}", if *.count == 1 { "" } else { "s" }, if *.dry_run { "would conflict" } else { "left with conflicts" })]
    Conflicts {
        /// How many files.
        count: usize,
        /// Whether nothing was written.
        dry_run: bool,
    },
    /// A fleet command's report, already printed, says it failed: `status --fail-on` found a
    /// repository in one of those states, or an update over many repositories failed in one.
    #[error("{message}")]
    Fleet {
        /// What was found.
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// A trusted hook failed after the project was written: the project stays, git was not run.
    #[error("{what} `{command}` failed with exit code {code}; the project is in {} as generated plus what the hooks before it changed{}", .target.display(), if *.git { ", and has no git repository yet" } else { "" })]
    HookFailed {
        /// `hook`.
        what: &'static str,
        /// The command line.
        command: String,
        /// Its exit code (-1 when killed by a signal).
        code: i32,
        /// The written project.
        target: PathBuf,
        /// Whether git would have run after the hooks.
        git: bool,
    },
    /// A hook or check command failed.
    #[error("{what} `{command}` failed with exit code {code}")]
    Command {
        /// `hook` or `check`.
        what: &'static str,
        /// The command line.
        command: String,
        /// Its exit code (-1 when killed by a signal).
        code: i32,
    },
}

impl Error {
    /// The process exit code: 2 for bad input, 1 for work that failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. }
            | Error::Answers(_)
            | Error::Missing(_)
            | Error::Name { .. }
            | Error::Pack { .. }
            | Error::PackSource { .. }
            | Error::TargetExists(_)
            | Error::NotADirectory(_)
            | Error::InputFile { .. }
            | Error::UnsafePath { .. }
            | Error::NotGenerated(_)
            | Error::Dirty { .. }
            | Error::NoBase { .. } => 2,
            Error::Render { .. }
            | Error::Io { .. }
            | Error::Git(_)
            | Error::Cancelled
            | Error::Command { .. }
            | Error::HookFailed { .. }
            | Error::Conflicts { .. }
            | Error::Fleet { .. } => 1,
        }
    }

    /// The error's kind for `--json` (`{"error": {"kind": ...}}`), stable across versions.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage { .. } => "usage",
            Error::Answers(_) => "invalid_answers",
            Error::Missing(_) => "missing_answers",
            Error::Name { .. } => "invalid_name",
            Error::Pack { .. } => "invalid_pack",
            Error::PackSource { .. } => "pack_source",
            Error::Render { .. } => "render",
            Error::UnsafePath { .. } => "unsafe_path",
            Error::TargetExists(_) | Error::NotADirectory(_) => "target_exists",
            Error::InputFile { .. } => "input_file",
            Error::Io { .. } => "io",
            Error::Git(_) => "git",
            Error::Cancelled => "cancelled",
            Error::NotGenerated(_) => "not_generated",
            Error::Dirty { .. } => "dirty",
            Error::NoBase { .. } => "no_base",
            Error::Conflicts { .. } => "conflicts",
            Error::Fleet { .. } => "fleet",
            Error::Command { .. } => "command_failed",
            Error::HookFailed { .. } => "hook_failed",
        }
    }

    /// The hint that fixes this error, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. }
            | Error::PackSource { hint, .. }
            | Error::InputFile { hint, .. }
            | Error::Fleet { hint, .. } => {
                Some(hint.clone())
            }
            Error::Missing(names) => Some(format!(
                "pass them with --set, e.g. {}, or run in a terminal without --yes to be asked",
                names.iter().map(|n| format!("--set {n}=…")).collect::<Vec<_>>().join(" ")
            )),
            Error::Name { suggestion, .. } => Some(match suggestion {
                Some(s) => format!("try `{s}`"),
                None => "use letters, digits and dashes, starting with a letter, at most 63 characters".into(),
            }),
            Error::Render { problem, .. } => problem.hint.clone(),
            Error::UnsafePath { .. } => {
                Some("fix the pack so every rendered path stays inside the project (no `..`, no leading `/`)".into())
            }
            Error::NotADirectory(_) => Some("choose another name or --output".into()),
            Error::TargetExists(_) => Some("choose another name or --output, or pass --force to write into it".into()),
            Error::Io { .. } => Some("check the path exists and that you may write to it".into()),
            Error::NotGenerated(_) => Some("run it in the project's directory, or pass that directory: dozen update DIR".into()),
            Error::Dirty { .. } => Some("commit or stash them first (git stash), or pass --allow-dirty".into()),
            Error::NoBase { .. } => Some(
                "pass --base REV naming the commit that holds what dozen last generated, e.g. the first one: --base $(git rev-list --max-parents=0 HEAD)".into(),
            ),
            Error::Conflicts { dry_run: true, .. } => Some("run it without --dry-run, then resolve them".into()),
            Error::Conflicts { dry_run: false, .. } => {
                Some("edit the files listed above (`git diff --check` finds the markers), then commit".into())
            }
            Error::Command { what: "hook", .. } => {
                Some("the generated project is kept; fix the cause and run the command by hand in it".into())
            }
            Error::HookFailed { target, git: true, .. } => Some(format!(
                "fix the cause and run the hook by hand in {0}, then `git -C {0} init && git -C {0} add -A && git -C {0} commit -m 'Initial commit'`",
                target.display()
            )),
            Error::HookFailed { target, .. } => {
                Some(format!("fix the cause and run the hook by hand in {}", target.display()))
            }
            Error::Pack { .. } => Some("fix every problem listed; `dozen pack check SRC` lists them all again".into()),
            Error::Answers(_) | Error::Git(_) | Error::Cancelled | Error::Command { .. } => None,
        }
    }
}

/// Attaches a path and an action to an I/O error.
pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { action, path, source }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
