//! The second process type (issue 16, /work/coord/WORKER-CONTRACT.md) run for real: a project
//! generated with `worker=redis`, built once, its `web` and `worker` processes started as the
//! Procfile says (each on its own PORT) against a throwaway Redis (and PostgreSQL with
//! db=postgres). Checked, in order: `make test` names REDIS_URL when it is unset and passes
//! against the real Redis; starts without or with an invalid REDIS_URL are refused; the worker's
//! own routes and its job metrics at 0; the `/jobs` contract (validation, 202 with Location, 404
//! JSON for an unknown id); then a long job (longer than SHUTDOWN_TIMEOUT) and 100 short ones are
//! enqueued, the worker gets SIGTERM while jobs run and must exit 0 within SHUTDOWN_TIMEOUT
//! without taking new jobs; a second worker must bring every job to `done` (the long one run
//! again), a `fail: true` job to `failed` after 3 attempts; the logs prove at-least-once (every
//! job id has a "job done" line) and agree with the metrics; readiness of both processes follows
//! Redis frozen, thawed, killed and restarted; both exit 0 on SIGTERM at the end.
//!
//! With db=none the Redis speaks TLS only (`rediss://`, as ElastiCache with transit encryption
//! does; db=postgres keeps `redis://`): the processes and `make test` are given its throwaway CA
//! the way their ecosystem is told about a private CA ([`trust_env`]), and a web process not given
//! it must never become ready (its certificate verification is on).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use regex::Regex;
use serde_json::{Map, Value, json};

use crate::http::{self, Response};
use crate::live::with;
use crate::metrics::{self, Scrape};
use crate::postgres::Postgres;
use crate::procfile::Procfile;
use crate::project::Options;
use crate::redis::{Redis, Trust};
use crate::service::Service;
use crate::{command, contract, logs, port};

/// `SHUTDOWN_TIMEOUT` given to both processes, in seconds.
const SHUTDOWN_TIMEOUT: u64 = 10;

/// Extra time allowed beyond SHUTDOWN_TIMEOUT for a process to be gone after SIGTERM.
const EXIT_SLACK: Duration = Duration::from_secs(3);

/// `WORKER_CONCURRENCY` given to the worker.
const CONCURRENCY: usize = 4;

/// How many short jobs are enqueued, and how long each takes.
const JOBS: usize = 100;
const SHORT_MS: u64 = 1_000;

/// A job that cannot finish within SHUTDOWN_TIMEOUT: it must be put back and run again.
const LONG_MS: u64 = 40_000;

/// How long a process may take from spawn to its first 200 on `/ready`.
const START_DEADLINE: Duration = Duration::from_secs(90);

/// How long the second worker may take to bring every job to its final state.
const SETTLE_DEADLINE: Duration = Duration::from_secs(120);

/// The contract's duration buckets, without +Inf.
const BUCKETS: [f64; 13] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Runs every worker check on the built project in `dir`; `test_output` is what `make test`
/// printed without REDIS_URL.
pub fn check(dir: &Path, options: &Options, test_output: &str) -> Vec<String> {
    let mut found = Vec::new();
    if !test_output.contains("REDIS_URL") {
        found.push(format!(
            "without REDIS_URL, `make test` must say that the Redis integration test is skipped (no line names REDIS_URL); it printed:\n{}",
            command::tail(test_output, 15)
        ));
    }
    let procfile = match Procfile::read(dir) {
        Ok(procfile) => procfile,
        Err(e) => return [found, vec![e]].concat(),
    };
    if procfile.entry("worker").is_none() {
        found.push(
            "Procfile has no `worker:` entry although worker=redis: the worker process cannot be started, so none of \
             the worker checks ran"
                .into(),
        );
        return found;
    }
    let tls = options.db == "none";
    let mut redis = match if tls { Redis::start_tls() } else { Redis::start() } {
        Ok(redis) => redis,
        Err(e) => return [found, vec![format!("cannot start Redis (TLS: {tls}): {e}")]].concat(),
    };
    // The processes' trust settings, and those of `make test` (the same but for a JVM).
    let trusted = redis.trust().map(|trust| Ok::<_, String>((trust_env(dir, trust)?, test_trust_env(dir, trust)?)));
    let (trust, test_trust) = match trusted.transpose() {
        Ok(trusted) => trusted.unwrap_or_default(),
        Err(e) => return [found, vec![format!("cannot make the trust store for the TLS Redis: {e}")]].concat(),
    };
    let database = if options.db == "postgres" {
        match Postgres::start() {
            Ok(pg) => Some(pg),
            Err(e) => return [found, vec![format!("cannot start PostgreSQL: {e}")]].concat(),
        }
    } else {
        None
    };
    let untrusted_vars = configuration(&redis, database.as_ref());
    let vars = [untrusted_vars.clone(), trust.clone()].concat();
    if database.is_some() {
        // A platform gives every process type the same configuration.
        let mut release = match procfile.command("release", &vars) {
            Ok(cmd) => cmd,
            Err(e) => return [found, vec![e]].concat(),
        };
        if let Err(e) = command::run_ok(&mut release, Duration::from_secs(300)) {
            found.push(format!("release: {e}"));
        }
    }
    found.extend(integration_tests(dir, &redis, database.as_ref(), &test_trust));
    for process in ["web", "worker"] {
        // Without the trust settings: a JVM says on stderr that it picked up JAVA_TOOL_OPTIONS.
        found.extend(refused(&procfile, process, &with(&untrusted_vars, "REDIS_URL", None)));
        found.extend(refused(&procfile, process, &with(&untrusted_vars, "REDIS_URL", Some("not a url"))));
    }
    if tls {
        let names: Vec<&str> = trust.iter().map(|(name, _)| *name).collect();
        let problems = untrusted(&procfile, &with(&untrusted_vars, "PORT", Some(&port::free().to_string())));
        eprintln!(
            "worker: Redis over TLS ({}), CA trusted through {}; web without it never ready: {}",
            redis.url(),
            names.join(", "),
            if problems.is_empty() { "yes" } else { "NO" }
        );
        found.extend(problems);
    }
    let mut web = match start(&procfile, "web", &vars) {
        Ok(web) => web,
        Err(e) => return [found, vec![format!("web: {e}")]].concat(),
    };
    // Each process type gets its own PORT, as Procfile runners do.
    let mut worker = match start(&procfile, "worker", &with(&vars, "PORT", Some(&port::free().to_string()))) {
        Ok(worker) => worker,
        Err(e) => return [found, vec![format!("worker: {e}")]].concat(),
    };
    found.extend(worker_routes(worker.port()));
    let mut jobs = Jobs::default();
    let (problems, defaults) = jobs_contract(web.port());
    found.extend(problems);
    jobs.others.extend(defaults);
    let first = sigterm_while_running(&mut web, &mut worker, &mut jobs, &mut found);
    let Some(first) = first else { return found };
    let vars2 = with(&vars, "PORT", Some(&port::free().to_string()));
    let mut worker = match start(&procfile, "worker", &vars2) {
        Ok(worker) => worker,
        Err(e) => return [found, vec![format!("second worker: {e}")]].concat(),
    };
    match enqueue(web.port(), &json!({"name": "doomed", "duration_ms": 0, "fail": true})) {
        Ok(job) => jobs.doomed = Some(job.id),
        Err(e) => found.push(e),
    }
    let settled = settle(web.port(), &jobs, &mut found);
    // The log line of the last job may trail its state by a moment.
    thread::sleep(Duration::from_millis(500));
    let second = match metrics::scrape(worker.port()) {
        Ok(scrape) => Some(scrape),
        Err(e) => {
            found.push(format!("second worker: {e}"));
            None
        }
    };
    let lines2_at_scrape = worker.stdout_lines();
    found.extend(outage(&mut redis, &mut web, &mut worker));
    for (name, service) in [("web", &mut web), ("second worker", &mut worker)] {
        service.signal(Signal::SIGTERM);
        match service.wait_exit(Duration::from_secs(SHUTDOWN_TIMEOUT) + EXIT_SLACK) {
            Some(status) if status.success() => {}
            Some(status) => found.push(format!("{name}: exited with {status} after SIGTERM, not 0")),
            None => found.push(format!("{name}: still running {}s after SIGTERM", SHUTDOWN_TIMEOUT + 3)),
        }
        service.drain_output();
    }
    let lines2 = worker.stdout_lines();
    found.extend(logs::problems(&web.stdout_lines()).into_iter().take(10).map(|p| format!("web: {p}")));
    let runs = [Run::read("first worker", &first.lines), Run::read("second worker", &lines2)];
    for run in &runs {
        found.extend(run.problems.iter().take(10).cloned());
    }
    found.extend(delivery(&jobs, &runs, &settled));
    found.extend(first_run_metrics(&first, &runs[0]));
    if let Some(second) = &second {
        found.extend(second_run_metrics(second, &Run::read("second worker", &lines2_at_scrape)));
    }
    found
}

