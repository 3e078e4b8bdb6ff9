//! The only code that writes the generated project. A plan is written into a temporary sibling of
//! the target and renamed into place, so a failure or Ctrl-C at any moment leaves either nothing
//! or the whole project. With `--force` into an existing directory, every file is still staged
//! first and moved in only when all of them were written.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result, io};
use crate::plan::Plan;

/// Set by SIGINT/SIGTERM while writing; checked between files.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Registers SIGINT and SIGTERM to set the flag instead of killing the process.
    pub fn install() -> Interrupt {
        let flag = Arc::new(AtomicBool::new(false));
        #[cfg(unix)]
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Failure to register only means Ctrl-C kills the process the default way.
            let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
        }
        Interrupt(flag)
    }

    fn check(&self) -> Result<()> {
        if self.0.load(Ordering::SeqCst) { Err(Error::Cancelled) } else { Ok(()) }
    }
}

/// A project written into its staging directory, not yet in place.
pub struct Staged {
    dir: tempfile::TempDir,
    target: PathBuf,
    merge: bool,
}

impl Staged {
    /// The staging directory (git runs here before the rename).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Moves the staged project into place. Returns the paths that replaced existing files.
    pub fn commit(self, interrupt: &Interrupt) -> Result<Vec<String>> {
        interrupt.check()?;
        if !self.merge {
            let staged = self.dir.keep();
            return match std::fs::rename(&staged, &self.target) {
                Ok(()) => Ok(Vec::new()),
                Err(err) => {
                    let _ = std::fs::remove_dir_all(&staged);
                    Err(Error::Io { action: "moving the project into", path: self.target, source: err })
                }
            };
        }
        let mut replaced = Vec::new();
        let mut files = Vec::new();
        collect(self.dir.path(), self.dir.path(), &mut files)?;
        for rel in files {
            let dest = self.target.join(&rel);
            refuse_symlinked_ancestors(&self.target, &rel)?;
            if dest.exists() {
                replaced.push(rel.to_string_lossy().replace('\\', "/"));
            }
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
            }
            std::fs::rename(self.dir.path().join(&rel), &dest).map_err(io("writing", &dest))?;
        }
        Ok(replaced)
    }
}

/// Checks the target: a non-empty directory needs `force`; the parent must exist or be creatable.
pub fn prepare(target: &Path, force: bool) -> Result<bool> {
    match std::fs::read_dir(target) {
        Ok(mut entries) => {
            if entries.next().is_some() && !force {
                return Err(Error::TargetExists(target.to_path_buf()));
            }
            Ok(true)
        }
        Err(_) if target.is_file() => Err(Error::TargetExists(target.to_path_buf())),
        Err(err) if matches!(err.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
            let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(io("creating the output directory", parent))?;
            Ok(false)
        }
        Err(err) => Err(Error::Io { action: "reading", path: target.to_path_buf(), source: err }),
    }
}

/// Writes every planned file into a staging directory beside `target`.
pub fn stage(plan: &Plan, target: &Path, exists: bool, interrupt: &Interrupt) -> Result<Staged> {
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map_or_else(|| "project".into(), |n| n.to_string_lossy().into_owned());
    let dir = tempfile::Builder::new()
        .prefix(&format!(".{name}.dozen-"))
        .tempdir_in(parent)
        .map_err(io("creating a staging directory in", parent))?;
    for file in &plan.files {
        interrupt.check()?;
        let path = dir.path().join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        std::fs::write(&path, file.body.bytes()).map_err(io("writing", &path))?;
        if file.executable {
            set_executable(&path)?;
        }
    }
    Ok(Staged { dir, target: target.to_path_buf(), merge: exists })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io("reading", dir))? {
        let entry = entry.map_err(io("reading", dir))?;
        let path = entry.path();
        if entry.file_type().map_err(io("reading", &path))?.is_dir() {
            collect(root, &path, out)?;
        } else {
            out.push(path.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
    Ok(())
}

/// With `--force`, an existing directory may hold symlinks; never write through one.
fn refuse_symlinked_ancestors(target: &Path, rel: &Path) -> Result<()> {
    let mut current = target.to_path_buf();
    for component in rel.components() {
        current.push(component);
        if let Ok(meta) = std::fs::symlink_metadata(&current)
            && meta.file_type().is_symlink()
        {
            return Err(Error::UnsafePath {
                path: rel.to_string_lossy().into_owned(),
                source_file: current.display().to_string(),
                reason: "the target holds a symlink on that path, which could lead outside the project".into(),
            });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io("setting the mode of", path))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> Result<()> {
    Ok(())
}
