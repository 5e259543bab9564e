'use strict';
// monitor(): heap used after each full GC in real children — 'leak' after N
// consecutive growths with its rate, nothing for a stable heap, the ring
// buffer, and findLeaks' three snapshots taken by the monitor itself.

const test = require('node:test');
const assert = require('node:assert/strict');
const { runNodeJson } = require('./helpers');

// Child side: a leak of `perTick` objects into ChocolateClass.sugar, a full GC each tick.
const CHILD = `
class ChocolateClass { constructor() { this.sugar = []; } }
globalThis.chocolate = new ChocolateClass();
const leak = (n) => { for (let i = 0; i < n; i++) chocolate.sugar.push({ grain: i }); };
const tick = () => new Promise((r) => setTimeout(r, 5));
`;

test("a heap that grows across 5 full GCs emits 'leak' with the growth and its rate; 'stats' after each", () => {
  const { value } = runNodeJson(
    `${CHILD}
    const m = heapscope.monitor({ growths: 5, intervalMs: 0 });
    const stats = []; const leaks = [];
    m.on('stats', (s) => stats.push(s));
    m.on('leak', (l) => leaks.push(l));
    (async () => {
      for (let i = 0; i < 8; i++) { leak(20000); global.gc(); await tick(); }
      m.stop();
      global.gc(); await tick();
      console.log(JSON.stringify({ stats, leaks, samples: m.samples() }));
    })();`,
    { args: ['--expose-gc'] },
  );
  const { stats, leaks, samples } = value;
  assert.equal(stats.length, 8, 'one stats event per full GC, none after stop()');
  assert.equal(samples.length, 8);
  assert.ok(samples.every((s) => s.kind === 'gc' && s.heapUsed > 0 && s.rss > s.heapUsed));
  const s = stats[4];
  for (const key of ['at', 'heapUsed', 'heapTotal', 'heapLimit', 'rss', 'external', 'fullGcs', 'min', 'max', 'consecutiveGrowths']) {
    assert.equal(typeof s[key], 'number', key);
  }
  assert.deepEqual(stats.map((x) => x.consecutiveGrowths).slice(0, 6), [0, 1, 2, 3, 4, 5]);
  assert.equal(leaks.length, 1, 'counting starts again after a leak');
  const [l] = leaks;
  assert.equal(l.fullGcs, 5);
  // 5 × 20,000 objects of at least 16 bytes.
  assert.ok(l.growth > 1.5e6 && l.growth === stats[5].heapUsed - stats[0].heapUsed, JSON.stringify(l));
  assert.ok(l.growthPerMinute > 0);
  assert.match(l.reason, /heap used grew across 5 consecutive full GCs: \+\d+\.\d MB in \d+\.\d s \(\d+\.\d [MG]B a minute\)/);
});

test("a large but stable heap collected over and over never emits 'leak'", () => {
  const { value } = runNodeJson(
    `const stable = Array.from({ length: 200000 }, (_, i) => ({ i }));
    const m = heapscope.monitor({ growths: 3, intervalMs: 0 });
    let leaks = 0, gcs = 0;
    m.on('leak', () => leaks++);
    m.on('stats', () => gcs++);
    (async () => {
      for (let i = 0; i < 30; i++) {
        let garbage = Array.from({ length: 20000 }, (_, j) => ({ j }));
        garbage = null;
        global.gc();
        await new Promise((r) => setTimeout(r, 2));
      }
      m.stop();
      console.log(JSON.stringify({ leaks, gcs, kept: stable.length }));
    })();`,
    { args: ['--expose-gc'] },
  );
  assert.equal(value.gcs, 30);
  assert.equal(value.leaks, 0);
});

test('snapshots: true — the monitor marks a baseline and a target on suspicion, then reports the leak', () => {
  const { value } = runNodeJson(
    `${CHILD}
    const m = heapscope.monitor({ growths: 3, intervalMs: 0, snapshots: true });
    const leaks = [];
    m.on('leak', (l) => leaks.push(l));
    m.on('report', (report) => {
      m.stop();
      clearInterval(timer);
      console.log(JSON.stringify({ leaks: leaks.length, report, markers: m.markers().map((x) => x.name) }));
    });
    m.on('error', (e) => { console.error(e); process.exit(1); });
    const timer = setInterval(() => { leak(5000); global.gc(); }, 10);`,
    { args: ['--expose-gc'], timeout: 120_000 },
  );
  const { report, markers } = value;
  assert.ok(value.leaks >= 3);
  assert.deepEqual(markers, ['baseline', 'target', 'final']);
  assert.match(report.suspects[0].pathText, /chocolate \(ChocolateClass\) → sugar \(Array\)$/, JSON.stringify(report.suspects.map((s) => s.pathText)));
  assert.ok(report.leak.fullGcs >= 3, 'at least the growths asked for (until the growth reaches minGrowth)');
  assert.ok(report.newObjects.length > 0 && report.newObjects[0].pathText.includes('sugar'));
});

