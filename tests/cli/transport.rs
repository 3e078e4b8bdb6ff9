//! Git packs over real transports, against servers on 127.0.0.1 started by each test: HTTPS with
//! a throwaway CA and basic auth (credentials only from `credential.helper=store`), sshd with an
//! ssh-agent and known_hosts, a server that never answers, and `--offline` from the cache.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

#[path = "servers.rs"]
mod servers;

use std::process::Command;

use crate::support::{Env, stderr, stdout};
use servers::{Https, PackRepo, Silent, Sshd};

/// A failure case: what, environment, extra variables, URL, what the error must say.
type Case<'a> = (&'a str, Env, &'a [(&'a str, &'a Path)], String, &'a [&'a str]);

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";

/// An environment whose HOME stores the server's credentials for git's `store` helper.
fn env_with_credentials(server: &Https, password: &str) -> Env {
    let env = Env::new();
    let home = env.root.path().join("home");
    let mut config = std::fs::read_to_string(home.join(".gitconfig")).unwrap();
    config.push_str("[credential]\n\thelper = store\n");
    std::fs::write(home.join(".gitconfig"), config).unwrap();
    std::fs::write(home.join(".git-credentials"), format!("https://{USER}:{password}@127.0.0.1:{}\n", server.port))
        .unwrap();
    env
}

fn dozen_new(env: &Env, extra_env: &[(&str, &Path)], args: &[&str]) -> (Output, Duration) {
    let mut cmd = env.dozen();
    for (key, value) in extra_env {
        cmd.env(key, value);
    }
    cmd.arg("new").args(args).arg("-o").arg(env.out()).timeout(Duration::from_secs(90));
    let started = Instant::now();
    let output = cmd.output().expect("runs");
    (output, started.elapsed())
}

fn record(env: &Env, project: &str) -> String {
    std::fs::read_to_string(env.out().join(project).join(".dozen/answers.toml")).unwrap()
}

#[test]
fn https_pack_with_credentials_from_the_helper_then_offline_from_the_cache() {
    let root = assert_fs::TempDir::new().unwrap();
    let repo = PackRepo::create(root.path());
    let mut server = Https::start(root.path(), USER, PASSWORD);
    let env = env_with_credentials(&server, PASSWORD);
    let src = format!("{}#v1.0.0", server.url("pack.git"));

    // SSL_CERT_FILE is honoured even by git builds on GnuTLS (dozen passes it on as GIT_SSL_CAINFO).
    let (output, _) = dozen_new(&env, &[("SSL_CERT_FILE", &server.ca)], &["svc", "-y", "--pack", &src]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(env.out().join("svc/raw.txt").is_file(), "the pack rendered: {:?}", env.written());
    let recorded = record(&env, "svc");
    assert!(recorded.contains(&format!("source = \"{src}\"")), "{recorded}");
    assert!(recorded.contains(&format!("commit = \"{}\"", repo.v1)), "{recorded}");
    assert!(!stdout(&output).contains("objects"), "git's output stays off stdout: {}", stdout(&output));

    server.stop();
    // A cached commit needs no network at all, even without --offline.
    let pinned = format!("{}#{}", server.url("pack.git"), repo.v1);
    let (output, _) = dozen_new(&env, &[], &["by-commit", "-y", "--no-git", "--pack", &pinned]);
    assert!(output.status.success(), "a cached commit: {}", stderr(&output));
    // --offline: the tag comes from the cache.
    let (output, _) = dozen_new(&env, &[], &["offline", "-y", "--no-git", "--offline", "--pack", &src]);
    assert!(output.status.success(), "--offline after a fetch: {}", stderr(&output));
    assert!(record(&env, "offline").contains(&repo.v1));
    // Without --offline the server is needed for a tag, and its absence is said.
    let (output, elapsed) = dozen_new(&env, &[], &["online", "-y", "--no-git", "--pack", &src]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains(&server.url("pack.git")), "names the URL: {}", stderr(&output));
    assert!(elapsed < Duration::from_secs(30));

    // A fresh cache with --offline: a clear refusal naming the source.
    let fresh = Env::new();
    let (output, _) = dozen_new(&fresh, &[], &["svc", "-y", "--offline", "--pack", &src]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains(&src) && err.contains("not in the cache") && err.contains("without --offline"), "{err}");
    assert!(fresh.written().is_empty());
}

#[test]
fn https_failures_are_clear_write_nothing_and_never_hang() {
    let root = assert_fs::TempDir::new().unwrap();
    PackRepo::create(root.path());
    let server = Https::start(root.path(), USER, PASSWORD);
    let ca: &[(&str, &Path)] = &[("GIT_SSL_CAINFO", &server.ca)];
    let src = server.url("pack.git");
    let cases: [Case; 3] = [
        ("unknown CA", env_with_credentials(&server, PASSWORD), &[], src.clone(), &["certificate", "SSL_CERT_FILE"]),
        ("wrong password", env_with_credentials(&server, "wrong"), ca, src.clone(), &["credential helper"]),
        (
            "missing repository",
            env_with_credentials(&server, PASSWORD),
            ca,
            server.url("nope.git"),
            &["not found", "check the URL"],
        ),
    ];
    for (what, env, extra, url, needles) in cases {
        let (output, elapsed) = dozen_new(&env, extra, &["svc", "-y", "--pack", &url]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(&format!("cannot load pack \"{url}\"")), "{what}: names the URL: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{what}: mentions {needle:?}: {err}");
        }
        assert!(!err.contains(".cache/dozen"), "{what}: never names the cache: {err}");
        assert!(env.written().is_empty(), "{what}: nothing written: {:?}", env.written());
        assert!(elapsed < Duration::from_secs(30), "{what}: took {elapsed:?}");
    }
}

#[test]
fn a_silent_server_fails_within_the_timeout() {
    let silent = Silent::start();
    let env = Env::new();
    let url = format!("https://127.0.0.1:{}/pack.git", silent.port);
    let mut cmd = env.dozen();
    cmd.env("DOZEN_NET_TIMEOUT", "2").args(["new", "svc", "-y", "--pack", &url, "-o"]).arg(env.out());
    let started = Instant::now();
    let output = cmd.timeout(Duration::from_secs(60)).output().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("no answer from the server for 2 s"), "{}", stderr(&output));
    assert!(elapsed < Duration::from_secs(15), "stopped by the watchdog, took {elapsed:?}");
    assert!(env.written().is_empty());
}

