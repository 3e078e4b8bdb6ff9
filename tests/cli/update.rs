//! `dozen update`: a fixture pack at two versions in a local git repository (tags `v1`, `v2`)
//! exercises every per-file case; the built-in pack proves that changing an answer produces what a
//! fresh generation with that answer would.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{Env, files_under, stderr, stdout};

/// A pack file: path inside the pack, contents, executable bit.
type PackFile = (&'static str, &'static [u8], bool);

const V1: &[PackFile] = &[
    ("pack.toml", b"[pack]\nname = \"evo\"\nversion = \"1.0.0\"\n\n[[questions]]\nname = \"name\"\ntype = \"string\"\n\n[[questions]]\nname = \"greeting\"\ntype = \"string\"\ndefault = \"hello\"\n\n[[layers]]\npath = \"base\"\n", false),
    ("base/README.md.tera", b"# {{ project.slug }}\n{{ greeting }}\n", false),
    ("base/same.txt", b"same\n", false),
    ("base/plain.txt", b"plain v1\n", false),
    ("base/merge.txt", b"1\n2\n3\n4\n5\n6\n7\n8\n", false),
    ("base/clash.txt", b"alpha\nbeta\ngamma\n", false),
    ("base/gone.txt", b"gone\n", false),
    ("base/gone-edited.txt", b"gone edited\n", false),
    ("base/logo.bin", b"\x89PNG\0v1", false),
    ("base/run.sh", b"#!/bin/sh\necho run\n", false),
    ("base/tool.sh", b"#!/bin/sh\necho tool v1\n", true),
];

const V2: &[PackFile] = &[
    ("pack.toml", b"[pack]\nname = \"evo\"\nversion = \"2.0.0\"\n\n[[questions]]\nname = \"name\"\ntype = \"string\"\n\n[[questions]]\nname = \"greeting\"\ntype = \"string\"\ndefault = \"hello\"\n\n[[layers]]\npath = \"base\"\n", false),
    ("base/README.md.tera", b"# {{ project.slug }}\n{{ greeting }}\n", false),
    ("base/same.txt", b"same\n", false),
    ("base/plain.txt", b"plain v2\n", false),
    ("base/merge.txt", b"one\n2\n3\n4\n5\n6\n7\n8\n", false),
    ("base/clash.txt", b"alpha\nBETA from v2\ngamma\n", false),
    ("base/fresh.txt", b"fresh\n", false),
    ("base/taken.txt", b"taken by the pack\n", false),
    ("base/logo.bin", b"\x89PNG\0v2", false),
    ("base/run.sh", b"#!/bin/sh\necho run\n", true),
    ("base/tool.sh", b"#!/bin/sh\necho tool v2\n", true),
];

/// The user's edits to a v1 project, committed (except `taken.txt`, which stays untracked).
fn edit_like_a_user(dir: &Path) {
    write(dir, "same.txt", b"same, edited by me\n");
    write(dir, "merge.txt", b"1\n2\n3\n4\n5\n6\n7\neight (mine)\n");
    write(dir, "clash.txt", b"alpha\nbeta from me\ngamma\n");
    write(dir, "gone-edited.txt", b"gone edited, and kept\n");
    write(dir, "logo.bin", b"\x89PNG\0mine");
    set_executable(&dir.join("tool.sh"), false);
    commit_all(dir, "my edits");
    write(dir, "taken.txt", b"my own taken\n");
}

