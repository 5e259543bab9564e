'use strict';
// Leak reports side by side with memlab. Each program of
// __test__/leak-programs.js, and a service heap of about 150 MB a snapshot
// with a small leak in it, writes its snapshots once (bench/out/leaks/);
// then heapscope's `leaks` and memlab's `find-leaks --trace-all-objects`
// read the same files, each in a fresh process, the order alternating: did
// each name the program's holder first (a control: report nothing), wall
// time, peak RSS. Prints a Markdown section for bench/RESULTS.md.
//
//   node bench/leaks.js [--rounds 3] [--only name,…] [--big-mb 150]
//                       [--memlab-timeout 600] [--skip-memlab]
//
// memlab reads three snapshots (baseline, target, final): a program with
// more marks gives it its first, next-to-last and last; heapscope reads
// them all. "Named first", for heapscope: the first suspect's path ends at
// the holder. For memlab (whose traces run from a root to one leaked
// object): the first cluster's trace passes through an edge of that name.
// --trace-all-objects is memlab's mode for Node heaps: without it, it
// reports only detached DOM elements and unmounted React fibers.
// --rounds applies to the large heap; the small programs run once each.
// memlab is installed into .cache/bench on first use.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { spawnSync } = require('node:child_process');
const { root, median, benchPackage, timed, machine } = require('./common');
const programs = require('../__test__/leak-programs');

const { values: opt } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'big-mb': { type: 'string', default: '150' },
    'memlab-timeout': { type: 'string', default: '600' },
    'skip-memlab': { type: 'boolean', default: false },
  },
});
const rounds = Number(opt.rounds);
const memlabTimeoutMs = Number(opt['memlab-timeout']) * 1000;
const out = path.join(root, 'bench', 'out', 'leaks');

/** A stable service heap of about `mb` MB a snapshot, and a small steady leak: an audit trail nobody trims. */
function largeService(mb) {
  return {
    about: `a service heap of about ${mb} MB that does not grow, and an audit trail of 20 records a step`,
    holder: 'auditTrail',
    runs: [5, 100, 100],
    setup: `
    class Session {
      constructor(i) {
        this.id = 's-' + i.toString(16);
        this.user = { id: i, email: 'user' + i + '@example.com', roles: i % 5 ? ['reader'] : ['reader', 'admin'] };
        this.headers = { 'user-agent': 'client/' + (i % 97), 'x-request-id': 'r' + i };
        this.events = [{ at: 0, kind: 'read' }, { at: 1, kind: 'write' }];
        this.state = new Map([['step', i % 3], ['path', '/api/v1/items/' + (i % 1000)]]);
      }
    }
    globalThis.sessions = new Map();
    for (let i = 0; i < ${Math.round((mb * 1e6) / 1275)}; i++) { const s = new Session(i); sessions.set(s.id, s); }
    globalThis.auditTrail = [];
    let n = 0;
    async function step() {
      for (let k = 0; k < 20; k++, n++) auditTrail.push({ at: n, session: 's-' + (n % 1000).toString(16), action: 'read' });
    }
  `,
  };
}

const all = { ...programs, largeService: largeService(Number(opt['big-mb'])) };
const names = opt.only ? opt.only.split(',') : Object.keys(all);
for (const name of names) if (!all[name]) throw new Error(`no program ${name}: ${Object.keys(all).join(', ')}`);

