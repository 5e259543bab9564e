// Type definitions for heapscope.

import { EventEmitter } from 'node:events';
import type * as native from './native';

// Result shapes made by the native addon are declared once, from the Rust
// source (native.d.ts, written by napi-rs' macros); this file adds what the
// JavaScript layer changes and everything that exists only in JavaScript.
import type { ClassSummary, RetainerStep, ObjectSummary, ClassDiff, HeldClass, NewObjectGroup, HeapStatistics, Redacted } from './native';
export type { ClassSummary, RetainerStep, ObjectSummary, ClassDiff, HeldClass, NewObjectGroup, HeapStatistics, Redacted };

/** Error passed to writeSnapshot's callback: message `heapdump write error <CODE>`. */
export interface HeapdumpWriteError extends Error {
  /** `ENOENT`, `EACCES`, `ENOSPC`, … */
  code: string;
  /** Negative errno, as in Node's system errors. */
  errno?: number;
  /** The step that failed: `open`, `write`, `fsync`, `close` or `rename`. */
  syscall?: string;
  path?: string;
  /** The full description, e.g. `ENOENT: no such file or directory, open '/x'`. */
  detail: string;
}

/** A Node-style system error (`err.code`, `err.errno`, `err.syscall`, `err.path`). */
export interface SnapshotError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  path?: string;
}

/**
 * Why a snapshot could not be read or compared. Each names where: the file,
 * and a byte `offset` in its (decompressed) JSON, or the `node` or `edge` (by
 * ordinal, its position in the snapshot's list) that does not fit the rest.
 */
export interface AnalysisError extends Error {
  /** `ERR_HEAPSCOPE_SNAPSHOT_FORMAT`, `ERR_HEAPSCOPE_READ`, `ERR_HEAPSCOPE_INTERNAL`, … */
  code: string;
  path?: string;
  offset?: number;
  node?: number;
  edge?: number;
}

/**
 * node-heapdump's API. Writes a snapshot synchronously; `callback` runs before
 * this returns. Without a filename the file is `heapdump-<sec>.<usec>.heapsnapshot`
 * in the current directory.
 * @returns whether the snapshot was written.
 */
export function writeSnapshot(filename?: string, callback?: (err: HeapdumpWriteError | null, filename?: string) => void): boolean;
export function writeSnapshot(callback: (err: HeapdumpWriteError | null, filename?: string) => void): boolean;

export interface SnapshotOptions {
  /** Directory of the file. Default: `process.cwd()`. */
  dir?: string;
  /**
   * File name template with `{pid}`, `{tid}` (worker threadId, 0 on the main
   * thread), `{seq}` (per-process counter), `{date}` (UTC, `20261121T033105Z`),
   * `{hostname}` (the machine's or pod's name, made safe in a file name) and
   * `{trigger}` (`api`, `signal`, `threshold`, `near-limit`, `timer`).
   * Default: `heapscope-{date}-{pid}-{tid}-{seq}.heapsnapshot` (`.gz` added with gzip).
   */
  filename?: string;
  /** Stream a gzip file; `true` is level 1 (fast), or a level 0–9. Default: false. */
  gzip?: boolean | number;
  /** V8's kExposeInternals mode. Default: false. */
  exposeInternals?: boolean;
  /** Show numeric values (heap numbers) in the snapshot. Default: false. */
  exposeNumericValues?: boolean;
  /**
   * Replace the heap's strings in the file while V8 streams it: string
   * values, dictionary and Map keys become `<redacted:…>` tokens; class,
   * function and property names, script URLs, sizes and edges stay (README,
   * "Sharing a snapshot safely"). Default: `HEAPSCOPE_REDACT=1` in the
   * environment, else false.
   */
  redact?: boolean;
  /**
   * Check first that about `memoryFactor` × the used heap of memory is left
   * (machine and container), and reject with `ENOMEM` when not. Default:
   * `HEAPSCOPE_PREFLIGHT=on` in the environment, else false.
   */
  preflight?: boolean;
  /** The preflight's estimate of a snapshot's extra memory, × the used heap. Default 12. */
  memoryFactor?: number;
  /**
   * While the sampling heap profiler runs (startSampling), write its profile
   * beside the snapshot (`name.heapprofile`). Default: true.
   */
  profile?: boolean;
}

