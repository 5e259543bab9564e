'use strict';
// What V8's sampling heap profiler costs an allocation-heavy service:
// request-sized JSON bodies parsed and stringified in a loop (the last 2,000
// kept alive, as a service keeps sessions or a cache), in a fresh process
// per run, without sampling and with `startSampling()` at 512 KiB (the
// default) and 64 KiB; and what V8's allocation tracker costs (a session's
// `allocationSites: 'tracking'`, for staging). Each process warms up for
// 1 s, then counts round trips for `--seconds`; the order of the variants
// rotates every round. Reported: median round trips a second and peak RSS,
// and each variant's ratio to the median without either.
//
//   node bench/sampling.js [--rounds 5] [--seconds 4]
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const { root, median, machine } = require('./common');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '4' },
    child: { type: 'string' },
  },
});

const VARIANTS = { off: 0, '512 KiB': 512 * 1024, '64 KiB': 64 * 1024, tracking: 'tracking' };

if (values.child) {
  const heapscope = require(root);
  const interval = VARIANTS[values.child];
  // A request body of about 4 KB: an order with its customer and lines.
  const body = {
    id: 'ord_8f2c1e',
    customer: { id: 42, name: 'Ada Lovelace', email: 'ada@example.com', address: { street: '12 St James Sq', city: 'London' } },
    lines: Array.from({ length: 30 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: (i % 3) + 1, price: 9.99 + i, tags: ['a', 'b'] })),
    notes: 'leave at the door '.repeat(20),
  };
  const text = JSON.stringify(body);
  const kept = new Array(2000);
  const run = (ms) => {
    const end = Date.now() + ms;
    let n = 0;
    while (Date.now() < end) {
      for (let i = 0; i < 100; i++, n++) kept[n % kept.length] = JSON.parse(JSON.stringify(JSON.parse(text)));
    }
    return n;
  };
  // The tracker as a tracking session runs it, from its baseline on.
  if (interval === 'tracking') require(`${root}/lib/native`).binding.startTrackingAllocations();
  else if (interval) heapscope.startSampling({ intervalBytes: interval });
  run(1000);
  const seconds = Number(values.seconds);
  const n = run(seconds * 1000);
  const profile = typeof interval === 'number' && interval ? heapscope.sampleProfile() : null;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ perSecond: n / seconds, rssMb, bytes: text.length, sites: profile ? profile.topSites(1e9).length : 0 }));
  return;
}

const names = Object.keys(VARIANTS);
const rounds = Number(values.rounds);
const runs = Object.fromEntries(names.map((v) => [v, []]));
console.log(`# sampling heap profiler and allocation tracker overhead, ${machine()}`);
console.log(`# node bench/sampling.js --rounds ${rounds} --seconds ${values.seconds}; Node ${process.version}\n`);
for (let r = 0; r < rounds; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]);
  for (const variant of order) {
    const child = spawnSync(process.execPath, [__filename, '--child', variant, '--seconds', values.seconds], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`${variant}: ${child.stderr}`);
    const result = JSON.parse(child.stdout);
    runs[variant].push(result);
    console.error(`round ${r + 1} ${variant}: ${result.perSecond.toFixed(0)} round trips/s`);
  }
}
const base = median(runs.off.map((x) => x.perSecond));
const baseRss = median(runs.off.map((x) => x.rssMb));
console.log('| variant | round trips / s (median) | ratio to off | peak RSS (MB, median) | ratio to off | round trips / s per run |');
console.log('|---|---|---|---|---|---|');
for (const v of names) {
  const m = median(runs[v].map((x) => x.perSecond));
  const rss = median(runs[v].map((x) => x.rssMb));
  const each = runs[v].map((x) => x.perSecond.toFixed(0)).join(', ');
  console.log(`| ${v} | ${m.toFixed(0)} | ${(m / base).toFixed(3)}× | ${rss.toFixed(0)} | ${(rss / baseRss).toFixed(2)}× | ${each} |`);
}
console.log(`\nBody: ${runs.off[0].bytes} bytes of JSON, parsed, stringified and parsed again per round trip.`);