/// What the first worker left: its stdout, and the metrics scraped just before SIGTERM.
struct FirstRun {
    lines: Vec<String>,
    scrape: Option<Scrape>,
    lines_before_sigterm: usize,
}

/// The ids of the enqueued jobs.
#[derive(Default)]
struct Jobs {
    long: Option<String>,
    short: Vec<String>,
    doomed: Option<String>,
    /// Jobs enqueued by the other checks: their lines are expected, not counted.
    others: Vec<String>,
}

impl Jobs {
    fn succeeding(&self) -> impl Iterator<Item = &String> {
        self.long.iter().chain(&self.short)
    }
}

/// A job as the web process reports it.
#[derive(Debug, Clone, PartialEq)]
struct Job {
    id: String,
    name: String,
    state: String,
    attempts: u64,
    error: Option<String>,
}

impl Job {
    /// Parses a job body, naming every field that is missing or of the wrong type.
    fn parse(body: &Value) -> Result<Job, String> {
        let Some(fields) = body.as_object() else { return Err(format!("job is not a JSON object: {body}")) };
        let text = |name: &str| fields.get(name).and_then(Value::as_str).map(str::to_owned);
        let mut missing = Vec::new();
        let id = text("id").unwrap_or_else(|| {
            missing.push("string `id`");
            String::new()
        });
        let name = text("name").unwrap_or_else(|| {
            missing.push("string `name`");
            String::new()
        });
        let state = text("state").unwrap_or_else(|| {
            missing.push("string `state`");
            String::new()
        });
        let attempts = fields.get("attempts").and_then(Value::as_u64).unwrap_or_else(|| {
            missing.push("integer `attempts`");
            0
        });
        let error = match fields.get("error") {
            Some(Value::Null) => None,
            Some(Value::String(e)) => Some(e.clone()),
            _ => {
                missing.push("`error` (string or null)");
                None
            }
        };
        if !missing.is_empty() {
            return Err(format!("job has no {}: {body}", missing.join(", ")));
        }
        if !["queued", "running", "done", "failed"].contains(&state.as_str()) {
            return Err(format!("job state {state:?} is not queued, running, done or failed: {body}"));
        }
        if !Regex::new("^[A-Za-z0-9_-]{1,64}$").unwrap().is_match(&id) {
            return Err(format!("job id {id:?} is not 1-64 characters of [A-Za-z0-9_-]"));
        }
        Ok(Job { id, name, state, attempts, error })
    }
}

/// The configuration both processes get.
fn configuration(redis: &Redis, database: Option<&Postgres>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("PORT", port::free().to_string()),
        ("LOG_LEVEL", "info".to_string()),
        ("SHUTDOWN_TIMEOUT", SHUTDOWN_TIMEOUT.to_string()),
        ("REDIS_URL", redis.url()),
        ("WORKER_CONCURRENCY", CONCURRENCY.to_string()),
    ];
    if let Some(db) = database {
        vars.push(("DATABASE_URL", db.url()));
    }
    vars
}

