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
        valid_name(name).is_ok() && self.root.join(name).join(MANIFEST).is_file()
    }

    /// An installed pack.
    pub fn get(&self, name: &str) -> Result<Installed> {
        valid_name(name)?;
        let dir = self.root.join(name);
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| !m.is_dir()) {
            return Err(Error::PackSource {
                source_name: name.to_owned(),
                message: "the installed pack's directory is not a directory (a symlink?)".into(),
                hint: format!("look at {} and remove it by hand", dir.display()),
            });
        }
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

    /// Installs a loaded pack under `name`, replacing an older install atomically (through the
    /// one writer, `write.rs`: staged beside the store entry, modes kept, then moved into place).
    pub fn add(&self, name: &str, pack: &Pack) -> Result<Installed> {
        valid_name(name)?;
        std::fs::create_dir_all(&self.root).map_err(io("creating", &self.root))?;
        let id = pack.id();
        let installed = Installed {
            name: name.to_owned(),
            version: id.version.clone(),
            source: id.source.clone(),
            commit: id.commit.clone(),
            dir: self.root.join(name),
        };
        let metadata = toml::to_string(&installed).expect("metadata serializes");
        let files = pack.files.iter().map(|(rel, file)| (rel.as_str(), file.contents.bytes(), file.executable));
        let interrupt = crate::write::Interrupt::default();
        crate::write::stage_files(files.chain([(METADATA, metadata.as_bytes(), false)]), &installed.dir, &interrupt)?
            .replace(&interrupt)?;
        Ok(installed)
    }

    /// Removes an installed pack: only a directory of the store, by a valid name.
    pub fn remove(&self, name: &str) -> Result<Installed> {
        let installed = self.get(name)?;
        std::fs::remove_dir_all(&installed.dir).map_err(io("removing", &installed.dir))?;
        Ok(installed)
    }
}

/// The one rule for installed names, checked by every store operation: letters, digits, `-` and
/// `_`, so a name can never be a path (`../x`, `/abs`) that leads out of the store.
pub fn valid_name(name: &str) -> Result<()> {
    let starts_well = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if name.len() <= 64 && starts_well && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Ok(());
    }
    Err(Error::Usage {
        message: format!("{} cannot name an installed pack", crate::untrusted::visible(&format!("{name:?}"))),
        hint:
            "installed names have letters, digits, `-` and `_` (see `dozen pack list`); pass --name NAME to `pack add`"
                .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn store_names_can_never_be_paths() {
        for good in ["acme", "acme-service", "a_1", "A2"] {
            assert!(valid_name(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "/abs/dir", "a/b", ".hidden", "-x", "a\\b", "..", "x\n", &"a".repeat(65)] {
            assert!(valid_name(bad).is_err(), "{bad:?}");
        }
    }
}
