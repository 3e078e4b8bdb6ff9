//! A built project run for real, as the Procfile says, against a throwaway PostgreSQL (db=postgres)
//! or none: migrations twice; then one running service probed on a random port: readiness time and
//! idle memory; a keep-alive connection left idle for 61 s on a thread of its own, while the rest
//! goes on (db=postgres only: with db=none nothing would fill the minute, and the HTTP server's
//! settings are the same); starts that must be refused (no `DATABASE_URL`, an invalid `PORT`, `LOG_LEVEL` or
//! `SHUTDOWN_TIMEOUT`), a start at `LOG_LEVEL=error` that must log nothing below errors,
//! `/health`, `/ready`, `/metrics`, request ids, the HTTP contract of issue 12 (the items
//! resource or its absence, the JSON error bodies, headers), the metrics after that traffic,
//! the OpenAPI document and schemathesis, a wrk load run, readiness following the database down
//! and up again; then SIGTERM under load, and every line it logged. A second instance then meets
//! SIGTERM with a request held in flight and an idle keep-alive connection open. Each check
//! records its own problem and the sequence goes on where it can, so one run reports everything
//! that is wrong.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::http::{self, Response};
use crate::keepalive::{self, Idle};
use crate::load::{self, Figures};
use crate::postgres::Postgres;
use crate::procfile::Procfile;
use crate::project::Options;
use crate::service::Service;
use crate::toolbox::Toolbox;
use crate::{command, contract, drain, logs, makefile, metrics, openapi, port, shutdown};

/// `SHUTDOWN_TIMEOUT` given to the service, in seconds.
const SHUTDOWN_TIMEOUT: u64 = 10;

/// `SHUTDOWN_TIMEOUT` of the instance that meets SIGTERM with an idle connection open: long, so
/// that a server waiting for idle connections is told from one that closes them.
const LONG_SHUTDOWN_TIMEOUT: u64 = 30;

/// How long a service may take from spawn to its first 200 on `/ready`.
const START_DEADLINE: Duration = Duration::from_secs(90);

/// What was measured on a running service, for docs/stacks.md.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// From spawn to the first 200 on `/ready`.
    pub start_to_ready: Duration,
    /// Resident memory of the process tree after a few idle seconds, in MiB.
    pub idle_rss_mib: f64,
    /// The wrk run: its route and figures, when it ran.
    pub load: Option<(&'static str, Figures)>,
}

