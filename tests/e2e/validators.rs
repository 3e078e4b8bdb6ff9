//! The independent judges of TOOLS.md run over a stack's whole option matrix, each validator in one
//! process over every combination's files: hadolint, actionlint, check-jsonschema (GitHub
//! workflows, GitLab CI, CircleCI, Travis CI, Bamboo Specs, compose, Dependabot, Renovate),
//! npm-groovy-lint (Jenkinsfiles, failing on errors), the pipelines' agreement with the Makefile
//! and the Terraform (pipelines.rs), zizmor, yamllint with the generated
//! `.yamllint`, kubernetes-validate, terraform fmt and an HCL parse, dotenv-linter, shellcheck,
//! squawk and checkov (minus the checks listed with a reason in `checkov-skip.txt`), then
//! terraform validate and cfn-lint (`infra.rs`). First, every
//! combination must contain the files its options call for, so no validator can pass for want of
//! input. Each problem names the combination and file, as the validator printed them. The
//! Kubernetes manifests are also judged as rendered by kustomize and Helm (`k8s.rs`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::command;
use crate::matrix::Matrix;
use crate::project;
use crate::stopwatch::Stopwatch;
use crate::toolbox::Toolbox;
use crate::verdicts::{self, Fresh};

/// The rendered Kubernetes manifests (kustomize and Helm), judged as they are applied.
#[path = "k8s.rs"]
mod k8s;

/// How long one validator may take over a whole matrix.
const DEADLINE: Duration = Duration::from_secs(600);

/// Every problem the validators find in `matrix`.
pub fn problems(matrix: &Matrix, toolbox: &Toolbox) -> Vec<String> {
    let mut clock = Stopwatch::default();
    let mut found = missing_files(matrix);
    let mut judge = Judge { matrix, toolbox, found: Vec::new() };
    for (title, tool, args, select) in PER_FILE {
        clock.time(title, || judge.run(title, tool, args, matrix.fresh_files(title, select)));
    }
    clock.time("zizmor", || judge.zizmor());
    clock.time("yamllint", || judge.yamllint());
    clock.time("terraform fmt", || judge.terraform_fmt());
    clock.time("HCL parse", || judge.hcl_parse());
    clock.time("squawk", || {
        judge.per_config("squawk", (".squawk.toml", "--config"), &["--reporter", "gcc"], |dir| {
            project::files(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "sql")).collect()
        });
    });
    clock.time("checkov", || judge.checkov());
    clock.time("npm-groovy-lint", || {
        judge.run(
            "npm-groovy-lint",
            "npm-groovy-lint",
            &["--noserver", "--failon", "error", "--output", "txt"],
            matrix.fresh_files("npm-groovy-lint", |p| p == Path::new("Jenkinsfile")),
        );
    });
    found.append(&mut judge.found);
    found.extend(clock.time("infrastructure", || infra::problems(matrix, toolbox)));
    found.extend(clock.time("kubernetes", || k8s::problems(matrix, toolbox)));
    found.extend(clock.time("pipelines", || crate::pipelines::problems(matrix)));
    found.extend(clock.time("monitoring", || crate::monitoring::problems(matrix, toolbox)));
    eprintln!("validators, slowest first: {}", clock.summary());
    found
}

/// terraform validate, cfn-lint and the load balancer settings of the infrastructure code.
#[path = "infra.rs"]
mod infra;

/// Parses each file named on the command line with python-hcl2, printing `path: error` for each
/// one that fails; exits 1 if any did.
const HCL_PARSE: &str = r"
import sys, hcl2
bad = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            hcl2.load(f)
    except Exception as e:
        bad += 1
        print(f'{path}: {e}')
sys.exit(1 if bad else 0)
";

/// Picks files by their path inside a project.
type Selector = fn(&Path) -> bool;

