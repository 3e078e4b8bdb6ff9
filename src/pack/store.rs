//! Installed packs: `dozen pack add` copies a pack into the user data directory with a small
//! metadata file naming its source and resolved commit; `pack list`, `pack remove` and
//! `--pack NAME` read it back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Pack, source::MANIFEST};
use crate::error::{Error, Result, io};

/// Name of the metadata file inside an installed pack's directory.
pub const METADATA: &str = ".dozen-source.toml";

/// The directory of installed packs.
pub struct Store {
    root: PathBuf,
}

/// One installed pack.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Installed {
    /// Installed name.
    pub name: String,
    /// `pack.version`.
    pub version: String,
    /// The source it was added from.
    pub source: String,
    /// Resolved git commit, for git sources.
    pub commit: Option<String>,
    /// Where its files are.
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Store {
    /// The store under `$XDG_DATA_HOME/dozen/packs` (created on first use).
    pub fn open() -> Result<Store> {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(dirs::data_dir)
            .ok_or_else(|| Error::Usage {
                message: "cannot find a data directory for installed packs".into(),
                hint: "set XDG_DATA_HOME".into(),
            })?;
        Ok(Store { root: base.join("dozen").join("packs") })
    }

    /// Whether a pack of that name is installed.
    pub fn contains(&self, name: &str) -> bool {
        !name.contains(['/', '\\']) && self.root.join(name).join(MANIFEST).is_file()
    }

    /// An installed pack.
    pub fn get(&self, name: &str) -> Result<Installed> {
        let dir = self.root.join(name);
        let text = std::fs::read_to_string(dir.join(METADATA)).map_err(|_| Error::PackSource {
            source_name: name.to_owned(),
            message: "no installed pack of that name".into(),
            hint: "see `dozen pack list`, or add it with `dozen pack add SRC`".into(),
        })?;
        let mut installed: Installed = toml::from_str(&text).map_err(|err| Error::InputFile {
            path: dir.join(METADATA),
            line: None,
            message: err.message().to_owned(),
            hint: format!("remove it with `dozen pack remove {name}` and add it again"),
        })?;
        installed.dir = dir;
        Ok(installed)
    }

    /// Every installed pack, by name.
    pub fn list(&self) -> Result<Vec<Installed>> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return Ok(Vec::new()) };
        let mut packs = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && self.contains(&name) {
                packs.push(self.get(&name)?);
            }
        }
        packs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(packs)
    }

    /// Installs a loaded pack under `name`, replacing an older install atomically.
    pub fn add(&self, name: &str, pack: &Pack) -> Result<Installed> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(Error::Usage {
                message: format!("{name:?} cannot name an installed pack"),
                hint: "use --name with letters, digits, `-` and `_`".into(),
            });
        }
        std::fs::create_dir_all(&self.root).map_err(io("creating", &self.root))?;
        let staging = tempfile::Builder::new()
            .prefix(".add-")
            .tempdir_in(&self.root)
            .map_err(io("creating a directory in", &self.root))?;
        let own_files = pack.files.iter();
        for (rel, file) in own_files {
            crate::plan::check_path(rel, rel)?;
            let path = staging.path().join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
            }
            std::fs::write(&path, file.contents.bytes()).map_err(io("writing", &path))?;
        }
        let id = pack.id();
        let installed = Installed {
            name: name.to_owned(),
            version: id.version.clone(),
            source: id.source.clone(),
            commit: id.commit.clone(),
            dir: self.root.join(name),
        };
        let metadata = toml::to_string(&installed).expect("metadata serializes");
        std::fs::write(staging.path().join(METADATA), metadata).map_err(io("writing", staging.path()))?;
        let old = self.root.join(format!(".old-{name}"));
        if installed.dir.exists() {
            std::fs::rename(&installed.dir, &old).map_err(io("replacing", &installed.dir))?;
        }
        std::fs::rename(staging.keep(), &installed.dir).map_err(io("installing", &installed.dir))?;
        let _ = std::fs::remove_dir_all(old);
        Ok(installed)
    }

    /// Removes an installed pack.
    pub fn remove(&self, name: &str) -> Result<Installed> {
        let installed = self.get(name)?;
        std::fs::remove_dir_all(&installed.dir).map_err(io("removing", &installed.dir))?;
        Ok(installed)
    }
}