#[test]
fn every_per_file_case_from_v1_to_v2() {
    let env = Env::new();
    let (repo, dir) = project_from_v1(&env);
    let generated = head(&dir);
    assert_eq!(base_ref(&dir), Some(generated), "dozen new points refs/dozen/base at its commit");
    edit_like_a_user(&dir);

    let output = update(&env, &dir, &["--pack-ref", "v2", "--json"]);
    assert_eq!(output.status.code(), Some(1), "conflicts remain: {}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON report");
    assert_eq!(report["base"]["from"], "ref");
    assert_eq!(report["base"]["name"], "refs/dozen/base");
    assert_eq!(report["from"]["version"], "1.0.0");
    assert_eq!(report["to"]["version"], "2.0.0");
    assert_eq!(report["to"]["source"], format!("{}#v2", repo.display()));
    assert_eq!(
        actions(&report),
        [
            (".dozen/answers.toml", "updated"),
            ("fresh.txt", "added"),
            ("gone-edited.txt", "kept"),
            ("gone.txt", "removed"),
            ("merge.txt", "merged"),
            ("plain.txt", "updated"),
            ("run.sh", "updated"),
            ("tool.sh", "merged"),
            ("clash.txt", "conflict"),
            ("logo.bin", "conflict"),
            ("taken.txt", "conflict"),
        ],
        "conflicts are listed last"
    );
    assert_eq!(report["conflicts"], 3);
    assert_eq!(report["unchanged"], 2, "README.md and same.txt");

    assert_eq!(read(&dir, "same.txt"), "same, edited by me\n", "changed only here: kept");
    assert_eq!(read(&dir, "plain.txt"), "plain v2\n", "changed only in the pack: taken");
    assert_eq!(read(&dir, "merge.txt"), "one\n2\n3\n4\n5\n6\n7\neight (mine)\n", "both changed: merged");
    assert_eq!(
        read(&dir, "clash.txt"),
        "alpha\n<<<<<<< yours\nbeta from me\n=======\nBETA from v2\n>>>>>>> evo 2.0.0\ngamma\n"
    );
    assert!(!dir.join("gone.txt").exists(), "removed from the pack, untouched here: removed");
    assert_eq!(read(&dir, "gone-edited.txt"), "gone edited, and kept\n", "removed from the pack, edited here: kept");
    assert_eq!(read(&dir, "fresh.txt"), "fresh\n", "new in the pack: added");
    assert_eq!(
        read(&dir, "taken.txt"),
        "<<<<<<< yours\nmy own taken\n=======\ntaken by the pack\n>>>>>>> evo 2.0.0\n",
        "an untracked file where the pack adds one: conflict"
    );
    assert_eq!(std::fs::read(dir.join("logo.bin")).unwrap(), b"\x89PNG\0mine", "binary collision: yours kept");
    assert_eq!(std::fs::read(dir.join("logo.bin.dozen-new")).unwrap(), b"\x89PNG\0v2", "and the pack's beside it");
    assert!(is_executable(&dir.join("run.sh")), "the pack made run.sh executable");
    assert!(!is_executable(&dir.join("tool.sh")), "the user's chmod -x stays");
    assert_eq!(read(&dir, "tool.sh"), "#!/bin/sh\necho tool v2\n");
    let record = read(&dir, ".dozen/answers.toml");
    assert!(record.contains("version = \"2.0.0\"") && record.contains("#v2\""), "{record}");

    let moved = base_ref(&dir).expect("base ref");
    assert_ne!(moved, generated, "the base moved to the new pristine output");
    assert_eq!(blob_at(&dir, moved, "clash.txt"), b"alpha\nBETA from v2\ngamma\n", "the base holds no markers");
    assert_eq!(head(&dir), head_after_edits(&dir), "no commit without --commit");

    let again = update(&env, &dir, &["--pack-ref", "v2", "--allow-dirty"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("already up to date"), "{}", stderr(&again));
}

#[test]
fn a_second_update_is_a_no_op() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    let first = update(&env, &dir, &["--pack-ref", "v2", "--commit"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let commit = head(&dir);
    assert_ne!(commit, head_after_edits(&dir));
    assert!(message_of(&dir, commit).contains("evo 1.0.0 → evo 2.0.0"), "{}", message_of(&dir, commit));
    assert!(status(&dir).is_empty(), "everything committed: {:?}", status(&dir));
    let (files, base) = (snapshot(&dir), base_ref(&dir));

    let second = update(&env, &dir, &["--pack-ref", "v2", "--commit", "--json"]);
    assert!(second.status.success(), "{}", stderr(&second));
    let report: serde_json::Value = serde_json::from_str(&stdout(&second)).unwrap();
    assert_eq!(report["files"], serde_json::json!([]));
    assert_eq!(report["commit"], serde_json::Value::Null);
    assert_eq!((snapshot(&dir), base_ref(&dir), head(&dir)), (files, base, commit), "nothing changed");
}

#[test]
fn a_dirty_tree_is_refused_unless_allowed() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    write(&dir, "same.txt", b"uncommitted\n");
    let before = snapshot(&dir);
    let output = update(&env, &dir, &["--pack-ref", "v2"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("has uncommitted changes: same.txt"), "{err}");
    assert!(err.contains("--allow-dirty"), "{err}");
    assert_eq!(snapshot(&dir), before);

    let allowed = update(&env, &dir, &["--pack-ref", "v2", "--allow-dirty"]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert_eq!(read(&dir, "same.txt"), "uncommitted\n");
    assert_eq!(read(&dir, "plain.txt"), "plain v2\n");
}

#[test]
fn a_failure_in_the_middle_leaves_the_tree_byte_for_byte_unchanged() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    edit_like_a_user(&dir);
    let (before, base) = (snapshot(&dir), base_ref(&dir));
    for after in ["0", "3", "9"] {
        let mut cmd = env.dozen();
        cmd.arg("update").arg(&dir).args(["--pack-ref", "v2"]).env("DOZEN_TEST_FAIL_AFTER", after);
        let output = cmd.output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stderr(&output).contains("failure injected"), "{}", stderr(&output));
        assert_eq!(snapshot(&dir), before, "after {after} files");
        assert_eq!(base_ref(&dir), base, "the base ref did not move");
    }
    let done = update(&env, &dir, &["--pack-ref", "v2"]);
    assert_eq!(done.status.code(), Some(1), "the same update still works: {}", stderr(&done));
}

#[test]
fn dry_run_shows_diffs_and_writes_nothing() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    edit_like_a_user(&dir);
    let (before, base) = (snapshot(&dir), base_ref(&dir));
    let output = update(&env, &dir, &["--pack-ref", "v2", "--dry-run"]);
    assert_eq!(output.status.code(), Some(1), "conflicts would remain: {}", stderr(&output));
    let diffs = stdout(&output);
    assert!(diffs.contains("--- a/plain.txt\n+++ b/plain.txt\n@@ -1 +1 @@\n-plain v1\n+plain v2\n"), "{diffs}");
    assert!(diffs.contains("+<<<<<<< yours\n"), "{diffs}");
    let err = stderr(&output);
    assert!(err.contains("Would update") && err.contains("would conflict"), "{err}");
    assert_eq!((snapshot(&dir), base_ref(&dir)), (before, base));
}

