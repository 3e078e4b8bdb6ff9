//! The per-file three-way decision of `dozen update`, as a pure function of the base, the working
//! tree and the new output. Every rule of the update lives here: what the user did not change
//! takes the new version, what only the user changed is kept, what both changed is merged with
//! git's file merge, and nothing the user wrote is ever dropped.

use serde::Serialize;

use super::tree::Entry;
use crate::error::{Error, Result};

/// Suffix of the pack's version of a file written beside the user's when they cannot be merged.
pub const SIDECAR_SUFFIX: &str = ".dozen-new";

/// What the working tree holds at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ours {
    /// Nothing.
    Missing,
    /// A regular file.
    File(Entry),
    /// Something dozen must not replace (a directory, a symlink, a path under a file); says what.
    Other(String),
}

/// What happened to a file, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    Unchanged,
    /// The user had not changed it: it took the new version.
    Updated,
    /// Both changed it: the changes were merged cleanly.
    Merged,
    /// The pack changed or removed it, but the user's version was kept.
    Kept,
    /// New in the pack.
    Added,
    /// Removed from the pack, and the user had not changed it.
    Removed,
    /// Both changed it and the changes collide.
    Conflict,
}

impl Action {
    /// The word shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Unchanged => "unchanged",
            Action::Updated => "updated",
            Action::Merged => "merged",
            Action::Kept => "kept",
            Action::Added => "added",
            Action::Removed => "removed",
            Action::Conflict => "conflict",
        }
    }
}

/// What becomes of the path in the working tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Left as it is.
    None,
    /// Written with these contents and mode.
    Write(Entry),
    /// Deleted.
    Remove,
}

/// The decision for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Project-relative path.
    pub path: String,
    /// What happened.
    pub action: Action,
    /// Why, when the action alone does not say it.
    pub note: Option<String>,
    /// What to do to the file.
    pub change: Change,
    /// The pack's version, written beside the user's file when the two cannot be merged.
    pub sidecar: Option<(String, Entry)>,
}

/// Conflict-marker labels.
#[derive(Debug, Clone)]
pub struct Labels {
    /// The working tree's side (`<<<<<<< …`).
    pub ours: String,
    /// The new output's side (`>>>>>>> …`).
    pub theirs: String,
}

/// Decides one path from its base, working-tree and new versions (`None`: absent).
pub fn file(path: &str, base: Option<&Entry>, ours: &Ours, new: Option<&Entry>, labels: &Labels) -> Result<Outcome> {
    let outcome = |action, change, note: Option<&str>| Outcome {
        path: path.to_owned(),
        action,
        note: note.map(str::to_owned),
        change,
        sidecar: None,
    };
    let ours = match ours {
        Ours::File(entry) => Some(entry),
        Ours::Missing => None,
        Ours::Other(what) => {
            if base == new || new.is_none() {
                return Ok(outcome(Action::Unchanged, Change::None, None));
            }
            let note = format!("{what}; left alone, so the pack's version of this file was not written");
            return Ok(outcome(Action::Conflict, Change::None, Some(&note)));
        }
    };
    if ours == new || base == new {
        return Ok(outcome(Action::Unchanged, Change::None, None));
    }
    if ours == base {
        return Ok(match new {
            Some(n) if ours.is_none() => outcome(Action::Added, Change::Write(n.clone()), None),
            Some(n) => outcome(Action::Updated, Change::Write(n.clone()), None),
            None => outcome(Action::Removed, Change::Remove, None),
        });
    }
    let (ours, new) = match (ours, new) {
        (None, _) => {
            return Ok(outcome(
                Action::Kept,
                Change::None,
                Some("deleted here and changed in the pack; it stays deleted"),
            ));
        }
        (Some(_), None) => {
            return Ok(outcome(
                Action::Kept,
                Change::None,
                Some("removed from the pack; kept because it was changed here"),
            ));
        }
        (Some(ours), Some(new)) => (ours, new),
    };
    // The executable bit follows the same rule as the contents: the user's change wins.
    let executable = match base {
        Some(b) if ours.executable == b.executable => new.executable,
        _ => ours.executable,
    };
    let settled = match base.map(|b| &b.bytes) {
        _ if ours.bytes == new.bytes => Some(&ours.bytes),
        Some(b) if *b == ours.bytes => Some(&new.bytes),
        Some(b) if *b == new.bytes => Some(&ours.bytes),
        _ => None,
    };
    if let Some(bytes) = settled {
        let merged = Entry::new(bytes.clone(), executable);
        return Ok(if merged == *ours {
            outcome(Action::Unchanged, Change::None, None)
        } else {
            outcome(Action::Merged, Change::Write(merged), None)
        });
    }
    if ours.is_binary() || new.is_binary() || base.is_some_and(Entry::is_binary) {
        let sidecar = format!("{path}{SIDECAR_SUFFIX}");
        let note = format!("binary, changed here and in the pack: yours is kept, the pack's is in {sidecar}");
        let mut result = outcome(Action::Conflict, Change::None, Some(&note));
        result.sidecar = Some((sidecar, new.clone()));
        return Ok(result);
    }
    let (bytes, clean) = merge_text(path, base.map_or(&[][..], |b| &b.bytes), &ours.bytes, &new.bytes, labels)?;
    let merged = Entry::new(bytes, executable);
    Ok(match (clean, base) {
        (true, _) => outcome(Action::Merged, Change::Write(merged), None),
        (false, Some(_)) => outcome(Action::Conflict, Change::Write(merged), Some("conflict markers")),
        (false, None) => outcome(
            Action::Conflict,
            Change::Write(merged),
            Some("exists here and was added by the pack; conflict markers"),
        ),
    })
}

