//! `--json` for scripts: every command prints exactly one JSON document on stdout, on success and
//! on failure, and each has the shape docs/json.md documents — the test reads the examples from
//! the doc and compares them with what the commands really print.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::{Env, TestPack, fixture_pack, stderr, stdout};

/// The examples of docs/json.md by the name of their `<!-- shape: NAME -->` marker.
fn documented() -> BTreeMap<String, Value> {
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md")).unwrap();
    let mut shapes = BTreeMap::new();
    for part in doc.split("<!-- shape: ").skip(1) {
        let (name, rest) = part.split_once(" -->").unwrap();
        if !name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            continue;
        }
        let body = rest.split("```json").nth(1).unwrap().split("```").next().unwrap();
        let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("docs/json.md {name}: {e}"));
        shapes.insert(name.to_owned(), value);
    }
    shapes
}

/// Where `actual` differs in shape from `example`: keys at every level, JSON types. In the example,
/// `null` stands for any value or none (an optional field), an empty array for any elements, and a
/// key `…` for any further keys (a map such as `answers`).
fn differences(example: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    match (example, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for key in want.keys().filter(|k| !got.contains_key(*k) && !want[*k].is_null() && *k != "…") {
                out.push(format!("{at}.{key}: documented but missing"));
            }
            if !want.contains_key("…") {
                for key in got.keys().filter(|k| !want.contains_key(*k)) {
                    out.push(format!("{at}.{key}: printed but not documented"));
                }
            }
            for (key, value) in want {
                if let Some(got) = got.get(key) {
                    differences(value, got, &format!("{at}.{key}"), out);
                }
            }
        }
        (Value::Array(want), Value::Array(got)) => {
            if let Some(first) = want.first() {
                for (i, item) in got.iter().enumerate() {
                    differences(first, item, &format!("{at}[{i}]"), out);
                }
            }
        }
        (Value::Null, _)
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_)) => {}
        (want, got) => out.push(format!("{at}: documented {want}, printed {got}")),
    }
}

/// Runs `args` in `env` and checks its stdout is one document of the shape `name`, exit `code`.
fn check(env: &Env, shape: &str, args: &[&str], code: i32) -> Value {
    let output = env.dozen().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(code), "{args:?}: {}", stderr(&output));
    let text = stdout(&output);
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?} printed no single JSON document ({e}):\n{text}"));
    assert_eq!(value["schema_version"], 1, "{args:?}");
    let mut found = Vec::new();
    differences(&documented()[shape], &value, shape, &mut found);
    assert!(found.is_empty(), "{args:?} does not match docs/json.md:\n{}\n{text}", found.join("\n"));
    value
}

