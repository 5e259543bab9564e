'use strict';
// `heapscope mcp` driven by the official MCP SDK's own client over stdio,
// in a real child process: the tools an assistant would call, and errors
// that stay tool errors.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { scratch, runNodeJson, root } = require('./helpers');

const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js');

async function connect(t) {
  const client = new Client({ name: 'heapscope-test', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args: [path.join(root, 'bin', 'heapscope.js'), 'mcp'], stderr: 'pipe' });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

/** A tool's answer parsed, or `{ error }` with its text when the tool failed. */
async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  const text = result.content[0].text;
  return result.isError ? { error: text } : JSON.parse(text);
}

test('an MCP client lists the tools, loads a snapshot, asks for the summary, retainers, a path and duplicate strings, and unloads it', async (t) => {
  const dir = scratch(t);
  const { value: file } = runNodeJson(`
    globalThis.cache = new Map();
    for (let i = 0; i < 2000; i++) cache.set('k' + i, { id: i, body: 'payload '.repeat(3) + (i % 10) });
    globalThis.copies = Array.from({ length: 50 }, () => ['same', 'value'].join(' '));
    heapscope.snapshot({ dir: ${JSON.stringify(dir)} }).then((i) => console.log(JSON.stringify(i.path)));`);
  const client = await connect(t);
  assert.equal(client.getServerVersion().name, 'heapscope');

  const { tools } = await client.listTools();
  const names = tools.map((x) => x.name);
  for (const name of ['load', 'unload', 'summary', 'node', 'retainers', 'path', 'dominators', 'instances', 'duplicateStrings', 'diff', 'leaks']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  assert.ok(tools.every((x) => x.annotations?.readOnlyHint === true && x.inputSchema.type === 'object'));

  const loaded = await call(client, 'load', { path: file });
  assert.equal(loaded.handle, 'h1');
  assert.ok(loaded.nodeCount > 1000, JSON.stringify(loaded));

  const summary = await call(client, 'summary', { handle: 'h1', topClasses: 5, topObjects: 3 });
  assert.equal(summary.classes.length, 5);
  // The cache: of the Maps (Node has its own, some larger), the one the global object holds as `cache`.
  const maps = await call(client, 'instances', { handle: 'h1', className: 'Map', limit: 50 });
  let map;
  for (const m of maps.items) {
    const retainers = await call(client, 'retainers', { handle: 'h1', id: `@${m.id}` });
    if (retainers.items.some((e) => e.name === 'cache' && e.node.className.startsWith('global'))) map = m;
    if (map) break;
  }
  assert.ok(map && map.retainedSize > 100_000, JSON.stringify(maps.items.map((m) => [m.id, m.retainedSize])));
  const trail = await call(client, 'path', { handle: 'h1', id: map.id });
  assert.equal(trail.text, 'global → cache (Map)');

  const strings = await call(client, 'duplicateStrings', { handle: 'h1', limit: 200 });
  const same = strings.items.find((s) => s.value === 'same value');
  assert.ok(same && same.count === 50 && same.wasted === 49 * (same.size / 50), JSON.stringify(strings.items.map((s) => [s.value, s.count])));
  assert.ok(strings.items.every((s, i) => i === 0 || strings.items[i - 1].wasted >= s.wasted));
  assert.equal((await call(client, 'duplicateStrings', { handle: 'h1', limit: 3 })).items.length, 3);

  const found = await call(client, 'find', { handle: 'h1', className: 'Map', property: 'size' });
  assert.ok(Array.isArray(found.items));
  assert.equal((await call(client, 'find', { handle: 'h1', type: 'string', pattern: '^k1[0-9]$' })).total, 10);
  assert.match((await call(client, 'find', { handle: 'h1', pattern: '(' })).error, /^ERR_INVALID_ARG_VALUE/);
  const stats = await call(client, 'statistics', { handle: 'h1' });
  assert.equal(stats.total, loaded.totalSize);

  // Pages are bounded, whatever is asked.
  const node = await call(client, 'node', { handle: 'h1', id: map.id, limit: 100_000 });
  assert.ok(node.edges.items.length <= 200);

  assert.deepEqual(await call(client, 'unload', { handle: 'h1' }), { unloaded: 'h1' });
  assert.deepEqual(await call(client, 'loaded', {}), []);
});

test('MCP errors are tool errors and the server keeps serving: unknown handle, id, tool, file, bad id', async (t) => {
  const client = await connect(t);
  const missing = await call(client, 'load', { path: path.join(scratch(t), 'nope.heapsnapshot') });
  assert.match(missing.error, /^ERR_HEAPSCOPE_READ: .*nope\.heapsnapshot/);
  assert.match((await call(client, 'summary', { handle: 'h7' })).error, /^ERR_HEAPSCOPE_NO_HANDLE: no snapshot is loaded as "h7"/);
  assert.match((await call(client, 'explode', {})).error, /^ERR_HEAPSCOPE_NO_TOOL/);
  const dir = scratch(t);
  const { value: file } = runNodeJson(`heapscope.snapshot({ dir: ${JSON.stringify(dir)} }).then((i) => console.log(JSON.stringify(i.path)));`);
  const { handle } = await call(client, 'load', { path: file });
  assert.match((await call(client, 'path', { handle, id: 4294967294 })).error, /^ERR_HEAPSCOPE_NO_OBJECT: the snapshot has no object @4294967294/);
  assert.match((await call(client, 'node', { handle, id: 'not-an-id' })).error, /^ERR_INVALID_ARG_TYPE/);
  // Still serving.
  assert.equal((await call(client, 'loaded', {})).length, 1);
});