/// git's three-way file merge; conflicting hunks are written with markers.
fn merge_text(path: &str, base: &[u8], ours: &[u8], theirs: &[u8], labels: &Labels) -> Result<(Vec<u8>, bool)> {
    let input = |content| {
        let mut input = git2::MergeFileInput::new();
        input.content(content).path(path);
        input
    };
    // git2 initialises libgit2 lazily, and `merge_file` does not; `Buf::new` does.
    drop(git2::Buf::new());
    let mut options = git2::MergeFileOptions::new();
    options.our_label(labels.ours.as_str()).their_label(labels.theirs.as_str()).ancestor_label("base");
    let merged = git2::merge_file(&input(base), &input(ours), &input(theirs), Some(&mut options))
        .map_err(|err| Error::Git(format!("merging {path}: {}", err.message())))?;
    Ok((merged.content().to_vec(), merged.is_automergeable()))
}

#[cfg(test)]
mod tests {
    use super::{Action, Change, Entry, Labels, Ours, file};

    /// A case: name, base, working tree, new, and the expected action and change.
    type Case<'a> = (&'a str, Option<&'a Entry>, Option<&'a Entry>, Option<&'a Entry>, Action, Change);

    fn decide(base: Option<&Entry>, mine: Option<&Entry>, new: Option<&Entry>) -> (Action, Change) {
        let labels = Labels { ours: "yours".into(), theirs: "pack 2".into() };
        let ours = mine.map_or(Ours::Missing, |e| Ours::File(e.clone()));
        let outcome = file("f.txt", base, &ours, new, &labels).expect("merges");
        (outcome.action, outcome.change)
    }

