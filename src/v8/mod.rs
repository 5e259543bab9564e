//! The V8 boundary: safe Rust over the C++ shim in `shim.cc`.
//!
//! This module owns every `unsafe` call into V8 and libuv. Callers get plain
//! Rust types; each block below says why its use is sound. Nothing here knows
//! about files, channels or JS values.
//!
//! The addon itself uses Node-API only, so one binary serves every Node major.
//! V8's C++ API differs between majors, so its few calls live in a shim built
//! per Node ABI and loaded here at run time ([`load_shim`]): `dlopen` binds its
//! V8 symbols to the running `node`, as an addon's would be, and the shim hands
//! back a table of C functions whose layout version and Node ABI are checked
//! before anything is called. Until a shim is loaded, [`Isolate::current`] is
//! `None` and every capture path reports that no isolate is reachable.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    pub type ChunkFn = unsafe extern "C" fn(ctx: *mut c_void, data: *const c_char, len: usize) -> c_int;
    pub type IsolateFn = unsafe extern "C" fn(isolate: *mut c_void, data: *mut c_void);
    pub type GcFn = unsafe extern "C" fn(isolate: *mut c_void, gc_type: c_int, flags: c_int, data: *mut c_void);
    pub type NearLimitFn = unsafe extern "C" fn(data: *mut c_void, current: usize, initial: usize) -> usize;
    pub type AsyncFn = unsafe extern "C" fn(data: *mut c_void);
    pub type SiteFn = unsafe extern "C" fn(ctx: *mut c_void, site: *const Site);

    /// `hs_site` in shim.cc, field for field.
    #[repr(C)]
    pub struct Site {
        pub parent: u32,
        pub script_id: i32,
        pub line: i32,
        pub column: i32,
        pub self_size: u64,
        pub self_count: u64,
        pub name: *const c_char,
        pub name_len: usize,
        pub script: *const c_char,
        pub script_len: usize,
        pub allocations: *const Allocation,
        pub allocation_count: usize,
    }

    #[repr(C)]
    pub struct Allocation {
        pub size: u64,
        pub count: u64,
    }

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

    /// The layout version of [`Table`]; `HS_SHIM_ABI` in shim.cc.
    pub const TABLE_ABI: u32 = 2;

    /// `hs_shim_table` in shim.cc, field for field.
    #[repr(C)]
    pub struct Table {
        pub abi: u32,
        pub size: u32,
        pub node_module_version: i32,
        pub v8_version: unsafe extern "C" fn() -> *const c_char,
        pub current_isolate: unsafe extern "C" fn() -> *mut c_void,
        pub write_snapshot: unsafe extern "C" fn(*mut c_void, c_int, c_int, ChunkFn, *mut c_void) -> c_int,
        pub heap_statistics: unsafe extern "C" fn(*mut c_void, *mut HeapStats),
        pub young_generation_size: unsafe extern "C" fn(*mut c_void) -> usize,
        pub request_interrupt: unsafe extern "C" fn(*mut c_void, IsolateFn, *mut c_void) -> c_int,
        pub add_gc_epilogue: unsafe extern "C" fn(*mut c_void, GcFn, *mut c_void) -> *mut c_void,
        pub remove_gc_epilogue: unsafe extern "C" fn(*mut c_void, *mut c_void),
        pub add_near_heap_limit: unsafe extern "C" fn(*mut c_void, NearLimitFn, *mut c_void),
        pub remove_near_heap_limit: unsafe extern "C" fn(*mut c_void, NearLimitFn, usize),
        pub restore_initial_heap_limit: unsafe extern "C" fn(*mut c_void, f64),
        pub async_new: unsafe extern "C" fn(*mut c_void, AsyncFn, *mut c_void) -> *mut c_void,
        pub async_send: unsafe extern "C" fn(*mut c_void) -> c_int,
        pub async_close: unsafe extern "C" fn(*mut c_void),
        pub start_sampling: unsafe extern "C" fn(*mut c_void, u64, c_int) -> c_int,
        pub stop_sampling: unsafe extern "C" fn(*mut c_void),
        pub sampling_profile: unsafe extern "C" fn(*mut c_void, SiteFn, *mut c_void) -> c_int,
        pub start_tracking: unsafe extern "C" fn(*mut c_void),
        pub stop_tracking: unsafe extern "C" fn(*mut c_void),
    }

    /// `heapscope_v8_shim`, the shim's one exported symbol.
    pub type Entry = unsafe extern "C" fn(abi: u32) -> *const Table;
}

