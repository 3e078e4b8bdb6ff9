//! Where a pack comes from: the packs embedded in the binary, or a directory on disk. A source
//! reads into a `Pack` value; the rest of dozen never touches the origin again.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{Dir, include_dir};

use super::remote::{RemoteUrl, scrub_userinfo};
use super::{Contents, Manifest, Pack, PackFile, PackId};
use crate::error::{Error, Problem, Result, io};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

mod executables {
    include!(concat!(env!("OUT_DIR"), "/executables.rs"));
}

/// The manifest file name.
pub const MANIFEST: &str = "pack.toml";

/// The built-in pack used when `--pack` is not given.
pub const DEFAULT_PACK: &str = "service";

/// A place a pack can be read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A pack embedded in the binary, by name.
    Builtin(String),
    /// A directory holding `pack.toml`.
    Dir(PathBuf),
    /// A git repository (URL or local path), an optional ref and an optional subdirectory.
    Git(GitSource),
    /// A pack installed with `dozen pack add`, by name.
    Installed(String),
}

/// Where in a git repository a pack lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// URL or local path of the repository; displays without credentials.
    pub url: RemoteUrl,
    /// Branch, tag or commit; the default branch when absent.
    pub reference: Option<String>,
    /// Directory of the pack inside the repository.
    pub subdir: Option<String>,
}

impl fmt::Display for GitSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url)?;
        if let Some(subdir) = &self.subdir {
            write!(f, "//{subdir}")?;
        }
        if let Some(reference) = &self.reference {
            write!(f, "#{reference}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Builtin(name) => write!(f, "builtin:{name}"),
            Source::Dir(path) => write!(f, "{}", path.display()),
            Source::Git(git) => write!(f, "{git}"),
            Source::Installed(name) => write!(f, "{name}"),
        }
    }
}

impl Source {
    /// Names of the packs embedded in this binary.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN
            .dirs()
            .filter(|d| d.get_file(d.path().join(MANIFEST)).is_some())
            .filter_map(|d| d.path().to_str())
            .collect()
    }

    /// Interprets `--pack SRC`: `builtin:NAME`, a directory, a git URL or repository path with
    /// optional `//subdir` and `#ref`, a built-in name, or an installed pack's name.
    pub fn parse(text: &str) -> Result<Source> {
        if let Some(name) = text.strip_prefix("builtin:") {
            return Self::builtin(name, text);
        }
        let path = Path::new(text);
        if path.join(MANIFEST).is_file() {
            return Ok(Source::Dir(path.to_path_buf()));
        }
        if let Some(git) = GitSource::parse(text) {
            return Ok(Source::Git(git));
        }
        if Self::builtin_names().contains(&text) {
            return Ok(Source::Builtin(text.to_owned()));
        }
        if super::store::Store::open().is_ok_and(|store| store.contains(text)) {
            return Ok(Source::Installed(text.to_owned()));
        }
        let message = if path.is_dir() {
            "the directory has no pack.toml and is not a git repository".to_owned()
        } else {
            "no such directory, git repository, built-in pack or installed pack".to_owned()
        };
        Err(Error::PackSource {
            source_name: scrub_userinfo(text),
            message,
            hint: format!(
                "built-in packs: {}; or a directory with pack.toml, a git URL (URL//subdir#ref), or a name from `dozen pack list`",
                Self::builtin_names().join(", ")
            ),
        })
    }

    fn builtin(name: &str, text: &str) -> Result<Source> {
        if Self::builtin_names().contains(&name) {
            Ok(Source::Builtin(name.to_owned()))
        } else {
            Err(Error::PackSource {
                source_name: text.to_owned(),
                message: format!("there is no built-in pack named {name:?}"),
                hint: format!("built-in packs: {}", Self::builtin_names().join(", ")),
            })
        }
    }

    /// Resolves an `extends` value written in the pack read from `from`: directories are relative
    /// to that pack's directory.
    pub fn resolve_relative(text: &str, from: &Source) -> Result<Source> {
        if let Source::Git(git) = from {
            return git.resolve_extends(text);
        }
        if let Source::Dir(dir) = from {
            let candidate = dir.join(text);
            if candidate.join(MANIFEST).is_file() {
                return Ok(Source::Dir(std::fs::canonicalize(&candidate).unwrap_or(candidate)));
            }
        }
        Source::parse(text)
    }

    /// The pack's files with a best-effort manifest (`Manifest::lenient`), for `pack check` to go
    /// on checking templates when the manifest itself is broken. Not for git sources.
    pub fn read_lenient(&self) -> Option<Pack> {
        let files = match self {
            Source::Builtin(name) => read_builtin(name),
            Source::Dir(path) => read_dir(path).ok()?,
            Source::Installed(name) => read_dir(&super::store::Store::open().ok()?.get(name).ok()?.dir).ok()?,
            Source::Git(_) => return None,
        };
        let text = std::str::from_utf8(files.get(MANIFEST)?.contents.bytes()).ok()?;
        let manifest = Manifest::lenient(text)?;
        let id = PackId { name: String::new(), version: String::new(), source: self.to_string(), commit: None };
        Some(Pack { manifest, files, chain: vec![id] })
    }

    /// Reads the pack's manifest and files (without resolving `extends`).
    pub fn read(&self) -> Result<Pack> {
        let (files, label) = match self {
            Source::Builtin(name) => (read_builtin(name), format!("builtin:{name}")),
            Source::Dir(path) => (read_dir(path)?, path.display().to_string()),
            Source::Git(git) => {
                let checkout = super::git::fetch(git)?;
                let pack = Source::Dir(checkout.pack_dir()).read().map_err(|err| git.relabel(err, checkout.root()))?;
                return Ok(pack.with_origin(self.to_string(), Some(checkout.commit.clone())));
            }
            Source::Installed(name) => {
                let installed = super::store::Store::open()?.get(name)?;
                let pack = Source::Dir(installed.dir.clone()).read()?;
                return Ok(pack.with_origin(installed.source.clone(), installed.commit.clone()));
            }
        };
        let manifest_file = files.get(MANIFEST).ok_or_else(|| Error::PackSource {
            source_name: label.clone(),
            message: "it has no pack.toml".into(),
            hint: "a pack is a directory with a pack.toml manifest; `dozen pack new DIR` creates one".into(),
        })?;
        let text = std::str::from_utf8(manifest_file.contents.bytes()).map_err(|_| Error::Pack {
            pack: label.clone(),
            problems: vec![Problem::new(MANIFEST, "pack.toml is not UTF-8 text")],
        })?;
        let manifest =
            Manifest::parse(text, MANIFEST).map_err(|problems| Error::Pack { pack: label.clone(), problems })?;
        let problems = manifest.validate(text, MANIFEST, &crate::version());
        if !problems.is_empty() {
            return Err(Error::Pack { pack: label, problems });
        }
        let id = PackId {
            name: manifest.pack.name.clone(),
            version: manifest.pack.version.clone(),
            source: self.to_string(),
            commit: None,
        };
        Ok(Pack { manifest, files, chain: vec![id] })
    }
}

