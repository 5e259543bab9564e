'use strict';
// `heapscope mcp`: a Model Context Protocol server over stdio, so that AI
// assistants can explore heap snapshots with heapscope's engine. Built on
// the official SDK (@modelcontextprotocol/sdk, an optional peer dependency:
// applications that only take snapshots do not install it). Every tool reads;
// results are paged and bounded; every failure is a tool error, never a crash.

const { open, nodeId } = require('./explore');
const { diff, findLeaks } = require('./leaks');
const { version } = require('../package.json');

/** The SDK, or an error that says how to get it. */
function sdk() {
  try {
    return {
      Server: require('@modelcontextprotocol/sdk/server/index.js').Server,
      StdioServerTransport: require('@modelcontextprotocol/sdk/server/stdio.js').StdioServerTransport,
      ...require('@modelcontextprotocol/sdk/types.js'),
    };
  } catch (e) {
    const err = new Error(
      'heapscope: the MCP server needs the official MCP SDK beside heapscope: npm install @modelcontextprotocol/sdk ' +
        `(or run it with npx -p heapscope -p @modelcontextprotocol/sdk heapscope mcp): ${e.message}`,
    );
    err.code = 'ERR_HEAPSCOPE_NO_MCP_SDK';
    throw err;
  }
}

/** Most rows a tool returns at once, and the default. */
const MAX_LIMIT = 200;
const LIMIT = 20;
/** Longest string a result carries (names, string values). */
const MAX_TEXT = 300;

const handle = { type: 'string', description: 'a loaded snapshot, as `load` named it (h1, h2, …)' };
const id = { type: ['integer', 'string'], description: 'a node id: 123 or "@123", as DevTools shows it' };
const paging = {
  offset: { type: 'integer', minimum: 0, description: 'rows to skip (default 0)' },
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `rows to return (default ${LIMIT}, at most ${MAX_LIMIT})` },
};
const schema = (properties, required) => ({ type: 'object', properties, required, additionalProperties: false });