/// Runs every live check on the built project in `dir`; returns the problems and, when the service
/// came up, its measurements.
pub fn check(dir: &Path, options: &Options, toolbox: &Toolbox) -> (Vec<String>, Option<Measured>) {
    let mut found = Vec::new();
    let procfile = match Procfile::read(dir) {
        Ok(procfile) => procfile,
        Err(e) => return (vec![e], None),
    };
    let database = if options.db == "postgres" {
        match Postgres::start() {
            Ok(pg) => Some(pg),
            Err(e) => return (vec![format!("cannot start PostgreSQL: {e}")], None),
        }
    } else {
        None
    };
    let url = database.as_ref().map(Postgres::url);
    match (&url, procfile.entry("release")) {
        (Some(url), Some(_)) => {
            for attempt in ["first", "second"] {
                if let Err(e) = release(&procfile, url) {
                    found.push(format!("release ({attempt} run): {e}"));
                }
            }
        }
        (Some(_), None) => found.push("Procfile has no `release:` entry although db=postgres".into()),
        (None, Some(line)) => found.push(format!("Procfile has `release: {line}` although db=none")),
        (None, None) => {}
    }
    let port = port::free();
    let vars = configuration(port, url.as_deref());
    let mut service = match start_web(&procfile, &vars) {
        Ok(service) => service,
        Err(e) => {
            found.push(format!("web: {e}"));
            return (found, None);
        }
    };
    let start_to_ready = match service.wait_ready(START_DEADLINE) {
        Ok(elapsed) => elapsed,
        Err(e) => {
            found.push(format!("web: {e}"));
            return (found, None);
        }
    };
    thread::sleep(Duration::from_secs(3));
    let idle_rss_mib = service.rss_mib().unwrap_or(0.0);
    // The minute of idling overlaps everything up to SIGTERM. With db=none nothing else fills the
    // minute, and the HTTP server's keep-alive does not depend on the database: the db=postgres
    // run of the same stack checks it.
    let idle = database.is_some().then(|| Idle::start(port, keepalive::IDLE));
    if idle.is_none() {
        eprintln!("keep-alive check: db=none, left to the db=postgres run (the same HTTP server settings)");
    }
    let mut clock = Phases::start();
    found.extend(misconfigured(&procfile, &vars, url.is_some()));
    clock.mark("refused starts");
    found.extend(routes(port));
    let sent_id = format!("e2e-{}", std::process::id());
    found.extend(request_ids(port, &sent_id));
    found.extend(contract::common(port));
    let items = if database.is_some() {
        let (problems, items) = contract::items(port);
        found.extend(problems);
        items
    } else {
        found.extend(contract::absent(port));
        contract::Items::default()
    };
    found.extend(metrics::problems(port, database.is_some()));
    found.extend(crate::monitoring::live(dir, port, toolbox));
    clock.mark("contract and metrics");
    found.extend(openapi::problems(port, database.is_some(), toolbox));
    clock.mark("openapi");
    let (route, template) = match (database.is_some(), items.existing) {
        (true, Some(id)) => (format!("/items/{id}"), "/items/{id}"),
        (true, None) => {
            found.push("load run: no item was created, so GET /items/{id} cannot be loaded; /health instead".into());
            ("/health".to_string(), "/health")
        }
        (false, _) => ("/health".to_string(), "/health"),
    };
    let (problems, figures) = load::run(port, &route, template);
    found.extend(problems);
    clock.mark("load");
    if let Some(db) = &database {
        found.extend(outage(port, db));
        clock.mark("outage");
        // While the idle connection waits out its minute: the stack's own tests, as CI runs them.
        found.extend(integration_tests(dir, db));
        clock.mark("make test with DATABASE_URL");
    }
    if let Some(idle) = idle {
        found.extend(idle.finish());
        clock.mark("rest of the idle minute");
    }
    found.extend(drain::sigterm_under_load(&mut service, database.as_ref(), Duration::from_secs(SHUTDOWN_TIMEOUT)));
    clock.mark("sigterm under load");
    service.drain_output();
    let lines = service.stdout_lines();
    found.extend(logs::problems(&lines).into_iter().take(20));
    // Only lines that mention the id can carry it: parse just those a second time.
    let mentioning: Vec<String> = lines.iter().filter(|l| l.contains(&sent_id)).cloned().collect();
    let ours = logs::access_lines(&mentioning)
        .into_iter()
        .filter(|l| l.get("request_id").and_then(Value::as_str) == Some(&sent_id))
        .count();
    if ours == 0 {
        found.push(format!(
            "no access line on stdout carries request_id {sent_id:?}, which the test sent as X-Request-Id"
        ));
    }
    clock.mark(&format!("{} log lines", lines.len()));
    drop(service);
    found.extend(second_instance(&procfile, &vars, database.as_ref(), items.existing));
    clock.mark("second instance");
    clock.show();
    let load = figures.map(|f| (template, f));
    (found, Some(Measured { start_to_ready, idle_rss_mib, load }))
}

/// How long each phase of the live checks took, shown at the end.
struct Phases {
    last: Instant,
    took: Vec<(String, Duration)>,
}

impl Phases {
    fn start() -> Phases {
        Phases { last: Instant::now(), took: Vec::new() }
    }

    fn mark(&mut self, name: &str) {
        self.took.push((name.to_string(), self.last.elapsed()));
        self.last = Instant::now();
    }

