//! `GET /openapi.json` judged three ways: openapi-spec-validator (PyPI) validates the document;
//! the tier reads it for what the contract requires it to say (every route, the `Error` schema,
//! the status codes of the items routes, a closed create body); and schemathesis (PyPI 4.x) runs
//! its default checks against the live service, bounded in examples and time, and must report no
//! failure. Both tools live in their own virtualenv (`scripts/install-tools.sh` puts it in
//! `<tools>/schemathesis`, since schemathesis' pins conflict with checkov's); a missing tool is a
//! problem that names the script, never a silent pass.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::command;
use crate::http;
use crate::toolbox::Toolbox;

/// Test cases per operation and phase for schemathesis: enough to meet every status code the
/// document names, small enough to keep the run to seconds.
const MAX_EXAMPLES: &str = "15";

/// The longest schemathesis may run before it counts as a failure.
const DEADLINE: Duration = Duration::from_secs(240);

/// Validates the document and runs schemathesis against the service on `port`; `items` says
/// whether the items routes exist (db=postgres).
pub fn problems(port: u16, items: bool, toolbox: &Toolbox) -> Vec<String> {
    let mut found = Vec::new();
    let document = match http::get(port, "/openapi.json", &[]) {
        Ok(r) if r.status == 200 => {
            let content_type = r.header("content-type").unwrap_or_default().to_string();
            if !content_type.starts_with("application/json") {
                found.push(format!("GET /openapi.json: Content-Type {content_type:?}, not application/json"));
            }
            match r.json() {
                Some(document) => document,
                None => {
                    found.push(format!("GET /openapi.json: not JSON: {}", command::tail(&r.text(), 5)));
                    return found;
                }
            }
        }
        Ok(r) => {
            found.push(format!("GET /openapi.json: expected 200, got {} {}", r.status, command::tail(&r.text(), 5)));
            return found;
        }
        Err(e) => {
            found.push(format!("GET /openapi.json: {e}"));
            return found;
        }
    };
    found.extend(content(&document, items));
    let dir = match tempfile::Builder::new().prefix("dozen-e2e-openapi.").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            found.push(format!("cannot create a temporary directory: {e}"));
            return found;
        }
    };
    let file = dir.path().join("openapi.json");
    if let Err(e) = std::fs::write(&file, document.to_string()) {
        found.push(format!("cannot write {}: {e}", file.display()));
        return found;
    }
    match tool(toolbox, "openapi-spec-validator") {
        Ok(validator) => {
            let mut cmd = Command::new(validator);
            cmd.arg(&file).current_dir(dir.path());
            if let Err(e) = command::run_ok(&mut cmd, Duration::from_secs(60)) {
                found.push(format!("openapi-spec-validator rejects GET /openapi.json: {e}"));
            }
        }
        Err(e) => found.push(e),
    }
    let schemathesis = match tool(toolbox, "schemathesis") {
        Ok(program) => program,
        Err(e) => {
            found.push(e);
            return found;
        }
    };
    let started = Instant::now();
    let mut cmd = Command::new(schemathesis);
    cmd.args(["run", &format!("http://127.0.0.1:{port}/openapi.json")])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", "12", "--workers", "1"])
        .args(["--request-timeout", "10", "--generation-database", "none", "--no-color"])
        .current_dir(dir.path())
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1");
    match command::run(&mut cmd, DEADLINE) {
        Ok(done) if done.status.success() => match tested(&done.stdout) {
            Some((operations, cases)) if operations > 0 && cases > 0 => {
                eprintln!("schemathesis: {operations} operations, {cases} test cases, no failure");
            }
            _ => found.push(format!(
                "schemathesis passed but tested no operation or generated no test case:\n{}",
                command::tail(&done.output(), 30)
            )),
        },
        Ok(done) => found.push(format!(
            "schemathesis (default checks, {MAX_EXAMPLES} examples) failed ({}):\n{}",
            done.status,
            command::tail(&done.output(), 80)
        )),
        Err(e) => found.push(format!("schemathesis: {e}")),
    }
    eprintln!("schemathesis ran {:.0}s", started.elapsed().as_secs_f64());
    found
}

/// The operations tested and the test cases generated, from schemathesis' summary
/// (`Tested: 3` under "API Operations", `30 generated, 30 passed` under "Test cases").
fn tested(summary: &str) -> Option<(u32, u32)> {
    let number_after = |prefix: &str| {
        summary.lines().find_map(|l| l.trim().strip_prefix(prefix)?.split_whitespace().next()?.parse::<u32>().ok())
    };
    let operations = number_after("Tested:")?;
    let cases = summary.lines().find_map(|l| l.trim().split_once(" generated")?.0.trim().parse::<u32>().ok())?;
    Some((operations, cases))
}

/// The executable `name` from the OpenAPI virtualenv beside the validators, or PATH.
fn tool(toolbox: &Toolbox, name: &str) -> Result<PathBuf, String> {
    toolbox.find_in_venv("schemathesis", name).ok_or_else(|| {
        format!(
            "{name} not found in the tools' `schemathesis` virtualenv or on PATH: install it with \
             `bash scripts/install-tools.sh` (it creates <tools>/schemathesis)"
        )
    })
}

