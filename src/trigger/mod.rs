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
