//! SIGTERM under load (SPEC §6, IX). Fifty clients each open a keep-alive connection and get a 200
//! from `/health` on it, which proves the server accepted all fifty at once. Then they send requests
//! and the service gets SIGTERM. With a database, the database is frozen first, so every client's
//! `GET /ready` is provably still in flight when the signal lands, and all fifty must be answered
//! (200, or 503 with the error body, code `unavailable`, since readiness turns 503 during shutdown)
//! once it thaws. Without one, clients hammer
//! `/health` and every response must be a complete 200. A request the server never answered is a
//! failure if it was written well before the signal; one written at the signal may meet a draining
//! server closing its idle connection, which HTTP allows. Then the process must exit 0 within
//! `SHUTDOWN_TIMEOUT`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::http::{Connection, Error};
use crate::postgres::Postgres;
use crate::service::Service;

/// Clients with a connection open at the moment of SIGTERM.
pub const CLIENTS: usize = 50;

/// A request written this long before SIGTERM must be answered.
const MARGIN: Duration = Duration::from_millis(100);

/// What the clients share with the conductor.
struct Shared {
    port: u16,
    route: &'static str,
    warm: AtomicUsize,
    go: AtomicBool,
    sigterm: OnceLock<Instant>,
    in_flight_answered: AtomicUsize,
    problems: Mutex<Vec<String>>,
}

impl Shared {
    fn problem(&self, text: String) {
        self.problems.lock().unwrap().push(text);
    }
}

/// Sends SIGTERM to `service` under load and returns every violation. `database` is the service's
/// database when it has one: it is frozen to hold requests in flight and thawed after the signal.
pub fn sigterm_under_load(
    service: &mut Service,
    database: Option<&Postgres>,
    shutdown_timeout: Duration,
) -> Vec<String> {
    let shared = Arc::new(Shared {
        port: service.port(),
        route: if database.is_some() { "/ready" } else { "/health" },
        warm: AtomicUsize::new(0),
        go: AtomicBool::new(false),
        sigterm: OnceLock::new(),
        in_flight_answered: AtomicUsize::new(0),
        problems: Mutex::new(Vec::new()),
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || client(id, &shared))
        })
        .collect();
    let warming = Instant::now();
    while shared.warm.load(Ordering::SeqCst) < CLIENTS && warming.elapsed() < Duration::from_secs(30) {
        thread::sleep(Duration::from_millis(5));
    }
    let warm = shared.warm.load(Ordering::SeqCst);
    if warm < CLIENTS {
        shared.problem(format!(
            "only {warm} of {CLIENTS} clients got a 200 from /health on their own connection within 30s"
        ));
    }
    if let Some(Err(e)) = database.map(Postgres::freeze) {
        shared.problem(format!("cannot freeze PostgreSQL: {e}"));
    }
    shared.go.store(true, Ordering::SeqCst);
    thread::sleep(if database.is_some() { Duration::from_millis(500) } else { Duration::from_millis(300) });
    let _ = shared.sigterm.set(Instant::now());
    service.signal(Signal::SIGTERM);
    if let Some(db) = database {
        thread::sleep(Duration::from_millis(300));
        if let Err(e) = db.thaw() {
            shared.problem(format!("cannot thaw PostgreSQL: {e}"));
        }
    }
    let slack = Duration::from_secs(1);
    match service.wait_exit(shutdown_timeout + slack) {
        Some(status) if status.success() => {}
        Some(status) => shared.problem(format!("after SIGTERM the service exited with {status}, not 0")),
        None => shared.problem(format!(
            "the service was still running {}s after SIGTERM (SHUTDOWN_TIMEOUT={})",
            (shutdown_timeout + slack).as_secs(),
            shutdown_timeout.as_secs()
        )),
    }
    for handle in clients {
        if handle.join().is_err() {
            shared.problem("a load client panicked".into());
        }
    }
    let answered = shared.in_flight_answered.load(Ordering::SeqCst);
    if database.is_some() && answered < CLIENTS {
        shared.problem(format!(
            "only {answered} of {CLIENTS} GET /ready requests held by the frozen database were in flight at SIGTERM and answered afterwards"
        ));
    }
    shared.problems.lock().unwrap().clone()
}

