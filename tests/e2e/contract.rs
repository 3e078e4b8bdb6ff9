//! The HTTP contract of issue 12 (SPEC §6 and coord/CONTRACT.md) seen from a client: the `items`
//! resource round trip with db=postgres (create with `Location`, get, list with limit/offset),
//! every validation failure it names, and its absence with db=none; every error response, the
//! framework's own 404/405/413 included, as the JSON error body whose `request_id` is the
//! `X-Request-Id` that was sent (echoed in the header too); `X-Content-Type-Options: nosniff` on
//! every response; and the bounds of an accepted request id. Each check records its problem and
//! goes on, so one run names everything that is wrong.

use serde_json::{Value, json};

use crate::http::{self, Response};

/// The body size limit of the contract (1 MiB); the oversized body sent is a little larger.
const BODY_LIMIT: usize = 1024 * 1024;

/// What the round trip left behind for later checks.
#[derive(Debug, Default)]
pub struct Items {
    /// The id of an item that exists (for the load run and the shutdown check).
    pub existing: Option<i64>,
}

/// Checks `response` is the contract's error: `status`, JSON, `{"error": {"code", "message",
/// "request_id"}}` with `code` and the request id `sent`, which is also echoed in `X-Request-Id`,
/// and `nosniff`. `what` names the request in messages.
pub fn error_problems(what: &str, response: &Response, status: u16, code: &str, sent: &str) -> Vec<String> {
    let mut found = Vec::new();
    let shown = || format!("{} {}", response.status, clip(&response.text()));
    if response.status != status {
        found.push(format!("{what}: expected {status} `{code}`, got {}", shown()));
        return found;
    }
    let content_type = response.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        found.push(format!("{what}: {status} with Content-Type {content_type:?}, not application/json"));
    }
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(body) => {
            let error = body.get("error");
            let field = |name: &str| error.and_then(|e| e.get(name)).and_then(Value::as_str);
            if field("code") != Some(code) {
                found.push(format!("{what}: error code should be {code:?}, body was {}", clip(&response.text())));
            }
            if field("message").is_none_or(|m| m.trim().is_empty()) {
                found.push(format!("{what}: error body has no `error.message` text: {}", clip(&response.text())));
            }
            if field("request_id") != Some(sent) {
                found.push(format!(
                    "{what}: error body's `request_id` should be the X-Request-Id sent ({sent:?}), body was {}",
                    clip(&response.text())
                ));
            }
            if body.as_object().is_some_and(|o| o.len() != 1) {
                found.push(format!("{what}: error body has keys beside `error`: {}", clip(&response.text())));
            }
        }
        Err(_) => found.push(format!("{what}: {status} body is not JSON: {}", clip(&response.text()))),
    }
    found.extend(header_problems(what, response, Some(sent)));
    found
}

/// `X-Request-Id` echoed (when `sent`) and `X-Content-Type-Options: nosniff`, on any response.
pub fn header_problems(what: &str, response: &Response, sent: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(sent) = sent
        && response.header("x-request-id") != Some(sent)
    {
        found.push(format!(
            "{what}: X-Request-Id {sent:?} sent, {:?} echoed on the {} response",
            response.header("x-request-id"),
            response.status
        ));
    }
    if !response.header("x-content-type-options").is_some_and(|v| v.eq_ignore_ascii_case("nosniff")) {
        found.push(format!(
            "{what}: the {} response has X-Content-Type-Options {:?}, not `nosniff`",
            response.status,
            response.header("x-content-type-options")
        ));
    }
    found
}

/// Numbers the request ids this module sends, so each message names a unique one.
struct Ids {
    prefix: String,
    next: usize,
}

impl Ids {
    fn new(prefix: &str) -> Ids {
        Ids { prefix: format!("{prefix}-{}", std::process::id()), next: 0 }
    }

    fn next(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.prefix, self.next)
    }
}

