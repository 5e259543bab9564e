'use strict';
// watch(): thresholds that write snapshots by themselves, in real children —
// heap used after full GCs, RSS by the poller thread, the container's limit
// in a real cgroup, the preflight, near-OOM dumps, retention and workers.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { scratch, makeCgroup, spawnNode, runNode, runNodeJson, readSnapshot, listDir, sleep, waitForOutput, waitForSnapshots } = require('./helpers');

// Child-side helpers, prepended to each child's source.
const CHILD = `
const v8 = require('node:v8');
const used = () => v8.getHeapStatistics().used_heap_size;
let keep = [];
/** Grows the heap until V8 reports at least mb MiB used. */
function grow(mb) {
  while (used() < mb * 2 ** 20) for (let i = 0; i < 10000; i++) keep.push({ i, a: [i, i + 1, i + 2, i + 3] });
}
const log = (kind, value) => console.log(JSON.stringify({ kind, ...value }));
const next = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve));
`;

const snapshots = (dir) => listDir(dir).filter((f) => f.endsWith('.heapsnapshot'));
const events = (stdout) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

test('a heapUsed threshold fires while JavaScript spins in an allocating busy loop', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(
    t,
    `${CHILD}
    heapscope.watch({ heapUsed: '24MB', dir: ${JSON.stringify(dir)}, cooldownMs: 0 });
    console.log('spinning');
    for (;;) {
      keep.push({ s: 'x'.repeat(40) + keep.length });
      if (keep.length > 400000) keep = [];
    }`,
  );
  await waitForOutput(child, 'spinning');
  const [file] = await waitForSnapshots(dir, 1, 30_000);
  const json = readSnapshot(path.join(dir, file));
  assert.ok(json.snapshot.node_count > 100_000, 'the leaked objects are in it');
  assert.equal(child.exitCode, null, 'still spinning');
  // The line follows the rename; wait for all of it.
  for (let i = 0; i < 100 && !/written to [^\n]*\n/.test(child.stderrText); i++) await sleep(50);
  assert.match(child.stderrText, /heap snapshot written to .* on threshold heapUsed \d+\.\d MB ≥ 24\.0 MB/);
});

test('events, hysteresis below the lower mark, maxSnapshots, and the module-level event', (t) => {
  const dir = scratch(t);
  const { value, stdout } = runNodeJson(
    `${CHILD}
    const w = heapscope.watch({ heapUsed: '30MB', rearmRatio: 0.5, cooldownMs: 0, maxSnapshots: 2, dir: ${JSON.stringify(dir)}, quiet: true });
    w.on('snapshot', (i) => log('snapshot', { path: i.path, trigger: i.trigger, threshold: i.threshold, heapUsed: i.heapUsed, bytes: i.bytes, pauseMs: i.pauseMs }));
    w.on('skipped', (i) => log('skipped', i));
    heapscope.events.on('snapshot', (i) => log('module', { trigger: i.trigger }));
    (async () => {
      grow(36); global.gc();
      await next(w, 'snapshot');
      // Still above the lower mark (15 MB): more full GCs write nothing.
      global.gc(); global.gc(); await sleep(300); global.gc(); await sleep(300);
      keep = []; global.gc();                 // below 15 MB: re-armed
      grow(36); global.gc();
      await next(w, 'snapshot');
      keep = []; global.gc(); grow(36); global.gc();
      await next(w, 'skipped');
      await sleep(300);
      console.log(JSON.stringify({ snapshots: w.snapshots }));
      w.stop();
      clearInterval(alive);
    })();
    // A watcher never keeps the process alive by itself (like an unref'd timer).
    const alive = setInterval(() => {}, 1000);
    function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }`,
    { args: ['--expose-gc'] },
  );
  const log = events(stdout);
  const snaps = log.filter((e) => e.kind === 'snapshot');
  assert.equal(snaps.length, 2, stdout);
  for (const s of snaps) {
    assert.equal(s.trigger, 'threshold');
    assert.equal(s.threshold.metric, 'heapUsed');
    assert.equal(s.threshold.limit, 30 * 2 ** 20);
    assert.ok(s.threshold.value >= s.threshold.limit);
    assert.ok(s.bytes > 0 && s.pauseMs > 0 && s.heapUsed > 0);
    assert.ok(fs.existsSync(s.path));
  }
  assert.equal(log.filter((e) => e.kind === 'module').length, 2, 'module-level events too');
  const skipped = log.find((e) => e.kind === 'skipped');
  assert.equal(skipped.reason, 'max-snapshots');
  assert.match(skipped.message, /maximum of 2 snapshots/);
  assert.equal(value.snapshots, 2);
  assert.equal(snapshots(dir).length, 2);
});

