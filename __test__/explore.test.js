'use strict';
// open(): a snapshot of a real program kept in memory and queried object by
// object, and the CLI commands on it (node, retainers, path, dominators,
// instances, find, strings, closures). __test__/devtools.test.js checks the
// answers against DevTools'.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { scratch, runNodeJson, root } = require('./helpers');

// A cart whose items array holds 300 items, each with a line string; a
// second holder of the first item (the audit log) so that the cart's
// array does not dominate it.
const PROGRAM = `
  class Cart { constructor() { this.items = []; this.owner = { name: 'ada' }; } }
  class Item { constructor(i) { this.sku = 'sku-' + i; this.qty = i; } }
  globalThis.cart = new Cart();
  for (let i = 0; i < 300; i++) cart.items.push(new Item(i));
  globalThis.audit = [cart.items[0]];
  globalThis.listeners = [];
  function listen(i) { const lookupTable = new Array(5000).fill(i); return function onResize() { return lookupTable.length; }; }
  for (let i = 0; i < 3; i++) listeners.push(listen(i));
  globalThis.copies = Array.from({ length: 40 }, (_, i) => ['dup', 'licated'].join(''));
`;

function snapshotOf(t) {
  const dir = scratch(t);
  const { value } = runNodeJson(`${PROGRAM}\nheapscope.snapshot({ dir: ${JSON.stringify(dir)} }).then((i) => console.log(JSON.stringify(i.path)));`);
  return value;
}

const cli = (...args) => spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), ...args], { encoding: 'utf8' });