#[test]
fn a_token_in_the_url_never_shows_and_is_never_recorded() {
    let token = "tok-9f8e7d6c5b4a";
    let root = assert_fs::TempDir::new().unwrap();
    PackRepo::create(root.path());
    let server = Https::start(root.path(), USER, token);
    let env = Env::new(); // no credential helper: only the URL holds the token
    let ca: &[(&str, &Path)] = &[("GIT_SSL_CAINFO", &server.ca)];
    let with_token = |name: &str| server.url(name).replace("https://", &format!("https://{USER}:{token}@"));
    let src = format!("{}#v1.0.0", with_token("pack.git"));
    let clean = format!("{}#v1.0.0", server.url("pack.git"));

    let (human, _) = dozen_new(&env, ca, &["svc", "-y", "--pack", &src]);
    assert!(human.status.success(), "{}", stderr(&human));
    let (json, _) = dozen_new(&env, ca, &["other", "-y", "--json", "--pack", &src]);
    assert!(json.status.success(), "{}", stderr(&json));
    let (dry, _) = dozen_new(&env, ca, &["dry", "-y", "--dry-run", "--json", "--pack", &src]);
    assert!(stdout(&dry).contains(&clean), "the redacted source is reported: {}", stdout(&dry));
    let (wrong, _) = dozen_new(&env, ca, &["bad", "-y", "--pack", &src.replace(token, &format!("{token}x"))]);
    assert_eq!(wrong.status.code(), Some(2));
    let (missing, _) = dozen_new(&env, ca, &["gone", "-y", "--json", "--pack", &with_token("nope.git")]);
    assert_eq!(missing.status.code(), Some(2));

    let record = record(&env, "svc");
    assert!(record.contains(&format!("source = \"{clean}\"")), "{record}");
    let history = Command::new("git").args(["log", "-p", "--all"]).current_dir(env.out().join("svc")).output().unwrap();
    let mut seen = vec![
        ("answers.toml", record),
        ("git history", stdout(&history)),
        ("installed metadata and cache", grep_tree(env.root.path(), token)),
    ];
    for (what, output) in [
        ("new", &human),
        ("--json", &json),
        ("--dry-run --json", &dry),
        ("wrong token", &wrong),
        ("missing repo", &missing),
    ] {
        seen.push((what, format!("{}{}", stdout(output), stderr(output))));
    }
    for (what, text) in seen {
        assert!(!text.contains(token), "{what} shows the token:\n{text}");
    }
    assert!(stderr(&wrong).contains("credential helper"), "{}", stderr(&wrong));
}

