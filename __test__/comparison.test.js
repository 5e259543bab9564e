'use strict';
// The README's comparison table, where it speaks of Node's own writers,
// checked on the running Node rather than taken on trust.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { scratch, listDir, sleep } = require('./helpers');

test('v8.writeHeapSnapshot(): file mode 0600, and it writes from a worker thread', (t) => {
  const dir = scratch(t);
  const code = `const v8 = require('v8'); const { Worker } = require('worker_threads');
    v8.writeHeapSnapshot(process.argv[1] + '/main.heapsnapshot');
    new Worker("require('v8').writeHeapSnapshot(require('worker_threads').workerData)", { eval: true, workerData: process.argv[1] + '/worker.heapsnapshot' });`;
  const r = spawnSync(process.execPath, ['-e', code, dir], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(listDir(dir), ['main.heapsnapshot', 'worker.heapsnapshot']);
  for (const f of listDir(dir)) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
});

test('node --heapsnapshot-signal: nothing during a busy loop; once the loop is free, a 0600 file', async (t) => {
  const dir = scratch(t);
  const child = spawn(
    process.execPath,
    ['--heapsnapshot-signal=SIGUSR2', '-e', `console.log('spinning'); const end = Date.now() + 3000; while (Date.now() < end) {} console.log('free'); setTimeout(() => {}, 20000);`],
    { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!out.includes('spinning')) await sleep(20);
  process.kill(child.pid, 'SIGUSR2');
  await sleep(1500);
  assert.ok(!out.includes('free'), 'still spinning');
  assert.deepEqual(listDir(dir).filter((f) => f.endsWith('.heapsnapshot')), [], 'nothing written during the busy loop');
  let files = [];
  for (let i = 0; i < 300 && files.length === 0; i++) {
    await sleep(100);
    files = listDir(dir).filter((f) => f.endsWith('.heapsnapshot'));
  }
  assert.equal(files.length, 1, 'written once the loop was free');
  assert.equal(fs.statSync(path.join(dir, files[0])).mode & 0o777, 0o600);
});