fn client(id: usize, shared: &Shared) {
    let request_id = |n: usize| format!("drain-{id}-{n}");
    let mut first = match Connection::open(shared.port) {
        Ok(conn) => conn,
        Err(e) => return shared.problem(format!("client {id}: {e}")),
    };
    let mut conn = match first.get("/health", &[("X-Request-Id", &request_id(0))]) {
        Ok(response) if response.status == 200 => {
            shared.warm.fetch_add(1, Ordering::SeqCst);
            response.keep_alive.then_some(first)
        }
        Ok(response) => {
            return shared.problem(format!("client {id}: GET /health answered {} before SIGTERM", response.status));
        }
        Err(e) => return shared.problem(format!("client {id}: {e} (before SIGTERM)")),
    };
    while !shared.go.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
    for n in 1.. {
        let connection = match conn.as_mut() {
            Some(c) => c,
            None if shared.sigterm.get().is_some() => return,
            None => match Connection::open(shared.port) {
                Ok(c) => conn.insert(c),
                Err(e) => return shared.problem(format!("client {id}: {e} (before SIGTERM)")),
            },
        };
        let written = Instant::now();
        let result = connection.get(shared.route, &[("X-Request-Id", &request_id(n))]);
        let sigterm = shared.sigterm.get().copied();
        let must_answer = sigterm.is_none_or(|at| written + MARGIN < at);
        let when = match sigterm {
            Some(at) if written < at => format!("written {} ms before SIGTERM", (at - written).as_millis()),
            Some(at) => format!("written {} ms after SIGTERM", (written - at).as_millis()),
            None => "before SIGTERM".into(),
        };
        match result {
            Ok(response) => {
                let allowed: &[u16] = if shared.route == "/ready" { &[200, 503] } else { &[200] };
                if response.status == 503 && shared.route == "/ready" {
                    let what = format!("client {id}: GET /ready {when}");
                    let problems =
                        crate::contract::error_problems(&what, &response, 503, "unavailable", &request_id(n));
                    for problem in problems {
                        shared.problem(problem);
                    }
                } else if !allowed.contains(&response.status) {
                    shared.problem(format!(
                        "client {id}: GET {} {when} answered {}: {}",
                        shared.route,
                        response.status,
                        response.text()
                    ));
                }
                if sigterm.is_some_and(|at| written < at) {
                    shared.in_flight_answered.fetch_add(1, Ordering::SeqCst);
                }
                if !response.keep_alive {
                    conn = None;
                }
            }
            Err(e @ Error::Unanswered(_)) if must_answer => {
                return shared.problem(format!("client {id}: {e} ({when})"));
            }
            Err(Error::Unanswered(_)) => return,
            Err(e @ Error::Broken(_)) => return shared.problem(format!("client {id}: {e} ({when})")),
        }
        if sigterm.is_some() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CLIENTS, sigterm_under_load};
    use crate::postgres::Postgres;
    use crate::service::Service;
    use std::process::Command;
    use std::time::Duration;

    /// A threaded Python server whose `/ready` asks the database (through psql) when given a URL,
    /// answering 503 with the contract's error body when it cannot, and whose `/health` takes
    /// `delay` seconds. With `drain`, SIGTERM stops the listener and waits for in-flight requests;
    /// without, the process exits 0 at once, the classic mistake.
    fn server(drain: bool, database: Option<&Postgres>, delay: f64) -> Service {
        let port = crate::port::free();
        let script = r#"
import http.server, json, os, signal, subprocess, sys, threading, time
port, mode, url, delay = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        status, rid = 200, self.headers.get("X-Request-Id", "generated")
        body = b'{"status":"ok"}'
        if self.path == "/health":
            time.sleep(delay)
        if self.path == "/ready" and url:
            try:
                subprocess.run(["psql", url, "-tAc", "SELECT 1"], check=True, timeout=5, capture_output=True)
            except Exception:
                status = 503
                error = {"code": "unavailable", "message": "database unreachable", "request_id": rid}
                body = json.dumps({"error": error}).encode()
        self.send_response(status); self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/json"); self.send_header("X-Request-Id", rid)
        self.send_header("X-Content-Type-Options", "nosniff"); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
class S(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = False
server = S(("127.0.0.1", port), H)
def stop(*_):
    if mode == "drain":
        threading.Thread(target=server.shutdown).start()
    else:
        os._exit(0)
signal.signal(signal.SIGTERM, stop)
server.serve_forever()
server.server_close()
"#;
        let mut cmd = Command::new("python3");
        let url = database.map(Postgres::url).unwrap_or_default();
        cmd.args(["-c", script, &port.to_string(), if drain { "drain" } else { "die" }, &url, &delay.to_string()]);
        if let Some(db) = database {
            let path = std::env::join_paths(
                std::iter::once(db.bin_dir().to_path_buf())
                    .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
            );
            cmd.env("PATH", path.unwrap());
        }
        let mut service = Service::spawn(cmd, port).unwrap();
        service.wait_ready(Duration::from_secs(20)).unwrap();
        service
    }

    /// The problems that say a request written well before SIGTERM was never answered.
    fn unanswered(problems: &[String]) -> usize {
        problems.iter().filter(|p| p.contains("no response") && p.contains("before SIGTERM")).count()
    }

    #[test]
    fn a_draining_server_passes() {
        // A fast route, as a real /health is, and a slow one that is surely in flight at SIGTERM.
        for delay in [0.0, 0.6] {
            let mut service = server(true, None, delay);
            let problems = sigterm_under_load(&mut service, None, Duration::from_secs(10));
            assert!(problems.is_empty(), "delay {delay}: {problems:#?}");
        }
    }

    #[test]
    fn a_server_that_dies_on_sigterm_fails() {
        // Every client's GET /health takes 0.6 s and was written 0.3 s before SIGTERM: all fifty are
        // in flight when the server dies, and each one is reported.
        let mut service = server(false, None, 0.6);
        let problems = sigterm_under_load(&mut service, None, Duration::from_secs(10));
        assert_eq!(unanswered(&problems), CLIENTS, "{problems:#?}");
    }

    #[test]
    #[cfg_attr(not(e2e_selected), ignore = "needs PostgreSQL server binaries: set DOZEN_E2E")]
    fn with_a_frozen_database_in_flight_requests_must_finish() {
        let db = Postgres::start().unwrap();
        let mut draining = server(true, Some(&db), 0.0);
        let problems = sigterm_under_load(&mut draining, Some(&db), Duration::from_secs(10));
        assert!(problems.is_empty(), "{problems:#?}");

        let db = Postgres::start().unwrap();
        let mut dying = server(false, Some(&db), 0.0);
        let problems = sigterm_under_load(&mut dying, Some(&db), Duration::from_secs(10));
        assert_eq!(unanswered(&problems), CLIENTS, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains(&format!("only 0 of {CLIENTS} GET /ready"))), "{problems:#?}");
    }
}
