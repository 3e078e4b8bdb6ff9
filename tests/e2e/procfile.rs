//! A generated repository's `Procfile` and the way the tier runs its entries: from the repository
//! root, through `sh -c 'exec …'` so the entry's own process receives signals, with nothing of the
//! harness's environment but PATH (the project's `.venv/bin` first), HOME and TMPDIR, plus the
//! variables a test sets. That is the contract of SPEC §6: the commands work with nothing but the
//! environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The process types of a Procfile, by name.
#[derive(Debug)]
pub struct Procfile {
    dir: PathBuf,
    entries: BTreeMap<String, String>,
}

impl Procfile {
    /// Reads `dir/Procfile`.
    pub fn read(dir: &Path) -> Result<Procfile, String> {
        let path = dir.join("Procfile");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Procfile::parse(dir, &text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn parse(dir: &Path, text: &str) -> Result<Procfile, String> {
        let mut entries = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, command) =
                line.split_once(':').ok_or_else(|| format!("line {}: expected `name: command`", number + 1))?;
            if entries.insert(name.trim().to_string(), command.trim().to_string()).is_some() {
                return Err(format!("line {}: process type `{}` declared twice", number + 1, name.trim()));
            }
        }
        Ok(Procfile { dir: dir.to_path_buf(), entries })
    }

    /// The command line of process type `name`.
    pub fn entry(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(String::as_str)
    }

    /// A command running process type `name` with `vars` as its only configuration.
    pub fn command(&self, name: &str, vars: &[(&str, String)]) -> Result<Command, String> {
        let line = self.entry(name).ok_or_else(|| format!("Procfile has no `{name}:` entry"))?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!("exec {line}")).current_dir(&self.dir).env_clear();
        let inherited =
            std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(self.dir.join(".venv/bin")).chain(inherited)).unwrap_or_default();
        cmd.env("PATH", path);
        for kept in ["HOME", "TMPDIR"] {
            if let Some(value) = std::env::var_os(kept) {
                cmd.env(kept, value);
            }
        }
        for (key, value) in vars {
            cmd.env(key, value);
        }
        Ok(cmd)
    }
}

#[test]
fn parses_entries_and_runs_them_with_a_clean_environment() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# processes\nweb: echo \"$PORT-${DATABASE_URL:-none}-${CARGO:-clean}\"\nrelease: app migrate\n";
    let procfile = Procfile::parse(dir.path(), text).unwrap();
    assert_eq!(procfile.entry("release"), Some("app migrate"));
    assert!(procfile.entry("worker").is_none());
    let out = procfile.command("web", &[("PORT", "8123".into())]).unwrap().output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "8123-none-clean\n");
    assert!(procfile.command("worker", &[]).is_err());
}

#[test]
fn rejects_malformed_lines() {
    assert!(Procfile::parse(Path::new("."), "web app\n").unwrap_err().contains("line 1"));
    assert!(Procfile::parse(Path::new("."), "web: a\nweb: b\n").unwrap_err().contains("declared twice"));
}