export type SnapshotTrigger = 'api' | 'signal' | 'threshold' | 'near-limit' | 'timer';

export type ThresholdMetric = 'heapUsed' | 'heapLimit' | 'rss' | 'containerLimit';

/** The crossing that triggered a snapshot (or a skip), in bytes. */
export interface ThresholdCrossing {
  metric: ThresholdMetric;
  value: number;
  limit: number;
}

export interface SnapshotInfo {
  /** Absolute path of the complete file. */
  path: string;
  trigger: SnapshotTrigger;
  /** Bytes on disk. */
  bytes: number;
  /** Bytes of snapshot JSON (differs from `bytes` when compressed). */
  rawBytes: number;
  compressed: boolean;
  /** Time the JS thread was blocked, in milliseconds. */
  pauseMs: number;
  /** From the request to the file under its final name, in milliseconds. */
  durationMs: number;
  /** V8's used heap just before the snapshot, in bytes. */
  heapUsed: number;
  /** Per-process snapshot number. */
  seq: number;
  pid: number;
  threadId: number;
  /** Triggered by a watcher: which threshold. */
  threshold?: ThresholdCrossing;
  /** Triggered snapshots: files removed by retention afterwards. */
  removed?: string[];
  /**
   * Temporary files that writers which died mid-write (SIGKILL, the OOM
   * killer) left in the directory, removed before this file was written.
   */
  reclaimed: string[];
  /** A redacted file: how many string-table entries (and bytes, and keys) were replaced. */
  redacted?: Redacted;
  /** The sampling heap profile written beside it (see SnapshotOptions.profile). */
  profile?: string;
}

/**
 * Takes a heap snapshot of the calling thread's isolate (a Worker's own heap
 * inside a Worker). V8's part — the pause — happens during this call; the
 * promise resolves once the file is complete, fsynced and renamed into place.
 * Rejects with a {@link SnapshotError}; no file of a failed snapshot remains.
 */
export function snapshot(options?: SnapshotOptions & { analyze?: false }): Promise<SnapshotInfo>;

/** `snapshot()` with its analysis: the parser reads V8's chunks as they are produced. */
export interface AnalyzedSnapshotOptions extends SnapshotOptions, AnalyzeOptions {
  analyze: true;
  /** Also write the file. Default: true. With false nothing touches the disk. */
  write?: boolean;
  /**
   * Keep the analysed snapshot in memory for queries, as `open()` would give
   * it: the answer's `heap` (about 1.2× the snapshot's size until `close()`).
   * Default: false.
   */
  keep?: boolean;
}

export interface AnalyzedSnapshotInfo extends Omit<SnapshotInfo, 'path'> {
  /** The file, or null with `write: false`. */
  path: string | null;
  summary: Summary;
  /** With `keep: true`: the snapshot open for queries. */
  heap?: Heap;
}

/**
 * Takes a snapshot and computes its Summary while V8 serializes it (on a
 * thread of its own; the graph's memory adds to the snapshot's for that time).
 * Rejects with a SnapshotError, or an analysis error with `code` and `offset`.
 */
export function snapshot(options: AnalyzedSnapshotOptions): Promise<AnalyzedSnapshotInfo>;

export interface HeapscopeEvents extends EventEmitter {
  on(event: 'snapshot', listener: (info: SnapshotInfo) => void): this;
  on(event: 'error', listener: (err: SnapshotError) => void): this;
  /** A signal snapshot the memory check refused. */
  on(event: 'skipped', listener: (info: SkippedInfo & { trigger: 'signal' }) => void): this;
}

/**
 * Module-level events: `snapshot` after every snapshot written (whatever
 * triggered it), `error` on failures, `skipped` for a signal snapshot the
 * memory check refused.
 */
export const events: HeapscopeEvents;

/** V8's heap statistics for the calling thread's isolate. */
export function heapStatistics(): HeapStatistics;

export interface SamplingOptions {
  /** Mean bytes allocated between two samples (a Poisson process). Default 524288 (512 KiB). */
  intervalBytes?: number;
  /** Most JS frames kept per sample. Default 32. */
  stackDepth?: number;
}