test('an RSS threshold is checked by the poller thread (memory outside the JS heap)', (t) => {
  const dir = scratch(t);
  const { stdout } = runNodeJson(
    `${CHILD}
    const limit = process.memoryUsage().rss + 200 * 2 ** 20;
    const w = heapscope.watch({ rss: limit, intervalMs: 50, cooldownMs: 0, dir: ${JSON.stringify(dir)} });
    const big = Buffer.alloc(300 * 2 ** 20, 1);   // RSS, not heap
    const timer = setTimeout(() => console.log(JSON.stringify({ timeout: big.length })), 20000);
    w.on('snapshot', (i) => { log('snapshot', { trigger: i.trigger, threshold: i.threshold }); w.stop(); clearTimeout(timer); console.log('{}'); });`,
  );
  const [snap] = events(stdout).filter((e) => e.kind === 'snapshot');
  assert.equal(snap.threshold.metric, 'rss');
  assert.ok(snap.threshold.value >= snap.threshold.limit);
  assert.equal(snapshots(dir).length, 1);
});

test("a snapshot's own RSS spike does not fire an RSS threshold", (t) => {
  const dir = scratch(t);
  const { stdout, stderr } = runNodeJson(
    `${CHILD}
    const fs = require('node:fs');
    const peak = () => Number(fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\\s+(\\d+)/)[1]) * 1024;
    grow(40); global.gc();
    // Snapshotting a 40 MB heap takes ~400 MB more RSS for a while: far above this limit.
    const rssLimit = process.memoryUsage().rss + 120 * 2 ** 20;
    const w = heapscope.watch({ rss: rssLimit, intervalMs: 10, cooldownMs: 0, maxSnapshots: 5, dir: ${JSON.stringify(dir)} });
    w.on('snapshot', (i) => log('snapshot', { threshold: i.threshold }));
    heapscope.snapshot({ dir: ${JSON.stringify(dir)} }).then((info) => {
      log('api', { peak: peak(), rssLimit, rssAfter: process.memoryUsage().rss });
      setTimeout(() => { w.stop(); console.log('{}'); }, 3000);
    });`,
    { args: ['--expose-gc'] },
  );
  const log = events(stdout);
  const api = log.find((e) => e.kind === 'api');
  assert.ok(api.peak > api.rssLimit, `the spike did cross the RSS limit: ${JSON.stringify(api)}`);
  assert.deepEqual(log.filter((e) => e.kind === 'snapshot'), [], `${stdout}\n${stderr}`);
  assert.equal(snapshots(dir).length, 1, 'only the API snapshot');
});

test('preflight: when the estimate exceeds free memory, "skipped" names both and nothing is written', (t) => {
  const dir = scratch(t);
  const { value, stderr } = runNodeJson(
    `${CHILD}
    const w = heapscope.watch({ heapUsed: '8MB', memoryFactor: 1e6, dir: ${JSON.stringify(dir)} });
    const alive = setInterval(() => {}, 1000);
    w.on('skipped', (s) => { console.log(JSON.stringify(s)); w.stop(); clearInterval(alive); });
    grow(12); global.gc();`,
    { args: ['--expose-gc'] },
  );
  assert.equal(value.reason, 'memory');
  assert.ok(value.needed > value.available, JSON.stringify(value));
  assert.equal(value.threshold.metric, 'heapUsed');
  assert.match(value.message, /needs about .* available/);
  assert.match(stderr, /snapshot skipped/);
  assert.deepEqual(listDir(dir), []);
});

test('failures become error events; without listeners nothing throws into the app', (t) => {
  const dir = scratch(t);
  const missing = path.join(dir, 'no', 'such', 'dir');
  const { value, status } = runNodeJson(
    `${CHILD}
    const w = heapscope.watch({ heapUsed: '8MB', cooldownMs: 0, dir: ${JSON.stringify(missing)}, quiet: true });
    const quiet = heapscope.watch({ heapUsed: '8MB', cooldownMs: 0, dir: ${JSON.stringify(missing)}, quiet: true });
    w.on('error', (e) => {
      grow(1); global.gc();
      setTimeout(() => { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, trigger: e.trigger, path: e.path })); w.stop(); quiet.stop(); clearInterval(alive); }, 300);
    });
    const alive = setInterval(() => {}, 1000);
    grow(12); global.gc();`,
    { args: ['--expose-gc'] },
  );
  assert.equal(status, 0);
  assert.equal(value.code, 'ENOENT');
  assert.equal(value.syscall, 'open');
  assert.equal(value.trigger, 'threshold');
  assert.ok(value.path.startsWith(missing));
});

