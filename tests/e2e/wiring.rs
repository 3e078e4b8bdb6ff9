//! Wiring that no schema validator sees, read from every combination of the matrix: with
//! db=postgres the generated CI's test job (GitHub Actions or GitLab CI) has a PostgreSQL service
//! and gives `make test` a `DATABASE_URL` that reaches it (host, port, user, password and database
//! of that service), so each stack's own integration test runs in CI; with db=none it has neither.
//! And with cloud=aws the load balancer's idle timeout is set explicitly to 60 s, below the
//! services' 75 s keep-alive. The YAML is read with the validators' Python (PyYAML comes with
//! yamllint); the Terraform with python-hcl2.

use std::time::Duration;

use serde_json::Value;

use crate::command;
use crate::matrix::Matrix;
use crate::toolbox::Toolbox;

/// Prints, per file given, the facts of its test job as one JSON object per line.
const FACTS: &str = r#"
import json, sys, yaml, hcl2
from urllib.parse import urlsplit
for path in sys.argv[1:]:
    out = {"path": path}
    try:
        if path.endswith(".tf"):
            with open(path) as f:
                doc = hcl2.load(f)
            lbs = [b for r in doc.get("resource", []) for k, b in r.items() if k == "aws_lb"]
            one = lambda x: x[0] if isinstance(x, list) and len(x) == 1 else x
            out["idle_timeouts"] = [one(v.get("idle_timeout")) for lb in lbs for v in lb.values()]
            print(json.dumps(out)); continue
        with open(path) as f:
            doc = yaml.safe_load(f)
        if path.endswith(".gitlab-ci.yml"):
            job = doc.get("test", {})
            env = dict(doc.get("variables") or {}); env.update(job.get("variables") or {})
            services = job.get("services") or []
            pg = [s for s in services if "postgres" in (s if isinstance(s, str) else s.get("name", ""))]
            out["service"] = bool(pg)
            host = (pg[0].get("alias") if pg and isinstance(pg[0], dict) else None) or "postgres"
            out["expected"] = {"host": host, "port": 5432}
            scripts = [job.get("script") or []]
        else:
            job = doc.get("jobs", {}).get("test", {})
            env = dict(doc.get("env") or {}); env.update(job.get("env") or {})
            services = job.get("services") or {}
            pg = [s for s in services.values() if "postgres" in str(s.get("image", ""))]
            out["service"] = bool(pg)
            ports = [str(p) for p in (pg[0].get("ports") or [])] if pg else []
            host_port = int(ports[0].split(":")[0]) if ports else None
            out["expected"] = {"host": "localhost", "port": host_port}
            runs = [s for s in job.get("steps") or [] if "make test" in str(s.get("run", ""))]
            scripts = [[s["run"]] for s in runs]
            if runs:
                env.update(runs[0].get("env") or {})
        pg_env = (pg[0].get("env") or pg[0].get("variables") or {}) if pg and isinstance(pg[0], dict) else {}
        if not pg_env:
            pg_env = {k: v for k, v in env.items() if k.startswith("POSTGRES_")}
        out["runs_make_test"] = any("make test" in str(line) for lines in scripts for line in lines)
        url = env.get("DATABASE_URL")
        out["database_url"] = url
        if url:
            u = urlsplit(url)
            out["url"] = {"host": u.hostname, "port": u.port, "user": u.username, "password": u.password,
                          "database": u.path.lstrip("/")}
        out["postgres"] = {"user": pg_env.get("POSTGRES_USER"), "password": pg_env.get("POSTGRES_PASSWORD"),
                           "database": pg_env.get("POSTGRES_DB") or pg_env.get("POSTGRES_USER")}
    except Exception as e:
        out["error"] = repr(e)
    print(json.dumps(out))
"#;

