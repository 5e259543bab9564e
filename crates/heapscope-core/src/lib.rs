//! heapscope-core: everything of heapscope that needs neither V8 nor N-API.
//!
//! Stages of the data flow that live here, in order:
//! - [`sink`]: where a snapshot's JSON chunks go — files written safely
//!   (temporary name, checked writes, fsync, rename, mode 0600), optionally
//!   gzip-compressed, each on a thread of its own behind a bounded channel;
//! - [`naming`]: file names from templates (`{pid}`, `{seq}`, `{date}` …);
//! - [`retention`]: at most N files / M bytes of snapshots per directory;
//! - [`gate`]: when a watcher's threshold crossing becomes a snapshot;
//! - [`snapshot`]: the `.heapsnapshot` reader, its graph, and the analyses
//!   that give Chrome DevTools' numbers;
//! - [`memory`]: process RSS, machine and container (cgroup) memory, which
//!   thresholds watch and the preflight checks before a snapshot.
//!
//!
//! Beside them, [`allocator`]: the global allocator heapscope's binaries
//! use, which gives big arrays back to the kernel as soon as they are freed;
//! [`fd`]: opening what may be a FIFO without waiting on its other end; and
//! [`priority`]: analysis on threads of the lowest CPU priority.
//!
//! Being free of V8, all of it is tested with plain `cargo test`.

pub mod allocator;
pub mod fd;
pub mod gate;
pub mod memory;
pub mod naming;
pub mod priority;
pub mod profile;
pub mod retention;
pub mod sink;
pub mod snapshot;
