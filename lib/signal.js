'use strict';
// The snapshot signal (SIGUSR2 unless told otherwise): armed by hand with
// armSignal() or, as node-heapdump did, on require from the environment.
// The native side writes the snapshot even while JavaScript is busy; this
// module checks options and keeps the native handler in front of libuv's.

const os = require('node:os');
const { isMainThread } = require('node:worker_threads');
const { binding } = require('./native');
const { invalidArg } = require('./errors');
const { dispatch } = require('./events');
const { snapshotRequest, retention, preflightOption, dumpFromEnvironment } = require('./request');

/** The armed signal's name, null when none is armed. */
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
  const request = snapshotRequest({ dir: options.dir, filename: options.filename, gzip: options.gzip, redact: options.redact, profile: options.profile });
  // Without a directory, the working directory when the signal arrives.
  if (options.dir === undefined) request.dir = undefined;
  if (options.quiet !== undefined && typeof options.quiet !== 'boolean') throw invalidArg('quiet', 'a boolean', options.quiet);
  const dump = {
    request: { ...request, heapdumpName: options.filename === undefined },
    quiet: options.quiet === true,
    ...retention(options.retain),
    memoryFactor: preflightOption(options, true),
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

const armedSignal = () => armedName;

/**
 * libuv (re)installs its handler when the first listener for a signal is
 * added and resets it when the last is removed. Node's own listeners for
 * these events run first, so by the time ours run libuv is done: put the
 * native handler back in front.
 */
function keepInFront() {
  if (!isMainThread) return;
  const rearm = (event) => {
    if (event === armedName) binding.rearmSignal();
  };
  process.on('newListener', rearm);
  process.on('removeListener', rearm);
}

/** node-heapdump armed SIGUSR2 on require; so does heapscope, on the main thread, as HEAPSCOPE_* and NODE_HEAPDUMP_OPTIONS say. */
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
      ...dumpFromEnvironment(),
    });
  } catch (e) {
    process.emitWarning(`${e.message} (from the HEAPSCOPE_* environment); no snapshot signal is armed`, { code: 'HEAPSCOPE_SIGNAL' });
  }
}

module.exports = { armSignal, disarmSignal, armedSignal, keepInFront, armFromEnvironment };
