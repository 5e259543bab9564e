#!/usr/bin/env node
'use strict';
// Measures what a heap snapshot costs in memory, as a multiple of the used
// heap: the default of watch()'s `memoryFactor` preflight comes from here.
//
//   node bench/estimate.js [MB ...]          (default: 25 50 100 200)
//
// Each size runs in a fresh process that builds a service-like heap, resets
// the kernel's peak-RSS counter, takes one snapshot with heapscope, and
// reports (peak RSS during the snapshot − RSS before) / heap used.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

if (process.argv[2] === '--child') {
  const mb = Number(process.argv[3]);
  const dir = process.argv[4];
  const status = () => fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status())[1]) * 1024;
  const records = [];
  // ~440 bytes of heap per record (object, string, array, map entry).
  for (let i = 0; i < mb * 2400; i++) {
    records.push({ id: i, name: `user-${i}-${'x'.repeat(120)}`, tags: ['a', 'b', i % 7], score: i * 0.5 });
  }
  global.gc();
  const heapUsed = process.memoryUsage().heapUsed;
  const rssBefore = kb('VmRSS');
  fs.writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current RSS
  require('..')
    .snapshot({ dir, filename: `estimate-${process.pid}.heapsnapshot` })
    .then((info) => {
      fs.unlinkSync(info.path);
      const peak = kb('VmHWM');
      process.stdout.write(JSON.stringify({ heapUsed, rssBefore, peak, records: records.length }) + '\n');
    });
  return;
}

const sizes = process.argv.slice(2).map(Number);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heapscope-estimate-'));
const rows = [];
for (const mb of sizes.length ? sizes : [25, 50, 100, 200]) {
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--child', String(mb), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout);
  const factor = (m.peak - m.rssBefore) / m.heapUsed;
  rows.push({ heapMB: +(m.heapUsed / 2 ** 20).toFixed(1), extraMB: +((m.peak - m.rssBefore) / 2 ** 20).toFixed(1), factor: +factor.toFixed(2) });
  console.log(JSON.stringify(rows[rows.length - 1]));
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(`node ${process.version}, ${os.cpus().length} CPUs; max factor ${Math.max(...rows.map((r) => r.factor))}`);
