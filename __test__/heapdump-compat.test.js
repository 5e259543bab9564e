'use strict';
// node-heapdump's documented behaviour, which heapscope must keep as a drop-in.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { scratch, runNodeJson, readSnapshot, listDir } = require('./helpers');

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
