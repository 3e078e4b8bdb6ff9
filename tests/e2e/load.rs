//! A load run with wrk (Debian package `wrk`): 64 connections for 10 s on one route
//! (`GET /items/{id}` with a database, `/health` without). It must end with zero socket errors and
//! zero non-2xx responses: wrk counts statuses of 400 and above itself, and the service's own
//! counter must not have moved for any non-2xx status of that route. Throughput and latency
//! percentiles are figures for docs/stacks.md, never thresholds.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::{command, metrics};

/// Open connections during the run.
pub const CONNECTIONS: u32 = 64;

/// Length of the run.
pub const SECONDS: u32 = 10;

/// What one run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Completed requests per second.
    pub requests_per_sec: f64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: f64,
}

/// wrk's summary as JSON, printed by the script's `done` (no per-request Lua, so no slowdown).
const SCRIPT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#;

/// Runs wrk against `route` on `port`; returns the problems and, when it ran, the figures.
pub fn run(port: u16, route: &str, route_template: &str) -> (Vec<String>, Option<Figures>) {
    let Some(wrk) = which("wrk") else {
        return (vec!["wrk not found on PATH: install the Debian package `wrk` (scripts/test does)".into()], None);
    };
    let dir = match tempfile::Builder::new().prefix("dozen-e2e-wrk.").tempdir() {
        Ok(dir) => dir,
        Err(e) => return (vec![format!("cannot create a temporary directory: {e}")], None),
    };
    let script = dir.path().join("summary.lua");
    if let Err(e) = std::fs::write(&script, SCRIPT) {
        return (vec![format!("cannot write {}: {e}", script.display())], None);
    }
    let before = metrics::scrape(port);
    let mut cmd = Command::new(wrk);
    cmd.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{SECONDS}s"), "--timeout", "5s", "-s"])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}{route}"));
    let done = match command::run_ok(&mut cmd, Duration::from_secs(u64::from(SECONDS) + 60)) {
        Ok(done) => done,
        Err(e) => return (vec![format!("wrk: {e}")], None),
    };
    let Some(summary) = done.stdout.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok()) else {
        return (vec![format!("wrk printed no summary:\n{}", command::tail(&done.output(), 20))], None);
    };
    let mut found = summary_problems(route, &summary);
    match (before, metrics::scrape(port)) {
        (Ok(before), Ok(after)) => found.extend(non_2xx(&before, &after, route, route_template)),
        (Err(e), _) | (_, Err(e)) => found.push(format!("around the load run: {e}")),
    }
    let number = |key: &str| summary.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let seconds = number("duration_us") / 1e6;
    let figures = (seconds > 0.0).then(|| Figures {
        requests_per_sec: (number("requests") / seconds).round(),
        p50_ms: (number("p50_us") / 100.0).round() / 10.0,
        p99_ms: (number("p99_us") / 100.0).round() / 10.0,
    });
    (found, figures)
}

/// Socket errors and error statuses in wrk's summary.
fn summary_problems(route: &str, summary: &Value) -> Vec<String> {
    let count = |key: &str| summary.get(key).and_then(Value::as_u64).unwrap_or(0);
    let mut found = Vec::new();
    let errors: Vec<String> = ["connect", "read", "write", "timeout"]
        .iter()
        .filter(|k| count(k) > 0)
        .map(|k| format!("{k} {}", count(k)))
        .collect();
    if !errors.is_empty() {
        found.push(format!(
            "wrk -c{CONNECTIONS} -d{SECONDS}s GET {route}: socket errors: {} (of {} requests)",
            errors.join(", "),
            count("requests")
        ));
    }
    if count("status") > 0 {
        found.push(format!(
            "wrk -c{CONNECTIONS} -d{SECONDS}s GET {route}: {} responses of status 400 or above (of {} requests)",
            count("status"),
            count("requests")
        ));
    }
    if count("requests") == 0 {
        found.push(format!("wrk -c{CONNECTIONS} -d{SECONDS}s GET {route}: no request completed"));
    }
    found
}

/// Statuses other than 2xx that the service counted for `template` during the run.
fn non_2xx(before: &metrics::Scrape, after: &metrics::Scrape, route: &str, template: &str) -> Vec<String> {
    let mut found = Vec::new();
    for sample in after.named(metrics::COUNTER) {
        let status = sample.labels.get("status").map_or("", String::as_str);
        if sample.labels.get("route").map(String::as_str) != Some(template)
            || sample.labels.get("method").map(String::as_str) != Some("GET")
            || status.starts_with('2')
        {
            continue;
        }
        let labels = [("method", "GET"), ("route", template), ("status", status)];
        let delta = sample.value - before.value(metrics::COUNTER, &labels);
        if delta > 0.0 {
            found.push(format!(
                "during the load run on GET {route} the service counted {delta} responses of status {status}"
            ));
        }
    }
    found
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

#[test]
fn a_clean_summary_passes_and_errors_are_named() {
    let clean = serde_json::json!({"requests": 1000, "connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0});
    assert_eq!(summary_problems("/health", &clean), Vec::<String>::new());
    let mut bad = clean.clone();
    bad["read"] = 3.into();
    bad["status"] = 7.into();
    let found = summary_problems("/health", &bad);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("read 3") && found[1].contains("7 responses"), "{found:#?}");
}

#[test]
fn non_2xx_counts_during_the_run_are_found() {
    let scrape = |n: u32| {
        metrics::Scrape::parse(&format!(
            "http_requests_total{{method=\"GET\",route=\"/items/{{id}}\",status=\"200\"}} {}\nhttp_requests_total{{method=\"GET\",route=\"/items/{{id}}\",status=\"503\"}} {n}\n",
            1000 + n
        ))
        .unwrap()
    };
    assert!(non_2xx(&scrape(2), &scrape(2), "/items/1", "/items/{id}").is_empty());
    let found = non_2xx(&scrape(2), &scrape(5), "/items/1", "/items/{id}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("3 responses of status 503"), "{found:#?}");
}
