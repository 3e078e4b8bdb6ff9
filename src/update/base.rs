//! The base of an update: the pristine output the project was last generated or updated from.
//! dozen keeps each one as a commit of exactly that output (on no branch, each parented on the one
//! before) behind the project's base ref (`refs/dozen/base`, see `git::base_ref`). The ref is a
//! cache: the base of a working tree is the commit of that chain whose record equals the working
//! tree's record, so an update that was backed out with plain git finds its true base again. This
//! file reads such a commit, or one named with `--base REV`, into a `Tree`, and records the next.

use std::path::Path;

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
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

/// How far back the chain of base commits is searched for the working tree's record.
const CHAIN_LIMIT: usize = 256;

/// The newest commit of the base chain from `tip` whose `record` file holds exactly `record`.
pub fn matching(git: &Git, tip: Oid, record: &str, wanted: &[u8]) -> Result<Option<(Tree, Oid)>> {
    let mut next = git.repo.find_commit(tip).ok();
    for _ in 0..CHAIN_LIMIT {
        let Some(commit) = next else { break };
        let tree = commit.tree().map_err(git_err)?;
        let holds = tree
            .get_path(Path::new(record))
            .ok()
            .and_then(|entry| git.repo.find_blob(entry.id()).ok())
            .is_some_and(|blob| blob.content() == wanted);
        if holds {
            return Ok(Some((read_tree(&git.repo, &tree)?, commit.id())));
        }
        next = commit.parent(0).ok();
    }
    Ok(None)
}

/// Writes `tree` as a commit on no branch, parented on the previous base; `None` when the previous
/// base already holds exactly that tree.
pub fn write_commit(git: &Git, tree: &Tree, previous: Option<Oid>, message: &str) -> Result<Option<Oid>> {
    let repo = &git.repo;
    let files: Vec<crate::git::BaseFile<'_>> = tree
        .iter()
        .map(|(path, entry)| crate::git::BaseFile { path, bytes: &entry.bytes, executable: entry.executable })
        .collect();
    let tree_id = crate::git::write_tree(repo, &files)?;
    let previous_tree = previous.map(|id| repo.find_commit(id).map(|c| c.tree_id())).transpose().map_err(git_err)?;
    if previous_tree == Some(tree_id) {
        return Ok(None);
    }
    crate::git::base_commit(repo, tree_id, previous, message).map(Some)
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
        crate::relpath::check(&path, "the base commit")?;
        let blob = repo.find_blob(id).map_err(git_err)?;
        files.insert(path, Entry::new(blob.content(), executable));
    }
    Ok(files)
}
