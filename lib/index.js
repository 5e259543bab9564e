'use strict';
// The public API: what require('heapscope') returns. Each call lives in the
// module of its concern; this one only gathers them and arms the signal the
// environment asks for, as node-heapdump did on require.

const { binding, shim } = require('./native');
const { events } = require('./events');
const { writeSnapshot, snapshot, analyze } = require('./snapshot');
const signal = require('./signal');
const { watch, DEFAULTS: watchDefaults, watchFromEnvironment } = require('./watch');
const { diff, findLeaks, session } = require('./leaks');
const { monitor } = require('./monitor');
const { open } = require('./explore');
const { startSampling, stopSampling, sampleProfile, samplingFromEnvironment } = require('./sampling');

signal.keepInFront();
signal.armFromEnvironment();
watchFromEnvironment();
samplingFromEnvironment();

module.exports = {
  armSignal: signal.armSignal,
  disarmSignal: signal.disarmSignal,
  armedSignal: signal.armedSignal,
  writeSnapshot,
  snapshot,
  watch,
  analyze,
  open,
  diff,
  findLeaks,
  session,
  monitor,
  startSampling,
  stopSampling,
  sampleProfile,
  // The pages load on first use: an app that never draws one pays nothing at require().
  renderReport: (input, options) => require('./report').renderReport(input, { values: options?.values ?? false }),
  serve: (options) => require('./report/serve').serve(options),
  watchDefaults,
  events,
  heapStatistics: () => binding.heapStatistics(),
  versions: Object.freeze({ v8: process.versions.v8, abi: Number(process.versions.modules), shim: shim.path }),
};