/** Tools: name, what it answers, its input schema, and `run(args, heaps)`. */
const TOOLS = [
  {
    name: 'load',
    description:
      'Read and analyse a .heapsnapshot (or .heapsnapshot.gz) file and keep it in memory for the other tools; returns its handle, object count and total size.',
    inputSchema: schema({ path: { type: 'string', description: 'the snapshot file' } }, ['path']),
    async run({ path }, heaps) {
      const heap = await open(path);
      const name = `h${heaps.next++}`;
      heaps.open.set(name, heap);
      return { handle: name, file: heap.file, nodeCount: heap.nodeCount, totalSize: heap.totalSize };
    },
  },
  {
    name: 'unload',
    description: 'Free a loaded snapshot.',
    inputSchema: schema({ handle }, ['handle']),
    async run(args, heaps) {
      heapOf(args, heaps).close();
      heaps.open.delete(args.handle);
      return { unloaded: args.handle };
    },
  },
  {
    name: 'loaded',
    description: 'The snapshots loaded now, with their handles.',
    inputSchema: schema({}, []),
    async run(_, heaps) {
      return [...heaps.open].map(([name, heap]) => ({ handle: name, file: heap.file, nodeCount: heap.nodeCount, totalSize: heap.totalSize }));
    },
  },
  {
    name: 'summary',
    description:
      "Chrome DevTools' Summary: the classes retaining the most memory (count, self size, retained size) and the largest objects with their retainer paths.",
    inputSchema: schema(
      {
        handle,
        topClasses: { type: 'integer', minimum: 0, maximum: MAX_LIMIT, description: `class rows (default ${LIMIT})` },
        topObjects: { type: 'integer', minimum: 0, maximum: 50, description: 'largest objects (default 10)' },
      },
      ['handle'],
    ),
    run: (args, heaps) => heapOf(args, heaps).summary({ topClasses: args.topClasses ?? LIMIT, topObjects: args.topObjects ?? 10 }),
  },
  {
    name: 'node',
    description: "One object by id: type, name, class, self and retained size, distance, and a page of its edges (largest retained size first, as DevTools' Summary lists them).",
    inputSchema: schema({ handle, id, ...paging }, ['handle', 'id']),
    run: (args, heaps) => found(args, heapOf(args, heaps).node(args.id, page(args))),
  },
  {
    name: 'retainers',
    description: "A page of what holds an object (incoming edges), nearest the GC roots first, as DevTools' Retainers view lists them.",
    inputSchema: schema({ handle, id, ...paging }, ['handle', 'id']),
    run: (args, heaps) => found(args, heapOf(args, heaps).retainers(args.id, page(args))),
  },
  {
    name: 'path',
    description: 'The shortest retaining path from the root to an object (DevTools\' choice at each step), as text ("global → cache (Map) → …") and as steps.',
    inputSchema: schema({ handle, id }, ['handle', 'id']),
    run: (args, heaps) => found(args, heapOf(args, heaps).path(args.id)),
  },
  {
    name: 'dominators',
    description: "An object's dominators, its immediate one first, out to the root: what must let go of it for it to be freed.",
    inputSchema: schema({ handle, id }, ['handle', 'id']),
    run: (args, heaps) => found(args, heapOf(args, heaps).dominators(args.id)),
  },
  {
    name: 'dominated',
    description: 'A page of the objects an object immediately dominates (what freeing it would free), largest retained size first.',
    inputSchema: schema({ handle, id, ...paging }, ['handle', 'id']),
    run: (args, heaps) => found(args, heapOf(args, heaps).dominated(args.id, page(args))),
  },
  {
    name: 'instances',
    description: 'A page of the objects of one Summary class (e.g. "Map", "Array", "{id, body}"), largest retained size first.',
    inputSchema: schema({ handle, className: { type: 'string', description: 'the class name as the summary shows it' }, ...paging }, ['handle', 'className']),
    run: (args, heaps) => heapOf(args, heaps).instances(args.className, page(args)),
  },
  {
    name: 'find',
    description:
      'Objects by class name, node type (object, string, closure, …), a property they have, or a value their name holds (a string\'s value, a function\'s name: a substring, or a regular expression in Rust\'s syntax), largest retained size first.',
    inputSchema: schema(
      {
        handle,
        className: { type: 'string' },
        type: { type: 'string' },
        property: { type: 'string' },
        value: { type: 'string', description: 'a substring of the name' },
        pattern: { type: 'string', description: 'or a regular expression the name matches' },
        ...paging,
      },
      ['handle'],
    ),
    run(args, heaps) {
      const { className, type, property, value, pattern } = args;
      return heapOf(args, heaps).find({ className, type, property, value, pattern }, page(args));
    },
  },
  {
    name: 'closures',
    description: 'Closures (functions) by retained size, each with the largest variables its context captures: what a listener or a callback keeps alive.',
    inputSchema: schema({ handle, ...paging }, ['handle']),
    run: (args, heaps) => heapOf(args, heaps).closures({ ...page(args), variables: 5 }),
  },
  {
    name: 'context',
    description: "A closure's (or a context's) captured variables, each with its retained size, largest first.",
    inputSchema: schema({ handle, id, ...paging }, ['handle', 'id']),
    run: (args, heaps) => found(args, heapOf(args, heaps).context(args.id, page(args))),
  },
  {
    name: 'statistics',
    description: "DevTools' Statistics: the total split into native memory (typed arrays) and the JS heap (code, strings, JS arrays, system).",
    inputSchema: schema({ handle }, ['handle']),
    run: (args, heaps) => heapOf(args, heaps).statistics(),
  },
  {
    name: 'duplicateStrings',
    description: 'String values held more than once: count, total bytes and the bytes the extra copies waste, most wasted first.',
    inputSchema: schema({ handle, ...paging }, ['handle']),
    run: (args, heaps) => heapOf(args, heaps).duplicateStrings(page(args)),
  },
  {
    name: 'diff',
    description: "Objects added and removed per class between two loaded snapshots of one process (DevTools' Comparison view), largest size change first.",
    inputSchema: schema({ before: handle, after: handle, ...paging }, ['before', 'after']),
    async run(args, heaps) {
      const [before, after] = [heapOf({ handle: args.before }, heaps), heapOf({ handle: args.after }, heaps)];
      const result = await diff(before.file, after.file);
      const { offset, limit } = page(args);
      return {
        classes: { total: result.classes.length, items: result.classes.slice(offset, offset + limit) },
        newObjects: result.newObjects.slice(0, 10),
        totalSizes: result.totalSizes,
      };
    },
  },
  {
    name: 'leaks',
    description:
      'Leak suspects across loaded snapshots of one process, oldest first (memlab\'s baseline, target, final, or more): what grew and the retainer path that holds it.',
    inputSchema: schema(
      { handles: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 64, description: 'handles, oldest first' }, limit: paging.limit },
      ['handles'],
    ),
    async run(args, heaps) {
      const files = args.handles.map((h) => heapOf({ handle: h }, heaps).file);
      const report = await findLeaks({ snapshots: files, limit: Math.min(args.limit ?? 5, MAX_LIMIT) });
      return { ...report, newObjects: report.newObjects.slice(0, 10), diff: report.diff.slice(0, LIMIT) };
    },
  },
];

