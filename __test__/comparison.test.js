'use strict';
// The README's comparison table, where it speaks of Node's own writers,
// checked on the running Node rather than taken on trust.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
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

/**
 * Starts a Node that spins for 3 s (then prints 'free' and idles), sends it
 * SIGUSR2 while it spins, and returns it 1.5 s later.
 */
async function signalWhileSpinning(t, args, preamble, cwd) {
  const code = `${preamble} console.log('spinning'); const end = Date.now() + 3000; while (Date.now() < end) {} console.log('free'); setTimeout(() => {}, 20000);`;
  const child = spawn(process.execPath, [...args, '-e', code], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  child.out = '';
  child.stdout.on('data', (d) => (child.out += d));
  while (!child.out.includes('spinning')) await sleep(20);
  process.kill(child.pid, 'SIGUSR2');
  await sleep(1500);
  return child;
}

test('node --heapsnapshot-signal: nothing during a busy loop; once the loop is free, a 0600 file', async (t) => {
  const dir = scratch(t);
  const child = await signalWhileSpinning(t, ['--heapsnapshot-signal=SIGUSR2'], '', dir);
  assert.ok(!child.out.includes('free'), 'still spinning');
  assert.deepEqual(listDir(dir).filter((f) => f.endsWith('.heapsnapshot')), [], 'nothing written during the busy loop');
  let files = [];
  for (let i = 0; i < 300 && files.length === 0; i++) {
    await sleep(100);
    files = listDir(dir).filter((f) => f.endsWith('.heapsnapshot'));
  }
  assert.equal(files.length, 1, 'written once the loop was free');
  assert.equal(fs.statSync(path.join(dir, files[0])).mode & 0o777, 0o600);
});

/** A 256 KiB tmpfs in a scratch directory (root only), or null. */
function tinyVolume(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { encoding: 'utf8' });
  t.after(() => {
    if (r.status === 0) spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return r.status === 0 ? dir : null;
}

test('a full volume: v8.writeHeapSnapshot() throws ENOSPC with the path and leaves a truncated file under the final name', (t) => {
  const dir = tinyVolume(t);
  if (!dir) return t.skip('needs root to mount a small tmpfs');
  const code = `try { require('v8').writeHeapSnapshot(process.argv[1] + '/full.heapsnapshot'); console.log('returned'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, path: e.path })); }`;
  const r = spawnSync(process.execPath, ['-e', code, dir], { encoding: 'utf8', timeout: 60_000 });
  assert.deepEqual(JSON.parse(r.stdout), { code: 'ENOSPC', syscall: 'write', path: `${dir}/full.heapsnapshot` });
  assert.deepEqual(listDir(dir), ['full.heapsnapshot'], 'the truncated file stays under its final name');
  assert.equal(fs.statSync(path.join(dir, 'full.heapsnapshot')).size, 256 * 1024);
});

test('a full volume: node --heapsnapshot-signal dies of the uncaught ENOSPC and leaves a truncated file', async (t) => {
  const dir = tinyVolume(t);
  if (!dir) return t.skip('needs root to mount a small tmpfs');
  const child = spawn(process.execPath, ['--heapsnapshot-signal=SIGUSR2', '-e', `console.log('ready'); setTimeout(() => {}, 20000);`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  while (!out.includes('ready')) await sleep(20);
  process.kill(child.pid, 'SIGUSR2');
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0, 'the process died');
  assert.match(err, /ENOSPC: no space left on device, write/);
  const files = listDir(dir);
  assert.equal(files.length, 1);
  assert.match(files[0], /^Heap\..*\.heapsnapshot$/);
  assert.equal(fs.statSync(path.join(dir, files[0])).size, 256 * 1024, 'truncated, under the final name');
});

test('a full volume: heapscope rejects with ENOSPC, the path and the step, and leaves nothing', async (t) => {
  const dir = tinyVolume(t);
  if (!dir) return t.skip('needs root to mount a small tmpfs');
  const code = `const h = require(${JSON.stringify(path.resolve(__dirname, '..'))});
    h.writeSnapshot(process.argv[1] + '/a.heapsnapshot', (e) => {
      h.snapshot({ dir: process.argv[1] }).catch((s) => console.log(JSON.stringify([e.code, e.message, s.code, s.syscall, s.path])));
    });`;
  const r = spawnSync(process.execPath, ['-e', code, dir], { encoding: 'utf8', timeout: 60_000 });
  const [heapdumpCode, heapdumpMessage, snapshotCode, syscall, where] = JSON.parse(r.stdout);
  assert.equal(heapdumpCode, 'ENOSPC');
  assert.equal(heapdumpMessage, 'heapdump write error ENOSPC');
  assert.deepEqual([snapshotCode, syscall, path.dirname(where)], ['ENOSPC', 'write', dir]);
  assert.deepEqual(listDir(dir), [], 'no file, not even a temporary one');
});

/**
 * node-heapdump as a user gets it: its registry package compiled on install
 * (node-gyp, a C++ compiler) against the running Node's headers (from the
 * registry's node-linux-<arch> package). Null, with why, when it cannot be built here.
 */
function buildHeapdump(t) {
  const { npmPackage } = require('../scripts/fetch');
  const major = process.versions.node.split('.')[0];
  const headers = npmPackage(`node-linux-${process.arch}@${major}`);
  // The node-gyp of the npm on PATH (npm-cli.js lives in <npm>/bin).
  const npm = process.env.PATH.split(path.delimiter)
    .map((d) => path.join(d, 'npm'))
    .find((f) => fs.existsSync(f));
  const gyp = npm && path.join(path.dirname(fs.realpathSync(npm)), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!gyp || !fs.existsSync(gyp)) return { why: `no node-gyp beside npm (${npm})` };
  const dir = path.join(scratch(t), 'heapdump');
  fs.cpSync(npmPackage('heapdump@0.3.15'), dir, { recursive: true });
  const deps = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir, encoding: 'utf8' });
  assert.equal(deps.status, 0, deps.stderr);
  // Under `npm test` the environment carries npm's own nodedir (npm_config_nodedir),
  // which node-gyp prefers to the flag: this Node's headers go in both.
  const env = { ...process.env, npm_config_nodedir: headers };
  const build = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${headers}`], { cwd: dir, encoding: 'utf8', env });
  if (build.status !== 0) return { dir: null, why: build.stderr.slice(-2000) };
  return { dir };
}

test("node-heapdump's column: it builds and runs on this Node; umask modes, no path in errors, success on a full volume, no workers, no signal in a busy loop", async (t) => {
  const { dir, why } = buildHeapdump(t);
  if (dir === undefined) return t.skip(why);
  assert.ok(dir, `node-heapdump 0.3.15 builds on ${process.version}: ${why}`);
  const full = tinyVolume(t);
  const code = `const hd = require(${JSON.stringify(dir)}); const fs = require('fs'); process.umask(0o022);
    const out = {};
    hd.writeSnapshot(process.argv[1] + '/ok.heapsnapshot', (e, f) => { out.mode = (fs.statSync(f).mode & 0o777).toString(8); });
    hd.writeSnapshot('/proc/nope/x.heapsnapshot', (e) => { out.missing = { message: e.message, code: e.code, path: e.path }; });
    if (process.argv[2]) hd.writeSnapshot(process.argv[2] + '/full.heapsnapshot', (e, f) => { out.full = { error: e, size: fs.statSync(f).size }; });
    const { Worker } = require('worker_threads');
    process.on('exit', () => console.log(JSON.stringify(out)));
    new Worker('require(' + JSON.stringify(${JSON.stringify(dir)}) + ')', { eval: true }).on('error', (e) => { out.worker = e.message; });`;
  const scratchDir = scratch(t);
  const r = spawnSync(process.execPath, ['-e', code, scratchDir, full || ''], { encoding: 'utf8', timeout: 60_000 });
  assert.ok(r.stdout.startsWith('{'), `status ${r.status}, signal ${r.signal}, stderr: ${r.stderr}`);
  const out = JSON.parse(r.stdout);
  assert.equal(out.mode, '644', 'follows the umask');
  assert.deepEqual(out.missing, { message: 'heapdump write error ENOENT' }, 'the errno name only: no code, no path');
  assert.match(out.worker, /did not self-register/);
  if (full) assert.deepEqual(out.full, { error: null, size: 256 * 1024 }, 'success reported, a truncated file under the final name');
  // SIGUSR2 while JavaScript spins: nothing.
  const child = await signalWhileSpinning(t, [], `require(${JSON.stringify(dir)});`, scratchDir);
  assert.ok(!child.out.includes('free'), 'still spinning');
  assert.deepEqual(listDir(scratchDir).filter((f) => f.startsWith('heapdump-')), [], 'nothing written during the busy loop');
});
