//! Where the validators live. `scripts/install-tools.sh` installs them into a virtualenv; the tier
//! looks in `DOZEN_TOOLS_DIR` (the directory holding the executables, or a virtualenv whose `bin/`
//! does; default `<repo>/.venv-tools/bin`) and then on PATH. A selected stack whose validators are
//! missing fails and names the script, because a check that cannot run must never count as passed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable naming the validators' directory.
pub const VARIABLE: &str = "DOZEN_TOOLS_DIR";

/// The validators every stack's static checks need.
pub const REQUIRED: [&str; 15] = [
    "hadolint",
    "actionlint",
    "check-jsonschema",
    "zizmor",
    "yamllint",
    "kubernetes-validate",
    "hcl2tojson",
    "dotenv-linter",
    "shellcheck",
    "squawk",
    "checkov",
    "cfn-lint",
    "helm",
    "promtool",
    "npm-groovy-lint",
];

/// The located validators' directory.
pub struct Toolbox {
    dir: PathBuf,
}

impl Toolbox {
    /// The directory from `DOZEN_TOOLS_DIR`, else where `scripts/install-tools.sh` puts them by
    /// default: `dozen/tools` in the user's cache directory, else the repository's `.venv-tools`.
    pub fn locate() -> Toolbox {
        let dir = std::env::var_os(VARIABLE).map_or_else(
            || {
                crate::tier::user_cache()
                    .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-tools"), |d| d.join("tools"))
            },
            PathBuf::from,
        );
        Toolbox::at(dir)
    }

    /// The validators in `dir` (or in `dir/bin` when `dir` is a virtualenv).
    pub fn at(dir: PathBuf) -> Toolbox {
        let venv_bin = dir.join("bin");
        let dir = if venv_bin.join("python").exists() && !dir.join("python").exists() { venv_bin } else { dir };
        Toolbox { dir }
    }

    /// Fails, naming the install script, unless every tool of `names` is found.
    pub fn require(&self, names: &[&str]) -> Result<(), String> {
        let missing: Vec<&str> = names.iter().copied().filter(|n| self.find(n).is_none()).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(format!(
            "validators not found in {} or on PATH: {}; install them with `bash scripts/install-tools.sh` \
             (or set {VARIABLE} to the directory that holds them)",
            self.dir.display(),
            missing.join(", ")
        ))
    }

    /// The executable `name`, from the tools directory first and then from PATH.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        std::iter::once(self.dir.clone())
            .chain(std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|path| is_executable(path))
    }

    /// The executable `name` from the virtualenv `venv` that the install script puts beside the
    /// validators (`<tools>/<venv>/bin`, where `<tools>` is the validators' virtualenv or
    /// directory), else from the validators' directory or PATH.
    pub fn find_in_venv(&self, venv: &str, name: &str) -> Option<PathBuf> {
        let beside = self.dir.parent().map(|root| root.join(venv).join("bin").join(name));
        let inside = self.dir.join(venv).join("bin").join(name);
        beside.into_iter().chain([inside]).find(|path| is_executable(path)).or_else(|| self.find(name))
    }

    /// A command running tool `name`, with the tools directory first on PATH (so that actionlint,
    /// for one, finds shellcheck). Call only after [`Toolbox::require`] accepted `name`.
    pub fn command(&self, name: &str) -> Command {
        let program = self.find(name).unwrap_or_else(|| self.dir.join(name));
        let mut cmd = Command::new(program);
        cmd.env("PATH", self.path());
        cmd
    }

    fn path(&self) -> OsString {
        let rest = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
        std::env::join_paths(std::iter::once(self.dir.clone()).chain(rest)).unwrap_or_default()
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[test]
fn missing_tools_are_named_with_the_install_script() {
    let empty = tempfile::tempdir().unwrap();
    let toolbox = Toolbox::at(empty.path().to_path_buf());
    let err = toolbox.require(&["sh", "surely-not-a-validator"]).err().unwrap();
    assert!(err.contains("surely-not-a-validator") && !err.contains(" sh,"), "{err}");
    assert!(err.contains("scripts/install-tools.sh"), "{err}");
    assert!(toolbox.find("sh").is_some(), "falls back to PATH");
}

#[test]
fn tools_of_a_nested_virtualenv_are_found_beside_the_validators() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("bin")).unwrap();
    std::fs::write(root.path().join("bin/python"), "").unwrap();
    let nested = root.path().join("schemathesis/bin");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(nested.join("st-tool"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(nested.join("st-tool"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let toolbox = Toolbox::at(root.path().to_path_buf());
    assert_eq!(toolbox.find_in_venv("schemathesis", "st-tool"), Some(nested.join("st-tool")));
    assert_eq!(toolbox.find("st-tool"), None);
    assert_eq!(toolbox.find_in_venv("schemathesis", "surely-not-a-tool"), None);
}

#[test]
fn a_virtualenv_root_means_its_bin_directory() {
    let venv = tempfile::tempdir().unwrap();
    std::fs::create_dir(venv.path().join("bin")).unwrap();
    std::fs::write(venv.path().join("bin/python"), "").unwrap();
    assert_eq!(Toolbox::at(venv.path().to_path_buf()).dir, venv.path().join("bin"));
}