impl GitSource {
    /// Recognises git URLs (`https://`, `http://`, `ssh://`, `file://`, `git://`, `user@host:path`)
    /// and paths of local repositories, each with optional `//subdir` and `#ref`.
    pub fn parse(text: &str) -> Option<GitSource> {
        let (rest, reference) = match text.rsplit_once('#') {
            Some((rest, reference)) if !reference.is_empty() => (rest, Some(reference.to_owned())),
            _ => (text, None),
        };
        let scheme_end = rest.find("://").map_or(0, |i| i + 3);
        let (url, subdir) = match rest[scheme_end..].find("//") {
            Some(i) => (&rest[..scheme_end + i], Some(rest[scheme_end + i + 2..].trim_matches('/').to_owned())),
            None => (rest, None),
        };
        let subdir = subdir.filter(|s| !s.is_empty());
        let url = match RemoteUrl::parse(url) {
            Some(url) => url,
            None if !url.is_empty() && git2::Repository::open(url).is_ok() => {
                RemoteUrl::local(&std::fs::canonicalize(url).unwrap_or_else(|_| PathBuf::from(url)))
            }
            None => return None,
        };
        Some(GitSource { url, reference, subdir })
    }

    /// Resolves `extends` of a pack from this repository: a relative path names another
    /// directory of the same checkout (at the same ref) and must stay inside it; it never
    /// resolves against the caller's working directory. Built-in and installed names and URLs
    /// resolve as usual.
    pub fn resolve_extends(&self, text: &str) -> Result<Source> {
        let path_like = text.starts_with('.') || text.contains('/') || text.contains('\\');
        if Path::new(text).is_absolute() || text.starts_with('~') {
            return Err(self.extends_error(text, "a git pack cannot extend a directory of this machine"));
        }
        if text.contains("://") || text.starts_with("builtin:") || RemoteUrl::parse(text).is_some() {
            return Source::parse(text);
        }
        let mut parts: Vec<&str> = self.subdir.as_deref().unwrap_or("").split('/').filter(|p| !p.is_empty()).collect();
        for part in text.split(['/', '\\']) {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(self.extends_error(text, "it leaves the repository"));
                    }
                }
                other => parts.push(other),
            }
        }
        let candidate = GitSource { subdir: (!parts.is_empty()).then(|| parts.join("/")), ..self.clone() };
        let checkout = super::git::fetch(self)?;
        let dir = checkout.root().join(parts.join("/"));
        if std::fs::symlink_metadata(dir.join(MANIFEST)).is_ok() || path_like {
            // A missing or symlinked directory is reported by the fetch of `candidate`.
            return Ok(Source::Git(candidate));
        }
        Source::parse(text)
    }

    fn extends_error(&self, text: &str, why: &str) -> Error {
        Error::PackSource {
            source_name: text.to_owned(),
            message: format!("{why} (from the git pack {self})"),
            hint: "extend a built-in or installed pack, a git URL, or a directory of the same repository (`../base`)"
                .into(),
        }
    }

    /// Names the pack by its URL in errors found while reading the checkout, never by the
    /// cache path.
    pub fn relabel(&self, err: Error, root: &Path) -> Error {
        let label = self.to_string();
        let root_text = format!("{}/", root.display());
        let strip = |text: String| text.replace(&root_text, "").replace(&root.display().to_string(), ".");
        match err {
            Error::Pack { problems, .. } => Error::Pack {
                pack: label,
                problems: problems
                    .into_iter()
                    .map(|mut p| {
                        p.file = strip(p.file);
                        p.message = strip(p.message);
                        p
                    })
                    .collect(),
            },
            Error::PackSource { message, hint, .. } => {
                Error::PackSource { source_name: label, message: strip(message), hint: strip(hint) }
            }
            Error::Io { action, path, source } => Error::PackSource {
                source_name: label,
                message: format!("{action} {}: {source}", strip(path.display().to_string())),
                hint: "check the repository's files".into(),
            },
            other => other,
        }
    }
}

