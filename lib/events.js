'use strict';
// Where snapshot events meet: the module-level emitter, the watchers by
// native id, and the dispatch of the native side's trigger events to both.
// One per thread, as each worker has its own modules.

const { EventEmitter } = require('node:events');
const path = require('node:path');
const { threadId } = require('node:worker_threads');
const { systemError } = require('./errors');

/** Module-level events: 'snapshot' for every snapshot written, 'error' for failures. */
const events = new EventEmitter();

/** Running watchers by native id: a native event names the watcher it is for. */
const watchers = new Map();

function announce(outcome, trigger) {
  const info = describeOutcome(outcome, trigger);
  if (outcome.ok && events.listenerCount('snapshot') > 0) events.emit('snapshot', info);
  return info;
}

// Triggered snapshots and skips (signal, thresholds, heap limit) report
// here, from the native side. Nothing thrown here reaches the app unless a
// listener of the app's own throws.
function dispatch(event) {
  const watcher = event.watcher ? watchers.get(event.watcher) : undefined;
  const crossing = event.crossing ? { ...event.crossing } : undefined;
  if (event.kind === 'skipped') {
    if (watcher && watcher.listenerCount('skipped') > 0) {
      watcher.emit('skipped', { ...event.skipped, ...(crossing && { threshold: crossing }) });
    } else if (!event.watcher && events.listenerCount('skipped') > 0) {
      // The signal's preflight refused.
      events.emit('skipped', { trigger: 'signal', ...event.skipped });
    }
    return;
  }
  const outcome = event.outcome;
  const trigger = outcome.trigger || 'signal';
  if (outcome.ok) {
    const info = describeOutcome(outcome, trigger);
    if (crossing) info.threshold = crossing;
    info.removed = event.pruned || [];
    if (watcher) {
      watcher.snapshots += 1;
      watcher.emit('snapshot', info);
    }
    if (events.listenerCount('snapshot') > 0) events.emit('snapshot', info);
    return;
  }
  const err = systemError(`heapscope: snapshot on ${trigger} not written: `, outcome.error);
  err.trigger = trigger;
  if (watcher && watcher.listenerCount('error') > 0) watcher.emit('error', err);
  else if (events.listenerCount('error') > 0) events.emit('error', err);
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
    reclaimed: outcome.reclaimed || [],
    ...(outcome.redacted && { redacted: { ...outcome.redacted } }),
    ...(outcome.profile && { profile: path.resolve(outcome.profile) }),
  };
}

module.exports = { events, watchers, announce, dispatch, describeOutcome };