/**
 * Starts V8's sampling heap profiler on the calling thread's isolate (a
 * Worker's own heap inside a Worker). Cheap enough for production; never
 * keeps the process alive. Throws `ERR_HEAPSCOPE_NO_SHIM` without the V8 shim.
 */
export function startSampling(options?: SamplingOptions): void;
/** Stops it; its samples go with it. */
export function stopSampling(): void;
/** The sampled allocations still alive, now, without stopping. Throws `ERR_HEAPSCOPE_NOT_SAMPLING` when not sampling. */
export function sampleProfile(): HeapProfile;

/** A JS frame that allocated memory still alive. Lines and columns are 1-based. */
export interface AllocationSite {
  functionName: string;
  /** The script's URL or file path; empty for V8's own frames. */
  url: string;
  scriptId: number;
  lineNumber: number;
  columnNumber: number;
  /** Live sampled bytes and objects allocated right here. */
  selfSize: number;
  selfCount: number;
}

export interface AllocationNode extends AllocationSite {
  id: number;
  /** With everything its callees allocated. */
  totalSize: number;
  totalCount: number;
  /** Callees, largest total first. */
  children: AllocationNode[];
}

/** Chrome's `.heapprofile` (the inspector's SamplingHeapProfile), lines and columns 0-based. */
export interface ChromeHeapProfile {
  head: ChromeHeapProfileNode;
  samples: Array<{ size: number; nodeId: number; ordinal: number }>;
}

export interface ChromeHeapProfileNode {
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  id: number;
  children: ChromeHeapProfileNode[];
}

export interface HeapProfile {
  /** `(root)`: every site under it. */
  readonly root: AllocationNode;
  readonly totalSize: number;
  readonly totalCount: number;
  /** The `n` frames that allocated the most live memory themselves (default 10). */
  topSites(n?: number): AllocationSite[];
  /** The mean bytes between samples it was taken with. */
  readonly intervalBytes: number;
  /** Chrome's `.heapprofile` JSON: `JSON.stringify` it to a file DevTools and VS Code open. */
  toHeapProfile(): ChromeHeapProfile;
  /**
   * Gzipped pprof (`objects`/`count`, `space`/`bytes`), for `go tool pprof`,
   * Pyroscope, Grafana, Parca and Datadog: write it to a `.pb.gz` file.
   */
  toPprof(): Buffer;
}

export interface SignalOptions {
  /** Signal name or number. Default: 'SIGUSR2'. SIGUSR1 (the inspector's) is refused. */
  signal?: string | number;
  /** Directory of signal snapshots. Default: the current directory. */
  dir?: string;
  /** File name template (see SnapshotOptions). Default: node-heapdump's `heapdump-<sec>.<usec>.heapsnapshot`. */
  filename?: string;
  gzip?: boolean | number;
  /** Redact the file (see SnapshotOptions.redact). Default: `HEAPSCOPE_REDACT`, else false. */
  redact?: boolean;
  /** While sampling, the allocation profile beside each snapshot (see SnapshotOptions.profile). Default: true. */
  profile?: boolean;
  /**
   * The memory check before each signal snapshot: skipped (a stderr line,
   * `'skipped'` on `events`) when it would not fit. Default: true unless
   * `HEAPSCOPE_PREFLIGHT=off`.
   */
  preflight?: boolean;
  /** See SnapshotOptions.memoryFactor. Default 12. */
  memoryFactor?: number;
  /** No line on stderr for each snapshot. Default: false. */
  quiet?: boolean;
  /** Keep at most this many of heapscope's snapshots in `dir` (see WatchOptions.retain). */
  retain?: RetainOptions;
}

/**
 * Retention per directory: after each snapshot, heapscope's own older
 * snapshots there are removed, oldest first, until both limits hold. Files it
 * did not write (checked by device, inode and size in `.heapscope-index`) are
 * never touched; the newest snapshot is always kept.
 */
export interface RetainOptions {
  files?: number;
  /** Bytes, or a size such as '2GB' (binary units). */
  bytes?: number | string;
}

