//! Reading files dozen did not write — pack files, `--answers`, the user config, a project's
//! working tree — under one rule: only regular files are read (a FIFO would block forever, a
//! device like `/dev/zero` would never end), and never more than a limit, checked before reading
//! and enforced while reading (a file may grow in between).

use std::io::Read;
use std::path::Path;

/// The most an answers file, the user config or a project's record may hold.
pub const FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// The most one file of a pack (or of a working tree being updated) may hold.
pub const PACK_FILE_LIMIT: u64 = 1024 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug)]
pub enum Refusal {
    /// It is not a regular file (what it is instead).
    NotRegular(&'static str),
    /// It holds more than the limit.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Reading failed.
    Io(std::io::Error),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            Refusal::TooLarge { limit } => write!(f, "it is larger than {} MiB", limit / (1024 * 1024)),
            Refusal::Io(err) => write!(f, "{err}"),
        }
    }
}

/// The 1-based line of a byte offset in `text`, for `file:line` in messages.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// What kind of non-regular file `meta` describes.
pub fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Refusal> {
    let meta = std::fs::metadata(path).map_err(Refusal::Io)?;
    if !meta.is_file() {
        return Err(Refusal::NotRegular(kind(&meta)));
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(Refusal::Io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(Refusal::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooLarge { limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::{Refusal, read_regular};

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.toml");
        std::fs::write(&file, "x = 1").unwrap();
        assert_eq!(read_regular(&file, 100).unwrap(), b"x = 1");
        assert!(matches!(read_regular(&file, 3), Err(Refusal::TooLarge { limit: 3 })));
        assert!(matches!(read_regular(dir.path(), 100), Err(Refusal::NotRegular("a directory"))));
        #[cfg(unix)]
        {
            assert!(matches!(
                read_regular(std::path::Path::new("/dev/zero"), 100),
                Err(Refusal::NotRegular("a device"))
            ));
            let fifo = dir.path().join("fifo");
            assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
            assert!(matches!(read_regular(&fifo, 100), Err(Refusal::NotRegular("a FIFO"))));
        }
    }
}
