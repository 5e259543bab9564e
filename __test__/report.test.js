'use strict';
// The HTML report and the live view in a real headless Chromium: the page
// loads with no console errors, the charts are drawn, the figures shown are
// the results' own, and the live page follows a running process. The
// screenshot taken here is the README's picture (HEAPSCOPE_UPDATE_DOCS=1
// writes it to docs/report.png).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { scratch, runNodeJson, spawnNode, root } = require('./helpers');

const CHROMIUM = process.env.HEAPSCOPE_CHROMIUM || '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
// CI installs Chromium (.ci/run): there, its absence is a failure, not a skip.
const skip = !haveChromium && !process.env.CI && `no Chromium at ${CHROMIUM}`;

async function browser(t) {
  const { chromium } = require('playwright-core');
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    // Chromium's background services would try the network, which is closed.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => b.close());
  return b;
}

/** A page that records console errors and uncaught exceptions, and every request it makes. */
async function watchedPage(b) {
  const page = await b.newPage({ viewport: { width: 1100, height: 1250 } });
  page.problems = [];
  page.requests = [];
  page.on('console', (m) => m.type() === 'error' && page.problems.push(m.text()));
  page.on('pageerror', (e) => page.problems.push(e.message));
  page.on('request', (r) => page.requests.push(r.url()));
  return page;
}

test('the report of a leaking program: self-contained, drawn in Chromium, figures equal to the results', { skip, timeout: 180_000 }, async (t) => {
  const dir = scratch(t);
  // A service whose Map cache grows, watched by a monitor; two snapshots,
  // then the report of all four results.
  const { value } = runNodeJson(
    `const fs = require('node:fs');
    globalThis.cache = new Map();
    class Session { constructor(id) { this.id = id; this.user = { name: 'user-' + id, roles: ['reader'] }; this.log = []; } }
    let id = 0;
    const serve = (n) => { for (let i = 0; i < n; i++, id++) cache.set('req-' + id, new Session(id)); };
    const monitor = heapscope.monitor({ intervalMs: 20 });
    (async () => {
      const tick = () => new Promise((r) => setTimeout(r, 30));
      for (let i = 0; i < 5; i++) { serve(1000); global.gc(); await tick(); }
      const first = await heapscope.snapshot({ dir: ${JSON.stringify(dir)} });
      for (let i = 0; i < 10; i++) { serve(3000); global.gc(); await tick(); }
      const last = await heapscope.snapshot({ dir: ${JSON.stringify(dir)} });
      await tick();
      const summary = await heapscope.analyze(last.path, { topClasses: 30, topObjects: 15 });
      const diff = await heapscope.diff(first.path, last.path);
      const leaks = await heapscope.findLeaks({ baseline: first.path, final: last.path });
      const timeline = monitor.timeline();
      monitor.stop();
      const html = heapscope.renderReport({ title: 'A leaking service', summary, diff, leaks, timeline });
      fs.writeFileSync(${JSON.stringify(path.join(dir, 'report.html'))}, html);
      console.log(JSON.stringify({ summary, diff, leaks, timeline, files: [first.path, last.path] }));
    })();`,
    { args: ['--expose-gc'], timeout: 120_000 },
  );
  const file = path.join(dir, 'report.html');
  const html = fs.readFileSync(file, 'utf8');
  assert.ok(html.length < 2 * 2 ** 20, `only aggregates go into the page (${html.length} bytes)`);
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'nothing loaded from elsewhere');

  const b = await browser(t);
  const page = await watchedPage(b);
  await page.goto(`file://${file}`);
  await page.waitForSelector('#classes svg g.bar');
  assert.deepEqual(page.problems, [], 'no console errors');
  assert.deepEqual(page.requests.filter((u) => !u.startsWith('file:')), [], 'no network');

  const { summary, diff, leaks, timeline } = value;
  // Retained size by class: one bar per class row, labelled, with the summary's figures.
  const bars = await page.$$eval('#classes svg.retained g.bar', (gs) => gs.map((g) => [g.dataset.label, Number(g.dataset.value), g.querySelector('rect').getAttribute('width')]));
  assert.equal(bars.length, Math.min(25, summary.classes.length));
  assert.deepEqual(bars.map(([l, v]) => [l, v]), summary.classes.slice(0, 25).map((c) => [c.name, c.retainedSize]));
  assert.ok(bars.every(([, , w]) => Number(w) >= 1), 'every bar drawn');
  const cells = await page.$$eval('table.classes tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td[data-value]')].map((td) => Number(td.dataset.value))));
  assert.deepEqual(cells, summary.classes.slice(0, 25).map((c) => [c.count, c.selfSize, c.retainedSize]));
  assert.equal(Number(await page.getAttribute('#classes h2', 'data-value')), summary.totalSize);
  // Largest objects by retained and by self size, and their paths.
  assert.equal(await page.locator('#objects svg.objects-retained g.bar').count(), summary.objects.length);
  assert.equal(await page.locator('#objects svg.objects-self g.bar').count(), summary.objects.length);
  assert.equal(await page.locator('#objects details.path').count(), summary.objects.length);
  // Growth by class: the diff's deltas.
  const growth = await page.$$eval('#growth svg.growth g.bar', (gs) => gs.map((g) => [g.dataset.label, Number(g.dataset.value)]));
  assert.deepEqual(growth, diff.classes.slice(0, 25).map((c) => [c.name, c.sizeDelta]));
  const session = diff.classes.find((c) => c.name === 'Session');
  assert.equal(session.addedCount, 30_000);
  // Leak suspects: the cache, with its path.
  const suspects = await page.$$eval('#leaks .suspect', (cards) => cards.map((c) => [Number(c.dataset.value), c.textContent]));
  assert.equal(suspects.length, leaks.suspects.length);
  assert.ok(suspects.length > 0);
  assert.equal(suspects[0][0], leaks.suspects[0].growth);
  assert.ok(suspects[0][1].includes('global → cache (Map)'), suspects[0][1]);
  // Expanding a path shows its steps.
  await page.click('#leaks details.path summary');
  assert.ok(await page.isVisible('#leaks details.path[open] ol li'));
  // The timeline: heap used and RSS lines, a marker per snapshot.
  const points = await page.getAttribute('#timeline polyline.heap', 'data-points');
  assert.equal(Number(points), timeline.samples.length);
  assert.ok(timeline.samples.length > 10);
  const markers = await page.$$eval('#timeline g.marker', (gs) => gs.map((g) => g.dataset.label));
  assert.deepEqual(markers, timeline.markers.map((m) => m.name));
  assert.equal(markers.length, 2);

  const shot = process.env.HEAPSCOPE_UPDATE_DOCS ? path.join(root, 'docs', 'report.png') : path.join(dir, 'report.png');
  fs.mkdirSync(path.dirname(shot), { recursive: true });
  await page.screenshot({ path: shot, fullPage: false });
  assert.ok(fs.statSync(shot).size > 20_000, 'a screenshot with something on it');

  // The CLI writes the same kind of page from files.
  const out = path.join(dir, 'cli.html');
  const cli = spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'report', value.files[1], '--vs', value.files[0], '-o', out], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /report written to/);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  const again = await watchedPage(b);
  await again.goto(`file://${out}`);
  await again.waitForSelector('#leaks .suspect');
  assert.deepEqual(again.problems, []);
  assert.equal(spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'report'], { encoding: 'utf8' }).status, 2);
  // An output that cannot be written: exit 1, the path named, nothing left behind.
  const nowhere = path.join(dir, 'missing', 'r.html');
  const bad = spawnSync(process.execPath, [path.join(root, 'bin', 'heapscope.js'), 'report', value.files[1], '-o', nowhere], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, new RegExp(`cannot write the report to ${nowhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`));
  assert.ok(!fs.existsSync(path.dirname(nowhere)));
});

