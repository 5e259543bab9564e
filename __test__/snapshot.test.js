'use strict';
// snapshot(options): templates, gzip, DevTools-compatible output and failures
// that leave nothing behind.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const zlib = require('node:zlib');
const { scratch, runNode, runNodeJson, readSnapshot, listDir } = require('./helpers');

test('resolves with path, sizes and pause; expands {pid} {tid} {seq} {date}', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'app-{pid}-{tid}-{seq}-{date}.heapsnapshot' })
      .then((info) => console.log(JSON.stringify({ info, pid: process.pid })));
  `);
  const { info, pid } = value;
  assert.match(path.basename(info.path), new RegExp(`^app-${pid}-0-1-\\d{8}T\\d{6}Z\\.heapsnapshot$`));
  assert.equal(path.dirname(info.path), dir);
  assert.equal(info.trigger, 'api');
  assert.equal(info.bytes, fs.statSync(info.path).size);
  assert.equal(info.rawBytes, info.bytes);
  assert.ok(info.pauseMs > 0 && info.pauseMs <= info.durationMs, JSON.stringify(info));
  assert.ok(info.heapUsed > 1e6);
  assert.equal(fs.statSync(info.path).mode & 0o777, 0o600);
  readSnapshot(info.path);
  assert.deepEqual(listDir(dir), [path.basename(info.path)]);
});

test('{hostname} and {trigger}: names a fleet can sort, from the API and from the signal', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    const template = '{hostname}-{trigger}-{pid}-{seq}.heapsnapshot';
    heapscope.armSignal({ dir: ${JSON.stringify(dir)}, filename: template, quiet: true });
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: template }).then((api) => {
      heapscope.events.once('snapshot', (signal) => {
        console.log(JSON.stringify({ api: api.path, signal: signal.path, pid: process.pid }));
        process.exit(0);
      });
      process.kill(process.pid, 'SIGUSR2');
    });
    setTimeout(() => {}, 10_000);
  `);
  const host = os.hostname();
  assert.match(host, /^[A-Za-z0-9._-]+$/, 'this machine\'s name is file-safe, so it appears as is');
  assert.equal(path.basename(value.api), `${host}-api-${value.pid}-1.heapsnapshot`);
  assert.equal(path.basename(value.signal), `${host}-signal-${value.pid}-2.heapsnapshot`);
});

test('gzip: true streams a .heapsnapshot.gz that decompresses to a valid snapshot', (t) => {
  const dir = scratch(t);
  const { value: info } = runNodeJson(`
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, gzip: true }).then((i) => console.log(JSON.stringify(i)));
  `);
  assert.match(info.path, /\.heapsnapshot\.gz$/);
  assert.equal(info.compressed, true);
  const raw = zlib.gunzipSync(fs.readFileSync(info.path));
  assert.equal(raw.length, info.rawBytes);
  assert.ok(info.bytes < info.rawBytes / 3, `compressed ${info.bytes} of ${info.rawBytes}`);
  const json = JSON.parse(raw);
  assert.equal(json.nodes.length, json.snapshot.node_count * json.snapshot.meta.node_fields.length);
});

test('same snapshot.meta as v8.writeHeapSnapshot, node count within what was allocated in between', (t) => {
  const dir = scratch(t);
  const ours = path.join(dir, 'ours.heapsnapshot');
  const theirs = path.join(dir, 'theirs.heapsnapshot');
  runNodeJson(`
    const keep = Array.from({ length: 20000 }, (_, i) => ({ i, s: 'v' + i }));
    heapscope.writeSnapshot(${JSON.stringify(ours)});
    require('v8').writeHeapSnapshot(${JSON.stringify(theirs)});
    console.log(JSON.stringify(keep.length));
  `);
  const a = readSnapshot(ours);
  const b = readSnapshot(theirs);
  assert.deepEqual(a.snapshot.meta, b.snapshot.meta);
  const drift = Math.abs(a.snapshot.node_count - b.snapshot.node_count) / b.snapshot.node_count;
  assert.ok(drift < 0.02, `node counts ${a.snapshot.node_count} vs ${b.snapshot.node_count}`);
  assert.ok(a.snapshot.node_count > 20000);
});

