'use strict';
// The scale table: heapscope's analysis against heap-snapshot (a Rust port of
// DevTools' analyser) and DevTools' own worker, from 50 MB to several GB, on
// real service-shaped heaps (bench/service-heap.js) and on a real program's
// heap (bench/analysis/make-snapshot.js), each tool in a fresh process, the
// order rotating every round; then diff and leaks on one heap that grew
// through three snapshots. Prints a Markdown section for bench/RESULTS.md.
//
//   node bench/scale.js [--sizes 50,100,400,850,3000,4600] [--rounds 3]
//                       [--big-rounds 1] [--devtools-max 1000] [--real-mb 10]
//                       [--peer <heap-snapshot binary>]
//
// --peer (or HEAP_SNAPSHOT_BIN) is heap-snapshot's binary, at PEER_VERSION;
//   without it its columns are left out. Its npm release (@heap-snapshot/tool)
//   needs glibc 2.39; on older systems it is built from its source.
// --devtools-max  DevTools' worker needs 3.5–4× the file in memory and ~60 s per
//   GB: it runs only on snapshots up to this many MB.
// --big-rounds    rounds for snapshots of 2 GB and more.
// --sizes '' --real-mb 0: only the diff and leaks rows.
// Snapshots are made once into bench/out/ with Node 22 (whose writer is fast).
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { spawnSync } = require('node:child_process');
const reference = require('../__test__/devtools/reference');
const { root, median, nodeBinary, timed, machine } = require('./common');

// The peer's binary prints no version: this is the one the recorded runs used.
const PEER_VERSION = '0.0.10 (commit eeb163c)';

const { values: opt } = parseArgs({
  options: {
    sizes: { type: 'string', default: '50,100,400,850,3000,4600' },
    rounds: { type: 'string', default: '3' },
    'big-rounds': { type: 'string', default: '1' },
    'devtools-max': { type: 'string', default: '1000' },
    'real-mb': { type: 'string', default: '10' },
    'leak-sizes': { type: 'string', default: '100,250,400' },
    peer: { type: 'string', default: process.env.HEAP_SNAPSHOT_BIN },
  },
});
const sizes = opt.sizes.split(',').filter(Boolean).map(Number);
const rounds = Number(opt.rounds);
const bigRounds = Number(opt['big-rounds']);
const devtoolsMax = Number(opt['devtools-max']) * 1e6;
const out = path.join(root, 'bench', 'out');
fs.mkdirSync(out, { recursive: true });

function checkPeer(bin) {
  if (!bin) return null;
  const r = spawnSync(bin, ['--help'], { encoding: 'utf8' });
  if (r.status !== 0 || !/summary/.test(r.stdout)) throw new Error(`--peer ${bin} is not heap-snapshot: ${r.stderr || r.error}`);
  return bin;
}
const peer = checkPeer(opt.peer);

const generator = nodeBinary(22);
/** Runs a generator that writes `files` (under temporary names, renamed once all are whole); `argv(names)` its arguments. */
function make(files, script, argv) {
  if (files.every((f) => fs.existsSync(f))) return;
  console.error(`making ${files.map((f) => path.relative(root, f)).join(', ')} …`);
  const partial = files.map((f) => `${f}.partial`);
  const r = spawnSync(generator, ['--max-old-space-size=20000', script, ...argv(partial)], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`could not make ${files.join(', ')}`);
  partial.forEach((p, at) => fs.renameSync(p, files[at]));
}
const serviceFile = (mb) => path.join(out, `service-${mb}mb.heapsnapshot`);
const serviceSnapshot = (mb) => {
  make([serviceFile(mb)], path.join(__dirname, 'service-heap.js'), (names) => [String(mb), ...names]);
  return serviceFile(mb);
};
const realSnapshot = (mb) => {
  const file = path.join(out, `analysis-${mb}mb.heapsnapshot`);
  make([file], path.join(__dirname, 'analysis', 'make-snapshot.js'), (names) => [...names, String(mb)]);
  return file;
};
const leakSizes = opt['leak-sizes'].split(',').map(Number);
const leakFiles = leakSizes.map((mb) => path.join(out, `grown-${mb}mb.heapsnapshot`));
make(leakFiles, path.join(__dirname, 'service-heap.js'), (names) => [leakSizes.join(','), ...names]);

const devtools = reference.prepare();
if (!devtools) throw new Error('chrome-devtools-frontend and typescript are needed: npm install');
const child = path.join(__dirname, 'analysis', 'heapscope-child.js');
const big = ['--max-old-space-size=30000'];

/** Tools for one snapshot; each returns what `timed` does. */
function analysers(file) {
  const tools = { heapscope: () => timed(process.execPath, [child, file], { label: 'heapscope' }) };
  if (peer) tools['heap-snapshot'] = () => timed(peer, ['summary', file], { label: 'heap-snapshot' });
  if (fs.statSync(file).size <= devtoolsMax) {
    tools.devtools = () => timed(process.execPath, [...big, path.join(devtools, 'summary.mjs'), file], { label: 'devtools' });
  }
  return tools;
}

function compare(label, tools, n) {
  const names = Object.keys(tools);
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < n; round++) {
    for (const name of names.map((_, i) => names[(i + round) % names.length])) {
      const r = tools[name]();
      runs[name].push(r);
      console.error(`${label} round ${round + 1} ${name}: ${(r.wallMs / 1000).toFixed(2)} s, ${r.peakRssMb.toFixed(0)} MB, ${r.cpuS.toFixed(1)} s CPU`);
    }
  }
  return runs;
}

