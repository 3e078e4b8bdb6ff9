//! The configuration contract of SPEC §6 (III) checked on a generated repository's files: the
//! variables of `.env.example` are exactly the pack's `data.env` declarations that apply to the
//! answers (their `when` evaluated with Tera, as dozen does), each one has a comment above it, the
//! service's code reads every one of them and reads no other. Reads are found by a plain scan of
//! the non-test sources for the usual idioms of each language: a call or index whose name contains
//! `env` with an upper-case string literal (`os.Getenv("PORT")`, `env::var("PORT")`,
//! `os.environ["PORT"]`), a helper given the environment and a name (`integer(env, "PORT", …)`,
//! `read(&lookup, "PORT")`), `process.env.PORT`, clap's `env = "PORT"`, pydantic's `alias="PORT"`
//! and Spring's `${PORT:8080}` placeholders. A variable the scan cannot find is reported too, so a
//! new idiom shows up as a failure to extend the scan rather than as a silent pass.

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;

use crate::project::{self, Options};
use crate::stack::Stack;

/// Every violation of the configuration contract in the project at `dir`.
pub fn problems(dir: &Path, stack: &Stack, options: &Options) -> Vec<String> {
    let mut found = Vec::new();
    let declared = match declared(stack, options) {
        Ok(names) => names,
        Err(e) => return vec![e],
    };
    let example = match std::fs::read_to_string(dir.join(".env.example")) {
        Ok(text) => text,
        Err(e) => return vec![format!(".env.example: {e}")],
    };
    let listed = example_variables(&example, &mut found);
    for name in declared.iter().filter(|n| !listed.contains(n)) {
        found.push(format!(".env.example lacks {name}, which pack.toml declares in data.env"));
    }
    for name in listed.iter().filter(|n| !declared.contains(n)) {
        found.push(format!(".env.example lists {name}, which is not in pack.toml's data.env for these answers"));
    }
    let reads = code_reads(dir);
    for (name, file) in &reads {
        if !listed.contains(name) {
            found.push(format!("{file} reads {name}, which .env.example does not list"));
        }
    }
    for name in listed.iter().filter(|n| !reads.contains_key(*n)) {
        found.push(format!(".env.example lists {name}, but no read of it was found in the service's sources"));
    }
    found
}

