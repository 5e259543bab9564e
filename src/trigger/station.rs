//! A station: where requests for a snapshot of one isolate arrive from any
//! thread, and where the isolate's own thread picks them up.
//!
//! A request reaches the isolate by two roads at once: a V8 interrupt (runs
//! even while JS spins in `while (true) {}`) and a libuv async handle (runs
//! when the loop is idle and no JS executes, so no interrupt check happens).
//! An atomic state makes the first arrival take the snapshot and the other a
//! no-op. The file is finished on a waiter thread, which prints one line to
//! stderr (container logs show where the file went) and tells JS.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;

use crate::v8::{AsyncWakeup, Isolate};
use crate::{SnapshotOutcome, SnapshotRequest};

const IDLE: u8 = 0;
const REQUESTED: u8 = 1;
const RUNNING: u8 = 2;

/// What asked for the snapshot; the JS event carries its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Trigger {
    Signal = 1,
    Threshold = 2,
    NearLimit = 3,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::Signal => "signal",
            Trigger::Threshold => "threshold",
            Trigger::NearLimit => "near-limit",
        }
    }

    fn from_u8(v: u8) -> Trigger {
        match v {
            2 => Trigger::Threshold,
            3 => Trigger::NearLimit,
            _ => Trigger::Signal,
        }
    }
}

/// Where and how triggered snapshots are written, and whether to say so.
#[derive(Clone)]
pub struct DumpConfig {
    pub request: SnapshotRequest,
    /// Print no line to stderr.
    pub quiet: bool,
}

/// What JS hears after a triggered snapshot.
pub type Notify = ThreadsafeFunction<SnapshotOutcome, (), SnapshotOutcome, Status, false, true>;

pub struct Station {
    isolate: Isolate,
    state: AtomicU8,
    trigger: AtomicU8,
    /// A label for the stderr line, e.g. "SIGUSR2".
    reason: Mutex<String>,
    wakeup: Mutex<Option<AsyncWakeup>>,
    config: Mutex<DumpConfig>,
    notify: Notify,
}

impl Station {
    /// Creates the station of the calling thread's isolate. Isolate thread only.
    /// The station is leaked: interrupts may still arrive for it at any time.
    pub fn open(isolate: Isolate, uv_loop: *mut c_void, config: DumpConfig, notify: Notify) -> Option<&'static Station> {
        let station: &'static Station = Box::leak(Box::new(Station {
            isolate,
            state: AtomicU8::new(IDLE),
            trigger: AtomicU8::new(0),
            reason: Mutex::new(String::new()),
            wakeup: Mutex::new(None),
            config: Mutex::new(config),
            notify,
        }));
        // SAFETY: we are on the loop's thread (callers' contract); the station
        // lives forever; `on_async` catches panics.
        let wakeup = unsafe { AsyncWakeup::new(uv_loop, on_async, station as *const Station as *mut c_void) }?;
        *lock(&station.wakeup) = Some(wakeup);
        Some(station)
    }

    pub fn set_config(&self, config: DumpConfig) {
        *lock(&self.config) = config;
    }

    /// Asks for a snapshot; any thread. `false` when one is already requested
    /// or running: the request is coalesced into it.
    pub fn request(&'static self, trigger: Trigger, reason: &str) -> bool {
        if self.state.compare_exchange(IDLE, REQUESTED, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return false;
        }
        self.trigger.store(trigger as u8, Ordering::Release);
        *lock(&self.reason) = reason.to_string();
        let data = self as *const Station as *mut c_void;
        // SAFETY: the station is 'static; `on_interrupt` catches panics.
        unsafe { self.isolate.request_interrupt(on_interrupt, data) };
        if let Some(wakeup) = lock(&self.wakeup).as_ref() {
            wakeup.send();
        }
        true
    }

    /// Takes the requested snapshot, if still requested. Isolate thread only.
    fn run(&'static self) {
        if self.state.compare_exchange(REQUESTED, RUNNING, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return;
        }
        let trigger = Trigger::from_u8(self.trigger.load(Ordering::Acquire));
        let reason = lock(&self.reason).clone();
        let config = lock(&self.config).clone();
        let gzip = config.request.gzip.is_some();
        let (path, seq, pending) = match crate::start_capture(self.isolate, &config.request) {
            Ok(started) => started,
            Err((path, seq, failure)) => {
                let outcome = SnapshotOutcome::failed(&path, seq, gzip, failure, 0.0);
                self.finish(trigger, &reason, config.quiet, outcome);
                return;
            }
        };
        let spawned = std::thread::Builder::new().name("heapscope-waiter".into()).spawn(move || {
            let outcome = SnapshotOutcome::settle(&path, seq, gzip, pending);
            self.finish(trigger, &reason, config.quiet, outcome);
        });
        if spawned.is_err() {
            // No thread to wait on: the write was abandoned with the closure.
            self.state.store(IDLE, Ordering::Release);
        }
    }

    fn finish(&self, trigger: Trigger, reason: &str, quiet: bool, mut outcome: SnapshotOutcome) {
        if !quiet {
            report_line(trigger, reason, &outcome);
        }
        outcome.trigger = Some(trigger.name().to_string());
        self.notify.call(outcome, ThreadsafeFunctionCallMode::NonBlocking);
        self.state.store(IDLE, Ordering::Release);
    }
}

fn report_line(trigger: Trigger, reason: &str, outcome: &SnapshotOutcome) {
    let why = if reason.is_empty() { trigger.name().to_string() } else { format!("{} {reason}", trigger.name()) };
    let pid = std::process::id();
    if outcome.ok {
        let path = absolute(&outcome.path);
        eprintln!(
            "heapscope[{pid}]: heap snapshot written to {} ({:.1} MB, paused {:.0} ms, on {why})",
            path.display(),
            outcome.bytes / 1_048_576.0,
            outcome.pause_ms
        );
    } else {
        let message = outcome.error.as_ref().map(|e| e.message.as_str()).unwrap_or("unknown error");
        eprintln!("heapscope[{pid}]: heap snapshot on {why} failed: {message}");
    }
}

fn absolute(path: &str) -> PathBuf {
    let path = PathBuf::from(path);
    if path.is_absolute() {
        return path;
    }
    std::env::current_dir().map(|cwd| cwd.join(&path)).unwrap_or(path)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

unsafe extern "C" fn on_interrupt(_isolate: *mut c_void, data: *mut c_void) {
    // SAFETY: `data` is the leaked 'static station given in `request`.
    let station: &'static Station = unsafe { &*(data as *const Station) };
    let _ = catch_unwind(AssertUnwindSafe(|| station.run()));
}

unsafe extern "C" fn on_async(data: *mut c_void) {
    // SAFETY: `data` is the leaked 'static station given in `open`.
    let station: &'static Station = unsafe { &*(data as *const Station) };
    let _ = catch_unwind(AssertUnwindSafe(|| station.run()));
}
