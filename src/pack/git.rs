//! Packs from git repositories, fetched with the system `git` command into a cache, so that
//! https, ssh, proxies, CA settings and credential helpers behave exactly as `git clone` does for
//! the user (see docs/packs.md for why not git2's transports).
//!
//! Layout under `$XDG_CACHE_HOME/dozen/packs/KEY/` (KEY derived from the URL without userinfo):
//! `repo.git` is a bare repository holding every branch and tag of the remote (fetched at most
//! once per run; never with `--offline`), `trees/COMMIT/` the files of one commit, extracted once
//! and read like a pack directory. A commit already cached needs no network at all.
//!
//! git runs non-interactively (no terminal prompts, ssh in batch mode), in its own process group,
//! with its output captured (a spinner on a terminal) and under a watchdog that kills it when the
//! server stays silent; Ctrl-C, SIGTERM and SIGHUP stop it the same way. Nothing it prints reaches
//! stdout, and what it prints is scrubbed of credentials before it is shown.

use std::collections::HashSet;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime};

use super::remote::Transport;
use super::source::{GitSource, MANIFEST};
use crate::error::{Error, Result, io};

/// Default seconds without any sign of life from git before a fetch is stopped.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

static OFFLINE: AtomicBool = AtomicBool::new(false);

/// `--offline`: git packs come only from the cache (local repositories are still read).
pub fn set_offline(offline: bool) {
    OFFLINE.store(offline, Ordering::SeqCst);
}

/// Whether `--offline` is in effect.
pub fn offline() -> bool {
    OFFLINE.load(Ordering::SeqCst)
}

/// Whether SIGINT, SIGTERM or SIGHUP arrived (the one process-wide handler of `interrupt::Interrupt`).
pub fn interrupted() -> bool {
    crate::interrupt::Interrupt::install().raised()
}

fn install_interrupt() -> Arc<AtomicBool> {
    crate::interrupt::Interrupt::install().flag()
}

/// The files of one commit of a pack repository, in the cache.
#[derive(Debug)]
pub struct Checkout {
    root: PathBuf,
    subdir: Option<String>,
    /// The commit checked out.
    pub commit: String,
}

impl Checkout {
    /// The pack's directory inside the checkout.
    pub fn pack_dir(&self) -> PathBuf {
        match &self.subdir {
            Some(sub) => self.root.join(sub),
            None => self.root.clone(),
        }
    }

    /// The root of the repository's files.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Fetches the repository (once per run, never with `--offline`) and checks out the reference:
/// a tag, a branch, a commit, or the remote's default branch.
pub fn fetch(source: &GitSource) -> Result<Checkout> {
    fetch_in(&cache_root()?, source)
}

fn fetch_in(root: &Path, source: &GitSource) -> Result<Checkout> {
    let interrupt = install_interrupt();
    let cache = Cache::open(root, source)?;
    let commit = cache.commit_for(&interrupt)?;
    cache.checkout(&commit, &interrupt)
}

/// The exact commit recorded for a project (`update`'s base): no network when it is cached.
pub fn fetch_commit(source: &GitSource, commit: &str) -> Result<Checkout> {
    fetch(&GitSource { reference: Some(commit.to_owned()), ..source.clone() })
}

/// The newest release tag of the repository and its commit: semver order over tags such as
/// `v1.2.3` or `1.2.3`, pre-releases excluded. `None` when there is no release tag.
pub fn newest_release_tag(source: &GitSource) -> Result<Option<(String, String)>> {
    newest_release_tag_in(&cache_root()?, source)
}

fn newest_release_tag_in(root: &Path, source: &GitSource) -> Result<Option<(String, String)>> {
    let interrupt = install_interrupt();
    let cache = Cache::open(root, source)?;
    cache.update(&interrupt)?;
    let repo = cache.repo()?;
    let names = repo.tag_names(None).map_err(|err| cache.fail(err.message(), "remove the cache and try again"))?;
    let Some(tag) = newest_semver(names.iter().flatten().flatten()) else { return Ok(None) };
    let commit = repo
        .revparse_single(&format!("refs/tags/{tag}"))
        .and_then(|object| object.peel_to_commit())
        .map_err(|err| cache.fail(err.message(), "the tag does not point at a commit"))?;
    Ok(Some((tag, commit.id().to_string())))
}

/// The greatest release version among tag names (`v` prefix optional, pre-releases excluded).
pub fn newest_semver<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    names
        .into_iter()
        .filter_map(|name| {
            let version = semver::Version::parse(name.strip_prefix(['v', 'V']).unwrap_or(name)).ok()?;
            version.pre.is_empty().then_some((version, name))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, name)| name.to_owned())
}

