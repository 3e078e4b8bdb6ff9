//! Writing an update into the working tree, all or nothing. Every new file is first written into
//! a staging directory inside the project; then each file that changes is moved aside before its
//! replacement is moved in. A failure or Ctrl-C part way moves everything back, so the working
//! tree is left byte for byte as it was. For the test of exactly that, the environment variable
//! `DOZEN_TEST_FAIL_AFTER=N` makes the step after the N-th file fail (debug builds only).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::merge::Change;
use crate::error::{Error, Result, io};

/// Environment variable that injects a failure after that many files (tests only).
pub const FAIL_AFTER: &str = "DOZEN_TEST_FAIL_AFTER";

/// What has been done so far, to be undone on failure.
enum Step {
    /// A file or directory was moved aside to `backup`.
    MovedAside { path: PathBuf, backup: PathBuf },
    /// A new file was moved into `path`.
    Placed { path: PathBuf },
    /// A directory was created.
    Created { path: PathBuf },
}

/// Applies the changes (project-relative paths) under `root`.
pub fn apply(root: &Path, changes: &[(&str, &Change)]) -> Result<()> {
    let interrupted = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Failure to register only means Ctrl-C kills the process the default way.
        let _ = signal_hook::flag::register(signal, Arc::clone(&interrupted));
    }
    let staging = tempfile::Builder::new()
        .prefix(".dozen-update-")
        .tempdir_in(root)
        .map_err(io("creating a staging directory in", root))?;
    for (i, (rel, change)) in changes.iter().enumerate() {
        if let Change::Write(entry) = change {
            let path = staging.path().join(format!("new-{i}"));
            std::fs::write(&path, &entry.bytes).map_err(io("writing", &path))?;
            set_mode(&path, &root.join(rel), entry.executable)?;
        }
    }
    // Only debug builds (the ones the test suite runs) honour the failure injection.
    let fail_after = if cfg!(debug_assertions) {
        std::env::var(FAIL_AFTER).ok().and_then(|v| v.parse::<usize>().ok())
    } else {
        None
    };
    let mut steps = Vec::new();
    let mut result = Ok(());
    for (i, (rel, change)) in changes.iter().enumerate() {
        if fail_after == Some(i) {
            let source = std::io::Error::other(format!("failure injected by {FAIL_AFTER}"));
            result = Err(Error::Io { action: "writing", path: root.join(rel), source });
        } else if interrupted.load(Ordering::SeqCst) {
            result = Err(Error::Cancelled);
        } else {
            result = step(root, rel, change, staging.path(), i, &mut steps);
        }
        if result.is_err() {
            break;
        }
    }
    if let Err(err) = result {
        return match undo(steps) {
            Ok(()) => Err(err),
            Err(undo_err) => Err(Error::Io {
                action: "undoing a failed update; the original files are kept in",
                path: staging.keep(),
                source: undo_err,
            }),
        };
    }
    for (rel, change) in changes {
        if matches!(change, Change::Remove) {
            remove_empty_parents(root, rel);
        }
    }
    Ok(())
}

fn step(root: &Path, rel: &str, change: &Change, staging: &Path, i: usize, steps: &mut Vec<Step>) -> Result<()> {
    let path = root.join(rel);
    if let Change::Write(_) = change {
        let mut dir = root.to_path_buf();
        let parents: Vec<&str> = rel.split('/').collect();
        for segment in &parents[..parents.len() - 1] {
            dir.push(segment);
            if !dir.exists() {
                std::fs::create_dir(&dir).map_err(io("creating", &dir))?;
                steps.push(Step::Created { path: dir.clone() });
            }
        }
    }
    if std::fs::symlink_metadata(&path).is_ok() {
        let backup = staging.join(format!("old-{i}"));
        std::fs::rename(&path, &backup).map_err(io("moving aside", &path))?;
        steps.push(Step::MovedAside { path: path.clone(), backup });
    }
    if let Change::Write(_) = change {
        std::fs::rename(staging.join(format!("new-{i}")), &path).map_err(io("writing", &path))?;
        steps.push(Step::Placed { path });
    }
    Ok(())
}

fn undo(steps: Vec<Step>) -> std::io::Result<()> {
    for step in steps.into_iter().rev() {
        match step {
            Step::Placed { path } => std::fs::remove_file(path)?,
            Step::MovedAside { path, backup } => std::fs::rename(backup, path)?,
            Step::Created { path } => std::fs::remove_dir(path)?,
        }
    }
    Ok(())
}

/// git does not keep empty directories; neither does an update that removed their last file.
fn remove_empty_parents(root: &Path, rel: &str) {
    let mut dir = root.join(rel);
    while dir.pop() && dir != root && std::fs::remove_dir(&dir).is_ok() {}
}

/// The permissions of the file it replaces (or 0644), with the executable bits the merge decided.
#[cfg(unix)]
fn set_mode(path: &Path, replaces: &Path, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(replaces).map_or(0o644, |m| m.permissions().mode() & 0o777);
    let mode = if executable { current | ((current & 0o444) >> 2) } else { current & !0o111 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io("setting the mode of", path))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: &Path, _: bool) -> Result<()> {
    Ok(())
}
