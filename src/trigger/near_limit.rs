//! Near-OOM snapshots: V8 calls us when the heap is about to hit its limit,
//! and we write a snapshot there and then, before the process dies.
//!
//! The safeguards follow Node's own `--heapsnapshot-near-heap-limit`: the
//! limit is raised by the young generation's size so that the snapshot's own
//! GCs can promote objects; a nested call (the snapshot's GC hitting the limit
//! again) only raises the limit; when the machine or container has too little
//! memory left for the snapshot, we give up (and say so) rather than have the
//! OOM killer take the process mid-write; after each snapshot V8 is told to
//! restore the initial limit once usage falls back below 95% of it. The
//! snapshot is written synchronously: the process may not live to finish it
//! any other way.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use heapscope_core::memory::{self, human, Cgroup};

use super::event::{Crossing, Skipped};
use super::station::{lock, log_line, DumpConfig, Request, Station, Trigger};
use crate::capture::SnapshotRequest;
use crate::v8::Isolate;

/// The least a raised limit adds, when the young generation is tiny.
const MIN_RAISE: usize = 16 << 20;

/// An isolate's one registration of [`on_near_limit`], shared by every
/// watcher that wants near-limit snapshots there: V8 refuses a second
/// registration of the same function with a CHECK that aborts the process.
/// The first installed watcher with snapshots left answers each call.
struct Hub {
    entries: Mutex<Vec<Arc<NearLimit>>>,
}

/// One hub per isolate, kept for the life of the process (a few words each):
/// a callback V8 is running may still be reading it after its last watcher left.
static HUBS: Mutex<Vec<(usize, &'static Hub)>> = Mutex::new(Vec::new());

fn hub_for(isolate: *mut c_void) -> &'static Hub {
    let mut hubs = lock(&HUBS);
    if let Some(&(_, hub)) = hubs.iter().find(|(key, _)| *key == isolate as usize) {
        return hub;
    }
    let hub: &'static Hub = Box::leak(Box::new(Hub { entries: Mutex::new(Vec::new()) }));
    hubs.push((isolate as usize, hub));
    hub
}

pub struct NearLimit {
    isolate: Isolate,
    /// Weak, as a watcher's: a closed station has no near-limit snapshots.
    station: Weak<Station>,
    watcher: u32,
    config: Arc<DumpConfig>,
    left: AtomicU32,
    memory_factor: f64,
    cgroup: Option<Cgroup>,
    installed: AtomicBool,
    in_callback: AtomicBool,
}

impl NearLimit {
    /// Registers the callback. Isolate thread only.
    pub fn install(
        station: &Arc<Station>,
        watcher: u32,
        config: Arc<DumpConfig>,
        count: u32,
        memory_factor: f64,
        cgroup: Option<Cgroup>,
    ) -> Arc<NearLimit> {
        let near = Arc::new(NearLimit {
            isolate: station.isolate,
            station: Arc::downgrade(station),
            watcher,
            config,
            left: AtomicU32::new(count),
            memory_factor,
            cgroup,
            installed: AtomicBool::new(true),
            in_callback: AtomicBool::new(false),
        });
        let hub = hub_for(station.isolate.as_ptr());
        let mut entries = lock(&hub.entries);
        if entries.is_empty() {
            let data = hub as *const Hub as *mut c_void;
            // SAFETY: isolate thread; the hub lives for the whole process and
            // is registered once per isolate (`entries` was empty, so nothing
            // is registered); `on_near_limit` catches panics.
            unsafe { station.isolate.add_near_heap_limit(on_near_limit, data) };
        }
        entries.push(Arc::clone(&near));
        near
    }