/// Every file under `dir` whose bytes contain `needle`, as text.
fn grep_tree(dir: &Path, needle: &str) -> String {
    let mut hits = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
            {
                hits.push_str(&format!("{} contains {needle}\n", path.display()));
            }
        }
    }
    hits
}

#[test]
fn ssh_pack_through_the_agent_with_known_hosts_enforced() {
    let root = assert_fs::TempDir::new().unwrap();
    let repo = PackRepo::create(root.path());
    let env = Env::new();
    let home = env.root.path().join("home");
    let sshd = Sshd::start(&home);
    let agent: &[(&str, &Path)] = &[("SSH_AUTH_SOCK", &sshd.agent_sock)];
    let user = std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| {
        String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap().trim().to_owned()
    });

    let url = format!("ssh://{user}@127.0.0.1:{}{}#v1.0.0", sshd.port, repo.bare.display());
    let (output, _) = dozen_new(&env, agent, &["svc", "-y", "--no-git", "--pack", &url]);
    assert!(output.status.success(), "{}\nsshd log:\n{}", stderr(&output), sshd.log());
    assert!(record(&env, "svc").contains(&format!("source = \"{url}\"")));
    assert!(record(&env, "svc").contains(&repo.v1));

    // The scp-like form, its port from ~/.ssh/config.
    let scp = format!("{user}@packs:{}#v1.0.0", repo.bare.display());
    let (output, _) = dozen_new(&env, agent, &["scp", "-y", "--no-git", "--pack", &scp]);
    assert!(output.status.success(), "{}\nsshd log:\n{}", stderr(&output), sshd.log());
    assert!(record(&env, "scp").contains(&repo.v1));

    // An unknown host is refused, with the command that fixes it.
    std::fs::write(home.join(".ssh/known_hosts"), "").unwrap();
    let (output, elapsed) = dozen_new(&env, agent, &["unknown", "-y", "--pack", &url]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("Host key verification failed"), "{err}");
    assert!(err.contains(&format!("ssh-keyscan -p {} 127.0.0.1 >> ~/.ssh/known_hosts", sshd.port)), "{err}");
    assert!(!env.out().join("unknown").exists());
    assert!(elapsed < Duration::from_secs(30));
    // Once the host is known again, it works.
    std::fs::write(home.join(".ssh/known_hosts"), format!("{}\n", sshd.known_host)).unwrap();
    let (output, _) = dozen_new(&env, agent, &["known", "-y", "--no-git", "--pack", &url]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// A local repository (served as `file://`) with the given files, committed on `main`.
fn local_repo(dir: &Path, files: &[(&str, &str)]) -> String {
    for (path, body) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    let git = |args: &[&str]| {
        let out = Command::new("git").current_dir(dir).env("GIT_CONFIG_NOSYSTEM", "1").args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "pack"]);
    format!("file://{}", dir.display())
}

