//! Bad input: every case must exit with the right code, name the problem and its fix, and write
//! nothing at all.

use std::path::Path;

use crate::support::{Env, copy_dir, fixture_pack, fixtures, stderr};

struct Case {
    name: &'static str,
    args: Vec<String>,
    setup: fn(&Env),
    code: i32,
    /// Substrings the error must contain: the problem…
    problem: &'static str,
    /// …and the fix.
    fix: &'static str,
}

fn case(name: &'static str, args: &[&str], code: i32, problem: &'static str, fix: &'static str) -> Case {
    Case { name, args: args.iter().map(|s| (*s).to_owned()).collect(), setup: |_| {}, code, problem, fix }
}

fn with_setup(mut c: Case, setup: fn(&Env)) -> Case {
    c.setup = setup;
    c
}

fn cases() -> Vec<Case> {
    let mini = fixture_pack("mini");
    let pack = |name: &str| fixture_pack(name);
    vec![
        case("symbols-only name", &["!!!", "-y"], 2, "no letters or digits", "try \"my-service\""),
        case("empty name", &["", "-y"], 2, "no letters or digits", "try \"my-service\""),
        case("name starting with a digit", &["9lives", "-y"], 2, "starts with a digit", "try \"app-9lives\""),
        case("reserved name (Rust/Python)", &["test", "-y"], 2, "reserved word", "try \"test-service\""),
        case(
            "reserved name (Python)",
            &["platform", "-y", "--lang", "python"],
            2,
            "reserved word",
            "try \"platform-service\"",
        ),
        case("name longer than 63", &[&"a".repeat(70), "-y"], 2, "more than 63", "try"),
        case(
            "stack of another language",
            &["svc", "-y", "--lang", "python", "--stack", "axum"],
            2,
            "\"axum\" needs `lang == 'rust'`",
            "choose one of: fastapi, flask",
        ),
        case(
            "stack of another language",
            &["svc", "-y", "--lang", "rust", "--stack", "spring"],
            2,
            "needs `lang == 'java'`",
            "choose one of: axum",
        ),
        case(
            "unknown --lang value",
            &["svc", "-y", "--lang", "cobol"],
            2,
            "\"cobol\" is not one of the choices",
            "choose one of: rust, python",
        ),
        case(
            "malformed --set without =",
            &["svc", "-y", "--set", "license"],
            2,
            "malformed --set \"license\"",
            "--set KEY=VALUE",
        ),
        case(
            "malformed --set with empty key",
            &["svc", "-y", "--set", "=MIT"],
            2,
            "the key is empty",
            "--set KEY=VALUE",
        ),
        case(
            "unknown question",
            &["svc", "-y", "--set", "colour=blue"],
            2,
            "no question \"colour\"",
            "questions of this pack: name",
        ),
        case(
            "a value no choice or alias names",
            &["svc", "-y", "--set", "k8s=maybe"],
            2,
            "\"maybe\" is not one of the choices",
            "choose one of: kustomize, helm, none",
        ),
        case(
            "choice not in the list",
            &["svc", "-y", "--set", "db=mysql"],
            2,
            "\"mysql\" is not one of the choices",
            "choose one of: postgres, none",
        ),
        case(
            "flag and --set disagree",
            &["svc", "-y", "--lang", "go", "--set", "lang=java"],
            2,
            "given twice",
            "pass lang once",
        ),
        case(
            "regex failure",
            &["svc", "-y", "--pack", &mini, "--set", "team=Platform Team"],
            2,
            "lowercase letters, digits and dashes",
            "match the pattern",
        ),
        case(
            "wrong type for an int",
            &["svc", "-y", "--pack", &mini, "--set", "level=high"],
            2,
            "expected a whole number",
            "give level a int value",
        ),
        case(
            "multi-choice value not offered",
            &["svc", "-y", "--pack", &mini, "--set", "extras=true", "--set", "features=auth,teleport"],
            2,
            "\"teleport\" is not one of the choices",
            "auth, cache, queue",
        ),
        case("missing answer without a prompt", &["-y"], 2, "missing answers for: name", "--set name="),
        with_setup(
            case(
                "malformed answers file",
                &["svc", "-y", "--answers", "answers.toml"],
                2,
                "invalid TOML",
                "question = value",
            ),
            |env| {
                std::fs::write(env.root.path().join("answers.toml"), "lang = \"go\"\nci = \n").unwrap();
            },
        ),
        with_setup(
            case(
                "answers file with an unknown key",
                &["svc", "-y", "--answers", "answers.toml"],
                2,
                "no question \"colour\"",
                "questions of this pack",
            ),
            |env| {
                std::fs::write(env.root.path().join("answers.toml"), "colour = \"blue\"\n").unwrap();
            },
        ),
        with_setup(
            case(
                "answers file with a wrong type",
                &["svc", "-y", "--answers", "answers.toml"],
                2,
                "expected a choice, got a array",
                "give k8s a choice value",
            ),
            |env| {
                std::fs::write(env.root.path().join("answers.toml"), "k8s = [\"helm\"]\n").unwrap();
            },
        ),
        case(
            "answers file that does not exist",
            &["svc", "-y", "--answers", "nope.toml"],
            2,
            "cannot read it",
            "check the path",
        ),
        with_setup(case("malformed user config", &["svc", "-y"], 2, "config.toml", "[defaults]"), |env| {
            env.user_config("[defaults\nlang = 1\n");
        }),
        with_setup(
            case("user config with a stray table", &["svc", "-y"], 2, "unknown table or key `colours`", "[defaults]"),
            |env| env.user_config("[colours]\nred = 1\n"),
        ),
        with_setup(
            case("existing non-empty target", &["svc", "-y"], 2, "already exists and is not empty", "--force"),
            |env| {
                std::fs::create_dir_all(env.out().join("svc")).unwrap();
                std::fs::write(env.out().join("svc/keep.txt"), "mine").unwrap();
            },
        ),
        with_setup(
            case(
                "output under a file",
                &["svc", "-y", "-o", "blocker/deeper"],
                2,
                "blocker is not a directory",
                "choose another name or --output",
            ),
            |env| {
                std::fs::write(env.root.path().join("blocker"), "a file, not a directory").unwrap();
            },
        ),
        case(
            "unknown pack",
            &["svc", "-y", "--pack", "no-such-pack"],
            2,
            "no such directory, git repository, built-in pack or installed pack",
            "built-in packs: service",
        ),
        case(
            "template syntax error as file:line",
            &["svc", "-y", "--pack", &pack("syntax-error")],
            2,
            "base/broken.txt.tera:",
            "fix the Tera syntax",
        ),
        case(
            "undefined variable as file:line",
            &["svc", "-y", "--pack", &pack("undefined-variable")],
            1,
            "base/z-last.txt.tera:3",
            "is defined",
        ),
        case(
            "missing include",
            &["svc", "-y", "--pack", &pack("missing-include")],
            2,
            "partials/nope.tera",
            "included template exists",
        ),
        case(
            "rendered file name with ..",
            &["svc", "-y", "--pack", &pack("dotdot-name")],
            2,
            "contains `..`",
            "stays inside the project",
        ),
        case(
            "rendered absolute file name",
            &["svc", "-y", "--pack", &pack("absolute-name")],
            2,
            "it is absolute",
            "stays inside the project",
        ),
        with_setup(
            case(
                "symlink pointing outside the pack",
                &["svc", "-y", "--pack", "evil-pack"],
                2,
                "symlink points outside the pack",
                "copy of the file",
            ),
            |env| {
                let pack = env.root.path().join("evil-pack");
                copy_dir(Path::new(&fixture_pack("mini")), &pack);
                std::os::unix::fs::symlink("/etc/hostname", pack.join("base/hostname")).unwrap();
            },
        ),
    ]
}

