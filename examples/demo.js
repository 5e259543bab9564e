'use strict';
// The demo: a small service that leaks, and heapscope taking its snapshots.
// Run with `npm run demo` after `npm install`.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const heapscope = require('..');

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
  heapscope.events.on('snapshot', (info) => {
    console.log(`  snapshot #${info.seq} → ${info.path}`);
    console.log(`    ${mb(info.bytes)} on disk, heap used ${mb(info.heapUsed)}, main thread paused ${info.pauseMs.toFixed(0)} ms`);
  });

  for (let round = 1; round <= 3; round++) {
    for (let i = 0; i < 20000; i++) handleRequest();
    const used = process.memoryUsage().heapUsed;
    console.log(`round ${round}: ${nextId} requests served, ${bus.listenerCount('message')} listeners, heap used ${mb(used)}`);
    await heapscope.snapshot({ dir: outDir, filename: `demo-round${round}.heapsnapshot.gz`, gzip: true });
  }

  // node-heapdump's API works the same way.
  heapscope.writeSnapshot(path.join(outDir, 'heapdump-style.heapsnapshot'), (err, filename) => {
    if (err) throw err;
    console.log(`writeSnapshot (node-heapdump API) wrote ${filename}`);
  });

  console.log(`\nSnapshots are in ${outDir}. Open them in Chrome DevTools (Memory tab → Load), or analyse`);
  console.log('them in process with heapscope. They hold secrets: they were created with mode 0600.');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