fn pack_toml(name: &str, extends: Option<&str>) -> String {
    let pack = crate::support::TestPack::new(name);
    let pack = match extends {
        Some(parent) => pack.extends(parent),
        None => pack,
    };
    pack.first_layer("files").manifest_text()
}

#[test]
fn a_git_packs_relative_extends_stays_inside_its_checkout() {
    let env = Env::new();
    let repo = env.root.path().join("repo");
    let url = local_repo(
        &repo,
        &[
            ("parent/pack.toml", &pack_toml("parent", None)),
            ("parent/files/FROM", "the repository's parent\n"),
            ("child/pack.toml", &pack_toml("child", Some("../parent"))),
            ("child/files/CHILD", "child\n"),
            ("orphan/pack.toml", &pack_toml("orphan", Some("./parent"))),
            ("orphan/files/ORPHAN", "orphan\n"),
            ("escape/pack.toml", &pack_toml("escape", Some("../../outside"))),
            ("escape/files/X", "x\n"),
        ],
    );
    // Decoys in the caller's working directory, which must never be merged in.
    let cwd = env.root.path().join("work/here");
    for decoy in [cwd.join("parent"), env.root.path().join("work/parent"), env.root.path().join("outside")] {
        std::fs::create_dir_all(decoy.join("files")).unwrap();
        std::fs::write(decoy.join("pack.toml"), pack_toml("decoy", None)).unwrap();
        std::fs::write(decoy.join("files/FROM"), "the caller's directory\n").unwrap();
    }
    let run = |name: &str, sub: &str| {
        env.dozen()
            .current_dir(&cwd)
            .args(["new", name, "-y", "--no-git", "--pack", &format!("{url}//{sub}"), "-o"])
            .arg(env.out())
            .output()
            .unwrap()
    };
    let child = run("a", "child");
    assert!(child.status.success(), "{}", stderr(&child));
    assert_eq!(std::fs::read_to_string(env.out().join("a/FROM")).unwrap(), "the repository's parent\n");
    let record = record(&env, "a");
    assert!(record.contains(&format!("{url}//parent")), "the parent is recorded by its URL: {record}");

    let orphan = run("b", "orphan");
    assert_eq!(orphan.status.code(), Some(2), "./parent is not in the repository: {}", stderr(&orphan));
    assert!(stderr(&orphan).contains("no pack.toml in \"orphan/parent\""), "{}", stderr(&orphan));
    let escape = run("c", "escape");
    assert_eq!(escape.status.code(), Some(2), "{}", stderr(&escape));
    assert!(stderr(&escape).contains("it leaves the repository"), "{}", stderr(&escape));
    assert!(!env.out().join("b").exists() && !env.out().join("c").exists());
}

