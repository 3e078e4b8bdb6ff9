//! A throwaway Redis server per test (issue 16): Debian's `redis-server` (which `scripts/test`
//! installs) on a free loopback port, with no persistence (`--save '' --appendonly no`) and its
//! working directory in a temporary directory. A test can freeze it (SIGSTOP: connections hang,
//! so only a client with a timeout notices), thaw it, stop it and start it again on the same port
//! (to see readiness follow it and clients reconnect). It is spoken to with a few lines of RESP,
//! the Redis protocol, so the tier needs no Redis client crate. Dropping the value kills the server.
//!
//! [`Redis::start_tls`] starts one that speaks TLS only (`rediss://`, as managed Redis with
//! transit encryption does), its certificate (for IP 127.0.0.1) signed by a throwaway CA that no
//! trust store holds: a client connects only if it verifies the certificate against the trust it
//! is given ([`Trust`]), and this module's own client does so with rustls.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::{port, process};

/// How long the server may take to answer PING after it is started.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// How long one command may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A running (or deliberately stopped or frozen) Redis server.
pub struct Redis {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
    tls: Option<Tls>,
}

/// The server side of TLS and this module's client configuration.
struct Tls {
    trust: Trust,
    cert: PathBuf,
    key: PathBuf,
    client: Arc<rustls::ClientConfig>,
}

/// What a client must trust to reach a TLS server: the throwaway CA, alone and appended to the
/// trust store the tier runs with (so that whatever else a process reaches over HTTPS, such as a
/// package registry during `make test`, is still trusted).
#[derive(Debug, Clone)]
pub struct Trust {
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// `SSL_CERT_FILE` (or the system bundle) followed by the CA (PEM): for `SSL_CERT_FILE` and
    /// `NODE_EXTRA_CA_CERTS`.
    pub bundle: PathBuf,
}

impl Trust {
    /// A PKCS12 trust store of the JDK's default certificates plus the CA, made with `keytool`
    /// (for `-Djavax.net.ssl.trustStore`); its password is [`Trust::JAVA_PASSWORD`], and it is
    /// written without integrity check or certificate encryption, so that a JVM reads it without
    /// the password too (`-Djavax.net.ssl.trustStore` alone: one argument without spaces).
    pub fn java_trust_store(&self) -> Result<PathBuf, String> {
        let store = self.ca.with_file_name("truststore.p12");
        if store.is_file() {
            return Ok(store);
        }
        let cacerts = java_cacerts()?;
        let password = Self::JAVA_PASSWORD;
        let copy = [
            "-importkeystore",
            "-noprompt",
            "-srckeystore",
            &cacerts.to_string_lossy(),
            "-srcstorepass",
            "changeit",
            "-destkeystore",
            &store.to_string_lossy(),
            "-deststoretype",
            "PKCS12",
            "-deststorepass",
            password,
        ];
        keytool(&copy)?;
        let ca = self.ca.to_string_lossy();
        keytool(&[
            "-importcert",
            "-noprompt",
            "-alias",
            "dozen-e2e-ca",
            "-file",
            &ca,
            "-keystore",
            &store.to_string_lossy(),
            "-storetype",
            "PKCS12",
            "-storepass",
            password,
        ])?;
        Ok(store)
    }

    /// The password of [`Trust::java_trust_store`].
    pub const JAVA_PASSWORD: &str = "dozen-e2e";
}

impl Redis {
    /// Starts a server on a free loopback port.
    pub fn start() -> Result<Redis, String> {
        Self::start_with(false)
    }

    /// Starts a server that speaks TLS only, on a free loopback port.
    pub fn start_tls() -> Result<Redis, String> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Result<Redis, String> {
        let bin = server_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("dozen-e2e-redis.")
            .tempdir()
            .map_err(|e| format!("cannot create a directory for Redis: {e}"))?;
        let tls = if tls { Some(Tls::make(dir.path())?) } else { None };
        let mut redis = Redis { dir, bin, port: port::free(), child: None, tls };
        redis.up()?;
        Ok(redis)
    }

    /// The URL a service reaches the server with (database 0).
    pub fn url(&self) -> String {
        self.url_of(0)
    }

