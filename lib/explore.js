'use strict';
// Exploring a snapshot object by object: open() reads and analyses it once,
// off the JS thread, and keeps the graph, the retainers and the dominator
// tree in memory; each query then answers from them, also off the JS
// thread, with Chrome DevTools' names and order. close() lets it go.

const path = require('node:path');
const { binding } = require('./native');
const { analysisError, invalidArg } = require('./errors');
const { threadsOption, priorityOption } = require('./request');

/** Items a page holds unless asked for another limit. */
const DEFAULT_LIMIT = 100;

/** `123` or `'@123'` (as DevTools writes ids) → 123. */
function nodeId(id) {
  const n = typeof id === 'string' && /^@?\d+$/.test(id) ? Number(id.replace('@', '')) : id;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw invalidArg('id', 'a node id (123 or "@123")', id);
  return n;
}

/** `{ offset, limit }` → checked, with the default limit. */
function pageOptions(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const { offset = 0, limit = DEFAULT_LIMIT } = options;
  if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) throw invalidArg('offset', 'an integer ≥ 0', offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > 0xffffffff) throw invalidArg('limit', 'a positive integer', limit);
  return { offset, limit };
}

function closedError() {
  const err = new Error('heapscope: this heap was closed');
  err.code = 'ERR_HEAPSCOPE_CLOSED';
  return err;
}

/**
 * A snapshot kept in memory for queries by node id (`@123` as DevTools
 * shows it). Every query returns a Promise; an id the snapshot does not
 * have answers `null`.
 */
class Heap {
  #handle;

  constructor(handle, file) {
    this.#handle = handle;
    /** The snapshot file (`path` is the query). */
    this.file = file;
    /** Nodes in the snapshot, and DevTools' total size. */
    this.nodeCount = handle.nodeCount;
    this.totalSize = handle.totalSize;
  }

