'use strict';
// Capture without a V8 shim (a Node major newer than the prebuilt shims, no
// C++ compiler at install): the same native sinks, fed by Node's public APIs.
//
// - snapshot() and writeSnapshot(): an inspector session on the calling
//   thread. `HeapProfiler.takeHeapSnapshot` runs synchronously inside
//   `session.post()` and delivers its chunks as events during that call, so
//   each chunk goes straight to the file's writer thread, as V8's chunks do
//   through the shim; nothing is buffered in JS.
// - the snapshot signal: a worker of heapscope's own holds an inspector
//   session to the main thread (`connectToMainThread()`); Node dispatches its
//   messages by V8 interrupt, so the snapshot is taken even while the main
//   thread spins in `while (true) {}`. The native signal thread wakes that
//   worker, whose loop is free.
// - near the heap limit: Node's own `v8.setHeapSnapshotNearHeapLimit()`.
//
// What needs V8's GC callbacks (watch() thresholds, monitor(), session()
// marks) is refused with ERR_HEAPSCOPE_NO_SHIM.

const inspector = require('node:inspector');
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');
const v8 = require('node:v8');
const { performance } = require('node:perf_hooks');
const { Worker } = require('node:worker_threads');

function noShim(feature, why) {
  const err = new Error(
    `heapscope: ${feature} needs heapscope's V8 shim, which is not loaded for Node ${process.version} ` +
      `(ABI ${process.versions.modules}): ${why}. Install a C++ compiler and run \`npm rebuild heapscope\` ` +
      'to build the shim for this Node.',
  );
  err.code = 'ERR_HEAPSCOPE_NO_SHIM';
  return err;
}

/** The Node-style heap statistics the shim would have read. */
function heapStatistics() {
  const s = v8.getHeapStatistics();
  return {
    totalHeapSize: s.total_heap_size,
    usedHeapSize: s.used_heap_size,
    heapSizeLimit: s.heap_size_limit,
    totalPhysicalSize: s.total_physical_size,
    mallocedMemory: s.malloced_memory,
    externalMemory: s.external_memory,
  };
}

/** Parameters of HeapProfiler.takeHeapSnapshot for a request. */
function snapshotParams(request) {
  const params = { reportProgress: false };
  if (request.exposeInternals) params.exposeInternals = true;
  if (request.exposeNumericValues) params.captureNumericValue = true;
  return params;
}

/**
 * Sends every snapshot chunk `session` hears to `file` (a native
 * SnapshotFile) until the returned function is called.
 */
function feedChunks(session, file) {
  let writing = true;
  const onChunk = (message) => {
    // A failed write stops the copying; finish() reports the sink's error.
    if (writing) writing = file.write(message.params.chunk);
  };
  session.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  return () => session.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
}

/**
 * Takes a snapshot through `session` into `file`. Synchronous for a session
 * on the calling thread.
 */
function captureInto(session, file, request) {
  const heapUsed = v8.getHeapStatistics().used_heap_size;
  const stop = feedChunks(session, file);
  const started = performance.now();
  let answered = false;
  let failed = null;
  try {
    session.post('HeapProfiler.takeHeapSnapshot', snapshotParams(request), (err) => {
      answered = true;
      failed = err;
    });
  } catch (e) {
    failed = e;
  } finally {
    stop();
  }
  return { complete: answered && !failed, pauseMs: performance.now() - started, heapUsed };
}