test('open(): objects by id, their edges, retainers, path, dominators and what they dominate; classes by name', async (t) => {
  const file = snapshotOf(t);
  const heapscope = require('..');
  const heap = await heapscope.open(file);
  t.after(() => heap.close());
  assert.equal(heap.file, file);
  assert.ok(heap.nodeCount > 1000 && heap.totalSize > 0);

  const carts = await heap.instances('Cart');
  assert.equal(carts.total, 1);
  const [cart] = carts.items;
  assert.equal(cart.className, 'Cart');

  // Its edges, largest retained size first: the items array before the owner.
  const node = await heap.node(`@${cart.id}`);
  assert.equal(node.id, cart.id);
  assert.ok(node.retainedSize > 300 * 32, JSON.stringify(node));
  const named = node.edges.items.filter((e) => e.type === 'property').map((e) => e.name);
  assert.equal(named[0], 'items', named.join(', '));
  assert.ok(named.indexOf('owner') > 0, named.join(', '));
  assert.ok(node.edges.items.every((e, i) => i === 0 || node.edges.items[i - 1].node.retainedSize >= e.node.retainedSize));
  const items = node.edges.items.find((e) => e.name === 'items').node;
  assert.equal(items.className, 'Array');

  // Paged: 300 elements (and the array's own internal edges).
  const array = await heap.node(items.id, { limit: 10 });
  assert.equal(array.edges.items.length, 10);
  const elements = (await heap.dominated(items.id, { limit: 1000 }));
  assert.ok(elements.total >= 1, JSON.stringify(elements));

  // The first item: retained by the cart's array and by audit's. (Newer V8
  // also gives every element an internal edge from the array's backing
  // store, so the item is the one a second Array holds.)
  const all = await heap.instances('Item', { limit: 1000 });
  assert.equal(all.total, 300);
  assert.ok(all.items.every((o, i) => i === 0 || all.items[i - 1].retainedSize >= o.retainedSize));
  const sku0 = await (async () => {
    for (const o of all.items) {
      const r = await heap.retainers(o.id);
      if (r.items.some((e) => e.node.className === 'Array' && e.node.id !== items.id)) return { item: o, retainers: r };
    }
    return null;
  })();
  assert.ok(sku0, 'the item held twice');
  assert.ok(sku0.retainers.items.every((e, i) => i === 0 || sku0.retainers.items[i - 1].node.distance <= e.node.distance));
  // Held by two arrays, neither dominates it: the global object does.
  const chain = await heap.dominators(sku0.item.id);
  assert.equal(chain.at(-1).name, '(root)');
  assert.ok(!chain.some((o) => o.id === items.id), JSON.stringify(chain));

  // Retaining paths, as people read them.
  const held = await heap.path(items.id);
  assert.equal(held.text, 'global → cart (Cart) → items (Array)');
  assert.equal(held.steps.at(-1).node.id, items.id);
  assert.equal(held.steps.at(-1).name, 'items');

  // Ids the snapshot does not have, bad arguments, a closed heap.
  assert.equal(await heap.node(2 ** 32 - 2), null);
  assert.equal(await heap.path(2 ** 32 - 2), null);
  await assert.rejects(heap.node('cart'), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(heap.retainers(cart.id, { limit: 0 }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(heap.instances(''), { code: 'ERR_INVALID_ARG_TYPE' });
  heap.close();
  heap.close();
  assert.equal(heap.closed, true);
  await assert.rejects(heap.node(cart.id), { code: 'ERR_HEAPSCOPE_CLOSED' });
});

test('open(): find by class, type, property and value; duplicate strings; closures and what they capture; statistics', async (t) => {
  const file = snapshotOf(t);
  const heapscope = require('..');
  const heap = await heapscope.open(file);
  t.after(() => heap.close());
  const byProperty = await heap.find({ property: 'owner', className: 'Cart' });
  assert.equal(byProperty.total, 1);
  assert.equal((await heap.find({ type: 'string', value: 'sku-29' })).total, 11, 'sku-29 and sku-290 … sku-299');
  const pattern = await heap.find({ type: 'string', value: /^SKU-7$/i });
  assert.deepEqual(pattern.items.map((o) => o.name), ['sku-7']);
  await assert.rejects(heap.find({ value: /(?<=a)b/ }), { code: 'ERR_INVALID_ARG_VALUE' });
  await assert.rejects(heap.find({ value: 7 }), { code: 'ERR_INVALID_ARG_TYPE' });

  const dup = (await heap.duplicateStrings({ top: 500 })).items.find((d) => d.value === 'duplicated');
  assert.ok(dup && dup.count === 40 && dup.wasted === dup.size - dup.size / 40 && dup.examples.length === 3, JSON.stringify(dup));

  const closures = await heap.closures({ limit: 500 });
  assert.ok(closures.items.every((c, i) => i === 0 || closures.items[i - 1].closure.retainedSize >= c.closure.retainedSize));
  const ours = closures.items.filter((c) => c.closure.name === 'onResize');
  assert.equal(ours.length, 3, JSON.stringify(closures.items.map((c) => c.closure.name)));
  const [first] = ours;
  assert.equal(first.variables.items[0].name, 'lookupTable');
  assert.ok(first.variables.items[0].node.retainedSize > 5000 * 4);
  const context = await heap.context(first.closure.id);
  assert.equal(context.context.id, first.context.id);
  assert.equal(context.variables.items[0].node.id, first.variables.items[0].node.id);

  const stats = await heap.statistics();
  assert.equal(stats.total, heap.totalSize);
  assert.equal(stats.v8heap.total + stats.native.total, stats.total);
  assert.ok(stats.v8heap.strings > 0 && stats.v8heap.jsArrays > 3 * 5000 * 4 && stats.v8heap.code > 0, JSON.stringify(stats));
});

test('snapshot({ analyze: true, keep: true }): the snapshot stays open for queries, written or not', async (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`${PROGRAM}
    (async () => {
      const written = await heapscope.snapshot({ dir: ${JSON.stringify(dir)}, analyze: true, keep: true });
      const { heap } = written;
      const [cart] = (await heap.instances('Cart')).items;
      const path = await heap.path(cart.id);
      const summary = await heap.summary({ topClasses: 3, topObjects: 0 });
      const reopened = await heapscope.open(written.path);
      const again = (await reopened.instances('Cart')).items[0];
      reopened.close();
      heap.close();
      const unwritten = await heapscope.snapshot({ analyze: true, write: false, keep: true });
      const items = await unwritten.heap.instances('Item', { limit: 1 });
      unwritten.heap.close();
      const plain = await heapscope.snapshot({ analyze: true, write: false });
      const refused = await heapscope.snapshot({ dir: ${JSON.stringify(dir)}, keep: true }).then(() => null, (e) => e.code);
      const notBoolean = await heapscope.snapshot({ analyze: true, keep: 1 }).then(() => null, (e) => e.code);
      console.log(JSON.stringify({
        file: heap.file, path: written.path, nodeCount: heap.nodeCount, summaryNodes: written.summary.nodeCount,
        cart, again, pathText: path.text, summaryPath: summary.path, closed: heap.closed,
        unwrittenFile: unwritten.heap.file, items: items.total, plainHeap: 'heap' in plain, refused, notBoolean,
      }));
    })();`);
  assert.equal(value.file, value.path);
  assert.equal(value.nodeCount, value.summaryNodes);
  assert.equal(value.summaryPath, value.path);
  assert.equal(value.pathText, 'global → cart (Cart)');
  // The kept heap answers as open() of its file does.
  assert.deepEqual(value.cart, value.again);
  assert.equal(value.closed, true);
  assert.equal(value.unwrittenFile, null);
  assert.equal(value.items, 300);
  assert.equal(value.plainHeap, false);
  assert.equal(value.refused, 'ERR_INVALID_ARG_TYPE');
  assert.equal(value.notBoolean, 'ERR_INVALID_ARG_TYPE');
});

test('open() of a file that is missing or not a snapshot: a typed error naming it', async (t) => {
  const heapscope = require('..');
  const dir = scratch(t);
  const missing = path.join(dir, 'nope.heapsnapshot');
  await assert.rejects(heapscope.open(missing), (e) => e.path === missing && e.code === 'ERR_HEAPSCOPE_READ' && e.message.includes(missing));
  const bad = path.join(dir, 'bad.heapsnapshot');
  require('node:fs').writeFileSync(bad, '{"snapshot": {"meta": 7}}');
  await assert.rejects(heapscope.open(bad), (e) => e.path === bad && typeof e.offset === 'number');
  await assert.rejects(heapscope.open(''), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('CLI: node, retainers, path, dominators and instances print tables or JSON; a missing id is exit 1, a bad one 2', (t) => {
  const file = snapshotOf(t);
  const instances = cli('instances', file, 'Cart', '--json');
  assert.equal(instances.status, 0, instances.stderr);
  const [cart] = JSON.parse(instances.stdout).items;
  const node = cli('node', file, `@${cart.id}`, '--limit', '2');
  assert.equal(node.status, 0, node.stderr);
  assert.match(node.stdout, new RegExp(`^Cart @${cart.id}: object, self \\d+ B, retained [\\d.]+ KB, distance \\d+`));
  assert.match(node.stdout, /\.items +Array @\d+/);
  assert.match(node.stdout, /1–2 of \d+ \(--offset 2 for more\)/);
  const items = JSON.parse(cli('node', file, String(cart.id), '--json').stdout).edges.items.find((e) => e.name === 'items').node;
  const retainers = cli('retainers', file, `@${items.id}`);
  assert.equal(retainers.status, 0, retainers.stderr);
  assert.match(retainers.stdout, new RegExp(`^Retainers of Array @${items.id}`));
  assert.match(retainers.stdout, new RegExp(`\\.items +Cart @${cart.id}`));
  const pathText = cli('path', file, `@${items.id}`);
  assert.equal(pathText.status, 0, pathText.stderr);
  assert.match(pathText.stdout, /^global → cart \(Cart\) → items \(Array\)\n/);
  const dominators = JSON.parse(cli('dominators', file, `@${items.id}`, '--json').stdout);
  assert.equal(dominators.dominators[0].id, cart.id);
  assert.ok(dominators.dominated.total >= 1);
  const missing = cli('path', file, '@4294967294');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /has no object @4294967294/);
  const bad = cli('retainers', file, 'cart');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /needs an object id such as @123/);
  assert.equal(cli('node', file).status, 2);
  const strings = cli('strings', file, '--limit', '500');
  assert.equal(strings.status, 0, strings.stderr);
  assert.match(strings.stdout, /"duplicated" +40 /);
  const closures = cli('closures', file, '--limit', '500');
  assert.equal(closures.status, 0, closures.stderr);
  assert.match(closures.stdout, /Function @\d+ "onResize"\n +lookupTable: Array @\d+/);
  const found = cli('find', file, '--type', 'string', '--pattern', '^sku-1[0-9]$', '--json');
  assert.equal(found.status, 0, found.stderr);
  assert.equal(JSON.parse(found.stdout).total, 10);
  // --pattern is Rust's syntax, as its help says: an inline flag JavaScript has no form for.
  const flagged = cli('find', file, '--type', 'string', '--pattern', '(?i)^SKU-1[0-9]$', '--json');
  assert.equal(flagged.status, 0, flagged.stderr);
  assert.equal(JSON.parse(flagged.stdout).total, 10);
});
