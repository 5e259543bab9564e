'use strict';
// Leaking programs and controls, each a `setup` defining `step(i)` (awaited)
// and `runs`: how many steps before the baseline, before each later mark and
// before the final snapshot. `holder`: the last edge of the retainer path a
// leak report must name first (null for a control: nothing to report).
// `allocatedIn`: the function that allocates the leaked objects, by its name
// and the text of the line it starts on (null when Node's own code does).
// __test__/leaks.test.js asserts on each; bench/leaks.js runs them against memlab.

module.exports = {
  chocolate: {
    about: 'ChocolateClass pushes 100 objects a step into its sugar array',
    holder: 'sugar',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 200, 200],
    setup: `
    class ChocolateClass { constructor() { this.sugar = []; } }
    globalThis.chocolate = new ChocolateClass();
    async function step() { for (let i = 0; i < 100; i++) chocolate.sugar.push({ grain: i }); }
  `,
  },
  listenerPerRequest: {
    about: "a request handler adds client.on('message') capturing res",
    holder: 'message',
    allocatedIn: null /* ServerResponse: Node's http server; the listener: the handler */,
    runs: [10, 150, 150],
    setup: `
    const http = require('node:http');
    const { EventEmitter } = require('node:events');
    globalThis.client = new EventEmitter();
    client.setMaxListeners(0);
    const server = http.createServer((req, res) => {
      client.on('message', (message) => res.write(message));
      res.end('ok');
    });
    const listening = new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    async function step() {
      await listening;
      await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: server.address().port, agent }, (r) => r.resume().on('end', resolve)).on('error', reject);
      });
    }
  `,
  },
  replacedArray: {
    about: 'a global array replaced by ever larger arrays',
    holder: 'array',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [5, 20, 20],
    setup: `
    globalThis.array = [];
    async function step() { array = new Array(10000 + array.length).fill(0); }
  `,
  },
  mapCache: {
    about: 'an unbounded Map cache keyed by request id',
    holder: 'cache',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 200, 200],
    setup: `
    globalThis.cache = new Map();
    let id = 0;
    async function step() {
      for (let i = 0; i < 50; i++, id++) cache.set('req-' + id, { id, body: 'payload '.repeat(4) + id });
    }
  `,
  },
  largeEntries: {
    about: 'large responses pushed into one global array',
    holder: 'responses',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [2, 20, 20],
    setup: `
    globalThis.responses = [];
    async function step(i) { responses.push({ status: 200, body: new Array(20000).fill(i) }); }
  `,
  },
  closureListeners: {
    about: 'listeners whose closures each capture a big table',
    holder: 'resize',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [2, 20, 20],
    setup: `
    const { EventEmitter } = require('node:events');
    globalThis.windowEvents = new EventEmitter();
    windowEvents.setMaxListeners(0);
    async function step(i) {
      const lookupTable = new Array(20000).fill(i);
      windowEvents.on('resize', () => lookupTable.length);
    }
  `,
  },
  steadyAndBurst: {
    about: 'a steady leak beside a larger burst after the target',
    holder: 'steady',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 200, 200],
    setup: `
    globalThis.steady = [];
    globalThis.burst = [];
    let calls = 0;
    async function step() {
      calls++;
      steady.push({ n: calls, pad: 'x'.repeat(400) + calls });
      if (calls > 220) for (let k = 0; k < 20; k++) burst.push({ n: calls, k, pad: 'y'.repeat(400) + calls });
    }
  `,
  },
  stableControl: {
    about: 'control: a large structure that does not grow, busy traffic',
    holder: null,
    runs: [20, 200, 200],
    setup: `
    globalThis.stable = Array.from({ length: 100_000 }, (_, i) => ({ id: i, label: 'row ' + i }));
    globalThis.lookup = new Map(stable.map((r) => [r.id, r]));
    let sum = 0;
    async function step(i) {
      // Busy, but everything it allocates is garbage by the next step.
      const rows = stable.slice(i * 100, i * 100 + 1000).map((r) => ({ ...r, seen: true }));
      sum += rows.length;
    }
  `,
  },
  dozenSmallObjects: {
    about: 'a dozen small objects a step',
    holder: 'pendingJobs',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 200, 200],
    setup: `
    globalThis.pendingJobs = [];
    let n = 0;
    async function step(i) {
      if (i % 10 === 0) for (let k = 0; k < 12; k++) pendingJobs.push({ job: n++, state: 'queued' });
    }
  `,
  },
  taggedLeak: {
    about: "memlab's tagged leak: 11 small objects a step, among larger stable rows",
    holder: 'leakedObjects',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 200, 200],
    setup: `
    class LeakObject { constructor(n) { this.n = n; } }
    globalThis.leakedObjects = [];
    // More, larger objects than are followed by size, none of them growing.
    globalThis.rows = Array.from({ length: 30_000 }, (_, i) => ({ id: i, text: 'row '.repeat(20) + i }));
    let n = 0;
    async function step(i) { if (i === 0) for (let k = 0; k < 11; k++) leakedObjects.push(new LeakObject(n++)); }
  `,
  },
  nestedPath: {
    about: "memlab's injected leak down a nested path",
    holder: 'items',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 200, 200],
    setup: `
    globalThis.app = { modules: { cart: { state: { items: [], total: 0 } } } };
    async function step(i) { app.modules.cart.state.items.push({ sku: 'sku-' + i, qty: i, note: 'n'.repeat(200) + i }); }
  `,
  },
  duplicateObjects: {
    about: 'duplicate objects in a module-scope variable',
    holder: 'events',
    allocatedIn: { name: 'globalThis.record', line: 'globalThis.record =' },
    runs: [20, 200, 200],
    setup: `
    const events = [];
    globalThis.record = () => events.push({ type: 'request', ok: true, tags: ['a', 'b'] });
    async function step() { for (let k = 0; k < 10; k++) record(); }
  `,
  },
  duplicateStrings: {
    about: 'duplicate strings built at run time into a log',
    holder: 'accessLog',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 200, 200],
    setup: `
    globalThis.accessLog = [];
    async function step(i) { accessLog.push(['GET', '/api/items', '200'].join(' ') + ' ' + 'x'.repeat(300)); }
  `,
  },
  fourSteps: {
    about: 'four snapshots: a leak at every step beside a larger burst once',
    holder: 'sessions',
    allocatedIn: { name: 'step', line: 'async function step' },
    runs: [20, 100, 100, 100],
    setup: `
    globalThis.sessions = [];
    globalThis.uploads = [];
    let calls = 0;
    async function step() {
      calls++;
      sessions.push({ user: 'u' + calls, data: 'd'.repeat(300) + calls });
      if (calls === 250) for (let k = 0; k < 2000; k++) uploads.push({ chunk: 'c'.repeat(300) + k });
    }
  `,
  },
  lruControl: {
    about: 'control: a bounded LRU that fills and stays full',
    holder: null,
    runs: [20, 200, 200],
    setup: `
    class LRU {
      constructor(max) { this.max = max; this.map = new Map(); }
      set(key, value) {
        this.map.delete(key);
        this.map.set(key, value);
        if (this.map.size > this.max) this.map.delete(this.map.keys().next().value);
      }
    }
    globalThis.lru = new LRU(2000);
    let n = 0;
    async function step() { for (let k = 0; k < 20; k++, n++) lru.set('k' + n, { n, body: 'b'.repeat(200) + n }); }
  `,
  },
  warmingCacheControl: {
    about: 'control, four snapshots: a cache that warms up and plateaus',
    holder: null,
    runs: [20, 1500, 1500, 1000],
    setup: `
    globalThis.rendered = new Map();
    let n = 0;
    async function step() {
      const key = 'page-' + (n++ % 3000);
      if (!rendered.has(key)) rendered.set(key, { key, html: '<p>'.repeat(100) + key });
    }
  `,
  },
};
