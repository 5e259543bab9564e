'use strict';
// The snapshot signal: works while JS spins, coalesces storms, keeps the
// user's own listeners, and can be turned off or moved to another signal.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { scratch, spawnNode, runNodeJson, readSnapshot, listDir, sleep, waitForOutput, waitForSnapshots } = require('./helpers');

// Small heaps snapshot in well under a second here; the bound leaves room for slow CI.
const BUSY_LOOP_BOUND_MS = 15_000;

test('kill -USR2 during `while (true) {}` writes a complete snapshot and the process keeps running', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(t, `console.log('spinning'); while (true) {}`, { cwd: dir });
  await waitForOutput(child, 'spinning');
  const sentAt = Date.now();
  process.kill(child.pid, 'SIGUSR2');
  const [file] = await waitForSnapshots(dir, 1, BUSY_LOOP_BOUND_MS);
  const elapsed = Date.now() - sentAt;
  assert.match(file, /^heapdump-\d+\.\d+\.heapsnapshot$/, 'node-heapdump naming in the cwd');
  assert.ok(readSnapshot(path.join(dir, file)).snapshot.node_count > 1000);
  assert.equal(fs.statSync(path.join(dir, file)).mode & 0o777, 0o600);
  await sleep(200);
  assert.equal(child.exitCode, null, 'still running');
  assert.equal(child.signalCode, null);
  assert.match(child.stderrText, new RegExp(`heap snapshot written to ${path.join(dir, file).replace(/[.]/g, '\\.')} .*on signal SIGUSR2`));
  t.diagnostic(`snapshot complete ${elapsed} ms after the signal`);
});

test('a storm of 50 signals in one second: no crash, one snapshot at a time, every file complete', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(
    t,
    `
    heapscope.events.on('snapshot', (i) => console.log('SNAP ' + JSON.stringify({ seq: i.seq, path: i.path, trigger: i.trigger })));
    setInterval(() => {}, 1000);
    console.log('ready');`,
    { cwd: dir, env: { HEAPSCOPE_QUIET: '1' } },
  );
  await waitForOutput(child, 'ready');
  for (let i = 0; i < 50; i++) {
    process.kill(child.pid, 'SIGUSR2');
    await sleep(20);
  }
  await waitForSnapshots(dir, 1, BUSY_LOOP_BOUND_MS);
  // Let whatever was coalesced finish, then look.
  let previous = -1;
  while (previous !== listDir(dir).length) {
    previous = listDir(dir).length;
    await sleep(1500);
  }
  assert.equal(child.exitCode, null, `alive after the storm; stderr: ${child.stderrText}`);
  const files = listDir(dir);
  assert.ok(files.every((f) => /^heapdump-\d+\.\d+\.heapsnapshot$/.test(f)), `no temporary files: ${files}`);
  assert.ok(files.length >= 1 && files.length < 50, `signals are coalesced: ${files.length} snapshots`);
  for (const f of files) readSnapshot(path.join(dir, f));
  const events = child.stdoutText.split('\n').filter((l) => l.startsWith('SNAP ')).map((l) => JSON.parse(l.slice(5)));
  assert.equal(events.length, files.length, 'one snapshot event per file');
  assert.ok(events.every((e) => e.trigger === 'signal'));
  assert.equal(new Set(events.map((e) => e.seq)).size, events.length);
  assert.equal(child.stderrText, '', 'HEAPSCOPE_QUIET=1 silences the stderr line');
  t.diagnostic(`50 signals → ${files.length} snapshot(s)`);
});

for (const when of ['before', 'after']) {
  test(`a user's process.on('SIGUSR2') listener added ${when} heapscope still runs`, async (t) => {
    const dir = scratch(t);
    const listen = `process.on('SIGUSR2', () => console.log('user listener ran'));`;
    // "before": a preloaded module (-r) registers the listener before heapscope loads.
    const preload = path.join(dir, 'listen.js');
    fs.writeFileSync(preload, listen);
    const child = spawnNode(t, `${when === 'after' ? listen : ''}\n setInterval(() => {}, 1000); console.log('ready');`, {
      cwd: dir,
      args: when === 'before' ? ['-r', preload] : [],
    });
    await waitForOutput(child, 'ready');
    process.kill(child.pid, 'SIGUSR2');
    await waitForOutput(child, 'user listener ran');
    const files = await waitForSnapshots(dir, 1, BUSY_LOOP_BOUND_MS);
    assert.ok(files.length >= 1);
    assert.equal(child.exitCode, null);
  });
}

test('removing the last user listener leaves the process alive on SIGUSR2 (no default action)', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(
    t,
    `const f = () => {};
    process.on('SIGUSR2', f);
    process.removeListener('SIGUSR2', f);
    setInterval(() => {}, 1000);
    console.log('ready');`,
    { cwd: dir },
  );
  await waitForOutput(child, 'ready');
  process.kill(child.pid, 'SIGUSR2');
  await waitForSnapshots(dir, 1, BUSY_LOOP_BOUND_MS);
  await sleep(200);
  assert.equal(child.signalCode, null, 'not killed by SIGUSR2');
  assert.equal(child.exitCode, null);
});

test('NODE_HEAPDUMP_OPTIONS=nosignal and HEAPSCOPE_SIGNAL=off leave the signal unarmed', () => {
  for (const env of [{ NODE_HEAPDUMP_OPTIONS: 'nosignal' }, { HEAPSCOPE_SIGNAL: 'off' }]) {
    const { value } = runNodeJson(`console.log(JSON.stringify(heapscope.armedSignal()))`, { env });
    assert.equal(value, null, JSON.stringify(env));
  }
  const { value } = runNodeJson(`console.log(JSON.stringify(heapscope.armedSignal()))`);
  assert.equal(value, 'SIGUSR2', 'armed by default, as node-heapdump was');
});

test('SIGUSR1 is refused with a clear error, in code and from the environment', () => {
  const { value } = runNodeJson(`
    try { heapscope.armSignal({ signal: 'SIGUSR1' }); console.log(JSON.stringify('armed')); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, still: heapscope.armedSignal() })); }`);
  assert.equal(value.code, 'ERR_HEAPSCOPE_SIGNAL');
  assert.match(value.message, /SIGUSR1 belongs to Node's inspector/);
  assert.equal(value.still, 'SIGUSR2', 'the armed signal is unchanged');
  const r = runNodeJson(`console.log(JSON.stringify(heapscope.armedSignal()))`, { env: { HEAPSCOPE_SIGNAL: 'SIGUSR1' } });
  assert.equal(r.value, null);
  assert.match(r.stderr, /HEAPSCOPE_SIGNAL.*SIGUSR1 belongs to Node's inspector|SIGUSR1 belongs to Node's inspector.*HEAPSCOPE_SIGNAL/);
});

test('HEAPSCOPE_SIGNAL=SIGHUP moves the trigger to another signal, with HEAPSCOPE_DIR', async (t) => {
  const dir = scratch(t);
  const child = spawnNode(t, `setInterval(() => {}, 1000); console.log('ready ' + heapscope.armedSignal());`, {
    env: { HEAPSCOPE_SIGNAL: 'SIGHUP', HEAPSCOPE_DIR: dir },
  });
  await waitForOutput(child, 'ready SIGHUP');
  process.kill(child.pid, 'SIGHUP');
  const [file] = await waitForSnapshots(dir, 1, BUSY_LOOP_BOUND_MS);
  readSnapshot(path.join(dir, file));
  assert.equal(child.exitCode, null);
});
