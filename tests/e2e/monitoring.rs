//! `monitoring/` of every combination, judged once per distinct content: `promtool check rules`,
//! `promtool test rules` and `promtool check config` (the compose/local and the Kubernetes scrape
//! configurations, with the rules they load); every alert with a severity, a summary, a
//! description and a `runbook_url` naming a section of `monitoring/RUNBOOK.md`, and a unit test that
//! shows it firing and one that shows it quiet; every metric a rule or a dashboard panel reads is
//! one of the shared contract (CONTRACT.md, WORKER-CONTRACT.md), a series a rule records, or one
//! that Prometheus or Kubernetes make (listed in [`EXTERNAL`]); every `job` a rule or panel selects
//! is the job a scrape configuration gives the service (the Kubernetes relabelling and the
//! ServiceMonitor included); the Grafana dashboard parses, its queries are valid PromQL and it
//! matches Grafana's dashboard schema (`grafana-check/`, the Grafana Foundation SDK's strict
//! decoder). In the live phase, [`live`] holds the same names to what the running service exposes.
//!
//! Metric names are read from PromQL by [`selectors`], a tokenizer that knows strings, label
//! matchers, ranges, function calls, aggregations and their label lists, so that neither a label
//! name, a function, a keyword nor a quoted value is taken for a metric.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::command;
use crate::matrix::Matrix;
use crate::metrics::Scrape;
use crate::project::{self, Options};
use crate::toolbox::Toolbox;

/// How long one tool run may take.
const DEADLINE: Duration = Duration::from_secs(600);

/// The metric families every web process exposes (CONTRACT.md): name and whether it is a histogram.
const HTTP_METRICS: [(&str, bool); 3] =
    [("http_requests_total", false), ("http_request_duration_seconds", true), ("process_start_time_seconds", false)];

/// The metric families the worker process exposes (WORKER-CONTRACT.md).
const WORKER_METRICS: [(&str, bool); 3] =
    [("jobs_total", false), ("job_duration_seconds", true), ("process_start_time_seconds", false)];

/// Series the service does not expose: Prometheus or Kubernetes make them.
pub const EXTERNAL: [(&str, &str); 2] = [
    ("up", "Prometheus, one per scrape target"),
    ("kube_pod_container_status_restarts_total", "kube-state-metrics, on Kubernetes"),
];

/// The severities the rules may use.
const SEVERITIES: [&str; 2] = ["critical", "warning"];

/// Every problem of the `monitoring/` directories of `matrix`.
pub fn problems(matrix: &Matrix, toolbox: &Toolbox) -> Vec<String> {
    let mut found = missing_files(matrix.projects());
    let Some(promtool) = toolbox.find("promtool") else {
        found.push(
            "monitoring: promtool not found in the tools directory or on PATH: install it with \
             `bash scripts/install-tools.sh` (it builds promtool from the Go module proxy)"
                .into(),
        );
        return found;
    };
    // The checks read `monitoring/` and `k8s/` and expect what the options call for: the same in
    // every stack, so judged once.
    let fresh = matrix.fresh_projects(
        "monitoring",
        |_| true,
        |p| p.starts_with("monitoring") || p.starts_with("k8s"),
        Options::label,
    );
    if fresh.is_empty() {
        return found;
    }
    let yaml = match load_yaml(&fresh.items, toolbox) {
        Ok(yaml) => yaml,
        Err(e) => {
            found.push(format!("monitoring: {}", matrix.relative(&e)));
            return found;
        }
    };
    let mut groups: BTreeMap<String, Vec<&(Options, PathBuf)>> = BTreeMap::new();
    for project in &fresh.items {
        groups.entry(fingerprint(&project.1)).or_default().push(project);
    }
    let mut dashboards: BTreeMap<String, (PathBuf, Vec<String>)> = BTreeMap::new();
    for members in groups.values() {
        let (options, dir) = members[0];
        let labels: Vec<String> = members.iter().map(|(o, _)| o.label()).collect();
        let shown = format!(
            "monitoring [{}{}]",
            labels[0],
            if labels.len() > 1 { format!(" +{}", labels.len() - 1) } else { String::new() }
        );
        let set = match Set::load(dir, options, &yaml) {
            Ok(set) => set,
            Err(e) => {
                found.push(format!("{shown}: {e}"));
                continue;
            }
        };
        let problems = promtool_checks(&promtool, dir).into_iter().chain(set.problems(options));
        found.extend(problems.map(|p| format!("{shown}: {}", matrix.relative(&p))));
        if let Ok(text) = std::fs::read_to_string(dir.join("monitoring/grafana/dashboard.json")) {
            let entry =
                dashboards.entry(text).or_insert_with(|| (dir.join("monitoring/grafana/dashboard.json"), Vec::new()));
            entry.1.push(shown.clone());
            if entry.1.len() == 1 {
                found.extend(dashboard_queries(&promtool, &entry.0).into_iter().map(|p| format!("{shown}: {p}")));
            }
        }
    }
    let files: Vec<PathBuf> = dashboards.values().map(|(path, _)| path.clone()).collect();
    found.extend(
        dashboard_schema(&files, toolbox)
            .into_iter()
            .map(|p| format!("Grafana dashboard schema: {}", matrix.relative(&p))),
    );
    if found.is_empty() {
        fresh.clean();
    }
    found
}

/// The files each combination's options call for under `monitoring/`, and none that they exclude.
fn missing_files(projects: &[(Options, PathBuf)]) -> Vec<String> {
    let mut found = Vec::new();
    for (options, dir) in projects {
        let worker = options.worker == "redis";
        let k8s = options.k8s != "none";
        let files = [
            ("monitoring/RUNBOOK.md", true),
            ("monitoring/prometheus.yml", true),
            ("monitoring/rules/service.rules.yml", true),
            ("monitoring/tests/service.test.yml", true),
            ("monitoring/grafana/dashboard.json", true),
            ("monitoring/rules/worker.rules.yml", worker),
            ("monitoring/tests/worker.test.yml", worker),
            ("monitoring/kubernetes/prometheus.yml", k8s),
            ("monitoring/kubernetes/servicemonitor.yaml", k8s),
        ];
        for (path, wanted) in files {
            match (wanted, dir.join(path).is_file()) {
                (true, false) => found.push(format!("{}: missing {path}", options.label())),
                (false, true) => found.push(format!("{}: has {path}, which its options exclude", options.label())),
                _ => {}
            }
        }
    }
    found
}