/// Validators run once over every file they judge in the whole matrix: title, tool, arguments and
/// which files.
const PER_FILE: [(&str, &str, &[&str], Selector); 13] = [
    ("hadolint", "hadolint", &["--no-color", "--failure-threshold", "warning"], |p| p == Path::new("Dockerfile")),
    ("actionlint", "actionlint", &["-no-color"], is_workflow),
    ("GitHub workflow schema", "check-jsonschema", &["--builtin-schema", "vendor.github-workflows"], is_workflow),
    ("GitLab CI schema", "check-jsonschema", &["--builtin-schema", "vendor.gitlab-ci"], |p| {
        p == Path::new(".gitlab-ci.yml")
    }),
    ("CircleCI schema", "check-jsonschema", &["--builtin-schema", "vendor.circle-ci"], |p| {
        p == Path::new(".circleci/config.yml")
    }),
    ("Travis CI schema", "check-jsonschema", &["--builtin-schema", "vendor.travis"], |p| p == Path::new(".travis.yml")),
    ("Bamboo Specs schema", "check-jsonschema", &["--builtin-schema", "vendor.bamboo-spec"], |p| {
        p == Path::new("bamboo-specs/bamboo.yml")
    }),
    ("compose schema", "check-jsonschema", &["--builtin-schema", "vendor.compose-spec"], is_compose),
    ("Dependabot schema", "check-jsonschema", &["--builtin-schema", "vendor.dependabot"], |p| {
        p == Path::new(".github/dependabot.yml")
    }),
    ("Renovate schema", "check-jsonschema", &["--builtin-schema", "vendor.renovate"], |p| {
        p == Path::new("renovate.json")
    }),
    ("kubernetes-validate", "kubernetes-validate", &["--strict", "--quiet"], |p| {
        p.starts_with("k8s") && is_yaml(p) && p.file_name().is_some_and(|f| f != "kustomization.yaml")
    }),
    ("dotenv-linter", "dotenv-linter", &[], |p| p == Path::new(".env.example")),
    ("shellcheck", "shellcheck", &[], is_shell_script),
];

/// The files each combination must have, given its options.
fn missing_files(matrix: &Matrix) -> Vec<String> {
    let mut found = Vec::new();
    for (options, dir) in matrix.projects() {
        let mut expected = vec![
            "Dockerfile",
            ".dockerignore",
            ".env.example",
            ".gitignore",
            ".yamllint",
            "docker-compose.yml",
            "Makefile",
            "Procfile",
            "README.md",
        ];
        expected.extend(crate::pipelines::pipeline_file(options.ci));
        match options.ci {
            "github" => expected.push(".github/dependabot.yml"),
            "none" => {}
            _ => expected.push("renovate.json"),
        }
        if options.ci != "none" {
            expected.push("CI.md");
        }
        if options.cloud != "none" && options.iac != Some("cloudformation") {
            expected.extend(["terraform/versions.tf", "terraform/variables.tf", "terraform/outputs.tf"]);
        }
        if options.iac == Some("cloudformation") {
            expected.extend([infra::CFN_REGISTRY_TEMPLATE, infra::CFN_SERVICE_TEMPLATE, "cloudformation/README.md"]);
        }
        if options.worker == "redis" && options.cloud != "none" && options.iac != Some("cloudformation") {
            expected.push("terraform/redis.tf");
        }
        match options.k8s {
            "kustomize" if options.db == "postgres" => {
                expected.extend(["k8s/kustomization.yaml", "k8s/migrate/kustomization.yaml"]);
            }
            "kustomize" => expected.push("k8s/kustomization.yaml"),
            "helm" => expected.extend(["chart/Chart.yaml", "chart/values.yaml", "chart/values.schema.json"]),
            _ => {}
        }
        for path in expected.iter().filter(|p| !dir.join(p).is_file()) {
            found.push(format!("{}: missing {path}", options.label()));
        }
        let present = |path: &str| dir.join(path).exists();
        let unexpected = [
            (options.ci != "github", ".github"),
            (options.ci != "gitlab", ".gitlab-ci.yml"),
            (options.ci != "jenkins", "Jenkinsfile"),
            (options.ci != "circleci", ".circleci"),
            (options.ci != "travis", ".travis.yml"),
            (options.ci != "bamboo", "bamboo-specs"),
            (options.ci == "github" || options.ci == "none", "renovate.json"),
            (options.ci == "none", "CI.md"),
            (options.cloud == "none" || options.iac == Some("cloudformation"), "terraform"),
            (options.iac != Some("cloudformation"), "cloudformation"),
            (options.worker != "redis", "terraform/redis.tf"),
            (options.k8s != "kustomize", "k8s"),
            (options.k8s == "kustomize" && options.db != "postgres", "k8s/migrate"),
            (options.k8s != "helm", "chart"),
        ];
        for (_, path) in unexpected.iter().filter(|(absent, path)| *absent && present(path)) {
            found.push(format!("{}: has {path}, which its options exclude", options.label()));
        }
    }
    found
}