fn read_builtin(name: &str) -> BTreeMap<String, PackFile> {
    let mut files = BTreeMap::new();
    if let Some(dir) = BUILTIN.get_dir(name) {
        collect_builtin(dir, name, &mut files);
    }
    files
}

fn collect_builtin(dir: &'static Dir<'static>, prefix: &str, out: &mut BTreeMap<String, PackFile>) {
    for file in dir.files() {
        let full = file.path().to_string_lossy().replace('\\', "/");
        let rel = full.strip_prefix(prefix).unwrap_or(&full).trim_start_matches('/').to_owned();
        let executable = executables::EXECUTABLES.contains(&full.as_str());
        out.insert(rel, PackFile { contents: Contents::Static(file.contents()), executable });
    }
    for sub in dir.dirs() {
        collect_builtin(sub, prefix, out);
    }
}

fn read_dir(root: &Path) -> Result<BTreeMap<String, PackFile>> {
    let canonical_root = fs_err::canonicalize(root).map_err(io("reading pack", root))?;
    let mut files = BTreeMap::new();
    let mut stack = vec![canonical_root.clone()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(io("reading pack directory", &dir))?;
        for entry in entries {
            let entry = entry.map_err(io("reading pack directory", &dir))?;
            let path = entry.path();
            let name = entry.file_name();
            if name == ".git" || name == super::store::METADATA {
                continue;
            }
            let file_type = entry.file_type().map_err(io("reading", &path))?;
            let rel =
                path.strip_prefix(&canonical_root).expect("walk stays under root").to_string_lossy().replace('\\', "/");
            let problem = |message: String, hint: &str| Error::Pack {
                pack: root.display().to_string(),
                problems: vec![Problem::new(rel.clone(), message).hint(hint)],
            };
            let real = if file_type.is_symlink() {
                let target = std::fs::canonicalize(&path).map_err(|_| {
                    problem("the symlink points to nothing".into(), "remove it, or point it at a file inside the pack")
                })?;
                if !target.starts_with(&canonical_root) {
                    return Err(Error::Pack {
                        pack: root.display().to_string(),
                        problems: vec![
                            Problem::new(rel, format!("symlink points outside the pack, to {}", target.display()))
                                .hint("replace the symlink with a copy of the file, inside the pack"),
                        ],
                    });
                }
                target
            } else {
                path.clone()
            };
            let meta =
                fs_err::metadata(&real).map_err(|e| Error::Io { action: "reading", path: real.clone(), source: e })?;
            if meta.is_dir() {
                if !file_type.is_symlink() {
                    stack.push(path);
                }
                continue;
            }
            let bytes =
                crate::input::read_regular(&real, crate::input::PACK_FILE_LIMIT).map_err(|refusal| match refusal {
                    crate::input::Refusal::Io(e) => Error::Io { action: "reading", path: real.clone(), source: e },
                    other => problem(
                        format!("cannot be part of a pack: {other}"),
                        "packs hold only regular files; remove it",
                    ),
                })?;
            files
                .insert(rel, PackFile { contents: Contents::Owned(Arc::new(bytes)), executable: is_executable(&meta) });
        }
    }
    Ok(files)
}

/// Whether a file carries an executable bit.
#[cfg(unix)]
pub(crate) fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

/// Whether a file carries an executable bit.
#[cfg(not(unix))]
pub(crate) fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}
