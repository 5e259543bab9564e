// The native addon's declarations, written by scripts/native-types.js from
// what napi-rs' macros say of the Rust source. Do not edit: change the Rust
// item (its doc comments become these) and run `npm run build && npm run types`.
// The public API, index.d.ts, is built on these.

/**
 * Objects allocated by one stack: its innermost frame (the allocating
 * function), how many objects and bytes, and the whole stack, innermost first.
 */
export interface AllocationSite {
  functionName: string
  url: string
  line: number
  column: number
  count: number
  size: number
  stack: Array<StackFrame>
  /**
   * `count` and `size` are V8's estimates from its sampling heap profiler
   * (`allocationSites: 'sampling'`), not objects counted in the snapshot.
   */
  sampled: boolean
}

export interface AnalyzeFailure {
  message: string
  code: string
  /** The file, when the snapshot came from one. */
  path?: string
  /** Byte offset in the (decompressed) JSON where the problem was found… */
  offset?: number
  /** …or the node or edge (by ordinal) that does not fit the rest. */
  node?: number
  edge?: number
}

export interface AnalyzeOptions {
  /** Class rows to return (largest retained size first). Default 50. */
  topClasses?: number
  /** Objects to return with their retainer paths. Default 20. */
  topObjects?: number
  /**
   * Most threads the analysis keeps busy at once. Default: what this
   * process may use (its cores, CPU affinity and cgroup CPU quota).
   */
  threads?: number
  /** `"idle"` (default: only CPU time nobody else wants) or `"normal"`. */
  priority?: string
  /**
   * `snapshot({ analyze: true, keep: true })`: keep the analysed graph
   * for queries (a heap handle) instead of freeing it after the Summary.
   */
  keep?: boolean
}

export interface AnalyzeOutcome {
  summary?: Summary
  error?: AnalyzeFailure
  /** The analysed snapshot kept for queries, when asked (`keep`). */
  heap?: HeapHandle
}

export interface AnalyzeProgress {
  phase: string
  /** 0–1 within reading; null for later phases. */
  fraction?: number
}

/** `snapshot({ analyze: true })`: the snapshot and its analysis. */
export interface AnalyzedSnapshot {
  /** The file (when written), or what V8 produced (`path` empty). */
  snapshot: SnapshotOutcome
  analysis: AnalyzeOutcome
}

/** A variable of a closure's context. */
export interface CapturedVariable {
  name: string
  retainedSize: number
}

/** A Comparison-view row: objects added and removed in one class. */
export interface ClassDiff {
  /** DevTools' class key: the name, split by constructor location. */
  key: string
  name: string
  addedCount: number
  removedCount: number
  countDelta: number
  addedSize: number
  removedSize: number
  sizeDelta: number
}

/** A Summary-view row, with Chrome DevTools' definitions. */
export interface ClassSummary {
  name: string
  /** DevTools' class key: `,Name`, or `scriptId,line,column,Name` for objects with a constructor location. */
  key: string
  /** Objects with a non-zero self size. */
  count: number
  /** Bytes, after DevTools moves single-owner arrays' and hidden objects' sizes to their owner. */
  selfSize: number
  /** Bytes retained by the class's topmost members in the dominator tree. */
  retainedSize: number
  /** Shortest distance from a GC root (user roots first, as DevTools). */
  distance: number
  /**
   * When the snapshot has allocation traces (taken while allocation
   * tracking ran): the stacks that allocated most of its objects (up to 3).
   */
  allocationSites?: Array<AllocationSite>
}

/** A closure and the variables its context holds, largest first. */
export interface ClosureContext {
  closure: HeapObject
  /** The context object, `null` for a function that captures nothing. */
  context?: HeapObject
  variables: EdgePage
}

export interface ClosurePage {
  total: number
  items: Array<ClosureContext>
}

/** `session.mark()` and `session.leaks()`: a snapshot compared as it streams. */
export interface ComparedSnapshot {
  snapshot: SnapshotOutcome
  outcome: LeakOutcome
}

/** Which threshold was crossed, and by how much. */
export interface Crossing {
  /** `heapUsed`, `heapLimit`, `rss` or `containerLimit`. */
  metric: string
  value: number
  limit: number
}

