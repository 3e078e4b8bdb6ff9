//! Packs from git repositories: cloned with git2 into a temporary directory (a progress bar on a
//! terminal), checked out at the requested branch, tag or commit, and read like a directory. The
//! resolved commit is recorded so the same output can be rendered again later.

use std::io::IsTerminal;
use std::path::PathBuf;

use git2::build::RepoBuilder;
use git2::{FetchOptions, RemoteCallbacks, Repository};

use super::source::GitSource;
use crate::error::{Error, Result};

/// A checked-out pack repository; removed when dropped.
pub struct Checkout {
    dir: tempfile::TempDir,
    subdir: Option<String>,
    /// The commit checked out.
    pub commit: String,
}

impl Checkout {
    /// The pack's directory inside the checkout.
    pub fn pack_dir(&self) -> PathBuf {
        match &self.subdir {
            Some(sub) => self.dir.path().join(sub),
            None => self.dir.path().to_path_buf(),
        }
    }
}

/// Clones the repository and checks out the reference.
pub fn fetch(source: &GitSource) -> Result<Checkout> {
    let fail = |message: String, hint: &str| Error::PackSource {
        source_name: source.to_string(),
        message,
        hint: hint.to_owned(),
    };
    let dir = tempfile::tempdir().map_err(crate::error::io("creating a directory for", std::env::temp_dir()))?;
    let bar = progress_bar(&source.url);
    let mut callbacks = RemoteCallbacks::new();
    if let Some(bar) = &bar {
        let bar = bar.clone();
        callbacks.transfer_progress(move |stats| {
            bar.set_length(stats.total_objects() as u64);
            bar.set_position(stats.received_objects() as u64);
            true
        });
    }
    let mut fetch_options = FetchOptions::new();
    fetch_options.remote_callbacks(callbacks);
    let url = local_url(&source.url);
    let repo = RepoBuilder::new().fetch_options(fetch_options).clone(&url, dir.path()).map_err(|err| {
        fail(
            format!("cannot clone it: {}", err.message()),
            "check the URL, that the repository exists and that the network (or the path) is reachable",
        )
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let commit = match &source.reference {
        None => repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(|err| fail(err.message().to_owned(), "pass a ref: URL#branch"))?,
        Some(reference) => {
            let object = [format!("origin/{reference}"), format!("refs/tags/{reference}"), reference.clone()]
                .iter()
                .find_map(|spec| repo.revparse_single(spec).ok())
                .ok_or_else(|| {
                    fail(
                        format!("ref {reference:?} is not a branch, tag or commit of the repository"),
                        &refs_hint(&repo),
                    )
                })?;
            let commit = object.peel_to_commit().map_err(|err| fail(err.message().to_owned(), &refs_hint(&repo)))?;
            repo.checkout_tree(commit.as_object(), Some(git2::build::CheckoutBuilder::new().force()))
                .map_err(|err| fail(err.message().to_owned(), "the clone could not be checked out"))?;
            repo.set_head_detached(commit.id())
                .map_err(|err| fail(err.message().to_owned(), "the clone could not be checked out"))?;
            commit
        }
    };
    let commit = commit.id().to_string();
    if let Some(sub) = &source.subdir
        && (sub.split('/').any(|s| s == "..") || !dir.path().join(sub).join(super::source::MANIFEST).is_file())
    {
        return Err(fail(format!("the repository has no pack.toml in {sub:?}"), "check the subdirectory after `//`"));
    }
    Ok(Checkout { dir, subdir: source.subdir.clone(), commit })
}

/// Local repository paths are cloned by absolute path.
fn local_url(url: &str) -> String {
    if url.contains("://") || url.starts_with("git@") {
        return url.to_owned();
    }
    std::fs::canonicalize(url).map_or_else(|_| url.to_owned(), |p| p.display().to_string())
}

fn refs_hint(repo: &Repository) -> String {
    let mut names: Vec<String> = repo
        .references()
        .map(|refs| {
            refs.flatten()
                .filter_map(|r| r.shorthand().ok().map(str::to_owned))
                .filter(|n| n != "origin/HEAD")
                .map(|n| n.trim_start_matches("origin/").to_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.dedup();
    names.truncate(12);
    format!("branches and tags of the repository: {}", names.join(", "))
}

fn progress_bar(url: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} cloning {msg} {bar:30} {pos}/{len} objects")
            .expect("valid template"),
    );
    bar.set_message(url.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    Some(bar)
}