/**
 * Arms a signal that writes a snapshot of the main thread's heap, even while
 * JavaScript is busy. SIGUSR2 is armed on require unless NODE_HEAPDUMP_OPTIONS=nosignal
 * or HEAPSCOPE_SIGNAL=off. Main thread only. Returns the armed signal's name.
 */
export function armSignal(options?: SignalOptions): string;
/** Restores the signal's previous handler. */
export function disarmSignal(): void;
/** The armed signal's name, or null. */
export function armedSignal(): string | null;

/**
 * The running V8 and Node ABI, and the V8 shim loaded for them: its path, or
 * null when capture goes through Node's public APIs (README, "Without a shim").
 */
export const versions: Readonly<{ v8: string; abi: number; shim: string | null }>;

/** Sizes: a number of bytes, or a string such as '512MB' or '1.5GiB' (binary units, as --max-old-space-size). */
export type Size = number | string;

export interface WatchOptions {
  /** V8's used heap after a full GC reaches this. */
  heapUsed?: Size;
  /** The process's resident set size reaches this (checked every `intervalMs`). */
  rss?: Size;
  /** Used heap reaches this share (0–1] of V8's heap limit. */
  heapLimitRatio?: number;
  /**
   * The container's working set (cgroup v2 memory.current / v1 usage_in_bytes,
   * minus inactive file cache) reaches this share of its memory limit. Inactive
   * (and `thresholds` says why) when there is no memory cgroup or no limit.
   */
  containerLimitRatio?: number;
  /** Write a snapshot when V8 is about to die of OOM; `true` = 1, or how many. */
  nearHeapLimit?: boolean | number;
  /**
   * A snapshot every so many milliseconds, from a native thread (a stuck
   * event loop does not stop it). With it, `maxSnapshots` and `cooldownMs`
   * default to none and `retain` to `{ files: 5 }`.
   */
  everyMs?: number;
  /** A threshold fires again only after its metric fell below this share of it. Default 0.9. */
  rearmRatio?: number;
  /** Least time from the end of one snapshot to the next. Default 300000 (5 min); 0 with `everyMs`. */
  cooldownMs?: number;
  /** Snapshots this watcher may write in all. Default 3; none with `everyMs`. */
  maxSnapshots?: number;
  /** RSS and container polling period. Default 1000. */
  intervalMs?: number;
  /**
   * Preflight: a snapshot is expected to need this many times the used heap
   * in extra memory; when the machine or container has less available, the
   * watcher emits 'skipped' instead. Default 12 (measured 8.7–11×; README).
   */
  memoryFactor?: number;
  dir?: string;
  filename?: string;
  gzip?: boolean | number;
  /** Redact the files (see SnapshotOptions.redact). Default: `HEAPSCOPE_REDACT`, else false. */
  redact?: boolean;
  /** While sampling, the allocation profile beside each snapshot, near-limit ones too. Default: true. */
  profile?: boolean;
  /** No line on stderr per snapshot. */
  quiet?: boolean;
  retain?: RetainOptions;
}

export interface ThresholdInfo {
  metric: ThresholdMetric;
  /** The limit in bytes; null when inactive. */
  limit: number | null;
  ratio: number | null;
  active: boolean;
  /** Where a ratio's limit comes from, or why a threshold is inactive. */
  note: string | null;
}

export interface SkippedInfo {
  /** 'memory' (the preflight) or 'max-snapshots'. */
  reason: 'memory' | 'max-snapshots';
  message: string;
  threshold?: ThresholdCrossing;
  /** Estimated bytes the snapshot needs (reason 'memory'). */
  needed?: number;
  /** Bytes available on the machine or in the container (reason 'memory'). */
  available?: number;
}

