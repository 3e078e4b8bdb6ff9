//! The process's two streams, written the one way dozen writes them: a closed or broken pipe on
//! either (`dozen list | head -1`, a closed terminal) is not an error and never a panic — output
//! stops quietly and the exit code stays the command's own. Nothing else prints.

use std::io::Write;

/// Writes to stderr; a closed or broken stderr is ignored.
pub fn to_stderr(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Writes to stdout; a closed or broken stdout is ignored.
pub fn to_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