    fn show(&self) {
        let shown: Vec<String> = self.took.iter().map(|(n, d)| format!("{n} {:.1}s", d.as_secs_f64())).collect();
        eprintln!("live phases: {}", shown.join(", "));
    }
}

/// `make test` with `DATABASE_URL` on a database of its own (as the generated CI runs it): it must
/// pass, and say nothing about DATABASE_URL being unset.
fn integration_tests(dir: &Path, db: &Postgres) -> Vec<String> {
    let url = match db.create_database("make_test") {
        Ok(url) => url,
        Err(e) => return vec![format!("cannot create a database for `make test`: {e}")],
    };
    let started = Instant::now();
    match makefile::test_with_database(dir, &url) {
        Ok(output) => {
            eprintln!("make test with DATABASE_URL: {:.0}s", started.elapsed().as_secs_f64());
            let unset = output.lines().filter(|l| l.contains("DATABASE_URL") && l.contains("not set")).take(2);
            unset.map(|l| format!("`make test` with DATABASE_URL set still says: {}", l.trim())).collect()
        }
        Err(e) => vec![format!("`make test` with DATABASE_URL (as the generated CI runs it): {e}")],
    }
}

/// The starts that must be refused and the quiet start at `LOG_LEVEL=error`, each on its own port
/// while the main service runs.
fn misconfigured(procfile: &Procfile, vars: &[(&'static str, String)], with_database: bool) -> Vec<String> {
    let mut found = Vec::new();
    if with_database {
        found.extend(refused(procfile, "DATABASE_URL", &with(vars, "DATABASE_URL", None)));
    }
    for (variable, invalid) in [("PORT", "eighty"), ("LOG_LEVEL", "loud"), ("SHUTDOWN_TIMEOUT", "soon")] {
        found.extend(refused(procfile, variable, &with(vars, variable, Some(invalid))));
    }
    found.extend(quiet_at_error_level(procfile, &with(vars, "LOG_LEVEL", Some("error"))));
    found
}

/// A fresh instance with a long SHUTDOWN_TIMEOUT for the in-flight and idle-connection check.
fn second_instance(
    procfile: &Procfile,
    vars: &[(&'static str, String)],
    database: Option<&Postgres>,
    item: Option<i64>,
) -> Vec<String> {
    let long = LONG_SHUTDOWN_TIMEOUT.to_string();
    let vars = with(vars, "SHUTDOWN_TIMEOUT", Some(&long));
    let mut service = match start_web(procfile, &vars) {
        Ok(service) => service,
        Err(e) => return vec![format!("second instance: {e}")],
    };
    if let Err(e) = service.wait_ready(START_DEADLINE) {
        return vec![format!("second instance: {e}")];
    }
    shutdown::in_flight_and_idle(&mut service, database, item, Duration::from_secs(LONG_SHUTDOWN_TIMEOUT))
}

/// Runs the `release` command to completion.
fn release(procfile: &Procfile, url: &str) -> Result<(), String> {
    let mut cmd =
        procfile.command("release", &[("DATABASE_URL", url.to_string()), ("LOG_LEVEL", "info".to_string())])?;
    command::run_ok(&mut cmd, Duration::from_secs(300)).map(drop)
}

/// The service's whole configuration: `port`, LOG_LEVEL info, SHUTDOWN_TIMEOUT and, with a
/// database, DATABASE_URL.
fn configuration(port: u16, url: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("PORT", port.to_string()),
        ("LOG_LEVEL", "info".to_string()),
        ("SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUT.to_string()),
    ];
    if let Some(url) = url {
        vars.push(("DATABASE_URL", url.to_string()));
    }
    vars
}

/// `vars` with `name` set to `value`, or removed when `value` is None. A changed configuration
/// gets its own free port, so that a service which wrongly keeps running cannot collide.
pub fn with(vars: &[(&'static str, String)], name: &'static str, value: Option<&str>) -> Vec<(&'static str, String)> {
    let mut changed: Vec<_> = vars.iter().filter(|(n, _)| *n != name).cloned().collect();
    if let Some(value) = value {
        changed.push((name, value.to_string()));
    }
    if name != "PORT" {
        changed.retain(|(n, _)| *n != "PORT");
        changed.push(("PORT", port::free().to_string()));
    }
    changed
}

/// Starts the Procfile's `web` process with `vars`, expected on their PORT (an invalid PORT means
/// nothing should listen; a free port stands in).
fn start_web(procfile: &Procfile, vars: &[(&str, String)]) -> Result<Service, String> {
    let port = vars.iter().find(|(n, _)| *n == "PORT").and_then(|(_, v)| v.parse().ok()).unwrap_or_else(port::free);
    procfile.command("web", vars).and_then(|cmd| Service::spawn(cmd, port))
}

/// Starts `web` with `vars`, where `variable` is missing or invalid: it must exit non-zero with
/// one stderr line naming the variable.
fn refused(procfile: &Procfile, variable: &str, vars: &[(&str, String)]) -> Vec<String> {
    let case = match vars.iter().find(|(n, _)| *n == variable) {
        Some((_, value)) => format!("with {variable}={value}"),
        None => format!("without {variable}"),
    };
    let mut service = match start_web(procfile, vars) {
        Ok(service) => service,
        Err(e) => return vec![format!("start {case}: {e}")],
    };
    let Some(status) = service.wait_exit(Duration::from_secs(60)) else {
        return vec![format!("started {case}, it was still running after 60s")];
    };
    service.drain_output();
    let stderr = service.stderr();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut found = Vec::new();
    if status.success() {
        found.push(format!("started {case}, it exited 0"));
    }
    if lines.len() != 1 || !lines[0].contains(variable) {
        found.push(format!(
            "started {case}, stderr should be one line naming {variable} but was {} lines:\n{}",
            lines.len(),
            command::tail(&stderr, 15)
        ));
    }
    found
}

/// Runs `web` with LOG_LEVEL=error through a start, a request and a shutdown: nothing below
/// error level may reach stdout.
fn quiet_at_error_level(procfile: &Procfile, vars: &[(&str, String)]) -> Vec<String> {
    let mut service = match start_web(procfile, vars) {
        Ok(service) => service,
        Err(e) => return vec![format!("start with LOG_LEVEL=error: {e}")],
    };
    if let Err(e) = service.wait_ready(START_DEADLINE) {
        return vec![format!("with LOG_LEVEL=error: {e}")];
    }
    let _ = http::get(service.port(), "/health", &[]);
    service.signal(Signal::SIGTERM);
    if service.wait_exit(Duration::from_secs(SHUTDOWN_TIMEOUT + 1)).is_none() {
        return vec![format!("with LOG_LEVEL=error, still running {}s after SIGTERM", SHUTDOWN_TIMEOUT + 1)];
    }
    service.drain_output();
    let chatty = ["trace", "debug", "info", "notice", "warn", "warning"];
    service
        .stdout_lines()
        .into_iter()
        .filter(|line| {
            let level =
                serde_json::from_str::<Value>(line).ok().and_then(|v| v.get("level")?.as_str().map(str::to_lowercase));
            level.is_none_or(|l| chatty.contains(&l.as_str()))
        })
        .take(3)
        .map(|line| format!("with LOG_LEVEL=error, stdout still has: {}", line.chars().take(300).collect::<String>()))
        .collect()
}

/// `/health`, `/ready` and `/metrics` on a healthy service.
fn routes(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for path in ["/health", "/ready"] {
        match http::get(port, path, &[]) {
            Ok(r) if r.status == 200 && status_field(&r) == Some("ok".into()) => {}
            Ok(r) => {
                found.push(format!("GET {path}: expected 200 {{\"status\":\"ok\"}}, got {} {}", r.status, r.text()));
            }
            Err(e) => found.push(format!("GET {path}: {e}")),
        }
    }
    match http::get(port, "/metrics", &[]) {
        Ok(r) => {
            let content_type = r.header("content-type").unwrap_or_default().to_string();
            let text = r.text();
            let types: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("# TYPE "))
                .filter_map(|l| l.split_whitespace().nth(1))
                .collect();
            if r.status != 200 || !content_type.starts_with("text/plain") {
                found.push(format!("GET /metrics: expected 200 text/plain, got {} {content_type:?}", r.status));
            }
            for kind in ["counter", "histogram"] {
                if !types.contains(&kind) {
                    found.push(format!("GET /metrics: no `# TYPE … {kind}` line (a request {kind} is required)"));
                }
            }
        }
        Err(e) => found.push(format!("GET /metrics: {e}")),
    }
    found
}

/// A sent `X-Request-Id` is echoed; a missing one is generated as a UUID v4.
fn request_ids(port: u16, sent: &str) -> Vec<String> {
    let uuid_v4 =
        regex::Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$")
            .unwrap();
    let mut found = Vec::new();
    match http::get(port, "/health", &[("X-Request-Id", sent)]) {
        Ok(r) if r.header("x-request-id") == Some(sent) => {}
        Ok(r) => found.push(format!("X-Request-Id {sent:?} sent, {:?} echoed", r.header("x-request-id"))),
        Err(e) => found.push(format!("GET /health with X-Request-Id: {e}")),
    }
    match http::get(port, "/health", &[]) {
        Ok(r) if r.header("x-request-id").is_some_and(|id| uuid_v4.is_match(id)) => {}
        Ok(r) => found.push(format!(
            "no X-Request-Id sent, response carries {:?} instead of a generated UUID v4",
            r.header("x-request-id")
        )),
        Err(e) => found.push(format!("GET /health without X-Request-Id: {e}")),
    }
    found
}

/// Database down: `/ready` 503 within 5 s while `/health` stays 200; back up: `/ready` 200 again.
fn outage(port: u16, db: &Postgres) -> Vec<String> {
    let mut found = Vec::new();
    if let Err(e) = db.down() {
        return vec![format!("cannot stop PostgreSQL: {e}")];
    }
    let went_down = Instant::now();
    let mut unready = false;
    while went_down.elapsed() < Duration::from_secs(5) && !unready {
        match http::get(port, "/health", &[]) {
            Ok(r) if r.status == 200 => {}
            Ok(r) => found.push(format!("with the database down, GET /health answered {}", r.status)),
            Err(e) => found.push(format!("with the database down, GET /health: {e}")),
        }
        let sent = "e2e-outage-ready";
        match http::get(port, "/ready", &[("X-Request-Id", sent)]) {
            Ok(r) if r.status == 503 => {
                unready = true;
                found.extend(contract::error_problems(
                    "GET /ready with the database down",
                    &r,
                    503,
                    "unavailable",
                    sent,
                ));
            }
            Ok(_) => thread::sleep(Duration::from_millis(100)),
            Err(e) => found.push(format!("with the database down, GET /ready: {e}")),
        }
        if found.len() > 5 {
            return found;
        }
    }
    if !unready {
        found.push("with the database down, /ready did not answer 503 within 5s".into());
    }
    if let Err(e) = db.up() {
        found.push(format!("cannot start PostgreSQL again: {e}"));
        return found;
    }
    let came_up = Instant::now();
    loop {
        match http::get(port, "/ready", &[]) {
            Ok(r) if r.status == 200 => break,
            _ if came_up.elapsed() > Duration::from_secs(10) => {
                found.push("with the database back, /ready did not answer 200 within 10s".into());
                break;
            }
            _ => thread::sleep(Duration::from_millis(100)),
        }
    }
    found
}

fn status_field(response: &Response) -> Option<String> {
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    body.get("status")?.as_str().map(String::from)
}