/// The content of everything under `monitoring/` that the checks read, as one key: combinations
/// with the same key are judged once.
fn fingerprint(dir: &Path) -> String {
    let root = dir.join("monitoring");
    let mut key = String::new();
    for path in project::files(&root) {
        key.push_str(&path.strip_prefix(&root).unwrap_or(&path).display().to_string());
        key.push('\0');
        key.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        key.push('\0');
    }
    // The Service the ServiceMonitor is checked against.
    key.push_str(&std::fs::read_to_string(dir.join("k8s/base/service.yaml")).unwrap_or_default());
    key
}

/// Converts every YAML file under the projects' `monitoring/` and `k8s/` to JSON with PyYAML (the
/// tools' Python, which yamllint runs on), in one process: path → its documents.
fn load_yaml(projects: &[(Options, PathBuf)], toolbox: &Toolbox) -> Result<BTreeMap<PathBuf, Value>, String> {
    const TO_JSON: &str = r"
import json, sys, yaml
out = {}
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            out[path] = {'docs': [d for d in yaml.safe_load_all(f) if d is not None]}
    except Exception as e:
        out[path] = {'error': str(e)}
json.dump(out, sys.stdout)
";
    let files: Vec<PathBuf> = projects
        .iter()
        .flat_map(|(_, dir)| {
            project::files(&dir.join("monitoring")).into_iter().chain(project::files(&dir.join("k8s")))
        })
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    let python = toolbox.find("python").ok_or("no python in the tools directory (the virtualenv of yamllint)")?;
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(TO_JSON).args(&files);
    let done = command::run_ok(&mut cmd, DEADLINE)?;
    let parsed: BTreeMap<String, Value> =
        serde_json::from_str(&done.stdout).map_err(|e| format!("PyYAML's JSON is unreadable: {e}"))?;
    Ok(parsed.into_iter().map(|(k, v)| (PathBuf::from(k), v)).collect())
}

/// `promtool check rules`, `promtool test rules` and `promtool check config` in project `dir`.
fn promtool_checks(promtool: &Path, dir: &Path) -> Vec<String> {
    let list = |sub: &str, suffix: &str| -> Vec<String> {
        let mut names: Vec<String> = project::files(&dir.join(sub))
            .into_iter()
            .filter_map(|p| p.strip_prefix(dir).ok().map(|p| p.display().to_string()))
            .filter(|p| p.ends_with(suffix))
            .collect();
        names.sort();
        names
    };
    let rules = list("monitoring/rules", ".yml");
    let tests = list("monitoring/tests", ".test.yml");
    let mut configs = vec!["monitoring/prometheus.yml".to_string()];
    if dir.join("monitoring/kubernetes/prometheus.yml").is_file() {
        configs.push("monitoring/kubernetes/prometheus.yml".into());
    }
    let mut found = Vec::new();
    if rules.is_empty() || tests.is_empty() {
        found.push(format!("no rules ({rules:?}) or no rule tests ({tests:?}) under monitoring/"));
        return found;
    }
    let runs: [(&str, &[&str], &Vec<String>); 3] = [
        ("promtool check rules", &["check", "rules"], &rules),
        ("promtool test rules", &["test", "rules"], &tests),
        ("promtool check config", &["check", "config"], &configs),
    ];
    for (title, args, files) in runs {
        let mut cmd = Command::new(promtool);
        cmd.args(args).args(files.iter()).current_dir(dir);
        match command::run(&mut cmd, DEADLINE) {
            Ok(done) if done.status.success() => {}
            Ok(done) => found.push(format!("{title} ({}):\n{}", done.status, command::tail(done.output().trim(), 60))),
            Err(e) => found.push(format!("{title}: {e}")),
        }
    }
    found
}

