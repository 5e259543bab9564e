'use strict';
// Capture without a V8 shim (a Node major newer than the prebuilt shims, no
// C++ compiler at install): the same native sinks, fed by Node's public APIs.
//
// - snapshot(): `v8.getHeapSnapshot()`. Node serializes in one synchronous
//   block once the stream flows, emitting each chunk as a 'data' event
//   during it, so each chunk goes straight to the file's writer thread, as
//   V8's chunks do through the shim; nothing accumulates in JS.
// - writeSnapshot() (synchronous, node-heapdump's): `v8.writeHeapSnapshot()`
//   to an unpredictable temporary name beside the target, then fsync, 0600
//   and rename, so a failed or partial file never has the final name.
// - the snapshot signal: a worker of heapscope's own holds an inspector
//   session to the main thread (`connectToMainThread()`); Node dispatches its
//   messages by V8 interrupt, so the snapshot is taken even while the main
//   thread spins in `while (true) {}`. The native signal thread wakes that
//   worker, whose loop is free.
// - near the heap limit: Node's own `v8.setHeapSnapshotNearHeapLimit()`.
//
// What needs V8's GC callbacks (watch() thresholds, monitor(), session()
// marks) is refused with ERR_HEAPSCOPE_NO_SHIM.

const crypto = require('node:crypto');
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

module.exports = function fallback(binding, { addonPath, problems }) {
  const why = problems.length ? problems.join('; ') : 'none was found';
  let warned = false;

  /** One warning per thread, at the first capture, saying what is degraded. */
  function warnOnce() {
    if (warned) return;
    warned = true;
    process.emitWarning(
      `no V8 shim for Node ${process.version} (ABI ${process.versions.modules}): ${why}. ` +
        'Snapshots go through v8.getHeapSnapshot() and v8.writeHeapSnapshot() (a pause about 1.1x as long), the snapshot ' +
        'signal through an inspector worker, near-OOM snapshots through v8.setHeapSnapshotNearHeapLimit(); ' +
        'watch() thresholds, monitor() and session() need the shim (`npm rebuild heapscope` with a C++ compiler).',
      { code: 'HEAPSCOPE_NO_SHIM' },
    );
  }

  const options = (request) => ({
    exposeInternals: request.exposeInternals === true,
    exposeNumericValues: request.exposeNumericValues === true,
  });

  /** The outcome record the native side would have made. */
  function outcome(finalPath, fields) {
    return {
      ok: true,
      path: finalPath,
      bytes: 0,
      rawBytes: 0,
      pauseMs: 0,
      durationMs: 0,
      heapUsed: 0,
      seq: 0,
      compressed: false,
      ...fields,
    };
  }

  function failed(finalPath, e) {
    const error = {
      message: e.message,
      code: e.code || 'ERR_HEAPSCOPE_V8',
      errno: typeof e.errno === 'number' ? Math.abs(e.errno) : 0,
      syscall: e.syscall,
      path: e.path || finalPath,
    };
    return outcome(finalPath, { ok: false, error });
  }

  function writeSnapshotSync(request) {
    warnOnce();
    let finalPath;
    try {
      finalPath = binding.snapshotPath(request);
    } catch (e) {
      return failed('', { message: e.message, code: 'ERR_INVALID_ARG_VALUE' });
    }
    // Node's synchronous writer puts V8's text on disk before anyone could
    // read it: redaction needs a stream.
    if (request.redact) {
      return failed(finalPath, {
        message: 'a redacted writeSnapshot() needs the V8 shim for this Node version; use snapshot({ redact: true })',
        code: 'ERR_HEAPSCOPE_NO_SHIM',
      });
    }
    const tmp = path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.${crypto.randomBytes(6).toString('hex')}.partial`);
    const heapUsed = v8.getHeapStatistics().used_heap_size;
    const started = performance.now();
    try {
      v8.writeHeapSnapshot(tmp, options(request));
      const pauseMs = performance.now() - started;
      const fd = fs.openSync(tmp, 'r');
      try {
        fs.fchmodSync(fd, 0o600);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      const bytes = fs.statSync(tmp).size;
      fs.renameSync(tmp, finalPath);
      return outcome(finalPath, { bytes, rawBytes: bytes, pauseMs, durationMs: performance.now() - started, heapUsed });
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      return failed(finalPath, e);
    }
  }

  function takeSnapshot(request) {
    warnOnce();
    let file;
    try {
      file = binding.SnapshotFile.open(request);
    } catch (e) {
      return Promise.reject(e);
    }
    const heapUsed = v8.getHeapStatistics().used_heap_size;
    return new Promise((resolve) => {
      const started = performance.now();
      let stream;
      try {
        stream = v8.getHeapSnapshot(options(request));
      } catch {
        resolve(file.finish(false, performance.now() - started, heapUsed));
        return;
      }
      const taken = performance.now() - started;
      let last = 0;
      let writing = true;
      stream.on('data', (chunk) => {
        last = performance.now();
        // A failed write stops the copying; finish() reports the sink's error.
        if (writing) writing = file.write(chunk);
      });
      // Node serializes in the same turn as it took the snapshot: the pause
      // runs from the start to the last chunk (bench/RESULTS.md).
      stream.on('end', () => resolve(file.finish(true, last - started, heapUsed)));
      stream.on('error', () => resolve(file.finish(false, Math.max(taken, last - started), heapUsed)));
    });
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
      if (!outcome.ok) {
        // No analysis ran: its last progress call is owed all the same.
        if (onProgress) onProgress({ phase: 'end', fraction: null });
        return { snapshot: outcome, analysis: {} };
      }
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
    // Armed now, relayed once the worker is up: no window in which the
    // signal's default action (terminate) could hit the process.
    binding.armSignalPending(signal);
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