#[cfg(unix)]
#[test]
fn a_subdir_that_is_a_symlink_is_refused() {
    let env = Env::new();
    let outside = env.root.path().join("outside-pack");
    std::fs::create_dir_all(outside.join("files")).unwrap();
    std::fs::write(outside.join("pack.toml"), pack_toml("outside", None)).unwrap();
    std::fs::write(outside.join("files/SECRET"), "local file\n").unwrap();
    let repo = env.root.path().join("repo");
    std::fs::create_dir_all(repo.join("real")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.join("link")).unwrap();
    std::os::unix::fs::symlink("../outside", repo.join("real/up")).unwrap();
    let url = local_repo(&repo, &[("real/README", "a real directory\n")]);
    for (sub, shown) in [("link", "link"), ("real/up", "real/up")] {
        let output = env.new_project(&["svc", "-y", "--no-git", "--pack", &format!("{url}//{sub}")]);
        assert_eq!(output.status.code(), Some(2), "{sub}: {}", stderr(&output));
        assert!(stderr(&output).contains(&format!("`{shown}` is a symlink in the repository")), "{}", stderr(&output));
        assert!(env.written().is_empty());
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_fetch_stops_git_and_leaves_nothing() {
    let silent = Silent::start();
    let env = Env::new();
    let url = format!("https://127.0.0.1:{}/pack.git", silent.port);
    let child = env
        .std_dozen()
        .env("DOZEN_NET_TIMEOUT", "60")
        .args(["new", "svc", "-y", "--pack", &url, "-o"])
        .arg(env.out())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let cache = env.root.path().join("home/.cache/dozen/packs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&cache).map_or(true, |mut d| d.next().is_none()) {
        assert!(Instant::now() < deadline, "the fetch did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "stopped promptly");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("cancelled"), "{}", stderr(&output));
    let left: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "nothing left in the cache: {left:?}");
    assert!(env.written().is_empty());
}

/// Files of a project (`.git` aside) with their bytes.
fn tree_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    crate::support::files_under(dir).into_iter().map(|p| (p.clone(), std::fs::read(dir.join(&p)).unwrap())).collect()
}

fn run_git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git").arg("-C").arg(dir).args(args).status().unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn update_moves_to_the_newest_release_tag_on_the_server_and_can_be_backed_out_and_redone() {
    let root = assert_fs::TempDir::new().unwrap();
    let repo = PackRepo::create(root.path());
    let server = Https::start(root.path(), USER, PASSWORD);
    let env = env_with_credentials(&server, PASSWORD);
    let ca: &[(&str, &Path)] = &[("SSL_CERT_FILE", &server.ca)];
    let (output, _) = dozen_new(&env, ca, &["svc", "-y", "--pack", &format!("{}#v1.0.0", server.url("pack.git"))]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("svc");

    // The pack's maintainers publish v1.1.0 (and a pre-release, which update must not take).
    let work = root.path().join("pack-work");
    let manifest = std::fs::read_to_string(work.join("pack.toml")).unwrap();
    std::fs::write(work.join("pack.toml"), manifest.replace("version = \"1.2.0\"", "version = \"1.3.0\"")).unwrap();
    std::fs::write(work.join("base/raw.txt"), "raw, as of v1.1.0\n").unwrap();
    run_git(&work, &["commit", "-qam", "v1.1.0"]);
    run_git(&work, &["tag", "v1.1.0"]);
    run_git(&work, &["commit", "-q", "--allow-empty", "-m", "next"]);
    run_git(&work, &["tag", "v2.0.0-rc.1"]);
    run_git(&work, &["push", "-q", "--tags", repo.bare.to_str().unwrap(), "main"]);

    let update = |args: &[&str]| {
        let mut cmd = env.dozen();
        cmd.current_dir(&dir)
            .arg("update")
            .args(args)
            .env("SSL_CERT_FILE", &server.ca)
            .timeout(Duration::from_secs(90));
        cmd.output().unwrap()
    };
    let first = update(&["--json"]);
    assert!(first.status.success(), "{}{}", stderr(&first), stdout(&first));
    let report: serde_json::Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(report["release_tag"], "v1.1.0", "{report}");
    assert_eq!(report["to"]["version"], "1.3.0");
    assert_eq!(std::fs::read_to_string(dir.join("raw.txt")).unwrap(), "raw, as of v1.1.0\n");
    let after_first = tree_of(&dir);

    run_git(&dir, &["checkout", "--", "."]);
    run_git(&dir, &["clean", "-fdq"]);
    let again = update(&[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("newest release tag v1.1.0"), "says which: {}", stderr(&again));
    assert_eq!(tree_of(&dir), after_first, "backed out and run again: byte for byte the same tree");

    run_git(&dir, &["add", "-A"]);
    run_git(&dir, &["commit", "-qm", "update to v1.1.0"]);
    let no_op = update(&["--json"]);
    assert!(no_op.status.success(), "{}", stderr(&no_op));
    let report: serde_json::Value = serde_json::from_str(&stdout(&no_op)).unwrap();
    assert!(report["files"].as_array().unwrap().is_empty(), "committed: nothing left to do: {report}");
}
