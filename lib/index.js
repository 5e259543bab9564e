'use strict';
// The public API, given the loaded native addon and what became of its V8 shim.

const path = require('node:path');
const os = require('node:os');
const { threadId, isMainThread } = require('node:worker_threads');
const { systemError, heapdumpError, invalidArg, analysisError } = require('./errors');
const { events, announce, dispatch, describeOutcome } = require('./events');

module.exports = function api(addon, shim) {
  // Without a shim, capture goes through Node's public APIs (fallback.js);
  // everything that only reads snapshots is the addon's either way.
  const binding = shim.path ? addon : Object.assign(Object.create(addon), require('./fallback')(addon, shim));
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
    const request = typeof filename !== 'string' ? { heapdumpName: true, threadId } : { path: filename, threadId };
    const outcome = binding.writeSnapshotSync(request);
    if (outcome.ok) announce(outcome, 'api');
    if (typeof callback === 'function') {
      if (outcome.ok) callback(null, outcome.path);
      else callback(heapdumpError(outcome.error));
    }
    return outcome.ok;
  }

  function snapshotRequest(options) {
    if (options === undefined) options = {};
    // As Node's own v8.writeHeapSnapshot(): null and arrays are not options.
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidArg('options', 'an object', options);
    const { dir, filename, gzip, exposeInternals, exposeNumericValues } = options;
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
      threadId,
    };
  }

  /**
   * Takes a heap snapshot now (the pause happens in this call) and resolves
   * once the file is complete, fsynced and under its final name.
   */
  function snapshot(options) {
    let request;
    let analysis;
    try {
      request = snapshotRequest(options);
      const asked = options && (options.analyze !== undefined || options.write !== undefined);
      analysis = asked ? analysisOptions(options) : undefined;
    } catch (e) {
      return Promise.reject(e);
    }
    if (analysis) return snapshotAnalyzed(request, analysis);
    return binding.takeSnapshot(request).then((outcome) => {
      if (!outcome.ok) {
        const err = systemError('heapscope: snapshot not written: ', outcome.error);
        if (events.listenerCount('error') > 0) events.emit('error', err);
        throw err;
      }
      return announce(outcome, 'api');
    });
  }

  // --- analysis -----------------------------------------------------------

  // Checks snapshot()'s analysis options; undefined when analyze is false.
  function analysisOptions(options) {
    const { analyze: wanted = false, write = true } = options;
    if (typeof wanted !== 'boolean') throw invalidArg('analyze', 'a boolean', wanted);
    if (typeof write !== 'boolean') throw invalidArg('write', 'a boolean', write);
    if (!wanted) {
      if (!write) throw invalidArg('write', 'true unless analyze is true', write);
      return undefined;
    }
    return { write, ...summaryOptions(options) };
  }

  function summaryOptions(options) {
    const { topClasses, topObjects, onProgress } = options;
    for (const [name, value] of [['topClasses', topClasses], ['topObjects', topObjects]]) {
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
        throw invalidArg(name, 'a non-negative integer', value);
      }
    }
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw invalidArg('onProgress', 'a function', onProgress);
    }
    return { topClasses, topObjects, onProgress };
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
  // file unless write is false.
  function snapshotAnalyzed(request, { write, topClasses, topObjects, onProgress }) {
    const task = withProgress(onProgress, (progress) =>
      binding.takeSnapshotAnalyzed(request, write, { topClasses, topObjects }, progress),
    );
    return task.then(({ snapshot: outcome, analysis }) => {
      if (!outcome.ok) {
        const err = systemError(`heapscope: snapshot not ${write ? 'written' : 'taken'}: `, outcome.error);
        if (events.listenerCount('error') > 0) events.emit('error', err);
        throw err;
      }
      const info = write ? announce(outcome, 'api') : { ...describeOutcome(outcome, 'api'), path: null, bytes: 0 };
      if (analysis.error) throw analysisError('analyse', 'the snapshot stream', analysis.error);
      info.summary = { ...analysis.summary, path: info.path };
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
    const { topClasses, topObjects, onProgress } = checked;
    const absolute = path.resolve(file);
    const task = withProgress(onProgress, (progress) => binding.analyzeFile(absolute, { topClasses, topObjects }, progress));
    return task.then((outcome) => {
      if (outcome.error) {
        const err = analysisError('analyse', absolute, outcome.error);
        err.path = absolute;
        throw err;
      }
      return outcome.summary;
    });
  }

  // --- the snapshot signal -------------------------------------------------

  let armedName = null;

  function signalNumber(signal) {
    if (typeof signal === 'number' && Number.isInteger(signal)) return signal;
    if (typeof signal === 'string') {
      const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
      if (name in os.constants.signals) return os.constants.signals[name];
    }
    throw invalidArg('signal', 'a signal name such as "SIGUSR2"', signal);
  }

  function signalName(number) {
    return Object.keys(os.constants.signals).find((k) => os.constants.signals[k] === number) || String(number);
  }

  /**
   * Arms a signal (default SIGUSR2) that writes a snapshot of the main thread's
   * heap, even while JavaScript is busy. Main thread only.
   */
  function armSignal(options = {}) {
    if (!isMainThread) {
      const err = new Error('heapscope: the snapshot signal can only be armed on the main thread');
      err.code = 'ERR_HEAPSCOPE_WORKER';
      throw err;
    }
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    const number = signalNumber(options.signal === undefined ? 'SIGUSR2' : options.signal);
    const request = snapshotRequest({ dir: options.dir, filename: options.filename, gzip: options.gzip });
    // Without a directory, the working directory when the signal arrives.
    if (options.dir === undefined) request.dir = undefined;
    if (options.quiet !== undefined && typeof options.quiet !== 'boolean') throw invalidArg('quiet', 'a boolean', options.quiet);
    const dump = {
      request: { ...request, heapdumpName: options.filename === undefined },
      quiet: options.quiet === true,
      ...watching.retention(options.retain),
    };
    try {
      binding.armSignal(number, dump, dispatch);
    } catch (e) {
      const err = new Error(`heapscope: cannot arm ${signalName(number)}: ${e.message}`);
      err.code = 'ERR_HEAPSCOPE_SIGNAL';
      throw err;
    }
    armedName = signalName(number);
    return armedName;
  }

  function disarmSignal() {
    binding.disarmSignal();
    armedName = null;
  }

  if (isMainThread) {
    // libuv (re)installs its handler when the first listener for a signal is
    // added and resets it when the last is removed. Node's own listeners for
    // these events run first, so by now libuv is done: put ours back in front.
    const rearm = (event) => {
      if (event === armedName) binding.rearmSignal();
    };
    process.on('newListener', rearm);
    process.on('removeListener', rearm);
  }

  function retainFromEnvironment() {
    const files = process.env.HEAPSCOPE_RETAIN_FILES;
    const bytes = process.env.HEAPSCOPE_RETAIN_BYTES;
    if (!files && !bytes) return undefined;
    return { files: files ? Number(files) : undefined, bytes: bytes || undefined };
  }

  // node-heapdump armed SIGUSR2 on require; so does heapscope, on the main thread.
  function armFromEnvironment() {
    if (!isMainThread) return;
    // node-heapdump's options: the last of signal/nosignal wins; anything else is named.
    let heapdumpSignal = true;
    for (const option of (process.env.NODE_HEAPDUMP_OPTIONS || '').split(/\s*,\s*/)) {
      if (option === '') continue;
      else if (option === 'signal') heapdumpSignal = true;
      else if (option === 'nosignal') heapdumpSignal = false;
      else console.error('node-heapdump: unrecognized option:', option);
    }
    const wanted = process.env.HEAPSCOPE_SIGNAL;
    if (!heapdumpSignal) return;
    if (wanted !== undefined && /^(|0|off|none|false|no)$/i.test(wanted)) return;
    try {
      armSignal({
        signal: wanted || 'SIGUSR2',
        dir: process.env.HEAPSCOPE_DIR || undefined,
        gzip: /^(1|true|yes)$/i.test(process.env.HEAPSCOPE_GZIP || '') || undefined,
        quiet: /^(1|true|yes)$/i.test(process.env.HEAPSCOPE_QUIET || ''),
        retain: retainFromEnvironment(),
      });
    } catch (e) {
      process.emitWarning(`${e.message} (from the HEAPSCOPE_* environment); no snapshot signal is armed`, { code: 'HEAPSCOPE_SIGNAL' });
    }
  }
  const watching = require('./watch')(binding, { snapshotRequest });
  const leaks = require('./leaks')(binding, { snapshotRequest });
  const monitoring = require('./monitor')(binding, { events, session: leaks.session });
  // The pages load on first use: an app that never draws one pays nothing at require().
  let live;
  const serve = (options) => {
    live ??= require('./report/serve')({ monitor: monitoring.monitor, Monitor: monitoring.Monitor, analyze });
    return live.serve(options);
  };
  armFromEnvironment();

  return {
    armSignal,
    disarmSignal,
    armedSignal: () => armedName,
    writeSnapshot,
    snapshot,
    watch: watching.watch,
    analyze,
    diff: leaks.diff,
    findLeaks: leaks.findLeaks,
    session: leaks.session,
    monitor: monitoring.monitor,
    renderReport: (input, options) => require('./report').renderReport(input, { values: options?.values ?? false }),
    serve,
    watchDefaults: watching.DEFAULTS,
    events,
    heapStatistics: () => binding.heapStatistics(),
    versions: Object.freeze({ v8: process.versions.v8, abi: Number(process.versions.modules), shim: shim.path }),
  };
};
