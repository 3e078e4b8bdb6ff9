//! The infrastructure code of the matrix, judged by the tools that deploy it, once over the whole
//! matrix like every validator:
//!
//! - `terraform init -backend=false -plugin-dir=MIRROR` and `terraform validate` for every
//!   `cloud=aws` + `iac=terraform` combination, on a copy of its `terraform/` directory, against a
//!   filesystem mirror of the `hashicorp/aws` provider found among the standard plugin locations
//!   and `/opt/*` (one plugin cache shared by every run). The only change to the copy is a
//!   `*_override.tf` that pins the aws provider to the mirrored version. Without terraform or a
//!   mirror the step is skipped with a printed reason; `cloud=gcp` is always skipped (no mirror of
//!   `hashicorp/google` exists here), also with a printed reason.
//! - `cfn-lint` over every CloudFormation template (errors and warnings are problems).
//! - The load balancer settings the service's shutdown and outage behaviour depend on, in both
//!   Terraform and CloudFormation: health check on `/health` (liveness, never `/ready`) and an
//!   explicit 60 s idle timeout.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::command;
use crate::matrix::Matrix;
use crate::project::Options;
use crate::stopwatch::Stopwatch;
use crate::toolbox::Toolbox;

/// How long one `terraform init` or `validate`, or the cfn-lint run over the matrix, may take.
const DEADLINE: Duration = Duration::from_secs(600);

/// The file written into each copy to pin the aws provider to the mirrored version.
const OVERRIDE_FILE: &str = "e2e_provider_override.tf";

/// Every problem found in the matrix's infrastructure code.
pub fn problems(matrix: &Matrix, toolbox: &Toolbox) -> Vec<String> {
    let mut clock = Stopwatch::default();
    let mut found = load_balancer_settings(matrix);
    found.extend(clock.time("terraform validate", || terraform_validate(matrix, toolbox)));
    found.extend(clock.time("cfn-lint", || cfn_lint(matrix, toolbox)));
    eprintln!("infrastructure, slowest first: {}", clock.summary());
    found
}

fn is_aws_terraform(options: &Options) -> bool {
    options.cloud == "aws" && options.iac == Some("terraform")
}

fn is_aws_cloudformation(options: &Options) -> bool {
    options.cloud == "aws" && options.iac == Some("cloudformation")
}

/// The CloudFormation template of the image repository, deployed first.
pub const CFN_REGISTRY_TEMPLATE: &str = "cloudformation/registry.yaml";

/// The CloudFormation template of everything else, holding the load balancer.
pub const CFN_SERVICE_TEMPLATE: &str = "cloudformation/service.yaml";

