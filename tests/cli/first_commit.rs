//! The first commit, judged by git itself: one packfile and no loose objects, `git fsck --strict`
//! clean, one commit, a clean `git status`, the very tree `git add -A` makes of the same work
//! tree (hooks' changes, ignores, end-of-line attributes and modes included), and a base ref whose
//! blobs are the first commit's own objects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::{Env, TestPack, copy_dir, stderr};

/// `git ARGS` in `dir`, in the test's isolated environment; panics unless it succeeds.
fn git(env: &Env, dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.root.path().join("home"))
        .env("XDG_CONFIG_HOME", env.root.path().join("config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git prints UTF-8 here")
}

/// `path -> (mode, blob id)`.
type Blobs = BTreeMap<String, (String, String)>;

/// The blobs of a tree-ish.
fn blobs(env: &Env, dir: &Path, treeish: &str) -> Blobs {
    git(env, dir, &["ls-tree", "-r", "--full-tree", treeish])
        .lines()
        .map(|line| {
            let (meta, path) = line.split_once('\t').expect("mode type id\tpath");
            let fields: Vec<&str> = meta.split(' ').collect();
            assert_eq!(fields[1], "blob", "{line}");
            (path.to_owned(), (fields[0].to_owned(), fields[2].to_owned()))
        })
        .collect()
}

/// The tree `git init && git add -A` makes of a copy of `project`'s work tree.
fn tree_git_makes(env: &Env, project: &Path) -> String {
    let copy = env.root.path().join("git-made");
    copy_dir(project, &copy);
    std::fs::remove_dir_all(copy.join(".git")).unwrap();
    git(env, &copy, &["init", "-q"]);
    git(env, &copy, &["add", "-A"]);
    git(env, &copy, &["write-tree"]).trim().to_owned()
}

