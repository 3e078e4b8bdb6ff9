//! Pack hooks and checks: commands a pack declares to run after generation. They run only with `--trust`
//! (or after a yes at a terminal prompt), in the generated directory, with the answers in their
//! environment as `DOZEN_<NAME>`. Their output goes to stderr, never to stdout (which belongs to
//! `--json`), and their command lines are shown through `untrusted::visible`. A failing hook is
//! reported; the project stays.

use std::path::Path;
use std::process::Command as Process;

use crate::answers::Answers;
use crate::error::{Error, Result};
use crate::pack::manifest::Command;
use crate::report::HookRun;

/// Runs each hook in `dir`; stops at the first failure and reports it.
pub fn run_all(what: &'static str, hooks: &[&Command], dir: &Path, answers: &Answers) -> Result<Vec<HookRun>> {
    let mut runs = Vec::new();
    for hook in hooks {
        let mut process = Process::new("sh");
        process.arg("-c").arg(&hook.run).current_dir(dir);
        for answer in &answers.values {
            process.env(format!("DOZEN_{}", answer.name.to_ascii_uppercase()), answer.value.to_string());
        }
        process.stdin(std::process::Stdio::null()).stdout(std::io::stderr());
        crate::output::to_stderr(&format!("running {what}: {}\n", crate::untrusted::visible(&hook.run)));
        let status = process.status().map_err(crate::error::io("running hook in", dir))?;
        let code = status.code().unwrap_or(-1);
        runs.push(HookRun { command: hook.run.clone(), code });
        if code != 0 {
            return Err(Error::Command { what, command: hook.run.clone(), code });
        }
    }
    Ok(runs)
}
