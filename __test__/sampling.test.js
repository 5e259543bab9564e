'use strict';
// V8's sampling heap profiler through heapscope: the live memory by the
// function and line that allocated it, in a real process, per isolate.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { root, scratch, runNodeJson } = require('./helpers');

// A program in a file of its own, so that its URL and lines are known: the
// records are allocated in makeRecords, defined on line 3 (V8 samples by
// function: a site's line and column are where its function starts).
const PROGRAM = `'use strict';
const heapscope = require(${JSON.stringify(root)});
function makeRecords(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push({ id: i, name: 'record ' + i, tags: [i, i + 1] });
  return out;
}
function scratchWork() {
  for (let i = 0; i < 2000; i++) JSON.parse(JSON.stringify({ i, list: [1, 2, 3] }));
}
heapscope.startSampling({ intervalBytes: 16 * 1024 });
scratchWork();
globalThis.kept = makeRecords(200000);
const profile = heapscope.sampleProfile();
console.log(JSON.stringify({
  top: profile.topSites(3),
  totalSize: profile.totalSize,
  head: profile.toHeapProfile().head,
  again: heapscope.sampleProfile().totalSize > 0,
}));
`;

test('sampleProfile(): the live memory by the function and line that allocated it', (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'records.js');
  fs.writeFileSync(file, PROGRAM);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const value = JSON.parse(r.stdout);
  const [first] = value.top;
  assert.equal(first.functionName, 'makeRecords', JSON.stringify(value.top));
  assert.equal(first.url, file);
  assert.equal(first.lineNumber, 3);
  assert.equal(first.columnNumber, 21, "the column of its parameter list's '(', V8's position of a function");
  assert.ok(first.selfSize > 5 * 2 ** 20, `about 20 MB of records live, ${first.selfSize} bytes sampled at the site`);
  assert.ok(value.totalSize >= first.selfSize);
  // Freed garbage is not in a profile of live memory.
  assert.ok(!value.top.some((s) => s.functionName === 'scratchWork' && s.selfSize > 1 << 20), JSON.stringify(value.top));
  // Chrome's .heapprofile shape, 0-based lines.
  assert.equal(value.head.callFrame.functionName, '(root)');
  const found = [];
  const walk = (node) => {
    if (node.callFrame.functionName === 'makeRecords') found.push(node.callFrame.lineNumber);
    node.children.forEach(walk);
  };
  walk(value.head);
  assert.ok(found.includes(2), `makeRecords at 0-based line 2: ${found}`);
  assert.equal(value.again, true, 'sampling goes on after a profile is read');
});

test('stopSampling() ends it; a profile is then refused; a sampling process still exits by itself', (t) => {
  const { value, status } = runNodeJson(`
    heapscope.startSampling();
    heapscope.stopSampling();
    let code = null;
    try { heapscope.sampleProfile(); } catch (e) { code = e.code; }
    let bad = null;
    try { heapscope.startSampling({ intervalBytes: -1 }); } catch (e) { bad = e.code; }
    heapscope.startSampling({ intervalBytes: 1024 });
    console.log(JSON.stringify({ code, bad }));
  `);
  assert.equal(status, 0, 'exited while sampling');
  assert.equal(value.code, 'ERR_HEAPSCOPE_NOT_SAMPLING');
  assert.equal(value.bad, 'ERR_INVALID_ARG_TYPE');
});

test('a Worker samples its own heap', (t) => {
  const { value } = runNodeJson(`
    const { Worker } = require('node:worker_threads');
    heapscope.startSampling({ intervalBytes: 8192 });
    function mainThreadKeeps() { const out = []; for (let i = 0; i < 50000; i++) out.push({ main: i }); return out; }
    globalThis.mainKept = mainThreadKeeps();
    const w = new Worker(\`
      const heapscope = require(\${JSON.stringify(${JSON.stringify(root)})});
      const { parentPort } = require('node:worker_threads');
      heapscope.startSampling({ intervalBytes: 8192 });
      function workerKeeps() { const out = []; for (let i = 0; i < 50000; i++) out.push({ worker: i }); return out; }
      globalThis.kept = workerKeeps();
      parentPort.postMessage(heapscope.sampleProfile().topSites(5).map((s) => s.functionName));
    \`, { eval: true });
    w.once('message', (worker) => {
      const main = heapscope.sampleProfile().topSites(5).map((s) => s.functionName);
      console.log(JSON.stringify({ worker, main }));
      w.terminate();
    });
  `);
  assert.ok(value.worker.includes('workerKeeps') && !value.worker.includes('mainThreadKeeps'), JSON.stringify(value));
  assert.ok(value.main.includes('mainThreadKeeps') && !value.main.includes('workerKeeps'), JSON.stringify(value));
});