/// One alerting or recording rule.
#[derive(Debug)]
struct Rule {
    file: String,
    alert: Option<String>,
    record: Option<String>,
    expr: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// What one combination's `monitoring/` holds, parsed.
struct Set {
    job: String,
    rules: Vec<Rule>,
    /// Alert name → (a test expects it firing, a test expects it quiet).
    tested: BTreeMap<String, (bool, bool)>,
    runbook: String,
    /// Job names of monitoring/prometheus.yml.
    scrape_jobs: BTreeSet<String>,
    /// The job the Kubernetes relabelling gives a web pod and a worker pod (None: no such config).
    k8s_jobs: Option<(Option<String>, Option<String>)>,
    /// ServiceMonitor and PodMonitor documents.
    monitors: Vec<Value>,
    /// The kustomize Service, when there is one.
    service: Option<Value>,
    dashboard: Result<Value, String>,
}

impl Set {
    fn load(dir: &Path, options: &Options, yaml: &BTreeMap<PathBuf, Value>) -> Result<Set, String> {
        let docs = |rel: &str| -> Result<Vec<Value>, String> {
            let entry = yaml.get(&dir.join(rel)).ok_or_else(|| format!("{rel} was not read"))?;
            if let Some(e) = entry.get("error") {
                return Err(format!("{rel} is not YAML: {e}"));
            }
            Ok(entry["docs"].as_array().cloned().unwrap_or_default())
        };
        let one = |rel: &str| -> Result<Value, String> {
            docs(rel)?.into_iter().next().ok_or_else(|| format!("{rel} is empty"))
        };
        let mut rules = Vec::new();
        let mut tested = BTreeMap::new();
        let mut rule_files = vec!["service"];
        if options.worker == "redis" {
            rule_files.push("worker");
        }
        for name in rule_files {
            let file = format!("monitoring/rules/{name}.rules.yml");
            rules.extend(parse_rules(&file, &one(&file)?)?);
            let tests = one(&format!("monitoring/tests/{name}.test.yml"))?;
            for test in tests["tests"].as_array().into_iter().flatten() {
                for case in test["alert_rule_test"].as_array().into_iter().flatten() {
                    let Some(alert) = case["alertname"].as_str() else { continue };
                    let fires = case["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
                    let entry: &mut (bool, bool) = tested.entry(alert.to_string()).or_default();
                    if fires {
                        entry.0 = true;
                    } else {
                        entry.1 = true;
                    }
                }
            }
        }
        let config = one("monitoring/prometheus.yml")?;
        let scrape_jobs = config["scrape_configs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["job_name"].as_str().map(String::from))
            .collect();
        let job = project::NAME.to_string();
        let (k8s_jobs, monitors) = if options.k8s == "none" {
            (None, Vec::new())
        } else {
            let config = one("monitoring/kubernetes/prometheus.yml")?;
            // The pods as the kustomize Deployments describe them, where they carry the
            // prometheus.io annotations; otherwise the pods the scrape config is written for.
            let manifests: Vec<Value> = if options.k8s == "kustomize" {
                yaml.iter()
                    .filter(|(path, _)| path.starts_with(dir.join("k8s")))
                    .flat_map(|(_, entry)| entry["docs"].as_array().cloned().unwrap_or_default())
                    .collect()
            } else {
                Vec::new()
            };
            let job_of = |component: &str| -> Result<Option<String>, String> {
                let assumed = [
                    ("__meta_kubernetes_pod_label_app_kubernetes_io_name".to_string(), job.clone()),
                    ("__meta_kubernetes_pod_label_app_kubernetes_io_component".to_string(), component.to_string()),
                    ("__meta_kubernetes_pod_annotation_prometheus_io_scrape".to_string(), "true".to_string()),
                ];
                let pod = match pod_meta(&manifests, component) {
                    Some(meta) => meta,
                    None => {
                        eprintln!(
                            "monitoring: no {component} Deployment of k8s/ carries prometheus.io/scrape; \
                             the annotation scrape config is checked against the pod labels it expects"
                        );
                        assumed.into_iter().collect()
                    }
                };
                let mut jobs = Vec::new();
                for scrape in config["scrape_configs"].as_array().into_iter().flatten() {
                    let mut labels = pod.clone();
                    if let Some(name) = scrape["job_name"].as_str() {
                        labels.insert("job".into(), name.into());
                    }
                    if relabel(&mut labels, scrape["relabel_configs"].as_array().map_or(&[][..], Vec::as_slice))? {
                        jobs.push(labels["job"].clone());
                    }
                }
                Ok(jobs.into_iter().next())
            };
            (Some((job_of("web")?, job_of("worker")?)), docs("monitoring/kubernetes/servicemonitor.yaml")?)
        };
        let service = if options.k8s == "kustomize" { Some(one("k8s/base/service.yaml")?) } else { None };
        let dashboard =
            std::fs::read_to_string(dir.join("monitoring/grafana/dashboard.json")).map_err(|e| e.to_string()).and_then(
                |t| serde_json::from_str(&t).map_err(|e| format!("monitoring/grafana/dashboard.json is not JSON: {e}")),
            );
        Ok(Set {
            job,
            rules,
            tested,
            runbook: std::fs::read_to_string(dir.join("monitoring/RUNBOOK.md"))
                .map_err(|e| format!("RUNBOOK.md: {e}"))?,
            scrape_jobs,
            k8s_jobs,
            monitors,
            service,
            dashboard,
        })
    }

    fn worker_job(&self) -> String {
        format!("{}-worker", self.job)
    }

    fn problems(&self, options: &Options) -> Vec<String> {
        let mut found = Vec::new();
        let worker = options.worker == "redis";
        let recorded: BTreeSet<String> = self.rules.iter().filter_map(|r| r.record.clone()).collect();
        let allowed = allowed_names(worker);
        let mut jobs = vec![self.job.clone()];
        if worker {
            jobs.push(self.worker_job());
        }
        // The scrape configurations name exactly the jobs the rules select on.
        let expected: BTreeSet<String> = jobs.iter().cloned().collect();
        if self.scrape_jobs != expected {
            found.push(format!(
                "monitoring/prometheus.yml scrapes jobs {:?}, the rules select on {expected:?}",
                self.scrape_jobs
            ));
        }
        if let Some((web, worker_pod)) = &self.k8s_jobs {
            let wanted_worker = worker.then(|| self.worker_job());
            if web.as_deref() != Some(self.job.as_str()) {
                found.push(format!(
                    "monitoring/kubernetes/prometheus.yml gives a web pod job {web:?}, not {:?}",
                    self.job
                ));
            }
            if worker && worker_pod != &wanted_worker {
                found.push(format!(
                    "monitoring/kubernetes/prometheus.yml gives a worker pod job {worker_pod:?}, not {wanted_worker:?}"
                ));
            }
        }
        found.extend(self.monitor_problems(worker));
        let anchors = runbook_anchors(&self.runbook);
        let mut alerts = BTreeSet::new();
        for rule in &self.rules {
            let name = rule.alert.as_deref().or(rule.record.as_deref()).unwrap_or("?");
            let at = format!("{} {name}", rule.file);
            found.extend(expr_problems(&at, &rule.expr, &allowed, &recorded, &expected));
            let Some(alert) = &rule.alert else { continue };
            alerts.insert(alert.to_lowercase());
            let severity = rule.labels.get("severity").map_or("", String::as_str);
            if !SEVERITIES.contains(&severity) {
                found.push(format!("{at}: severity {severity:?}, not one of {SEVERITIES:?}"));
            }
            for key in ["summary", "description", "runbook_url"] {
                if rule.annotations.get(key).is_none_or(|v| v.trim().is_empty()) {
                    found.push(format!("{at}: no {key} annotation"));
                }
            }
            let url = rule.annotations.get("runbook_url").map_or("", String::as_str);
            match url.strip_prefix("monitoring/RUNBOOK.md#") {
                Some(anchor) if anchors.contains(anchor) && anchor == alert.to_lowercase() => {}
                Some(anchor) if anchors.contains(anchor) => {
                    found.push(format!("{at}: runbook_url points at the section of another alert ({anchor})"));
                }
                _ => found.push(format!(
                    "{at}: runbook_url {url:?} is not monitoring/RUNBOOK.md#<a section of RUNBOOK.md>; sections: {anchors:?}"
                )),
            }
            match self.tested.get(alert) {
                Some((true, true)) => {}
                Some((fires, _)) => found.push(format!(
                    "{at}: the unit tests never expect it {}",
                    if *fires { "quiet (exp_alerts: [])" } else { "firing" }
                )),
                None => found.push(format!("{at}: no unit test in monitoring/tests/ evaluates it")),
            }
        }
        for anchor in anchors.iter().filter(|a| !alerts.contains(*a)) {
            found.push(format!("monitoring/RUNBOOK.md has a section #{anchor} for no alert of the rules"));
        }
        match &self.dashboard {
            Ok(board) => {
                let queries = dashboard_exprs(board);
                if queries.is_empty() {
                    found.push("monitoring/grafana/dashboard.json has no panel query".into());
                }
                for (panel, expr) in queries {
                    found.extend(expr_problems(
                        &format!("dashboard panel {panel:?}"),
                        &expr,
                        &allowed,
                        &recorded,
                        &expected,
                    ));
                }
            }
            Err(e) => found.push(e.clone()),
        }
        found
    }

    /// The ServiceMonitor selects the kustomize Service by its labels and port, in its namespace,
    /// and so gets the Service's name as job; the worker's PodMonitor sets the worker's job.
    fn monitor_problems(&self, worker: bool) -> Vec<String> {
        let mut found = Vec::new();
        if self.k8s_jobs.is_none() {
            return found;
        }
        let file = "monitoring/kubernetes/servicemonitor.yaml";
        let of_kind = |kind: &str| self.monitors.iter().filter(|d| d["kind"] == kind).collect::<Vec<_>>();
        let (services, pods) = (of_kind("ServiceMonitor"), of_kind("PodMonitor"));
        if services.len() != 1 || pods.len() != usize::from(worker) {
            found.push(format!(
                "{file}: {} ServiceMonitor and {} PodMonitor documents, expected 1 and {}",
                services.len(),
                pods.len(),
                usize::from(worker)
            ));
        }
        for monitor in &self.monitors {
            if monitor["apiVersion"] != "monitoring.coreos.com/v1" {
                found.push(format!("{file}: apiVersion {} is not monitoring.coreos.com/v1", monitor["apiVersion"]));
            }
        }
        if let (Some(monitor), Some(service)) = (services.first(), &self.service) {
            let selector = monitor["spec"]["selector"]["matchLabels"].as_object().cloned().unwrap_or_default();
            let labels = service["metadata"]["labels"].as_object().cloned().unwrap_or_default();
            if selector.is_empty() || selector.iter().any(|(k, v)| labels.get(k) != Some(v)) {
                found.push(format!(
                    "{file}: selector {selector:?} does not select the Service of k8s/base (labels {labels:?})"
                ));
            }
            if service["metadata"]["name"].as_str() != Some(self.job.as_str()) {
                found.push(format!(
                    "{file}: the ServiceMonitor's job is the Service's name {}, the rules select job {:?}",
                    service["metadata"]["name"], self.job
                ));
            }
            let ports: Vec<&str> =
                service["spec"]["ports"].as_array().into_iter().flatten().filter_map(|p| p["name"].as_str()).collect();
            for endpoint in monitor["spec"]["endpoints"].as_array().into_iter().flatten() {
                if !endpoint["port"].as_str().is_some_and(|p| ports.contains(&p)) {
                    found.push(format!(
                        "{file}: endpoint port {} is not a port of the Service ({ports:?})",
                        endpoint["port"]
                    ));
                }
                if endpoint["path"] != "/metrics" {
                    found.push(format!("{file}: endpoint path {} is not /metrics", endpoint["path"]));
                }
            }
            let namespaces = &monitor["spec"]["namespaceSelector"]["matchNames"];
            let namespace = &service["metadata"]["namespace"];
            if !namespaces.as_array().is_some_and(|n| n.contains(namespace)) {
                found.push(format!(
                    "{file}: namespaceSelector {namespaces} does not hold the Service's namespace {namespace}"
                ));
            }
        }
        for pod in pods {
            let sets_job = pod["spec"]["podMetricsEndpoints"].as_array().into_iter().flatten().all(|endpoint| {
                endpoint["relabelings"].as_array().into_iter().flatten().any(|r| {
                    r["targetLabel"] == "job"
                        && r["replacement"].as_str() == Some(self.worker_job().as_str())
                        && r.get("sourceLabels").is_none()
                })
            });
            if !sets_job {
                found.push(format!("{file}: the PodMonitor's endpoints do not all set job {:?}", self.worker_job()));
            }
        }
        found
    }
}

/// The service-discovery labels of the pods of the kustomize Deployment labelled with
/// `component`, when its pod template carries a `prometheus.io/scrape` annotation.
fn pod_meta(manifests: &[Value], component: &str) -> Option<BTreeMap<String, String>> {
    let sanitize =
        |name: &str| name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
    let template =
        manifests.iter().filter(|d| d["kind"] == "Deployment").map(|d| &d["spec"]["template"]["metadata"]).find(
            |meta| {
                meta["labels"]["app.kubernetes.io/component"] == component
                    && meta["annotations"]["prometheus.io/scrape"].is_string()
            },
        )?;
    let mut labels = BTreeMap::new();
    for (kind, field) in [("label", "labels"), ("annotation", "annotations")] {
        for (name, value) in template[field].as_object().into_iter().flatten() {
            let value = value.as_str().map_or_else(|| value.to_string(), String::from);
            labels.insert(format!("__meta_kubernetes_pod_{kind}_{}", sanitize(name)), value);
        }
    }
    Some(labels)
}

/// The rules of one rules file.
fn parse_rules(file: &str, doc: &Value) -> Result<Vec<Rule>, String> {
    let groups = doc["groups"].as_array().ok_or_else(|| format!("{file}: no `groups` list"))?;
    let strings = |v: &Value| -> BTreeMap<String, String> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), String::from)))
            .collect()
    };
    let mut rules = Vec::new();
    for group in groups {
        for rule in group["rules"].as_array().into_iter().flatten() {
            rules.push(Rule {
                file: file.to_string(),
                alert: rule["alert"].as_str().map(String::from),
                record: rule["record"].as_str().map(String::from),
                expr: rule["expr"].as_str().ok_or_else(|| format!("{file}: a rule without a string expr"))?.to_string(),
                labels: strings(&rule["labels"]),
                annotations: strings(&rule["annotations"]),
            });
        }
    }
    if rules.is_empty() {
        return Err(format!("{file}: no rules"));
    }
    Ok(rules)
}

