//! git via git2: a new repository on `main` with one initial commit of every generated file, or,
//! inside an existing work tree, the files added to that repository's index and no nested repo.
//! Either way a base ref keeps the pristine output for `dozen update`.

use std::path::Path;

use git2::{IndexAddOption, Repository, RepositoryInitOptions, Signature};

use crate::error::{Error, Result};

/// What git did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum GitOutcome {
    /// A new repository with its first commit.
    Initialized {
        /// Branch name.
        branch: String,
        /// Commit id.
        commit: String,
    },
    /// Files staged in the enclosing repository.
    AddedToParent {
        /// The enclosing repository's work tree.
        repository: String,
    },
    /// `--no-git`.
    Skipped,
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(git_err)`
/// A git2 error as dozen's error.
pub(crate) fn git_err(err: git2::Error) -> Error {
    Error::Git(err.message().to_owned())
}

/// The work tree that already contains `dir` (or its parent when `dir` does not exist yet).
pub fn enclosing_work_tree(dir: &Path) -> Option<std::path::PathBuf> {
    let probe = std::iter::successors(Some(dir), |p| p.parent()).find(|p| p.exists())?;
    let repo = Repository::discover(probe).ok()?;
    repo.workdir().map(Path::to_path_buf)
}

/// `user.name`/`user.email` from git config, when set.
pub fn config_identity() -> (Option<String>, Option<String>) {
    let Ok(config) = git2::Config::open_default() else { return (None, None) };
    (config.get_string("user.name").ok(), config.get_string("user.email").ok())
}

/// Initializes `dir` on `main` and commits `paths` (relative, `/`-separated).
pub fn init_and_commit(dir: &Path, paths: &[&str], author_answer: Option<&str>) -> Result<GitOutcome> {
    let mut options = RepositoryInitOptions::new();
    options.initial_head("main");
    let repo = Repository::init_opts(dir, &options).map_err(git_err)?;
    let mut index = repo.index().map_err(git_err)?;
    for path in paths {
        index.add_path(Path::new(path)).map_err(git_err)?;
    }
    index.write().map_err(git_err)?;
    let tree_id = index.write_tree().map_err(git_err)?;
    let tree = repo.find_tree(tree_id).map_err(git_err)?;
    let (name, email) = config_identity();
    let name = name
        .or_else(|| author_answer.map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "dozen".to_owned());
    let email = email.unwrap_or_else(|| "dozen@localhost".to_owned());
    let signature = Signature::now(&name, &email).map_err(git_err)?;
    let commit =
        repo.commit(Some("HEAD"), &signature, &signature, "Initial commit from dozen", &tree, &[]).map_err(git_err)?;
    mark_base(&repo, "", commit)?;
    Ok(GitOutcome::Initialized { branch: "main".into(), commit: commit.to_string() })
}

/// Stages the project directory in the enclosing repository.
pub fn add_to_parent(project: &Path) -> Result<GitOutcome> {
    let repo = Repository::discover(project).map_err(git_err)?;
    let workdir = repo.workdir().ok_or_else(|| Error::Git("the enclosing repository is bare".into()))?.to_path_buf();
    let canonical = project.canonicalize().map_err(crate::error::io("reading", project))?;
    let rel =
        canonical.strip_prefix(workdir.canonicalize().unwrap_or(workdir.clone())).unwrap_or(&canonical).to_path_buf();
    let mut index = repo.index().map_err(git_err)?;
    let pattern = rel.join("*");
    index.add_all([pattern.to_string_lossy().as_ref()], IndexAddOption::FORCE, None).map_err(git_err)?;
    index.write().map_err(git_err)?;
    // Best effort: without a base commit, `dozen update` renders the recorded pack version again.
    let _ = base_commit_of_index(&repo, &mut index, &rel.to_string_lossy().replace('\\', "/"));
    Ok(GitOutcome::AddedToParent { repository: workdir.display().to_string() })
}

/// The ref keeping the pristine output of the project at `prefix` (its `/`-separated path in the
/// work tree; empty at the root) for `dozen update`.
pub fn base_ref(prefix: &str) -> String {
    match prefix.trim_matches('/') {
        "" => "refs/dozen/base".to_owned(),
        dir => format!("refs/dozen/bases/{dir}"),
    }
}

/// Points the project's base ref at a commit whose tree is exactly what dozen generated.
pub fn mark_base(repo: &Repository, prefix: &str, commit: git2::Oid) -> Result<()> {
    repo.reference(&base_ref(prefix), commit, true, "dozen: pristine generated tree").map_err(git_err)?;
    Ok(())
}

/// A commit (on no branch) of the project's files as staged, marked as its base.
fn base_commit_of_index(repo: &Repository, index: &mut git2::Index, prefix: &str) -> Result<()> {
    let tree = repo.find_tree(index.write_tree().map_err(git_err)?).map_err(git_err)?;
    let tree = match prefix.trim_matches('/') {
        "" => tree,
        dir => tree
            .get_path(Path::new(dir))
            .and_then(|e| e.to_object(repo))
            .and_then(|o| o.peel_to_tree())
            .map_err(git_err)?,
    };
    let signature = Signature::now("dozen", "dozen@localhost").map_err(git_err)?;
    let commit =
        repo.commit(None, &signature, &signature, "dozen: pristine generated tree", &tree, &[]).map_err(git_err)?;
    mark_base(repo, prefix, commit)
}
