'use strict';
// One measurement: build a ~100 MB heap, take one snapshot with the given
// method, print a JSON line. Run by bench/capture.js, a fresh process each time.

const fs = require('node:fs');
const path = require('node:path');
const [method, dir] = process.argv.slice(2);

function status(field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return Number(m[1]) * 1024;
}
const vmHwm = () => status('VmHWM');
// What the process keeps resident once the snapshot is done.
const vmRss = () => status('VmRSS');

// A service-like heap: many small objects with strings, arrays and maps.
const records = [];
const index = new Map();
for (let i = 0; i < 230_000; i++) {
  const r = { id: i, name: `user-${i}-${'x'.repeat(120)}`, tags: ['a', 'b', i % 7], score: i * 0.5 };
  records.push(r);
  if (i % 4 === 0) index.set(`k${i}`, r);
}
global.gc && global.gc();
const heapUsed = process.memoryUsage().heapUsed;
const rssBefore = vmHwm();
const file = path.join(dir, `${method}-${process.pid}.heapsnapshot`);

async function main() {
  // The longest time the event loop was blocked: the pause JS feels, however
  // many pieces a method's work comes in (the longest gap between the ticks
  // of a 1 ms interval).
  const { performance } = require('node:perf_hooks');
  let last = 0;
  let longest = 0;
  let ticker = null;
  const blocked = {
    enable() {
      last = performance.now();
      ticker = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 1);
    },
    disable() {
      clearInterval(ticker);
    },
  };
  // Without a shim (HEAPSCOPE_SHIM=off): capture through Node's public APIs.
  if (method === 'fallback') process.env.HEAPSCOPE_SHIM = 'off';
  const heapscope = method === 'v8' ? null : require('..');
  await new Promise((resolve) => setTimeout(resolve, 20));
  blocked.enable();
  const t0 = process.hrtime.bigint();
  let pauseEnd;
  let reported = null;
  // The size V8 produced, when no file was written to measure.
  let unwritten = null;
  if (method === 'heapscope') {
    const done = heapscope.snapshot({ dir, filename: path.basename(file) });
    pauseEnd = process.hrtime.bigint();
    await done;
  } else if (method === 'fallback') {
    const info = await heapscope.snapshot({ dir, filename: path.basename(file) });
    // Taking the snapshot, then the block in which Node serialized it.
    reported = info.pauseMs;
  } else if (method === 'analyze' || method === 'analyze-file') {
    // Analysed as V8 streams: the pause is the call, the answer the promise.
    const write = method === 'analyze-file';
    const done = heapscope.snapshot({ dir, filename: path.basename(file), analyze: true, write, topClasses: 20 });
    pauseEnd = process.hrtime.bigint();
    const info = await done;
    if (!info.summary.classes.length) throw new Error('the analysis gave no class rows');
    if (!write) unwritten = info.rawBytes;
  } else if (method === 'v8') {
    require('node:v8').writeHeapSnapshot(file);
    pauseEnd = process.hrtime.bigint();
  } else {
    throw new Error(`unknown method ${method}`);
  }
  const end = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, 5));
  blocked.disable();
  const bytes = unwritten ?? fs.statSync(file).size;
  fs.rmSync(file, { force: true });
  console.log(JSON.stringify({
    method,
    heapUsed,
    pauseMs: reported ?? Number(pauseEnd - t0) / 1e6,
    blockedMs: longest,
    totalMs: Number(end - t0) / 1e6,
    peakRss: vmHwm(),
    rssBefore,
    bytes,
    rssAfter: vmRss(),
    keep: records.length + index.size,
  }));
}
main();
