//! Generated projects: the option combinations of the built-in pack (SPEC §5: db × ci × cloud ×
//! k8s, 36 per stack), the `dozen new` invocation that renders one, and a listing of its files.
//! The binary under test is the one cargo built for this package, or `DOZEN_E2E_BIN` when set (to
//! run the tier against an installed or release build).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::command;
use crate::stack::Stack;

/// The project name every generated repository gets.
pub const NAME: &str = "demo-svc";

/// The answers a project is generated with, beside its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `--db`: `postgres` or `none`.
    pub db: &'static str,
    /// `--ci`: `github`, `gitlab` or `none`.
    pub ci: &'static str,
    /// `--cloud`: `aws`, `gcp` or `none`.
    pub cloud: &'static str,
    /// `--k8s` or `--no-k8s`.
    pub k8s: bool,
}

impl Options {
    /// The defaults of every option but `db` (github, aws, Kubernetes on).
    pub fn defaults(db: &'static str) -> Options {
        Options { db, ci: "github", cloud: "aws", k8s: true }
    }

    /// Every combination of options.
    pub fn matrix() -> Vec<Options> {
        let mut all = Vec::new();
        for db in ["postgres", "none"] {
            for ci in ["github", "gitlab", "none"] {
                for cloud in ["aws", "gcp", "none"] {
                    for k8s in [true, false] {
                        all.push(Options { db, ci, cloud, k8s });
                    }
                }
            }
        }
        all
    }

    /// A directory name for the combination, e.g. `postgres-github-aws-k8s`.
    pub fn label(&self) -> String {
        format!("{}-{}-{}-{}", self.db, self.ci, self.cloud, if self.k8s { "k8s" } else { "nok8s" })
    }
}

/// Runs `dozen new` for `stack` with `options` into `parent` and returns the project directory.
pub fn generate(stack: &Stack, options: &Options, parent: &Path) -> Result<PathBuf, String> {
    let mut cmd = Command::new(dozen());
    cmd.args(["new", NAME, "--yes", "--no-git", "--lang", stack.lang, "--stack", stack.stack])
        .args(["--db", options.db, "--ci", options.ci, "--cloud", options.cloud])
        .arg(if options.k8s { "--k8s" } else { "--no-k8s" })
        .arg("-o")
        .arg(parent)
        .env("NO_COLOR", "1");
    command::run_ok(&mut cmd, Duration::from_secs(120))?;
    let dir = parent.join(NAME);
    if dir.join("Procfile").is_file() {
        Ok(dir)
    } else {
        Err(format!("`dozen new` succeeded but {} has no Procfile", dir.display()))
    }
}

/// The dozen executable under test.
pub fn dozen() -> PathBuf {
    std::env::var_os("DOZEN_E2E_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_dozen")), PathBuf::from)
}

/// Every file under `dir`, recursively, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => found.push(path),
                _ => {}
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_matrix_has_every_combination_once() {
    let all = Options::matrix();
    assert_eq!(all.len(), 36);
    let mut labels: Vec<String> = all.iter().map(Options::label).collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), 36);
    assert!(all.contains(&Options::defaults("none")));
}

#[test]
fn files_lists_nested_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/c.txt"), "").unwrap();
    std::fs::write(dir.path().join("d.txt"), "").unwrap();
    assert_eq!(files(dir.path()), [dir.path().join("a/b/c.txt"), dir.path().join("d.txt")]);
}
