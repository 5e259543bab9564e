'use strict';
// analyze(): snapshots of real programs read off the JS thread into
// DevTools' Summary numbers; bad input is a typed error with a byte offset.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { scratch, runNodeJson } = require('./helpers');

function leakySnapshot(t, { gzip = false } = {}) {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    class Leaky { constructor(i) { this.i = i; this.payload = new Array(16).fill(i); } }
    globalThis.leaks = [];
    for (let i = 0; i < 5000; i++) leaks.push(new Leaky(i));
    globalThis.cache = new Map();
    for (let i = 0; i < 3000; i++) cache.set('k' + i, { user: 'u' + i, name: 'n' + i });
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, gzip: ${gzip} }).then((i) => console.log(JSON.stringify(i)));
  `);
  return value.path;
}

test('a real snapshot: class rows, totals, top objects with retainer paths, progress', async (t) => {
  const heapscope = require('..');
  const file = leakySnapshot(t);
  const phases = new Set();
  const summary = await heapscope.analyze(file, { topClasses: 1000, topObjects: 5, onProgress: (p) => phases.add(p.phase) });
  assert.ok(summary.nodeCount > 10_000);
  const leaky = summary.classes.find((c) => c.name === 'Leaky');
  assert.equal(leaky.count, 5000, 'every instance counted once');
  // The inline elements arrays are owned by Leaky's arrays, not Leaky: self is the objects alone.
  assert.ok(leaky.retainedSize > leaky.selfSize * 3, JSON.stringify(leaky));
  // Plain objects with one shape are named by their properties, as in DevTools.
  const shaped = summary.classes.find((c) => c.name === '{user, name}');
  // 3000 values, plus the literal's boilerplate object V8 keeps for the allocation site.
  assert.ok(shaped && shaped.count >= 3000 && shaped.count <= 3001, summary.classes.map((c) => c.name).join(' | '));
  for (let i = 1; i < summary.classes.length; i++) {
    assert.ok(summary.classes[i - 1].retainedSize >= summary.classes[i].retainedSize, 'sorted by retained size');
  }
  const rootRetained = summary.totalSize;
  assert.ok(summary.classes.every((c) => c.retainedSize <= rootRetained));
  assert.equal(summary.objects.length, 5);
  const top = summary.objects[0];
  assert.ok(top.retainedSize >= summary.objects[4].retainedSize);
  assert.ok(top.path.length >= 1 && top.path.at(-1).id === top.id, 'the path ends at the object');
  const leaksArray = summary.objects.find((o) => o.path.some((s) => s.edge === 'leaks'));
  assert.ok(leaksArray, `the leaks array is among the largest: ${JSON.stringify(summary.objects.map((o) => o.path.map((s) => s.edge)))}`);
  await new Promise((resolve) => setImmediate(resolve)); // progress calls are queued, not awaited
  // Each phase in the order the work is done, as the types document them.
  assert.deepEqual([...phases], ['reading', 'dominators', 'retained sizes', 'aggregates']);
});

test('.heapsnapshot.gz gives the same summary as the plain file', async (t) => {
  const heapscope = require('..');
  const file = leakySnapshot(t);
  const gz = `${file}.gz`;
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(file)));
  const [a, b] = await Promise.all([heapscope.analyze(file), heapscope.analyze(gz)]);
  assert.deepEqual(
    { ...b, path: undefined, parseMs: 0, analyzeMs: 0 },
    { ...a, path: undefined, parseMs: 0, analyzeMs: 0 },
  );
});

test('snapshot({ analyze: true }): analysed while V8 streams, with or without a file', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    class Leaky { constructor(i) { this.i = i; this.payload = new Array(16).fill(i); } }
    globalThis.leaks = [];
    for (let i = 0; i < 5000; i++) leaks.push(new Leaky(i));
    (async () => {
      const phases = new Set();
      const streamed = await heapscope.snapshot({ analyze: true, write: false, topClasses: 1000,
        onProgress: (p) => phases.add(p.phase) });
      const files = require('node:fs').readdirSync(${JSON.stringify(dir)});
      const written = await heapscope.snapshot({ dir: ${JSON.stringify(dir)}, analyze: true, topClasses: 1000 });
      const reread = await heapscope.analyze(written.path, { topClasses: 1000 });
      const bad = await heapscope.snapshot({ analyze: 'yes' }).catch((e) => e.code);
      const badWrite = await heapscope.snapshot({ write: false }).catch((e) => e.code);
      console.log(JSON.stringify({ streamed, files, written, reread, phases: [...phases], bad, badWrite }));
    })();
  `);
  const { streamed, files, written, reread } = value;
  assert.deepEqual(files, [], 'write: false leaves no file');
  assert.equal(streamed.path, null);
  assert.ok(streamed.rawBytes > 1_000_000 && streamed.pauseMs > 0, JSON.stringify({ ...streamed, summary: 0 }));
  assert.equal(streamed.summary.classes.find((c) => c.name === 'Leaky').count, 5000);
  assert.ok(value.phases.includes('dominators'), value.phases.join(','));
  // The file written alongside the analysis reads back to the same numbers.
  assert.ok(fs.statSync(written.path).size === written.bytes && written.bytes > 1_000_000);
  assert.equal(written.summary.path, written.path);
  const strip = (s) => ({ ...s, parseMs: 0, analyzeMs: 0, path: '' });
  assert.deepEqual(strip(written.summary), strip(reread));
  assert.equal(value.bad, 'ERR_INVALID_ARG_TYPE');
  assert.equal(value.badWrite, 'ERR_INVALID_ARG_TYPE');
});

