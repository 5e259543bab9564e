//! The V8 boundary: safe Rust over the C++ shim in `shim.cc`.
//!
//! This module owns every `unsafe` call into V8 and libuv. Callers get plain
//! Rust types; each block below says why its use is sound. Nothing here knows
//! about files, channels or JS values.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    pub type ChunkFn = unsafe extern "C" fn(ctx: *mut c_void, data: *const c_char, len: usize) -> c_int;
    pub type IsolateFn = unsafe extern "C" fn(isolate: *mut c_void, data: *mut c_void);
    pub type GcFn = unsafe extern "C" fn(isolate: *mut c_void, gc_type: c_int, flags: c_int, data: *mut c_void);
    pub type NearLimitFn = unsafe extern "C" fn(data: *mut c_void, current: usize, initial: usize) -> usize;
    pub type AsyncFn = unsafe extern "C" fn(data: *mut c_void);

    #[repr(C)]
    #[derive(Default)]
    pub struct HeapStats {
        pub total_heap_size: u64,
        pub used_heap_size: u64,
        pub heap_size_limit: u64,
        pub total_physical_size: u64,
        pub malloced_memory: u64,
        pub external_memory: u64,
    }

    extern "C" {
        pub fn hs_node_module_version() -> c_int;
        pub fn hs_v8_version() -> *const c_char;
        pub fn hs_current_isolate() -> *mut c_void;
        pub fn hs_write_snapshot(
            isolate: *mut c_void,
            internals: c_int,
            numerics: c_int,
            f: ChunkFn,
            ctx: *mut c_void,
        ) -> c_int;
        pub fn hs_heap_statistics(isolate: *mut c_void, out: *mut HeapStats);
        pub fn hs_young_generation_size(isolate: *mut c_void) -> usize;
        pub fn hs_request_interrupt(isolate: *mut c_void, f: IsolateFn, data: *mut c_void) -> c_int;
        pub fn hs_add_gc_epilogue(isolate: *mut c_void, f: GcFn, data: *mut c_void) -> *mut c_void;
        pub fn hs_remove_gc_epilogue(isolate: *mut c_void, registration: *mut c_void);
        pub fn hs_add_near_heap_limit(isolate: *mut c_void, f: NearLimitFn, data: *mut c_void);
        pub fn hs_remove_near_heap_limit(isolate: *mut c_void, f: NearLimitFn, heap_limit: usize);
        pub fn hs_restore_initial_heap_limit(isolate: *mut c_void, threshold_percent: f64);
        pub fn hs_async_new(uv_loop: *mut c_void, f: AsyncFn, data: *mut c_void) -> *mut c_void;
        pub fn hs_async_send(handle: *mut c_void) -> c_int;
        pub fn hs_async_close(handle: *mut c_void);
    }
}

pub use ffi::HeapStats;

/// V8's `kGCTypeMarkSweepCompact`: a full GC, after which heap figures are live data.
const GC_TYPE_MARK_SWEEP_COMPACT: i32 = 1 << 2;

/// NODE_MODULE_VERSION of the headers the shim was compiled against.
pub fn node_module_version() -> u32 {
    // SAFETY: returns a compile-time constant; touches no V8 state.
    unsafe { ffi::hs_node_module_version() as u32 }
}

/// V8's own version string, from the V8 inside the running `node`.
pub fn v8_version() -> String {
    // SAFETY: V8 returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(ffi::hs_v8_version()) }.to_string_lossy().into_owned()
}

/// A V8 isolate. Only the methods documented as thread-safe may be used away
/// from the isolate's own thread; the type is `Send` so that signal and poller
/// threads can ask for an interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Isolate(*mut c_void);

// SAFETY: an isolate pointer is a plain address; every method that is not
// thread-safe is marked as needing the isolate's thread and is only called
// from there (JS calls, interrupts, GC callbacks, the loop's async handles).
unsafe impl Send for Isolate {}
unsafe impl Sync for Isolate {}

/// What V8 said at the end of serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotStatus {
    Complete,
    /// The chunk consumer asked to stop (a sink failed).
    Aborted,
    NoIsolate,
    Failed,
}

