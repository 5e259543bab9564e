// ES module entry: the same objects as require('heapscope'), as named
// exports and as the default export.
import { createRequire } from 'node:module';

const heapscope = createRequire(import.meta.url)('./index.js');

export default heapscope;
export const {
  writeSnapshot,
  snapshot,
  analyze,
  open,
  diff,
  findLeaks,
  session,
  monitor,
  watch,
  watchDefaults,
  armSignal,
  disarmSignal,
  armedSignal,
  renderReport,
  serve,
  events,
  heapStatistics,
  versions,
} = heapscope;