test('options: sizes in units, ratios, clear errors, inactive container threshold says why', () => {
  const { value } = runNodeJson(`
    const errors = {};
    for (const [name, options] of Object.entries({
      empty: {},
      badSize: { heapUsed: 'lots' },
      badRatio: { heapLimitRatio: 1.5 },
      badMax: { heapUsed: 1e6, maxSnapshots: 0.5 },
    })) {
      try { heapscope.watch(options); } catch (e) { errors[name] = { code: e.code, message: e.message }; }
    }
    const w = heapscope.watch({ heapUsed: '1.5GB', rss: '512Mi', heapLimitRatio: 0.5, containerLimitRatio: 0.9 });
    w.stop();
    console.log(JSON.stringify({ errors, thresholds: w.thresholds, heapLimit: w.heapLimit }));
  `);
  assert.equal(value.errors.empty.code, 'ERR_MISSING_OPTION');
  assert.equal(value.errors.badSize.code, 'ERR_INVALID_ARG_TYPE');
  assert.match(value.errors.badSize.message, /"heapUsed".*"512MB".*lots/);
  assert.match(value.errors.badRatio.message, /"heapLimitRatio" option must be a number in \(0, 1\]/);
  assert.match(value.errors.badMax.message, /"maxSnapshots"/);
  const [heapUsed, heapLimit, rss, container] = value.thresholds;
  assert.equal(heapUsed.limit, 1.5 * 2 ** 30);
  assert.equal(rss.limit, 512 * 2 ** 20);
  assert.equal(heapLimit.limit, Math.floor(value.heapLimit * 0.5));
  assert.equal(container.metric, 'containerLimit');
  if (!container.active) assert.match(container.note, /^inactive: (no memory cgroup found|the cgroup sets no memory limit)$/);
});

test('containerLimitRatio reads the real cgroup limit and fires on the working set', (t) => {
  const cgroup = makeCgroup(t, 1024 * 2 ** 20);
  if (!cgroup) return t.skip('this machine lets no process create a memory cgroup');
  const dir = scratch(t);
  // The child joins the cgroup before Node starts, as in a container.
  const r = runNode(
    `${CHILD}
    const w = heapscope.watch({ containerLimitRatio: 0.35, intervalMs: 50, cooldownMs: 0, dir: ${JSON.stringify(dir)} });
    log('watch', { threshold: w.thresholds[0], containerLimit: w.containerLimit });
    const big = Buffer.alloc(400 * 2 ** 20, 1);
    const timer = setTimeout(() => { log('timeout', { bytes: big.length }); process.exit(1); }, 20000);
    w.on('snapshot', (i) => { log('snapshot', { threshold: i.threshold }); w.stop(); clearTimeout(timer); });`,
    { wrap: ['sh', '-c', `echo $$ > ${cgroup.dir}/cgroup.procs && exec "$@"`, 'sh'] },
  );
  const log = events(r.stdout);
  const watch = log.find((e) => e.kind === 'watch');
  assert.ok(watch, r.stderr);
  assert.equal(watch.containerLimit, 1024 * 2 ** 20);
  assert.equal(watch.threshold.active, true);
  assert.equal(watch.threshold.limit, Math.floor(1024 * 2 ** 20 * 0.35));
  assert.match(watch.threshold.note, new RegExp(`cgroup ${cgroup.version} memory limit 1\\.0 GB at ${cgroup.dir}`));
  const snap = log.find((e) => e.kind === 'snapshot');
  assert.ok(snap, `no snapshot: ${r.stderr}`);
  assert.equal(snap.threshold.metric, 'containerLimit');
  assert.ok(snap.threshold.value >= snap.threshold.limit);
  assert.equal(snapshots(dir).length, 1);
});

