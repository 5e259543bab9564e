'use strict';
// V8's sampling heap profiler: which code allocated the memory that is still
// alive. V8 samples one allocation per `intervalBytes` on average (a Poisson
// process, cheap enough for production) with the JS stack that made it, and
// forgets samples whose objects the GC freed. Per isolate: a Worker samples
// its own heap. Nothing here keeps the process alive.

const { isMainThread } = require('node:worker_threads');
const { binding, shim } = require('./native');
const { invalidArg, noShim } = require('./errors');
const { positive } = require('./request');
const { parseSize } = require('./units');

const DEFAULT_INTERVAL = 512 * 1024;
const DEFAULT_DEPTH = 32;

/** The interval of this thread's sampling, for the profiles' period. */
let sampling = DEFAULT_INTERVAL;

const noProfilerShim = () => noShim('the sampling heap profiler');

/** Starts sampling on the calling thread's isolate; a second call keeps the running profiler. */
function startSampling(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const intervalBytes = positive('intervalBytes', options.intervalBytes, DEFAULT_INTERVAL, { integer: true });
  const stackDepth = positive('stackDepth', options.stackDepth, DEFAULT_DEPTH, { integer: true });
  if (!shim.path) throw noProfilerShim();
  binding.startSampling(intervalBytes, stackDepth);
  sampling = intervalBytes;
}

/** Stops sampling; the samples go with it. */
function stopSampling() {
  if (!shim.path) throw noProfilerShim();
  binding.stopSampling();
}

/** The live sampled allocations now, without stopping: a {@link HeapProfile}. */
function sampleProfile() {
  if (!shim.path) throw noProfilerShim();
  const sites = binding.samplingProfile();
  if (sites === null) {
    const err = new Error('heapscope: not sampling: call startSampling() first');
    err.code = 'ERR_HEAPSCOPE_NOT_SAMPLING';
    throw err;
  }
  return new HeapProfile(sites, sampling);
}

/** One JS frame: a function of a script at a line and column. */
const frameKey = (node) => `${node.functionName}\0${node.url}\0${node.lineNumber}\0${node.columnNumber}`;

/**
 * A tree of allocation sites: each a JS frame (function, script URL, line and
 * column, 1-based) with the live sampled bytes and objects allocated right
 * there (`selfSize`, `selfCount`) and under it (`totalSize`, `totalCount`).
 */
