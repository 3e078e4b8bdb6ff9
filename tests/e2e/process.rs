//! Linux processes seen from outside: sending signals to a process or its group, finding the
//! processes a server forked (PostgreSQL backends, gunicorn workers) and reading their resident
//! memory from `/proc`. Nothing here starts a process; `command` and `service` do that.

use std::fs;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::{Pid, geteuid};

/// Sends `sig` to one process; false when it no longer exists.
pub fn signal(pid: u32, sig: Signal) -> bool {
    kill(as_pid(pid), sig).is_ok()
}

/// Sends `sig` to the process group led by `pid` (children started with `process_group(0)`).
pub fn signal_group(pid: u32, sig: Signal) -> bool {
    killpg(as_pid(pid), sig).is_ok()
}

/// Whether this process runs as root (PostgreSQL then has to run as another user).
pub fn is_root() -> bool {
    geteuid().is_root()
}

fn as_pid(pid: u32) -> Pid {
    Pid::from_raw(i32::try_from(pid).expect("process ids fit in pid_t"))
}

/// `pid` followed by every process descended from it, parents before children.
pub fn tree(pid: u32) -> Vec<u32> {
    let parents = parent_table();
    let mut found = vec![pid];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(child, _)| *child));
        next += 1;
    }
    found
}

/// Resident memory of `pid` and all its descendants in KiB (`VmRSS` summed); None when `pid` is gone.
pub fn tree_rss_kib(pid: u32) -> Option<u64> {
    let own = rss_kib(pid)?;
    Some(own + tree(pid).into_iter().skip(1).filter_map(rss_kib).sum::<u64>())
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// (pid, parent pid) of every process.
fn parent_table() -> Vec<(u32, u32)> {
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name is parenthesised and may hold spaces; fields resume after the last ')'.
            let rest = &stat[stat.rfind(')')? + 1..];
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect()
}

#[test]
fn tree_finds_children_and_their_memory() {
    use std::process::Command;
    use std::time::Duration;
    let mut child = Command::new("sh").args(["-c", "sleep 30 & sleep 30 & wait"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id();
    let tree = tree(pid);
    assert_eq!(tree.len(), 3, "{tree:?}");
    assert!(tree_rss_kib(pid).unwrap() > rss_kib(pid).unwrap());
    for p in tree.iter().rev() {
        assert!(signal(*p, Signal::SIGKILL));
    }
    child.wait().unwrap();
    assert!(tree_rss_kib(pid).is_none());
}