    /// The URL of logical database `db` of the server (kept apart from what database 0 holds):
    /// `rediss://` for a TLS server.
    pub fn url_of(&self, db: u8) -> String {
        let scheme = if self.tls.is_some() { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/{db}", self.port)
    }

    /// What a client must trust to connect: None for a server without TLS.
    pub fn trust(&self) -> Option<&Trust> {
        self.tls.as_ref().map(|tls| &tls.trust)
    }

    /// Starts the stopped server again on the same port (empty: nothing is persisted).
    pub fn up(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Err("Redis is already running".into());
        }
        let log = self.dir.path().join("redis.log");
        let mut cmd = Command::new(&self.bin);
        match &self.tls {
            None => cmd.args(["--port", &self.port.to_string()]),
            Some(tls) => cmd
                .args(["--port", "0", "--tls-port", &self.port.to_string(), "--tls-auth-clients", "no"])
                .arg("--tls-cert-file")
                .arg(&tls.cert)
                .arg("--tls-key-file")
                .arg(&tls.key)
                .arg("--tls-ca-cert-file")
                .arg(&tls.trust.ca),
        };
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log)
            .args(["--daemonize", "no", "--protected-mode", "yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        let started = Instant::now();
        let mut last = String::new();
        while started.elapsed() < START_DEADLINE {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                self.child = None;
                return Err(format!("redis-server exited ({status}) at start; log:\n{}", self.log_tail()));
            }
            match self.command(&["PING"]) {
                Ok(Reply::Status(s)) if s == "PONG" => return Ok(()),
                Ok(other) => last = format!("{other:?}"),
                Err(e) => last = e,
            }
            thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server did not answer PING within {}s (last: {last}); log:\n{}",
            START_DEADLINE.as_secs(),
            self.log_tail()
        ))
    }

    /// Kills the server: its data is gone, clients see refused connections until [`Redis::up`].
    pub fn down(&mut self) -> Result<(), String> {
        let mut child = self.child.take().ok_or("Redis is not running")?;
        process::signal(child.id(), Signal::SIGCONT);
        process::signal(child.id(), Signal::SIGKILL);
        child.wait().map_err(|e| format!("waiting for redis-server: {e}"))?;
        Ok(())
    }

    /// Freezes the server: connections stay open but nothing is answered until [`Redis::thaw`].
    pub fn freeze(&self) -> Result<(), String> {
        self.signal(Signal::SIGSTOP)
    }

    /// Lets a frozen server run again.
    pub fn thaw(&self) -> Result<(), String> {
        self.signal(Signal::SIGCONT)
    }

    fn signal(&self, sig: Signal) -> Result<(), String> {
        let child = self.child.as_ref().ok_or("Redis is not running")?;
        if process::signal(child.id(), sig) { Ok(()) } else { Err(format!("cannot send {sig} to redis-server")) }
    }

    /// Sends one command and reads its reply (over TLS, verifying the server's certificate,
    /// for a TLS server).
    pub fn command(&self, args: &[&str]) -> Result<Reply, String> {
        request(self.port, self.tls.as_ref().map(|tls| &tls.client), args)
    }

    fn log_tail(&self) -> String {
        crate::command::tail(&std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default(), 20)
    }
}

impl Tls {
    /// A throwaway CA and a certificate for 127.0.0.1 in `dir/tls` (with the transport tests'
    /// script), the bundle of [`Trust`], and a client configuration trusting the CA alone.
    fn make(dir: &Path) -> Result<Tls, String> {
        let tls = dir.join("tls");
        std::fs::create_dir(&tls).map_err(|e| format!("cannot create {}: {e}", tls.display()))?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transport/make_certs.sh");
        let made = Command::new("sh").arg(&script).arg(&tls).stdin(Stdio::null()).output();
        match made {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Err(format!(
                    "{} failed ({}): {}",
                    script.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Err(e) => return Err(format!("cannot run {} (needs openssl): {e}", script.display())),
        }
        let ca = tls.join("ca.pem");
        let ca_pem = std::fs::read(&ca).map_err(|e| format!("cannot read {}: {e}", ca.display()))?;
        let system = std::env::var_os("SSL_CERT_FILE")
            .map_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"), PathBuf::from);
        let mut bundle_pem = std::fs::read(&system).map_err(|e| {
            format!("cannot read the trust store {} (SSL_CERT_FILE or the system bundle): {e}", system.display())
        })?;
        if !bundle_pem.ends_with(b"\n") {
            bundle_pem.push(b'\n');
        }
        bundle_pem.extend_from_slice(&ca_pem);
        let bundle = tls.join("bundle.pem");
        std::fs::write(&bundle, bundle_pem).map_err(|e| format!("cannot write {}: {e}", bundle.display()))?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&ca_pem) {
            let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
            roots.add(cert).map_err(|e| format!("{}: {e}", ca.display()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS client configuration: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls {
            trust: Trust { ca, bundle },
            cert: tls.join("server.pem"),
            key: tls.join("server.key"),
            client: Arc::new(client),
        })
    }
}

/// Sends one command to the loopback `port`, over TLS with `tls`, and reads its reply.
fn request(port: u16, tls: Option<&Arc<rustls::ClientConfig>>, args: &[&str]) -> Result<Reply, String> {
    let stream = connect(port)?;
    match tls {
        None => exchange(stream, args),
        Some(config) => {
            let server = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into());
            let connection =
                rustls::ClientConnection::new(Arc::clone(config), server).map_err(|e| format!("TLS client: {e}"))?;
            exchange(rustls::StreamOwned::new(connection, stream), args)
        }
    }
}

/// A TCP connection to the loopback `port` with [`IO_TIMEOUT`] on every read and write.
fn connect(port: u16) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), IO_TIMEOUT)
        .map_err(|e| format!("connect to Redis on port {port}: {e}"))?;
    let configured =
        stream.set_read_timeout(Some(IO_TIMEOUT)).and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)));
    configured.map_err(|e| format!("configure socket: {e}"))?;
    Ok(stream)
}

