//! A fluent builder over assert_cmd and assert_fs: each test gets an isolated HOME, user config
//! directory and git identity, and a temporary output directory.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use assert_fs::TempDir;
use assert_fs::prelude::*;

/// The repository's fixtures directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture pack by name.
pub fn fixture_pack(name: &str) -> String {
    fixtures().join("packs").join(name).display().to_string()
}

/// One isolated dozen invocation environment.
pub struct Env {
    /// Holds HOME, config and output.
    pub root: TempDir,
}

impl Env {
    /// A fresh environment with an empty user config and a git identity.
    pub fn new() -> Env {
        let root = TempDir::new().expect("temp dir");
        root.child("home").create_dir_all().unwrap();
        root.child("config").create_dir_all().unwrap();
        root.child("out").create_dir_all().unwrap();
        root.child("home/.gitconfig").write_str("[user]\n\tname = Test Author\n\temail = test@example.com\n").unwrap();
        Env { root }
    }

    /// The output parent directory.
    pub fn out(&self) -> PathBuf {
        self.root.path().join("out")
    }

    /// Writes the user config.
    pub fn user_config(&self, text: &str) {
        self.root.child("config/dozen/config.toml").write_str(text).unwrap();
    }

    /// A `dozen` command in this environment.
    pub fn dozen(&self) -> Command {
        Command::from_std(self.std_dozen())
    }

    /// The same as a plain `std::process::Command` (for spawning and signals).
    pub fn std_dozen(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("dozen"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root.path().join("home"))
            .env("XDG_CONFIG_HOME", self.root.path().join("config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .current_dir(self.root.path());
        cmd
    }

    /// `dozen new ARGS -o OUT` with stdin closed.
    pub fn new_project(&self, args: &[&str]) -> Output {
        let mut cmd = self.dozen();
        cmd.arg("new").args(args).arg("-o").arg(self.out());
        cmd.output().expect("runs")
    }

    /// Every entry under the output directory (relative paths), for "nothing was written".
    pub fn written(&self) -> Vec<String> {
        let mut found = Vec::new();
        walk(&self.out(), &self.out(), &mut found);
        found.sort();
        found
    }

    /// Replaces the temp root in text so snapshots are stable.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root.path().display().to_string(), "[TMP]")
            .replace(&fixtures().display().to_string(), "[FIXTURES]")
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        out.push(path.strip_prefix(root).unwrap().display().to_string());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &path, out);
        }
    }
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Files under `dir` (relative, excluding `.git`), sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    walk(dir, dir, &mut all);
    let mut files: Vec<String> =
        all.into_iter().filter(|p| !p.starts_with(".git/") && p != ".git" && dir.join(p).is_file()).collect();
    files.sort();
    files
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// A pack written for one test: a manifest with a `name` question and one `base` layer, plus
/// whatever the test adds, so tests say only what is special about their pack.
pub struct TestPack {
    name: String,
    version: String,
    extends: Option<String>,
    remove: Vec<String>,
    manifest: String,
    layers: Vec<String>,
    files: Vec<(String, Vec<u8>, bool)>,
}

impl TestPack {
    /// A pack called `name` at version 1.0.0.
    pub fn new(name: &str) -> TestPack {
        TestPack {
            name: name.to_owned(),
            version: "1.0.0".to_owned(),
            extends: None,
            remove: Vec::new(),
            manifest: String::new(),
            layers: vec!["base".to_owned()],
            files: Vec::new(),
        }
    }

    /// Another version.
    pub fn version(mut self, version: &str) -> TestPack {
        version.clone_into(&mut self.version);
        self
    }

    /// `extends = parent` in `[pack]`.
    pub fn extends(mut self, parent: &str) -> TestPack {
        self.extends = Some(parent.to_owned());
        self
    }

    /// A top-level `remove` list (parent files this pack drops).
    pub fn remove(mut self, paths: &[&str]) -> TestPack {
        self.remove.extend(paths.iter().map(|p| (*p).to_owned()));
        self
    }

    /// More manifest TOML (questions, hooks, `[message]`…), appended after the `name` question.
    pub fn manifest(mut self, toml: &str) -> TestPack {
        self.manifest.push_str(toml);
        self.manifest.push('\n');
        self
    }

    /// Calls the first layer `path` instead of `base` ([`TestPack::file`] still writes under
    /// `base/`: use [`TestPack::file_in`]).
    pub fn first_layer(mut self, path: &str) -> TestPack {
        path.clone_into(&mut self.layers[0]);
        self
    }

    /// Another layer, after `base` (its files come from [`TestPack::file_in`]).
    pub fn layer(mut self, path: &str) -> TestPack {
        self.layers.push(path.to_owned());
        self
    }

    /// A file of the `base` layer.
    pub fn file(self, path: &str, text: &str) -> TestPack {
        self.file_in("base", path, text)
    }

    /// A file of another layer.
    pub fn file_in(mut self, layer: &str, path: &str, text: &str) -> TestPack {
        self.files.push((format!("{layer}/{path}"), text.as_bytes().to_vec(), false));
        self
    }

    /// An executable file of the `base` layer.
    pub fn executable(mut self, path: &str, text: &str) -> TestPack {
        self.files.push((format!("base/{path}"), text.as_bytes().to_vec(), true));
        self
    }

    /// The `pack.toml` text.
    pub fn manifest_text(&self) -> String {
        let remove = if self.remove.is_empty() { String::new() } else { format!("remove = {:?}\n\n", self.remove) };
        let extends = self.extends.as_ref().map(|e| format!("extends = {e:?}\n")).unwrap_or_default();
        let layers: String = self.layers.iter().map(|l| format!("[[layers]]\npath = {l:?}\n\n")).collect();
        format!(
            "{remove}[pack]\nname = {:?}\nversion = {:?}\n{extends}\n[[questions]]\nname = \"name\"\ntype = \"string\"\n\n{}\n{layers}",
            self.name, self.version, self.manifest
        )
    }

    /// Writes the pack into `dir` and returns the directory as text, for `--pack`.
    pub fn write(&self, dir: &Path) -> String {
        std::fs::create_dir_all(dir.join("base")).unwrap();
        std::fs::write(dir.join("pack.toml"), self.manifest_text()).unwrap();
        for (path, bytes, executable) in &self.files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
            #[cfg(unix)]
            if *executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        dir.display().to_string()
    }
}

/// Runs `cmd` with stdin closed and its output captured, failing the test if it has not finished
/// within `limit`: a hang is a failure, never a wait.
pub fn bounded(mut cmd: std::process::Command, limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("dozen hung for {limit:?}: {cmd:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}