test("snapshots with allocationSites: 'tracking': the report names the allocating function; stop() ends the tracking", () => {
  const { value } = runNodeJson(
    `${CHILD}
    const m = heapscope.monitor({ growths: 3, intervalMs: 0, snapshots: true, allocationSites: 'tracking' });
    m.on('report', (report) => {
      m.stop();
      clearInterval(timer);
      const [site] = report.suspects[0].allocationSites;
      // A second monitor, stopped right after its baseline mark (while its step is still running).
      const again = heapscope.monitor({ growths: 3, intervalMs: 0, snapshots: true, allocationSites: 'tracking' });
      again.on('marker', (marker) => {
        if (marker.name !== 'baseline') return;
        again.stop();
        clearInterval(timer2);
        setTimeout(async () => {
          const { path: file } = await heapscope.snapshot({ dir: require('node:os').tmpdir(), filename: 'heapscope-monitor-{pid}.heapsnapshot' });
          const text = require('node:fs').readFileSync(file, 'utf8');
          require('node:fs').rmSync(file);
          const traced = Number(/"trace_function_count":(\\d+)/.exec(text)[1]);
          console.log(JSON.stringify({ site: site && [site.functionName, site.line], traced }));
        }, 100);
      });
      const timer2 = setInterval(() => { leak(5000); global.gc(); }, 10);
    });
    m.on('error', (e) => { console.error(e); process.exit(1); });
    const timer = setInterval(() => { leak(5000); global.gc(); }, 10);`,
    // Without inlining, as allocation tracking should run (README, step 4).
    { args: ['--expose-gc', '--max-inlined-bytecode-size=0'], timeout: 120_000 },
  );
  // 'const leak = (n) => …' is on line 5: runNode's require line, CHILD's empty first line, two more.
  assert.deepEqual(value, { site: ['leak', 5], traced: 0 });
});

test("snapshots with allocationSites: 'sampling': the report names the allocating function; its sampler stops with the report", () => {
  const { value } = runNodeJson(
    `${CHILD}
    const m = heapscope.monitor({ growths: 3, intervalMs: 0, snapshots: { samplingInterval: '4KB' }, allocationSites: 'sampling' });
    m.on('report', (report) => {
      m.stop();
      clearInterval(timer);
      let after = 'sampling';
      try { heapscope.sampleProfile(); } catch (e) { after = e.code; }
      const sites = report.suspects[0].allocationSites.slice(0, 3).map((s) => [s.functionName, s.line, s.sampled]);
      console.log(JSON.stringify({ sites, after }));
    });
    m.on('error', (e) => { console.error(e); process.exit(1); });
    const timer = setInterval(() => { leak(5000); global.gc(); }, 10);`,
    { args: ['--expose-gc', '--max-inlined-bytecode-size=0'], timeout: 120_000 },
  );
  // 'const leak = (n) => …' is on line 5, as above.
  assert.ok(value.sites.some(([name, line, sampled]) => name === 'leak' && line === 5 && sampled), JSON.stringify(value));
  assert.equal(value.after, 'ERR_HEAPSCOPE_NOT_SAMPLING');
});

test('bad options are typed errors; a monitor in a worker goes away with it', () => {
  const { value } = runNodeJson(
    `const errors = [];
    for (const o of [{ growths: 0 }, { samples: 1.5 }, { intervalMs: 3 }, { snapshots: 'yes' }, { minGrowth: 'lots' }]) {
      try { heapscope.monitor(o); errors.push(null); } catch (e) { errors.push(e.code); }
    }
    const { Worker } = require('node:worker_threads');
    const w = new Worker(\`
      const heapscope = require(\${JSON.stringify(require.resolve(${JSON.stringify(require.resolve('..'))}))});
      const m = heapscope.monitor({ intervalMs: 10 });
      const keep = []; for (let i = 0; i < 5; i++) { keep.push(new Array(1e5).fill(i)); globalThis.gc && gc(); }
      setTimeout(() => process.exit(0), 50);\`, { eval: true });
    w.on('exit', (code) => { global.gc(); global.gc(); console.log(JSON.stringify({ errors, code })); });`,
    { args: ['--expose-gc'] },
  );
  assert.deepEqual(value.errors, Array(5).fill('ERR_INVALID_ARG_TYPE'));
  assert.equal(value.code, 0);
});
