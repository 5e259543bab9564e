'use strict';
// Opening a snapshot for exploration, and answering queries on it:
// heapscope's open() against what memlab's MCP server does to load one
// (@memlab/core's parser with its path finder: dominators and retained
// sizes) and heap-snapshot's load (its `summary`, which reads and analyses
// the file), each in a fresh process, the order rotating every round.
// heapscope's side also times node, retainers, path and dominators on the
// 50 largest objects and 50 reached from them by random walks, and on the
// objects one edge from the largest (the objects the most others hold).
//
// usage: node bench/explore.js <file.heapsnapshot> [--rounds 3] [--peer <heap-snapshot binary>] [--tools heapscope,memlab,heap-snapshot]
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { root, median, benchPackage, timed, machine } = require('./common');

const { values: opt, positionals } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    peer: { type: 'string', default: process.env.HEAP_SNAPSHOT_BIN },
    tools: { type: 'string', default: 'heapscope,memlab,heap-snapshot' },
    child: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const [file] = positionals;
if (!file) {
  process.stderr.write('usage: node bench/explore.js <file.heapsnapshot> [--rounds 3] [--peer <heap-snapshot binary>]\n');
  process.exit(2);
}

/** VmRSS or VmHWM of this process, MB. */
function rss(field) {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]) / 1024;
}

async function child() {
  const heapscope = require(root);
  const started = process.hrtime.bigint();
  const heap = await heapscope.open(file, { priority: 'normal' });
  const openMs = Number(process.hrtime.bigint() - started) / 1e6;
  // Ready: from the process' start (Node's own start, the addon's load) to the open heap.
  const readyMs = process.uptime() * 1000;
  const resident = rss('VmRSS');
  const peak = rss('VmHWM');
  const top = (await heap.summary({ topClasses: 0, topObjects: 50 })).objects.map((o) => o.id);
  const ids = new Set(top);
  let x = 20261130;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let walks = 0; ids.size < 100 && walks < 1000; walks++) {
    let id = top[Math.floor(next() * top.length)];
    for (let step = 0; step < 1 + Math.floor(next() * 6); step++) {
      const { items } = (await heap.node(id, { limit: 1000 })).edges;
      if (items.length === 0) break;
      id = items[Math.floor(next() * items.length)].node.id;
    }
    ids.add(id);
  }
  // The objects one edge from the 50 largest: their hidden classes,
  // prototypes and oddballs, the objects the most others hold (the slowest
  // retainers and paths).
  const near = new Set();
  for (const id of top) {
    for (const e of (await heap.node(id, { limit: 1000 })).edges.items) if (!ids.has(e.node.id)) near.add(e.node.id);
  }
  const queries = {
    node: (id) => heap.node(id, { limit: 100 }),
    retainers: (id) => heap.retainers(id, { limit: 100 }),
    path: (id) => heap.path(id),
    dominators: (id) => heap.dominators(id),
  };
  const timeAll = async (set) => {
    const latencies = {};
    for (const [name, ask] of Object.entries(queries)) {
      const ms = [];
      let slowest = null;
      for (const id of set) {
        const t = process.hrtime.bigint();
        await ask(id);
        const took = Number(process.hrtime.bigint() - t) / 1e6;
        if (!slowest || took > slowest.ms) slowest = { id, ms: took };
        ms.push(took);
      }
      ms.sort((a, b) => a - b);
      const { name: what, edges } = await heap.node(slowest.id, { limit: 1 });
      const held = (await heap.retainers(slowest.id, { limit: 1 })).total;
      const slowestIs = `@${slowest.id} ${what.slice(0, 40)} (${edges.total} edges, ${held} retainers)`;
      latencies[name] = { median: median(ms), p95: ms[Math.floor(ms.length * 0.95)], max: ms.at(-1), slowestIs };
    }
    return latencies;
  };
  const latencies = await timeAll(ids);
  const nearLatencies = await timeAll(near);
  heap.close();
  process.stdout.write(JSON.stringify({ openMs, readyMs, resident, peak, latencies, ids: ids.size, nearLatencies, near: near.size }));
}