module.exports = function fallback(binding, { addonPath, problems }) {
  const why = problems.length ? problems.join('; ') : 'none was found';
  let session = null;
  let warned = false;

  /** One warning per thread, at the first capture, saying what is degraded. */
  function warnOnce() {
    if (warned) return;
    warned = true;
    process.emitWarning(
      `no V8 shim for Node ${process.version} (ABI ${process.versions.modules}): ${why}. ` +
        'Snapshots go through node:inspector (the same pause as v8.writeHeapSnapshot()), the snapshot signal ' +
        'through an inspector worker, near-OOM snapshots through v8.setHeapSnapshotNearHeapLimit(); ' +
        'watch() thresholds, monitor() and session() need the shim (`npm rebuild heapscope` with a C++ compiler).',
      { code: 'HEAPSCOPE_NO_SHIM' },
    );
  }

  function ownSession() {
    if (session === null) {
      session = new inspector.Session();
      session.connect();
    }
    return session;
  }

  function capture(request) {
    warnOnce();
    const file = binding.SnapshotFile.open(request);
    return { file, taken: captureInto(ownSession(), file, request) };
  }

  function writeSnapshotSync(request) {
    const { file, taken } = capture(request);
    return file.finishSync(taken.complete, taken.pauseMs, taken.heapUsed);
  }

  function takeSnapshot(request) {
    try {
      const { file, taken } = capture(request);
      return file.finish(taken.complete, taken.pauseMs, taken.heapUsed);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // Without the shim the analysis reads the file back; with `write: false`
  // that file is a private temporary one, removed afterwards.
  async function takeSnapshotAnalyzed(request, write, options, onProgress) {
    let asked = request;
    let scratch = null;
    if (!write) {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-'));
      asked = { ...request, path: path.join(scratch, 'stream.heapsnapshot'), gzip: undefined };
    }
    try {
      const outcome = await takeSnapshot(asked);
      if (!outcome.ok) return { snapshot: outcome, analysis: {} };
      const analysis = await binding.analyzeFile(outcome.path, options, onProgress);
      const snapshot = write ? outcome : { ...outcome, path: '', bytes: 0 };
      return { snapshot, analysis };
    } finally {
      if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  // --- the signal, through a worker ----------------------------------------

  let worker = null;

  function armSignal(signal, dump, dispatch) {
    warnOnce();
    disarmSignal();
    worker = new Worker(path.join(__dirname, 'signal-worker.js'), {
      workerData: { addonPath, signal, dump },
      // Its own output is heapscope's stderr line, like the shim's thread.
      stdout: false,
      stderr: false,
    });
    worker.on('message', (event) => {
      try {
        dispatch(event);
      } catch {
        // a listener's exception is the app's; never crash the host here
      }
    });
    worker.on('error', (e) => {
      process.emitWarning(`heapscope: the snapshot signal's worker failed: ${e.message}`, { code: 'HEAPSCOPE_SIGNAL' });
    });
    worker.on('exit', () => {
      worker = null;
    });
    // After the listeners: adding a 'message' listener refs the worker again.
    worker.unref();
  }

  function disarmSignal() {
    binding.disarmSignal();
    if (worker !== null) {
      worker.terminate();
      worker = null;
    }
  }

  // --- near the heap limit -------------------------------------------------

  let nearLimitSet = false;

  function watch(settings) {
    const thresholds = ['heapUsed', 'rss', 'heapLimitRatio', 'containerLimitRatio'].filter((k) => settings[k] !== undefined);
    if (thresholds.length > 0) throw noShim(`watch({ ${thresholds.join(', ')} })`, why);
    warnOnce();
    if (!nearLimitSet) {
      // Node writes Heap.<date>.<pid>.<tid>.<seq>.heapsnapshot into its
      // --diagnostic-dir (default: the working directory).
      v8.setHeapSnapshotNearHeapLimit(settings.nearHeapLimit);
      nearLimitSet = true;
    }
    return { id: 0, thresholds: [], heapLimit: v8.getHeapStatistics().heap_size_limit, containerLimit: null };
  }

  const refuse = (feature) => () => {
    throw noShim(feature, why);
  };

  return {
    writeSnapshotSync,
    takeSnapshot,
    takeSnapshotAnalyzed,
    armSignal,
    disarmSignal,
    heapStatistics,
    watch,
    unwatch: () => null,
    takeSnapshotCompared: refuse('session().mark()'),
    sampleGc: refuse('monitor()'),
  };
};

module.exports.feedChunks = feedChunks;
module.exports.snapshotParams = snapshotParams;
