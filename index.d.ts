// Type definitions for heapscope.

import { EventEmitter } from 'node:events';

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
   * thread), `{seq}` (per-process counter) and `{date}` (UTC, `20261121T033105Z`).
   * Default: `heapscope-{date}-{pid}-{tid}-{seq}.heapsnapshot` (`.gz` added with gzip).
   */
  filename?: string;
  /** Stream a gzip file; `true` is level 1 (fast), or a level 0–9. Default: false. */
  gzip?: boolean | number;
  /** V8's kExposeInternals mode. Default: false. */
  exposeInternals?: boolean;
  /** Show numeric values (heap numbers) in the snapshot. Default: false. */
  exposeNumericValues?: boolean;
}

export type SnapshotTrigger = 'api' | 'signal' | 'threshold' | 'near-limit';

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
}

/**
 * Takes a heap snapshot of the calling thread's isolate (a Worker's own heap
 * inside a Worker). V8's part — the pause — happens during this call; the
 * promise resolves once the file is complete, fsynced and renamed into place.
 * Rejects with a {@link SnapshotError}; no file of a failed snapshot remains.
 */
export function snapshot(options?: SnapshotOptions): Promise<SnapshotInfo>;

export interface HeapscopeEvents extends EventEmitter {
  on(event: 'snapshot', listener: (info: SnapshotInfo) => void): this;
  on(event: 'error', listener: (err: SnapshotError) => void): this;
}

/** Module-level events: `snapshot` after every snapshot written, `error` on failures. */
export const events: HeapscopeEvents;

export interface HeapStatistics {
  totalHeapSize: number;
  usedHeapSize: number;
  heapSizeLimit: number;
  totalPhysicalSize: number;
  mallocedMemory: number;
  externalMemory: number;
}

/** V8's heap statistics for the calling thread's isolate. */
export function heapStatistics(): HeapStatistics;

export interface SignalOptions {
  /** Signal name or number. Default: 'SIGUSR2'. SIGUSR1 (the inspector's) is refused. */
  signal?: string | number;
  /** Directory of signal snapshots. Default: the current directory. */
  dir?: string;
  /** File name template (see SnapshotOptions). Default: node-heapdump's `heapdump-<sec>.<usec>.heapsnapshot`. */
  filename?: string;
  gzip?: boolean | number;
  /** No line on stderr for each snapshot. Default: false. */
  quiet?: boolean;
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

/** The V8 this addon talks to and the Node ABI it was built for. */
export const versions: Readonly<{ v8: string; abi: number }>;