test('V8 snapshot options reach V8: exposeNumericValues shows heap numbers', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    globalThis.marker = { value: 98765.4321 };
    (async () => {
      const plain = await heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'plain.heapsnapshot' });
      const numbers = await heapscope.snapshot({
        dir: ${JSON.stringify(dir)}, filename: 'numbers.heapsnapshot', exposeNumericValues: true, exposeInternals: true,
      });
      console.log(JSON.stringify([plain.path, numbers.path]));
    })();
  `);
  const [plain, numbers] = value.map(readSnapshot);
  assert.ok(!plain.strings.includes('98765.4321'), 'numbers are hidden by default');
  assert.ok(numbers.strings.includes('98765.4321'), 'numbers are shown when asked');
});

test('ENOSPC on a full filesystem: rejects with the errno, leaves no file at all', (t) => {
  const probe = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']);
  if (probe.status !== 0) {
    t.skip('this machine does not allow mount namespaces (unshare); the /dev/full test covers ENOSPC');
    return;
  }
  const dir = scratch(t);
  // Inside a private mount namespace, a 256 KiB tmpfs over our scratch dir: the
  // snapshot (megabytes) cannot fit. The child reports what the dir holds after.
  const r = runNodeJson(
    `
    const fs = require('fs');
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, filename: 'full.heapsnapshot' }).then(
      (info) => console.log(JSON.stringify({ ok: true, info })),
      (err) => console.log(JSON.stringify({ ok: false, code: err.code, syscall: err.syscall, path: err.path, message: err.message, left: fs.readdirSync(${JSON.stringify(dir)}) })),
    );`,
    { wrap: ['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', `mount -t tmpfs -o size=256k tmpfs ${dir} && exec "$@"`, 'sh'] },
  );
  assert.equal(r.value.ok, false, 'the snapshot cannot fit');
  assert.equal(r.value.code, 'ENOSPC');
  assert.match(r.value.syscall, /^(write|fsync|close)$/);
  assert.equal(r.value.path, path.join(dir, 'full.heapsnapshot'));
  assert.match(r.value.message, /ENOSPC: no space left on device, (write|fsync|close) '/);
  assert.deepEqual(r.value.left, [], 'neither the final nor the temporary file remains');
});

test('ENOSPC when the target is /dev/full: rejects, the process keeps running', (t) => {
  const { value } = runNodeJson(`
    heapscope.snapshot({ dir: '/dev', filename: 'full' }).then(
      () => console.log(JSON.stringify({ ok: true })),
      (err) => console.log(JSON.stringify({ ok: false, code: err.code, errno: err.errno, syscall: err.syscall })),
    );`);
  assert.deepEqual(value, { ok: false, code: 'ENOSPC', errno: -28, syscall: 'write' });
});

test('EACCES on a read-only directory: rejects with the errno, nothing written', (t) => {
  const dir = scratch(t);
  const locked = path.join(dir, 'locked');
  fs.mkdirSync(locked, { mode: 0o555 });
  fs.chmodSync(locked, 0o555);
  // root ignores directory permissions: drop to nobody in the child first.
  const drop = process.getuid() === 0 ? 'process.setgid(65534); process.setuid(65534);' : '';
  fs.chmodSync(dir, 0o755);
  const { value } = runNodeJson(`
    ${drop}
    heapscope.snapshot({ dir: ${JSON.stringify(locked)} }).then(
      () => console.log(JSON.stringify({ ok: true })),
      (err) => console.log(JSON.stringify({ ok: false, code: err.code, syscall: err.syscall })),
    );`);
  assert.deepEqual(value, { ok: false, code: 'EACCES', syscall: 'open' });
  assert.deepEqual(listDir(locked), []);
});

test('invalid options reject with typed errors before any snapshot is taken', async () => {
  const heapscope = require('..');
  await assert.rejects(heapscope.snapshot({ gzip: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE', message: /"gzip" option/ });
  await assert.rejects(heapscope.snapshot({ dir: 42 }), { code: 'ERR_INVALID_ARG_TYPE', message: /"dir" option/ });
  await assert.rejects(heapscope.snapshot('x'), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(heapscope.snapshot({ filename: 'x-{host}.heapsnapshot' }), {
    code: 'ERR_INVALID_ARG_VALUE',
    message: /unknown placeholder \{host\}/,
  });
});

test('inside a worker, the snapshot is of the worker heap', (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(`
    const { Worker } = require('worker_threads');
    class MainThreadOnlyMarker {}
    globalThis.keepMain = Array.from({ length: 50 }, () => new MainThreadOnlyMarker());
    const w = new Worker(\`
      const heapscope = require(\${JSON.stringify(require.resolve(${JSON.stringify(path.resolve(__dirname, '..'))}))});
      const { parentPort, threadId } = require('worker_threads');
      class WorkerOnlyMarker {}
      globalThis.keep = Array.from({ length: 50 }, () => new WorkerOnlyMarker());
      heapscope.snapshot({ dir: \${JSON.stringify(${JSON.stringify(dir)})}, filename: 'w-{tid}.heapsnapshot' })
        .then((info) => parentPort.postMessage({ info, threadId }));
    \`, { eval: true });
    w.on('message', (m) => { console.log(JSON.stringify(m)); w.terminate(); });
  `);
  assert.equal(path.basename(value.info.path), `w-${value.threadId}.heapsnapshot`);
  assert.equal(value.info.threadId, value.threadId);
  const strings = readSnapshot(value.info.path).strings;
  assert.ok(strings.includes('WorkerOnlyMarker'), 'the worker heap is in the snapshot');
  assert.ok(!strings.includes('MainThreadOnlyMarker'), 'the main thread heap is not');
});