/// What the document must say, read from it directly.
pub fn content(document: &Value, items: bool) -> Vec<String> {
    let mut found = Vec::new();
    let version = document.get("openapi").and_then(Value::as_str).unwrap_or_default();
    if !(version.starts_with("3.0.") || version.starts_with("3.1.")) {
        found.push(format!("/openapi.json: `openapi` should be 3.0.x or 3.1.x, was {version:?}"));
    }
    let paths = document.get("paths").and_then(Value::as_object);
    let Some(paths) = paths else {
        found.push("/openapi.json has no `paths` object".into());
        return found;
    };
    let mut required = vec![("/health", "get"), ("/ready", "get"), ("/metrics", "get"), ("/openapi.json", "get")];
    if items {
        required.extend([("/items", "get"), ("/items", "post"), ("/items/{id}", "get")]);
    } else {
        let listed: Vec<&String> = paths.keys().filter(|p| p.starts_with("/items")).collect();
        if !listed.is_empty() {
            found.push(format!("/openapi.json describes {listed:?} although db=none has no items resource"));
        }
    }
    for (path, method) in &required {
        if paths.get(*path).and_then(|p| p.get(*method)).is_none() {
            found.push(format!("/openapi.json does not describe {} {path}", method.to_uppercase()));
        }
    }
    if document.pointer("/components/schemas/Error").is_none() {
        found.push("/openapi.json has no `components.schemas.Error` (the contract's error body)".into());
    }
    if items {
        let statuses: [(&str, &str, &[&str]); 3] = [
            ("/items", "post", &["201", "400", "413", "422"]),
            ("/items", "get", &["200", "422"]),
            ("/items/{id}", "get", &["200", "404", "422"]),
        ];
        for (path, method, codes) in statuses {
            let Some(responses) = paths.get(path).and_then(|p| p.get(method)).and_then(|o| o.get("responses")) else {
                continue;
            };
            for code in codes {
                match responses.get(*code).map(|r| resolve(document, r)) {
                    None => found.push(format!(
                        "/openapi.json: {} {path} does not document its {code} response",
                        method.to_uppercase()
                    )),
                    Some(r) if r.pointer("/content/application~1json/schema").is_none() => found.push(format!(
                        "/openapi.json: {} {path} {code} has no application/json schema",
                        method.to_uppercase()
                    )),
                    Some(_) => {}
                }
            }
        }
        found.extend(create_body(document));
    }
    found
}

/// The create body: JSON, `name` required with 1–200 characters, no other property allowed.
fn create_body(document: &Value) -> Vec<String> {
    let body = document.pointer("/paths/~1items/post/requestBody").map(|b| resolve(document, b));
    let Some(schema) = body.and_then(|b| b.pointer("/content/application~1json/schema")).map(|s| resolve(document, s))
    else {
        return vec!["/openapi.json: POST /items has no application/json request body schema".into()];
    };
    let mut found = Vec::new();
    if schema.get("additionalProperties") != Some(&Value::Bool(false)) {
        found.push("/openapi.json: the POST /items body schema should say `additionalProperties: false`".into());
    }
    if !schema.get("required").and_then(Value::as_array).is_some_and(|r| r.iter().any(|n| n == "name")) {
        found.push("/openapi.json: the POST /items body schema should require `name`".into());
    }
    let name = schema.pointer("/properties/name").map(|n| resolve(document, n));
    let bound = |key: &str| name.and_then(|n| n.get(key)).and_then(Value::as_u64);
    if bound("minLength") != Some(1) || bound("maxLength") != Some(200) {
        found.push(format!(
            "/openapi.json: `name` should have minLength 1 and maxLength 200, has {:?} and {:?}",
            bound("minLength"),
            bound("maxLength")
        ));
    }
    found
}

/// Follows local `$ref`s (`#/components/...`).
fn resolve<'a>(document: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(target) = value.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) else {
            return value;
        };
        match document.pointer(target) {
            Some(next) => value = next,
            None => return value,
        }
    }
    value
}

#[test]
fn the_summary_is_read_for_what_was_tested() {
    let summary =
        "API Operations:\n  Selected: 3/3\n  Tested: 3\n\nTest cases:\n  30 generated, 30 passed\n\nSeed: 12\n";
    assert_eq!(tested(summary), Some((3, 30)));
    assert_eq!(tested("No operations\n"), None);
}

#[test]
fn the_document_is_read_for_what_the_contract_requires() {
    let document = serde_json::json!({
        "openapi": "3.1.0",
        "paths": {
            "/health": {"get": {}}, "/ready": {"get": {}}, "/metrics": {"get": {}}, "/openapi.json": {"get": {}},
            "/items": {
                "get": {"responses": {"200": {"$ref": "#/components/responses/Ok"}, "422": {"$ref": "#/components/responses/Err"}}},
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewItem"}}}},
                    "responses": {"201": {"$ref": "#/components/responses/Ok"}, "400": {"$ref": "#/components/responses/Err"},
                                  "413": {"$ref": "#/components/responses/Err"}, "422": {"$ref": "#/components/responses/Err"}}
                }
            },
            "/items/{id}": {"get": {"responses": {"200": {"$ref": "#/components/responses/Ok"}, "404": {"$ref": "#/components/responses/Err"},
                                                   "422": {"$ref": "#/components/responses/Err"}}}}
        },
        "components": {
            "schemas": {
                "Error": {"type": "object"},
                "NewItem": {"type": "object", "additionalProperties": false, "required": ["name"],
                            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200}}}
            },
            "responses": {
                "Ok": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
                "Err": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        }
    });
    assert_eq!(content(&document, true), Vec::<String>::new());
    let found = content(&document, false);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("db=none"), "{found:#?}");

    let mut open = document.clone();
    open["components"]["schemas"]["NewItem"]["additionalProperties"] = Value::Bool(true);
    open["paths"]["/items/{id}"]["get"]["responses"].as_object_mut().unwrap().remove("404");
    open["paths"].as_object_mut().unwrap().remove("/metrics");
    let found = content(&open, true);
    assert_eq!(found.len(), 3, "{found:#?}");
}