export interface Watcher extends EventEmitter {
  readonly id: number;
  readonly thresholds: ThresholdInfo[];
  /** V8's heap limit when the watcher started, in bytes. */
  readonly heapLimit: number;
  /** The container's memory limit, or null. */
  readonly containerLimit: number | null;
  /** Snapshots written for this watcher so far. */
  readonly snapshots: number;
  /** Snapshots to write near the heap limit (0: none). */
  readonly nearHeapLimit: number;
  /** The timer's period in milliseconds, null without one. */
  readonly everyMs: number | null;
  /** Temporary files of writers that died, removed from the directory when the watcher started. */
  readonly reclaimed: string[];
  /** Whether stop() was called. */
  readonly stopped: boolean;
  /** Stops every check; a snapshot already running completes. */
  stop(): void;
  on(event: 'snapshot', listener: (info: SnapshotInfo) => void): this;
  on(event: 'skipped', listener: (info: SkippedInfo) => void): this;
  on(event: 'error', listener: (err: SnapshotError & { trigger: SnapshotTrigger }) => void): this;
}

/**
 * Watches memory and writes snapshots by itself when a threshold is crossed:
 * heap checked after each full GC, RSS and the container by a poller thread,
 * both working while JavaScript is busy. Belongs to the calling thread's
 * isolate (a Worker's watcher dumps the Worker's heap and ends with it).
 * Never keeps the process alive.
 */
export function watch(options: WatchOptions): Watcher;

/** watch()'s defaults. */
export const watchDefaults: Readonly<{ rearmRatio: number; cooldownMs: number; maxSnapshots: number; intervalMs: number; memoryFactor: number }>;

export interface Summary extends Omit<native.Summary, 'path'> {
  /** The file analysed; null for `snapshot({ analyze: true, write: false })`, which wrote none. */
  path: string | null;
}

export interface AnalyzeOptions {
  /** Class rows to return, largest retained size first. Default 50. */
  topClasses?: number;
  /** Objects to return with their retainer paths. Default 20. */
  topObjects?: number;
  /**
   * Most threads the analysis keeps busy at once (it splits over two at
   * most). Default: what the process may use — its cores, narrowed by its
   * CPU affinity and its cgroup's CPU quota. Analysis threads run at the
   * lowest CPU priority (nice 19) either way.
   */
  threads?: number;
  /**
   * Whose CPU the analysis takes: `'idle'` (default) only what nobody else
   * wants (SCHED_IDLE), so that the application never waits on it;
   * `'normal'` a fair share, for a process whose job is the analysis (the
   * CLI uses it).
   */
  priority?: 'idle' | 'normal';
  /** Called now and then with the phase (`reading` with a fraction, then `dominators`, `retained sizes`, `aggregates`). */
  onProgress?: (progress: AnalyzeProgress) => void;
}

/** A progress event: every one arrives before the analysis' promise settles. */
export interface AnalyzeProgress {
  /** `reading`, then `dominators` (with the distances and classes), `retained sizes`, `aggregates` (class rows and largest objects). */
  phase: string;
  /** 0–1 while reading a file of known size; null otherwise. */
  fraction: number | null;
}

/**
 * Reads a `.heapsnapshot` or `.heapsnapshot.gz` and computes Chrome DevTools'
 * Summary numbers off the JS thread. Rejects with an {@link AnalysisError}:
 * `code` `ERR_HEAPSCOPE_SNAPSHOT_FORMAT` or `ERR_HEAPSCOPE_READ`, `path`, and
 * the byte `offset` or the `node` or `edge` of the problem.
 */
export function analyze(path: string, options?: AnalyzeOptions): Promise<Summary>;

// --- exploring one snapshot -------------------------------------------------

import type { HeapObject, HeapEdge, DuplicateString, SnapshotStatistics, ClosureContext } from './native';
export type { HeapObject, HeapEdge, DuplicateString, SnapshotStatistics, ClosureContext };

/** A node id as a number or as DevTools writes it: `123` or `'@123'`. */
export type NodeIdLike = number | `@${number}` | `${number}`;

/** A page of a longer list: `total` items in all. */
export interface Page<T> {
  total: number;
  items: T[];
}

export interface PageOptions {
  /** Items to skip first. Default 0. */
  offset?: number;
  /** Items to return. Default 100. */
  limit?: number;
}

export interface OpenOptions {
  /** As AnalyzeOptions'. */
  threads?: number;
  /** As AnalyzeOptions'. */
  priority?: 'idle' | 'normal';
}

/**
 * A snapshot analysed and kept in memory (graph, retainers, dominator
 * tree) for queries by node id. Every query runs off the JS thread and
 * resolves to plain objects with DevTools' names, in the order of DevTools'
 * views; an id the snapshot does not have resolves to `null`.
 */
