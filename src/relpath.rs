//! The one rule for paths that name a file inside a project or a pack: relative, `/`-separated,
//! no `..`, no empty or `.` segment, never into `.git`, no control characters. Rendered paths,
//! pack files, base commits read back by `update` and installed packs are all checked here, so
//! "nothing is written outside the target" is decided in one place. It also says how a directory
//! is written relative to another (`relative_to`), the form in which a project records its pack.

use crate::error::{Error, Result};

/// A validated project-relative path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(String);

impl RelPath {
    /// Validates `path`; the error says why it is refused.
    pub fn parse(path: &str) -> std::result::Result<RelPath, &'static str> {
        if path.is_empty() {
            return Err("the path is empty");
        }
        if path.starts_with('/') || path.starts_with('\\') || path.get(1..2) == Some(":") {
            return Err("it is absolute");
        }
        if path.chars().any(crate::untrusted::hidden) {
            return Err("it contains a control character");
        }
        for segment in path.split(['/', '\\']) {
            match segment {
                ".." => return Err("it contains `..`"),
                "" | "." => return Err("it has an empty or `.` segment"),
                ".git" => return Err("it writes into `.git`"),
                _ => {}
            }
        }
        Ok(RelPath(path.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Refuses `path` (from `source`, for the message) unless it is a valid `RelPath`.
pub fn check(path: &str, source: &str) -> Result<RelPath> {
    RelPath::parse(path).map_err(|reason| Error::UnsafePath {
        path: crate::untrusted::visible(path),
        source_file: source.to_owned(),
        reason: reason.to_owned(),
    })
}

/// `to` as a relative path from the directory `from` (both made absolute, `.` and `..` resolved
/// lexically), `/`-separated as recorded.
pub fn relative_to(from: &std::path::Path, to: &std::path::Path) -> String {
    use std::path::Component;
    let absolute = |p: &std::path::Path| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut out: Vec<Component<'_>> = Vec::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other),
            }
        }
        out.iter().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>()
    };
    let (from, to) = (absolute(from), absolute(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_owned(), from.len() - common).collect();
    parts.extend(to[common..].iter().cloned());
    if parts.is_empty() { ".".to_owned() } else { parts.join("/") }
}

#[cfg(test)]
mod tests {
    use super::RelPath;

    #[test]
    fn only_paths_inside_the_tree_are_valid() {
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            ".git/config",
            "C:/x",
            "./a",
            "a\\..\\b",
            "a\nb",
            "nul\0",
            "x/.git",
        ] {
            assert!(RelPath::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["a", ".github/workflows/ci.yml", "src/main.rs", "a..b/c", ".gitignore", "日本/ファイル.txt"]
        {
            assert_eq!(RelPath::parse(good).map(|p| p.as_str().to_owned()), Ok(good.to_owned()), "{good}");
        }
    }
}

#[cfg(test)]
mod relative_tests {
    use std::path::Path;

    use super::relative_to;

    #[test]
    fn pack_directories_are_recorded_relative_to_the_project() {
        let cases = [
            ("/w/svc", "/w/acme-pack", "../acme-pack"),
            ("/w/out/svc", "/w/packs/acme", "../../packs/acme"),
            ("/w/svc", "/w/svc/pack", "pack"),
            ("/w/./out/../svc", "/w/acme", "../acme"),
            ("/w/svc", "/w/svc", "."),
        ];
        for (from, to, want) in cases {
            assert_eq!(relative_to(Path::new(from), Path::new(to)), want, "{from} -> {to}");
        }
    }
}