function heapOf({ handle: name }, heaps) {
  const heap = heaps.open.get(name);
  if (!heap) {
    const err = new Error(`no snapshot is loaded as ${JSON.stringify(name)} (loaded: ${[...heaps.open.keys()].join(', ') || 'none'})`);
    err.code = 'ERR_HEAPSCOPE_NO_HANDLE';
    throw err;
  }
  return heap;
}

const page = ({ offset = 0, limit = LIMIT }) => ({ offset, limit: Math.min(limit, MAX_LIMIT) });

/** A query's answer, or an error naming the id it did not find. */
async function found({ id: asked }, answer) {
  const result = await answer;
  if (result === null) {
    const err = new Error(`the snapshot has no object @${nodeId(asked)}`);
    err.code = 'ERR_HEAPSCOPE_NO_OBJECT';
    throw err;
  }
  return result;
}

/** Long strings cut, so that no answer is unbounded. */
function bounded(value) {
  if (typeof value === 'string') return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 1)}…` : value;
  if (Array.isArray(value)) return value.map(bounded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bounded(v)]));
  return value;
}

/**
 * Serves the tools over stdio until the client goes. Resolves once
 * connected; the loaded snapshots are freed when the transport closes.
 */
async function serveMcp() {
  const { Server, StdioServerTransport, ListToolsRequestSchema, CallToolRequestSchema } = sdk();
  const server = new Server(
    { name: 'heapscope', version },
    {
      capabilities: { tools: {} },
      instructions:
        'Load a V8 heap snapshot with `load`, then explore it by node id (@123): summary, statistics, node, retainers, path, ' +
        'dominators, dominated, instances, find, duplicateStrings, closures, context; diff and leaks compare snapshots of one process. ' +
        'Sizes are in bytes.',
    },
  );
  const heaps = { open: new Map(), next: 1 };
  const byName = new Map(TOOLS.map((t) => [t.name, t]));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: TOOLS.map(({ name, description, inputSchema }) => ({
      name,
      description,
      inputSchema,
      annotations: { readOnlyHint: true, openWorldHint: false },
    })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name, arguments: args = {} } = request.params;
    const tool = byName.get(name);
    try {
      if (!tool) throw Object.assign(new Error(`no tool ${JSON.stringify(name)}; the tools are ${TOOLS.map((t) => t.name).join(', ')}`), { code: 'ERR_HEAPSCOPE_NO_TOOL' });
      const result = bounded(await tool.run(args, heaps));
      return { content: [{ type: 'text', text: JSON.stringify(result) }] };
    } catch (e) {
      return { isError: true, content: [{ type: 'text', text: `${e.code ? `${e.code}: ` : ''}${e.message}` }] };
    }
  });
  const transport = new StdioServerTransport();
  transport.onclose = () => {
    for (const heap of heaps.open.values()) heap.close();
    heaps.open.clear();
  };
  await server.connect(transport);
  return server;
}

module.exports = { serveMcp, TOOLS };
