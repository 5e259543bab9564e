'use strict';
// How late a 10 ms timer fires in a process while heapscope analyses a
// snapshot in it (the analysis runs off the JS thread, at the lowest CPU
// priority): each round a fresh process per variant, in alternating order;
// per run the p50, p99 and largest lateness of the timer, and the same timer
// in an idle process for as long, as the floor.
//
//   node bench/lateness.js <file.heapsnapshot> [--rounds 5] [--root dir ...]
//
// Each --root is a heapscope checkout (built) to compare; default: this one.

const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '5' }, root: { type: 'string', multiple: true }, threads: { type: 'string' } },
});
const [file] = positionals;
if (!file) {
  console.error('usage: node bench/lateness.js <file.heapsnapshot> [--rounds 5] [--root dir ...] [--threads N]');
  process.exit(2);
}
const roots = (values.root || [path.resolve(__dirname, '..')]).map((r) => path.resolve(r));

// The child: a 10 ms interval records how late each tick is, while the work runs.
const CHILD = `
  const [root, file, mode, threads] = process.argv.slice(1);
  // Loaded before the timer starts: loading is not what is measured.
  const heapscope = require(root);
  const late = [];
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    late.push(now - expected);
    expected = now + 10;
  }, 10);
  const done = (ms) => {
    clearInterval(timer);
    late.sort((a, b) => a - b);
    const at = (q) => late[Math.min(late.length - 1, Math.floor(q * late.length))];
    console.log(JSON.stringify({ ms, ticks: late.length, p50: at(0.5), p99: at(0.99), max: late[late.length - 1] }));
  };
  const started = performance.now();
  if (mode === 'idle') {
    setTimeout(() => done(performance.now() - started), Number(threads));
  } else {
    const options = { topClasses: 50, topObjects: 20 };
    if (threads) options.threads = Number(threads);
    heapscope.analyze(file, options).then(() => done(performance.now() - started));
  }
`;

function run(root, mode, extra) {
  const r = spawnSync(process.execPath, ['-e', CHILD, root, path.resolve(file), mode, extra ?? ''], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = new Map(roots.map((r) => [r, []]));
const idle = [];
for (let round = 0; round < Number(values.rounds); round++) {
  const order = round % 2 ? [...roots].reverse() : roots;
  for (const root of order) results.get(root).push(run(root, 'analyze', values.threads));
  const ms = median([...results.values()].map((runs) => runs.at(-1).ms));
  idle.push(run(roots[0], 'idle', String(Math.round(ms))));
}
const row = (name, runs) =>
  `| ${name} | ${median(runs.map((r) => r.ms)).toFixed(0)} | ${median(runs.map((r) => r.p50)).toFixed(2)} | ${median(runs.map((r) => r.p99)).toFixed(2)} | ${median(runs.map((r) => r.max)).toFixed(2)} | ${Math.max(...runs.map((r) => r.max)).toFixed(2)} |`;
console.log('| process | analysis (ms) | p50 late (ms) | p99 late (ms) | max late, median (ms) | max late, worst run (ms) |');
console.log('|---|---|---|---|---|---|');
for (const [root, runs] of results) console.log(row(path.basename(root), runs));
console.log(row('idle (same duration, no analysis)', idle));