    #[test]
    fn each_case_has_one_action() {
        let (a, b, c) = (Entry::new("a\n", false), Entry::new("b\n", false), Entry::new("c\n", false));
        let (a, b, c) = (Some(&a), Some(&b), Some(&c));
        let write = |e: Option<&Entry>| Change::Write(e.unwrap().clone());
        let cases: Vec<Case<'_>> = vec![
            ("untouched everywhere", a, a, a, Action::Unchanged, Change::None),
            ("pack changed it", a, a, b, Action::Updated, write(b)),
            ("user changed it", a, b, a, Action::Unchanged, Change::None),
            ("both made the same change", a, b, b, Action::Unchanged, Change::None),
            ("pack removed it", a, a, None, Action::Removed, Change::Remove),
            ("pack removed an edited file", a, b, None, Action::Kept, Change::None),
            ("user removed it, pack changed it", a, None, b, Action::Kept, Change::None),
            ("user removed it, pack did not change it", a, None, a, Action::Unchanged, Change::None),
            ("new in the pack", None, None, a, Action::Added, write(a)),
            ("new in the pack, identical file here", None, a, a, Action::Unchanged, Change::None),
            ("both removed it", a, None, None, Action::Unchanged, Change::None),
        ];
        for (name, base, mine, new, action, change) in cases {
            assert_eq!(decide(base, mine, new), (action, change), "{name}");
        }
        assert_eq!(decide(a, b, c).0, Action::Conflict, "both changed the same line");
        assert_eq!(decide(None, b, c).0, Action::Conflict, "an existing file where the pack adds one");
    }

    #[test]
    fn separate_hunks_merge_and_colliding_ones_get_markers() {
        let text = |s: &str| Entry::new(s, false);
        let base = text("1\n2\n3\n4\n5\n6\n7\n");
        let (action, change) =
            decide(Some(&base), Some(&text("1\n2\n3\n4\n5\n6\nseven\n")), Some(&text("one\n2\n3\n4\n5\n6\n7\n")));
        assert_eq!(action, Action::Merged);
        assert_eq!(change, Change::Write(text("one\n2\n3\n4\n5\n6\nseven\n")));
        let (action, change) =
            decide(Some(&base), Some(&text("1\nmine\n3\n4\n5\n6\n7\n")), Some(&text("1\ntheirs\n3\n4\n5\n6\n7\n")));
        assert_eq!(action, Action::Conflict);
        let want = "1\n<<<<<<< yours\nmine\n=======\ntheirs\n>>>>>>> pack 2\n3\n4\n5\n6\n7\n";
        assert_eq!(change, Change::Write(text(want)));
    }
    #[test]
    fn executable_bits_follow_the_same_rules() {
        let plain = Entry::new("x\n", false);
        let exec = Entry::new("x\n", true);
        assert_eq!(decide(Some(&plain), Some(&plain), Some(&exec)), (Action::Updated, Change::Write(exec.clone())));
        assert_eq!(decide(Some(&plain), Some(&exec), Some(&plain)).0, Action::Unchanged, "the user's chmod stays");
        let user_exec_pack_edit = decide(Some(&plain), Some(&exec), Some(&Entry::new("y\n", false)));
        assert_eq!(user_exec_pack_edit, (Action::Merged, Change::Write(Entry::new("y\n", true))));
    }

    #[test]
    fn binary_collisions_keep_the_users_file_and_write_the_packs_beside_it() {
        let labels = Labels { ours: "yours".into(), theirs: "pack 2".into() };
        let base = Entry::new(b"\0base".to_vec(), false);
        let mine = Entry::new(b"\0mine".to_vec(), false);
        let new = Entry::new(b"\0new".to_vec(), false);
        let outcome = file("logo.png", Some(&base), &Ours::File(mine), Some(&new), &labels).unwrap();
        assert_eq!(outcome.action, Action::Conflict);
        assert_eq!(outcome.change, Change::None);
        assert_eq!(outcome.sidecar, Some(("logo.png.dozen-new".to_owned(), new)));
    }

    #[test]
    fn something_other_than_a_file_is_left_alone() {
        let labels = Labels { ours: "yours".into(), theirs: "pack 2".into() };
        let a = Entry::new("a", false);
        let b = Entry::new("b", false);
        let other = Ours::Other("it is a directory here".into());
        assert_eq!(file("d", Some(&a), &other, Some(&a), &labels).unwrap().action, Action::Unchanged);
        let outcome = file("d", Some(&a), &other, Some(&b), &labels).unwrap();
        assert_eq!((outcome.action, outcome.change), (Action::Conflict, Change::None));
    }
}