/**
 * Where triggered snapshots go (signal, thresholds): a snapshot request
 * (no exact `path`: each snapshot gets a new name), whether to be quiet, and
 * how many of them the directory may keep.
 */
export interface DumpOptions {
  request: SnapshotRequest
  /** No line on stderr. */
  quiet?: boolean
  /** Keep at most this many snapshots in the directory (oldest removed). */
  retainFiles?: number
  /** Keep at most this many bytes of snapshots in the directory. */
  retainBytes?: number
  /**
   * Check, before each snapshot, that about this many times the used heap
   * of memory is left (the signal's preflight); absent: no check.
   */
  memoryFactor?: number
}

/** Strings of one value held more than once. */
export interface DuplicateString {
  /** The value (V8 writes at most 1,024 characters of it). */
  value: string
  count: number
  /** Bytes of all the copies, and of all but the largest. */
  size: number
  wasted: number
  /** Some of the objects, largest retained size first (up to three). */
  examples: Array<HeapObject>
}

export interface DuplicateStringPage {
  /** Values held more than once, in all. */
  total: number
  items: Array<DuplicateString>
}

export interface EdgePage {
  /** Edges in all; `items` is the page asked for. */
  total: number
  items: Array<HeapEdge>
}

/** A failure, with what Node's own errors carry. */
export interface Failure {
  message: string
  /** `ENOSPC`, `EACCES`, … or `ERR_HEAPSCOPE_*` for non-system failures. */
  code: string
  errno: number
  syscall?: string
  path?: string
}

/** What `find()` looks for; every given part must hold. */
export interface FindQuery {
  className?: string
  type?: string
  property?: string
  /** A substring of the name (a string's value, a function's name)… */
  value?: string
  /** …or a pattern it matches (Rust's regex syntax, linear time). */
  pattern?: string
}

/** One full GC's figures, in bytes; `at` in ms since the epoch. */
export interface GcSample {
  at: number
  heapUsed: number
  heapTotal: number
  heapLimit: number
  external: number
  rss: number
  /** Full GCs seen by this sampler, this one included. */
  fullGcs: number
}

/**
 * An edge and the object at its other end (its target among an object's
 * edges; the retainer among its retainers).
 */
export interface HeapEdge {
  /** DevTools' edge name: a property's name, an element's index. */
  name: string
  type: string
  node: HeapObject
}

/** A snapshot analysed and kept in memory until `close()`. */
export declare class HeapHandle {
  /** Bytes of snapshot nodes and edges; for `statistics()`-like totals. */
  get nodeCount(): number
  get totalSize(): number
  /** The object `@id` and a page of its edges (DevTools' Summary order); `null` for no such id. */
   node(id: number, offset?: number | undefined | null, limit?: number | undefined | null): Promise<ObjectWithEdges | null>
  /** A page of `@id`'s retainers (DevTools' Retainers view order); `null` for no such id. */
   retainers(id: number, offset?: number | undefined | null, limit?: number | undefined | null): Promise<EdgePage | null>
  /** DevTools' retaining path from the root to `@id`; `null` for no such id. */
   path(id: number): Promise<RetainingPath | null>
  /** `@id`'s dominators, its immediate one first, out to the root; `null` for no such id. */
   dominators(id: number): Promise<HeapObject[] | null>
  /** A page of what `@id` immediately dominates, largest retained size first; `null` for no such id. */
   dominated(id: number, offset?: number | undefined | null, limit?: number | undefined | null): Promise<ObjectPage | null>
  /** A page of a Summary class's objects, largest retained size first. */
   instances(className: string, offset?: number | undefined | null, limit?: number | undefined | null): Promise<ObjectPage>
  /** Milliseconds reading and analysing took. */
  get openMs(): number
  /**
   * What `analyze()` answers, from the heap in memory: the `top_classes`
   * largest classes and the `top_objects` largest objects with their paths.
   */
   summary(topClasses: number, topObjects: number): Promise<Summary>
  /** A page of the string values held more than once, most bytes wasted first. */
   duplicateStrings(offset?: number | undefined | null, limit?: number | undefined | null): Promise<DuplicateStringPage>
  /**
   * A page of the objects that answer `query`, largest retained size
   * first. Throws on a pattern the regex syntax refuses.
   */
   find(query: FindQuery, offset?: number | undefined | null, limit?: number | undefined | null): Promise<ObjectPage>
  /**
   * A page of the closures, largest retained size first, each with its
   * `variables` largest few (up to `variables`).
   */
   closures(offset: number | undefined | null, limit: number | undefined | null, variables: number): Promise<{ total: number; items: ClosureContext[] }>
  /** A closure's (or a context's) captured variables, largest first; `null` for no such id. */
   context(id: number, offset?: number | undefined | null, limit?: number | undefined | null): Promise<ClosureContext | null>
  /** DevTools' Statistics: code, strings, JS arrays, typed arrays, system. */
   statistics(): Promise<SnapshotStatistics>
  /** Lets the heap go: its memory is freed once queries still running end. */
   close(): void
}