impl Isolate {
    /// The isolate of the calling thread: the main isolate on Node's main
    /// thread, the worker's inside a `worker_threads` Worker.
    pub fn current() -> Option<Isolate> {
        // SAFETY: Isolate::GetCurrent reads a thread-local; null off JS threads.
        let ptr = unsafe { ffi::hs_current_isolate() };
        (!ptr.is_null()).then_some(Isolate(ptr))
    }

    pub fn as_ptr(self) -> *mut c_void {
        self.0
    }

    /// Takes a heap snapshot and hands its JSON, chunk by chunk, to `on_chunk`;
    /// returning `false` aborts serialization. Isolate thread only.
    pub fn write_snapshot(
        self,
        expose_internals: bool,
        expose_numeric_values: bool,
        on_chunk: &mut dyn FnMut(&[u8]) -> bool,
    ) -> SnapshotStatus {
        unsafe extern "C" fn trampoline(ctx: *mut c_void, data: *const c_char, len: usize) -> c_int {
            // SAFETY: `ctx` is the `&mut &mut dyn FnMut` below, alive for the
            // whole synchronous hs_write_snapshot call; V8 hands us `len`
            // readable bytes at `data`, valid until we return.
            let on_chunk = unsafe { &mut *(ctx as *mut &mut dyn FnMut(&[u8]) -> bool) };
            let chunk = unsafe { std::slice::from_raw_parts(data as *const u8, len) };
            // A panic must not unwind through V8's serializer.
            match catch_unwind(AssertUnwindSafe(|| on_chunk(chunk))) {
                Ok(true) => 0,
                _ => 1,
            }
        }
        let mut on_chunk = on_chunk;
        let ctx = &mut on_chunk as *mut &mut dyn FnMut(&[u8]) -> bool as *mut c_void;
        // SAFETY: called on the isolate's thread (callers' contract); the
        // callback and its context outlive the call, which is synchronous.
        let status = unsafe {
            ffi::hs_write_snapshot(self.0, expose_internals as c_int, expose_numeric_values as c_int, trampoline, ctx)
        };
        match status {
            0 => SnapshotStatus::Complete,
            1 => SnapshotStatus::Aborted,
            2 => SnapshotStatus::NoIsolate,
            _ => SnapshotStatus::Failed,
        }
    }

    /// V8's heap statistics. Isolate thread only.
    pub fn heap_statistics(self) -> HeapStats {
        let mut stats = HeapStats::default();
        // SAFETY: isolate thread (callers' contract); `stats` is a valid out-pointer.
        unsafe { ffi::hs_heap_statistics(self.0, &mut stats) };
        stats
    }

    /// Bytes the young generation occupies. Isolate thread only.
    pub fn young_generation_size(self) -> usize {
        // SAFETY: isolate thread (callers' contract); reads heap-space statistics.
        unsafe { ffi::hs_young_generation_size(self.0) }
    }

    /// Runs `callback(isolate, data)` on the isolate's thread at its next
    /// interrupt check, even inside a busy JS loop. Thread-safe.
    ///
    /// # Safety
    /// `data` must stay valid until the callback has run, and `callback` must
    /// not unwind.
    pub unsafe fn request_interrupt(self, callback: ffi::IsolateFn, data: *mut c_void) -> bool {
        // SAFETY: RequestInterrupt is documented as callable from any thread.
        unsafe { ffi::hs_request_interrupt(self.0, callback, data) == 0 }
    }

    /// Isolate thread only: calls `observer.after_full_gc()` after every full
    /// GC until the hook is removed with [`Isolate::remove_full_gc`]; the hook
    /// holds a strong count of the observer meanwhile.
    pub fn on_full_gc<T: AfterFullGc>(self, observer: Arc<T>) -> Option<FullGcHook> {
        let data = Arc::into_raw(observer) as *mut c_void;
        // SAFETY: isolate thread (callers' contract); `data` stays valid until
        // `remove_full_gc` releases it after unregistering; the trampoline
        // catches panics.
        let reg = unsafe { ffi::hs_add_gc_epilogue(self.0, full_gc_trampoline::<T>, data) };
        if reg.is_null() {
            // SAFETY: the registration failed, so V8 holds no copy of `data`.
            drop(unsafe { Arc::from_raw(data as *const T) });
            return None;
        }
        Some(FullGcHook { reg, data, release: release_observer::<T> })
    }