/// `$XDG_CACHE_HOME/dozen/packs` (or the platform's cache directory).
pub fn cache_root() -> Result<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::cache_dir)
        .map(|base| base.join("dozen").join("packs"))
        .ok_or_else(|| Error::Usage {
            message: "cannot find a cache directory for git packs".into(),
            hint: "set XDG_CACHE_HOME".into(),
        })
}

/// Keys fetched in this run.
static FETCHED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

struct Cache<'a> {
    source: &'a GitSource,
    dir: PathBuf,
    key: String,
}

impl<'a> Cache<'a> {
    fn open(root: &Path, source: &'a GitSource) -> Result<Cache<'a>> {
        let key = source.url.public().to_owned();
        let dir = root.join(dir_name(&key));
        fs_err::create_dir_all(&dir).map_err(io("creating the pack cache", &dir))?;
        let note = dir.join("source");
        if !note.exists() {
            let _ = std::fs::write(&note, format!("{key}\n"));
        }
        Ok(Cache { source, dir, key })
    }

    fn fail(&self, message: impl Into<String>, hint: impl Into<String>) -> Error {
        Error::PackSource { source_name: self.source.to_string(), message: message.into(), hint: hint.into() }
    }

    fn repo_path(&self) -> PathBuf {
        self.dir.join("repo.git")
    }

    fn repo(&self) -> Result<git2::Repository> {
        git2::Repository::open_bare(self.repo_path()).map_err(|err| {
            self.fail(
                format!("the cached copy cannot be opened: {}", err.message()),
                format!("remove {} and try again", self.dir.display()),
            )
        })
    }

    fn has_refs(&self) -> bool {
        self.repo().is_ok_and(|repo| repo.references().is_ok_and(|mut refs| refs.next().is_some()))
    }

    fn has_commit(&self, commit: &str) -> bool {
        let Ok(oid) = git2::Oid::from_str(commit) else { return false };
        self.repo().is_ok_and(|repo| repo.find_commit(oid).is_ok())
    }

    /// Brings the cached repository up to date with the remote, at most once per run.
    fn update(&self, interrupt: &AtomicBool) -> Result<()> {
        if FETCHED.lock().expect("not poisoned").as_ref().is_some_and(|set| set.contains(&self.key)) {
            return Ok(());
        }
        if offline() && !self.source.url.is_local() {
            if self.has_refs() {
                return Ok(());
            }
            return Err(self.fail(
                "it is not in the cache, and --offline forbids fetching it",
                "run the command once without --offline to fetch it into the cache",
            ));
        }
        let fresh = !self.has_refs();
        if self.repo().is_err() {
            git2::Repository::init_bare(self.repo_path()).map_err(|err| {
                self.fail(
                    format!("cannot create the cache: {}", err.message()),
                    "check that the cache directory is writable",
                )
            })?;
        }
        let refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*", "+HEAD:refs/dozen/HEAD"];
        let result = run_fetch(self.source, &self.repo_path(), &refspecs, interrupt);
        match result {
            Err(_) if fresh => {
                // Leave nothing behind for a URL that never worked.
                let _ = std::fs::remove_dir_all(&self.dir);
            }
            Err(Error::PackSource { source_name, message, hint }) => {
                let hint = format!("{hint}; or pass --offline to use the copy fetched before");
                return Err(Error::PackSource { source_name, message, hint });
            }
            _ => {}
        }
        result?;
        FETCHED.lock().expect("not poisoned").get_or_insert_with(HashSet::new).insert(self.key.clone());
        Ok(())
    }

    /// The commit the source's reference names.
    fn commit_for(&self, interrupt: &AtomicBool) -> Result<String> {
        let reference = self.source.reference.as_deref();
        if let Some(hash) = reference.filter(|r| is_full_hash(r))
            && self.has_commit(hash)
        {
            return Ok(hash.to_ascii_lowercase());
        }
        self.update(interrupt)?;
        let repo = self.repo()?;
        if let Some(commit) = resolve(&repo, reference) {
            return Ok(commit);
        }
        if let Some(hash) = reference.filter(|r| is_full_hash(r))
            && !offline()
        {
            // A commit no branch or tag reaches any more: ask the server for it by name.
            if run_fetch(self.source, &self.repo_path(), &[hash], interrupt).is_ok() && self.has_commit(hash) {
                return Ok(hash.to_ascii_lowercase());
            }
        }
        Err(match reference {
            None => self.fail("the repository has no default branch", "pass a ref: URL#branch"),
            Some(reference) if offline() => self.fail(
                format!("ref {reference:?} is not in the cached copy of the repository"),
                format!("run without --offline to fetch it; {}", refs_hint(&repo)),
            ),
            Some(reference) => self
                .fail(format!("ref {reference:?} is not a branch, tag or commit of the repository"), refs_hint(&repo)),
        })
    }

    /// The files of `commit`, extracted once into `trees/COMMIT`.
    fn checkout(&self, commit: &str, interrupt: &AtomicBool) -> Result<Checkout> {
        let trees = self.dir.join("trees");
        let root = trees.join(commit);
        if !root.is_dir() {
            fs_err::create_dir_all(&trees).map_err(io("creating the pack cache", &trees))?;
            remove_stale(&trees);
            let tmp = tempfile::Builder::new()
                .prefix(".tmp-")
                .tempdir_in(&trees)
                .map_err(io("creating a directory in", &trees))?;
            let repo = self.repo()?;
            let oid = git2::Oid::from_str(commit).map_err(|err| self.fail(err.message(), "pass a full commit"))?;
            let tree = repo
                .find_commit(oid)
                .and_then(|c| c.tree())
                .map_err(|err| self.fail(err.message(), format!("remove {} and try again", self.dir.display())))?;
            write_tree(&repo, &tree, tmp.path(), "").map_err(|err| match err {
                Error::Io { action, path, source } => {
                    let rel = path.strip_prefix(tmp.path()).unwrap_or(&path).display().to_string();
                    self.fail(format!("{action} {rel} from the repository: {source}"), "check the cache is writable")
                }
                Error::Pack { problems, .. } => Error::Pack { pack: self.source.to_string(), problems },
                other => other,
            })?;
            if interrupt.load(Ordering::SeqCst) {
                return Err(Error::Cancelled);
            }
            match std::fs::rename(tmp.path(), &root) {
                Ok(()) => {
                    let _ = tmp.keep();
                }
                Err(_) if root.is_dir() => {} // another dozen extracted it meanwhile
                Err(err) => return Err(Error::Io { action: "writing the pack cache", path: root, source: err }),
            }
        }
        let subdir = self.check_subdir(&root)?;
        Ok(Checkout { root, subdir, commit: commit.to_owned() })
    }

    /// `//subdir` must be a real directory of the checkout: no `..`, no symlink on the way.
    fn check_subdir(&self, root: &Path) -> Result<Option<String>> {
        let Some(sub) = self.source.subdir.as_deref().filter(|s| !s.is_empty()) else { return Ok(None) };
        let missing =
            || self.fail(format!("the repository has no pack.toml in {sub:?}"), "check the subdirectory after `//`");
        let mut current = root.to_path_buf();
        let mut walked = Vec::new();
        for part in sub.split('/') {
            if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
                return Err(self.fail(
                    format!("the subdirectory {sub:?} is not a plain path inside the repository"),
                    "name a directory of the repository after `//`, without `..`",
                ));
            }
            current.push(part);
            walked.push(part);
            match std::fs::symlink_metadata(&current) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(self.fail(
                        format!(
                            "`{}` is a symlink in the repository; `//{sub}` must name a real directory",
                            walked.join("/")
                        ),
                        "point `//` at the directory the symlink stands for",
                    ));
                }
                Ok(meta) if meta.is_dir() => {}
                _ => return Err(missing()),
            }
        }
        if !std::fs::symlink_metadata(current.join(MANIFEST)).is_ok_and(|m| m.is_file()) {
            return Err(missing());
        }
        Ok(Some(sub.to_owned()))
    }
}