/** An object of the snapshot, as DevTools describes it. */
export interface HeapObject {
  /** The node id DevTools shows as `@id`. */
  id: number
  /** DevTools' name: a concatenated string spelled out, a plain object as `{a, b}`. */
  name: string
  type: string
  /** The Summary row it is counted in (a V8 root: its own name, `(GC roots)`). */
  className: string
  selfSize: number
  retainedSize: number
  /** Edges from the nearest root (user roots first), as DevTools counts them. */
  distance: number
}

/** V8's heap statistics for the calling thread's isolate. */
export interface HeapStatistics {
  totalHeapSize: number
  usedHeapSize: number
  heapSizeLimit: number
  totalPhysicalSize: number
  mallocedMemory: number
  externalMemory: number
}

/** New objects of one class that a suspect or group holds. */
export interface HeldClass {
  name: string
  count: number
  size: number
}

export interface LeakOptionsJs {
  minGrowth?: number
  limit?: number
  /** Compare files even when their ids say they are of two processes. */
  force?: boolean
  /** Most threads the comparison keeps busy at once (as `AnalyzeOptions`'). */
  threads?: number
  /** As `AnalyzeOptions`' (files only: a live snapshot's analysis is always idle). */
  priority?: string
}

/** A result or the error that stopped it (file path and byte offset in the message). */
export interface LeakOutcome {
  report?: LeakReport
  diff?: SnapshotDiff
  digest?: SnapshotDigest
  error?: AnalyzeFailure
}

/** What grew from the baseline to the last snapshot, and what holds it. */
export interface LeakReport {
  suspects: Array<LeakSuspect>
  /** Classes compared between the baseline and the last snapshot. */
  diff: Array<ClassDiff>
  /** New objects since the baseline still alive at the end, by where they hang. */
  newObjects: Array<NewObjectGroup>
  /** DevTools' total of each snapshot, oldest first. */
  totalSizes: Array<number>
  /**
   * The least growth a suspect needed, in bytes (the `minGrowth` used;
   * 0 with `smallLeaks`).
   */
  minGrowth: number
  /**
   * No `minGrowth` was given and nothing grew by the default 64 KiB: the
   * suspects grew by less, but at every step, and hold objects of the
   * leak set.
   */
  smallLeaks: boolean
}

/** An object whose retained size grew, and the path that holds it. */
export interface LeakSuspect {
  /** From a GC root down to the object that holds the growth. */
  path: Array<RetainerStep>
  /** The path as people read it: `global → chocolate (ChocolateClass) → sugar (Array)`. */
  pathText: string
  /** The holder's snapshot id (`@123` in DevTools). */
  id: number
  className: string
  /** Retained size at this path in each snapshot compared, oldest first. */
  retained: Array<number>
  growth: number
  /**
   * Of the steps between snapshots, how many it grew in (a leak grows at
   * every step; what grew once ranks below).
   */
  stepsGrown: number
  /** Objects it retains that are new since the baseline. */
  newObjects: number
  newSize: number
  /**
   * Of those, the ones already there at the target (memlab's leak set:
   * suspects rank by its size; what came after the target may be work in
   * flight). 0 with two snapshots.
   */
  leakedObjects: number
  leakedSize: number
  classes: Array<HeldClass>
  /** The largest groups of new objects it holds, by where they hang (up to 3). */
  through: Array<NewObjectGroup>
  /**
   * Where its new objects were allocated, most bytes first (up to 5):
   * when the last snapshot has allocation traces (a session with
   * `allocationSites: 'tracking'`, or a file taken while tracking), or
   * from V8's sampling heap profiler (`allocationSites: 'sampling'`).
   */
  allocationSites: Array<AllocationSite>
}

