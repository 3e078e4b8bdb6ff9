//! One stack rendered with every option combination, side by side under one temporary directory
//! (`<root>/<label>/demo-svc`), so that each validator runs once over all of them. Paths in
//! messages are shown relative to the root, which starts them with the combination's label, and a
//! finding repeated in many combinations is shown once with the combinations it occurs in.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::project::{self, Options};
use crate::stack::Stack;
use crate::verdicts::{self, Fresh};

/// The rendered combinations of one stack.
pub struct Matrix {
    root: tempfile::TempDir,
    projects: Vec<(Options, PathBuf)>,
}

impl Matrix {
    /// Renders every combination; the error names the combinations that failed to render.
    pub fn generate(stack: &Stack) -> Result<Matrix, Vec<String>> {
        let root = tempfile::Builder::new()
            .prefix(&format!("dozen-e2e-{}-matrix.", stack.name()))
            .tempdir()
            .map_err(|e| vec![format!("cannot create a temporary directory: {e}")])?;
        let all = Options::matrix();
        // One `dozen new` per core at a time; results are kept in the matrix's order.
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let rendered: Vec<Result<PathBuf, String>> = std::thread::scope(|scope| {
            let workers: Vec<_> = all
                .chunks(all.len().div_ceil(cores))
                .map(|chunk| {
                    scope.spawn(|| {
                        chunk
                            .iter()
                            .map(|options| project::generate(stack, options, &root.path().join(options.label())))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers.into_iter().flat_map(|worker| worker.join().expect("a rendering thread panicked")).collect()
        });
        let mut projects = Vec::new();
        let mut failed = Vec::new();
        for (options, result) in all.into_iter().zip(rendered) {
            match result {
                Ok(dir) => projects.push((options, dir)),
                Err(e) => failed.push(format!("{}: {e}", options.label())),
            }
        }
        if failed.len() > 3 {
            let more = failed.len() - 3;
            failed.truncate(3);
            failed.push(format!("... and {more} more combinations failed to render"));
        }
        if failed.is_empty() { Ok(Matrix { root, projects }) } else { Err(failed) }
    }

    /// The directory holding every combination.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Each combination and its project directory.
    pub fn projects(&self) -> &[(Options, PathBuf)] {
        &self.projects
    }

    /// Every file of every combination for which `keep(path relative to its project)` holds, each
    /// distinct file once (its path in the project and its bytes), without the ones `judge` found
    /// clean before in this process.
    pub fn fresh_files(&self, judge: &str, keep: impl Fn(&Path) -> bool) -> Fresh<PathBuf> {
        let mut candidates = Vec::new();
        for (_, dir) in &self.projects {
            for path in project::files(dir).into_iter().filter(|path| keep(path.strip_prefix(dir).unwrap_or(path))) {
                candidates.push((verdicts::key(judge, "", dir, std::slice::from_ref(&path)), path));
            }
        }
        Fresh::select(candidates)
    }

    /// The combinations `which` picks that have files for which `keep(path relative to its project)` holds, each
    /// distinct set of them once (paths, bytes and `expect` of the options: what the judge's
    /// verdict depends on beside the files), without the ones `judge` found clean before.
    pub fn fresh_projects(
        &self,
        judge: &str,
        which: impl Fn(&Options) -> bool,
        keep: impl Fn(&Path) -> bool,
        expect: impl Fn(&Options) -> String,
    ) -> Fresh<(Options, PathBuf)> {
        let mut candidates = Vec::new();
        for (options, dir) in self.projects.iter().filter(|(options, _)| which(options)) {
            let files: Vec<PathBuf> =
                project::files(dir).into_iter().filter(|path| keep(path.strip_prefix(dir).unwrap_or(path))).collect();
            if !files.is_empty() {
                candidates.push((verdicts::key(judge, &expect(options), dir, &files), (*options, dir.clone())));
            }
        }
        Fresh::select(candidates)
    }

    /// `text` with the root directory removed from every path in it.
    pub fn relative(&self, text: &str) -> String {
        let root = self.root.path().display().to_string();
        text.replace(&format!("{root}/"), "").replace(&root, ".")
    }

    /// [`Matrix::relative`] `text`, with lines that differ only in their combination merged into
    /// one `<combo>/…` line that names where it occurs.
    pub fn summarize(&self, text: &str) -> String {
        merge_combinations(&self.relative(text))
    }
}

/// Merges lines that differ only in the combination label of a `<label>/demo-svc/` path.
fn merge_combinations(text: &str) -> String {
    let label = Regex::new(r"(postgres|none)-(github|gitlab|jenkins|circleci|travis|bamboo|none)-(aws-terraform|aws-cloudformation|gcp|none)-(kustomize|helm|none)-(none|redis)/").unwrap();
    let mut merged: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let Some(found) = label.find(line) else {
            merged.push((line.to_string(), Vec::new()));
            continue;
        };
        let general = label.replace_all(line, "<combo>/").into_owned();
        let combo = found.as_str().trim_end_matches('/').to_string();
        match merged.iter_mut().find(|(text, combos)| *text == general && !combos.is_empty()) {
            Some((_, combos)) => combos.push(combo),
            None => merged.push((general, vec![combo])),
        }
    }
    merged
        .into_iter()
        .map(|(text, combos)| match combos.len() {
            0 => text,
            1 => text.replace("<combo>", &combos[0]),
            n => {
                let shown = combos.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
                format!("{text}  [{n} combos: {shown}{}]", if n > 3 { ", …" } else { "" })
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn merges_findings_repeated_across_combinations() {
    let text = "a/x.sql:1: warning\nnone-gitlab-gcp-none-none/demo-svc/m.sql:1: bad\npostgres-github-aws-terraform-kustomize-none/demo-svc/m.sql:1: bad\n\
                postgres-none-none-helm-redis/demo-svc/m.sql:1: bad\npostgres-none-none-helm-redis/demo-svc/m.sql:2: other\nTraceback";
    assert_eq!(
        merge_combinations(text),
        "a/x.sql:1: warning\n<combo>/demo-svc/m.sql:1: bad  [3 combos: none-gitlab-gcp-none-none, postgres-github-aws-terraform-kustomize-none, postgres-none-none-helm-redis]\n\
         postgres-none-none-helm-redis/demo-svc/m.sql:2: other\nTraceback"
    );
}
