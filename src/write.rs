//! The only code that writes into a user's tree. Two ways in, one set of rules:
//!
//! - a new project is written into a temporary sibling of the target and renamed into place, so a
//!   failure or a signal at any moment leaves either nothing or the whole project; an installed
//!   pack (`pack add`) is staged the same way and replaces the older install whole;
//! - changes to an existing tree (`new --force`, `update`) go through `apply`: every destination
//!   is checked before the first change (no symlink on the way, no directory where a file goes),
//!   new contents are staged inside the tree, and each move is written to a journal before it is
//!   made. A failure undoes the moves in memory; a crash or `kill -9` leaves the journal, and the
//!   next run on that tree rolls it back (`recover`) and says so.
//!
//! Staging directories carry the pid of their owner, so leftovers of dead runs are found and
//! cleaned without ever touching those of a run still going. Signals (`interrupt`) are checked
//! between steps.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, io};
pub use crate::interrupt::Interrupt;

/// Environment variable that injects a failure before the N-th step of `apply` (debug builds).
pub const FAIL_AFTER: &str = "DOZEN_TEST_FAIL_AFTER";

/// Environment variable that aborts the process before the N-th step of `apply` (debug builds),
/// as a `kill -9` would, to test `recover`.
pub const CRASH_AFTER: &str = "DOZEN_TEST_CRASH_AFTER";

/// A project written into its staging directory, not yet in place.
pub struct Staged {
    dir: tempfile::TempDir,
    target: PathBuf,
}

impl Staged {
    /// Moves the staged project into place.
    pub fn commit(self, interrupt: &Interrupt) -> Result<()> {
        interrupt.check()?;
        let staged = self.dir.keep();
        match std::fs::rename(&staged, &self.target) {
            Ok(()) => Ok(()),
            Err(err) => {
                let _ = std::fs::remove_dir_all(&staged);
                // Another run created the target meanwhile (a concurrent `new`): it exists now.
                if err.kind() == std::io::ErrorKind::AlreadyExists
                    || err.kind() == std::io::ErrorKind::DirectoryNotEmpty
                {
                    return Err(Error::TargetExists(self.target));
                }
                Err(Error::Io { action: "moving the project into", path: self.target, source: err })
            }
        }
    }
}

impl Staged {
    /// Moves the staged tree into place over a directory dozen owns (an installed pack being
    /// upgraded): the old one is moved aside first, put back if the move fails, and removed once
    /// the new one is in place.
    pub fn replace(self, interrupt: &Interrupt) -> Result<()> {
        interrupt.check()?;
        if std::fs::symlink_metadata(&self.target).is_err() {
            return self.commit(interrupt);
        }
        let aside = self.dir.path().with_extension("old");
        std::fs::rename(&self.target, &aside).map_err(io("replacing", &self.target))?;
        let staged = self.dir.keep();
        if let Err(err) = std::fs::rename(&staged, &self.target) {
            let _ = std::fs::rename(&aside, &self.target);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(Error::Io { action: "moving into place", path: self.target, source: err });
        }
        let _ = std::fs::remove_dir_all(aside);
        Ok(())
    }
}

/// Checks the target before anything is written: a symlink is refused (it would write elsewhere),
/// anything but a directory exists already, and a non-empty directory needs `force`. Leftover
/// staging directories of dead runs beside it are removed. Returns whether it exists.
pub fn prepare(target: &Path, force: bool) -> Result<bool> {
    let parent = parent_of(target);
    clean_stale(parent, &staging_prefix(target));
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.file_type().is_symlink() => Err(Error::UnsafePath {
            path: target.display().to_string(),
            source_file: "the target".into(),
            reason: "it is a symbolic link, and dozen never writes through one".into(),
        }),
        Ok(meta) if !meta.is_dir() => Err(Error::NotADirectory(target.to_path_buf())),
        Ok(_) => {
            let mut entries = std::fs::read_dir(target).map_err(io("reading", target))?;
            if entries.next().is_some() && !force {
                return Err(Error::TargetExists(target.to_path_buf()));
            }
            recover(target)?;
            Ok(true)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            blocking_ancestor(parent)?;
            std::fs::create_dir_all(parent).map_err(io("creating the output directory", parent))?;
            Ok(false)
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotADirectory => {
            blocking_ancestor(parent)?;
            Err(Error::NotADirectory(parent.to_path_buf()))
        }
        Err(err) => Err(Error::Io { action: "reading", path: target.to_path_buf(), source: err }),
    }
}