/** A snapshot the preflight refuses: why, what it would need, what is left. */
export interface MemoryShortfall {
  message: string
  needed: number
  available: number
}

/** Native memory in DevTools' Statistics. */
export interface NativeStatistics {
  total: number
  /** Backing stores of ArrayBuffers. */
  typedArrays: number
}

/**
 * New objects hanging from one place: grouped by the retainer path of the
 * outermost new object above them in the dominator tree, element indexes
 * ignored (the entries pushed into one array are one group).
 */
export interface NewObjectGroup {
  /** The path of the group's largest outermost new object. */
  path: Array<RetainerStep>
  pathText: string
  /** Outermost new objects in the group (entries of one array, say). */
  roots: number
  objects: number
  size: number
  classes: Array<HeldClass>
  /**
   * When the group's largest outermost new object is a closure: the
   * variables it captures, largest retained size first (up to 3).
   */
  captured: Array<CapturedVariable>
}

export interface ObjectPage {
  /** Objects in all; `items` is the page asked for. */
  total: number
  items: Array<HeapObject>
}

/** One of the objects that retain the most, with its shortest retainer path. */
export interface ObjectSummary {
  /** The node's snapshot id (`@123` in DevTools). */
  id: number
  name: string
  className: string
  type: string
  selfSize: number
  retainedSize: number
  distance: number
  /** From a GC root down to this object. */
  path: Array<RetainerStep>
  /**
   * The path as people read it: `global → cache (Map)`, V8's roots by
   * their names (`(Stack roots) → …`).
   */
  pathText: string
}

/** An object and a page of its edges. */
export interface ObjectWithEdges {
  object: HeapObject
  edges: EdgePage
}

export interface OpenOptions {
  /** As `AnalyzeOptions`'. */
  threads?: number
  priority?: string
}

/** `open()`'s answer: the heap, or why not (file and byte offset in the message). */
export interface OpenOutcome {
  heap?: HeapHandle
  error?: AnalyzeFailure
}

/**
 * What redaction replaced in a file: entries of its string table, the bytes
 * they held, and how many of them were keys (dictionaries', Maps').
 */
export interface Redacted {
  strings: number
  bytes: number
  keys: number
}

/** One step of a retainer path: the edge taken and the node it reaches. */
export interface RetainerStep {
  /** The edge's name as DevTools shows it (`cache`, `[3]`, `table` …). */
  edge: string
  edgeType: string
  name: string
  className: string
  /** The node's snapshot id (`@123` in DevTools). */
  id: number
}

/** A retaining path from the root: each step an edge and the object it leads to. */
export interface RetainingPath {
  steps: Array<HeapEdge>
  /** As people read it: `global → cache (Map) → table (Array)`. */
  text: string
}

/**
 * A site of the sampling heap profile as JS gets it: a JS frame and the live
 * sampled memory allocated right there (lib/sampling.js builds the tree).
 */
export interface SampledSite {
  /** The caller's index in this list; -1 for the root. */
  parent: number
  functionName: string
  url: string
  scriptId: number
  /** 1-based; 0 when V8 has none. */
  line: number
  column: number
  selfSize: number
  selfCount: number
}

/** A V8 shim the addon talks to. */
export interface ShimLoaded {
  /** NODE_MODULE_VERSION of the headers the shim was compiled against. */
  nodeModuleVersion: number
  /** The version of the V8 inside the running `node`, as the shim sees it. */
  v8Version: string
}

/** Why a triggered snapshot was not taken. */
export interface Skipped {
  /** `memory` (preflight) or `max-snapshots`. */
  reason: string
  message: string
  needed?: number
  available?: number
}

