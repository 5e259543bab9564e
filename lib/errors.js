'use strict';
// Node-style errors from the native layer's failure records.

function systemError(prefix, failure) {
  const err = new Error(`${prefix}${failure.message}`);
  err.code = failure.code;
  if (failure.errno) err.errno = -failure.errno;
  if (failure.syscall) err.syscall = failure.syscall;
  if (failure.path) err.path = failure.path;
  return err;
}

/** node-heapdump's error: message `heapdump write error <ERRNO>`. */
function heapdumpError(failure) {
  const err = systemError('', failure);
  err.message = `heapdump write error ${failure.code}`;
  err.detail = failure.message;
  return err;
}

function invalidArg(name, expected, value) {
  const err = new TypeError(`The "${name}" option must be ${expected}. Received ${describe(value)}`);
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/**
 * An analysis failure from the native side: `heapscope: cannot <verb> <where>: …`
 * with its code, the file, and where in it: a byte `offset`, or the `node` or
 * `edge` (by ordinal) that does not fit the rest.
 */
function analysisError(verb, where, failure) {
  const err = new Error(`heapscope: cannot ${verb} ${where}: ${failure.message}`);
  err.code = failure.code;
  for (const key of ['path', 'offset', 'node', 'edge']) {
    if (failure[key] !== undefined && failure[key] !== null) err[key] = failure[key];
  }
  return err;
}

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return `type string (${JSON.stringify(value)})`;
  if (typeof value === 'object') return `an instance of ${value.constructor ? value.constructor.name : 'Object'}`;
  return `type ${typeof value} (${String(value)})`;
}

/** What needs heapscope's V8 shim when this Node has none: `feature` reads "<feature> needs the V8 shim". */
function noShim(feature) {
  const err = new Error(`heapscope: ${feature} needs the V8 shim for this Node (see "Install" in the README)`);
  err.code = 'ERR_HEAPSCOPE_NO_SHIM';
  return err;
}

module.exports = { systemError, heapdumpError, invalidArg, analysisError, noShim };
