//! A generated service running as a child process: started from a command on a given port, with
//! its stdout kept line by line (the JSON logs) and its stderr kept whole, probed until ready,
//! measured (resident memory of the process tree), signalled and waited for. Dropping a service
//! that is still running kills its whole process group, so a failed test leaves nothing behind.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::{command, http, process};

/// A started service.
pub struct Service {
    child: Child,
    port: u16,
    spawned: Instant,
    exit: Option<ExitStatus>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Service {
    /// Starts `cmd`, which is expected to listen on `port`.
    pub fn spawn(mut cmd: Command, port: u16) -> Result<Service, String> {
        let shown = command::describe(&cmd);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start `{shown}`: {e}"))?;
        let spawned = Instant::now();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(pipe) = child.stdout.take() {
            let lines = Arc::clone(&stdout);
            readers.push(thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            }));
        }
        if let Some(mut pipe) = child.stderr.take() {
            let bytes = Arc::clone(&stderr);
            readers.push(thread::spawn(move || {
                let mut chunk = [0; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    bytes.lock().unwrap().extend_from_slice(&chunk[..n]);
                }
            }));
        }
        Ok(Service { child, port, spawned, exit: None, stdout, stderr, readers })
    }

    /// The process id (the service itself: it was started with `exec`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The port it was told to listen on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Polls `GET /ready` until it answers 200 and returns the time from spawn to that answer.
    pub fn wait_ready(&mut self, deadline: Duration) -> Result<Duration, String> {
        let mut last = String::from("no attempt");
        while self.spawned.elapsed() < deadline {
            if let Some(status) = self.exited() {
                // The pipes may still hold what it wrote last: read them to the end first.
                self.drain_output();
                return Err(format!(
                    "exited ({status}) before /ready answered 200; stderr:\n{}",
                    command::tail(&self.stderr(), 30)
                ));
            }
            match http::get(self.port, "/ready", &[]) {
                Ok(response) if response.status == 200 => return Ok(self.spawned.elapsed()),
                Ok(response) => last = format!("status {} {}", response.status, response.text()),
                Err(e) => last = e.to_string(),
            }
            thread::sleep(Duration::from_millis(25));
        }
        Err(format!(
            "/ready did not answer 200 within {}s (last: {last}); stderr:\n{}",
            deadline.as_secs(),
            command::tail(&self.stderr(), 30)
        ))
    }

    /// Resident memory of the service and its child processes, in MiB.
    pub fn rss_mib(&self) -> Option<f64> {
        process::tree_rss_kib(self.pid()).map(|kib| f64::from(u32::try_from(kib).unwrap_or(u32::MAX)) / 1024.0)
    }

    /// Sends `sig` to the service process.
    pub fn signal(&self, sig: Signal) {
        process::signal(self.pid(), sig);
    }

    /// The exit status, once it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// Waits up to `deadline` for the service to exit.
    pub fn wait_exit(&mut self, deadline: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Waits until the output pipes are closed (or 5 s pass) so no log line is missed.
    pub fn drain_output(&mut self) {
        let started = Instant::now();
        while self.readers.iter().any(|r| !r.is_finished()) && started.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every complete stdout line so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// All of stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        process::signal_group(self.child.id(), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

#[test]
fn a_service_is_probed_signalled_and_its_output_kept() {
    // A one-file HTTP server in the machine's Python: answers /ready, logs to stdout, exits 0 on SIGTERM.
    let port = crate::port::free();
    let script = r#"
import http.server, json, signal, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print(json.dumps({"path": self.path}), flush=True)
        body = b'{"status":"ok"}'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("starting", file=sys.stderr, flush=True)
server.serve_forever()
"#;
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script, &port.to_string()]);
    let mut service = Service::spawn(cmd, port).unwrap();
    let ready = service.wait_ready(Duration::from_secs(20)).unwrap();
    assert!(ready > Duration::ZERO);
    assert!(service.rss_mib().unwrap() > 1.0);
    service.signal(Signal::SIGTERM);
    assert!(service.wait_exit(Duration::from_secs(10)).unwrap().success());
    service.drain_output();
    assert_eq!(service.stdout_lines().last().map(String::as_str), Some(r#"{"path": "/ready"}"#));
    assert_eq!(service.stderr(), "starting\n");
}

#[test]
fn a_service_that_dies_is_reported_with_its_stderr() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo 'DATABASE_URL is required' >&2; exit 1"]);
    let mut service = Service::spawn(cmd, crate::port::free()).unwrap();
    let err = service.wait_ready(Duration::from_secs(10)).unwrap_err();
    assert!(err.contains("exited") && err.contains("DATABASE_URL is required"), "{err}");
}
