//! The attack suite: a corpus of hostile packs and inputs (one directory each under
//! `tests/fixtures/attacks/`, so adding a case means adding a directory), fault injection at every
//! step of a large `--force` write, and signals at random moments of `new` and `update`. For every
//! case the same promises are asserted: the documented exit code, a message naming the problem,
//! no panic, no hang, nothing written outside the target, nothing partial left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Env, bounded, files_under, fixtures, stderr};

/// `case.toml` of one attack.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// Extra arguments to `dozen new svc -y --pack PACK`.
    args: Vec<String>,
    /// The exit code dozen must give.
    exit: i32,
    /// Texts stderr must hold.
    says: Vec<String>,
    /// Texts no output may hold.
    #[serde(default)]
    never: Vec<String>,
}

/// Every file under `dir`, with its bytes, for "nothing changed".
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_under(dir).into_iter().map(|p| (p.clone(), std::fs::read(dir.join(&p)).unwrap_or_default())).collect()
}

#[test]
fn every_attack_of_the_corpus_is_refused_as_promised() {
    let corpus = fixtures().join("attacks");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&corpus).unwrap().flatten().map(|e| e.path()).collect();
    cases.sort();
    assert!(cases.len() >= 8, "the corpus is there: {cases:?}");
    let mut failed = Vec::new();
    for dir in cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let case: Case = toml::from_str(&std::fs::read_to_string(dir.join("case.toml")).unwrap())
            .unwrap_or_else(|e| panic!("{name}/case.toml: {e}"));
        let env = Env::new();
        // A sentinel beside the output: anything written outside the target lands near it.
        let sentinel = env.root.path().join("sentinel");
        std::fs::create_dir_all(&sentinel).unwrap();
        let home_before = contents(&env.root.path().join("home"));
        let mut cmd = env.std_dozen();
        cmd.args(["new", "svc", "-y", "--pack"]).arg(dir.join("pack")).args(&case.args).arg("-o").arg(env.out());
        let output = bounded(cmd, Duration::from_secs(30));
        let (out, err) = (String::from_utf8_lossy(&output.stdout), stderr(&output));
        let mut problems = Vec::new();
        if output.status.code() != Some(case.exit) {
            problems.push(format!("exit {:?}, want {}", output.status.code(), case.exit));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        for text in &case.says {
            if !err.contains(text.as_str()) {
                problems.push(format!("stderr lacks {text:?}"));
            }
        }
        for text in &case.never {
            if out.contains(text.as_str()) || err.contains(text.as_str()) {
                problems.push(format!("output holds {text:?}"));
            }
        }
        if case.exit != 0 && !env.written().is_empty() {
            problems.push(format!("left behind: {:?}", env.written()));
        }
        if std::fs::read_dir(&sentinel).unwrap().count() != 0 || contents(&env.root.path().join("home")) != home_before
        {
            problems.push("wrote outside the target".into());
        }
        let escaped = env.root.path().join("escaped.txt");
        if escaped.exists() || env.root.path().join("out/escaped.txt").exists() {
            problems.push("a file escaped the target".into());
        }
        if !problems.is_empty() {
            failed.push(format!("{name}: {}\n--- stderr ---\n{err}", problems.join("; ")));
        }
    }
    assert!(failed.is_empty(), "{} attack(s) not refused as promised:\n\n{}", failed.len(), failed.join("\n\n"));
}

