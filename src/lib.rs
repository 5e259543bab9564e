//! heapscope's native addon: the functions `index.js` calls.
//!
//! Data flow, one folder per stage, each importing only the stages below it:
//! - `trigger`: what asks for a snapshot away from a JS call (signals,
//!   thresholds, the heap limit), through one station per isolate, and the
//!   events it tells JS;
//! - [`capture`]: requests and their outcomes, V8 snapshot + serialization
//!   on the isolate's thread, chunks streamed to sinks;
//! - [`v8`]: the V8 boundary, the only code that calls into V8 or libuv;
//! - sinks and analysis: in the `heapscope-core` crate, on threads of their
//!   own; `analysis` runs them for JS.
//!
//! This file holds the N-API exports that connect them to JavaScript.
//! Errors are returned as data (`ok: false` plus errno details) so that the
//! JS layer can build Node-style errors (`err.code`, `err.syscall`, `err.path`).

#![deny(unsafe_op_in_unsafe_fn)]
// The N-API exports are called from JavaScript only; a test build has none.
#![cfg_attr(test, allow(dead_code))]

mod analysis;
mod capture;
mod pool;
mod trigger;
mod v8;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use heapscope_core::gate::Gate;
use heapscope_core::memory::Cgroup;
use heapscope_core::retention::Policy;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use capture::{
    bad_request, capture_options, failure, file_options, ms, next_seq, resolve_path, start, start_capture, Capture,
    CaptureError, Failure, SnapshotOutcome, SnapshotRequest,
};
use heapscope_core::priority::LowerAtEnd;
use pool::{on_pool, PoolWork};
use trigger::event::TriggerEvent;
use trigger::station::{DumpConfig, Station};

/// Big analysis arrays go back to the kernel when freed (see the module);
/// the host's own malloc is not touched.
#[global_allocator]
static ALLOCATOR: heapscope_core::allocator::PageAllocator = heapscope_core::allocator::PageAllocator;

/// A V8 shim the addon talks to.
#[napi(object)]
pub struct ShimLoaded {
    /// NODE_MODULE_VERSION of the headers the shim was compiled against.
    pub node_module_version: u32,
    /// The version of the V8 inside the running `node`, as the shim sees it.
    pub v8_version: String,
}

/// Loads the V8 shim at `path`, which must have been built for Node ABI
/// `abi` (the loader passes `process.versions.modules`: Node does not check
/// ABIs for Node-API modules). Throws with the file and the reason when it
/// cannot be used; a second call returns the shim already loaded.
#[napi(catch_unwind)]
pub fn load_shim(path: String, abi: u32) -> Result<ShimLoaded> {
    let info = v8::load_shim(&path, abi).map_err(|e| Error::from_reason(e.to_string()))?;
    Ok(ShimLoaded { node_module_version: info.node_module_version, v8_version: info.v8_version })
}

/// A site of the sampling heap profile as JS gets it: a JS frame and the live
/// sampled memory allocated right there (lib/sampling.js builds the tree).
#[napi(object)]
pub struct SampledSite {
    /// The caller's index in this list; -1 for the root.
    pub parent: i32,
    pub function_name: String,
    pub url: String,
    pub script_id: i32,
    /// 1-based; 0 when V8 has none.
    pub line: i32,
    pub column: i32,
    pub self_size: f64,
    pub self_count: f64,
}

fn sampling_isolate() -> Result<v8::Isolate> {
    v8::Isolate::current().ok_or_else(|| Error::from_reason("the sampling heap profiler needs the V8 shim"))
}