#[test]
fn the_base_is_rendered_again_when_the_ref_is_missing() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    edit_like_a_user(&dir);
    delete_base_ref(&dir);
    let output = update(&env, &dir, &["--pack-ref", "v2", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["base"], serde_json::json!({ "from": "rendered", "pack": "evo 1.0.0" }));
    assert_eq!(actions(&report).len(), 11, "the same decisions as with the ref");
    assert_eq!(read(&dir, "merge.txt"), "one\n2\n3\n4\n5\n6\n7\neight (mine)\n");
    assert!(base_ref(&dir).is_some(), "the update recorded a base for next time");
}

#[test]
fn without_a_base_it_says_so_and_accepts_base_rev() {
    let env = Env::new();
    let pack = env.root.path().join("evo-dir");
    write_pack(&pack, V1);
    let output = env.new_project(&["app", "-y", "--pack", &pack.display().to_string()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("app");
    let generated = head(&dir);
    write(&dir, "merge.txt", b"1\n2\n3\n4\n5\n6\n7\neight (mine)\n");
    commit_all(&dir, "my edits");
    std::fs::remove_dir_all(&pack).unwrap();
    write_pack(&pack, V2);
    delete_base_ref(&dir);

    let refused = update(&env, &dir, &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(err.contains("no commit of refs/dozen/base holds the recorded answers"), "{err}");
    assert!(err.contains("evo 1.0.0") && err.contains("evo 2.0.0"), "names both versions: {err}");
    assert!(err.contains("--base"), "{err}");

    let pack_ref = update(&env, &dir, &["--pack-ref", "v2"]);
    assert_eq!(pack_ref.status.code(), Some(2), "--pack-ref needs a git pack");

    let output = update(&env, &dir, &["--base", &generated.to_string(), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["base"]["from"], "rev");
    assert_eq!(read(&dir, "merge.txt"), "one\n2\n3\n4\n5\n6\n7\neight (mine)\n");
    assert_eq!(read(&dir, "plain.txt"), "plain v2\n");
}

#[test]
fn changing_an_answer_matches_a_fresh_generation() {
    let cases: [(&[&str], &str, &[&str]); 3] = [
        (&["--ci", "github"], "ci=gitlab", &["--ci", "gitlab"]),
        (&["--db", "none"], "db=postgres", &["--db", "postgres"]),
        (&["--lang", "go"], "k8s=false", &["--lang", "go", "--no-k8s"]),
    ];
    for (initial, set, fresh) in cases {
        let env = Env::new();
        let output = env.new_project(&[&["svc", "-y"][..], initial].concat());
        assert!(output.status.success(), "{}", stderr(&output));
        let dir = env.out().join("svc");
        let readme = read(&dir, "README.md");
        write(&dir, "README.md", format!("{readme}\nNotes of my own.\n").as_bytes());
        commit_all(&dir, "my notes");

        let output = update(&env, &dir, &["--set", set, "--commit"]);
        assert!(output.status.success(), "{set}: {}", stderr(&output));
        assert!(status(&dir).is_empty(), "{set}: committed: {:?}", status(&dir));

        let expected = env.root.path().join("fresh");
        let output = {
            let mut cmd = env.dozen();
            cmd.args(["new", "svc", "-y", "--no-git", "-o"]).arg(&expected).args(fresh);
            cmd.output().unwrap()
        };
        assert!(output.status.success(), "{}", stderr(&output));
        let expected = expected.join("svc");
        assert_eq!(files_under(&dir), files_under(&expected), "{set}: the same files");
        for path in files_under(&expected) {
            let want = std::fs::read(expected.join(&path)).unwrap();
            let got = std::fs::read(dir.join(&path)).unwrap();
            if path == "README.md" {
                let want = format!("{}\nNotes of my own.\n", String::from_utf8(want).unwrap());
                assert_eq!(String::from_utf8(got).unwrap(), want, "{set}: README merged with the user's notes");
            } else {
                assert!(got == want, "{set}: {path} differs from a fresh generation");
            }
            assert_eq!(is_executable(&dir.join(&path)), is_executable(&expected.join(&path)), "{set}: mode of {path}");
        }
    }
}

#[test]
fn inside_a_larger_repository_the_base_ref_is_per_project() {
    let env = Env::new();
    git2::Repository::init(env.out()).unwrap();
    let output = env.new_project(&["svc", "-y", "--git-add"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let base = |name: &str| {
        let repo = git2::Repository::open(env.out()).unwrap();
        repo.find_reference(name).ok().and_then(|r| r.target())
    };
    let generated = base("refs/dozen/bases/svc").expect("dozen new marks the project's base");
    commit_all(&env.out(), "add svc");

    let mut cmd = env.dozen();
    cmd.current_dir(env.out().join("svc/src")).args(["update", "--set", "ci=gitlab", "--commit"]);
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "run from inside the project: {}", stderr(&output));
    assert!(env.out().join("svc/.gitlab-ci.yml").is_file());
    assert!(!env.out().join("svc/.github").exists());
    assert_ne!(base("refs/dozen/bases/svc"), Some(generated), "the project's base moved");
    assert_eq!(base("refs/dozen/base"), None, "no root base for a project in a subdirectory");
    assert!(status(&env.out()).is_empty(), "committed: {:?}", status(&env.out()));
}

// --- helpers -------------------------------------------------------------------------------------

/// The fixture pack repository (tags v1, v2) and a project generated from v1 and committed.
fn project_from_v1(env: &Env) -> (PathBuf, PathBuf) {
    let repo = env.root.path().join("evo-pack");
    write_pack(&repo, V1);
    git2::Repository::init(&repo).unwrap();
    let v1 = commit_all(&repo, "v1");
    tag(&repo, "v1", v1);
    std::fs::remove_dir_all(repo.join("base")).unwrap();
    write_pack(&repo, V2);
    let v2 = commit_all(&repo, "v2");
    tag(&repo, "v2", v2);

    let output = env.new_project(&["app", "-y", "--pack", &format!("{}#v1", repo.display())]);
    assert!(output.status.success(), "{}", stderr(&output));
    (repo, env.out().join("app"))
}

fn write_pack(root: &Path, files: &[PackFile]) {
    for (path, bytes, executable) in files {
        write(root, path, bytes);
        set_executable(&root.join(path), *executable);
    }
}

fn update(env: &Env, dir: &Path, args: &[&str]) -> Output {
    env.dozen().arg("update").arg(dir).args(args).output().unwrap()
}

fn actions(report: &serde_json::Value) -> Vec<(&str, &str)> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["action"].as_str().unwrap()))
        .collect()
}

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap()
}

fn set_executable(path: &Path, executable: bool) {
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o111 != 0
}

/// Every file under `dir` but `.git`, with its bytes and mode.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    let mut all = Vec::new();
    walk(dir, dir, &mut all);
    all.into_iter()
        .map(|path| {
            let full = dir.join(&path);
            let mode = std::fs::symlink_metadata(&full).unwrap().permissions().mode();
            let bytes = if full.is_file() { std::fs::read(&full).unwrap() } else { Vec::new() };
            (path, (bytes, mode))
        })
        .collect()
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        if rel == ".git" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            walk(root, &path, out);
        }
        out.push(rel);
    }
}

