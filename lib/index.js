'use strict';
// The public API, given the loaded native binding.

const { EventEmitter } = require('node:events');
const path = require('node:path');
const { threadId } = require('node:worker_threads');
const { systemError, heapdumpError, invalidArg } = require('./errors');

module.exports = function api(binding) {
  /** Module-level events: 'snapshot' for every snapshot written, 'error' for failures. */
  const events = new EventEmitter();

  function announce(outcome, trigger) {
    const info = describeOutcome(outcome, trigger);
    if (outcome.ok && events.listenerCount('snapshot') > 0) events.emit('snapshot', info);
    return info;
  }

  function describeOutcome(outcome, trigger) {
    return {
      path: outcome.path ? path.resolve(outcome.path) : outcome.path,
      trigger,
      bytes: outcome.bytes,
      rawBytes: outcome.rawBytes,
      compressed: outcome.compressed,
      pauseMs: outcome.pauseMs,
      durationMs: outcome.durationMs,
      heapUsed: outcome.heapUsed,
      seq: outcome.seq,
      pid: process.pid,
      threadId,
    };
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
    const request = filename == null ? { heapdumpName: true, threadId } : { path: String(filename), threadId };
    const outcome = binding.writeSnapshotSync(request);
    if (outcome.ok) announce(outcome, 'api');
    if (typeof callback === 'function') {
      if (outcome.ok) callback(null, outcome.path);
      else callback(heapdumpError(outcome.error));
    }
    return outcome.ok;
  }

  function snapshotRequest(options) {
    if (options === undefined || options === null) options = {};
    if (typeof options !== 'object') throw invalidArg('options', 'an object', options);
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
    try {
      request = snapshotRequest(options);
    } catch (e) {
      return Promise.reject(e);
    }
    return binding.takeSnapshot(request).then((outcome) => {
      if (!outcome.ok) {
        const err = systemError('heapscope: snapshot not written: ', outcome.error);
        if (events.listenerCount('error') > 0) events.emit('error', err);
        throw err;
      }
      return announce(outcome, 'api');
    });
  }

  return {
    writeSnapshot,
    snapshot,
    events,
    heapStatistics: () => binding.heapStatistics(),
    versions: Object.freeze({ v8: binding.v8Version(), abi: binding.nodeModuleVersion() }),
  };
};
