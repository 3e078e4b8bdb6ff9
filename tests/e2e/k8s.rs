//! The Kubernetes manifests of the matrix, judged the way they are applied: each kustomization
//! rendered with `kubectl kustomize` (the app, `k8s/`, and with db=postgres the migration,
//! `k8s/migrate/`), each Helm chart linted (`helm lint --strict`) and rendered (`helm template`).
//! The renders go through kubernetes-validate --strict and checkov's kubernetes framework, one
//! process each over the whole matrix, and are then held to what the options call for: the web
//! process, the worker (worker=redis) and the migration (db=postgres), each with a non-root
//! read-only container, resources and every variable of `.env.example`, the long-running ones with
//! probes, an autoscaler, a disruption budget, spreading and scrape annotations; in Helm the
//! migration is a pre-install/pre-upgrade hook. Finally the kustomize migration is rendered for two
//! releases and for one release twice, which shows that applying it and then the app, release
//! after release, is safe: a new Job name per release, the very same Job for the same release, and
//! the objects both kustomizations carry identical in each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{DEADLINE, checkov_report, interpreter};
use crate::command;
use crate::matrix::Matrix;
use crate::project::{NAME, Options};
use crate::stopwatch::Stopwatch;
use crate::toolbox::Toolbox;

/// The Kubernetes version charts are rendered and linted for (that of kubernetes-validate's newest
/// schemas, and of the client libraries helm 3.22 is built with).
const KUBE_VERSION: &str = "1.37.0";

/// Two releases, tagged with short commit SHAs as the generated READMEs tell CI to.
const RELEASES: [&str; 2] = ["0123456789ab", "fedcba987654"];

/// Prints every YAML document of each file named on the command line as JSON: one list per file.
const YAML_TO_JSON: &str = r"
import json, sys, yaml
docs = []
for path in sys.argv[1:]:
    with open(path) as f:
        docs.append([d for d in yaml.safe_load_all(f) if d is not None])
print(json.dumps(docs))
";

/// Every problem of the matrix's Kubernetes manifests.
pub fn problems(matrix: &Matrix, toolbox: &Toolbox) -> Vec<String> {
    // What is judged here depends on the manifests, the variables of `.env.example` and the
    // options (the objects a combination must have): the same in every stack, so judged once.
    let chosen = |k8s: &'static str| {
        matrix.fresh_projects(
            "kubernetes",
            |o| o.k8s == k8s,
            |p| p.starts_with("k8s") || p.starts_with("chart") || p == Path::new(".env.example"),
            Options::label,
        )
    };
    let (kustomize, helm) = (chosen("kustomize"), chosen("helm"));
    if kustomize.skipped + helm.skipped > 0 {
        eprintln!("[kubernetes] {} combinations judged already", kustomize.skipped + helm.skipped);
    }
    if kustomize.is_empty() && helm.is_empty() {
        return Vec::new();
    }
    let out = match tempfile::Builder::new().prefix("dozen-e2e-k8s.").tempdir() {
        Ok(out) => out,
        Err(e) => return vec![format!("kubernetes: cannot create a temporary directory: {e}")],
    };
    let mut judge = Judge { matrix, toolbox, out: out.path().to_path_buf(), renders: Vec::new(), found: Vec::new() };
    let mut clock = Stopwatch::default();
    clock.time("kustomize", || judge.kustomize(&kustomize.items));
    clock.time("helm", || judge.helm(&helm.items));
    clock.time("kubernetes-validate", || judge.kubernetes_validate());
    clock.time("checkov", || judge.checkov());
    clock.time("shapes", || judge.shapes());
    clock.time("releases", || judge.releases(&kustomize.items));
    eprintln!("kubernetes renders, slowest first: {}", clock.summary());
    if judge.found.is_empty() {
        kustomize.clean();
        helm.clean();
    }
    judge.found
}

/// What one render is (`what` of its [`Render`]) and the objects it holds.
type Rendered = (&'static str, Vec<Value>);

/// One rendered set of manifests of one combination.
struct Render {
    options: Options,
    project: PathBuf,
    /// `kustomize k8s`, `kustomize k8s/migrate` or `helm chart`.
    what: &'static str,
    file: PathBuf,
}

struct Judge<'a> {
    matrix: &'a Matrix,
    toolbox: &'a Toolbox,
    /// Renders go to `<out>/rendered/<label>/`, the release renders to `<out>/releases/`.
    out: PathBuf,
    renders: Vec<Render>,
    found: Vec<String>,
}

