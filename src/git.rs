//! git via git2, for the generated project: a new repository on git's default branch with one
//! initial commit of everything generated (hooks' changes included), or — inside an existing work
//! tree — no nested repository and, only when asked (`--git-add`), the files added to that
//! repository's index. The enclosing work tree is found the way git finds it: stopping at file
//! system boundaries and at `GIT_CEILING_DIRECTORIES`. A base ref keeps the pristine output for
//! `dozen update`, which treats it as an optimisation checked against the committed record.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use git2::{FileMode, IndexAddOption, Odb, Oid, Repository, RepositoryInitOptions, RepositoryOpenFlags, Signature};

use crate::error::{Error, Result};

/// What git did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum GitOutcome {
    /// A new repository with its first commit.
    Initialized {
        /// Branch name.
        branch: String,
        /// Commit id.
        commit: String,
    },
    /// Files staged in the enclosing repository (`--git-add`).
    AddedToParent {
        /// The enclosing repository's work tree.
        repository: String,
    },
    /// Inside an enclosing work tree without `--git-add`: nothing was done to it.
    InsideWorkTree {
        /// The enclosing repository's work tree.
        repository: String,
    },
    /// `--no-git`.
    Skipped,
}

/// The message of the first base commit.
const PRISTINE: &str = "dozen: pristine generated tree";

