//! Generated projects: the option combinations of the built-in pack (SPEC §5: db, ci, cloud, iac,
//! k8s and worker, covered by 42 combinations a stack), the `dozen new` invocation that renders
//! one, and a listing of its files.
//! The binary under test is the one cargo built for this package, or `DOZEN_E2E_BIN` when set (to
//! run the tier against an installed or release build).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::command;
use crate::stack::Stack;

/// The project name every generated repository gets.
pub const NAME: &str = "demo-svc";

/// The answers a project is generated with, beside its stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `--db`: `postgres` or `none`.
    pub db: &'static str,
    /// `--ci`: one of [`CIS`].
    pub ci: &'static str,
    /// `--cloud`: `aws`, `gcp` or `none`.
    pub cloud: &'static str,
    /// `--set iac=…` (asked only with `cloud=aws`): `terraform` or `cloudformation`.
    pub iac: Option<&'static str>,
    /// `--set k8s=…`: `kustomize`, `helm` or `none`.
    pub k8s: &'static str,
    /// `--set worker=…`: `none` or `redis`.
    pub worker: &'static str,
}

/// Every CI system of the built-in pack.
pub const CIS: [&str; 7] = ["github", "gitlab", "jenkins", "circleci", "travis", "bamboo", "none"];
const DBS: [&str; 2] = ["postgres", "none"];
const CLOUDS: [&str; 3] = ["aws", "gcp", "none"];
const IACS: [&str; 2] = ["terraform", "cloudformation"];
const K8S: [&str; 3] = ["kustomize", "helm", "none"];
const WORKERS: [&str; 2] = ["none", "redis"];

impl Options {
    /// The defaults of every option but `db` (github, aws with Terraform, kustomize, no worker).
    pub fn defaults(db: &'static str) -> Options {
        Options { db, ci: "github", cloud: "aws", iac: Some("terraform"), k8s: "kustomize", worker: "none" }
    }

    /// The combinations every validator judges: each db × ci × cloud once (42), with iac, k8s and
    /// worker cycled so that every pair of option values occurs, and every triple of the options
    /// one generated file depends on together (db × worker × ci for pipelines, db × worker ×
    /// iac-or-cloud for infrastructure code, db × worker × k8s for manifests, ci × iac for the
    /// image push). The full product (336 a stack) would judge the same files many times over.
    pub fn matrix() -> Vec<Options> {
        let mut all = Vec::new();
        for (d, db) in DBS.into_iter().enumerate() {
            for (i, ci) in CIS.into_iter().enumerate() {
                for (c, cloud) in CLOUDS.into_iter().enumerate() {
                    all.push(Options {
                        db,
                        ci,
                        cloud,
                        iac: (cloud == "aws").then(|| IACS[(i / 2 + d) % 2]),
                        k8s: K8S[(i + c) % 3],
                        worker: WORKERS[(i + c) % 2],
                    });
                }
            }
        }
        all
    }

    /// `aws-terraform`, `aws-cloudformation`, `gcp` or `none`: the infrastructure code generated.
    pub fn infra(&self) -> String {
        match self.iac {
            Some(iac) => format!("{}-{iac}", self.cloud),
            None => self.cloud.to_string(),
        }
    }

    /// A directory name for the combination, e.g. `postgres-github-aws-terraform-kustomize-none`.
    pub fn label(&self) -> String {
        format!("{}-{}-{}-{}-{}", self.db, self.ci, self.infra(), self.k8s, self.worker)
    }

    /// The `dozen new` arguments that choose these options.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--db", self.db, "--ci", self.ci, "--cloud", self.cloud]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        if let Some(iac) = self.iac {
            args.extend(["--set".to_owned(), format!("iac={iac}")]);
        }
        args.extend(["--set".to_owned(), format!("k8s={}", self.k8s)]);
        args.extend(["--set".to_owned(), format!("worker={}", self.worker)]);
        args
    }
}