test('near the heap limit: a child with --max-old-space-size=64 leaks until it dies and leaves a complete snapshot', (t) => {
  const dir = scratch(t);
  const r = runNode(
    `${CHILD}
    heapscope.watch({ nearHeapLimit: true, dir: ${JSON.stringify(dir)} });
    for (;;) keep.push({ s: 'x'.repeat(30) + keep.length, n: [keep.length] });`,
    { args: ['--max-old-space-size=64'], timeout: 120_000 },
  );
  assert.notEqual(r.status, 0, 'the child died of OOM');
  assert.match(r.stderr, /heap out of memory|Allocation failed/i);
  assert.match(r.stderr, /heap snapshot written to .* on near-limit/);
  const files = snapshots(dir);
  assert.equal(files.length, 1, `files: ${listDir(dir)}`);
  const json = readSnapshot(path.join(dir, files[0]));
  assert.ok(json.snapshot.node_count > 500_000, 'the leak is in it');
  assert.deepEqual(listDir(dir), files, 'no temporary file left behind');
});

test('near the heap limit while sampling: the allocation profile lands beside the snapshot, once the snapshot is whole', (t) => {
  const dir = scratch(t);
  const r = runNode(
    `${CHILD}
    heapscope.watch({ nearHeapLimit: true, dir: ${JSON.stringify(dir)} });
    function hoard() { for (;;) keep.push({ s: 'x'.repeat(30) + keep.length, n: [keep.length] }); }
    hoard();`,
    { args: ['--max-old-space-size=64'], env: { HEAPSCOPE_SAMPLING: '64KB' }, timeout: 120_000 },
  );
  assert.notEqual(r.status, 0, 'the child died of OOM');
  assert.match(r.stderr, /heap snapshot written to .* on near-limit [^;]*; allocation profile .*\.heapprofile\)/);
  const [file] = snapshots(dir);
  readSnapshot(path.join(dir, file));
  const profile = file.replace(/\.heapsnapshot$/, '.heapprofile');
  assert.deepEqual(listDir(dir).sort(), [file, profile].sort(), 'the snapshot, its profile, nothing temporary');
  assert.equal(fs.statSync(path.join(dir, profile)).mode & 0o777, 0o600);
  const { readProfileSites } = require('../lib/sampling');
  const sites = readProfileSites(fs.readFileSync(path.join(dir, profile)), profile);
  // The program's site, first among those with a script: V8's own builtins
  // ('x'.repeat here) are sites too, and as large as hoard's on some runs.
  assert.equal(sites.find((s) => s.url)?.functionName, 'hoard', JSON.stringify(sites.slice(0, 3)));
  assert.ok(sites.indexOf(sites.find((s) => s.url)) <= 1, JSON.stringify(sites.slice(0, 3)));
});

// Realistic limits: the snapshot's own GCs run at the edge of the heap, and
// the snapshot is twice the heap on disk and ten times it in memory while V8
// builds it (about 5 GB of RSS at 512 MB, 11 GB at 1 GB).
for (const limit of [512, 1024]) {
  test(`near the heap limit at --max-old-space-size=${limit}: a complete snapshot of the whole heap before the process dies`, async (t) => {
    // The watcher's own preflight gives up (rightly) below 12 × the heap.
    const available = Number(fs.readFileSync('/proc/meminfo', 'utf8').match(/MemAvailable:\s+(\d+) kB/)[1]) * 1024;
    const needed = 13 * limit * 2 ** 20;
    const gb = (bytes) => (bytes / 2 ** 30).toFixed(1);
    if (available < needed) return t.skip(`needs ${gb(needed)} GB of available memory, the machine has ${gb(available)} GB`);
    const heapscope = require('..');
    const dir = scratch(t);
    const r = runNode(
      `${CHILD}
      heapscope.watch({ nearHeapLimit: true, dir: ${JSON.stringify(dir)} });
      for (;;) keep.push({ s: 'x'.repeat(30) + keep.length, n: [keep.length] });`,
      { args: [`--max-old-space-size=${limit}`], timeout: 900_000 },
    );
    assert.notEqual(r.status, 0, 'the child died of OOM');
    assert.match(r.stderr, /heap snapshot written to .* on near-limit/, r.stderr.slice(0, 2000));
    const files = snapshots(dir);
    assert.equal(files.length, 1, `files: ${listDir(dir)}`);
    assert.deepEqual(listDir(dir), files, 'no temporary file left behind');
    const summary = await heapscope.analyze(path.join(dir, files[0]), { topClasses: 5, topObjects: 0 });
    assert.ok(summary.totalSize > limit * 2 ** 20 * 0.8, `the leak fills the snapshot: ${summary.totalSize} bytes`);
  });
}

