//! heapscope's native addon: the functions `index.js` calls.
//!
//! Data flow, one module per stage:
//! - `trigger`: what asks for a snapshot away from a JS call (signals, thresholds);
//! - [`capture`]: V8 snapshot + serialization on the isolate's thread;
//! - sinks and analysis: in the `heapscope-core` crate, on threads of their own;
//! - this file: N-API exports that turn results into plain JS objects.
//!
//! The V8 boundary is [`v8`]; nothing else calls into V8 or libuv. Errors are
//! returned as data (`ok: false` plus errno details) so that the JS layer can
//! build Node-style errors (`err.code`, `err.syscall`, `err.path`).

#![deny(unsafe_op_in_unsafe_fn)]

mod capture;
mod trigger;
mod v8;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use heapscope_core::naming::{self, NameVars};
use heapscope_core::sink::FileOptions;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use capture::{CaptureError, CaptureOptions, PendingFile};

/// Per-process snapshot counter behind `{seq}`.
static SEQ: AtomicU64 = AtomicU64::new(0);

/// NODE_MODULE_VERSION this binary was compiled for; the loader compares it
/// with `process.versions.modules` because Node does not for N-API modules.
#[napi]
pub fn node_module_version() -> u32 {
    v8::node_module_version()
}

/// The version of the V8 that this addon is talking to.
#[napi]
pub fn v8_version() -> String {
    v8::v8_version()
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
            },
            Err(e) => SnapshotOutcome::failed(path, seq, gzip, failure(&e), pause_ms),
        }
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn failure(error: &CaptureError) -> Failure {
    match error {
        CaptureError::Sink(e) => Failure {
            message: e.to_string(),
            code: e.code().to_string(),
            errno: e.errno(),
            syscall: Some(e.step.syscall().to_string()),
            path: Some(e.path.to_string_lossy().into_owned()),
        },
        CaptureError::V8(_) => Failure {
            message: error.to_string(),
            code: "ERR_HEAPSCOPE_V8".into(),
            errno: 0,
            syscall: None,
            path: None,
        },
        CaptureError::Thread(e) => Failure {
            message: error.to_string(),
            code: "ERR_HEAPSCOPE_THREAD".into(),
            errno: e.raw_os_error().unwrap_or(0),
            syscall: None,
            path: None,
        },
    }
}

fn bad_request(message: String) -> Failure {
    Failure { message, code: "ERR_INVALID_ARG_VALUE".into(), errno: 0, syscall: None, path: None }
}

type Started = std::result::Result<(PathBuf, u64, PendingFile), (PathBuf, u64, Failure)>;

/// Starts a snapshot of the calling thread's isolate; see [`start_capture`].
fn start(request: &SnapshotRequest) -> Started {
    match v8::Isolate::current() {
        Some(isolate) => start_capture(isolate, request),
        None => Err((PathBuf::new(), 0, failure(&CaptureError::V8(v8::SnapshotStatus::NoIsolate)))),
    }
}

/// Resolves the request's file name (template expansion) and runs V8's part
/// of the snapshot. Isolate thread only.
pub(crate) fn start_capture(isolate: v8::Isolate, request: &SnapshotRequest) -> Started {
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) + 1;
    let path = match resolve_path(request, seq) {
        Ok(path) => path,
        Err(message) => return Err((PathBuf::new(), seq, bad_request(message))),
    };
    let options = CaptureOptions {
        expose_internals: request.expose_internals.unwrap_or(false),
        expose_numeric_values: request.expose_numeric_values.unwrap_or(false),
    };
    let pending = capture::write_file(isolate, path.clone(), FileOptions { gzip: request.gzip }, options);
    Ok((path, seq, pending))
}

fn resolve_path(request: &SnapshotRequest, seq: u64) -> std::result::Result<PathBuf, String> {
    let now = SystemTime::now();
    if let Some(path) = &request.path {
        return Ok(PathBuf::from(path));
    }
    let dir = request.dir.as_deref().map(PathBuf::from).unwrap_or_default();
    if request.heapdump_name.unwrap_or(false) {
        return Ok(dir.join(naming::heapdump_default(now)));
    }
    let gz = request.gzip.is_some();
    let default = if gz { "heapscope-{date}-{pid}-{tid}-{seq}.heapsnapshot.gz" } else { "heapscope-{date}-{pid}-{tid}-{seq}.heapsnapshot" };
    let template = request.filename.as_deref().unwrap_or(default);
    let vars = NameVars { pid: std::process::id(), tid: request.thread_id.unwrap_or(0), seq, time: now };
    let name = naming::expand(template, &vars).map_err(|e| e.to_string())?;
    Ok(dir.join(name))
}

