//! Packs: a manifest plus template files, from wherever they come. Every source (the embedded
//! built-in packs, a directory, later git) yields the same `Pack` value, so nothing downstream
//! knows or cares where a pack came from. `extends` is resolved here into one merged pack.

pub mod git;
pub mod manifest;
pub mod remote;
pub mod source;
pub mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use manifest::Manifest;
pub use source::Source;

use crate::error::{Error, Problem, Result};

/// Bytes of a pack file: borrowed from the binary for embedded packs, owned otherwise.
#[derive(Debug, Clone)]
pub enum Contents {
    /// Embedded with include_dir.
    Static(&'static [u8]),
    /// Read from disk.
    Owned(Arc<Vec<u8>>),
}

impl Contents {
    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Contents::Static(b) => b,
            Contents::Owned(b) => b,
        }
    }
}

/// One file of a pack.
#[derive(Debug, Clone)]
pub struct PackFile {
    /// The bytes.
    pub contents: Contents,
    /// Whether it carries an executable bit.
    pub executable: bool,
}

/// Identity of one pack in an `extends` chain, as recorded in `.dozen/answers.toml`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackId {
    /// `pack.name`.
    pub name: String,
    /// `pack.version`.
    pub version: String,
    /// The source as it can be given to `--pack` again.
    pub source: String,
    /// Resolved git commit, for git packs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A loaded pack, with `extends` merged in.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The merged manifest: parent questions, layers and data first, this pack's after.
    pub manifest: Manifest,
    /// Every file by pack-relative path (`/`-separated); a child's file replaces its parent's.
    pub files: BTreeMap<String, PackFile>,
    /// This pack first, then its parent, grandparent…
    pub chain: Vec<PackId>,
}

impl Pack {
    /// The pack's own identity.
    pub fn id(&self) -> &PackId {
        &self.chain[0]
    }

    /// Records where the pack really came from (a git URL and commit, an installed pack's source).
    #[must_use]
    pub fn with_origin(mut self, source: String, commit: Option<String>) -> Pack {
        self.chain[0].source = source;
        self.chain[0].commit = commit;
        self
    }

    /// Loads a pack and everything it extends.
    pub fn load(source: &Source) -> Result<Pack> {
        load_chain(source, &mut Vec::new())
    }

    /// Merges a parent pack under this one.
    fn merge_parent(mut self, parent: Pack) -> Pack {
        let mut files = parent.files;
        files.extend(std::mem::take(&mut self.files));
        let mut manifest = parent.manifest;
        let child = self.manifest;
        for q in child.questions {
            match manifest.questions.iter_mut().find(|p| p.name == q.name) {
                Some(existing) => *existing = q,
                None => manifest.questions.push(q),
            }
        }
        manifest.layers.extend(child.layers);
        for (k, v) in child.data {
            manifest.data.insert(k, v);
        }
        manifest.message = child.message.or(manifest.message);
        manifest.hooks.extend(child.hooks);
        manifest.checks.extend(child.checks);
        manifest.remove.extend(child.remove);
        manifest.pack = child.pack;
        let mut chain = self.chain;
        chain.extend(parent.chain);
        Pack { manifest, files, chain }
    }
}

fn load_chain(source: &Source, seen: &mut Vec<String>) -> Result<Pack> {
    let key = match source {
        Source::Dir(path) => {
            std::fs::canonicalize(path).map_or_else(|_| source.to_string(), |p| p.display().to_string())
        }
        other => other.to_string(),
    };
    if seen.contains(&key) {
        seen.push(key.clone());
        return Err(Error::Pack {
            pack: key,
            problems: vec![
                Problem::new("pack.toml", format!("`extends` forms a cycle: {}", seen.join(" -> ")))
                    .hint("remove `extends` from one of the packs in the cycle"),
            ],
        });
    }
    seen.push(key);
    let pack = source.read()?;
    match pack.manifest.pack.extends.clone() {
        None => Ok(pack),
        Some(parent) => {
            let parent_source = Source::resolve_relative(&parent, source).map_err(|err| match err {
                Error::PackSource { message, hint, .. } => {
                    let text = pack
                        .files
                        .get(source::MANIFEST)
                        .map(|f| String::from_utf8_lossy(f.contents.bytes()).into_owned());
                    let line = text.and_then(|t| manifest::find_line(&t, "extends"));
                    Error::Pack {
                        pack: source.to_string(),
                        problems: vec![
                            Problem::new(source::MANIFEST, format!("`extends = {parent:?}`: {message}"))
                                .at(line)
                                .hint(hint),
                        ],
                    }
                }
                other => other,
            })?;
            let parent = load_chain(&parent_source, seen)?;
            Ok(pack.merge_parent(parent))
        }
    }
}