/** Two snapshots of one process compared. */
export interface SnapshotDiff {
  /** Objects added and removed per class, exactly as DevTools' Comparison view. */
  classes: Array<ClassDiff>
  /** New objects still alive, largest group first. */
  newObjects: Array<NewObjectGroup>
  /** DevTools' total of each snapshot. */
  totalSizes: Array<number>
}

/**
 * What an earlier snapshot leaves for later comparisons (ids, classes, sizes
 * and its largest objects by path), without its graph.
 */
export declare class SnapshotDigest {
  get nodeCount(): number
  get totalSize(): number
}

/**
 * A snapshot file fed from JS, for a Node that no V8 shim fits: the chunks
 * of Node's own `v8.getHeapSnapshot()` stream, or of an inspector session's
 * `HeapProfiler.addHeapSnapshotChunk` events, go through the same sink as
 * the shim's (temporary name, 0600, checked writes, fsync, rename).
 */
export declare class SnapshotFile {
  /**
   * Creates the temporary file. A failure (bad template, EACCES, …) is
   * kept and reported by `finish()`, as the shim's path reports it.
   */
  static open(request: SnapshotRequest): SnapshotFile
  /** The final path this file will have. */
  get path(): string
  /**
   * Appends a chunk (a string of JSON or its bytes). Returns false once
   * writing has failed; `finish()` then says why.
   */
   write(chunk: string | Buffer): boolean
  /**
   * Ends the file: `complete` when the producer delivered the whole
   * snapshot, else the temporary file is removed. `pause_ms` and
   * `heap_used` are the producer's figures, reported as given.
   */
   finish(complete: boolean, pauseMs: number, heapUsed: number): Promise<SnapshotOutcome>
}

/** The result of a snapshot request, success or failure. */
export interface SnapshotOutcome {
  ok: boolean
  path: string
  bytes: number
  rawBytes: number
  pauseMs: number
  durationMs: number
  heapUsed: number
  seq: number
  compressed: boolean
  /** Set for triggered snapshots: `signal`, `threshold`, `near-limit`. */
  trigger?: string
  error?: Failure
  /**
   * Temporary files of writers that died (killed mid-write), removed from
   * the directory before this one was written.
   */
  reclaimed: Array<string>
  /** Set when the file was redacted. */
  redacted?: Redacted
  /** The `.heapprofile` written beside it, when asked for while sampling. */
  profile?: string
  /** Why that profile could not be written (the snapshot itself was). */
  profileError?: string
}

/** Where to write and what to ask V8 for. */
export interface SnapshotRequest {
  /** Exact path; when absent, `dir` + `filename` template. */
  path?: string
  dir?: string
  filename?: string
  /** The calling thread's `worker_threads.threadId`, for `{tid}`. */
  threadId?: number
  /** gzip level 0–9; absent writes plain JSON. */
  gzip?: number
  exposeInternals?: boolean
  exposeNumericValues?: boolean
  /** Use node-heapdump's default file name when no path is given. */
  heapdumpName?: boolean
  /** Replace the heap's strings in the file as V8 streams it. */
  redact?: boolean
  /** What asked for the snapshot, for `{trigger}`: `api` when absent. */
  trigger?: string
  /** Write the sampling heap profile (when sampling) beside the snapshot. */
  profile?: boolean
}

/** DevTools' Statistics (the Summary's pie), in its shape. */
export interface SnapshotStatistics {
  total: number
  native: NativeStatistics
  v8heap: V8HeapStatistics
}

/**
 * A JS frame: a function, its script, and where the function starts
 * (1-based; 0 when V8 had no position).
 */
export interface StackFrame {
  functionName: string
  url: string
  line: number
  column: number
}

/** What Chrome DevTools' Summary view shows of one snapshot. */
export interface Summary {
  /** The file analysed. */
  path: string
  nodeCount: number
  edgeCount: number
  /** DevTools' total: the root's retained size plus V8's extra native bytes. */
  totalSize: number
  /** How many class rows there are in all (only `topClasses` are returned). */
  classCount: number
  classes: Array<ClassSummary>
  objects: Array<ObjectSummary>
  parseMs: number
  analyzeMs: number
}