function main() {
  const mb = fs.statSync(file).size / 2 ** 20;
  const memlab = benchPackage('@memlab/core');
  const tools = {
    heapscope: () => {
      const r = timed(process.execPath, [__filename, file, '--child'], { label: 'heapscope' });
      return { ...r, ...JSON.parse(r.stdout) };
    },
    memlab: () =>
      timed(process.execPath, ['--max-old-space-size=16384', path.join(__dirname, 'analysis', 'memlab-child.js'), file], {
        env: { MEMLAB_CORE: memlab },
        label: 'memlab',
      }),
  };
  if (opt.peer) tools['heap-snapshot'] = () => timed(opt.peer, ['summary', file], { label: 'heap-snapshot' });
  const names = Object.keys(tools).filter((n) => opt.tools.split(',').includes(n));
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < Number(opt.rounds); round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      const r = tools[name]();
      runs[name].push(r);
      process.stderr.write(`${name}: ${(r.wallMs / 1000).toFixed(2)} s, peak ${r.peakRssMb.toFixed(0)} MB\n`);
    }
  }
  const med = (name, f) => median(runs[name].map(f));
  const lines = [
    `Command: \`node bench/explore.js ${path.basename(file)} --rounds ${opt.rounds}${opt.peer ? ' --peer <heap-snapshot>' : ''} --tools ${names.join(',')}\` (${mb.toFixed(0)} MB snapshot; ${process.version}, ${machine()})`,
    '',
    '| tool | load: wall (s), process start to ready | peak RSS (MB) | ÷ file |',
    '|---|---|---|---|',
  ];
  for (const name of names) {
    // heapscope's child goes on to run the queries: its figures are taken when open() resolves.
    const ours = name === 'heapscope';
    const wall = med(name, (r) => (ours ? r.readyMs : r.wallMs)) / 1000;
    const peak = med(name, (r) => (ours ? r.peak : r.peakRssMb));
    const what = ours
      ? `${wall.toFixed(2)} (open() itself ${(med(name, (r) => r.openMs) / 1000).toFixed(2)}; resident once open ${med(name, (r) => r.resident).toFixed(0)} MB = ${(med(name, (r) => r.resident) / mb).toFixed(2)}× the file)`
      : wall.toFixed(2);
    lines.push(`| ${name} | ${what} | ${peak.toFixed(0)} | ${(peak / mb).toFixed(2)}× |`);
  }
  if (runs.heapscope?.length) lines.push('', `heapscope's whole run, queries included: peak RSS ${med('heapscope', (r) => r.peakRssMb).toFixed(0)} MB.`);
  const table = (key) => {
    lines.push('| query | median | p95 | max | slowest (last run) |', '|---|---|---|---|---|');
    for (const q of Object.keys(runs.heapscope[0][key])) {
      const s = (k) => med('heapscope', (r) => r[key][q][k]).toFixed(2);
      lines.push(`| ${q} | ${s('median')} | ${s('p95')} | ${s('max')} | ${runs.heapscope.at(-1)[key][q].slowestIs} |`);
    }
  };
  if (runs.heapscope?.length) {
    lines.push('', `heapscope's queries on ${runs.heapscope[0].ids} objects (ms, medians over the rounds of each statistic):`, '');
    table('latencies');
    lines.push('', `And on the ${runs.heapscope[0].near} objects one edge from the 50 largest (their hidden classes, prototypes, oddballs: the objects most held):`, '');
    table('nearLatencies');
  }
  lines.push('', `Per run, to ready (s): ${names.map((n) => `${n} ${runs[n].map((r) => ((n === 'heapscope' ? r.readyMs : r.wallMs) / 1000).toFixed(2)).join(' ')}`).join('; ')}.`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (opt.child) child();
else main();
