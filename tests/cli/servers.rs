//! Real git servers on 127.0.0.1 for the transport tests, started by the test itself and stopped
//! when dropped: HTTPS (`git http-backend` behind basic auth and a throwaway CA), sshd with a
//! throwaway host key and an ssh-agent, and a server that accepts and never answers.
//!
//! A missing tool fails the test with what to install: these tests never pass without running.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use assert_fs::TempDir;

use crate::support::{fixture_pack, fixtures};

/// Fails the test unless `tool` runs; names the package that provides it.
pub fn require(tool: &str, package: &str) {
    let found = Path::new(tool).is_absolute() && Path::new(tool).is_file()
        || std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()));
    assert!(found, "the transport tests need `{tool}`: install {package} (scripts/test installs it on CI)");
}

fn run(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|err| panic!("{cmd:?}: {err}"));
    assert!(output.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn git(dir: &Path, args: &[&str]) -> String {
    run(Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Pack Author")
        .env("GIT_AUTHOR_EMAIL", "pack@example.com")
        .env("GIT_COMMITTER_NAME", "Pack Author")
        .env("GIT_COMMITTER_EMAIL", "pack@example.com")
        .args(args))
    .trim()
    .to_owned()
}

/// A bare repository `ROOT/pack.git` holding the `mini` fixture pack, tagged `v1.0.0`.
pub struct PackRepo {
    /// The bare repository.
    pub bare: PathBuf,
    /// The commit of `v1.0.0`.
    pub v1: String,
}

impl PackRepo {
    /// Creates it under `root`.
    pub fn create(root: &Path) -> PackRepo {
        let work = root.join("pack-work");
        crate::support::copy_dir(Path::new(&fixture_pack("mini")), &work);
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "mini pack"]);
        git(&work, &["tag", "v1.0.0"]);
        let v1 = git(&work, &["rev-parse", "HEAD"]);
        let bare = root.join("pack.git");
        git(root, &["clone", "-q", "--bare", work.to_str().unwrap(), bare.to_str().unwrap()]);
        PackRepo { bare, v1 }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early with {status}");
        }
        assert!(Instant::now() < deadline, "{what} does not listen on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `git http-backend` over TLS with basic auth.
pub struct Https {
    child: Child,
    /// Its port.
    pub port: u16,
    /// The CA that signed its certificate.
    pub ca: PathBuf,
    _dir: TempDir,
}

impl Https {
    /// Serves the repositories under `project_root`, accepting only `user:password`.
    pub fn start(project_root: &Path, user: &str, password: &str) -> Https {
        require("openssl", "openssl");
        require("python3", "python3");
        let dir = TempDir::new().unwrap();
        let scripts = fixtures().join("transport");
        run(Command::new("sh").arg(scripts.join("make_certs.sh")).arg(dir.path()));
        let mut child = Command::new("python3")
            .arg(scripts.join("git_https_server.py"))
            .arg(project_root)
            .arg(dir.path().join("server.pem"))
            .arg(dir.path().join("server.key"))
            .args([user, password])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the https server printed {line:?}"));
        wait_for_port(port, &mut child, "the https git server");
        Https { child, port, ca: dir.path().join("ca.pem"), _dir: dir }
    }

    /// `https://127.0.0.1:PORT/NAME`.
    pub fn url(&self, name: &str) -> String {
        format!("https://127.0.0.1:{}/{name}", self.port)
    }

    /// Stops it now.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Https {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Accepts connections and never answers.
pub struct Silent {
    /// Its port.
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Silent {
    /// Starts listening.
    pub fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                if let Ok((stream, _)) = listener.accept() {
                    held.push(stream);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Silent { port, stop }
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// sshd on a free port with a throwaway host key, the client key held by an ssh-agent, and a
/// client configuration in `home/.ssh`.
pub struct Sshd {
    server: Child,
    agent: Child,
    /// Its port.
    pub port: u16,
    /// `SSH_AUTH_SOCK` of the agent holding the client key.
    pub agent_sock: PathBuf,
    /// The known_hosts line for `[127.0.0.1]:PORT`.
    pub known_host: String,
    dir: TempDir,
}

impl Sshd {
    /// Starts sshd and the agent, and writes `home/.ssh/{config,known_hosts}` and a
    /// `core.sshCommand` into `home/.gitconfig` (OpenSSH reads the passwd home, not `$HOME`, so
    /// the temporary HOME's ssh files are named explicitly, as a user's own config would).
    pub fn start(home: &Path) -> Sshd {
        let sshd_bin = "/usr/sbin/sshd";
        require(sshd_bin, "openssh-server");
        for tool in ["ssh", "ssh-keygen", "ssh-agent", "ssh-add"] {
            require(tool, "openssh-client");
        }
        if nix::unistd::Uid::effective().is_root() && !Path::new("/run/sshd").is_dir() {
            std::fs::create_dir_all("/run/sshd").expect("sshd's privilege separation directory");
        }
        let dir = TempDir::new().unwrap();
        let d = dir.path();
        for key in ["host", "client"] {
            run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", key, "-f"]).arg(d.join(key)));
        }
        std::fs::copy(d.join("client.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\nPidFile {pid}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             PermitRootLogin prohibit-password\nLogLevel VERBOSE\n",
            host = d.join("host").display(),
            keys = d.join("authorized_keys").display(),
            pid = d.join("sshd.pid").display(),
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let mut sshd = Command::new(sshd_bin)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("sshd runs");
        wait_for_port(port, &mut sshd, "sshd");

        let agent_sock = d.join("agent.sock");
        let agent = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&agent_sock)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !agent_sock.exists() {
            assert!(Instant::now() < deadline, "ssh-agent did not create its socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        run(Command::new("ssh-add").arg("-q").arg(d.join("client")).env("SSH_AUTH_SOCK", &agent_sock));
        // Only the agent holds the client key from now on.
        std::fs::remove_file(d.join("client")).unwrap();

        let host_key = std::fs::read_to_string(d.join("host.pub")).unwrap();
        let known_host =
            format!("[127.0.0.1]:{port} {}", host_key.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
        let ssh_dir = home.join(".ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        std::fs::write(ssh_dir.join("known_hosts"), format!("{known_host}\n")).unwrap();
        std::fs::write(
            ssh_dir.join("config"),
            format!(
                "Host packs\n  HostName 127.0.0.1\n  Port {port}\n\nHost *\n  UserKnownHostsFile {kh}\n  GlobalKnownHostsFile /dev/null\n  IdentityAgent {sock}\n",
                kh = ssh_dir.join("known_hosts").display(),
                sock = agent_sock.display(),
            ),
        )
        .unwrap();
        let gitconfig = home.join(".gitconfig");
        let mut text = std::fs::read_to_string(&gitconfig).unwrap_or_default();
        text.push_str(&format!("[core]\n\tsshCommand = ssh -F {}\n", ssh_dir.join("config").display()));
        std::fs::write(gitconfig, text).unwrap();
        Sshd { server: sshd, agent, port, agent_sock, known_host, dir }
    }

    /// sshd's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.agent] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
