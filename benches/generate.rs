//! In-process benchmark of `dozen new` on the built-in pack, against a baseline measured in the
//! same run: copying the identical rendered tree file by file, then `git init`, add and commit
//! with git2. Figures are reported as ratios in docs/benchmarks.md.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use dozen::cli::NewRequest;
use dozen::prompt::NoPrompt;

fn request(output: &Path, git: bool) -> NewRequest {
    NewRequest {
        pack: None,
        explicit: vec![("name".into(), "bench-svc".into(), "bench".into())],
        answers_file: None,
        yes: true,
        output: output.to_path_buf(),
        force: false,
        git,
        git_add: false,
        dry_run: false,
        json: true,
        trust: false,
    }
}

/// `git init && git add -A && git commit`, with git2 directly (not dozen's git code).
fn baseline_commit(dir: &Path) {
    let repo = git2::Repository::init(dir).unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("bench", "bench@localhost").unwrap();
    repo.commit(Some("HEAD"), &signature, &signature, "copy", &tree, &[]).unwrap();
}

fn copy_tree(from: &Path, to: &Path, files: &mut Vec<String>, root: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.file_name() == ".git" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest, files, root);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
            files.push(dest.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
}

fn bench(c: &mut Criterion) {
    let reference = tempfile::tempdir().unwrap();
    dozen::new::generate(&request(reference.path(), false), &mut NoPrompt, false).unwrap();
    let rendered = reference.path().join("bench-svc");

    let mut group = c.benchmark_group("new");
    group.sample_size(30);
    group.bench_function("dozen new (render + write + git commit)", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |out| dozen::new::generate(&request(out.path(), true), &mut NoPrompt, false).unwrap(),
            criterion::BatchSize::PerIteration,
        );
    });
    group.bench_function("dozen new --no-git", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |out| dozen::new::generate(&request(out.path(), false), &mut NoPrompt, false).unwrap(),
            criterion::BatchSize::PerIteration,
        );
    });
    group.bench_function("baseline: copy rendered tree + git init/add/commit", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |out| {
                let target = out.path().join("copy");
                let mut files = Vec::new();
                copy_tree(&rendered, &target, &mut files, &target);
                baseline_commit(&target);
            },
            criterion::BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