  /** Runs a query: argument errors and a closed heap reject, as every failure does. */
  async #query(ask) {
    if (!this.#handle) throw closedError();
    return ask(this.#handle);
  }

  /** The object and a page of its edges, largest retained size first (DevTools' Summary). */
  node(id, options) {
    return this.#query(async (h) => {
      const { offset, limit } = pageOptions(options);
      const found = await h.node(nodeId(id), offset, limit);
      return found && { ...found.object, edges: found.edges };
    });
  }

  /** A page of what retains the object, nearest the roots first (DevTools' Retainers view). */
  retainers(id, options) {
    return this.#query((h) => {
      const { offset, limit } = pageOptions(options);
      return h.retainers(nodeId(id), offset, limit);
    });
  }

  /** The retaining path from the root, as DevTools finds it: `{ steps, text }`. */
  path(id) {
    return this.#query((h) => h.path(nodeId(id)));
  }

  /** The object's dominators, its immediate one first, out to the root. */
  dominators(id) {
    return this.#query((h) => h.dominators(nodeId(id)));
  }

  /** A page of what the object immediately dominates, largest retained size first. */
  dominated(id, options) {
    return this.#query((h) => {
      const { offset, limit } = pageOptions(options);
      return h.dominated(nodeId(id), offset, limit);
    });
  }

  /** A page of a Summary class's objects, largest retained size first. */
  instances(className, options) {
    return this.#query((h) => {
      if (typeof className !== 'string' || className === '') throw invalidArg('className', 'a non-empty string', className);
      const { offset, limit } = pageOptions(options);
      return h.instances(className, offset, limit);
    });
  }

  /** What analyze() answers, from memory: the largest classes and objects. */
  summary(options = {}) {
    return this.#query(async (h) => {
      if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
      const { topClasses = 50, topObjects = 20 } = options;
      for (const [name, value] of [['topClasses', topClasses], ['topObjects', topObjects]]) {
        if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalidArg(name, 'an integer ≥ 0', value);
      }
      const summary = await h.summary(topClasses, topObjects);
      return { ...summary, parseMs: h.openMs, analyzeMs: 0 };
    });
  }

  /** A page of the string values held more than once, most bytes wasted first (`top`: the limit). */
  duplicateStrings(options = {}) {
    return this.#query((h) => {
      if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
      const { top, ...rest } = options;
      const { offset, limit } = pageOptions(top === undefined ? rest : { ...rest, limit: top });
      return h.duplicateStrings(offset, limit);
    });
  }

  /**
   * A page of the objects that answer every part given, largest retained
   * size first: `className`, `type` (`'string'`, `'closure'` …), a
   * `property` they have, a `value` their name holds (a string's value, a
   * function's name): a substring, or a RegExp (run by Rust's regex engine,
   * in linear time: no look-around or backreferences; flag `i` kept); or a
   * `pattern`, a string in that engine's own syntax (the CLI's and MCP's).
   */
  find(query, options) {
    return this.#query(async (h) => {
      if (query === null || typeof query !== 'object') throw invalidArg('query', 'an object', query);
      const { className, type, property, value } = query;
      for (const [name, v] of [['className', className], ['type', type], ['property', property], ['pattern', query.pattern]]) {
        if (v !== undefined && typeof v !== 'string') throw invalidArg(name, 'a string', v);
      }
      if (value !== undefined && typeof value !== 'string' && !(value instanceof RegExp)) throw invalidArg('value', 'a string or a RegExp', value);
      const pattern = value instanceof RegExp ? `${value.flags.includes('i') ? '(?i)' : ''}${value.source}` : query.pattern;
      const { offset, limit } = pageOptions(options);
      try {
        return await h.find({ className, type, property, value: pattern === undefined ? value : undefined, pattern }, offset, limit);
      } catch (e) {
        if (!/^ERR_INVALID_ARG_VALUE: /.test(e.message)) throw e;
        const err = new TypeError(`heapscope: the pattern is not one Rust's regex engine runs: ${e.message.replace(/^ERR_INVALID_ARG_VALUE: /, '')}`);
        err.code = 'ERR_INVALID_ARG_VALUE';
        throw err;
      }
    });
  }

  /** A page of the closures, largest retained size first, each with its context's `variables` (the largest few). */
  closures(options = {}) {
    return this.#query((h) => {
      const { variables = 5, ...rest } = options ?? {};
      if (!Number.isInteger(variables) || variables < 0) throw invalidArg('variables', 'an integer ≥ 0', variables);
      const { offset, limit } = pageOptions(rest);
      return h.closures(offset, limit, variables);
    });
  }

  /** What a closure (or a context) captures: `{ closure, context, variables }`, largest first. */
  context(id, options) {
    return this.#query((h) => {
      const { offset, limit } = pageOptions(options);
      return h.context(nodeId(id), offset, limit);
    });
  }

  /** DevTools' Statistics: `{ total, native: { total, typedArrays }, v8heap: { total, code, jsArrays, strings, system } }`. */
  statistics() {
    return this.#query((h) => h.statistics());
  }

  /** Frees the snapshot's memory once the queries still running end. Idempotent. */
  close() {
    if (this.#handle) this.#handle.close();
    this.#handle = null;
  }

  get closed() {
    return this.#handle === null;
  }
}

/** Reads and analyses a snapshot file and keeps it open: a {@link Heap}. */
async function open(file, options = {}) {
  if (typeof file !== 'string' || file === '') throw invalidArg('path', 'a non-empty string', file);
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const threads = threadsOption(options.threads);
  const priority = priorityOption(options.priority);
  const absolute = path.resolve(file);
  const outcome = await binding.openHeap(absolute, { threads, priority });
  if (outcome.error) {
    const err = analysisError('open', absolute, outcome.error);
    err.path = absolute;
    throw err;
  }
  return new Heap(outcome.heap, absolute);
}

module.exports = { open, Heap, nodeId, pageOptions };