#[test]
fn every_bad_input_is_refused_clearly_and_writes_nothing() {
    let cases = cases();
    assert!(cases.len() >= 30, "keep at least 30 distinct bad inputs, have {}", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let env = Env::new();
        (case.setup)(&env);
        let before = env.written();
        let mut cmd = env.dozen();
        cmd.arg("new").args(&case.args);
        if !case.args.iter().any(|a| a == "-o") {
            cmd.arg("-o").arg(env.out());
        }
        let output = cmd.output().unwrap();
        let err = stderr(&output);
        let mut wrong = Vec::new();
        if output.status.code() != Some(case.code) {
            wrong.push(format!("exit code {:?}, want {}", output.status.code(), case.code));
        }
        if !err.contains(case.problem) {
            wrong.push(format!("stderr lacks the problem {:?}", case.problem));
        }
        if !err.contains(case.fix) {
            wrong.push(format!("stderr lacks the fix {:?}", case.fix));
        }
        if env.written() != before {
            wrong.push(format!("wrote {:?}", env.written()));
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n--- stderr ---\n{err}", case.name, wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

/// One fixture file per broken manifest; adding a case means adding a file (and accepting its
/// snapshot). `pack check` reports the problem as `pack.toml:line`; `new` refuses the pack too.
#[test]
fn broken_manifests_report_every_problem_with_its_line() {
    insta::glob!("../fixtures/manifests", "*.toml", |path| {
        let env = Env::new();
        let pack = env.root.path().join("pack");
        std::fs::create_dir_all(pack.join("base")).unwrap();
        std::fs::copy(path, pack.join("pack.toml")).unwrap();
        std::fs::write(pack.join("base/file.txt"), "x").unwrap();
        let check = env.dozen().args(["pack", "check"]).arg(&pack).output().unwrap();
        assert_eq!(check.status.code(), Some(2), "{}", stderr(&check));
        let err = env.redact(&stderr(&check));
        assert!(err.contains("pack.toml"), "{err}");
        insta::assert_snapshot!(err);
        let output = env.new_project(&["svc", "-y", "--pack", pack.to_str().unwrap()]);
        assert!(!output.status.success(), "`new` accepted a broken pack");
        assert!(env.written().is_empty(), "wrote {:?}", env.written());
    });
    assert!(fixtures().join("manifests").read_dir().unwrap().count() >= 20);
}