export interface Heap {
  /** The snapshot file (null for `snapshot({ analyze: true, keep: true, write: false })`'s). */
  readonly file: string | null;
  readonly nodeCount: number;
  /** DevTools' total size. */
  readonly totalSize: number;
  readonly closed: boolean;
  /** The object and a page of its edges, largest retained size first (the Summary's order). */
  node(id: NodeIdLike, options?: PageOptions): Promise<(HeapObject & { edges: Page<HeapEdge> }) | null>;
  /** A page of what holds the object, nearest the roots first (the Retainers view's order). */
  retainers(id: NodeIdLike, options?: PageOptions): Promise<Page<HeapEdge> | null>;
  /** The retaining path from the root, as DevTools finds it; `text` as people read it. */
  path(id: NodeIdLike): Promise<{ steps: HeapEdge[]; text: string } | null>;
  /** The object's dominators, its immediate one first, out to the root. */
  dominators(id: NodeIdLike): Promise<HeapObject[] | null>;
  /** A page of what the object immediately dominates, largest retained size first. */
  dominated(id: NodeIdLike, options?: PageOptions): Promise<Page<HeapObject> | null>;
  /** A page of a Summary class's objects, largest retained size first. */
  instances(className: string, options?: PageOptions): Promise<Page<HeapObject>>;
  /** What analyze() answers, from memory (`parseMs`: reading and analysing at open()). */
  summary(options?: { topClasses?: number; topObjects?: number }): Promise<Summary>;
  /** A page of the objects that answer every part of `query`, largest retained size first. */
  find(
    query: { className?: string; type?: string; property?: string; value?: string | RegExp; pattern?: string },
    options?: PageOptions,
  ): Promise<Page<HeapObject>>;
  /** A page of the closures, largest retained size first, each with its context's largest `variables`. */
  closures(options?: PageOptions & { variables?: number }): Promise<Page<ClosureContext>>;
  /** What a closure (or a context) captures, largest first. */
  context(id: NodeIdLike, options?: PageOptions): Promise<ClosureContext | null>;
  /** DevTools' Statistics (the Summary's pie). */
  statistics(): Promise<SnapshotStatistics>;
  /** A page of the string values held more than once, most bytes wasted first; `top` is `limit`. */
  duplicateStrings(options?: PageOptions & { top?: number }): Promise<Page<DuplicateString>>;
  /** Frees the memory once the queries still running end; later queries reject with `ERR_HEAPSCOPE_CLOSED`. */
  close(): void;
}

/**
 * Reads and analyses a snapshot file off the JS thread and keeps it open
 * for queries. Rejects as `analyze()` does.
 */
export function open(path: string, options?: OpenOptions): Promise<Heap>;

// --- leak detection ---------------------------------------------------------

export interface LeakSuspect extends native.LeakSuspect {
  /** Sessions only: growth per minute since the baseline. */
  growthPerMinute?: number | null;
}

export interface SnapshotDiff extends Omit<native.SnapshotDiff, 'newObjects'> {
  /** New objects still alive, largest group first; null for marks of a session (they keep no graph). */
  newObjects: NewObjectGroup[] | null;
}

export interface LeakReport extends Omit<native.LeakReport, 'suspects'> {
  suspects: LeakSuspect[];
}

export interface LeakOptions {
  /**
   * Least growth of retained size for a suspect: bytes or a size such as
   * `"4KB"`; 0 allowed. Default: 64 KiB, or when nothing grew that much,
   * any growth at every step that holds objects of the leak set (the report
   * then has `smallLeaks: true` and `minGrowth: 0`).
   */
  minGrowth?: number | string;
  /** Most suspects. Default 10. */
  limit?: number;
  /**
   * Most threads the comparison keeps busy at once (it splits over two at
   * most). Default: what the process may use — its cores, narrowed by its
   * CPU affinity and its cgroup's CPU quota. Analysis threads run at the
   * lowest CPU priority (nice 19) either way.
   */
  threads?: number;
  /**
   * Whose CPU the analysis takes: `'idle'` (default) only what nobody else
   * wants (SCHED_IDLE), so that the application never waits on it;
   * `'normal'` a fair share, for a process whose job is the analysis (the
   * CLI uses it).
   */
  priority?: 'idle' | 'normal';
}

