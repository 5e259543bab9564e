'use strict';
// heapscope's snapshot-signal worker, used when no V8 shim is loaded (see
// fallback.js). The native signal thread calls `onSignal` on this worker's
// loop; the snapshot is taken through an inspector session to the main
// thread, which Node services by V8 interrupt, even during a busy loop.

const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const inspector = require('node:inspector');
const { performance } = require('node:perf_hooks');

const binding = require(workerData.addonPath);

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
const { signal, dump } = workerData;

const session = new inspector.Session();
session.connectToMainThread();

function post(method, params) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

let running = false;

async function takeSnapshot(signalName) {
  // The working directory of the moment of the signal, as node-heapdump's.
  const request = { ...dump.request, dir: dump.request.dir ?? process.cwd(), trigger: 'signal' };
  const usage = await post('Runtime.getHeapUsage', {}).catch(() => ({ usedSize: 0 }));
  const short = dump.memoryFactor ? binding.preflight(usage.usedSize, dump.memoryFactor) : null;
  if (short) {
    const message = `signal ${signalName}: ${short.message}`;
    if (!dump.quiet) fs.writeSync(2, `heapscope[${process.pid}]: heap snapshot skipped on ${message}\n`);
    const skipped = { reason: 'memory', message, needed: short.needed, available: short.available };
    parentPort.postMessage({ kind: 'skipped', watcher: 0, skipped });
    return;
  }
  const file = binding.SnapshotFile.open(request);
  const stop = feedChunks(session, file);
  const started = performance.now();
  let complete = true;
  try {
    await post('HeapProfiler.takeHeapSnapshot', snapshotParams(request));
  } catch {
    complete = false;
  } finally {
    stop();
  }
  // From the request to the last chunk: an upper bound of the main thread's pause.
  const outcome = await file.finish(complete, performance.now() - started, usage.usedSize);
  parentPort.postMessage(binding.settleRelayed(outcome, dump, signalName));
}

function onSignal(signalName) {
  // Signals during a snapshot are coalesced into it, as with the shim.
  if (running) return;
  running = true;
  takeSnapshot(signalName)
    // Straight to fd 2: a worker's process.stderr goes through the busy main thread.
    .catch((e) => fs.writeSync(2, `heapscope[${process.pid}]: heap snapshot on ${signalName} failed: ${e.message}\n`))
    .finally(() => {
      running = false;
    });
}

binding.armSignalRelay(signal, onSignal);
// The port keeps this worker's loop alive; the main thread unrefs the worker.
parentPort.on('message', () => {});