impl Judge<'_> {
    /// `text` with the temporary directories shown as `<combo>/…` paths, merged across combinations.
    fn shown(&self, text: &str) -> String {
        let text = text
            .replace(&format!("{}/rendered/", self.out.display()), "")
            .replace(&format!("{}/", self.out.display()), "");
        self.matrix.summarize(&text)
    }

    fn tool(&mut self, name: &str, why: &str) -> Option<PathBuf> {
        let found = self.toolbox.find(name);
        if found.is_none() {
            self.found.push(format!(
                "kubernetes: `{name}` not found in the tools directory or on PATH; it {why} \
                 (bash scripts/install-tools.sh installs the validators)"
            ));
        }
        found
    }

    /// Runs `cmd` and writes its stdout to `file`; a problem naming `what` when it fails.
    fn render_to(&mut self, cmd: &mut Command, what: &str, label: &str, file: &Path) -> bool {
        match command::run_ok(cmd, DEADLINE) {
            Ok(done) => match std::fs::create_dir_all(file.parent().unwrap())
                .and_then(|()| std::fs::write(file, &done.stdout))
            {
                Ok(()) => true,
                Err(e) => {
                    self.found.push(format!("{label}: cannot write {}: {e}", file.display()));
                    false
                }
            },
            Err(e) => {
                let e = self.shown(&self.matrix.relative(&e));
                self.found.push(format!("{label}: {what}: {e}"));
                false
            }
        }
    }

    /// `kubectl kustomize` of the app and (db=postgres) the migration of every kustomize combination.
    fn kustomize(&mut self, projects: &[(Options, PathBuf)]) {
        if projects.is_empty() {
            return;
        }
        let Some(kubectl) = self.tool("kubectl", "renders the kustomizations (`kubectl kustomize`)") else { return };
        for (options, dir) in projects {
            let label = options.label();
            let mut parts: Vec<(&'static str, &str, &str)> = vec![("kustomize k8s", "k8s", "kustomize-app.yaml")];
            if options.db == "postgres" {
                parts.push(("kustomize k8s/migrate", "k8s/migrate", "kustomize-migrate.yaml"));
            }
            for (what, kustomization, name) in parts {
                let file = self.out.join("rendered").join(&label).join(name);
                let mut cmd = Command::new(&kubectl);
                cmd.arg("kustomize").arg(kustomization).current_dir(dir);
                if self.render_to(&mut cmd, &format!("kubectl {what}"), &label, &file) {
                    self.renders.push(Render { options: *options, project: dir.clone(), what, file });
                }
            }
        }
    }

    /// `helm lint --strict` over every chart in one process, then `helm template` of each chart, and
    /// a render with a misspelt value, which the values schema must refuse.
    fn helm(&mut self, projects: &[(Options, PathBuf)]) {
        if projects.is_empty() {
            return;
        }
        let Some(helm) = self.tool("helm", "lints and renders the Helm charts") else { return };
        let charts: Vec<PathBuf> = projects
            .iter()
            .map(|(_, dir)| {
                dir.join("chart").strip_prefix(self.matrix.root()).map(Path::to_path_buf).unwrap_or(dir.join("chart"))
            })
            .collect();
        let mut lint = Command::new(&helm);
        lint.args(["lint", "--strict", "--kube-version", KUBE_VERSION]).args(&charts).current_dir(self.matrix.root());
        match command::run(&mut lint, DEADLINE) {
            Ok(done) if done.status.success() => {}
            Ok(done) => {
                let output = self.shown(&self.matrix.relative(&done.output()));
                self.found.push(format!("helm lint --strict ({}):\n{}", done.status, command::tail(output.trim(), 80)));
            }
            Err(e) => self.found.push(format!("helm lint: {e}")),
        }
        for (options, dir) in projects {
            let label = options.label();
            let file = self.out.join("rendered").join(&label).join("helm.yaml");
            let mut cmd = Command::new(&helm);
            cmd.args(["template", NAME, "chart", "--namespace", NAME, "--kube-version", KUBE_VERSION]).current_dir(dir);
            if self.render_to(&mut cmd, "helm template", &label, &file) {
                self.renders.push(Render { options: *options, project: dir.clone(), what: "helm chart", file });
            }
            let mut typo = Command::new(&helm);
            typo.args(["template", NAME, "chart", "--namespace", NAME, "--kube-version", KUBE_VERSION])
                .args(["--set", "imag.tag=oops"])
                .current_dir(dir);
            match command::run(&mut typo, DEADLINE) {
                Ok(done) if !done.status.success() && done.output().contains("imag") => {}
                Ok(done) => self.found.push(format!(
                    "{label}/{NAME}/chart/values.schema.json: lets an unknown value through: `helm template --set imag.tag=oops` \
                     exited {} ({})",
                    done.status,
                    command::tail(done.stderr.trim(), 5)
                )),
                Err(e) => self.found.push(format!("{label}: helm template: {e}")),
            }
        }
    }

    fn files(&self) -> Vec<PathBuf> {
        self.renders.iter().map(|r| r.file.clone()).collect()
    }

    fn kubernetes_validate(&mut self) {
        let files = self.files();
        if files.is_empty() {
            return;
        }
        let mut cmd = self.toolbox.command("kubernetes-validate");
        cmd.args(["--strict", "--quiet"]).args(&files);
        match command::run(&mut cmd, DEADLINE) {
            Ok(done) if done.status.success() => {}
            Ok(done) => {
                let output = self.shown(&done.output());
                self.found.push(format!(
                    "kubernetes-validate --strict (rendered manifests, {}):\n{}",
                    done.status,
                    command::tail(output.trim(), 80)
                ));
            }
            Err(e) => self.found.push(format!("kubernetes-validate (rendered manifests): {e}")),
        }
    }

    /// checkov's kubernetes framework over every render, minus the checks of `checkov-skip.txt`.
    fn checkov(&mut self) {
        if self.renders.is_empty() {
            return;
        }
        let mut cmd = self.toolbox.command("checkov");
        cmd.arg("-d").arg(self.out.join("rendered"));
        match checkov_report(cmd, &["kubernetes"]) {
            Ok(failures) => {
                let summary = self.shown(&failures.join("\n"));
                self.found
                    .extend(summary.lines().filter(|l| !l.is_empty()).map(|f| format!("checkov (rendered): {f}")));
            }
            Err(e) => self.found.push(format!("checkov (rendered manifests): {}", self.shown(&e))),
        }
    }

    /// The YAML documents of each of `files`, parsed by the validators' Python (PyYAML).
    fn parse(&mut self, files: &[PathBuf]) -> Option<Vec<Vec<Value>>> {
        if files.is_empty() {
            return Some(Vec::new());
        }
        let Some(python) = self.toolbox.find("kubernetes-validate").and_then(|script| interpreter(&script)) else {
            self.found
                .push("kubernetes: cannot find the Python interpreter of kubernetes-validate (its #! line)".into());
            return None;
        };
        let mut cmd = Command::new(python);
        cmd.arg("-c").arg(YAML_TO_JSON).args(files);
        let parsed = command::run_ok(&mut cmd, DEADLINE)
            .and_then(|done| serde_json::from_str::<Vec<Vec<Value>>>(&done.stdout).map_err(|e| e.to_string()));
        match parsed {
            Ok(docs) if docs.len() == files.len() => Some(docs),
            Ok(docs) => {
                self.found.push(format!("kubernetes: parsed {} of {} rendered files", docs.len(), files.len()));
                None
            }
            Err(e) => {
                self.found.push(format!("kubernetes: cannot parse the rendered manifests: {}", self.shown(&e)));
                None
            }
        }
    }

    /// Each combination's objects (its renders together) held to what its options call for.
    fn shapes(&mut self) {
        let files = self.files();
        let Some(docs) = self.parse(&files) else { return };
        let mut by_project: BTreeMap<PathBuf, (Options, Vec<Rendered>)> = BTreeMap::new();
        for (render, objects) in self.renders.iter().zip(docs) {
            by_project
                .entry(render.project.clone())
                .or_insert((render.options, Vec::new()))
                .1
                .push((render.what, objects));
        }
        let mut found = Vec::new();
        for (project, (options, renders)) in by_project {
            let variables = env_example(&project);
            if variables.is_empty() {
                found.push(format!("{}/{NAME}/.env.example: declares no variable", options.label()));
            }
            let at = format!("{}/{NAME}/{}", options.label(), if options.k8s == "helm" { "chart" } else { "k8s" });
            for problem in shape_problems(&options, &renders, &variables) {
                found.push(format!("{at}: {problem}"));
            }
        }
        let summary = self.matrix.summarize(&found.join("\n"));
        self.found.extend(summary.lines().filter(|l| !l.is_empty()).map(|l| format!("kubernetes: {l}")));
    }

    /// For every kustomize combination with a migration: the app and the migration rendered for
    /// release A, again for A from a fresh copy, and for B, as CI would after `kustomize edit set
    /// image` in both kustomizations.
    fn releases(&mut self, projects: &[(Options, PathBuf)]) {
        let projects: Vec<&(Options, PathBuf)> = projects.iter().filter(|(o, _)| o.db == "postgres").collect();
        if projects.is_empty() {
            return;
        }
        let Some(kubectl) = self.toolbox.find("kubectl") else { return };
        let mut files = Vec::new();
        let mut plan = Vec::new();
        for (options, dir) in projects {
            let label = options.label();
            let runs = [("a", RELEASES[0]), ("a-again", RELEASES[0]), ("b", RELEASES[1])];
            let mut rendered = Vec::new();
            for (run, tag) in runs {
                let copy = self.out.join("releases").join(&label).join(run);
                if let Err(e) =
                    copy_dir(&dir.join("k8s"), &copy.join("k8s")).and_then(|()| set_release(&copy.join("k8s"), tag))
                {
                    self.found.push(format!("{label}: release {tag}: {e}"));
                    continue;
                }
                for (part, kustomization) in [("migrate", "k8s/migrate"), ("app", "k8s")] {
                    let file = copy.join(format!("{part}.yaml"));
                    let mut cmd = Command::new(&kubectl);
                    cmd.arg("kustomize").arg(kustomization).current_dir(&copy);
                    if !self.render_to(
                        &mut cmd,
                        &format!("kubectl kustomize {kustomization} (release {tag})"),
                        &label,
                        &file,
                    ) {
                        continue;
                    }
                    files.push(file);
                    rendered.push((run, part));
                }
            }
            if rendered.len() == runs.len() * 2 {
                plan.push(label);
            }
        }
        let Some(docs) = self.parse(&files) else { return };
        let mut docs = docs.into_iter();
        let mut found = Vec::new();
        for label in plan {
            let mut next = || docs.next().unwrap_or_default();
            let a = (next(), next());
            let again = (next(), next());
            let b = (next(), next());
            found.extend(
                release_problems(&a, &again, &b).into_iter().map(|p| format!("{label}/{NAME}/k8s/migrate: {p}")),
            );
        }
        let summary = self.matrix.summarize(&found.join("\n"));
        self.found.extend(summary.lines().filter(|l| !l.is_empty()).map(|l| format!("kubernetes releases: {l}")));
    }
}

