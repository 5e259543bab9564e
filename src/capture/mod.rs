//! Capture: takes a heap snapshot on the isolate's thread and streams its JSON
//! to sink threads.
//!
//! The isolate thread only runs V8's graph building and serialization and
//! copies each 64 KiB chunk into a bounded channel; writing, compressing and
//! fsyncing happen on the sink's thread, and the final wait can happen on any
//! thread ([`PendingFile::wait`]). One snapshot at a time per process: a
//! second request waits, because two snapshots at once double the memory spike.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use heapscope_core::sink::{Chunk, FileOptions, FileSink, Outcome, SinkError, SinkThread, Written};

use crate::v8::{Isolate, SnapshotStatus};

mod request;
pub use request::{
    bad_request, capture_options, failure, file_options, ms, next_seq, resolve_path, start, start_capture,
    write_profile_beside, Capture, Failure, SnapshotOutcome, SnapshotRequest,
};

/// Chunks in flight between V8 and a sink: 32 × 64 KiB = 2 MiB at most.
const CHANNEL_CHUNKS: usize = 32;

/// Chunks in flight between V8 and an analysis reading the stream: 1024 ×
/// 64 KiB = 64 MiB at most. The parser keeps up on average but falls behind
/// in bursts (up to 33 MiB on Node 24, a 190 MB snapshot), and V8 must not
/// wait on it: with 2 MiB it waited 18–261 ms in the pause.
pub const FEED_CHUNKS: usize = 1024;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Snapshots whose V8 part is running now, in any isolate.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// Counts finished V8 parts: thresholds that watch RSS use it to tell a
/// snapshot's own memory spike from the application's growth.
static EPOCH: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread is inside V8's snapshot code (GC callbacks run there too).
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
}

/// Whether a snapshot is being taken on the calling thread: a callback that
/// V8 runs from inside the snapshot (a GC, the near-heap-limit callback) must
/// not start another one.
pub fn capturing_on_this_thread() -> bool {
    CAPTURING.with(Cell::get)
}

/// Whether any snapshot's V8 part is running, and how many have finished.
pub fn activity() -> (bool, u64) {
    (RUNNING.load(Ordering::Acquire) > 0, EPOCH.load(Ordering::Acquire))
}

/// What V8 is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaptureOptions {
    pub expose_internals: bool,
    pub expose_numeric_values: bool,
}

/// Why a snapshot was not written.
#[derive(Debug)]
pub enum CaptureError {
    Sink(SinkError),
    /// V8 returned no snapshot, or there was no isolate on this thread.
    V8(SnapshotStatus),
    /// The sink thread could not be started.
    Thread(std::io::Error),
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureError::Sink(e) => e.fmt(f),
            CaptureError::V8(status) => write!(f, "V8 did not produce a heap snapshot ({status:?})"),
            CaptureError::Thread(e) => write!(f, "could not start the writer thread: {e}"),
        }
    }
}

/// Figures of a finished snapshot file.
#[derive(Debug, Clone)]
pub struct Captured {
    pub written: Written,
    /// Time the isolate's thread was blocked.
    pub pause: Duration,
    /// From the request to the file under its final name.
    pub duration: Duration,
    /// V8's used heap just before the snapshot.
    pub heap_used: u64,
}

/// A snapshot whose JSON has all been produced, still being written.
pub struct PendingFile {
    started: Instant,
    pause: Duration,
    heap_used: u64,
    state: Result<SinkThread<Written, SinkError>, CaptureError>,
}

impl PendingFile {
    /// A request that failed before anything ran.
    pub fn failed(error: CaptureError) -> PendingFile {
        PendingFile { started: Instant::now(), pause: Duration::ZERO, heap_used: 0, state: Err(error) }
    }

    pub fn pause(&self) -> Duration {
        self.pause
    }

    /// Blocks until the file is durable under its final name (or removed).
    pub fn wait(self) -> Result<Captured, CaptureError> {
        let thread = self.state?;
        let outcome = thread.join();
        heapscope_core::allocator::return_free_memory();
        match outcome {
            Outcome::Done(written) => {
                Ok(Captured { written, pause: self.pause, duration: self.started.elapsed(), heap_used: self.heap_used })
            }
            Outcome::Failed(e) => Err(CaptureError::Sink(e)),
            // Only reachable when V8 stopped early; `write_file` reports that.
            Outcome::Aborted => Err(CaptureError::V8(SnapshotStatus::Aborted)),
        }
    }
}