    /// Isolate thread only; `hook` came from this isolate.
    pub fn remove_full_gc(self, hook: FullGcHook) {
        // SAFETY: isolate thread (callers' contract); the shim frees the registration.
        unsafe { ffi::hs_remove_gc_epilogue(self.0, hook.reg) };
        // SAFETY: V8 no longer calls the trampoline: release the hook's strong count.
        unsafe { (hook.release)(hook.data) };
    }

    /// # Safety
    /// Isolate thread only; `data` must outlive the registration and `callback`
    /// must not unwind.
    pub unsafe fn add_near_heap_limit(self, callback: ffi::NearLimitFn, data: *mut c_void) {
        // SAFETY: forwarded contract.
        unsafe { ffi::hs_add_near_heap_limit(self.0, callback, data) }
    }

    /// # Safety
    /// Isolate thread only.
    pub unsafe fn remove_near_heap_limit(self, callback: ffi::NearLimitFn, heap_limit: usize) {
        // SAFETY: forwarded contract.
        unsafe { ffi::hs_remove_near_heap_limit(self.0, callback, heap_limit) }
    }

    /// Isolate thread only: V8 restores the initial heap limit once usage falls
    /// below `threshold_percent` of it.
    pub fn restore_initial_heap_limit(self, threshold_percent: f64) {
        // SAFETY: isolate thread (callers' contract); plain setter.
        unsafe { ffi::hs_restore_initial_heap_limit(self.0, threshold_percent) }
    }
}

/// What runs after every full GC. It runs inside V8's GC: it may read heap
/// statistics and queue work, nothing more. A panic is caught.
pub trait AfterFullGc: Send + Sync + 'static {
    fn after_full_gc(&self);
}

/// A full-GC observer registered with an isolate.
#[derive(Debug)]
pub struct FullGcHook {
    reg: *mut c_void,
    data: *mut c_void,
    release: unsafe fn(*mut c_void),
}
// SAFETY: opaque tokens, only used by `remove_full_gc` on the isolate thread;
// the observer they point to is Send + Sync.
unsafe impl Send for FullGcHook {}

unsafe extern "C" fn full_gc_trampoline<T: AfterFullGc>(
    _isolate: *mut c_void,
    gc_type: c_int,
    _flags: c_int,
    data: *mut c_void,
) {
    if gc_type & GC_TYPE_MARK_SWEEP_COMPACT == 0 {
        return;
    }
    // SAFETY: `data` is the strong `Arc<T>` count the hook holds while registered.
    let observer = unsafe { &*(data as *const T) };
    let _ = catch_unwind(AssertUnwindSafe(|| observer.after_full_gc()));
}

/// # Safety
/// `data` came from `Arc::<T>::into_raw` in `on_full_gc` and is released once.
unsafe fn release_observer<T>(data: *mut c_void) {
    // SAFETY: forwarded contract.
    drop(unsafe { Arc::from_raw(data as *const T) });
}

/// A libuv async handle: `send` from any thread, the callback runs on the
/// loop's thread. Never keeps the loop alive.
#[derive(Debug)]
pub struct AsyncWakeup(*mut c_void);
// SAFETY: uv_async_send is the one libuv call documented as thread-safe; close
// is only called on the loop thread (see `close`).
unsafe impl Send for AsyncWakeup {}
unsafe impl Sync for AsyncWakeup {}

impl AsyncWakeup {
    /// # Safety
    /// Loop thread only; `uv_loop` is a live `uv_loop_t*`; `data` must outlive
    /// the handle and `callback` must not unwind.
    pub unsafe fn new(uv_loop: *mut c_void, callback: ffi::AsyncFn, data: *mut c_void) -> Option<AsyncWakeup> {
        // SAFETY: forwarded contract.
        let handle = unsafe { ffi::hs_async_new(uv_loop, callback, data) };
        (!handle.is_null()).then_some(AsyncWakeup(handle))
    }

    pub fn send(&self) -> bool {
        // SAFETY: thread-safe by libuv's contract; the handle is open until `close`.
        unsafe { ffi::hs_async_send(self.0) == 0 }
    }

    /// # Safety
    /// Loop thread only, once; no `send` may follow.
    pub unsafe fn close(self) {
        // SAFETY: forwarded contract; libuv frees the handle after its close callback.
        unsafe { ffi::hs_async_close(self.0) }
    }
}
