//! SIGTERM with a slow request in flight and an idle keep-alive connection open (issue 12, the same
//! proof in every stack). With a database, the database is frozen (SIGSTOP) so that
//! `GET /items/{id}`, written on a connection the server has already served, is provably in
//! flight when the signal lands. While it is held, the server must close the idle keep-alive
//! connection on its own (a server that waits for idle connections to time out would linger
//! until SHUTDOWN_TIMEOUT); once the database thaws the held request must complete with 200, the
//! connection it used must be closed after it, and the process must exit 0 promptly — well
//! before SHUTDOWN_TIMEOUT, since nothing is in flight any more. Without a database nothing can
//! be held, so only the idle connection and the prompt clean exit are checked (and said so).

use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::http::Connection;
use crate::postgres::Postgres;
use crate::service::Service;

/// How long after SIGTERM the idle connection may stay open.
const IDLE_CLOSE: Duration = Duration::from_secs(2);

/// How long the database is held frozen before SIGTERM (the request is surely in flight by then).
const HOLD: Duration = Duration::from_millis(500);

/// How soon after the last in-flight request the process must have exited.
pub const PROMPT: Duration = Duration::from_secs(5);

/// Runs the check on `service`, which was started with `shutdown_timeout`; `item` is the id of an
/// existing item (db=postgres).
pub fn in_flight_and_idle(
    service: &mut Service,
    database: Option<&Postgres>,
    item: Option<i64>,
    shutdown_timeout: Duration,
) -> Vec<String> {
    let port = service.port();
    let mut found = Vec::new();
    let Some(mut idle) = served_connection(port, "e2e-shutdown-idle", &mut found) else { return found };
    let held = match database {
        Some(db) => {
            let Some(mut busy) = served_connection(port, "e2e-shutdown-busy", &mut found) else { return found };
            if let Err(e) = db.freeze() {
                found.push(format!("cannot freeze PostgreSQL: {e}"));
                return found;
            }
            let path = format!("/items/{}", item.unwrap_or(1));
            let handle = thread::spawn(move || {
                busy.set_read_timeout(Duration::from_secs(60));
                let result = busy.get(&path, &[("X-Request-Id", "e2e-shutdown-held")]);
                let answered = Instant::now();
                // Whether or not it said `Connection: close`, the server must really close it.
                let closed = match &result {
                    Ok(_) => busy.closed_by_server_within(Duration::from_secs(3)),
                    Err(_) => Ok(true),
                };
                (path, result, answered, closed)
            });
            thread::sleep(HOLD);
            if handle.is_finished() {
                found.push(format!(
                    "GET /items/{} was answered while the database was frozen: no request could be held in flight",
                    item.unwrap_or(1)
                ));
            }
            Some(handle)
        }
        None => None,
    };
    let signalled = Instant::now();
    service.signal(Signal::SIGTERM);
    match idle.closed_by_server_within(IDLE_CLOSE) {
        Ok(true) => {}
        Ok(false) => found.push(format!(
            "an idle keep-alive connection was still open {}s after SIGTERM{}: the server must close idle connections at once",
            IDLE_CLOSE.as_secs(),
            if held.is_some() { " (a request was held in flight meanwhile)" } else { "" }
        )),
        Err(e) => found.push(format!("after SIGTERM, the idle keep-alive connection: {e}")),
    }
    let mut last_in_flight = signalled;
    if let Some(handle) = held {
        if service.exited().is_some() {
            found.push("the service exited after SIGTERM while a request was still in flight".into());
        }
        if let Some(Err(e)) = database.map(Postgres::thaw) {
            found.push(format!("cannot thaw PostgreSQL: {e}"));
        }
        match handle.join() {
            Ok((path, result, answered, closed)) => {
                last_in_flight = answered;
                match result {
                    Ok(r) if r.status == 200 => {}
                    Ok(r) => found.push(format!(
                        "GET {path} in flight at SIGTERM answered {} {}, not 200",
                        r.status,
                        crate::command::tail(&r.text(), 3)
                    )),
                    Err(e) => found.push(format!("GET {path} in flight at SIGTERM: {e}")),
                }
                match closed {
                    Ok(true) => {}
                    Ok(false) => found.push(format!(
                        "the keep-alive connection of GET {path}, which finished during the drain, was still open 3s later"
                    )),
                    Err(e) => found.push(format!("the connection of GET {path} after its response: {e}")),
                }
            }
            Err(_) => found.push("the in-flight client panicked".into()),
        }
    } else {
        eprintln!(
            "shutdown check: db=none, so no request can be held in flight; checking the idle connection and the exit"
        );
    }
    let budget = PROMPT.saturating_sub(last_in_flight.elapsed());
    match service.wait_exit(budget) {
        Some(status) if status.success() => {}
        Some(status) => found.push(format!("after SIGTERM the service exited with {status}, not 0")),
        None => {
            let lingered = service.wait_exit(shutdown_timeout + Duration::from_secs(2));
            found.push(format!(
                "the service had not exited {}s after its last in-flight request finished (SHUTDOWN_TIMEOUT={}s){}",
                PROMPT.as_secs(),
                shutdown_timeout.as_secs(),
                match lingered {
                    Some(_) => format!("; it exited {:.1}s after SIGTERM", signalled.elapsed().as_secs_f64()),
                    None => " and was still running after SHUTDOWN_TIMEOUT".into(),
                }
            ));
        }
    }
    found
}

