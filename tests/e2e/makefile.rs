//! A generated repository's own `make build`, `make lint` and `make test`, run as a developer
//! would (SPEC §6: the locked install, the linters, the tests without a database). Builds share
//! caches across runs: a Rust project's `target` is a symlink into the tier's cache directory, and
//! Go, Maven, npm and pip use their usual per-user caches. The harness's own configuration
//! variables (PORT, DATABASE_URL, …) are removed so that `make test` sees a clean environment.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::command;
use crate::stack::Stack;

/// The targets run, in order.
pub const TARGETS: [&str; 3] = ["build", "lint", "test"];

/// How long one target may take (a first Maven or cargo build downloads and compiles a lot).
const DEADLINE: Duration = Duration::from_secs(1800);

/// Runs the targets in `dir`, stopping at the first failure; returns each target's duration.
pub fn run_targets(dir: &Path, stack: &Stack, cache: &Path) -> Result<Vec<(&'static str, Duration)>, String> {
    if stack.lang == "rust" {
        let shared = cache.join("cargo-target");
        std::fs::create_dir_all(&shared).map_err(|e| format!("{}: {e}", shared.display()))?;
        std::os::unix::fs::symlink(&shared, dir.join("target"))
            .map_err(|e| format!("symlink {}/target: {e}", dir.display()))?;
    }
    let mut timings = Vec::new();
    for target in TARGETS {
        let started = Instant::now();
        let mut cmd = Command::new("make");
        cmd.arg(target).current_dir(dir).env("NO_COLOR", "1").env_remove("CARGO_TARGET_DIR");
        for variable in ["PORT", "DATABASE_URL", "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "MAKEFLAGS", "MFLAGS"] {
            cmd.env_remove(variable);
        }
        if std::env::var_os("GOTOOLCHAIN").is_none() {
            cmd.env("GOTOOLCHAIN", "local");
        }
        command::run_ok(&mut cmd, DEADLINE)?;
        timings.push((target, started.elapsed()));
    }
    Ok(timings)
}