/** GET with a chosen Host header; resolves with the status. */
function get(port, pathname, host = `127.0.0.1:${port}`) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: pathname, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

test('the live view follows the process: a snapshot on SIGUSR2 appears on the open page; no token, no page', { skip, timeout: 120_000 }, async (t) => {
  const dir = scratch(t);
  const child = spawnNode(
    t,
    `globalThis.keep = [];
    const alive = setInterval(() => { for (let i = 0; i < 2000; i++) keep.push({ i }); }, 50);
    heapscope.serve({ port: 0 }).then((view) => {
      process.on('SIGINT', async () => { clearInterval(alive); await view.close(); console.log('closed'); });
    });`,
    { env: { HEAPSCOPE_DIR: dir } },
  );
  for (let i = 0; i < 200 && !/live view at /.test(child.stderrText); i++) await new Promise((r) => setTimeout(r, 50));
  const url = /live view at (\S+)/.exec(child.stderrText)[1];
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  const { port, searchParams } = new URL(url);
  const token = searchParams.get('token');
  assert.equal(await get(port, '/'), 403, 'no token');
  assert.equal(await get(port, '/?token=wrong'), 403, 'wrong token');
  assert.equal(await get(port, `/?token=${token}`, `evil.example:${port}`), 403, 'another host name (DNS rebinding)');
  assert.equal(await get(port, `/?token=${token}`), 200);
  assert.equal(await get(port, `/events?token=nope`), 403);

  const b = await browser(t);
  const page = await watchedPage(b);
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'live');
  // Interval samples arrive and are drawn.
  await page.waitForFunction(() => Number(document.querySelector('#timeline polyline.heap')?.dataset.points) >= 2, null, { timeout: 10_000 });
  assert.equal(await page.locator('#timeline g.marker').count(), 0);

  process.kill(child.pid, 'SIGUSR2');
  // The marker, then the snapshot's summary analysed in the child.
  await page.waitForSelector('#timeline g.marker[data-label="signal"]', { timeout: 30_000 });
  await page.waitForSelector('#classes svg.retained g.bar', { timeout: 60_000 });
  const snapshot = fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
  assert.ok(snapshot, 'the signal wrote a snapshot');
  const h1 = await page.textContent('#classes p.note');
  assert.match(h1, /objects, .* in all/);
  assert.deepEqual(page.problems, []);

  // Stops cleanly: the streams end and nothing keeps the process alive.
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.match(child.stdoutText, /closed/);
  await page.waitForFunction(() => document.getElementById('status').textContent !== 'live', null, { timeout: 10_000 });
});
