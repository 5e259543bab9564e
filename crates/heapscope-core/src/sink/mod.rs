//! Sinks: consumers of a snapshot's JSON chunk stream.
//!
//! V8 serializes on the isolate's thread; every sink runs on a thread of its
//! own, fed through a bounded channel so a slow disk holds back the producer
//! instead of growing memory. A stream is complete only when the producer says
//! so ([`SinkThread::finish`]); a producer that gives up ([`SinkThread::abort`])
//! or disappears makes every sink discard what it wrote.

pub mod errno;
mod feed;
mod file;
mod redact;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Sender};

pub use feed::{feed, ChunkReader};
pub use file::{reclaim_dead_partials_in, FileOptions, FileSink, Written};
pub use redact::{RedactError, Redaction, Redactor};

/// One chunk of snapshot JSON, shared by every sink that reads it.
pub type Chunk = Arc<[u8]>;

/// The step of writing a file that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Open,
    Write,
    Sync,
    Close,
    Rename,
}

impl Step {
    /// The system call, as Node names it in `err.syscall`.
    pub fn syscall(self) -> &'static str {
        match self {
            Step::Open => "open",
            Step::Write => "write",
            Step::Sync => "fsync",
            Step::Close => "close",
            Step::Rename => "rename",
        }
    }
}

/// A failure to write a snapshot file: which step, which path, which errno.
#[derive(Debug)]
pub struct SinkError {
    pub step: Step,
    pub path: PathBuf,
    pub source: io::Error,
}

impl SinkError {
    pub(crate) fn new(step: Step, path: &Path, source: io::Error) -> SinkError {
        SinkError { step, path: path.to_path_buf(), source }
    }

    /// The raw errno, 0 when the failure was not a system error.
    pub fn errno(&self) -> i32 {
        self.source.raw_os_error().unwrap_or(0)
    }

    /// `ENOSPC`, `EACCES`, … as in Node's `err.code`.
    pub fn code(&self) -> &'static str {
        match self.source.raw_os_error() {
            Some(errno) => errno::name(errno),
            None => "EIO",
        }
    }
}

impl fmt::Display for SinkError {
    /// Node's shape: `ENOSPC: no space left on device, write '/x.heapsnapshot'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.source.to_string();
        let text = match text.find(" (os error") {
            Some(at) => &text[..at],
            None => &text,
        };
        let mut chars = text.chars();
        let first = chars.next().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
        write!(f, "{}: {first}{}, {} '{}'", self.code(), chars.as_str(), self.step.syscall(), self.path.display())
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A consumer of the chunk stream.
pub trait Sink: Send + 'static {
    type Output: Send + 'static;
    type Error: Send + 'static;
    fn write(&mut self, chunk: &[u8]) -> Result<(), Self::Error>;
    /// The stream ended complete: make the result durable and visible.
    fn finish(self) -> Result<Self::Output, Self::Error>;
    /// The stream will not be completed: undo everything (dropping does this too).
    fn abort(self);
}

enum Message {
    Chunk(Chunk),
    End,
}

/// What a sink thread ended with.
#[derive(Debug)]
pub enum Outcome<O, E> {
    Done(O),
    Failed(E),
    /// The producer aborted; the sink discarded its work.
    Aborted,
}

/// A sink running on its own thread.
pub struct SinkThread<O, E> {
    tx: Option<Sender<Message>>,
    failed: Arc<AtomicBool>,
    join: Option<JoinHandle<Outcome<O, E>>>,
}

impl<O: Send + 'static, E: Send + 'static> SinkThread<O, E> {
    /// Starts `sink` on a thread; at most `capacity` chunks wait in between.
    pub fn spawn<S: Sink<Output = O, Error = E>>(name: &str, sink: S, capacity: usize) -> io::Result<Self> {
        let (tx, rx) = bounded::<Message>(capacity.max(1));
        let failed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&failed);
        let join = std::thread::Builder::new().name(name.to_string()).spawn(move || {
            let mut sink = sink;
            loop {
                match rx.recv() {
                    Ok(Message::Chunk(chunk)) => {
                        if let Err(e) = sink.write(&chunk) {
                            flag.store(true, Ordering::Release);
                            sink.abort();
                            return Outcome::Failed(e);
                        }
                    }
                    Ok(Message::End) => {
                        return match sink.finish() {
                            Ok(out) => Outcome::Done(out),
                            Err(e) => {
                                flag.store(true, Ordering::Release);
                                Outcome::Failed(e)
                            }
                        };
                    }
                    Err(_) => {
                        sink.abort();
                        return Outcome::Aborted;
                    }
                }
            }
        })?;
        Ok(SinkThread { tx: Some(tx), failed, join: Some(join) })
    }

    /// Queues a chunk, blocking while the queue is full. `false` once the sink
    /// has failed: the producer should stop.
    pub fn send(&self, chunk: Chunk) -> bool {
        if self.failed.load(Ordering::Acquire) {
            return false;
        }
        match &self.tx {
            Some(tx) => tx.send(Message::Chunk(chunk)).is_ok(),
            None => false,
        }
    }

    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Marks the stream complete without waiting for the sink to finish.
    pub fn end(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Message::End);
        }
    }

    /// Abandons the stream; the sink discards its work.
    pub fn abort(&mut self) {
        self.tx = None;
    }

    /// Waits for the sink's outcome. Call [`end`](Self::end) or
    /// [`abort`](Self::abort) first; otherwise this aborts.
    pub fn join(mut self) -> Outcome<O, E> {
        self.tx = None;
        match self.join.take().map(JoinHandle::join) {
            Some(Ok(outcome)) => outcome,
            // The sink panicked; its Drop has cleaned up what it could.
            _ => Outcome::Aborted,
        }
    }

    /// Completes the stream and waits for the result.
    pub fn finish(mut self) -> Outcome<O, E> {
        self.end();
        self.join()
    }
}

impl<O, E> Drop for SinkThread<O, E> {
    fn drop(&mut self) {
        // Disconnect first so the thread sees an aborted stream, then wait so
        // no half-written file outlives its owner.
        self.tx = None;
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}
