//! The generated pipelines against the Makefile and the Terraform, over a stack's whole matrix.
//! Every CI system must name the same stages (lint, audit, test, and the image build) and run the
//! same `make` targets, each of them one the Makefile defines, so the six systems cannot drift
//! from each other or from a laptop. Where the pipeline pushes with an OIDC token, the subject the
//! Terraform trusts (IAM role condition, Workload Identity attribute condition) must be the one that
//! system's token carries for the branch the pipeline pushes from, and that branch must be `main`.

use std::collections::BTreeSet;
use std::path::Path;

use regex::Regex;

use crate::matrix::Matrix;
use crate::project::Options;

/// The pipeline file of each CI system.
pub fn pipeline_file(ci: &str) -> Option<&'static str> {
    Some(match ci {
        "github" => ".github/workflows/ci.yml",
        "gitlab" => ".gitlab-ci.yml",
        "jenkins" => "Jenkinsfile",
        "circleci" => ".circleci/config.yml",
        "travis" => ".travis.yml",
        "bamboo" => "bamboo-specs/bamboo.yml",
        _ => return None,
    })
}

/// Every disagreement between the pipelines, the Makefiles and the Terraform of `matrix`.
pub fn problems(matrix: &Matrix) -> Vec<String> {
    let mut found = Vec::new();
    for (options, dir) in matrix.projects() {
        let Some(file) = pipeline_file(options.ci) else { continue };
        let read = |path: &str| std::fs::read_to_string(dir.join(path)).map_err(|e| format!("{path}: {e}"));
        let (pipeline, makefile) = match (read(file), read("Makefile")) {
            (Ok(p), Ok(m)) => (p, m),
            (Err(e), _) | (_, Err(e)) => {
                found.push(format!("{}: {e}", options.label()));
                continue;
            }
        };
        let mut report = |problem: String| found.push(format!("{}: {file}: {problem}", options.label()));
        for problem in stage_problems(options.ci, &pipeline) {
            report(problem);
        }
        for problem in make_problems(options, &pipeline, &makefile) {
            report(problem);
        }
        for problem in trust_problems(options, &pipeline, dir) {
            report(problem);
        }
    }
    found
}

/// The stages every pipeline names (the image build is `build` or `image`).
const STAGES: [&str; 3] = ["lint", "audit", "test"];

fn stage_problems(ci: &str, pipeline: &str) -> Vec<String> {
    let names: BTreeSet<String> = stage_names(ci, pipeline).into_iter().map(|s| s.to_lowercase()).collect();
    let mut problems: Vec<String> = STAGES
        .iter()
        .filter(|s| !names.contains(**s))
        .map(|s| format!("names no `{s}` stage (it names {names:?})"))
        .collect();
    if !names.contains("build") && !names.contains("image") {
        problems.push(format!("names no `build` or `image` stage (it names {names:?})"));
    }
    problems
}

/// The stage (or job) names a pipeline declares, in that system's own structure.
pub fn stage_names(ci: &str, pipeline: &str) -> Vec<String> {
    let capture = |pattern: &str, text: &str| -> Vec<String> {
        Regex::new(pattern).unwrap().captures_iter(text).map(|c| c[1].to_string()).collect()
    };
    let after = |key: &str| -> String {
        let start = pipeline.lines().position(|l| l == key).map_or(pipeline.lines().count(), |i| i + 1);
        pipeline.lines().skip(start).take_while(|l| l.is_empty() || l.starts_with(' ')).collect::<Vec<_>>().join("\n")
    };
    match ci {
        "jenkins" => capture(r"stage\('([^']+)'\)", pipeline),
        "github" => capture(r"(?m)^  ([a-z][a-z0-9_-]*):$", &after("jobs:")),
        "gitlab" | "travis" => capture(r"(?m)^  - ([a-z]+)$", &after("stages:")),
        "bamboo" => capture(r"(?m)^  - ([A-Za-z]+):$", &after("stages:")),
        "circleci" => capture(r"(?m)^      - ([a-z]+):?$", &after("workflows:")),
        _ => Vec::new(),
    }
}

