'use strict';
// monitor(): the trend of heap used after full GCs, node-memwatch's leak
// heuristic, a ring buffer of samples with snapshot markers (the timeline
// reports draw), and, when asked, the three snapshots of findLeaks taken by
// itself once it suspects a leak.
//
// The figures are read natively in V8's GC epilogue (heap used is only
// comparable right after a full GC); this file decides what they mean.

const { EventEmitter } = require('node:events');
const { binding } = require('./native');
const { invalidArg } = require('./errors');
const { events } = require('./events');
const { session, allocationSitesOption, samplingIntervalOption } = require('./leaks');
const { parseSize, formatSize } = require('./units');

const DEFAULTS = Object.freeze({
  /** node-memwatch's: growth across 5 consecutive full GCs… */
  growths: 5,
  /** …adding up to at least 1 MiB: a steady heap drifts by kilobytes (code, feedback). */
  minGrowth: 2 ** 20,
  samples: 1000,
  intervalMs: 5000,
});

const MARKS = ['baseline', 'target'];

function integer(name, value, fallback, least) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < least) throw invalidArg(name, `an integer of at least ${least}`, value);
  return value;
}

/** A bounded list: the oldest entry goes when a new one would not fit. */
class Ring {
  #items = [];
  #capacity;
  constructor(capacity) {
    this.#capacity = capacity;
  }
  push(item) {
    if (this.#items.length === this.#capacity) this.#items.shift();
    this.#items.push(item);
  }
  toArray() {
    return this.#items.slice();
  }
}

class Monitor extends EventEmitter {
  #id = 0;
  #timer = null;
  #samples;
  #markers;
  #growths;
  #minGrowth;
  #snapshots;
  /** Full-GC samples of the current run of growth, its base first. */
  #run = [];
  #min = Infinity;
  #max = 0;
  #auto = null;
  #busy = false;
  #reports = 0;
  #onSnapshot;

  constructor(options) {
    super();
    this.#growths = integer('growths', options.growths, DEFAULTS.growths, 1);
    this.#minGrowth = options.minGrowth === undefined ? DEFAULTS.minGrowth : parseSize('minGrowth', options.minGrowth);
    const capacity = integer('samples', options.samples, DEFAULTS.samples, 2);
    const intervalMs = options.intervalMs === undefined ? DEFAULTS.intervalMs : options.intervalMs;
    if (!(intervalMs === 0 || (typeof intervalMs === 'number' && intervalMs >= 10 && Number.isFinite(intervalMs)))) {
      throw invalidArg('intervalMs', '0 (off) or a number of milliseconds ≥ 10', intervalMs);
    }
    this.#snapshots = autoOptions(options.snapshots, options.allocationSites);
    this.#samples = new Ring(capacity);
    this.#markers = new Ring(capacity);
    this.startedAt = Date.now();
    this.stopped = false;
    this.#id = binding.sampleGc((sample) => this.#onGc(sample));
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.#onTimer(), intervalMs);
      this.#timer.unref();
    }
    // Every snapshot heapscope writes in this thread is a marker.
    this.#onSnapshot = (info) => this.#mark({ at: Date.now(), name: info.trigger, path: info.path });
    events.on('snapshot', this.#onSnapshot);
  }

  /** The samples kept (oldest first): `kind` is 'gc' (after a full GC) or 'interval'. */
  samples() {
    return this.#samples.toArray();
  }

  /** Snapshots taken while monitoring: `{ at, name, path }`. */
  markers() {
    return this.#markers.toArray();
  }