/// Health check path and idle timeout of the load balancer of every AWS combination.
fn load_balancer_settings(matrix: &Matrix) -> Vec<String> {
    let mut found = Vec::new();
    for (options, dir) in matrix.projects() {
        let (file, path, idle) = if is_aws_terraform(options) {
            let Ok(text) = std::fs::read_to_string(dir.join("terraform/alb.tf")) else { continue };
            let path = hcl_block(&text, r#"resource "aws_lb_target_group""#)
                .and_then(|tg| hcl_block(tg, "health_check"))
                .and_then(|hc| hcl_attribute(hc, "path"));
            let idle = hcl_block(&text, r#"resource "aws_lb" "#).and_then(|lb| hcl_attribute(lb, "idle_timeout"));
            ("terraform/alb.tf", path, idle)
        } else if is_aws_cloudformation(options) {
            let Ok(text) = std::fs::read_to_string(dir.join(CFN_SERVICE_TEMPLATE)) else { continue };
            let path = yaml_values(&text, "HealthCheckPath").into_iter().next();
            let idle = cfn_key_value(&text, "idle_timeout.timeout_seconds");
            (CFN_SERVICE_TEMPLATE, path, idle)
        } else {
            continue;
        };
        if path.as_deref() != Some("/health") {
            found.push(format!(
                "{}/{file}: the target group's health check must be the liveness route /health (ECS replaces \
                 targets that fail it, so /ready would kill every task during a database outage); found {path:?}",
                options.label()
            ));
        }
        if idle.as_deref() != Some("60") {
            found.push(format!(
                "{}/{file}: the load balancer needs an explicit idle timeout of 60 s (below the service's \
                 keep-alive); found {idle:?}",
                options.label()
            ));
        }
    }
    found
}

/// `terraform validate` of a copy of every aws + terraform combination's `terraform/`.
fn terraform_validate(matrix: &Matrix, toolbox: &Toolbox) -> Vec<String> {
    let gcp = matrix.projects().iter().filter(|(o, _)| o.cloud == "gcp").count();
    if gcp > 0 {
        eprintln!(
            "[infra] terraform validate skipped for {gcp} cloud=gcp combinations: there is no filesystem \
             mirror of the hashicorp/google (or hashicorp/random) provider here, and providers cannot be downloaded"
        );
    }
    // Terraform's verdict depends on the directory alone: each distinct one is validated once.
    let fresh = matrix.fresh_projects(
        "terraform validate",
        is_aws_terraform,
        |p| p.starts_with("terraform"),
        |_| String::new(),
    );
    if fresh.skipped > 0 {
        eprintln!("[infra] terraform validate: {} combinations share a directory validated already", fresh.skipped);
    }
    if fresh.is_empty() {
        return Vec::new();
    }
    let projects = &fresh.items;
    let Some(terraform) = toolbox.find("terraform") else {
        eprintln!(
            "[infra] terraform validate skipped for {} cloud=aws iac=terraform combinations: terraform is not on PATH",
            projects.len()
        );
        return Vec::new();
    };
    let Some((mirror, version)) = find_mirror("aws", &platform()) else {
        eprintln!(
            "[infra] terraform validate skipped for {} cloud=aws iac=terraform combinations: no filesystem mirror \
             holding registry.terraform.io/hashicorp/aws/<version>/{} in {}",
            projects.len(),
            platform(),
            mirror_candidates().iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        return Vec::new();
    };
    eprintln!(
        "[infra] terraform validate: {} combinations against hashicorp/aws {version} from {}",
        projects.len(),
        mirror.display()
    );
    let cache = plugin_cache();
    if let Err(e) = std::fs::create_dir_all(&cache) {
        return vec![format!("terraform validate: cannot create the plugin cache {}: {e}", cache.display())];
    }
    let began = std::time::Instant::now();
    let mut found = Vec::new();
    for (options, dir) in projects {
        if let Err(e) = validate_copy(&terraform, &dir.join("terraform"), &mirror, &version, &cache) {
            found.push(format!("terraform validate {}: {}", options.label(), matrix.relative(&e)));
        }
    }
    eprintln!(
        "[infra] terraform validate: {} of {} combinations failed, in {:.0}s",
        found.len(),
        projects.len(),
        began.elapsed().as_secs_f64()
    );
    if found.is_empty() {
        fresh.clean();
    }
    found
}

/// Copies `source` to a temporary directory, pins the provider there and runs init and validate.
fn validate_copy(terraform: &Path, source: &Path, mirror: &Path, version: &str, cache: &Path) -> Result<(), String> {
    let work = tempfile::Builder::new()
        .prefix("dozen-e2e-terraform.")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    copy_tree(source, work.path()).map_err(|e| format!("cannot copy {}: {e}", source.display()))?;
    std::fs::write(work.path().join(OVERRIDE_FILE), provider_override("aws", version))
        .map_err(|e| format!("cannot write {OVERRIDE_FILE}: {e}"))?;
    let run = |args: &[&str]| -> Result<(), String> {
        let mut cmd = Command::new(terraform);
        cmd.args(args)
            .current_dir(work.path())
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("TF_PLUGIN_CACHE_DIR", cache)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1");
        let done = command::run(&mut cmd, DEADLINE)?;
        if done.status.success() {
            Ok(())
        } else {
            let shown = done.output().replace(&work.path().display().to_string(), "terraform");
            Err(format!(
                "`terraform {}` failed ({}):\n{}",
                args.join(" "),
                done.status,
                command::tail(shown.trim(), 40)
            ))
        }
    };
    let plugin_dir = format!("-plugin-dir={}", mirror.display());
    run(&["init", "-backend=false", &plugin_dir, "-input=false", "-no-color"])?;
    run(&["validate", "-no-color"])
}

/// An override file that pins `hashicorp/<provider>` to exactly `version`.
fn provider_override(provider: &str, version: &str) -> String {
    format!(
        "# Written by dozen's end-to-end tier into a copy: the provider mirror holds this version only.\n\
         terraform {{\n  required_providers {{\n    {provider} = {{\n      source  = \"hashicorp/{provider}\"\n      \
         version = \"{version}\"\n    }}\n  }}\n}}\n"
    )
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for file in crate::project::files(from) {
        let relative = file.strip_prefix(from).unwrap_or(&file);
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&file, target)?;
    }
    Ok(())
}

/// The plugin cache shared by every `terraform init` of every run: beside the tier's build cache.
fn plugin_cache() -> PathBuf {
    crate::tier::cache_dir().join("terraform-plugin-cache")
}

/// Terraform's name of this machine's platform, such as `linux_amd64`.
fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// Where Terraform looks for providers on its own (the implied local mirror directories), then
/// every directory under `/opt` and its `plugins/`.
fn mirror_candidates() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if let Some(home) = &home {
        dirs.push(home.join(".terraform.d/plugins"));
    }
    match std::env::var_os("XDG_DATA_HOME") {
        Some(data) => dirs.push(PathBuf::from(data).join("terraform/plugins")),
        None => dirs.extend(home.map(|h| h.join(".local/share/terraform/plugins"))),
    }
    let data_dirs = std::env::var("XDG_DATA_DIRS").unwrap_or_else(|_| "/usr/local/share:/usr/share".into());
    dirs.extend(data_dirs.split(':').filter(|d| !d.is_empty()).map(|d| Path::new(d).join("terraform/plugins")));
    let mut opt: Vec<PathBuf> =
        std::fs::read_dir("/opt").into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    opt.sort();
    for dir in opt {
        dirs.push(dir.join("plugins"));
        dirs.push(dir);
    }
    dirs
}

/// The first candidate mirror holding `hashicorp/<provider>` for `platform`, and its version.
fn find_mirror(provider: &str, platform: &str) -> Option<(PathBuf, String)> {
    mirror_candidates()
        .into_iter()
        .find_map(|dir| mirrored_version(&dir, provider, platform).map(|version| (dir, version)))
}

/// The newest version of `hashicorp/<provider>` unpacked in the mirror `dir` for `platform`
/// (`dir/registry.terraform.io/hashicorp/<provider>/<version>/<platform>/terraform-provider-…`).
fn mirrored_version(dir: &Path, provider: &str, platform: &str) -> Option<String> {
    let versions = dir.join("registry.terraform.io/hashicorp").join(provider);
    let mut found: Vec<semver::Version> = std::fs::read_dir(&versions)
        .ok()?
        .flatten()
        .filter_map(|entry| semver::Version::parse(&entry.file_name().to_string_lossy()).ok())
        .filter(|version| {
            let build = versions.join(version.to_string()).join(platform);
            std::fs::read_dir(build)
                .into_iter()
                .flatten()
                .flatten()
                .any(|f| f.file_name().to_string_lossy().starts_with(&format!("terraform-provider-{provider}")))
        })
        .collect();
    found.sort();
    found.pop().map(|v| v.to_string())
}

/// cfn-lint over every CloudFormation template of the matrix, in one process.
fn cfn_lint(matrix: &Matrix, toolbox: &Toolbox) -> Vec<String> {
    let fresh = matrix.fresh_files("cfn-lint", |p| {
        p.starts_with("cloudformation") && p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    });
    let templates = &fresh.items;
    if templates.is_empty() {
        return Vec::new();
    }
    if toolbox.find("cfn-lint").is_none() {
        return vec![format!(
            "cfn-lint not found (needed for {} CloudFormation templates); install it with `bash scripts/install-tools.sh`",
            templates.len()
        )];
    }
    let relative: Vec<&Path> = templates.iter().map(|p| p.strip_prefix(matrix.root()).unwrap_or(p)).collect();
    let mut cmd = toolbox.command("cfn-lint");
    cmd.args(["--format", "parseable", "--non-zero-exit-code", "warning", "--"])
        .args(&relative)
        .current_dir(matrix.root());
    eprintln!("[infra] cfn-lint: {} CloudFormation templates", templates.len());
    match command::run(&mut cmd, DEADLINE) {
        Ok(done) if done.status.success() => {
            fresh.clean();
            Vec::new()
        }
        Ok(done) => {
            vec![format!("cfn-lint ({}):\n{}", done.status, command::tail(matrix.summarize(&done.output()).trim(), 80))]
        }
        Err(e) => vec![format!("cfn-lint: {}", matrix.relative(&e))],
    }
}

/// The body (between the braces) of the first block of `text` whose header line starts with
/// `header` and ends with `{`.
fn hcl_block<'a>(text: &'a str, header: &str) -> Option<&'a str> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with(header) && trimmed.ends_with('{') {
            let start = offset + line.find('{').map_or(0, |i| i + 1);
            let mut depth = 1;
            for (i, c) in text[start..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(&text[start..start + i]);
                        }
                    }
                    _ => {}
                }
            }
            return None;
        }
        offset += line.len();
    }
    None
}

