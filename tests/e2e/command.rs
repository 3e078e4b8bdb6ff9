//! Running an external command to completion under a deadline. Every tool the tier drives (dozen,
//! the validators, `make`, a `release` command) goes through here, so each one gets its own process
//! group (a timeout kills everything it started), a captured stdout and stderr, and a failure
//! message that names the command, where it ran and the end of what it printed.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::process;

/// What a finished command left behind.
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything written to stdout, lossily decoded.
    pub stdout: String,
    /// Everything written to stderr, lossily decoded.
    pub stderr: String,
}

impl Finished {
    /// stdout and stderr together, for messages.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` with stdin closed; an error when it cannot start or outlives `deadline`.
pub fn run(cmd: &mut Command, deadline: Duration) -> Result<Finished, String> {
    let shown = describe(cmd);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > deadline => break None,
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for `{shown}`: {e}")),
        }
    };
    let Some(status) = status else {
        process::signal_group(child.id(), Signal::SIGKILL);
        let _ = child.wait();
        let output = format!("{}{}", join(stdout), join(stderr));
        return Err(format!("`{shown}` did not finish within {}s:\n{}", deadline.as_secs(), tail(&output, 40)));
    };
    Ok(Finished { status, stdout: join(stdout), stderr: join(stderr) })
}

/// Runs `cmd` like [`run`] and also treats a non-zero exit as an error carrying its output.
pub fn run_ok(cmd: &mut Command, deadline: Duration) -> Result<Finished, String> {
    let shown = describe(cmd);
    let finished = run(cmd, deadline)?;
    if finished.status.success() {
        Ok(finished)
    } else {
        Err(format!("`{shown}` failed ({}):\n{}", finished.status, tail(&finished.output(), 60)))
    }
}

/// The command line and working directory of `cmd`, as a person would type it.
pub fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    let line = words.join(" ");
    match cmd.get_current_dir() {
        Some(dir) => format!("{line}` in `{}", dir.display()),
        None => line,
    }
}

/// The last `lines` lines of `text`, with a note of how many were left out.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    if all.len() <= lines {
        return all.join("\n");
    }
    format!("[... {} lines ...]\n{}", all.len() - lines, all[all.len() - lines..].join("\n"))
}

fn collect<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn join(reader: thread::JoinHandle<Vec<u8>>) -> String {
    String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned()
}

#[test]
fn run_captures_both_streams_and_the_status() {
    let done = run(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]), Duration::from_secs(10)).unwrap();
    assert_eq!(done.status.code(), Some(3));
    assert_eq!(done.stdout, "out\n");
    assert_eq!(done.stderr, "err\n");
}

#[test]
fn run_ok_reports_a_failing_command_with_its_output() {
    let err = run_ok(Command::new("sh").args(["-c", "echo broken; exit 1"]), Duration::from_secs(10)).err().unwrap();
    assert!(err.contains("`sh -c echo broken; exit 1` failed"), "{err}");
    assert!(err.contains("broken"), "{err}");
}

#[test]
fn run_kills_the_whole_group_at_the_deadline() {
    let started = Instant::now();
    let err = run(Command::new("sh").args(["-c", "sleep 30 & sleep 30"]), Duration::from_millis(300)).err().unwrap();
    assert!(err.contains("did not finish within"), "{err}");
    // The pipes close only when every process of the group is gone, so a quick return proves the
    // background `sleep` was killed too.
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn tail_keeps_the_last_lines() {
    assert_eq!(tail("a\nb\nc", 5), "a\nb\nc");
    assert_eq!(tail("a\nb\nc", 2), "[... 1 lines ...]\nb\nc");
}
