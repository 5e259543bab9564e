//! heapscope-core: everything of heapscope that needs neither V8 nor N-API.
//!
//! Stages of the data flow that live here, in order:
//! - [`sink`]: where a snapshot's JSON chunks go — files written safely
//!   (temporary name, checked writes, fsync, rename, mode 0600), optionally
//!   gzip-compressed, each on a thread of its own behind a bounded channel;
//! - [`naming`]: file names from templates (`{pid}`, `{seq}`, `{date}` …).
//!
//! Being free of V8, all of it is tested with plain `cargo test`.

pub mod naming;
pub mod sink;