/** One threshold as the watcher understood it. */
export interface ThresholdInfo {
  metric: string
  /** The limit in bytes, when active. */
  limit?: number
  /** The share asked for (`heapLimit`, `containerLimit`). */
  ratio?: number
  active: boolean
  /** Why a threshold is inactive, or where its limit comes from. */
  note?: string
}

/** What native triggers tell JS. */
export interface TriggerEvent {
  /** `snapshot` or `skipped`. */
  kind: string
  /** The watcher concerned; 0 for the signal. */
  watcher: number
  outcome?: SnapshotOutcome
  crossing?: Crossing
  /** Files removed by retention after this snapshot. */
  pruned?: Array<string>
  skipped?: Skipped
}

/** The JS heap in DevTools' Statistics. */
export interface V8HeapStatistics {
  total: number
  code: number
  jsArrays: number
  strings: number
  system: number
}

export interface WatchInfo {
  id: number
  thresholds: Array<ThresholdInfo>
  heapLimit: number
  containerLimit?: number
  /** Temporary files of dead writers removed from the directory on arming. */
  reclaimed: Array<string>
}

/** A watcher's thresholds and settings, validated by the JS layer. */
export interface WatchOptions {
  dump: DumpOptions
  heapUsed?: number
  rss?: number
  heapLimitRatio?: number
  containerLimitRatio?: number
  rearmRatio: number
  cooldownMs: number
  maxSnapshots: number
  intervalMs: number
  memoryFactor: number
  /** Snapshots to write near the heap limit (0: off). */
  nearHeapLimit: number
  /** A snapshot every this many milliseconds (the timer), if set. */
  everyMs?: number
}

/**
 * Reads and analyses a snapshot file: from a libuv pool thread, on threads
 * of the lowest priority.
 */
export declare function analyzeFile(path: string, options: AnalyzeOptions, progress?: ((arg: AnalyzeProgress) => void) | undefined | null): Promise<AnalyzeOutcome>

/**
 * Arms the snapshot signal for the main isolate. `notify` hears every
 * triggered snapshot (weakly: it never keeps the process alive).
 */
export declare function armSignal(signal: number, options: DumpOptions, notify: (arg: TriggerEvent) => void): void

/**
 * Without a V8 shim, at once on the main thread: installs the handler for
 * `signal` and keeps what arrives until the capture worker arms its relay
 * (`armSignalRelay`), so that no signal in between takes the default action.
 */
export declare function armSignalPending(signal: number): void

/**
 * Without a V8 shim: arms the snapshot signal so that each delivery calls
 * `relay(signalName)` on the calling thread's loop (heapscope's capture
 * worker, whose loop stays free while the main thread is busy). Weak: it
 * never keeps that thread alive.
 */
export declare function armSignalRelay(signal: number, relay: (arg: string) => void): void

/** Class diff of two digests (of one process); quick, on the calling thread. */
export declare function diffDigests(before: SnapshotDigest, after: SnapshotDigest): Array<ClassDiff>

/**
 * `diff(before, after)` of two files of one process (`force`: even if they
 * seem to be of two; `threads`: as analyzeFile's).
 */
export declare function diffFiles(before: string, after: string, force: boolean, threads?: number | undefined | null, priority?: string | undefined | null): Promise<LeakOutcome>

/** Restores the signal's previous handler. */
export declare function disarmSignal(): void

/**
 * `findLeaks()` of 2 to [`MAX_SNAPSHOTS`] files of one process, oldest
 * first: the baseline, then the target and any later steps, the final last.
 */
export declare function findLeaksInFiles(files: Array<string>, options: LeakOptionsJs): Promise<LeakOutcome>

export declare function heapStatistics(): HeapStatistics

/**
 * Loads the V8 shim at `path`, which must have been built for Node ABI
 * `abi` (the loader passes `process.versions.modules`: Node does not check
 * ABIs for Node-API modules). Throws with the file and the reason when it
 * cannot be used; a second call returns the shim already loaded.
 */
export declare function loadShim(path: string, abi: number): ShimLoaded

/**
 * Reads and analyses a snapshot file and keeps it: from a libuv pool
 * thread, on threads of the lowest priority unless asked otherwise.
 */
