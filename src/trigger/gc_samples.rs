//! Heap figures after every full GC, for the trend monitor.
//!
//! Heap used is only comparable right after a full GC (before it, garbage
//! counts too), so the figures are read in V8's GC epilogue, as
//! node-memwatch did, and queued to JS. The epilogue only reads heap
//! statistics and RSS and queues; deciding what a trend means is JS's job.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use heapscope_core::memory;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use super::station::lock;
use super::ArmError;
use crate::v8::{AfterFullGc, FullGcHook, Isolate};

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
    hook: Mutex<Option<FullGcHook>>,
}

fn samplers() -> &'static Mutex<HashMap<u32, Arc<GcSampler>>> {
    static SAMPLERS: OnceLock<Mutex<HashMap<u32, Arc<GcSampler>>>> = OnceLock::new();
    SAMPLERS.get_or_init(Default::default)
}

static IDS: AtomicU32 = AtomicU32::new(0);

/// Starts sampling the isolate's full GCs. Isolate thread only.
pub fn start(isolate: Isolate, sink: SampleSink) -> Result<u32, ArmError> {
    let sampler = Arc::new(GcSampler { isolate, sink, full_gcs: AtomicU32::new(0), hook: Mutex::new(None) });
    let hook = isolate.on_full_gc(sampler.clone()).ok_or(ArmError::GcCallback)?;
    *lock(&sampler.hook) = Some(hook);
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
    if let Some(hook) = lock(&sampler.hook).take() {
        // Isolate thread: checked above.
        isolate.remove_full_gc(hook);
    }
    true
}

impl AfterFullGc for GcSampler {
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