/// node-heapdump's path: everything, including fsync and rename, before return.
#[napi(catch_unwind)]
pub fn write_snapshot_sync(request: SnapshotRequest) -> SnapshotOutcome {
    let gzip = request.gzip.is_some();
    match start(&request) {
        Ok((path, seq, pending)) => SnapshotOutcome::settle(&path, seq, gzip, pending),
        Err((path, seq, failure)) => SnapshotOutcome::failed(&path, seq, gzip, failure, 0.0),
    }
}

/// Finishes a snapshot file off the JS thread.
pub struct FinishSnapshot {
    path: PathBuf,
    seq: u64,
    gzip: bool,
    pending: Option<std::result::Result<PendingFile, Failure>>,
}

impl Task for FinishSnapshot {
    type Output = SnapshotOutcome;
    type JsValue = SnapshotOutcome;

    fn compute(&mut self) -> Result<Self::Output> {
        let outcome = match self.pending.take() {
            Some(Ok(pending)) => SnapshotOutcome::settle(&self.path, self.seq, self.gzip, pending),
            Some(Err(failure)) => SnapshotOutcome::failed(&self.path, self.seq, self.gzip, failure, 0.0),
            None => return Err(Error::new(Status::GenericFailure, "snapshot task ran twice")),
        };
        Ok(outcome)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

/// `snapshot()`: V8's part runs now, on this thread; the write finishes on
/// the sink thread and the promise resolves from the libuv pool.
#[napi(catch_unwind)]
pub fn take_snapshot(request: SnapshotRequest) -> AsyncTask<FinishSnapshot> {
    let gzip = request.gzip.is_some();
    let task = match start(&request) {
        Ok((path, seq, pending)) => FinishSnapshot { path, seq, gzip, pending: Some(Ok(pending)) },
        Err((path, seq, failure)) => FinishSnapshot { path, seq, gzip, pending: Some(Err(failure)) },
    };
    AsyncTask::new(task)
}

/// V8's heap statistics for the calling thread's isolate.
#[napi(object)]
pub struct HeapStatistics {
    pub total_heap_size: f64,
    pub used_heap_size: f64,
    pub heap_size_limit: f64,
    pub total_physical_size: f64,
    pub malloced_memory: f64,
    pub external_memory: f64,
}

#[napi]
pub fn heap_statistics() -> Result<HeapStatistics> {
    let isolate = v8::Isolate::current().ok_or_else(|| Error::new(Status::GenericFailure, "no V8 isolate on this thread"))?;
    let s = isolate.heap_statistics();
    Ok(HeapStatistics {
        total_heap_size: s.total_heap_size as f64,
        used_heap_size: s.used_heap_size as f64,
        heap_size_limit: s.heap_size_limit as f64,
        total_physical_size: s.total_physical_size as f64,
        malloced_memory: s.malloced_memory as f64,
        external_memory: s.external_memory as f64,
    })
}

/// Where triggered snapshots go (signal, thresholds): a snapshot request
/// (no exact `path`: each snapshot gets a new name) and whether to be quiet.
#[napi(object)]
pub struct DumpOptions {
    pub request: SnapshotRequest,
    /// No line on stderr.
    pub quiet: Option<bool>,
}

impl DumpOptions {
    fn into_config(self) -> trigger::station::DumpConfig {
        let mut request = self.request;
        request.path = None;
        trigger::station::DumpConfig { request, quiet: self.quiet.unwrap_or(false) }
    }
}

static MAIN_STATION: std::sync::OnceLock<&'static trigger::station::Station> = std::sync::OnceLock::new();

/// Arms the snapshot signal for the main isolate. `notify` hears every
/// triggered snapshot (weakly: it never keeps the process alive).
#[napi(catch_unwind)]
pub fn arm_signal(env: Env, signal: i32, options: DumpOptions, notify: Function<SnapshotOutcome, ()>) -> Result<()> {
    trigger::signal::allowed(signal).map_err(|m| Error::new(Status::InvalidArg, m))?;
    let config = options.into_config();
    let station = match MAIN_STATION.get() {
        Some(station) => {
            station.set_config(config);
            *station
        }
        None => {
            let isolate = v8::Isolate::current().ok_or_else(|| Error::from_reason("no V8 isolate on this thread"))?;
            let tsfn = notify.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
            let uv_loop = env.get_uv_event_loop()?;
            let station = trigger::station::Station::open(isolate, uv_loop.cast(), config, tsfn)
                .ok_or_else(|| Error::from_reason("could not create the libuv async handle"))?;
            let _ = MAIN_STATION.set(station);
            station
        }
    };
    trigger::signal::arm(signal, station).map_err(|e| Error::from_reason(format!("could not install the signal handler: {e}")))
}

/// Puts heapscope's handler back in front after libuv changed the signal's action.
#[napi(catch_unwind)]
pub fn rearm_signal() -> Result<()> {
    trigger::signal::rearm().map_err(|e| Error::from_reason(format!("could not reinstall the signal handler: {e}")))
}

/// Restores the signal's previous handler.
#[napi(catch_unwind)]
pub fn disarm_signal() {
    trigger::signal::disarm();
}
