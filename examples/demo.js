'use strict';
// The demo: a small service that leaks, and heapscope taking its snapshots.
// Run with `npm run demo` after `npm install`.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const heapscope = require('..');
const { formatLeaks } = require('../lib/format');

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-demo-'));
const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;

// The leak: every "request" registers a listener on a long-lived emitter and
// caches its response by id. Nothing ever removes either.
const bus = new EventEmitter();
bus.setMaxListeners(0);
const cache = new Map();
class Response {
  constructor(id) {
    this.id = id;
    this.body = 'x'.repeat(512) + id;
    this.headers = { 'content-type': 'text/plain', 'x-request-id': String(id) };
  }
}
let nextId = 0;
function handleRequest() {
  const res = new Response(nextId++);
  cache.set(res.id, res);
  bus.on('message', () => res.headers);
}

async function main() {
  console.log(`heapscope demo — Node ${process.version}, V8 ${heapscope.versions.v8}, pid ${process.pid}`);

  // A leak-hunting session: marks are snapshots analysed as they stream,
  // kept only as digests (no files).
  const session = heapscope.session();
  for (let i = 0; i < 2000; i++) handleRequest();
  await session.mark('baseline');
  console.log('session: baseline marked');

  for (let round = 1; round <= 3; round++) {
    for (let i = 0; i < 20000; i++) handleRequest();
    if (round === 1) {
      await session.mark('target');
      console.log('session: target marked');
    }
    const used = process.memoryUsage().heapUsed;
    console.log(`round ${round}: ${nextId} requests served, ${bus.listenerCount('message')} listeners, heap used ${mb(used)}`);
    const info = await heapscope.snapshot({ dir: outDir, filename: `demo-round${round}.heapsnapshot.gz`, gzip: true });
    console.log(`  snapshot #${info.seq} → ${info.path}`);
    console.log(`    ${mb(info.bytes)} on disk, heap used ${mb(info.heapUsed)}, main thread paused ${info.pauseMs.toFixed(0)} ms`);
  }

  // node-heapdump's API works the same way.
  heapscope.writeSnapshot(path.join(outDir, 'heapdump-style.heapsnapshot'), (err, filename) => {
    if (err) throw err;
    console.log(`writeSnapshot (node-heapdump API) wrote ${filename}`);
  });

  // The analysis runs in Rust on a pool thread; the numbers are Chrome DevTools' Summary view.
  const last = path.join(outDir, 'demo-round3.heapsnapshot.gz');
  const summary = await heapscope.analyze(last, { topClasses: 8, topObjects: 3 });
  console.log(`\nheapscope.analyze(${path.basename(last)}): ${summary.nodeCount} objects, total ${mb(summary.totalSize)}`);
  console.log('  retained   self       count    class');
  for (const c of summary.classes) {
    console.log(`  ${mb(c.retainedSize).padEnd(10)} ${mb(c.selfSize).padEnd(10)} ${String(c.count).padEnd(8)} ${c.name}`);
  }
  console.log('largest objects, with the path that keeps them alive:');
  for (const o of summary.objects) {
    console.log(`  ${mb(o.retainedSize).padEnd(10)} ${o.className} @${o.id}: ${o.pathText}`);
  }

  // The leak report: what grew since the baseline, and the path that holds it.
  const report = await session.leaks();
  console.log(`\nheapscope session.leaks() — baseline, target, now:`);
  console.log(formatLeaks(report));

  // The same as a picture: one self-contained HTML page.
  const page = path.join(outDir, 'report.html');
  fs.writeFileSync(page, heapscope.renderReport({ title: 'heapscope demo', summary, leaks: report }), { mode: 0o600 });
  console.log(`
The report as a page: ${page}`);

  console.log(`\nSnapshots are in ${outDir}. Open them in Chrome DevTools (Memory tab → Load), or run`);
  console.log(`npx heapscope summary <file>. They hold secrets: they were created with mode 0600.`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
