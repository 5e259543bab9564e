'use strict';
// The README's first command: the demo service leaks, heapscope dumps it and
// prints the analysis and the leak report that names the holder.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

test('npm run demo: the analysis and the leak report name the emitter whose listeners hold the leak, and the report page is written', (t) => {
  const r = spawnSync(process.execPath, [path.join(__dirname, '..', 'examples', 'demo.js')], { encoding: 'utf8', timeout: 300_000 });
  const dir = (r.stdout.match(/Snapshots are in (\S+)\./) || [])[1];
  t.after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));
  assert.equal(r.status, 0, r.stderr);
  // The analysis of the last round names the listener array that holds the leak.
  // Among the three largest (a V8 holder of the emitter can tie with it and come first).
  assert.match(r.stdout, /largest objects, with the path that keeps them alive:\n(.*\n){0,2}.*EventEmitter @\d+: .*(global|\(Stack roots\)|\(Handle scope\)|\(Global handles\)) → /);
  assert.doesNotMatch(r.stdout, /\(\(synthetic\)\)/);
  assert.match(r.stdout, /\(EventEmitter\) → _events \(Object\) → message \(Array\)/);
  // The session's leak report names the emitter's listeners, on every Node:
  // also when V8 reaches the emitter from its stack roots in one snapshot
  // and from a context in another (followed by id, not only by path).
  assert.match(r.stdout, /session\.leaks\(\) — baseline, target, now:\nLeak suspects, most leaked first \(new objects already there at the target\):\n\n1\. .*\(EventEmitter\) → _events \(Object\) → message \(Array\)/);
  const page = (r.stdout.match(/The report as a page: (\S+)/) || [])[1];
  assert.ok(page && fs.statSync(page).size > 10_000, 'the report page');
  const snapshots = fs.readdirSync(dir).filter((f) => /\.heapsnapshot(\.gz)?$/.test(f));
  assert.ok(snapshots.length >= 4, `snapshots: ${snapshots}`);
  for (const f of snapshots) assert.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
});
