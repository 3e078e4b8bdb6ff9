//! A throwaway PostgreSQL server per test: a fresh cluster in a temporary directory, listening on
//! a free loopback port with trust authentication, that a test can stop and start again (to see
//! readiness follow the database) and freeze with SIGSTOP (to hold requests in flight). It follows
//! the recipe of TOOLS.md: `initdb` refuses to run as root, so as root the cluster belongs to the
//! unprivileged system user `pgtmp`, created on first use. Dropping the value stops the server and
//! removes its directory.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::{command, port, process};

/// The system user that owns clusters when the tier runs as root.
const USER: &str = "pgtmp";

/// How long `initdb`, `pg_ctl start` and `pg_ctl stop` may take.
const DEADLINE: Duration = Duration::from_secs(60);

/// A running (or deliberately stopped) PostgreSQL cluster.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_user: Option<&'static str>,
}

impl Postgres {
    /// Creates a cluster and starts it.
    pub fn start() -> Result<Postgres, String> {
        let bin = server_bin()?;
        let as_user = if process::is_root() {
            ensure_user()?;
            Some(USER)
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("dozen-e2e-pg.")
            .tempdir()
            .map_err(|e| format!("cannot create a directory for PostgreSQL: {e}"))?;
        if as_user.is_some() {
            let (uid, gid) = user_ids(USER)?;
            chown(dir.path(), Some(uid), Some(gid)).map_err(|e| format!("chown {}: {e}", dir.path().display()))?;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("chmod {}: {e}", dir.path().display()))?;
        }
        let postgres = Postgres { dir, bin, port: port::free(), as_user };
        let data = postgres.data_dir();
        postgres
            .tool("initdb", &["-D", &data, "-U", "app", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])?;
        postgres.up()?;
        Ok(postgres)
    }

    /// The URL a service reaches the database with.
    pub fn url(&self) -> String {
        format!("postgres://app@127.0.0.1:{}/postgres", self.port)
    }

    /// Creates database `name` (owned by the cluster's user) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args([self.url().as_str(), "-v", "ON_ERROR_STOP=1", "-qc", &format!("CREATE DATABASE {name}")]);
        command::run_ok(&mut psql, DEADLINE)?;
        Ok(format!("postgres://app@127.0.0.1:{}/{name}", self.port))
    }

    /// The directory of the server's binaries (psql among them).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// Starts the stopped server again on the same port.
    pub fn up(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        let started = self.tool(
            "pg_ctl",
            &["-D", &self.data_dir(), "-l", &log.to_string_lossy(), "-w", "-t", "30", "-o", &options, "start"],
        );
        started.map_err(|e| {
            format!("{e}\nserver log:\n{}", command::tail(&fs::read_to_string(&log).unwrap_or_default(), 20))
        })
    }

    /// Stops the server (fast shutdown: sessions are ended at once).
    pub fn down(&self) -> Result<(), String> {
        self.tool("pg_ctl", &["-D", &self.data_dir(), "-m", "fast", "-w", "-t", "30", "stop"])
    }

    /// Freezes the server and every backend, so queries wait until [`Postgres::thaw`].
    pub fn freeze(&self) -> Result<(), String> {
        self.signal_all(Signal::SIGSTOP)
    }

    /// Lets a frozen server run again.
    pub fn thaw(&self) -> Result<(), String> {
        self.signal_all(Signal::SIGCONT)
    }

    fn signal_all(&self, sig: Signal) -> Result<(), String> {
        let pid_file = Path::new(&self.data_dir()).join("postmaster.pid");
        let text = fs::read_to_string(&pid_file)
            .map_err(|e| format!("PostgreSQL is not running ({}: {e})", pid_file.display()))?;
        let pid: u32 = text.lines().next().and_then(|l| l.trim().parse().ok()).ok_or("postmaster.pid has no pid")?;
        for member in process::tree(pid) {
            process::signal(member, sig);
        }
        Ok(())
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn tool(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let program = self.bin.join(name);
        let mut cmd = match self.as_user {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(&program);
                cmd
            }
            None => Command::new(&program),
        };
        cmd.args(args).current_dir(self.dir.path());
        command::run_ok(&mut cmd, DEADLINE).map(drop)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.thaw();
        let _ = self.tool("pg_ctl", &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"]);
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin`, or the directory of `pg_ctl` on PATH.
fn server_bin() -> Result<PathBuf, String> {
    let newest = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let entry = e.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("pg_ctl").is_file())
        .max();
    if let Some((_, bin)) = newest {
        return Ok(bin);
    }
    let on_path =
        std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).find(|dir| dir.join("pg_ctl").is_file()));
    on_path.ok_or_else(|| "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/pg_ctl, no pg_ctl on PATH); install the `postgresql` package".into())
}

fn ensure_user() -> Result<(), String> {
    static CREATED: Mutex<()> = Mutex::new(());
    let _once = CREATED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if user_ids(USER).is_ok() {
        return Ok(());
    }
    let mut useradd = Command::new("useradd");
    useradd.args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER]);
    command::run_ok(&mut useradd, DEADLINE).map(drop)
}

fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let done = command::run_ok(Command::new("id").args([flag, user]), DEADLINE)?;
        done.stdout.trim().parse().map_err(|_| format!("`id {flag} {user}` printed {:?}", done.stdout))
    };
    Ok((id("-u")?, id("-g")?))
}

#[test]
#[cfg_attr(not(e2e_selected), ignore = "needs PostgreSQL server binaries: set DOZEN_E2E")]
fn postgres_starts_stops_freezes_and_cleans_up() {
    use std::net::TcpStream;
    let pg = Postgres::start().unwrap();
    let addr = ("127.0.0.1", pg.port);
    assert!(pg.url().ends_with(&format!(":{}/postgres", pg.port)));
    let sql = |query: &str| {
        let out = Command::new(pg.bin.join("psql")).args([pg.url().as_str(), "-tAc", query]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(sql("SELECT 1"), "1");
    let other = pg.create_database("other").unwrap();
    let out = Command::new(pg.bin.join("psql")).args([other.as_str(), "-tAc", "SELECT current_database()"]).output();
    assert_eq!(String::from_utf8_lossy(&out.unwrap().stdout).trim(), "other");
    pg.down().unwrap();
    assert!(TcpStream::connect(addr).is_err(), "stopped server still accepts connections");
    pg.up().unwrap();
    assert_eq!(sql("SELECT 2"), "2");
    pg.freeze().unwrap();
    let frozen = Command::new("timeout")
        .arg("1")
        .arg(pg.bin.join("psql"))
        .args([pg.url().as_str(), "-tAc", "SELECT 3"])
        .output()
        .unwrap();
    assert!(!frozen.status.success(), "a frozen server answered");
    pg.thaw().unwrap();
    assert_eq!(sql("SELECT 4"), "4");
    let dir = pg.dir.path().to_path_buf();
    drop(pg);
    assert!(!dir.exists());
    assert!(TcpStream::connect(addr).is_err(), "dropped server still accepts connections");
}