test('a heap already past its limit (large objects are admitted whatever the limit) still gets its near-limit snapshot', async (t) => {
  // V8 asks once when a full GC leaves the old generation over the limit,
  // and aborts if the answer does not cover it: the raise must start from
  // the heap as it is, not from the old limit.
  const available = Number(fs.readFileSync('/proc/meminfo', 'utf8').match(/MemAvailable:\s+(\d+) kB/)[1]) * 1024;
  if (available < 5 * 2 ** 30) return t.skip('needs 5 GB of available memory');
  const heapscope = require('..');
  const dir = scratch(t);
  const r = runNode(
    `${CHILD}
    heapscope.watch({ nearHeapLimit: true, dir: ${JSON.stringify(dir)} });
    grow(200);
    for (let k = 0; k < 20; k++) keep.push(new Array(8e6).fill(k));`,
    { args: ['--max-old-space-size=256'], timeout: 300_000 },
  );
  assert.notEqual(r.status, 0, 'the child died of OOM');
  assert.match(r.stderr, /heap snapshot written to .* on near-limit/, r.stderr.slice(0, 1500));
  const files = snapshots(dir);
  assert.equal(files.length, 1, `files: ${listDir(dir)}`);
  const summary = await heapscope.analyze(path.join(dir, files[0]), { topClasses: 3, topObjects: 0 });
  assert.ok(summary.totalSize > 256 * 2 ** 20, `the whole heap: ${summary.totalSize} bytes`);
});

test('any number of near-limit watchers, created and stopped in any order, share one V8 callback; the last one left writes', (t) => {
  const dir = scratch(t);
  const r = runNode(
    `${CHILD}
    const near = () => heapscope.watch({ nearHeapLimit: true, dir: ${JSON.stringify(dir)} });
    const [a, b, c] = [near(), near(), near()];
    b.stop(); a.stop(); a.stop();
    const d = near();
    c.stop();
    console.log('armed', d.nearHeapLimit);
    for (;;) keep.push({ s: 'x'.repeat(30) + keep.length, n: [keep.length] });`,
    { args: ['--max-old-space-size=64'], timeout: 120_000 },
  );
  assert.match(r.stdout, /armed 1/);
  assert.notEqual(r.signal, 'SIGTRAP', 'no V8 CHECK failure');
  assert.doesNotMatch(r.stderr, /Check failed/);
  assert.match(r.stderr, /heap snapshot written to .* on near-limit/);
  const files = snapshots(dir);
  assert.equal(files.length, 1, `files: ${listDir(dir)}`);
  readSnapshot(path.join(dir, files[0]));
});

test('retention: at most N of its own snapshots per directory, oldest removed first, foreign files untouched', async (t) => {
  const dir = scratch(t);
  fs.writeFileSync(path.join(dir, 'heapdump-1.1.heapsnapshot'), 'not ours');
  const child = spawnNode(
    t,
    `heapscope.events.on('snapshot', (i) => console.log('SNAP ' + JSON.stringify({ path: i.path, removed: i.removed })));
    console.log('ready'); setInterval(() => {}, 1000);`,
    { cwd: dir, env: { HEAPSCOPE_RETAIN_FILES: '2', HEAPSCOPE_DIR: dir } },
  );
  await waitForOutput(child, 'ready');
  const written = [];
  for (let i = 1; i <= 4; i++) {
    process.kill(child.pid, 'SIGUSR2');
    const deadline = Date.now() + 20_000;
    while ((child.stdoutText.match(/SNAP /g) || []).length < i) {
      if (Date.now() > deadline) throw new Error(`snapshot ${i} never came: ${child.stderrText}`);
      await sleep(50);
    }
    written.push(JSON.parse(child.stdoutText.trim().split('\n').at(-1).slice(5)));
    await sleep(1100); // node-heapdump names have one-second resolution
  }
  const names = written.map((w) => path.basename(w.path));
  assert.deepEqual(written[2].removed, [written[0].path]);
  assert.deepEqual(written[3].removed, [written[1].path]);
  assert.deepEqual(snapshots(dir).sort(), ['heapdump-1.1.heapsnapshot', names[2], names[3]].sort());
  assert.equal(fs.readFileSync(path.join(dir, 'heapdump-1.1.heapsnapshot'), 'utf8'), 'not ours');
  assert.match(child.stderrText, /removed 1 older/);
});

