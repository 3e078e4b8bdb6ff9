//! A throwaway Redis server per test (issue 16): Debian's `redis-server` (which `scripts/test`
//! installs) on a free loopback port, with no persistence (`--save '' --appendonly no`) and its
//! working directory in a temporary directory. A test can freeze it (SIGSTOP: connections hang,
//! so only a client with a timeout notices), thaw it, stop it and start it again on the same port
//! (to see readiness follow it and clients reconnect). It is spoken to with a few lines of RESP,
//! the Redis protocol, so the tier needs no Redis client crate. Dropping the value kills the server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

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
}

impl Redis {
    /// Starts a server on a free loopback port.
    pub fn start() -> Result<Redis, String> {
        let bin = server_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("dozen-e2e-redis.")
            .tempdir()
            .map_err(|e| format!("cannot create a directory for Redis: {e}"))?;
        let mut redis = Redis { dir, bin, port: port::free(), child: None };
        redis.up()?;
        Ok(redis)
    }

    /// The URL a service reaches the server with (database 0).
    pub fn url(&self) -> String {
        self.url_of(0)
    }

    /// The URL of logical database `db` of the server (kept apart from what database 0 holds).
    pub fn url_of(&self, db: u8) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// Starts the stopped server again on the same port (empty: nothing is persisted).
    pub fn up(&mut self) -> Result<(), String> {
        if self.child.is_some() {
            return Err("Redis is already running".into());
        }
        let log = self.dir.path().join("redis.log");
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
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

    /// Sends one command and reads its reply.
    pub fn command(&self, args: &[&str]) -> Result<Reply, String> {
        let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), IO_TIMEOUT)
            .map_err(|e| format!("connect to Redis on port {}: {e}", self.port))?;
        let configured =
            stream.set_read_timeout(Some(IO_TIMEOUT)).and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)));
        configured.map_err(|e| format!("configure socket: {e}"))?;
        stream.write_all(&encode(args)).map_err(|e| format!("send {}: {e}", args.join(" ")))?;
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

    fn log_tail(&self) -> String {
        crate::command::tail(&std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default(), 20)
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
    let mut redis = Redis::start().unwrap();
    assert!(redis.url().ends_with(&format!(":{}/0", redis.port)));
    assert_eq!(redis.command(&["SET", "k", "v"]).unwrap(), Reply::Status("OK".into()));
    assert_eq!(redis.command(&["GET", "k"]).unwrap(), Reply::Bulk(Some(b"v".to_vec())));
    assert!(matches!(redis.command(&["NOSUCHCOMMAND"]).unwrap(), Reply::Error(_)));
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
