//! Triggers: what asks for a snapshot other than a direct JS call.
//!
//! Every trigger ends at a [`station::Station`], which brings the request to
//! the isolate's own thread; the triggers themselves run on other threads or
//! in signal context and never touch V8 directly.

pub mod event;
pub mod gc_samples;
pub mod near_limit;
pub mod signal;
pub mod station;
pub mod watch;

use std::fmt;

/// Why a trigger could not be armed. JS gets its message, as a typed error
/// (`ERR_INVALID_ARG_VALUE` for a signal it may not take, else `ERR_HEAPSCOPE_*`).
#[derive(Debug)]
pub enum ArmError {
    /// SIGUSR1: Node's inspector starts on it.
    InspectorSignal,
    /// A signal that is fatal, uncatchable or means shutdown.
    UnusableSignal(i32),
    /// V8 would not take a GC callback (no shim, or the isolate is going away).
    GcCallback,
    /// A thread the trigger needs did not start.
    Thread { name: &'static str, source: std::io::Error },
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArmError::InspectorSignal => {
                f.write_str("SIGUSR1 belongs to Node's inspector (node --inspect, kill -USR1 starts it); use SIGUSR2")
            }
            ArmError::UnusableSignal(signum) => write!(
                f,
                "signal {signum} cannot be used for snapshots: it is fatal, uncatchable or means shutdown; use SIGUSR2"
            ),
            ArmError::GcCallback => f.write_str("could not register a GC callback"),
            ArmError::Thread { name, source } => write!(f, "could not start the {name} thread: {source}"),
        }
    }
}

impl std::error::Error for ArmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ArmError::Thread { source, .. } => Some(source),
            _ => None,
        }
    }
}
