'use strict';
// watch(): memory thresholds that write snapshots by themselves.
//
// The thresholds are checked natively (after each full GC and by a poller
// thread), so they work while JavaScript is busy; this file validates options,
// owns the Watcher objects and turns native events into their events.

const { EventEmitter } = require('node:events');
const { isMainThread } = require('node:worker_threads');
const { binding } = require('./native');
const { invalidArg } = require('./errors');
const { parseSize, parseDuration } = require('./units');
const { watchers, dispatch } = require('./events');
const { MEMORY_FACTOR, dumpFromEnvironment, snapshotRequest, positive, retention } = require('./request');

/**
 * Defaults, chosen for production. `memoryFactor` is measured: a snapshot
 * needs about 10–11× the used heap in extra RSS (bench/estimate.js; README).
 */
const DEFAULTS = Object.freeze({
  rearmRatio: 0.9,
  cooldownMs: 5 * 60 * 1000,
  maxSnapshots: 3,
  intervalMs: 1000,
  memoryFactor: MEMORY_FACTOR,
  /** What a timer (`everyMs`) keeps when no `retain` is given: the 5 newest files. */
  timerRetain: Object.freeze({ files: 5 }),
});

const MAX_U32 = 2 ** 32 - 1;

function ratio(name, value) {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) throw invalidArg(name, 'a number in (0, 1]', value);
  return value;
}

class Watcher extends EventEmitter {
  constructor(info, options) {
    super();
    /** Native id. */
    this.id = info.id;
    /** Each threshold as understood: metric, limit in bytes, active or why not. */
    this.thresholds = info.thresholds.map((t) => ({
      metric: t.metric,
      limit: t.limit ?? null,
      ratio: t.ratio ?? null,
      active: t.active,
      note: t.note ?? null,
    }));
    this.heapLimit = info.heapLimit;
    this.containerLimit = info.containerLimit ?? null;
    this.nearHeapLimit = options.nearHeapLimit;
    /** The timer's period in milliseconds, null without one. */
    this.everyMs = options.everyMs ?? null;
    /** Temporary files of writers that died, removed from the directory when this watcher started. */
    this.reclaimed = info.reclaimed;
    /** Snapshots this watcher has written. */
    this.snapshots = 0;
    this.stopped = false;
  }

  /** Stops every check of this watcher; a snapshot already running still completes. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    watchers.delete(this.id);
    binding.unwatch(this.id);
  }
}

function watch(options) {
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const heapUsed = options.heapUsed === undefined ? undefined : parseSize('heapUsed', options.heapUsed);
  const rss = options.rss === undefined ? undefined : parseSize('rss', options.rss);
  const heapLimitRatio = ratio('heapLimitRatio', options.heapLimitRatio);
  const containerLimitRatio = ratio('containerLimitRatio', options.containerLimitRatio);
  let nearHeapLimit = 0;
  if (options.nearHeapLimit === true) nearHeapLimit = 1;
  else if (options.nearHeapLimit !== undefined && options.nearHeapLimit !== false) {
    nearHeapLimit = positive('nearHeapLimit', options.nearHeapLimit, 0, { integer: true });
  }
  const everyMs = options.everyMs === undefined ? undefined : positive('everyMs', options.everyMs, undefined);
  if ([heapUsed, rss, heapLimitRatio, containerLimitRatio, everyMs].every((t) => t === undefined) && !nearHeapLimit) {
    const err = new TypeError(
      'heapscope.watch() needs at least one of heapUsed, rss, heapLimitRatio, containerLimitRatio, nearHeapLimit or everyMs',
    );
    err.code = 'ERR_MISSING_OPTION';
    throw err;
  }
  if (options.quiet !== undefined && typeof options.quiet !== 'boolean') throw invalidArg('quiet', 'a boolean', options.quiet);
  const request = snapshotRequest({ dir: options.dir, filename: options.filename, gzip: options.gzip, redact: options.redact, profile: options.profile });
  // A timer keeps going (no maximum, no cooldown beyond its period) and
  // keeps the newest files, unless told otherwise.
  const timed = everyMs !== undefined;
  const retain = options.retain ?? (timed ? DEFAULTS.timerRetain : undefined);
  const maxDefault = timed ? MAX_U32 : DEFAULTS.maxSnapshots;
  const settings = {
    dump: { request, quiet: options.quiet === true, ...retention(retain) },
    heapUsed,
    rss,
    heapLimitRatio,
    containerLimitRatio,
    rearmRatio: ratio('rearmRatio', options.rearmRatio) ?? DEFAULTS.rearmRatio,
    cooldownMs: positive('cooldownMs', options.cooldownMs, timed ? 0 : DEFAULTS.cooldownMs, { zero: true }),
    maxSnapshots: Math.min(positive('maxSnapshots', options.maxSnapshots, maxDefault, { integer: true }), MAX_U32),
    intervalMs: positive('intervalMs', options.intervalMs, DEFAULTS.intervalMs),
    memoryFactor: positive('memoryFactor', options.memoryFactor, DEFAULTS.memoryFactor),
    nearHeapLimit,
    everyMs,
  };
  const info = binding.watch(settings, isMainThread, dispatch);
  const watcher = new Watcher(info, { nearHeapLimit, everyMs });
  watchers.set(watcher.id, watcher);
  return watcher;
}

/**
 * HEAPSCOPE_INTERVAL=30m: a timer from the environment, on the main thread,
 * writing where the signal writes (HEAPSCOPE_DIR, HEAPSCOPE_GZIP,
 * HEAPSCOPE_REDACT, HEAPSCOPE_RETAIN_*). A bad value is a warning, never a
 * crash at require().
 */
function watchFromEnvironment(env = process.env) {
  if (!isMainThread || !env.HEAPSCOPE_INTERVAL) return null;
  try {
    return watch({ everyMs: parseDuration('HEAPSCOPE_INTERVAL', env.HEAPSCOPE_INTERVAL), ...dumpFromEnvironment(env) });
  } catch (e) {
    process.emitWarning(`${e.message} (from HEAPSCOPE_INTERVAL); no timed snapshots`, { code: 'HEAPSCOPE_INTERVAL' });
    return null;
  }
}

module.exports = { watch, Watcher, DEFAULTS, watchFromEnvironment };
