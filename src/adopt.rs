//! `dozen adopt`: brings an existing repository that dozen did not generate under a pack. The
//! answers are resolved exactly as for `dozen new`, the pack is rendered in memory, and the
//! render is compared with the repository file by file (same, differs, missing, extra). Only the
//! record `.dozen/answers.toml` is written, through `write::apply`; the render becomes the base
//! (a commit on no branch behind the base ref, as `new` keeps it), so that `status` and `update`
//! treat every difference as the repository's own edit from then on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::answers::{self, Inputs};
use crate::error::{Error, Result};
use crate::pack::{PackId, Source};
use crate::prompt::Prompter;
use crate::record;
use crate::render::Renderer;
use crate::request::AdoptRequest;
use crate::update::merge::Ours;
use crate::update::project::read_at;
use crate::update::tree::{self, Tree};
use crate::write::{self, Interrupt};

/// How one file of the repository compares with the fresh render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Byte for byte what the pack renders (executable bit included).
    Same,
    /// The pack renders it differently.
    Differs,
    /// The pack renders it; the repository does not have it.
    Missing,
    /// The repository has it (tracked, when in git); the pack does not render it.
    Extra,
}

impl Comparison {
    /// The word shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Same => "same",
            Comparison::Differs => "differs",
            Comparison::Missing => "missing",
            Comparison::Extra => "extra",
        }
    }
}

/// One file in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ComparedFile {
    /// Repository-relative path.
    pub path: String,
    /// How it compares.
    pub state: Comparison,
}

/// The base kept for the adopted repository.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptedBase {
    /// The base ref.
    pub name: String,
    /// The commit of the fresh render it points at.
    pub commit: String,
}

/// Result of `dozen adopt`.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptReport {
    /// The repository.
    pub project: String,
    /// Whether nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// The pack adopted.
    pub pack: PackId,
    /// Every non-secret answer, as recorded.
    pub answers: BTreeMap<String, serde_json::Value>,
    /// The record written.
    pub record: String,
    /// The base kept (`null` outside git and with `--dry-run`).
    pub base: Option<AdoptedBase>,
    /// Every file that is not `same`, by path; `same` ones only counted.
    pub files: Vec<ComparedFile>,
    /// How many files are the same.
    pub same: usize,
    /// How many differ.
    pub differs: usize,
    /// How many the repository lacks.
    pub missing: usize,
    /// How many the pack does not render.
    pub extra: usize,
}