fn make_problems(options: &Options, pipeline: &str, makefile: &str) -> Vec<String> {
    let ran = make_targets(pipeline);
    let defined = makefile_targets(makefile);
    let mut wanted: BTreeSet<String> = ["build", "lint", "audit", "test"].iter().map(|s| (*s).to_string()).collect();
    if options.db == "postgres" {
        wanted.insert("migrate".into());
    }
    let mut problems = Vec::new();
    for target in wanted.difference(&ran) {
        problems.push(format!("never runs `make {target}`"));
    }
    for target in ran.difference(&wanted) {
        problems.push(format!("runs `make {target}`, which no pipeline stage calls for"));
    }
    for target in wanted.difference(&defined) {
        problems.push(format!("the Makefile has no `{target}` target"));
    }
    problems
}

/// The targets of every `make TARGET` command in `pipeline`, comments left out.
pub fn make_targets(pipeline: &str) -> BTreeSet<String> {
    let command = Regex::new(r"\bmake ([a-z][a-z-]*)").unwrap();
    pipeline
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim_start().starts_with("//"))
        .flat_map(|l| command.captures_iter(l).map(|c| c[1].to_string()).collect::<Vec<_>>())
        .collect()
}

/// The explicit targets a Makefile defines (`name:` at the start of a line).
pub fn makefile_targets(makefile: &str) -> BTreeSet<String> {
    let rule = Regex::new(r"(?m)^([a-z][a-z0-9-]*):").unwrap();
    rule.captures_iter(makefile).map(|c| c[1].to_string()).collect()
}

/// The branch each push guard of `pipeline` names; every push must be guarded.
pub fn push_branches(ci: &str, pipeline: &str) -> Vec<String> {
    let pattern = match ci {
        "github" => r"github\.ref == 'refs/heads/([^']+)'",
        "gitlab" => r#""\$CI_COMMIT_BRANCH" != "([^"]+)""#,
        "jenkins" => r"branch '([^']+)'",
        "circleci" => r"equal: \[([^,\]]+), << pipeline\.git\.branch >>\]",
        "travis" => r#""\$TRAVIS_BRANCH" = ([A-Za-z0-9_./-]+)"#,
        "bamboo" => r"planRepository\.branchName: (\S+)",
        _ => return Vec::new(),
    };
    Regex::new(pattern).unwrap().captures_iter(pipeline).map(|c| c[1].to_string()).collect()
}

/// The subject (or attribute condition) the Terraform must trust for `ci` pushing from `branch`.
fn expected_trust(ci: &str, branch: &str, cloud: &str) -> Option<String> {
    Some(match (ci, cloud) {
        ("github", "aws") => format!("repo:${{var.ci_repository}}:ref:refs/heads/{branch}"),
        ("github", _) => format!("assertion.sub == 'repo:${{var.ci_repository}}:ref:refs/heads/{branch}'"),
        ("gitlab", "aws") => format!("project_path:${{var.ci_repository}}:ref_type:branch:ref:{branch}"),
        ("gitlab", _) => {
            format!(
                "assertion.project_path == '${{var.ci_repository}}' && assertion.ref_type == 'branch' && assertion.ref == '{branch}'"
            )
        }
        ("circleci", "aws") => format!(
            "org/${{var.circleci_org_id}}/project/${{var.circleci_project_id}}/user/*/vcs-origin/*/vcs-ref/refs/heads/{branch}"
        ),
        ("circleci", _) => format!(
            "assertion['oidc.circleci.com/project-id'] == '${{var.circleci_project_id}}' && assertion['oidc.circleci.com/vcs-ref'] == 'refs/heads/{branch}'"
        ),
        _ => return None,
    })
}

/// The OIDC token each system's pipeline presents, as the pipeline names it.
fn token_reference(ci: &str) -> Option<&'static str> {
    Some(match ci {
        "github" => "id-token: write",
        "gitlab" => "id_tokens:",
        "circleci" => "$CIRCLE_OIDC_TOKEN_V2",
        _ => return None,
    })
}

