//! Heap figures after every full GC, for the trend monitor.
//!
//! Heap used is only comparable right after a full GC (before it, garbage
//! counts too), so the figures are read in V8's GC epilogue, as
//! node-memwatch did, and queued to JS. The epilogue only reads heap
//! statistics and RSS and queues; deciding what a trend means is JS's job.

use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use heapscope_core::memory;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use super::station::lock;
use crate::v8::{GcRegistration, Isolate, GC_TYPE_MARK_SWEEP_COMPACT};

/// One full GC's figures, in bytes; `at` in ms since the epoch.
#[napi(object)]
#[derive(Clone)]
pub struct GcSample {
    pub at: f64,
    pub heap_used: f64,
    pub heap_total: f64,
    pub heap_limit: f64,
    pub external: f64,
    pub rss: f64,
    /// Full GCs seen by this sampler, this one included.
    pub full_gcs: u32,
}

/// Where samples go. Weak: a sampler never keeps the process alive.
pub type SampleSink = ThreadsafeFunction<GcSample, (), GcSample, Status, false, true>;

pub struct GcSampler {
    isolate: Isolate,
    sink: SampleSink,
    full_gcs: AtomicU32,
    registration: Mutex<Option<GcRegistration>>,
}

fn samplers() -> &'static Mutex<HashMap<u32, Arc<GcSampler>>> {
    static SAMPLERS: OnceLock<Mutex<HashMap<u32, Arc<GcSampler>>>> = OnceLock::new();
    SAMPLERS.get_or_init(Default::default)
}

static IDS: AtomicU32 = AtomicU32::new(0);

/// Starts sampling the isolate's full GCs. Isolate thread only.
pub fn start(isolate: Isolate, sink: SampleSink) -> Result<u32, String> {
    let sampler = Arc::new(GcSampler { isolate, sink, full_gcs: AtomicU32::new(0), registration: Mutex::new(None) });
    let data = Arc::into_raw(sampler.clone()) as *mut c_void;
    // SAFETY: isolate thread; `data` holds a strong count released in `stop`
    // after the callback is removed; `on_gc` catches panics.
    match unsafe { isolate.add_gc_epilogue(on_gc, data) } {
        Some(registration) => *lock(&sampler.registration) = Some(registration),
        None => {
            // SAFETY: the registration failed, so V8 holds no copy of `data`.
            drop(unsafe { Arc::from_raw(data as *const GcSampler) });
            return Err("could not register a GC callback".into());
        }
    }
    let id = IDS.fetch_add(1, Ordering::Relaxed) + 1;
    lock(samplers()).insert(id, sampler);
    Ok(id)
}

/// Stops a sampler of the calling thread's isolate; false when there was none.
pub fn stop(id: u32, isolate: Isolate) -> bool {
    let sampler = {
        let mut all = lock(samplers());
        match all.get(&id) {
            Some(s) if s.isolate.as_ptr() == isolate.as_ptr() => all.remove(&id),
            _ => None,
        }
    };
    let Some(sampler) = sampler else { return false };
    if let Some(registration) = lock(&sampler.registration).take() {
        let data = registration.data();
        // SAFETY: isolate thread (checked above); the registration came from it.
        unsafe { isolate.remove_gc_epilogue(registration) };
        // SAFETY: V8 no longer has the callback; release its strong count.
        drop(unsafe { Arc::from_raw(data as *const GcSampler) });
    }
    true
}

impl GcSampler {
    fn after_full_gc(&self) {
        let stats = self.isolate.heap_statistics();
        let at = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let sample = GcSample {
            at,
            heap_used: stats.used_heap_size as f64,
            heap_total: stats.total_heap_size as f64,
            heap_limit: stats.heap_size_limit as f64,
            external: stats.external_memory as f64,
            rss: memory::process_rss().map_or(0.0, |r| r as f64),
            full_gcs: self.full_gcs.fetch_add(1, Ordering::Relaxed) + 1,
        };
        // Queues only: JS hears it once the GC is over and the loop turns.
        self.sink.call(sample, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

unsafe extern "C" fn on_gc(_isolate: *mut c_void, gc_type: i32, _flags: i32, data: *mut c_void) {
    if gc_type & GC_TYPE_MARK_SWEEP_COMPACT == 0 {
        return;
    }
    // SAFETY: `data` is a strong `Arc<GcSampler>` count held while registered.
    let sampler = unsafe { &*(data as *const GcSampler) };
    let _ = catch_unwind(AssertUnwindSafe(|| sampler.after_full_gc()));
}