#[test]
fn a_failure_at_any_step_of_a_force_write_leaves_the_directory_as_it_was() {
    let env = Env::new();
    let output = env.new_project(&["svc", "-y", "--no-git", "--lang", "go"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("svc");
    // One step per planned file (each is moved in, some after moving the old one aside).
    let steps = files_under(&dir).len();
    // A user's directory: some generated files edited, one of their own added.
    std::fs::write(dir.join("README.md"), "mine\n").unwrap();
    std::fs::write(dir.join("NOTES.md"), "my notes\n").unwrap();
    std::fs::remove_file(dir.join("Makefile")).unwrap();
    let before = contents(&dir);
    for step in (0..steps).step_by(5) {
        let output = env
            .dozen()
            .args(["new", "svc", "-y", "--no-git", "--lang", "go", "--force", "-o"])
            .arg(env.out())
            .env("DOZEN_TEST_FAIL_AFTER", step.to_string())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "step {step}: {}", stderr(&output));
        assert!(stderr(&output).contains("failure injected"), "step {step}: {}", stderr(&output));
        assert_eq!(contents(&dir), before, "the failure at step {step} left the directory changed");
    }
    for step in [1, steps / 2] {
        let output = env
            .dozen()
            .args(["new", "svc", "-y", "--no-git", "--lang", "go", "--force", "-o"])
            .arg(env.out())
            .env("DOZEN_TEST_CRASH_AFTER", step.to_string())
            .output()
            .unwrap();
        assert!(!output.status.success(), "aborted at step {step}");
        let dry = env
            .dozen()
            .args(["new", "svc", "-y", "--no-git", "--lang", "go", "--force", "-o"])
            .arg(env.out())
            .arg("--dry-run")
            .output()
            .unwrap();
        assert!(dry.status.success(), "{}", stderr(&dry));
        // A dry run writes nothing, so recovery waits for a real run; a real run recovers first.
        let again = env
            .dozen()
            .args(["new", "svc", "-y", "--no-git", "--lang", "go", "--force", "-o"])
            .arg(env.out())
            .env("DOZEN_TEST_FAIL_AFTER", "0")
            .output()
            .unwrap();
        assert!(stderr(&again).contains("rolled back an interrupted write"), "step {step}: {}", stderr(&again));
        assert_eq!(contents(&dir), before, "the crash at step {step} was rolled back");
    }
}

/// A tiny deterministic generator, so a failure can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Starts `cmd`, sends it a random one of SIGINT, SIGTERM and SIGHUP after a random delay of up to
/// `max_delay`, waits (30 s at most: a hang fails) and returns what was sent and its stderr, which
/// must hold no panic.
#[cfg(unix)]
fn signalled(mut cmd: Command, random: &mut Lcg, max_delay: Duration, what: &str) -> (String, std::process::Output) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let signal = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP][usize::try_from(random.below(3)).unwrap()];
    let delay = Duration::from_micros(random.below(u64::try_from(max_delay.as_micros()).unwrap()));
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(delay);
    let _ = kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), signal);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}: hung after {signal:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!stderr(&output).contains("panicked"), "{what}: {}", stderr(&output));
    (format!("{signal:?} after {delay:?}"), output)
}

#[cfg(unix)]
#[test]
fn signals_at_random_moments_leave_the_whole_project_or_nothing() {
    let seed = std::env::var("DOZEN_SIGNAL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_201);
    let mut random = Lcg(seed);
    let env = Env::new();
    let fresh = env.root.path().join("fresh");
    let output = env.dozen().args(["new", "svc", "-y", "--lang", "java", "-o"]).arg(&fresh).output().unwrap();
    assert!(output.status.success());
    let whole = files_under(&fresh.join("svc"));
    for round in 0..12 {
        let mut cmd = env.std_dozen();
        cmd.args(["new", "svc", "-y", "--lang", "java", "-o"]).arg(env.out());
        let what = format!("seed {seed} round {round}");
        let (sent, output) = signalled(cmd, &mut random, Duration::from_millis(40), &what);
        let target = env.out().join("svc");
        let leftovers: Vec<String> = std::fs::read_dir(env.out())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "svc")
            .collect();
        assert!(leftovers.is_empty(), "{what} ({sent}): left {leftovers:?}");
        if target.exists() {
            assert_eq!(files_under(&target), whole, "{what} ({sent}): a partial project");
            std::fs::remove_dir_all(&target).unwrap();
        } else {
            assert_ne!(output.status.code(), Some(0), "{what} ({sent}): success without a project");
        }
    }
}

#[cfg(unix)]
#[test]
fn signals_at_random_moments_of_an_update_leave_it_applied_or_not_at_all() {
    let seed = std::env::var("DOZEN_SIGNAL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_202);
    let mut random = Lcg(seed);
    let env = Env::new();
    let output = env.new_project(&["svc", "-y", "--lang", "go", "--no-k8s"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("svc");
    let before = contents(&dir);
    let update = |extra: &[&str]| {
        let mut cmd = env.std_dozen();
        cmd.arg("update").arg(&dir).args(["--set", "k8s=true", "--set", "ci=gitlab"]).args(extra);
        cmd
    };
    let done = update(&[]).output().unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    let after = contents(&dir);
    let git = |args: &[&str]| assert!(Command::new("git").arg("-C").arg(&dir).args(args).status().unwrap().success());
    git(&["checkout", "-q", "--", "."]);
    git(&["clean", "-qfd"]);
    for round in 0..10 {
        let what = format!("seed {seed} round {round}");
        let (sent, output) = signalled(update(&[]), &mut random, Duration::from_millis(60), &what);
        let now = contents(&dir);
        assert!(now == before || now == after, "{what} ({sent}): a half-applied update\n{}", stderr(&output));
        git(&["checkout", "-q", "--", "."]);
        git(&["clean", "-qfd"]);
    }
}
