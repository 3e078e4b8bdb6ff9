//! Keep-alive above the load balancer's idle timeout (SPEC §6; ALB 60 s, services 75 s): a request
//! on a keep-alive connection left idle for 61 s must still be answered. It runs on a thread of
//! its own, started as soon as the service is up, so the minute of waiting overlaps the other
//! checks instead of adding to them.

use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::http::Connection;

/// How long the connection stays idle: just past the ALB's 60 s.
pub const IDLE: Duration = Duration::from_secs(61);

/// The running check.
pub struct Idle {
    handle: JoinHandle<Vec<String>>,
    started: Instant,
}

impl Idle {
    /// Opens a connection to `port`, asks once, and asks again after `idle` on the same connection.
    pub fn start(port: u16, idle: Duration) -> Idle {
        let started = Instant::now();
        let handle = thread::spawn(move || check(port, idle));
        Idle { handle, started }
    }

    /// Waits for the check to end and returns its problems.
    pub fn finish(self) -> Vec<String> {
        let waiting = self.started.elapsed();
        let found = self.handle.join().unwrap_or_else(|_| vec!["the keep-alive check panicked".into()]);
        if let Some(left) = IDLE.checked_sub(waiting) {
            eprintln!("keep-alive check: waited {:.0}s more for the idle connection", left.as_secs_f64());
        }
        found
    }
}

fn check(port: u16, idle: Duration) -> Vec<String> {
    let what = format!("a keep-alive connection idle for {}s", idle.as_secs());
    let mut conn = match Connection::open(port) {
        Ok(conn) => conn,
        Err(e) => return vec![format!("{what}: {e}")],
    };
    match conn.get("/health", &[("X-Request-Id", "e2e-idle-first")]) {
        Ok(r) if r.status == 200 && r.keep_alive => {}
        Ok(r) if r.status == 200 => {
            return vec![format!("{what}: the first response already closes the connection (no keep-alive)")];
        }
        Ok(r) => return vec![format!("{what}: the first GET /health answered {}", r.status)],
        Err(e) => return vec![format!("{what}: first request: {e}")],
    }
    thread::sleep(idle);
    match conn.get("/health", &[("X-Request-Id", "e2e-idle-second")]) {
        Ok(r) if r.status == 200 => Vec::new(),
        Ok(r) => vec![format!("{what}: GET /health answered {}", r.status)],
        Err(e) => vec![format!(
            "{what}: {e} — the server closed it, so a load balancer with a 60 s idle timeout would meet a \
             closed connection (the keep-alive idle timeout must be 75 s)"
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::Idle;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::thread;
    use std::time::Duration;

    /// Answers requests on one connection; closes it when idle for longer than `timeout`.
    fn server(timeout: Duration) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(timeout)).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut stream = stream;
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) if line == "\r\n" => {
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                    }
                    Ok(_) => {}
                }
            }
        });
        port
    }

    #[test]
    fn a_connection_kept_open_passes_and_one_closed_early_fails() {
        let kept = Idle::start(server(Duration::from_secs(5)), Duration::from_millis(500));
        let closed = Idle::start(server(Duration::from_millis(100)), Duration::from_millis(500));
        assert_eq!(kept.finish(), Vec::<String>::new());
        let found = closed.finish();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("the server closed it"), "{found:?}");
    }
}
