'use strict';
// Shared by the specs: scratch directories that clean up after themselves and
// child Node processes (same binary as the test runner) that load heapscope.

const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

/** A fresh directory, removed when the test ends. */
function scratch(t, prefix = 'heapscope-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `source` in a new Node process where `heapscope` resolves to this package. */
function runNode(source, { cwd, env, args = [], timeout = 60_000, wrap = [] } = {}) {
  const script = `const heapscope = require(${JSON.stringify(root)});\n${source}`;
  const argv = [...wrap, ...(wrap.length ? [process.execPath] : []), ...args, '-e', script];
  const cmd = wrap.length ? argv.shift() : process.execPath;
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return r;
}

/** Like runNode, but the child prints one JSON line at the end: returns it parsed. */
function runNodeJson(source, options) {
  const r = runNode(source, options);
  const lines = r.stdout.trim().split('\n');
  let value;
  try {
    value = JSON.parse(lines[lines.length - 1]);
  } catch {
    throw new Error(`child printed no JSON (status ${r.status}, signal ${r.signal})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return { ...r, value };
}

/** A long-running child (started through `wrap` when given, as runNode); killed when the test ends. */
function spawnNode(t, source, { cwd, env, args = [], wrap = [] } = {}) {
  const script = `const heapscope = require(${JSON.stringify(root)});\n${source}`;
  const argv = [...wrap, ...(wrap.length ? [process.execPath] : []), ...args, '-e', script];
  const cmd = wrap.length ? argv.shift() : process.execPath;
  const child = spawn(cmd, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdoutText = '';
  child.stderrText = '';
  child.stdout.on('data', (d) => (child.stdoutText += d));
  child.stderr.on('data', (d) => (child.stderrText += d));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Reads a snapshot file (small ones only: tests keep heaps small) and checks its shape. */
function readSnapshot(file) {
  const text = fs.readFileSync(file, 'utf8');
  const json = JSON.parse(text);
  const meta = json.snapshot.meta;
  const nodeFields = meta.node_fields.length;
  const edgeFields = meta.edge_fields.length;
  if (json.nodes.length !== json.snapshot.node_count * nodeFields) throw new Error(`${file}: node array length mismatch`);
  if (json.edges.length !== json.snapshot.edge_count * edgeFields) throw new Error(`${file}: edge array length mismatch`);
  return json;
}

function listDir(dir) {
  return fs.readdirSync(dir).sort();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the child has printed `text` on stdout. */
async function waitForOutput(child, text, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!child.stdoutText.includes(text)) {
    if (Date.now() > deadline) throw new Error(`child never printed ${JSON.stringify(text)}; stderr: ${child.stderrText}`);
    if (child.exitCode !== null) throw new Error(`child exited (${child.exitCode}) before printing ${text}: ${child.stderrText}`);
    await sleep(20);
  }
}

/** Snapshot files (complete names only) in dir, once at least `count` exist. */
async function waitForSnapshots(dir, count, timeoutMs, suffix = '.heapsnapshot') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = listDir(dir).filter((f) => f.endsWith(suffix));
    if (done.length >= count) return done;
    if (Date.now() > deadline) throw new Error(`only ${done.length} snapshot(s) after ${timeoutMs} ms: ${listDir(dir)}`);
    await sleep(50);
  }
}

/** A memory cgroup (v1 or v2) with a limit, for this test only; null when this machine does not allow one. */
function makeCgroup(t, limitBytes) {
  const candidates = [
    { version: 'v2', root: '/sys/fs/cgroup', limit: 'memory.max' },
    { version: 'v2', root: '/sys/fs/cgroup/unified', limit: 'memory.max' },
    { version: 'v1', root: '/sys/fs/cgroup/memory', limit: 'memory.limit_in_bytes' },
  ];
  for (const c of candidates) {
    const dir = path.join(c.root, `heapscope-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      fs.mkdirSync(dir);
    } catch {
      continue;
    }
    // A real cgroup directory comes with its control files; anything else
    // (a tmpfs at /sys/fs/cgroup, v2 without the memory controller) does not.
    const cgroupfs = fs.existsSync(path.join(dir, 'cgroup.procs'));
    try {
      if (!cgroupfs || !fs.existsSync(path.join(dir, c.limit))) throw new Error('not a memory cgroup');
      fs.writeFileSync(path.join(dir, c.limit), String(limitBytes));
    } catch {
      // A cgroup directory is removed with rmdir (its control files cannot be unlinked).
      if (cgroupfs) fs.rmdirSync(dir);
      else fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    t.after(() => {
      for (let i = 0; i < 50; i++) {
        try {
          fs.rmdirSync(dir);
          return;
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        }
      }
    });
    return { ...c, dir };
  }
  return null;
}

module.exports = {
  root,
  makeCgroup,

  scratch,
  runNode,
  runNodeJson,
  spawnNode,
  readSnapshot,
  listDir,
  sleep,
  waitForOutput,
  waitForSnapshots,
};
