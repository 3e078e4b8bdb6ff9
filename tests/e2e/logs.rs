//! The log contract of SPEC §6 (XI) applied to what a service printed on stdout: every line is one
//! JSON object with an RFC 3339 `timestamp`, a lower-case `level` and a `message`; access lines
//! (those with a `path`) also carry `method`, `path`, `status`, `duration_ms` and `request_id`.

use regex::Regex;
use serde_json::{Map, Value};

/// Every violation in `lines`, each naming the line number and quoting the line. A load run
/// leaves a hundred thousand lines and more, so they are judged on two threads.
pub fn problems(lines: &[String]) -> Vec<String> {
    if lines.is_empty() {
        return vec!["stdout is empty: no log line at all".to_string()];
    }
    let half = lines.len().div_ceil(2);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| chunk_problems(&lines[half..], half));
        let mut found = chunk_problems(&lines[..half], 0);
        found.extend(second.join().unwrap_or_else(|_| vec!["judging the log lines panicked".into()]));
        found
    })
}

/// The violations in `lines`, which start at line `offset` (0-based) of the output.
fn chunk_problems(lines: &[String], offset: usize) -> Vec<String> {
    let timestamp = Regex::new(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$").unwrap();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let complaints = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(fields)) => line_problems(&fields, &timestamp),
            Ok(_) => vec!["not a JSON object".to_string()],
            Err(e) => vec![format!("not JSON ({e})")],
        };
        if !complaints.is_empty() {
            let shown: String = line.chars().take(300).collect();
            found.push(format!("stdout line {}: {}: {shown}", offset + index + 1, complaints.join("; ")));
        }
    }
    found
}

/// The access lines (objects with a `path`) of `lines`.
pub fn access_lines(lines: &[String]) -> Vec<Map<String, Value>> {
    lines
        .iter()
        .filter_map(|line| match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(fields)) if fields.contains_key("path") => Some(fields),
            _ => None,
        })
        .collect()
}

fn line_problems(fields: &Map<String, Value>, timestamp: &Regex) -> Vec<String> {
    let mut found = Vec::new();
    match fields.get("timestamp").and_then(Value::as_str) {
        Some(t) if timestamp.is_match(t) => {}
        Some(t) => found.push(format!("timestamp {t:?} is not RFC 3339")),
        None => found.push("no string `timestamp`".into()),
    }
    match fields.get("level").and_then(Value::as_str) {
        Some(l) if !l.is_empty() && l == l.to_lowercase() => {}
        Some(l) => found.push(format!("level {l:?} is not lower-case")),
        None => found.push("no string `level`".into()),
    }
    if !fields.get("message").is_some_and(Value::is_string) {
        found.push("no string `message`".into());
    }
    if fields.contains_key("path") {
        for key in ["method", "path", "request_id"] {
            if fields.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                found.push(format!("access line without a non-empty string `{key}`"));
            }
        }
        for key in ["status", "duration_ms"] {
            if !fields.get(key).is_some_and(Value::is_number) {
                found.push(format!("access line without a number `{key}`"));
            }
        }
    }
    found
}

#[test]
fn accepts_well_formed_lines() {
    let lines = [
        r#"{"timestamp":"2026-11-28T06:00:00.123Z","level":"info","message":"listening","port":8080}"#,
        r#"{"timestamp":"2026-11-28T06:00:01+00:00","level":"info","message":"request","method":"GET","path":"/health","status":200,"duration_ms":0.4,"request_id":"abc"}"#,
    ]
    .map(String::from);
    assert_eq!(problems(&lines), Vec::<String>::new());
    assert_eq!(access_lines(&lines).len(), 1);
}

#[test]
fn names_each_bad_line_and_what_is_wrong() {
    let lines = [
        "Started server".to_string(),
        r#"{"timestamp":"yesterday","level":"INFO","msg":"x"}"#.to_string(),
        r#"{"timestamp":"2026-11-28T06:00:00Z","level":"info","message":"r","path":"/","status":"200","method":"GET","duration_ms":1}"#.to_string(),
    ];
    let found = problems(&lines);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("stdout line 1: not JSON"));
    assert!(found[1].contains("not RFC 3339") && found[1].contains("not lower-case") && found[1].contains("`message`"));
    assert!(found[2].contains("`request_id`") && found[2].contains("number `status`"));
    assert_eq!(problems(&[]), ["stdout is empty: no log line at all"]);
}