pub use ffi::HeapStats;
pub use heapscope_core::profile::{Allocation, Site};

/// The loaded shim's table; set once, never unloaded (V8 may hold pointers
/// into the shim's code, e.g. a registered GC callback).
static SHIM: OnceLock<&'static ffi::Table> = OnceLock::new();

/// The shim, once loaded.
fn shim() -> Option<&'static ffi::Table> {
    SHIM.get().copied()
}

/// What the running shim was built for.
#[derive(Debug, Clone)]
pub struct ShimInfo {
    /// NODE_MODULE_VERSION of the headers it was compiled against.
    pub node_module_version: u32,
    /// The version of the V8 inside the running `node`, asked through the shim.
    pub v8_version: String,
}

/// Why a shim file was refused; its message names the file.
#[derive(Debug)]
pub struct ShimError {
    pub path: String,
    pub problem: ShimProblem,
}

#[derive(Debug)]
pub enum ShimProblem {
    NulInPath,
    /// `dlopen` failed, with `dlerror()`'s words (missing file, missing V8 symbol: a shim for another Node).
    Open(String),
    NotAShim,
    /// The shim's table has another layout version than this addon's.
    TableLayout {
        addon: u32,
    },
    TableSize {
        shim: u32,
        addon: usize,
    },
    Abi {
        shim: u32,
        node: u32,
    },
}

impl std::fmt::Display for ShimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = &self.path;
        match &self.problem {
            ShimProblem::NulInPath => write!(f, "{path}: the path holds a NUL byte"),
            ShimProblem::Open(why) => write!(f, "{path}: {why}"),
            ShimProblem::NotAShim => write!(f, "{path}: not a heapscope V8 shim (no heapscope_v8_shim symbol)"),
            ShimProblem::TableLayout { addon } => {
                write!(f, "{path}: the shim has another table layout than this addon (version {addon})")
            }
            ShimProblem::TableSize { shim, addon } => {
                write!(f, "{path}: the shim's table is {shim} bytes, this addon needs {addon}")
            }
            ShimProblem::Abi { shim, node } => write!(f, "{path}: built for Node ABI {shim}, this Node is ABI {node}"),
        }
    }
}

impl std::error::Error for ShimError {}

/// Loads the shim at `path`, built for Node ABI `expected_abi`, unless one is
/// loaded already (then its figures are returned and `path` is not opened).
/// Errors name the file and what was wrong with it.
pub fn load_shim(path: &str, expected_abi: u32) -> Result<ShimInfo, ShimError> {
    let refused = |problem| ShimError { path: path.to_string(), problem };
    if let Some(table) = shim() {
        return Ok(info(table));
    }
    let c_path = CString::new(path).map_err(|_| refused(ShimProblem::NulInPath))?;
    // SAFETY: dlopen takes a NUL-terminated path; RTLD_NOW makes a missing V8
    // symbol (a shim for another Node) fail here rather than at first call.
    // RTLD_LOCAL keeps the shim's own symbols out of the process' namespace.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(refused(ShimProblem::Open(dl_error())));
    }
    // SAFETY: `handle` is a live dlopen handle and the name is NUL-terminated.
    let entry = unsafe { libc::dlsym(handle, c"heapscope_v8_shim".as_ptr()) };
    if entry.is_null() {
        return Err(refused(ShimProblem::NotAShim));
    }
    // SAFETY: the symbol is `heapscope_v8_shim` of shim.cc, whose signature is `Entry`.
    let entry: ffi::Entry = unsafe { std::mem::transmute::<*mut c_void, ffi::Entry>(entry) };
    // SAFETY: the entry point reads its argument and returns a pointer to a
    // static table, or null for a layout it does not have.
    let table = unsafe { entry(ffi::TABLE_ABI) };
    if table.is_null() {
        return Err(refused(ShimProblem::TableLayout { addon: ffi::TABLE_ABI }));
    }
    // SAFETY: non-null, pointing at the shim's static `kTable`, which lives
    // as long as the library, which is never closed.
    let table: &'static ffi::Table = unsafe { &*table };
    if (table.size as usize) < std::mem::size_of::<ffi::Table>() {
        return Err(refused(ShimProblem::TableSize { shim: table.size, addon: std::mem::size_of::<ffi::Table>() }));
    }
    if table.node_module_version as u32 != expected_abi {
        return Err(refused(ShimProblem::Abi { shim: table.node_module_version as u32, node: expected_abi }));
    }
    let _ = SHIM.set(table);
    Ok(info(shim().unwrap_or(table)))
}

