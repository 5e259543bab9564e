'use strict';
// The memory check before a snapshot: a snapshot needs about 12 × the used
// heap in extra memory, and one that would not fit invites the OOM killer.
// Signal snapshots are checked by default; snapshot() and writeSnapshot()
// when asked. Run in a real memory cgroup, as in a container.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { scratch, makeCgroup, spawnNode, runNode, sleep } = require('./helpers');

const MB = 2 ** 20;

// About 40 MB of live heap: a snapshot of it needs about 480 MB.
const HEAP = `globalThis.keep = Array.from({ length: 300000 }, (_, i) => ({ i, s: 'x' + i, list: [i] }));`;

/** Starts a node process inside `cgroup`, as a container's main process would be. */
const inCgroup = (cgroup) => ['sh', '-c', `echo $$ > ${cgroup.dir}/cgroup.procs && exec "$@"`, 'sh'];

/** Waits for a line starting with `tag` on the child's stdout; its JSON. */
async function line(child, tag, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = child.stdoutText.split('\n').find((l) => l.startsWith(`${tag} `));
    if (found) return JSON.parse(found.slice(tag.length + 1));
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`child ended (${child.exitCode ?? child.signalCode}) before ${tag}: ${child.stderrText}`);
    }
    if (Date.now() > deadline) throw new Error(`no ${tag} line: ${child.stdoutText} ${child.stderrText}`);
    await sleep(20);
  }
}

const LISTEN = `
  heapscope.events.on('skipped', (s) => console.log('SKIPPED ' + JSON.stringify(s)));
  heapscope.events.on('snapshot', (i) => console.log('SNAPSHOT ' + JSON.stringify({ path: i.path })));
  setInterval(() => {}, 1000);
  console.log('READY {}');`;

test('kill -USR2 in a container too small for the snapshot: refused with one stderr line and a \'skipped\' event; the process lives, nothing is written', async (t) => {
  const cgroup = makeCgroup(t, 320 * MB);
  if (!cgroup) return t.skip('this machine lets no process create a memory cgroup');
  const dir = scratch(t);
  const child = spawnNode(t, `${HEAP}${LISTEN}`, { cwd: dir, wrap: inCgroup(cgroup), env: { HEAPSCOPE_DIR: dir } });
  await line(child, 'READY');
  process.kill(child.pid, 'SIGUSR2');
  const skipped = await line(child, 'SKIPPED');
  assert.equal(skipped.trigger, 'signal');
  assert.equal(skipped.reason, 'memory');
  assert.ok(skipped.needed > skipped.available, JSON.stringify(skipped));
  assert.ok(skipped.available < 320 * MB);
  for (let i = 0; i < 50 && !child.stderrText.includes('skipped'); i++) await sleep(20);
  const lines = child.stderrText.split('\n').filter((l) => l.includes('heap snapshot'));
  assert.equal(lines.length, 1, child.stderrText);
  assert.match(
    lines[0],
    /^heapscope\[\d+\]: heap snapshot skipped on signal SIGUSR2: a snapshot of a [\d.]+ MB heap needs about [\d.]+ MB and the container has [\d.]+ MB available$/,
  );
  await sleep(300);
  assert.equal(child.exitCode, null, 'still running');
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
});

test('kill -USR2 in a container with room for the snapshot: written', async (t) => {
  const cgroup = makeCgroup(t, 4096 * MB);
  if (!cgroup) return t.skip('this machine lets no process create a memory cgroup');
  const dir = scratch(t);
  const child = spawnNode(t, `${HEAP}${LISTEN}`, { cwd: dir, wrap: inCgroup(cgroup), env: { HEAPSCOPE_DIR: dir } });
  await line(child, 'READY');
  process.kill(child.pid, 'SIGUSR2');
  const written = await line(child, 'SNAPSHOT');
  assert.ok(fs.statSync(written.path).size > 10 * MB);
  assert.doesNotMatch(child.stdoutText, /SKIPPED/);
});

test('snapshot({ preflight: true }) and writeSnapshot() with HEAPSCOPE_PREFLIGHT=on refuse with ENOMEM, as node-heapdump would report it', (t) => {
  const cgroup = makeCgroup(t, 320 * MB);
  if (!cgroup) return t.skip('this machine lets no process create a memory cgroup');
  const dir = scratch(t);
  const r = runNode(
    `${HEAP}
    let error;
    const ok = heapscope.writeSnapshot(${JSON.stringify(`${dir}/sync.heapsnapshot`)}, (err) => (error = err));
    console.log('SYNC ' + JSON.stringify({ ok, message: error.message, code: error.code, errno: error.errno, detail: error.detail }));
    heapscope.snapshot({ dir: ${JSON.stringify(dir)}, preflight: true }).then(
      () => console.log('ASYNC {}'),
      (e) => console.log('ASYNC ' + JSON.stringify({ message: e.message, code: e.code, errno: e.errno })),
    );`,
    { wrap: inCgroup(cgroup), env: { HEAPSCOPE_PREFLIGHT: 'on' } },
  );
  const tagged = (tag) => JSON.parse(r.stdout.split('\n').find((l) => l.startsWith(`${tag} `)).slice(tag.length + 1));
  const sync = tagged('SYNC');
  assert.equal(sync.ok, false);
  assert.equal(sync.message, 'heapdump write error ENOMEM');
  assert.equal(sync.code, 'ENOMEM');
  assert.match(sync.detail, /not enough memory for a heap snapshot: a snapshot of a .* heap needs about .* and the container has .* available/);
  const rejected = tagged('ASYNC');
  assert.equal(rejected.code, 'ENOMEM');
  assert.equal(rejected.errno, -12);
  assert.match(rejected.message, /^heapscope: snapshot not written: ENOMEM: not enough memory for a heap snapshot/);
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing written');
});
