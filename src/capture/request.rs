//! A snapshot request and its outcome: where the file goes (templates,
//! node-heapdump's name), how it is written, and what JS is told about it,
//! success or failure. Every entry point (a JS call, a trigger) starts a
//! capture through [`start_capture`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use heapscope_core::naming::{self, NameVars, TemplateError};
use heapscope_core::sink::FileOptions;
use napi_derive::napi;

use super::{CaptureError, CaptureOptions, PendingFile};
use crate::v8;

/// Per-process snapshot counter behind `{seq}`.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// The next `{seq}`, from 1.
pub fn next_seq() -> u64 {
    SEQ.fetch_add(1, Ordering::Relaxed) + 1
}

/// Where to write and what to ask V8 for.
#[napi(object)]
#[derive(Clone)]
pub struct SnapshotRequest {
    /// Exact path; when absent, `dir` + `filename` template.
    pub path: Option<String>,
    pub dir: Option<String>,
    pub filename: Option<String>,
    /// The calling thread's `worker_threads.threadId`, for `{tid}`.
    pub thread_id: Option<u32>,
    /// gzip level 0–9; absent writes plain JSON.
    pub gzip: Option<u32>,
    pub expose_internals: Option<bool>,
    pub expose_numeric_values: Option<bool>,
    /// Use node-heapdump's default file name when no path is given.
    pub heapdump_name: Option<bool>,
    /// Replace the heap's strings in the file as V8 streams it.
    pub redact: Option<bool>,
    /// What asked for the snapshot, for `{trigger}`: `api` when absent.
    pub trigger: Option<String>,
    /// Write the sampling heap profile (when sampling) beside the snapshot.
    pub profile: Option<bool>,
}

/// A failure, with what Node's own errors carry.
#[napi(object)]
#[derive(Clone)]
pub struct Failure {
    pub message: String,
    /// `ENOSPC`, `EACCES`, … or `ERR_HEAPSCOPE_*` for non-system failures.
    pub code: String,
    pub errno: i32,
    pub syscall: Option<String>,
    pub path: Option<String>,
}

/// What redaction replaced in a file: entries of its string table, the bytes
/// they held, and how many of them were keys (dictionaries', Maps').
#[napi(object)]
#[derive(Clone)]
pub struct Redacted {
    pub strings: f64,
    pub bytes: f64,
    pub keys: f64,
}

/// The result of a snapshot request, success or failure.
#[napi(object)]
#[derive(Clone)]
pub struct SnapshotOutcome {
    pub ok: bool,
    pub path: String,
    pub bytes: f64,
    pub raw_bytes: f64,
    pub pause_ms: f64,
    pub duration_ms: f64,
    pub heap_used: f64,
    pub seq: f64,
    pub compressed: bool,
    /// Set for triggered snapshots: `signal`, `threshold`, `near-limit`.
    pub trigger: Option<String>,
    pub error: Option<Failure>,
    /// Temporary files of writers that died (killed mid-write), removed from
    /// the directory before this one was written.
    pub reclaimed: Vec<String>,
    /// Set when the file was redacted.
    pub redacted: Option<Redacted>,
    /// The `.heapprofile` written beside it, when asked for while sampling.
    pub profile: Option<String>,
    /// Why that profile could not be written (the snapshot itself was).
    pub profile_error: Option<String>,
}

impl SnapshotOutcome {
    pub(crate) fn failed(path: &Path, seq: u64, gzip: bool, error: Failure, pause_ms: f64) -> SnapshotOutcome {
        SnapshotOutcome {
            ok: false,
            path: path.to_string_lossy().into_owned(),
            bytes: 0.0,
            raw_bytes: 0.0,
            pause_ms,
            duration_ms: 0.0,
            heap_used: 0.0,
            seq: seq as f64,
            compressed: gzip,
            trigger: None,
            error: Some(error),
            reclaimed: Vec::new(),
            redacted: None,
            profile: None,
            profile_error: None,
        }
    }