fn info(table: &'static ffi::Table) -> ShimInfo {
    // SAFETY: V8 returns a pointer to a static NUL-terminated string.
    let v8_version = unsafe { CStr::from_ptr((table.v8_version)()) }.to_string_lossy().into_owned();
    ShimInfo { node_module_version: table.node_module_version as u32, v8_version }
}

fn dl_error() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string valid until the
    // next dl* call on this thread; it is copied at once.
    let text = unsafe { libc::dlerror() };
    if text.is_null() {
        return "dlopen failed".into();
    }
    // SAFETY: see above.
    unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned()
}

/// V8's `kGCTypeMarkSweepCompact`: a full GC, after which heap figures are live data.
const GC_TYPE_MARK_SWEEP_COMPACT: i32 = 1 << 2;

/// A V8 isolate. Only the methods documented as thread-safe may be used away
/// from the isolate's own thread; the type is `Send` so that signal and poller
/// threads can ask for an interrupt.
#[derive(Clone, Copy)]
pub struct Isolate {
    ptr: *mut c_void,
    /// The shim that found it: an `Isolate` exists only once one is loaded.
    shim: &'static ffi::Table,
}

impl PartialEq for Isolate {
    fn eq(&self, other: &Self) -> bool {
        self.ptr == other.ptr
    }
}
impl Eq for Isolate {}

impl std::fmt::Debug for Isolate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Isolate").field(&self.ptr).finish()
    }
}

