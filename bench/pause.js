'use strict';
// How V8's snapshot pause splits into building the snapshot graph and
// serializing it to JSON, per Node major. In one fresh process per major, a
// service-shaped heap (bench/service-heap.js) is snapshotted in alternating
// pairs, after one warm-up snapshot that assigns the object ids:
//   build: the `v8.getHeapSnapshot()` call, which takes the snapshot
//          (HeapProfiler::TakeHeapSnapshot) and returns a stream not yet read;
//   serialize: reading that stream to its end, in which Node serializes the
//          whole snapshot at once (HeapSnapshot::Serialize) into memory;
//   write: `v8.writeHeapSnapshot()`, both plus the file: the whole pause.
// Everything here runs on the JS thread: the JS thread is paused throughout.
//
//   node bench/pause.js [--majors 20,22,24,26] [--mb 200] [--pairs 5]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const { median, nodeBinary, machine } = require('./common');

const { values } = parseArgs({
  options: {
    majors: { type: 'string', default: '20,22,24,26' },
    mb: { type: 'string', default: '200' },
    pairs: { type: 'string', default: '5' },
    child: { type: 'boolean' },
  },
});

if (values.child) {
  const v8 = require('node:v8');
  const { newHeap, grow, recordsFor } = require('./service-heap');
  globalThis.service = newHeap();
  grow(globalThis.service, recordsFor(Number(values.mb)));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pause-')), 'heap.heapsnapshot');
  const ms = (since) => Number(process.hrtime.bigint() - since) / 1e6;
  const split = async () => {
    const t0 = process.hrtime.bigint();
    const stream = v8.getHeapSnapshot();
    const build = ms(t0);
    const t1 = process.hrtime.bigint();
    let bytes = 0;
    for await (const chunk of stream) bytes += chunk.length;
    return { build, serialize: ms(t1), bytes };
  };
  const write = () => {
    const t0 = process.hrtime.bigint();
    v8.writeHeapSnapshot(file);
    const total = ms(t0);
    fs.rmSync(file);
    return total;
  };
  (async () => {
    write(); // warm-up: the first snapshot also assigns every object its id
    const runs = [];
    for (let i = 0; i < Number(values.pairs); i++) {
      let whole;
      let parts;
      if (i % 2) {
        whole = write();
        parts = await split();
      } else {
        parts = await split();
        whole = write();
      }
      runs.push({ write: whole, ...parts });
    }
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    process.stdout.write(JSON.stringify({ version: process.version, v8: process.versions.v8, runs }));
  })();
  return;
}

const rows = [];
for (const major of values.majors.split(',')) {
  const node = Number(major) === Number(process.versions.node.split('.')[0]) ? process.execPath : nodeBinary(major);
  const r = spawnSync(node, ['--max-old-space-size=16384', __filename, '--child', '--mb', values.mb, '--pairs', values.pairs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Node ${major}: ${r.stderr}`);
  const { version, v8, runs } = JSON.parse(r.stdout);
  const m = (pick) => median(runs.map(pick));
  const share = m((x) => x.build / (x.build + x.serialize));
  console.error(`Node ${version}: build ${runs.map((x) => x.build.toFixed(0)).join(' ')}; serialize ${runs.map((x) => x.serialize.toFixed(0)).join(' ')}; write ${runs.map((x) => x.write.toFixed(0)).join(' ')} ms`);
  rows.push(
    `| ${version} (V8 ${v8.split('-')[0]}) | ${(m((x) => x.bytes) / 1e6).toFixed(0)} | ${m((x) => x.build).toFixed(0)} | ${m((x) => x.serialize).toFixed(0)} | ` +
      `**${(100 * share).toFixed(0)}% / ${(100 * (1 - share)).toFixed(0)}%** | ${m((x) => x.write).toFixed(0)} |`,
  );
}
console.log(`${machine()}; a ${values.mb} MB service-shaped heap, medians of ${values.pairs} alternating pairs

| Node | snapshot (MB) | build (ms) | serialize (ms) | build / serialize share | \`writeHeapSnapshot\` (ms) |
|---|---|---|---|---|---|
${rows.join('\n')}`);
