//! git via git2, for the generated project: a new repository on git's default branch with one
//! initial commit of everything generated (hooks' changes included), or — inside an existing work
//! tree — no nested repository and, only when asked (`--git-add`), the files added to that
//! repository's index. The enclosing work tree is found the way git finds it: stopping at file
//! system boundaries and at `GIT_CEILING_DIRECTORIES`. A base ref keeps the pristine output for
//! `dozen update`, which treats it as an optimisation checked against the committed record.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use git2::{FileMode, IndexAddOption, Oid, Repository, RepositoryInitOptions, RepositoryOpenFlags, Signature};

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
    /// Files staged in the enclosing repository (`--git-add`).
    AddedToParent {
        /// The enclosing repository's work tree.
        repository: String,
    },
    /// Inside an enclosing work tree without `--git-add`: nothing was done to it.
    InsideWorkTree {
        /// The enclosing repository's work tree.
        repository: String,
    },
    /// `--no-git`.
    Skipped,
}

/// The message of the first base commit.
const PRISTINE: &str = "dozen: pristine generated tree";

/// A file of the pristine output, for the base commit.
pub struct BaseFile<'a> {
    /// Project-relative, `/`-separated.
    pub path: &'a str,
    /// Contents.
    pub bytes: &'a [u8],
    /// Mode 755.
    pub executable: bool,
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(git_err)`
/// A git2 error as dozen's error.
pub(crate) fn git_err(err: git2::Error) -> Error {
    Error::Git(err.message().to_owned())
}

/// The work tree that already contains `dir` (or its nearest existing ancestor), found as git
/// does: not across file systems unless `GIT_DISCOVERY_ACROSS_FILESYSTEM` is true, and never at
/// or above a directory of `GIT_CEILING_DIRECTORIES`.
pub fn enclosing_work_tree(dir: &Path) -> Option<PathBuf> {
    let probe = std::iter::successors(Some(dir), |p| p.parent())
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .unwrap_or(Path::new("."));
    let mut flags = RepositoryOpenFlags::empty();
    if std::env::var("GIT_DISCOVERY_ACROSS_FILESYSTEM").is_ok_and(|v| truthy(&v)) {
        flags |= RepositoryOpenFlags::CROSS_FS;
    }
    let ceilings: Vec<OsString> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).map(PathBuf::into_os_string).collect())
        .unwrap_or_default();
    let repo = Repository::open_ext(probe, flags, &ceilings).ok()?;
    repo.workdir().map(Path::to_path_buf)
}

fn truthy(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

/// `user.name`/`user.email` from git config, when set.
pub fn config_identity() -> (Option<String>, Option<String>) {
    let Ok(config) = git2::Config::open_default() else { return (None, None) };
    (config.get_string("user.name").ok(), config.get_string("user.email").ok())
}

/// git's `init.defaultBranch`, else `main`.
pub fn default_branch() -> String {
    git2::Config::open_default()
        .and_then(|c| c.get_string("init.defaultBranch"))
        .ok()
        .filter(|b| git2::Branch::name_is_valid(b).unwrap_or(false))
        .unwrap_or_else(|| "main".to_owned())
}

/// The commit identity: git config, else the `fallback_name` a pack names (its author answer),
/// else dozen's own. The one place an identity is chosen.
pub fn identity(fallback_name: Option<&str>) -> Result<Signature<'static>> {
    let (name, email) = config_identity();
    let name = name
        .or_else(|| fallback_name.map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "dozen".to_owned());
    let email = email.filter(|e| !e.trim().is_empty()).unwrap_or_else(|| "dozen@localhost".to_owned());
    Signature::now(&name, &email).map_err(git_err)
}

/// dozen's own identity, for the base commits it keeps on no branch.
fn dozen_identity() -> Result<Signature<'static>> {
    Signature::now("dozen", "dozen@localhost").map_err(git_err)
}

/// Initializes `dir` on git's default branch and commits every file in it that is not ignored
/// (the generated files and what hooks changed). `base` is the pristine output, kept as the base.
pub fn init_and_commit(dir: &Path, base: &[BaseFile<'_>], author: Option<&str>) -> Result<GitOutcome> {
    let branch = default_branch();
    let mut options = RepositoryInitOptions::new();
    options.initial_head(&branch);
    let repo = Repository::init_opts(dir, &options).map_err(git_err)?;
    let mut index = repo.index().map_err(git_err)?;
    index.add_all(["*"], IndexAddOption::DEFAULT, None).map_err(git_err)?;
    index.write().map_err(git_err)?;
    let tree_id = index.write_tree().map_err(git_err)?;
    let tree = repo.find_tree(tree_id).map_err(git_err)?;
    let signature = identity(author)?;
    let commit =
        repo.commit(Some("HEAD"), &signature, &signature, "Initial commit from dozen", &tree, &[]).map_err(git_err)?;
    let base_tree = write_tree(&repo, base)?;
    let base_commit = if base_tree == tree_id { commit } else { base_commit(&repo, base_tree, None, PRISTINE)? };
    mark_base(&repo, "", base_commit)?;
    Ok(GitOutcome::Initialized { branch, commit: commit.to_string() })
}

/// Adds the project directory's files (not the ignored ones) to the enclosing repository's index,
/// and keeps the pristine output as the project's base.
pub fn add_to_parent(project: &Path, base: &[BaseFile<'_>]) -> Result<GitOutcome> {
    let repo = Repository::discover(project).map_err(git_err)?;
    let workdir = repo.workdir().ok_or_else(|| Error::Git("the enclosing repository is bare".into()))?.to_path_buf();
    let canonical = project.canonicalize().map_err(crate::error::io("reading", project))?;
    let rel =
        canonical.strip_prefix(workdir.canonicalize().unwrap_or(workdir.clone())).unwrap_or(&canonical).to_path_buf();
    let mut index = repo.index().map_err(git_err)?;
    let pattern = rel.join("*");
    index.add_all([pattern.to_string_lossy().as_ref()], IndexAddOption::DEFAULT, None).map_err(git_err)?;
    index.write().map_err(git_err)?;
    let prefix = rel.to_string_lossy().replace('\\', "/");
    let tree = write_tree(&repo, base)?;
    let commit = base_commit(&repo, tree, None, PRISTINE)?;
    mark_base(&repo, &prefix, commit)?;
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
pub fn mark_base(repo: &Repository, prefix: &str, commit: Oid) -> Result<()> {
    repo.reference(&base_ref(prefix), commit, true, "dozen: pristine generated tree").map_err(git_err)?;
    Ok(())
}

/// A commit on no branch of `tree`, parented on `parent`.
pub fn base_commit(repo: &Repository, tree: Oid, parent: Option<Oid>, message: &str) -> Result<Oid> {
    let tree = repo.find_tree(tree).map_err(git_err)?;
    let signature = dozen_identity()?;
    let parent = parent.map(|id| repo.find_commit(id)).transpose().map_err(git_err)?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(None, &signature, &signature, message, &tree, &parents).map_err(git_err)
}

/// Writes `files` as a tree (blobs included) and returns its id.
pub fn write_tree(repo: &Repository, files: &[BaseFile<'_>]) -> Result<Oid> {
    let empty = repo.treebuilder(None).and_then(|b| b.write()).and_then(|id| repo.find_tree(id)).map_err(git_err)?;
    let mut builder = git2::build::TreeUpdateBuilder::new();
    for file in files {
        let blob = repo.blob(file.bytes).map_err(git_err)?;
        let mode = if file.executable { FileMode::BlobExecutable } else { FileMode::Blob };
        builder.upsert(file.path, blob, mode);
    }
    builder.create_updated(repo, &empty).map_err(git_err)
}