/// Every wiring problem in the matrix.
pub fn problems(matrix: &Matrix, toolbox: &Toolbox) -> Vec<String> {
    let mut files = Vec::new();
    let mut options_of = Vec::new();
    for (options, dir) in matrix.projects() {
        let chosen = match options.ci {
            "github" => Some(dir.join(".github/workflows/ci.yml")),
            "gitlab" => Some(dir.join(".gitlab-ci.yml")),
            _ => None,
        };
        let alb = (options.cloud == "aws" && options.iac == Some("terraform")).then(|| dir.join("terraform/alb.tf"));
        for file in chosen.into_iter().chain(alb) {
            options_of.push((file.to_string_lossy().into_owned(), *options));
            files.push(file);
        }
    }
    if files.is_empty() {
        return vec!["wiring: the matrix has no CI file and no AWS Terraform to read".into()];
    }
    let mut cmd = toolbox.command("python");
    cmd.arg("-c").arg(FACTS).args(&files);
    let done = match command::run_ok(&mut cmd, Duration::from_secs(120)) {
        Ok(done) => done,
        Err(e) => return vec![format!("wiring: cannot read the CI files and Terraform: {e}")],
    };
    let mut found = Vec::new();
    let mut seen = 0;
    for line in done.stdout.lines() {
        let Ok(facts) = serde_json::from_str::<Value>(line) else { continue };
        let path = facts["path"].as_str().unwrap_or_default();
        let Some((_, options)) = options_of.iter().find(|(p, _)| p == path) else { continue };
        seen += 1;
        let shown = path.to_string();
        if let Some(error) = facts["error"].as_str() {
            found.push(format!("{shown}: cannot be read: {error}"));
        } else if std::path::Path::new(path).extension().is_some_and(|e| e == "tf") {
            if facts["idle_timeouts"] != serde_json::json!([60]) {
                found.push(format!(
                    "{shown}: the aws_lb must set idle_timeout = 60 explicitly (below the services' 75 s keep-alive), found {}",
                    facts["idle_timeouts"]
                ));
            }
        } else {
            found.extend(ci_problems(&shown, &facts, options.db == "postgres"));
        }
    }
    if seen != files.len() {
        found.push(format!("wiring: read {seen} of {} files:\n{}", files.len(), command::tail(&done.output(), 10)));
    }
    matrix.summarize(&found.join("\n")).lines().map(String::from).collect()
}

/// The test job of one CI file, from its facts.
fn ci_problems(shown: &str, facts: &Value, postgres: bool) -> Vec<String> {
    let mut found = Vec::new();
    if facts["runs_make_test"] != Value::Bool(true) {
        found.push(format!("{shown}: the test job does not run `make test`"));
    }
    let service = facts["service"] == Value::Bool(true);
    if !postgres {
        if service {
            found.push(format!("{shown}: the test job has a PostgreSQL service although db=none"));
        }
        return found;
    }
    if !service {
        found.push(format!("{shown}: the test job has no PostgreSQL service although db=postgres"));
        return found;
    }
    if facts["database_url"].is_null() {
        found.push(format!(
            "{shown}: `make test` gets no DATABASE_URL, so the stack's integration test is skipped in CI"
        ));
        return found;
    }
    let url = &facts["url"];
    let pg = &facts["postgres"];
    let expected = &facts["expected"];
    let checks = [
        ("host", &url["host"], &expected["host"]),
        ("port", &url["port"], &expected["port"]),
        ("user", &url["user"], &pg["user"]),
        ("password", &url["password"], &pg["password"]),
        ("database", &url["database"], &pg["database"]),
    ];
    for (part, got, want) in checks {
        if got != want {
            found.push(format!(
                "{shown}: DATABASE_URL {} has {part} {got}, but the PostgreSQL service has {want}",
                facts["database_url"]
            ));
        }
    }
    found
}

#[test]
fn ci_facts_are_judged() {
    let good = serde_json::json!({
        "path": "x", "service": true, "runs_make_test": true,
        "database_url": "postgres://app:app@localhost:5432/app",
        "url": {"host": "localhost", "port": 5432, "user": "app", "password": "app", "database": "app"},
        "postgres": {"user": "app", "password": "app", "database": "app"},
        "expected": {"host": "localhost", "port": 5432}
    });
    assert_eq!(ci_problems("ci.yml", &good, true), Vec::<String>::new());
    let mut wrong = good.clone();
    wrong["url"]["database"] = "postgres".into();
    let found = ci_problems("ci.yml", &wrong, true);
    assert!(found.len() == 1 && found[0].contains("database"), "{found:?}");
    let mut missing = good.clone();
    missing["database_url"] = Value::Null;
    assert!(ci_problems("ci.yml", &missing, true)[0].contains("no DATABASE_URL"));
    assert!(ci_problems("ci.yml", &good, false)[0].contains("although db=none"));
}