/** The program's snapshots, oldest first: made once, under a temporary directory renamed when whole. */
function snapshots(name) {
  const dir = path.join(out, name);
  const program = all[name];
  const count = program.runs.length;
  const files = Array.from({ length: count }, (_, k) => path.join(dir, `${k}.heapsnapshot`));
  if (files.every((f) => fs.existsSync(f))) return files;
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  console.error(`making ${name}'s ${count} snapshots …`);
  const script = `
    const heapscope = require(${JSON.stringify(root)});
    const fs = require('node:fs');
    ${program.setup}
    (async () => {
      const run = async (n) => { for (let i = 0; i < n; i++) await step(i); };
      const runs = ${JSON.stringify(program.runs)};
      for (const [k, n] of runs.entries()) {
        await run(n);
        const { path: file } = await heapscope.snapshot({ dir: ${JSON.stringify(partial)} });
        fs.renameSync(file, ${JSON.stringify(partial)} + '/' + k + '.heapsnapshot');
      }
      process.exit(0);
    })();`;
  const r = spawnSync(process.execPath, ['--max-old-space-size=16384', '-e', script], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${name}: the program failed (${r.status} ${r.signal})`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  return files;
}

/** memlab's command line (the `memlab` package brings @memlab/cli). */
const memlabBin = () => path.join(benchPackage('memlab'), '..', '@memlab', 'cli', 'bin', 'memlab.js');

const memlabVersion = () => JSON.parse(fs.readFileSync(path.join(benchPackage('memlab'), 'package.json'), 'utf8')).version;

/** heapscope's first suspect: its path's last edge, or null for no suspect. */
function heapscopeRun(files) {
  const r = timed(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'leaks', ...files, '--json'], { label: 'heapscope leaks' });
  const report = JSON.parse(r.stdout);
  const first = report.suspects[0];
  return { ...r, first: first ? first.path.at(-1).edge : null, firstText: first ? first.pathText : '(no suspect)' };
}

/** memlab's first cluster: the named edges of its trace (root first), or null for no cluster. */
function memlabRun(bin, files) {
  const [baseline, target, last] = [files[0], files.at(-2), files.at(-1)];
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'memlab-work-'));
  try {
    const r = timed(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=16384', bin, 'find-leaks', '--baseline', baseline, '--target', target, '--final', last, '--trace-all-objects', '--work-dir', work],
      { label: 'memlab find-leaks', timeoutMs: memlabTimeoutMs },
    );
    // eslint-disable-next-line no-control-regex
    const text = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    const at = text.indexOf('--Similar leaks in this run');
    if (at < 0) return { ...r, edges: null };
    const cluster = text.slice(at).split(/\n\s*\n|\n(?=--Similar leaks)/)[0];
    const edges = [...cluster.matchAll(/--(.+?) \((\w+)\)--->/g)].map((m) => m[1]);
    return { ...r, edges };
  } catch (e) {
    // A timeout kills GNU time, not memlab under it: stop what still reads this run's files.
    spawnSync('pkill', ['-f', work]);
    return { failed: /ETIMEDOUT|null SIGTERM/.test(e.message) ? `no answer in ${opt['memlab-timeout']} s` : e.message.split('\n')[0] };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const judgeHeapscope = (program, r) => (program.holder ? r.first === program.holder : r.first === null);
const judgeMemlab = (program, r) => !r.failed && (program.holder ? !!r.edges && r.edges.includes(program.holder) : r.edges === null);

const bin = opt['skip-memlab'] ? null : memlabBin();
const rows = [];
for (const name of names) {
  const program = all[name];
  const files = snapshots(name);
  const mb = files.reduce((sum, f) => sum + fs.statSync(f).size, 0) / files.length / 1e6;
  const times = name === 'largeService' ? rounds : 1;
  const runs = { heapscope: [], memlab: [] };
  for (let round = 0; round < times; round++) {
    const order = round % 2 ? ['memlab', 'heapscope'] : ['heapscope', 'memlab'];
    for (const tool of order) {
      if (tool === 'memlab' && !bin) continue;
      if (tool === 'memlab' && runs.memlab.some((r) => r.failed)) continue; // a timeout once is enough
      runs[tool].push(tool === 'heapscope' ? heapscopeRun(files) : memlabRun(bin, files));
    }
  }
  const [h, m] = [runs.heapscope[0], runs.memlab[0]];
  const row = {
    name,
    about: program.about,
    holder: program.holder,
    mb,
    snapshots: files.length,
    heapscope: { named: judgeHeapscope(program, h), first: h.firstText, wallS: median(runs.heapscope.map((r) => r.wallMs)) / 1000, rssMb: median(runs.heapscope.map((r) => r.peakRssMb)) },
    memlab: m && {
      named: judgeMemlab(program, m),
      first: m.failed || (m.edges ? m.edges.join(' → ') : '(no leak)'),
      wallS: m.failed ? null : median(runs.memlab.filter((r) => !r.failed).map((r) => r.wallMs)) / 1000,
      rssMb: m.failed ? null : median(runs.memlab.filter((r) => !r.failed).map((r) => r.peakRssMb)),
    },
    rounds: runs.heapscope.length,
  };
  rows.push(row);
  console.error(JSON.stringify(row));
}

const yes = (b) => (b ? 'yes' : '**no**');
const secs = (s) => (s === null || s === undefined ? '—' : `${s.toFixed(2)} s`);
const mbs = (x) => (x === null || x === undefined ? '—' : `${Math.round(x)} MB`);
const lines = [
  `### Leak reports: heapscope \`leaks\` vs memlab ${bin ? memlabVersion() : ''} \`find-leaks --trace-all-objects\` (${new Date().toISOString().slice(0, 10)})`,
  '',
  `Command: \`node bench/leaks.js --rounds ${rounds}${opt.only ? ` --only ${opt.only}` : ''} --big-mb ${opt['big-mb']} --memlab-timeout ${opt['memlab-timeout']}\`. Machine: ${machine()}, Node ${process.version}.`,
  '',
  '| program | holder | snapshots (MB each) | heapscope named it first | memlab named it first | heapscope | memlab |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.name}: ${r.about} | ${r.holder ?? '(control: nothing)'} | ${r.snapshots} × ${r.mb.toFixed(1)} | ${yes(r.heapscope.named)} | ${r.memlab ? yes(r.memlab.named) : '—'} | ${secs(r.heapscope.wallS)}, ${mbs(r.heapscope.rssMb)} | ${r.memlab ? `${secs(r.memlab.wallS)}, ${mbs(r.memlab.rssMb)}` : '—'} |`),
  '',
  `Named first: heapscope ${rows.filter((r) => r.heapscope.named).length} of ${rows.length}, memlab ${rows.filter((r) => r.memlab && r.memlab.named).length} of ${rows.length}.`,
  '',
  'What each put first, where it missed:',
  '',
  ...rows
    .filter((r) => !r.heapscope.named || (r.memlab && !r.memlab.named))
    .map((r) => `- ${r.name}: heapscope \`${r.heapscope.first}\`${r.memlab ? `; memlab \`${r.memlab.first}\`` : ''}`),
];
const big = rows.find((r) => r.name === 'largeService');
if (big && big.memlab && big.memlab.wallS) {
  lines.push('', `On the ${big.mb.toFixed(0)} MB triple (median of ${big.rounds}): heapscope ${(big.memlab.wallS / big.heapscope.wallS).toFixed(1)}× faster, at ${(big.heapscope.rssMb / big.memlab.rssMb).toFixed(2)}× memlab's peak RSS.`);
}
console.log(lines.join('\n'));
