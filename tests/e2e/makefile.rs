//! A generated repository's own `make build`, `make lint` and `make test`, run as a developer
//! would (SPEC §6: the locked install, the linters, the tests without a database). Builds share
//! caches across runs: a Rust project's `target` is a symlink into the tier's cache directory, and
//! Go, Maven, npm and pip use their usual per-user caches. The harness's own configuration
//! variables (PORT, DATABASE_URL, …) are removed so that `make test` sees a clean environment;
//! with a database, `make test` then runs again as the generated CI runs it, with `DATABASE_URL`
//! pointing at a real PostgreSQL, so that the stack's own integration test really runs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::command;
use crate::stack::Stack;

/// The targets run, in order.
pub const TARGETS: [&str; 3] = ["build", "lint", "test"];

/// How long one target may take (a first Maven or cargo build downloads and compiles a lot).
const DEADLINE: Duration = Duration::from_secs(1800);

/// What the targets did.
pub struct Ran {
    /// Each target's duration.
    pub timings: Vec<(&'static str, Duration)>,
    /// What `make test` printed.
    pub test_output: String,
}

/// Runs the targets in `dir`, stopping at the first failure.
pub fn run_targets(dir: &Path, stack: &Stack, cache: &Path) -> Result<Ran, String> {
    if stack.lang == "rust" {
        let shared = cache.join("cargo-target");
        std::fs::create_dir_all(&shared).map_err(|e| format!("{}: {e}", shared.display()))?;
        std::os::unix::fs::symlink(&shared, dir.join("target"))
            .map_err(|e| format!("symlink {}/target: {e}", dir.display()))?;
    }
    let mut timings = Vec::new();
    let mut test_output = String::new();
    for target in TARGETS {
        let started = Instant::now();
        let done = command::run_ok(&mut make(dir, target), DEADLINE)?;
        if target == "test" {
            test_output = done.output();
        }
        timings.push((target, started.elapsed()));
    }
    Ok(Ran { timings, test_output })
}

/// `make test` as the generated CI runs it, with `DATABASE_URL` set; returns what it printed.
pub fn test_with_database(dir: &Path, url: &str) -> Result<String, String> {
    let mut cmd = make(dir, "test");
    cmd.env("DATABASE_URL", url);
    command::run_ok(&mut cmd, DEADLINE).map(|done| done.output())
}

/// `make target` in `dir` with the harness's own variables removed.
fn make(dir: &Path, target: &str) -> Command {
    let mut cmd = Command::new("make");
    cmd.arg(target).current_dir(dir).env("NO_COLOR", "1").env_remove("CARGO_TARGET_DIR");
    for variable in ["PORT", "DATABASE_URL", "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "MAKEFLAGS", "MFLAGS"] {
        cmd.env_remove(variable);
    }
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    cmd
}