/// The value of the attribute `name` at the top level of a block body (quotes removed).
fn hcl_attribute(body: &str, name: &str) -> Option<String> {
    let mut depth = 0usize;
    for line in body.lines() {
        let code = line.split('#').next().unwrap_or_default();
        if depth == 0
            && let Some((key, value)) = code.split_once('=')
            && key.trim() == name
        {
            return Some(value.trim().trim_matches('"').to_string());
        }
        depth = (depth + code.matches('{').count()).saturating_sub(code.matches('}').count());
    }
    None
}

/// Every value of a `key: value` line in YAML text (quotes removed).
fn yaml_values(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches("- ");
            let (k, v) = line.split_once(':')?;
            (k.trim() == key).then(|| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        })
        .collect()
}

/// The `Value` of the `- Key: <key>` / `Value: …` pair in CloudFormation YAML (load balancer
/// attributes are written this way).
fn cfn_key_value(text: &str, key: &str) -> Option<String> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    while let Some(line) = lines.next() {
        let line = line.trim_start_matches("- ");
        if line.strip_prefix("Key:").is_some_and(|k| k.trim().trim_matches(|c| c == '"' || c == '\'') == key) {
            let next = lines.next()?.trim_start_matches("- ");
            return next.strip_prefix("Value:").map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string());
        }
    }
    None
}