fn signature() -> git2::Signature<'static> {
    git2::Signature::now("Test Author", "test@example.com").unwrap()
}

/// Stages every change (additions, edits, deletions, modes) and commits it on HEAD.
fn commit_all(dir: &Path, message: &str) -> git2::Oid {
    let repo = git2::Repository::open(dir).unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature(), &signature(), message, &tree, &parents).unwrap()
}

fn tag(dir: &Path, name: &str, commit: git2::Oid) {
    let repo = git2::Repository::open(dir).unwrap();
    let object = repo.find_object(commit, None).unwrap();
    repo.tag_lightweight(name, &object, false).unwrap();
}

fn head(dir: &Path) -> git2::Oid {
    git2::Repository::open(dir).unwrap().head().unwrap().peel_to_commit().unwrap().id()
}

/// HEAD as the user left it: the commit named `my edits`, else the generated one.
fn head_after_edits(dir: &Path) -> git2::Oid {
    let repo = git2::Repository::open(dir).unwrap();
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    let commits: Vec<git2::Oid> = walk.map(Result::unwrap).collect();
    commits.iter().copied().find(|id| message_of(dir, *id) == "my edits").unwrap_or_else(|| *commits.last().unwrap())
}

fn message_of(dir: &Path, commit: git2::Oid) -> String {
    let repo = git2::Repository::open(dir).unwrap();
    repo.find_commit(commit).unwrap().message().unwrap().to_owned()
}