export declare function openHeap(path: string, options: OpenOptions): Promise<OpenOutcome>

/**
 * The preflight before a snapshot of a heap with `heap_used` bytes in use:
 * `null` when about `memory_factor` × that is left on the machine and in
 * the container, else why not. Reads /proc and the cgroup filesystem.
 */
export declare function preflight(heapUsed: number, memoryFactor: number): MemoryShortfall | null

/** Puts heapscope's handler back in front after libuv changed the signal's action. */
export declare function rearmSignal(): void

/**
 * Calls `callback` with the heap figures after every full GC of the calling
 * thread's isolate (weakly: it never keeps the process alive). Returns the
 * sampler's id for `unsampleGc`.
 */
export declare function sampleGc(callback: (arg: GcSample) => void): number

/** The live sampled allocations, parents before children; `null` when not sampling. */
export declare function samplingProfile(): Array<SampledSite> | null

/**
 * Without a V8 shim: what the signal's worker does with a finished
 * snapshot, as the station does with its own (retention, the stderr line,
 * the event for JS).
 */
export declare function settleRelayed(outcome: SnapshotOutcome, dump: DumpOptions, signalName: string): TriggerEvent

/**
 * Without a V8 shim: the final path a request names (its template
 * expanded, with the next `{seq}`), for node-heapdump's synchronous call,
 * which then writes through `v8.writeHeapSnapshot()`.
 */
export declare function snapshotPath(request: SnapshotRequest): string

/**
 * Starts V8's sampling heap profiler on the calling thread's isolate, and
 * makes sure it is stopped before the environment goes: V8 (seen on Node 24)
 * aborts with a double free when an isolate is torn down while sampling.
 */
export declare function startSampling(intervalBytes: number, stackDepth: number): void

/**
 * Starts V8's allocation tracker on the calling thread's isolate (the
 * snapshots taken while it runs carry allocation stacks), and stops it
 * before the environment goes.
 */
export declare function startTrackingAllocations(): void

/** Stops it; its samples go. */
export declare function stopSampling(): void

/** Stops it; what it recorded goes. */
export declare function stopTrackingAllocations(): void

/**
 * `snapshot()`: V8's part runs now, on this thread; the write finishes on
 * the sink thread and the promise resolves from the libuv pool.
 */
export declare function takeSnapshot(request: SnapshotRequest): Promise<SnapshotOutcome>

/**
 * Takes a snapshot and analyses it while V8 serializes: the chunks go to a
 * parser on a thread of its own (and to the file when `write`), so no file
 * has to be read back. The graph is built during the snapshot, so its
 * memory adds to V8's own for that time.
 */
export declare function takeSnapshotAnalyzed(request: SnapshotRequest, write: boolean, options: AnalyzeOptions, progress?: ((arg: AnalyzeProgress) => void) | undefined | null): Promise<AnalyzedSnapshot>

/**
 * With no `earlier` digests: a snapshot reduced to a digest for later
 * comparisons. With them (the baseline first, then later marks, oldest
 * first): the leak report of this snapshot against them. `sampling`: take
 * V8's sampling heap profile right after the snapshot (its GC has freed the
 * garbage); a digest keeps it, and a report matches the growth since the
 * baseline's to its suspects.
 */
export declare function takeSnapshotCompared(request: SnapshotRequest, write: boolean, earlier: Array<SnapshotDigest>, options: LeakOptionsJs, sampling?: boolean | undefined | null): Promise<ComparedSnapshot>

/** Stops a GC sampler of the calling thread; false when it was not running. */
export declare function unsampleGc(id: number): boolean

/**
 * Stops a watcher of the calling thread's isolate; returns how many
 * snapshots it asked for, or `null` if it was not running.
 */
export declare function unwatch(id: number): number | null

/** Starts a watcher on the calling thread's isolate. */
export declare function watch(options: WatchOptions, main: boolean, notify: (arg: TriggerEvent) => void): WatchInfo

/** node-heapdump's path: everything, including fsync and rename, before return. */
export declare function writeSnapshotSync(request: SnapshotRequest): SnapshotOutcome
