//! Generation end to end: the rendered tree, the git repository, atomicity and interruption.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::{Env, files_under, fixture_pack, stderr, stdout};

#[test]
fn renders_copies_and_drops_files_as_the_pack_says() {
    let env = Env::new();
    let pack = fixture_pack("mini");
    let output = env.new_project(&["My Svc", "-y", "--no-git", "--pack", &pack, "--set", "flavour=fancy"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("my-svc");
    assert_eq!(
        files_under(&dir),
        [".dozen/answers.toml", "FANCY.md", "README.md", "raw.txt", "run.sh", "src/my_svc/lib.txt"]
    );
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    insta::assert_snapshot!(readme);
    assert_eq!(
        std::fs::read_to_string(dir.join("raw.txt")).unwrap(),
        "copied {{ verbatim }} ${{ github.sha }}\n",
        "non-.tera files are copied byte for byte"
    );
    assert_ne!(std::fs::metadata(dir.join("run.sh")).unwrap().permissions().mode() & 0o111, 0, "executable bit kept");
    assert!(stderr(&output).contains("made my-svc"), "the pack's message is shown");
}

#[test]
fn dry_run_plan_snapshot() {
    let env = Env::new();
    // A relative pack path, so the recorded source (and the record's size) is the same on every machine.
    crate::support::copy_dir(Path::new(&fixture_pack("mini")), &env.root.path().join("mini"));
    let output = env.new_project(&["svc", "-y", "--dry-run", "--pack", "mini", "--set", "extras=true"]);
    assert!(output.status.success(), "{}", stderr(&output));
    insta::assert_snapshot!(env.redact(&stderr(&output)));
    assert!(env.written().is_empty());
}

#[test]
fn git_repository_has_one_commit_on_main_matching_the_files() {
    let env = Env::new();
    let output = env.new_project(&["svc", "-y"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("svc");
    let repo = git2::Repository::open(&dir).expect("a repository");
    assert_eq!(repo.head().unwrap().name().ok(), Some("refs/heads/main"));
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    assert_eq!(walk.count(), 1, "exactly one commit");
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.author().name().ok(), Some("Test Author"), "author from git config");
    let statuses =
        repo.statuses(Some(git2::StatusOptions::new().include_untracked(true).include_ignored(true))).unwrap();
    assert!(statuses.is_empty(), "clean status, got {} entries", statuses.len());
    let mut in_tree = Vec::new();
    commit
        .tree()
        .unwrap()
        .walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                let path = format!("{root}{}", entry.name().unwrap());
                let blob = repo.find_blob(entry.id()).unwrap();
                assert_eq!(blob.content(), std::fs::read(dir.join(&path)).unwrap(), "{path} differs from the commit");
                in_tree.push(path);
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
    in_tree.sort();
    assert_eq!(in_tree, files_under(&dir));
}

#[test]
fn inside_an_existing_work_tree_no_nested_repository_is_created_and_its_index_is_untouched() {
    let env = Env::new();
    git2::Repository::init(env.out()).unwrap();
    let output = env.new_project(&["svc", "-y"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!env.out().join("svc/.git").exists(), "no nested repository");
    assert!(stderr(&output).contains("no nested repository created"), "{}", stderr(&output));
    assert!(stderr(&output).contains("--git-add"), "says how to stage: {}", stderr(&output));
    let repo = git2::Repository::open(env.out()).unwrap();
    assert_eq!(repo.index().unwrap().len(), 0, "nothing staged in the enclosing repository");
    assert!(repo.references().unwrap().next().is_none(), "no ref written in the enclosing repository");
}

#[test]
fn git_add_stages_the_files_in_the_enclosing_work_tree_except_ignored_ones() {
    let env = Env::new();
    git2::Repository::init(env.out()).unwrap();
    std::fs::write(env.out().join(".gitignore"), "svc/Makefile\n").unwrap();
    let output = env.new_project(&["svc", "-y", "--git-add"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let repo = git2::Repository::open(env.out()).unwrap();
    let index = repo.index().unwrap();
    assert!(index.get_path(Path::new("svc/.dozen/answers.toml"), 0).is_some(), "files staged");
    assert!(index.get_path(Path::new("svc/Makefile"), 0).is_none(), "git-ignored paths are not added");
}

#[test]
fn git_ceiling_directories_stop_the_search_for_an_enclosing_work_tree() {
    let env = Env::new();
    git2::Repository::init(env.root.path()).unwrap();
    let output = env
        .dozen()
        .args(["new", "svc", "-y", "-o"])
        .arg(env.out())
        .env("GIT_CEILING_DIRECTORIES", env.root.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(env.out().join("svc/.git").is_dir(), "the ceiling hides the outer repository, so svc gets its own");
}

#[test]
fn json_report_lists_written_files_and_git() {
    let env = Env::new();
    let output = env.new_project(&["svc", "-y", "--json", "--pack", &fixture_pack("mini")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["git"]["action"], "initialized");
    assert_eq!(report["git"]["branch"], "main");
    assert_eq!(report["pack"]["name"], "mini");
    let paths: Vec<&str> = report["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, files_under(&env.out().join("svc")));
}

#[test]
fn force_writes_into_an_existing_directory_and_reports_replacements() {
    let env = Env::new();
    let dir = env.out().join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("README.md"), "old").unwrap();
    std::fs::write(dir.join("mine.txt"), "keep me").unwrap();
    let output = env.new_project(&["svc", "-y", "--no-git", "--force", "--pack", &fixture_pack("mini")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("replaced existing README.md"), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.txt")).unwrap(),
        "keep me",
        "nothing outside the plan is deleted"
    );
}

#[test]
fn force_never_writes_through_a_symlink_in_the_target() {
    let env = Env::new();
    let outside = env.root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let dir = env.out().join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("src")).unwrap();
    let output = env.new_project(&["svc", "-y", "--no-git", "--force", "--pack", &fixture_pack("mini")]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("symlink"), "{}", stderr(&output));
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "nothing written outside the target");
}

#[test]
fn a_render_error_in_the_last_file_leaves_no_target() {
    let env = Env::new();
    let output = env.new_project(&["svc", "-y", "--pack", &fixture_pack("undefined-variable")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(env.written().is_empty(), "left {:?}", env.written());
}

#[test]
fn sigint_while_writing_a_large_pack_leaves_nothing() {
    let env = Env::new();
    let pack = env.root.path().join("big");
    crate::support::TestPack::new("big").write(&pack);
    let body = "x".repeat(16 * 1024);
    for dir in 0..40 {
        let sub = pack.join(format!("base/d{dir:02}"));
        std::fs::create_dir_all(&sub).unwrap();
        for file in 0..100 {
            std::fs::write(sub.join(format!("f{file:03}.txt")), &body).unwrap();
        }
    }
    let mut cmd = env.std_dozen();
    cmd.args(["new", "big-one", "-y", "--pack"]).arg(&pack).arg("-o").arg(env.out());
    let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let staging_seen = loop {
        let staging = std::fs::read_dir(env.out())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".big-one.dozen-"));
        if staging || std::time::Instant::now() > deadline {
            break staging;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert!(staging_seen, "the staging directory never appeared");
    let pid = i32::try_from(child.id()).unwrap();
    std::process::Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "interrupted run must fail");
    assert!(env.written().is_empty(), "left {:?}", env.written());
}

#[test]
fn next_steps_name_the_project_as_the_user_can_reach_it_and_start_the_database() {
    let env = Env::new();
    let output = env.dozen().args(["new", "svc", "-y", "--no-git", "-o", "out/deeper"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("  cd out/deeper/svc\n"), "{err}");
    let up = err.find("docker compose up -d --wait db").expect("starts the database");
    assert!(up < err.find("make migrate").unwrap(), "before migrating: {err}");
    let output = env.dozen().args(["new", "nodb", "-y", "--no-git", "--db", "none", "-o", "out"]).output().unwrap();
    assert!(!stderr(&output).contains("docker compose up"), "no database to start: {}", stderr(&output));
}