fn base_ref(dir: &Path) -> Option<git2::Oid> {
    let repo = git2::Repository::open(dir).unwrap();
    repo.find_reference("refs/dozen/base").ok().and_then(|r| r.target())
}

fn delete_base_ref(dir: &Path) {
    let repo = git2::Repository::open(dir).unwrap();
    repo.find_reference("refs/dozen/base").unwrap().delete().unwrap();
}

fn blob_at(dir: &Path, commit: git2::Oid, path: &str) -> Vec<u8> {
    let repo = git2::Repository::open(dir).unwrap();
    let tree = repo.find_commit(commit).unwrap().tree().unwrap();
    let entry = tree.get_path(Path::new(path)).unwrap();
    repo.find_blob(entry.id()).unwrap().content().to_vec()
}

/// Paths with uncommitted changes (untracked included).
fn status(dir: &Path) -> Vec<String> {
    let repo = git2::Repository::open(dir).unwrap();
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true);
    let statuses = repo.statuses(Some(&mut options)).unwrap();
    statuses.iter().filter_map(|s| s.path().ok().map(str::to_owned)).collect()
}

/// `git checkout -- . && git clean -fd`: how a user backs an update out.
fn back_out(dir: &Path) {
    for args in [&["checkout", "--", "."][..], &["clean", "-fdq"][..]] {
        let status = std::process::Command::new("git").arg("-C").arg(dir).args(args).status().unwrap();
        assert!(status.success(), "git {args:?}");
    }
}