/// Runs validators and collects what they report.
struct Judge<'a> {
    matrix: &'a Matrix,
    toolbox: &'a Toolbox,
    found: Vec<String>,
}

impl Judge<'_> {
    /// Runs `tool args files…` once; a non-zero exit is a problem carrying its output.
    fn run(&mut self, title: &str, tool: &str, args: &[&str], files: Fresh<PathBuf>) {
        if files.is_empty() {
            return;
        }
        let mut cmd = self.toolbox.command(tool);
        cmd.args(args).args(&files.items).current_dir(self.matrix.root());
        if self.check(title, &mut cmd) {
            files.clean();
        }
    }

    /// Runs `cmd`; a non-zero exit is a problem carrying its output. Whether it passed.
    fn check(&mut self, title: &str, cmd: &mut Command) -> bool {
        match command::run(cmd, DEADLINE) {
            Ok(done) if done.status.success() => return true,
            Ok(done) => {
                let output = self.matrix.summarize(&done.output());
                self.found.push(format!("{title} ({}):\n{}", done.status, command::tail(output.trim(), 80)));
            }
            Err(e) => self.found.push(format!("{title}: {}", self.matrix.relative(&e))),
        }
        false
    }

    /// Runs `tool` once per distinct content of the projects' `config` file (given with its flag),
    /// over the `inputs` of every project sharing that content; a project without the file runs
    /// with the tool's defaults. Inputs are passed relative to the matrix root, the working
    /// directory, so that the config's ignore patterns see project-like paths.
    fn per_config(&mut self, tool: &str, config: (&str, &str), args: &[&str], inputs: impl Fn(&Path) -> Vec<PathBuf>) {
        let (config, flag) = config;
        let mut groups: BTreeMap<Option<String>, (PathBuf, Vec<PathBuf>)> = BTreeMap::new();
        for (_, dir) in self.matrix.projects() {
            let found = inputs(dir);
            if found.is_empty() {
                continue;
            }
            let content = std::fs::read_to_string(dir.join(config)).ok();
            let group = groups.entry(content).or_insert_with(|| (dir.join(config), Vec::new()));
            group.1.extend(found.iter().map(|p| p.strip_prefix(self.matrix.root()).unwrap_or(p).to_path_buf()));
        }
        for (content, (config_path, inputs)) in groups {
            let mut cmd = self.toolbox.command(tool);
            cmd.args(args);
            if content.is_some() {
                cmd.arg(flag).arg(&config_path);
            }
            cmd.args(&inputs).current_dir(self.matrix.root());
            self.check(tool, &mut cmd);
        }
    }

    /// `yamllint -s .` in each project, exactly as its README says: the generated `.yamllint`
    /// resolves `ignore-from-file` against the working directory, so one process per project.
    /// Their findings are reported together, paths prefixed with the combination.
    fn yamllint(&mut self) {
        let fresh = self.matrix.fresh_projects(
            "yamllint",
            |_| true,
            |p| is_yaml(p) || p == Path::new(".yamllint") || p == Path::new(".gitignore"),
            |_| String::new(),
        );
        let mut findings = Vec::new();
        for (_, dir) in &fresh.items {
            let mut cmd = self.toolbox.command("yamllint");
            cmd.args(["-s", "-f", "parsable", "."]).current_dir(dir);
            let prefix = format!("{}/", dir.strip_prefix(self.matrix.root()).unwrap_or(dir).display());
            match command::run(&mut cmd, DEADLINE) {
                Ok(done) if done.status.success() => {}
                Ok(done) => {
                    findings.extend(done.output().lines().map(|l| format!("{prefix}{}", l.trim_start_matches("./"))));
                }
                Err(e) => findings.push(format!("{prefix}: {e}")),
            }
        }
        if findings.is_empty() {
            fresh.clean();
        } else {
            self.found
                .push(format!("yamllint -s:\n{}", command::tail(&self.matrix.summarize(&findings.join("\n")), 80)));
        }
    }

    fn terraform_fmt(&mut self) {
        let Some(terraform) = self.toolbox.find("terraform") else { return };
        let mut cmd = Command::new(terraform);
        cmd.args(["fmt", "-check", "-recursive", "-diff", "-no-color"])
            .arg(self.matrix.root())
            .env("TF_CLI_CONFIG_FILE", "/dev/null");
        self.check("terraform fmt", &mut cmd);
    }

    /// Parses every `.tf` file with the python-hcl2 library that `hcl2tojson` runs on, in one process.
    fn hcl_parse(&mut self) {
        let files = self.matrix.fresh_files("HCL parse", |p| p.extension().is_some_and(|e| e == "tf"));
        if files.is_empty() {
            return;
        }
        let Some(python) = self.toolbox.find("hcl2tojson").and_then(|script| interpreter(&script)) else {
            self.found.push("HCL parse: cannot find the Python interpreter of hcl2tojson (its #! line)".into());
            return;
        };
        let mut cmd = Command::new(python);
        cmd.arg("-c").arg(HCL_PARSE).args(&files.items).current_dir(self.matrix.root());
        if self.check("HCL parse (python-hcl2)", &mut cmd) {
            files.clean();
        }
    }

    /// zizmor over every project with GitHub CI, its JSON findings shown one per line.
    fn zizmor(&mut self) {
        let fresh =
            self.matrix.fresh_projects("zizmor", |o| o.ci == "github", |p| p.starts_with(".github"), |_| String::new());
        if fresh.is_empty() {
            return;
        }
        let mut cmd = self.toolbox.command("zizmor");
        cmd.args(["--offline", "--no-progress", "--format", "json-v1"])
            .args(fresh.items.iter().map(|(_, dir)| dir))
            .current_dir(self.matrix.root());
        match command::run(&mut cmd, DEADLINE) {
            Ok(done) if done.status.success() => fresh.clean(),
            Ok(done) => {
                let findings = zizmor_findings(&done.stdout).unwrap_or_else(|| done.output());
                let summary = self.matrix.summarize(&findings);
                self.found.push(format!("zizmor ({}):\n{}", done.status, command::tail(summary.trim(), 80)));
            }
            Err(e) => self.found.push(format!("zizmor: {e}")),
        }
    }

    fn checkov(&mut self) {
        // The frameworks of what dozen generates. Left to itself checkov also tries every YAML and
        // JSON file as CloudFormation, Serverless, OpenAPI, … and renders each kustomization with
        // kubectl, which takes many minutes over a matrix and finds nothing the kubernetes
        // framework does not already check on the same manifests.
        let fresh = self.checkov_units();
        if !fresh.is_empty() {
            let tree = match self.link_tree(&fresh.items) {
                Ok(tree) => tree,
                Err(e) => return self.found.push(format!("checkov: {e}")),
            };
            let mut cmd = self.toolbox.command("checkov");
            cmd.arg("-d").arg(tree.path());
            let frameworks = [
                "dockerfile",
                "kubernetes",
                "terraform",
                "github_actions",
                "gitlab_ci",
                "circleci_pipelines",
                "secrets",
            ];
            if self.checkov_run(cmd, &frameworks) {
                fresh.clean();
            }
        }
        // CloudFormation in a run of its own over the templates only, for the same reason.
        let templates =
            self.matrix.fresh_files("checkov cloudformation", |p| p.starts_with("cloudformation") && is_yaml(p));
        if !templates.is_empty() {
            let mut cmd = self.toolbox.command("checkov");
            cmd.arg("-f").args(&templates.items);
            if self.checkov_run(cmd, &["cloudformation"]) {
                templates.clean();
            }
        }
    }

    /// What checkov reads, as units: each file, but a directory checkov reads as a whole (its graph
    /// checks relate resources across files: a NetworkPolicy to the pods it selects, a Terraform
    /// module's references) as one, each distinct unit once.
    fn checkov_units(&self) -> Fresh<Vec<PathBuf>> {
        const WHOLE: [&str; 5] = ["terraform", "k8s", "chart", ".github", ".circleci"];
        let mut candidates = Vec::new();
        for (_, dir) in self.matrix.projects() {
            let mut whole: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
            for file in project::files(dir) {
                let top = file.strip_prefix(dir).ok().and_then(|p| p.iter().next()).and_then(|c| c.to_str());
                match WHOLE.iter().find(|w| top == Some(**w)) {
                    Some(w) => whole.entry(w).or_default().push(file),
                    None => {
                        candidates.push((verdicts::key("checkov", "", dir, std::slice::from_ref(&file)), vec![file]));
                    }
                }
            }
            for files in whole.into_values() {
                candidates.push((verdicts::key("checkov", "", dir, &files), files));
            }
        }
        Fresh::select(candidates)
    }

    /// A temporary tree laid out like the matrix root holding only the files of `units` (linked,
    /// or copied where a link cannot be made), so findings name the same paths.
    fn link_tree(&self, units: &[Vec<PathBuf>]) -> Result<tempfile::TempDir, String> {
        let tree = tempfile::Builder::new()
            .prefix("dozen-e2e-checkov.")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        for file in units.iter().flatten() {
            let to = tree.path().join(file.strip_prefix(self.matrix.root()).unwrap_or(file));
            std::fs::create_dir_all(to.parent().unwrap_or(tree.path()))
                .and_then(|()| std::fs::hard_link(file, &to).or_else(|_| std::fs::copy(file, &to).map(drop)))
                .map_err(|e| format!("cannot link {} into {}: {e}", file.display(), tree.path().display()))?;
        }
        Ok(tree)
    }

    /// Runs checkov `cmd` with `frameworks` and reports every failed check. Whether it passed.
    fn checkov_run(&mut self, cmd: Command, frameworks: &[&str]) -> bool {
        match checkov_report(cmd, frameworks) {
            Ok(failures) if failures.is_empty() => true,
            Ok(failures) => {
                let summary = self.matrix.summarize(&failures.join("\n"));
                self.found.extend(summary.lines().map(|f| format!("checkov: {f}")));
                false
            }
            Err(e) => {
                self.found.push(format!("checkov: {}", self.matrix.relative(&e)));
                false
            }
        }
    }
}