/// `--output` must not lead through a file: names the nearest existing ancestor that is not a
/// directory (a symlink to a directory is fine there: the user chose that parent).
fn blocking_ancestor(dir: &Path) -> Result<()> {
    for ancestor in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
        if let Ok(meta) = std::fs::metadata(ancestor) {
            if !meta.is_dir() {
                return Err(Error::NotADirectory(ancestor.to_path_buf()));
            }
            return Ok(());
        }
    }
    Ok(())
}

fn parent_of(target: &Path) -> &Path {
    target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn staging_prefix(target: &Path) -> String {
    let name = target.file_name().map_or_else(|| "project".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}.dozen-")
}

/// Writes `(relative path, bytes, executable)` files into a new staging directory beside
/// `target`: a project's planned files, or an installed pack's files and metadata.
pub fn stage_files<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8], bool)>,
    target: &Path,
    interrupt: &Interrupt,
) -> Result<Staged> {
    let parent = parent_of(target);
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}{}-", staging_prefix(target), std::process::id()))
        .tempdir_in(parent)
        .map_err(io("creating a staging directory in", parent))?;
    for (rel, bytes, executable) in files {
        interrupt.check()?;
        let rel = crate::relpath::check(rel, rel)?;
        let path = dir.path().join(rel.as_str());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        std::fs::write(&path, bytes).map_err(io("writing", &path))?;
        set_mode(&path, None, executable)?;
    }
    Ok(Staged { dir, target: target.to_path_buf() })
}

/// One change to a file of an existing tree.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// Write these bytes; `executable` sets the x bits (others keep the replaced file's mode).
    Write {
        /// Contents.
        bytes: &'a [u8],
        /// Mode 755 rather than 644.
        executable: bool,
    },
    /// Remove the file.
    Remove,
}

/// A step made, as the journal records it (one JSON object per line).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Step {
    /// A directory was created.
    Mkdir { path: String },
    /// The existing file was moved aside to `old-{index}`.
    Aside { path: String, index: usize },
    /// `new-{index}` was moved into the path.
    Placed { path: String, index: usize },
    /// Every step was made.
    Done,
}

/// Name prefix of `apply`'s staging directories inside the tree.
const TX_PREFIX: &str = ".dozen-tx-";
/// The journal inside a staging directory.
const JOURNAL: &str = "journal";