/// The variables that make a process of the project in `dir` trust the CA of `trust`, the way its
/// ecosystem is told about a private CA: a JVM's `javax.net.ssl.trustStore` (in
/// JAVA_TOOL_OPTIONS, which every JVM reads), Node's NODE_EXTRA_CA_CERTS, and OpenSSL's
/// SSL_CERT_FILE for the others (Python's ssl, Go's crypto/x509, rustls-native-certs read it).
fn trust_env(dir: &Path, trust: &Trust) -> Result<Vec<(&'static str, String)>, String> {
    let bundle = trust.bundle.to_string_lossy().into_owned();
    if dir.join("pom.xml").is_file() {
        let store = trust.java_trust_store()?;
        let options = format!(
            "-Djavax.net.ssl.trustStore={} -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword={}",
            store.display(),
            Trust::JAVA_PASSWORD
        );
        Ok(vec![("JAVA_TOOL_OPTIONS", options)])
    } else if dir.join("package.json").is_file() {
        Ok(vec![("NODE_EXTRA_CA_CERTS", bundle)])
    } else {
        Ok(vec![("SSL_CERT_FILE", bundle)])
    }
}

/// [`trust_env`] for `make test`. For a JVM it is the trust store in the test JVM's `argLine`
/// (given to Maven in MAVEN_ARGS) instead of JAVA_TOOL_OPTIONS, which would reach the JVMs the
/// tests start in turn, and those say "Picked up JAVA_TOOL_OPTIONS" on the stderr the tests read.
fn test_trust_env(dir: &Path, trust: &Trust) -> Result<Vec<(&'static str, String)>, String> {
    if dir.join("pom.xml").is_file() {
        let store = trust.java_trust_store()?;
        Ok(vec![("MAVEN_ARGS", format!("-DargLine=-Djavax.net.ssl.trustStore={}", store.display()))])
    } else {
        trust_env(dir, trust)
    }
}

/// The web process given the `rediss://` URL but not the CA that signed the server's
/// certificate: it must come up (`/health`) but never be ready, or it does not verify the
/// certificate.
fn untrusted(procfile: &Procfile, vars: &[(&str, String)]) -> Vec<String> {
    let case = "web without the CA of the rediss:// server";
    let mut service = match procfile.command("web", vars).and_then(|cmd| Service::spawn(cmd, port_of(vars))) {
        Ok(service) => service,
        Err(e) => return vec![format!("start {case}: {e}")],
    };
    let began = Instant::now();
    let mut found = Vec::new();
    let mut unready = 0;
    while began.elapsed() < START_DEADLINE && unready < 10 {
        if let Some(status) = service.exited() {
            found.push(format!("{case}: exited ({status}); it must stay up and report unready"));
            break;
        }
        match http::get(service.port(), "/ready", &[]) {
            Ok(r) if r.status == 503 => unready += 1,
            Ok(r) if r.status == 200 => {
                found.push(format!(
                    "{case}: /ready answered 200: it connected to a Redis whose certificate it cannot verify \
                     (certificate verification is off)"
                ));
                break;
            }
            _ => {}
        }
        thread::sleep(Duration::from_millis(300));
    }
    if found.is_empty() && unready < 10 {
        found.push(format!("{case}: /ready did not answer 503 within {}s", START_DEADLINE.as_secs()));
    }
    service.signal(Signal::SIGTERM);
    if service.wait_exit(Duration::from_secs(SHUTDOWN_TIMEOUT) + EXIT_SLACK).is_none() {
        service.signal(Signal::SIGKILL);
        let _ = service.wait_exit(Duration::from_secs(5));
    }
    service.drain_output();
    found
}

fn port_of(vars: &[(&str, String)]) -> u16 {
    vars.iter().find(|(n, _)| *n == "PORT").and_then(|(_, v)| v.parse().ok()).unwrap_or_else(port::free)
}

/// Starts Procfile process `name` with `vars` and waits for its `/ready`.
fn start(procfile: &Procfile, name: &str, vars: &[(&str, String)]) -> Result<Service, String> {
    let mut service = procfile.command(name, vars).and_then(|cmd| Service::spawn(cmd, port_of(vars)))?;
    service.wait_ready(START_DEADLINE)?;
    Ok(service)
}

/// `make test` with REDIS_URL (and DATABASE_URL on a database of its own), as the generated CI
/// runs it: it must pass and no longer say that REDIS_URL is unset.
fn integration_tests(dir: &Path, redis: &Redis, database: Option<&Postgres>, trust: &[(&str, String)]) -> Vec<String> {
    let mut cmd = Command::new("make");
    cmd.arg("test").current_dir(dir).env("NO_COLOR", "1").env_remove("CARGO_TARGET_DIR");
    for variable in
        ["PORT", "DATABASE_URL", "LOG_LEVEL", "SHUTDOWN_TIMEOUT", "WORKER_CONCURRENCY", "MAKEFLAGS", "MFLAGS"]
    {
        cmd.env_remove(variable);
    }
    if std::env::var_os("GOTOOLCHAIN").is_none() {
        cmd.env("GOTOOLCHAIN", "local");
    }
    // A database of its own, so that nothing the tests leave behind reaches the processes run later.
    cmd.env("REDIS_URL", redis.url_of(1));
    cmd.envs(trust.iter().map(|(name, value)| (*name, value)));
    if let Some(db) = database {
        match db.create_database("make_test_worker") {
            Ok(url) => {
                cmd.env("DATABASE_URL", url);
            }
            Err(e) => return vec![format!("cannot create a database for `make test`: {e}")],
        }
    }
    let started = Instant::now();
    match command::run_ok(&mut cmd, Duration::from_secs(1800)) {
        Ok(done) => {
            eprintln!("make test with REDIS_URL: {:.0}s", started.elapsed().as_secs_f64());
            let output = done.output();
            let unset = output.lines().filter(|l| l.contains("REDIS_URL") && l.contains("not set")).take(2);
            unset.map(|l| format!("`make test` with REDIS_URL set still says: {}", l.trim())).collect()
        }
        Err(e) => vec![format!("`make test` with REDIS_URL (as the generated CI runs it): {e}")],
    }
}

