#!/usr/bin/env node
'use strict';
// Capture benchmark: heapscope.snapshot() against v8.writeHeapSnapshot(), side
// by side, on a ~100 MB heap. Fresh processes in turn (A B A B …) so that
// machine noise falls on both alike. Reports medians and ratios.
//
//   node bench/capture.js [pairs=5] [method=heapscope] [reference=v8]
//
// Methods: heapscope (snapshot() through the V8 shim), fallback (snapshot()
// without a shim: v8.getHeapSnapshot() into heapscope's writer), analyze
// (snapshot({ analyze: true, write: false }): analysed as V8 streams; its
// total is when the answer arrives), analyze-file (the same, writing the
// file too), v8 (v8.writeHeapSnapshot()).
//
// One warm-up pair runs first and is discarded: the first process of a run
// pays for cold page caches (the node binary, the addon), whichever method it is.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const pairs = Number(process.argv[2] || 5);
const [A, B] = [process.argv[3] || 'heapscope', process.argv[4] || 'v8'];
const LABEL = {
  heapscope: 'heapscope.snapshot()',
  fallback: 'snapshot() without shim',
  analyze: 'snapshot({ analyze: true, write: false })',
  'analyze-file': 'snapshot({ analyze: true })',
  v8: 'v8.writeHeapSnapshot()',
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-bench-'));
const child = path.join(__dirname, 'capture-child.js');
const runs = { [A]: [], [B]: [] };

function once(method) {
  const out = execFileSync(process.execPath, ['--expose-gc', child, method, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

const { median } = require('./common');
const mb = (n) => (n / 1024 / 1024).toFixed(0);

try {
  once(A);
  once(B);
  for (let i = 0; i < pairs; i++) {
    for (const method of i % 2 ? [B, A] : [A, B]) {
      const r = once(method);
      runs[method].push(r);
      process.stderr.write(`pair ${i + 1}/${pairs} ${method}: pause ${r.pauseMs.toFixed(0)} ms, longest block ${r.blockedMs.toFixed(0)} ms, total ${r.totalMs.toFixed(0)} ms, peak RSS ${mb(r.peakRss)} MB\n`);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const m = (method, key) => median(runs[method].map((r) => r[key]));
const rows = [
  ['main-thread pause (ms)', 'pauseMs', (x) => x.toFixed(0)],
  ['longest event-loop block (ms)', 'blockedMs', (x) => x.toFixed(0)],
  ['total time (ms)', 'totalMs', (x) => x.toFixed(0)],
  ['peak RSS (MB)', 'peakRss', mb],
  ['RSS afterwards (MB)', 'rssAfter', mb],
  ['file (MB)', 'bytes', mb],
];
console.log(`Node ${process.version}, V8 ${process.versions.v8}, ${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${mb(os.totalmem())} MB RAM`);
console.log(`heap used before the snapshot: ${mb(m(A, 'heapUsed'))} MB (median); ${pairs} pairs, A B A B order alternating, after one discarded warm-up pair\n`);
console.log(`| median of ${pairs} | ${LABEL[A]} | ${LABEL[B]} | ratio |`);
console.log('|---|---|---|---|');
for (const [label, key, fmt] of rows) {
  const a = m(A, key);
  const b = m(B, key);
  console.log(`| ${label} | ${fmt(a)} | ${fmt(b)} | ${(a / b).toFixed(2)} |`);
}
console.log('\nPer-pair pause ratios: ' + runs[A].map((r, i) => (r.pauseMs / runs[B][i].pauseMs).toFixed(2)).join(' '));
console.log('Per-pair longest-block ratios: ' + runs[A].map((r, i) => (r.blockedMs / runs[B][i].blockedMs).toFixed(2)).join(' '));
console.log('Per-pair peak RSS ratios: ' + runs[A].map((r, i) => (r.peakRss / runs[B][i].peakRss).toFixed(2)).join(' '));