/// Sends one command on `stream` and reads its reply.
fn exchange(mut stream: impl Read + Write, args: &[&str]) -> Result<Reply, String> {
    stream.write_all(&encode(args)).map_err(|e| format!("send {}: {e}", args.join(" ")))?;
    stream.flush().map_err(|e| format!("send {}: {e}", args.join(" ")))?;
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        if let Some((reply, _)) = parse_reply(&received)? {
            return Ok(reply);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(format!("Redis closed the connection during {}", args.join(" "))),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("reading the reply to {}: {e}", args.join(" "))),
        }
    }
}

/// The JDK's default trust store (`lib/security/cacerts` of the `java` on PATH).
fn java_cacerts() -> Result<PathBuf, String> {
    let java = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join("java")).find(|p| p.is_file()))
        .ok_or("java not found on PATH")?;
    let java = std::fs::canonicalize(&java).map_err(|e| format!("{}: {e}", java.display()))?;
    let home = java.parent().and_then(Path::parent).ok_or("java is not in a JDK's bin directory")?;
    let cacerts = home.join("lib/security/cacerts");
    if cacerts.is_file() { Ok(cacerts) } else { Err(format!("{} not found", cacerts.display())) }
}

fn keytool(args: &[&str]) -> Result<(), String> {
    let unprotected = ["-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE", "-J-Dkeystore.pkcs12.macAlgorithm=NONE"];
    match Command::new("keytool").args(unprotected).args(args).stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => {
            Err(format!("keytool {} failed ({}): {}", args[0], out.status, String::from_utf8_lossy(&out.stdout).trim()))
        }
        Err(e) => Err(format!("cannot run keytool: {e}")),
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.down();
    }
}

/// A RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Status(String),
    /// `-ERR …`
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$3\r\nabc` (None for the null bulk string `$-1`)
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n…` (None for the null array `*-1`)
    Array(Option<Vec<Reply>>),
}

/// A command as a RESP array of bulk strings.
fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Parses one reply from the start of `bytes`: Ok(None) while it is incomplete, otherwise the
/// reply and how many bytes it took.
fn parse_reply(bytes: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    let Some(end) = bytes.windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
    let Some((&kind, rest)) = bytes[..end].split_first() else { return Err("empty RESP line".into()) };
    let line = std::str::from_utf8(rest).map_err(|_| "RESP line is not UTF-8".to_string())?;
    let after = end + 2;
    let number = || line.parse::<i64>().map_err(|_| format!("bad RESP length or integer {line:?}"));
    match kind {
        b'+' => Ok(Some((Reply::Status(line.to_string()), after))),
        b'-' => Ok(Some((Reply::Error(line.to_string()), after))),
        b':' => Ok(Some((Reply::Integer(number()?), after))),
        b'$' => {
            let Ok(length) = usize::try_from(number()?) else { return Ok(Some((Reply::Bulk(None), after))) };
            if bytes.len() < after + length + 2 {
                return Ok(None);
            }
            if &bytes[after + length..after + length + 2] != b"\r\n" {
                return Err("bulk string is not terminated by CRLF".into());
            }
            Ok(Some((Reply::Bulk(Some(bytes[after..after + length].to_vec())), after + length + 2)))
        }
        b'*' => {
            let Ok(count) = usize::try_from(number()?) else { return Ok(Some((Reply::Array(None), after))) };
            let mut items = Vec::with_capacity(count);
            let mut at = after;
            for _ in 0..count {
                match parse_reply(&bytes[at..])? {
                    Some((item, used)) => {
                        items.push(item);
                        at += used;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(Some(items)), at)))
        }
        other => Err(format!("unknown RESP type byte {:?}", char::from(other))),
    }
}

/// `redis-server` on PATH.
fn server_bin() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).map(|d| d.join("redis-server")).find(|p| p.is_file()));
    on_path.ok_or_else(|| {
        "redis-server not found on PATH; install Debian's `redis-server` package (scripts/test does)".into()
    })
}

