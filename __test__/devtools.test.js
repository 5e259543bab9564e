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