/// Applies `changes` (tree-relative, `/`-separated, already-validated paths) under `root`, all or
/// nothing. Returns the paths whose existing file was replaced.
pub fn apply(root: &Path, changes: &[(&str, Change<'_>)], interrupt: &Interrupt) -> Result<Vec<String>> {
    let problems: Vec<Error> = changes.iter().filter_map(|(rel, _)| check_destination(root, rel).err()).collect();
    if let Some(first) = problems.into_iter().next() {
        return Err(first);
    }
    let staging = tempfile::Builder::new()
        .prefix(&format!("{TX_PREFIX}{}-", std::process::id()))
        .tempdir_in(root)
        .map_err(io("creating a staging directory in", root))?;
    for (i, (rel, change)) in changes.iter().enumerate() {
        interrupt.check()?;
        if let Change::Write { bytes, executable } = change {
            let path = staging.path().join(format!("new-{i}"));
            std::fs::write(&path, bytes).map_err(io("writing", &path))?;
            set_mode(&path, Some(&root.join(rel)), *executable)?;
        }
    }
    let mut journal = Journal::create(staging.path())?;
    let (fail_after, crash_after) = injected_faults();
    let mut replaced = Vec::new();
    let mut result = Ok(());
    for (i, (rel, change)) in changes.iter().enumerate() {
        if crash_after == Some(i) {
            std::process::abort();
        }
        result = if fail_after == Some(i) {
            let source = std::io::Error::other(format!("failure injected by {FAIL_AFTER}"));
            Err(Error::Io { action: "writing", path: root.join(rel), source })
        } else {
            interrupt.check().and_then(|()| step(root, rel, *change, i, &mut journal, &mut replaced))
        };
        if result.is_err() {
            break;
        }
    }
    if let Err(err) = result {
        return match undo(root, staging.path(), &journal.steps) {
            Ok(()) => Err(err),
            Err(undo_err) => Err(Error::Io {
                action: "undoing a failed write; the original files are kept in",
                path: staging.keep(),
                source: undo_err,
            }),
        };
    }
    journal.record(&Step::Done)?;
    for (rel, change) in changes {
        if matches!(change, Change::Remove) {
            remove_empty_parents(root, rel);
        }
    }
    Ok(replaced)
}

fn injected_faults() -> (Option<usize>, Option<usize>) {
    // Only debug builds (the ones the test suite runs) honour the fault injection.
    if !cfg!(debug_assertions) {
        return (None, None);
    }
    let read = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok());
    (read(FAIL_AFTER), read(CRASH_AFTER))
}

/// Refuses a destination that would write through a symlink, into a file or over a directory.
fn check_destination(root: &Path, rel: &str) -> Result<()> {
    let refuse = |at: &Path, reason: &str| {
        Err(Error::UnsafePath {
            path: rel.to_owned(),
            source_file: at.display().to_string(),
            reason: reason.to_owned(),
        })
    };
    let mut current = root.to_path_buf();
    let segments: Vec<&str> = rel.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        current.push(segment);
        let last = i + 1 == segments.len();
        match std::fs::symlink_metadata(&current) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(Error::Io { action: "reading", path: current, source: err }),
            Ok(meta) if meta.file_type().is_symlink() => {
                return refuse(&current, "a symlink is on that path, which could lead outside the tree");
            }
            Ok(meta) if !last && !meta.is_dir() => return refuse(&current, "a file is where a directory must be"),
            Ok(meta) if last && meta.is_dir() => return refuse(&current, "a directory is where the file goes"),
            Ok(meta) if last && !meta.is_file() => {
                return refuse(&current, "something other than a regular file is there");
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

fn step(
    root: &Path,
    rel: &str,
    change: Change<'_>,
    i: usize,
    journal: &mut Journal,
    replaced: &mut Vec<String>,
) -> Result<()> {
    let path = root.join(rel);
    if let Change::Write { .. } = change {
        let segments: Vec<&str> = rel.split('/').collect();
        let mut dir = root.to_path_buf();
        for (depth, segment) in segments[..segments.len() - 1].iter().enumerate() {
            dir.push(segment);
            if std::fs::symlink_metadata(&dir).is_err() {
                journal.record(&Step::Mkdir { path: segments[..=depth].join("/") })?;
                std::fs::create_dir(&dir).map_err(io("creating", &dir))?;
            }
        }
    }
    if std::fs::symlink_metadata(&path).is_ok() {
        journal.record(&Step::Aside { path: rel.to_owned(), index: i })?;
        std::fs::rename(&path, journal.dir.join(format!("old-{i}"))).map_err(io("moving aside", &path))?;
        if let Change::Write { .. } = change {
            replaced.push(rel.to_owned());
        }
    }
    if let Change::Write { .. } = change {
        journal.record(&Step::Placed { path: rel.to_owned(), index: i })?;
        std::fs::rename(journal.dir.join(format!("new-{i}")), &path).map_err(io("writing", &path))?;
    }
    Ok(())
}

/// Reverses `steps`; each one only if it was really made (the journal is written before the move).
fn undo(root: &Path, staging: &Path, steps: &[Step]) -> std::io::Result<()> {
    for step in steps.iter().rev() {
        match step {
            Step::Placed { path, index } => {
                if !staging.join(format!("new-{index}")).exists() {
                    std::fs::remove_file(root.join(path))?;
                }
            }
            Step::Aside { path, index } => {
                let backup = staging.join(format!("old-{index}"));
                if backup.exists() {
                    std::fs::rename(backup, root.join(path))?;
                }
            }
            Step::Mkdir { path } => {
                let _ = std::fs::remove_dir(root.join(path));
            }
            Step::Done => {}
        }
    }
    Ok(())
}

/// The append-only record of an `apply`.
struct Journal {
    dir: PathBuf,
    file: std::fs::File,
    steps: Vec<Step>,
}

impl Journal {
    fn create(dir: &Path) -> Result<Journal> {
        let path = dir.join(JOURNAL);
        let file =
            std::fs::OpenOptions::new().create_new(true).append(true).open(&path).map_err(io("creating", &path))?;
        Ok(Journal { dir: dir.to_path_buf(), file, steps: Vec::new() })
    }

    /// Appends a step and makes it durable before the step is made.
    fn record(&mut self, step: &Step) -> Result<()> {
        let line = serde_json::to_string(step).expect("steps serialize");
        let path = self.dir.join(JOURNAL);
        writeln!(self.file, "{line}").and_then(|()| self.file.sync_data()).map_err(io("writing", &path))?;
        self.steps.push(step.clone());
        Ok(())
    }
}

/// Rolls back what a dead run left half-applied under `root` (its journal says how far it got)
/// and removes its staging directory. Returns the number of runs rolled back.
pub fn recover(root: &Path) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(root) else { return Ok(0) };
    let mut rolled_back = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(TX_PREFIX).and_then(owner_pid) else { continue };
        if alive(pid) || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = entry.path();
        let steps: Vec<Step> = std::fs::read_to_string(dir.join(JOURNAL))
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        if !steps.iter().any(|s| matches!(s, Step::Done)) && !steps.is_empty() {
            undo(root, &dir, &steps).map_err(|source| Error::Io {
                action: "rolling back an interrupted write; the original files are kept in",
                path: dir.clone(),
                source,
            })?;
            rolled_back += 1;
            crate::output::to_stderr(&format!(
                "note: rolled back an interrupted write into {} (a run that died part way)\n",
                root.display()
            ));
        }
        std::fs::remove_dir_all(&dir).map_err(io("removing", &dir))?;
    }
    Ok(rolled_back)
}

/// Removes staging directories named `{prefix}{pid}-…` in `parent` whose owner is gone.
fn clean_stale(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(prefix).and_then(owner_pid) else { continue };
        if !alive(pid) && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid at the start of `{pid}-{random}`.
fn owner_pid(rest: &str) -> Option<u32> {
    rest.split_once('-').and_then(|(pid, _)| pid.parse().ok())
}

/// Whether a process with that pid exists (only where /proc tells; elsewhere assume it does).
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

/// git does not keep empty directories; neither does a change that removed their last file.
fn remove_empty_parents(root: &Path, rel: &str) {
    let mut dir = root.join(rel);
    while dir.pop() && dir != root && std::fs::remove_dir(&dir).is_ok() {}
}

/// The permissions of the file it replaces (or 0644), with the executable bits asked for.
#[cfg(unix)]
fn set_mode(path: &Path, replaces: Option<&Path>, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = replaces
        .and_then(|p| std::fs::symlink_metadata(p).ok())
        .filter(std::fs::Metadata::is_file)
        .map_or(0o644, |m| m.permissions().mode() & 0o777);
    let mode = if executable { current | ((current & 0o444) >> 2) } else { current & !0o111 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io("setting the mode of", path))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: Option<&Path>, _: bool) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Change, Interrupt, apply, recover};

    #[test]
    fn a_staged_tree_replaces_an_owned_directory_whole() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("pack");
        let interrupt = Interrupt::default();
        let first = [("a.txt", b"one".as_slice(), false), ("bin/run", b"#!/bin/sh\n".as_slice(), true)];
        super::stage_files(first, &target, &interrupt).unwrap().replace(&interrupt).unwrap();
        assert_eq!(std::fs::read(target.join("a.txt")).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(target.join("bin/run")).unwrap().permissions().mode();
            assert_eq!(mode & 0o111, 0o111, "modes are kept: {mode:o}");
        }
        super::stage_files([("b.txt", b"two".as_slice(), false)], &target, &interrupt)
            .unwrap()
            .replace(&interrupt)
            .unwrap();
        assert!(!target.join("a.txt").exists(), "the old tree is gone, not merged");
        assert_eq!(std::fs::read(target.join("b.txt")).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["pack"], "no staging or old directory is left beside it");
        let escape = super::stage_files([("../out.txt", b"x".as_slice(), false)], &target, &interrupt);
        assert!(escape.is_err(), "a path out of the tree is refused");
        assert!(!root.path().join("out.txt").exists());
    }

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn listing(root: &std::path::Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                if entry.file_type().unwrap().is_dir() {
                    out.push((rel, "<dir>".into()));
                    stack.push(path);
                } else {
                    out.push((rel, std::fs::read_to_string(&path).unwrap_or_default()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn apply_replaces_adds_and_removes() {
        let dir = tree(&[("a.txt", "old"), ("gone.txt", "x")]);
        let changes = [
            ("a.txt", Change::Write { bytes: b"new", executable: false }),
            ("sub/b.txt", Change::Write { bytes: b"b", executable: true }),
            ("gone.txt", Change::Remove),
        ];
        let replaced = apply(dir.path(), &changes, &Interrupt::default()).unwrap();
        assert_eq!(replaced, ["a.txt"]);
        assert_eq!(
            listing(dir.path()),
            [("a.txt".into(), "new".into()), ("sub".into(), "<dir>".into()), ("sub/b.txt".into(), "b".into())]
        );
    }

    #[test]
    fn a_refused_destination_changes_nothing() {
        let dir = tree(&[("a.txt", "old"), ("file", "i am a file")]);
        let before = listing(dir.path());
        let changes = [
            ("a.txt", Change::Write { bytes: b"new", executable: false }),
            ("file/inside.txt", Change::Write { bytes: b"x", executable: false }),
        ];
        let err = apply(dir.path(), &changes, &Interrupt::default()).unwrap_err();
        assert!(err.to_string().contains("file/inside.txt"), "{err}");
        assert_eq!(listing(dir.path()), before);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_on_the_way_is_refused_before_any_change() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tree(&[("a.txt", "old")]);
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let changes = [
            ("a.txt", Change::Write { bytes: b"new", executable: false }),
            ("link/evil.txt", Change::Write { bytes: b"x", executable: false }),
        ];
        assert!(apply(dir.path(), &changes, &Interrupt::default()).is_err());
        assert_eq!(std::fs::read_to_string(dir.path().join("a.txt")).unwrap(), "old");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_journal_left_by_a_dead_run_is_rolled_back() {
        let dir = tree(&[("a.txt", "new"), ("added.txt", "added")]);
        // What a run killed after moving a.txt aside and placing both files leaves behind.
        let staging = dir.path().join(".dozen-tx-999999999-abc");
        std::fs::create_dir(&staging).unwrap();
        std::fs::write(staging.join("old-0"), "old").unwrap();
        std::fs::write(
            staging.join("journal"),
            concat!(
                "{\"step\":\"aside\",\"path\":\"a.txt\",\"index\":0}\n",
                "{\"step\":\"placed\",\"path\":\"a.txt\",\"index\":0}\n",
                "{\"step\":\"placed\",\"path\":\"added.txt\",\"index\":1}\n",
            ),
        )
        .unwrap();
        assert_eq!(recover(dir.path()).unwrap(), 1);
        assert_eq!(listing(dir.path()), [("a.txt".into(), "old".into())]);
    }
}
