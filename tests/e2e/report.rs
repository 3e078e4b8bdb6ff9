//! The figures docs/stacks.md quotes, written by real runs: `<cache>/stacks-report.json` holds, per
//! stack and database choice, the time from spawn to the first 200 on `/ready`, the idle resident
//! memory, the throughput and latency of the wrk load run, the image bases of the generated
//! Dockerfile, when it was measured and on how many cores. Each run replaces only its own entries, so running one stack keeps the others' figures.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::live::Measured;
use crate::stack::Stack;

/// Records `measured` for `stack` with `db`; `dir` is the generated project it was measured on.
pub fn record(cache: &Path, stack: &Stack, db: &str, measured: &Measured, dir: &Path) -> Result<(), String> {
    let path = cache.join("stacks-report.json");
    let mut report: Value =
        std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_else(|| json!({}));
    if !report.is_object() {
        report = json!({});
    }
    let images = std::fs::read_to_string(dir.join("Dockerfile")).map(|text| image_bases(&text)).unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut entry = json!({
        "start_to_ready_ms": u64::try_from(measured.start_to_ready.as_millis()).unwrap_or(u64::MAX),
        "idle_rss_mib": (measured.idle_rss_mib * 10.0).round() / 10.0,
        "images": images,
        "measured_at": utc_now(),
        "cores": cores,
    });
    if let Some((route, load)) = &measured.load {
        entry["load"] = json!({
            "tool": "wrk",
            "route": route,
            "connections": crate::load::CONNECTIONS,
            "seconds": crate::load::SECONDS,
            "requests_per_sec": load.requests_per_sec,
            "p50_ms": load.p50_ms,
            "p99_ms": load.p99_ms,
        });
    }
    report["stacks"][stack.name()][db] = entry;
    std::fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// The images named by the `FROM` lines of a Dockerfile (stage names excluded).
fn image_bases(dockerfile: &str) -> Vec<String> {
    let mut stages = Vec::new();
    let mut images = Vec::new();
    for line in dockerfile.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if !words.first().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
            continue;
        }
        let Some(image) = words.iter().skip(1).find(|w| !w.starts_with("--")) else { continue };
        if !stages.contains(image) && !images.contains(&image.to_string()) {
            images.push(image.to_string());
        }
        if let Some(stage) = words.iter().position(|w| w.eq_ignore_ascii_case("AS")).and_then(|at| words.get(at + 1)) {
            stages.push(*stage);
        }
    }
    images
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    civil(unix_now())
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// `seconds` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn civil(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[test]
fn image_bases_skip_stage_names_and_flags() {
    let dockerfile = "FROM --platform=$BUILDPLATFORM rust:1.95-slim AS build\nRUN x\nFROM build AS test\nfrom gcr.io/distroless/cc-debian12:nonroot\n";
    assert_eq!(image_bases(dockerfile), ["rust:1.95-slim", "gcr.io/distroless/cc-debian12:nonroot"]);
}

#[test]
fn civil_dates_are_exact_across_leap_days_and_centuries() {
    // Reference values from `date -u -d @SECONDS +%FT%TZ`.
    for (seconds, expected) in [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_799, "2000-02-29T23:59:59Z"),
        (1_709_164_800, "2024-02-29T00:00:00Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"),
        (1_798_761_599, "2026-12-31T23:59:59Z"),
        (-1, "1969-12-31T23:59:59Z"),
    ] {
        assert_eq!(civil(seconds), expected, "{seconds}");
    }
}

#[test]
fn utc_now_is_the_current_time() {
    let date = |s: i64| std::process::Command::new("date").args(["-u", "-d", &format!("@{s}"), "+%FT%TZ"]).output();
    let before = unix_now();
    let now = utc_now();
    let after = unix_now();
    // `date` is the independent judge; the clock may tick between the two readings.
    let judged: Vec<String> = (before..=after)
        .filter_map(|s| date(s).ok())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .collect();
    assert!(judged.contains(&now), "utc_now() = {now}, date -u says {judged:?}");
}

#[test]
fn record_keeps_other_entries() {
    use std::time::Duration;
    let cache = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let path = cache.path().join("stacks-report.json");
    let rust = json!({"start_to_ready_ms": 28, "idle_rss_mib": 6.2, "images": ["rust"], "note": "kept as is"});
    std::fs::write(&path, json!({"stacks": {"rust-axum": {"postgres": rust}}, "other": [1, 2]}).to_string()).unwrap();
    std::fs::write(project.path().join("Dockerfile"), "FROM golang:1.24 AS build\nFROM scratch\n").unwrap();
    let go = Stack { lang: "go", stack: "nethttp" };
    let old = Measured { start_to_ready: Duration::from_millis(999), idle_rss_mib: 1.0, load: None };
    record(cache.path(), &go, "postgres", &old, project.path()).unwrap();
    let figures = crate::load::Figures { requests_per_sec: 12_345.0, p50_ms: 1.2, p99_ms: 9.8 };
    let measured = Measured {
        start_to_ready: Duration::from_millis(1234),
        idle_rss_mib: 12.345,
        load: Some(("/items/{id}", figures)),
    };
    record(cache.path(), &go, "postgres", &measured, project.path()).unwrap();
    record(cache.path(), &go, "none", &Measured { load: None, ..measured }, project.path()).unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(report["stacks"]["rust-axum"]["postgres"], rust, "another stack's entry is untouched");
    assert_eq!(report["other"], json!([1, 2]), "keys beside `stacks` are untouched");
    let entry = &report["stacks"]["go-nethttp"]["postgres"];
    assert_eq!(entry["start_to_ready_ms"], 1234, "the second run replaced the first");
    assert_eq!(entry["idle_rss_mib"], 12.3);
    assert_eq!(entry["images"], json!(["golang:1.24", "scratch"]));
    assert_eq!(
        entry["load"],
        json!({"tool": "wrk", "route": "/items/{id}", "connections": 64, "seconds": 10,
               "requests_per_sec": 12_345.0, "p50_ms": 1.2, "p99_ms": 9.8})
    );
    assert_eq!(report["stacks"]["go-nethttp"]["none"]["start_to_ready_ms"], 1234);
    assert!(report["stacks"]["go-nethttp"]["none"].get("load").is_none());
}
