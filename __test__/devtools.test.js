'use strict';
// heapscope's numbers against Chrome DevTools' own heap snapshot worker, on
// snapshots of real programs: every class row (count, self, retained,
// distance), the total, and the retained sizes of the top objects.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { scratch, runNodeJson, root } = require('./helpers');
const devtools = require('./devtools/reference');

const PROGRAMS = {
  'a leaking service (classes, a Map cache, closures)': `
    class Session { constructor(i) { this.id = 's' + i; this.items = new Array(8).fill(i); this.seen = new Set([i]); } }
    globalThis.sessions = new Map();
    for (let i = 0; i < 8000; i++) sessions.set(i, new Session(i));
    const { EventEmitter } = require('node:events');
    globalThis.bus = new EventEmitter(); bus.setMaxListeners(0);
    for (let i = 0; i < 2000; i++) { const res = { status: 200, body: 'b' + i }; bus.on('message', () => res); }
    globalThis.weak = new WeakMap(); for (const s of sessions.values()) weak.set(s, { meta: s.id });`,
  'the TypeScript compiler parsing 60 KB of JavaScript into an AST': `
    const ts = require(require.resolve('typescript', { paths: [${JSON.stringify(root)}] }));
    const fs = require('node:fs');
    const file = require.resolve('typescript', { paths: [${JSON.stringify(root)}] });
    const text = fs.readFileSync(file, 'utf8').slice(0, 60_000);
    globalThis.ast = ts.createSourceFile('big.js', text, ts.ScriptTarget.Latest, true);`,
};

const dir = devtools.prepare();

for (const [title, program] of Object.entries(PROGRAMS)) {
  test(`equal to Chrome DevTools: ${title}`, { skip: !dir && 'chrome-devtools-frontend is not installed' }, async (t) => {
    const out = scratch(t);
    const { value } = runNodeJson(
      `${program}\nheapscope.snapshot({ dir: ${JSON.stringify(out)} }).then((i) => console.log(JSON.stringify(i)));`,
      { timeout: 120_000 },
    );
    const heapscope = require('..');
    const ours = await heapscope.analyze(value.path, { topClasses: 1e9, topObjects: 25 });
    const reference = devtools.summarize(dir, value.path, ours.objects.map((o) => o.id));
    assert.equal(ours.nodeCount, reference.nodeCount);
    assert.equal(ours.totalSize, reference.totalSize);
    const mine = Object.fromEntries(
      ours.classes.map((c) => [c.key, { name: c.name, count: c.count, self: c.selfSize, retained: c.retainedSize, distance: c.distance }]),
    );
    assert.deepEqual(mine, reference.classes);
    for (const o of ours.objects) assert.equal(o.retainedSize, reference.retainedById[o.id], `object @${o.id} (${o.className})`);
    t.diagnostic(`${ours.classes.length} class rows and ${ours.objects.length} objects equal; ${ours.nodeCount} nodes`);
  });
}

test('diff() equals Chrome DevTools\' Comparison view: a program whose objects change class, grow and go', { skip: !dir && 'chrome-devtools-frontend is not installed' }, async (t) => {
  const out = scratch(t);
  // Between the snapshots: plain objects trade their properties (a new
  // interface, so the same ids change class), a class gains instances, some are freed,
  // and closures and strings come and go.
  const { value } = runNodeJson(
    `class Order { constructor(i) { this.id = i; this.lines = [i]; } }
    globalThis.orders = []; globalThis.points = [];
    for (let i = 0; i < 3000; i++) { orders.push(new Order(i)); points.push({ x: [i], y: [i] }); }
    globalThis.handlers = Array.from({ length: 500 }, (_, i) => () => i);
    (async () => {
      const first = await heapscope.snapshot({ dir: ${JSON.stringify(out)} });
      for (const p of points.slice(0, 2500)) { delete p.x; delete p.y; p.a = [1]; p.b = [2]; }
      for (let i = 0; i < 4000; i++) orders.push(new Order(i));
      orders.splice(0, 1000);
      handlers.length = 100;
      globalThis.labels = Array.from({ length: 2000 }, (_, i) => 'label-' + i);
      const second = await heapscope.snapshot({ dir: ${JSON.stringify(out)} });
      console.log(JSON.stringify([first.path, second.path]));
    })();`,
    { timeout: 120_000 },
  );
  const heapscope = require('..');
  const ours = await heapscope.diff(value[0], value[1]);
  const reference = devtools.compare(dir, value[0], value[1]);
  const mine = Object.fromEntries(
    ours.classes.map((c) => [c.key, { name: c.name, addedCount: c.addedCount, removedCount: c.removedCount, addedSize: c.addedSize, removedSize: c.removedSize }]),
  );
  assert.deepEqual(mine, reference.classes);
  const orders = ours.classes.find((c) => c.name === 'Order');
  assert.ok(orders.addedCount === 4000 && orders.removedCount === 1000, JSON.stringify(orders));
  const named = (re) => ours.classes.find((c) => re.test(c.name)) || {};
  // In dictionary mode the name follows the properties' order in the snapshot.
  assert.ok(named(/^\{(a, b|b, a)\}$/).addedCount === 2500 && named(/^\{x, y\}$/).removedCount >= 2500, 'the same objects moved class');
  t.diagnostic(`${ours.classes.length} Comparison rows equal`);
});
