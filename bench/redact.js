'use strict';
// What redaction costs a snapshot: `snapshot()` against `snapshot({ redact:
// true })` on a service-shaped heap (bench/service-heap.js). Each round is a
// fresh process that builds the heap, takes one warm-up snapshot (a
// process's first snapshot also assigns every object its id), then four:
// plain, redacted, redacted, plain (ABBA; the next round BAAB). Each
// snapshot of a process is slower than the one before it (about 9% here at
// 100 MB), so the round's ratio is redacted's sum over plain's sum, in
// which that drift cancels. Reported: the pause (the JS thread blocked:
// V8's part), the duration (until the file is fsynced under its name),
// their medians and the median of the per-round ratios.
//
//   node bench/redact.js [--mb 100,400] [--rounds 5] [--gzip]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const { root, median, machine } = require('./common');

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '100,400' },
    rounds: { type: 'string', default: '5' },
    gzip: { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

if (values.child) {
  const heapscope = require(root);
  const { newHeap, grow, recordsFor } = require('./service-heap');
  globalThis.service = newHeap();
  grow(globalThis.service, recordsFor(Number(values.mb)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'redact-bench-'));
  const take = async (redact) => {
    const info = await heapscope.snapshot({ dir, redact, gzip: values.gzip });
    fs.rmSync(info.path);
    return { pause: info.pauseMs, duration: info.durationMs, bytes: info.rawBytes, redacted: info.redacted };
  };
  (async () => {
    await take(false);
    const order = values.child === 'plain-first' ? [false, true, true, false] : [true, false, false, true];
    const runs = { plain: [], redacted: [] };
    for (const redact of order) runs[redact ? 'redacted' : 'plain'].push(await take(redact));
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(JSON.stringify(runs));
  })();
  return;
}

const rounds = Number(values.rounds);
console.log(`# redaction's cost, ${machine()}`);
console.log(`# node bench/redact.js --mb ${values.mb} --rounds ${rounds}${values.gzip ? ' --gzip' : ''}; Node ${process.version}\n`);
console.log('| heap | snapshot | pause plain | pause redacted | ratio (per-round median) | duration plain | duration redacted | ratio | strings redacted |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const mb of values.mb.split(',')) {
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 ? 'redacted-first' : 'plain-first';
    const child = spawnSync(
      process.execPath,
      ['--max-old-space-size=16384', __filename, '--child', first, '--mb', mb, ...(values.gzip ? ['--gzip'] : [])],
      { encoding: 'utf8', maxBuffer: 1 << 20 },
    );
    if (child.status !== 0) throw new Error(`${mb} MB: ${child.stderr}`);
    const run = JSON.parse(child.stdout);
    runs.push(run);
    const pauses = (variant) => run[variant].map((x) => x.pause.toFixed(0)).join(', ');
    console.error(`${mb} MB ${first}: pause plain ${pauses('plain')}, redacted ${pauses('redacted')} ms`);
  }
  const sum = (list, pick) => list.reduce((total, x) => total + pick(x), 0);
  const m = (variant, pick) => median(runs.flatMap((r) => r[variant].map(pick)));
  const roundRatio = (r, pick) => sum(r.redacted, pick) / sum(r.plain, pick);
  const ratio = (pick) => median(runs.map((r) => roundRatio(r, pick))).toFixed(3);
  const ms = (variant, pick) => `${m(variant, pick).toFixed(0)} ms`;
  const mbOf = (x) => `${(x / 1e6).toFixed(0)} MB`;
  const pause = (r) => r.pause;
  const duration = (r) => r.duration;
  const last = runs[runs.length - 1].redacted[0].redacted;
  console.log(
    `| ${mb} MB | ${mbOf(m('plain', (r) => r.bytes))} | ${ms('plain', pause)} | ${ms('redacted', pause)} | ${ratio(pause)}× ` +
      `| ${ms('plain', duration)} | ${ms('redacted', duration)} | ${ratio(duration)}× | ${last.strings} (${mbOf(last.bytes)}) |`,
  );
  console.log(`\nPer-round pause ratios at ${mb} MB: ${runs.map((r) => roundRatio(r, pause).toFixed(3)).join(' ')}\n`);
}
