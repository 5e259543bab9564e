'use strict';
// Leak detection: diff() and findLeaks() of files, and sessions that mark
// points in a running process. Earlier snapshots are kept as digests (ids,
// classes, sizes, the largest objects by path), never as whole graphs.

const path = require('node:path');
const { binding, shim } = require('./native');
const { analysisError, invalidArg, noShim, systemError } = require('./errors');
const { snapshotRequest, threadsOption, priorityOption } = require('./request');
const { parseSize } = require('./units');
const { startSampling, stopSampling } = require('./sampling');

function checkFile(name, file) {
  if (typeof file !== 'string' || file === '') throw invalidArg(name, 'a path', file);
  return path.resolve(file);
}

function leakOptions(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const { limit } = options;
  const threads = threadsOption(options.threads);
  const priority = priorityOption(options.priority);
  const minGrowth = options.minGrowth === undefined ? undefined : parseSize('minGrowth', options.minGrowth, { zero: true });
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw invalidArg('limit', 'a positive integer', limit);
  return { minGrowth, limit, threads, priority };
}

function checkForce(force) {
  if (force !== undefined && typeof force !== 'boolean') throw invalidArg('force', 'a boolean', force);
}

function unwrap(outcome, what) {
  if (outcome.error) throw analysisError('compare', what, outcome.error);
  return outcome;
}

/**
 * Two snapshot files of one process: objects added and removed per class
 * (DevTools' Comparison view), and the new objects still alive grouped by
 * the retainer path they hang from.
 */
async function diff(before, after, options = {}) {
  const files = [checkFile('before', before), checkFile('after', after)];
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const { force = false } = options;
  checkForce(force);
  const threads = threadsOption(options.threads);
  const priority = priorityOption(options.priority);
  return { ...unwrap(await binding.diffFiles(...files, force, threads, priority), 'snapshots').diff, files };
}

/** Where heapscope's own JS lives: frames there are the tool's, not the program's. */
const OWN_CODE = __dirname + path.sep;

/** Most snapshots one report compares (the native side's MAX_SNAPSHOTS). */
const MAX_SNAPSHOTS = 64;

/** `{ baseline, target, final }` or `{ snapshots: [baseline, …, final] }` → the files, oldest first. */
function leakFiles({ snapshots, baseline, target, final: last }) {
  if (snapshots === undefined) {
    const files = [checkFile('baseline', baseline)];
    if (target !== undefined) files.push(checkFile('target', target));
    files.push(checkFile('final', last));
    return files;
  }
  if (baseline !== undefined || target !== undefined || last !== undefined) {
    throw invalidArg('snapshots', 'given alone, without baseline, target or final', snapshots);
  }
  if (!Array.isArray(snapshots) || snapshots.length < 2 || snapshots.length > MAX_SNAPSHOTS) {
    throw invalidArg('snapshots', `an array of 2 to ${MAX_SNAPSHOTS} paths, oldest first`, snapshots);
  }
  return snapshots.map((file, i) => checkFile(`snapshots[${i}]`, file));
}

/**
 * memlab's three snapshots, or more: objects allocated between the baseline
 * and the target (the one before the last) that are still alive in the
 * last, and what grew along the way, clustered by the retainer path that
 * holds them. `target` is optional; `snapshots: [a, b, c, d, …]` gives
 * every step, and what grew at every step ranks first.
 */
async function findLeaks({ baseline, target, final: last, snapshots, force = false, ...options } = {}) {
  const files = leakFiles({ snapshots, baseline, target, final: last });
  checkForce(force);
  const report = unwrap(await binding.findLeaksInFiles(files, { ...leakOptions(options), force }), 'snapshots').report;
  return { ...report, files };
}

/**
 * V8's allocation tracker, shared by this thread's sessions: on while any
 * of them needs it. It records every allocation's stack and slows
 * allocation down: for staging, not production.
 */
const tracker = {
  users: 0,
  start() {
    if (this.users++ === 0) binding.startTrackingAllocations();
  },
  stop() {
    if (this.users > 0 && --this.users === 0) binding.stopTrackingAllocations();
  },
};

/**
 * V8's sampling heap profiler for sessions with `allocationSites:
 * 'sampling'`: started at a baseline unless something already samples
 * (HEAPSCOPE_SAMPLING, startSampling()), which is then left as it runs.
 */
const sampler = {
  users: 0,
  ours: false,
  start(intervalBytes) {
    if (this.users++ > 0) return;
    this.ours = binding.samplingProfile() === null;
    if (this.ours) startSampling({ intervalBytes });
  },
  stop() {
    if (this.users > 0 && --this.users === 0 && this.ours) {
      this.ours = false;
      stopSampling();
    }
  },
};

const ALLOCATION_SITES = ['tracking', 'sampling'];

/** `allocationSites`, checked: undefined (none) or one of {@link ALLOCATION_SITES}. */
function allocationSitesOption(value) {
  if (value !== undefined && !ALLOCATION_SITES.includes(value)) {
    throw invalidArg('allocationSites', ALLOCATION_SITES.map((s) => `'${s}'`).join(' or '), value);
  }
  return value;
}

