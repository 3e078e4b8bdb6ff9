//! Hostile templates (tests/fixtures/hostile/): output, time and memory bombs of about a hundred
//! bytes each are stopped by the render limits with an error naming the file, quickly, with exit
//! code 1 and nothing written; `pack test` stops at the first one instead of piling them up.

use std::time::{Duration, Instant};

use crate::support::{Env, fixtures, stderr};

fn hostile(name: &str) -> String {
    fixtures().join("hostile").join(name).display().to_string()
}

#[test]
fn template_bombs_stop_with_the_file_named_and_nothing_written() {
    // (pack, template, what the error may say: the doubling bomb meets the memory ceiling first
    // on an idle machine, the time limit first on a loaded one)
    let cases: [(&str, &str, &[&str]); 3] = [
        ("doubling", "files/bomb.txt.tera", &["MiB of memory, more than 512 MiB", "rendering took more than 5s"]),
        ("recursion", "files/loop.txt.tera", &["rendering took more than 5s"]),
        ("flood", "files/flood.txt.tera", &["its output is larger than 16 MiB"]),
    ];
    for (pack, file, reason) in cases {
        let env = Env::new();
        let template = std::fs::read(fixtures().join("hostile").join(pack).join(file)).unwrap();
        assert!(template.len() < 150, "{pack}: a small template ({} bytes)", template.len());
        let started = Instant::now();
        let out = env.new_project(&["svc", "--pack", &hostile(pack), "--yes"]);
        let took = started.elapsed();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{pack}: {err}");
        assert!(err.contains(&format!("{file}: ")) && reason.iter().any(|r| err.contains(r)), "{pack}: {err}");
        assert!(!err.contains("panicked") && !err.contains("memory allocation"), "{pack}: {err}");
        assert!(env.written().is_empty(), "{pack}: wrote {:?}", env.written());
        assert!(took < Duration::from_secs(20), "{pack}: took {took:?}");
    }
}

#[test]
fn pack_test_stops_at_the_first_bomb() {
    let env = Env::new();
    let started = Instant::now();
    let out = env.dozen().args(["pack", "test", &hostile("recursion")]).output().unwrap();
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("files/loop.txt.tera") && err.contains("took more than"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}
