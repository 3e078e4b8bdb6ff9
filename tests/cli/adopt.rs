//! `dozen adopt`: a plain git repository that dozen did not generate is brought under the pack of
//! `status.rs` — only `.dozen/answers.toml` is written, the fresh render becomes its base — and
//! from then on `status` and `update` work on it like on any generated repository.

use std::path::Path;

use serde_json::Value;

use crate::status::{Fleet, commit_all, edit, snapshot, states};
use crate::support::{stderr, stdout};

/// A repository of someone's own: one file as the pack renders it, one different, one the pack
/// does not know; `merge.txt` (which the pack renders) missing.
fn own_repository(dir: &Path) {
    edit(dir, "README.md", "# legacy\nfancy\n");
    edit(dir, "plain.txt", "plain v1\n");
    edit(dir, "keep.txt", "our own keep\n");
    edit(dir, "src/main.go", "package main\n");
    git2::Repository::init(dir).unwrap();
    commit_all(dir, "our history");
}

#[test]
fn adopt_then_status_then_update_round_trip() {
    let fleet = Fleet::new();
    let dir = fleet.root.join("legacy");
    own_repository(&dir);
    let head = git2::Repository::open(&dir).unwrap().head().unwrap().peel_to_commit().unwrap().id();
    let pack = format!("{}#v1.0.0", fleet.pack.display());
    let before = snapshot(&dir);

    let dry = fleet.dozen(&[
        "adopt",
        dir.to_str().unwrap(),
        "--pack",
        &pack,
        "--set",
        "flavour=fancy",
        "--dry-run",
        "--json",
    ]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert_eq!(snapshot(&dir), before, "--dry-run writes nothing");

    let output = fleet.dozen(&["adopt", dir.to_str().unwrap(), "--pack", &pack, "--set", "flavour=fancy", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let files: Vec<(&str, &str)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["state"].as_str().unwrap()))
        .collect();
    assert_eq!(files, [("keep.txt", "differs"), ("merge.txt", "missing"), ("src/main.go", "extra")]);
    assert_eq!((report["same"].as_u64(), report["differs"].as_u64()), (Some(2), Some(1)), "README.md, plain.txt");
    assert_eq!((report["missing"].as_u64(), report["extra"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["answers"]["name"], "legacy", "the name defaults to the directory's");
    assert_eq!(report["pack"]["version"], "1.0.0");
    assert_eq!(report["base"]["name"], "refs/dozen/base");

    let mut after = snapshot(&dir);
    let record = after.remove(".dozen/answers.toml").expect("the record is written");
    assert!(after.remove(".dozen/").is_some());
    let strip =
        |snap: &mut std::collections::BTreeMap<String, (Vec<u8>, u32)>| snap.retain(|p, _| !p.starts_with(".git/"));
    let mut before = before;
    strip(&mut before);
    strip(&mut after);
    assert_eq!(after, before, "nothing but the record changed in the working tree");
    let text = String::from_utf8(record.0).unwrap();
    assert!(text.contains("flavour = \"fancy\"") && text.contains("version = \"1.0.0\""), "{text}");
    let repo = git2::Repository::open(&dir).unwrap();
    assert_eq!(repo.head().unwrap().peel_to_commit().unwrap().id(), head, "no commit on the branch");
    let base = repo.find_reference("refs/dozen/base").unwrap().peel_to_commit().unwrap();
    assert!(base.tree().unwrap().get_path(Path::new("merge.txt")).is_ok(), "the base is the fresh render");

    let again = fleet.dozen(&["adopt", dir.to_str().unwrap(), "--pack", &pack, "-y"]);
    assert_eq!(again.status.code(), Some(2), "adopting twice is refused: {}", stderr(&again));

    // The pack has a newer version: status says behind, with its own edits listed.
    commit_all(&dir, "adopt the evo pack");
    let status = fleet.dozen(&["status", dir.to_str().unwrap(), "--json"]);
    let found = states(&status);
    assert_eq!(found["legacy"]["state"], "behind", "{}", found["legacy"]);
    assert_eq!(found["legacy"]["drifted"], serde_json::json!(["keep.txt", "merge.txt"]));

    let update = fleet.dozen(&["update", dir.to_str().unwrap(), "--commit", "--json"]);
    assert!(update.status.success(), "{}", stderr(&update));
    assert_eq!(std::fs::read_to_string(dir.join("plain.txt")).unwrap(), "plain v2\n", "the pack's change arrived");
    assert_eq!(std::fs::read_to_string(dir.join("keep.txt")).unwrap(), "our own keep\n", "our edit stays");
    assert!(!dir.join("merge.txt").exists(), "a file we never had stays absent");
    assert_eq!(std::fs::read_to_string(dir.join("src/main.go")).unwrap(), "package main\n");

    let status = fleet.dozen(&["status", dir.to_str().unwrap(), "--json"]);
    let found = states(&status);
    assert_eq!(found["legacy"]["state"], "drifted", "up to date, with its own differences");
    assert_eq!(found["legacy"]["recorded"], "2.0.0");
}

#[test]
fn adopt_outside_git_writes_the_record_and_keeps_no_base() {
    let fleet = Fleet::new();
    let dir = fleet.root.join("loose");
    edit(&dir, "keep.txt", "keep\n");
    let pack = format!("{}#v1.0.0", fleet.pack.display());
    let output = fleet.dozen(&["adopt", dir.to_str().unwrap(), "--pack", &pack, "-y"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("1 same"), "{}", stderr(&output));
    assert!(dir.join(".dozen/answers.toml").is_file());
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, [".dozen", "keep.txt"], "no staging directory left behind");
}