/// Writes a git tree into `dir`: regular files (with their executable bit) and symlinks; entries
/// that could leave the directory are refused, submodules skipped.
fn write_tree(repo: &git2::Repository, tree: &git2::Tree<'_>, dir: &Path, prefix: &str) -> Result<()> {
    for entry in tree {
        let name = entry.name().map_err(|_| unsafe_entry(prefix, "a name that is not UTF-8"))?;
        if name.is_empty()
            || name == "."
            || name == ".."
            || name.contains(['/', '\\', '\0'])
            || name.eq_ignore_ascii_case(".git")
        {
            return Err(unsafe_entry(prefix, &format!("the entry {name:?}")));
        }
        let path = dir.join(name);
        let rel = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
        let mode = entry.filemode();
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                fs_err::create_dir(&path).map_err(io("creating", &path))?;
                let sub = entry
                    .to_object(repo)
                    .and_then(|o| o.peel_to_tree())
                    .map_err(|e| unsafe_entry(&rel, e.message()))?;
                write_tree(repo, &sub, &path, &rel)?;
            }
            Some(git2::ObjectType::Blob) => {
                let blob = entry
                    .to_object(repo)
                    .and_then(|o| o.peel_to_blob())
                    .map_err(|e| unsafe_entry(&rel, e.message()))?;
                if mode == 0o120_000 {
                    write_symlink(blob.content(), &path)?;
                } else {
                    fs_err::write(&path, blob.content()).map_err(io("writing", &path))?;
                    if mode == 0o100_755 {
                        set_executable(&path)?;
                    }
                }
            }
            _ => {} // submodules (commits) are not part of a pack
        }
    }
    Ok(())
}