/// Applies Prometheus `relabel_configs` (actions replace, keep and drop; the defaults of each
/// field) to `labels`; false when the target is dropped.
fn relabel(labels: &mut BTreeMap<String, String>, configs: &[Value]) -> Result<bool, String> {
    for config in configs {
        let sources: Vec<String> = config["source_labels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| labels.get(s.as_str().unwrap_or_default()).cloned().unwrap_or_default())
            .collect();
        let separator = config["separator"].as_str().unwrap_or(";");
        let value = sources.join(separator);
        let pattern = config["regex"].as_str().unwrap_or("(.*)");
        let regex =
            regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|e| format!("relabel regex {pattern:?}: {e}"))?;
        match config["action"].as_str().unwrap_or("replace") {
            "keep" if !regex.is_match(&value) => return Ok(false),
            "drop" if regex.is_match(&value) => return Ok(false),
            "keep" | "drop" => {}
            "replace" => {
                let Some(captures) = regex.captures(&value) else { continue };
                let mut replaced = String::new();
                captures.expand(config["replacement"].as_str().unwrap_or("$1"), &mut replaced);
                let target = config["target_label"].as_str().ok_or("replace without target_label")?;
                if replaced.is_empty() {
                    labels.remove(target);
                } else {
                    labels.insert(target.to_string(), replaced);
                }
            }
            other => return Err(format!("relabel action {other:?} is not simulated by this test")),
        }
    }
    Ok(true)
}