    /// Waits for `pending` and reports how it ended.
    pub(crate) fn settle(path: &Path, seq: u64, gzip: bool, pending: PendingFile) -> SnapshotOutcome {
        let pause_ms = ms(pending.pause());
        match pending.wait() {
            Ok(c) => SnapshotOutcome {
                ok: true,
                path: c.written.path.to_string_lossy().into_owned(),
                bytes: c.written.bytes as f64,
                raw_bytes: c.written.raw_bytes as f64,
                pause_ms: ms(c.pause),
                duration_ms: ms(c.duration),
                heap_used: c.heap_used as f64,
                seq: seq as f64,
                compressed: gzip,
                trigger: None,
                error: None,
                reclaimed: c.written.reclaimed.iter().map(|p| p.to_string_lossy().into_owned()).collect(),
                redacted: c.written.redaction.map(|r| Redacted {
                    strings: r.strings as f64,
                    bytes: r.bytes as f64,
                    keys: r.keys as f64,
                }),
                profile: None,
                profile_error: None,
            },
            Err(e) => SnapshotOutcome::failed(path, seq, gzip, failure(&e), pause_ms),
        }
    }
}

pub fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn failure(error: &CaptureError) -> Failure {
    match error {
        CaptureError::Sink(e) => Failure {
            message: e.to_string(),
            code: e.code().to_string(),
            errno: e.errno(),
            syscall: Some(e.step.syscall().to_string()),
            path: Some(e.path.to_string_lossy().into_owned()),
        },
        CaptureError::V8(_) => {
            Failure { message: error.to_string(), code: "ERR_HEAPSCOPE_V8".into(), errno: 0, syscall: None, path: None }
        }
        CaptureError::Thread(e) => Failure {
            message: error.to_string(),
            code: "ERR_HEAPSCOPE_THREAD".into(),
            errno: e.raw_os_error().unwrap_or(0),
            syscall: None,
            path: None,
        },
    }
}

/// A file name template that does not expand: the caller's mistake.
pub fn bad_request(error: TemplateError) -> Failure {
    Failure { message: error.to_string(), code: "ERR_INVALID_ARG_VALUE".into(), errno: 0, syscall: None, path: None }
}

/// A capture under way, or the failure that stopped it before it began;
/// either way it settles into one [`SnapshotOutcome`]. `settle` waits for
/// the file, so it belongs off the JS thread unless the caller must wait.
pub struct Capture {
    pub path: PathBuf,
    pub seq: u64,
    gzip: bool,
    started: std::result::Result<PendingFile, Failure>,
    /// The sampling profile read right after V8's part, to write beside the file.
    profile: Option<Vec<v8::Site>>,
}

impl Capture {
    /// A file someone else produced (the fallback's `SnapshotFile`), or the
    /// reason it could not be.
    pub fn of(path: PathBuf, seq: u64, gzip: bool, started: std::result::Result<PendingFile, Failure>) -> Capture {
        Capture { path, seq, gzip, started, profile: None }
    }

    /// Whether V8's part ran and a file is being finished.
    pub fn is_started(&self) -> bool {
        self.started.is_ok()
    }

    pub fn settle(self) -> SnapshotOutcome {
        let mut outcome = match self.started {
            Ok(pending) => SnapshotOutcome::settle(&self.path, self.seq, self.gzip, pending),
            Err(failure) => return SnapshotOutcome::failed(&self.path, self.seq, self.gzip, failure, 0.0),
        };
        write_profile_beside(&mut outcome, self.profile);
        outcome
    }
}

/// Writes a sampling profile beside a written snapshot and says so in its
/// outcome (or why not); nothing when not sampling. Any thread.
pub fn write_profile_beside(outcome: &mut SnapshotOutcome, sites: Option<Vec<v8::Site>>) {
    let (true, Some(sites)) = (outcome.ok, sites) else { return };
    match heapscope_core::profile::chrome_json(&sites) {
        Some(json) => match heapscope_core::profile::write_beside(Path::new(&outcome.path), &json) {
            Ok(path) => outcome.profile = Some(path.to_string_lossy().into_owned()),
            Err(e) => outcome.profile_error = Some(e.to_string()),
        },
        None => outcome.profile_error = Some("V8's allocation profile was not a tree".into()),
    }
}