#[test]
fn encodes_commands_as_arrays_of_bulk_strings() {
    assert_eq!(encode(&["SET", "k", ""]), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

#[test]
fn parses_every_reply_type_and_waits_for_incomplete_ones() {
    let reply = |text: &str| parse_reply(text.as_bytes()).unwrap();
    assert_eq!(reply("+PONG\r\n"), Some((Reply::Status("PONG".into()), 7)));
    assert_eq!(reply("-ERR unknown\r\n"), Some((Reply::Error("ERR unknown".into()), 14)));
    assert_eq!(reply(":-12\r\n"), Some((Reply::Integer(-12), 6)));
    assert_eq!(reply("$5\r\na\r\nbc\r\n"), Some((Reply::Bulk(Some(b"a\r\nbc".to_vec())), 11)));
    assert_eq!(reply("$-1\r\n"), Some((Reply::Bulk(None), 5)));
    assert_eq!(reply("*-1\r\n"), Some((Reply::Array(None), 5)));
    assert_eq!(
        reply("*2\r\n:1\r\n$1\r\nx\r\n+rest"),
        Some((Reply::Array(Some(vec![Reply::Integer(1), Reply::Bulk(Some(b"x".to_vec()))])), 15))
    );
    for partial in ["", "+PON", "$5\r\nab", "$2\r\nab", "*2\r\n:1\r\n"] {
        assert_eq!(reply(partial), None, "{partial:?} is incomplete");
    }
    assert!(parse_reply(b"$2\r\nabcd\r\n").is_err());
    assert!(parse_reply(b"?x\r\n").is_err());
    assert!(parse_reply(b":ten\r\n").is_err());
}

#[test]
#[cfg_attr(not(e2e_selected), ignore = "needs redis-server: set DOZEN_E2E")]
fn redis_starts_freezes_restarts_and_cleans_up() {
    for tls in [false, true] {
        let mut redis = if tls { Redis::start_tls() } else { Redis::start() }.unwrap();
        let scheme = if tls { "rediss://" } else { "redis://" };
        assert!(redis.url().starts_with(scheme) && redis.url().ends_with(&format!(":{}/0", redis.port)));
        assert_eq!(redis.trust().is_some(), tls);
        assert_eq!(redis.command(&["SET", "k", "v"]).unwrap(), Reply::Status("OK".into()));
        assert_eq!(redis.command(&["GET", "k"]).unwrap(), Reply::Bulk(Some(b"v".to_vec())));
        assert!(matches!(redis.command(&["NOSUCHCOMMAND"]).unwrap(), Reply::Error(_)));
        if let Some(trust) = redis.trust() {
            // The server speaks TLS only: a client without it gets no reply.
            assert!(exchange(connect(redis.port).unwrap(), &["PING"]).is_err(), "the TLS port answered plain RESP");
            let bundle = std::fs::read_to_string(&trust.bundle).unwrap();
            assert!(bundle.ends_with(&std::fs::read_to_string(&trust.ca).unwrap()));
            assert!(bundle.matches("BEGIN CERTIFICATE").count() > 1, "the bundle holds the system trust store too");
        }
        redis.freeze().unwrap();
        assert!(redis.command(&["PING"]).is_err(), "a frozen server answered");
        redis.thaw().unwrap();
        assert_eq!(redis.command(&["PING"]).unwrap(), Reply::Status("PONG".into()));
        redis.down().unwrap();
        assert!(redis.command(&["PING"]).is_err(), "a stopped server answered");
        redis.up().unwrap();
        assert_eq!(redis.command(&["GET", "k"]).unwrap(), Reply::Bulk(None), "nothing persists across a restart");
        let port = redis.port;
        drop(redis);
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "a dropped server still accepts connections");
    }
}

#[test]
#[cfg_attr(not(e2e_selected), ignore = "needs redis-server: set DOZEN_E2E")]
fn a_tls_client_refuses_a_server_whose_ca_it_does_not_trust() {
    let (redis, other) = (Redis::start_tls().unwrap(), Redis::start_tls().unwrap());
    let err = request(redis.port, other.tls.as_ref().map(|tls| &tls.client), &["PING"]).unwrap_err();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert_eq!(
        request(redis.port, redis.tls.as_ref().map(|tls| &tls.client), &["PING"]),
        Ok(Reply::Status("PONG".into()))
    );
}

#[test]
#[cfg_attr(
    not(any(e2e = "all", e2e = "java", e2e = "java-spring")),
    ignore = "needs a JDK's keytool: set DOZEN_E2E to all, java or java-spring"
)]
fn the_java_trust_store_holds_the_ca_and_needs_no_password() {
    let redis = Redis::start_tls().unwrap();
    let store = redis.trust().unwrap().java_trust_store().unwrap();
    let out = Command::new("keytool")
        .args(["-list", "-alias", "dozen-e2e-ca", "-storetype", "PKCS12", "-keystore"])
        .arg(&store)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && listed.contains("trustedCertEntry"), "{listed}");
}