/// `dozen adopt`: resolves the answers, renders, compares, and writes the record.
pub fn adopt(request: &AdoptRequest, prompter: &mut dyn Prompter, interactive: bool) -> Result<AdoptReport> {
    let interrupt = Interrupt::install();
    let dir = &request.dir;
    if !dir.is_dir() {
        return Err(Error::NotADirectory(dir.clone()));
    }
    let root = dir.canonicalize().map_err(crate::error::io("reading", dir))?;
    if std::fs::symlink_metadata(root.join(".dozen")).is_ok() {
        return Err(Error::Usage {
            message: format!("{} already has a .dozen/ record: it is generated or adopted already", root.display()),
            hint: format!(
                "see where it stands with `dozen status {0}`, update it with `dozen update {0}`",
                root.display()
            ),
        });
    }
    let source = Source::parse(&request.pack)?;
    let mut pack = crate::check::load(&source)?;
    let problems = crate::check::structure_problems(&pack);
    if !problems.is_empty() {
        return Err(Error::Pack { pack: pack.id().source.clone(), problems });
    }
    let renderer = Renderer::for_pack(&pack)?;
    let file = request.answers_file.as_deref().map(crate::config::answers_file).transpose()?;
    let mut explicit = request.explicit.clone();
    let named = explicit.iter().any(|(k, _, _)| k == answers::NAME_QUESTION)
        || file.as_ref().is_some_and(|(_, table)| table.contains_key(answers::NAME_QUESTION));
    let asks_name = pack.manifest.questions.iter().any(|q| q.name == answers::NAME_QUESTION);
    if asks_name && !named {
        let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        explicit.push((answers::NAME_QUESTION.to_owned(), name, "the directory's name".to_owned()));
    }
    let inputs =
        Inputs { explicit, file, config: crate::config::user_defaults()?, interactive, user: answers::user_identity() };
    let answers = answers::resolve(&pack, &inputs, &renderer, prompter)?;
    if let Source::Dir(pack_dir) = &source
        && pack_dir.is_relative()
    {
        // Recorded relative to the repository, as `new` records it, so `update` finds it again.
        let commit = pack.id().commit.clone();
        pack = pack.with_origin(crate::relpath::relative_to(&root, pack_dir), commit);
    }
    let rendered = tree::from_plan(&crate::plan::project(&pack, &answers, &renderer)?);
    let git = git2::Repository::discover(&root).ok().and_then(|repo| {
        let workdir = repo.workdir()?.canonicalize().ok()?;
        let rel = root.strip_prefix(&workdir).ok()?.to_string_lossy().replace('\\', "/");
        Some((repo, rel))
    });
    let (files, counts) = compare(&root, &rendered, git.as_ref())?;
    let mut report = AdoptReport {
        project: root.display().to_string(),
        dry_run: request.dry_run,
        pack: pack.id().clone(),
        answers: answers.public_json().into_iter().collect(),
        record: record::PATH.to_owned(),
        base: None,
        files,
        same: counts[0],
        differs: counts[1],
        missing: counts[2],
        extra: counts[3],
    };
    if request.dry_run {
        return Ok(report);
    }
    let record = &rendered[record::PATH];
    write::apply(
        &root,
        &[(record::PATH, write::Change::Write { bytes: &record.bytes, executable: false })],
        &interrupt,
    )?;
    if let Some((repo, prefix)) = &git {
        let base: Vec<crate::git::BaseFile<'_>> = rendered
            .iter()
            .map(|(path, entry)| crate::git::BaseFile { path, bytes: &entry.bytes, executable: entry.executable })
            .collect();
        let tree = crate::git::write_tree(repo, &base)?;
        let previous = repo.find_reference(&crate::git::base_ref(prefix)).ok().and_then(|r| r.target());
        let message = format!("dozen: pristine output of {} {} (adopted)", pack.id().name, pack.id().version);
        let commit = crate::git::base_commit(repo, tree, previous, &message)?;
        crate::git::mark_base(repo, prefix, commit)?;
        report.base = Some(AdoptedBase { name: crate::git::base_ref(prefix), commit: commit.to_string() });
    }
    Ok(report)
}

/// Every rendered file against the repository, and the repository's own files the pack does not
/// render (tracked ones in git; all but `.git` otherwise). Counts: same, differs, missing, extra.
fn compare(
    root: &Path,
    rendered: &Tree,
    git: Option<&(git2::Repository, String)>,
) -> Result<(Vec<ComparedFile>, [usize; 4])> {
    let mut files = Vec::new();
    let mut counts = [0; 4];
    for (path, entry) in rendered.iter().filter(|(p, _)| *p != record::PATH) {
        let state = match read_at(root, path)? {
            Ours::File(here) if here == *entry => Comparison::Same,
            Ours::Missing => Comparison::Missing,
            _ => Comparison::Differs,
        };
        counts[state as usize] += 1;
        if state != Comparison::Same {
            files.push(ComparedFile { path: path.clone(), state });
        }
    }
    let own: BTreeSet<String> = match git {
        Some((repo, prefix)) => {
            let index = repo.index().map_err(crate::git::git_err)?;
            let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
            index
                .iter()
                .filter_map(|e| String::from_utf8(e.path).ok())
                .filter_map(|p| p.strip_prefix(&prefix).map(str::to_owned))
                .collect()
        }
        None => {
            let mut all = BTreeSet::new();
            walk(root, "", &mut all);
            all
        }
    };
    for path in own.into_iter().filter(|p| !rendered.contains_key(p)) {
        counts[Comparison::Extra as usize] += 1;
        files.push(ComparedFile { path, state: Comparison::Extra });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((files, counts))
}

fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        let rel = format!("{prefix}{name}");
        if kind.is_dir() && name != ".git" {
            walk(&entry.path(), &format!("{rel}/"), out);
        } else if kind.is_file() {
            out.insert(rel);
        }
    }
}
