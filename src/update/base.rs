//! The base of an update: the pristine output the project was last generated or updated from.
//! dozen keeps it as a commit of exactly that output (on no branch) behind the project's base ref
//! (`refs/dozen/base`, see `git::base_ref`), so it survives however the user commits. This file
//! reads that commit, or one named with `--base REV`, into a `Tree`, and records the next one.

use std::path::Path;

use git2::{FileMode, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use serde::Serialize;

use super::project::{Git, git_err};
use super::tree::{Entry, Tree};
use crate::error::{Error, Result};

/// Where the base came from, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Origin {
    /// The project's base ref.
    Ref {
        /// The ref.
        name: String,
        /// The commit it points at.
        commit: String,
    },
    /// `--base REV`.
    Rev {
        /// REV as given.
        rev: String,
        /// The commit it names.
        commit: String,
    },
    /// The recorded pack version, rendered again with the recorded answers.
    Rendered {
        /// `NAME VERSION` of the pack.
        pack: String,
    },
}

/// The commit the project's base ref points at, when there is one.
pub fn current(git: &Git) -> Option<Oid> {
    let reference = git.repo.find_reference(&crate::git::base_ref(&git.prefix)).ok()?;
    reference.peel_to_commit().ok().map(|c| c.id())
}

/// The files of a base commit (they sit at its root).
pub fn from_commit(git: &Git, commit: Oid) -> Result<Tree> {
    let tree = git.repo.find_commit(commit).and_then(|c| c.tree()).map_err(git_err)?;
    read_tree(&git.repo, &tree)
}

/// The project's files in a commit of the repository's history (`--base REV`).
pub fn from_rev(git: &Git, rev: &str) -> Result<(Tree, Oid)> {
    let bad = |message: String| Error::Usage {
        message: format!("--base {rev}: {message}"),
        hint: "name the commit that holds what dozen generated, e.g. --base $(git rev-list --max-parents=0 HEAD)"
            .into(),
    };
    let commit = git
        .repo
        .revparse_single(rev)
        .and_then(|object| object.peel_to_commit())
        .map_err(|err| bad(err.message().to_owned()))?;
    let mut tree = commit.tree().map_err(git_err)?;
    if !git.prefix.is_empty() {
        let dir = git.prefix.trim_end_matches('/');
        tree = tree
            .get_path(Path::new(dir))
            .and_then(|entry| entry.to_object(&git.repo))
            .and_then(|object| object.peel_to_tree())
            .map_err(|_| bad(format!("commit {} has no directory {dir}", short(commit.id()))))?;
    }
    Ok((read_tree(&git.repo, &tree)?, commit.id()))
}

/// Writes `tree` as a commit on no branch, parented on the previous base; `None` when the previous
/// base already holds exactly that tree.
pub fn write_commit(git: &Git, tree: &Tree, previous: Option<Oid>, message: &str) -> Result<Option<Oid>> {
    let repo = &git.repo;
    let tree_id = write_tree(repo, tree)?;
    let previous = previous.map(|id| repo.find_commit(id)).transpose().map_err(git_err)?;
    if previous.as_ref().is_some_and(|c| c.tree_id() == tree_id) {
        return Ok(None);
    }
    let tree = repo.find_tree(tree_id).map_err(git_err)?;
    let signature = git2::Signature::now("dozen", "dozen@localhost").map_err(git_err)?;
    let parents: Vec<&git2::Commit<'_>> = previous.iter().collect();
    repo.commit(None, &signature, &signature, message, &tree, &parents).map(Some).map_err(git_err)
}

/// Points the project's base ref at `commit`.
pub fn move_ref(git: &Git, commit: Oid) -> Result<()> {
    crate::git::mark_base(&git.repo, &git.prefix, commit)
}

/// Abbreviated commit id.
pub fn short(id: Oid) -> String {
    id.to_string()[..12].to_owned()
}

fn read_tree(repo: &Repository, tree: &git2::Tree<'_>) -> Result<Tree> {
    let mut blobs = Vec::new();
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        let executable = match entry.filemode() {
            0o100_644 => false,
            0o100_755 => true,
            _ => return TreeWalkResult::Ok,
        };
        if entry.kind() == Some(ObjectType::Blob)
            && let Ok(name) = entry.name()
        {
            blobs.push((format!("{root}{name}"), entry.id(), executable));
        }
        TreeWalkResult::Ok
    })
    .map_err(git_err)?;
    let mut files = Tree::new();
    for (path, id, executable) in blobs {
        crate::plan::check_path(&path, "the base commit")?;
        let blob = repo.find_blob(id).map_err(git_err)?;
        files.insert(path, Entry::new(blob.content(), executable));
    }
    Ok(files)
}

fn write_tree(repo: &Repository, tree: &Tree) -> Result<Oid> {
    let empty = repo.treebuilder(None).and_then(|b| b.write()).and_then(|id| repo.find_tree(id)).map_err(git_err)?;
    let mut builder = git2::build::TreeUpdateBuilder::new();
    for (path, entry) in tree {
        let blob = repo.blob(&entry.bytes).map_err(git_err)?;
        let mode = if entry.executable { FileMode::BlobExecutable } else { FileMode::Blob };
        builder.upsert(path.as_str(), blob, mode);
    }
    builder.create_updated(repo, &empty).map_err(git_err)
}
