'use strict';
// heapscope's numbers against Chrome DevTools' own heap snapshot worker, on
// snapshots of real programs: every class row (count, self, retained,
// distance), the total, and the retained sizes of the top objects; what
// open() answers of objects and classes against DevTools' views of them.

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
    await t.test("open(): each object's edges, retainers, retaining path and dominators, classes' instances and the statistics, as DevTools' views show them", () =>
      sameViews(t, value.path, ours.classes),
    );
  });
}

/** A small deterministic generator: the same "random" objects every run. */
function* random(seed) {
  for (let x = seed; ; ) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    yield x / 2 ** 32;
  }
}

// The top 50 objects by retained size, 50 reached by random walks from
// them, 50 drawn from all and the hidden classes of the largest; the
// instances of the classes (of one row each) they belong to.
async function sameViews(t, file, classes) {
  const heapscope = require('..');
  const heap = await heapscope.open(file);
  const all = { limit: 2 ** 31 };
  try {
    const top = (await heapscope.analyze(file, { topClasses: 0, topObjects: 50 })).objects.map((o) => o.id);
    const ids = new Set(top);
    const next = random(20261130);
    for (let walks = 0; ids.size < 100 && walks < 1000; walks++) {
      let id = top[Math.floor(next.next().value * top.length)];
      for (let step = 0, steps = 1 + Math.floor(next.next().value * 6); step < steps; step++) {
        const { items } = (await heap.node(id, all)).edges;
        if (items.length === 0) break;
        id = items[Math.floor(next.next().value * items.length)].node.id;
      }
      ids.add(id);
    }
    // 50 objects drawn at random from the whole snapshot, and the hidden
    // classes of the 10 largest (objects held by thousands).
    const count = (await heap.find({}, { limit: 1 })).total;
    for (let drawn = 0; drawn < 50; drawn++) {
      ids.add((await heap.find({}, { offset: Math.floor(next.next().value * count), limit: 1 })).items[0].id);
    }
    for (const id of top.slice(0, 10)) {
      const map = (await heap.node(id, all)).edges.items.find((e) => e.name === 'map');
      if (map) ids.add(map.node.id);
    }
    const rows = new Map();
    for (const c of classes) rows.set(c.name, rows.has(c.name) ? null : c.key);
    const keys = new Set();
    for (const id of ids) {
      const { className } = await heap.node(id, { limit: 1 });
      if (rows.get(className) && keys.size < 20) keys.add(rows.get(className));
    }
    const reference = devtools.explore(dir, file, [...ids], [...keys]);
    let paths = 0;
    for (const id of ids) {
      const theirs = reference.nodes[id];
      const edge = (e) => [e.name, e.type, e.node.id];
      assert.deepEqual((await heap.node(id, all)).edges.items.map(edge), theirs.edges, `edges of @${id}`);
      assert.deepEqual((await heap.retainers(id, all)).items.map(edge), theirs.retainers, `retainers of @${id}`);
      assert.deepEqual((await heap.dominators(id)).map((o) => o.id), theirs.dominators, `dominators of @${id}`);
      // DevTools' path runs from the object up to the first retainer at
      // distance 2 or less, for objects the user roots reach within its
      // depth limit of 30 (others: none; heapscope's runs to the root).
      const { steps } = await heap.path(id);
      const up = [];
      let reached = null;
      for (let i = steps.length - 1; i >= 1; i--) {
        up.push([steps[i].name, steps[i - 1].node.id]);
        reached = steps[i - 1].node;
        if (reached.distance <= 2) break;
      }
      const distance = steps.at(-1)?.node.distance;
      if (distance > 2 && distance <= 30) {
        assert.deepEqual(up, theirs.path, `retaining path of @${id}`);
        // Whole: up to the roots' neighbours (a step can skip distances:
        // through an edge the distances were not counted along).
        assert.ok(reached.distance <= 2, `retaining path of @${id}`);
        paths += 1;
      }
    }
    for (const key of keys) {
      const name = classes.find((c) => c.key === key).name;
      assert.deepEqual((await heap.instances(name, all)).items.map((o) => o.id), reference.instances[key], `instances of ${name}`);
    }
    assert.deepEqual(await heap.statistics(), reference.statistics);
    t.diagnostic(`${ids.size} objects (${paths} with a retaining path), ${keys.size} classes and the statistics as DevTools shows them`);
  } finally {
    heap.close();
  }
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
