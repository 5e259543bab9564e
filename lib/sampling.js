'use strict';
// V8's sampling heap profiler: which code allocated the memory that is still
// alive. V8 samples one allocation per `intervalBytes` on average (a Poisson
// process, cheap enough for production) with the JS stack that made it, and
// forgets samples whose objects the GC freed. Per isolate: a Worker samples
// its own heap. Nothing here keeps the process alive.

const { binding, shim } = require('./native');
const { invalidArg } = require('./errors');
const { positive } = require('./request');

const DEFAULT_INTERVAL = 512 * 1024;
const DEFAULT_DEPTH = 32;

function noShim() {
  const err = new Error('heapscope: the sampling heap profiler needs the V8 shim for this Node (see "Install" in the README)');
  err.code = 'ERR_HEAPSCOPE_NO_SHIM';
  return err;
}

/** Starts sampling on the calling thread's isolate; a second call keeps the running profiler. */
function startSampling(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const intervalBytes = positive('intervalBytes', options.intervalBytes, DEFAULT_INTERVAL, { integer: true });
  const stackDepth = positive('stackDepth', options.stackDepth, DEFAULT_DEPTH, { integer: true });
  if (!shim.path) throw noShim();
  binding.startSampling(intervalBytes, stackDepth);
}

/** Stops sampling; the samples go with it. */
function stopSampling() {
  if (!shim.path) throw noShim();
  binding.stopSampling();
}

/** The live sampled allocations now, without stopping: a {@link HeapProfile}. */
function sampleProfile() {
  if (!shim.path) throw noShim();
  const sites = binding.samplingProfile();
  if (sites === null) {
    const err = new Error('heapscope: not sampling: call startSampling() first');
    err.code = 'ERR_HEAPSCOPE_NOT_SAMPLING';
    throw err;
  }
  return new HeapProfile(sites);
}

/**
 * A tree of allocation sites: each a JS frame (function, script URL, line and
 * column, 1-based) with the live sampled bytes and objects allocated right
 * there (`selfSize`, `selfCount`) and under it (`totalSize`, `totalCount`).
 */
class HeapProfile {
  constructor(sites) {
    const nodes = sites.map((s, id) => ({
      id,
      functionName: s.functionName,
      url: s.url,
      scriptId: s.scriptId,
      lineNumber: s.line,
      columnNumber: s.column,
      selfSize: s.selfSize,
      selfCount: s.selfCount,
      totalSize: s.selfSize,
      totalCount: s.selfCount,
      children: [],
    }));
    // Parents come first: children add up into them walking back.
    for (let i = nodes.length - 1; i > 0; i--) {
      const parent = nodes[sites[i].parent];
      parent.totalSize += nodes[i].totalSize;
      parent.totalCount += nodes[i].totalCount;
    }
    for (let i = 1; i < nodes.length; i++) nodes[sites[i].parent].children.push(nodes[i]);
    for (const node of nodes) node.children.sort((a, b) => b.totalSize - a.totalSize);
    /** The root: `(root)`, holding every site. */
    this.root = nodes[0];
    /** Live sampled bytes in all. */
    this.totalSize = nodes[0].totalSize;
    this.totalCount = nodes[0].totalCount;
    Object.defineProperty(this, 'nodes', { value: nodes });
  }

  /**
   * The `n` sites that allocated the most live memory themselves, one entry
   * per frame (function, URL, line, column) wherever it sits in the tree.
   */
  topSites(n = 10) {
    const byFrame = new Map();
    for (const node of this.nodes) {
      if (node.selfCount === 0) continue;
      const key = `${node.functionName}\0${node.url}\0${node.lineNumber}\0${node.columnNumber}`;
      const site = byFrame.get(key);
      if (site) {
        site.selfSize += node.selfSize;
        site.selfCount += node.selfCount;
      } else {
        const { functionName, url, scriptId, lineNumber, columnNumber, selfSize, selfCount } = node;
        byFrame.set(key, { functionName, url, scriptId, lineNumber, columnNumber, selfSize, selfCount });
      }
    }
    return [...byFrame.values()].sort((a, b) => b.selfSize - a.selfSize).slice(0, n);
  }

  /**
   * Chrome's `.heapprofile` JSON (DevTools' Memory panel and VS Code open
   * it): the inspector's SamplingHeapProfile, lines and columns 0-based.
   */
  toHeapProfile() {
    const convert = (node) => ({
      callFrame: {
        functionName: node.functionName,
        scriptId: String(node.scriptId),
        url: node.url,
        lineNumber: node.lineNumber - 1,
        columnNumber: node.columnNumber - 1,
      },
      selfSize: node.selfSize,
      id: node.id + 1,
      children: node.children.map(convert),
    });
    return { head: convert(this.root), samples: [] };
  }
}

module.exports = { startSampling, stopSampling, sampleProfile, HeapProfile };