/// A file of the pristine output, for the base commit.
pub struct BaseFile<'a> {
    /// Project-relative, `/`-separated.
    pub path: &'a str,
    /// Contents.
    pub bytes: &'a [u8],
    /// Mode 755.
    pub executable: bool,
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(git_err)`
/// A git2 error as dozen's error.
pub(crate) fn git_err(err: git2::Error) -> Error {
    Error::Git(err.message().to_owned())
}

/// The work tree that already contains `dir` (or its nearest existing ancestor), found as git
/// does: not across file systems unless `GIT_DISCOVERY_ACROSS_FILESYSTEM` is true, and never at
/// or above a directory of `GIT_CEILING_DIRECTORIES`.
pub fn enclosing_work_tree(dir: &Path) -> Option<PathBuf> {
    let probe = std::iter::successors(Some(dir), |p| p.parent())
        .find(|p| !p.as_os_str().is_empty() && p.exists())
        .unwrap_or(Path::new("."));
    let mut flags = RepositoryOpenFlags::empty();
    if std::env::var("GIT_DISCOVERY_ACROSS_FILESYSTEM").is_ok_and(|v| truthy(&v)) {
        flags |= RepositoryOpenFlags::CROSS_FS;
    }
    let ceilings: Vec<OsString> = std::env::var_os("GIT_CEILING_DIRECTORIES")
        .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).map(PathBuf::into_os_string).collect())
        .unwrap_or_default();
    let repo = Repository::open_ext(probe, flags, &ceilings).ok()?;
    repo.workdir().map(Path::to_path_buf)
}

fn truthy(value: &str) -> bool {
    matches!(value.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

/// `user.name`/`user.email` from git config, when set.
pub fn config_identity() -> (Option<String>, Option<String>) {
    let Ok(config) = git2::Config::open_default() else { return (None, None) };
    (config.get_string("user.name").ok(), config.get_string("user.email").ok())
}

/// git's `init.defaultBranch`, else `main`.
pub fn default_branch() -> String {
    git2::Config::open_default()
        .and_then(|c| c.get_string("init.defaultBranch"))
        .ok()
        .filter(|b| git2::Branch::name_is_valid(b).unwrap_or(false))
        .unwrap_or_else(|| "main".to_owned())
}

/// The commit identity: git config, else the `fallback_name` a pack names (its author answer),
/// else dozen's own. The one place an identity is chosen.
pub fn identity(fallback_name: Option<&str>) -> Result<Signature<'static>> {
    let (name, email) = config_identity();
    let name = name
        .or_else(|| fallback_name.map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "dozen".to_owned());
    let email = email.filter(|e| !e.trim().is_empty()).unwrap_or_else(|| "dozen@localhost".to_owned());
    Signature::now(&name, &email).map_err(git_err)
}

/// dozen's own identity, for the base commits it keeps on no branch.
fn dozen_identity() -> Result<Signature<'static>> {
    Signature::now("dozen", "dozen@localhost").map_err(git_err)
}

/// The message of the first commit.
const INITIAL: &str = "Initial commit from dozen";

/// Initializes `dir` on git's default branch and commits every file in it that is not ignored
/// (the generated files and what hooks changed). `base` is the pristine output, kept as the base.
///
/// Every object of both commits is written as one packfile (with its index) rather than one loose
/// file per object: objects are built in an in-memory object database, then packed, indexed and
/// written in one go. Each planned file is hashed once; a file read back from the work tree with
/// the planned bytes reuses that blob, so the first commit and the base share their blobs. Refs
/// and the index are written last, once their objects are on disk.
pub fn init_and_commit(dir: &Path, base: &[BaseFile<'_>], author: Option<&str>) -> Result<GitOutcome> {
    let branch = default_branch();
    let mut options = RepositoryInitOptions::new();
    options.initial_head(&branch);
    let repo = Repository::init_opts(dir, &options).map_err(git_err)?;
    let signature = identity(author)?;
    let disk = repo.odb().map_err(git_err)?;
    let memory = Odb::new().map_err(git_err)?;
    let _objects = memory.add_new_mempack_backend(1).map_err(git_err)?;
    repo.set_odb(&memory).map_err(git_err)?;
    // The planned blobs are hashed, not stored: the pack takes their bytes from the plan.
    let _unchecked = UncheckedObjects::new();

    let blobs = base
        .iter()
        .map(|f| Oid::hash_object(git2::ObjectType::Blob, f.bytes))
        .collect::<std::result::Result<Vec<Oid>, _>>()
        .map_err(git_err)?;
    let mut index = repo.index().map_err(git_err)?;
    let staged_is_base = stage_work_tree(&repo, &mut index, dir, base, &blobs)?;
    let base_tree = tree_of(&repo, base, &blobs)?;
    let tree_id = if staged_is_base { base_tree } else { tree_of_index(&repo, &index)? };
    let tree = repo.find_tree(tree_id).map_err(git_err)?;
    let commit = repo.commit(None, &signature, &signature, INITIAL, &tree, &[]).map_err(git_err)?;
    drop(tree);
    let base_commit = if base_tree == tree_id { commit } else { base_commit(&repo, base_tree, None, PRISTINE)? };

    // The index before the pack, so that its entries are freed while the pack is written.
    index.write().map_err(git_err)?;
    repo.set_index(&mut git2::Index::new().map_err(git_err)?).map_err(git_err)?;
    drop(index);
    let planned = packfile::Planned::new(base, &blobs);
    let mut writer = disk.packwriter().map_err(git_err)?;
    packfile::write(&memory, &[commit, base_commit], &planned, &mut writer)?;
    writer.commit().map_err(git_err)?;
    drop(writer);

    repo.reference(&format!("refs/heads/{branch}"), commit, false, &format!("commit (initial): {INITIAL}"))
        .map_err(git_err)?;
    mark_base(&repo, "", base_commit)?;
    Ok(GitOutcome::Initialized { branch, commit: commit.to_string() })
}

/// While alive, libgit2 does not check that the objects an index entry, tree or commit names
/// exist: the planned blobs of a first commit exist only in the plan until the pack is written.
/// Process-wide in libgit2, so counted: the check is back on when the last one is dropped.
struct UncheckedObjects;

static UNCHECKED: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

impl UncheckedObjects {
    fn new() -> UncheckedObjects {
        let mut count = UNCHECKED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if *count == 0 {
            git2::opts::strict_object_creation(false);
        }
        *count += 1;
        UncheckedObjects
    }
}

impl Drop for UncheckedObjects {
    fn drop(&mut self) {
        let mut count = UNCHECKED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *count -= 1;
        if *count == 0 {
            git2::opts::strict_object_creation(true);
        }
    }
}

/// The tree of what `index` stages (stage 0), written without the index's tree cache.
fn tree_of_index(repo: &Repository, index: &git2::Index) -> Result<Oid> {
    let empty = repo.treebuilder(None).and_then(|b| b.write()).and_then(|id| repo.find_tree(id)).map_err(git_err)?;
    let mut builder = git2::build::TreeUpdateBuilder::new();
    for entry in index.iter() {
        let mode = match entry.mode {
            0o100_755 => FileMode::BlobExecutable,
            0o120_000 => FileMode::Link,
            0o160_000 => FileMode::Commit,
            _ => FileMode::Blob,
        };
        builder.upsert(entry.path, entry.id, mode);
    }
    builder.create_updated(repo, &empty).map_err(git_err)
}

/// Stages the work tree of a new repository in `index` as `git add -A` does, without hashing a
/// planned file twice: the non-ignored files are listed by git's own status walk, each is read
/// back once, and a file holding its planned bytes gets the planned blob. Anything git would
/// transform or treat specially (bytes a clean filter could change, symlinks, special files,
/// nested repositories, `core.filemode = false`) is added by libgit2 itself, file by file or for
/// the whole tree. Returns whether the staged tree is exactly the plan (paths, blobs and modes).
fn stage_work_tree(
    repo: &Repository,
    index: &mut git2::Index,
    dir: &Path,
    base: &[BaseFile<'_>],
    blobs: &[Oid],
) -> Result<bool> {
    #[cfg(unix)]
    if let Some(same) = stage_read_back(repo, index, dir, base, blobs)? {
        return Ok(same);
    }
    let _ = (dir, base, blobs);
    index.clear().map_err(git_err)?;
    index.add_all(["*"], IndexAddOption::DEFAULT, None).map_err(git_err)?;
    Ok(false)
}

/// The fast path of [`stage_work_tree`]; `None` when the whole tree must go through `add_all`.
#[cfg(unix)]
fn stage_read_back(
    repo: &Repository,
    index: &mut git2::Index,
    dir: &Path,
    base: &[BaseFile<'_>],
    blobs: &[Oid],
) -> Result<Option<bool>> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;

    let config = repo.config().map_err(git_err)?;
    if !config.get_bool("core.filemode").unwrap_or(true) {
        return Ok(None);
    }
    let mut planned: Vec<usize> = (0..base.len()).collect();
    planned.sort_unstable_by_key(|&i| base[i].path);
    let mut options = git2::StatusOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .exclude_submodules(false)
        .renames_head_to_index(false)
        .renames_index_to_workdir(false);
    // What the status walk lists, compactly (planned files by number), so that its list is freed
    // before the index fills.
    let mut listed_planned: Vec<u32> = Vec::with_capacity(base.len());
    let mut listed_others: Vec<String> = Vec::new();
    {
        let statuses = repo.statuses(Some(&mut options)).map_err(git_err)?;
        for entry in statuses.iter() {
            let Ok(rel) = entry.path() else { return Ok(None) };
            if !entry.status().is_wt_new() || rel.ends_with('/') {
                return Ok(None);
            }
            match planned.binary_search_by(|&i| base[i].path.cmp(rel)) {
                Ok(at) => listed_planned.push(u32::try_from(planned[at]).expect("fewer than 2^32 files")),
                Err(_) => listed_others.push(rel.to_owned()),
            }
        }
    }
    drop(planned);
    let mut same = listed_others.is_empty() && listed_planned.len() == base.len();
    let mut bytes = Vec::new();
    let paths = listed_planned.iter().map(|&i| base[i as usize].path).chain(listed_others.iter().map(String::as_str));
    for (rel, planned) in paths.zip(listed_planned.iter().map(|&i| Some(i as usize)).chain(std::iter::repeat(None))) {
        let path = dir.join(rel);
        let metadata = std::fs::symlink_metadata(&path).map_err(crate::error::io("reading", &path))?;
        if !metadata.file_type().is_file() {
            index.add_path(Path::new(rel)).map_err(git_err)?;
            same = false;
            continue;
        }
        bytes.clear();
        std::fs::File::open(&path)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(crate::error::io("reading", &path))?;
        if may_be_filtered(&bytes) {
            index.add_path(Path::new(rel)).map_err(git_err)?;
            same = false;
            continue;
        }
        let executable = metadata.mode() & 0o100 != 0;
        let id = match planned {
            Some(i) if base[i].bytes == bytes.as_slice() => {
                same &= base[i].executable == executable;
                blobs[i]
            }
            _ => {
                same = false;
                repo.blob(&bytes).map_err(git_err)?
            }
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // as libgit2 stores stat data
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(metadata.ctime() as i32, metadata.ctime_nsec() as u32),
            mtime: git2::IndexTime::new(metadata.mtime() as i32, metadata.mtime_nsec() as u32),
            dev: metadata.rdev() as u32,
            ino: metadata.ino() as u32,
            mode: if executable { 0o100_755 } else { 0o100_644 },
            uid: metadata.uid(),
            gid: metadata.gid(),
            file_size: metadata.size() as u32,
            id,
            flags: 0,
            flags_extended: git2::IndexEntryExtendedFlag::UPTODATE.bits(),
            path: rel.as_bytes().to_vec(),
        };
        index.add(&entry).map_err(git_err)?;
    }
    Ok(Some(same))
}

/// Whether a clean filter (end-of-line conversion, `ident`) could change these bytes, so that git
/// itself must make the blob.
fn may_be_filtered(bytes: &[u8]) -> bool {
    bytes.contains(&b'\r') || bytes.windows(3).any(|w| w == b"$Id")
}

/// Adds the project directory's files (not the ignored ones) to the enclosing repository's index,
/// and keeps the pristine output as the project's base.
pub fn add_to_parent(project: &Path, base: &[BaseFile<'_>]) -> Result<GitOutcome> {
    let repo = Repository::discover(project).map_err(git_err)?;
    let workdir = repo.workdir().ok_or_else(|| Error::Git("the enclosing repository is bare".into()))?.to_path_buf();
    let canonical = project.canonicalize().map_err(crate::error::io("reading", project))?;
    let rel =
        canonical.strip_prefix(workdir.canonicalize().unwrap_or(workdir.clone())).unwrap_or(&canonical).to_path_buf();
    let mut index = repo.index().map_err(git_err)?;
    let pattern = rel.join("*");
    index.add_all([pattern.to_string_lossy().as_ref()], IndexAddOption::DEFAULT, None).map_err(git_err)?;
    index.write().map_err(git_err)?;
    let prefix = rel.to_string_lossy().replace('\\', "/");
    let tree = write_tree(&repo, base)?;
    let commit = base_commit(&repo, tree, None, PRISTINE)?;
    mark_base(&repo, &prefix, commit)?;
    Ok(GitOutcome::AddedToParent { repository: workdir.display().to_string() })
}

/// The ref keeping the pristine output of the project at `prefix` (its `/`-separated path in the
/// work tree; empty at the root) for `dozen update`.
pub fn base_ref(prefix: &str) -> String {
    match prefix.trim_matches('/') {
        "" => "refs/dozen/base".to_owned(),
        dir => format!("refs/dozen/bases/{dir}"),
    }
}

/// Points the project's base ref at a commit whose tree is exactly what dozen generated.
pub fn mark_base(repo: &Repository, prefix: &str, commit: Oid) -> Result<()> {
    repo.reference(&base_ref(prefix), commit, true, "dozen: pristine generated tree").map_err(git_err)?;
    Ok(())
}

/// A commit on no branch of `tree`, parented on `parent`.
pub fn base_commit(repo: &Repository, tree: Oid, parent: Option<Oid>, message: &str) -> Result<Oid> {
    let tree = repo.find_tree(tree).map_err(git_err)?;
    let signature = dozen_identity()?;
    let parent = parent.map(|id| repo.find_commit(id)).transpose().map_err(git_err)?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(None, &signature, &signature, message, &tree, &parents).map_err(git_err)
}

/// Writes `files` as a tree (blobs included) and returns its id.
pub fn write_tree(repo: &Repository, files: &[BaseFile<'_>]) -> Result<Oid> {
    let blobs =
        files.iter().map(|f| repo.blob(f.bytes)).collect::<std::result::Result<Vec<Oid>, _>>().map_err(git_err)?;
    tree_of(repo, files, &blobs)
}

/// The tree of `files` whose blobs are already written (`blobs[i]` holds `files[i]`).
fn tree_of(repo: &Repository, files: &[BaseFile<'_>], blobs: &[Oid]) -> Result<Oid> {
    let empty = repo.treebuilder(None).and_then(|b| b.write()).and_then(|id| repo.find_tree(id)).map_err(git_err)?;
    let mut builder = git2::build::TreeUpdateBuilder::new();
    for (file, blob) in files.iter().zip(blobs) {
        let mode = if file.executable { FileMode::BlobExecutable } else { FileMode::Blob };
        builder.upsert(file.path, *blob, mode);
    }
    builder.create_updated(repo, &empty).map_err(git_err)
}

/// A packfile (version 2) of everything reachable from some commits of an object database,
/// streamed to git's own indexer, which checks and indexes it (`Odb::packwriter`, as
/// `git index-pack` would).
///
/// Objects are stored without deltas and in stored (uncompressed) deflate blocks: for a first
/// commit of small files this costs a copy instead of a delta search and a deflate per object, and
/// `git gc` compresses them whenever the user wants. The trailing checksum is the SHA-1 of the
/// pack, which the indexer verifies.
mod packfile {
    use std::collections::HashSet;
    use std::io::Write;

    use git2::{ObjectType, Odb, Oid};

    use super::{BaseFile, git_err};
    use crate::error::{Error, Result};

    /// The planned files' blobs by id, which are in no object database.
    pub struct Planned<'a> {
        files: &'a [BaseFile<'a>],
        ids: &'a [Oid],
        by_id: Vec<u32>,
    }

    impl<'a> Planned<'a> {
        /// `ids[i]` is the blob of `files[i]`.
        pub fn new(files: &'a [BaseFile<'a>], ids: &'a [Oid]) -> Planned<'a> {
            let mut by_id: Vec<u32> = (0..u32::try_from(ids.len()).expect("fewer than 2^32 files")).collect();
            by_id.sort_unstable_by_key(|&i| ids[i as usize]);
            Planned { files, ids, by_id }
        }

        fn get(&self, id: Oid) -> Option<&'a [u8]> {
            let at = self.by_id.binary_search_by_key(&id, |&i| self.ids[i as usize]).ok()?;
            Some(self.files[self.by_id[at] as usize].bytes)
        }
    }

    /// Writes the pack of every object reachable from `commits` (duplicates allowed) to `out`;
    /// planned blobs are taken from `planned`, every other object from `odb`.
    pub fn write(odb: &Odb<'_>, commits: &[Oid], planned: &Planned<'_>, out: &mut impl Write) -> Result<()> {
        let objects = reachable(odb, commits)?;
        let mut pack = Checksummed { out, sha: Sha1::new() };
        let count = u32::try_from(objects.len()).expect("fewer than 2^32 objects");
        let mut head = Vec::with_capacity(64 * 1024);
        head.extend_from_slice(b"PACK");
        head.extend_from_slice(&2u32.to_be_bytes());
        head.extend_from_slice(&count.to_be_bytes());
        for id in objects {
            if let Some(bytes) = planned.get(id) {
                header(&mut head, 3, bytes.len());
                stored_zlib(&mut head, bytes);
            } else {
                let object = odb.read(id).map_err(git_err)?;
                let kind = match object.kind() {
                    ObjectType::Commit => 1,
                    ObjectType::Tree => 2,
                    ObjectType::Blob => 3,
                    _ => 4,
                };
                header(&mut head, kind, object.data().len());
                stored_zlib(&mut head, object.data());
            }
            if head.len() >= 64 * 1024 {
                pack.write(&head)?;
                head.clear();
            }
        }
        pack.write(&head)?;
        let checksum = pack.sha.finish();
        pack.out.write_all(&checksum).map_err(pack_error)
    }

    /// Commits, trees, then blobs, each once, read from the raw objects (no parsed objects
    /// are cached).
    fn reachable(odb: &Odb<'_>, commits: &[Oid]) -> Result<Vec<Oid>> {
        let mut seen = HashSet::new();
        let mut objects = Vec::new();
        let mut blobs = Vec::new();
        let mut trees = Vec::new();
        for &commit in commits {
            if !seen.insert(commit) {
                continue;
            }
            objects.push(commit);
            let object = odb.read(commit).map_err(git_err)?;
            let tree = object
                .data()
                .strip_prefix(b"tree ")
                .and_then(|rest| rest.get(..40))
                .and_then(|hex| Oid::from_str(std::str::from_utf8(hex).ok()?).ok())
                .ok_or_else(|| Error::Git(format!("commit {commit} has no tree")))?;
            trees.push(tree);
        }
        while let Some(tree) = trees.pop() {
            if !seen.insert(tree) {
                continue;
            }
            objects.push(tree);
            let object = odb.read(tree).map_err(git_err)?;
            let mut rest = object.data();
            while !rest.is_empty() {
                let broken = || Error::Git(format!("tree {tree} does not parse"));
                let space = rest.iter().position(|&b| b == b' ').ok_or_else(broken)?;
                let nul = rest.iter().position(|&b| b == 0).ok_or_else(broken)?;
                let id = rest.get(nul + 1..nul + 21).and_then(|raw| Oid::from_bytes(raw).ok()).ok_or_else(broken)?;
                match &rest[..space] {
                    b"40000" => trees.push(id),
                    b"160000" => {} // a submodule's commit is not in this repository
                    _ => blobs.push(id),
                }
                rest = &rest[nul + 21..];
            }
        }
        blobs.sort_unstable();
        blobs.dedup();
        objects.append(&mut blobs);
        Ok(objects)
    }

    /// A writer that keeps the SHA-1 of what went through it.
    struct Checksummed<'w, W: Write> {
        out: &'w mut W,
        sha: Sha1,
    }

    impl<W: Write> Checksummed<'_, W> {
        fn write(&mut self, bytes: &[u8]) -> Result<()> {
            self.sha.update(bytes);
            self.out.write_all(bytes).map_err(pack_error)
        }
    }

    #[allow(clippy::needless_pass_by_value)]
    fn pack_error(err: std::io::Error) -> Error {
        Error::Git(format!("writing the packfile: {err}"))
    }

    /// An object's type and size, as pack entries begin.
    #[allow(clippy::cast_possible_truncation)] // masked to 4 and 7 bits
    fn header(out: &mut Vec<u8>, kind: u8, size: usize) {
        let mut byte = (kind << 4) | (size & 0x0f) as u8;
        let mut rest = size >> 4;
        while rest > 0 {
            out.push(byte | 0x80);
            byte = (rest & 0x7f) as u8;
            rest >>= 7;
        }
        out.push(byte);
    }

    /// `data` as a zlib stream of stored deflate blocks.
    fn stored_zlib(out: &mut Vec<u8>, data: &[u8]) {
        out.extend_from_slice(&[0x78, 0x01]);
        if data.is_empty() {
            out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        let mut chunks = data.chunks(usize::from(u16::MAX)).peekable();
        while let Some(chunk) = chunks.next() {
            out.push(u8::from(chunks.peek().is_none()));
            let len = u16::try_from(chunk.len()).expect("chunks of at most 65535 bytes");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&adler32(data).to_be_bytes());
    }

    fn adler32(data: &[u8]) -> u32 {
        const MOD: u32 = 65521;
        let (mut a, mut b) = (1u32, 0u32);
        for chunk in data.chunks(5552) {
            for &byte in chunk {
                a += u32::from(byte);
                b += a;
            }
            a %= MOD;
            b %= MOD;
        }
        (b << 16) | a
    }

    /// SHA-1 (FIPS 180-4), the checksum git ends a pack with.
    pub(super) struct Sha1 {
        state: [u32; 5],
        block: [u8; 64],
        filled: usize,
        length: u64,
    }

    impl Sha1 {
        pub(super) fn new() -> Sha1 {
            Sha1 {
                state: [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0],
                block: [0; 64],
                filled: 0,
                length: 0,
            }
        }

        pub(super) fn update(&mut self, mut data: &[u8]) {
            self.length = self.length.wrapping_add(data.len() as u64);
            if self.filled > 0 {
                let take = data.len().min(64 - self.filled);
                self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
                self.filled += take;
                data = &data[take..];
                if self.filled < 64 {
                    return;
                }
                let block = self.block;
                compress(&mut self.state, &block);
                self.filled = 0;
            }
            let mut blocks = data.chunks_exact(64);
            for block in &mut blocks {
                compress(&mut self.state, block);
            }
            let tail = blocks.remainder();
            self.block[..tail.len()].copy_from_slice(tail);
            self.filled = tail.len();
        }

        pub(super) fn finish(mut self) -> [u8; 20] {
            let bits = self.length.wrapping_mul(8);
            let mut padding = [0u8; 72];
            padding[0] = 0x80;
            let pad = if self.filled < 56 { 56 - self.filled } else { 120 - self.filled };
            padding[pad..pad + 8].copy_from_slice(&bits.to_be_bytes());
            let length = self.length;
            self.update(&padding[..pad + 8]);
            debug_assert_eq!(self.filled, 0, "{length}");
            let mut out = [0u8; 20];
            for (bytes, word) in out.chunks_exact_mut(4).zip(self.state) {
                bytes.copy_from_slice(&word.to_be_bytes());
            }
            out
        }
    }

    #[allow(clippy::many_single_char_names)] // the names of FIPS 180-4
    fn compress(state: &mut [u32; 5], block: &[u8]) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = *state;
        for (i, &word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..20 => ((b & c) | (!b & d), 0x5A82_7999),
                20..40 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..60 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
            *s = s.wrapping_add(v);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::{Sha1, adler32};

        fn sha1(data: &[u8]) -> [u8; 20] {
            let mut sha = Sha1::new();
            // In uneven pieces, to exercise the buffering.
            for piece in data.chunks(37) {
                sha.update(piece);
            }
            sha.finish()
        }

        fn hex(bytes: &[u8]) -> String {
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }

        #[test]
        fn sha1_matches_known_digests_and_git() {
            assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
            assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
            for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70_000] {
                let data: Vec<u8> = (0..len).map(|i: u32| u8::try_from(i * 7 % 251).unwrap()).collect();
                let mut object = format!("blob {len}\0").into_bytes();
                object.extend_from_slice(&data);
                let git = git2::Oid::hash_object(git2::ObjectType::Blob, &data).unwrap();
                assert_eq!(hex(&sha1(&object)), git.to_string(), "length {len}");
            }
        }

        #[test]
        fn adler32_matches_known_values() {
            assert_eq!(adler32(b""), 1);
            assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        }
    }
}