/// A snapshot file open for chunks, whoever produces them: V8 through the
/// shim ([`write_file`]) or, without a shim, Node's own snapshot stream handed
/// over from JS. `feed`, when given, gets every chunk too (an analysis reading
/// the stream); if it stops reading, the file still completes.
pub struct Delivery {
    started: Instant,
    thread: SinkThread<Written, SinkError>,
    feed: Option<Sender<Chunk>>,
}

impl Delivery {
    /// Creates the temporary file and starts its writer thread.
    pub fn begin(
        path: &std::path::Path,
        file: FileOptions,
        feed: Option<Sender<Chunk>>,
    ) -> Result<Delivery, CaptureError> {
        let started = Instant::now();
        let sink = FileSink::create(path, file).map_err(CaptureError::Sink)?;
        let thread = SinkThread::spawn("heapscope-writer", sink, CHANNEL_CHUNKS).map_err(CaptureError::Thread)?;
        Ok(Delivery { started, thread, feed })
    }

    /// Hands one chunk on; `false` once the file's sink has failed.
    pub fn deliver(&mut self, chunk: Chunk) -> bool {
        if self.feed.as_ref().is_some_and(|tx| tx.send(Arc::clone(&chunk)).is_err()) {
            self.feed = None;
        }
        self.thread.send(chunk)
    }

    /// Ends the stream as the producer says it ended: a complete stream is
    /// finished by the writer (fsync, rename); anything else removes the file.
    pub fn finish(self, status: SnapshotStatus, pause: Duration, heap_used: u64) -> PendingFile {
        let Delivery { started, mut thread, feed } = self;
        // Dropping the sender ends the feed's stream.
        drop(feed);
        let state = match status {
            SnapshotStatus::Complete => {
                thread.end();
                Ok(thread)
            }
            // The sink failed: its error is the story, and it already cleaned up.
            SnapshotStatus::Aborted if thread.has_failed() => Ok(thread),
            other => {
                thread.abort();
                drop(thread);
                Err(CaptureError::V8(other))
            }
        };
        PendingFile { started, pause, heap_used, state }
    }
}

/// Takes a snapshot of `isolate` into `path`. Isolate thread only. Returns
/// once V8 is done; the rest of the write finishes on the sink's thread.
pub fn write_file(
    isolate: Isolate,
    path: PathBuf,
    file: FileOptions,
    options: CaptureOptions,
    feed: Option<Sender<Chunk>>,
) -> PendingFile {
    let mut delivery = match Delivery::begin(&path, file, feed) {
        Ok(delivery) => delivery,
        Err(e) => return PendingFile::failed(e),
    };
    let (status, pause, heap_used) = stream(isolate, options, &mut |chunk| delivery.deliver(chunk));
    delivery.finish(status, pause, heap_used)
}

/// What a snapshot streamed only to a feed did.
pub struct Fed {
    pub status: SnapshotStatus,
    pub pause: Duration,
    pub heap_used: u64,
    pub raw_bytes: u64,
}

/// Takes a snapshot of `isolate` and hands its chunks to `feed` only (no
/// file). Isolate thread only. V8 stops early if the feed stops reading.
pub fn feed_only(isolate: Isolate, options: CaptureOptions, feed: Sender<Chunk>) -> Fed {
    let mut raw_bytes = 0u64;
    let (status, pause, heap_used) = stream(isolate, options, &mut |chunk| {
        raw_bytes += chunk.len() as u64;
        feed.send(chunk).is_ok()
    });
    drop(feed);
    Fed { status, pause, heap_used, raw_bytes }
}

/// Runs V8's snapshot and serializer, handing each chunk to `deliver`
/// (`false` stops V8). Returns the status, the pause and the heap used before.
pub fn stream(
    isolate: Isolate,
    options: CaptureOptions,
    deliver: &mut dyn FnMut(Chunk) -> bool,
) -> (SnapshotStatus, Duration, u64) {
    // A poisoned lock only means an earlier capture panicked; the guard
    // protects no data, so carry on.
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let heap_used = isolate.heap_statistics().used_heap_size;
    let start = Instant::now();
    RUNNING.fetch_add(1, Ordering::AcqRel);
    CAPTURING.with(|c| c.set(true));
    let status = isolate.write_snapshot(options.expose_internals, options.expose_numeric_values, &mut |bytes| {
        deliver(Arc::from(bytes))
    });
    CAPTURING.with(|c| c.set(false));
    EPOCH.fetch_add(1, Ordering::AcqRel);
    RUNNING.fetch_sub(1, Ordering::AcqRel);
    (status, start.elapsed(), heap_used)
}
