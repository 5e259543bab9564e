'use strict';
// V8's sampling heap profiler through heapscope: the live memory by the
// function and line that allocated it, in a real process, per isolate.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const zlib = require('node:zlib');
const { root, scratch, runNodeJson, spawnNode, sleep, waitForOutput, waitForSnapshots } = require('./helpers');
const devtools = require('./devtools/reference');

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
  pprof: profile.toPprof().toString('base64'),
}));
require('node:fs').writeFileSync(__dirname + '/records.heapprofile', JSON.stringify(profile.toHeapProfile()));
require('node:fs').writeFileSync(__dirname + '/records.pb.gz', profile.toPprof());
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

  // pprof, read back by a decoder: the same total, makeRecords as a leaf.
  const { Profile } = require('pprof-format');
  const pprof = Profile.decode(zlib.gunzipSync(Buffer.from(value.pprof, 'base64')));
  const text = (i) => pprof.stringTable.strings[Number(i)];
  assert.deepEqual(pprof.sampleType.map((t) => `${text(t.type)}/${text(t.unit)}`), ['objects/count', 'space/bytes']);
  assert.equal(text(pprof.periodType.type), 'space');
  assert.equal(Number(pprof.period), 16 * 1024);
  const space = pprof.sample.reduce((sum, s) => sum + Number(s.value[1]), 0);
  assert.equal(space, value.totalSize);
  const functionOf = (locationId) => {
    const location = pprof.location.find((l) => Number(l.id) === Number(locationId));
    return pprof.function.find((f) => Number(f.id) === Number(location.line[0].functionId));
  };
  const leaves = pprof.sample.map((s) => ({ fn: functionOf(s.locationId[0]), bytes: Number(s.value[1]) }));
  const biggest = leaves.sort((a, b) => b.bytes - a.bytes)[0];
  assert.equal(text(biggest.fn.name), 'makeRecords');
  assert.equal(text(biggest.fn.filename), file);
  assert.equal(Number(biggest.fn.startLine), 3);

  // The CLI reads either file and names the site first.
  for (const [name, where] of [['records.heapprofile', `${file}:3:21`], ['records.pb.gz', `${file}:3`]]) {
    const cli = spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'profile', path.join(dir, name), '--top', '2'], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const lines = cli.stdout.split('\n');
    assert.match(lines[0], /^[\d.]+ MB of live memory sampled, by the function that allocated it:$/);
    assert.ok(lines[3].includes(`makeRecords  ${where}`), `${name}: ${cli.stdout}`);
    const json = JSON.parse(spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'profile', path.join(dir, name), '--json'], { encoding: 'utf8' }).stdout);
    assert.equal(json[0].functionName, 'makeRecords');
  }
  const bad = spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'profile', file], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /is not a heap profile: neither JSON nor pprof/);

  // Chrome DevTools' own model of the .heapprofile reads the same tree.
  const reference = devtools.prepare();
  if (!reference) return t.diagnostic('chrome-devtools-frontend is not installed: DevTools\' reading not checked');
  const read = devtools.readHeapProfile(reference, path.join(dir, 'records.heapprofile'));
  assert.equal(read.total, value.totalSize);
  const records = read.nodes.filter((n) => n.functionName === 'makeRecords');
  assert.ok(records.length > 0, JSON.stringify(read.nodes.slice(0, 5)));
  assert.equal(records.reduce((sum, n) => sum + n.self, 0), first.selfSize);
  assert.ok(records.every((n) => n.url === file && n.lineNumber === 2));
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

test('HEAPSCOPE_SAMPLING=64KB samples from load; a bad value is a warning', (t) => {
  const { value } = runNodeJson(`
    function early() { const out = []; for (let i = 0; i < 100000; i++) out.push({ early: i }); return out; }
    globalThis.kept = early();
    const profile = heapscope.sampleProfile();
    console.log(JSON.stringify({ interval: profile.intervalBytes, top: profile.topSites(1)[0].functionName }));
  `, { env: { HEAPSCOPE_SAMPLING: '64KB' } });
  assert.deepEqual(value, { interval: 65536, top: 'early' });
  const bad = runNodeJson('console.log(JSON.stringify({ ok: true }))', { env: { HEAPSCOPE_SAMPLING: 'lots' } });
  assert.equal(bad.status, 0);
  assert.match(bad.stderr, /HEAPSCOPE_SAMPLING.*not sampling/);
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

test('while sampling, a snapshot gets its allocation profile beside it: the signal\'s during a busy loop, and snapshot() unless profile: false', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(
    t,
    `function hold() { const out = []; for (let i = 0; i < 100000; i++) out.push({ held: i }); return out; }
    globalThis.kept = hold();
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'api.heapsnapshot' })
      .then((info) => heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'without.heapsnapshot', profile: false }).then((without) => {
        console.log('API ' + JSON.stringify({ profile: info.profile, without: without.profile ?? null }));
        console.log('spinning');
        while (true) {}
      }));`,
    { cwd: dir, env: { HEAPSCOPE_SAMPLING: '64KB' } },
  );
  await waitForOutput(child, 'spinning');
  const api = JSON.parse(child.stdoutText.split('\n').find((l) => l.startsWith('API ')).slice(4));
  assert.equal(api.profile, path.join(dir, 'api.heapprofile'));
  assert.equal(api.without, null);
  process.kill(child.pid, 'SIGUSR2');
  const [snapshot] = (await waitForSnapshots(dir, 3, 30_000)).filter((f) => f.startsWith('heapdump-'));
  const profile = snapshot.replace(/\.heapsnapshot$/, '.heapprofile');
  for (let i = 0; i < 100 && !fs.existsSync(path.join(dir, profile)); i++) await sleep(50);
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.heapprofile')).sort(), ['api.heapprofile', profile].sort());
  assert.equal(fs.statSync(path.join(dir, profile)).mode & 0o777, 0o600);
  const { readProfileSites } = require('../lib/sampling');
  const sites = readProfileSites(fs.readFileSync(path.join(dir, profile)), profile);
  assert.equal(sites[0].functionName, 'hold', JSON.stringify(sites.slice(0, 3)));
  for (let i = 0; i < 100 && !child.stderrText.includes('allocation profile'); i++) await sleep(50);
  assert.match(child.stderrText, /on signal SIGUSR2; allocation profile .*\.heapprofile\)/);
});
