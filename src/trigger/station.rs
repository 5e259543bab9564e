//! A station: where requests for a snapshot of one isolate arrive from any
//! thread, and where the isolate's own thread picks them up.
//!
//! A request reaches the isolate by two roads at once: a V8 interrupt (runs
//! even while JS spins in `while (true) {}`) and a libuv async handle (runs
//! when the loop is idle and no JS executes, so no interrupt check happens).
//! An atomic state makes the first arrival take the snapshot and the other a
//! no-op. The file is finished on a waiter thread, which applies retention,
//! prints one line to stderr (container logs show where the file went) and
//! tells JS.
//!
//! There is one station per isolate: the main thread's lives as long as the
//! process; a worker's is closed by an environment cleanup hook when the
//! worker exits, which also stops every watcher armed in it.
//!
//! A station is reference-counted. Whoever can still call into it holds a
//! count: the registry (until `close`), the libuv async handle (until it is
//! closed), each queued V8 interrupt (until its callback ran), a waiter
//! thread finishing a file, and the signal thread. Watchers hold a `Weak`:
//! they never keep a closed station alive, and a station never outlives a
//! callback that may still run.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use heapscope_core::memory::{self, Cgroup, Shortfall};
use heapscope_core::retention::{self, Policy};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use super::event::{Crossing, Skipped, TriggerEvent};
use crate::capture::{SnapshotOutcome, SnapshotRequest};
use crate::v8::{AsyncWakeup, Isolate};

const IDLE: u8 = 0;
const REQUESTED: u8 = 1;
const RUNNING: u8 = 2;

/// What asked for the snapshot; the JS event carries its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Signal,
    Threshold,
    NearLimit,
    Timer,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Signal => "signal",
            Trigger::Threshold => "threshold",
            Trigger::NearLimit => "near-limit",
            Trigger::Timer => "timer",
        }
    }
}

/// Where and how triggered snapshots are written, and what happens after.
#[derive(Clone)]
pub struct DumpConfig {
    pub request: SnapshotRequest,
    /// Print no line to stderr.
    pub quiet: bool,
    pub retain: Policy,
    /// The preflight's memory factor, when the snapshot is checked here
    /// before it is taken (the signal's; watchers check before asking).
    pub preflight: Option<f64>,
}

/// One request for a snapshot.
pub struct Request {
    pub trigger: Trigger,
    /// For the stderr line, e.g. "SIGUSR2" or "heapUsed 512.0 MB ≥ 500.0 MB".
    pub reason: String,
    /// The watcher that asked (0: none).
    pub watcher: u32,
    pub crossing: Option<Crossing>,
    pub config: Arc<DumpConfig>,
}

/// What JS hears: triggered snapshots and skipped ones. Weak: never keeps
/// the process alive.
pub type Notify = ThreadsafeFunction<TriggerEvent, (), TriggerEvent, Status, false, true>;

/// What the station needs of a watcher: its id, word that a snapshot it
/// asked for is done, and a stop when the isolate goes away. Watchers know
/// the station; the station knows only this.
pub trait Watcher: Send + Sync {
    fn id(&self) -> u32;
    fn finished(&self);
    fn stop(&self);
    /// Snapshots taken for it so far.
    fn taken(&self) -> u32;
}

pub struct Station {
    pub isolate: Isolate,
    state: AtomicU8,
    request: Mutex<Option<Request>>,
    closed: AtomicBool,
    wakeup: Mutex<Option<AsyncWakeup>>,
    signal_config: Mutex<Option<Arc<DumpConfig>>>,
    watchers: Mutex<Vec<Arc<dyn Watcher>>>,
    notify: Notify,
}

/// Open stations by isolate address.
static STATIONS: Mutex<Vec<(usize, Arc<Station>)>> = Mutex::new(Vec::new());

impl Station {
    /// The calling thread's station, if one is open.
    pub fn current(isolate: Isolate) -> Option<Arc<Station>> {
        lock(&STATIONS).iter().find(|(key, _)| *key == isolate.as_ptr() as usize).map(|(_, s)| Arc::clone(s))
    }

    /// Opens the station of the calling thread's isolate. Isolate thread only.
    pub fn open(isolate: Isolate, uv_loop: *mut c_void, notify: Notify) -> Option<Arc<Station>> {
        let station = Arc::new(Station {
            isolate,
            state: AtomicU8::new(IDLE),
            request: Mutex::new(None),
            closed: AtomicBool::new(false),
            wakeup: Mutex::new(None),
            signal_config: Mutex::new(None),
            watchers: Mutex::new(Vec::new()),
            notify,
        });
        // The async handle's count, given back in `close` (or below).
        let data = Arc::into_raw(Arc::clone(&station)) as *mut c_void;
        // SAFETY: we are on the loop's thread (callers' contract); `data`
        // holds a count until the handle is closed; `on_async` catches panics.
        let wakeup = unsafe { AsyncWakeup::new(uv_loop, on_async, data) };
        let Some(wakeup) = wakeup else {
            // SAFETY: the count taken for the handle, which does not exist.
            unsafe { Arc::decrement_strong_count(data as *const Station) };
            return None;
        };
        *lock(&station.wakeup) = Some(wakeup);
        lock(&STATIONS).push((isolate.as_ptr() as usize, Arc::clone(&station)));
        Some(station)
    }

