//! Tests that keep the documentation honest: the README names every flag and command, and the
//! changelog keeps its Keep a Changelog shape.

use crate::support::{Env, stdout};

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn readme_starts_with_the_two_fresh_machine_commands() {
    let readme = read("README.md");
    let head: Vec<&str> = readme.lines().take(5).collect();
    assert!(head.iter().any(|l| l.contains("new my-service --yes")), "{head:#?}");
    assert!(head.iter().any(|l| l.contains("scripts/test")), "{head:#?}");
    assert!(read(".ci/run").contains("scripts/test"), ".ci/run calls the README's test command");
}

#[test]
fn readme_mentions_every_flag_of_new_and_every_command() {
    let env = Env::new();
    let help = stdout(&env.dozen().args(["new", "--help"]).output().unwrap());
    let readme = read("README.md");
    let flags: Vec<&str> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.trim_end_matches(','))
        .collect();
    assert!(flags.len() > 15, "{flags:?}");
    for flag in flags {
        if flag == "--help" || flag == "--version" {
            continue;
        }
        assert!(readme.contains(flag), "README does not mention {flag}");
    }
    for command in [
        "dozen new",
        "dozen list",
        "dozen update",
        "dozen status",
        "dozen adopt",
        "dozen completions",
        "pack-format.md",
        "packs.md",
        "update.md",
    ] {
        assert!(readme.contains(command), "README does not mention {command}");
    }
}

#[test]
fn every_help_has_examples() {
    let env = Env::new();
    for args in [
        vec!["--help"],
        vec!["new", "--help"],
        vec!["list", "--help"],
        vec!["completions", "--help"],
        vec!["pack", "--help"],
        vec!["pack", "check", "--help"],
        vec!["update", "--help"],
        vec!["status", "--help"],
        vec!["adopt", "--help"],
    ] {
        let help = stdout(&env.dozen().args(&args).output().unwrap());
        assert!(help.contains("Examples:"), "{args:?} has no examples:\n{help}");
    }
}

#[test]
fn changelog_follows_keep_a_changelog() {
    let changelog = read("CHANGELOG.md");
    assert!(changelog.starts_with("# Changelog"));
    assert!(changelog.contains("## [Unreleased]"));
    for line in changelog.lines().filter(|l| l.starts_with("### ")) {
        assert!(
            ["### Added", "### Changed", "### Deprecated", "### Removed", "### Fixed", "### Security"].contains(&line),
            "{line}"
        );
    }
}
