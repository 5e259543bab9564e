// The V8 boundary: the only C++ in heapscope, built per Node major.
//
// N-API has no heap profiler, interrupt or GC-callback API, so these few
// functions reach V8's C++ API, whose symbols the `node` executable exports.
// Everything here is a thin, C-callable wrapper; policy lives in Rust.
// Only API overloads present in every supported Node major (20..26) are used.
//
// This file is compiled on its own into a small shared library per Node ABI
// (scripts/build-shim.js: a C++ compiler and that Node's headers, no Rust).
// The addon, which uses Node-API only and so loads in every Node, dlopen()s
// the one for the running Node and asks it for its function table by the one
// exported symbol, `heapscope_v8_shim`. Everything else is hidden.

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_version.h>
#include <uv.h>
#include <v8-profiler.h>
#include <v8.h>

extern "C" {

// Returns 0 to continue, anything else to make V8 stop serializing.
typedef int (*hs_chunk_fn)(void* ctx, const char* data, size_t len);
typedef void (*hs_isolate_fn)(void* isolate, void* data);
typedef void (*hs_gc_fn)(void* isolate, int gc_type, int gc_flags, void* data);
typedef size_t (*hs_near_limit_fn)(void* data, size_t current_limit, size_t initial_limit);
typedef void (*hs_async_fn)(void* data);

// Objects of one size a site allocated that are still alive: V8's estimate
// from its samples (each sample scaled by the chance of sampling that size).
struct hs_allocation {
  uint64_t size;
  uint64_t count;
};

// One allocation site of the sampling heap profiler's tree: a JS frame, the
// live sampled bytes allocated right there, and its parent (the caller).
struct hs_site {
  uint32_t parent;  // index of the parent site in the walk; UINT32_MAX for the root
  int32_t script_id;
  int32_t line;    // 1-based; 0 when V8 has none
  int32_t column;  // 1-based; 0 when V8 has none
  uint64_t self_size;
  uint64_t self_count;
  const char* name;  // UTF-8, valid during the callback only
  size_t name_len;
  const char* script;  // the script's URL, UTF-8, valid during the callback only
  size_t script_len;
  const hs_allocation* allocations;  // by object size; valid during the callback only
  size_t allocation_count;
};
typedef void (*hs_site_fn)(void* ctx, const hs_site* site);

struct hs_heap_stats {
  uint64_t total_heap_size;
  uint64_t used_heap_size;
  uint64_t heap_size_limit;
  uint64_t total_physical_size;
  uint64_t malloced_memory;
  uint64_t external_memory;
};

enum hs_snapshot_status {
  HS_SNAPSHOT_OK = 0,
  HS_SNAPSHOT_ABORTED = 1,   // the chunk callback asked to stop
  HS_SNAPSHOT_NO_ISOLATE = 2,
  HS_SNAPSHOT_FAILED = 3,    // V8 returned no snapshot
};

static const char* hs_v8_version(void) { return v8::V8::GetVersion(); }

static void* hs_current_isolate(void) { return v8::Isolate::GetCurrent(); }

}  // extern "C"

namespace {

class ChunkStream final : public v8::OutputStream {
 public:
  ChunkStream(hs_chunk_fn fn, void* ctx) : fn_(fn), ctx_(ctx) {}
  void EndOfStream() override {}
  // V8 buffers this much before each callback; 64 KiB keeps the per-chunk
  // cost (one allocation, one channel send) negligible.
  int GetChunkSize() override { return 64 * 1024; }
  WriteResult WriteAsciiChunk(char* data, int size) override {
    if (fn_(ctx_, data, static_cast<size_t>(size)) != 0) {
      aborted_ = true;
      return kAbort;
    }
    return kContinue;
  }
  bool aborted() const { return aborted_; }
  // Never heap-allocated; defined so that the deleting destructor V8's
  // virtual one implies needs no C++ runtime library from the process.
  static void operator delete(void* p) { free(p); }

 private:
  hs_chunk_fn fn_;
  void* ctx_;
  bool aborted_ = false;
};

struct AsyncHandle {
  uv_async_t handle;
  hs_async_fn fn;
  void* data;
};

void OnAsync(uv_async_t* handle) {
  AsyncHandle* self = static_cast<AsyncHandle*>(handle->data);
  self->fn(self->data);
}

void OnAsyncClosed(uv_handle_t* handle) { free(handle->data); }

struct Trampoline {
  hs_isolate_fn fn;
  void* data;
};

void OnInterrupt(v8::Isolate* isolate, void* raw) {
  Trampoline t = *static_cast<Trampoline*>(raw);
  free(raw);
  t.fn(isolate, t.data);
}

}  // namespace