fn unsafe_entry(at: &str, what: &str) -> Error {
    Error::Pack {
        pack: "git repository".into(),
        problems: vec![
            crate::error::Problem::new(if at.is_empty() { "." } else { at }, format!("the repository holds {what}"))
                .hint("fix the repository: every path must be a plain relative path"),
        ],
    }
}

#[cfg(unix)]
fn write_symlink(target: &[u8], path: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), path).map_err(io("creating the symlink", path))
}

#[cfg(not(unix))]
fn write_symlink(target: &[u8], path: &Path) -> Result<()> {
    fs_err::write(path, target).map_err(io("writing", path))
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

/// Removes extraction leftovers of runs killed without a chance to clean up (older than an hour).
fn remove_stale(trees: &Path) {
    let Ok(entries) = std::fs::read_dir(trees) else { return };
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for entry in entries.flatten() {
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t < hour_ago);
        if entry.file_name().to_string_lossy().starts_with(".tmp-") && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn is_full_hash(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn resolve(repo: &git2::Repository, reference: Option<&str>) -> Option<String> {
    let specs = match reference {
        None => vec!["refs/dozen/HEAD".to_owned()],
        Some(r) => vec![format!("refs/tags/{r}"), format!("refs/heads/{r}"), r.to_owned()],
    };
    specs.iter().find_map(|spec| {
        let commit = repo.revparse_single(spec).ok()?.peel_to_commit().ok()?;
        Some(commit.id().to_string())
    })
}

fn refs_hint(repo: &git2::Repository) -> String {
    let mut names: Vec<String> = repo
        .references()
        .map(|refs| {
            refs.flatten()
                .filter_map(|r| r.name().ok().map(str::to_owned))
                .filter_map(|n| {
                    n.strip_prefix("refs/heads/").or_else(|| n.strip_prefix("refs/tags/")).map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.dedup();
    names.truncate(12);
    format!("branches and tags of the repository: {}", names.join(", "))
}

/// A readable, unique directory name for a cache key.
fn dir_name(key: &str) -> String {
    let readable = key.split_once("://").map_or(key, |(_, rest)| rest);
    let mut slug: String =
        readable.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' { c } else { '-' }).collect();
    slug = slug.trim_matches(['-', '.']).chars().take(48).collect();
    // FNV-1a: stable across runs and versions, unlike std's hasher.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{slug}-{hash:016x}")
}

/// Seconds of silence after which git is stopped (`DOZEN_NET_TIMEOUT`).
fn idle_timeout() -> Duration {
    let secs = std::env::var("DOZEN_NET_TIMEOUT").ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|s| *s > 0);
    Duration::from_secs(secs.unwrap_or(DEFAULT_TIMEOUT_SECS))
}

const CREDENTIAL_HELPER: &str = "credential.helper=!f() { test \"$1\" = get || return 0; \
     printf 'username=%s\\npassword=%s\\n' \"$DOZEN_GIT_USERNAME\" \"$DOZEN_GIT_PASSWORD\"; }; f";

/// `git fetch URL REFSPECS` into the cached repository, non-interactive and watched.
fn run_fetch(source: &GitSource, repo: &Path, refspecs: &[&str], interrupt: &AtomicBool) -> Result<()> {
    let url = &source.url;
    let fail = |message: String, hint: &str| Error::PackSource {
        source_name: source.to_string(),
        message,
        hint: hint.to_owned(),
    };
    let timeout = idle_timeout();
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(repo).args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"]);
    match url.credentials() {
        (user, Some(password)) => {
            if user.unwrap_or("").chars().chain(password.chars()).any(char::is_control) {
                return Err(fail("the credentials in the URL hold a control character".into(), "fix the URL"));
            }
            // Only the credentials of the URL: from the environment of git, never its command line.
            cmd.args(["-c", "credential.helper=", "-c", CREDENTIAL_HELPER]);
            cmd.env("DOZEN_GIT_USERNAME", user.unwrap_or("")).env("DOZEN_GIT_PASSWORD", password);
        }
        (Some(user), None) => {
            let count = std::env::var("GIT_CONFIG_COUNT").ok().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
            cmd.env("GIT_CONFIG_COUNT", (count + 1).to_string())
                .env(format!("GIT_CONFIG_KEY_{count}"), "credential.username")
                .env(format!("GIT_CONFIG_VALUE_{count}"), user);
        }
        (None, None) => {}
    }
    cmd.args(["fetch", "--progress", "--prune", "--update-head-ok", "--"]).arg(url.public()).args(refspecs);
    let secs = timeout.as_secs().to_string();
    cmd.env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .env("GIT_HTTP_LOW_SPEED_LIMIT", "1000")
        .env("GIT_HTTP_LOW_SPEED_TIME", &secs)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match url.transport() {
        Transport::Ssh => {
            if let Some(ssh) = ssh_command(timeout) {
                cmd.env("GIT_SSH_COMMAND", ssh);
            }
        }
        Transport::Http => ca_from_openssl_env(&mut cmd),
        Transport::Git | Transport::Local => {}
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: the watchdog can stop git with its helpers (ssh,
        // git-remote-https), and Ctrl-C reaches dozen, which then stops them.
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().map_err(|err| {
        if err.kind() == std::io::ErrorKind::NotFound {
            fail("git is not installed".into(), "install git: dozen fetches git packs with the system git command")
        } else {
            fail(format!("cannot run git: {err}"), "check that git runs")
        }
    })?;
    let mut stderr = child.stderr.take().expect("piped");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0_u8; 4096];
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let bar = spinner(url.public());
    let started = Instant::now();
    let mut last_sign = Instant::now();
    let mut output = Vec::new();
    let mut open = true;
    let stopped = loop {
        if open {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(chunk) => {
                    last_sign = Instant::now();
                    output.extend_from_slice(&chunk);
                    if let Some(bar) = &bar {
                        bar.set_message(format!(
                            "fetching {} {}",
                            url.public(),
                            progress_line(&url.scrub(&String::from_utf8_lossy(&chunk)))
                        ));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => open = false,
            }
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Drain what is left of its output.
            while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(50)) {
                output.extend_from_slice(&chunk);
            }
            break Ok(status);
        }
        if interrupt.load(Ordering::SeqCst) {
            break Err(None);
        }
        if last_sign.elapsed() > timeout {
            break Err(Some(format!(
                "no answer from the server for {} s, so the fetch was stopped",
                timeout.as_secs()
            )));
        }
        if started.elapsed() > timeout * 20 {
            break Err(Some(format!("the fetch took longer than {} s and was stopped", (timeout * 20).as_secs())));
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let status = match stopped {
        Ok(status) => status,
        Err(reason) => {
            stop(&mut child);
            return Err(match reason {
                None => Error::Cancelled,
                Some(message) => fail(
                    message,
                    "check the URL, the network and any proxy (https_proxy); DOZEN_NET_TIMEOUT=SECONDS allows a slower server",
                ),
            });
        }
    };
    if status.success() {
        return Ok(());
    }
    let text = url.scrub(&String::from_utf8_lossy(&output));
    let (message, hint) = explain(source, &text);
    Err(fail(message, &hint))
}

/// Kills git and everything it started.
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The ssh command git should use: the user's own (`GIT_SSH_COMMAND`, `core.sshCommand`, or
/// `ssh`) with batch mode and keep-alives added. Options given first win in OpenSSH, so anything
/// the user's command already says stays; `StrictHostKeyChecking` is left to the user's ssh
/// config, whose default refuses unknown hosts in batch mode. `None` for a non-OpenSSH command.
fn ssh_command(timeout: Duration) -> Option<String> {
    let base = std::env::var("GIT_SSH_COMMAND").ok().filter(|v| !v.trim().is_empty()).or_else(|| {
        if std::env::var_os("GIT_SSH").is_some_and(|v| !v.is_empty()) {
            return None;
        }
        Some(git_config("core.sshCommand").unwrap_or_else(|| "ssh".to_owned()))
    })?;
    let program = base.split_whitespace().next()?.trim_matches(['"', '\'']);
    let name = Path::new(program).file_name()?.to_str()?;
    if !matches!(name, "ssh" | "ssh.exe") {
        return None;
    }
    let secs = timeout.as_secs().max(1);
    Some(format!(
        "{base} -o BatchMode=yes -o ConnectTimeout={secs} -o ServerAliveInterval={} -o ServerAliveCountMax=3",
        (secs / 3).max(1)
    ))
}

/// `SSL_CERT_FILE` / `SSL_CERT_DIR` for git builds whose TLS library ignores them (GnuTLS), unless
/// git has its own setting.
fn ca_from_openssl_env(cmd: &mut Command) {
    for (openssl, git_env, git_key) in
        [("SSL_CERT_FILE", "GIT_SSL_CAINFO", "http.sslCAInfo"), ("SSL_CERT_DIR", "GIT_SSL_CAPATH", "http.sslCAPath")]
    {
        if let Some(value) = std::env::var_os(openssl).filter(|v| !v.is_empty())
            && std::env::var_os(git_env).is_none()
            && git_config(git_key).is_none()
        {
            cmd.env(git_env, value);
        }
    }
}

fn git_config(key: &str) -> Option<String> {
    let output =
        Command::new("git").args(["config", "--get", key]).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    let value = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !value.is_empty()).then_some(value)
}

fn spinner(label: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
    bar.set_message(format!("fetching {label}"));
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}

/// The last progress line of a chunk of git output, printable characters only.
fn progress_line(chunk: &str) -> String {
    let line = chunk.split(['\r', '\n']).rfind(|l| !l.trim().is_empty()).unwrap_or("");
    line.chars().filter(|c| !c.is_control()).take(60).collect()
}

/// What went wrong, from git's output, and what fixes it.
fn explain(source: &GitSource, output: &str) -> (String, String) {
    let lines: Vec<String> = output
        .split(['\r', '\n'])
        .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>())
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .filter(|l| {
            ![
                "Receiving objects",
                "Resolving deltas",
                "remote: Counting",
                "remote: Compressing",
                "remote: Enumerating",
                "remote: Total",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect();
    let summary = lines.iter().rev().take(4).rev().cloned().collect::<Vec<_>>().join(" ");
    let lower = output.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    // HTTP status codes as whole words, outside URLs: a port such as 40149 or a path is no 401.
    let words: Vec<&str> = lower
        .split_whitespace()
        .filter(|word| !word.contains("://"))
        .flat_map(|word| word.split(|c: char| !c.is_ascii_alphanumeric()))
        .collect();
    let has_status = |codes: &[&str]| codes.iter().any(|code| words.contains(code));
    let hint = if has(&["host key verification failed", "host key is known", "remote host identification has changed"])
    {
        let (host, port) = source.url.ssh_host_port().unwrap_or_else(|| ("HOST".into(), None));
        let port_flag = port.map(|p| format!("-p {p} ")).unwrap_or_default();
        format!(
            "the ssh host is not in ~/.ssh/known_hosts (or its key changed): check its fingerprint, then add it with `ssh-keyscan {port_flag}{host} >> ~/.ssh/known_hosts`, or connect once with `ssh {port_flag}{host}` and accept it"
        )
    } else if has(&[
        "permission denied (publickey",
        "permission denied, please try again",
        "too many authentication failures",
    ]) {
        "ssh refused the key: load it into ssh-agent (`ssh-add`), or configure it in ~/.ssh/config, and check that it may read the repository".into()
    } else if has(&["certificate", "ssl", "tls"])
        && has(&["verif", "problem", "unable to get local issuer", "self signed", "self-signed"])
    {
        "the server's TLS certificate is not trusted: add its CA to the system store, or point SSL_CERT_FILE / GIT_SSL_CAINFO (git config http.sslCAInfo) at it".into()
    } else if has(&[
        "authentication failed",
        "could not read username",
        "could not read password",
        "terminal prompts disabled",
    ]) || has_status(&["401", "403"])
    {
        "the server wants credentials: configure a git credential helper (`git config --global credential.helper …`) that knows this host, and check you may read the repository".into()
    } else if has(&[
        "not found",
        "does not appear to be a git repository",
        "does not exist",
        "no such file",
        "repository",
    ]) || has_status(&["404"])
    {
        "check the URL and that the repository exists".into()
    } else if has(&[
        "could not resolve",
        "connection refused",
        "timed out",
        "network is unreachable",
        "couldn't connect",
        "failed to connect",
    ]) {
        "check the URL, the network and any proxy (https_proxy, no_proxy)".into()
    } else {
        "check the URL, that the repository exists and that `git ls-remote URL` works for you".into()
    };
    let summary = if summary.is_empty() { "git failed without a message".to_owned() } else { summary };
    (format!("cannot clone it: {summary}"), hint)
}

#[cfg(test)]
mod tests {
    use super::{dir_name, explain, fetch_in, newest_release_tag_in, newest_semver, progress_line};
    use crate::pack::source::GitSource;

    #[test]
    fn newest_release_tag_and_exact_commits_of_a_real_repository() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        let repo = git2::Repository::init(&work).unwrap();
        let signature = git2::Signature::now("t", "t@example.com").unwrap();
        let mut commits = Vec::new();
        for (i, tag) in ["v1.2.0", "v1.10.0", "v2.0.0-rc.1"].iter().enumerate() {
            std::fs::write(work.join("pack.toml"), format!("# {i}\n")).unwrap();
            let mut index = repo.index().unwrap();
            index.add_path(std::path::Path::new("pack.toml")).unwrap();
            let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
            let parents: Vec<git2::Commit<'_>> =
                commits.last().map(|c| repo.find_commit(*c).unwrap()).into_iter().collect();
            let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
            let id = repo.commit(Some("HEAD"), &signature, &signature, tag, &tree, &parents).unwrap();
            repo.tag_lightweight(tag, &repo.find_object(id, None).unwrap(), false).unwrap();
            commits.push(id);
        }
        let source = GitSource::parse(&format!("file://{}", work.display())).unwrap();
        let cache = dir.path().join("cache");
        let (tag, commit) = newest_release_tag_in(&cache, &source).unwrap().unwrap();
        assert_eq!((tag.as_str(), commit), ("v1.10.0", commits[1].to_string()), "pre-releases are not releases");
        let pinned = GitSource { reference: Some(commits[0].to_string()), ..source };
        let checkout = fetch_in(&cache, &pinned).unwrap();
        assert_eq!(checkout.commit, commits[0].to_string());
        assert_eq!(std::fs::read_to_string(checkout.pack_dir().join("pack.toml")).unwrap(), "# 0\n");
        // The commit is cached: it is found again without the repository.
        std::fs::remove_dir_all(&work).unwrap();
        assert_eq!(fetch_in(&cache, &pinned).unwrap().commit, commits[0].to_string());
    }

    #[test]
    fn newest_release_in_semver_order() {
        let tags = ["v1.2.3", "v1.10.0", "1.9.9", "v2.0.0-rc.1", "latest", "v1.10.0-beta", "release-3"];
        assert_eq!(newest_semver(tags).as_deref(), Some("v1.10.0"));
        assert_eq!(newest_semver(["2.0.0-rc.1", "nope"]), None);
        assert_eq!(newest_semver(["1.0.0", "v1.0.0"]).as_deref(), Some("1.0.0"), "ties: the shorter name");
    }

    #[test]
    fn cache_names_are_readable_and_distinct() {
        let a = dir_name("https://git.example.com/acme/packs.git");
        assert!(a.starts_with("git.example.com-acme-packs.git-"), "{a}");
        assert_ne!(a, dir_name("https://git.example.com/acme/packs"));
        assert!(!dir_name("/").is_empty());
    }

    #[test]
    fn status_codes_are_words_never_digits_of_a_port_or_a_path() {
        let source = GitSource::parse("https://127.0.0.1:40149/nope.git").unwrap();
        let hint = |output: &str| explain(&source, output).1;
        let missing = "fatal: repository 'https://127.0.0.1:40149/nope.git/' not found";
        assert_eq!(hint(missing), "check the URL and that the repository exists");
        assert!(
            hint("fatal: unable to access 'https://h/x/': The requested URL returned error: 401")
                .contains("credentials")
        );
        assert!(
            hint("fatal: unable to access 'https://h/x/': The requested URL returned error: 403")
                .contains("credentials")
        );
        let refused = "ssh: connect to host 127.0.0.1 port 40301: Connection refused";
        assert!(hint(refused).contains("the network"), "{}", hint(refused));
        assert!(
            hint("fatal: 'https://h/403/x.git' does not appear to be a git repository").contains("repository exists")
        );
    }

    #[test]
    fn progress_shows_only_printable_text() {
        assert_eq!(
            progress_line("Receiving objects:  50% (1/2)\rReceiving objects: 100% (2/2)\x1b[2K\r\n"),
            "Receiving objects: 100% (2/2)[2K"
        );
    }
}