/// The variable names `.env.example` of `project` assigns.
fn env_example(project: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(project.join(".env.example")).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(name, _)| name.trim().to_string()))
        .filter(|name| !name.is_empty())
        .collect()
}

/// Copies the directory tree `from` to `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?.flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(())
}

/// Pins release `tag` in the app's and the migration's kustomization, as `kustomize edit set image
/// NAME=…:TAG` does: the `newTag` of their `images` entry.
fn set_release(k8s: &Path, tag: &str) -> Result<(), String> {
    for kustomization in [k8s.join("kustomization.yaml"), k8s.join("migrate/kustomization.yaml")] {
        let text = std::fs::read_to_string(&kustomization).map_err(|e| format!("{}: {e}", kustomization.display()))?;
        let text = set_new_tag(&text, tag).map_err(|e| format!("{}: {e}", kustomization.display()))?;
        std::fs::write(&kustomization, text).map_err(|e| format!("{}: {e}", kustomization.display()))?;
    }
    Ok(())
}

/// `text` with the value of its one `newTag:` line replaced by `tag`.
fn set_new_tag(text: &str, tag: &str) -> Result<String, String> {
    let mut replaced = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|line| match line.split_once("newTag:") {
            Some((indent, _)) if indent.trim().is_empty() => {
                replaced += 1;
                format!("{indent}newTag: \"{tag}\"")
            }
            _ => line.to_string(),
        })
        .collect();
    match replaced {
        1 => Ok(lines.join("\n") + "\n"),
        n => Err(format!("expected one `newTag:` line (the image of `kustomize edit set image`), found {n}")),
    }
}

