// Smoke test of an installed heapscope, run from an application's directory
// (scripts/install-test.js copies it there): ESM and CommonJS entries, a
// snapshot, its analysis, a watcher. Prints one JSON line.
import assert from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import heapscope, { snapshot, analyze, watch, writeSnapshot, versions } from 'heapscope';

const required = createRequire(import.meta.url)('heapscope');
assert.equal(heapscope, required, 'import and require give the same API');
assert.equal(typeof writeSnapshot, 'function');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-smoke-'));
try {
  globalThis.smokeMarker = Array.from({ length: 1000 }, (_, i) => ({ SmokeMarker: i }));
  const info = await snapshot({ dir });
  assert.equal(fs.statSync(info.path).mode & 0o777, 0o600);
  const summary = await analyze(info.path, { topClasses: 200 });
  assert.ok(summary.classes.some((c) => c.name === 'Object' && c.count >= 1000), 'the marker objects are counted');
  const watcher = watch({ heapUsed: '64GB' });
  const thresholds = watcher.thresholds.length;
  watcher.stop();
  const addon = process.report.getReport().sharedObjects.find((f) => /heapscope\.[^/]+\.node$/.test(f));
  console.log(
    JSON.stringify({
      node: process.version,
      addon,
      shim: versions.shim,
      bytes: info.bytes,
      classes: summary.classes.length,
      thresholds,
    }),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
