//! SIGINT and SIGTERM set one process-wide flag instead of killing the process, so long work
//! stops at its next cancel check and temp files are removed on the way out. A second signal
//! ends the process at once (a later run removes its temp files).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn shared() -> &'static Arc<AtomicBool> {
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// The flag the handlers set; pass it as the cancel flag of a [`crate::progress::Progress`].
pub fn flag() -> &'static AtomicBool {
    shared()
}

pub fn interrupted() -> bool {
    shared().load(Ordering::Relaxed)
}

static TERM: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn term() -> &'static Arc<AtomicBool> {
    TERM.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// The exit status of a command stopped by a signal, as shells give it: 130 for Ctrl-C
/// (SIGINT), 143 for SIGTERM.
pub fn exit_code() -> i32 {
    if term().load(Ordering::Relaxed) {
        143
    } else {
        130
    }
}

/// Installs the handlers (command-line use; the viewer keeps the default behaviour).
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    for (sig, code) in [(SIGINT, 130), (SIGTERM, 143)] {
        // Registered first so that it sees the flag as it was before this signal.
        flag::register_conditional_shutdown(sig, code, Arc::clone(shared()))?;
        flag::register(sig, Arc::clone(shared()))?;
    }
    flag::register(SIGTERM, Arc::clone(term()))?;
    Ok(())
}

#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}