/// Sends one request with a fresh request id; returns the id and the outcome.
fn send(
    port: u16,
    ids: &mut Ids,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&[u8]>,
) -> (String, Result<Response, http::Error>) {
    let id = ids.next();
    let mut headers = vec![("X-Request-Id", id.as_str())];
    if let Some(content_type) = content_type {
        headers.push(("Content-Type", content_type));
    }
    let outcome = http::request(port, method, path, &headers, body);
    (id, outcome)
}

/// A request that must fail with the error body `status` / `code`.
fn expect_error(
    port: u16,
    ids: &mut Ids,
    request: (&str, &str, Option<&[u8]>),
    status: u16,
    code: &str,
) -> Vec<String> {
    let (method, path, body) = request;
    let what = match body {
        Some(body) if body.len() > 200 => format!("{method} {path} with a {}-byte body", body.len()),
        Some(body) => format!("{method} {path} {}", String::from_utf8_lossy(body)),
        None => format!("{method} {path}"),
    };
    let content_type = body.map(|_| "application/json");
    match send(port, ids, method, path, content_type, body) {
        (id, Ok(response)) => error_problems(&what, &response, status, code, &id),
        (_, Err(e)) => vec![format!("{what}: {e}")],
    }
}

/// Errors every service has, whatever its database: an unknown path, a wrong method, a request id
/// taken within bounds and replaced beyond them, and `nosniff` and the echo on successes.
pub fn common(port: u16) -> Vec<String> {
    let mut ids = Ids::new("e2e-common");
    let mut found = Vec::new();
    found.extend(expect_error(port, &mut ids, ("GET", "/no/such/path", None), 404, "not_found"));
    found.extend(expect_error(port, &mut ids, ("DELETE", "/health", None), 405, "method_not_allowed"));
    found.extend(expect_error(port, &mut ids, ("POST", "/ready", Some(b"{}")), 405, "method_not_allowed"));
    for path in ["/health", "/ready", "/metrics", "/openapi.json"] {
        match send(port, &mut ids, "GET", path, None, None) {
            (id, Ok(response)) if response.status == 200 => {
                found.extend(header_problems(&format!("GET {path}"), &response, Some(&id)));
            }
            (_, Ok(response)) => found.push(format!("GET {path}: expected 200, got {}", response.status)),
            (_, Err(e)) => found.push(format!("GET {path}: {e}")),
        }
    }
    let longest = "x".repeat(128);
    match http::get(port, "/health", &[("X-Request-Id", &longest)]) {
        Ok(r) if r.header("x-request-id") == Some(longest.as_str()) => {}
        Ok(r) => found.push(format!(
            "a 128-character X-Request-Id (the longest allowed) was not echoed; got {:?}",
            r.header("x-request-id")
        )),
        Err(e) => found.push(format!("GET /health with a 128-character X-Request-Id: {e}")),
    }
    let too_long = "y".repeat(129);
    match http::get(port, "/health", &[("X-Request-Id", &too_long)]) {
        Ok(r) if r.header("x-request-id").is_some_and(|id| !id.is_empty() && id != too_long) => {}
        Ok(r) => found.push(format!(
            "a 129-character X-Request-Id must be replaced by a generated one, got {:?}",
            r.header("x-request-id").map(clip)
        )),
        Err(e) => found.push(format!("GET /health with a 129-character X-Request-Id: {e}")),
    }
    found
}

