'use strict';
// An HTTP server's latency while heapscope analyses a snapshot in its own
// process: a fresh server process per run (heapscope loaded, a JSON handler),
// a steady open-loop load from this process over localhost (a request every
// 2 ms, keep-alive), and the latency of every request, compared between a
// window with no analysis before it (--quiet ms) and the window of the analysis. Each round runs
// one server per priority ('idle', the default, and 'normal'), alternating.
//
//   node bench/latency.js <file.heapsnapshot> [--rounds 5] [--rate 500] [--quiet 3000] [--threads N]
const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');
const { parseArgs } = require('node:util');
const { median, machine } = require('./common');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '500' },
    threads: { type: 'string' },
    quiet: { type: 'string', default: '3000' },
    child: { type: 'boolean' },
  },
});

if (values.child) {
  // The server: answers every request with a small JSON document; on the
  // parent's word, analyses the snapshot and says when it is done.
  const heapscope = require('..');
  const [file, priority] = positionals;
  const threads = values.threads ? { threads: Number(values.threads) } : {};
  const catalogue = Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}`, price: i * 1.25, tags: ['a', 'b'] }));
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ path: req.url, items: catalogue.slice(0, 20) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (m !== 'analyze') return server.close(() => process.exit(0));
    const started = performance.timeOrigin + performance.now();
    heapscope.analyze(file, { topClasses: 50, topObjects: 20, priority, ...threads }).then(() => {
      process.send({ started, ended: performance.timeOrigin + performance.now() });
    });
  });
  return;
}

const [file] = positionals;
if (!file) {
  console.error('usage: node bench/latency.js <file.heapsnapshot> [--rounds 5] [--rate 500] [--threads N]');
  process.exit(2);
}
const interval = 1000 / Number(values.rate);

/** One run: a server, an idle window, then the analysis window, under a steady load throughout. */
async function run(priority) {
  const server = fork(__filename, ['--child', path.resolve(file), priority, ...(values.threads ? ['--threads', values.threads] : [])]);
  const next = () => new Promise((resolve) => server.once('message', resolve));
  const { port } = await next();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const samples = []; // [sent at (epoch ms), latency (ms)]
  let stop = false;
  const load = (async () => {
    const begin = performance.now();
    let sent = 0;
    while (!stop) {
      const due = Math.floor((performance.now() - begin) / interval);
      for (; sent < due; sent++) {
        const at = performance.now();
        http
          .get({ host: '127.0.0.1', port, path: `/items?n=${sent}`, agent }, (res) => {
            res.resume();
            res.on('end', () => samples.push([performance.timeOrigin + at, performance.now() - at]));
          })
          .on('error', () => {});
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  await wait(3000); // warm-up (JIT, the young generation growing), not counted
  // The quiet window first: after the analysis the process frees its memory,
  // which is the analysis' cost, not the baseline.
  const quietFrom = performance.timeOrigin + performance.now();
  await wait(Number(values.quiet));
  const quietTo = performance.timeOrigin + performance.now();
  server.send('analyze');
  const { started, ended } = await next();
  const span = ended - started;
  await wait(300);
  stop = true;
  await load;
  await wait(200);
  agent.destroy();
  server.send('exit');
  const within = (from, to) => samples.filter(([at]) => at >= from && at < to).map(([, ms]) => ms).sort((a, b) => a - b);
  const stats = (xs) => ({ n: xs.length, p50: xs[Math.floor(xs.length / 2)], p99: xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))], max: xs.at(-1) });
  return { ms: span, busy: stats(within(started, ended)), quiet: stats(within(quietFrom, quietTo)) };
}

(async () => {
  const priorities = ['idle', 'normal'];
  const runs = Object.fromEntries(priorities.map((p) => [p, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const p of round % 2 ? [...priorities].reverse() : priorities) {
      const r = await run(p);
      runs[p].push(r);
      console.error(
        `round ${round + 1} ${p}: analysis ${r.ms.toFixed(0)} ms; p99 ${r.busy.p99.toFixed(2)} ms during (${r.busy.n} requests), ${r.quiet.p99.toFixed(2)} ms quiet`,
      );
    }
  }
  const m = (rs, pick) => median(rs.map(pick));
  console.log(`${machine()}, Node ${process.version}; ${values.rate} requests/s, ${values.rounds} rounds, ${values.quiet} ms quiet window, threads: ${values.threads || 'default'}\n`);
  console.log('| analysis priority | analysis (ms) | p50 during / quiet (ms) | p99 during / quiet (ms) | p99 ratio | max during / quiet (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const p of priorities) {
    const rs = runs[p];
    const ratio = m(rs, (r) => r.busy.p99 / r.quiet.p99);
    console.log(
      `| ${p} | ${m(rs, (r) => r.ms).toFixed(0)} | ${m(rs, (r) => r.busy.p50).toFixed(2)} / ${m(rs, (r) => r.quiet.p50).toFixed(2)} ` +
        `| ${m(rs, (r) => r.busy.p99).toFixed(2)} / ${m(rs, (r) => r.quiet.p99).toFixed(2)} | **${ratio.toFixed(2)}×** ` +
        `| ${m(rs, (r) => r.busy.max).toFixed(2)} / ${m(rs, (r) => r.quiet.max).toFixed(2)} |`,
    );
  }
})();