test("a worker's watcher dumps the worker's heap; its exit stops the watcher's thread", (t) => {
  const dir = scratch(t);
  const { value } = runNodeJson(
    `
    const { Worker } = require('node:worker_threads');
    const threads = () => Number(require('node:fs').readFileSync('/proc/self/status', 'utf8').match(/Threads:\\s+(\\d+)/)[1]);
    const src = \`
      const heapscope = require(${JSON.stringify(path.resolve(__dirname, '..'))});
      const { parentPort, workerData } = require('node:worker_threads');
      class WorkerOnlyLeak { constructor(i) { this.i = i; this.pad = [i, i, i]; } }
      const w = heapscope.watch({ heapUsed: '12MB', rss: '64GB', intervalMs: 20, cooldownMs: 0, dir: workerData.dir, quiet: true });
      const keep = [];
      if (workerData.leak) {
        const alive = setInterval(() => {}, 1000);
        w.on('snapshot', (i) => { parentPort.postMessage({ path: i.path, trigger: i.trigger }); clearInterval(alive); });
        while (require("node:v8").getHeapStatistics().used_heap_size < 24 * 2 ** 20) keep.push(new WorkerOnlyLeak(keep.length));
        global.gc();
      } else {
        parentPort.postMessage({ armed: true });
      }
    \`;
    class MainThreadOnly {}
    globalThis.marker = new MainThreadOnly();
    const run = (leak) => new Promise((resolve, reject) => {
      const worker = new Worker(src, { eval: true, workerData: { dir: ${JSON.stringify(dir)}, leak } });
      let message;
      worker.on('message', (m) => { message = m; worker.terminate(); });
      worker.on('error', reject);
      worker.on('exit', () => resolve(message));
    });
    (async () => {
      const first = await run(true);
      const before = threads();
      for (let i = 0; i < 10; i++) await run(false);
      await new Promise((r) => setTimeout(r, 300));
      console.log(JSON.stringify({ first, before, after: threads() }));
    })();`,
    { args: ['--expose-gc'] },
  );
  assert.equal(value.first.trigger, 'threshold');
  const text = fs.readFileSync(value.first.path, 'utf8');
  assert.ok(text.includes('"WorkerOnlyLeak"'), "the worker's class");
  assert.ok(!text.includes('"MainThreadOnly"'), "not the main thread's");
  assert.ok(value.after <= value.before, `threads before ${value.before}, after 10 workers with pollers ${value.after}`);
});

test('watch({ everyMs }): timed snapshots keep coming while JavaScript is stuck in a busy loop, up to maxSnapshots', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(
    t,
    `${CHILD}
    heapscope.watch({ everyMs: 300, intervalMs: 50, maxSnapshots: 3, dir: ${JSON.stringify(dir)}, filename: '{trigger}-{seq}.heapsnapshot' });
    console.log('spinning');
    const end = Date.now() + 60_000;
    while (Date.now() < end) {}`,
  );
  await waitForOutput(child, 'spinning');
  const files = await waitForSnapshots(dir, 3, 30_000);
  assert.deepEqual(files, ['timer-1.heapsnapshot', 'timer-2.heapsnapshot', 'timer-3.heapsnapshot']);
  await sleep(1500);
  assert.deepEqual(snapshots(dir), files, 'no more than maxSnapshots');
  assert.equal(child.exitCode, null, 'the loop never yielded, and the process lives');
  for (const f of files) readSnapshot(path.join(dir, f));
});

test('HEAPSCOPE_INTERVAL=300ms: a timer from the environment keeps the 5 newest files; a period without a unit is a warning', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(t, `console.log('spinning'); const end = Date.now() + 60_000; while (Date.now() < end) {}`, {
    env: { HEAPSCOPE_INTERVAL: '300ms', HEAPSCOPE_DIR: dir, HEAPSCOPE_QUIET: '1' },
  });
  await waitForOutput(child, 'spinning');
  await waitForSnapshots(dir, 5, 30_000);
  await sleep(2000);
  const files = snapshots(dir);
  // The timer goes on writing: stop it before the directory is removed, or
  // a file made meanwhile fails the removal (seen once in CI: ENOTEMPTY).
  child.kill('SIGKILL');
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
  assert.equal(files.length, 5, `retention keeps 5: ${files}`);
  const seqs = files.map((f) => Number(/-(\d+)\.heapsnapshot$/.exec(f)[1])).sort((a, b) => a - b);
  assert.ok(seqs[0] > 1, `older files were removed: ${seqs}`);

  const bad = runNode('console.log(JSON.stringify({ ok: true }))', { env: { HEAPSCOPE_INTERVAL: '30' } });
  assert.equal(bad.status, 0);
  assert.match(bad.stderr, /HEAPSCOPE_INTERVAL.*a period with a unit such as "30m"/);
});