/// With db=none the resource is absent: `/items` and `/items/{id}` are the JSON 404.
pub fn absent(port: u16) -> Vec<String> {
    let mut ids = Ids::new("e2e-absent");
    let mut found = Vec::new();
    found.extend(expect_error(port, &mut ids, ("GET", "/items", None), 404, "not_found"));
    found.extend(expect_error(port, &mut ids, ("GET", "/items/1", None), 404, "not_found"));
    found.extend(expect_error(port, &mut ids, ("POST", "/items", Some(br#"{"name":"x"}"#)), 404, "not_found"));
    found
}

/// The round trip and every validation failure of the resource (db=postgres).
pub fn items(port: u16) -> (Vec<String>, Items) {
    let mut ids = Ids::new("e2e-items");
    let mut found = Vec::new();
    let mut created = Vec::new();
    let names = ["first item".to_string(), "é".repeat(200), "ünïcödé ✓ third".to_string()];
    for name in &names {
        match create(port, &mut ids, name) {
            Ok(item) => created.push(item),
            Err(problems) => found.extend(problems),
        }
    }
    for item in &created {
        let id = item["id"].as_i64().unwrap_or_default();
        match send(port, &mut ids, "GET", &format!("/items/{id}"), None, None) {
            (rid, Ok(r)) if r.status == 200 => {
                found.extend(header_problems(&format!("GET /items/{id}"), &r, Some(&rid)));
                match r.json() {
                    Some(body) if body == *item => {}
                    _ => {
                        found
                            .push(format!("GET /items/{id}: body {} differs from the created {item}", clip(&r.text())));
                    }
                }
            }
            (_, Ok(r)) => found.push(format!("GET /items/{id}: expected 200, got {} {}", r.status, clip(&r.text()))),
            (_, Err(e)) => found.push(format!("GET /items/{id}: {e}")),
        }
    }
    found.extend(listing(port, &mut ids, &created));
    found.extend(validation(port, &mut ids));
    let existing = created.first().and_then(|item| item["id"].as_i64());
    (found, Items { existing })
}

/// POST /items with `name`: 201, `Location`, the item's shape. Returns the item.
fn create(port: u16, ids: &mut Ids, name: &str) -> Result<Value, Vec<String>> {
    let what = format!("POST /items {{\"name\": {:?}}}", clip(name));
    let body = json!({ "name": name }).to_string();
    let (rid, outcome) = send(port, ids, "POST", "/items", Some("application/json"), Some(body.as_bytes()));
    let response = outcome.map_err(|e| vec![format!("{what}: {e}")])?;
    if response.status != 201 {
        return Err(vec![format!("{what}: expected 201, got {} {}", response.status, clip(&response.text()))]);
    }
    let mut found = header_problems(&what, &response, Some(&rid));
    let Some(item) = response.json() else {
        found.push(format!("{what}: 201 body is not JSON: {}", clip(&response.text())));
        return Err(found);
    };
    found.extend(item_problems(&what, &item, name));
    let id = item["id"].as_i64().unwrap_or_default();
    if response.header("location") != Some(format!("/items/{id}").as_str()) {
        found.push(format!("{what}: Location should be /items/{id}, was {:?}", response.header("location")));
    }
    if found.is_empty() { Ok(item) } else { Err(found) }
}

/// An item is exactly `{"id": positive int, "name": name, "created_at": RFC 3339}`.
fn item_problems(what: &str, item: &Value, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let keys: Vec<&String> = item.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    let mut sorted = keys.clone();
    sorted.sort();
    if sorted != ["created_at", "id", "name"] {
        found.push(format!("{what}: an item has exactly id, name and created_at; got keys {keys:?} in {item}"));
    }
    if item["id"].as_i64().is_none_or(|id| id <= 0) {
        found.push(format!("{what}: `id` should be a positive integer, was {}", item["id"]));
    }
    if item["name"].as_str() != Some(name) {
        found.push(format!("{what}: `name` came back as {}", clip(&item["name"].to_string())));
    }
    if !item["created_at"].as_str().is_some_and(is_rfc3339) {
        found.push(format!("{what}: `created_at` should be an RFC 3339 date-time, was {}", item["created_at"]));
    }
    found
}

/// RFC 3339 `date-time`: full date, `T` (or `t`/space is not allowed here), time with optional
/// fraction, and `Z` or a numeric offset.
pub fn is_rfc3339(text: &str) -> bool {
    let pattern =
        regex::Regex::new(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$")
            .unwrap();
    let Some(c) = pattern.captures(text) else { return false };
    let number = |i: usize| c.get(i).map_or(0, |m| m.as_str().parse::<u32>().unwrap_or(99));
    (1..=12).contains(&number(2))
        && (1..=31).contains(&number(3))
        && number(4) < 24
        && number(5) < 60
        && number(6) < 61
        && number(9) < 24
        && number(10) < 60
}

/// `GET /items` with its defaults, a page by limit and offset, and ascending ids.
fn listing(port: u16, ids: &mut Ids, created: &[Value]) -> Vec<String> {
    let mut found = Vec::new();
    let list = |ids: &mut Ids, query: &str, found: &mut Vec<String>| list_page(port, ids, query, found);
    let all = list(ids, "?limit=100", &mut found);
    let default = list(ids, "", &mut found);
    let ids_of = |items: &[Value]| items.iter().map(|i| i["id"].as_i64().unwrap_or_default()).collect::<Vec<_>>();
    if let Some(all) = &all {
        let listed = ids_of(all);
        if listed.windows(2).any(|w| w[0] >= w[1]) {
            found.push(format!("GET /items?limit=100: ids should be ascending, were {listed:?}"));
        }
        for item in created {
            if !all.contains(item) {
                found.push(format!("GET /items?limit=100: the created item {item} is not listed as created"));
            }
        }
        if let Some(default) = &default {
            let expected = &all[..all.len().min(20)];
            if default.as_slice() != expected {
                found.push(format!(
                    "GET /items (limit 20, offset 0 by default) listed ids {:?}, expected {:?}",
                    ids_of(default),
                    ids_of(expected)
                ));
            }
        }
        if let (Some(first), Some(second)) = (created.first(), created.get(1))
            && let Some(at) = all.iter().position(|i| i == first)
        {
            let query = format!("?limit=1&offset={}", at + 1);
            if let Some(page) = list(ids, &query, &mut found)
                && page.as_slice() != std::slice::from_ref(second)
            {
                found.push(format!("GET /items{query}: expected exactly [{second}], got ids {:?}", ids_of(&page)));
            }
            let query = format!("?offset={at}&limit=2");
            if let Some(page) = list(ids, &query, &mut found)
                && page.as_slice() != [first.clone(), second.clone()]
            {
                found.push(format!(
                    "GET /items{query}: expected the first two created items, got ids {:?}",
                    ids_of(&page)
                ));
            }
        }
        let beyond = format!("?offset={}", all.len() + 1000);
        if let Some(page) = list(ids, &beyond, &mut found)
            && !page.is_empty()
        {
            found.push(format!("GET /items{beyond}: expected no items past the end, got ids {:?}", ids_of(&page)));
        }
    }
    found
}

/// One `GET /items{query}` that must answer 200 `{"items": [...]}`; None (and a problem) otherwise.
fn list_page(port: u16, ids: &mut Ids, query: &str, found: &mut Vec<String>) -> Option<Vec<Value>> {
    let path = format!("/items{query}");
    match send(port, ids, "GET", &path, None, None) {
        (rid, Ok(r)) if r.status == 200 => {
            found.extend(header_problems(&format!("GET {path}"), &r, Some(&rid)));
            let items = r.json().and_then(|b| b.get("items").and_then(Value::as_array).cloned());
            if items.is_none() {
                found.push(format!("GET {path}: body should be {{\"items\": [...]}}, was {}", clip(&r.text())));
            }
            items
        }
        (_, Ok(r)) => {
            found.push(format!("GET {path}: expected 200, got {} {}", r.status, clip(&r.text())));
            None
        }
        (_, Err(e)) => {
            found.push(format!("GET {path}: {e}"));
            None
        }
    }
}

/// Every invalid input the contract names, with its status and code.
fn validation(port: u16, ids: &mut Ids) -> Vec<String> {
    let mut found = Vec::new();
    let too_long = json!({ "name": "a".repeat(201) }).to_string();
    let bodies: [(&str, &[u8], u16, &str); 7] = [
        ("empty name", br#"{"name":""}"#, 422, "validation_failed"),
        ("201 characters", too_long.as_bytes(), 422, "validation_failed"),
        ("unknown field", br#"{"name":"x","colour":"red"}"#, 422, "validation_failed"),
        ("wrong type", br#"{"name":5}"#, 422, "validation_failed"),
        ("missing name", br"{}", 422, "validation_failed"),
        ("not an object", br#"["x"]"#, 422, "validation_failed"),
        ("malformed JSON", br#"{"name": "x""#, 400, "bad_request"),
    ];
    for (case, body, status, code) in bodies {
        let problems = expect_error(port, ids, ("POST", "/items", Some(body)), status, code);
        found.extend(problems.into_iter().map(|p| format!("{p} ({case})")));
    }
    let oversized = {
        let mut body = br#"{"name":""#.to_vec();
        body.resize(BODY_LIMIT + 64 * 1024, b'a');
        body.extend_from_slice(br#""}"#);
        body
    };
    found.extend(expect_error(port, ids, ("POST", "/items", Some(&oversized)), 413, "payload_too_large"));
    for query in ["?limit=0", "?limit=101", "?limit=abc", "?offset=-1", "?offset=x", "?limit=1.5"] {
        found.extend(expect_error(port, ids, ("GET", &format!("/items{query}"), None), 422, "validation_failed"));
    }
    for id in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
        found.extend(expect_error(port, ids, ("GET", &format!("/items/{id}"), None), 422, "validation_failed"));
    }
    found.extend(expect_error(port, ids, ("GET", "/items/9007199254740991", None), 404, "not_found"));
    found.extend(expect_error(port, ids, ("DELETE", "/items", None), 405, "method_not_allowed"));
    // Another media type is refused with 415 or, as the contract allows when documented, read as JSON.
    let what = "POST /items with Content-Type text/plain";
    match send(port, ids, "POST", "/items", Some("text/plain"), Some(br#"{"name":"plain"}"#)) {
        (_, Ok(r)) if r.status == 201 => {}
        (rid, Ok(r)) => found.extend(error_problems(what, &r, 415, "unsupported_media_type", &rid)),
        (_, Err(e)) => found.push(format!("{what}: {e}")),
    }
    found
}

fn clip(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    format!("{}…", text.chars().take(MAX).collect::<String>())
}

#[test]
fn rfc3339_dates_are_told_from_others() {
    for good in ["2026-12-01T07:50:00Z", "2026-12-01T07:50:00.123456+01:00", "2026-02-28t23:59:60.5z"] {
        assert!(is_rfc3339(good), "{good}");
    }
    for bad in ["2026-12-01 07:50:00Z", "2026-12-01T07:50:00", "2026-13-01T00:00:00Z", "1733039400", "2026-12-01"] {
        assert!(!is_rfc3339(bad), "{bad}");
    }
}

#[test]
fn an_error_body_is_checked_field_by_field() {
    let response = |status: u16, body: &str, id: &str| Response {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-request-id".into(), id.into()),
            ("x-content-type-options".into(), "nosniff".into()),
        ],
        body: body.as_bytes().to_vec(),
        keep_alive: true,
    };
    let good = r#"{"error":{"code":"not_found","message":"no such item","request_id":"r1"}}"#;
    assert_eq!(error_problems("GET /x", &response(404, good, "r1"), 404, "not_found", "r1"), Vec::<String>::new());
    let wrong_id = error_problems("GET /x", &response(404, good, "r2"), 404, "not_found", "r2");
    assert_eq!(wrong_id.len(), 1, "{wrong_id:?}");
    assert!(wrong_id[0].contains("request_id"), "{wrong_id:?}");
    let wrong_status = error_problems("GET /x", &response(500, good, "r1"), 404, "not_found", "r1");
    assert!(wrong_status[0].contains("expected 404"), "{wrong_status:?}");
    let html = error_problems("GET /x", &response(404, "<html>", "r1"), 404, "not_found", "r1");
    assert!(html.iter().any(|p| p.contains("not JSON")), "{html:?}");
    let mut bare = response(404, good, "r1");
    bare.headers.retain(|(n, _)| n != "x-content-type-options");
    assert!(error_problems("GET /x", &bare, 404, "not_found", "r1")[0].contains("nosniff"));
}