#[test]
fn an_update_backed_out_with_plain_git_gives_the_same_tree_when_run_again() {
    let env = Env::new();
    let output = env.new_project(&["svc", "-y", "--lang", "go"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("svc");
    let generated = snapshot(&dir);

    let first = update(&env, &dir, &["--set", "ci=gitlab"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let after_first = snapshot(&dir);
    assert!(after_first.contains_key(".gitlab-ci.yml") && !after_first.contains_key(".github/workflows/ci.yml"));

    back_out(&dir);
    assert_eq!(snapshot(&dir), generated, "backed out");
    let again = update(&env, &dir, &["--set", "ci=gitlab"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(snapshot(&dir), after_first, "the second run gives byte for byte the first run's tree");

    commit_all(&dir, "switch to gitlab");
    let no_op = update(&env, &dir, &["--json"]);
    assert!(no_op.status.success(), "{}", stderr(&no_op));
    let report: serde_json::Value = serde_json::from_str(&stdout(&no_op)).unwrap();
    assert!(report["files"].as_array().unwrap().is_empty(), "committed, then run again: nothing to do: {report}");
}

#[test]
fn a_pack_version_bump_backed_out_is_applied_again() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    let generated = snapshot(&dir);
    let first = update(&env, &dir, &["--pack-ref", "v2"]);
    assert!(first.status.success() || first.status.code() == Some(1), "{}", stderr(&first));
    let after_first = snapshot(&dir);
    back_out(&dir);
    assert_eq!(snapshot(&dir), generated);
    let again = update(&env, &dir, &["--pack-ref", "v2"]);
    assert_eq!(again.status.code(), first.status.code(), "{}", stderr(&again));
    assert_eq!(snapshot(&dir), after_first, "the version bump's changes are not lost");
}

#[test]
fn a_killed_update_is_rolled_back_by_the_next_run() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    edit_like_a_user(&dir);
    let before = snapshot(&dir);
    for after in ["1", "4"] {
        let mut cmd = env.dozen();
        cmd.arg("update").arg(&dir).args(["--pack-ref", "v2"]).env("DOZEN_TEST_CRASH_AFTER", after);
        let output = cmd.output().unwrap();
        assert!(!output.status.success(), "aborted");
        assert_ne!(snapshot(&dir), before, "the abort left a half-applied tree (after {after} steps)");
        let dry = update(&env, &dir, &["--pack-ref", "v2", "--dry-run"]);
        assert!(stderr(&dry).contains("rolled back an interrupted write"), "{}", stderr(&dry));
        assert_eq!(snapshot(&dir), before, "rolled back to what it was (after {after} steps)");
    }
}

#[test]
fn a_relative_pack_directory_is_found_again_from_inside_the_project() {
    let env = Env::new();
    let pack = env.root.path().join("acme-pack");
    write_pack(&pack, V1);
    let mut cmd = env.dozen();
    cmd.args(["new", "svc", "-y", "--pack", "./acme-pack", "-o", "out"]);
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("svc");
    assert!(
        read(&dir, ".dozen/answers.toml").contains("source = \"../../acme-pack\""),
        "recorded relative to the project"
    );

    std::fs::remove_dir_all(pack.join("base")).unwrap();
    write_pack(&pack, V2);
    let mut cmd = env.dozen();
    cmd.current_dir(&dir).arg("update");
    let output = cmd.output().unwrap();
    assert!(output.status.code() == Some(0) || output.status.code() == Some(1), "{}", stderr(&output));
    assert_eq!(read(&dir, "plain.txt"), "plain v2\n", "updated from the pack directory it recorded");
    assert!(
        read(&dir, ".dozen/answers.toml").contains("source = \"../../acme-pack\""),
        "still recorded relative to the project after the update"
    );
}

#[test]
fn a_committed_symlink_never_leads_the_update_outside_the_project() {
    let env = Env::new();
    let (_, dir) = project_from_v1(&env);
    let other = env.root.path().join("other");
    std::fs::create_dir_all(other.join(".dozen")).unwrap();
    std::fs::rename(dir.join(".dozen/answers.toml"), other.join(".dozen/answers.toml")).unwrap();
    std::fs::remove_dir(dir.join(".dozen")).unwrap();
    std::os::unix::fs::symlink("../../other/.dozen", dir.join(".dozen")).unwrap();
    commit_all(&dir, "hostile symlink");
    let before = std::fs::read(other.join(".dozen/answers.toml")).unwrap();
    let output = update(&env, &dir, &["--pack-ref", "v2"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("symbolic link"), "{}", stderr(&output));
    assert_eq!(std::fs::read(other.join(".dozen/answers.toml")).unwrap(), before, "nothing written outside");
}

#[test]
fn new_questions_of_a_newer_pack_are_listed_taken_from_defaults_with_yes_or_answered_with_set() {
    let env = Env::new();
    let repo = env.root.path().join("grow-pack");
    let v1 = crate::support::TestPack::new("grow").file("README.md.tera", "# {{ project.slug }}\n");
    v1.write(&repo);
    git2::Repository::init(&repo).unwrap();
    let first = commit_all(&repo, "v1");
    tag(&repo, "v1", first);
    v1.version("2.0.0")
        .manifest("[[questions]]\nname = \"region\"\ntype = \"string\"\ndefault = \"eu\"\n")
        .manifest("[[questions]]\nname = \"zones\"\ntype = \"int\"\ndefault = 2\n")
        .file("region.txt.tera", "{{ region }} x{{ zones }}\n")
        .write(&repo);
    let second = commit_all(&repo, "v2");
    tag(&repo, "v2", second);
    let output = env.new_project(&["app", "-y", "--pack", &format!("{}#v1", repo.display())]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("app");

    let listed = update(&env, &dir, &["--pack-ref", "v2"]);
    assert_eq!(listed.status.code(), Some(2), "{}", stderr(&listed));
    let err = stderr(&listed);
    assert!(err.contains("region, zones") && err.contains("--yes"), "every new question at once: {err}");
    assert!(!dir.join("region.txt").exists());

    let answered = update(&env, &dir, &["--pack-ref", "v2", "--set", "region=us", "--yes"]);
    assert!(answered.status.success(), "{}", stderr(&answered));
    assert_eq!(read(&dir, "region.txt"), "us x2\n", "--set for one, the default for the other");
    assert!(read(&dir, ".dozen/answers.toml").contains("zones = 2"), "recorded for the next update");
}