/// Starts `process` with a missing or invalid REDIS_URL: it must exit non-zero with one stderr
/// line naming it.
fn refused(procfile: &Procfile, process: &str, vars: &[(&str, String)]) -> Vec<String> {
    let case = match vars.iter().find(|(n, _)| *n == "REDIS_URL") {
        Some((_, value)) => format!("{process} with REDIS_URL={value:?}"),
        None => format!("{process} without REDIS_URL"),
    };
    let mut service = match procfile.command(process, vars).and_then(|cmd| Service::spawn(cmd, port_of(vars))) {
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
    if lines.len() != 1 || !lines[0].contains("REDIS_URL") {
        found.push(format!(
            "started {case}, stderr should be one line naming REDIS_URL but was {} lines:\n{}",
            lines.len(),
            command::tail(&stderr, 15)
        ));
    }
    found
}

/// The worker's HTTP side: `/health`, `/ready`, the job metrics at 0 before any job, 404 JSON
/// for anything else.
fn worker_routes(port: u16) -> Vec<String> {
    let mut found = Vec::new();
    for path in ["/health", "/ready"] {
        match http::get(port, path, &[]) {
            Ok(r) if r.status == 200 && r.json().is_some_and(|b| b["status"] == "ok") => {}
            Ok(r) => found.push(format!(
                "worker GET {path}: expected 200 {{\"status\":\"ok\"}}, got {} {}",
                r.status,
                r.text()
            )),
            Err(e) => found.push(format!("worker GET {path}: {e}")),
        }
    }
    match metrics::scrape(port) {
        Ok(scrape) => {
            for outcome in ["done", "failed", "retried"] {
                let labels = [("queue", "default"), ("outcome", outcome)];
                if !scrape.named("jobs_total").any(|s| s.labels == label_map(&labels)) {
                    found.push(format!(
                        "worker /metrics at startup has no jobs_total{{queue=\"default\",outcome=\"{outcome}\"}} (export every outcome at 0)"
                    ));
                }
            }
            if scrape.types.get("jobs_total").is_some_and(|t| t != "counter") {
                found.push(format!("worker /metrics: jobs_total is a {}, not a counter", scrape.types["jobs_total"]));
            }
            if !scrape
                .named("process_cpu_seconds_total")
                .chain(scrape.named("process_resident_memory_bytes"))
                .any(|_| true)
                && !scrape.samples.iter().any(|s| s.name.starts_with("jvm_") || s.name.starts_with("nodejs_"))
            {
                found.push("worker /metrics has none of the runtime's process metrics".into());
            }
        }
        Err(e) => found.push(format!("worker: {e}")),
    }
    let sent = "e2e-worker-unknown-route";
    match http::get(port, "/jobs", &[("X-Request-Id", sent)]) {
        Ok(r) => {
            found.extend(contract::error_problems("worker GET /jobs (not a worker route)", &r, 404, "not_found", sent));
        }
        Err(e) => found.push(format!("worker GET /jobs: {e}")),
    }
    found
}

fn label_map(labels: &[(&str, &str)]) -> BTreeMap<String, String> {
    labels.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
}

fn post_jobs(port: u16, body: &[u8], request_id: &str) -> Result<Response, http::Error> {
    http::request(
        port,
        "POST",
        "/jobs",
        &[("Content-Type", "application/json"), ("X-Request-Id", request_id)],
        Some(body),
    )
}

/// POST /jobs with `body`: a 202 with a queued job and its Location, or why not.
fn enqueue(port: u16, body: &Value) -> Result<Job, String> {
    let response =
        post_jobs(port, body.to_string().as_bytes(), "e2e-enqueue").map_err(|e| format!("POST /jobs: {e}"))?;
    let shown = || format!("{} {}", response.status, command::tail(&response.text(), 3));
    if response.status != 202 {
        return Err(format!("POST /jobs {body}: expected 202, got {}", shown()));
    }
    let job = Job::parse(&response.json().ok_or_else(|| format!("POST /jobs: body is not JSON: {}", shown()))?)
        .map_err(|e| format!("POST /jobs {body}: {e}"))?;
    let location = format!("/jobs/{}", job.id);
    if response.header("location") != Some(location.as_str()) {
        return Err(format!("POST /jobs: Location is {:?}, expected {location:?}", response.header("location")));
    }
    if job.state != "queued" || job.attempts != 0 || job.error.is_some() || Some(&json!(job.name)) != body.get("name") {
        return Err(format!(
            "POST /jobs {body}: expected a queued job with that name, 0 attempts and no error, got {job:?}"
        ));
    }
    Ok(job)
}

/// GET /jobs/{id}.
fn fetch(port: u16, id: &str) -> Result<Job, String> {
    let response = http::get(port, &format!("/jobs/{id}"), &[]).map_err(|e| format!("GET /jobs/{id}: {e}"))?;
    if response.status != 200 {
        return Err(format!(
            "GET /jobs/{id}: expected 200, got {} {}",
            response.status,
            command::tail(&response.text(), 3)
        ));
    }
    let job = Job::parse(&response.json().ok_or_else(|| format!("GET /jobs/{id}: body is not JSON"))?)?;
    if job.id != id {
        return Err(format!("GET /jobs/{id} answered the job {:?}", job.id));
    }
    Ok(job)
}

/// Validation and unknown ids on the web process; also returns the id of the job it enqueued.
fn jobs_contract(port: u16) -> (Vec<String>, Option<String>) {
    let mut found = Vec::new();
    let cases: [(&str, &[u8], u16, &str); 6] = [
        ("unknown field", br#"{"name":"x","colour":"red"}"#, 422, "validation_failed"),
        ("empty name", br#"{"name":""}"#, 422, "validation_failed"),
        ("no name", br#"{"duration_ms":5}"#, 422, "validation_failed"),
        ("duration_ms 60001", br#"{"name":"x","duration_ms":60001}"#, 422, "validation_failed"),
        ("fail not a boolean", br#"{"name":"x","fail":"yes"}"#, 422, "validation_failed"),
        ("malformed JSON", br#"{"name":"#, 400, "bad_request"),
    ];
    for (case, body, status, code) in cases {
        let sent = "e2e-jobs-invalid";
        match post_jobs(port, body, sent) {
            Ok(r) => found.extend(contract::error_problems(&format!("POST /jobs ({case})"), &r, status, code, sent)),
            Err(e) => found.push(format!("POST /jobs ({case}): {e}")),
        }
    }
    for id in ["0b7c3c2e-6f0e-4d7e-9a51-8f1f2d3c4b5a", "not-a-job-id", "%20"] {
        let sent = "e2e-jobs-unknown";
        match http::get(port, &format!("/jobs/{id}"), &[("X-Request-Id", sent)]) {
            Ok(r) => {
                found.extend(contract::error_problems(
                    &format!("GET /jobs/{id} (unknown)"),
                    &r,
                    404,
                    "not_found",
                    sent,
                ));
            }
            Err(e) => found.push(format!("GET /jobs/{id}: {e}")),
        }
    }
    match enqueue(port, &json!({"name": "defaults"})) {
        Ok(job) => {
            if let Err(e) = fetch(port, &job.id) {
                found.push(e);
            }
            (found, Some(job.id))
        }
        Err(e) => {
            found.push(format!("{e} (with duration_ms and fail left to their defaults)"));
            (found, None)
        }
    }
}

/// Enqueues the long job and the short ones, waits until jobs run, scrapes the worker's metrics,
/// sends it SIGTERM and checks that it exits 0 in time without taking new jobs.
fn sigterm_while_running(
    web: &mut Service,
    worker: &mut Service,
    jobs: &mut Jobs,
    found: &mut Vec<String>,
) -> Option<FirstRun> {
    let port = web.port();
    match enqueue(port, &json!({"name": "long", "duration_ms": LONG_MS})) {
        Ok(job) => jobs.long = Some(job.id),
        Err(e) => {
            found.push(e);
            return None;
        }
    }
    for n in 0..JOBS {
        match enqueue(port, &json!({"name": format!("short-{n}"), "duration_ms": SHORT_MS, "fail": false})) {
            Ok(job) => jobs.short.push(job.id),
            Err(e) => {
                found.push(format!("job {n} of {JOBS}: {e}"));
                return None;
            }
        }
    }
    let waiting = Instant::now();
    let long = jobs.long.clone().unwrap_or_default();
    loop {
        let long_running = fetch(port, &long).is_ok_and(|j| j.state == "running");
        // Enqueueing 100 jobs over HTTP takes seconds on a loaded machine while the worker already
        // runs them: look for a running one among all of them, latest first.
        let short_running = jobs.short.iter().rev().any(|id| fetch(port, id).is_ok_and(|j| j.state == "running"));
        if long_running && short_running {
            break;
        }
        if waiting.elapsed() > Duration::from_secs(30) {
            found.push(format!(
                "30s after enqueueing, the long job running: {long_running}, a short job running: {short_running}; \
                 sending SIGTERM anyway"
            ));
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let scrape = match metrics::scrape(worker.port()) {
        Ok(scrape) => Some(scrape),
        Err(e) => {
            found.push(format!("first worker before SIGTERM: {e}"));
            None
        }
    };
    let lines_before_sigterm = worker.stdout_lines().len();
    let signalled = Instant::now();
    worker.signal(Signal::SIGTERM);
    let deadline = Duration::from_secs(SHUTDOWN_TIMEOUT) + EXIT_SLACK;
    match worker.wait_exit(deadline) {
        Some(status) if status.success() => {
            eprintln!("worker: exited 0 {:.1}s after SIGTERM", signalled.elapsed().as_secs_f64());
        }
        Some(status) => found.push(format!("worker: exited with {status} after SIGTERM, not 0")),
        None => {
            found.push(format!(
                "worker: still running {}s after SIGTERM (SHUTDOWN_TIMEOUT={SHUTDOWN_TIMEOUT}) with a {LONG_MS} ms job \
                 running: it must put back what cannot finish in time and exit",
                deadline.as_secs()
            ));
            worker.signal(Signal::SIGKILL);
            let _ = worker.wait_exit(Duration::from_secs(5));
        }
    }
    worker.drain_output();
    let not_done = jobs.short.iter().filter(|id| fetch(port, id).is_ok_and(|j| j.state != "done")).count();
    if not_done == 0 {
        found.push("every short job was done when the first worker exited: the restart proves nothing".into());
    }
    Some(FirstRun { lines: worker.stdout_lines(), scrape, lines_before_sigterm })
}

/// Waits until every job is final; returns the final jobs by id and records the stuck ones.
fn settle(port: u16, jobs: &Jobs, found: &mut Vec<String>) -> BTreeMap<String, Job> {
    let began = Instant::now();
    let mut wanted: Vec<(String, &str)> = jobs.succeeding().map(|id| (id.clone(), "done")).collect();
    wanted.extend(jobs.doomed.iter().map(|id| (id.clone(), "failed")));
    let mut settled = BTreeMap::new();
    loop {
        let mut stuck = Vec::new();
        for (id, state) in &wanted {
            if settled.contains_key(id) {
                continue;
            }
            match fetch(port, id) {
                Ok(job) if job.state == *state => {
                    settled.insert(id.clone(), job);
                }
                Ok(job) => {
                    stuck.push(format!("{id} is {} after {} attempts (wanted {state})", job.state, job.attempts));
                }
                Err(e) => stuck.push(e),
            }
        }
        if stuck.is_empty() {
            eprintln!("worker: every job final {:.1}s after the second worker started", began.elapsed().as_secs_f64());
            return settled;
        }
        if began.elapsed() > SETTLE_DEADLINE {
            found.push(format!(
                "{} of {} jobs not final {}s after the second worker started:\n  {}",
                stuck.len(),
                wanted.len(),
                SETTLE_DEADLINE.as_secs(),
                stuck.iter().take(15).cloned().collect::<Vec<_>>().join("\n  ")
            ));
            return settled;
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// Readiness of both processes with Redis frozen (a hung connection: only a timeout notices),
/// thawed, killed and restarted (a new server: clients must reconnect).
fn outage(redis: &mut Redis, web: &mut Service, worker: &mut Service) -> Vec<String> {
    let mut found = Vec::new();
    if let Err(e) = redis.freeze() {
        return vec![format!("cannot freeze Redis: {e}")];
    }
    found.extend(unready("Redis frozen", web, worker));
    if let Err(e) = redis.thaw() {
        return [found, vec![format!("cannot thaw Redis: {e}")]].concat();
    }
    found.extend(ready_again("Redis thawed", web, worker));
    if let Err(e) = redis.down() {
        return [found, vec![format!("cannot stop Redis: {e}")]].concat();
    }
    found.extend(unready("Redis stopped", web, worker));
    let sent = "e2e-jobs-redis-down";
    match post_jobs(web.port(), br#"{"name":"while down"}"#, sent) {
        Ok(r) => found.extend(contract::error_problems("POST /jobs with Redis stopped", &r, 503, "unavailable", sent)),
        Err(e) => found.push(format!("POST /jobs with Redis stopped: {e}")),
    }
    if let Err(e) = redis.up() {
        return [found, vec![format!("cannot start Redis again: {e}")]].concat();
    }
    found.extend(ready_again("Redis restarted", web, worker));
    found
}

fn unready(when: &str, web: &mut Service, worker: &mut Service) -> Vec<String> {
    let mut found = Vec::new();
    for (name, service) in [("web", &mut *web), ("worker", &mut *worker)] {
        let began = Instant::now();
        let mut unready = false;
        while began.elapsed() < Duration::from_secs(5) && !unready {
            if let Some(status) = service.exited() {
                found.push(format!("{name}: exited ({status}) with {when}; it must stay up and report unready"));
                return found;
            }
            match http::get(service.port(), "/health", &[]) {
                Ok(r) if r.status == 200 => {}
                Ok(r) => found.push(format!("{name}: with {when}, GET /health answered {}", r.status)),
                Err(e) => found.push(format!("{name}: with {when}, GET /health: {e}")),
            }
            let sent = "e2e-worker-outage";
            match http::get(service.port(), "/ready", &[("X-Request-Id", sent)]) {
                Ok(r) if r.status == 503 => {
                    unready = true;
                    found.extend(contract::error_problems(
                        &format!("{name} GET /ready with {when}"),
                        &r,
                        503,
                        "unavailable",
                        sent,
                    ));
                    if !r.text().to_lowercase().contains("redis") {
                        found.push(format!("{name}: with {when}, the 503 of /ready does not name redis: {}", r.text()));
                    }
                }
                Ok(_) => thread::sleep(Duration::from_millis(100)),
                Err(e) => found.push(format!("{name}: with {when}, GET /ready: {e}")),
            }
            if found.len() > 5 {
                return found;
            }
        }
        if !unready {
            found.push(format!("{name}: with {when}, /ready did not answer 503 within 5s"));
        }
    }
    found
}

fn ready_again(when: &str, web: &mut Service, worker: &mut Service) -> Vec<String> {
    let mut found = Vec::new();
    for (name, service) in [("web", &mut *web), ("worker", &mut *worker)] {
        let began = Instant::now();
        loop {
            if let Some(status) = service.exited() {
                found.push(format!("{name}: exited ({status}) after {when}"));
                break;
            }
            match http::get(service.port(), "/ready", &[]) {
                Ok(r) if r.status == 200 => break,
                _ if began.elapsed() > Duration::from_secs(15) => {
                    found.push(format!("{name}: with {when}, /ready did not answer 200 within 15s"));
                    break;
                }
                _ => thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    found
}

/// One worker process's stdout, judged line by line, with the job lines counted by message.
struct Run {
    /// (message, job id) → number of lines.
    counts: BTreeMap<(String, String), usize>,
    /// Job lines in order: (line index, message, job id).
    job_lines: Vec<(usize, String, String)>,
    problems: Vec<String>,
}

impl Run {
    fn read(name: &str, lines: &[String]) -> Run {
        let mut run = Run { counts: BTreeMap::new(), job_lines: Vec::new(), problems: Vec::new() };
        run.problems.extend(logs::problems(lines).into_iter().take(10).map(|p| format!("{name}: {p}")));
        let mut lifecycle = BTreeSet::new();
        for (index, line) in lines.iter().enumerate() {
            let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(line) else { continue };
            let message = fields.get("message").and_then(Value::as_str).unwrap_or_default().to_string();
            if ["worker started", "worker stopped"].contains(&message.as_str()) {
                lifecycle.insert(message.clone());
            }
            let Some(required) = job_fields(&message) else {
                if fields.contains_key("job_id") && !fields.contains_key("path") {
                    // Any other line about a job must still say which job and queue.
                    if fields.get("queue").and_then(Value::as_str).is_none() {
                        run.problems.push(format!("{name}: stdout line {} has job_id but no queue: {line}", index + 1));
                    }
                }
                continue;
            };
            match line_problems(&fields, required) {
                Ok(id) => {
                    *run.counts.entry((message.clone(), id.clone())).or_default() += 1;
                    run.job_lines.push((index, message, id));
                }
                Err(e) => run.problems.push(format!("{name}: stdout line {}: {e}: {}", index + 1, clip(line))),
            }
        }
        for message in ["worker started", "worker stopped"] {
            if !lifecycle.contains(message) {
                run.problems.push(format!("{name}: no {message:?} line on stdout"));
            }
        }
        run
    }

    fn count(&self, message: &str) -> usize {
        self.counts.iter().filter(|((m, _), _)| m == message).map(|(_, n)| n).sum()
    }

    fn count_for(&self, message: &str, id: &str) -> usize {
        self.counts.get(&(message.to_string(), id.to_string())).copied().unwrap_or(0)
    }
}

/// The fields a job line with `message` must carry beside job_id and queue.
fn job_fields(message: &str) -> Option<&'static [&'static str]> {
    match message {
        "job started" => Some(&["attempt"]),
        "job done" => Some(&["attempt", "duration_ms"]),
        "job retried" | "job failed" => Some(&["attempt", "error"]),
        _ => None,
    }
}

/// The job id of a job line, or what is wrong with it.
fn line_problems(fields: &Map<String, Value>, required: &[&str]) -> Result<String, String> {
    let id = match fields.get("job_id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err("a job line without a non-empty string `job_id`".into()),
    };
    if fields.get("queue").and_then(Value::as_str) != Some("default") {
        return Err(format!("job line's `queue` is {:?}, not \"default\"", fields.get("queue")));
    }
    for &key in required {
        let ok = match key {
            "attempt" => fields.get(key).and_then(Value::as_u64).is_some_and(|n| n >= 1),
            "duration_ms" => fields.get(key).is_some_and(Value::is_number),
            _ => fields.get(key).and_then(Value::as_str).is_some_and(|s| !s.is_empty()),
        };
        if !ok {
            return Err(format!("job line without a valid `{key}`"));
        }
    }
    Ok(id)
}

fn clip(text: &str) -> String {
    text.chars().take(300).collect()
}

/// At least once, from the logs and the final states.
fn delivery(jobs: &Jobs, runs: &[Run; 2], settled: &BTreeMap<String, Job>) -> Vec<String> {
    let mut found = Vec::new();
    let known: BTreeSet<&String> = jobs.succeeding().chain(&jobs.doomed).chain(&jobs.others).collect();
    let done = |id: &str| runs.iter().map(|r| r.count_for("job done", id)).sum::<usize>();
    let lost: Vec<&String> = jobs.succeeding().filter(|id| done(id) == 0).collect();
    if !lost.is_empty() {
        found.push(format!(
            "{} of {} jobs have no \"job done\" line in either worker's log (lost, or logged without their job_id): {}",
            lost.len(),
            jobs.succeeding().count(),
            lost.iter().take(10).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let twice = jobs.succeeding().filter(|id| done(id) > 1).count();
    if twice > 0 {
        eprintln!("worker: {twice} jobs were done more than once (allowed: at-least-once)");
    }
    for run in runs {
        let strangers: BTreeSet<&String> =
            run.job_lines.iter().map(|(_, _, id)| id).filter(|id| !known.contains(id)).collect();
        if !strangers.is_empty() {
            found.push(format!(
                "job lines carry job_ids that POST /jobs never returned: {}",
                strangers.iter().take(5).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if let Some(long) = &jobs.long {
        if runs[1].count_for("job done", long) == 0 {
            found.push(format!(
                "the {LONG_MS} ms job {long}, running at SIGTERM and longer than SHUTDOWN_TIMEOUT, was not done by the \
                 second worker (put back and run again)"
            ));
        }
        if let Some(job) = settled.get(long)
            && job.attempts < 2
        {
            found.push(format!("the interrupted long job ends with attempts {}, expected at least 2", job.attempts));
        }
    }
    for id in &jobs.short {
        if let Some(job) = settled.get(id)
            && (job.attempts < 1 || job.error.is_some())
        {
            found.push(format!("done job {id} has attempts {} and error {:?}", job.attempts, job.error));
            break;
        }
    }
    if let Some(doomed) = &jobs.doomed {
        if let Some(job) = settled.get(doomed)
            && (job.attempts != 3 || job.error.as_deref() != Some("failed on purpose"))
        {
            found.push(format!(
                "the fail:true job ends with attempts {} and error {:?}, expected 3 and \"failed on purpose\"",
                job.attempts, job.error
            ));
        }
        let (retried, failed, done) = (
            runs[1].count_for("job retried", doomed),
            runs[1].count_for("job failed", doomed),
            runs[1].count_for("job done", doomed),
        );
        if (retried, failed, done) != (2, 1, 0) {
            found.push(format!(
                "the fail:true job {doomed} has {retried} \"job retried\", {failed} \"job failed\" and {done} \"job done\" \
                 lines, expected 2, 1 and 0"
            ));
        }
    }
    found
}

/// The first worker's metrics, scraped just before SIGTERM, against its logs: the counter cannot
/// exceed the "job done" lines, and only the jobs running at SIGTERM may finish after it. No job
/// may start after SIGTERM.
fn first_run_metrics(first: &FirstRun, run: &Run) -> Vec<String> {
    let mut found = Vec::new();
    let started_after = run
        .job_lines
        .iter()
        .filter(|(index, message, _)| *index >= first.lines_before_sigterm && message == "job started")
        .count();
    // Lines written just before the signal may still have been in the pipe.
    if started_after > CONCURRENCY {
        found.push(format!(
            "first worker: {started_after} \"job started\" lines after SIGTERM: it must stop taking jobs at once"
        ));
    }
    let Some(scrape) = &first.scrape else { return found };
    let counted = scrape.value("jobs_total", &[("queue", "default"), ("outcome", "done")]);
    let logged = run.count("job done");
    #[allow(clippy::cast_precision_loss)]
    let (logged_f, slack) = (logged as f64, (2 * CONCURRENCY) as f64);
    if counted > logged_f || logged_f - counted > slack {
        found.push(format!(
            "first worker: jobs_total{{outcome=\"done\"}} was {counted} just before SIGTERM, but its log has {logged} \
             \"job done\" lines in all (at most the {CONCURRENCY} running jobs may finish after the scrape)"
        ));
    }
    found
}

/// The second worker's metrics once every job was final: exactly its log lines.
fn second_run_metrics(scrape: &Scrape, run: &Run) -> Vec<String> {
    let mut found = Vec::new();
    for (outcome, message) in [("done", "job done"), ("failed", "job failed"), ("retried", "job retried")] {
        let counted = scrape.value("jobs_total", &[("queue", "default"), ("outcome", outcome)]);
        let logged = run.count(message);
        #[allow(clippy::cast_precision_loss)]
        if (counted - logged as f64).abs() > f64::EPSILON {
            found.push(format!(
                "second worker: jobs_total{{queue=\"default\",outcome=\"{outcome}\"}} is {counted}, but its log has \
                 {logged} {message:?} lines"
            ));
        }
    }
    found.extend(histogram_problems(scrape, run.count("job done")));
    found
}

/// job_duration_seconds: the contract's buckets and a count for outcome done equal to `done`.
fn histogram_problems(scrape: &Scrape, done: usize) -> Vec<String> {
    let mut found = Vec::new();
    let name = "job_duration_seconds";
    if scrape.types.get(name).map(String::as_str) != Some("histogram") {
        found.push(format!("worker /metrics: {name} is not declared a histogram ({:?})", scrape.types.get(name)));
    }
    let mut bounds: Vec<f64> = scrape
        .named("job_duration_seconds_bucket")
        .filter(|s| s.labels.get("outcome").map(String::as_str) == Some("done"))
        .filter_map(|s| {
            s.labels.get("le").and_then(|le| if le == "+Inf" { Some(f64::INFINITY) } else { le.parse().ok() })
        })
        .collect();
    bounds.sort_by(f64::total_cmp);
    let mut expected = BUCKETS.to_vec();
    expected.push(f64::INFINITY);
    if bounds != expected {
        found.push(format!("{name}{{outcome=\"done\"}} has buckets {bounds:?}, the contract says {expected:?}"));
    }
    let count = scrape.value("job_duration_seconds_count", &[("queue", "default"), ("outcome", "done")]);
    #[allow(clippy::cast_precision_loss)]
    if (count - done as f64).abs() > f64::EPSILON {
        found.push(format!("{name}_count{{queue=\"default\",outcome=\"done\"}} is {count}, but {done} jobs were done"));
    }
    found
}

#[test]
fn parses_jobs_and_names_what_is_wrong() {
    let job =
        Job::parse(&json!({"id": "a-1", "name": "n", "state": "failed", "attempts": 3, "error": "boom"})).unwrap();
    assert_eq!((job.state.as_str(), job.attempts, job.error.as_deref()), ("failed", 3, Some("boom")));
    let queued = Job::parse(&json!({"id": "a", "name": "n", "state": "queued", "attempts": 0, "error": null})).unwrap();
    assert_eq!(queued.error, None);
    let err = Job::parse(&json!({"id": "a", "state": "queued", "attempts": "0"})).unwrap_err();
    assert!(err.contains("`name`") && err.contains("`attempts`") && err.contains("`error`"), "{err}");
    assert!(Job::parse(&json!({"id": "a", "name": "n", "state": "lost", "attempts": 0, "error": null})).is_err());
    assert!(Job::parse(&json!({"id": "a/b", "name": "n", "state": "done", "attempts": 1, "error": null})).is_err());
    assert!(Job::parse(&json!([1])).is_err());
}

#[test]
fn counts_job_lines_and_rejects_incomplete_ones() {
    let t = r#""timestamp":"2026-12-01T12:00:00Z","level":"info""#;
    let lines: Vec<String> = [
        format!(r#"{{{t},"message":"worker started"}}"#),
        format!(r#"{{{t},"message":"job started","job_id":"j1","queue":"default","attempt":1}}"#),
        format!(r#"{{{t},"message":"job done","job_id":"j1","queue":"default","attempt":1,"duration_ms":300.5}}"#),
        format!(r#"{{{t},"message":"job retried","job_id":"j2","queue":"default","attempt":1,"error":"x"}}"#),
        format!(r#"{{{t},"message":"job done","job_id":"j3","queue":"default","attempt":1}}"#),
        format!(r#"{{{t},"message":"job failed","job_id":"j2","queue":"other","attempt":3,"error":"x"}}"#),
        format!(r#"{{{t},"message":"job heartbeat","job_id":"j2"}}"#),
        "not json".to_string(),
    ]
    .into();
    let run = Run::read("w", &lines);
    assert_eq!(run.count("job done"), 1);
    assert_eq!(run.count_for("job retried", "j2"), 1);
    assert_eq!(run.job_lines.iter().map(|(i, _, _)| *i).collect::<Vec<_>>(), [1, 2, 3]);
    let problems = run.problems.join("\n");
    assert!(problems.contains("line 5: job line without a valid `duration_ms`"), "{problems}");
    assert!(problems.contains("line 6: job line's `queue`"), "{problems}");
    assert!(problems.contains("line 7 has job_id but no queue"), "{problems}");
    assert!(problems.contains("stdout line 8: not JSON"), "{problems}");
    assert!(problems.contains("no \"worker stopped\" line"), "{problems}");
    assert!(!problems.contains("no \"worker started\" line"), "{problems}");
}

#[test]
fn compares_metrics_with_log_lines() {
    let t = r#""timestamp":"2026-12-01T12:00:00Z","level":"info""#;
    let done = |id: &str| {
        format!(r#"{{{t},"message":"job done","job_id":"{id}","queue":"default","attempt":1,"duration_ms":1}}"#)
    };
    let lines = vec![done("a"), done("b")];
    let run = Run::read("w", &lines);
    let mut exposition = String::from("# TYPE jobs_total counter\n# TYPE job_duration_seconds histogram\n");
    for (outcome, value) in [("done", 2), ("failed", 0), ("retried", 0)] {
        exposition.push_str(&format!("jobs_total{{queue=\"default\",outcome=\"{outcome}\"}} {value}\n"));
    }
    for le in ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"] {
        exposition
            .push_str(&format!("job_duration_seconds_bucket{{queue=\"default\",outcome=\"done\",le=\"{le}\"}} 2\n"));
    }
    exposition.push_str("job_duration_seconds_count{queue=\"default\",outcome=\"done\"} 2\n");
    let scrape = Scrape::parse(&exposition).unwrap();
    assert_eq!(second_run_metrics(&scrape, &run), Vec::<String>::new());
    let fewer = Run::read("w", &lines[..1]);
    let found = second_run_metrics(&scrape, &fewer);
    assert_eq!(found.len(), 2, "{found:?}");
    let wrong_buckets = Scrape::parse(&exposition.replace("le=\"30\"", "le=\"20\"")).unwrap();
    assert!(histogram_problems(&wrong_buckets, 2)[0].contains("buckets"));
    let first = FirstRun { lines: lines.clone(), scrape: Some(scrape), lines_before_sigterm: 0 };
    assert_eq!(first_run_metrics(&first, &run), Vec::<String>::new());
    let counted_more = FirstRun { scrape: Scrape::parse(&exposition.replace("} 2\n", "} 3\n")).ok(), ..first };
    assert_eq!(first_run_metrics(&counted_more, &run).len(), 1);
}