/// Every metric name the service side may be read under: the contract's families (a histogram
/// as `_bucket`, `_sum` and `_count`), the worker's with a worker, and [`EXTERNAL`].
fn allowed_names(worker: bool) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = EXTERNAL.iter().map(|(n, _)| (*n).to_string()).collect();
    let families = HTTP_METRICS.iter().chain(if worker { &WORKER_METRICS[..] } else { &[] });
    for (name, histogram) in families {
        names.insert((*name).to_string());
        if *histogram {
            names.extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")));
        }
    }
    names
}

/// Problems of one PromQL expression: a name that is neither allowed nor recorded, a selector of
/// a service metric without a `job` matcher, or one whose job is not scraped.
fn expr_problems(
    at: &str,
    expr: &str,
    allowed: &BTreeSet<String>,
    recorded: &BTreeSet<String>,
    jobs: &BTreeSet<String>,
) -> Vec<String> {
    let selectors = match selectors(expr) {
        Ok(s) => s,
        Err(e) => return vec![format!("{at}: cannot read the expression ({e}): {expr}")],
    };
    let mut found = Vec::new();
    if selectors.is_empty() {
        found.push(format!("{at}: reads no metric: {expr}"));
    }
    for selector in selectors {
        let Some(name) = selector.metric.clone() else {
            found.push(format!("{at}: a selector without a metric name: {expr}"));
            continue;
        };
        if !allowed.contains(&name) && !recorded.contains(&name) {
            found.push(format!(
                "{at}: metric {name} is not in the shared contract, not recorded by a rule and not a known external series"
            ));
        }
        if name.starts_with("kube_") {
            continue;
        }
        match selector.equal("job") {
            Some(job) if jobs.contains(job) => {}
            Some(job) => {
                found.push(format!("{at}: {name} selects job {job:?}, which no scrape configuration has ({jobs:?})"));
            }
            None => found.push(format!("{at}: {name} has no job=\"…\" matcher, so it reads every service's series")),
        }
    }
    found
}

/// The `## ` headings of a runbook as GitHub renders their anchors.
fn runbook_anchors(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| {
            h.trim()
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect()
        })
        .collect()
}

/// Every panel's title and `targets[].expr`, rows' nested panels included.
fn dashboard_exprs(board: &Value) -> Vec<(String, String)> {
    fn walk(panels: &Value, out: &mut Vec<(String, String)>) {
        for panel in panels.as_array().into_iter().flatten() {
            let title = panel["title"].as_str().unwrap_or("?").to_string();
            for target in panel["targets"].as_array().into_iter().flatten() {
                out.push((title.clone(), target["expr"].as_str().unwrap_or_default().to_string()));
            }
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&board["panels"], &mut out);
    out
}

/// Grafana's interval variables, as a dashboard query may use them, with a value for promtool.
const GRAFANA_VARIABLES: [&str; 4] = ["$__rate_interval", "$__interval", "$__range", "${__rate_interval}"];

/// Every panel query of the dashboard `path` is valid PromQL: written as recording rules (with
/// Grafana's interval variables as 5m) for `promtool check rules`. Any other `$` variable is
/// reported, since no value can stand in for it.
fn dashboard_queries(promtool: &Path, path: &Path) -> Vec<String> {
    let board: Value = match std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(board) => board,
        Err(e) => return vec![format!("dashboard.json: {e}")],
    };
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    let mut found = Vec::new();
    for (i, (panel, expr)) in dashboard_exprs(&board).into_iter().enumerate() {
        let mut concrete = expr.clone();
        for variable in GRAFANA_VARIABLES {
            concrete = concrete.replace(variable, "5m");
        }
        if concrete.contains('$') {
            found.push(format!("dashboard panel {panel:?}: query uses a variable the test cannot fill: {expr}"));
            continue;
        }
        rules.push_str(&format!(
            "      - record: dashboard:panel_{i}\n        expr: {}\n",
            serde_json::to_string(&concrete).unwrap()
        ));
    }
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return vec![format!("cannot create a temporary directory: {e}")],
    };
    let file = dir.path().join("dashboard-queries.yml");
    if let Err(e) = std::fs::write(&file, &rules) {
        return vec![format!("cannot write {}: {e}", file.display())];
    }
    let mut cmd = Command::new(promtool);
    cmd.args(["check", "rules"]).arg(&file);
    match command::run(&mut cmd, DEADLINE) {
        Ok(done) if done.status.success() => {}
        Ok(done) => found.push(format!(
            "the dashboard's queries are not valid PromQL (promtool check rules on them as recording rules):\n{}\n{rules}",
            command::tail(done.output().trim(), 30)
        )),
        Err(e) => found.push(format!("promtool check rules on the dashboard's queries: {e}")),
    }
    found
}

