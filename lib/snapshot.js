'use strict';
// Snapshots on demand and the analysis of snapshot files: writeSnapshot()
// (node-heapdump's, synchronous), snapshot() and analyze() (Promises).

const path = require('node:path');
const v8 = require('node:v8');
const { threadId } = require('node:worker_threads');
const { binding } = require('./native');
const { systemError, heapdumpError, invalidArg, analysisError } = require('./errors');
const { events, announce, describeOutcome } = require('./events');
const { snapshotRequest, summaryOptions, redactOption, preflightOption } = require('./request');
const { Heap } = require('./explore');

/**
 * The preflight, when `factor` asks for one: a failure record (ENOMEM, with
 * what the snapshot would need and what is left) when it would not fit.
 */
function refusal(factor) {
  if (factor === undefined) return null;
  const short = binding.preflight(v8.getHeapStatistics().used_heap_size, factor);
  if (!short) return null;
  return { message: `ENOMEM: not enough memory for a heap snapshot: ${short.message}`, code: 'ENOMEM', errno: 12 };
}

/**
 * node-heapdump's API: synchronous; the callback runs before this returns.
 * writeSnapshot([filename], [callback]) → boolean
 */
function writeSnapshot(filename, callback) {
  if (typeof filename === 'function') {
    callback = filename;
    filename = undefined;
  }
  // node-heapdump uses its default name for anything but a string.
  // With HEAPSCOPE_PREFLIGHT=on, no snapshot that would not fit.
  const refused = refusal(preflightOption({}, false));
  if (refused) {
    if (typeof callback === 'function') callback(heapdumpError(refused));
    return false;
  }
  const redact = redactOption(undefined);
  const request = typeof filename !== 'string' ? { heapdumpName: true, threadId, redact } : { path: filename, threadId, redact };
  const outcome = binding.writeSnapshotSync(request);
  if (outcome.ok) announce(outcome, 'api');
  if (typeof callback === 'function') {
    if (outcome.ok) callback(null, outcome.path);
    else callback(heapdumpError(outcome.error));
  }
  return outcome.ok;
}

/** A failed capture as the error the caller gets, told to `'error'` listeners too. */
function captureError(prefix, error) {
  const err = systemError(prefix, error);
  if (events.listenerCount('error') > 0) events.emit('error', err);
  return err;
}

/**
 * Takes a heap snapshot now (the pause happens in this call) and resolves
 * once the file is complete, fsynced and under its final name.
 */
function snapshot(options) {
  let request;
  let analysis;
  let refused;
  try {
    request = snapshotRequest(options);
    const asked = options && (options.analyze !== undefined || options.write !== undefined || options.keep !== undefined);
    analysis = asked ? analysisOptions(options) : undefined;
    refused = refusal(preflightOption(options || {}, false));
  } catch (e) {
    return Promise.reject(e);
  }
  if (refused) return Promise.reject(captureError('heapscope: snapshot not written: ', refused));
  if (analysis) return snapshotAnalyzed(request, analysis);
  return binding.takeSnapshot(request).then((outcome) => {
    if (!outcome.ok) throw captureError('heapscope: snapshot not written: ', outcome.error);
    return announce(outcome, 'api');
  });
}

// Checks snapshot()'s analysis options; undefined when analyze is false.
function analysisOptions(options) {
  const { analyze: wanted = false, write = true, keep = false } = options;
  if (typeof wanted !== 'boolean') throw invalidArg('analyze', 'a boolean', wanted);
  if (typeof write !== 'boolean') throw invalidArg('write', 'a boolean', write);
  if (typeof keep !== 'boolean') throw invalidArg('keep', 'a boolean', keep);
  if (!wanted) {
    if (!write) throw invalidArg('write', 'true unless analyze is true', write);
    if (keep) throw invalidArg('keep', 'false unless analyze is true', keep);
    return undefined;
  }
  return { write, keep, ...summaryOptions(options) };
}

/**
 * Runs `start(nativeProgress)` and hands the caller's `onProgress`
 * `{ phase, fraction }` (fraction null outside reading). Each native
 * analysis says 'end' last, and the promise waits for it: no progress
 * event arrives after the promise settles.
 */
function withProgress(onProgress, start) {
  if (!onProgress) return start(undefined);
  let ended;
  const end = new Promise((resolve) => (ended = resolve));
  const task = start((p) => {
    if (p.phase === 'end') ended();
    else onProgress({ phase: p.phase, fraction: p.fraction ?? null });
  });
  return Promise.all([task, end]).then(([result]) => result);
}

// The snapshot's chunks go to the analysis as V8 produces them, and to the
// file unless write is false; with keep, the analysed graph stays for
// queries as a Heap (as open() would give of the file).
function snapshotAnalyzed(request, { write, keep, topClasses, topObjects, threads, onProgress }) {
  const task = withProgress(onProgress, (progress) =>
    binding.takeSnapshotAnalyzed(request, write, { topClasses, topObjects, threads, keep }, progress),
  );
  return task.then(({ snapshot: outcome, analysis }) => {
    if (!outcome.ok) throw captureError(`heapscope: snapshot not ${write ? 'written' : 'taken'}: `, outcome.error);
    const info = write ? announce(outcome, 'api') : { ...describeOutcome(outcome, 'api'), path: null, bytes: 0 };
    if (analysis.error) throw analysisError('analyse', 'the snapshot stream', analysis.error);
    info.summary = { ...analysis.summary, path: info.path };
    if (keep) info.heap = new Heap(analysis.heap, info.path);
    return info;
  });
}

/**
 * Reads a .heapsnapshot (or .heapsnapshot.gz) and computes DevTools'
 * Summary numbers on a pool thread. Resolves with a plain Summary object.
 */
function analyze(file, options = {}) {
  if (typeof file !== 'string' || file === '') return Promise.reject(invalidArg('path', 'a non-empty string', file));
  if (options === null || typeof options !== 'object') return Promise.reject(invalidArg('options', 'an object', options));
  let checked;
  try {
    checked = summaryOptions(options);
  } catch (e) {
    return Promise.reject(e);
  }
  const { topClasses, topObjects, threads, priority, onProgress } = checked;
  const absolute = path.resolve(file);
  const task = withProgress(onProgress, (progress) =>
    binding.analyzeFile(absolute, { topClasses, topObjects, threads, priority }, progress),
  );
  return task.then((outcome) => {
    if (outcome.error) {
      const err = analysisError('analyse', absolute, outcome.error);
      err.path = absolute;
      throw err;
    }
    return outcome.summary;
  });
}

module.exports = { writeSnapshot, snapshot, analyze };