/// A connection on which the server has answered `GET /health` and promised to keep it open.
fn served_connection(port: u16, id: &str, found: &mut Vec<String>) -> Option<Connection> {
    let mut conn = match Connection::open(port) {
        Ok(conn) => conn,
        Err(e) => {
            found.push(format!("shutdown check: {e}"));
            return None;
        }
    };
    match conn.get("/health", &[("X-Request-Id", id)]) {
        Ok(r) if r.status == 200 && r.keep_alive => Some(conn),
        Ok(r) if r.status == 200 => {
            found.push(
                "shutdown check: GET /health closes the connection, so no keep-alive connection can be held".into(),
            );
            None
        }
        Ok(r) => {
            found.push(format!("shutdown check: GET /health answered {}", r.status));
            None
        }
        Err(e) => {
            found.push(format!("shutdown check: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::in_flight_and_idle;
    use crate::service::Service;
    use std::process::Command;
    use std::time::Duration;

    /// A threaded Python server. `close_idle` decides whether SIGTERM closes idle keep-alive
    /// connections at once or the process waits `linger` seconds for them first.
    fn server(close_idle: bool) -> Service {
        let port = crate::port::free();
        let script = r#"
import http.server, os, signal, socket, sys, threading, time
port, close_idle = int(sys.argv[1]), sys.argv[2] == "1"
conns, stopping = set(), threading.Event()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup(); conns.add(self.connection)
    def do_GET(self):
        body = b'{"status":"ok"}'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
server.daemon_threads = True
def stop(*_):
    def run():
        server.shutdown()
        if close_idle:
            for c in list(conns):
                try: c.shutdown(socket.SHUT_RDWR)
                except OSError: pass
        else:
            time.sleep(8)
        os._exit(0)
    threading.Thread(target=run).start()
signal.signal(signal.SIGTERM, stop)
server.serve_forever()
time.sleep(60)
"#;
        let mut cmd = Command::new("python3");
        cmd.args(["-c", script, &port.to_string(), if close_idle { "1" } else { "0" }]);
        let mut service = Service::spawn(cmd, port).unwrap();
        service.wait_ready(Duration::from_secs(20)).unwrap();
        service
    }

    #[test]
    fn closing_idle_connections_at_once_passes_lingering_fails() {
        let mut good = server(true);
        assert_eq!(in_flight_and_idle(&mut good, None, None, Duration::from_secs(10)), Vec::<String>::new());
        let mut lingering = server(false);
        let found = in_flight_and_idle(&mut lingering, None, None, Duration::from_secs(10));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("idle keep-alive connection was still open"), "{found:#?}");
        assert!(found[1].contains("had not exited"), "{found:#?}");
    }
}