/// The dashboard schema check: `grafana-check/` (Go, the Grafana Foundation SDK's strict decoder
/// of dashboards generated from Grafana's schemas) built once into the e2e cache, run over `files`.
fn dashboard_schema(files: &[PathBuf], toolbox: &Toolbox) -> Vec<String> {
    if files.is_empty() {
        return Vec::new();
    }
    let checker = match grafana_check(toolbox) {
        Ok(path) => path,
        Err(e) => return vec![e],
    };
    let mut cmd = Command::new(checker);
    cmd.args(files);
    match command::run(&mut cmd, DEADLINE) {
        Ok(done) if done.status.success() => Vec::new(),
        Ok(done) => vec![format!("({}):\n{}", done.status, command::tail(done.output().trim(), 40))],
        Err(e) => vec![e],
    }
}

/// The built `grafana-check`, rebuilt when its sources change (the cache key is their hash).
fn grafana_check(toolbox: &Toolbox) -> Result<PathBuf, String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/grafana-check");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for name in ["go.mod", "go.sum", "main.go"] {
        let text = std::fs::read(source.join(name)).map_err(|e| format!("grafana-check/{name}: {e}"))?;
        for byte in text {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    let cache = crate::tier::cache_dir();
    let binary = cache.join(format!("grafana-check-{hash:016x}"));
    if binary.is_file() {
        return Ok(binary);
    }
    let go = toolbox.find("go").ok_or(
        "the Grafana dashboard schema check needs Go to build tests/e2e/grafana-check (the Grafana Foundation SDK), \
         and no `go` is on PATH",
    )?;
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let started = std::time::Instant::now();
    let mut cmd = Command::new(go);
    cmd.args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(&source)
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod");
    command::run_ok(&mut cmd, DEADLINE).map_err(|e| format!("building tests/e2e/grafana-check: {e}"))?;
    eprintln!("built grafana-check in {:.0}s", started.elapsed().as_secs_f64());
    Ok(binary)
}

/// The live check: every metric name that the rules and the dashboard of the project in `dir`
/// read from the service (not recorded by a rule, not [`EXTERNAL`]) is one the running web
/// process on `port` exposes; a histogram family counts as exposed by its `_bucket`, `_sum` and
/// `_count` samples. The worker's rules need the worker's own scrape, which this phase does not
/// have: they are reported, not passed, when present.
pub fn live(dir: &Path, port: u16, toolbox: &Toolbox) -> Vec<String> {
    let scrape = match crate::metrics::scrape(port) {
        Ok(scrape) => scrape,
        Err(e) => return vec![format!("monitoring names: {e}")],
    };
    let options_worker = dir.join("monitoring/rules/worker.rules.yml").is_file();
    let files = [dir.join("monitoring/rules/service.rules.yml")];
    // load_yaml reads only the directories; the options are not used.
    let projects = [(Options::defaults("none"), dir.to_path_buf())];
    let yaml = match load_yaml(&projects, toolbox) {
        Ok(yaml) => yaml,
        Err(e) => return vec![format!("monitoring names: {e}")],
    };
    let mut found = Vec::new();
    if options_worker {
        found.push(
            "monitoring names: monitoring/rules/worker.rules.yml is present but the live phase has no worker to scrape"
                .into(),
        );
    }
    let mut exprs = Vec::new();
    let mut recorded = BTreeSet::new();
    for file in &files {
        let Some(doc) = yaml.get(file).and_then(|v| v["docs"].get(0)) else {
            return vec![format!("monitoring names: {} was not read", file.display())];
        };
        match parse_rules("monitoring/rules/service.rules.yml", doc) {
            Ok(rules) => {
                for rule in rules {
                    recorded.extend(rule.record.clone());
                    exprs.push((format!("rule {}", rule.alert.or(rule.record).unwrap_or_default()), rule.expr));
                }
            }
            Err(e) => return vec![format!("monitoring names: {e}")],
        }
    }
    match std::fs::read_to_string(dir.join("monitoring/grafana/dashboard.json"))
        .map(|t| serde_json::from_str::<Value>(&t))
    {
        Ok(Ok(board)) => exprs.extend(dashboard_exprs(&board).into_iter().map(|(p, e)| (format!("panel {p:?}"), e))),
        Ok(Err(e)) => found.push(format!("monitoring names: dashboard.json: {e}")),
        Err(e) => found.push(format!("monitoring names: dashboard.json: {e}")),
    }
    let mut used: BTreeMap<String, String> = BTreeMap::new();
    for (at, expr) in &exprs {
        match selectors(expr) {
            Ok(selectors) => {
                for name in selectors.into_iter().filter_map(|s| s.metric) {
                    used.entry(name).or_insert_with(|| at.clone());
                }
            }
            Err(e) => found.push(format!("monitoring names: {at}: {e}")),
        }
    }
    let external: BTreeSet<&str> = EXTERNAL.iter().map(|(n, _)| *n).collect();
    let mut checked = 0;
    for (name, at) in &used {
        if recorded.contains(name) || external.contains(name.as_str()) {
            continue;
        }
        checked += 1;
        if !exposes(&scrape, name) {
            found.push(format!(
                "monitoring names: {at} reads {name}, which the running service does not expose at /metrics"
            ));
        }
    }
    if checked == 0 {
        found.push("monitoring names: no service metric found in the rules and dashboard to check".into());
    }
    found
}

/// Whether `scrape` has series named `name`, directly or as a histogram family's sample.
fn exposes(scrape: &Scrape, name: &str) -> bool {
    if scrape.samples.iter().any(|s| s.name == name) {
        return true;
    }
    // A histogram read by its family name (a native histogram): its classic samples count.
    scrape.types.get(name).is_some_and(|t| t == "histogram")
        && scrape.samples.iter().any(|s| s.name == format!("{name}_bucket"))
}

