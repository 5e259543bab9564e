'use strict';
// node-heapdump's documented behaviour, which heapscope must keep as a drop-in.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { scratch, runNodeJson, readSnapshot, listDir, spawnNode, waitForOutput, waitForSnapshots } = require('./helpers');

test('writeSnapshot(filename, cb): callback first with (null, filename), returns true, file complete', (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'named.heapsnapshot');
  const { value } = runNodeJson(`
    const order = [];
    let args;
    const ret = heapscope.writeSnapshot(${JSON.stringify(file)}, (...a) => { order.push('callback'); args = a; });
    order.push('returned');
    console.log(JSON.stringify({ ret, order, args }));
  `);
  assert.equal(value.ret, true);
  assert.deepEqual(value.order, ['callback', 'returned'], 'the callback runs before writeSnapshot returns');
  assert.deepEqual(value.args, [null, file]);
  const snap = readSnapshot(file);
  assert.ok(snap.snapshot.node_count > 1000);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'snapshots hold secrets: mode 0600');
  assert.deepEqual(listDir(dir), ['named.heapsnapshot'], 'no temporary file left behind');
});

test('writeSnapshot(cb) without a filename: exactly one new file, named as the callback says', (t) => {
  const dir = scratch(t);
  fs.writeFileSync(path.join(dir, 'unrelated.txt'), 'x');
  const { value } = runNodeJson(
    `heapscope.writeSnapshot((err, filename) => console.log(JSON.stringify({ err, filename })));`,
    { cwd: dir },
  );
  assert.equal(value.err, null);
  assert.match(value.filename, /^heapdump-\d+\.\d{1,6}\.heapsnapshot$/);
  assert.deepEqual(listDir(dir), [value.filename, 'unrelated.txt'].sort());
  readSnapshot(path.join(dir, value.filename));
});

test('writeSnapshot() with no arguments writes heapdump-<sec>.<usec>.heapsnapshot in the cwd', (t) => {
  const dir = scratch(t);
  const before = Date.now() / 1000;
  const { value } = runNodeJson(`console.log(JSON.stringify(heapscope.writeSnapshot()));`, { cwd: dir });
  assert.equal(value, true);
  const files = listDir(dir);
  assert.equal(files.length, 1);
  const sec = Number(/^heapdump-(\d+)\.\d+\.heapsnapshot$/.exec(files[0])[1]);
  assert.ok(Math.abs(sec - before) < 60, `the name carries the time: ${files[0]}`);
});

test('a missing directory: callback gets "heapdump write error ENOENT", returns false, nothing written', (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'missing', 'x.heapsnapshot');
  const { value } = runNodeJson(`
    let seen;
    const ret = heapscope.writeSnapshot(${JSON.stringify(file)}, (err, filename) => {
      seen = { isError: err instanceof Error, message: err.message, code: err.code, path: err.path, syscall: err.syscall, filename };
    });
    console.log(JSON.stringify({ ret, seen }));
  `);
  assert.equal(value.ret, false);
  assert.deepEqual(value.seen, {
    isError: true,
    message: 'heapdump write error ENOENT',
    code: 'ENOENT',
    path: file,
    syscall: 'open',
  });
  assert.deepEqual(listDir(dir), []);
});

test('a failed write with no callback does not throw: it returns false', (t) => {
  const dir = scratch(t);
  const { value, status } = runNodeJson(
    `console.log(JSON.stringify(heapscope.writeSnapshot(${JSON.stringify(path.join(dir, 'no', 'x'))})));`,
  );
  assert.equal(status, 0);
  assert.equal(value, false);
});

test('SIGUSR2 writes into the working directory of the moment of the signal, as node-heapdump does', async (t) => {
  const before = scratch(t);
  const after = scratch(t);
  const child = spawnNode(t, `process.chdir(${JSON.stringify(after)}); console.log('moved'); setInterval(() => {}, 1000);`, { cwd: before });
  await waitForOutput(child, 'moved');
  process.kill(child.pid, 'SIGUSR2');
  const [file] = await waitForSnapshots(after, 1, 30_000);
  assert.match(file, /^heapdump-\d+\.\d+\.heapsnapshot$/);
  assert.deepEqual(listDir(before), []);
});

test('NODE_HEAPDUMP_OPTIONS: the last of signal/nosignal wins; an unknown option is named on stderr', () => {
  const run = (options) =>
    runNodeJson(`console.log(JSON.stringify(heapscope.armedSignal()));`, { env: { NODE_HEAPDUMP_OPTIONS: options } });
  assert.equal(run('nosignal,signal').value, 'SIGUSR2');
  assert.equal(run('signal, nosignal').value, null);
  const unknown = run('nosignal,bogus');
  assert.equal(unknown.value, null);
  assert.match(unknown.stderr, /^node-heapdump: unrecognized option: bogus$/m);
});

test('writeSnapshot() with a filename that is not a string uses the default name, as node-heapdump does', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(
    `const names = [123, { a: 1 }, true].map((f) => { let got; heapscope.writeSnapshot(f, (e, n) => { got = e ? e.message : n; }); return got; });
     console.log(JSON.stringify(names));`,
    { cwd: dir },
  );
  for (const name of value) assert.match(path.basename(name), /^heapdump-\d+\.\d+\.heapsnapshot$/);
  assert.equal(listDir(dir).filter((f) => /^(123|\[object Object\]|true)$/.test(f)).length, 0);
});

test('snapshot(null) and snapshot([]) are refused with ERR_INVALID_ARG_TYPE, as Node refuses such options', () => {
  const { value } = runNodeJson(`
    Promise.allSettled([heapscope.snapshot(null), heapscope.snapshot([])]).then((r) => console.log(JSON.stringify(r.map((x) => x.reason && x.reason.code))));
  `);
  assert.deepEqual(value, ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE']);
});

test('HEAPSCOPE_GZIP=1: the signal writes heapdump-….heapsnapshot.gz holding gzip', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(t, `console.log('ready'); setInterval(() => {}, 1000);`, { cwd: dir, env: { HEAPSCOPE_GZIP: '1' } });
  await waitForOutput(child, 'ready');
  process.kill(child.pid, 'SIGUSR2');
  const [file] = await waitForSnapshots(dir, 1, 30_000, '.gz');
  assert.match(file, /^heapdump-\d+\.\d+\.heapsnapshot\.gz$/);
  const bytes = fs.readFileSync(path.join(dir, file));
  assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
});
