'use strict';
// Files: nothing lost, nothing leaked, nothing blocks — against what another
// user may plant in a shared dump directory, and what a killed writer leaves.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawn } = require('node:child_process');
const { root, scratch, runNodeJson, readSnapshot, listDir, sleep } = require('./helpers');

test('a named FIFO of the caller that nobody reads fails at once with ENXIO instead of blocking the JS thread', (t) => {
  const dir = scratch(t);
  const pipe = path.join(dir, 'pipe');
  execFileSync('mkfifo', [pipe]);
  const { value } = runNodeJson(
    `let error; const ok = heapscope.writeSnapshot(${JSON.stringify(pipe)}, (e) => { error = e && e.code; });
     heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'pipe' }).catch((e) => console.log(JSON.stringify({ ok, error, templated: e.code })));`,
    { timeout: 20_000 },
  );
  assert.deepEqual(value, { ok: false, error: 'ENXIO', templated: 'ENXIO' });
  assert.ok(fs.lstatSync(pipe).isFIFO(), 'the FIFO is left as it was');
});

// Planted by another user: the tests run as root, so the entries are given to nobody.
const other = process.getuid() === 0 ? 65534 : null;

test('a FIFO or symlink another user planted at the name is replaced, and the secret never goes through it', { skip: other === null && 'needs root to plant entries as another user' }, (t) => {
  const dir = scratch(t);
  fs.chmodSync(dir, 0o777);
  const victim = path.join(dir, 'victim.txt');
  fs.writeFileSync(victim, 'untouched');
  const fifo = path.join(dir, 'fifo.heapsnapshot');
  const link = path.join(dir, 'link.heapsnapshot');
  execFileSync('mkfifo', [fifo]);
  fs.symlinkSync(victim, link);
  for (const p of [fifo, link, victim]) fs.lchownSync(p, other, other);
  const { value } = runNodeJson(
    `Promise.all(['fifo', 'link'].map((k) => heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: k + '.heapsnapshot' })))
      .then((infos) => console.log(JSON.stringify(infos.map((i) => i.path))));`,
    { timeout: 60_000 },
  );
  for (const file of value) {
    const stat = fs.lstatSync(file);
    assert.ok(stat.isFile(), `${file} is a regular file now`);
    assert.equal(stat.mode & 0o777, 0o600);
    readSnapshot(file);
  }
  assert.equal(fs.readFileSync(victim, 'utf8'), 'untouched');
});

test('names of 236 to 255 bytes are written (the temporary name is cut to fit)', (t) => {
  const dir = scratch(t);
  const names = [236, 255].map((n) => `${'h'.repeat(n - '.heapsnapshot'.length)}.heapsnapshot`);
  const { value } = runNodeJson(
    `console.log(JSON.stringify(${JSON.stringify(names)}.map((n) => heapscope.writeSnapshot(require('path').join(${JSON.stringify(dir)}, n)))));`,
  );
  assert.deepEqual(value, [true, true]);
  assert.deepEqual(listDir(dir), [...names].sort());
});

/** Starts a writer in `dir`, kills it once its temporary file appears, and returns that file's name. */
async function leavePartial(t, dir) {
  // A heap big enough that the write takes a while.
  const child = spawn(
    process.execPath,
    ['-e', `const h = require(${JSON.stringify(root)}); globalThis.k = Array.from({ length: 400000 }, (_, i) => ({ i, s: 'v' + i })); h.snapshot({ dir: ${JSON.stringify(dir)} });`],
    { stdio: 'ignore' },
  );
  t.after(() => child.kill('SIGKILL'));
  let partial;
  for (let i = 0; i < 600 && !partial; i++) {
    partial = listDir(dir).find((f) => f.endsWith('.partial'));
    if (!partial) await sleep(20);
  }
  assert.ok(partial, 'the writer started');
  assert.match(partial, new RegExp(`^\\.heapscope-.*\\.${child.pid}-[0-9a-f]{16}\\.partial$`), 'unpredictable, names its writer');
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  assert.ok(listDir(dir).includes(partial), 'left behind by the killed writer');
  return partial;
}

test('the temporary file of a writer killed mid-write is removed, and counted, by the next snapshot in that directory', async (t) => {
  const dir = scratch(t);
  const partial = await leavePartial(t, dir);
  const { value } = runNodeJson(`heapscope.snapshot({ dir: ${JSON.stringify(dir)} }).then((i) => console.log(JSON.stringify(i)));`);
  assert.deepEqual(listDir(dir), [path.basename(value.path)]);
  assert.deepEqual(value.reclaimed, [path.join(dir, partial)]);
});

test('arming a watcher or the signal in a directory removes what dead writers left there, and says so', async (t) => {
  const dir = scratch(t);
  let partial = await leavePartial(t, dir);
  const armed = runNodeJson(
    `const w = heapscope.watch({ heapUsed: '64GB', dir: ${JSON.stringify(dir)} });
    console.log(JSON.stringify(w.reclaimed)); w.stop();`,
  );
  assert.deepEqual(armed.value, [path.join(dir, partial)]);
  assert.match(armed.stderr, /removed 1 temporary snapshot file\(s\) of writers that died: .*\.partial/);
  assert.deepEqual(listDir(dir), []);
  // The signal, armed on require, writes to HEAPSCOPE_DIR.
  partial = await leavePartial(t, dir);
  const signal = runNodeJson(`console.log(JSON.stringify(process.listenerCount('SIGUSR2')));`, { env: { HEAPSCOPE_DIR: dir } });
  assert.match(signal.stderr, new RegExp(`removed 1 temporary snapshot file\\(s\\) of writers that died: .*${partial.replace(/\./g, '\\.')}`));
  assert.deepEqual(listDir(dir), []);
});