/** The sampling interval of a session's own sampler: a size, 512 KiB by default. */
function samplingIntervalOption(value, allocationSites) {
  if (value === undefined) return undefined;
  if (allocationSites !== 'sampling') throw invalidArg('samplingInterval', "used with allocationSites: 'sampling'", value);
  return parseSize('samplingInterval', value);
}

/** Points marked in this process; each mark is a snapshot reduced to a digest as it streams. */
class Session {
  #marks = [];
  #request;
  #write;
  #allocationSites;
  #samplingInterval;
  /** The tracker or sampler this session holds on to, while it does. */
  #recorder = null;

  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
    const { write = false, allocationSites, samplingInterval, ...rest } = options;
    if (typeof write !== 'boolean') throw invalidArg('write', 'a boolean', write);
    allocationSitesOption(allocationSites);
    this.#samplingInterval = samplingIntervalOption(samplingInterval, allocationSites);
    if (allocationSites && !shim.path) throw noShim(allocationSites === 'tracking' ? 'allocation tracking' : 'the sampling heap profiler');
    this.#request = snapshotRequest(rest);
    this.#write = write;
    this.#allocationSites = allocationSites;
  }

  /**
   * Stops what the session started (allocation tracking or sampling)
   * without a report. leaks() does it too; a session can mark again
   * afterwards, without allocation sites until its next baseline.
   */
  close() {
    const recorder = this.#recorder;
    this.#recorder = null;
    recorder?.stop();
  }

  get marks() {
    return this.#marks.map(({ name, at, path: file, nodeCount, totalSize }) => ({ name, at, path: file, nodeCount, totalSize }));
  }

  async #take(earlier, options, sampling) {
    const { snapshot, outcome } = await binding.takeSnapshotCompared(this.#request, this.#write, earlier, options, sampling);
    if (!snapshot.ok) throw systemError('heapscope: snapshot not taken: ', snapshot.error);
    return { snapshot, outcome: unwrap(outcome, 'the snapshot stream') };
  }

  /** Takes a snapshot and keeps its digest under `name` ('baseline', 'target', …). */
  async mark(name = `mark${this.#marks.length + 1}`) {
    if (typeof name !== 'string') throw invalidArg('name', 'a string', name);
    if (this.#marks.length >= MAX_SNAPSHOTS - 1) {
      const err = new RangeError(`heapscope: a session keeps at most ${MAX_SNAPSHOTS - 1} marks (the final snapshot makes ${MAX_SNAPSHOTS})`);
      err.code = 'ERR_OUT_OF_RANGE';
      throw err;
    }
    const baseline = this.#marks.length === 0;
    // A baseline keeps what a sampler already running has seen, to take it
    // off the end's.
    const { snapshot, outcome } = await this.#take([], {}, baseline && this.#allocationSites === 'sampling');
    // From the baseline on, every allocation's stack is recorded (and the
    // snapshots after it carry them), or sampled.
    if (baseline && this.#allocationSites && !this.#recorder) {
      this.#recorder = this.#allocationSites === 'tracking' ? tracker : sampler;
      this.#recorder.start(this.#samplingInterval);
    }
    const digest = outcome.digest;
    const mark = { name, at: Date.now(), path: snapshot.path || null, digest, nodeCount: digest.nodeCount, totalSize: digest.totalSize };
    this.#marks.push(mark);
    return { name, at: mark.at, path: mark.path, nodeCount: mark.nodeCount, totalSize: mark.totalSize };
  }

  /**
   * Objects added and removed per class between two marks. Marks keep no
   * graph, so `newObjects` is null: leaks() groups them by path.
   */
  diff(from, to) {
    const find = (name) => {
      const m = this.#marks.find((x) => x.name === name);
      if (!m) throw invalidArg('mark', `one of ${this.#marks.map((x) => x.name).join(', ') || '(no marks yet)'}`, name);
      return m;
    };
    const [a, b] = [find(from), find(to)];
    return { classes: binding.diffDigests(a.digest, b.digest), newObjects: null, totalSizes: [a.totalSize, b.totalSize] };
  }

  /**
   * Takes the final snapshot now and reports what grew since the first mark
   * (the baseline) through every later one; the last mark is the target.
   */
  async leaks(options = {}) {
    if (this.#marks.length === 0) throw new Error('heapscope: mark a baseline before asking for leaks');
    const [baseline] = this.#marks;
    let taken;
    try {
      taken = await this.#take(this.#marks.map((m) => m.digest), leakOptions(options), this.#recorder === sampler);
    } finally {
      // The final snapshot has the stacks, or its profile was taken.
      this.close();
    }
    const { outcome } = taken;
    const now = Date.now();
    const minutes = (now - baseline.at) / 60000;
    const report = outcome.report;
    for (const s of report.suspects) {
      s.growthPerMinute = minutes > 0 ? s.growth / minutes : null;
      // What this session allocated itself (its options, its marks) is no site of the program's.
      s.allocationSites = s.allocationSites.filter((site) => !site.url.startsWith(OWN_CODE));
    }
    return { ...report, marks: [...this.marks, { name: 'final', at: now }] };
  }
}

/** A new Session: `session(options)` reads as the other calls do. */
const session = (options) => new Session(options);

module.exports = { diff, findLeaks, session, Session, allocationSitesOption, samplingIntervalOption };