fn trust_problems(options: &Options, pipeline: &str, dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let branches = push_branches(options.ci, pipeline);
    if branches.is_empty() {
        problems.push("has no push guard naming a branch".to_string());
    }
    if let Some(other) = branches.iter().find(|b| *b != "main") {
        problems.push(format!("pushes from `{other}`; images are pushed from `main` only"));
    }
    let terraform = match (options.cloud, options.iac) {
        ("aws", Some("terraform")) => "terraform/ci_oidc.tf",
        ("gcp", _) => "terraform/ci_wif.tf",
        _ => return problems,
    };
    let text = match std::fs::read_to_string(dir.join(terraform)) {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!("{terraform}: {e}"));
            return problems;
        }
    };
    let local = if options.cloud == "aws" { "ci_subject" } else { "ci_condition" };
    let trusted = terraform_local(&text, local);
    match (token_reference(options.ci), expected_trust(options.ci, "main", options.cloud)) {
        (Some(token), Some(expected)) => {
            if options.cloud != "none" && !pipeline.contains(token) {
                problems.push(format!("pushes to {} without presenting its OIDC token (`{token}`)", options.cloud));
            }
            match trusted {
                Some(trusted) if trusted == expected => {}
                Some(trusted) => {
                    problems.push(format!("{terraform} trusts `{trusted}`, but the pipeline presents `{expected}`"));
                }
                None => problems.push(format!("{terraform} has no `{local}`")),
            }
        }
        _ => {
            if trusted.is_some() || text.contains("resource \"") {
                problems.push(format!("{terraform} creates an OIDC trust for {}, which has no OIDC token", options.ci));
            }
        }
    }
    problems
}

/// The string value of `name = "…"` in a Terraform `locals` block.
pub fn terraform_local(text: &str, name: &str) -> Option<String> {
    let line = Regex::new(&format!(r#"(?m)^\s*{name}\s*=\s*"(.*)"\s*$"#)).unwrap();
    line.captures(text).map(|c| c[1].to_string())
}

#[test]
fn make_targets_ignore_comments_and_packages_named_make() {
    let pipeline = "# the same `make` target\n- make build\n  run: make lint && make test\n// make nothing\n\
                    apt-get install -y make\nsh 'make audit'\n";
    let found: Vec<String> = make_targets(pipeline).into_iter().collect();
    assert_eq!(found, ["audit", "build", "lint", "test"]);
}

#[test]
fn makefile_targets_are_rules_at_line_start() {
    let makefile =
        ".PHONY: audit\nbuild: $(VENV)/.installed ## x\n$(VENV)/.installed: uv.lock\n\tmake nothing\naudit:\n";
    let found: Vec<String> = makefile_targets(makefile).into_iter().collect();
    assert_eq!(found, ["audit", "build"]);
}

#[test]
fn stage_names_are_read_per_system() {
    assert_eq!(stage_names("jenkins", "stage('Lint') {\nstage('Test') {"), ["Lint", "Test"]);
    assert_eq!(stage_names("gitlab", "stages:\n  - lint\n  - test\n\nworkflow:\n  - nope\n"), ["lint", "test"]);
    assert_eq!(stage_names("github", "on:\n  push:\njobs:\n  lint:\n    steps:\n  image:\n"), ["lint", "image"]);
    assert_eq!(
        stage_names("bamboo", "stages:\n  - Lint:\n      jobs:\n        - Checks\n  - Build:\n"),
        ["Lint", "Build"]
    );
    assert_eq!(
        stage_names("circleci", "jobs:\n  x:\nworkflows:\n  ci:\n    jobs:\n      - lint\n      - image:\n"),
        ["lint", "image"]
    );
    assert!(stage_problems("gitlab", "stages:\n  - lint\n  - test\n").len() == 2, "audit and build are missing");
}

#[test]
fn push_guards_and_terraform_locals_are_found() {
    assert_eq!(push_branches("github", "if: github.ref == 'refs/heads/main'"), ["main"]);
    assert_eq!(push_branches("gitlab", r#"if [ "$CI_COMMIT_BRANCH" != "develop" ]"#), ["develop"]);
    assert_eq!(push_branches("circleci", "equal: [main, << pipeline.git.branch >>]"), ["main"]);
    assert_eq!(push_branches("travis", r#"if [ "$TRAVIS_BRANCH" = main ] &&"#), ["main"]);
    assert_eq!(push_branches("bamboo", "planRepository.branchName: main\n"), ["main"]);
    assert_eq!(push_branches("jenkins", "when {\n branch 'main'\n}"), ["main"]);
    let tf = "locals {\n  ci_subject = \"repo:${var.ci_repository}:ref:refs/heads/main\"\n}\n";
    assert_eq!(terraform_local(tf, "ci_subject").as_deref(), Some("repo:${var.ci_repository}:ref:refs/heads/main"));
    assert_eq!(terraform_local(tf, "ci_condition"), None);
}
