'use strict';
// Without a V8 shim (HEAPSCOPE_SHIM=off, or none built for this Node):
// capture through Node's public APIs into the same sinks, one warning, and a
// clear error for what needs the shim.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { root, scratch, runNode, runNodeJson, spawnNode, readSnapshot, waitForOutput, waitForSnapshots, listDir, sleep } = require('./helpers');

const env = { HEAPSCOPE_SHIM: 'off' };

test('without a shim: writeSnapshot() and snapshot() write complete 0600 files, with one warning', (t) => {
  const dir = scratch(t);
  const { value, stderr } = runNodeJson(
    `
    globalThis.marker = { FallbackMarker: true };
    const ok = heapscope.writeSnapshot(${JSON.stringify(path.join(dir, 'sync.heapsnapshot'))}, (err, f) => { if (err) throw err; });
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'async.heapsnapshot' }).then(async (info) => {
      const gz = await heapscope.snapshot({ dir: ${JSON.stringify(dir)}, gzip: true });
      console.log(JSON.stringify({ ok, info, gz, shim: heapscope.versions.shim }));
    });
  `,
    { env },
  );
  assert.equal(value.ok, true);
  assert.equal(value.shim, null);
  assert.equal(path.basename(value.info.path), 'async.heapsnapshot');
  assert.ok(value.info.pauseMs > 0);
  assert.match(value.gz.path, /\.heapsnapshot\.gz$/);
  for (const f of ['sync.heapsnapshot', 'async.heapsnapshot']) {
    const file = path.join(dir, f);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.ok(readSnapshot(file).strings.includes('FallbackMarker'));
  }
  assert.deepEqual(listDir(dir).filter((f) => f.includes('partial')), []);
  const warnings = stderr.match(/HEAPSCOPE_NO_SHIM/g) || [];
  assert.equal(warnings.length, 1, stderr);
  assert.match(stderr, /no V8 shim for Node .*HEAPSCOPE_SHIM=off/);
});

test('without a shim: snapshot({ analyze: true, write: false }) analyses and leaves no file', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(
    `
    class FallbackLeak { constructor() { this.data = new Array(1000).fill(1); } }
    globalThis.keep = Array.from({ length: 200 }, () => new FallbackLeak());
    heapscope.snapshot({ analyze: true, write: false, topClasses: 50 }).then((info) => {
      console.log(JSON.stringify({ path: info.path, row: info.summary.classes.find((c) => c.name === 'FallbackLeak') }));
    });
  `,
    { env, cwd: dir },
  );
  assert.equal(value.path, null);
  assert.equal(value.row.count, 200);
  assert.deepEqual(listDir(dir), []);
});

// V8 up to 11.x (Node 20) takes an inspector snapshot inside the interrupt
// that dispatches the message; V8 12+ (Node 22+) posts it as a task to the
// event loop, so there the snapshot waits for the busy loop to end.
const inspectorInterrupts = Number(process.versions.node.split('.')[0]) < 22;

test(`without a shim: kill -USR2 during a busy loop writes a complete snapshot through the inspector worker${inspectorInterrupts ? '' : ', once the loop ends'}`, async (t) => {
  const dir = scratch(t);
  const spin = inspectorInterrupts ? 'while (true) {}' : 'const end = Date.now() + 2000; while (Date.now() < end) {} console.log("idle"); setInterval(() => {}, 1000);';
  const child = spawnNode(t, `setTimeout(() => { console.log('spinning'); ${spin} }, 300);`, { cwd: dir, env });
  await waitForOutput(child, 'spinning');
  process.kill(child.pid, 'SIGUSR2');
  const [file] = await waitForSnapshots(dir, 1, 30_000);
  assert.match(file, /^heapdump-\d+\.\d+\.heapsnapshot$/);
  readSnapshot(path.join(dir, file));
  assert.equal(fs.statSync(path.join(dir, file)).mode & 0o777, 0o600);
  assert.equal(child.exitCode, null, 'the process keeps running');
  if (inspectorInterrupts) assert.ok(!child.stdoutText.includes('idle'), 'written during the busy loop');
  // The line follows the rename.
  for (let i = 0; i < 200 && !/heap snapshot written to/.test(child.stderrText); i++) await sleep(50);
  assert.match(child.stderrText, /heap snapshot written to .* on signal SIGUSR2/);
});

test('without a shim: a signal right after require(), before the worker is up, is kept and written, not fatal', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(t, `console.log('ready'); setInterval(() => {}, 1000);`, { cwd: dir, env });
  await waitForOutput(child, 'ready');
  process.kill(child.pid, 'SIGUSR2');
  const [file] = await waitForSnapshots(dir, 1, 30_000);
  readSnapshot(path.join(dir, file));
  assert.equal(child.signalCode, null, 'not killed by SIGUSR2');
});

test('without a shim: what needs V8 callbacks is refused with ERR_HEAPSCOPE_NO_SHIM', () => {
  const { value } = runNodeJson(
    `
    const codes = [];
    try { heapscope.watch({ heapUsed: '1GB' }); } catch (e) { codes.push(e.code); }
    try { heapscope.monitor(); } catch (e) { codes.push(e.code); }
    heapscope.session().mark('a').catch((e) => { codes.push(e.code); console.log(JSON.stringify(codes)); });
  `,
    { env },
  );
  assert.deepEqual(value, ['ERR_HEAPSCOPE_NO_SHIM', 'ERR_HEAPSCOPE_NO_SHIM', 'ERR_HEAPSCOPE_NO_SHIM']);
});

test('without a shim: watch({ nearHeapLimit: true }) leaves Node\'s own near-OOM snapshot of a leaking process', (t) => {
  const dir = scratch(t);
  const r = runNode(
    `heapscope.watch({ nearHeapLimit: true });
     const keep = []; setInterval(() => { for (let i = 0; i < 20000; i++) keep.push({ i, s: 'x' + i }); }, 1);`,
    { cwd: dir, env, args: ['--max-old-space-size=64'], timeout: 120_000 },
  );
  assert.notEqual(r.status, 0, 'the process ran out of memory');
  const files = listDir(dir).filter((f) => f.endsWith('.heapsnapshot'));
  assert.equal(files.length, 1, `${listDir(dir)}\n${r.stderr.slice(-2000)}`);
  readSnapshot(path.join(dir, files[0]));
});

test('without a shim: the CLI reads snapshots, with no warning (reading needs no V8)', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`heapscope.snapshot({ dir: ${JSON.stringify(dir)} }).then((i) => console.log(JSON.stringify(i)));`);
  const cli = spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'summary', value.path, '--top', '3'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /Largest classes by retained size \(3 of \d+\)/);
  assert.doesNotMatch(cli.stderr, /HEAPSCOPE_NO_SHIM/);
});