extern "C" {

// Takes a snapshot of `isolate`'s heap and streams its JSON through `fn`.
// Must run on the isolate's own thread.
static int hs_write_snapshot(void* isolate_ptr, int expose_internals, int expose_numeric_values,
                      hs_chunk_fn fn, void* ctx) {
  v8::Isolate* isolate = static_cast<v8::Isolate*>(isolate_ptr);
  if (isolate == nullptr) return HS_SNAPSHOT_NO_ISOLATE;
  v8::HandleScope scope(isolate);
  v8::HeapProfiler* profiler = isolate->GetHeapProfiler();
  v8::HeapProfiler::HeapSnapshotOptions options;
  options.snapshot_mode = expose_internals ? v8::HeapProfiler::HeapSnapshotMode::kExposeInternals
                                           : v8::HeapProfiler::HeapSnapshotMode::kRegular;
  options.numerics_mode = expose_numeric_values
                              ? v8::HeapProfiler::NumericsMode::kExposeNumericValues
                              : v8::HeapProfiler::NumericsMode::kHideNumericValues;
  const v8::HeapSnapshot* snapshot = profiler->TakeHeapSnapshot(options);
  if (snapshot == nullptr) return HS_SNAPSHOT_FAILED;
  ChunkStream stream(fn, ctx);
  snapshot->Serialize(&stream, v8::HeapSnapshot::kJSON);
  // The profiler owns the snapshot until deleted; keeping it would hold
  // hundreds of MB for nothing.
  const_cast<v8::HeapSnapshot*>(snapshot)->Delete();
  return stream.aborted() ? HS_SNAPSHOT_ABORTED : HS_SNAPSHOT_OK;
}

static void hs_heap_statistics(void* isolate_ptr, hs_heap_stats* out) {
  v8::HeapStatistics stats;
  static_cast<v8::Isolate*>(isolate_ptr)->GetHeapStatistics(&stats);
  out->total_heap_size = stats.total_heap_size();
  out->used_heap_size = stats.used_heap_size();
  out->heap_size_limit = stats.heap_size_limit();
  out->total_physical_size = stats.total_physical_size();
  out->malloced_memory = stats.malloced_memory();
  out->external_memory = stats.external_memory();
}

// Bytes the young generation currently occupies (new space and new large
// objects): the most a GC can promote into the old generation at once, which
// is what a raised heap limit must leave room for.
static size_t hs_young_generation_size(void* isolate_ptr) {
  v8::Isolate* isolate = static_cast<v8::Isolate*>(isolate_ptr);
  size_t young = 0;
  v8::HeapSpaceStatistics stats;
  for (size_t i = 0; i < isolate->NumberOfHeapSpaces(); ++i) {
    if (!isolate->GetHeapSpaceStatistics(&stats, i)) continue;
    const char* name = stats.space_name();
    if (strcmp(name, "new_space") == 0 || strcmp(name, "new_large_object_space") == 0) {
      young += stats.space_size();
    }
  }
  return young;
}

// Safe from any thread: runs `fn` on the isolate's thread as soon as it
// executes JS again, including inside `while (true) {}`.
static int hs_request_interrupt(void* isolate_ptr, hs_isolate_fn fn, void* data) {
  Trampoline* t = static_cast<Trampoline*>(malloc(sizeof(Trampoline)));
  if (t == nullptr) return -1;
  t->fn = fn;
  t->data = data;
  static_cast<v8::Isolate*>(isolate_ptr)->RequestInterrupt(OnInterrupt, t);
  return 0;
}

struct GcTrampoline {
  hs_gc_fn fn;
  void* data;
};

static void OnGcEpilogue(v8::Isolate* isolate, v8::GCType type, v8::GCCallbackFlags flags,
                         void* raw) {
  GcTrampoline* t = static_cast<GcTrampoline*>(raw);
  t->fn(isolate, static_cast<int>(type), static_cast<int>(flags), t->data);
}

// Returns an opaque registration to pass to hs_remove_gc_epilogue.
static void* hs_add_gc_epilogue(void* isolate_ptr, hs_gc_fn fn, void* data) {
  GcTrampoline* t = static_cast<GcTrampoline*>(malloc(sizeof(GcTrampoline)));
  if (t == nullptr) return nullptr;
  t->fn = fn;
  t->data = data;
  static_cast<v8::Isolate*>(isolate_ptr)->AddGCEpilogueCallback(OnGcEpilogue, t);
  return t;
}

static void hs_remove_gc_epilogue(void* isolate_ptr, void* registration) {
  static_cast<v8::Isolate*>(isolate_ptr)->RemoveGCEpilogueCallback(OnGcEpilogue, registration);
  free(registration);
}

static void hs_add_near_heap_limit(void* isolate_ptr, hs_near_limit_fn fn, void* data) {
  static_cast<v8::Isolate*>(isolate_ptr)->AddNearHeapLimitCallback(fn, data);
}

static void hs_remove_near_heap_limit(void* isolate_ptr, hs_near_limit_fn fn, size_t heap_limit) {
  static_cast<v8::Isolate*>(isolate_ptr)->RemoveNearHeapLimitCallback(fn, heap_limit);
}

static void hs_restore_initial_heap_limit(void* isolate_ptr, double threshold_percent) {
  static_cast<v8::Isolate*>(isolate_ptr)->AutomaticallyRestoreInitialHeapLimit(threshold_percent);
}

// A uv_async_t on `loop` that calls `fn(data)` on the loop's thread. Unref'd:
// it never keeps the process alive by itself.
static void* hs_async_new(void* loop, hs_async_fn fn, void* data) {
  AsyncHandle* self = static_cast<AsyncHandle*>(calloc(1, sizeof(AsyncHandle)));
  if (self == nullptr) return nullptr;
  self->fn = fn;
  self->data = data;
  self->handle.data = self;
  if (uv_async_init(static_cast<uv_loop_t*>(loop), &self->handle, OnAsync) != 0) {
    free(self);
    return nullptr;
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(&self->handle));
  return self;
}

// Safe from any thread.
static int hs_async_send(void* handle) { return uv_async_send(&static_cast<AsyncHandle*>(handle)->handle); }

// Loop thread only; the memory is freed once libuv is done with it.
static void hs_async_close(void* handle) {
  uv_close(reinterpret_cast<uv_handle_t*>(&static_cast<AsyncHandle*>(handle)->handle),
           OnAsyncClosed);
}

// V8's sampling heap profiler: a Poisson sample of allocations, one every
// `interval` bytes on average, each with the JS stack that made it (at most
// `depth` frames). Samples of objects the GC frees are dropped, so the
// profile is of live memory. Isolate thread only.
static int hs_start_sampling(void* isolate_ptr, uint64_t interval, int depth) {
  v8::HeapProfiler* profiler = static_cast<v8::Isolate*>(isolate_ptr)->GetHeapProfiler();
  return profiler->StartSamplingHeapProfiler(interval, depth) ? 0 : -1;
}

static void hs_stop_sampling(void* isolate_ptr) {
  static_cast<v8::Isolate*>(isolate_ptr)->GetHeapProfiler()->StopSamplingHeapProfiler();
}

// V8's allocation tracker: from now on every allocation is recorded with its
// JS stack, and the snapshots taken while it runs carry those stacks
// (DevTools' "Allocation instrumentation on timeline"). It slows allocation
// down (V8 turns off inline allocation): for staging. Isolate thread only.
static void hs_start_tracking(void* isolate_ptr) {
  static_cast<v8::Isolate*>(isolate_ptr)->GetHeapProfiler()->StartTrackingHeapObjects(true);
}

// Stops it and drops what it recorded. Isolate thread only.
static void hs_stop_tracking(void* isolate_ptr) {
  static_cast<v8::Isolate*>(isolate_ptr)->GetHeapProfiler()->StopTrackingHeapObjects();
}

// Depth first, parents before children; V8 bounds the depth by the
// profiler's stack depth, so recursion stays shallow.
static void WalkSites(v8::Isolate* isolate, v8::AllocationProfile::Node* node, uint32_t parent, uint32_t* next,
                      hs_site_fn fn, void* ctx) {
  hs_site site;
  site.parent = parent;
  site.script_id = node->script_id;
  site.line = node->line_number;
  site.column = node->column_number;
  site.self_size = 0;
  site.self_count = 0;
  // malloc, not std::vector: the shim links nothing, and operator new
  // would be one more symbol to find in the process. Without memory the
  // site goes without its sizes.
  size_t count = node->allocations.size();
  hs_allocation* allocations =
      count > 0 ? static_cast<hs_allocation*>(malloc(count * sizeof(hs_allocation))) : nullptr;
  for (size_t i = 0; i < count; ++i) {
    uint64_t size = static_cast<uint64_t>(node->allocations[i].size);
    uint64_t objects = node->allocations[i].count;
    site.self_size += size * objects;
    site.self_count += objects;
    if (allocations != nullptr) allocations[i] = hs_allocation{size, objects};
  }
  site.allocations = allocations;
  site.allocation_count = allocations != nullptr ? count : 0;
  v8::String::Utf8Value name(isolate, node->name);
  v8::String::Utf8Value script(isolate, node->script_name);
  site.name = *name != nullptr ? *name : "";
  site.name_len = *name != nullptr ? static_cast<size_t>(name.length()) : 0;
  site.script = *script != nullptr ? *script : "";
  site.script_len = *script != nullptr ? static_cast<size_t>(script.length()) : 0;
  uint32_t self = (*next)++;
  fn(ctx, &site);
  free(allocations);
  for (size_t i = 0; i < node->children.size(); ++i) WalkSites(isolate, node->children[i], self, next, fn, ctx);
}

// The sampled allocations still alive, as a tree of sites through `fn`.
// -1 when the profiler is not sampling. Isolate thread only.
static int hs_sampling_profile(void* isolate_ptr, hs_site_fn fn, void* ctx) {
  v8::Isolate* isolate = static_cast<v8::Isolate*>(isolate_ptr);
  v8::HandleScope scope(isolate);
  v8::AllocationProfile* profile = isolate->GetHeapProfiler()->GetAllocationProfile();
  if (profile == nullptr) return -1;
  uint32_t next = 0;
  WalkSites(isolate, profile->GetRootNode(), UINT32_MAX, &next, fn, ctx);
  // V8's own deleting destructor, through the vtable.
  delete profile;
  return 0;
}

// The table the addon reads. Its layout is the contract between the addon and
// every shim: append fields only, and bump HS_SHIM_ABI on any other change.
#define HS_SHIM_ABI 2

struct hs_shim_table {
  uint32_t abi;                  // HS_SHIM_ABI
  uint32_t size;                 // sizeof(hs_shim_table) as this shim was compiled
  int32_t node_module_version;   // NODE_MODULE_VERSION of the headers
  const char* (*v8_version)(void);
  void* (*current_isolate)(void);
  int (*write_snapshot)(void*, int, int, hs_chunk_fn, void*);
  void (*heap_statistics)(void*, hs_heap_stats*);
  size_t (*young_generation_size)(void*);
  int (*request_interrupt)(void*, hs_isolate_fn, void*);
  void* (*add_gc_epilogue)(void*, hs_gc_fn, void*);
  void (*remove_gc_epilogue)(void*, void*);
  void (*add_near_heap_limit)(void*, hs_near_limit_fn, void*);
  void (*remove_near_heap_limit)(void*, hs_near_limit_fn, size_t);
  void (*restore_initial_heap_limit)(void*, double);
  void* (*async_new)(void*, hs_async_fn, void*);
  int (*async_send)(void*);
  void (*async_close)(void*);
  int (*start_sampling)(void*, uint64_t, int);
  void (*stop_sampling)(void*);
  int (*sampling_profile)(void*, hs_site_fn, void*);
  void (*start_tracking)(void*);
  void (*stop_tracking)(void*);
};

static const hs_shim_table kTable = {
    HS_SHIM_ABI,
    sizeof(hs_shim_table),
    NODE_MODULE_VERSION,
    hs_v8_version,
    hs_current_isolate,
    hs_write_snapshot,
    hs_heap_statistics,
    hs_young_generation_size,
    hs_request_interrupt,
    hs_add_gc_epilogue,
    hs_remove_gc_epilogue,
    hs_add_near_heap_limit,
    hs_remove_near_heap_limit,
    hs_restore_initial_heap_limit,
    hs_async_new,
    hs_async_send,
    hs_async_close,
    hs_start_sampling,
    hs_stop_sampling,
    hs_sampling_profile,
    hs_start_tracking,
    hs_stop_tracking,
};

// The one exported symbol. Returns null when the addon asks for a table
// layout this shim does not have; the addon then refuses it with that reason.
__attribute__((visibility("default"))) const hs_shim_table* heapscope_v8_shim(uint32_t abi) {
  return abi == HS_SHIM_ABI ? &kTable : nullptr;
}

}  // extern "C"