class HeapProfile {
  constructor(sites, intervalBytes = DEFAULT_INTERVAL) {
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
    /** The mean bytes between samples it was taken with. */
    this.intervalBytes = intervalBytes;
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
      const key = frameKey(node);
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

  /**
   * Gzipped pprof (`inuse_objects`/`inuse_space` as `objects`/`space`), as
   * `go tool pprof`, Pyroscope, Grafana, Parca and Datadog read it: one
   * sample per site that allocated live memory, its stack leaf first.
   * Encoded by pprof-format, the maintained JavaScript pprof library.
   */
  toPprof() {
    const { Profile, ValueType, Sample, Location, Line, Function: PprofFunction, StringTable } = require('pprof-format');
    const strings = new StringTable();
    const type = (kind, unit) => new ValueType({ type: strings.dedup(kind), unit: strings.dedup(unit) });
    const functions = new Map();
    const locations = new Map();
    // A location per frame (function, script, line, column); a function per (name, script, line).
    const locationOf = (node) => {
      const key = frameKey(node);
      let location = locations.get(key);
      if (!location) {
        const fnKey = `${node.functionName}\0${node.url}\0${node.lineNumber}`;
        let fn = functions.get(fnKey);
        if (!fn) {
          const name = strings.dedup(node.functionName || '(anonymous)');
          fn = new PprofFunction({ id: functions.size + 1, name, systemName: name, filename: strings.dedup(node.url), startLine: node.lineNumber });
          functions.set(fnKey, fn);
        }
        location = new Location({ id: locations.size + 1, line: [new Line({ functionId: fn.id, line: node.lineNumber })] });
        locations.set(key, location);
      }
      return location.id;
    };
    const samples = [];
    const walk = (node, stack) => {
      const here = node === this.root ? stack : [locationOf(node), ...stack];
      if (node.selfCount > 0 && here.length > 0) samples.push(new Sample({ locationId: here, value: [node.selfCount, node.selfSize] }));
      for (const child of node.children) walk(child, here);
    };
    walk(this.root, []);
    const profile = new Profile({
      sampleType: [type('objects', 'count'), type('space', 'bytes')],
      sample: samples,
      location: [...locations.values()],
      function: [...functions.values()],
      stringTable: strings,
      periodType: type('space', 'bytes'),
      period: this.intervalBytes,
      timeNanos: BigInt(Date.now()) * 1_000_000n,
    });
    return require('node:zlib').gzipSync(profile.encode());
  }
}

/**
 * The allocation sites of a profile file, largest first: Chrome's
 * `.heapprofile` JSON or a pprof file (gzipped or not), whoever wrote it.
 * Lines are 1-based. Throws ERR_HEAPSCOPE_PROFILE_FORMAT naming the file.
 */
function readProfileSites(bytes, file) {
  const bad = (why) => {
    const err = new Error(`heapscope: ${file} is not a heap profile: ${why}`);
    err.code = 'ERR_HEAPSCOPE_PROFILE_FORMAT';
    err.path = file;
    return err;
  };
  const bySite = new Map();
  const add = (frame, size, count) => {
    const key = frameKey(frame);
    const site = bySite.get(key) ?? { ...frame, selfSize: 0, selfCount: 0 };
    site.selfSize += size;
    site.selfCount += count;
    bySite.set(key, site);
  };
  const text = bytes.subarray(0, 64).toString('latin1').trimStart();
  if (text.startsWith('{')) {
    let profile;
    try {
      profile = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      throw bad(`unreadable JSON (${e.message})`);
    }
    if (!profile || typeof profile.head !== 'object') throw bad('no "head" (a Chrome .heapprofile has one)');
    const walk = (node) => {
      const f = node.callFrame || {};
      const frame = { functionName: f.functionName ?? '', url: f.url ?? '', lineNumber: (f.lineNumber ?? -1) + 1, columnNumber: (f.columnNumber ?? -1) + 1 };
      if (node.selfSize > 0) add(frame, node.selfSize, 0);
      for (const child of node.children || []) walk(child);
    };
    walk(profile.head);
  } else {
    const { Profile } = require('pprof-format');
    let profile;
    try {
      profile = Profile.decode(bytes[0] === 0x1f && bytes[1] === 0x8b ? require('node:zlib').gunzipSync(bytes) : bytes);
    } catch (e) {
      throw bad(`neither JSON nor pprof (${e.message})`);
    }
    const strings = profile.stringTable.strings;
    const types = profile.sampleType.map((t) => strings[Number(t.type)]);
    const space = types.findIndex((t) => /space|bytes/.test(t));
    const objects = types.findIndex((t) => /objects|count/.test(t));
    if (space < 0) throw bad(`no space/bytes sample type (it has ${types.join(', ') || 'none'})`);
    const functions = new Map(profile.function.map((f) => [Number(f.id), f]));
    const locations = new Map(profile.location.map((l) => [Number(l.id), l]));
    for (const sample of profile.sample) {
      const leaf = locations.get(Number(sample.locationId[0]));
      const line = leaf && leaf.line[0];
      const fn = line && functions.get(Number(line.functionId));
      const frame = {
        functionName: fn ? strings[Number(fn.name)] : '',
        url: fn ? strings[Number(fn.filename)] : '',
        lineNumber: line ? Number(line.line) : 0,
        columnNumber: 0,
      };
      add(frame, Number(sample.value[space]), objects >= 0 ? Number(sample.value[objects]) : 0);
    }
  }
  return [...bySite.values()].sort((a, b) => b.selfSize - a.selfSize);
}

/**
 * HEAPSCOPE_SAMPLING=1 (or an interval: 64KB) starts sampling the main
 * thread's heap at load. A bad value or a missing shim is a warning, never a
 * crash at require().
 */
function samplingFromEnvironment(env = process.env) {
  const wanted = env.HEAPSCOPE_SAMPLING;
  if (!isMainThread || wanted === undefined || /^(|0|off|false|no)$/i.test(wanted)) return;
  try {
    const intervalBytes = /^(1|on|true|yes)$/i.test(wanted) ? undefined : parseSize('HEAPSCOPE_SAMPLING', wanted);
    startSampling({ intervalBytes });
  } catch (e) {
    process.emitWarning(`${e.message} (from HEAPSCOPE_SAMPLING); not sampling`, { code: 'HEAPSCOPE_SAMPLING' });
  }
}

module.exports = { startSampling, stopSampling, sampleProfile, HeapProfile, readProfileSites, samplingFromEnvironment };