/// Runs `dozen new` for `stack` with `options` into `parent` and returns the project directory.
pub fn generate(stack: &Stack, options: &Options, parent: &Path) -> Result<PathBuf, String> {
    let mut cmd = Command::new(dozen());
    cmd.args(["new", NAME, "--yes", "--no-git", "--lang", stack.lang, "--stack", stack.stack])
        .args(options.args())
        .arg("-o")
        .arg(parent)
        .env("NO_COLOR", "1");
    command::run_ok(&mut cmd, Duration::from_secs(120))?;
    let dir = parent.join(NAME);
    if dir.join("Procfile").is_file() {
        Ok(dir)
    } else {
        Err(format!("`dozen new` succeeded but {} has no Procfile", dir.display()))
    }
}

/// The dozen executable under test.
pub fn dozen() -> PathBuf {
    std::env::var_os("DOZEN_E2E_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_dozen")), PathBuf::from)
}

/// Every file under `dir`, recursively, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() => found.push(path),
                _ => {}
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_matrix_covers_every_pair_and_every_dependent_triple() {
    use std::collections::BTreeSet;
    let all = Options::matrix();
    assert_eq!(all.len(), 42);
    let labels: BTreeSet<String> = all.iter().map(Options::label).collect();
    assert_eq!(labels.len(), all.len(), "every combination once");
    assert!(all.contains(&Options::defaults("postgres")));
    let infras = ["aws-terraform", "aws-cloudformation", "gcp", "none"];
    let axes = |o: &Options| -> Vec<(&'static str, String)> {
        vec![
            ("db", o.db.to_string()),
            ("ci", o.ci.to_string()),
            ("infra", o.infra()),
            ("k8s", o.k8s.to_string()),
            ("worker", o.worker.to_string()),
        ]
    };
    let values = |axis: &str| -> Vec<String> {
        let list: Vec<&str> = match axis {
            "db" => DBS.to_vec(),
            "ci" => CIS.to_vec(),
            "infra" => infras.to_vec(),
            "k8s" => K8S.to_vec(),
            _ => WORKERS.to_vec(),
        };
        list.into_iter().map(str::to_owned).collect()
    };
    let held: BTreeSet<Vec<(&str, String)>> = all
        .iter()
        .flat_map(|o| {
            let a = axes(o);
            let mut tuples = Vec::new();
            for x in 0..a.len() {
                for y in x + 1..a.len() {
                    tuples.push(vec![a[x].clone(), a[y].clone()]);
                    for z in y + 1..a.len() {
                        tuples.push(vec![a[x].clone(), a[y].clone(), a[z].clone()]);
                    }
                }
            }
            tuples
        })
        .collect();
    let names = ["db", "ci", "infra", "k8s", "worker"];
    let mut wanted: Vec<Vec<&str>> = Vec::new();
    for x in 0..names.len() {
        for y in x + 1..names.len() {
            wanted.push(vec![names[x], names[y]]);
        }
    }
    wanted.extend([vec!["db", "ci", "worker"], vec!["db", "infra", "worker"], vec!["db", "k8s", "worker"]]);
    for axes in wanted {
        let mut tuples: Vec<Vec<(&str, String)>> = vec![Vec::new()];
        for axis in &axes {
            tuples = tuples
                .into_iter()
                .flat_map(|t| {
                    values(axis).into_iter().map(move |v| {
                        let mut t = t.clone();
                        t.push((*axis, v));
                        t
                    })
                })
                .collect();
        }
        for tuple in tuples {
            assert!(held.contains(&tuple), "no combination has {tuple:?}");
        }
    }
}

#[test]
fn files_lists_nested_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/c.txt"), "").unwrap();
    std::fs::write(dir.path().join("d.txt"), "").unwrap();
    assert_eq!(files(dir.path()), [dir.path().join("a/b/c.txt"), dir.path().join("d.txt")]);
}
