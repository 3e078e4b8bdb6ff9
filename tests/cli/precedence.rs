//! Every non-interactive channel, and who wins when they disagree: flags and `--set`, then
//! `--answers`, then the user config, then the pack's defaults.

use serde_json::Value;

use crate::support::{Env, fixture_pack, stderr, stdout};

fn answers(env: &Env, args: &[&str]) -> serde_json::Map<String, Value> {
    let mut all = vec!["svc", "--dry-run", "--json", "--pack"];
    let pack = fixture_pack("mini");
    all.push(&pack);
    all.extend_from_slice(args);
    let output = env.new_project(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).expect("--json is JSON");
    report["answers"].as_object().expect("answers object").clone()
}

#[test]
fn pack_defaults_apply_without_any_input() {
    let env = Env::new();
    let a = answers(&env, &[]);
    assert_eq!(a["team"], "platform");
    assert_eq!(a["flavour"], "plain");
    assert_eq!(a["level"], 3);
    assert_eq!(a["extras"], false);
    assert_eq!(a["greeting"], "hello platform", "a default expression sees earlier answers");
    assert!(!a.contains_key("features"), "a question whose `when` is false is not answered");
    assert!(!a.contains_key("token"), "secret answers are never reported");
}

#[test]
fn each_channel_overrides_the_ones_below_it() {
    let env = Env::new();
    env.user_config("[defaults]\nteam = \"from-config\"\nflavour = \"fancy\"\nlevel = 7\nunrelated = \"ignored by packs without it\"\n");
    std::fs::write(env.root.path().join("a.toml"), "team = \"from-file\"\nlevel = 8\n").unwrap();

    let config_only = answers(&env, &[]);
    assert_eq!(
        (config_only["team"].as_str(), config_only["flavour"].as_str(), config_only["level"].as_i64()),
        (Some("from-config"), Some("fancy"), Some(7))
    );

    let with_file = answers(&env, &["--answers", "a.toml"]);
    assert_eq!(
        (with_file["team"].as_str(), with_file["flavour"].as_str(), with_file["level"].as_i64()),
        (Some("from-file"), Some("fancy"), Some(8))
    );

    let with_set = answers(&env, &["--answers", "a.toml", "--set", "team=from-set"]);
    assert_eq!((with_set["team"].as_str(), with_set["level"].as_i64()), (Some("from-set"), Some(8)));
    assert_eq!(with_set["greeting"], "hello from-set");
}

#[test]
fn dedicated_flags_answer_the_builtin_questions() {
    let env = Env::new();
    let output = env.new_project(&[
        "svc",
        "-y",
        "--dry-run",
        "--json",
        "--lang",
        "go",
        "--db",
        "none",
        "--ci",
        "gitlab",
        "--cloud",
        "gcp",
        "--no-k8s",
        "--set",
        "license=none",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let a = &report["answers"];
    assert_eq!(
        (a["lang"].as_str(), a["stack"].as_str()),
        (Some("go"), Some("nethttp")),
        "stack defaults to the language's first"
    );
    assert_eq!(
        (a["db"].as_str(), a["ci"].as_str(), a["cloud"].as_str(), a["k8s"].as_str(), a["license"].as_str()),
        (Some("none"), Some("gitlab"), Some("gcp"), Some("none"), Some("none")),
        "--no-k8s is the `none` choice's alias"
    );
    let files: Vec<&str> = report["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(files.contains(&".dozen/answers.toml"));
    assert!(!files.iter().any(|f| f.starts_with("k8s/")), "--no-k8s drops the k8s layer: {files:?}");
    assert!(!files.contains(&"LICENSE"), "license=none drops LICENSE");
    assert!(env.written().is_empty(), "--dry-run writes nothing");
}

#[test]
fn a_recorded_answers_file_replays_a_generation() {
    let env = Env::new();
    let pack = fixture_pack("mini");
    let first = env.new_project(&[
        "svc",
        "-y",
        "--no-git",
        "--pack",
        &pack,
        "--set",
        "flavour=fancy",
        "--set",
        "extras=true",
        "--set",
        "features=cache,queue",
    ]);
    assert!(first.status.success(), "{}", stderr(&first));
    let record = env.out().join("svc/.dozen/answers.toml");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(!text.contains("s3cret"), "secret answers are not recorded:\n{text}");
    let replay = answers(&env, &["--answers", record.to_str().unwrap(), "--set", "token=x"]);
    assert_eq!(
        (replay["flavour"].as_str(), replay["features"].clone()),
        (Some("fancy"), serde_json::json!(["cache", "queue"]))
    );
}

/// Runs with stdin closed; fails the test instead of hanging if dozen waits for input.
fn run_with_closed_stdin(env: &Env, args: &[&str]) -> std::process::Output {
    let mut cmd = env.std_dozen();
    cmd.arg("new").args(args).arg("-o").arg(env.out());
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("dozen waited for input with stdin closed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn stdin_closed_without_yes_never_waits() {
    let env = Env::new();
    let ok = run_with_closed_stdin(&env, &["svc", "--no-git"]);
    assert!(ok.status.success(), "everything has a default: {}", stderr(&ok));

    let missing = run_with_closed_stdin(&env, &["--no-git", "--pack", &fixture_pack("mini")]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("missing answers for: name"), "{}", stderr(&missing));
}
