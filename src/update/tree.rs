//! A file tree in memory: path → bytes and executable bit. The three sides of an update (the
//! base, the new output and the working tree) are compared as values of this one type, whether
//! they come from a plan, a git commit or the disk.

use std::collections::BTreeMap;

use crate::plan::Plan;

/// One version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Contents.
    pub bytes: Vec<u8>,
    /// Executable bit.
    pub executable: bool,
}

impl Entry {
    /// A file with these contents and mode.
    pub fn new(bytes: impl Into<Vec<u8>>, executable: bool) -> Entry {
        Entry { bytes: bytes.into(), executable }
    }

    /// Whether git would call it binary: a NUL byte in its first 8000 bytes.
    pub fn is_binary(&self) -> bool {
        self.bytes.iter().take(8000).any(|b| *b == 0)
    }
}

/// Files by project-relative, `/`-separated path.
pub type Tree = BTreeMap<String, Entry>;

/// The files a plan writes.
pub fn from_plan(plan: &Plan) -> Tree {
    plan.files.iter().map(|f| (f.path.clone(), Entry::new(f.body.bytes(), f.executable))).collect()
}