/** Options of comparisons of files. */
export interface CompareOptions {
  /**
   * Compare even when the node ids say the files are of two processes (the
   * same id naming objects of different classes); otherwise such files
   * reject with `ERR_HEAPSCOPE_NOT_ONE_PROCESS`. Default false.
   */
  force?: boolean;
  /**
   * Most threads the comparison keeps busy at once (it splits over two at
   * most). Default: what the process may use — its cores, narrowed by its
   * CPU affinity and its cgroup's CPU quota. Analysis threads run at the
   * lowest CPU priority (nice 19) either way.
   */
  threads?: number;
  /**
   * Whose CPU the analysis takes: `'idle'` (default) only what nobody else
   * wants (SCHED_IDLE), so that the application never waits on it;
   * `'normal'` a fair share, for a process whose job is the analysis (the
   * CLI uses it).
   */
  priority?: 'idle' | 'normal';
}

/** Two snapshot files of one process: classes as DevTools' Comparison view, and the new objects by where they hang. */
export function diff(before: string, after: string, options?: CompareOptions): Promise<SnapshotDiff & { newObjects: NewObjectGroup[]; files: string[] }>;

/**
 * memlab's three snapshots (target optional), or `snapshots`: 2 to 64 files
 * oldest first (the one before the last is the target; what grew at every
 * step ranks first, what stopped growing is no suspect), and growth by
 * retainer path.
 */
export function findLeaks(
  files: ({ baseline: string; target?: string; final: string } | { snapshots: string[] }) & LeakOptions & CompareOptions,
): Promise<LeakReport & { files: string[] }>;

export interface SessionOptions extends SnapshotOptions {
  /** Keep each mark's file too. Default: false. */
  write?: boolean;
  /**
   * Each suspect lists its `allocationSites`. Needs the V8 shim.
   * - `'tracking'`: V8's allocation tracker runs from the baseline mark to
   *   the final snapshot, which then carries every new object's allocating
   *   stack: exact counts. It slows allocation down: for staging, not
   *   production.
   * - `'sampling'`: V8's sampling heap profiler runs from the baseline
   *   (unless something already samples): sites whose sampled objects,
   *   allocated since the baseline and alive at the end, have the sizes of
   *   the suspect's new objects. Estimates (`sampled: true`), cheap enough
   *   for production; a leak must be a few `samplingInterval`s big to show.
   */
  allocationSites?: 'tracking' | 'sampling';
  /**
   * With `'sampling'`: the mean bytes between samples of the session's own
   * sampler, bytes or "64KB". Default 512 KiB.
   */
  samplingInterval?: number | string;
}

export interface Mark {
  name: string;
  at: number;
  path: string | null;
  nodeCount: number;
  totalSize: number;
}

/** The final snapshot of `session.leaks()`, of which no digest is kept. */
export interface FinalMark {
  name: 'final';
  at: number;
}

export interface Session {
  readonly marks: Mark[];
  /** Takes a snapshot, analysed as it streams, and keeps its digest. */
  mark(name?: string): Promise<Mark>;
  /** Objects added and removed per class between two marks (`newObjects` is null). */
  diff(from: string, to: string): SnapshotDiff;
  /**
   * Takes the final snapshot and compares it with every mark: the first is
   * the baseline, the last the target (at most 63 marks).
   */
  leaks(options?: LeakOptions): Promise<LeakReport & { marks: (Mark | FinalMark)[] }>;
  /** Stops allocation tracking or sampling without a report (leaks() stops it too). */
  close(): void;
}

export function session(options?: SessionOptions): Session;

// --- the trend monitor --------------------------------------------------------

