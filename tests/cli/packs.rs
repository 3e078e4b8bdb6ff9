//! Custom packs: scaffolding, checking and testing them, git sources (tags, branches, commits,
//! subdirectories), installing, `extends` of the built-in pack, hooks and trust, hostile packs.

use std::path::Path;

use git2::{Repository, Signature};

use crate::support::{Env, TestPack, files_under, fixture_pack, stderr, stdout};

/// Commits everything in `dir` (creating the repository on first use) and returns the commit id.
fn commit_all(dir: &Path, message: &str) -> String {
    let repo = Repository::open(dir)
        .or_else(|_| Repository::init_opts(dir, git2::RepositoryInitOptions::new().initial_head("main")))
        .unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("t", "t@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents).unwrap().to_string()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn pack_new_output_passes_check_and_test() {
    let env = Env::new();
    let created = env.dozen().args(["pack", "new", "acme"]).output().unwrap();
    assert!(created.status.success(), "{}", stderr(&created));
    let check = env.dozen().args(["pack", "check", "acme"]).output().unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    let test = env.dozen().args(["pack", "test", "acme", "--trust", "--json"]).output().unwrap();
    assert!(test.status.success(), "{}", stderr(&test));
    let report: serde_json::Value = serde_json::from_str(&stdout(&test)).unwrap();
    assert_eq!(report["combinations"], 4, "2 flavours x 2 bools");
    assert_eq!(report["cases"][0]["checks"].as_array().unwrap().len(), 1, "the declared check ran");
}

#[test]
fn pack_check_reports_template_problems_at_once() {
    let env = Env::new();
    let pack = env.root.path().join("p");
    TestPack::new("p")
        .manifest("[[questions]]\nname = \"x\"\ntype = \"bool\"\nwhen = \"colour == 'red'\"\n")
        .layer("empty")
        .file("a.txt.tera", "{{ name }}\n{{ flavour }}\n")
        .write(&pack);
    let output = env.dozen().args(["pack", "check", "p"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    for want in [
        "base/a.txt.tera:2: uses `flavour`, which no question defines",
        "names `colour`, which no earlier question defines",
        "layer \"empty\" has no files",
    ] {
        assert!(err.contains(want), "missing {want:?} in\n{err}");
    }
}

#[test]
fn the_builtin_pack_passes_check_and_renders_its_pairwise_matrix() {
    let env = Env::new();
    let check = env.dozen().args(["pack", "check", "service"]).output().unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    let test = env.dozen().args(["pack", "test", "service", "--json"]).output().unwrap();
    assert!(test.status.success(), "{}", stderr(&test));
    let report: serde_json::Value = serde_json::from_str(&stdout(&test)).unwrap();
    assert_eq!(
        report["combinations"], 6048,
        "6 stacks x db 2 x ci 7 x (aws x iac 2, gcp, none) x k8s 3 x worker 2 x license 3"
    );
    assert_eq!(report["sampled"], true);
}

#[test]
fn git_sources_by_tag_branch_commit_and_subdirectory() {
    let env = Env::new();
    let repo = env.root.path().join("packs-repo");
    let pack = |version: &str, body: &str| {
        TestPack::new("svc").version(version).file("VERSION.tera", body).write(&repo.join("svc"));
    };
    pack("1.0.0", "one {{ project.slug }}\n");
    let v1 = commit_all(&repo, "v1");
    let git = Repository::open(&repo).unwrap();
    git.tag_lightweight("v1", &git.revparse_single("HEAD").unwrap(), false).unwrap();
    pack("2.0.0", "two {{ project.slug }}\n");
    let v2 = commit_all(&repo, "v2");
    let url = format!("file://{}", repo.display());

    for (reference, want, commit) in [
        ("#v1", "one a\n", &v1),
        ("#main", "two a\n", &v2),
        ("", "two a\n", &v2),
        (&format!("#{}", &v1[..10]), "one a\n", &v1),
    ] {
        let dir = env.out().join("a");
        let _ = std::fs::remove_dir_all(&dir);
        let src = format!("{url}//svc{reference}");
        let output = env.new_project(&["a", "-y", "--no-git", "--pack", &src]);
        assert!(output.status.success(), "{src}: {}", stderr(&output));
        assert_eq!(std::fs::read_to_string(dir.join("VERSION")).unwrap(), want, "{src}");
        let record = std::fs::read_to_string(dir.join(".dozen/answers.toml")).unwrap();
        assert!(
            record.contains(&format!("commit = \"{commit}\"")),
            "{src}: the resolved commit is recorded:\n{record}"
        );
    }
    let missing = env.new_project(&["b", "-y", "--pack", &format!("{url}//svc#nope")]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("ref \"nope\" is not a branch, tag or commit"), "{}", stderr(&missing));
    assert!(stderr(&missing).contains("v1"), "the hint lists refs: {}", stderr(&missing));
    let unreachable = env.new_project(&["b", "-y", "--pack", "file:///no/such/repo"]);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(stderr(&unreachable).contains("cannot clone it"), "{}", stderr(&unreachable));
}

#[test]
fn install_list_use_and_remove() {
    let env = Env::new();
    let data = env.root.path().join("data");
    let run = |args: &[&str]| env.dozen().env("XDG_DATA_HOME", &data).args(args).output().unwrap();
    let added = run(&["pack", "add", &fixture_pack("mini"), "--name", "team-mini"]);
    assert!(added.status.success(), "{}", stderr(&added));
    let listed = run(&["pack", "list", "--json"]);
    let packs: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(packs["packs"][0]["name"], "team-mini");
    assert_eq!(packs["packs"][0]["version"], "1.2.0");
    let made = env
        .dozen()
        .env("XDG_DATA_HOME", &data)
        .args(["new", "svc", "-y", "--no-git", "--pack", "team-mini", "-o"])
        .arg(env.out())
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(env.out().join("svc/README.md").exists());
    let removed = run(&["pack", "remove", "team-mini"]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert!(stdout(&run(&["pack", "list"])).contains("No installed packs"));
    let gone = run(&["pack", "remove", "team-mini"]);
    assert_eq!(gone.status.code(), Some(2));
}

#[test]
fn extends_the_builtin_pack_adding_replacing_and_removing() {
    let env = Env::new();
    let pack = env.root.path().join("acme");
    TestPack::new("acme")
        .version("0.3.0")
        .extends("service")
        .remove(&[".editorconfig"])
        .manifest("[[questions]]\nname = \"team\"\ntype = \"string\"\ndefault = \"payments\"\n")
        .layer("acme")
        .file_in("acme", "CODEOWNERS.tera", "* @acme/{{ team }}\n")
        .file_in("acme", ".gitignore", "replaced by acme\n")
        .write(&pack);
    let output = env.new_project(&["svc", "-y", "--no-git", "--pack", pack.to_str().unwrap(), "--lang", "go"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("svc");
    assert_eq!(std::fs::read_to_string(dir.join("CODEOWNERS")).unwrap(), "* @acme/payments\n");
    assert_eq!(std::fs::read_to_string(dir.join(".gitignore")).unwrap(), "replaced by acme\n");
    assert!(!dir.join(".editorconfig").exists(), "removed from the parent");
    assert!(dir.join("go.mod").exists(), "the parent's stack layers still apply");
    let record = std::fs::read_to_string(dir.join(".dozen/answers.toml")).unwrap();
    assert!(
        record.contains("name = \"acme\"") && record.contains("source = \"builtin:service\""),
        "the chain is recorded:\n{record}"
    );
}

#[test]
fn extends_cycles_are_refused() {
    let env = Env::new();
    for (name, parent) in [("a", "../b"), ("b", "../a")] {
        write(
            &env.root.path().join(name).join("pack.toml"),
            &format!("[pack]\nname = \"{name}\"\nversion = \"1.0.0\"\nextends = \"{parent}\"\n"),
        );
    }
    let output = env.new_project(&["svc", "-y", "--pack", env.root.path().join("a").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("`extends` forms a cycle"), "{}", stderr(&output));
    assert!(env.written().is_empty());
}

fn hook_pack(env: &Env, run: &str) -> String {
    TestPack::new("hooked")
        .manifest(&format!("[[hooks]]\nrun = {run:?}\n"))
        .file("README.md", "hi\n")
        .write(&env.root.path().join("hooked"))
}

#[test]
fn hooks_need_trust_and_run_in_the_project_with_the_answers() {
    let env = Env::new();
    let pack = hook_pack(&env, "echo $DOZEN_NAME > hooked.txt");
    let refused = env.new_project(&["svc", "-y", "--no-git", "--pack", &pack]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("echo $DOZEN_NAME > hooked.txt") && stderr(&refused).contains("--trust"),
        "{}",
        stderr(&refused)
    );
    assert!(env.written().is_empty(), "nothing generated without trust");
    let trusted = env.new_project(&["svc", "-y", "--no-git", "--trust", "--pack", &pack]);
    assert!(trusted.status.success(), "{}", stderr(&trusted));
    assert_eq!(std::fs::read_to_string(env.out().join("svc/hooked.txt")).unwrap(), "svc\n");
}

#[test]
fn a_failing_hook_is_reported_and_the_project_kept() {
    let env = Env::new();
    let pack = hook_pack(&env, "exit 7");
    let output = env.new_project(&["svc", "-y", "--trust", "--pack", &pack]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("exit code 7"), "{}", stderr(&output));
    assert_eq!(files_under(&env.out().join("svc")), [".dozen/answers.toml", "README.md"]);
}

#[test]
fn a_100_mib_file_is_copied_without_being_loaded_twice() {
    let env = Env::new();
    let pack = env.root.path().join("big");
    TestPack::new("big").write(&pack);
    let big = pack.join("base/blob.bin");
    std::fs::create_dir_all(big.parent().unwrap()).unwrap();
    std::fs::File::create(&big).unwrap().set_len(100 * 1024 * 1024).unwrap();
    let output = std::process::Command::new("/usr/bin/time")
        .arg("-f")
        .arg("maxrss=%M")
        .arg(assert_cmd::cargo::cargo_bin("dozen"))
        .args(["new", "svc", "-y", "--no-git", "--pack"])
        .arg(&pack)
        .arg("-o")
        .arg(env.out())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::metadata(env.out().join("svc/blob.bin")).unwrap().len(), 100 * 1024 * 1024);
    let rss_kib: u64 = stderr(&output).lines().find_map(|l| l.strip_prefix("maxrss=")).unwrap().trim().parse().unwrap();
    assert!(rss_kib < 180 * 1024, "peak RSS {rss_kib} KiB: the file must be held once, not twice");
}

/// Its checks (inherited validators) run with `--trust` in scripts/test, where the tools are on PATH.
#[test]
fn the_acme_example_pack_checks_tests_and_generates() {
    let env = Env::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme-service");
    let example = example.to_str().unwrap();
    let check = env.dozen().args(["pack", "check", example]).output().unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    let test = env.dozen().args(["pack", "test", example, "--json"]).output().unwrap();
    assert!(test.status.success(), "{}", stderr(&test));
    let output = env.new_project(&[
        "shop",
        "-y",
        "--no-git",
        "--pack",
        example,
        "--set",
        "team=payments",
        "--set",
        "cost_center=CC-1234",
        "--cloud",
        "gcp",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = env.out().join("shop");
    assert!(std::fs::read_to_string(dir.join("CODEOWNERS")).unwrap().contains("* @acme/payments"));
    assert!(std::fs::read_to_string(dir.join("terraform/acme.auto.tfvars")).unwrap().contains("\"cc-1234\""));
    assert!(std::fs::read_to_string(dir.join("terraform/backend.hcl")).unwrap().contains("services/shop"));
    assert!(dir.join(".github/workflows/compliance.yml").exists() && dir.join(".github/workflows/ci.yml").exists());
    let bad = env.new_project(&["shop2", "-y", "--pack", example, "--set", "cost_center=1234"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("CC- followed by four digits"), "{}", stderr(&bad));
}
