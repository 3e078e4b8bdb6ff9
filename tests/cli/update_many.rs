//! `dozen update` over many repositories: in the fleet of `status.rs`, exactly the repositories
//! that are behind without conflicts get a new branch with one commit and a clean tree; the branch
//! each was on does not move, and dirty, conflicting, current and broken ones stay byte for byte
//! as they were. A second `status` then says they are up to date.

use std::path::Path;

use serde_json::Value;

use crate::status::{Fleet, commit_all, edit, refs, snapshot, states};
use crate::support::{stderr, stdout};

fn branch_of(dir: &Path) -> String {
    let repo = git2::Repository::open(dir).unwrap();
    repo.head().unwrap().shorthand().unwrap().to_owned()
}

fn tip(dir: &Path, branch: &str) -> git2::Oid {
    let repo = git2::Repository::open(dir).unwrap();
    repo.find_branch(branch, git2::BranchType::Local).unwrap().get().target().unwrap()
}

fn clean(dir: &Path) -> bool {
    let repo = git2::Repository::open(dir).unwrap();
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true);
    repo.statuses(Some(&mut options)).unwrap().is_empty()
}

#[test]
fn only_clean_repositories_that_are_behind_get_a_branch_with_one_commit() {
    let (fleet, repos) = Fleet::standard();
    let main_tips: Vec<(&str, git2::Oid)> =
        repos.iter().filter(|(k, _)| **k != "broken").map(|(k, dir)| (*k, tip(dir, "main"))).collect();
    let untouched = ["current", "conflicts", "drifted", "dirty", "broken"];
    let before: Vec<_> = untouched.iter().map(|k| (snapshot(&repos[k]), refs(&repos[k]))).collect();

    let dry = fleet.dozen(&["update", "--recursive", fleet.dir(), "--dry-run", "--json"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let report: Value = serde_json::from_str(&stdout(&dry)).unwrap();
    assert_eq!(report["dry_run"], true);
    let would: Vec<&str> = report["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "would-update")
        .map(|r| r["branch"].as_str().unwrap())
        .collect();
    assert_eq!(would, ["dozen/update-evo-2.0.0"; 3], "the default branch names the pack and version");
    for (k, dir) in &repos {
        assert_eq!(branch_of(dir), "main", "--dry-run switched no branch in {k}");
    }

    let output = fleet.dozen(&["update", "--recursive", fleet.dir(), "--branch", "chore/evo-2", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let done: Vec<(String, String)> = report["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let name = Path::new(r["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
            (name, r["action"].as_str().unwrap().to_owned())
        })
        .collect();
    let mut done = done;
    done.sort();
    let want = [
        ("behind", "updated"),
        ("broken", "skipped"),
        ("conflicts", "skipped"),
        ("current", "up-to-date"),
        ("dirty", "skipped"),
        ("drifted", "up-to-date"),
        ("fancy", "updated"),
        ("merges", "updated"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    assert_eq!(done, want);
    let skipped = |name: &str| {
        report["repositories"].as_array().unwrap().iter().find(|r| r["path"].as_str().unwrap().ends_with(name)).unwrap()
            ["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(skipped("conflicts").contains("conflict in merge.txt"), "{}", skipped("conflicts"));
    assert!(skipped("dirty").contains("uncommitted changes to keep.txt"), "{}", skipped("dirty"));

    for name in ["behind", "fancy", "merges"] {
        let dir = &repos[name];
        assert_eq!(branch_of(dir), "chore/evo-2", "{name} is on its new branch");
        assert!(clean(dir), "{name} has a clean tree");
        let repo = git2::Repository::open(dir).unwrap();
        let commit = repo.find_commit(tip(dir, "chore/evo-2")).unwrap();
        assert_eq!(commit.parent_id(0).unwrap(), tip(dir, "main"), "{name}: one commit on top of main");
        assert!(commit.message().unwrap().contains("evo 1.0.0 → evo 2.0.0"), "{:?}", commit.message());
        assert_eq!(std::fs::read_to_string(dir.join("plain.txt")).unwrap(), "plain v2\n");
    }
    assert_eq!(
        std::fs::read_to_string(repos["merges"].join("merge.txt")).unwrap(),
        "one\n2\n3\n4\n5\n6\n7\neight, mine\n",
        "the user's committed edit merged with the pack's"
    );
    assert_eq!(std::fs::read_to_string(repos["fancy"].join("README.md")).unwrap(), "# fancy\nfancy\n");
    for (name, was) in &main_tips {
        assert_eq!(tip(&repos[name], "main"), *was, "main of {name} did not move");
    }
    let after: Vec<_> = untouched.iter().map(|k| (snapshot(&repos[k]), refs(&repos[k]))).collect();
    assert!(after == before, "current, conflicting, drifted, dirty and broken repositories are untouched");

    let again = fleet.dozen(&["status", "-r", fleet.dir(), "--json"]);
    let found = states(&again);
    assert_eq!(found["behind"]["state"], "current");
    assert_eq!(found["fancy"]["state"], "current");
    assert_eq!(found["merges"]["state"], "drifted", "up to date, with the user's own edit");
    assert_eq!(found["merges"]["recorded"], "2.0.0");

    let twice = fleet.dozen(&["update", "-r", fleet.dir(), "--branch", "chore/evo-2"]);
    assert!(twice.status.success(), "{}", stderr(&twice));
    assert!(stderr(&twice).contains("0 of 8 repositories updated"), "{}", stderr(&twice));
}

#[test]
fn an_existing_branch_is_not_overwritten_and_one_repository_works_too() {
    let fleet = Fleet::new();
    let dir = fleet.generate("team", "svc", "v1.0.0", &[]);
    let repo = git2::Repository::open(&dir).unwrap();
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    repo.branch("taken", &head, false).unwrap();
    let output = fleet.dozen(&["update", dir.to_str().unwrap(), "--branch", "taken", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["repositories"][0]["action"], "skipped");
    assert!(report["repositories"][0]["reason"].as_str().unwrap().contains("exists already"));
    assert_eq!(branch_of(&dir), "main");

    let output = fleet.dozen(&["update", dir.to_str().unwrap(), "--branch", "pack-2"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(branch_of(&dir), "pack-2");
    assert!(clean(&dir));

    let refused = fleet.dozen(&["update", "-r", fleet.dir(), "--set", "flavour=fancy"]);
    assert_eq!(refused.status.code(), Some(2), "--set is for one repository");
}

#[test]
fn a_failure_part_way_switches_back_and_leaves_the_repository_as_it_was() {
    let fleet = Fleet::new();
    let dir = fleet.generate("team", "svc", "v1.0.0", &[]);
    edit(&dir, "notes.txt", "mine\n");
    commit_all(&dir, "notes");
    let before = snapshot(&dir);
    let output = fleet
        .env
        .dozen()
        .args(["update", "-r", fleet.dir(), "--json"])
        .env("DOZEN_TEST_FAIL_AFTER", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "an update that failed: {}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("the report, the one document");
    assert_eq!(report["repositories"][0]["action"], "failed");
    assert_eq!(branch_of(&dir), "main", "switched back");
    let repo = git2::Repository::open(&dir).unwrap();
    assert!(repo.find_branch("dozen/update-evo-2.0.0", git2::BranchType::Local).is_err(), "the branch is gone");
    let mut after = snapshot(&dir);
    let mut before = before;
    // git's own bookkeeping (objects of the pristine base, the reflog of HEAD) may differ.
    for snap in [&mut before, &mut after] {
        snap.retain(|path, _| !path.starts_with(".git/"));
    }
    assert_eq!(after, before, "the working tree byte for byte");
}

#[test]
fn a_fleet_of_thirty_from_two_versions_and_several_answer_sets() {
    let fleet = Fleet::new();
    let mut behind = Vec::new();
    for i in 0..32 {
        let team = if i % 2 == 0 { "team-a" } else { "team-b/sub" };
        let tag = if i % 4 == 3 { "v2.0.0" } else { "v1.0.0" };
        let flavour = if i % 3 == 0 { "flavour=fancy" } else { "flavour=plain" };
        let dir = fleet.generate(team, &format!("svc-{i:02}"), tag, &["--set", flavour]);
        if tag == "v1.0.0" {
            behind.push(dir);
        }
    }
    let before = snapshot(&fleet.root);
    let status = fleet.dozen(&["status", "-r", fleet.dir(), "--json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let found = states(&status);
    assert_eq!(found.len(), 32);
    let count = |state: &str| found.values().filter(|r| r["state"] == state).count();
    assert_eq!((count("behind"), count("current")), (24, 8));
    assert_eq!(snapshot(&fleet.root), before);

    let output = fleet.dozen(&["update", "-r", fleet.dir(), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for dir in &behind {
        assert_eq!(branch_of(dir), "dozen/update-evo-2.0.0");
        assert!(clean(dir));
    }
    let again = states(&fleet.dozen(&["status", "-r", fleet.dir(), "--json"]));
    assert!(again.values().all(|r| r["state"] == "current"), "{again:?}");
}