/// Runs checkov `cmd`, which names its targets, with `frameworks` and without the checks of
/// `checkov-skip.txt`, offline: one line per failed check, or why there is no report.
pub fn checkov_report(mut cmd: Command, frameworks: &[&str]) -> Result<Vec<String>, String> {
    let skips = checkov_skips()?;
    cmd.args(["--skip-download", "--compact", "--quiet", "-o", "json", "--framework"]).args(frameworks);
    if !skips.is_empty() {
        cmd.arg("--skip-check").arg(skips.join(","));
    }
    cmd.env("BC_SKIP_MAPPING", "TRUE").env("LOG_LEVEL", "ERROR").env("ANSI_COLORS_DISABLED", "1");
    let done = command::run(&mut cmd, DEADLINE)?;
    match checkov_failures(&done.stdout) {
        Ok(failures) if failures.is_empty() && !done.status.success() => {
            Err(format!("exited {} without failed checks:\n{}", done.status, command::tail(&done.output(), 40)))
        }
        Ok(failures) => Ok(failures),
        Err(e) => Err(format!("({}) {e}:\n{}", done.status, command::tail(&done.output(), 40))),
    }
}

/// The check ids of `checkov-skip.txt` (`CKV_ID  # reason` lines); a line without a reason or
/// with a malformed id is an error, so a skip is always explained.
fn checkov_skips() -> Result<Vec<String>, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/checkov-skip.txt");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_skips(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_skips(text: &str) -> Result<Vec<String>, String> {
    let id = regex::Regex::new(r"^CKV2?_[A-Z0-9]+_\d+$|^CKV_SECRET_\d+$").unwrap();
    let mut ids = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (check, reason) = line.split_once('#').map_or((line, ""), |(c, r)| (c.trim(), r.trim()));
        if !id.is_match(check) {
            return Err(format!("line {}: `{check}` is not a checkov check id", number + 1));
        }
        if reason.is_empty() {
            return Err(format!("line {}: {check} has no `# reason`", number + 1));
        }
        ids.push(check.to_string());
    }
    Ok(ids)
}

