// The CommonJS side: require() gives the same API, typed.
import heapscope = require('heapscope');

const stats = heapscope.heapStatistics();
const used: number = stats.usedHeapSize;
heapscope.events.on('snapshot', (info) => console.log(info.path, info.trigger, used));
