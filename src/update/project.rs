//! The generated project being updated: its root (the nearest directory holding
//! `.dozen/answers.toml`), the record read from it, the git repository around it, and its
//! working-tree files. Reading only; `apply` writes.

use std::path::{Path, PathBuf};

use git2::{Repository, Status, StatusOptions};

use super::merge::Ours;
use super::tree::Entry;
use crate::error::{Error, Result};
use crate::input::line_of;
use crate::record::{self, Record};

/// A generated project on disk.
pub struct Project {
    /// Its root directory.
    pub root: PathBuf,
    /// `.dozen/answers.toml`, parsed.
    pub record: Record,
    /// The git repository, when the project is inside one.
    pub git: Option<Git>,
}

/// The repository around a project.
pub struct Git {
    /// The repository.
    pub repo: Repository,
    /// The project's path inside the work tree, `/`-separated, with a trailing `/`; empty at the root.
    pub prefix: String,
}

impl Project {
    /// Finds the project at `dir` or the nearest directory above it that holds a record, after
    /// rolling back what a run killed half-way left there.
    pub fn open(dir: &Path) -> Result<Project> {
        let start = dir.canonicalize().map_err(|_| Error::NotGenerated(dir.to_path_buf()))?;
        // A run killed half-way left a journal: roll it back first (it may have taken the record).
        for ancestor in start.ancestors() {
            crate::write::recover(ancestor)?;
            if std::fs::symlink_metadata(ancestor.join(".dozen")).is_ok() {
                break;
            }
        }
        Project::find(dir)
    }

    /// Finds the project as `open` does, but only reads: a half-applied write is left as it is
    /// (see `interrupted_write`).
    pub fn find(dir: &Path) -> Result<Project> {
        let start = dir.canonicalize().map_err(|_| Error::NotGenerated(dir.to_path_buf()))?;
        let root = start
            .ancestors()
            .find(|d| std::fs::symlink_metadata(d.join(".dozen")).is_ok())
            .ok_or_else(|| Error::NotGenerated(dir.to_path_buf()))?
            .to_path_buf();
        let path = root.join(record::PATH);
        for (shown, at) in [(".dozen", root.join(".dozen")), (record::PATH, path.clone())] {
            let meta = std::fs::symlink_metadata(&at).map_err(|_| Error::NotGenerated(dir.to_path_buf()))?;
            if meta.file_type().is_symlink() {
                return Err(Error::UnsafePath {
                    path: shown.to_owned(),
                    source_file: root.display().to_string(),
                    reason: "it is a symbolic link; dozen reads and writes its record only inside the project".into(),
                });
            }
        }
        let bytes =
            crate::input::read_regular(&path, crate::input::FILE_LIMIT).map_err(|refusal| Error::InputFile {
                path: path.clone(),
                line: None,
                message: format!("cannot read it: {refusal}"),
                hint: "restore it from git (`git checkout -- .dozen/answers.toml`); dozen writes it".into(),
            })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let record = toml::from_str(&text).map_err(|err| Error::InputFile {
            path: path.clone(),
            line: err.span().map(|s| line_of(&text, s.start)),
            message: format!("not a dozen record: {}", err.message().trim()),
            hint: "restore it from git (`git checkout -- .dozen/answers.toml`); dozen writes it".into(),
        })?;
        let git = Repository::discover(&root).ok().and_then(|repo| {
            let workdir = repo.workdir()?.canonicalize().ok()?;
            let rel = root.strip_prefix(&workdir).ok()?;
            let mut prefix = rel.to_string_lossy().replace('\\', "/");
            if !prefix.is_empty() {
                prefix.push('/');
            }
            Some(Git { repo, prefix })
        });
        Ok(Project { root, record, git })
    }