/// The `data.env` names of the built-in pack whose `when` holds for these answers.
fn declared(stack: &Stack, options: &Options) -> Result<Vec<String>, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/service/pack.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries = manifest
        .get("data")
        .and_then(|d| d.get("env"))
        .and_then(toml::Value::as_array)
        .ok_or_else(|| format!("{}: no [[data.env]] entries", path.display()))?;
    let mut context = tera::Context::new();
    context.insert("name", project::NAME);
    context.insert("lang", stack.lang);
    context.insert("stack", stack.stack);
    context.insert("db", options.db);
    context.insert("ci", options.ci);
    context.insert("cloud", options.cloud);
    context.insert("k8s", options.k8s);
    context.insert("worker", options.worker);
    if let Some(iac) = options.iac {
        context.insert("iac", iac);
    }
    let mut names = Vec::new();
    for entry in entries {
        let name = entry.get("name").and_then(toml::Value::as_str).ok_or("a data.env entry has no name")?;
        let applies = match entry.get("when").and_then(toml::Value::as_str) {
            None => true,
            Some(when) => {
                let test = format!("{{% if {when} %}}yes{{% endif %}}");
                let rendered = tera::Tera::one_off(&test, &context, false)
                    .map_err(|e| format!("data.env {name}: when `{when}`: {e}"))?;
                rendered == "yes"
            }
        };
        if applies {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

/// The variable names of a dotenv file; a variable without a comment line above it is a problem.
fn example_variables(text: &str, found: &mut Vec<String>) -> Vec<String> {
    let assignment = Regex::new(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=").unwrap();
    let mut names = Vec::new();
    let mut previous = "";
    for line in text.lines().map(str::trim) {
        if let Some(captures) = assignment.captures(line) {
            let name = captures[1].to_string();
            if !previous.starts_with('#') {
                found.push(format!(".env.example: {name} has no comment line above it"));
            }
            names.push(name);
        }
        if !line.is_empty() {
            previous = line;
        }
    }
    names
}

/// Every upper-case environment variable name read by the non-test sources under `dir`, with the
/// first file (relative to `dir`) that reads it.
fn code_reads(dir: &Path) -> BTreeMap<String, String> {
    let name = r#"["']([A-Z][A-Z0-9_]*)["']"#;
    let everywhere = [
        Regex::new(&format!(r"[\w.:]*[Ee]nv[\w.:]*\s*[(\[]\s*{name}")).unwrap(),
        Regex::new(&format!(r"\(\s*&?[\w.]*(?:[Ee]nv|[Ll]ookup)\w*\s*,\s*{name}")).unwrap(),
        Regex::new(r"process\.env\.([A-Z][A-Z0-9_]*)").unwrap(),
        Regex::new(&format!(r"\b(?:env|alias|validation_alias)\s*=\s*{name}")).unwrap(),
    ];
    let placeholder = Regex::new(r"\$\{([A-Z][A-Z0-9_]*)(?::[^}]*)?\}").unwrap();
    let mut reads = BTreeMap::new();
    for path in project::files(dir) {
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let Some(kind) = source_kind(relative) else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let mut patterns: Vec<&Regex> = everywhere.iter().collect();
        if kind == SourceKind::Spring {
            patterns.push(&placeholder);
        }
        for pattern in patterns {
            for captures in pattern.captures_iter(&text) {
                reads.entry(captures[1].to_string()).or_insert_with(|| relative.display().to_string());
            }
        }
    }
    reads
}

#[derive(PartialEq, Eq)]
enum SourceKind {
    Code,
    Spring,
}

/// Whether a project file is service source code, and of which kind; tests and vendored or built
/// trees are not.
fn source_kind(relative: &Path) -> Option<SourceKind> {
    const SKIPPED_DIRS: [&str; 14] = [
        ".git",
        ".venv",
        "node_modules",
        "target",
        "dist",
        "build",
        "vendor",
        "tests",
        "test",
        "__tests__",
        "__pycache__",
        "migrations",
        "k8s",
        "terraform",
    ];
    let parts: Vec<&str> = relative.iter().filter_map(|p| p.to_str()).collect();
    let (file, dirs) = parts.split_last()?;
    if dirs.iter().any(|d| SKIPPED_DIRS.contains(d) || d.starts_with('.')) {
        return None;
    }
    let is_test = file.ends_with("_test.go")
        || file.starts_with("test_")
        || file.ends_with("_test.py")
        || *file == "conftest.py"
        || [".test.", ".spec."].iter().any(|infix| file.contains(infix));
    if is_test {
        return None;
    }
    let extension = Path::new(file).extension().and_then(|e| e.to_str()).unwrap_or_default();
    match extension {
        "rs" | "py" | "ts" | "mts" | "js" | "mjs" | "cjs" | "go" | "java" | "kt" => Some(SourceKind::Code),
        "yml" | "yaml" | "properties" if parts.starts_with(&["src", "main", "resources"]) => Some(SourceKind::Spring),
        _ => None,
    }
}

#[test]
fn finds_reads_in_every_language() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write("app/settings.py", r#"os.environ.get("SHUTDOWN_TIMEOUT"); os.environ["A_B"]; Field(alias="PY_ALIAS")"#);
    write("src/config.ts", "const url = process.env.DATABASE_URL ?? process.env['TS_INDEX'];");
    write("internal/config/config.go", r#"v, ok := os.LookupEnv("GO_VAR"); n := envInt("GO_INT", 3)"#);
    write("src/main/resources/application.yml", "server:\n  port: ${PORT:8080}\nx: ${SPRING_VAR}\n");
    write("src/main/java/App.java", r#"System.getenv("JAVA_VAR"); integer(env, "JAVA_HELPER", 1)"#);
    write("src/config.rs", r#"let port = std::env::var("PORT"); #[arg(env = "LOG_LEVEL")] read(&lookup, "RS_LOOKUP")"#);
    write("tests/test_app.py", r#"os.environ["ONLY_IN_TESTS"]"#);
    write("internal/config/config_test.go", r#"t.Setenv("GO_TEST_ONLY", "1")"#);
    write("src/app.test.ts", "process.env.TS_TEST_ONLY");
    write("README.md", r#"getenv("DOCS_ONLY")"#);
    let reads = code_reads(dir.path());
    let names: Vec<&str> = reads.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "A_B",
            "DATABASE_URL",
            "GO_INT",
            "GO_VAR",
            "JAVA_HELPER",
            "JAVA_VAR",
            "LOG_LEVEL",
            "PORT",
            "PY_ALIAS",
            "RS_LOOKUP",
            "SHUTDOWN_TIMEOUT",
            "SPRING_VAR",
            "TS_INDEX"
        ]
    );
    assert_eq!(reads["GO_VAR"], "internal/config/config.go");
}

#[test]
fn example_variables_need_a_comment() {
    let mut found = Vec::new();
    let names = example_variables("# Port\nPORT=8080\n\n# Level\n\nLOG_LEVEL=info\nSHUTDOWN_TIMEOUT=10\n", &mut found);
    assert_eq!(names, ["PORT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"]);
    assert_eq!(found, [".env.example: SHUTDOWN_TIMEOUT has no comment line above it"]);
}

#[test]
fn declared_follows_the_when_conditions() {
    let stack = Stack { lang: "go", stack: "nethttp" };
    let with_db = declared(&stack, &Options::defaults("postgres")).unwrap();
    let without = declared(&stack, &Options::defaults("none")).unwrap();
    assert!(with_db.contains(&"DATABASE_URL".to_string()));
    assert!(!without.contains(&"DATABASE_URL".to_string()));
    assert_eq!(with_db.len(), without.len() + 1);
}
