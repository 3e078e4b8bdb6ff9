//! The inputs a validator has already judged, so that nothing is judged twice. The option matrix
//! repeats most files many times over (a Dockerfile in every CI and cloud combination, the same
//! Terraform, manifests and monitoring in every stack), and a validator's verdict depends only on
//! what it reads and on what it is told to expect. So each input unit (one file, or a directory a
//! tool reads as a whole) gets a key: the judge, what it expects (for a check that depends on the
//! options, the combination's label), and the paths and bytes of the files. A unit whose key came
//! earlier in the same batch is left out of that batch; a unit a judge found clean before, in this
//! test process (another stack's matrix), is left out for good. A unit that was part of a failed
//! run is never remembered, so a problem is reported by every stack that has it.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The keys of units judged clean in this process.
static CLEAN: Mutex<BTreeSet<u64>> = Mutex::new(BTreeSet::new());

/// The key of the unit made of `files` (paths shown relative to `base`), judged by `judge`
/// expecting `expect`. A file that cannot be read counts as its error, so it is never taken for
/// another.
pub fn key(judge: &str, expect: &str, base: &Path, files: &[PathBuf]) -> u64 {
    let mut hasher = DefaultHasher::new();
    (judge, expect).hash(&mut hasher);
    for file in files {
        file.strip_prefix(base).unwrap_or(file).hash(&mut hasher);
        match std::fs::read(file) {
            Ok(bytes) => bytes.hash(&mut hasher),
            Err(e) => e.to_string().hash(&mut hasher),
        }
    }
    hasher.finish()
}

/// The units of one run of a judge that still need judging.
#[must_use = "call `clean` when the judge found nothing, or the units are judged again"]
pub struct Fresh<T> {
    /// The units to judge, in the order they came.
    pub items: Vec<T>,
    /// How many candidates were left out (repeated, or found clean before).
    pub skipped: usize,
    keys: Vec<u64>,
}

impl<T> Fresh<T> {
    /// Keeps the first of each key among `candidates` that no judge found clean before.
    pub fn select(candidates: impl IntoIterator<Item = (u64, T)>) -> Fresh<T> {
        let clean = CLEAN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut seen = BTreeSet::new();
        let mut fresh = Fresh { items: Vec::new(), skipped: 0, keys: Vec::new() };
        for (key, item) in candidates {
            if clean.contains(&key) || !seen.insert(key) {
                fresh.skipped += 1;
            } else {
                fresh.keys.push(key);
                fresh.items.push(item);
            }
        }
        fresh
    }

    /// Whether there is nothing left to judge.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Remembers every unit of this run as clean: the judge found nothing in any of them.
    pub fn clean(self) {
        CLEAN.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(self.keys);
    }
}

#[test]
fn repeated_or_clean_units_are_left_out_and_failures_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    };
    let (a, b, c) =
        (write("a/Dockerfile", "FROM x\n"), write("b/Dockerfile", "FROM x\n"), write("c/Dockerfile", "FROM y\n"));
    let unit = |file: &PathBuf, judge: &str, expect: &str| {
        let base = file.parent().unwrap();
        (key(judge, expect, base, std::slice::from_ref(file)), file.clone())
    };
    let judge = "verdicts unit test";
    // Same path in the project and same bytes: one unit. Other bytes, or another expectation, or
    // another judge: another unit.
    let first = Fresh::select([unit(&a, judge, ""), unit(&b, judge, ""), unit(&c, judge, ""), unit(&a, judge, "x")]);
    assert_eq!(first.items, [a.clone(), c.clone(), a.clone()]);
    assert_eq!(first.skipped, 1);
    assert_ne!(unit(&a, judge, "").0, unit(&a, "another judge", "").0);
    // A run that failed is not remembered: the same units are fresh next time.
    drop(first);
    let again = Fresh::select([unit(&b, judge, ""), unit(&c, judge, "")]);
    assert_eq!(again.items.len(), 2);
    again.clean();
    let after = Fresh::select([unit(&a, judge, ""), unit(&c, judge, ""), unit(&a, judge, "x")]);
    assert_eq!(after.items, [a], "only the unit with another expectation is left");
    assert_eq!(after.skipped, 2);
    // Changed bytes make a new unit.
    std::fs::write(&c, "FROM z\n").unwrap();
    assert_eq!(Fresh::select([unit(&c, judge, "")]).items, [c]);
}