    /// Tracked files with uncommitted changes (staged or not); untracked files do not count.
    pub fn uncommitted(&self) -> Result<Vec<String>> {
        let Some(git) = &self.git else {
            return Err(Error::Usage {
                message: format!(
                    "{} is not in a git repository, so an update could not be undone",
                    self.root.display()
                ),
                hint: "commit it first (git init && git add -A && git commit -m init), or pass --allow-dirty".into(),
            });
        };
        let mut options = StatusOptions::new();
        options.include_untracked(false).include_ignored(false).exclude_submodules(true);
        if !git.prefix.is_empty() {
            options.pathspec(&git.prefix);
        }
        let statuses = git.repo.statuses(Some(&mut options)).map_err(git_err)?;
        Ok(statuses
            .iter()
            .filter(|s| !s.status().intersects(Status::IGNORED | Status::WT_NEW) && s.status() != Status::CURRENT)
            .filter_map(|s| s.path().ok().map(|p| p.strip_prefix(git.prefix.as_str()).unwrap_or(p).to_owned()))
            .collect())
    }

    /// What the working tree holds at a project-relative path.
    pub fn read(&self, path: &str) -> Result<Ours> {
        read_at(&self.root, path)
    }

    /// The staging directory of a write that a killed run left in the project (the next
    /// `dozen update` rolls it back), if there is one.
    pub fn interrupted_write(&self) -> Option<String> {
        // `write::apply`'s staging directories.
        let names = std::fs::read_dir(&self.root).ok()?.flatten().map(|e| e.file_name().to_string_lossy().into_owned());
        names.into_iter().find(|name| name.starts_with(".dozen-tx-"))
    }
}

/// What a tree holds at a `/`-separated path under `root`, never following a symlink.
pub fn read_at(root: &Path, path: &str) -> Result<Ours> {
    let mut current = root.to_path_buf();
    let segments: Vec<&str> = path.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        current.push(segment);
        let last = i + 1 == segments.len();
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Ours::Missing),
            Err(err) => return Err(Error::Io { action: "reading", path: current, source: err }),
        };
        let shown = segments[..=i].join("/");
        if meta.file_type().is_symlink() {
            return Ok(Ours::Other(format!("{shown} is a symlink here")));
        }
        match (last, meta.is_dir()) {
            (false, true) => {}
            (false, false) => return Ok(Ours::Other(format!("{shown} is a file here, not a directory"))),
            (true, true) => return Ok(Ours::Other(format!("{shown} is a directory here"))),
            (true, false) if !meta.is_file() => {
                return Ok(Ours::Other(format!("{shown} is {} here", crate::input::kind(&meta))));
            }
            (true, false) => {
                let bytes = crate::input::read_regular(&current, crate::input::PACK_FILE_LIMIT).map_err(|r| {
                    Error::Io { action: "reading", path: current.clone(), source: std::io::Error::other(r.to_string()) }
                })?;
                return Ok(Ours::File(Entry::new(bytes, is_executable(&meta))));
            }
        }
    }
    Ok(Ours::Missing)
}

impl Project {
    /// Stages the given project-relative paths as they are on disk (removed when absent) and
    /// commits the index on the current branch.
    pub fn commit(&self, paths: &[&str], message: &str) -> Result<String> {
        let git = self.git.as_ref().ok_or_else(|| Error::Git("the project is not in a git repository".into()))?;
        let repo = &git.repo;
        let mut index = repo.index().map_err(git_err)?;
        for path in paths {
            let full = format!("{}{path}", git.prefix);
            if self.root.join(path).is_file() {
                index.add_path(Path::new(&full)).map_err(git_err)?;
            } else if index.get_path(Path::new(&full), 0).is_some() {
                index.remove_path(Path::new(&full)).map_err(git_err)?;
            }
        }
        index.write().map_err(git_err)?;
        let tree = repo.find_tree(index.write_tree().map_err(git_err)?).map_err(git_err)?;
        let signature = signature(repo)?;
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents).map_err(git_err)?;
        Ok(id.to_string())
    }
}

/// The user's identity from git config, else dozen's.
pub fn signature(repo: &Repository) -> Result<git2::Signature<'static>> {
    repo.signature().or_else(|_| git2::Signature::now("dozen", "dozen@localhost")).map_err(git_err)
}

pub(super) use crate::git::git_err;
use crate::pack::source::is_executable;