    /// Leaves the isolate's hub, and removes the callback when no watcher is
    /// left. Isolate thread only, including from inside the callback (as Node does).
    pub fn uninstall(&self) {
        if !self.installed.swap(false, Ordering::AcqRel) {
            return;
        }
        let hub = hub_for(self.isolate.as_ptr());
        let mut entries = lock(&hub.entries);
        entries.retain(|entry| !std::ptr::eq(Arc::as_ptr(entry), self));
        if entries.is_empty() {
            // SAFETY: isolate thread; 0 leaves the current limit as it is.
            unsafe { self.isolate.remove_near_heap_limit(on_near_limit, 0) };
        }
    }

    fn run(&self, current: usize) -> usize {
        let isolate = self.isolate;
        let heap = isolate.heap_statistics();
        let new_limit = raised_limit(isolate, current, heap.total_heap_size as usize);
        if self.in_callback.load(Ordering::Acquire) || crate::capture::capturing_on_this_thread() {
            return new_limit;
        }
        let Some(station) = self.station.upgrade() else { return new_limit };
        let used = heap.used_heap_size;
        let crossing = Crossing { metric: "heapLimit".into(), value: used as f64, limit: current as f64 };
        if let Err(short) = memory::preflight(used, self.memory_factor, self.cgroup.as_ref()) {
            self.uninstall();
            let message = format!(
                "near the heap limit ({} used of {}) but {short}; giving up",
                human(used),
                human(current as u64)
            );
            log_line(&format!("no near-limit snapshot: {message}"));
            station.tell_skipped(self.watcher, Some(crossing), Skipped::memory(message, &short));
            return new_limit;
        }
        self.in_callback.store(true, Ordering::Release);
        // A triggered snapshot whose file is still being finished on another
        // thread keeps its claim; this one goes ahead regardless.
        let claimed = station.claim();
        let request = Request {
            trigger: Trigger::NearLimit,
            reason: format!("{} used of {}", human(used), human(current as u64)),
            watcher: self.watcher,
            crossing: Some(crossing),
            config: self.config.clone(),
        };
        // The profile is read only once the snapshot is durable: reading it
        // allocates its names on a heap at its limit.
        let asked = SnapshotRequest {
            trigger: Some(Trigger::NearLimit.name().into()),
            profile: Some(false),
            ..self.config.request.clone()
        };
        let mut outcome = crate::capture::start_capture(isolate, &asked, None).settle();
        if self.config.request.profile.unwrap_or(false) {
            crate::capture::write_profile_beside(&mut outcome, isolate.sampling_profile());
        }
        station.finish(&request, outcome);
        if claimed {
            station.release();
        }
        if self.left.fetch_sub(1, Ordering::AcqRel) <= 1 {
            self.uninstall();
        }
        isolate.restore_initial_heap_limit(0.95);
        self.in_callback.store(false, Ordering::Release);
        new_limit
    }
}

/// The limit to answer V8 with: room for a young generation's worth (at
/// least [`MIN_RAISE`]) above the heap as it is. V8 checks after every full
/// GC that the old generation fits the limit, asks once if it does not, and
/// aborts ("Reached heap limit") when the answer still does not cover it; the
/// heap can already be past the limit by far (large objects are admitted
/// whatever the limit and promoted by the next GC, the snapshot's own GCs
/// among them), so the raise starts from the committed heap when that is
/// higher than the current limit.
fn raised_limit(isolate: Isolate, current: usize, committed: usize) -> usize {
    current.max(committed).saturating_add(isolate.young_generation_size().max(MIN_RAISE))
}

unsafe extern "C" fn on_near_limit(data: *mut c_void, current: usize, _initial: usize) -> usize {
    // SAFETY: `data` is the isolate's hub, which lives for the whole process.
    let hub = unsafe { &*(data as *const Hub) };
    // The lock is let go before running: the run may uninstall its watcher.
    let first = catch_unwind(AssertUnwindSafe(|| lock(&hub.entries).first().cloned())).ok().flatten();
    // The returned limit must exceed the current one or V8 gives up at once.
    let fallback = current.saturating_add(MIN_RAISE);
    match first {
        Some(near) => catch_unwind(AssertUnwindSafe(|| near.run(current))).unwrap_or(fallback),
        None => fallback,
    }
}