const rows = [];
const seconds = (runs) => median(runs.map((r) => r.wallMs / 1000));
const megabytes = (runs) => median(runs.map((r) => r.peakRssMb));
function record(label, file, runs) {
  const bytes = fs.statSync(file).size;
  const ours = runs.heapscope;
  const cell = (name) => (runs[name] ? `${seconds(runs[name]).toFixed(2)} s, ${megabytes(runs[name]).toFixed(0)} MB` : '—');
  const ratio = (name) => (runs[name] ? `${(seconds(runs[name]) / seconds(ours)).toFixed(2)}×` : '—');
  const first = JSON.parse(ours[0].stdout);
  let equal = '';
  if (runs.devtools) {
    const theirs = JSON.parse(runs.devtools[0].stdout).classes;
    const keys = Object.keys(theirs);
    const same = keys.filter((k) => {
      const a = first.classes[k];
      const b = theirs[k];
      return a && a.count === b.count && a.self === b.self && a.retained === b.retained;
    }).length;
    equal = ` (${same}/${keys.length} rows equal)`;
  }
  rows.push(
    `| ${label}, ${(bytes / 1e6).toFixed(0)} MB, ${(first.nodeCount / 1e6).toFixed(2)} M nodes | ${cell('heapscope')} (${(megabytes(ours) / (bytes / 2 ** 20)).toFixed(2)}× file) ` +
      `| ${cell('heap-snapshot')} | ${cell('devtools')}${equal} | **${ratio('heap-snapshot')}** | **${ratio('devtools')}** | ${ours.length} |`,
  );
  const perRun = Object.entries(runs).map(([name, rs]) => `${name} ${rs.map((r) => (r.wallMs / 1000).toFixed(2)).join(' ')}`);
  rows.perRun = [...(rows.perRun || []), `${label} ${(bytes / 1e6).toFixed(0)} MB: ${perRun.join('; ')}`];
}

const realMb = Number(opt['real-mb']);
const jobs = [...(realMb > 0 ? [['real program (TypeScript AST)', realSnapshot(realMb)]] : []), ...sizes.map((mb) => ['service', serviceSnapshot(mb)])];
for (const [label, file] of jobs) {
  const n = fs.statSync(file).size >= 2e9 ? bigRounds : rounds;
  record(label, file, compare(`${label} ${path.basename(file)}`, analysers(file), n));
}

// diff (before → after) and leaks (baseline, target, final) on one grown heap.
const [a, b, c] = leakFiles;
const api = (call) => `require(${JSON.stringify(root)}).${call}.then(() => {}, (e) => { console.error(e); process.exit(1); })`;
const twoTools = {
  'heapscope diff': () => timed(process.execPath, ['-e', api(`diff(${JSON.stringify(a)}, ${JSON.stringify(b)})`)], { label: 'heapscope diff' }),
  // The same two files as the peer's diff: the same input, a leak report out.
  'heapscope leaks, two': () =>
    timed(process.execPath, ['-e', api(`findLeaks(${JSON.stringify({ baseline: a, final: b })})`)], { label: 'heapscope leaks, two' }),
  'heapscope leaks': () =>
    timed(process.execPath, ['-e', api(`findLeaks(${JSON.stringify({ baseline: a, target: b, final: c })})`)], { label: 'heapscope leaks' }),
};
if (peer) twoTools['heap-snapshot diff'] = () => timed(peer, ['diff', b, a], { label: 'heap-snapshot diff' });
const two = compare('diff/leaks', twoTools, rounds);
const peerDiff = two['heap-snapshot diff'] ? seconds(two['heap-snapshot diff']) : null;
const twoLabels = {
  'heapscope diff': 'heapscope `diff()` of the first two',
  'heapscope leaks, two': 'heapscope `findLeaks()` of the first two (baseline, final)',
  'heapscope leaks': 'heapscope `findLeaks()` of all three (three snapshots against two)',
};
const twoRow = (name) =>
  `| ${twoLabels[name]} | ${seconds(two[name]).toFixed(2)} s, ${megabytes(two[name]).toFixed(0)} MB | ${peerDiff ? `**${(peerDiff / seconds(two[name])).toFixed(2)}×**` : '—'} |`;

const mb = (f) => (fs.statSync(f).size / 1e6).toFixed(0);
console.log(`### ${new Date().toISOString().slice(0, 10)} — Node ${process.version}, ${machine()}

Command: \`node bench/scale.js ${process.argv.slice(2).map((a) => a || "''").join(' ')}\`${peer ? ` (heap-snapshot ${PEER_VERSION})` : ''}

${rows.length ? `| snapshot | heapscope \`analyze()\` | heap-snapshot \`summary\` | DevTools' worker | heap-snapshot ÷ heapscope | DevTools ÷ heapscope | rounds |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Wall time and peak RSS, medians. Per run (s): ${rows.perRun.join('. ')}.

` : ''}One heap grown through ${leakFiles.map(mb).join(', ')} MB snapshots; heap-snapshot's \`diff\` reads the first two:

| | heapscope | heap-snapshot \`diff\` ÷ heapscope |
|---|---|---|
${Object.keys(twoTools).filter((n) => n.startsWith('heapscope')).map(twoRow).join('\n')}${peerDiff ? `\n| heap-snapshot \`diff\` of the first two | ${seconds(two['heap-snapshot diff']).toFixed(2)} s, ${megabytes(two['heap-snapshot diff']).toFixed(0)} MB | |` : ''}
`);