export interface MonitorOptions {
  /** Consecutive full GCs with heap used growing before 'leak'. Default 5 (node-memwatch's). */
  growths?: number;
  /** Least growth across those GCs, bytes or "2MB". Default 1 MiB. */
  minGrowth?: number | string;
  /** Samples (and markers) kept in the ring buffer. Default 1000. */
  samples?: number;
  /** Also sample memory on a timer for the timeline, ms; 0: off. Default 5000. */
  intervalMs?: number;
  /**
   * Take findLeaks' snapshots by itself: baseline at the first 'leak',
   * target at the second, final at the third, then 'report'. Streamed and
   * analysed in process; files only with `write: true`.
   */
  snapshots?: boolean | (SessionOptions & LeakOptions & { /** Reports to make. Default 1. */ reports?: number });
  /** With `snapshots`: as SessionOptions' (from the baseline to the report; `snapshots.samplingInterval` too). */
  allocationSites?: 'tracking' | 'sampling';
}

export interface MemorySample {
  /** 'gc': right after a full GC (comparable); 'interval': from the timer. */
  kind: 'gc' | 'interval';
  at: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  rss: number;
  /** 'gc' samples: full GCs seen so far. */
  fullGcs?: number;
}

export interface MonitorStats extends MemorySample {
  heapLimit: number;
  min: number;
  max: number;
  consecutiveGrowths: number;
  /** Over the current run of growth. */
  growthPerMinute: number;
}

export interface LeakSuspicion {
  start: number;
  end: number;
  fullGcs: number;
  growth: number;
  growthPerMinute: number | null;
  heapUsed: number;
  /** `heap used grew across 5 consecutive full GCs: +12.3 MB in 40.2 s (18.4 MB a minute)` */
  reason: string;
}

export interface Marker {
  at: number;
  /** 'baseline', 'target', 'final' (the monitor's own), or the trigger of a snapshot written meanwhile. */
  name: string;
  path: string | null;
}

export interface Monitor extends EventEmitter {
  readonly startedAt: number;
  readonly stopped: boolean;
  samples(): MemorySample[];
  markers(): Marker[];
  timeline(): { startedAt: number; samples: MemorySample[]; markers: Marker[] };
  stop(): void;
  on(event: 'stats', listener: (stats: MonitorStats) => void): this;
  on(event: 'leak', listener: (leak: LeakSuspicion) => void): this;
  on(event: 'report', listener: (report: LeakReport & { leak: LeakSuspicion; marks: (Mark | FinalMark)[] }) => void): this;
  on(event: 'sample', listener: (sample: MemorySample) => void): this;
  on(event: 'marker', listener: (marker: Marker) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

/** Watches heap used after every full GC of the calling thread (never keeps the process alive). */
export function monitor(options?: MonitorOptions): Monitor;

// --- pictures ------------------------------------------------------------------

export interface ReportInput {
  title?: string;
  summary?: Summary | null;
  diff?: SnapshotDiff | null;
  leaks?: LeakReport | null;
  timeline?: { samples: MemorySample[]; markers: Marker[] } | null;
}

/**
 * One self-contained HTML page (no network; scripts and styles inline):
 * retained size by class, the largest objects by self and retained size with
 * their paths, growth by class, leak suspects, memory over time.
 */
export function renderReport(input: ReportInput, options?: ReportOptions): string;

export interface ReportOptions {
  /**
   * Put heap contents in the page: strings' values (their first 1,024
   * characters) and regular expressions' sources as object names, and full
   * file paths. Default false: class names, sizes, counts and paths of edges only.
   */
  values?: boolean;
}

export interface ServeOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default '127.0.0.1'. Anything else exposes the heap's picture to the network: only when asked. */
  host?: string;
  /** Host names accepted besides loopback ones (requests naming others are refused). */
  allowHosts?: string[];
  /** Samples and markers from this monitor; default: one of its own (1 s samples), stopped by close(). */
  monitor?: Monitor;
  /** Analyse each snapshot written meanwhile and show its summary. Default true. */
  analyzeSnapshots?: boolean;
  /** Do not print the address (with its token) on stderr. */
  quiet?: boolean;
  samples?: number;
}

export interface LiveView {
  /** With the token: the only way in. */
  url: string;
  port: number;
  host: string;
  token: string;
  monitor: Monitor;
  close(): Promise<void>;
}

/** Serves a live page of this process's memory, updated by server-sent events. Never keeps the process alive. */
export function serve(options?: ServeOptions): Promise<LiveView>;