#[test]
fn every_documented_shape_is_what_comes_out() {
    let env = Env::new();
    let out = env.out();
    let out = out.to_str().unwrap();
    let mini = fixture_pack("mini");
    check(&env, "new", &["new", "svc", "-y", "--json", "--pack", &mini, "-o", out], 0);
    check(&env, "error", &["new", "svc", "-y", "--json", "--pack", &mini, "-o", out], 2);
    check(&env, "answer-problems", &["new", "other", "-y", "--json", "--db", "mysql", "-o", out], 2);
    check(&env, "error", &["new", "--json", "--no-such-flag"], 2);
    check(&env, "list", &["list", "--json"], 0);

    let data = env.root.path().join("data");
    let pack = env.root.path().join("p1");
    let pack = pack.to_str().unwrap();
    let with_data = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push("--json");
        all.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let run = |shape: &str, args: &[&str], code: i32| {
        let args = with_data(args);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = env.dozen().args(&refs).env("XDG_DATA_HOME", &data).output().unwrap();
        assert_eq!(output.status.code(), Some(code), "{refs:?}: {}", stderr(&output));
        let value: Value =
            serde_json::from_str(&stdout(&output)).unwrap_or_else(|e| panic!("{refs:?}: {e}: {}", stdout(&output)));
        let mut found = Vec::new();
        differences(&documented()[shape], &value, shape, &mut found);
        assert!(found.is_empty(), "{refs:?} does not match docs/json.md:\n{}", found.join("\n"));
    };
    run("pack-new", &["pack", "new", pack], 0);
    run("pack-check", &["pack", "check", pack], 0);
    run("pack-test", &["pack", "test", pack], 0);
    run("pack-add", &["pack", "add", pack], 0);
    run("pack-list", &["pack", "list"], 0);
    run("pack-add", &["pack", "remove", "p1"], 0);
    run("error", &["pack", "remove", "p1"], 2);
    run("error", &["pack", "remove", "../escape"], 2);
    let broken = TestPack::new("broken")
        .manifest("[[questions]]\nname = \"kind\"\ntype = \"strng\"\n")
        .file("README.md.tera", "{{ undefined_thing }}\n")
        .write(&env.root.path().join("broken"));
    run("pack-problems", &["pack", "check", &broken], 2);

    let project = env.out().join("upd");
    let output = env.new_project(&["upd", "-y", "--no-k8s"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let project = project.to_str().unwrap();
    check(&env, "update", &["update", project, "--set", "k8s=true", "--json", "--dry-run"], 0);
    check(&env, "update", &["update", project, "--set", "k8s=true", "--json"], 0);
    check(&env, "error", &["update", project, "--set", "k8s=false", "--json"], 2);
    check(&env, "error", &["update", env.root.path().to_str().unwrap(), "--json"], 2);

    check(&env, "status", &["status", project, "--json"], 0);
    check(&env, "status", &["status", "-r", out, "--json", "--fail-on", "behind,drifted"], 0);
    check(&env, "error", &["status", "-r", &env.root.path().join("home").display().to_string(), "--json"], 2);
    check(&env, "update-many", &["update", project, "--branch", "pack-update", "--json"], 0);
    check(&env, "update-many", &["update", "-r", out, "--json", "--dry-run"], 0);

    let legacy = env.root.path().join("legacy");
    std::fs::create_dir_all(legacy.join("src")).unwrap();
    std::fs::write(legacy.join("src/main.go"), "package main\n").unwrap();
    let legacy = legacy.to_str().unwrap();
    check(&env, "adopt", &["adopt", legacy, "--pack", &mini, "-y", "--json", "--dry-run"], 0);
    check(&env, "adopt", &["adopt", legacy, "--pack", &mini, "-y", "--json"], 0);
    check(&env, "error", &["adopt", legacy, "--pack", &mini, "-y", "--json"], 2);
}

#[test]
fn pack_check_reports_problems_of_every_kind_at_once_each_at_its_line() {
    let env = Env::new();
    let broken = TestPack::new("broken")
        .manifest(
            "[[questions]]\nname = \"kind\"\ntype = \"strng\"\n\n[[questions]]\nname = \"size\"\ntype = \"int\"\ncolour = \"red\"\n\n\
             [[questions]]\nname = \"flag\"\ntype = \"bool\"\nwhen = \"size >\"\n",
        )
        .file("README.md.tera", "# {{ project.slug }}\n{{ undefined_thing }}\n")
        .file("bad.txt.tera", "{% if %}\n")
        .write(&env.root.path().join("broken"));
    let output = env.dozen().args(["pack", "check", &broken, "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let problems: Vec<(String, String)> = report["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["location"].as_str().unwrap_or_default().to_owned(), p["message"].as_str().unwrap().to_owned()))
        .collect();
    let has = |location: &str, words: &str| problems.iter().any(|(l, m)| l == location && m.contains(words));
    assert!(has("pack.toml:11", "unknown variant `strng`"), "the misspelled type at its key: {problems:#?}");
    assert!(has("pack.toml:16", "unknown field `colour`"), "the unknown field at its key: {problems:#?}");
    assert!(has("pack.toml:21", "does not parse"), "the invalid expression at its key: {problems:#?}");
    assert!(
        problems.iter().any(|(l, m)| l.starts_with("base/bad.txt.tera") || m.contains("bad.txt.tera")),
        "the template syntax error: {problems:#?}"
    );
    assert!(has("base/README.md.tera:2", "undefined_thing"), "the undefined variable at its line: {problems:#?}");
}
