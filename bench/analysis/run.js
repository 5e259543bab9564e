'use strict';
// Analysis benchmark: one large snapshot of a real program, analysed side by
// side by heapscope.analyze(), Chrome DevTools' heap snapshot worker (the
// same code as the Memory panel, run in Node) and memlab; each in a fresh
// process, the order rotating every round. Reports wall time (process start
// to exit) and peak RSS (getrusage maxRSS), medians and ratios, checks that
// heapscope's class rows equal DevTools', and measures how late a 10 ms
// timer fires in the process while heapscope analyses.
//
//   node bench/analysis/run.js [--rounds 3] [--mb 10] [--snapshot file]
//
// The snapshot is made once (bench/out/) by make-snapshot.js on Node 22 from
// the npm registry; memlab is installed into .cache/bench on first use.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const reference = require('../../__test__/devtools/reference');
const { median, nodeBinary, benchPackage } = require('../common');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const rounds = Number(option('--rounds', '3'));
const megabytes = option('--mb', '10');

function run(cmd, argv, { env, timeout = 30 * 60_000 } = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 512 << 20, env: { ...process.env, ...env }, timeout });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${path.basename(argv.at(-2) || cmd)} failed (${r.status} ${r.signal}): ${r.stderr.slice(-2000)}`);
  const bench = JSON.parse(r.stderr.match(/BENCH (\{.*\})/)[1]);
  return { wallMs, peakRssMb: bench.peakRssMb, out: JSON.parse(r.stdout) };
}

function snapshotFile() {
  const given = option('--snapshot');
  if (given) return path.resolve(given);
  const file = path.join(root, 'bench', 'out', `analysis-${megabytes}mb.heapsnapshot`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    console.error(`making ${file} (TypeScript parsing ${megabytes} MB of its own source, on Node 22) …`);
    const r = spawnSync(nodeBinary(22), [path.join(__dirname, 'make-snapshot.js'), file, megabytes], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not make the snapshot');
  }
  return file;
}



const file = snapshotFile();
const devtools = reference.prepare();
if (!devtools) throw new Error('chrome-devtools-frontend and typescript are needed: npm install');
const core = benchPackage('@memlab/core');
const peak = ['-r', path.join(__dirname, 'peak.js')];
const big = ['--max-old-space-size=16384'];
let ids = [];
const tools = {
  heapscope: () => run(process.execPath, [...peak, path.join(__dirname, 'heapscope-child.js'), file]),
  devtools: () => run(process.execPath, [...big, ...peak, path.join(devtools, 'summary.mjs'), file, ids.join(',')]),
  memlab: () => run(process.execPath, [...big, ...peak, path.join(__dirname, 'memlab-child.js'), file], { env: { MEMLAB_CORE: core } }),
};
const names = Object.keys(tools);
const results = Object.fromEntries(names.map((n) => [n, []]));
let first = {};
for (let round = 0; round < rounds; round++) {
  // heapscope first in round one: DevTools is asked for the retained sizes of its top objects.
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    const r = tools[name]();
    if (name === 'heapscope' && round === 0) ids = r.out.objects.map(([id]) => id);
    if (!first[name]) first[name] = r.out;
    results[name].push(r);
    console.error(`round ${round + 1} ${name}: ${(r.wallMs / 1000).toFixed(2)} s, ${r.peakRssMb.toFixed(0)} MB`);
  }
}

// Equality with DevTools on this snapshot.
const ours = first.heapscope;
const theirs = first.devtools;
const keys = Object.keys(theirs.classes);
const equalRows = keys.filter((k) => {
  const a = ours.classes[k];
  const b = theirs.classes[k];
  return a && a.count === b.count && a.self === b.self && a.retained === b.retained;
}).length;
const equalObjects = ours.objects.filter(([id, retained]) => theirs.retainedById[id] === retained).length;

// Lateness of a 10 ms timer in the analysing process.
const lateness = [];
for (let i = 0; i < rounds; i++) {
  lateness.push(run(process.execPath, [...peak, path.join(__dirname, 'heapscope-child.js'), file, '--lateness']).out.latenessMs);
}

const size = fs.statSync(file).size;
const row = (label, pick, digits) => {
  const m = names.map((n) => median(results[n].map(pick)));
  const cells = m.map((v) => v.toFixed(digits));
  return `| ${label} | ${cells.join(' | ')} | **${(m[1] / m[0]).toFixed(1)}×** | **${(m[2] / m[0]).toFixed(1)}×** |`;
};
const cpu = os.cpus();
console.log(`### ${new Date().toISOString().slice(0, 10)} — Node ${process.version}, ${cpu.length} × ${cpu[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM

Command: \`node bench/analysis/run.js --rounds ${rounds}${option('--mb') ? ` --mb ${megabytes}` : ''}\`

Snapshot: ${(size / 1e6).toFixed(0)} MB, ${ours.nodeCount.toLocaleString('en')} nodes (TypeScript's AST of ${megabytes} MB of its own source, taken on Node 22).

| median of ${rounds} | heapscope.analyze() | DevTools' worker | memlab | DevTools ÷ heapscope | memlab ÷ heapscope |
|---|---|---|---|---|---|
${row('wall time (s)', (r) => r.wallMs / 1000, 2)}
${row('peak RSS (MB)', (r) => r.peakRssMb, 0)}

Per run (s): ${names.map((n) => `${n} ${results[n].map((r) => (r.wallMs / 1000).toFixed(2)).join(' ')}`).join('; ')}.
Per run (MB): ${names.map((n) => `${n} ${results[n].map((r) => r.peakRssMb.toFixed(0)).join(' ')}`).join('; ')}.

Equal to DevTools on this snapshot: ${equalRows} of ${keys.length} class rows (count, self, retained), ${equalObjects} of ${ours.objects.length} top objects' retained sizes, total ${ours.totalSize === theirs.totalSize ? 'equal' : `${ours.totalSize} vs ${theirs.totalSize}`}.

A 10 ms interval timer in the process while heapscope analyses: at most ${lateness.map((l) => l.toFixed(1)).join(', ')} ms late (one figure per run).`);
