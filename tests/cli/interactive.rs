//! One real pseudo-terminal session through the dialoguer prompts of the built-in pack: typed
//! answers, arrow keys in selects, a refused answer asked again, the summary and the confirm.

use std::process::Command;

use rexpect::session::spawn_command;

use crate::support::Env;

const DOWN: &str = "\x1b[B";
const ENTER: &str = "\r";

/// Sends keys and flushes them to the terminal.
fn keys(p: &mut rexpect::session::PtySession, text: &str) {
    p.send(text).unwrap();
    p.flush().unwrap();
}

#[test]
fn a_whole_interactive_new_in_a_pseudo_terminal() {
    let env = Env::new();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("dozen"));
    cmd.args(["new", "--no-git", "-o"])
        .arg(env.out())
        .env("HOME", env.root.path().join("home"))
        .env("XDG_CONFIG_HOME", env.root.path().join("config"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn in a pty");

    p.exp_string("Project name").unwrap();
    keys(&mut p, "9lives");
    keys(&mut p, ENTER);
    p.exp_string("starts with a digit").unwrap();
    p.exp_string("Project name").unwrap();
    keys(&mut p, "Pty Demo");
    keys(&mut p, ENTER);
    p.exp_string("One-line description").unwrap();
    keys(&mut p, ENTER);
    p.exp_string("Author").unwrap();
    keys(&mut p, ENTER);
    p.exp_string("Language").unwrap();
    keys(&mut p, DOWN);
    keys(&mut p, ENTER);
    p.exp_string("Stack").unwrap();
    p.exp_string("flask").unwrap();
    keys(&mut p, DOWN);
    keys(&mut p, ENTER);
    p.exp_string("Database").unwrap();
    keys(&mut p, ENTER);
    p.exp_string("Continuous integration").unwrap();
    keys(&mut p, DOWN);
    keys(&mut p, ENTER);
    p.exp_string("Cloud").unwrap();
    keys(&mut p, DOWN);
    keys(&mut p, DOWN);
    keys(&mut p, ENTER);
    p.exp_string("Kubernetes").unwrap();
    keys(&mut p, DOWN);
    keys(&mut p, DOWN);
    keys(&mut p, ENTER);
    p.exp_string("Background worker").unwrap();
    keys(&mut p, ENTER);
    p.exp_string("License").unwrap();
    keys(&mut p, ENTER);
    p.exp_string("Summary").unwrap();
    p.exp_string("Generate the project?").unwrap();
    keys(&mut p, "y");
    p.exp_eof().unwrap();

    let record = std::fs::read_to_string(env.out().join("pty-demo/.dozen/answers.toml")).expect("project generated");
    for want in [
        "lang = \"python\"",
        "stack = \"flask\"",
        "ci = \"gitlab\"",
        "cloud = \"none\"",
        "k8s = \"none\"",
        "worker = \"none\"",
        "name = \"Pty Demo\"",
        "author = \"Test Author\"",
    ] {
        assert!(record.contains(want), "{want} missing from\n{record}");
    }
}