/// Starts a snapshot of the calling thread's isolate; see [`start_capture`].
pub fn start(request: &SnapshotRequest) -> Capture {
    match v8::Isolate::current() {
        Some(isolate) => start_capture(isolate, request, None),
        None => Capture::of(
            PathBuf::new(),
            0,
            request.gzip.is_some(),
            Err(failure(&CaptureError::V8(v8::SnapshotStatus::NoIsolate))),
        ),
    }
}

/// Resolves the request's file name (template expansion) and runs V8's part
/// of the snapshot. Isolate thread only.
pub fn start_capture(
    isolate: v8::Isolate,
    request: &SnapshotRequest,
    feed: Option<crossbeam_channel::Sender<heapscope_core::sink::Chunk>>,
) -> Capture {
    let seq = next_seq();
    let gzip = request.gzip.is_some();
    let path = match resolve_path(request, seq) {
        Ok(path) => path,
        Err(error) => return Capture::of(PathBuf::new(), seq, gzip, Err(bad_request(error))),
    };
    let pending = super::write_file(isolate, path.clone(), file_options(request), capture_options(request), feed);
    // Right after V8's part, on its thread: the live samples as the snapshot saw them.
    let profile = if request.profile.unwrap_or(false) { isolate.sampling_profile() } else { None };
    Capture { profile, ..Capture::of(path, seq, gzip, Ok(pending)) }
}

/// How the file is written: a name the caller gave (a path, or a file name
/// of its own) may be a special file of the caller's, written in place;
/// default names (node-heapdump's, heapscope's, the signal's) never are.
pub fn file_options(request: &SnapshotRequest) -> FileOptions {
    let named = request.path.is_some() || (request.filename.is_some() && !request.heapdump_name.unwrap_or(false));
    FileOptions { gzip: request.gzip, explicit: named, redact: request.redact.unwrap_or(false) }
}

pub fn capture_options(request: &SnapshotRequest) -> CaptureOptions {
    CaptureOptions {
        expose_internals: request.expose_internals.unwrap_or(false),
        expose_numeric_values: request.expose_numeric_values.unwrap_or(false),
    }
}

pub fn resolve_path(request: &SnapshotRequest, seq: u64) -> std::result::Result<PathBuf, TemplateError> {
    let now = SystemTime::now();
    if let Some(path) = &request.path {
        return Ok(PathBuf::from(path));
    }
    let gz = request.gzip.is_some();
    if request.heapdump_name.unwrap_or(false) {
        // node-heapdump's name, relative when no directory is given (its
        // callback gets it so), hence in the working directory of this moment.
        let name = naming::heapdump_default(now);
        let name = if gz { format!("{name}.gz") } else { name };
        return Ok(request.dir.as_deref().map_or_else(|| PathBuf::from(&name), |dir| Path::new(dir).join(&name)));
    }
    // No directory: the working directory of this moment.
    let dir = match request.dir.as_deref() {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_dir().unwrap_or_default(),
    };
    let default = if gz {
        "heapscope-{date}-{pid}-{tid}-{seq}.heapsnapshot.gz"
    } else {
        "heapscope-{date}-{pid}-{tid}-{seq}.heapsnapshot"
    };
    let template = request.filename.as_deref().unwrap_or(default);
    let vars = NameVars {
        pid: std::process::id(),
        tid: request.thread_id.unwrap_or(0),
        seq,
        time: now,
        hostname: naming::hostname(),
        trigger: request.trigger.as_deref().unwrap_or("api"),
    };
    let name = naming::expand(template, &vars)?;
    Ok(dir.join(name))
}