/// One line per failed check (and per file checkov could not parse) in checkov's JSON output,
/// which is one report object, or a list of them when several frameworks found files.
fn checkov_failures(stdout: &str) -> Result<Vec<String>, String> {
    let start = stdout.find(['[', '{']).ok_or("no JSON report on stdout")?;
    let report: Value = serde_json::from_str(&stdout[start..]).map_err(|e| format!("unreadable JSON report: {e}"))?;
    let reports = match report {
        Value::Array(reports) => reports,
        single => vec![single],
    };
    let mut failures = Vec::new();
    for report in &reports {
        let framework = report["check_type"].as_str().unwrap_or("?");
        for check in report["results"]["failed_checks"].as_array().into_iter().flatten() {
            failures.push(format!(
                "{} {} [{framework}] {}: {} ({})",
                check["file_path"].as_str().unwrap_or("?").trim_start_matches('/'),
                check["file_line_range"]
                    .as_array()
                    .and_then(|r| r.first())
                    .and_then(Value::as_u64)
                    .map(|l| format!("line {l}"))
                    .unwrap_or_default(),
                check["check_id"].as_str().unwrap_or("?"),
                check["check_name"].as_str().unwrap_or("?"),
                check["resource"].as_str().unwrap_or("?"),
            ));
        }
        for file in report["results"]["parsing_errors"].as_array().into_iter().flatten() {
            failures.push(format!("[{framework}] cannot parse {}", file.as_str().unwrap_or("?")));
        }
    }
    Ok(failures)
}

