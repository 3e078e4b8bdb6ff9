//! Signals: SIGINT, SIGTERM and SIGHUP are caught by one process-wide handler, installed before
//! the first side effect of a command, and turned into a flag that the writer and the git fetcher
//! check between steps — so Ctrl-C, a closed terminal or a `kill` never leaves a half-written
//! project or a stray clone behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Set by SIGINT, SIGTERM or SIGHUP; checked between steps. One handler for the whole process,
/// shared by the writer and the git fetcher.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

/// The process-wide flag, registered once.
static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();

impl Interrupt {
    /// Registers SIGINT, SIGTERM and SIGHUP (once per process) to set the flag instead of killing
    /// the process, and returns a handle on it.
    pub fn install() -> Interrupt {
        Interrupt(Arc::clone(FLAG.get_or_init(|| {
            let flag = Arc::new(AtomicBool::new(false));
            #[cfg(unix)]
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
                // Failure to register only means a signal kills the process the default way.
                let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
            }
            flag
        })))
    }

    /// The shared flag itself, for code that polls it while waiting on a child process.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }

    /// Whether a signal arrived.
    pub fn raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once a signal arrived.
    pub fn check(&self) -> Result<()> {
        if self.raised() { Err(Error::Cancelled) } else { Ok(()) }
    }
}