  /** What a timeline needs: samples and markers. */
  timeline() {
    return { startedAt: this.startedAt, samples: this.samples(), markers: this.markers() };
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    binding.unsampleGc(this.#id);
    if (this.#timer) clearInterval(this.#timer);
    events.off('snapshot', this.#onSnapshot);
    // What the session started stops now; a step still running stops it again when it ends.
    this.#auto?.session.close();
  }

  #mark(marker) {
    this.#markers.push(marker);
    this.emit('marker', marker);
  }

  #onTimer() {
    const m = process.memoryUsage();
    const sample = { kind: 'interval', at: Date.now(), heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, rss: m.rss };
    this.#samples.push(sample);
    this.emit('sample', sample);
  }

  #onGc(native) {
    if (this.stopped) return;
    const sample = {
      kind: 'gc',
      at: native.at,
      heapUsed: native.heapUsed,
      heapTotal: native.heapTotal,
      external: native.external,
      rss: native.rss,
      fullGcs: native.fullGcs,
    };
    this.#samples.push(sample);
    this.emit('sample', sample);
    this.#min = Math.min(this.#min, sample.heapUsed);
    this.#max = Math.max(this.#max, sample.heapUsed);
    const last = this.#run[this.#run.length - 1];
    if (last && sample.heapUsed > last.heapUsed) this.#run.push(sample);
    else this.#run = [sample];
    const base = this.#run[0];
    const minutes = (sample.at - base.at) / 60000;
    const growth = sample.heapUsed - base.heapUsed;
    this.emit('stats', {
      ...sample,
      heapLimit: native.heapLimit,
      min: this.#min,
      max: this.#max,
      consecutiveGrowths: this.#run.length - 1,
      growthPerMinute: minutes > 0 ? growth / minutes : 0,
    });
    if (this.#run.length - 1 < this.#growths || growth < this.#minGrowth) return;
    const seconds = ((sample.at - base.at) / 1000).toFixed(1);
    const leak = {
      start: base.at,
      end: sample.at,
      fullGcs: this.#run.length - 1,
      growth,
      growthPerMinute: minutes > 0 ? growth / minutes : null,
      heapUsed: sample.heapUsed,
      reason: `heap used grew across ${this.#run.length - 1} consecutive full GCs: +${formatSize(growth)} in ${seconds} s` +
        (minutes > 0 ? ` (${formatSize(Math.round(growth / minutes))} a minute)` : ''),
    };
    // As node-memwatch: start counting again from here.
    this.#run = [sample];
    this.emit('leak', leak);
    if (this.#snapshots) this.#advance(leak);
  }

  // The leak suspicions drive findLeaks: the first marks a baseline, the
  // second a target, the third takes the final snapshot and reports.
  #advance(leak) {
    if (this.#busy || this.#reports >= this.#snapshots.reports) return;
    this.#auto ??= { session: session({ ...this.#snapshots.request }), step: 0 };
    const auto = this.#auto;
    this.#busy = true;
    const work =
      auto.step < MARKS.length
        ? auto.session.mark(MARKS[auto.step]).then((m) => this.#mark({ at: m.at, name: m.name, path: m.path }))
        : auto.session.leaks(this.#snapshots.leakOptions).then((report) => {
            this.#mark({ at: Date.now(), name: 'final', path: null });
            this.#reports += 1;
            this.#auto = null;
            this.emit('report', { ...report, leak });
          });
    work.then(
      () => {
        auto.step += 1;
        this.#busy = false;
        // Stopped while this step ran: what its session started stops too.
        if (this.stopped) auto.session.close();
      },
      (err) => {
        this.#busy = false;
        // Diagnostics never crash the app: an 'error' nobody listens to is a warning.
        if (this.listenerCount('error') > 0) this.emit('error', err);
        else process.emitWarning(`heapscope monitor: ${err.message}`, { code: 'HEAPSCOPE_MONITOR' });
      },
    );
  }
}

/**
 * `snapshots: true | { write, dir, minGrowth, limit, reports }` and
 * `allocationSites` → what the session and leaks() get.
 */
function autoOptions(value, allocationSites) {
  if (value === undefined || value === false) {
    if (allocationSites !== undefined) throw invalidArg('allocationSites', 'used with snapshots: true', allocationSites);
    return null;
  }
  if (value === true) value = {};
  if (value === null || typeof value !== 'object') throw invalidArg('snapshots', 'a boolean or an object', value);
  const { minGrowth, limit, reports, ...request } = value;
  if (allocationSitesOption(allocationSites) !== undefined) request.allocationSites = allocationSites;
  samplingIntervalOption(request.samplingInterval, allocationSites);
  return { request, leakOptions: { minGrowth, limit }, reports: integer('snapshots.reports', reports, 1, 1) };
}

/** Starts monitoring the heap of the calling thread. */
function monitor(options = {}) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  return new Monitor(options);
}

module.exports = { monitor, Monitor, DEFAULTS };