/// `kind/name` of a Kubernetes object.
fn id(object: &Value) -> String {
    format!("{}/{}", object["kind"].as_str().unwrap_or("?"), object["metadata"]["name"].as_str().unwrap_or("?"))
}

fn of_kind<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

/// A name Kubernetes accepts for a Job (whose name becomes a label value of its pods).
fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// What the renders of one combination (`what`, objects) lack, given its options and the
/// variables of its `.env.example`.
fn shape_problems(options: &Options, renders: &[(&str, Vec<Value>)], variables: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let objects: Vec<Value> = renders.iter().flat_map(|(_, objects)| objects.iter().cloned()).collect();
    let component = |o: &&Value| o["metadata"]["labels"]["app.kubernetes.io/component"].as_str().map(str::to_owned);
    let deployments = of_kind(&objects, "Deployment");
    let jobs = of_kind(&objects, "Job");
    let web: Vec<&Value> = deployments.iter().copied().filter(|d| component(d).as_deref() == Some("web")).collect();
    let workers: Vec<&Value> =
        deployments.iter().copied().filter(|d| component(d).as_deref() == Some("worker")).collect();
    let expect = |found: &mut Vec<String>, what: &str, have: usize, want: usize| {
        if have != want {
            found.push(format!("{have} {what}, expected {want}"));
        }
    };
    expect(&mut found, "web Deployments (component web)", web.len(), 1);
    expect(&mut found, "worker Deployments (component worker)", workers.len(), usize::from(options.worker == "redis"));
    expect(&mut found, "migration Jobs", jobs.len(), usize::from(options.db == "postgres"));
    expect(&mut found, "Deployments in all", deployments.len(), web.len() + workers.len());
    for kind in ["Service", "NetworkPolicy", "ServiceAccount", "ConfigMap"] {
        if of_kind(&objects, kind).is_empty() {
            found.push(format!("no {kind}"));
        }
    }
    if options.k8s == "kustomize" {
        for (what, objects) in renders {
            let want = usize::from(*what == "kustomize k8s/migrate");
            if of_kind(objects, "Job").len() != want {
                found.push(format!("`{what}` renders {} Jobs, expected {want}", of_kind(objects, "Job").len()));
            }
        }
    }
    let config_maps: BTreeMap<&str, &Value> =
        of_kind(&objects, "ConfigMap").into_iter().filter_map(|c| Some((c["metadata"]["name"].as_str()?, c))).collect();
    let accounts: BTreeMap<&str, &Value> = of_kind(&objects, "ServiceAccount")
        .into_iter()
        .filter_map(|s| Some((s["metadata"]["name"].as_str()?, s)))
        .collect();
    let images: Vec<String> = deployments
        .iter()
        .chain(&jobs)
        .flat_map(|w| w["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default())
        .map(|c| c["image"].as_str().unwrap_or("?").to_string())
        .collect();
    if images.windows(2).any(|w| w[0] != w[1]) {
        found.push(format!("the processes run different images: {images:?}"));
    }
    for workload in deployments.iter().chain(&jobs) {
        let name = id(workload);
        let pod = &workload["spec"]["template"];
        let spec = &pod["spec"];
        if spec["securityContext"]["runAsNonRoot"] != true {
            found.push(format!("{name}: pod securityContext.runAsNonRoot is not true"));
        }
        if spec["automountServiceAccountToken"] != false {
            found.push(format!("{name}: automountServiceAccountToken is not false"));
        }
        let account = spec["serviceAccountName"].as_str().unwrap_or_default();
        match accounts.get(account) {
            None => found.push(format!("{name}: its service account `{account}` is not among the manifests")),
            Some(sa) if options.k8s == "helm" && workload["kind"] == "Job" => {
                // A pre-install hook runs before the release's own objects exist.
                if !hook_events(sa).contains(&"pre-install") {
                    found.push(format!("{name}: its service account `{account}` is not a pre-install hook, so it does not exist yet when the hook runs on the first install"));
                }
            }
            Some(_) => {}
        }
        let containers = spec["containers"].as_array().cloned().unwrap_or_default();
        if containers.is_empty() {
            found.push(format!("{name}: no containers"));
        }
        for container in &containers {
            let at = format!("{name} container {}", container["name"].as_str().unwrap_or("?"));
            let security = &container["securityContext"];
            for (field, want) in
                [("readOnlyRootFilesystem", true), ("allowPrivilegeEscalation", false), ("runAsNonRoot", true)]
            {
                if security[field] != want {
                    found.push(format!("{at}: securityContext.{field} is not {want}"));
                }
            }
            if !security["capabilities"]["drop"].as_array().is_some_and(|d| d.iter().any(|c| c == "ALL")) {
                found.push(format!("{at}: does not drop ALL capabilities"));
            }
            for bound in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    if container["resources"][bound][resource].is_null() {
                        found.push(format!("{at}: no resources.{bound}.{resource}"));
                    }
                }
            }
            let mut given: Vec<String> = container["env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["name"].as_str().map(str::to_owned))
                .collect();
            for source in container["envFrom"].as_array().into_iter().flatten() {
                let Some(map) = source["configMapRef"]["name"].as_str() else { continue };
                match config_maps.get(map) {
                    Some(map) => given.extend(map["data"].as_object().into_iter().flatten().map(|(k, _)| k.clone())),
                    None => found.push(format!("{at}: reads the ConfigMap `{map}`, which is not among the manifests")),
                }
            }
            let missing: Vec<&String> = variables.iter().filter(|v| !given.contains(v)).collect();
            if !missing.is_empty() {
                found.push(format!("{at}: lacks {missing:?} of .env.example"));
            }
            if (workload["kind"] == "Job" || component(workload).as_deref() == Some("worker"))
                && container["args"].as_array().is_none_or(Vec::is_empty)
            {
                found.push(format!("{at}: no args, so the image runs the web process"));
            }
        }
        if workload["kind"] == "Job" {
            if options.k8s == "helm" {
                let events = hook_events(workload);
                if !(events.contains(&"pre-install") && events.contains(&"pre-upgrade")) {
                    found.push(format!("{name}: not a pre-install,pre-upgrade hook (helm.sh/hook: {events:?})"));
                }
                if workload["metadata"]["annotations"]["helm.sh/hook-delete-policy"].is_null() {
                    found.push(format!(
                        "{name}: no helm.sh/hook-delete-policy, so the next upgrade cannot create it again"
                    ));
                }
            }
            continue;
        }
        found.extend(long_running_problems(&name, workload, &objects));
    }
    found
}

/// The events of an object's `helm.sh/hook` annotation.
fn hook_events(object: &Value) -> Vec<&str> {
    object["metadata"]["annotations"]["helm.sh/hook"]
        .as_str()
        .map_or_else(Vec::new, |h| h.split(',').map(str::trim).collect())
}

/// What a Deployment of the web process or the worker lacks: probes, scrape annotations, spreading,
/// an autoscaler and a disruption budget of its own.
fn long_running_problems(name: &str, deployment: &Value, objects: &[Value]) -> Vec<String> {
    let mut found = Vec::new();
    let pod = &deployment["spec"]["template"];
    let labels = pod["metadata"]["labels"].as_object().cloned().unwrap_or_default();
    let selects = |selector: &Value| {
        selector.as_object().is_some_and(|s| !s.is_empty() && s.iter().all(|(k, v)| labels.get(k) == Some(v)))
    };
    let container = &pod["spec"]["containers"][0];
    for (probe, path) in [("livenessProbe", "/health"), ("readinessProbe", "/ready")] {
        if container[probe]["httpGet"]["path"] != path {
            found.push(format!("{name}: {probe} does not GET {path}"));
        }
    }
    let port = container["ports"][0]["containerPort"].as_u64().map(|p| p.to_string());
    let annotations = &pod["metadata"]["annotations"];
    if annotations["prometheus.io/scrape"] != "true"
        || annotations["prometheus.io/path"] != "/metrics"
        || annotations["prometheus.io/port"].as_str() != port.as_deref()
    {
        found.push(format!(
            "{name}: the pod template lacks prometheus.io/scrape \"true\", /path /metrics and /port {port:?} annotations"
        ));
    }
    let spread = pod["spec"]["topologySpreadConstraints"].as_array().cloned().unwrap_or_default();
    if !spread.iter().any(|c| selects(&c["labelSelector"]["matchLabels"])) {
        found.push(format!("{name}: no topologySpreadConstraints over its own pods"));
    }
    let deployment_name = deployment["metadata"]["name"].as_str().unwrap_or_default();
    if !of_kind(objects, "HorizontalPodAutoscaler")
        .iter()
        .any(|h| h["spec"]["scaleTargetRef"]["name"] == deployment_name)
    {
        found.push(format!("{name}: no HorizontalPodAutoscaler scales it"));
    }
    if !of_kind(objects, "PodDisruptionBudget").iter().any(|p| selects(&p["spec"]["selector"]["matchLabels"])) {
        found.push(format!("{name}: no PodDisruptionBudget selects its pods"));
    }
    let is_web = labels.get("app.kubernetes.io/component").is_some_and(|c| c == "web");
    let served = of_kind(objects, "Service").iter().any(|s| selects(&s["spec"]["selector"]));
    if served != is_web {
        found.push(format!("{name}: {} by a Service", if served { "selected" } else { "not selected" }));
    }
    found
}

/// What makes applying the migration and then the app unsafe, from the renders (migration, app) of
/// release A, of A again from a fresh copy, and of release B.
fn release_problems(
    a: &(Vec<Value>, Vec<Value>),
    again: &(Vec<Value>, Vec<Value>),
    b: &(Vec<Value>, Vec<Value>),
) -> Vec<String> {
    let mut found = Vec::new();
    let job = |render: &(Vec<Value>, Vec<Value>)| -> Option<Value> {
        let jobs = of_kind(&render.0, "Job");
        (jobs.len() == 1).then(|| jobs[0].clone())
    };
    let (Some(job_a), Some(job_again), Some(job_b)) = (job(a), job(again), job(b)) else {
        return vec!["k8s/migrate does not render exactly one Job".into()];
    };
    let name = |job: &Value| job["metadata"]["name"].as_str().unwrap_or_default().to_string();
    for (job, tag) in [(&job_a, RELEASES[0]), (&job_b, RELEASES[1])] {
        let want = format!("{NAME}-migrate-{tag}");
        if name(job) != want {
            found.push(format!("release {tag}: the Job is named `{}`, expected `{want}`", name(job)));
        }
        if !is_dns_label(&name(job)) {
            found.push(format!(
                "release {tag}: the Job name `{}` is not a valid DNS label of at most 63 characters",
                name(job)
            ));
        }
    }
    if name(&job_a) == name(&job_b) {
        found.push(format!(
            "two releases render the same Job name `{}`: applying the second would change an immutable Job",
            name(&job_a)
        ));
    }
    if job_a != job_again {
        found.push(format!(
            "the same release renders two different Jobs ({} and {}): applying it twice would try to change an immutable Job",
            name(&job_a),
            name(&job_again)
        ));
    }
    for (render, tag) in [(a, RELEASES[0]), (b, RELEASES[1])] {
        let (migrate, app) = render;
        if !of_kind(app, "Job").is_empty() {
            found.push(format!("release {tag}: k8s (the app) still renders a Job"));
        }
        for object in migrate.iter().filter(|o| o["kind"] != "Job") {
            match app.iter().find(|o| id(o) == id(object)) {
                Some(same) if same == object => {}
                Some(_) => found.push(format!(
                    "release {tag}: {} differs between k8s/migrate and k8s, so each apply undoes the other",
                    id(object)
                )),
                None => found.push(format!("release {tag}: {} of k8s/migrate is not part of the app", id(object))),
            }
        }
        let image_of = |w: &Value| w["spec"]["template"]["spec"]["containers"][0]["image"].as_str().map(str::to_owned);
        let migrate_image = job(render).as_ref().and_then(image_of);
        for deployment in of_kind(app, "Deployment") {
            let image = image_of(deployment);
            if !image.as_deref().is_some_and(|i| i.ends_with(&format!(":{tag}"))) || image != migrate_image {
                found.push(format!(
                    "release {tag}: {} runs {image:?}, the migration {migrate_image:?}: both must run the release's image",
                    id(deployment)
                ));
            }
        }
    }
    found
}

#[test]
fn the_release_tag_replaces_the_one_new_tag_line() {
    let text = "images:\n  - name: demo-svc\n    newName: r.example/demo-svc\n    newTag: \"0.1.0\"\n";
    assert_eq!(
        set_new_tag(text, "abc").unwrap(),
        "images:\n  - name: demo-svc\n    newName: r.example/demo-svc\n    newTag: \"abc\"\n"
    );
    assert!(set_new_tag("images: []\n", "abc").unwrap_err().contains("found 0"));
    assert!(set_new_tag("# newTag: in a comment\n", "abc").unwrap_err().contains("found 0"));
}

#[test]
fn job_names_must_be_dns_labels() {
    assert!(is_dns_label("demo-svc-migrate-0123456789ab"));
    assert!(is_dns_label("demo-svc-migrate-0.1.0"));
    assert!(!is_dns_label("demo-svc-migrate-5000/demo-svc"));
    assert!(!is_dns_label(&"a".repeat(64)));
    assert!(!is_dns_label("-x"));
}

#[cfg(test)]
fn sample_release(tag: &str, config: &str) -> (Vec<Value>, Vec<Value>) {
    use serde_json::json;
    let cm = json!({"kind": "ConfigMap", "metadata": {"name": config}, "data": {"PORT": "8080"}});
    let pod = json!({"spec": {"containers": [{"image": format!("r/demo-svc:{tag}")}]}});
    let job =
        json!({"kind": "Job", "metadata": {"name": format!("demo-svc-migrate-{tag}")}, "spec": {"template": pod}});
    let deployment = json!({"kind": "Deployment", "metadata": {"name": "demo-svc"}, "spec": {"template": pod}});
    (vec![cm.clone(), job], vec![cm, deployment])
}

#[test]
fn releases_need_their_own_job_and_the_same_shared_objects() {
    let a = sample_release(RELEASES[0], "c-1");
    let b = sample_release(RELEASES[1], "c-1");
    assert_eq!(release_problems(&a, &a.clone(), &b), Vec::<String>::new());
    let problems = release_problems(&a, &a.clone(), &a.clone());
    assert!(problems.iter().any(|p| p.contains("two releases render the same Job name")), "{problems:?}");
    let drifted = sample_release(RELEASES[1], "c-2");
    let mixed = (drifted.0, b.1.clone());
    let problems = release_problems(&a, &a.clone(), &mixed);
    assert!(problems.iter().any(|p| p.contains("ConfigMap/c-2 of k8s/migrate is not part of the app")), "{problems:?}");
}

#[test]
fn a_deployment_without_probes_or_worker_is_reported() {
    use serde_json::json;
    let options = Options { worker: "redis", ..Options::defaults("none") };
    let deployment = json!({
        "kind": "Deployment",
        "metadata": {"name": "demo-svc", "labels": {"app.kubernetes.io/component": "web"}},
        "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {
            "serviceAccountName": "demo-svc", "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "app", "image": "i", "env": [{"name": "PORT", "value": "8080"}]}]
        }}}
    });
    let objects = vec![deployment, json!({"kind": "ServiceAccount", "metadata": {"name": "demo-svc"}})];
    let problems = shape_problems(&options, &[("kustomize k8s", objects)], &["PORT".into(), "LOG_LEVEL".into()]);
    for expected in [
        "0 worker Deployments",
        "livenessProbe does not GET /health",
        "readOnlyRootFilesystem is not true",
        "no resources.limits.memory",
        "lacks [\"LOG_LEVEL\"]",
        "no HorizontalPodAutoscaler",
        "no Service",
        "prometheus.io/scrape",
    ] {
        assert!(problems.iter().any(|p| p.contains(expected)), "no {expected:?} in {problems:?}");
    }
}
