'use strict';
// Options as the native side takes them: every public call that writes a
// snapshot checks its options here, and each check throws Node's
// ERR_INVALID_ARG_* errors naming the option.

const { threadId } = require('node:worker_threads');
const { invalidArg } = require('./errors');
const { parseSize } = require('./units');

/**
 * `redact`: replace the heap's strings in the file as V8 streams it. Absent,
 * HEAPSCOPE_REDACT=1 turns it on for every snapshot of the process.
 */
function redactOption(redact) {
  if (redact === undefined) return /^(1|true|yes|on)$/i.test(process.env.HEAPSCOPE_REDACT || '');
  if (typeof redact !== 'boolean') throw invalidArg('redact', 'a boolean', redact);
  return redact;
}

/** `{ dir, filename, gzip, exposeInternals, exposeNumericValues, redact }` → a native snapshot request. */
function snapshotRequest(options) {
  if (options === undefined) options = {};
  // As Node's own v8.writeHeapSnapshot(): null and arrays are not options.
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidArg('options', 'an object', options);
  const { dir, filename, gzip, exposeInternals, exposeNumericValues } = options;
  const redact = redactOption(options.redact);
  // While sampling, a snapshot's allocation profile is written beside it unless `profile: false`.
  const profile = options.profile ?? true;
  if (typeof profile !== 'boolean') throw invalidArg('profile', 'a boolean', profile);
  if (dir !== undefined && typeof dir !== 'string') throw invalidArg('dir', 'a string', dir);
  if (filename !== undefined && typeof filename !== 'string') throw invalidArg('filename', 'a string', filename);
  if (exposeInternals !== undefined && typeof exposeInternals !== 'boolean') {
    throw invalidArg('exposeInternals', 'a boolean', exposeInternals);
  }
  if (exposeNumericValues !== undefined && typeof exposeNumericValues !== 'boolean') {
    throw invalidArg('exposeNumericValues', 'a boolean', exposeNumericValues);
  }
  let level;
  if (gzip === true) level = 1;
  else if (typeof gzip === 'number' && Number.isInteger(gzip) && gzip >= 0 && gzip <= 9) level = gzip;
  else if (gzip !== undefined && gzip !== false) throw invalidArg('gzip', 'a boolean or an integer from 0 to 9', gzip);
  return {
    dir: dir === undefined ? process.cwd() : dir,
    filename,
    gzip: level,
    exposeInternals,
    exposeNumericValues,
    redact,
    profile,
    threadId,
  };
}

/** `threads`: how many threads an analysis may keep busy; undefined: what the process may use. */
function threadsOption(threads) {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 1024)) {
    throw invalidArg('threads', 'an integer from 1 to 1024', threads);
  }
  return threads;
}

/**
 * `priority`: 'idle' (the default: the analysis takes only CPU time nobody
 * else wants) or 'normal' (a process whose job is the analysis, as the CLI).
 */
function priorityOption(priority) {
  if (priority !== undefined && priority !== 'idle' && priority !== 'normal') throw invalidArg('priority', "'idle' or 'normal'", priority);
  return priority;
}

/** `{ topClasses, topObjects, threads, priority, onProgress }` of analyze() and snapshot({ analyze: true }). */
function summaryOptions(options) {
  const { topClasses, topObjects, onProgress } = options;
  const threads = threadsOption(options.threads);
  const priority = priorityOption(options.priority);
  for (const [name, value] of [['topClasses', topClasses], ['topObjects', topObjects]]) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
      throw invalidArg(name, 'a non-negative integer', value);
    }
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw invalidArg('onProgress', 'a function', onProgress);
  }
  return { topClasses, topObjects, threads, priority, onProgress };
}

/** A number option: `fallback` when absent, else positive (or non-negative), and an integer when asked. */
function positive(name, value, fallback, { integer = false, zero = false } = {}) {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && Number.isFinite(value) && (zero ? value >= 0 : value > 0) && (!integer || Number.isInteger(value));
  if (!ok) throw invalidArg(name, `a ${zero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}`, value);
  return value;
}

/**
 * The preflight's default: a snapshot needs about 12 × the used heap of extra
 * memory (measured 8.7–11×: bench/estimate.js, README).
 */
const MEMORY_FACTOR = 12;

/**
 * `{ preflight, memoryFactor }` → the memory factor to check with before a
 * snapshot, or undefined for no check. Without `preflight`, the check runs
 * when `byDefault` (the signal) unless HEAPSCOPE_PREFLIGHT=off, and not
 * (snapshot(), writeSnapshot()) unless HEAPSCOPE_PREFLIGHT=on.
 */
function preflightOption({ preflight, memoryFactor }, byDefault) {
  if (preflight !== undefined && typeof preflight !== 'boolean') throw invalidArg('preflight', 'a boolean', preflight);
  const factor = positive('memoryFactor', memoryFactor, MEMORY_FACTOR);
  const env = (process.env.HEAPSCOPE_PREFLIGHT || '').toLowerCase();
  let fromEnv = byDefault;
  if (/^(1|on|true|yes)$/.test(env)) fromEnv = true;
  else if (/^(0|off|false|no)$/.test(env)) fromEnv = false;
  return preflight ?? fromEnv ? factor : undefined;
}

/** `retain: { files, bytes }` of the signal and watch() → the native fields. */
function retention(retain) {
  if (retain === undefined) return {};
  if (retain === null || typeof retain !== 'object') throw invalidArg('retain', 'an object such as { files: 5, bytes: "2GB" }', retain);
  return {
    retainFiles: retain.files === undefined ? undefined : positive('retain.files', retain.files, undefined, { integer: true }),
    retainBytes: retain.bytes === undefined ? undefined : parseSize('retain.bytes', retain.bytes),
  };
}

/**
 * Where and how the environment's snapshots (the signal's, HEAPSCOPE_INTERVAL's)
 * are written: HEAPSCOPE_DIR, _FILENAME, _GZIP, _QUIET, _RETAIN_FILES, _RETAIN_BYTES.
 */
function dumpFromEnvironment(env = process.env) {
  const yes = (value) => /^(1|true|yes)$/i.test(value || '');
  const files = env.HEAPSCOPE_RETAIN_FILES;
  const bytes = env.HEAPSCOPE_RETAIN_BYTES;
  return {
    dir: env.HEAPSCOPE_DIR || undefined,
    filename: env.HEAPSCOPE_FILENAME || undefined,
    gzip: yes(env.HEAPSCOPE_GZIP) || undefined,
    quiet: yes(env.HEAPSCOPE_QUIET),
    retain: files || bytes ? { files: files ? Number(files) : undefined, bytes: bytes || undefined } : undefined,
  };
}

module.exports = { MEMORY_FACTOR, dumpFromEnvironment, preflightOption, snapshotRequest, redactOption, summaryOptions, threadsOption, priorityOption, positive, retention };