/// Every check that does not depend on the pack; returns HEAD's and the base's blobs.
fn assert_valid_first_commit(env: &Env, project: &Path) -> (Blobs, Blobs) {
    let fsck = std::process::Command::new("git")
        .args(["fsck", "--strict", "--full"])
        .current_dir(project)
        .env("HOME", env.root.path().join("home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(fsck.status.success(), "git fsck --strict: {}", String::from_utf8_lossy(&fsck.stderr));
    assert!(fsck.stdout.is_empty() && fsck.stderr.is_empty(), "git fsck reports: {}", stderr(&fsck));

    assert_eq!(git(env, project, &["log", "--format=%s", "HEAD"]), "Initial commit from dozen\n", "one commit");
    assert_eq!(git(env, project, &["symbolic-ref", "HEAD"]).trim(), "refs/heads/main");
    assert_eq!(git(env, project, &["status", "--porcelain", "--untracked-files=all"]), "", "a clean work tree");
    assert_eq!(git(env, project, &["diff", "--cached", "--stat", "HEAD"]), "", "the index is the commit");

    let counts: BTreeMap<String, String> = git(env, project, &["count-objects", "-v"])
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    assert_eq!(counts["count"], "0", "no loose objects: {counts:?}");
    assert_eq!(counts["packs"], "1", "one packfile: {counts:?}");

    let head_tree = git(env, project, &["rev-parse", "HEAD^{tree}"]).trim().to_owned();
    assert_eq!(head_tree, tree_git_makes(env, project), "the tree git itself makes of this work tree");

    let head = blobs(env, project, "HEAD");
    let base = blobs(env, project, "refs/dozen/base");
    // One pack entry per object: the base's blobs are not stored a second time.
    let idx = std::fs::read_dir(project.join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("a pack index");
    let listed: Vec<String> = git(env, project, &["verify-pack", "-v", &idx.display().to_string()])
        .lines()
        .filter_map(|l| l.split(' ').next().filter(|id| id.len() == 40).map(str::to_owned))
        .collect();
    let distinct: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(listed.len(), distinct.len(), "an object stored twice");
    let wanted: BTreeSet<&String> = head.values().chain(base.values()).map(|(_, id)| id).collect();
    assert!(wanted.iter().all(|id| distinct.contains(id)), "every blob of both commits is in the pack");
    (head, base)
}

#[test]
fn the_built_in_packs_first_commit_is_one_pack_that_git_accepts() {
    let env = Env::new();
    let output = env.new_project(&["svc", "-y"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let project = env.out().join("svc");
    let (head, base) = assert_valid_first_commit(&env, &project);
    assert!(head.len() > 20, "the built-in pack's files: {}", head.len());
    for (path, (_, id)) in &base {
        if let Some((_, head_id)) = head.get(path) {
            assert_eq!(id, head_id, "{path}: the base has its own blob");
        }
    }
    assert!(head.contains_key(".dozen/answers.toml"));
}

#[test]
fn hooks_ignores_attributes_and_modes_reach_the_first_commit_as_git_add_makes_them() {
    let env = Env::new();
    let pack = TestPack::new("edge")
        .manifest(
            "[[hooks]]\nrun = \"echo changed > changed.txt && echo new > added.txt && chmod +x kept.txt && rm gone.txt\"\n",
        )
        .file(".gitignore", "ignored.txt\nbuild/\n")
        .file(".gitattributes", "*.bat text eol=crlf\nident.txt ident\n")
        .file("ignored.txt", "planned but ignored\n")
        .file("build/out.txt", "in an ignored directory\n")
        .file("kept.txt", "kept\n")
        .file("changed.txt", "before the hook\n")
        .file("gone.txt", "removed by the hook\n")
        .file("windows.bat", "@echo off\r\necho hi\r\n")
        .file("ident.txt", "$Id$\n")
        .file("src/deep/er/file.txt", "nested\n")
        .executable("run.sh", "#!/bin/sh\necho run\n")
        .write(&env.root.path().join("edge"));
    let output = env.new_project(&["svc", "-y", "--trust", "--pack", &pack]);
    assert!(output.status.success(), "{}", stderr(&output));
    let project = env.out().join("svc");
    let (head, base) = assert_valid_first_commit(&env, &project);

    let paths = |m: &Blobs| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        paths(&head),
        [
            ".dozen/answers.toml",
            ".gitattributes",
            ".gitignore",
            "added.txt",
            "changed.txt",
            "ident.txt",
            "kept.txt",
            "run.sh",
            "src/deep/er/file.txt",
            "windows.bat"
        ],
        "what git add -A stages: ignored files left out, the hook's changes in"
    );
    assert_eq!(
        paths(&base),
        [
            ".dozen/answers.toml",
            ".gitattributes",
            ".gitignore",
            "build/out.txt",
            "changed.txt",
            "gone.txt",
            "ident.txt",
            "ignored.txt",
            "kept.txt",
            "run.sh",
            "src/deep/er/file.txt",
            "windows.bat"
        ],
        "the base is the pristine output"
    );
    assert_eq!(head["kept.txt"].0, "100755", "the hook's chmod is committed");
    assert_eq!(base["kept.txt"].0, "100644", "the base keeps the planned mode");
    assert_eq!(head["run.sh"].0, "100755");
    for path in [".gitignore", "kept.txt", "run.sh", "src/deep/er/file.txt", ".dozen/answers.toml"] {
        assert_eq!(head[path].1, base[path].1, "{path}: the base shares the first commit's blob");
    }
    assert_ne!(head["changed.txt"].1, base["changed.txt"].1);
    assert_eq!(git(&env, &project, &["show", "HEAD:windows.bat"]), "@echo off\necho hi\n", "stored with LF");
    assert_eq!(git(&env, &project, &["show", "refs/dozen/base:windows.bat"]), "@echo off\r\necho hi\r\n");
    assert_eq!(
        git(&env, &project, &["cat-file", "-p", "refs/dozen/base"]).lines().nth(1).unwrap().split(' ').next(),
        Some("author"),
        "the base has no parent"
    );
}