/// `file:line audit: description (annotation)` for each finding of zizmor's JSON output.
fn zizmor_findings(stdout: &str) -> Option<String> {
    let findings: Vec<Value> = serde_json::from_str(stdout).ok()?;
    let lines: Vec<String> = findings
        .iter()
        .map(|finding| {
            let location = &finding["locations"][0];
            format!(
                "{}:{} {}: {} ({})",
                location["symbolic"]["key"]["Local"]["verbatim_path"].as_str().unwrap_or("?"),
                location["concrete"]["location"]["start_point"]["row"].as_u64().map_or(0, |row| row + 1),
                finding["ident"].as_str().unwrap_or("?"),
                finding["desc"].as_str().unwrap_or("?"),
                location["symbolic"]["annotation"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    Some(lines.join("\n"))
}

fn is_workflow(path: &Path) -> bool {
    path.starts_with(".github/workflows") && is_yaml(path)
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

fn is_compose(path: &Path) -> bool {
    ["docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"].iter().any(|n| path == Path::new(n))
}

/// `*.sh`, and any file whose first line is a POSIX shell or bash shebang (such as `mvnw`).
fn is_shell_script(path: &Path) -> bool {
    if path.extension().is_some_and(|e| e == "sh") {
        return true;
    }
    let Ok(text) = std::fs::read(path) else { return false };
    let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    first.starts_with("#!")
        && ["/sh", "/bash", "env sh", "env bash", "/dash"].iter().any(|s| first.trim_end().ends_with(s))
}

/// The interpreter named on the `#!` line of `script`.
fn interpreter(script: &Path) -> Option<OsString> {
    let text = std::fs::read_to_string(script).ok()?;
    let line = text.lines().next()?.strip_prefix("#!")?;
    line.split_whitespace().next().map(OsString::from)
}

#[test]
fn skips_need_a_valid_id_and_a_reason() {
    assert_eq!(
        parse_skips("# header\n\nCKV_DOCKER_2  # healthcheck is in k8s\nCKV2_K8S_6 # netpol\n").unwrap(),
        ["CKV_DOCKER_2", "CKV2_K8S_6"]
    );
    assert!(parse_skips("CKV_DOCKER_2\n").unwrap_err().contains("no `# reason`"));
    assert!(parse_skips("DL3008 # not checkov\n").unwrap_err().contains("line 1"));
}

#[test]
fn the_committed_skip_list_parses() {
    checkov_skips().unwrap();
}

#[test]
fn checkov_reports_are_read_as_one_or_many() {
    let one = r#"{"check_type":"dockerfile","results":{"failed_checks":[{"check_id":"CKV_DOCKER_3","check_name":"Ensure that a user for the container has been created","file_path":"/postgres-github-aws-terraform-kustomize-none/demo-svc/Dockerfile","file_line_range":[1,20],"resource":"Dockerfile."}]}}"#;
    let failures = checkov_failures(one).unwrap();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with(
            "postgres-github-aws-terraform-kustomize-none/demo-svc/Dockerfile line 1 [dockerfile] CKV_DOCKER_3"
        ),
        "{failures:?}"
    );
    let many = format!(
        r#"[{one}, {{"check_type":"kubernetes","results":{{"failed_checks":[],"parsing_errors":["/x/k8s/a.yaml"]}}}}]"#
    );
    assert_eq!(checkov_failures(&many).unwrap().len(), 2);
    assert!(checkov_failures("garbage").is_err());
}

#[test]
fn zizmor_findings_are_one_line_each() {
    let json = r#"[{"ident":"dependabot-cooldown","desc":"insufficient cooldown","locations":[{"symbolic":{"key":{"Local":{"verbatim_path":"c/demo-svc/.github/dependabot.yml"}},"annotation":"less than 7"},"concrete":{"location":{"start_point":{"row":4,"column":4}}}}]}]"#;
    assert_eq!(
        zizmor_findings(json).unwrap(),
        "c/demo-svc/.github/dependabot.yml:5 dependabot-cooldown: insufficient cooldown (less than 7)"
    );
    assert!(zizmor_findings("not json").is_none());
}

#[test]
fn shell_scripts_are_found_by_extension_or_shebang() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).unwrap();
        dir.path().join(name)
    };
    assert!(is_shell_script(&write("mvnw", "#!/bin/sh\necho\n")));
    assert!(is_shell_script(&write("run", "#!/usr/bin/env bash\n")));
    assert!(is_shell_script(&write("x.sh", "echo\n")));
    assert!(!is_shell_script(&write("mvnw.cmd", "@REM\n")));
    assert!(!is_shell_script(&write("tool", "#!/usr/bin/env python3\n")));
}