#[test]
fn hcl_blocks_and_attributes_are_found_at_their_level() {
    let text = r#"
resource "aws_lb" "this" {
  name         = "x-${var.name}"
  idle_timeout = 60 # seconds

  access_logs {
    idle_timeout = 5
  }
}

resource "aws_lb_target_group" "this" {
  health_check {
    path    = "/health"
    matcher = "200"
  }
}
"#;
    let lb = hcl_block(text, r#"resource "aws_lb" "#).unwrap();
    assert_eq!(hcl_attribute(lb, "idle_timeout").as_deref(), Some("60"));
    assert_eq!(hcl_attribute(lb, "name").as_deref(), Some("x-${var.name}"));
    let tg = hcl_block(text, r#"resource "aws_lb_target_group""#).unwrap();
    assert_eq!(hcl_attribute(tg, "path"), None, "only at the block's own level");
    assert_eq!(hcl_attribute(hcl_block(tg, "health_check").unwrap(), "path").as_deref(), Some("/health"));
    assert!(hcl_block(text, "resource \"aws_ecs_service\"").is_none());
    assert!(hcl_block("health_check {\n  path = 1\n", "health_check").is_none(), "unclosed");
}

#[test]
fn cloudformation_values_are_read_from_yaml_text() {
    let text = "  TargetGroup:\n    Properties:\n      HealthCheckPath: \"/health\"\n      LoadBalancerAttributes:\n        - Key: deletion_protection.enabled\n          Value: true\n        - Key: idle_timeout.timeout_seconds\n          Value: '60'\n";
    assert_eq!(yaml_values(text, "HealthCheckPath"), ["/health"]);
    assert_eq!(cfn_key_value(text, "idle_timeout.timeout_seconds").as_deref(), Some("60"));
    assert_eq!(cfn_key_value(text, "deletion_protection.enabled").as_deref(), Some("true"));
    assert_eq!(cfn_key_value(text, "routing.http2.enabled"), None);
}

#[test]
fn the_newest_mirrored_version_with_this_platforms_build_is_chosen() {
    let mirror = tempfile::tempdir().unwrap();
    let put = |version: &str, platform: &str| {
        let dir = mirror.path().join("registry.terraform.io/hashicorp/aws").join(version).join(platform);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("terraform-provider-aws_v{version}_x5")), "").unwrap();
    };
    assert_eq!(mirrored_version(mirror.path(), "aws", "linux_amd64"), None);
    put("5.9.0", "linux_amd64");
    put("5.100.0", "linux_amd64");
    put("6.0.0", "darwin_arm64");
    std::fs::create_dir_all(mirror.path().join("registry.terraform.io/hashicorp/aws/7.0.0/linux_amd64")).unwrap();
    std::fs::create_dir_all(mirror.path().join("registry.terraform.io/hashicorp/aws/not-a-version")).unwrap();
    assert_eq!(mirrored_version(mirror.path(), "aws", "linux_amd64").as_deref(), Some("5.100.0"));
    assert_eq!(mirrored_version(mirror.path(), "google", "linux_amd64"), None);
}

#[test]
fn the_override_pins_the_provider_and_is_an_override_file() {
    let text = provider_override("aws", "5.100.0");
    assert!(OVERRIDE_FILE.ends_with("_override.tf"));
    let block = hcl_block(&text, "aws = {").unwrap();
    assert_eq!(hcl_attribute(block, "version").as_deref(), Some("5.100.0"));
    assert_eq!(hcl_attribute(block, "source").as_deref(), Some("hashicorp/aws"));
}