/// One vector selector of a PromQL expression: its metric name (from the name or a `__name__`
/// matcher) and its label matchers `(label, operator, value)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selector {
    /// The metric name, when the selector has one.
    pub metric: Option<String>,
    /// Label matchers, `__name__` excluded.
    pub matchers: Vec<(String, String, String)>,
}

impl Selector {
    /// The value of an `=` matcher on `label`.
    fn equal(&self, label: &str) -> Option<&str> {
        self.matchers.iter().find(|(l, op, _)| l == label && op == "=").map(|(_, _, v)| v.as_str())
    }
}

/// Keywords that are neither metrics nor functions.
const KEYWORDS: [&str; 8] = ["and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: [&str; 6] = ["by", "without", "on", "ignoring", "group_left", "group_right"];

/// PromQL's aggregation operators, which may put `by (…)` or `without (…)` before their argument.
const AGGREGATIONS: [&str; 14] = [
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Whether `by` or `without` starts at `i`.
fn starts_label_list(chars: &[char], i: usize) -> bool {
    let word: String =
        chars[i.min(chars.len())..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').collect();
    matches!(word.to_lowercase().as_str(), "by" | "without")
}

/// The vector selectors of PromQL `expr`, in order. Strings, comments, ranges and subqueries
/// (`[5m:1m]`, Grafana's `$__rate_interval` in them), numbers and durations, function and
/// aggregation names (an identifier before `(`), label lists of `by`/`without`/`on`/`ignoring`/
/// `group_left`/`group_right` and the keywords are skipped; `{…}` after a name (or alone) is read
/// as label matchers.
pub fn selectors(expr: &str) -> Result<Vec<Selector>, String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    let mut found = Vec::new();
    let skip_space = |mut i: usize| {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        i
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '"' | '\'' | '`' => i = skip_string(&chars, i)?,
            '[' => {
                let end = chars[i..].iter().position(|c| *c == ']').ok_or("unclosed [")?;
                i += end + 1;
            }
            '{' => {
                let (selector, next) = matchers(&chars, i)?;
                found.push(selector);
                i = next;
            }
            '$' => {
                // A Grafana variable: $name or ${name}.
                i += 1;
                if chars.get(i) == Some(&'{') {
                    let end = chars[i..].iter().position(|c| *c == '}').ok_or("unclosed ${")?;
                    i += end + 1;
                } else {
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                // A number, hex number or duration: 0.99, 1e-3, 0x1F, 5m, 1h30m.
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                    let exponent = matches!(chars[i], 'e' | 'E') && matches!(chars.get(i + 1), Some('+' | '-'));
                    i += if exponent { 2 } else { 1 };
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let next = skip_space(i);
                let lower = word.to_lowercase();
                if LABEL_LISTS.contains(&lower.as_str()) {
                    if chars.get(next) == Some(&'(') {
                        let end = chars[next..].iter().position(|c| *c == ')').ok_or("unclosed label list")?;
                        i = next + end + 1;
                    }
                } else if chars.get(next) == Some(&'(')
                    || KEYWORDS.contains(&lower.as_str())
                    || (AGGREGATIONS.contains(&lower.as_str()) && starts_label_list(&chars, next))
                {
                    // A function call, an aggregation (`sum by (job) (…)` too), or a keyword.
                } else if chars.get(next) == Some(&'{') {
                    let (mut selector, after) = matchers(&chars, next)?;
                    if selector.metric.is_some() {
                        return Err(format!("{word} has a __name__ matcher too"));
                    }
                    selector.metric = Some(word);
                    found.push(selector);
                    i = after;
                } else {
                    found.push(Selector { metric: Some(word), matchers: Vec::new() });
                }
            }
            _ => i += 1,
        }
    }
    Ok(found)
}

/// The index after the string literal opening at `start`.
fn skip_string(chars: &[char], start: usize) -> Result<usize, String> {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if quote != '`' => i += 2,
            c if c == quote => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(format!("unterminated string from character {start}"))
}

/// The label matchers of the `{…}` opening at `start`, and the index after its `}`.
fn matchers(chars: &[char], start: usize) -> Result<(Selector, usize), String> {
    let mut selector = Selector::default();
    let mut i = start + 1;
    loop {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
            i += 1;
        }
        match chars.get(i) {
            None => return Err("unclosed {".into()),
            Some('}') => return Ok((selector, i + 1)),
            _ => {}
        }
        let label_start = i;
        if matches!(chars[i], '"' | '\'' | '`') {
            return Err("quoted metric names in braces are not supported".into());
        }
        while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        let label: String = chars[label_start..i].iter().collect();
        if label.is_empty() {
            return Err(format!("a label name expected at character {i}"));
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let op_start = i;
        while i < chars.len() && matches!(chars[i], '=' | '!' | '~') {
            i += 1;
        }
        let op: String = chars[op_start..i].iter().collect();
        if !["=", "!=", "=~", "!~"].contains(&op.as_str()) {
            return Err(format!("matcher operator {op:?} after {label}"));
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if !chars.get(i).is_some_and(|c| matches!(c, '"' | '\'' | '`')) {
            return Err(format!("a quoted value expected after {label}{op}"));
        }
        let end = skip_string(chars, i)?;
        let value = unquote(&chars[i + 1..end - 1]);
        i = end;
        if label == "__name__" && op == "=" {
            selector.metric = Some(value);
        } else {
            selector.matchers.push((label, op, value));
        }
    }
}

/// A string literal's content with its backslash escapes resolved.
fn unquote(chars: &[char]) -> String {
    let mut out = String::new();
    let mut escaped = false;
    for c in chars {
        if escaped {
            out.push(match c {
                'n' => '\n',
                't' => '\t',
                other => *other,
            });
            escaped = false;
        } else if *c == '\\' {
            escaped = true;
        } else {
            out.push(*c);
        }
    }
    out
}

#[cfg(test)]
fn names(expr: &str) -> Vec<String> {
    selectors(expr).unwrap().into_iter().filter_map(|s| s.metric).collect()
}

#[test]
fn metric_names_are_told_from_functions_labels_and_keywords() {
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket{job="a", route!~"/health|/ready"}[5m])))"#
        ),
        ["http_request_duration_seconds_bucket"]
    );
    assert_eq!(names(r#"time() - process_start_time_seconds{job="a"}"#), ["process_start_time_seconds"]);
    assert_eq!(names(r#"up{job="a"} == 0 unless on (job) (max by (job) (up{job="a"}) == 0)"#), ["up", "up"]);
    assert_eq!(names("a:b:ratio_rate5m > (14.4 * 0.001) and on() group_left(x, y) c:d"), ["a:b:ratio_rate5m", "c:d"]);
    assert_eq!(names("sum without (instance) (x) / ignoring (le) y offset 5m > bool 1e-3"), ["x", "y"]);
    assert_eq!(names("rate(x[$__rate_interval]) + max_over_time(y[1h:5m]) + Inf + NaN + 0x1F + .5"), ["x", "y"]);
    assert_eq!(names(r#"count_values("version", build_info) or vector(0)"#), ["build_info"]);
    assert_eq!(names("# a comment naming not_a_metric\nfoo"), ["foo"]);
    assert_eq!(names(r#"{__name__="bar", job="j"}"#), ["bar"]);
    assert_eq!(names("sum(rate(x{job=\"j\"}[${__rate_interval}])) by (route)"), ["x"]);
}

#[test]
fn quoted_values_are_not_read_as_names() {
    let found = selectors(r#"x{route="rate(fake_metric{a=\"b\"})", status=~'5..'} + y{path=`a{b}`}"#).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].metric.as_deref(), Some("x"));
    assert_eq!(
        found[0].matchers,
        [
            ("route".to_string(), "=".to_string(), r#"rate(fake_metric{a="b"})"#.to_string()),
            ("status".to_string(), "=~".to_string(), "5..".to_string())
        ]
    );
    assert_eq!(found[1].equal("path"), Some("a{b}"));
    assert_eq!(found[0].equal("status"), None, "=~ is not equality");
}

#[test]
fn malformed_selectors_are_errors() {
    assert!(selectors(r#"x{job="a"#).is_err());
    assert!(selectors("x{job=a}").is_err());
    assert!(selectors("x{job==\"a\"}").is_err());
    assert!(selectors("rate(x[5m)").is_err());
}

#[test]
fn expressions_are_held_to_the_contract_and_the_scraped_jobs() {
    let allowed = allowed_names(false);
    let recorded: BTreeSet<String> = ["job:x:rate5m".to_string()].into();
    let jobs: BTreeSet<String> = ["svc".to_string()].into();
    let ok = |e: &str| expr_problems("t", e, &allowed, &recorded, &jobs);
    assert!(ok(r#"rate(http_request_duration_seconds_bucket{job="svc"}[5m])"#).is_empty());
    assert!(
        ok(r#"job:x:rate5m{job="svc"} + increase(kube_pod_container_status_restarts_total{namespace="svc"}[1h])"#)
            .is_empty()
    );
    assert!(ok(r#"jobs_total{job="svc"}"#)[0].contains("not in the shared contract"), "worker metrics need a worker");
    assert!(
        !expr_problems("t", r#"jobs_total{job="svc"}"#, &allowed_names(true), &recorded, &jobs)
            .iter()
            .any(|p| p.contains("contract"))
    );
    assert!(ok(r#"http_requests_total{job="other"}"#)[0].contains("no scrape configuration"));
    assert!(ok("http_requests_total")[0].contains("no job="));
    assert!(ok("vector(1)")[0].contains("reads no metric"));
}

#[test]
fn relabelling_is_simulated_like_prometheus() {
    let configs: Vec<Value> = serde_json::from_str(
        r#"[{"source_labels": ["keep"], "action": "keep", "regex": "true"},
            {"source_labels": ["name", "component"], "regex": "(.+);web", "replacement": "$1", "target_label": "job"},
            {"source_labels": ["name", "component"], "regex": "(.+);worker", "replacement": "$1-worker", "target_label": "job"}]"#,
    )
    .unwrap();
    let run = |component: &str, keep: &str| {
        let mut labels: BTreeMap<String, String> =
            [("name", "svc"), ("component", component), ("keep", keep), ("job", "pods")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into();
        relabel(&mut labels, &configs).unwrap().then(|| labels["job"].clone())
    };
    assert_eq!(run("web", "true").as_deref(), Some("svc"));
    assert_eq!(run("worker", "true").as_deref(), Some("svc-worker"));
    assert_eq!(run("db", "true").as_deref(), Some("pods"));
    assert_eq!(run("web", "false"), None);
}

#[test]
fn runbook_anchors_follow_github() {
    let anchors = runbook_anchors("# Runbook\n## ServiceDown\ntext\n## High latency (p99)\n### Sub\n");
    assert_eq!(anchors, ["high-latency-p99", "servicedown"].map(String::from).into());
}

#[test]
fn exposure_accepts_histogram_samples() {
    let scrape =
        Scrape::parse("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n# TYPE c counter\nc_total 3\n")
            .unwrap();
    assert!(exposes(&scrape, "h_bucket") && exposes(&scrape, "h_count") && exposes(&scrape, "h"));
    assert!(exposes(&scrape, "c_total"));
    assert!(!exposes(&scrape, "c") && !exposes(&scrape, "missing_total") && !exposes(&scrape, "h_max"));
}

#[test]
fn pods_are_described_by_their_deployment_when_it_is_annotated() {
    let docs: Vec<Value> = serde_json::from_str(
        r#"[{"kind": "Service"},
            {"kind": "Deployment", "spec": {"template": {"metadata": {
              "labels": {"app.kubernetes.io/name": "svc", "app.kubernetes.io/component": "web"},
              "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}}}}},
            {"kind": "Deployment", "spec": {"template": {"metadata": {
              "labels": {"app.kubernetes.io/name": "svc", "app.kubernetes.io/component": "worker"}}}}}]"#,
    )
    .unwrap();
    let web = pod_meta(&docs, "web").unwrap();
    assert_eq!(web["__meta_kubernetes_pod_label_app_kubernetes_io_component"], "web");
    assert_eq!(web["__meta_kubernetes_pod_annotation_prometheus_io_port"], "8080");
    assert_eq!(pod_meta(&docs, "worker"), None, "not annotated");
}
