//! Packs loaded once per run: a fleet command inspects many repositories made from a few pack
//! versions, so each source (a git pack at one ref, a directory, a built-in) is loaded and its
//! templates parsed once, and each git pack's newest release tag is looked up once. The git cache
//! already fetches a repository at most once per run; this keeps the in-memory pack and its Tera
//! instance too. A single `update` uses a fresh one, so nothing changes for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Result;
use crate::pack::source::GitSource;
use crate::pack::{Pack, Source};
use crate::render::Renderer;

/// A pack with its templates parsed.
pub struct Loaded {
    /// The pack.
    pub pack: Pack,
    /// Its template engine.
    pub renderer: Renderer,
}

/// The packs and release tags of one run, by source.
#[derive(Default)]
pub struct Packs {
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
    tags: Mutex<HashMap<String, Option<(String, String)>>>,
    /// Held while a pack is fetched or read: two threads must not fetch into one git cache at
    /// once, and the second one asking for a pack waits for the first instead of loading it too.
    fetching: Mutex<()>,
}

impl Packs {
    /// The pack at `source`, loaded (and its templates parsed) the first time it is asked for.
    pub fn load(&self, source: &Source) -> Result<Arc<Loaded>> {
        let key = key(source);
        let _fetching = self.fetching.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = self.loaded.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(Arc::clone(found));
        }
        let pack = crate::check::load(source)?;
        let renderer = Renderer::for_pack(&pack)?;
        let loaded = Arc::new(Loaded { pack, renderer });
        let mut map = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Arc::clone(map.entry(key).or_insert(loaded)))
    }

    /// The newest release tag of a git pack and its commit (`pack::git::newest_release_tag`), once.
    pub fn newest_release_tag(&self, source: &GitSource) -> Result<Option<(String, String)>> {
        let key = source.to_string();
        let _fetching = self.fetching.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = self.tags.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(found.clone());
        }
        let found = crate::pack::git::newest_release_tag(source)?;
        self.tags.lock().unwrap_or_else(PoisonError::into_inner).insert(key, found.clone());
        Ok(found)
    }

    /// How many packs were loaded.
    pub fn len(&self) -> usize {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none was loaded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The same pack has one key: a directory by its canonical path, anything else as written.
fn key(source: &Source) -> String {
    match source {
        Source::Dir(path) => {
            std::fs::canonicalize(path).map_or_else(|_| source.to_string(), |p| p.display().to_string())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Packs;
    use crate::pack::Source;

    #[test]
    fn a_pack_is_loaded_once_per_source_however_it_is_named() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/packs/mini");
        let packs = Packs::default();
        let first = packs.load(&Source::Dir(dir.clone())).unwrap();
        let again = packs.load(&Source::Dir(dir.join("base/.."))).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the same directory, another spelling: the same pack");
        let builtin = packs.load(&Source::Builtin("service".into())).unwrap();
        assert!(!Arc::ptr_eq(&first, &builtin));
        assert_eq!(packs.len(), 2);
    }
}