// SAFETY: an isolate pointer is a plain address; every method that is not
// thread-safe is marked as needing the isolate's thread and is only called
// from there (JS calls, interrupts, GC callbacks, the loop's async handles).
unsafe impl Send for Isolate {}
// SAFETY: as for Send: shared references only copy the address.
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
    /// `None` off JS threads, and until a shim is loaded.
    pub fn current() -> Option<Isolate> {
        let shim = shim()?;
        // SAFETY: Isolate::GetCurrent reads a thread-local; null off JS threads.
        let ptr = unsafe { (shim.current_isolate)() };
        (!ptr.is_null()).then_some(Isolate { ptr, shim })
    }

    pub fn as_ptr(self) -> *mut c_void {
        self.ptr
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
            // SAFETY: as above, `len` bytes at `data` stay readable until we return.
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
            (self.shim.write_snapshot)(
                self.ptr,
                expose_internals as c_int,
                expose_numeric_values as c_int,
                trampoline,
                ctx,
            )
        };
        match status {
            0 => SnapshotStatus::Complete,
            1 => SnapshotStatus::Aborted,
            2 => SnapshotStatus::NoIsolate,
            _ => SnapshotStatus::Failed,
        }
    }

    /// Starts V8's sampling heap profiler: one sample per `interval` bytes
    /// allocated on average, stacks of at most `depth` frames. Starting it
    /// again keeps the running one (V8's rule). Isolate thread only.
    pub fn start_sampling(self, interval: u64, depth: i32) -> bool {
        // SAFETY: isolate thread (callers' contract); plain values.
        unsafe { (self.shim.start_sampling)(self.ptr, interval, depth as c_int) == 0 }
    }

    /// Stops the sampling heap profiler and drops its samples. Isolate thread only.
    pub fn stop_sampling(self) {
        // SAFETY: isolate thread (callers' contract); V8 ignores a stop without a start.
        unsafe { (self.shim.stop_sampling)(self.ptr) }
    }

    /// Starts V8's allocation tracker: the snapshots taken while it runs
    /// carry each new object's allocating stack. Isolate thread only.
    pub fn start_tracking(self) {
        // SAFETY: isolate thread (callers' contract); starting twice keeps one tracker.
        unsafe { (self.shim.start_tracking)(self.ptr) }
    }

    /// Stops the allocation tracker and drops what it recorded. Isolate thread only.
    pub fn stop_tracking(self) {
        // SAFETY: isolate thread (callers' contract); V8 ignores a stop without a start.
        unsafe { (self.shim.stop_tracking)(self.ptr) }
    }

    /// The live sampled allocations as a tree of sites, parents first;
    /// `None` when the profiler is not sampling. Isolate thread only.
    pub fn sampling_profile(self) -> Option<Vec<Site>> {
        unsafe extern "C" fn collect(ctx: *mut c_void, site: *const ffi::Site) {
            // A panic must not unwind through V8's code.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: `ctx` is the `Vec` below, alive for the whole
                // synchronous hs_sampling_profile call, and only this callback
                // touches it meanwhile.
                let sites = unsafe { &mut *(ctx as *mut Vec<Site>) };
                // SAFETY: the shim passes a valid `hs_site` for the callback's duration.
                let site = unsafe { &*site };
                let text = |ptr: *const c_char, len: usize| {
                    if ptr.is_null() || len == 0 {
                        return String::new();
                    }
                    // SAFETY: `len` bytes of UTF-8 at `ptr` stay valid until we return.
                    String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }).into_owned()
                };
                sites.push(Site {
                    parent: (site.parent != u32::MAX).then_some(site.parent),
                    function_name: text(site.name, site.name_len),
                    url: text(site.script, site.script_len),
                    script_id: site.script_id,
                    line: site.line,
                    column: site.column,
                    self_size: site.self_size,
                    self_count: site.self_count,
                    allocations: if site.allocations.is_null() {
                        Vec::new()
                    } else {
                        // SAFETY: `allocation_count` entries at `allocations`
                        // stay valid until we return.
                        unsafe { std::slice::from_raw_parts(site.allocations, site.allocation_count) }
                            .iter()
                            .map(|a| Allocation { size: a.size, count: a.count })
                            .collect()
                    },
                });
            }));
        }
        let mut sites: Vec<Site> = Vec::new();
        // SAFETY: isolate thread (callers' contract); `collect` and its
        // context outlive the call, which is synchronous.
        let status =
            unsafe { (self.shim.sampling_profile)(self.ptr, collect, &mut sites as *mut Vec<Site> as *mut c_void) };
        (status == 0).then_some(sites)
    }

    /// V8's heap statistics. Isolate thread only.
    pub fn heap_statistics(self) -> HeapStats {
        let mut stats = HeapStats::default();
        // SAFETY: isolate thread (callers' contract); `stats` is a valid out-pointer.
        unsafe { (self.shim.heap_statistics)(self.ptr, &mut stats) };
        stats
    }

    /// Bytes the young generation occupies. Isolate thread only.
    pub fn young_generation_size(self) -> usize {
        // SAFETY: isolate thread (callers' contract); reads heap-space statistics.
        unsafe { (self.shim.young_generation_size)(self.ptr) }
    }

    /// Runs `callback(isolate, data)` on the isolate's thread at its next
    /// interrupt check, even inside a busy JS loop. Thread-safe.
    ///
    /// # Safety
    /// `data` must stay valid until the callback has run, and `callback` must
    /// not unwind.
    pub unsafe fn request_interrupt(self, callback: ffi::IsolateFn, data: *mut c_void) -> bool {
        // SAFETY: RequestInterrupt is documented as callable from any thread.
        unsafe { (self.shim.request_interrupt)(self.ptr, callback, data) == 0 }
    }

    /// Isolate thread only: calls `observer.after_full_gc()` after every full
    /// GC until the hook is removed with [`Isolate::remove_full_gc`]; the hook
    /// holds a strong count of the observer meanwhile.
    pub fn on_full_gc<T: AfterFullGc>(self, observer: Arc<T>) -> Option<FullGcHook> {
        let data = Arc::into_raw(observer) as *mut c_void;
        // SAFETY: isolate thread (callers' contract); `data` stays valid until
        // `remove_full_gc` releases it after unregistering; the trampoline
        // catches panics.
        let reg = unsafe { (self.shim.add_gc_epilogue)(self.ptr, full_gc_trampoline::<T>, data) };
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
        unsafe { (self.shim.remove_gc_epilogue)(self.ptr, hook.reg) };
        // SAFETY: V8 no longer calls the trampoline: release the hook's strong count.
        unsafe { (hook.release)(hook.data) };
    }

    /// # Safety
    /// Isolate thread only; `data` must outlive the registration and `callback`
    /// must not unwind.
    pub unsafe fn add_near_heap_limit(self, callback: ffi::NearLimitFn, data: *mut c_void) {
        // SAFETY: forwarded contract.
        unsafe { (self.shim.add_near_heap_limit)(self.ptr, callback, data) }
    }

    /// # Safety
    /// Isolate thread only.
    pub unsafe fn remove_near_heap_limit(self, callback: ffi::NearLimitFn, heap_limit: usize) {
        // SAFETY: forwarded contract.
        unsafe { (self.shim.remove_near_heap_limit)(self.ptr, callback, heap_limit) }
    }

    /// Isolate thread only: V8 restores the initial heap limit once usage falls
    /// below `threshold_percent` of it.
    pub fn restore_initial_heap_limit(self, threshold_percent: f64) {
        // SAFETY: isolate thread (callers' contract); plain setter.
        unsafe { (self.shim.restore_initial_heap_limit)(self.ptr, threshold_percent) }
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
pub struct AsyncWakeup {
    handle: *mut c_void,
    shim: &'static ffi::Table,
}

impl std::fmt::Debug for AsyncWakeup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AsyncWakeup").field(&self.handle).finish()
    }
}
// SAFETY: uv_async_send is the one libuv call documented as thread-safe; close
// is only called on the loop thread (see `close`).
unsafe impl Send for AsyncWakeup {}
// SAFETY: as for Send: `&self` methods only send, which is thread-safe.
unsafe impl Sync for AsyncWakeup {}

impl AsyncWakeup {
    /// # Safety
    /// Loop thread only; `uv_loop` is a live `uv_loop_t*`; `data` must outlive
    /// the handle and `callback` must not unwind.
    pub unsafe fn new(uv_loop: *mut c_void, callback: ffi::AsyncFn, data: *mut c_void) -> Option<AsyncWakeup> {
        let shim = shim()?;
        // SAFETY: forwarded contract.
        let handle = unsafe { (shim.async_new)(uv_loop, callback, data) };
        (!handle.is_null()).then_some(AsyncWakeup { handle, shim })
    }

    pub fn send(&self) -> bool {
        // SAFETY: thread-safe by libuv's contract; the handle is open until `close`.
        unsafe { (self.shim.async_send)(self.handle) == 0 }
    }

    /// # Safety
    /// Loop thread only, once; no `send` may follow.
    pub unsafe fn close(self) {
        // SAFETY: forwarded contract; libuv frees the handle after its close callback.
        unsafe { (self.shim.async_close)(self.handle) }
    }
}