    pub fn set_signal_config(&self, config: DumpConfig) {
        *lock(&self.signal_config) = Some(Arc::new(config));
    }

    pub fn add_watcher(&self, watch: Arc<dyn Watcher>) {
        lock(&self.watchers).push(watch);
    }

    pub fn remove_watcher(&self, id: u32) -> Option<Arc<dyn Watcher>> {
        let mut watchers = lock(&self.watchers);
        let at = watchers.iter().position(|w| w.id() == id)?;
        Some(watchers.remove(at))
    }

    /// A snapshot watcher `id` asked for ended, written or not.
    fn watcher_finished(&self, id: u32) {
        if let Some(watch) = lock(&self.watchers).iter().find(|w| w.id() == id) {
            watch.finished();
        }
    }

    /// Tells JS that a snapshot was skipped (`watcher` 0: the signal's); any thread.
    pub fn tell_skipped(&self, watcher: u32, crossing: Option<Crossing>, skipped: Skipped) {
        self.tell(TriggerEvent {
            kind: "skipped".into(),
            watcher,
            outcome: None,
            crossing,
            pruned: None,
            skipped: Some(skipped),
        });
    }

    /// Tells JS something; any thread.
    pub fn tell(&self, event: TriggerEvent) {
        if !self.closed.load(Ordering::Acquire) {
            self.notify.call(event, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }

    /// The signal thread's request, with the configuration set by `armSignal`.
    pub fn request_signal(self: &Arc<Self>, signal_name: &str) -> bool {
        let Some(config) = lock(&self.signal_config).clone() else { return false };
        self.request(Request {
            trigger: Trigger::Signal,
            reason: signal_name.into(),
            watcher: 0,
            crossing: None,
            config,
        })
    }

    /// Asks for a snapshot; any thread. `false` when one is already requested
    /// or running (the request is coalesced into it) or the station is closed.
    pub fn request(self: &Arc<Self>, request: Request) -> bool {
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        if self.state.compare_exchange(IDLE, REQUESTED, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        *lock(&self.request) = Some(request);
        // The interrupt's count, given back by `on_interrupt` (or below).
        let data = Arc::into_raw(Arc::clone(self)) as *mut c_void;
        // SAFETY: `data` holds a count until the callback ran; `on_interrupt`
        // catches panics.
        if !unsafe { self.isolate.request_interrupt(on_interrupt, data) } {
            // SAFETY: not queued, so the callback will never give it back.
            unsafe { Arc::decrement_strong_count(data as *const Station) };
        }
        if let Some(wakeup) = lock(&self.wakeup).as_ref() {
            wakeup.send();
        }
        true
    }

    /// Claims the station for a snapshot taken right here (near the heap
    /// limit, inside V8): `false` if a triggered snapshot is already running.
    /// A merely requested one is superseded. Isolate thread only.
    pub fn claim(&self) -> bool {
        match self.state.swap(RUNNING, Ordering::AcqRel) {
            RUNNING => false,
            REQUESTED => {
                // Superseded by this snapshot; its watcher must not wait for it.
                if let Some(request) = lock(&self.request).take() {
                    self.watcher_finished(request.watcher);
                }
                true
            }
            _ => true,
        }
    }

    pub fn release(&self) {
        self.state.store(IDLE, Ordering::Release);
    }

    /// Takes the requested snapshot, if still requested. Isolate thread only.
    fn run(self: &Arc<Self>) {
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        if self.state.compare_exchange(REQUESTED, RUNNING, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return;
        }
        let Some(request) = lock(&self.request).take() else {
            self.release();
            return;
        };
        if let Some(factor) = request.config.preflight {
            let heap_used = self.isolate.heap_statistics().used_heap_size;
            if let Err(short) = memory::preflight(heap_used, factor, Cgroup::detect().as_ref()) {
                self.skip(&request, short);
                return;
            }
        }
        let asked = SnapshotRequest { trigger: Some(request.trigger.name().into()), ..request.config.request.clone() };
        let capture = crate::capture::start_capture(self.isolate, &asked, None);
        if !capture.is_started() {
            self.finish(&request, capture.settle());
            return;
        }
        let station = Arc::clone(self);
        let spawned = std::thread::Builder::new().name("heapscope-waiter".into()).spawn(move || {
            station.finish(&request, capture.settle());
        });
        if spawned.is_err() {
            // No thread to wait on: the write was abandoned with the closure.
            self.release();
        }
    }

    /// A request the preflight refused: one stderr line, `'skipped'` in JS.
    fn skip(&self, request: &Request, short: Shortfall) {
        let message = format!("{} {}: {short}", request.trigger.name(), request.reason);
        if !request.config.quiet {
            log_line(&format!("heap snapshot skipped on {message}"));
        }
        self.tell_skipped(request.watcher, request.crossing.clone(), Skipped::memory(message, &short));
        self.watcher_finished(request.watcher);
        self.release();
    }

    /// Retention, the stderr line, the watcher's bookkeeping and JS. Any thread.
    pub fn finish(&self, request: &Request, outcome: SnapshotOutcome) {
        let event = settle_triggered(request, outcome);
        self.watcher_finished(request.watcher);
        self.tell(event);
        if request.trigger != Trigger::NearLimit {
            self.release();
        }
    }

    /// Closes the station of an isolate that is going away (a worker's exit):
    /// stops its watchers and closes its async handle. Its memory goes with
    /// the last count (a queued interrupt, a waiter thread). Isolate thread
    /// (environment cleanup).
    pub fn close(self: &Arc<Self>) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        for watch in std::mem::take(&mut *lock(&self.watchers)) {
            watch.stop();
        }
        if let Some(wakeup) = lock(&self.wakeup).take() {
            // SAFETY: environment cleanup runs on the loop's thread, once.
            unsafe { wakeup.close() };
            // SAFETY: the handle's count from `open`: once closed, libuv
            // calls `on_async` no more (a closing handle leaves the loop's
            // async queue), so nothing uses that count.
            unsafe { Arc::decrement_strong_count(Arc::as_ptr(self)) };
        }
        lock(&STATIONS).retain(|(_, s)| !Arc::ptr_eq(s, self));
    }
}

/// Applies retention and prints the stderr line; the event for JS.
pub fn settle_triggered(request: &Request, mut outcome: SnapshotOutcome) -> TriggerEvent {
    let config = &request.config;
    let mut pruned = Vec::new();
    if outcome.ok && config.retain.is_active() {
        match retention::record_and_prune(std::path::Path::new(&outcome.path), config.retain) {
            Ok(removed) => pruned = removed.iter().map(|p| p.to_string_lossy().into_owned()).collect(),
            Err(e) if !config.quiet => log_line(&e.to_string()),
            Err(_) => {}
        }
    }
    if !config.quiet {
        report_line(request, &outcome, &pruned);
    }
    outcome.trigger = Some(request.trigger.name().to_string());
    TriggerEvent {
        kind: "snapshot".into(),
        watcher: request.watcher,
        outcome: Some(outcome),
        crossing: request.crossing.clone(),
        pruned: Some(pruned),
        skipped: None,
    }
}

fn report_line(request: &Request, outcome: &SnapshotOutcome, pruned: &[String]) {
    let trigger = request.trigger.name();
    let why = if request.reason.is_empty() { trigger.to_string() } else { format!("{trigger} {}", request.reason) };
    if outcome.ok {
        let path = absolute(&outcome.path);
        let removed = if pruned.is_empty() { String::new() } else { format!("; removed {} older", pruned.len()) };
        let redacted = match &outcome.redacted {
            Some(r) => format!(", {} strings redacted", r.strings),
            None => String::new(),
        };
        let removed = match (&outcome.profile, &outcome.profile_error) {
            (Some(profile), _) => format!("{removed}; allocation profile {}", absolute(profile).display()),
            (None, Some(error)) => format!("{removed}; no allocation profile: {error}"),
            (None, None) => removed,
        };
        log_line(&format!(
            "heap snapshot written to {} ({:.1} MB{redacted}, paused {:.0} ms, on {why}{removed})",
            path.display(),
            outcome.bytes / 1_048_576.0,
            outcome.pause_ms
        ));
    } else {
        let message = outcome.error.as_ref().map(|e| e.message.as_str()).unwrap_or("unknown error");
        log_line(&format!("heap snapshot on {why} failed: {message}"));
    }
}

/// One line on stderr, `heapscope[<pid>]: <text>`, in a single write so that
/// container logs never get it torn or interleaved with the app's output.
pub fn log_line(text: &str) {
    use std::io::Write;
    let line = format!("heapscope[{}]: {text}\n", std::process::id());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

fn absolute(path: &str) -> PathBuf {
    let path = PathBuf::from(path);
    if path.is_absolute() {
        return path;
    }
    std::env::current_dir().map(|cwd| cwd.join(&path)).unwrap_or(path)
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

unsafe extern "C" fn on_interrupt(_isolate: *mut c_void, data: *mut c_void) {
    // SAFETY: `data` is the count `request` took for this interrupt; V8 runs
    // each interrupt once, so it is taken back once, here.
    let station = unsafe { Arc::from_raw(data as *const Station) };
    let _ = catch_unwind(AssertUnwindSafe(|| station.run()));
}

unsafe extern "C" fn on_async(data: *mut c_void) {
    // SAFETY: `data` is the handle's count from `open`, alive while the handle
    // is open, which it is while libuv calls this. A count of our own for the call.
    let station = unsafe {
        Arc::increment_strong_count(data as *const Station);
        Arc::from_raw(data as *const Station)
    };
    let _ = catch_unwind(AssertUnwindSafe(|| station.run()));
}