test('bad input: typed errors that name the file and the byte, node or edge, never a crash', async (t) => {
  const heapscope = require('..');
  const dir = scratch(t);
  const leakySnapshotFile = leakySnapshot(t);
  const good = fs.readFileSync(leakySnapshotFile);
  // The real header and meta, then a broken nodes section.
  const head = good.subarray(0, good.indexOf('"nodes":[') + '"nodes":['.length).toString('latin1');
  const cases = {
    empty: Buffer.alloc(0),
    notJson: Buffer.from('hello, world'),
    truncated: good.subarray(0, Math.floor(good.length / 2)),
    badNumber: Buffer.from(`${head}1,2,-3]}`, 'latin1'),
    badType: Buffer.from(`${head}99,0,1,0,0,0,0]}`, 'latin1'),
    nodesFirst: Buffer.from('{"nodes":[1,2,3]}'),
    noMeta: Buffer.from('{"snapshot":{"meta":{}},"nodes":[],"edges":[],"strings":[]}'),
    outOfRange: Buffer.from(
      good
        .toString('utf8')
        .replace(/"edges":\[(\d+),(\d+),(\d+)/, (m, a, b) => `"edges":[${a},${b},4000000000`),
    ),
    nodeName: Buffer.from(good.toString('utf8').replace(/"nodes":\[(\d+),(\d+)/, (m, a) => `"nodes":[${a},99999999`)),
    edgeCount: Buffer.from(
      good
        .toString('utf8')
        .replace(/"nodes":\[((?:\d+,){4})(\d+)/, (m, before, count) => `"nodes":[${before}${Number(count) + 1}`),
    ),
    corruptGzip: Buffer.concat([zlib.gzipSync(good).subarray(0, 2000), Buffer.alloc(2000, 7)]),
  };
  const errors = {};
  for (const [name, bytes] of Object.entries(cases)) {
    const file = path.join(dir, `${name}.heapsnapshot`);
    fs.writeFileSync(file, bytes);
    errors[name] = await heapscope.analyze(file).then(
      () => null,
      (e) => e,
    );
    assert.ok(errors[name], `${name} must be rejected`);
    assert.equal(errors[name].path, file);
    assert.match(errors[name].code, /^ERR_HEAPSCOPE_(SNAPSHOT_FORMAT|READ)$/, `${name}: ${errors[name].message}`);
    const where = ['offset', 'node', 'edge'].filter((key) => Number.isInteger(errors[name][key]));
    assert.equal(where.length, 1, `${name} names one byte, node or edge: ${errors[name].message}`);
  }
  assert.equal(errors.empty.offset, 0);
  assert.match(errors.empty.message, /at byte 0, found end of input/);
  assert.equal(errors.notJson.offset, 0);
  assert.equal(errors.truncated.offset, Math.floor(good.length / 2));
  assert.equal(errors.badNumber.offset, head.length + 4);
  assert.equal(errors.badType.offset, head.length);
  assert.match(errors.badType.message, /node type 99, but meta lists \d+ node types/);
  assert.match(errors.nodesFirst.message, /at byte 9: the 'nodes' section comes before the 'snapshot' header/);
  assert.match(errors.noMeta.message, /bad snapshot header at byte 12/);
  assert.match(errors.outOfRange.message, /edge 0 points to 4000000000, not one of the \d+ nodes/);
  assert.equal(errors.outOfRange.edge, 0);
  assert.match(errors.nodeName.message, /node 0 names string 99999999 of \d+/);
  assert.equal(errors.nodeName.node, 0);
  assert.match(errors.edgeCount.message, /edge counts add up to (\d+) but there are \d+ edges/);
  assert.equal(errors.edgeCount.offset, good.indexOf('"edges":[') + '"edges":'.length);
  // Comparisons name the file that failed, too.
  const bad = path.join(dir, 'outOfRange.heapsnapshot');
  await assert.rejects(heapscope.diff(leakySnapshotFile, bad), (e) => e.path === bad && e.edge === 0);
  // A cut gzip stream is either a read error or JSON that stops early; both say where.
  assert.equal(typeof errors.corruptGzip.offset, 'number');
  await assert.rejects(heapscope.analyze(path.join(dir, 'missing.heapsnapshot')), { code: 'ERR_HEAPSCOPE_READ' });
  await assert.rejects(heapscope.analyze(''), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a name longer than a JS string can hold is cut, and the analysis goes on', async (t) => {
  const heapscope = require('..');
  const dir = scratch(t);
  // 2^29 characters, more than V8's longest string (2^29 - 24); gzip keeps the file small.
  const meta = {
    node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
    node_types: [['hidden', 'object', 'synthetic'], 'string', 'number', 'number', 'number'],
    edge_fields: ['type', 'name_or_index', 'to_node'],
    edge_types: [['element', 'property'], 'string_or_number', 'node'],
  };
  const json = Buffer.concat([
    Buffer.from(`{"snapshot":{"meta":${JSON.stringify(meta)},"node_count":2,"edge_count":1},`),
    Buffer.from('"nodes":[2,0,1,0,1, 1,1,3,100,0],"edges":[1,0,5],"strings":["","'),
    Buffer.alloc(2 ** 29, 'a'),
    Buffer.from('"]}'),
  ]);
  const file = path.join(dir, 'long-name.heapsnapshot.gz');
  fs.writeFileSync(file, zlib.gzipSync(json, { level: 1 }));
  const summary = await heapscope.analyze(file);
  const long = summary.classes.find((c) => c.name.startsWith('aaaa'));
  assert.ok(long, JSON.stringify(summary.classes.map((c) => c.name.slice(0, 20))));
  assert.ok(long.name.length <= 64 * 1024 + 1 && long.name.endsWith('…'), `cut to ${long.name.length}`);
  assert.equal(long.selfSize, 100);
});

test('CLI: heapscope summary prints a table, --json for machines, exit codes 0 / 1 / 2', (t) => {
  const { spawnSync } = require('node:child_process');
  const bin = path.join(__dirname, '..', 'bin', 'heapscope.js');
  const run = (...args) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const file = leakySnapshot(t);
  const text = run('summary', file, '--top', '100', '--objects', '2');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /Largest classes by retained size \(100 of \d+\):/);
  assert.match(text.stdout, /\nLeaky +5,000 /);
  assert.match(text.stdout, /Largest objects by retained size:\n +[\d.]+ [KMG]?B +\S/);
  const json = run('summary', file, '--json', '--top', '3');
  assert.equal(json.status, 0);
  assert.equal(JSON.parse(json.stdout).classes.length, 3);
  const missing = run('summary', path.join(path.dirname(file), 'nope.heapsnapshot'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot analyse .*nope\.heapsnapshot: read error at byte 0/);
  assert.equal(run('summary').status, 2);
  assert.equal(run('frobnicate').status, 2);
});

test('progress: every event arrives before the promise settles, with fraction a number or null', async (t) => {
  const heapscope = require('..');
  const file = leakySnapshot(t);
  let late = 0;
  const fractions = new Set();
  for (let run = 0; run < 40; run++) {
    let settled = false;
    await heapscope.analyze(file, {
      topClasses: 1,
      topObjects: 0,
      onProgress: (p) => {
        if (settled) late += 1;
        fractions.add(p.fraction === null ? 'null' : typeof p.fraction);
      },
    });
    settled = true;
  }
  // Events after a settled promise would land in later turns: give them one.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(late, 0, 'progress events after the promise settled');
  assert.deepEqual([...fractions].sort(), ['null', 'number']);
});

test('memory is given back after a streamed analysis: RSS ends near that of a plain snapshot', () => {
  const { value } = runNodeJson(
    `
    globalThis.keep = Array.from({ length: 200000 }, (_, i) => ({ i, s: 'v' + i, a: [i] }));
    const settle = async () => { global.gc(); await new Promise((r) => setTimeout(r, 300)); global.gc(); return process.memoryUsage().rss; };
    (async () => {
      const dir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'hs-rss-'));
      const plain = await heapscope.snapshot({ dir });
      require('fs').rmSync(dir, { recursive: true });
      const afterPlain = await settle();
      await heapscope.snapshot({ analyze: true, write: false });
      const afterAnalysis = await settle();
      console.log(JSON.stringify({ afterPlain, afterAnalysis, snapshot: plain.rawBytes }));
    })();
  `,
    { args: ['--expose-gc'] },
  );
  const mb = (n) => Math.round(n / 1048576);
  // The snapshot is ~40 MB here; the graph built from it was kept (+345 MB) before.
  assert.ok(value.afterAnalysis - value.afterPlain < 100 * 1048576, `after the analysis ${mb(value.afterAnalysis)} MB, after a plain snapshot ${mb(value.afterPlain)} MB`);
});

test('analysis runs on threads of the lowest priority; the JS and libuv threads keep theirs', (t) => {
  const dir = scratch(t);
  // The process watches its own threads in /proc while it analyses a file,
  // then while it analyses a snapshot as V8 streams it.
  const { value } = runNodeJson(`
    const fs = require('node:fs');
    const threads = () => fs.readdirSync('/proc/self/task').map((tid) => {
      try {
        const stat = fs.readFileSync('/proc/self/task/' + tid + '/stat', 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // nice (field 19) and scheduling policy (field 41; 5 is SCHED_IDLE), as nice:policy
        return { name: fs.readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim(), nice: fields[16] + ':' + fields[38] };
      } catch { return null; } // ended meanwhile
    }).filter(Boolean);
    globalThis.bulk = Array.from({ length: 400000 }, (_, i) => ({ i, s: 'x' + i, next: null }));
    const watch = (promise, seen) => {
      const timer = setInterval(() => seen.push(threads()), 1);
      return promise.finally(() => clearInterval(timer));
    };
    (async () => {
      const { path } = await heapscope.snapshot({ dir: ${JSON.stringify(dir)} });
      const file = [];
      await watch(heapscope.analyze(path), file);
      const afterFile = threads();
      const stream = [];
      await watch(heapscope.snapshot({ analyze: true, write: false }), stream);
      const normal = [];
      await watch(heapscope.analyze(path, { priority: 'normal' }), normal);
      let rejected = null;
      await heapscope.analyze(path, { priority: 'high' }).catch((e) => (rejected = e.code));
      console.log(JSON.stringify({ file, afterFile, stream, normal, rejected, after: threads() }));
    })();
  `, { timeout: 120_000 });
  const analysing = (list) => list.filter((th) => /^heapscope-analy/.test(th.name));
  // A file is analysed in SCHED_IDLE at nice 19 from the start.
  const fileNice = new Set(value.file.flatMap((at) => analysing(at).map((th) => th.nice)));
  assert.deepEqual([...fileNice], ['19:5'], JSON.stringify(value.file.at(-1)));
  // A stream is read at normal priority while V8 produces it (V8 must not
  // wait on it), then analysed at the lowest: the last look finds it lowered.
  const lastLook = value.stream.filter((at) => analysing(at).length > 0).at(-1);
  assert.ok(lastLook, 'the stream analysis was seen');
  assert.deepEqual([...new Set(analysing(lastLook).map((th) => th.nice))], ['19:5'], JSON.stringify(lastLook));
  // priority: 'normal' (the CLI's) leaves the analysis at the caller's priority.
  const normalNice = new Set(value.normal.flatMap((at) => analysing(at).map((th) => th.nice)));
  assert.deepEqual([...normalNice], ['0:0'], JSON.stringify(value.normal.at(-1)));
  assert.equal(value.rejected, 'ERR_INVALID_ARG_TYPE');
  // The JS thread and libuv's pool threads are never lowered.
  for (const list of [...value.file, value.afterFile, ...value.stream, value.after]) {
    const others = list.filter((th) => !/^heapscope-/.test(th.name));
    assert.ok(others.length > 0);
    assert.deepEqual([...new Set(others.map((th) => th.nice))], ['0:0'], JSON.stringify(others));
  }
});

test('threads: the analysis keeps at most that many threads busy, with the same answer', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    const fs = require('node:fs');
    const analysing = () => fs.readdirSync('/proc/self/task').filter((tid) => {
      try { return fs.readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').startsWith('heapscope-analy'); } catch { return false; }
    }).length;
    globalThis.bulk = Array.from({ length: 400000 }, (_, i) => ({ i, s: 'x' + i }));
    const run = async (options) => {
      let most = 0;
      const timer = setInterval(() => { most = Math.max(most, analysing()); }, 1);
      const summary = await heapscope.analyze(path, { topClasses: 1e6, topObjects: 5, ...options }).finally(() => clearInterval(timer));
      return { most, summary: { ...summary, parseMs: 0, analyzeMs: 0 } };
    };
    let path;
    (async () => {
      path = (await heapscope.snapshot({ dir: ${JSON.stringify(dir)} })).path;
      const one = await run({ threads: 1 });
      const two = await run({ threads: 2 });
      let rejected = null;
      await heapscope.analyze(path, { threads: 0 }).catch((e) => (rejected = e.code));
      console.log(JSON.stringify({ one, two, rejected }));
    })();
  `, { timeout: 120_000 });
  assert.equal(value.one.most, 1, 'one analysis thread at a time');
  assert.ok(value.two.most >= 2, `two threads at once with threads: 2 (saw ${value.two.most})`);
  assert.deepEqual(value.one.summary, value.two.summary);
  assert.equal(value.rejected, 'ERR_INVALID_ARG_TYPE');
});