thread_local! {
    /// This thread's environment has a cleanup hook that stops sampling.
    static SAMPLING_HOOKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Starts V8's sampling heap profiler on the calling thread's isolate, and
/// makes sure it is stopped before the environment goes: V8 (seen on Node 24)
/// aborts with a double free when an isolate is torn down while sampling.
#[napi(catch_unwind)]
pub fn start_sampling(env: Env, interval_bytes: f64, stack_depth: u32) -> Result<()> {
    let isolate = sampling_isolate()?;
    if !SAMPLING_HOOKED.with(|hooked| hooked.replace(true)) {
        env.add_env_cleanup_hook(isolate, |isolate| isolate.stop_sampling())?;
    }
    if !isolate.start_sampling(interval_bytes as u64, stack_depth.min(i32::MAX as u32) as i32) {
        return Err(Error::from_reason("V8 did not start its sampling heap profiler"));
    }
    Ok(())
}

/// Stops it; its samples go.
#[napi(catch_unwind)]
pub fn stop_sampling() -> Result<()> {
    sampling_isolate()?.stop_sampling();
    Ok(())
}

thread_local! {
    /// This thread's environment has a cleanup hook that stops allocation tracking.
    static TRACKING_HOOKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Starts V8's allocation tracker on the calling thread's isolate (the
/// snapshots taken while it runs carry allocation stacks), and stops it
/// before the environment goes.
#[napi(catch_unwind)]
pub fn start_tracking_allocations(env: Env) -> Result<()> {
    let isolate = v8::Isolate::current().ok_or_else(|| Error::from_reason("allocation tracking needs the V8 shim"))?;
    if !TRACKING_HOOKED.with(|hooked| hooked.replace(true)) {
        env.add_env_cleanup_hook(isolate, |isolate| isolate.stop_tracking())?;
    }
    isolate.start_tracking();
    Ok(())
}

/// Stops it; what it recorded goes.
#[napi(catch_unwind)]
pub fn stop_tracking_allocations() -> Result<()> {
    v8::Isolate::current().ok_or_else(|| Error::from_reason("allocation tracking needs the V8 shim"))?.stop_tracking();
    Ok(())
}

/// The live sampled allocations, parents before children; `null` when not sampling.
#[napi(catch_unwind)]
pub fn sampling_profile() -> Result<Option<Vec<SampledSite>>> {
    let Some(sites) = sampling_isolate()?.sampling_profile() else { return Ok(None) };
    Ok(Some(
        sites
            .into_iter()
            .map(|s| SampledSite {
                parent: s.parent.map_or(-1, |p| p as i32),
                function_name: s.function_name,
                url: s.url,
                script_id: s.script_id,
                line: s.line,
                column: s.column,
                self_size: s.self_size as f64,
                self_count: s.self_count as f64,
            })
            .collect(),
    ))
}

/// A snapshot the preflight refuses: why, what it would need, what is left.
#[napi(object)]
pub struct MemoryShortfall {
    pub message: String,
    pub needed: f64,
    pub available: f64,
}

/// The preflight before a snapshot of a heap with `heap_used` bytes in use:
/// `null` when about `memory_factor` × that is left on the machine and in
/// the container, else why not. Reads /proc and the cgroup filesystem.
#[napi(catch_unwind)]
pub fn preflight(heap_used: f64, memory_factor: f64) -> Option<MemoryShortfall> {
    let short = heapscope_core::memory::preflight(heap_used as u64, memory_factor, Cgroup::detect().as_ref()).err()?;
    Some(MemoryShortfall {
        message: short.to_string(),
        needed: short.needed as f64,
        available: short.available.bytes as f64,
    })
}

/// node-heapdump's path: everything, including fsync and rename, before return.
#[napi(catch_unwind)]
pub fn write_snapshot_sync(request: SnapshotRequest) -> SnapshotOutcome {
    start(&request).settle()
}

/// `snapshot()`: V8's part runs now, on this thread; the write finishes on
/// the sink thread and the promise resolves from the libuv pool.
#[napi(catch_unwind, ts_return_type = "Promise<SnapshotOutcome>")]
pub fn take_snapshot(request: SnapshotRequest) -> AsyncTask<PoolWork<SnapshotOutcome>> {
    let capture = start(&request);
    on_pool(move || capture.settle())
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
    let isolate =
        v8::Isolate::current().ok_or_else(|| Error::new(Status::GenericFailure, "no V8 isolate on this thread"))?;
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
/// (no exact `path`: each snapshot gets a new name), whether to be quiet, and
/// how many of them the directory may keep.
#[napi(object)]
pub struct DumpOptions {
    pub request: SnapshotRequest,
    /// No line on stderr.
    pub quiet: Option<bool>,
    /// Keep at most this many snapshots in the directory (oldest removed).
    pub retain_files: Option<u32>,
    /// Keep at most this many bytes of snapshots in the directory.
    pub retain_bytes: Option<f64>,
    /// Check, before each snapshot, that about this many times the used heap
    /// of memory is left (the signal's preflight); absent: no check.
    pub memory_factor: Option<f64>,
}

impl DumpOptions {
    fn into_config(self) -> DumpConfig {
        let mut request = self.request;
        request.path = None;
        let retain = Policy { max_files: self.retain_files, max_bytes: self.retain_bytes.map(|b| b as u64) };
        DumpConfig { request, quiet: self.quiet.unwrap_or(false), retain, preflight: self.memory_factor }
    }
}

/// The calling isolate's station, opened on first use. A worker's station is
/// closed by an environment cleanup hook when the worker exits.
fn station_for(env: &Env, main: bool, notify: Function<TriggerEvent, ()>) -> Result<Arc<Station>> {
    let isolate = v8::Isolate::current().ok_or_else(|| Error::from_reason("no V8 isolate on this thread"))?;
    if let Some(station) = Station::current(isolate) {
        return Ok(station);
    }
    let tsfn = notify.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
    let uv_loop = env.get_uv_event_loop()?;
    let station = Station::open(isolate, uv_loop.cast(), tsfn)
        .ok_or_else(|| Error::from_reason("could not create the libuv async handle"))?;
    if !main {
        env.add_env_cleanup_hook(Arc::clone(&station), |station| station.close())?;
    }
    Ok(station)
}

/// Arms the snapshot signal for the main isolate. `notify` hears every
/// triggered snapshot (weakly: it never keeps the process alive).
#[napi(catch_unwind)]
pub fn arm_signal(env: Env, signal: i32, options: DumpOptions, notify: Function<TriggerEvent, ()>) -> Result<()> {
    allowed_signal(signal)?;
    let station = station_for(&env, true, notify)?;
    let config = options.into_config();
    reclaim_where_armed(&config);
    station.set_signal_config(config);
    arm_signal_for(signal, trigger::signal::Target::Station(station))
}

/// Removes the temporary files that writers which died (killed mid-write)
/// left in the directory a trigger writes to, and says so on stderr: they
/// would otherwise fill the volume that retention bounds, and until the next
/// snapshot nothing else looks.
fn reclaim_where_armed(config: &DumpConfig) -> Vec<String> {
    let dir = config.request.dir.as_deref().map_or_else(|| std::env::current_dir().unwrap_or_default(), PathBuf::from);
    let removed: Vec<String> =
        heapscope_core::sink::reclaim_dead_partials_in(&dir).iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if !removed.is_empty() && !config.quiet {
        trigger::station::log_line(&format!(
            "removed {} temporary snapshot file(s) of writers that died: {}",
            removed.len(),
            removed.join(", ")
        ));
    }
    removed
}

fn allowed_signal(signal: i32) -> Result<()> {
    trigger::signal::allowed(signal).map_err(|e| Error::new(Status::InvalidArg, e.to_string()))
}

fn arm_signal_for(signal: i32, target: trigger::signal::Target) -> Result<()> {
    trigger::signal::arm(signal, target)
        .map_err(|e| Error::from_reason(format!("could not install the signal handler: {e}")))
}

/// Without a V8 shim, at once on the main thread: installs the handler for
/// `signal` and keeps what arrives until the capture worker arms its relay
/// (`armSignalRelay`), so that no signal in between takes the default action.
#[napi(catch_unwind)]
pub fn arm_signal_pending(signal: i32) -> Result<()> {
    allowed_signal(signal)?;
    arm_signal_for(signal, trigger::signal::Target::Pending)
}

/// Without a V8 shim: arms the snapshot signal so that each delivery calls
/// `relay(signalName)` on the calling thread's loop (heapscope's capture
/// worker, whose loop stays free while the main thread is busy). Weak: it
/// never keeps that thread alive.
#[napi(catch_unwind)]
pub fn arm_signal_relay(signal: i32, relay: Function<String, ()>) -> Result<()> {
    allowed_signal(signal)?;
    let relay = relay.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
    arm_signal_for(signal, trigger::signal::Target::Relay(relay))
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

/// A watcher's thresholds and settings, validated by the JS layer.
#[napi(object)]
pub struct WatchOptions {
    pub dump: DumpOptions,
    pub heap_used: Option<f64>,
    pub rss: Option<f64>,
    pub heap_limit_ratio: Option<f64>,
    pub container_limit_ratio: Option<f64>,
    pub rearm_ratio: f64,
    pub cooldown_ms: f64,
    pub max_snapshots: u32,
    pub interval_ms: f64,
    pub memory_factor: f64,
    /// Snapshots to write near the heap limit (0: off).
    pub near_heap_limit: u32,
    /// A snapshot every this many milliseconds (the timer), if set.
    pub every_ms: Option<f64>,
}

#[napi(object)]
pub struct WatchInfo {
    pub id: u32,
    pub thresholds: Vec<trigger::event::ThresholdInfo>,
    pub heap_limit: f64,
    pub container_limit: Option<f64>,
    /// Temporary files of dead writers removed from the directory on arming.
    pub reclaimed: Vec<String>,
}

static WATCH_IDS: AtomicU32 = AtomicU32::new(0);

/// Starts a watcher on the calling thread's isolate.
#[napi(catch_unwind)]
pub fn watch(env: Env, options: WatchOptions, main: bool, notify: Function<TriggerEvent, ()>) -> Result<WatchInfo> {
    let station = station_for(&env, main, notify)?;
    let heap_limit = station.isolate.heap_statistics().heap_size_limit;
    let cgroup = Cgroup::detect();
    let asked = trigger::watch::Asked {
        heap_used: options.heap_used,
        rss: options.rss,
        heap_limit_ratio: options.heap_limit_ratio,
        container_limit_ratio: options.container_limit_ratio,
        rearm_ratio: options.rearm_ratio,
    };
    let plan = trigger::watch::plan(&asked, heap_limit, cgroup.as_ref());
    let (_, epoch) = capture::activity();
    let gate =
        Gate::new(plan.thresholds, Duration::from_millis(options.cooldown_ms as u64), options.max_snapshots, epoch);
    let every = options.every_ms.map(|ms| Duration::from_millis(ms.max(10.0) as u64));
    let gate = match every {
        Some(every) => gate.with_timer(every, std::time::Instant::now()),
        None => gate,
    };
    let id = WATCH_IDS.fetch_add(1, Ordering::Relaxed) + 1;
    let config = options.dump.into_config();
    let reclaimed = reclaim_where_armed(&config);
    let settings = trigger::watch::WatchSettings {
        gate,
        config: Arc::new(config),
        interval: Duration::from_millis(options.interval_ms.max(10.0) as u64),
        memory_factor: options.memory_factor,
        cgroup,
        container_dir: plan.container_dir,
        near_limit: options.near_heap_limit,
        every,
    };
    let watch = trigger::watch::Watch::start(id, &station, settings).map_err(|e| Error::from_reason(e.to_string()))?;
    station.add_watcher(watch);
    Ok(WatchInfo {
        id,
        thresholds: plan.infos,
        heap_limit: heap_limit as f64,
        container_limit: plan.container_limit.map(|l| l as f64),
        reclaimed,
    })
}

/// Stops a watcher of the calling thread's isolate; returns how many
/// snapshots it asked for, or `null` if it was not running.
#[napi(catch_unwind)]
pub fn unwatch(id: u32) -> Option<u32> {
    let station = Station::current(v8::Isolate::current()?)?;
    let watch = station.remove_watcher(id)?;
    watch.stop();
    Some(watch.taken())
}

/// Calls `callback` with the heap figures after every full GC of the calling
/// thread's isolate (weakly: it never keeps the process alive). Returns the
/// sampler's id for `unsampleGc`.
#[napi(catch_unwind)]
pub fn sample_gc(env: Env, callback: Function<trigger::gc_samples::GcSample, ()>) -> Result<u32> {
    let isolate = v8::Isolate::current().ok_or_else(|| Error::from_reason("no V8 isolate on this thread"))?;
    let sink = callback.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
    let id = trigger::gc_samples::start(isolate, sink).map_err(|e| Error::from_reason(e.to_string()))?;
    // A worker's isolate goes away with it: stop first (idempotent).
    env.add_env_cleanup_hook(id, move |id| {
        trigger::gc_samples::stop(id, isolate);
    })?;
    Ok(id)
}

/// Stops a GC sampler of the calling thread; false when it was not running.
#[napi(catch_unwind)]
pub fn unsample_gc(id: u32) -> bool {
    v8::Isolate::current().is_some_and(|isolate| trigger::gc_samples::stop(id, isolate))
}

/// `snapshot({ analyze: true })`: the snapshot and its analysis.
#[napi(object, object_from_js = false)]
pub struct AnalyzedSnapshot {
    /// The file (when written), or what V8 produced (`path` empty).
    pub snapshot: SnapshotOutcome,
    pub analysis: analysis::AnalyzeOutcome,
}

/// A snapshot whose chunks also feed a job: its file, or (not written) what
/// V8 produced.
enum Fed {
    Written(Capture),
    Streamed(SnapshotOutcome),
}

impl Fed {
    fn settle(self) -> SnapshotOutcome {
        match self {
            Fed::Written(capture) => capture.settle(),
            Fed::Streamed(outcome) => outcome,
        }
    }
}

/// Starts a snapshot whose chunks feed `job` on a thread of its own (and the
/// file too when `write`). Returns the snapshot and the job's thread, which
/// reads at normal priority and drops to the lowest once the stream ends.
fn capture_feeding<T: Send + 'static>(
    request: &SnapshotRequest,
    write: bool,
    job: impl FnOnce(LowerAtEnd<heapscope_core::sink::ChunkReader>) -> T + Send + 'static,
) -> Result<(Fed, std::thread::JoinHandle<T>)> {
    let isolate =
        v8::Isolate::current().ok_or_else(|| Error::new(Status::GenericFailure, "no V8 isolate on this thread"))?;
    let (tx, reader) = heapscope_core::sink::feed(capture::FEED_CHUNKS);
    let thread = std::thread::Builder::new()
        .name("heapscope-analyze".into())
        .spawn(move || job(LowerAtEnd::new(reader)))
        .map_err(|e| Error::new(Status::GenericFailure, format!("cannot start the analysis thread: {e}")))?;
    if write {
        return Ok((Fed::Written(start_capture(isolate, request, Some(tx))), thread));
    }
    let fed = capture::feed_only(isolate, capture_options(request), tx);
    let outcome = if fed.status == v8::SnapshotStatus::Complete {
        SnapshotOutcome {
            ok: true,
            path: String::new(),
            bytes: 0.0,
            raw_bytes: fed.raw_bytes as f64,
            pause_ms: ms(fed.pause),
            duration_ms: ms(fed.pause),
            heap_used: fed.heap_used as f64,
            seq: 0.0,
            compressed: false,
            trigger: None,
            error: None,
            reclaimed: Vec::new(),
            redacted: None,
            profile: None,
            profile_error: None,
        }
    } else {
        SnapshotOutcome::failed(Path::new(""), 0, false, failure(&CaptureError::V8(fed.status)), ms(fed.pause))
    };
    Ok((Fed::Streamed(outcome), thread))
}

/// `session.mark()` and `session.leaks()`: a snapshot compared as it streams.
#[napi(object, object_from_js = false)]
pub struct ComparedSnapshot {
    pub snapshot: SnapshotOutcome,
    pub outcome: analysis::leaks::LeakOutcome,
}

/// With no `earlier` digests: a snapshot reduced to a digest for later
/// comparisons. With them (the baseline first, then later marks, oldest
/// first): the leak report of this snapshot against them. `sampling`: take
/// V8's sampling heap profile right after the snapshot (its GC has freed the
/// garbage); a digest keeps it, and a report matches the growth since the
/// baseline's to its suspects.
#[napi(catch_unwind, ts_return_type = "Promise<ComparedSnapshot>")]
pub fn take_snapshot_compared(
    request: SnapshotRequest,
    write: bool,
    earlier: Vec<ClassInstance<analysis::leaks::SnapshotDigest>>,
    options: analysis::leaks::LeakOptionsJs,
    sampling: Option<bool>,
) -> Result<AsyncTask<PoolWork<ComparedSnapshot>>> {
    use analysis::leaks::{StreamJob, MAX_SNAPSHOTS};
    if earlier.len() >= MAX_SNAPSHOTS {
        return Err(Error::new(Status::InvalidArg, format!("at most {MAX_SNAPSHOTS} snapshots in one leak report")));
    }
    let job = match earlier.first() {
        None => StreamJob::Digest,
        Some(baseline) => StreamJob::Leaks {
            earlier: earlier.iter().map(|d| d.inner.clone()).collect(),
            baseline_profile: baseline.profile.clone(),
            options: analysis::leaks::leak_options(&options),
        },
    };
    let threads = analysis::threads_option(options.threads);
    let (profile_tx, profile_rx) = crossbeam_channel::bounded(1);
    let (fed, thread) = capture_feeding(&request, write, move |reader| {
        analysis::leaks::run_stream_job(job, reader, threads, profile_rx)
    })?;
    // V8's part is done: the snapshot's GC has freed the samples of garbage.
    let profile =
        if sampling.unwrap_or(false) { v8::Isolate::current().and_then(|i| i.sampling_profile()) } else { None };
    let _ = profile_tx.send(profile);
    Ok(on_pool(move || {
        let snapshot = fed.settle();
        let outcome = thread.join().unwrap_or_else(|_| {
            analysis::leaks::LeakOutcome::failed(analysis::AnalyzeFailure::internal("comparing the snapshot"))
        });
        ComparedSnapshot { snapshot, outcome }
    }))
}

/// Takes a snapshot and analyses it while V8 serializes: the chunks go to a
/// parser on a thread of its own (and to the file when `write`), so no file
/// has to be read back. The graph is built during the snapshot, so its
/// memory adds to V8's own for that time.
#[napi(catch_unwind, ts_return_type = "Promise<AnalyzedSnapshot>")]
pub fn take_snapshot_analyzed(
    request: SnapshotRequest,
    write: bool,
    options: analysis::AnalyzeOptions,
    progress: Option<Function<analysis::AnalyzeProgress, ()>>,
) -> Result<AsyncTask<PoolWork<AnalyzedSnapshot>>> {
    let summarizer = analysis::Summarizer::new(&options, progress)?;
    // The summary's path is filled in by the JS side, which knows the file.
    let (fed, thread) = capture_feeding(&request, write, move |reader| {
        let threads = summarizer.threads;
        summarizer.run("", None, |progress| heapscope_core::snapshot::Graph::read_with(reader, threads, progress))
    })?;
    Ok(on_pool(move || {
        let snapshot = fed.settle();
        let mut analysis = thread.join().unwrap_or_else(|_| {
            analysis::AnalyzeOutcome::failed(analysis::AnalyzeFailure::internal("running the analysis thread"))
        });
        // A kept heap is named by its file, known once the snapshot settled;
        // a failed snapshot's is let go.
        analysis.heap = analysis.heap.take().filter(|_| snapshot.ok).map(|heap| heap.named(&snapshot.path));
        AnalyzedSnapshot { snapshot, analysis }
    }))
}

/// Without a V8 shim: the final path a request names (its template
/// expanded, with the next `{seq}`), for node-heapdump's synchronous call,
/// which then writes through `v8.writeHeapSnapshot()`.
#[napi(catch_unwind)]
pub fn snapshot_path(request: SnapshotRequest) -> Result<String> {
    let seq = next_seq();
    let path = resolve_path(&request, seq).map_err(|e| Error::new(Status::InvalidArg, e.to_string()))?;
    Ok(path.to_string_lossy().into_owned())
}

/// Without a V8 shim: what the signal's worker does with a finished
/// snapshot, as the station does with its own (retention, the stderr line,
/// the event for JS).
#[napi(catch_unwind)]
pub fn settle_relayed(outcome: SnapshotOutcome, dump: DumpOptions, signal_name: String) -> TriggerEvent {
    let request = trigger::station::Request {
        trigger: trigger::station::Trigger::Signal,
        reason: signal_name,
        watcher: 0,
        crossing: None,
        config: Arc::new(dump.into_config()),
    };
    trigger::station::settle_triggered(&request, outcome)
}

/// A snapshot file fed from JS, for a Node that no V8 shim fits: the chunks
/// of Node's own `v8.getHeapSnapshot()` stream, or of an inspector session's
/// `HeapProfiler.addHeapSnapshotChunk` events, go through the same sink as
/// the shim's (temporary name, 0600, checked writes, fsync, rename).
#[napi]
pub struct SnapshotFile {
    path: PathBuf,
    seq: u64,
    gzip: bool,
    state: Option<std::result::Result<capture::Delivery, Failure>>,
}

#[napi]
impl SnapshotFile {
    /// Creates the temporary file. A failure (bad template, EACCES, …) is
    /// kept and reported by `finish()`, as the shim's path reports it.
    #[napi(factory, catch_unwind)]
    pub fn open(request: SnapshotRequest) -> SnapshotFile {
        let seq = next_seq();
        let gzip = request.gzip.is_some();
        let path = match resolve_path(&request, seq) {
            Ok(path) => path,
            Err(error) => {
                return SnapshotFile { path: PathBuf::new(), seq, gzip, state: Some(Err(bad_request(error))) }
            }
        };
        let state = capture::Delivery::begin(&path, file_options(&request), None).map_err(|e| failure(&e));
        SnapshotFile { path, seq, gzip, state: Some(state) }
    }

    /// The final path this file will have.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Appends a chunk (a string of JSON or its bytes). Returns false once
    /// writing has failed; `finish()` then says why.
    #[napi(catch_unwind)]
    pub fn write(&mut self, chunk: Either<String, BufferSlice>) -> bool {
        let Some(Ok(delivery)) = self.state.as_mut() else { return false };
        let bytes: heapscope_core::sink::Chunk = match &chunk {
            Either::A(text) => Arc::from(text.as_bytes()),
            Either::B(buffer) => Arc::from(&buffer[..]),
        };
        delivery.deliver(bytes)
    }

    /// Ends the file: `complete` when the producer delivered the whole
    /// snapshot, else the temporary file is removed. `pause_ms` and
    /// `heap_used` are the producer's figures, reported as given.
    #[napi(catch_unwind, ts_return_type = "Promise<SnapshotOutcome>")]
    pub fn finish(&mut self, complete: bool, pause_ms: f64, heap_used: f64) -> AsyncTask<PoolWork<SnapshotOutcome>> {
        let status = if complete { v8::SnapshotStatus::Complete } else { v8::SnapshotStatus::Failed };
        let pending = match self.state.take() {
            Some(Ok(delivery)) => {
                Ok(delivery.finish(status, Duration::from_secs_f64(pause_ms.max(0.0) / 1000.0), heap_used as u64))
            }
            Some(Err(failure)) => Err(failure),
            None => Err(Failure {
                message: "heapscope: this snapshot file was already finished".into(),
                code: "ERR_HEAPSCOPE_FINISHED".into(),
                errno: 0,
                syscall: None,
                path: Some(self.path()),
            }),
        };
        let capture = Capture::of(self.path.clone(), self.seq, self.gzip, pending);
        on_pool(move || capture.settle())
    }
}
